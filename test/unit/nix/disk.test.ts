import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DiskSpaceError, writeNewFile } from '../../../src/nix/disk';

async function* chunks(count: number, size: number) {
  for (let i = 0; i < count; i++) yield new Uint8Array(size).fill(i % 256);
}

test('writeNewFile writes every chunk in order and says how many bytes', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-disk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'out');
  assert.equal(await writeNewFile(file, chunks(300, 10_000), { keepFree: 0 }), 3_000_000);
  const written = await readFile(file);
  assert.equal(written.length, 3_000_000);
  assert.equal(written[10_000 * 299], 299 % 256);
});

test('writeNewFile never replaces a file, and stops before the disk would keep less than it must', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-disk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'there'), 'keep me');
  await assert.rejects(writeNewFile(path.join(dir, 'there'), chunks(1, 10)), { code: 'EEXIST' });
  assert.equal(await readFile(path.join(dir, 'there'), 'utf8'), 'keep me');
  await assert.rejects(writeNewFile(path.join(dir, 'big'), chunks(1, 10), { keepFree: Number.MAX_SAFE_INTEGER }), (error: Error) => {
    assert.ok(error instanceof DiskSpaceError);
    assert.match(error.message, /^stopped writing \S+big after 0 MB: only [\d.]+ MB left on its file system, and nix-ipfs keeps \d+ MB free$/);
    return true;
  });
  assert.deepEqual((await readdir(dir)).sort(), ['big', 'there'].sort(), 'the empty file is left for the caller, whose temporary folder goes');
});

test('a failing source ends the write with its own error', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-disk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  async function* broken() {
    yield new Uint8Array(5);
    throw new Error('peer went away');
  }
  await assert.rejects(writeNewFile(path.join(dir, 'x'), broken()), /peer went away/);
});
