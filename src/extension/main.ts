import * as vscode from 'vscode';
import { ClientView, ContentChangedNotification } from '../protocol';
import { Actions } from './actions';
import { registerCommands, runServerCommand, type Ctx } from './commands';
import { ServerClient, startLanguageClient } from './lsp-client';
import { NixConfDocument } from './nix-conf-document';
import { createStatusBar, NodeMonitor, type NodeState } from './node-monitor';
import { Consent, Secrets } from './settings';
import { SourcesView } from './sources-view';
import { FollowedCachesView, MirroredSourcesView, NodeView, PublishedPathsView } from './views';
import { queueText } from './follow-labels';
import { openWalkthroughOnce } from './walkthrough';

/**
 * The extension is the face of the language server, which does every piece of work with Kubo and
 * Nix: here are the views, pickers, prompts, secrets, status bar and notifications.
 */
export function activate(context: vscode.ExtensionContext): void {
  const started = Date.now();
  const log = vscode.window.createOutputChannel('Nix IPFS', { log: true });
  const actions = new Actions(log);
  const secrets = new Secrets(context.secrets);
  const consent = new Consent(context.globalState);
  // The language server starts in the background: activation must not wait for its handshake.
  const client = startLanguageClient(context, actions, secrets, consent, (name, args) => runServerCommand({ server, actions }, name, args));
  const server = new ServerClient(client, consent);
  const monitor = new NodeMonitor(server, log);
  const published = new PublishedPathsView(server, monitor);
  const mirrored = new MirroredSourcesView(server, monitor);
  const followed = new FollowedCachesView(server);
  const followedTree = vscode.window.createTreeView(ClientView.followed, { treeDataProvider: followed });
  followed.onQueue = (pending) => (followedTree.description = pending ? queueText(pending) : '');
  const sources = new SourcesView(server);
  const sourcesTree = vscode.window.createTreeView(ClientView.sources, { treeDataProvider: sources });
  sources.onReport = (description) => (sourcesTree.description = description);
  const nixConf = new NixConfDocument();
  const nodeTree = vscode.window.createTreeView(ClientView.node, { treeDataProvider: new NodeView(monitor) });
  context.subscriptions.push(
    log,
    monitor,
    nixConf,
    nodeTree,
    followedTree,
    sourcesTree,
    createStatusBar(monitor),
    vscode.window.registerTreeDataProvider(ClientView.published, published),
    vscode.window.registerTreeDataProvider(ClientView.mirrored, mirrored),
    vscode.workspace.registerTextDocumentContentProvider(NixConfDocument.scheme, nixConf),
    monitor.onDidChange((state) => (nodeTree.description = nodeDescription(state))),
  );
  const ctx: Ctx = { context, server, secrets, monitor, published, mirrored, followed, sources, nixConf, actions };
  registerCommands(ctx);
  followTheNode(ctx);
  client.catch((error: Error) => log.error(`the language server did not start: ${error.message}`));
  openWalkthroughOnce(context);
  log.info(`activated in ${Date.now() - started} ms`);
}

/** The Node view's header when the node does not answer: which address, so the welcome text need not guess. */
function nodeDescription(state: NodeState): string {
  return state.kind === 'connected' || state.kind === 'connecting'
    ? ''
    : `${state.api} · ${state.kind === 'unreachable' ? 'not reachable' : state.kind === 'unauthorized' ? 'needs a token' : 'not confirmed'}`;
}

/** The views follow the node: refilled when its state changes kind, or when the server changed what it holds. */
function followTheNode({ context, server, monitor, published, mirrored, followed, sources }: Ctx): void {
  let lastKind = monitor.state.kind;
  context.subscriptions.push(
    monitor.onDidChange((state) => {
      // Lag grows and followers fetch on their own: the followed caches are read again at every look at the node.
      followed.refresh();
      if (state.kind === lastKind) return;
      lastKind = state.kind;
      published.refresh();
      mirrored.refresh();
      sources.refresh();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('nixIpfs')) return;
      monitor.schedule();
      void monitor.refresh();
      published.refresh();
    }),
  );
  void server
    .onNotification(ContentChangedNotification, ({ mirror, cache }) => {
      if (mirror) {
        mirrored.refresh();
        sources.refresh();
      }
      if (cache) published.refresh();
    })
    .then(
      (subscription) => context.subscriptions.push(subscription),
      () => undefined,
    );
  monitor.schedule();
  void monitor.refresh();
}

export function deactivate(): void {}
