import * as vscode from 'vscode';
import { shortCid } from '../core/cid';
import { MirroredSourcesRequest, PublishedPathsRequest, type MirroredSourceRow, type PublishedEntry, type SignatureVerdict } from '../protocol';
import type { ServerClient } from './lsp-client';
import type { NodeMonitor, NodeState } from './node-monitor';

export type SignatureState = 'trusted' | 'untrusted' | 'unsigned' | 'invalid';

/** One state per path, from the verdicts of its signatures: the best one wins. */
export function signatureState(verdicts: SignatureVerdict[]): SignatureState {
  if (verdicts.length === 0) return 'unsigned';
  if (verdicts.some((v) => v.state === 'valid-trusted')) return 'trusted';
  if (verdicts.some((v) => v.state === 'valid-untrusted' || v.state === 'unknown-key')) return 'untrusted';
  return 'invalid';
}

const SIGNATURE_ICONS: Record<SignatureState, vscode.ThemeIcon> = {
  trusted: new vscode.ThemeIcon('verified-filled', new vscode.ThemeColor('testing.iconPassed')),
  untrusted: new vscode.ThemeIcon('unverified', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  unsigned: new vscode.ThemeIcon('circle-slash'),
  invalid: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
};

function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

abstract class RefreshingTree<T> implements vscode.TreeDataProvider<T> {
  protected readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  refresh(): void {
    this.changed.fire();
  }
  abstract getTreeItem(element: T): vscode.TreeItem;
  abstract getChildren(element?: T): vscode.ProviderResult<T[]>;
}

export type PublishedNode =
  | { kind: 'path'; entry: PublishedEntry; verdicts: SignatureVerdict[] }
  | { kind: 'group'; label: string; children: PublishedNode[] }
  | { kind: 'leaf'; label: string; description?: string; icon?: vscode.ThemeIcon };

/** Published paths: name, NAR size, short CID and a signature-state icon; children show the trust map. */
export class PublishedPathsView extends RefreshingTree<PublishedNode> {
  constructor(
    private readonly server: ServerClient,
    private readonly monitor: NodeMonitor,
  ) {
    super();
  }

  getTreeItem(node: PublishedNode): vscode.TreeItem {
    if (node.kind === 'path') {
      const name = node.entry.storePath.slice(node.entry.storePath.indexOf('-') + 1);
      const state = signatureState(node.verdicts);
      const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${humanSize(node.entry.narSize)} · ${node.entry.narCid ? shortCid(node.entry.narCid) : 'no NAR'}`;
      item.iconPath = SIGNATURE_ICONS[state];
      item.tooltip = new vscode.MarkdownString(
        `**${node.entry.storePath}**\n\nNAR: \`${node.entry.narCid ?? 'missing'}\` (${humanSize(node.entry.narSize)})\n\nSignatures: ${state}`,
      );
      item.contextValue = `published.${state}`;
      item.id = `published:${node.entry.storePath}`;
      return item;
    }
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.label, node.children.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.description = String(node.children.length);
      return item;
    }
    const item = new vscode.TreeItem(node.label);
    item.description = node.description;
    item.iconPath = node.icon;
    return item;
  }

  async getChildren(node?: PublishedNode): Promise<PublishedNode[]> {
    if (node?.kind === 'group') return node.children;
    if (node?.kind === 'path') {
      return [
        { kind: 'group', label: 'References', children: node.entry.references.map((r) => ({ kind: 'leaf', label: r, icon: new vscode.ThemeIcon('package') })) },
        {
          kind: 'group',
          label: 'Signatures',
          children: node.verdicts.map((v) => ({ kind: 'leaf', label: v.keyName, description: v.state, icon: SIGNATURE_ICONS[signatureState([v])] })),
        },
      ];
    }
    if (node || this.monitor.state.kind !== 'connected') return [];
    const rows = await this.server.request(PublishedPathsRequest);
    return rows.map(({ entry, verdicts }) => ({ kind: 'path', entry, verdicts }));
  }
}

export type MirroredNode = MirroredSourceRow;

/** Mirrored sources: hash (SRI), name, URL, CID and whether the node still pins it. */
export class MirroredSourcesView extends RefreshingTree<MirroredNode> {
  constructor(
    private readonly server: ServerClient,
    private readonly monitor: NodeMonitor,
  ) {
    super();
  }

  getTreeItem({ record, pinned }: MirroredNode): vscode.TreeItem {
    const item = new vscode.TreeItem(record.name ?? record.hash);
    item.description = `${record.hash.slice(0, 20)}… · ${shortCid(record.cid)}${pinned ? '' : ' · not pinned'}`;
    item.iconPath = new vscode.ThemeIcon(pinned ? 'pinned' : 'warning');
    item.tooltip = new vscode.MarkdownString(
      [`**${record.name ?? 'source'}** (${record.mode})`, `Hash: \`${record.hash}\``, `CID: \`${record.cid}\``, ...record.urls.map((u) => `URL: ${u}`), pinned ? 'Pinned' : '**Not pinned**: Kubo may collect it'].join('\n\n'),
    );
    item.contextValue = pinned ? 'mirrored.pinned' : 'mirrored.unpinned';
    item.id = `mirrored:${record.hash}`;
    return item;
  }

  async getChildren(node?: MirroredNode): Promise<MirroredNode[]> {
    if (node || this.monitor.state.kind !== 'connected') return [];
    return this.server.request(MirroredSourcesRequest);
  }
}

/** The node: version, peer ID, addresses, peers, repository size, IPNS name. Empty (welcome view) when unreachable. */
export class NodeView extends RefreshingTree<vscode.TreeItem> {
  constructor(private readonly monitor: NodeMonitor) {
    super();
    monitor.onDidChange(() => this.refresh());
  }

  getTreeItem(item: vscode.TreeItem): vscode.TreeItem {
    return item;
  }

  getChildren(): vscode.TreeItem[] {
    const state: NodeState = this.monitor.state;
    if (state.kind !== 'connected') return [];
    const row = (label: string, description: string, icon: string) => {
      const item = new vscode.TreeItem(label);
      item.description = description;
      item.tooltip = `${label}: ${description}`;
      item.iconPath = new vscode.ThemeIcon(icon);
      return item;
    };
    return [
      row('Kubo', state.version, 'server'),
      row('Peer ID', state.peerId, 'account'),
      row('API', state.api, 'plug'),
      row('Gateway', state.gateway ?? 'none', 'globe'),
      row('Peers', String(state.peers), 'organization'),
      row('Repository', `${humanSize(state.repoSize)} of ${humanSize(state.storageMax)}`, 'database'),
      row('IPNS name', state.ipnsName, 'symbol-key'),
    ];
  }
}
