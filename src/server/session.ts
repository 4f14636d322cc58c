import { ResponseError } from 'vscode-languageserver';
import { safeUrl } from '../core/redact';
import type { PublicKey, SecretKey } from '../core/signature';
import { isInsecureRemoteApi } from '../kubo/endpoint';
import { NixIpfsError } from '../protocol';
import { createServiceContext, Layout, type ServiceContext } from '../services/context';
import { loadSigningKey, signingKeyStatus, trustedKeys, type SigningKeyStatus } from '../services/keys';
import type { UpstreamCheck } from '../services/source-health';
import {
  DEFAULT_SESSION,
  DEFAULT_SETTINGS,
  normalizeSession,
  normalizeSettings,
  ipnsKeyNameProblem,
  SettingsError,
  type SessionOptions,
  type Settings,
} from '../settings';

/**
 * What the server knows about the user's node and wishes: the settings, the secrets the editor
 * handed over, the workspace's trust, the plain-HTTP APIs the user agreed to. It builds the one
 * service context (one Kubo client) and holds the one consent check.
 */
export class ServerSession {
  private current: Settings = DEFAULT_SETTINGS;
  private options: SessionOptions = DEFAULT_SESSION;
  private context: ServiceContext | undefined;
  /** Commands under way, by command and argument: the same one asked again joins it (server/commands.ts). */
  readonly running = new Map<string, Promise<unknown>>();
  /** What the upstream URLs answered at the last Check, by SRI: the Sources listings in between show it. */
  readonly upstreamAnswers = new Map<string, UpstreamCheck>();
  /** The node's state at the last status request, to notice it going away or coming back. */
  private nodeKind: string | undefined;

  /**
   * `onChange` runs whenever the settings change or the node went away or came back (the pin
   * states are stale then);
   * `build` makes the service context (unit tests hand in an in-memory node).
   */
  constructor(
    private readonly onChange: (reason: 'settings' | 'node') => void,
    private readonly log: (message: string) => void,
    private readonly build = createServiceContext,
  ) {}

  get settings(): Settings {
    return this.current;
  }

  get hoverTimeoutMs(): number {
    return this.options.hoverTimeoutMs;
  }

  /** Applies settings and session options an editor sent; throws a SettingsError (and changes nothing) on a wrong type. */
  configure(settings: unknown, options?: unknown): void {
    const nextSettings = normalizeSettings(settings, this.current);
    checkMfsRoot(nextSettings.mfsRoot);
    const keyNameProblem = ipnsKeyNameProblem(nextSettings.ipnsKeyName);
    if (keyNameProblem) throw new SettingsError(`ipnsKeyName: ${keyNameProblem}`);
    const nextOptions = options === undefined ? this.options : normalizeSession(options, this.options);
    this.current = nextSettings;
    this.options = nextOptions;
    this.changed();
  }

  setSecrets(secrets: { kuboApiToken?: string; signingKey?: string }): void {
    this.configure(undefined, secrets);
  }

  acceptInsecureApi(api: string): void {
    this.configure(undefined, { insecureApisAccepted: [...this.options.insecureApisAccepted, api] });
  }

  grantTrust(): void {
    this.configure(undefined, { trusted: true });
  }

  /**
   * Told the node's state at each status request: when it went away or came back, every pin state
   * known is stale, and `onChange` lets lenses and hovers follow at once.
   */
  observeNode(kind: string): void {
    const before = this.nodeKind;
    this.nodeKind = kind;
    if (before !== undefined && before !== kind) this.onChange('node');
  }

  /** The user asked to look again (Refresh): nothing known about the node is kept. */
  forgetNodeState(): void {
    this.onChange('node');
  }

  /** The service context of the current settings; the same one (and Kubo client) until they change. */
  services(): ServiceContext {
    this.context ??= this.build(this.current, { token: this.options.kuboApiToken, refuseBecause: this.unconfirmedApi(), log: this.log });
    return this.context;
  }

  /** Before any work on the node: a plain-HTTP API on another machine needs the user's consent first. */
  requireConfirmedApi(): void {
    const reason = this.unconfirmedApi();
    if (reason) throw new ResponseError(NixIpfsError.InsecureApiUnconfirmed, reason, { api: this.current.kuboApi });
  }

  /** Downloads, builds and Nix evaluation run only in a trusted workspace. */
  requireTrust(what: string): void {
    if (!this.options.trusted)
      throw new ResponseError(NixIpfsError.UntrustedWorkspace, `${what} is disabled in an untrusted workspace: trust the folder first`);
  }

  signingKey(): Promise<SecretKey | undefined> {
    return loadSigningKey(this.options.signingKey, this.current.signingKeyFile);
  }

  /** Which key signs, and where it comes from (services/keys.ts decides). */
  signingKeyStatus(): Promise<SigningKeyStatus> {
    return signingKeyStatus(this.options.signingKey, this.current.signingKeyFile);
  }

  async trustedKeys(): Promise<PublicKey[]> {
    const own = await this.signingKey().catch(() => undefined);
    return trustedKeys(this.services(), this.current.trustedPublicKeys, own);
  }

  private unconfirmedApi(): string | undefined {
    const api = this.current.kuboApi;
    if (!insecure(api) || this.options.insecureApisAccepted.includes(api)) return undefined;
    return `the Kubo API ${safeUrl(api)} is plain HTTP on another machine and is not used until you confirm it (VS Code asks on the first Nix IPFS command; other editors: list it in insecureApisAccepted)`;
  }

  private changed(): void {
    this.context = undefined;
    this.onChange('settings');
  }
}

/** An address that does not parse is not insecure: the Kubo client reports it when used. */
function insecure(api: string): boolean {
  try {
    return isInsecureRemoteApi(api);
  } catch {
    return false;
  }
}

/** A root every later request would refuse is refused now, and the settings before it stay in force. */
function checkMfsRoot(root: string): void {
  try {
    new Layout(root);
  } catch (error) {
    throw new SettingsError(`mfsRoot: ${(error as Error).message}`);
  }
}
