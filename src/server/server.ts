import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  DiagnosticSeverity,
  MessageType,
  ShowMessageNotification,
  TextDocumentSyncKind,
  type CodeAction,
  type CodeLens,
  type Connection,
  type Diagnostic,
  type Hover,
  type InitializeParams,
  type Position,
} from 'vscode-languageserver';
import { describeCid, looksLikeCid, cidForFlatHash } from '../core/cid';
import { parseHash } from '../core/hash';
import type { Fetcher } from '../core/fetchers/extract';
import { makeFixedOutputPath } from '../core/store-path';
import { Kubo } from '../kubo/client';
import { isInsecureRemoteApi } from '../kubo/endpoint';
import { Nix } from '../nix/cli';
import { Layout, publishRoot, type ServiceContext } from '../services/context';
import { fetchSource } from '../services/fetch';
import { defaultSourceName, hashFile, pinSource } from '../services/pin';
import { ParsePool } from '../services/parse-pool';
import { scanWorkspace, type ScanRecord } from '../services/scan';
import { NixDocuments } from './documents';
import { PinStates, type PinState } from './pin-state';

/** Settings the server reads (section `nixIpfs`, the same names as the VS Code settings). */
export interface ServerSettings {
  kuboApi: string;
  kuboApiToken?: string;
  gatewayUrl: string;
  mfsRoot: string;
  ipnsKeyName: string;
  chunker: string;
  requestTimeoutMs: number;
  /** How long a hover may wait for Kubo. */
  hoverTimeoutMs: number;
  notMirroredDiagnostics: boolean;
  nixPath: string;
  concurrency: number;
  /** False in an untrusted workspace: no downloads, no Nix evaluation. */
  trusted: boolean;
  /** Plain-HTTP APIs on other machines the user agreed to use; any other such API is not contacted. */
  insecureApisAccepted: string[];
}

const DEFAULT_SETTINGS: ServerSettings = {
  kuboApi: '/ip4/127.0.0.1/tcp/5001',
  gatewayUrl: '',
  mfsRoot: '/nix-ipfs',
  ipnsKeyName: 'nix-ipfs',
  chunker: 'buzhash',
  requestTimeoutMs: 5000,
  hoverTimeoutMs: 300,
  notMirroredDiagnostics: false,
  nixPath: '',
  concurrency: 4,
  trusted: true,
  insecureApisAccepted: [],
};

export const SERVER_COMMANDS = {
  pinSource: 'nixIpfs.server.pinSource',
  fetchSource: 'nixIpfs.server.fetchSource',
  copyCid: 'nixIpfs.server.copyCid',
  fillHash: 'nixIpfs.server.fillHash',
} as const;

/** Where a command acts: a document and either a position or the hash's offset. */
interface FetcherRef {
  uri: string;
  position?: Position;
  hashFrom?: number;
}

export function startServer(connection: Connection): void {
  // Big generated sets are parsed in chunks on these threads, so opening one does not wait for one core.
  const pool = ParsePool.start();
  const documents = new NixDocuments(
    pool &&
      (async (text) => {
        const started = performance.now();
        const chunked = await pool.parse(text);
        if (chunked) connection.console.log(`parsed ${(text.length / 1e6).toFixed(1)} MB in ${chunked.chunks.length} chunks on ${pool.size} threads (${Math.round(performance.now() - started)} ms)`);
        return chunked;
      }),
  );
  connection.onShutdown(() => pool?.dispose());
  let settings: ServerSettings = DEFAULT_SETTINGS;
  let node: { kubo: Kubo; layout: Layout } = makeNode(settings);
  let workspaceFolders: string[] = [];
  /** Hash → the distinct names/URLs using it across the workspace, for the copy-paste check. */
  let workspaceHashes = new Map<string, ScanRecord[]>();

  const pinStates = new PinStates(
    () => node,
    () => void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined),
  );

  /** A notification, not a request: nothing waits on the editor's answer, and no editor must answer. */
  function showMessage(type: MessageType, message: string): void {
    void connection.sendNotification(ShowMessageNotification.type, { type, message });
  }

  function makeNode(s: ServerSettings) {
    const refuseBecause =
      isInsecureRemoteApi(s.kuboApi) && !s.insecureApisAccepted.includes(s.kuboApi)
        ? `the Kubo API ${s.kuboApi} is plain HTTP on another machine and is not used until you confirm it (VS Code asks on the first Nix IPFS command; other editors: list it in insecureApisAccepted)`
        : undefined;
    return { kubo: new Kubo({ api: s.kuboApi, token: s.kuboApiToken, timeoutMs: s.requestTimeoutMs, refuseBecause }), layout: new Layout(s.mfsRoot) };
  }

  function applySettings(update: Partial<ServerSettings> | undefined): void {
    settings = { ...settings, ...Object.fromEntries(Object.entries(update ?? {}).filter(([, v]) => v !== undefined && v !== null)) };
    node = makeNode(settings);
    pinStates.invalidate();
  }

  function serviceContext(): ServiceContext {
    return { ...node, nix: new Nix({ binDir: settings.nixPath || undefined }), keyName: settings.ipnsKeyName, chunker: settings.chunker || undefined, concurrency: settings.concurrency };
  }

  connection.onInitialize((params: InitializeParams) => {
    applySettings(params.initializationOptions as Partial<ServerSettings> | undefined);
    workspaceFolders = (params.workspaceFolders ?? []).map((f) => fileURLToPath(f.uri));
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
        executeCommandProvider: { commands: Object.values(SERVER_COMMANDS) },
      },
      serverInfo: { name: 'nix-ipfs', version: VERSION },
    };
  });

  connection.onInitialized(() => {
    void scanFolders();
  });

  connection.onDidChangeConfiguration((change) => {
    const section = (change.settings as { nixIpfs?: Partial<ServerSettings> } | undefined)?.nixIpfs;
    applySettings(section ? { ...section, notMirroredDiagnostics: (section as { diagnostics?: { notMirrored?: boolean } }).diagnostics?.notMirrored } : undefined);
    documents.uris().forEach((uri) => void publishDiagnostics(uri));
  });
  connection.onNotification('nixIpfs/insecureApiAccepted', (params: { api: string }) => {
    applySettings({ insecureApisAccepted: [...settings.insecureApisAccepted, params.api] });
  });
  connection.onNotification('nixIpfs/trustGranted', () => {
    settings = { ...settings, trusted: true };
  });
  connection.onNotification('nixIpfs/pinStateChanged', () => {
    pinStates.invalidate();
    void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
  });

  connection.onDidOpenTextDocument(({ textDocument }) => {
    documents.open(textDocument.uri, textDocument.version, textDocument.text);
    void publishDiagnostics(textDocument.uri);
  });
  connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
    documents.change(textDocument.uri, textDocument.version, contentChanges);
    void publishDiagnostics(textDocument.uri);
  });
  connection.onDidCloseTextDocument(({ textDocument }) => {
    documents.close(textDocument.uri);
    connection.sendDiagnostics({ uri: textDocument.uri, diagnostics: [] });
  });

  async function scanFolders(): Promise<void> {
    const records: ScanRecord[] = [];
    for (const folder of workspaceFolders) records.push(...(await scanWorkspace(folder).catch(() => [])));
    workspaceHashes = new Map();
    for (const r of records) if (r.sri) workspaceHashes.set(r.sri, [...(workspaceHashes.get(r.sri) ?? []), r]);
    documents.uris().forEach((uri) => void publishDiagnostics(uri));
  }

  async function publishDiagnostics(uri: string): Promise<void> {
    const fetchers = await documents.fetchers(uri);
    // Taken after the parse: the fetchers are of the latest version.
    const document = documents.get(uri);
    if (!document) return;
    const diagnostics: Diagnostic[] = [];
    const range = (f: Fetcher) => ({ start: document.positionAt(f.hashFrom), end: document.positionAt(f.hashTo) });
    const file = uri.startsWith('file:') ? fileURLToPath(uri) : uri;
    for (const f of fetchers) {
      if (f.placeholder) {
        diagnostics.push({ range: range(f), severity: DiagnosticSeverity.Warning, source: 'nix-ipfs', code: 'placeholder-hash', message: `${f.hashAttr} is a placeholder (${f.hash || 'empty'}): the build will fail and print the real hash` });
      } else if (f.hashError && f.hashError !== 'interpolated' && f.hashError !== 'not a literal string') {
        diagnostics.push({ range: range(f), severity: DiagnosticSeverity.Error, source: 'nix-ipfs', code: 'malformed-hash', message: `${f.hashAttr}: ${f.hashError}` });
      } else if (f.sri) {
        const ipfsMismatch = f.ipfs ? cidDisagrees(f.ipfs, f.sri) : undefined;
        if (ipfsMismatch) diagnostics.push({ range: range(f), severity: DiagnosticSeverity.Error, source: 'nix-ipfs', code: 'ipfs-mismatch', message: ipfsMismatch });
        const identity = (r: { name?: string; urls: string[] }) => `${r.name ?? ''} ${r.urls.join(' ')}`;
        const others = (workspaceHashes.get(f.sri) ?? []).filter((r) => r.file !== file && identity(r) !== identity(f) && r.urls.length > 0 && f.urls.length > 0);
        if (others.length > 0) {
          diagnostics.push({
            range: range(f),
            severity: DiagnosticSeverity.Warning,
            source: 'nix-ipfs',
            code: 'duplicate-hash',
            message: `the same hash is used for another source (${others[0].urls[0] ?? others[0].name} in ${others[0].file}:${others[0].line}): probably a copy-paste mistake`,
          });
        }
        const state = pinStates.cached(f.sri);
        if (settings.notMirroredDiagnostics && state?.kind === 'not-mirrored') {
          diagnostics.push({ range: range(f), severity: DiagnosticSeverity.Information, source: 'nix-ipfs', code: 'not-mirrored', message: 'this source is not mirrored in IPFS yet' });
        }
      }
    }
    void connection.sendDiagnostics({ uri, version: document.version, diagnostics });
  }

  connection.onHover(async ({ textDocument, position }): Promise<Hover | null> => {
    const fetchers = await documents.fetchers(textDocument.uri);
    const document = documents.get(textDocument.uri);
    if (!document) return null;
    const offset = document.offsetAt(position);
    const fetcher = fetchers.find((f) => offset >= f.hashFrom && offset <= f.hashTo);
    if (fetcher) return { contents: { kind: 'markdown', value: await hashHover(fetcher) }, range: { start: document.positionAt(fetcher.hashFrom), end: document.positionAt(fetcher.hashTo) } };
    const text = document.getText();
    let from = offset;
    let to = offset;
    while (from > 0 && /[A-Za-z0-9]/.test(text[from - 1])) from--;
    while (to < text.length && /[A-Za-z0-9]/.test(text[to])) to++;
    const word = text.slice(from, to);
    if (!looksLikeCid(word)) return null;
    try {
      const info = describeCid(word);
      const lines = [`**CID** v${info.version} · ${info.codecName} · ${info.multihashName}`, '', `base32: \`${info.base32}\``, `digest: \`${info.digestHex}\``];
      if (info.nixHash && info.codecName === 'raw') lines.push('', `Nix hash of the file: \`${info.nixHash.toSri()}\``, `Nix base32: \`${info.nixHash.toNix32()}\``);
      if (settings.gatewayUrl) lines.push('', `[Open in gateway](${settings.gatewayUrl}/ipfs/${info.base32})`);
      return { contents: { kind: 'markdown', value: lines.join('  \n') }, range: { start: document.positionAt(from), end: document.positionAt(to) } };
    } catch {
      return null;
    }
  });

  async function hashHover(f: Fetcher): Promise<string> {
    if (f.placeholder) return `**${f.hashAttr}**: placeholder hash — build once and Nix prints the real one.`;
    if (!f.sri) return `**${f.hashAttr}**: ${f.hashError ?? 'not a literal hash'}`;
    const hash = parseHash(f.sri).hash;
    const lines = [
      `**${hash.algo}** · ${f.mode === 'flat' ? 'flat (the file)' : 'recursive (the unpacked tree, as a NAR)'} · ${f.fetcher}`,
      '',
      `SRI: \`${hash.toSri()}\``,
      `Nix base32: \`${hash.toNix32()}\``,
      `base16: \`${hash.toBase16()}\``,
    ];
    const raw = f.mode === 'flat' ? cidForFlatHash(hash)?.toString() : undefined;
    if (raw) lines.push(`CID: \`${raw}\`${' '}(raw block; the file's own CID when it is one block)`);
    const state = await pinStates.get(f.sri, settings.hoverTimeoutMs);
    lines.push('', stateLine(state));
    const cid = state && 'cid' in state ? state.cid : raw;
    const gateway = settings.gatewayUrl;
    if (cid && gateway && state?.kind !== 'unreachable') lines.push(`[Open in gateway](${gateway}/ipfs/${cid})`);
    // Two trailing spaces: a markdown line break, so each form sits on its own line.
    return lines.join('  \n');
  }

  function stateLine(state: PinState | undefined): string {
    if (!state) return 'IPFS: checking the Kubo node…';
    switch (state.kind) {
      case 'pinned':
        return `IPFS: **pinned** on your node ✓${state.record ? ` — mirrored as \`${state.cid}\`` : ''}`;
      case 'mirrored-unpinned':
        return `IPFS: mirrored as \`${state.cid}\` but **not pinned** (Kubo may collect it)`;
      case 'not-mirrored':
        return 'IPFS: not mirrored yet — use “Pin to IPFS”';
      case 'unreachable':
        return `IPFS: Kubo node unreachable (${state.error.split(':')[0]})`;
      case 'refused':
        return `IPFS: ${state.reason}`;
    }
  }

  connection.onCodeLens(async ({ textDocument }): Promise<CodeLens[]> => {
    const fetchers = await documents.fetchers(textDocument.uri);
    const document = documents.get(textDocument.uri);
    if (!document) return [];
    const lenses: CodeLens[] = [];
    for (const f of fetchers) {
      if (!f.sri) continue;
      const range = { start: document.positionAt(f.from), end: document.positionAt(f.from) };
      const ref: FetcherRef = { uri: textDocument.uri, hashFrom: f.hashFrom };
      const state = await pinStates.get(f.sri, 0);
      if (state?.kind === 'pinned') {
        lenses.push({ range, command: { title: `Pinned ✓ ${shortCid(state.cid)}`, command: SERVER_COMMANDS.copyCid, arguments: [ref] } });
        if (state.record && !storePathExists(f, state.record.name)) lenses.push({ range, command: { title: 'Fetch from IPFS', command: SERVER_COMMANDS.fetchSource, arguments: [ref] } });
      } else {
        lenses.push({ range, command: { title: state?.kind === 'unreachable' ? 'Pin to IPFS (node unreachable)' : 'Pin to IPFS', command: SERVER_COMMANDS.pinSource, arguments: [ref] } });
      }
    }
    return lenses;
  });

  function storePathExists(f: Fetcher, recordedName?: string): boolean {
    const hash = parseHash(f.sri!).hash;
    const name = f.name ?? recordedName ?? defaultSourceName({ urls: f.urls, hash, mode: f.mode });
    try {
      return existsSync(makeFixedOutputPath({ name, hash, recursive: f.mode === 'recursive' }));
    } catch {
      return false;
    }
  }

  connection.onCodeAction(async ({ textDocument, range }): Promise<CodeAction[]> => {
    const fetchers = await documents.fetchers(textDocument.uri);
    const document = documents.get(textDocument.uri);
    if (!document) return [];
    const from = document.offsetAt(range.start);
    const to = document.offsetAt(range.end);
    const actions: CodeAction[] = [];
    for (const f of fetchers) {
      if (f.hashTo < from || f.hashFrom > to) continue;
      const hashRange = { start: document.positionAt(f.hashFrom), end: document.positionAt(f.hashTo) };
      if (f.sri && f.hash !== f.sri) {
        actions.push({ title: `Convert ${f.hashAttr} to SRI (${f.sri.slice(0, 16)}…)`, kind: CodeActionKind.RefactorRewrite, edit: { changes: { [textDocument.uri]: [{ range: hashRange, newText: f.sri }] } } });
      }
      if (f.placeholder && f.urls.some((u) => /^(https?|mirror):/.test(u))) {
        actions.push({ title: 'Fetch the source and fill in its hash', kind: CodeActionKind.QuickFix, command: { title: 'Fetch and fill in hash', command: SERVER_COMMANDS.fillHash, arguments: [{ uri: textDocument.uri, hashFrom: f.hashFrom }] } });
      }
    }
    return actions;
  });

  async function resolveRef(ref: FetcherRef | undefined): Promise<{ fetcher: Fetcher; uri: string }> {
    if (!ref?.uri) throw new Error('no fetcher given: put the cursor on a fetcher');
    const document = documents.get(ref.uri);
    if (!document) throw new Error(`${ref.uri} is not open`);
    const offset = ref.hashFrom ?? document.offsetAt(ref.position ?? { line: 0, character: 0 });
    const fetcher = await documents.fetcherAt(ref.uri, offset);
    if (!fetcher) throw new Error('there is no fetcher at the cursor');
    return { fetcher, uri: ref.uri };
  }

  function requireTrust(what: string): void {
    if (!settings.trusted) throw new Error(`${what} is disabled in an untrusted workspace`);
  }

  connection.onExecuteCommand(async ({ command, arguments: args }) => {
    const ref = args?.[0] as FetcherRef | undefined;
    try {
      switch (command) {
        case SERVER_COMMANDS.pinSource: {
          requireTrust('Pinning (it may download the source)');
          const { fetcher } = await resolveRef(ref);
          if (!fetcher.sri) throw new Error(`this fetcher has no usable hash (${fetcher.hashError ?? 'placeholder'})`);
          const progress = await connection.window.createWorkDoneProgress();
          progress.begin('Pinning to IPFS', undefined, fetcher.urls[0] ?? fetcher.sri);
          try {
            const outcome = await pinSource(serviceContext(), { urls: fetcher.urls.filter((u) => u !== 'dynamic'), hash: parseHash(fetcher.sri).hash, mode: fetcher.mode, name: fetcher.name });
            await publishRoot(serviceContext());
            pinStates.invalidate();
            pinStates.remember(fetcher.sri, { kind: 'pinned', cid: outcome.record.cid, record: outcome.record });
            void connection.sendNotification('nixIpfs/pinStateChanged', { hash: fetcher.sri, cid: outcome.record.cid });
            void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
            showMessage(MessageType.Info, `${outcome.status === 'pinned' ? 'Pinned' : 'Already pinned'}: ${outcome.record.name ?? fetcher.sri} → ${outcome.record.cid}`);
            return outcome.record;
          } finally {
            progress.done();
          }
        }
        case SERVER_COMMANDS.fetchSource: {
          requireTrust('Fetching into the Nix store');
          const { fetcher } = await resolveRef(ref);
          if (!fetcher.sri) throw new Error('this fetcher has no usable hash');
          const result = await fetchSource(serviceContext(), { hash: parseHash(fetcher.sri).hash, mode: fetcher.mode, name: fetcher.name });
          showMessage(MessageType.Info, `Fetched from IPFS: ${result.storePath}`);
          void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
          return result;
        }
        case SERVER_COMMANDS.copyCid: {
          const { fetcher } = await resolveRef(ref);
          if (!fetcher.sri) throw new Error('this fetcher has no usable hash');
          const state = await pinStates.get(fetcher.sri, settings.requestTimeoutMs);
          const cid = state && 'cid' in state ? state.cid : cidForFlatHash(parseHash(fetcher.sri).hash)?.toString();
          if (!cid) throw new Error('this source is not mirrored and its hash has no raw CID');
          return cid;
        }
        case SERVER_COMMANDS.fillHash: {
          requireTrust('Downloading a source');
          const { fetcher, uri } = await resolveRef(ref);
          const sri = await prefetch(fetcher);
          const document = documents.get(uri)!;
          const newText = fetcher.quoted ? sri : `"${sri}"`;
          await connection.workspace.applyEdit({ changes: { [uri]: [{ range: { start: document.positionAt(fetcher.hashFrom), end: document.positionAt(fetcher.hashTo) }, newText }] } });
          return sri;
        }
        default:
          throw new Error(`unknown command ${command}`);
      }
    } catch (error) {
      const message = (error as Error).message;
      showMessage(MessageType.Error, `nix-ipfs: ${message}`);
      return { error: message };
    }
  });

  /** Downloads a placeholder's source with Nix and returns its real hash as SRI. */
  async function prefetch(fetcher: Fetcher): Promise<string> {
    const url = fetcher.urls.find((u) => /^https?:/.test(u));
    if (!url) throw new Error('no literal http(s) URL to fetch');
    const nix = new Nix({ binDir: settings.nixPath || undefined });
    const out = await nix.run('nix-prefetch-url', ['--print-path', ...(fetcher.mode === 'recursive' ? ['--unpack'] : []), '--type', 'sha256', url]);
    const [nix32, storePath] = out.trim().split('\n');
    if (fetcher.mode === 'flat' && storePath) return (await hashFile(storePath, 'sha256')).toSri();
    return parseHash(nix32, 'sha256').hash.toSri();
  }

  connection.onRequest('nixIpfs/scanWorkspace', async (params: { folder?: string } | undefined) => {
    const folders = params?.folder ? [params.folder] : workspaceFolders;
    const progress = await connection.window.createWorkDoneProgress();
    progress.begin('Scanning .nix files', 0, undefined, true);
    const records: ScanRecord[] = [];
    for (const folder of folders) {
      records.push(...(await scanWorkspace(folder, { onProgress: (files, fetchers) => progress.report(`${files} files, ${fetchers} fetchers`) })));
    }
    progress.done();
    return records;
  });

  connection.listen();
}

/** fetchipfs: a raw CID names the file's sha256 itself, so it must agree with the hash. */
function cidDisagrees(cid: string, sri: string): string | undefined {
  try {
    const info = describeCid(cid);
    if (info.codecName !== 'raw' || !info.nixHash) return undefined; // a UnixFS CID cannot be checked from the text
    const hash = parseHash(sri).hash;
    return info.nixHash.algo === hash.algo && !info.nixHash.equals(hash) ? `the ipfs CID names ${info.nixHash.toSri()}, but the hash is ${sri}` : undefined;
  } catch (error) {
    return `ipfs is not a CID: ${(error as Error).message}`;
  }
}

function shortCid(cid: string): string {
  return `${cid.slice(0, 8)}…${cid.slice(-6)}`;
}

declare const VERSION: string;
