import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { repoRoot } from './cli';

export interface LspSession {
  connection: MessageConnection;
  /** Diagnostics as last published, by URI. */
  diagnostics: Map<string, { message: string; severity: number; code: string; range: { start: { line: number } } }[]>;
  /** Messages the server showed (window/showMessage). */
  messages: string[];
  /** What the server logged (window/logMessage). */
  logs: string[];
  /** Workspace edits the server asked the editor to apply. */
  edits: { changes: Record<string, { newText: string }[]> }[];
  open(file: string, text: string): Promise<string>;
  request<T>(method: string, params: unknown): Promise<T>;
  waitForDiagnostics(uri: string): Promise<void>;
}

/** Starts the built server (dist/server.js) over stdio and speaks LSP to it, as an editor does. */
export async function startLsp(initializationOptions: Record<string, unknown>, workspace?: string): Promise<LspSession> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const diagnostics: LspSession['diagnostics'] = new Map();
  const messages: string[] = [];
  const waiting = new Map<string, () => void>();
  connection.onNotification('textDocument/publishDiagnostics', (params: { uri: string; diagnostics: never[] }) => {
    diagnostics.set(params.uri, params.diagnostics);
    waiting.get(params.uri)?.();
  });
  connection.onNotification('window/showMessage', (params: { message: string }) => void messages.push(params.message));
  const logs: string[] = [];
  connection.onNotification('window/logMessage', (params: { message: string }) => void logs.push(params.message));
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.onRequest('workspace/codeLens/refresh', () => null);
  const edits: LspSession['edits'] = [];
  connection.onRequest('workspace/applyEdit', (params: { edit: LspSession['edits'][number] }) => {
    edits.push(params.edit);
    return { applied: true };
  });
  connection.listen();
  after(() => {
    connection.dispose();
    child.kill();
  });
  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: workspace ? pathToFileURL(workspace).href : null,
    workspaceFolders: workspace ? [{ uri: pathToFileURL(workspace).href, name: 'ws' }] : null,
    capabilities: { window: { workDoneProgress: true }, workspace: { codeLens: { refreshSupport: true } } },
    initializationOptions,
  });
  await connection.sendNotification('initialized', {});
  let version = 0;
  return {
    connection,
    diagnostics,
    messages,
    logs,
    edits,
    async open(file, text) {
      const uri = pathToFileURL(file).href;
      const published = new Promise<void>((resolve) => waiting.set(uri, resolve));
      await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'nix', version: ++version, text } });
      await published;
      return uri;
    },
    request: (method, params) => connection.sendRequest(method, params),
    waitForDiagnostics: (uri) => new Promise<void>((resolve) => waiting.set(uri, resolve)),
  };
}

/** The 0-based line and character of the first occurrence of `needle` (plus `delta` characters). */
export function positionOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`'${needle}' not found`);
  const before = text.slice(0, offset + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}
