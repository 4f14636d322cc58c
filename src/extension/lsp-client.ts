import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { readSettings, type Services } from './settings';

/** Commands the server executes whose arguments the editor fills in when run from the palette. */
const CURSOR_COMMANDS = new Set(['nixIpfs.server.pinSource', 'nixIpfs.server.copyCid']);

/**
 * Starts nix-ipfs' language server (dist/server.js) for Nix files. Features live in the server so
 * other editors get them too; the editor adds the cursor position to palette invocations and puts
 * returned CIDs on the clipboard.
 */
export async function startLanguageClient(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, services: Services, token: () => Thenable<string | undefined>): Promise<LanguageClient> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'nix' },
      { scheme: 'untitled', language: 'nix' },
    ],
    outputChannel: log,
    initializationOptions: { ...readSettings(), kuboApiToken: await token(), trusted: vscode.workspace.isTrusted, insecureApisAccepted: services.acceptedInsecureApis() },
    synchronize: { configurationSection: 'nixIpfs' },
    middleware: {
      executeCommand: async (command, args, next) => {
        // The server cannot ask: confirm a plain-HTTP remote API here first (it is told when accepted).
        await services.context();
        const editor = vscode.window.activeTextEditor;
        if (CURSOR_COMMANDS.has(command) && args.length === 0 && editor) {
          args = [{ uri: editor.document.uri.toString(), position: editor.selection.active }];
        }
        const result = await next(command, args);
        if (command === 'nixIpfs.server.copyCid' && typeof result === 'string') {
          await vscode.env.clipboard.writeText(result);
          void vscode.window.setStatusBarMessage(`Copied ${result}`, 3000);
        }
        return result;
      },
    },
  };
  const client = new LanguageClient('nixIpfs', 'Nix IPFS language server', serverOptions, clientOptions);
  await client.start();
  context.subscriptions.push(
    client,
    vscode.workspace.onDidGrantWorkspaceTrust(() => void client.sendNotification('nixIpfs/trustGranted')),
    services.onDidAcceptInsecureApi((api) => void client.sendNotification('nixIpfs/insecureApiAccepted', { api })),
  );
  return client;
}
