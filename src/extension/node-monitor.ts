import * as vscode from 'vscode';
import { ClientView, NodeStatusRequest, type KuboStatus, type NodeStatus, type SigningKeyStatus } from '../protocol';
import type { ServerClient } from './lsp-client';
import { readSettings } from './settings';

export type NodeState = { kind: 'connecting' } | KuboStatus;

/**
 * Asks the language server about the Kubo node, Nix and the signing key (on a timer and on
 * demand) and publishes the answer: the status bar, the Node view and the welcome views (context
 * keys `nixIpfs.kubo`, `nixIpfs.nixMissing`) all follow it. The server compares each answer with
 * the last one too: when the node goes away or comes back, lenses and hovers follow at once.
 */
export class NodeMonitor implements vscode.Disposable {
  private current: NodeStatus | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<NodeState> | undefined;
  private readonly changed = new vscode.EventEmitter<NodeState>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly server: ServerClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    void vscode.commands.executeCommand('setContext', 'nixIpfs.kubo', 'connecting');
  }

  get state(): NodeState {
    return this.current?.kubo ?? { kind: 'connecting' };
  }

  /** The key that signs what is published, as the server decided (undefined until it answered). */
  get signingKey(): SigningKeyStatus | undefined {
    return this.current?.signingKey;
  }

  get nix(): NodeStatus['nix'] | undefined {
    return this.current?.nix;
  }

  /** Re-arms the timer from the current `refreshIntervalSeconds`. */
  schedule(): void {
    clearInterval(this.timer);
    const seconds = readSettings().refreshIntervalSeconds;
    if (seconds > 0) this.timer = setInterval(() => void this.refresh(), seconds * 1000);
  }

  /** Polls once; concurrent callers share the same poll. */
  refresh(): Promise<NodeState> {
    this.inFlight ??= this.poll().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async poll(): Promise<NodeState> {
    let next: NodeStatus;
    try {
      next = await this.server.request(NodeStatusRequest);
    } catch (error) {
      this.log.error(`asking the language server about Kubo: ${(error as Error).message}`);
      return this.state;
    }
    const before = this.current;
    if (next.kubo.kind !== before?.kubo.kind) this.log.info(`Kubo ${next.kubo.api}: ${next.kubo.kind}${'error' in next.kubo ? ` (${next.kubo.error})` : ''}`);
    if (!next.nix.found && before?.nix.found !== false) this.log.warn(next.nix.error);
    this.current = next;
    await vscode.commands.executeCommand('setContext', 'nixIpfs.nixMissing', !next.nix.found);
    await vscode.commands.executeCommand('setContext', 'nixIpfs.kubo', next.kubo.kind);
    this.changed.fire(next.kubo);
    return next.kubo;
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
  item.command = `${ClientView.node}.focus`;
  const render = (state: NodeState) => {
    const look = statusLook(state);
    item.text = look.text;
    item.tooltip = look.tooltip;
    item.accessibilityInformation = { label: `Nix IPFS: ${look.tooltip}` };
    item.backgroundColor = look.background ? new vscode.ThemeColor(look.background) : undefined;
  };
  render(monitor.state);
  item.show();
  const subscription = monitor.onDidChange(render);
  return vscode.Disposable.from(item, subscription);
}

export function peersText(peers: number): string {
  return `${peers} peer${peers === 1 ? '' : 's'}`;
}

function statusLook(state: NodeState): { text: string; tooltip: string; background?: string } {
  switch (state.kind) {
    case 'connecting':
      return { text: '$(sync~spin) IPFS', tooltip: 'Connecting to Kubo…' };
    case 'connected':
      return { text: `$(globe) IPFS · ${peersText(state.peers)}`, tooltip: `Kubo ${state.version} at ${state.api}: connected, ${peersText(state.peers)}` };
    case 'unauthorized':
      return {
        text: '$(lock) IPFS',
        tooltip: `Kubo at ${state.api} needs an API token: run “Nix IPFS: Set Kubo API Token”`,
        background: 'statusBarItem.warningBackground',
      };
    case 'unconfirmed':
      return {
        text: '$(shield) IPFS',
        tooltip: `Kubo at ${state.api} is plain HTTP on another machine: not used until you confirm it (run “Nix IPFS: Refresh”)`,
        background: 'statusBarItem.warningBackground',
      };
    case 'unreachable':
      return { text: '$(debug-disconnect) IPFS', tooltip: `Kubo at ${state.api} is unreachable: ${state.error}`, background: 'statusBarItem.errorBackground' };
  }
}
