import * as vscode from 'vscode';
import { parseSecretKey, type SecretKey } from '../core/signature';
import { Kubo } from '../kubo/client';
import { isInsecureRemoteApi } from '../kubo/endpoint';
import { Nix } from '../nix/cli';
import { Layout, type ServiceContext } from '../services/context';
import { readFile } from 'node:fs/promises';

const TOKEN_SECRET = 'nixIpfs.kuboApiToken';
const SIGNING_KEY_SECRET = 'nixIpfs.signingKey';

/** The `nixIpfs.*` settings, read fresh each time (they can change at any moment). */
export function readSettings() {
  const c = vscode.workspace.getConfiguration('nixIpfs');
  return {
    kuboApi: c.get<string>('kuboApi', '/ip4/127.0.0.1/tcp/5001'),
    gatewayUrl: c.get<string>('gatewayUrl', ''),
    mfsRoot: c.get<string>('mfsRoot', '/nix-ipfs'),
    ipnsKeyName: c.get<string>('ipnsKeyName', 'nix-ipfs'),
    chunker: c.get<string>('chunker', 'buzhash'),
    trustedPublicKeys: c.get<string[]>('trustedPublicKeys', []),
    signingKeyFile: c.get<string>('signingKeyFile', ''),
    nixPath: c.get<string>('nixPath', ''),
    refreshIntervalSeconds: c.get<number>('refreshIntervalSeconds', 30),
    requestTimeoutMs: c.get<number>('requestTimeoutMs', 5000),
    concurrency: c.get<number>('concurrency', 4),
    notMirroredDiagnostics: c.get<boolean>('diagnostics.notMirrored', false),
  };
}

export type Settings = ReturnType<typeof readSettings>;

/** Secrets (API token, imported signing key) live in SecretStorage only, never in settings or logs. */
export class Secrets {
  constructor(private readonly storage: vscode.SecretStorage) {}

  apiToken(): Thenable<string | undefined> {
    return this.storage.get(TOKEN_SECRET);
  }

  async setApiToken(token: string | undefined): Promise<void> {
    if (token) await this.storage.store(TOKEN_SECRET, token);
    else await this.storage.delete(TOKEN_SECRET);
  }

  async setSigningKey(secretKeyText: string): Promise<void> {
    await this.storage.store(SIGNING_KEY_SECRET, secretKeyText);
  }

  /** The signing key: the one in the secret store, else the `signingKeyFile` setting. */
  async signingKey(settings: Settings): Promise<SecretKey | undefined> {
    const stored = await this.storage.get(SIGNING_KEY_SECRET);
    const text = stored ?? (settings.signingKeyFile ? (await readFile(settings.signingKeyFile, 'utf8')).trim() : undefined);
    return text ? parseSecretKey(text) : undefined;
  }
}

const ACCEPTED_INSECURE_APIS = 'nixIpfs.insecureApisAccepted';

export class Services {
  constructor(
    private readonly secrets: Secrets,
    private readonly memento: vscode.Memento,
  ) {}

  /** A service context for the current settings; asks once before using a plain-HTTP API off this machine. */
  async context(options: { interactive?: boolean } = {}): Promise<ServiceContext> {
    const settings = readSettings();
    if (isInsecureRemoteApi(settings.kuboApi)) await this.confirmInsecureApi(settings.kuboApi, options.interactive ?? true);
    return {
      kubo: new Kubo({ api: settings.kuboApi, token: await this.secrets.apiToken(), timeoutMs: settings.requestTimeoutMs }),
      nix: new Nix({ binDir: settings.nixPath || undefined }),
      layout: new Layout(settings.mfsRoot),
      keyName: settings.ipnsKeyName,
      chunker: settings.chunker || undefined,
      concurrency: settings.concurrency,
    };
  }

  private readonly accepted = new vscode.EventEmitter<string>();
  /** Fires when the user agrees to use a plain-HTTP API on another machine (the language server is told). */
  readonly onDidAcceptInsecureApi = this.accepted.event;

  /** The plain-HTTP APIs on other machines the user agreed to use. */
  acceptedInsecureApis(): string[] {
    return this.memento.get<string[]>(ACCEPTED_INSECURE_APIS) ?? [];
  }

  private async confirmInsecureApi(api: string, interactive: boolean): Promise<void> {
    if (this.acceptedInsecureApis().includes(api)) return;
    if (!interactive) throw new Error(`the Kubo API ${api} is plain HTTP on another machine: confirm it once from a Nix IPFS command`);
    const choice = await vscode.window.showWarningMessage(
      `The Kubo API ${api} is reached over plain HTTP on another machine: anyone on the network path can read the API token and change what gets published. Use it anyway?`,
      { modal: true },
      'Use It',
    );
    if (choice !== 'Use It') throw new Error(`not using the plain-HTTP Kubo API ${api}`);
    await this.memento.update(ACCEPTED_INSECURE_APIS, [...this.acceptedInsecureApis(), api]);
    this.accepted.fire(api);
  }
}
