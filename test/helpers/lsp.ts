import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  ApplyWorkspaceEditRequest,
  CodeLensRefreshRequest,
  DidChangeConfigurationNotification,
  DidOpenTextDocumentNotification,
  ExecuteCommandRequest,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  ShowMessageNotification,
  WorkDoneProgressCreateRequest,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { ContentChangedNotification, executeCommandParams, type CommandArgs, type CommandResult, type ServerCommandName } from '../../src/protocol';
import { repoRoot } from './cli';

/** A diagnostic as nix-ipfs publishes them: a plain message and a string code. */
export type Diagnostic = { message: string; severity: number; code: string; range: { start: { line: number } } };

export interface LspSession {
  connection: MessageConnection;
  /** Diagnostics as last published, by URI. */
  diagnostics: Map<string, Diagnostic[]>;
  /** Messages the server showed (window/showMessage). */
  messages: string[];
  /** What the server logged (window/logMessage). */
  logs: string[];
  /** Workspace edits the server asked the editor to apply. */
  edits: WorkspaceEdit[];
  /** How often the server said the mirror or the cache changed (nixIpfs/contentChanged). */
  contentChanges: { mirror: boolean; cache: boolean }[];
  open(file: string, text: string): Promise<string>;
  request<T>(method: string, params: unknown): Promise<T>;
  /** workspace/executeCommand, typed by the protocol. */
  execute<C extends ServerCommandName>(name: C, args: CommandArgs<C>): Promise<CommandResult<C>>;
  waitForDiagnostics(uri: string): Promise<void>;
  /** Resolves at the server's next workspace/codeLens/refresh (a pin state became known). */
  nextLensRefresh(): Promise<void>;
  /** Resolves at the server's next window/showMessage. */
  nextMessage(): Promise<string>;
}

/** Starts the built server (dist/server.js) over stdio and speaks LSP to it, as an editor does; `env` adds to the server's environment. */
export async function startLsp(initializationOptions: Record<string, unknown>, workspace?: string, env?: NodeJS.ProcessEnv): Promise<LspSession> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/server.js'), '--stdio'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const session = listen(connection);
  after(() => {
    connection.dispose();
    child.kill();
  });
  await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: workspace ? pathToFileURL(workspace).href : null,
    workspaceFolders: workspace ? [{ uri: pathToFileURL(workspace).href, name: 'ws' }] : null,
    capabilities: { window: { workDoneProgress: true }, workspace: { codeLens: { refreshSupport: true } } },
    initializationOptions,
  });
  await connection.sendNotification(InitializedNotification.type, {});
  return session;
}

/** Answers what the server asks of an editor, and records what it says. */
function listen(connection: MessageConnection): LspSession {
  const diagnostics: LspSession['diagnostics'] = new Map();
  const messages: string[] = [];
  const logs: string[] = [];
  const edits: WorkspaceEdit[] = [];
  const contentChanges: LspSession['contentChanges'] = [];
  const waiting = new Map<string, () => void>();
  let lensRefreshed: (() => void)[] = [];
  let messageShown: ((message: string) => void)[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    diagnostics.set(params.uri, params.diagnostics as Diagnostic[]);
    waiting.get(params.uri)?.();
  });
  connection.onNotification(ShowMessageNotification.type, ({ message }) => {
    messages.push(message);
    messageShown.splice(0).forEach((resolve) => resolve(message));
  });
  connection.onNotification(LogMessageNotification.type, ({ message }) => void logs.push(message));
  connection.onNotification(ContentChangedNotification, (change) => void contentChanges.push(change));
  connection.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
  connection.onRequest(CodeLensRefreshRequest.type, () => {
    lensRefreshed.splice(0).forEach((resolve) => resolve());
  });
  connection.onRequest(ApplyWorkspaceEditRequest.type, ({ edit }) => {
    edits.push(edit);
    return { applied: true };
  });
  connection.listen();
  let version = 0;
  return {
    connection,
    diagnostics,
    messages,
    logs,
    edits,
    contentChanges,
    async open(file, text) {
      const uri = pathToFileURL(file).href;
      const published = new Promise<void>((resolve) => waiting.set(uri, resolve));
      await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'nix', version: ++version, text } });
      await published;
      return uri;
    },
    request: (method, params) => connection.sendRequest(method, params),
    execute: (name, args) => connection.sendRequest(ExecuteCommandRequest.type, executeCommandParams(name, args)),
    waitForDiagnostics: (uri) => new Promise<void>((resolve) => waiting.set(uri, resolve)),
    nextLensRefresh: () => new Promise<void>((resolve) => (lensRefreshed = [...lensRefreshed, resolve])),
    nextMessage: () => new Promise<string>((resolve) => (messageShown = [...messageShown, resolve])),
  };
}

/** Sends settings as VS Code does on a change (the whole `nixIpfs` section). */
export function changeSettings(lsp: LspSession, nixIpfs: Record<string, unknown>): Promise<void> {
  return lsp.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { nixIpfs } });
}

/** The 0-based line and character of the first occurrence of `needle` (plus `delta` characters). */
export function positionOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`'${needle}' not found`);
  const before = text.slice(0, offset + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}
