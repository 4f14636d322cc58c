import type { ServiceContext } from './context';

export interface ReplicateResult {
  rootCid: string;
  blocks: number;
}

/**
 * Makes this node hold a whole published cache or mirror (another machine's root, by CID or
 * IPNS name) and keep it pinned. Letting stock Nix pull it through the gateway instead fetches
 * block after block, one request at a time: an order of magnitude slower, and nothing stays.
 */
export async function replicate(ctx: ServiceContext, target: string, options: { onProgress?: (blocks: number) => void; signal?: AbortSignal } = {}): Promise<ReplicateResult> {
  const path = rootPath(target);
  const rootCid = await ctx.kubo.resolve(path).catch((error: Error) => {
    if (/invalid (cid|path)/i.test(error.message)) throw new Error(`${target} is not a CID, an /ipfs/ or /ipns/ path, nor a gateway URL of one`);
    if (path.startsWith('/ipns/')) {
      throw new Error(`cannot resolve ${path}: no node that publishes it is reachable from yours ('ipfs swarm connect <its address>'), or pass the root CID instead (${error.message})`);
    }
    throw error;
  });
  let blocks = 0;
  for await (const fetched of ctx.kubo.pinFetching(rootCid, options.signal)) {
    blocks = fetched;
    options.onProgress?.(blocks);
  }
  return { rootCid, blocks };
}

/** Accepts a CID, /ipfs/<cid>, /ipns/<name>, a bare IPNS name (k51…), or a gateway URL of one. */
export function rootPath(target: string): string {
  const fromUrl = /^https?:\/\/[^/]+(\/ip[fn]s\/[^/?#]+)/.exec(target)?.[1];
  const path = fromUrl ?? target.replace(/\/+$/, '');
  if (/^\/ip[fn]s\/[^/]+$/.test(path)) return path;
  if (/^k51[a-z0-9]+$/.test(path)) return `/ipns/${path}`;
  return `/ipfs/${path}`;
}
