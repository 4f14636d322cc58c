import pLimit from 'p-limit';
import { cidForFlatHash } from '../core/cid';
import { parseHash } from '../core/hash';
import { KuboRefusedError, KuboUnreachableError } from '../kubo/client';
import type { ServiceContext } from '../services/context';
import { lookupMirror, type MirrorRecord } from '../services/mirror';

export type PinState =
  | { kind: 'pinned'; cid: string; record?: MirrorRecord }
  | { kind: 'mirrored-unpinned'; cid: string; record: MirrorRecord }
  | { kind: 'not-mirrored' }
  /** Nothing answers at the API address. */
  | { kind: 'unreachable'; api: string }
  /** Kubo answered with an error (a missing token, a timeout…); the message says what to do. */
  | { kind: 'failed'; error: string }
  /** Deliberately not contacted (a plain-HTTP API on another machine, not yet confirmed). */
  | { kind: 'refused'; reason: string };

/** How long a state learnt from Kubo is trusted: changes made elsewhere (the CLI) show up after it. */
const FRESH_MS = 30_000;
/** Lookups Kubo works on at once: a file with thousands of fetchers must not open thousands of requests. */
const LOOKUPS_AT_ONCE = 8;
/** Answers that arrive together ask the editor for one refresh, not one each. */
const SETTLE_COALESCE_MS = 200;

/**
 * What the node knows about each source hash, cached so hovers and lenses never wait on Kubo
 * for long: a lookup that takes longer than the caller's budget answers undefined ("checking")
 * and finishes in the background, then `onSettled` lets the editor refresh. Changes the server
 * makes itself are recorded at once (`remember`), so they never wait for the cache to age.
 */
export class PinStates {
  private readonly cache = new Map<string, { state: PinState; at: number }>();
  private readonly inFlight = new Map<string, Promise<PinState>>();
  /** Bumped by invalidate(), so a lookup that started before a change cannot cache its stale answer. */
  private generation = 0;
  private readonly limit = pLimit(LOOKUPS_AT_ONCE);
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly node: () => Pick<ServiceContext, 'kubo' | 'layout'>,
    private readonly onSettled: () => void,
  ) {}

  /** Forgets everything (after a change to the node, or when settings change). */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
    this.inFlight.clear();
    this.limit.clearQueue(); // lookups not started yet would answer for the old node
  }

  /** Records what an action just established (a pin, an unpin), so the next lens shows it without a lookup. */
  remember(sri: string, state: PinState): void {
    this.cache.set(sri, { state, at: Date.now() });
  }

  cached(sri: string): PinState | undefined {
    const hit = this.cache.get(sri);
    return hit && Date.now() - hit.at < FRESH_MS ? hit.state : undefined;
  }

  /**
   * The state, waiting at most `budgetMs`; undefined when Kubo has not answered by then (with a
   * budget of 0, at once: lenses for a file of any size never wait).
   */
  async get(sri: string, budgetMs: number): Promise<PinState | undefined> {
    const hit = this.cached(sri);
    if (hit) return hit;
    const lookup = this.inFlight.get(sri) ?? this.start(sri);
    if (budgetMs <= 0) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), budgetMs)));
    try {
      return await Promise.race([lookup, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private start(sri: string): Promise<PinState> {
    const generation = this.generation;
    const lookup = this.limit(() => this.lookup(sri)).then((state) => {
      if (generation !== this.generation) return state; // answered before a change: not cached
      this.cache.set(sri, { state, at: Date.now() });
      this.inFlight.delete(sri);
      this.settled();
      return state;
    });
    this.inFlight.set(sri, lookup);
    return lookup;
  }

  /** Tells the editor once for every answer that arrives within SETTLE_COALESCE_MS. */
  private settled(): void {
    this.settleTimer ??= setTimeout(() => {
      this.settleTimer = undefined;
      this.onSettled();
    }, SETTLE_COALESCE_MS);
  }

  private async lookup(sri: string): Promise<PinState> {
    try {
      return await pinStateOf(this.node(), sri);
    } catch (error) {
      if (error instanceof KuboRefusedError) return { kind: 'refused', reason: error.message };
      if (error instanceof KuboUnreachableError) return { kind: 'unreachable', api: this.node().kubo.address };
      return { kind: 'failed', error: (error as Error).message };
    }
  }
}

/** Asks the node: is the source mirrored (its record), and is its CID pinned? */
export async function pinStateOf({ kubo, layout }: Pick<ServiceContext, 'kubo' | 'layout'>, sri: string): Promise<PinState> {
  const hash = parseHash(sri).hash;
  const record = await lookupMirror(kubo, layout, hash);
  const cid = record?.cid ?? cidForFlatHash(hash);
  if (!cid) return { kind: 'not-mirrored' };
  if (await kubo.isPinned(cid)) return { kind: 'pinned', cid, record };
  return record ? { kind: 'mirrored-unpinned', cid, record } : { kind: 'not-mirrored' };
}
