import path from 'node:path';
import * as vscode from 'vscode';
import type { FileHealth, Risk, SourceHealth, SourceHealthReport } from '../protocol';
import type { ServerClient } from './lsp-client';

/** Which sources the view shows: all, those only one place has or none (at risk), or those none has (lost). */
export type SourcesFilter = 'all' | 'at-risk' | 'lost';

export type SourcesNode =
  | { kind: 'file'; file: FileHealth }
  | { kind: 'source'; file: string; source: SourceHealth }
  | { kind: 'place'; label: string; description: string; icon: vscode.ThemeIcon; tooltip?: string };

const RISK_TEXT: Record<Risk, string> = { safe: 'safe', 'at-risk': 'at risk', lost: 'lost' };

const RISK_ICONS: Record<Risk, vscode.ThemeIcon> = {
  safe: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  'at-risk': new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  lost: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
};

const UPSTREAM_TEXT: Record<SourceHealth['upstream']['state'], string> = {
  live: 'live',
  dead: 'dead',
  different: 'answers something else',
  unchecked: 'not checked (Check Upstream URLs)',
  none: 'no URL',
};

const NODE_TEXT: Record<SourceHealth['node']['state'], string> = {
  pinned: 'pinned',
  mirrored: 'in the mirror, not pinned',
  absent: 'not there',
  unknown: 'unknown',
};

/**
 * Every source the workspace's .nix files and flake.lock name, by file, with where each can come from today
 * (upstream, the Nix store, the node) and whether it is at risk (one place has it) or lost (none).
 * Upstream URLs are asked only by Check Upstream URLs; the listings after it show what they answered then.
 */
export class SourcesView implements vscode.TreeDataProvider<SourcesNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  filter: SourcesFilter = 'all';
  /** The last listing: Rescue Source's picker and a new filter use it. */
  report?: SourceHealthReport;
  /** Set on each listing: the view's header says how many are at risk, and which filter is on. */
  onReport?: (description: string) => void;
  private pending?: SourceHealthReport;

  constructor(private readonly server: ServerClient) {}

  refresh(): void {
    this.changed.fire();
  }

  /** Shows a listing already made (Check Upstream URLs, with its progress; a new filter) instead of asking the server again. */
  show(report: SourceHealthReport): void {
    this.report = this.pending = report;
    this.refresh();
  }

  getTreeItem(node: SourcesNode): vscode.TreeItem {
    if (node.kind === 'file') return fileItem(node.file);
    if (node.kind === 'source') return sourceItem(node.file, node.source);
    const item = new vscode.TreeItem(node.label);
    item.description = node.description;
    item.tooltip = node.tooltip ?? `${node.label}: ${node.description}`;
    item.iconPath = node.icon;
    return item;
  }

  async getChildren(node?: SourcesNode): Promise<SourcesNode[]> {
    if (node?.kind === 'file') return node.file.sources.filter((s) => this.shows(s)).map((source) => ({ kind: 'source', file: node.file.file, source }));
    if (node?.kind === 'source') return placeRows(node.source);
    if (node) return [];
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    if (folders.length === 0) return [];
    const report = this.pending ?? (await this.server.execute('sourceHealth', { folders }));
    this.pending = undefined;
    this.report = report;
    this.onReport?.(headerText(report, this.filter));
    return report.files.filter((f) => f.problem || f.sources.some((s) => this.shows(s))).map((file) => ({ kind: 'file', file }));
  }

  private shows(source: SourceHealth): boolean {
    return this.filter === 'all' || source.risk === 'lost' || (this.filter === 'at-risk' && source.risk === 'at-risk');
  }
}

function headerText(report: SourceHealthReport, filter: SourcesFilter): string {
  const shown = filter === 'all' ? '' : ` · showing ${filter === 'lost' ? 'lost' : 'at risk or lost'} only`;
  return `${report.atRisk} at risk · ${report.lost} lost${report.checked ? '' : ' · URLs not checked'}${shown}`;
}

function fileItem(file: FileHealth): vscode.TreeItem {
  const item = new vscode.TreeItem(vscode.workspace.asRelativePath(file.file), vscode.TreeItemCollapsibleState.Expanded);
  const atRisk = file.sources.filter((s) => s.risk !== 'safe').length;
  item.description = file.problem ?? `${file.sources.length} source${file.sources.length === 1 ? '' : 's'}${atRisk ? ` · ${atRisk} at risk` : ''}`;
  item.tooltip = file.problem ? `${file.file}: ${file.problem}` : file.file;
  item.iconPath = file.problem ? new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')) : vscode.ThemeIcon.File;
  item.resourceUri = vscode.Uri.file(file.file);
  item.command = { title: 'Open', command: 'vscode.open', arguments: [vscode.Uri.file(file.file)] };
  item.contextValue = file.problem ? 'sourcesFile.problem' : 'sourcesFile';
  item.id = `sources:${file.file}`;
  return item;
}

function sourceItem(file: string, source: SourceHealth): vscode.TreeItem {
  const item = new vscode.TreeItem(source.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.description = `${RISK_TEXT[source.risk]} · ${placesText(source)}`;
  item.iconPath = RISK_ICONS[source.risk];
  item.tooltip = new vscode.MarkdownString(
    [
      `**${source.name}** (${source.mode === 'flat' ? 'the file' : 'the unpacked tree'}), ${path.basename(file)}:${source.line} (${source.fetcher})`,
      `Hash: \`${source.hash}\``,
      `${RISK_TEXT[source.risk]}: ${source.places === 1 ? 'one place has it' : `${source.places} places have it`}`,
    ].join('\n\n'),
  );
  item.contextValue = `source.${source.risk}`;
  item.id = `sources:${file}:${source.line}:${source.hash}`;
  return item;
}

/** The places that have the source, in a few words: `upstream, store, IPFS`, or `nowhere`. */
function placesText(s: SourceHealth): string {
  const places = [
    s.upstream.state === 'live' ? 'upstream' : s.upstream.state === 'unchecked' ? 'upstream?' : `upstream ${s.upstream.state === 'none' ? 'none' : 'dead'}`,
    s.store.valid && 'store',
    (s.node.state === 'pinned' || s.node.state === 'mirrored') && 'IPFS',
  ];
  return places.filter(Boolean).join(', ');
}

function placeRows(s: SourceHealth): SourcesNode[] {
  const icon = (id: string, color?: string) => new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
  const good = (yes: boolean) => (yes ? icon('pass', 'testing.iconPassed') : icon('circle-slash'));
  const upstreamOk = s.upstream.state === 'live';
  return [
    {
      kind: 'place',
      label: 'Upstream',
      description: `${UPSTREAM_TEXT[s.upstream.state]}${s.upstream.detail ? ` (${s.upstream.detail})` : ''}`,
      tooltip: [s.upstream.url, ...s.urls.filter((u) => u !== s.upstream.url)].filter(Boolean).join('\n'),
      icon: s.upstream.state === 'unchecked' ? icon('question') : good(upstreamOk),
    },
    { kind: 'place', label: 'Nix store', description: s.store.valid ? s.store.path : 'not there', tooltip: s.store.path, icon: good(s.store.valid) },
    {
      kind: 'place',
      label: 'IPFS node',
      description: `${NODE_TEXT[s.node.state]}${s.node.cid ? ` · ${s.node.cid}` : ''}${s.node.detail ? ` (${s.node.detail})` : ''}`,
      icon: good(s.node.state === 'pinned' || s.node.state === 'mirrored'),
    },
  ];
}
