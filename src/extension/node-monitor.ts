import * as vscode from 'vscode';
import { KuboAuthError, KuboError } from '../kubo/client';
import type { Services } from './settings';
import { readSettings } from './settings';

export type NodeState =
  | { kind: 'connecting' }
  | { kind: 'connected'; api: string; version: string; peerId: string; peers: number; repoSize: number; storageMax: number; ipnsName: string; gateway?: string }
  | { kind: 'unreachable'; api: string; error: string }
  | { kind: 'unauthorized'; api: string; error: string };

/**
 * Watches the Kubo node (on a timer and on demand) and publishes its state: the status bar,
 * the Node view and the welcome views (context key `nixIpfs.kubo`) all follow it.
 */
export class NodeMonitor implements vscode.Disposable {
  private current: NodeState = { kind: 'connecting' };
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<NodeState> | undefined;
  private readonly changed = new vscode.EventEmitter<NodeState>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly services: Services,
    private readonly log: vscode.LogOutputChannel,
  ) {
    void vscode.commands.executeCommand('setContext', 'nixIpfs.kubo', 'connecting');
  }

  get state(): NodeState {
    return this.current;
  }

  /** Re-arms the timer from the current `refreshIntervalSeconds`. */
  schedule(): void {
    clearInterval(this.timer);
    const seconds = readSettings().refreshIntervalSeconds;
    if (seconds > 0) this.timer = setInterval(() => void this.refresh(), seconds * 1000);
  }

  /** Polls the node once; concurrent callers share the same poll. */
  refresh(): Promise<NodeState> {
    this.inFlight ??= this.poll().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async poll(): Promise<NodeState> {
    const api = readSettings().kuboApi;
    let next: NodeState;
    try {
      const ctx = await this.services.context({ interactive: false });
      const [version, id, peers, repo, ipnsName] = await Promise.all([
        ctx.kubo.version(),
        ctx.kubo.id(),
        ctx.kubo.peerCount(),
        ctx.kubo.repoStat(),
        ctx.kubo.ensureKey(ctx.keyName),
      ]);
      const gateway = readSettings().gatewayUrl || (await ctx.kubo.gatewayUrl().catch(() => undefined));
      next = { kind: 'connected', api, version, peerId: id.peerId, peers, repoSize: Number(repo.repoSize), storageMax: Number(repo.storageMax), ipnsName, gateway };
    } catch (error) {
      const message = (error as Error).message;
      next = error instanceof KuboAuthError ? { kind: 'unauthorized', api, error: message } : { kind: 'unreachable', api, error: message };
      if (!(error instanceof KuboError)) this.log.error(`checking Kubo: ${message}`);
    }
    if (next.kind !== this.current.kind) this.log.info(`Kubo ${api}: ${next.kind}${'error' in next ? ` (${next.error})` : ''}`);
    this.current = next;
    await vscode.commands.executeCommand('setContext', 'nixIpfs.kubo', next.kind);
    this.changed.fire(next);
    return next;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.changed.dispose();
  }
}

/** The status bar item: node state at a glance; a click focuses the Node view. */
export function createStatusBar(monitor: NodeMonitor): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('nixIpfs.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Nix IPFS';
  item.command = 'nixIpfs.node.focus';
  const render = (state: NodeState) => {
    switch (state.kind) {
      case 'connecting':
        item.text = '$(sync~spin) IPFS';
        item.tooltip = 'Connecting to Kubo…';
        item.backgroundColor = undefined;
        break;
      case 'connected':
        item.text = `$(globe) IPFS ${state.peers}`;
        item.tooltip = `Kubo ${state.version} at ${state.api}: connected, ${state.peers} peer${state.peers === 1 ? '' : 's'}`;
        item.backgroundColor = undefined;
        break;
      case 'unauthorized':
        item.text = '$(lock) IPFS';
        item.tooltip = `Kubo at ${state.api} needs an API token: run “Nix IPFS: Set Kubo API Token”`;
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
      case 'unreachable':
        item.text = '$(debug-disconnect) IPFS';
        item.tooltip = `Kubo at ${state.api} is unreachable: ${state.error}`;
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
    }
  };
  render(monitor.state);
  item.show();
  const subscription = monitor.onDidChange(render);
  return vscode.Disposable.from(item, subscription);
}
