import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readNar, writeNar, type NarNode } from '../../../src/core/nar';
import { extractNar } from '../../../src/nix/nar-extract';

async function bytesOf(node: NarNode): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of writeNar(node)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* once(bytes: Uint8Array) {
  yield bytes;
}

test('NAR extraction: a symlink cannot be used to write outside the destination', async (t) => {
  const work = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-nar-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const outside = await mkdtemp(path.join(work, 'outside-'));
  const file: NarNode = {
    type: 'regular',
    executable: false,
    size: 3,
    contents: async function* () {
      yield new TextEncoder().encode('pwn');
    },
  };
  // "na" is a symlink to a folder outside; then a directory also named "na" (renamed from "nb"
  // in the bytes, past the writer's checks) whose file would land outside through the link.
  const crafted = await bytesOf({
    type: 'directory',
    async *entries() {
      yield ['na', { type: 'symlink', target: outside }] as [string, NarNode];
      yield [
        'nb',
        {
          type: 'directory',
          async *entries() {
            yield ['x', file] as [string, NarNode];
          },
        },
      ] as [string, NarNode];
    },
  });
  const hostile = Buffer.from(crafted.toString('latin1').replace('nb'.padEnd(8, '\0'), 'na'.padEnd(8, '\0')), 'latin1');
  await assert.rejects(extractNar(readNar(once(hostile)), path.join(work, 'out')), /out of order or repeated/);
  assert.deepEqual(await readdir(outside), [], 'nothing was written through the symlink');

  // A symlink pointing anywhere is kept as a link (as Nix does), never followed.
  await extractNar(readNar(once(await bytesOf({ type: 'symlink', target: '/etc/passwd' }))), path.join(work, 'link'));
  assert.equal(await readlink(path.join(work, 'link')), '/etc/passwd');
});

test('NAR extraction: a path longer than the file system allows is named briefly, with its length and depth', async (t) => {
  const work = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-nar-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  let inner: NarNode = { type: 'symlink', target: 'bottom' };
  for (let level = 0; level < 40; level++) {
    const child: NarNode = inner;
    inner = {
      type: 'directory',
      async *entries() {
        yield ['n'.repeat(200), child] as [string, NarNode];
      },
    };
  }
  await assert.rejects(extractNar(readNar(once(await bytesOf(inner))), path.join(work, 'out')), (error: Error) => {
    assert.equal(error.name, 'NarExtractError');
    assert.match(error.message, /^cannot unpack NAR entry 'n{60}…n{50}' \(\d+ characters, \d+ levels deep\): its path is longer than this file system allows$/);
    return true;
  });
});
