import { KuboAuthError, KuboRefusedError } from '../kubo/client';
import type { ServiceContext } from './context';

/** What the node looks like: for the status bar and the Node view. */
export type KuboStatus =
  | { kind: 'connected'; api: string; version: string; peerId: string; peers: number; repoSize: number; storageMax: number; ipnsName: string; gateway?: string }
  | { kind: 'unreachable'; api: string; error: string }
  | { kind: 'unauthorized'; api: string; error: string }
  /** A plain-HTTP API on another machine, not contacted until the user confirms it. */
  | { kind: 'unconfirmed'; api: string; error: string };

export type NixStatus = { found: true; version: string } | { found: false; error: string };

/** Asks the node about itself; a failure is a state, never an error. `gatewayUrl` overrides the node's own. */
export async function kuboStatus(ctx: ServiceContext, gatewayUrl: string): Promise<KuboStatus> {
  const api = ctx.kubo.address;
  try {
    const [version, id, peers, repo, ipnsName] = await Promise.all([ctx.kubo.version(), ctx.kubo.id(), ctx.kubo.peerCount(), ctx.kubo.repoStat(), ctx.kubo.ensureKey(ctx.keyName)]);
    const gateway = gatewayUrl || (await ctx.kubo.gatewayUrl().catch(() => undefined));
    return { kind: 'connected', api, version, peerId: id.peerId, peers, repoSize: Number(repo.repoSize), storageMax: Number(repo.storageMax), ipnsName, gateway };
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof KuboRefusedError) return { kind: 'unconfirmed', api, error: message };
    return error instanceof KuboAuthError ? { kind: 'unauthorized', api, error: message } : { kind: 'unreachable', api, error: message };
  }
}

export async function nixStatus(ctx: ServiceContext): Promise<NixStatus> {
  try {
    return { found: true, version: await ctx.nix.version() };
  } catch (error) {
    return { found: false, error: (error as Error).message };
  }
}
