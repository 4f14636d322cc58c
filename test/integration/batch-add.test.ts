// addToMfsDirectory against a real Kubo: many files in one request, linked as Kubo adds them, and an
// error Kubo reports after it began to answer (the X-Stream-Error trailer) is not taken for success;
// what publish adds that way survives Kubo's garbage collector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, run } from '../helpers/cli';
import { startKuboNode } from '../helpers/kubo';
import { buildClosure, noNarinfoCache, tempDir } from '../helpers/nix-env';
import { Kubo, KuboError } from '../../src/kubo/client';

const bytes = (text: string) => new TextEncoder().encode(text);

async function* chunked(text: string): AsyncIterable<Uint8Array> {
  for (let i = 0; i < text.length; i += 1000) yield bytes(text.slice(i, i + 1000));
}

test('many files in one add request are linked into an MFS directory, streamed or whole', async () => {
  const node = await startKuboNode();
  const kubo = new Kubo({ api: node.apiAddr });
  await kubo.mfsMkdir('/batch');
  const big = 'x'.repeat(3_000_000);
  const added = await kubo.addToMfsDirectory('/batch', [
    { name: 'a.nar', content: chunked(big) },
    { name: 'b.narinfo', content: bytes('StorePath: b\n') },
  ]);
  assert.deepEqual(
    added.map((a) => a.name),
    ['a.nar', 'b.narinfo'],
  );
  assert.equal(await node.cli(['files', 'read', '/batch/b.narinfo']), 'StorePath: b\n');
  assert.equal((await node.cli(['files', 'stat', '--hash', '/batch/a.nar'])).trim(), added[0].cid);
  assert.equal((await node.cli(['cat', added[0].cid])).length, big.length);
});

test('a name the directory has already fails the request, even when it is the last file', async () => {
  const node = await startKuboNode();
  const kubo = new Kubo({ api: node.apiAddr });
  await kubo.mfsWrite('/taken/last', bytes('first\n'));
  await assert.rejects(
    kubo.addToMfsDirectory('/taken', [
      { name: 'fine', content: bytes('fine\n') },
      { name: 'last', content: bytes('second\n') },
    ]),
    (error: Error) => error instanceof KuboError && /already has entry/.test(error.message),
  );
  assert.equal(await node.cli(['files', 'read', '/taken/last']), 'first\n', 'the existing file is untouched');
});

test('Kubo refusing while a later file is still being read ends the request with its reason, at once', { timeout: 20_000 }, async () => {
  // Kubo answers and the request closes while the next bytes are read: writing them must not wait for a 'drain'
  // that cannot come (publish once exited silently this way when Kubo's disk filled up).
  const node = await startKuboNode();
  const kubo = new Kubo({ api: node.apiAddr });
  await kubo.mfsWrite('/refused/first', bytes('first\n'));
  async function* endless(): AsyncIterable<Uint8Array> {
    for (;;) {
      yield new Uint8Array(64 * 1024);
      await sleep(5);
    }
  }
  await assert.rejects(
    kubo.addToMfsDirectory('/refused', [
      { name: 'first', content: bytes('second\n') },
      { name: 'endless', content: endless() },
    ]),
    (error: Error) => error instanceof KuboError && /already has entry/.test(error.message),
  );
});

test('a file whose bytes cannot be read fails with its own error, not as a Kubo error', async () => {
  const node = await startKuboNode();
  const kubo = new Kubo({ api: node.apiAddr });
  await kubo.mfsMkdir('/broken');
  async function* unreadable(): AsyncIterable<Uint8Array> {
    yield bytes('half');
    throw new Error('EACCES: permission denied');
  }
  await assert.rejects(
    kubo.addToMfsDirectory('/broken', [{ name: 'x', content: unreadable() }]),
    (error: Error) => !(error instanceof KuboError) && /EACCES/.test(error.message),
  );
  assert.equal(await kubo.mfsStat('/broken/x'), undefined);
});

test('published NARs are kept by MFS through ipfs repo gc: only the path named is pinned, and Nix still substitutes all', async () => {
  const dir = await tempDir();
  const node = await startKuboNode();
  const { app, dep } = await buildClosure(dir);
  const published = await cli(['publish', app, '--api', node.apiAddr, '--json']);
  assert.equal(published.code, 0, published.stderr);
  const { rootCid, paths } = JSON.parse(published.stdout) as { rootCid: string; paths: { storePath: string; narCid: string }[] };
  const pins = await node.cli(['pin', 'ls', '--type=recursive', '--quiet']);
  assert.match(pins, new RegExp(paths.find((p) => p.storePath === app)!.narCid));
  assert.doesNotMatch(pins, new RegExp(paths.find((p) => p.storePath === dep)!.narCid));
  await node.cli(['repo', 'gc', '--silent']);
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const copied = await run(
    'nix',
    [
      'copy',
      '--from',
      `${node.gatewayUrl}/ipfs/${rootCid}/cache`,
      '--to',
      path.join(dir, 'storeB'),
      app,
      '--option',
      'require-sigs',
      'false',
      ...noNarinfoCache,
    ],
    { env },
  );
  assert.equal(copied.code, 0, copied.stderr);
});
