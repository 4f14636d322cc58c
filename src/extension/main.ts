import * as vscode from 'vscode';
import { Nix } from '../nix/cli';
import { registerCommands, trustedKeys } from './commands';
import { startLanguageClient } from './lsp-client';
import { createStatusBar, NodeMonitor } from './node-monitor';
import { readSettings, Secrets, Services } from './settings';
import { MirroredSourcesView, NodeView, PublishedPathsView } from './views';

export function activate(context: vscode.ExtensionContext): void {
  const started = Date.now();
  const log = vscode.window.createOutputChannel('Nix IPFS', { log: true });
  const secrets = new Secrets(context.secrets);
  const services = new Services(secrets, context.globalState);
  const monitor = new NodeMonitor(services, log);
  const published = new PublishedPathsView(services, monitor, () => trustedKeys({ services, secrets }));
  const mirrored = new MirroredSourcesView(services, monitor);
  context.subscriptions.push(
    log,
    monitor,
    createStatusBar(monitor),
    vscode.window.registerTreeDataProvider('nixIpfs.published', published),
    vscode.window.registerTreeDataProvider('nixIpfs.mirrored', mirrored),
    vscode.window.registerTreeDataProvider('nixIpfs.node', new NodeView(monitor)),
  );
  registerCommands({ context, services, secrets, monitor, published, mirrored, log, languageClient: () => languageClient });

  // The views follow the node: refill them whenever its state changes kind.
  let lastKind = monitor.state.kind;
  context.subscriptions.push(
    monitor.onDidChange((state) => {
      if (state.kind === lastKind) return;
      lastKind = state.kind;
      published.refresh();
      mirrored.refresh();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('nixIpfs')) return;
      monitor.schedule();
      void monitor.refresh();
    }),
  );
  monitor.schedule();
  void monitor.refresh();
  void new Nix({ binDir: readSettings().nixPath || undefined }).version().then(
    () => vscode.commands.executeCommand('setContext', 'nixIpfs.nixMissing', false),
    (error: Error) => {
      log.warn(error.message);
      return vscode.commands.executeCommand('setContext', 'nixIpfs.nixMissing', true);
    },
  );

  // The language server starts in the background: activation must not wait for its handshake.
  const languageClient = startLanguageClient(context, log, services, () => secrets.apiToken());
  languageClient.then(
    (client) =>
      context.subscriptions.push(
        client.onNotification('nixIpfs/pinStateChanged', () => {
          mirrored.refresh();
          published.refresh();
        }),
      ),
    (error: Error) => log.error(`the language server did not start: ${error.message}`),
  );
  log.info(`activated in ${Date.now() - started} ms`);
}

export function deactivate(): void {}
