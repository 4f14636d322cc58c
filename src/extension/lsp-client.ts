import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  TransportKind,
  WorkDoneProgress,
  type LanguageClientOptions,
  type NotificationType,
  type RequestType0,
} from 'vscode-languageclient/node';
import {
  executeCommandParams,
  InsecureApiAcceptedNotification,
  NixIpfsError,
  RefreshNotification,
  ScanWorkspaceRequest,
  SecretsChangedNotification,
  serverCommandName,
  TrustGrantedNotification,
  type CommandArgs,
  type CommandResult,
  type ScanRecord,
  type ServerCommandName,
} from '../protocol';
import { Declined, serverErrorCode, type Actions } from './actions';
import { rawSettings, type Consent, type Secrets } from './settings';

/**
 * The extension's side of the language server, which does all the work with Kubo and Nix. Commands
 * go through `execute`: progress in a notification with Cancel, and the plain-HTTP consent asked
 * here and retried when the server refuses an API the user has not confirmed yet.
 */
export class ServerClient {
  constructor(
    private readonly client: Promise<LanguageClient>,
    private readonly consent: Consent,
  ) {}

  /** Runs a server command; `title` shows its progress (the server's messages, a percentage) in a notification with Cancel. */
  async execute<C extends ServerCommandName>(name: C, args: CommandArgs<C>, title?: string): Promise<CommandResult<C>> {
    try {
      return await this.send(name, args, title);
    } catch (error) {
      if (serverErrorCode(error) !== NixIpfsError.InsecureApiUnconfirmed) throw error;
      await this.confirmApi(((error as ResponseError<{ api: string }>).data as { api: string }).api);
      return this.send(name, args, title);
    }
  }

  /** Asks the user about a plain-HTTP API on another machine; the server is told when they agree. */
  async confirmApi(api: string): Promise<void> {
    if (!(await this.consent.ask(api))) throw new Declined(`not using the plain-HTTP Kubo API ${api}`);
    await (await this.client).sendNotification(InsecureApiAcceptedNotification, { api });
  }

  async request<R>(type: RequestType0<R, void>): Promise<R> {
    return (await this.client).sendRequest(type);
  }

  /** Every fetcher in the workspace's .nix files. */
  async scanWorkspace(): Promise<ScanRecord[]> {
    return (await this.client).sendRequest(ScanWorkspaceRequest, {});
  }

  /** Hands the server a secret the user just set ('' removes it). */
  async secretsChanged(secrets: { kuboApiToken?: string; signingKey?: string }): Promise<void> {
    await (await this.client).sendNotification(SecretsChangedNotification, secrets);
  }

  /** Tells the server to look at the node afresh (Refresh): pin states, lenses, hovers. */
  async refresh(): Promise<void> {
    await (await this.client).sendNotification(RefreshNotification);
  }

  async onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Promise<vscode.Disposable> {
    return (await this.client).onNotification(type, handler);
  }

  private async send<C extends ServerCommandName>(name: C, args: CommandArgs<C>, title?: string): Promise<CommandResult<C>> {
    const client = await this.client;
    if (!title) return client.sendRequest(ExecuteCommandRequest.type, executeCommandParams(name, args));
    const options = { location: vscode.ProgressLocation.Notification, title: `Nix IPFS: ${title}`, cancellable: true };
    return vscode.window.withProgress(options, async (progress, cancel) => {
      const token = randomUUID();
      let reported = 0;
      const listening = client.onProgress(WorkDoneProgress.type, token, (value) => {
        if (value.kind === 'end') return;
        const increment = value.percentage === undefined ? undefined : Math.max(0, value.percentage - reported);
        reported += increment ?? 0;
        progress.report({ message: value.message, increment });
      });
      try {
        return await client.sendRequest(ExecuteCommandRequest.type, executeCommandParams(name, args, token), cancel);
      } finally {
        listening.dispose();
      }
    });
  }
}

/**
 * Starts nix-ipfs' language server (dist/server.js) for Nix files, handing it the settings, the
 * secrets and the workspace's trust. Its own commands (lenses, code actions) run through
 * `runServerCommand`, which makes them actions like any other: logged, with progress, errors in
 * words. Its messages are logged in the same channel.
 */
export async function startLanguageClient(
  context: vscode.ExtensionContext,
  actions: Actions,
  secrets: Secrets,
  consent: Consent,
  runServerCommand: (name: ServerCommandName, args: unknown) => Promise<unknown>,
): Promise<LanguageClient> {
  const module = context.asAbsolutePath('dist/server.js');
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'nix' },
      { scheme: 'untitled', language: 'nix' },
      // Its locked inputs: hovers and lenses on their narHash.
      { scheme: 'file', pattern: '**/flake.lock' },
    ],
    outputChannel: actions.log,
    initializationOptions: {
      ...rawSettings(),
      kuboApiToken: await secrets.apiToken(),
      signingKey: await secrets.signingKey(),
      trusted: vscode.workspace.isTrusted,
      insecureApisAccepted: consent.accepted(),
    },
    synchronize: { configurationSection: 'nixIpfs' },
    middleware: {
      executeCommand: (command, args, next) => {
        const name = serverCommandName(command);
        return name ? runServerCommand(name, args[0]) : next(command, args);
      },
    },
  };
  const serverOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const client = new LanguageClient('nixIpfs', 'Nix IPFS language server', serverOptions, clientOptions);
  // Replaces the client's own handler: every message is logged too, and a failure offers the log.
  client.onNotification(ShowMessageNotification.type, ({ type, message }) => {
    actions.showServerMessage(type === MessageType.Error ? 'error' : type === MessageType.Warning ? 'warning' : 'info', message);
  });
  await client.start();
  context.subscriptions.push(
    client,
    vscode.workspace.onDidGrantWorkspaceTrust(() => void client.sendNotification(TrustGrantedNotification)),
  );
  return client;
}
