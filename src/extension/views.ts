import * as vscode from 'vscode';
import { shortCid } from '../core/cid';
import {
  FollowedCachesRequest,
  MirroredSourcesRequest,
  PublishedPathsRequest,
  type FollowStatus,
  type MirroredSourceRow,
  type PublishedEntry,
  type SignatureVerdict,
  type SigningKeyStatus,
} from '../protocol';
import { followDescription, followTooltipLines, queueText, shortName } from './follow-labels';
import type { ServerClient } from './lsp-client';
import { peersText, type NodeMonitor } from './node-monitor';

export type SignatureState = 'trusted' | 'content-addressed' | 'untrusted' | 'unsigned' | 'invalid';

/**
 * One state per path, from the verdicts of its signatures: the best one wins. A content-addressed
 * path (a pinned source's unpacked tree) needs none: Nix checks it by its hash.
 */
export function signatureState(verdicts: SignatureVerdict[], contentAddressed = false): SignatureState {
  if (verdicts.some((v) => v.state === 'valid-trusted')) return 'trusted';
  if (contentAddressed && !verdicts.some((v) => v.state === 'invalid')) return 'content-addressed';
  if (verdicts.length === 0) return 'unsigned';
  if (verdicts.some((v) => v.state === 'valid-untrusted' || v.state === 'unknown-key')) return 'untrusted';
  return 'invalid';
}

/** A path's signature state in words, and what to do about it. */
const STATE_TEXT: Record<SignatureState, { label: string; advice: string }> = {
  trusted: { label: 'signed by a trusted key', advice: 'Nix accepts it from this cache.' },
  'content-addressed': { label: 'content-addressed', advice: 'Nix checks it by its hash and accepts it without a signature.' },
  untrusted: {
    label: 'signed by a key you do not trust',
    advice: 'Nix refuses it until the key is trusted: add its public key to nixIpfs.trustedPublicKeys, or to Nix’s trusted-public-keys.',
  },
  unsigned: {
    label: 'not signed',
    advice: 'Nix refuses it while require-sigs is on: set a signing key (Nix IPFS: Generate Signing Key) and publish it again.',
  },
  invalid: { label: 'INVALID signature', advice: 'The narinfo was changed after it was signed, or the signature is not the key’s: do not trust this path.' },
};

/** Each signature's verdict in words. */
const VERDICT_TEXT: Record<SignatureVerdict['state'], string> = {
  'valid-trusted': 'valid, trusted key',
  'valid-untrusted': 'valid, but the key is not trusted',
  'unknown-key': 'key not trusted here',
  invalid: 'INVALID: does not match the narinfo',
};

const SIGNATURE_ICONS: Record<SignatureState, vscode.ThemeIcon> = {
  trusted: new vscode.ThemeIcon('verified-filled', new vscode.ThemeColor('testing.iconPassed')),
  'content-addressed': new vscode.ThemeIcon('verified', new vscode.ThemeColor('testing.iconPassed')),
  untrusted: new vscode.ThemeIcon('unverified', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  unsigned: new vscode.ThemeIcon('circle-slash'),
  invalid: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
};

export function humanSize(bytes: number): string {
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
  | { kind: 'leaf'; label: string; description?: string; tooltip?: string; icon?: vscode.ThemeIcon };

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
      const state = signatureState(node.verdicts, node.entry.ca !== undefined);
      const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${humanSize(node.entry.narSize)} · ${node.entry.narCid ? shortCid(node.entry.narCid) : 'no NAR'}`;
      item.iconPath = SIGNATURE_ICONS[state];
      item.tooltip = new vscode.MarkdownString(
        [
          `**${node.entry.storePath}**`,
          `NAR: \`${node.entry.narCid ?? 'missing'}\` (${humanSize(node.entry.narSize)})`,
          `${STATE_TEXT[state].label}: ${STATE_TEXT[state].advice}`,
        ].join('\n\n'),
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
    item.tooltip = node.tooltip;
    item.iconPath = node.icon;
    return item;
  }

  async getChildren(node?: PublishedNode): Promise<PublishedNode[]> {
    if (node?.kind === 'group') return node.children;
    if (node?.kind === 'path') {
      const references: PublishedNode[] = node.entry.references.map((r) => ({ kind: 'leaf', label: r, icon: new vscode.ThemeIcon('package') }));
      const signatures: PublishedNode[] = node.verdicts.map((v) => ({
        kind: 'leaf',
        label: v.keyName,
        description: VERDICT_TEXT[v.state],
        tooltip: `${v.keyName}: ${VERDICT_TEXT[v.state]}`,
        icon: SIGNATURE_ICONS[signatureState([v])],
      }));
      return [
        { kind: 'group', label: 'References', children: references },
        { kind: 'group', label: 'Signatures', children: signatures },
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
    const mode = record.mode === 'flat' ? 'the file' : 'the unpacked tree';
    item.tooltip = new vscode.MarkdownString(
      [
        `**${record.name ?? 'source'}** (${mode}, ${humanSize(record.size)})`,
        `Hash: \`${record.hash}\``,
        `CID: \`${record.cid}\``,
        ...record.urls.map((u) => `URL: ${u}`),
        pinned ? 'Pinned on your node' : '**Not pinned**: Kubo may collect it',
      ].join('\n\n'),
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

export type FollowedNode = { kind: 'follow'; follow: FollowStatus; kuboReachable: boolean } | { kind: 'queue'; pending: number; dir: string };

/**
 * The caches `nix-ipfs follow` keeps a replica of: name, lag and bytes held, the last error; and the
 * builds waiting to be published. Read from the state folder (the language server answers even
 * without Kubo; only the bytes need it). Empty: the welcome text says how to follow one.
 */
export class FollowedCachesView extends RefreshingTree<FollowedNode> {
  /** Set on each listing: the view's header says how many builds wait. */
  onQueue?: (pending: number) => void;

  constructor(private readonly server: ServerClient) {
    super();
  }

  getTreeItem(node: FollowedNode): vscode.TreeItem {
    if (node.kind === 'queue') {
      const item = new vscode.TreeItem('Publish queue');
      item.description = queueText(node.pending);
      item.tooltip = `${queueText(node.pending)} (post-build hook queue in ${node.dir}); a running nix-ipfs follow publishes them`;
      item.iconPath = new vscode.ThemeIcon(node.pending ? 'history' : 'check');
      item.id = 'followed:queue';
      return item;
    }
    const { follow, kuboReachable } = node;
    const item = new vscode.TreeItem(shortName(follow.name));
    item.description = followDescription(follow, kuboReachable);
    item.tooltip = followTooltipLines(follow, kuboReachable).join('\n');
    item.iconPath = follow.lastError
      ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
      : follow.behind || !follow.root
        ? new vscode.ThemeIcon('sync')
        : new vscode.ThemeIcon('cloud-download');
    item.contextValue = 'followed';
    item.id = `followed:${follow.name}`;
    return item;
  }

  async getChildren(node?: FollowedNode): Promise<FollowedNode[]> {
    if (node) return [];
    // A server not started yet, or gone: an empty view (its welcome text) rather than an error in it.
    const report = await this.server.request(FollowedCachesRequest).catch(() => undefined);
    this.onQueue?.(report?.publishQueue.pending ?? 0);
    if (!report || report.follows.length === 0) return [];
    return [
      ...report.follows.map((follow): FollowedNode => ({ kind: 'follow', follow, kuboReachable: report.kuboReachable })),
      { kind: 'queue', pending: report.publishQueue.pending, dir: report.publishQueue.dir },
    ];
  }
}

/** A row of the Node view; `value` is what its Copy action copies. */
export interface NodeRow {
  label: string;
  description: string;
  icon: vscode.ThemeIcon;
  tooltip?: string;
  value?: string;
  /** The row's own context value, for its menu (e.g. the signing key's). */
  context?: string;
  command?: vscode.Command;
}

/**
 * The node: version, API, gateway (with its health), peer ID, IPNS name, peers, repository, the
 * signing key and Nix. Empty when the node does not answer: the welcome view says what to do,
 * and the view's description names the address.
 */
export class NodeView extends RefreshingTree<NodeRow> {
  constructor(private readonly monitor: NodeMonitor) {
    super();
    monitor.onDidChange(() => this.refresh());
  }

  getTreeItem(row: NodeRow): vscode.TreeItem {
    const item = new vscode.TreeItem(row.label);
    item.description = row.description;
    item.tooltip = row.tooltip ?? `${row.label}: ${row.description}`;
    item.iconPath = row.icon;
    item.contextValue = row.context ?? (row.value ? 'node.copyable' : undefined);
    item.command = row.command;
    item.id = `node:${row.label}`;
    return item;
  }

  getChildren(): NodeRow[] {
    const state = this.monitor.state;
    if (state.kind !== 'connected') return [];
    const icon = (id: string, color?: string) => new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
    const gateway: NodeRow = state.gateway
      ? {
          label: 'Gateway',
          description: state.gatewayError ? `${state.gateway} · not answering` : state.gateway,
          tooltip: state.gatewayError
            ? `${state.gatewayError}: links and Nix's substituter on it will fail. Check Kubo's Addresses.Gateway, or set nixIpfs.gatewayUrl.`
            : `${state.gateway}: answering`,
          icon: state.gatewayError ? icon('warning', 'problemsWarningIcon.foreground') : icon('globe'),
          value: state.gateway,
        }
      : {
          label: 'Gateway',
          description: 'none',
          tooltip: 'The node has no gateway (Addresses.Gateway): set one, or set nixIpfs.gatewayUrl',
          icon: icon('warning', 'problemsWarningIcon.foreground'),
        };
    return [
      { label: 'Kubo', description: `${state.version} · connected`, tooltip: `Kubo ${state.version} at ${state.api}`, icon: icon('server') },
      { label: 'API', description: state.api, icon: icon('plug'), value: state.api },
      gateway,
      { label: 'Peer ID', description: state.peerId, icon: icon('account'), value: state.peerId },
      {
        label: 'IPNS name',
        description: state.ipnsName,
        tooltip: `IPNS name: ${state.ipnsName} (where this node publishes its cache and mirror)`,
        icon: icon('symbol-key'),
        value: state.ipnsName,
      },
      { label: 'Peers', description: `${peersText(state.peers)} connected`, icon: icon('organization') },
      { label: 'Repository', description: `${humanSize(state.repoSize)} of ${humanSize(state.storageMax)}`, icon: icon('database') },
      signingKeyRow(this.monitor.signingKey),
      nixRow(this.monitor.nix),
    ];
  }
}

/** Where a signing key comes from, in words. */
export function keySourceText(key: Extract<SigningKeyStatus, { from: unknown }>): string {
  return key.from === 'secret-store' ? 'VS Code’s secret store' : `the file ${key.file} (nixIpfs.signingKeyFile)`;
}

function signingKeyRow(key: SigningKeyStatus | undefined): NodeRow {
  const show = { title: 'Show Signing Key', command: 'nixIpfs.showSigningKey' };
  if (!key || key.kind === 'none') {
    return {
      label: 'Signing key',
      description: 'none',
      tooltip: 'No signing key: Nix refuses unsigned paths. Generate one with “Nix IPFS: Generate Signing Key”.',
      icon: new vscode.ThemeIcon('key'),
      command: show,
    };
  }
  if (key.kind === 'broken') {
    return {
      label: 'Signing key',
      description: 'cannot be used',
      tooltip: key.error,
      icon: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
      command: show,
      context: 'node.signingKey',
    };
  }
  const shadowed = key.shadowedFile ? ` It is used instead of ${key.shadowedFile} (nixIpfs.signingKeyFile).` : '';
  return {
    label: 'Signing key',
    description: `${key.name} · ${key.from === 'secret-store' ? 'secret store' : 'key file'}`,
    tooltip: `${key.name}, from ${keySourceText(key)}.${shadowed}\nPublic key: ${key.publicKey}`,
    icon: new vscode.ThemeIcon('key'),
    value: key.publicKey,
    context: 'node.signingKey',
    command: show,
  };
}

function nixRow(nix: { found: true; version: string } | { found: false; error: string } | undefined): NodeRow {
  if (nix?.found) return { label: 'Nix', description: nix.version.replace(/^nix \(Nix\) /, ''), tooltip: nix.version, icon: new vscode.ThemeIcon('package') };
  return {
    label: 'Nix',
    description: 'not found',
    tooltip: nix?.error ?? 'not asked yet',
    icon: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  };
}
