import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { readNar } from '../../../src/core/nar';
import { boundedRead, ReadError, type ReadBounds } from '../../../src/services/streams';

const bounds: ReadBounds = { what: 'the NAR at test://x', maxBytes: 100, limitName: 'its NarSize', idleMs: 60_000, totalMs: 60_000 };

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of source) total += chunk.length;
  return total;
}

/** A source that records whether the reader aborted it. */
function recorded(produce: (signal: AbortSignal) => AsyncIterable<Uint8Array>) {
  const seen: { signal?: AbortSignal } = {};
  return {
    seen,
    open: (signal: AbortSignal) => {
      seen.signal = signal;
      return produce(signal);
    },
  };
}

test('a source within its bounds passes through whole', async () => {
  async function* ten() {
    for (let i = 0; i < 10; i++) yield new Uint8Array(10);
  }
  assert.equal(await drain(boundedRead(ten, bounds)), 100);
});

test('an endless source ends at the size limit, and the transfer is aborted', async () => {
  const source = recorded(async function* () {
    for (;;) yield new Uint8Array(7);
  });
  await assert.rejects(drain(boundedRead(source.open, bounds)), { name: 'ReadError', message: 'the NAR at test://x is longer than its NarSize (100 bytes)' });
  assert.equal(source.seen.signal?.aborted, true);
});

test('a source that stalls mid-stream ends with the stall named, even when it ignores the abort', async () => {
  const source = recorded(async function* () {
    yield new Uint8Array(30);
    await new Promise(() => undefined); // never answers, never listens
  });
  await assert.rejects(drain(boundedRead(source.open, { ...bounds, idleMs: 20 })), {
    name: 'ReadError',
    message: 'the NAR at test://x sent nothing for 0.02 s after 30 bytes',
  });
  assert.equal(source.seen.signal?.aborted, true);
});

test('a source that trickles bytes forever ends at the total time limit', async () => {
  async function* trickle() {
    for (;;) {
      await sleep(1);
      yield new Uint8Array(0);
    }
  }
  await assert.rejects(drain(boundedRead(trickle, { ...bounds, idleMs: 60_000, totalMs: 30 })), {
    message: 'the NAR at test://x took longer than 0.03 s in all',
  });
});

test('a failing source is named with how far it got, not taken for bad data', async () => {
  async function* broken() {
    yield new Uint8Array(12);
    throw new Error('socket hang up');
  }
  await assert.rejects(
    drain(boundedRead(broken, bounds)),
    (error: Error) => error instanceof ReadError && error.message === 'the NAR at test://x broke off after 12 bytes: socket hang up',
  );
  const refused = () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:9');
  };
  await assert.rejects(drain(boundedRead(refused, bounds)), { message: 'the NAR at test://x could not be read: connect ECONNREFUSED 127.0.0.1:9' });
});

test('a reader that stops early aborts the transfer', async () => {
  const source = recorded(async function* () {
    for (;;) yield new Uint8Array(1);
  });
  for await (const _ of boundedRead(source.open, bounds)) break;
  assert.equal(source.seen.signal?.aborted, true);
});

test("fetch's bare 'fetch failed' is given its cause", async () => {
  const refused = () => {
    throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
  };
  await assert.rejects(drain(boundedRead(refused, bounds)), {
    message: 'the NAR at test://x could not be read: fetch failed: connect ECONNREFUSED 127.0.0.1:9',
  });
});

test('a NAR whose stream breaks inside a token reports the break, not bad UTF-8', async () => {
  async function* brokenInMagic() {
    yield new Uint8Array([13, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('nix-arch')]);
    throw new Error('other side closed');
  }
  const entries = async () => {
    for await (const _ of readNar(boundedRead(brokenInMagic, bounds)));
  };
  await assert.rejects(entries, { name: 'ReadError', message: 'the NAR at test://x broke off after 16 bytes: other side closed' });
});
