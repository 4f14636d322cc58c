import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  ErrorCodes,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  TextDocumentSyncKind,
  WorkDoneProgressReporter,
  type CancellationToken,
  type Connection,
  type ExecuteCommandParams,
  type InitializeParams,
} from 'vscode-languageserver';
import {
  ContentChangedNotification,
  FollowedCachesRequest,
  InsecureApiAcceptedNotification,
  MirroredSourcesRequest,
  NodeStatusRequest,
  PublishedPathsRequest,
  RefreshNotification,
  ScanWorkspaceRequest,
  SecretsChangedNotification,
  ServerCommand,
  serverCommandName,
  TrustGrantedNotification,
} from '../protocol';
import { ParsePool } from '../services/parse-pool';
import { scanWorkspace, type ScanRecord } from '../services/scan';
import { codeActions } from './code-actions';
import { commandTitle, runCommand, type CommandEnv } from './commands';
import { diagnose } from './diagnostics';
import { staleHashesIn } from './stale-hashes';
import { MAX_WHOLE_PARSE_BYTES, NixDocuments } from './documents';
import { hover } from './hover';
import { codeLenses } from './lenses';
import { followedCaches, mirroredSourceRows, nodeStatus, publishedPaths } from './listings';
import { PinStates } from './pin-state';
import { ServerSession } from './session';

/** The server's state: what every handler reads. */
interface Server {
  connection: Connection;
  documents: NixDocuments;
  session: ServerSession;
  pinStates: PinStates;
  workspaceFolders: string[];
  /** Hash (SRI) → the fetchers using it across the workspace, for the copy-paste check. */
  workspaceHashes: Map<string, ScanRecord[]>;
}

/** Wires the handlers to the connection; the work is in the modules beside this one. */
export function startServer(connection: Connection): void {
  const server = createServer(connection);
  registerLifecycle(server);
  registerDocuments(server);
  registerFeatures(server);
  registerCommands(server);
  registerRequests(server);
  connection.listen();
}

function createServer(connection: Connection): Server {
  // Big generated sets are parsed in chunks on these threads, so opening one does not wait for one core.
  const pool = ParsePool.start();
  connection.onShutdown(() => pool?.dispose());
  const documents = new NixDocuments(
    pool &&
      (async (text) => {
        const started = performance.now();
        const chunked = await pool.parse(text);
        if (chunked)
          connection.console.log(
            `parsed ${(text.length / 1e6).toFixed(1)} MB in ${chunked.chunks.length} chunks on ${pool.size} threads (${Math.round(performance.now() - started)} ms)`,
          );
        return chunked;
      }),
  );
  const pinStates = new PinStates(
    () => session.services(),
    () => refreshLenses(connection),
  );
  const session = new ServerSession(
    (reason) => {
      pinStates.invalidate();
      // The node went away or came back: lenses, hovers and diagnostics show what is true now.
      if (reason === 'node') refreshAll(server);
    },
    (message) => connection.console.log(message),
  );
  const server: Server = { connection, documents, session, pinStates, workspaceFolders: [], workspaceHashes: new Map() };
  return server;
}

function refreshLenses(connection: Connection): void {
  void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
}

/** A notification, not a request: nothing waits on the editor's answer, and no editor must answer. */
function showMessage(connection: Connection, type: MessageType, message: string): void {
  void connection.sendNotification(ShowMessageNotification.type, { type, message });
}

/** Applies what an editor sent; a wrong type is shown and changes nothing. */
function configure(server: Server, settings: unknown, options?: unknown): void {
  try {
    server.session.configure(settings, options);
  } catch (error) {
    showMessage(server.connection, MessageType.Error, (error as Error).message);
  }
}

function registerLifecycle(server: Server): void {
  const { connection, session } = server;
  connection.onInitialize((params: InitializeParams) => {
    configure(server, params.initializationOptions, params.initializationOptions);
    server.workspaceFolders = (params.workspaceFolders ?? []).map((f) => fileURLToPath(f.uri));
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
        executeCommandProvider: { commands: Object.values(ServerCommand) },
      },
      serverInfo: { name: 'nix-ipfs', version: VERSION },
    };
  });
  connection.onInitialized(() => void scanFolders(server));
  connection.onDidChangeConfiguration((change) => {
    const section = (change.settings as { nixIpfs?: unknown } | undefined)?.nixIpfs;
    if (section === undefined) return; // an editor that sends no settings keeps the initialization options
    configure(server, section);
    refreshAll(server);
  });
  connection.onNotification(SecretsChangedNotification, (secrets) => configure(server, undefined, secrets));
  connection.onNotification(InsecureApiAcceptedNotification, ({ api }) => session.acceptInsecureApi(api));
  connection.onNotification(TrustGrantedNotification, () => session.grantTrust());
  connection.onNotification(RefreshNotification, () => session.forgetNodeState());
}

/** Everything the editor shows from the node again: lenses, diagnostics. */
function refreshAll(server: Server): void {
  refreshLenses(server.connection);
  for (const uri of server.documents.uris()) void publishDiagnostics(server, uri);
}

async function scanFolders(server: Server): Promise<void> {
  const records: ScanRecord[] = [];
  for (const folder of server.workspaceFolders) records.push(...(await scanWorkspace(folder).catch(() => [])));
  server.workspaceHashes = new Map();
  for (const r of records) if (r.sri) server.workspaceHashes.set(r.sri, [...(server.workspaceHashes.get(r.sri) ?? []), r]);
  for (const uri of server.documents.uris()) void publishDiagnostics(server, uri);
}

async function sayWhenTooLarge({ connection, documents }: Server, uri: string): Promise<void> {
  if (!(await documents.tooLarge(uri))) return;
  const megabytes = (documents.get(uri)?.getText().length ?? 0) / 1e6;
  const message = `Nix IPFS does not read ${decodeURIComponent(uri.split('/').pop() ?? uri)} (${megabytes.toFixed(0)} MB): files over ${MAX_WHOLE_PARSE_BYTES / 1024 / 1024} MB are read only when they are one generated set. Run \`nix-ipfs scan\` on it instead.`;
  void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Info, message });
}

function registerDocuments(server: Server): void {
  const { connection, documents } = server;
  connection.onDidOpenTextDocument(({ textDocument }) => {
    documents.open(textDocument.uri, textDocument.version, textDocument.text);
    void publishDiagnostics(server, textDocument.uri);
    void sayWhenTooLarge(server, textDocument.uri);
  });
  connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
    documents.change(textDocument.uri, textDocument.version, contentChanges);
    void publishDiagnostics(server, textDocument.uri);
  });
  connection.onDidCloseTextDocument(({ textDocument }) => {
    documents.close(textDocument.uri);
    void connection.sendDiagnostics({ uri: textDocument.uri, diagnostics: [] });
  });
}

async function publishDiagnostics(server: Server, uri: string): Promise<void> {
  const fetchers = await server.documents.fetchers(uri);
  // Taken after the parse: the fetchers are of the latest version.
  const document = server.documents.get(uri);
  if (!document) return;
  const staleHashes = await staleHashesIn(document, fetchers);
  const diagnostics = diagnose(document, fetchers, {
    staleHashes,
    workspaceHashes: server.workspaceHashes,
    cachedPinState: (sri) => server.pinStates.cached(sri),
    notMirrored: server.session.settings['diagnostics.notMirrored'],
  });
  void server.connection.sendDiagnostics({ uri, version: document.version, diagnostics });
}

function registerFeatures(server: Server): void {
  const { connection, documents, pinStates, session } = server;
  connection.onHover(async ({ textDocument, position }) => {
    const fetchers = await documents.fetchers(textDocument.uri);
    const document = documents.get(textDocument.uri);
    return document ? hover(document, fetchers, position, (sri) => pinStates.get(sri, session.hoverTimeoutMs), session.settings.gatewayUrl) : null;
  });
  connection.onCodeLens(async ({ textDocument }) => {
    const fetchers = await documents.fetchers(textDocument.uri);
    const document = documents.get(textDocument.uri);
    return document ? codeLenses(document, fetchers, (sri) => pinStates.get(sri, 0), existsSync) : [];
  });
  connection.onCodeAction(async ({ textDocument, range, context }) => {
    const fetchers = await documents.fetchers(textDocument.uri);
    const document = documents.get(textDocument.uri);
    return document ? codeActions(document, fetchers, range, context.diagnostics) : [];
  });
}

function registerCommands(server: Server): void {
  server.connection.onExecuteCommand(async (params: ExecuteCommandParams, token, workDone) => {
    const name = serverCommandName(params.command);
    if (!name)
      throw new ResponseError(ErrorCodes.InvalidParams, `unknown command ${params.command}: the server offers ${Object.values(ServerCommand).join(', ')}`);
    const title = commandTitle(name);
    // An editor that sent no workDoneToken still sees progress, and may cancel it.
    const created = title && WorkDoneProgressReporter.isNullInstance(workDone) ? await server.connection.window.createWorkDoneProgress() : undefined;
    const progress = created ?? workDone;
    const controller = new AbortController();
    const tokens: CancellationToken[] = created ? [token, created.token] : [token];
    const cancellations = tokens.map((t) => t.onCancellationRequested(() => controller.abort()));
    if (title) progress.begin(title, 0, undefined, true);
    try {
      return await runCommand(
        name,
        params.arguments?.[0],
        commandEnv(server, controller.signal, (message, percentage) => progress.report(percentage ?? 0, message)),
      );
    } finally {
      if (title) progress.done();
      cancellations.forEach((c) => c.dispose());
    }
  });
}

function commandEnv(server: Server, signal: AbortSignal, progress: CommandEnv['progress']): CommandEnv {
  const { connection, session, documents, pinStates } = server;
  return {
    session,
    documents,
    pinStates,
    workspaceFolders: server.workspaceFolders,
    signal,
    progress,
    show: (type, message) => showMessage(connection, type, message),
    log: (message) => connection.console.log(message),
    changed: ({ mirror = false, cache = false, known = [] }) => {
      pinStates.invalidate();
      for (const [sri, state] of known) pinStates.remember(sri, state);
      refreshAll(server);
      void connection.sendNotification(ContentChangedNotification, { mirror, cache });
    },
    ask: async (message, choices) => (await connection.window.showInformationMessage(message, ...choices.map((title) => ({ title }))))?.title,
    applyEdit: async (edit) => {
      const result = await connection.workspace.applyEdit(edit);
      if (!result.applied) throw new Error(`the editor did not apply the edit${result.failureReason ? `: ${result.failureReason}` : ''}`);
    },
  };
}

function registerRequests(server: Server): void {
  const { connection, session } = server;
  connection.onRequest(ScanWorkspaceRequest, async (params) => {
    const folders = params?.folder ? [params.folder] : server.workspaceFolders;
    const workDone = connection.window.attachWorkDoneProgress(params?.workDoneToken);
    workDone.begin('Scanning .nix files', 0, undefined, true);
    const records: ScanRecord[] = [];
    for (const folder of folders) {
      records.push(...(await scanWorkspace(folder, { onProgress: (files, fetchers) => workDone.report(`${files} files, ${fetchers} fetchers`) })));
    }
    workDone.done();
    return records;
  });
  connection.onRequest(NodeStatusRequest, () => nodeStatus(session));
  connection.onRequest(PublishedPathsRequest, () => publishedPaths(session));
  connection.onRequest(MirroredSourcesRequest, () => mirroredSourceRows(session));
  connection.onRequest(FollowedCachesRequest, () => followedCaches(session));
}

declare const VERSION: string;
