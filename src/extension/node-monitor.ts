import * as vscode from 'vscode';
import { safeUrl } from '../core/redact';
import { ClientView, NodeStatusRequest, type KuboStatus } from '../protocol';
import type { ServerClient } from './lsp-client';
import { readSettings } from './settings';

export type NodeState = { kind: 'connecting' } | KuboStatus;

/**
 * Asks the language server about the Kubo node and Nix (on a timer and on demand) and publishes
 * the answer: the status bar, the Node view and the welcome views (context keys `nixIpfs.kubo`,
 * `nixIpfs.nixMissing`) all follow it.
 */
export class NodeMonitor implements vscode.Disposable {
  private current: NodeState = { kind: 'connecting' };
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
    return this.current;
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
    let next: NodeState;
    try {
      const status = await this.server.request(NodeStatusRequest);
      next = status.kubo;
      await vscode.commands.executeCommand('setContext', 'nixIpfs.nixMissing', !status.nix.found);
      if (!status.nix.found) this.log.warn(status.nix.error);
    } catch (error) {
      this.log.error(`asking the language server about Kubo: ${(error as Error).message}`);
      return this.current;
    }
    if (next.kind !== this.current.kind) this.log.info(`Kubo ${next.api}: ${next.kind}${'error' in next ? ` (${next.error})` : ''}`);
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
  item.command = `${ClientView.node}.focus`;
  const render = (state: NodeState) => {
    const look = statusLook(state);
    item.text = look.text;
    item.tooltip = look.tooltip;
    item.backgroundColor = look.background ? new vscode.ThemeColor(look.background) : undefined;
  };
  render(monitor.state);
  item.show();
  const subscription = monitor.onDidChange(render);
  return vscode.Disposable.from(item, subscription);
}

function statusLook(state: NodeState): { text: string; tooltip: string; background?: string } {
  switch (state.kind) {
    case 'connecting':
      return { text: '$(sync~spin) IPFS', tooltip: 'Connecting to Kubo…' };
    case 'connected':
      return { text: `$(globe) IPFS ${state.peers}`, tooltip: `Kubo ${state.version} at ${state.api}: connected, ${state.peers} peer${state.peers === 1 ? '' : 's'}` };
    case 'unauthorized':
      return { text: '$(lock) IPFS', tooltip: `Kubo at ${state.api} needs an API token: run “Nix IPFS: Set Kubo API Token”`, background: 'statusBarItem.warningBackground' };
    case 'unconfirmed':
      return { text: '$(shield) IPFS', tooltip: `Kubo at ${safeUrl(state.api)} is plain HTTP on another machine: not used until you confirm it (run “Nix IPFS: Refresh”)`, background: 'statusBarItem.warningBackground' };
    case 'unreachable':
      return { text: '$(debug-disconnect) IPFS', tooltip: `Kubo at ${state.api} is unreachable: ${state.error}`, background: 'statusBarItem.errorBackground' };
  }
}
