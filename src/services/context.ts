import type { Kubo } from '../kubo/client';
import type { Nix } from '../nix/cli';
import { Layout } from './layout';

/** What every service needs: the node, Nix, where things live in MFS, and how hard to push. */
export interface ServiceContext {
  kubo: Kubo;
  nix: Nix;
  layout: Layout;
  /** IPNS key the MFS root is published under. */
  keyName: string;
  /** Kubo chunker for NARs and sources, e.g. `rabin` or `size-262144`; undefined = Kubo's default. */
  chunker?: string;
  concurrency: number;
  log?: (message: string) => void;
}

export const DEFAULTS = {
  root: '/nix-ipfs',
  keyName: 'nix-ipfs',
  chunker: 'buzhash',
  concurrency: 4,
} as const;

/** Flushes MFS and points the IPNS key at the root; returns both names. */
export async function publishRoot(ctx: ServiceContext): Promise<{ rootCid: string; ipnsName: string }> {
  const stat = await ctx.kubo.mfsStat(ctx.layout.root);
  if (!stat) throw new Error(`nothing is published yet: ${ctx.layout.root} does not exist in the node's MFS`);
  await ctx.kubo.ensureKey(ctx.keyName);
  const ipnsName = await ctx.kubo.publishName(stat.cid, ctx.keyName);
  return { rootCid: stat.cid, ipnsName };
}

export { Layout };
