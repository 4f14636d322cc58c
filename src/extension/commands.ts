import * as vscode from 'vscode';
import { readdir, realpath } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { parseHash } from '../core/hash';
import { formatPublicKey, generateKeyPair, parsePublicKey, publicKeyOf, type PublicKey } from '../core/signature';
import { unpublish } from '../services/cache-index';
import { publishRoot } from '../services/context';
import { fetchSource } from '../services/fetch';
import { removeMirror } from '../services/mirror';
import { nixConfInput, nixConfLines } from '../services/nix-conf';
import { pinSources, type SourceRequest } from '../services/pin';
import { publish } from '../services/publish';
import type { ScanRecord } from '../services/scan';
import type { LanguageClient } from 'vscode-languageclient/node';
import { verify, type VerifyReport } from '../services/verify';
import type { NodeMonitor } from './node-monitor';
import { readSettings, type Secrets, type Services } from './settings';
import type { MirroredNode, MirroredSourcesView, PublishedNode, PublishedPathsView } from './views';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  services: Services;
  secrets: Secrets;
  monitor: NodeMonitor;
  published: PublishedPathsView;
  mirrored: MirroredSourcesView;
  log: vscode.LogOutputChannel;
  /** The language server, which owns parsing (the editor asks it to scan the workspace). */
  languageClient: () => Promise<LanguageClient>;
}

const RECENT_PATHS = 'nixIpfs.recentStorePaths';

/** Keys trusted when verifying: Nix's own, the settings' extras, and the user's own signing key. */
export async function trustedKeys(deps: Pick<CommandDeps, 'services' | 'secrets'>): Promise<PublicKey[]> {
  const settings = readSettings();
  const ctx = await deps.services.context({ interactive: false });
  const texts = [...settings.trustedPublicKeys, ...(await ctx.nix.trustedPublicKeys().catch(() => []))];
  const keys = texts.flatMap((t) => {
    try {
      return [parsePublicKey(t)];
    } catch {
      return [];
    }
  });
  const own = await deps.secrets.signingKey(settings).catch(() => undefined);
  return own ? [...keys, publicKeyOf(own)] : keys;
}

export function registerCommands(deps: CommandDeps): void {
  const { context, services, secrets, monitor, log } = deps;
  const refreshAll = async () => {
    await monitor.refresh();
    deps.published.refresh();
    deps.mirrored.refresh();
  };
  const register = (id: string, run: (...args: any[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await run(...args);
        } catch (error: unknown) {
          const message = (error as Error).message;
          log.error(`${id}: ${message}`);
          void vscode.window.showErrorMessage(`Nix IPFS: ${message}`, 'Open Log').then((c) => c && log.show());
          return undefined;
        }
      }),
    );
  const requireTrust = (what: string) => {
    if (!vscode.workspace.isTrusted) throw new Error(`${what} is disabled in an untrusted workspace (it downloads or builds): trust the folder first`);
  };

  register('nixIpfs.refresh', refreshAll);
  register('nixIpfs.showLog', () => log.show());
  register('nixIpfs.openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:nix-ipfs.nix-ipfs'));

  register('nixIpfs.setApiToken', async () => {
    const token = await vscode.window.showInputBox({
      title: 'Kubo API token',
      prompt: "The secret from Kubo's API.Authorizations (“Bearer …”, “Basic …” or the bare token). Empty removes it.",
      password: true,
      ignoreFocusOut: true,
    });
    if (token === undefined) return;
    await secrets.setApiToken(token.trim() || undefined);
    log.info(token.trim() ? 'Kubo API token stored in the secret store' : 'Kubo API token removed');
    await refreshAll();
  });

  register('nixIpfs.generateSigningKey', async () => {
    const name = await vscode.window.showInputBox({ title: 'Signing key name', value: `${hostname()}-nix-ipfs-1`, prompt: 'Nix shows it in front of the signature; the usual form is host-purpose-N' });
    if (!name) return;
    const pair = generateKeyPair(name);
    await secrets.setSigningKey(pair.secret);
    log.info(`generated signing key ${name}; public key ${pair.public}`);
    const choice = await vscode.window.showInformationMessage(`Signing key “${name}” stored in the secret store. Public key: ${pair.public}`, 'Copy Public Key');
    if (choice) await vscode.env.clipboard.writeText(pair.public);
    deps.published.refresh();
  });

  register('nixIpfs.showNixConfig', async () => {
    const ctx = await services.context();
    const settings = readSettings();
    const own = await secrets.signingKey(settings).catch(() => undefined);
    const input = await nixConfInput(ctx, settings.gatewayUrl || (await ctx.kubo.gatewayUrl()), own ? [formatPublicKey(publicKeyOf(own))] : []);
    const text = nixConfLines(input);
    const document = await vscode.workspace.openTextDocument({ content: text, language: 'properties' });
    await vscode.window.showTextDocument(document, { preview: true });
    const where = input.access.daemon && !input.access.trusted ? 'You are not a trusted user of nix-daemon: ask an administrator to add these lines to /etc/nix/nix.conf' : 'Add these lines to nix.conf';
    const choice = await vscode.window.showInformationMessage(`${where} (nix-ipfs never edits it for you).`, 'Copy');
    if (choice) await vscode.env.clipboard.writeText(text);
  });

  // The language server does the pinning (so every editor gets it); the client adds the cursor.
  register('nixIpfs.pinSource', async () => {
    requireTrust('Pinning sources');
    if (vscode.window.activeTextEditor?.document.languageId !== 'nix') throw new Error('open a .nix file and put the cursor on a fetcher');
    await vscode.commands.executeCommand('nixIpfs.server.pinSource');
    deps.mirrored.refresh();
  });

  register('nixIpfs.pinAll', async () => {
    requireTrust('Pinning sources');
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) throw new Error('open a folder with .nix files first');
    const ctx = await services.context();
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Nix IPFS: pinning sources', cancellable: true },
      async (progress, token) => {
        progress.report({ message: 'scanning .nix files…' });
        const sources: SourceRequest[] = [];
        const client = await deps.languageClient();
        for (const folder of folders) {
          for (const f of await client.sendRequest<ScanRecord[]>('nixIpfs/scanWorkspace', { folder: folder.uri.fsPath })) {
            if (f.sri) sources.push({ urls: f.urls.filter((u) => u !== 'dynamic'), hash: parseHash(f.sri).hash, mode: f.mode, name: f.name });
          }
        }
        const unique = [...new Map(sources.map((s) => [s.hash.toSri(), s])).values()];
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        const result = await pinSources(ctx, unique, {
          signal: controller.signal,
          onProgress: (e) => {
            progress.report({ increment: 100 / unique.length, message: `${e.done}/${e.total}${e.error ? ` (failed: ${e.source.hash.toSri().slice(0, 16)}…)` : ''}` });
            if (e.error) log.warn(`pin ${e.source.hash.toSri()} failed: ${e.error}`);
          },
        });
        const summary = `${result.pinned.length} pinned, ${result.alreadyPinned.length} already pinned, ${result.failed.length} failed${controller.signal.aborted ? ' (cancelled)' : ''}`;
        log.info(`pin all: ${summary}`);
        void (result.failed.length ? vscode.window.showWarningMessage(`Nix IPFS: ${summary}`, 'Open Log').then((c) => c && log.show()) : vscode.window.showInformationMessage(`Nix IPFS: ${summary}`));
      },
    );
    deps.mirrored.refresh();
  });

  const publishPaths = async (paths: string[]) => {
    const ctx = await services.context();
    const secretKey = await secrets.signingKey(readSettings());
    if (!secretKey) {
      const choice = await vscode.window.showWarningMessage('No signing key: Nix will refuse unsigned paths unless require-sigs is off.', 'Generate Signing Key', 'Publish Unsigned');
      if (choice === 'Generate Signing Key') await vscode.commands.executeCommand('nixIpfs.generateSigningKey');
      if (choice !== 'Publish Unsigned') return;
    }
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Nix IPFS: publishing', cancellable: true }, (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      return publish(ctx, paths, {
        secretKey,
        signal: controller.signal,
        onProgress: (e) => progress.report({ increment: 100 / e.total, message: `${e.done}/${e.total} ${path.basename(e.storePath)}` }),
      });
    });
    const recent = [...new Set([...paths, ...context.globalState.get<string[]>(RECENT_PATHS, [])])].slice(0, 20);
    await context.globalState.update(RECENT_PATHS, recent);
    for (const f of result.failed) log.error(`publish ${f.storePath}: ${f.error}`);
    const summary = `${result.paths.length} paths in the cache (${result.failed.length} failed)`;
    log.info(`publish ${paths.join(' ')}: ${summary}; root /ipfs/${result.rootCid}, IPNS ${result.ipnsName}`);
    deps.published.refresh();
    void vscode.window.showInformationMessage(`Nix IPFS: ${summary}`);
  };

  register('nixIpfs.publishStorePath', async (storePath?: string) => {
    const target = typeof storePath === 'string' ? storePath : await pickStorePath(context);
    if (target) await publishPaths([target]);
  });

  register('nixIpfs.publishBuildResult', async () => {
    requireTrust('Building');
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('open a folder with a default.nix or flake.nix first');
    const hasFlake = (await readdir(folder.uri.fsPath)).includes('flake.nix');
    const command = hasFlake ? 'nix build --extra-experimental-features "nix-command flakes"' : 'nix-build';
    const task = new vscode.Task({ type: 'shell' }, folder, 'build for nix-ipfs', 'nix-ipfs', new vscode.ShellExecution(command));
    const execution = await vscode.tasks.executeTask(task);
    const exitCode = await new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution === execution) {
          sub.dispose();
          resolve(e.exitCode);
        }
      });
    });
    if (exitCode !== 0) throw new Error(`the build failed (exit code ${exitCode}): see the terminal`);
    await publishPaths([await realpath(path.join(folder.uri.fsPath, 'result'))]);
  });

  const showReport = (report: VerifyReport) => {
    log.info(`verify ${report.narinfo.storePath} (${report.source}): ${report.trusted ? 'trusted' : 'NOT trusted'}`);
    for (const s of report.signatures) log.info(`  ${s.state} ${s.keyName}`);
    log.info(report.nar.ok ? `  NAR ok (${report.nar.narSize} bytes)` : `  NAR BAD: ${report.nar.error}`);
    const message = `${path.basename(report.narinfo.storePath)} is ${report.trusted ? 'trusted' : 'NOT trusted'}: ${report.reason}`;
    void (report.trusted ? vscode.window.showInformationMessage(message) : vscode.window.showWarningMessage(message, 'Open Log').then((c) => c && log.show()));
  };

  register('nixIpfs.verifyStorePath', async (storePath?: string) => {
    const target = typeof storePath === 'string' ? storePath : await vscode.window.showInputBox({ title: 'Verify store path', placeHolder: '/nix/store/…' });
    if (!target) return;
    showReport(await verify(await services.context(), target.trim(), await trustedKeys(deps)));
  });

  register('nixIpfs.verifyNarinfo', async () => {
    const target = await vscode.window.showInputBox({ title: 'Verify a narinfo', placeHolder: 'https://…/<hash>.narinfo or the CID of a narinfo' });
    if (!target) return;
    showReport(await verify(await services.context(), target.trim(), await trustedKeys(deps)));
  });

  register('nixIpfs.fetchSource', async (args?: { hash?: string; mode?: 'flat' | 'recursive'; name?: string }) => {
    const text = args?.hash ?? hashUnderCursor() ?? (await vscode.window.showInputBox({ title: 'Fetch a source from IPFS', placeHolder: 'sha256-… (SRI) or sha256:…' }));
    if (!text) return;
    const hash = parseHash(text.trim(), 'sha256').hash;
    const mode = args?.mode ?? ((await vscode.window.showQuickPick(['flat', 'recursive'], { title: 'Is the hash of the file (fetchurl) or of the unpacked tree (fetchzip, fetchFromGitHub)?' })) as 'flat' | 'recursive' | undefined);
    if (!mode) return;
    const result = await fetchSource(await services.context(), { hash, mode, name: args?.name });
    log.info(`fetch ${hash.toSri()}: ${result.storePath} (from ${result.from})`);
    void vscode.window.showInformationMessage(`Nix IPFS: ${result.storePath}`);
  });

  // The server knows the mirrored CID; the client's middleware puts its answer on the clipboard.
  register('nixIpfs.copyCid', () => vscode.commands.executeCommand('nixIpfs.server.copyCid'));

  // Tree item actions.
  const cidOf = (node: PublishedNode | MirroredNode) => ('record' in node ? node.record.cid : node.kind === 'path' ? node.entry.narCid : undefined);
  register('nixIpfs.item.copyCid', async (node: PublishedNode | MirroredNode) => {
    const cid = cidOf(node);
    if (cid) await vscode.env.clipboard.writeText(cid);
  });
  register('nixIpfs.item.copyStorePath', async (node: PublishedNode) => {
    if (node.kind === 'path') await vscode.env.clipboard.writeText(node.entry.storePath);
  });
  register('nixIpfs.item.openInGateway', async (node: PublishedNode | MirroredNode) => {
    const cid = cidOf(node);
    const state = monitor.state;
    const gateway = readSettings().gatewayUrl || (state.kind === 'connected' ? state.gateway : undefined);
    if (!cid || !gateway) throw new Error('no gateway known: set nixIpfs.gatewayUrl');
    await vscode.env.openExternal(vscode.Uri.parse(`${gateway}/ipfs/${cid}`));
  });
  register('nixIpfs.item.verify', async (node: PublishedNode) => {
    if (node.kind === 'path') await vscode.commands.executeCommand('nixIpfs.verifyStorePath', node.entry.storePath);
  });
  register('nixIpfs.item.unpublish', async (node: PublishedNode) => {
    if (node.kind !== 'path') return;
    const ok = await vscode.window.showWarningMessage(`Unpublish ${node.entry.storePath}? Nix will no longer find it in this cache.`, { modal: true }, 'Unpublish');
    if (ok !== 'Unpublish') return;
    const ctx = await services.context();
    await unpublish(ctx.kubo, ctx.layout, node.entry);
    await publishRoot(ctx);
    deps.published.refresh();
  });
  register('nixIpfs.item.unpin', async (node: MirroredNode) => {
    const ok = await vscode.window.showWarningMessage(`Unpin ${node.record.name ?? node.record.hash}? Builds whose URL is dead will no longer find it here.`, { modal: true }, 'Unpin');
    if (ok !== 'Unpin') return;
    const ctx = await services.context();
    await removeMirror(ctx.kubo, ctx.layout, node.record);
    await publishRoot(ctx);
    deps.mirrored.refresh();
  });
  register('nixIpfs.item.revealFetchers', async (node: MirroredNode) => {
    const hash = parseHash(node.record.hash).hash;
    const forms = [hash.toSri(), hash.toNix32(), hash.toBase16(), hash.toBase64()];
    await vscode.commands.executeCommand('workbench.action.findInFiles', { query: forms.map(escapeRegExp).join('|'), isRegex: true, filesToInclude: '*.nix', triggerSearch: true });
  });
}

function hashUnderCursor(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const range = editor.document.getWordRangeAtPosition(editor.selection.active, /[A-Za-z0-9+/=:_-]{16,}/);
  return range ? editor.document.getText(range).replace(/^"|"$/g, '') : undefined;
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
