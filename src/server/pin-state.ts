import { cidForFlatHash } from '../core/cid';
import { parseHash } from '../core/hash';
import { KuboRefusedError, type Kubo } from '../kubo/client';
import type { Layout } from '../services/layout';
import { lookupMirror, type MirrorRecord } from '../services/mirror';

export type PinState =
  | { kind: 'pinned'; cid: string; record?: MirrorRecord }
  | { kind: 'mirrored-unpinned'; cid: string; record: MirrorRecord }
  | { kind: 'not-mirrored' }
  | { kind: 'unreachable'; error: string }
  /** Deliberately not contacted (a plain-HTTP API on another machine, not yet confirmed). */
  | { kind: 'refused'; reason: string };

const FRESH_MS = 30_000;

/**
 * What the node knows about each source hash, cached so hovers and lenses never wait on Kubo
 * for long: a lookup that takes longer than the caller's budget answers undefined ("checking")
 * and finishes in the background, then `onSettled` lets the editor refresh.
 */
export class PinStates {
  private readonly cache = new Map<string, { state: PinState; at: number }>();
  private readonly inFlight = new Map<string, Promise<PinState>>();
  /** Bumped by invalidate(), so a lookup that started before a pin cannot cache its stale answer. */
  private generation = 0;

  constructor(
    private readonly node: () => { kubo: Kubo; layout: Layout },
    private readonly onSettled: () => void,
  ) {}

  /** Forgets everything (after a pin, or when settings change). */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
    this.inFlight.clear();
  }

  /** Records what an action just established (a pin), so the next lens shows it without a lookup. */
  remember(sri: string, state: PinState): void {
    this.cache.set(sri, { state, at: Date.now() });
  }

  cached(sri: string): PinState | undefined {
    const hit = this.cache.get(sri);
    return hit && Date.now() - hit.at < FRESH_MS ? hit.state : undefined;
  }

  /** The state, waiting at most `budgetMs`; undefined when Kubo has not answered by then. */
  async get(sri: string, budgetMs: number): Promise<PinState | undefined> {
    const hit = this.cached(sri);
    if (hit) return hit;
    let lookup = this.inFlight.get(sri);
    if (!lookup) {
      const generation = this.generation;
      lookup = this.lookup(sri).then((state) => {
        if (generation !== this.generation) return state; // answered before a change: not cached
        this.cache.set(sri, { state, at: Date.now() });
        this.inFlight.delete(sri);
        this.onSettled();
        return state;
      });
      this.inFlight.set(sri, lookup);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), budgetMs)));
    try {
      return await Promise.race([lookup, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async lookup(sri: string): Promise<PinState> {
    const { kubo, layout } = this.node();
    const hash = parseHash(sri).hash;
    try {
      const record = await lookupMirror(kubo, layout, hash);
      const cid = record?.cid ?? cidForFlatHash(hash)?.toString();
      if (!cid) return { kind: 'not-mirrored' };
      const pinned = await kubo.isPinned(cid);
      if (pinned) return { kind: 'pinned', cid, record };
      return record ? { kind: 'mirrored-unpinned', cid, record } : { kind: 'not-mirrored' };
    } catch (error) {
      if (error instanceof KuboRefusedError) return { kind: 'refused', reason: error.message };
      return { kind: 'unreachable', error: (error as Error).message };
    }
  }
}
