import { readdir, realpath } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { parseHash } from '../core/hash';
import { generateKeyPair } from '../core/signature';
import { ClientCommand, NixIpfsError, type ClientCommandName, type FetcherRef, type ServerCommandName } from '../protocol';
import { isDeclined, serverErrorCode, type ServerClient } from './lsp-client';
import type { NodeMonitor } from './node-monitor';
import { readSettings, type Secrets } from './settings';
import type { MirroredNode, MirroredSourcesView, PublishedNode, PublishedPathsView } from './views';

/** What the commands use: the UI pieces, the secrets, and the language server that does the work. */
export interface Ctx {
  context: vscode.ExtensionContext;
  server: ServerClient;
  secrets: Secrets;
  monitor: NodeMonitor;
  published: PublishedPathsView;
  mirrored: MirroredSourcesView;
  log: vscode.LogOutputChannel;
}

type Command = (ctx: Ctx, ...args: any[]) => Thenable<unknown>;

const RECENT_PATHS = 'nixIpfs.recentStorePaths';

/** Every command the extension contributes (package.json), by name: UI first, then a server command. */
const COMMANDS: Record<ClientCommandName, Command> = {
  refresh,
  showLog: async ({ log }) => log.show(),
  openSettings: () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:nix-ipfs.nix-ipfs'),
  setApiToken,
  generateSigningKey,
  showNixConfig,
  pinSource: async (ctx) => ctx.server.execute('pinSource', cursorRef()),
  pinAll: async (ctx) => ctx.server.execute('pinAll', { folders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) }, 'pinning sources'),
  publishStorePath: async (ctx, storePath?: unknown) => {
    const target = typeof storePath === 'string' ? storePath : await pickStorePath(ctx.context);
    if (target) await publishPaths(ctx, [target]);
  },
  publishBuildResult,
  verifyStorePath: async (ctx, storePath?: unknown) => {
    const target = typeof storePath === 'string' ? storePath : await vscode.window.showInputBox({ title: 'Verify store path', placeHolder: '/nix/store/…' });
    if (target) await ctx.server.execute('verify', { target }, 'verifying');
  },
  verifyNarinfo: async (ctx) => {
    const target = await vscode.window.showInputBox({ title: 'Verify a narinfo', placeHolder: 'https://…/<hash>.narinfo or the CID of a narinfo' });
    if (target) await ctx.server.execute('verify', { target }, 'verifying');
  },
  fetchSource,
  fillHash: async (ctx) => ctx.server.execute('fillHash', cursorRef(), 'Fill Hash Under Cursor'),
  fillAllHashes: async (ctx) => ctx.server.execute('fillAllHashes', { uri: cursorRef().uri }, 'Fill All Hashes in This File'),
  copyCid: async (ctx) => copyToClipboard(await ctx.server.execute('copyCid', cursorRef())),
  replicate: async (ctx) => {
    const target = await vscode.window.showInputBox({ title: 'Replicate a published cache onto your node', placeHolder: '/ipns/k51… , a CID, or a gateway URL of one' });
    if (target) await ctx.server.execute('replicate', { target: target.trim() }, 'replicating');
  },
  itemCopyCid: async (_ctx, node: PublishedNode | MirroredNode) => {
    const cid = cidOf(node);
    if (cid) await copyToClipboard(cid);
  },
  itemCopyStorePath: async (_ctx, node: PublishedNode) => {
    if (node.kind === 'path') await copyToClipboard(node.entry.storePath);
  },
  itemOpenInGateway: async ({ monitor }, node: PublishedNode | MirroredNode) => {
    const cid = cidOf(node);
    const gateway = readSettings().gatewayUrl || (monitor.state.kind === 'connected' ? monitor.state.gateway : undefined);
    if (!cid || !gateway) throw new Error('no gateway known: set nixIpfs.gatewayUrl');
    await vscode.env.openExternal(vscode.Uri.parse(`${gateway}/ipfs/${cid}`));
  },
  itemVerify: async (ctx, node: PublishedNode) => {
    if (node.kind === 'path') await ctx.server.execute('verify', { target: node.entry.storePath }, 'verifying');
  },
  itemUnpublish: async (ctx, node: PublishedNode) => {
    if (node.kind !== 'path') return;
    const ok = await vscode.window.showWarningMessage(`Unpublish ${node.entry.storePath}? Nix will no longer find it in this cache.`, { modal: true }, 'Unpublish');
    if (ok === 'Unpublish') await ctx.server.execute('unpublish', { storePath: node.entry.storePath }, 'unpublishing');
  },
  itemUnpin: async (ctx, node: MirroredNode) => {
    const ok = await vscode.window.showWarningMessage(`Unpin ${node.record.name ?? node.record.hash}? Builds whose URL is dead will no longer find it here.`, { modal: true }, 'Unpin');
    if (ok === 'Unpin') await ctx.server.execute('unpin', { hash: node.record.hash }, 'unpinning');
  },
  itemRevealFetchers: async (_ctx, node: MirroredNode) => {
    const hash = parseHash(node.record.hash).hash;
    const forms = [hash.toSri(), hash.toNix32(), hash.toBase16(), hash.toBase64()];
    await vscode.commands.executeCommand('workbench.action.findInFiles', { query: forms.map(escapeRegExp).join('|'), isRegex: true, filesToInclude: '*.nix', triggerSearch: true });
  },
};

export function registerCommands(ctx: Ctx): void {
  for (const [name, run] of Object.entries(COMMANDS) as [ClientCommandName, Command][]) {
    ctx.context.subscriptions.push(vscode.commands.registerCommand(ClientCommand[name], (...args: unknown[]) => reportErrors(ctx, ClientCommand[name], async () => run(ctx, ...args))));
  }
}

/**
 * A server command started by the editor itself (a lens, a code action): errors shown, the CID
 * of "Pinned ✓" put on the clipboard.
 */
export function runServerCommand(ctx: Pick<Ctx, 'server' | 'log'>, name: ServerCommandName, args: unknown): Promise<unknown> {
  return reportErrors(ctx, name, async () => {
    const result = await ctx.server.execute(name, args as never);
    if (name === 'copyCid') await copyToClipboard(result as string);
    return result;
  });
}

async function reportErrors<T>(ctx: Pick<Ctx, 'log'>, what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (isDeclined(error)) return undefined;
    const message = (error as Error).message;
    ctx.log.error(`${what}: ${message}`);
    void vscode.window.showErrorMessage(`Nix IPFS: ${message}`, 'Open Log').then((choice) => choice && ctx.log.show());
    return undefined;
  }
}

async function refresh({ monitor, server, published, mirrored }: Ctx): Promise<void> {
  const state = await monitor.refresh();
  if (state.kind === 'unconfirmed') {
    await server.confirmApi(state.api);
    await monitor.refresh();
  }
  published.refresh();
  mirrored.refresh();
}

async function setApiToken(ctx: Ctx): Promise<void> {
  const token = await vscode.window.showInputBox({
    title: 'Kubo API token',
    prompt: "The secret from Kubo's API.Authorizations (“Bearer …”, “Basic …” or the bare token). Empty removes it.",
    password: true,
    ignoreFocusOut: true,
  });
  if (token === undefined) return;
  await ctx.secrets.set('kuboApiToken', token.trim());
  await ctx.server.secretsChanged({ kuboApiToken: token.trim() });
  ctx.log.info(token.trim() ? 'Kubo API token stored in the secret store' : 'Kubo API token removed');
  await refresh(ctx);
}

async function generateSigningKey(ctx: Ctx): Promise<void> {
  const name = await vscode.window.showInputBox({ title: 'Signing key name', value: `${hostname()}-nix-ipfs-1`, prompt: 'Nix shows it in front of the signature; the usual form is host-purpose-N' });
  if (!name) return;
  const pair = generateKeyPair(name);
  await ctx.secrets.set('signingKey', pair.secret);
  await ctx.server.secretsChanged({ signingKey: pair.secret });
  ctx.log.info(`generated signing key ${name}; public key ${pair.public}`);
  ctx.published.refresh();
  const choice = await vscode.window.showInformationMessage(`Signing key “${name}” stored in the secret store. Public key: ${pair.public}`, 'Copy Public Key');
  if (choice) await vscode.env.clipboard.writeText(pair.public);
}

async function showNixConfig(ctx: Ctx): Promise<void> {
  const { text, needsAdministrator } = await ctx.server.execute('nixConfig', {});
  const document = await vscode.workspace.openTextDocument({ content: text, language: 'properties' });
  await vscode.window.showTextDocument(document, { preview: true });
  const where = needsAdministrator ? 'You are not a trusted user of nix-daemon: ask an administrator to add these lines to /etc/nix/nix.conf' : 'Add these lines to nix.conf';
  const choice = await vscode.window.showInformationMessage(`${where} (nix-ipfs never edits it for you).`, 'Copy');
  if (choice) await vscode.env.clipboard.writeText(text);
}

/** Publishes, asking what to do when there is no signing key (generate one, or publish unsigned). */
async function withSigningKey(ctx: Ctx, publish: (allowUnsigned: boolean) => Promise<unknown>): Promise<void> {
  try {
    await publish(false);
  } catch (error) {
    if (serverErrorCode(error) !== NixIpfsError.SigningKeyMissing) throw error;
    const choice = await vscode.window.showWarningMessage('No signing key: Nix will refuse unsigned paths unless require-sigs is off.', 'Generate Signing Key', 'Publish Unsigned');
    if (choice === 'Generate Signing Key') await generateSigningKey(ctx);
    if (choice) await publish(choice === 'Publish Unsigned');
  }
}

async function publishPaths(ctx: Ctx, paths: string[]): Promise<void> {
  await withSigningKey(ctx, (allowUnsigned) => ctx.server.execute('publish', { paths, allowUnsigned }, 'publishing'));
  const recent = [...new Set([...paths, ...ctx.context.globalState.get<string[]>(RECENT_PATHS, [])])].slice(0, 20);
  await ctx.context.globalState.update(RECENT_PATHS, recent);
}

async function publishBuildResult(ctx: Ctx): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('open a folder with a default.nix or flake.nix first');
  await withSigningKey(ctx, (allowUnsigned) => ctx.server.execute('publishBuildResult', { folder: folder.uri.fsPath, allowUnsigned }, 'building and publishing'));
}

async function fetchSource(ctx: Ctx, args?: { hash?: string; mode?: 'flat' | 'recursive'; name?: string }): Promise<void> {
  const hash = args?.hash ?? hashUnderCursor() ?? (await vscode.window.showInputBox({ title: 'Fetch a source from IPFS', placeHolder: 'sha256-… (SRI) or sha256:…' }));
  if (!hash) return;
  const question = 'Is the hash of the file (fetchurl) or of the unpacked tree (fetchzip, fetchFromGitHub)?';
  const mode = args?.mode ?? ((await vscode.window.showQuickPick(['flat', 'recursive'], { title: question })) as 'flat' | 'recursive' | undefined);
  if (mode) await ctx.server.execute('fetchSource', { hash: hash.trim(), mode, name: args?.name }, 'fetching');
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

async function copyToClipboard(text: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
  void vscode.window.setStatusBarMessage(`Copied ${text}`, 3000);
}

async function pickStorePath(context: vscode.ExtensionContext): Promise<string | undefined> {
  const items: vscode.QuickPickItem[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    for (const name of (await readdir(folder.uri.fsPath)).filter((n) => /^result(-\w+)?$/.test(n))) {
      const target = await realpath(path.join(folder.uri.fsPath, name)).catch(() => undefined);
      if (target?.startsWith('/nix/store/')) items.push({ label: target, description: `${folder.name}/${name}` });
    }
  }
  for (const recent of context.globalState.get<string[]>(RECENT_PATHS, [])) {
    if (!items.some((i) => i.label === recent)) items.push({ label: recent, description: 'recent' });
  }
  const pick = vscode.window.createQuickPick();
  pick.title = 'Publish store path';
  pick.placeholder = 'A result link, a recent path, or type a /nix/store path';
  pick.items = items;
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      resolve((pick.selectedItems[0]?.label ?? pick.value).trim() || undefined);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
