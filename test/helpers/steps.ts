import type { TestContext } from 'node:test';

/** What a failed wait or step leaves behind to look at: a screenshot, the end of a log. */
export type OnFailure = (what: string) => Promise<unknown>;

/**
 * Polls `probe` every half second until it gives something. At the deadline `onFailure` runs, and
 * the error names what was awaited and the probe's last error.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 60_000, onFailure }: { timeoutMs?: number; onFailure?: OnFailure } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await onFailure?.(what);
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** The steps of a walk, as subtests of `t`: a failing step runs `onFailure` before it fails. */
export function stepsOf(t: TestContext, onFailure: OnFailure) {
  return (name: string, run: (st: TestContext) => Promise<unknown>) =>
    t.test(name, async (st) => {
      try {
        await run(st);
      } catch (error) {
        await onFailure(name);
        throw error;
      }
    });
}
