import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { KuboAuthError, KuboUnreachableError } from '../kubo/client';
import { pendingEntries, queueDir } from './build-queue';
import type { KuboApi } from './context';
import type { TeamContext } from './network';
import { replicate } from './replicate';
import { withLock, writeFileDurably } from './state-files';

/** One version of a followed cache this node holds (pinned). */
export interface HeldRoot {
  cid: string;
  /** When the name was first seen pointing at it. */
  seenAt: string;
  blocks: number;
  /** Pinned before it was followed (by the user, or another tool): never unpinned by follow. */
  pinnedBefore: boolean;
}

/** A teammate's cache this node keeps a replica of, by IPNS name. */
export interface Followed {
  name: string;
  /** Versions kept (the current one included), and how long a replaced one is kept anyway. */
  keep: number;
  keepDays?: number;
  addedAt: string;
  /** Newest first: `roots[0]` is the replica Nix is served from. */
  roots: HeldRoot[];
  /** The root the name last resolved to: ahead of roots[0] while it could not be pinned yet. */
  latestSeen?: string;
  /** The last time the name was confirmed to point at roots[0]. */
  upToDateAt?: string;
  lastCheckAt?: string;
  lastError?: string;
}

export interface FollowState {
  follows: Followed[];
}

export function followStateFile(stateDir: string): string {
  return path.join(stateDir, 'following.json');
}

export async function readFollowState(file: string): Promise<FollowState> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as FollowState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { follows: [] };
    throw new Error(`${file} is not nix-ipfs's list of followed caches (${(error as Error).message}): move it away to start afresh`, { cause: error });
  }
}

/** Changes the state under a lock (a running follower and the user's commands share the file). */
async function updateState<T>(file: string, change: (state: FollowState) => T): Promise<T> {
  await mkdir(path.dirname(file), { recursive: true });
  return withLock(`${file}.lock`, async () => {
    const state = await readFollowState(file);
    const result = change(state);
    await writeFileDurably(file, JSON.stringify(state, null, 2) + '\n');
    return result;
  });
}

export interface Retention {
  keep: number;
  keepDays?: number;
}

/** Adds names to follow, or changes the retention of names already followed. */
export async function addFollows(file: string, names: string[], retention: Partial<Retention>): Promise<void> {
  await updateState(file, (state) => {
    for (const name of names) {
      const existing = state.follows.find((f) => f.name === name);
      if (existing) Object.assign(existing, definedOnly(retention));
      else
        state.follows.push({
          name,
          keep: retention.keep ?? 2,
          ...(retention.keepDays ? { keepDays: retention.keepDays } : {}),
          addedAt: new Date().toISOString(),
          roots: [],
        });
    }
  });
}

/**
 * The versions a retention rule releases: all but the newest `keep`, except those replaced less
 * than `keepDays` ago. The current version is always kept.
 */
export function releasedVersions(roots: HeldRoot[], retention: Retention, now: Date): HeldRoot[] {
  const dayMs = 24 * 3600_000;
  return roots.filter((_, i) => {
    if (i < Math.max(1, retention.keep)) return false;
    const replacedAt = Date.parse(roots[i - 1]!.seenAt); // i >= 1: the newer version replaced it
    return !(retention.keepDays && now.getTime() - replacedAt < retention.keepDays * dayMs);
  });
}

export interface FollowOutcome {
  name: string;
  status: 'updated' | 'unchanged' | 'failed';
  root?: string;
  released: string[];
  error?: string;
}

/**
 * One round over every followed name: resolve it through the network (never a cached answer),
 * pin a new root with all its blocks (many at once, from whichever teammates have them), then
 * release versions by the retention rule. A name that cannot be resolved or fetched keeps what
 * is held, and the next round tries again.
 */
export async function followRound(
  ctx: TeamContext,
  file: string,
  options: { onProgress?: (name: string, blocks: number) => void; signal?: AbortSignal } = {},
): Promise<FollowOutcome[]> {
  const outcomes: FollowOutcome[] = [];
  for (const { name } of (await readFollowState(file)).follows) {
    options.signal?.throwIfAborted();
    outcomes.push(
      await followName(ctx, file, name, options).catch((error: Error) => {
        if (options.signal?.aborted) throw error;
        return failed(file, name, error);
      }),
    );
  }
  return outcomes;
}

async function followName(
  ctx: TeamContext,
  file: string,
  name: string,
  options: { onProgress?: (name: string, blocks: number) => void; signal?: AbortSignal },
): Promise<FollowOutcome> {
  const cid = await ctx.kubo.resolveName(name).catch((error: Error) => {
    if (error instanceof KuboUnreachableError || error instanceof KuboAuthError) throw error;
    throw new Error(
      `cannot resolve ${name} through the network: no teammate that holds its record answers (is its publisher offline, or this node cut off?). What is held is kept. (${error.message})`,
    );
  });
  const current = (await readFollowState(file)).follows.find((f) => f.name === name);
  if (current?.roots[0]?.cid === cid) {
    await updateState(file, (state) => Object.assign(state.follows.find((f) => f.name === name) ?? {}, checked(cid)));
    return { name, status: 'unchanged', root: cid, released: [] };
  }
  await updateState(file, (state) => Object.assign(state.follows.find((f) => f.name === name) ?? {}, { latestSeen: cid }));
  const pinnedBefore = await ctx.kubo.isPinned(cid);
  const { blocks } = await replicate(ctx, cid, { onProgress: (n) => options.onProgress?.(name, n), signal: options.signal });
  const root: HeldRoot = { cid, seenAt: new Date().toISOString(), blocks, pinnedBefore };
  const released = await updateState(file, (state) => {
    const follow = state.follows.find((f) => f.name === name);
    if (!follow) return [root];
    follow.roots = [root, ...follow.roots.filter((r) => r.cid !== cid)];
    Object.assign(follow, checked(cid));
    const gone = releasedVersions(follow.roots, follow, new Date());
    follow.roots = follow.roots.filter((r) => !gone.includes(r));
    return gone;
  });
  await unpinReleased(ctx, file, released);
  return { name, status: 'updated', root: cid, released: released.map((r) => r.cid) };
}

function checked(cid: string): Partial<Followed> {
  const now = new Date().toISOString();
  return { latestSeen: cid, upToDateAt: now, lastCheckAt: now, lastError: undefined };
}

async function failed(file: string, name: string, error: Error): Promise<FollowOutcome> {
  await updateState(file, (state) =>
    Object.assign(state.follows.find((f) => f.name === name) ?? {}, { lastCheckAt: new Date().toISOString(), lastError: error.message }),
  );
  return { name, status: 'failed', released: [], error: error.message };
}

/** Unpins released versions, unless pinned before following or still held for another name. */
async function unpinReleased(ctx: TeamContext, file: string, released: HeldRoot[]): Promise<void> {
  const stillHeld = new Set((await readFollowState(file)).follows.flatMap((f) => f.roots.map((r) => r.cid)));
  for (const root of released) {
    if (root.pinnedBefore || stillHeld.has(root.cid)) continue;
    await ctx.kubo.unpin(root.cid).catch((error: Error) => {
      if (!/not pinned/.test(error.message)) throw error;
    });
  }
}

/** Stops following names; what was pinned for them is released unless `keepPins`. */
export async function removeFollows(ctx: TeamContext | undefined, file: string, names: string[], keepPins: boolean): Promise<string[]> {
  const removed = await updateState(file, (state) => {
    const gone = state.follows.filter((f) => names.includes(f.name));
    state.follows = state.follows.filter((f) => !names.includes(f.name));
    return gone;
  });
  const missing = names.filter((name) => !removed.some((f) => f.name === name));
  if (missing.length > 0) throw new Error(`not followed: ${missing.join(', ')} ('nix-ipfs following' lists what is)`);
  if (!keepPins && ctx)
    await unpinReleased(
      ctx,
      file,
      removed.flatMap((f) => f.roots),
    );
  return removed.flatMap((f) => f.roots.map((r) => r.cid));
}

/** What the sidebar and `following` show for one followed cache. */
export interface FollowStatus {
  name: string;
  root?: string;
  /** A newer root was seen but is not held yet. */
  behind: boolean;
  versions: number;
  /** Bytes of the current version (undefined when Kubo could not be asked). */
  bytes?: number;
  /** Seconds since the replica was last confirmed to match the name. */
  lagSeconds?: number;
  upToDateAt?: string;
  lastCheckAt?: string;
  lastError?: string;
  keep: number;
  keepDays?: number;
}

/** `ctx` (only its node, for the bytes held) undefined: everything but the bytes. */
export async function followStatus(ctx: { kubo: Pick<KuboApi, 'mfsStat'> } | undefined, file: string, now = new Date()): Promise<FollowStatus[]> {
  const { follows } = await readFollowState(file);
  return Promise.all(
    follows.map(async (f) => {
      const root = f.roots[0]?.cid;
      const bytes = root && ctx ? (await ctx.kubo.mfsStat(`/ipfs/${root}`).catch(() => undefined))?.cumulativeSize : undefined;
      return {
        name: f.name,
        ...(root ? { root } : {}),
        behind: f.latestSeen !== undefined && f.latestSeen !== root,
        versions: f.roots.length,
        ...(bytes !== undefined ? { bytes } : {}),
        ...(f.upToDateAt ? { upToDateAt: f.upToDateAt, lagSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(f.upToDateAt)) / 1000)) } : {}),
        ...(f.lastCheckAt ? { lastCheckAt: f.lastCheckAt } : {}),
        ...(f.lastError ? { lastError: f.lastError } : {}),
        keep: f.keep,
        ...(f.keepDays ? { keepDays: f.keepDays } : {}),
      };
    }),
  );
}

/** What `nix-ipfs following --json` prints and the language server answers to `nixIpfs/followedCaches`. */
export interface FollowingReport {
  follows: FollowStatus[];
  /** Builds the post-build hook queued that are not published yet. */
  publishQueue: { pending: number; dir: string };
  /** False: Kubo did not answer (or was not asked), so the bytes held are unknown. */
  kuboReachable: boolean;
}

/**
 * The followed caches and the publish queue, from the state folder. Only the bytes held need the
 * node: without one (undefined, or not answering) the rest is still known.
 */
export async function followingReport(kubo: Pick<KuboApi, 'version' | 'mfsStat'> | undefined, dir: string, now = new Date()): Promise<FollowingReport> {
  const reachable = kubo
    ? await kubo.version().then(
        () => true,
        () => false,
      )
    : false;
  const follows = await followStatus(reachable && kubo ? { kubo } : undefined, followStateFile(dir), now);
  const pending = (await pendingEntries(queueDir(dir))).length;
  return { follows, publishQueue: { pending, dir: queueDir(dir) }, kuboReachable: reachable };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
