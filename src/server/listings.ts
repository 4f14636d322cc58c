import { verifySignatures } from '../core/signature';
import type { FollowingReport, MirroredSourceRow, NodeStatus, PublishedPathRow } from '../protocol';
import { listPublished } from '../services/cache-index';
import { followingReport } from '../services/follow';
import { kuboStatus, nixStatus } from '../services/node-status';
import { mirroredSources } from '../services/sources';
import { stateDir } from '../services/state-files';
import type { ServerSession } from './session';

/** The node and Nix as they are now; never fails (a broken setting is an unreachable node). */
export async function nodeStatus(session: ServerSession): Promise<NodeStatus> {
  const signingKey = await session.signingKeyStatus();
  let ctx;
  try {
    ctx = session.services();
  } catch (error) {
    const message = (error as Error).message;
    return { kubo: { kind: 'unreachable', api: session.settings.kuboApi, error: message }, nix: { found: false, error: message }, signingKey };
  }
  const [kubo, nix] = await Promise.all([kuboStatus(ctx, session.settings.gatewayUrl), nixStatus(ctx)]);
  session.observeNode(kubo.kind);
  return { kubo, nix, signingKey };
}

/** Every published path, with each signature checked against the keys this user trusts. */
export async function publishedPaths(session: ServerSession): Promise<PublishedPathRow[]> {
  session.requireConfirmedApi();
  const ctx = session.services();
  const [entries, trusted] = await Promise.all([listPublished(ctx.kubo, ctx.layout), session.trustedKeys()]);
  return entries.map((entry) => ({ entry, verdicts: verifySignatures(entry, trusted) }));
}

export function mirroredSourceRows(session: ServerSession): Promise<MirroredSourceRow[]> {
  session.requireConfirmedApi();
  return mirroredSources(session.services());
}

/**
 * The followed caches and the publish queue, as `nix-ipfs following --json` prints them; never fails for the node:
 * an unconfirmed or broken API only leaves the bytes held unknown (the rest is in the state folder).
 */
export function followedCaches(session: ServerSession, dir = stateDir(undefined)): Promise<FollowingReport> {
  let kubo;
  try {
    session.requireConfirmedApi();
    kubo = session.services().kubo;
  } catch {
    kubo = undefined;
  }
  return followingReport(kubo, dir);
}
