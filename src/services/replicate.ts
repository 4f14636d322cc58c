import { parseNixCacheInfo } from '../core/nix-cache-info';
import { KuboTimeoutError } from '../kubo/client';
import type { ServiceContext } from './context';
import { boundedRead } from './streams';

export interface ReplicateResult {
  rootCid: string;
  blocks: number;
}

export interface ReplicateOptions {
  onProgress?: (blocks: number) => void;
  signal?: AbortSignal;
  /** The longest the whole replication may take (default a day); no new block within the context's timeout ends it sooner. */
  totalMs?: number;
}

/** A replication still gaining blocks after a day is better run again: Kubo keeps the blocks it has. */
export const DEFAULT_REPLICATE_TOTAL_MS = 24 * 3600_000;
/** nix-cache-info is three short lines. */
const MAX_CACHE_INFO_BYTES = 64 * 1024;

/** A replication ended by one of its limits; the message says which and what to do. */
export class ReplicateLimitError extends Error {
  override name = 'ReplicateLimitError';
}

/**
 * Makes this node hold a whole published cache or mirror (another machine's root, by CID or
 * IPNS name) and keep it pinned. Letting stock Nix pull it through the gateway instead fetches
 * block after block, one request at a time: an order of magnitude slower, and nothing stays.
 * Only what is a Nix binary cache or a nix-ipfs root is pinned.
 */
export async function replicate(ctx: ServiceContext, target: string, options: ReplicateOptions = {}): Promise<ReplicateResult> {
  const path = rootPath(target);
  const rootCid = await ctx.kubo.resolve(path).catch((error: Error) => {
    if (/invalid (cid|path)/i.test(error.message)) throw new Error(`${target} is not a CID, an /ipfs/ or /ipns/ path, nor a gateway URL of one`);
    if (path.startsWith('/ipns/')) {
      throw new Error(
        `cannot resolve ${path}: no node that publishes it is reachable from yours ('ipfs swarm connect <its address>'), or pass the root CID instead (${error.message})`,
      );
    }
    throw error;
  });
  await checkIsPublished(ctx, target, rootCid).catch((error: Error) => {
    if (!(error instanceof KuboTimeoutError)) throw error;
    throw new ReplicateLimitError(
      `no node reachable from yours sent the first blocks of ${rootCid} within ${ctx.kubo.timeoutMs} ms: connect one that has it ('ipfs swarm connect <its address>') or raise --timeout. Nothing was pinned`,
    );
  });
  const blocks = await pinWithLimits(ctx, rootCid, options);
  return { rootCid, blocks };
}

/** A Nix binary cache (nix-cache-info at its top, or in cache/ as nix-ipfs publishes it) or a nix-ipfs mirror (mirror/). */
async function checkIsPublished(ctx: ServiceContext, target: string, rootCid: string): Promise<void> {
  const named = target === rootCid ? rootCid : `${target} (${rootCid})`;
  const nothing = 'Nothing was pinned: check the CID or name (a cache URL such as <gateway>/ipns/<name>/cache works too)';
  if ((await ctx.kubo.mfsStat(`/ipfs/${rootCid}`))?.type !== 'directory')
    throw new Error(`${named} is a single file, not a Nix binary cache nor a nix-ipfs root. ${nothing}`);
  for (const infoPath of [`/ipfs/${rootCid}/cache/nix-cache-info`, `/ipfs/${rootCid}/nix-cache-info`]) {
    if (!(await ctx.kubo.mfsStat(infoPath))) continue;
    const bounds = {
      what: infoPath,
      maxBytes: MAX_CACHE_INFO_BYTES,
      limitName: 'the 64 KiB a nix-cache-info may hold',
      idleMs: ctx.kubo.timeoutMs,
      totalMs: 2 * ctx.kubo.timeoutMs,
    };
    const chunks: Uint8Array[] = [];
    for await (const chunk of boundedRead((signal) => ctx.kubo.cat(infoPath, signal), bounds)) chunks.push(chunk);
    try {
      parseNixCacheInfo(Buffer.concat(chunks).toString('utf8'));
      return;
    } catch (error) {
      throw new Error(`${named} is not a Nix binary cache: ${infoPath} is not a nix-cache-info (${(error as Error).message}). ${nothing}`, { cause: error });
    }
  }
  if ((await ctx.kubo.mfsStat(`/ipfs/${rootCid}/mirror`))?.type === 'directory') return;
  throw new Error(
    `${named} is neither a Nix binary cache nor a nix-ipfs root: it has no nix-cache-info (at its top or in cache/) and no mirror/ folder. ${nothing}`,
  );
}

/**
 * Pins the root, fetching what is missing from peers. Kubo reports progress twice a second even
 * when nothing arrives, so a stall is measured by the block count: no new block within the
 * timeout ends it, and so does the total limit.
 */
async function pinWithLimits(ctx: ServiceContext, rootCid: string, options: ReplicateOptions): Promise<number> {
  const limit = new AbortController();
  const totalMs = options.totalMs ?? DEFAULT_REPLICATE_TOTAL_MS;
  let blocks = 0;
  const rerun = 'run again to go on (Kubo keeps the blocks it has)';
  const stall = setTimeout(() => {
    const missing = blocks === 0 ? 'it' : 'the rest of it';
    limit.abort(
      new ReplicateLimitError(
        `no new block of ${rootCid} arrived for ${ctx.kubo.timeoutMs} ms after ${blocks} blocks: no peer reachable from your node seems to have ${missing}; connect one that does ('ipfs swarm connect <its address>') or raise --timeout, then ${rerun}`,
      ),
    );
  }, ctx.kubo.timeoutMs);
  const total = setTimeout(
    () =>
      limit.abort(
        new ReplicateLimitError(`replicating ${rootCid} took longer than ${totalMs} ms in all (${blocks} blocks so far): ${rerun}, or raise --max-time`),
      ),
    totalMs,
  );
  try {
    for await (const fetched of ctx.kubo.pinFetching(rootCid, AbortSignal.any([limit.signal, ...(options.signal ? [options.signal] : [])]))) {
      if (fetched <= blocks) continue;
      blocks = fetched;
      stall.refresh();
      options.onProgress?.(blocks);
    }
    return blocks;
  } catch (error) {
    throw limit.signal.aborted ? limit.signal.reason : error;
  } finally {
    clearTimeout(stall);
    clearTimeout(total);
  }
}

/** Accepts a CID, /ipfs/<cid>, /ipns/<name>, a bare IPNS name (k51…), or a gateway URL of one. */
export function rootPath(target: string): string {
  const fromUrl = /^https?:\/\/[^/]+(\/ip[fn]s\/[^/?#]+)/.exec(target)?.[1];
  const path = fromUrl ?? target.replace(/\/+$/, '');
  if (/^\/ip[fn]s\/[^/]+$/.test(path)) return path;
  if (/^k51[a-z0-9]+$/.test(path)) return `/ipns/${path}`;
  return `/ipfs/${path}`;
}
