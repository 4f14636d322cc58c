import { safeUrl } from '../core/redact';
import { KuboAuthError, KuboRefusedError } from '../kubo/client';
import type { ServiceContext } from './context';

/** What the node looks like: for the status bar and the Node view. */
export type KuboStatus =
  | {
      kind: 'connected';
      api: string;
      version: string;
      peerId: string;
      peers: number;
      repoSize: number;
      storageMax: number;
      ipnsName: string;
      gateway?: string;
      /** Why the gateway did not answer just now; absent when it did. */
      gatewayError?: string;
    }
  | { kind: 'unreachable'; api: string; error: string }
  | { kind: 'unauthorized'; api: string; error: string }
  /** A plain-HTTP API on another machine, not contacted until the user confirms it. */
  | { kind: 'unconfirmed'; api: string; error: string };

export type NixStatus = { found: true; version: string } | { found: false; error: string };

/** The empty identity CID: every gateway serves it without touching the network or the repository. */
const PROBE_CID = 'bafkqaaa';

/** Asks the node about itself; a failure is a state, never an error. `gatewayUrl` overrides the node's own. */
export async function kuboStatus(ctx: ServiceContext, gatewayUrl: string): Promise<KuboStatus> {
  const api = ctx.kubo.address;
  try {
    const [version, id, peers, repo, ipnsName] = await Promise.all([
      ctx.kubo.version(),
      ctx.kubo.id(),
      ctx.kubo.peerCount(),
      ctx.kubo.repoStat(),
      ctx.kubo.ensureKey(ctx.keyName),
    ]);
    const gateway = gatewayUrl || (await ctx.kubo.gatewayUrl().catch(() => undefined));
    const gatewayError = gateway ? await gatewayProblem(gateway, ctx.kubo.timeoutMs) : undefined;
    return {
      kind: 'connected',
      api,
      version,
      peerId: id.peerId,
      peers,
      repoSize: Number(repo.repoSize),
      storageMax: Number(repo.storageMax),
      ipnsName,
      gateway,
      gatewayError,
    };
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof KuboRefusedError) return { kind: 'unconfirmed', api, error: message };
    return error instanceof KuboAuthError ? { kind: 'unauthorized', api, error: message } : { kind: 'unreachable', api, error: message };
  }
}

/** Whether the gateway serves content now: undefined when it does, else why not (it may have moved, or be down). */
async function gatewayProblem(gateway: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const url = new URL(`${gateway.replace(/\/+$/, '')}/ipfs/${PROBE_CID}`);
    // fetch refuses a URL with credentials: they travel as basic auth instead.
    const headers: Record<string, string> = url.username
      ? { authorization: `Basic ${btoa(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`)}` }
      : {};
    url.username = url.password = '';
    const response = await fetch(url, { method: 'HEAD', headers, signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? undefined : `the gateway ${safeUrl(gateway)} answered HTTP ${response.status}`;
  } catch (error) {
    const cause = (error as Error).name === 'TimeoutError' ? `did not answer within ${timeoutMs} ms` : 'is not reachable';
    return `the gateway ${safeUrl(gateway)} ${cause}`;
  }
}

export async function nixStatus(ctx: ServiceContext): Promise<NixStatus> {
  try {
    return { found: true, version: await ctx.nix.version() };
  } catch (error) {
    return { found: false, error: (error as Error).message };
  }
}
