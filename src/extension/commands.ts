import { existsSync } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { hashProblem, publishTargetProblem, replicateTargetProblem, verifyTargetProblem } from '../core/inputs';
import { ClientCommand, NixIpfsError, type ClientCommandName, type FetcherRef, type ServerCommandName } from '../protocol';
import { copy, Declined, serverErrorCode, type Actions } from './actions';
import { generateSigningKey, removeSigningKey, showSigningKey } from './keys';
import type { ServerClient } from './lsp-client';
import { NixConfDocument } from './nix-conf-document';
import type { NodeMonitor } from './node-monitor';
import { readSettings, type Secrets } from './settings';
import type { SourcesFilter, SourcesNode, SourcesView } from './sources-view';
import type { FollowedCachesView, FollowedNode, MirroredNode, MirroredSourcesView, NodeRow, PublishedNode, PublishedPathsView } from './views';
import { stepDone } from './walkthrough';

/** What the commands use: the UI pieces, the secrets, and the language server that does the work. */
export interface Ctx {
  context: vscode.ExtensionContext;
  server: ServerClient;
  secrets: Secrets;
  monitor: NodeMonitor;
  published: PublishedPathsView;
  mirrored: MirroredSourcesView;
  followed: FollowedCachesView;
  sources: SourcesView;
  nixConf: NixConfDocument;
  actions: Actions;
}

type Command = (ctx: Ctx, ...args: never[]) => Thenable<unknown>;

const RECENT_PATHS = 'nixIpfs.recentStorePaths';

/** Every command the extension contributes (package.json), by name: UI first, then a server command. */
const COMMANDS: Record<ClientCommandName, Command> = {
  refresh,
  showLog: async ({ actions }) => actions.log.show(),
  openSettings: () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:nix-ipfs.nix-ipfs'),
  setApiToken,
  generateSigningKey,
  showSigningKey,
  removeSigningKey,
  showNixConfig,
  copyNixConfig: async ({ nixConf }) => copy(nixConf.current, 'the nix.conf lines'),
  pinSource: async (ctx) => {
    await ctx.server.execute('pinSource', cursorRef(), 'Pin Source Under Cursor');
    stepDone('pinned');
  },
  pinAll,
  publishStorePath: async (ctx, storePath?: unknown) => {
    const target: PublishTarget | undefined = typeof storePath === 'string' ? { path: storePath } : await pickStorePath(ctx);
    if (target && 'build' in target) return publishBuildResult(ctx);
    if (target) await publishPaths(ctx, [target.path]);
  },
  publishBuildResult,
  verifyStorePath: async (ctx, storePath?: unknown) => {
    const target =
      typeof storePath === 'string'
        ? storePath
        : await ask({ title: 'Verify Store Path', placeHolder: '/nix/store/…-name', validateInput: verifyTargetProblem });
    await ctx.server.execute('verify', { target }, 'Verifying');
  },
  verifyNarinfo: async (ctx) => {
    const target = await ask({
      title: 'Verify Narinfo / CID',
      placeHolder: 'https://…/<hash>.narinfo, /ipfs/…/<hash>.narinfo, or the CID of a narinfo',
      validateInput: verifyTargetProblem,
    });
    await ctx.server.execute('verify', { target }, 'Verifying');
  },
  fetchSource,
  fillHash: async (ctx) => ctx.server.execute('fillHash', cursorRef(), 'Fill Hash Under Cursor'),
  fillAllHashes: async (ctx) => ctx.server.execute('fillAllHashes', { uri: cursorRef().uri }, 'Fill All Hashes in This File'),
  copyCid: async (ctx) => copy(await ctx.server.execute('copyCid', cursorRef()), 'the CID'),
  replicate: async (ctx) => {
    const target = await ask({
      title: 'Replicate a Published Cache onto Your Node',
      placeHolder: '/ipns/k51… , a CID, or a gateway URL of one',
      validateInput: replicateTargetProblem,
    });
    await ctx.server.execute('replicate', { target }, 'Replicating');
  },
  itemCopyCid: async (_ctx, node: PublishedNode | MirroredNode) => {
    const cid = cidOf(node);
    if (cid) await copy(cid, 'the CID');
  },
  itemCopyStorePath: async (_ctx, node: PublishedNode) => {
    if (node.kind === 'path') await copy(node.entry.storePath, 'the store path');
  },
  itemCopyValue: async (_ctx, row: NodeRow) => {
    if (row.value)
      await copy(row.value, row.label === 'Signing key' ? 'the public key' : `the ${row.label.replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase())}`);
  },
  itemCopyName: async (_ctx, node: FollowedNode) => {
    if (node.kind === 'follow') await copy(node.follow.name, 'the IPNS name');
  },
  itemOpenInGateway: async ({ monitor }, node: PublishedNode | MirroredNode) => {
    const cid = cidOf(node);
    const gateway = readSettings().gatewayUrl || (monitor.state.kind === 'connected' ? monitor.state.gateway : undefined);
    if (!cid || !gateway) throw new Error('no gateway is known: set nixIpfs.gatewayUrl, or give the node an Addresses.Gateway');
    await vscode.env.openExternal(vscode.Uri.parse(`${gateway}/ipfs/${cid}`));
  },
  itemVerify: async (ctx, node: PublishedNode) => {
    if (node.kind === 'path') await ctx.server.execute('verify', { target: node.entry.storePath }, 'Verifying');
  },
  itemUnpublish: async (ctx, node: PublishedNode) => {
    if (node.kind !== 'path') return;
    const ok = await vscode.window.showWarningMessage(
      `Unpublish ${node.entry.storePath}? Nix will no longer find it in this cache.`,
      { modal: true },
      'Unpublish',
    );
    if (ok === 'Unpublish') await ctx.server.execute('unpublish', { storePath: node.entry.storePath }, 'Unpublishing');
  },
  itemUnpin: async (ctx, node: MirroredNode) => {
    const ok = await vscode.window.showWarningMessage(
      `Unpin ${node.record.name ?? node.record.hash}? Builds whose URL is dead will no longer find it here.`,
      { modal: true },
      'Unpin',
    );
    if (ok === 'Unpin') await ctx.server.execute('unpin', { hash: node.record.hash }, 'Unpinning');
  },
  itemRevealFetchers: revealFetchers,
  checkSources: async (ctx) => {
    const report = await ctx.server.execute('sourceHealth', { folders: workspaceFolders(), check: true }, 'Checking upstream URLs');
    ctx.sources.show(report);
  },
  filterSources,
  rescueSource,
  rescueAllAtRisk: async (ctx) => {
    await ctx.server.execute('rescueSources', { folders: workspaceFolders() }, 'Rescuing sources at risk');
  },
};

/** The commands' titles as package.json gives them, for the log and for "already running". */
function commandTitles(context: vscode.ExtensionContext): Map<string, string> {
  const contributed = (context.extension.packageJSON as { contributes: { commands: { command: string; title: string }[] } }).contributes.commands;
  return new Map(contributed.map((c) => [c.command, c.title]));
}

export function registerCommands(ctx: Ctx): void {
  const titles = commandTitles(ctx.context);
  for (const [name, run] of Object.entries(COMMANDS) as [ClientCommandName, Command][]) {
    const id = ClientCommand[name];
    const title = titles.get(id) ?? id;
    const command = vscode.commands.registerCommand(id, (...args: unknown[]) =>
      ctx.actions.run(title, actionKey(id, args), async () => run(ctx, ...(args as never[]))),
    );
    ctx.context.subscriptions.push(command);
  }
}

/** Two starts of one command on the same item are the same action; on two items, two actions. */
function actionKey(id: string, args: unknown[]): string {
  const item = args[0] as { id?: unknown; entry?: { storePath?: unknown }; record?: { hash?: unknown }; source?: { hash?: unknown } } | undefined;
  return `${id} ${String(item?.entry?.storePath ?? item?.record?.hash ?? item?.source?.hash ?? (typeof item === 'string' ? item : ''))}`;
}

/** How the language server's own commands (lenses, quick fixes) are called in the log and in their progress. */
const SERVER_ACTIONS: Partial<Record<ServerCommandName, string>> = {
  pinSource: 'Pin to IPFS',
  fetchSource: 'Fetch from IPFS',
  fillHash: 'Fetch and Fill In the Hash',
  copyCid: 'Copy CID',
};

/**
 * A server command started by the editor itself (a lens, a quick fix): an action like any other,
 * logged, with progress and Cancel, never started twice for the same fetcher; the CID of
 * "Pinned ✓" goes to the clipboard.
 */
export function runServerCommand(ctx: Pick<Ctx, 'server' | 'actions'>, name: ServerCommandName, args: unknown): Promise<unknown> {
  const title = SERVER_ACTIONS[name] ?? name;
  return ctx.actions.run(title, `${name} ${JSON.stringify(args)}`, async () => {
    if (name === 'copyCid') return copy(await ctx.server.execute(name, args as never), 'the CID');
    const result = await ctx.server.execute(name, args as never, title);
    if (name === 'pinSource') stepDone('pinned');
    return result;
  });
}

/** An input box that checks what is typed as it is typed; a cancelled one ends the action. */
async function ask(options: vscode.InputBoxOptions): Promise<string> {
  const value = await vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
  if (value === undefined) throw new Declined('nothing entered');
  return value.trim();
}

async function refresh({ monitor, server, published, mirrored, followed, sources }: Ctx): Promise<void> {
  await server.refresh();
  const state = await monitor.refresh();
  if (state.kind === 'unconfirmed') {
    await server.confirmApi(state.api);
    await monitor.refresh();
  }
  published.refresh();
  mirrored.refresh();
  followed.refresh();
  sources.refresh();
}

async function setApiToken(ctx: Ctx): Promise<void> {
  const token = await vscode.window.showInputBox({
    title: 'Kubo API token',
    prompt: "The secret from Kubo's API.Authorizations (“Bearer …”, “Basic …” or the bare token). Empty removes it.",
    password: true,
    ignoreFocusOut: true,
    validateInput: (text) =>
      /[\s\p{Cc}]/u.test(text.trim()) && !/^(Bearer|Basic) \S+$/i.test(text.trim())
        ? 'A token has no spaces or control characters (but “Bearer …” and “Basic …”)'
        : undefined,
  });
  if (token === undefined) return;
  await ctx.secrets.set('kuboApiToken', token.trim());
  await ctx.server.secretsChanged({ kuboApiToken: token.trim() });
  ctx.actions.log.info(token.trim() ? 'Kubo API token stored in the secret store' : 'Kubo API token removed');
  await refresh(ctx);
}

function workspaceFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
}

async function pinAll(ctx: Ctx): Promise<void> {
  const folders = workspaceFolders();
  const result = await ctx.server.execute('pinAll', { folders }, 'Pinning all sources'); // the server logs each failure
  if (result.failed.length === 0 && !result.cancelled && result.pinned + result.alreadyPinned > 0) stepDone('pinned');
}

async function showNixConfig(ctx: Ctx): Promise<void> {
  const { text, needsAdministrator } = await ctx.server.execute('nixConfig', {}, 'Reading the node and Nix');
  await ctx.nixConf.show(text);
  stepDone('shared');
  const where = needsAdministrator
    ? 'You are not a trusted user of nix-daemon: ask an administrator to add these lines to /etc/nix/nix.conf'
    : 'Add these lines to your nix.conf';
  // Not awaited: the action is done, and a message left open must not keep it "running".
  void vscode.window.showInformationMessage(`${where} (nix-ipfs never edits it for you).`, 'Copy').then((choice) => choice && copy(text, 'the nix.conf lines'));
}

/** Publishes, asking what to do when there is no signing key (generate one, or publish unsigned). */
async function withSigningKey(ctx: Ctx, publish: (allowUnsigned: boolean) => Promise<{ failed: unknown[] }>): Promise<void> {
  let result;
  try {
    result = await publish(false);
  } catch (error) {
    if (serverErrorCode(error) !== NixIpfsError.SigningKeyMissing) throw error;
    const choice = await vscode.window.showWarningMessage(
      'There is no signing key: Nix refuses unsigned paths unless require-sigs is off.',
      { modal: true, detail: 'Generate a key (kept in VS Code’s secret store), or publish these paths unsigned.' },
      'Generate Signing Key',
      'Publish Unsigned',
    );
    if (!choice) throw new Declined('no signing key');
    if (choice === 'Generate Signing Key') await generateSigningKey(ctx);
    result = await publish(choice === 'Publish Unsigned');
  }
  if (result.failed.length === 0) stepDone('published');
}

async function publishPaths(ctx: Ctx, paths: string[]): Promise<void> {
  await withSigningKey(ctx, (allowUnsigned) => ctx.server.execute('publish', { paths, allowUnsigned }, 'Publishing'));
  const recent = [...new Set([...paths, ...ctx.context.globalState.get<string[]>(RECENT_PATHS, [])])].slice(0, 20);
  await ctx.context.globalState.update(RECENT_PATHS, recent);
}

async function publishBuildResult(ctx: Ctx): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('open a folder with a default.nix or flake.nix first');
  await withSigningKey(ctx, (allowUnsigned) =>
    ctx.server.execute('publishBuildResult', { folder: folder.uri.fsPath, allowUnsigned }, 'Building and publishing'),
  );
}

const FETCH_MODES: (vscode.QuickPickItem & { mode: 'flat' | 'recursive' })[] = [
  { label: 'The file (flat)', description: 'fetchurl, fetchpatch: the hash of the downloaded file', mode: 'flat' },
  { label: 'The unpacked tree (recursive)', description: 'fetchzip, fetchFromGitHub, fetchgit: the hash of the unpacked files', mode: 'recursive' },
];

/** Two steps: the hash (the one under the cursor, if any, to confirm), then what it is the hash of. */
async function fetchSource(ctx: Ctx, args?: { hash?: string; mode?: 'flat' | 'recursive'; name?: string }): Promise<void> {
  const hash =
    args?.hash ??
    (await ask({
      title: 'Fetch Source from IPFS (1/2)',
      prompt: 'The hash of the source',
      value: hashUnderCursor(),
      placeHolder: 'sha256-… (SRI), sha256:…, or Nix base32',
      validateInput: (t) => hashProblem(t),
    }));
  const mode =
    args?.mode ??
    (await vscode.window.showQuickPick(FETCH_MODES, { title: 'Fetch Source from IPFS (2/2): what is it the hash of?', ignoreFocusOut: true }))?.mode;
  if (!mode) throw new Declined('no mode chosen');
  await ctx.server.execute('fetchSource', { hash, mode, name: args?.name }, 'Fetching from IPFS');
}

/** The fetcher under the cursor of the active .nix editor. */
function cursorRef(): FetcherRef {
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId !== 'nix') throw new Error('open a .nix file and put the cursor on a fetcher');
  return { uri: editor.document.uri.toString(), position: editor.selection.active };
}

function hashUnderCursor(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const range = editor.document.getWordRangeAtPosition(editor.selection.active, /[A-Za-z0-9+/=:_-]{16,}/);
  return range ? editor.document.getText(range).replace(/^"|"$/g, '') : undefined;
}

function cidOf(node: PublishedNode | MirroredNode): string | undefined {
  return 'record' in node ? node.record.cid : node.kind === 'path' ? node.entry.narCid : undefined;
}

const FILTERS: (vscode.QuickPickItem & { filter: SourcesFilter })[] = [
  { label: 'All sources', filter: 'all' },
  { label: 'At risk or lost', description: 'one place has it, or none', filter: 'at-risk' },
  { label: 'Lost', description: 'no place has it', filter: 'lost' },
];

/** Which sources the Sources view shows: the filter given (from a keybinding or a script), else picked. */
async function filterSources(ctx: Ctx, given?: unknown): Promise<void> {
  const filter = FILTERS.find((f) => f.filter === given)?.filter ?? (await vscode.window.showQuickPick(FILTERS, { title: 'Show Which Sources' }))?.filter;
  if (!filter) return;
  ctx.sources.filter = filter;
  if (ctx.sources.report) ctx.sources.show(ctx.sources.report);
  else ctx.sources.refresh();
}

/** Pins one source from wherever it still is: the view's row, else one picked from the last listing (those at risk first). */
async function rescueSource(ctx: Ctx, node?: SourcesNode): Promise<void> {
  const hash = node?.kind === 'source' ? node.source.hash : await pickSource(ctx);
  if (!hash) return;
  await ctx.server.execute('rescueSources', { folders: workspaceFolders(), hashes: [hash] }, 'Rescuing');
}

async function pickSource(ctx: Ctx): Promise<string | undefined> {
  const report = ctx.sources.report ?? (await ctx.server.execute('sourceHealth', { folders: workspaceFolders() }, 'Looking for the sources'));
  const rank = { lost: 0, 'at-risk': 1, safe: 2 };
  const items = report.files
    .flatMap((f) =>
      f.sources.map((s) => ({ label: s.name, description: `${s.risk} · ${vscode.workspace.asRelativePath(f.file)}:${s.line}`, detail: s.hash, s })),
    )
    .sort((a, b) => rank[a.s.risk] - rank[b.s.risk]);
  return (await vscode.window.showQuickPick(items, { title: 'Rescue Source: pin it into IPFS from wherever it still is', matchOnDescription: true }))?.s.hash;
}

/** The .nix files that fetch a mirrored source: opened at once when one does, else a list to pick from. */
async function revealFetchers(ctx: Ctx, node: MirroredNode): Promise<void> {
  const records = (await ctx.server.scanWorkspace()).filter((r) => r.sri === node.record.hash);
  const open = async (file: string, line: number) => {
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
    const at = new vscode.Position(line - 1, 0);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenter);
  };
  if (records.length === 0) {
    void vscode.window.showInformationMessage(`No .nix file in this workspace fetches ${node.record.name ?? node.record.hash}.`);
    return;
  }
  const [only] = records;
  if (only && records.length === 1) return open(only.file, only.line);
  const items = records.map((r) => ({ label: `${vscode.workspace.asRelativePath(r.file)}:${r.line}`, description: `${r.fetcher} · ${r.hashAttr}`, record: r }));
  const pick = await vscode.window.showQuickPick(items, { title: `Fetchers of ${node.record.name ?? node.record.hash}` });
  if (pick) await open(pick.record.file, pick.record.line);
}

/** A store path (or a link to one) to publish, or the workspace's build result. */
type PublishTarget = { path: string } | { build: true };
type StorePathPick = vscode.QuickPickItem & { target?: PublishTarget };

/** Result links and recent paths to pick, building the workspace's default.nix, or a typed path checked as it is typed. */
async function pickStorePath(ctx: Ctx): Promise<PublishTarget | undefined> {
  const known = await knownStorePaths(ctx.context);
  const pick = vscode.window.createQuickPick<StorePathPick>();
  pick.title = 'Publish Store Path';
  pick.placeholder = 'Pick a build result or a recent path, or type a /nix/store path';
  pick.ignoreFocusOut = true;
  const typed = (): StorePathPick[] => {
    const value = pick.value.trim();
    if (!value || known.some((i) => i.label === value)) return [];
    const problem = publishTargetProblem(value);
    return [
      problem
        ? { label: `$(error) ${problem}`, alwaysShow: true }
        : { label: value, description: 'publish this path and its closure', alwaysShow: true, target: { path: value } },
    ];
  };
  const render = () => (pick.items = [...typed(), ...known]);
  render();
  return new Promise((resolve) => {
    pick.onDidChangeValue(render);
    pick.onDidAccept(() => {
      const target = (pick.selectedItems[0] ?? pick.activeItems[0])?.target;
      if (!target) return; // a message, not a path: the picker stays open
      resolve(target);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

async function knownStorePaths(context: vscode.ExtensionContext): Promise<StorePathPick[]> {
  const items: StorePathPick[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const buildable = ['flake.nix', 'default.nix'].find((f) => existsSync(path.join(folder.uri.fsPath, f)));
    if (buildable) items.push({ label: `$(package) Build ${buildable} and publish the result`, description: folder.name, target: { build: true } });
    const links = (await readdir(folder.uri.fsPath).catch(() => [])).filter((n) => /^result(-\w+)?$/.test(n));
    for (const name of links) {
      const target = await realpath(path.join(folder.uri.fsPath, name)).catch(() => undefined);
      if (target?.startsWith('/nix/store/')) items.push({ label: target, description: `${folder.name}/${name}`, target: { path: target } });
    }
  }
  for (const recent of context.globalState.get<string[]>(RECENT_PATHS, [])) {
    if (!items.some((i) => i.label === recent)) items.push({ label: recent, description: 'published before', target: { path: recent } });
  }
  return items;
}
