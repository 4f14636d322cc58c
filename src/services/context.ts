import { Kubo } from '../kubo/client';
import { Nix } from '../nix/cli';
import { DEFAULT_SETTINGS, type Settings } from '../settings';
import { Layout } from './layout';

/**
 * The Kubo calls services make. kubo/client.ts's Kubo makes them against a real node (the
 * integration suites); unit tests hand services an in-memory node instead.
 */
export type KuboApi = Pick<
  Kubo,
  | 'address'
  | 'timeoutMs'
  | 'version'
  | 'id'
  | 'peerCount'
  | 'repoStat'
  | 'gatewayUrl'
  | 'add'
  | 'addByReference'
  | 'pin'
  | 'pinFetching'
  | 'unpin'
  | 'isPinned'
  | 'cat'
  | 'mfsStat'
  | 'mfsRead'
  | 'mfsWrite'
  | 'mfsLink'
  | 'mfsMkdir'
  | 'addToMfsDirectory'
  | 'mfsFlush'
  | 'mfsList'
  | 'mfsRemove'
  | 'ensureKey'
  | 'publishName'
  | 'resolve'
>;

/** What every service needs: the node, Nix, where things live in MFS, and how hard to push. */
export interface ServiceContext {
  kubo: KuboApi;
  nix: Nix;
  layout: Layout;
  /** IPNS key the MFS root is published under. */
  keyName: string;
  /** Kubo chunker for NARs and sources, e.g. `rabin` or `size-262144`; undefined = Kubo's default. */
  chunker?: string;
  concurrency: number;
  log?: (message: string) => void;
}

/** The CLI's defaults: the settings' own. */
export const DEFAULTS = {
  root: DEFAULT_SETTINGS.mfsRoot,
  keyName: DEFAULT_SETTINGS.ipnsKeyName,
  chunker: DEFAULT_SETTINGS.chunker,
  concurrency: DEFAULT_SETTINGS.concurrency,
} as const;

/** How to reach the node beyond the settings: the token, and why not to (an unconfirmed plain-HTTP API). */
export interface NodeAccess {
  token?: string;
  refuseBecause?: string;
  log?: (message: string) => void;
}

/** The one place a service context is built from settings. */
export function createServiceContext(settings: Settings, access: NodeAccess = {}): ServiceContext {
  return {
    kubo: new Kubo({ api: settings.kuboApi, token: access.token || undefined, timeoutMs: settings.requestTimeoutMs, refuseBecause: access.refuseBecause }),
    nix: new Nix({ binDir: settings.nixPath || undefined }),
    layout: new Layout(settings.mfsRoot),
    keyName: settings.ipnsKeyName,
    chunker: settings.chunker || undefined,
    concurrency: settings.concurrency,
    log: access.log,
  };
}

/** Flushes MFS and points the IPNS key at the root; returns both names. */
export async function publishRoot(ctx: ServiceContext): Promise<{ rootCid: string; ipnsName: string }> {
  const stat = await ctx.kubo.mfsStat(ctx.layout.root);
  if (!stat) throw new Error(`nothing is published yet: ${ctx.layout.root} does not exist in the node's MFS`);
  await ctx.kubo.ensureKey(ctx.keyName);
  const ipnsName = await ctx.kubo.publishName(stat.cid, ctx.keyName);
  return { rootCid: stat.cid, ipnsName };
}

export { Layout };
