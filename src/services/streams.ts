/** Passes a stream through unchanged while `observe` sees every chunk (e.g. a hasher). */
export async function* tap(source: AsyncIterable<Uint8Array>, observe: (chunk: Uint8Array) => void): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    observe(chunk);
    yield chunk;
  }
}

/** How much a peer or gateway may send, and how slowly. */
export interface ReadBounds {
  /** Names the source in messages: "the NAR at http://…". */
  what: string;
  maxBytes: number;
  /** Names the size limit in messages: "its NarSize". */
  limitName: string;
  /** The longest wait for the first chunk and between two chunks. */
  idleMs: number;
  /** The longest the whole read may take. */
  totalMs: number;
}

/** A read from a peer or gateway that failed or went past its bounds; the message says which and where. */
export class ReadError extends Error {
  override name = 'ReadError';
}

const seconds = (ms: number) => `${+(ms / 1000).toFixed(3)} s`;

/** fetch says only "fetch failed"; the reason (refused, reset, DNS) is in its cause. */
function describe(error: unknown): string {
  const { message, cause } = error as { message?: string; cause?: { message?: string } };
  return cause?.message && message === 'fetch failed' ? `${message}: ${cause.message}` : (message ?? String(error));
}

/**
 * The one way to read bytes from a peer or gateway: `open` starts the transfer with a signal that
 * is aborted when a bound is passed or the reader stops early, and a wait is cut short at once even
 * when the source does not listen to the signal.
 */
export async function* boundedRead(open: (signal: AbortSignal) => AsyncIterable<Uint8Array>, bounds: ReadBounds): AsyncIterable<Uint8Array> {
  const controller = new AbortController();
  const stop = (message: string) => controller.abort(new ReadError(`${bounds.what} ${message}`));
  const stopped = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
  stopped.catch(() => undefined);
  const deadline = setTimeout(() => stop(`took longer than ${seconds(bounds.totalMs)} in all`), bounds.totalMs);
  let received = 0;
  let idle: NodeJS.Timeout | undefined;
  let iterator: AsyncIterator<Uint8Array> | undefined;
  try {
    iterator = open(controller.signal)[Symbol.asyncIterator]();
    for (;;) {
      idle = setTimeout(() => stop(`sent nothing for ${seconds(bounds.idleMs)} after ${received} bytes`), bounds.idleMs);
      const next = await Promise.race([iterator.next(), stopped]);
      clearTimeout(idle);
      if (next.done) return;
      received += next.value.length;
      if (received > bounds.maxBytes) throw new ReadError(`${bounds.what} is longer than ${bounds.limitName} (${bounds.maxBytes} bytes)`);
      yield next.value;
    }
  } catch (error) {
    if (controller.signal.aborted && controller.signal.reason instanceof ReadError) throw controller.signal.reason;
    if (error instanceof ReadError) throw error;
    throw new ReadError(`${bounds.what} ${received === 0 ? 'could not be read' : `broke off after ${received} bytes`}: ${describe(error)}`);
  } finally {
    clearTimeout(idle);
    clearTimeout(deadline);
    if (!controller.signal.aborted) controller.abort(new ReadError(`${bounds.what}: no longer needed`));
    void iterator?.return?.().catch(() => undefined); // not awaited: a source stuck in next() settles only after the abort
  }
}
