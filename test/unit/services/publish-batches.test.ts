// publish sends many paths per request to an in-memory node: a bad path fails alone, a re-publish
// touches only what changed, and only the paths named are pinned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, parseSecretKey } from '../../../src/core/signature';
import type { MfsFile } from '../../../src/kubo/client';
import { Layout, type ServiceContext } from '../../../src/services/context';
import { publish } from '../../../src/services/publish';
import { MemoryKubo } from '../../helpers/memory-kubo';
import { StandInNix, type StandInPath } from '../../helpers/stand-in-nix';
import { singleFileNar } from '../../helpers/single-file-nar';

/** Counts the files each batch request carries, and the narinfos read. */
class CountingKubo extends MemoryKubo {
  readonly requests: string[][] = [];
  reads = 0;
  override async mfsRead(path: string) {
    this.reads++;
    return super.mfsRead(path);
  }
  override async addToMfsDirectory(dir: string, files: Iterable<MfsFile> | AsyncIterable<MfsFile>) {
    const names: string[] = [];
    this.requests.push(names);
    const seen = async function* () {
      for await (const file of files) yield (names.push(file.name), file);
    };
    return super.addToMfsDirectory(dir, seen());
  }
}

async function storePath(i: number, text = `path ${i}\n`, references: string[] = []): Promise<StandInPath> {
  const { nar, narHash, narSize } = await singleFileNar(text);
  const nix32 = '0123456789abcdfghijklmnpqrsvwxyz';
  const hashPart = [...i.toString(32).padStart(32, '0')].map((digit) => nix32[parseInt(digit, 32)]).join('');
  return { info: { path: `/nix/store/${hashPart}-p${i}`, narHash, narSize, references, signatures: [] }, nar };
}

function context(paths: StandInPath[]): ServiceContext & { kubo: CountingKubo } {
  return { kubo: new CountingKubo(), nix: new StandInNix(paths), layout: new Layout('/nix-ipfs'), keyName: 'nix-ipfs', concurrency: 2 };
}

test('40 paths go in a few requests; a corrupt and an unreadable path fail alone, leaving no narinfo or NAR', async () => {
  const paths = await Promise.all(Array.from({ length: 40 }, (_, i) => storePath(i)));
  paths[5].broken = 'corrupt';
  paths[20].broken = 'unreadable';
  const ctx = context(paths);
  const result = await publish(ctx, [paths[39].info.path]);
  assert.deepEqual(result.failed.map((f) => f.storePath).sort(), [paths[5].info.path, paths[20].info.path].sort());
  assert.match(result.failed.find((f) => f.storePath === paths[5].info.path)!.error, /does not match Nix's record/);
  assert.match(result.failed.find((f) => f.storePath === paths[20].info.path)!.error, /EACCES/);
  assert.equal(result.paths.length, 38);
  for (const broken of [paths[5], paths[20]]) {
    const hashPart = broken.info.path.slice(11, 43);
    assert.equal(ctx.kubo.files.has(`/nix-ipfs/cache/${hashPart}.narinfo`), false);
  }
  const nars = [...ctx.kubo.files.keys()].filter((f) => f.startsWith('/nix-ipfs/cache/nar/'));
  assert.equal(nars.length, 38, 'the corrupt NAR was removed again');
  // Batches of 16; only the batch with the unreadable path is sent again, path by path.
  assert.ok(ctx.kubo.requests.length < 40, `${ctx.kubo.requests.length} requests for 40 paths`);
});

test('a re-publish after 3 paths changed sends those 3 paths only, and pins only the path named', async () => {
  const deps = await Promise.all(Array.from({ length: 30 }, (_, i) => storePath(i)));
  const top = await storePath(
    100,
    'top\n',
    deps.map((d) => d.info.path),
  );
  const ctx = context([...deps, top]);
  const first = await publish(ctx, [top.info.path]);
  assert.equal(first.failed.length, 0);
  assert.deepEqual(
    [...ctx.kubo.pins],
    [first.paths.find((p) => p.storePath === top.info.path)!.narCid],
    'the named path is pinned, its closure is kept by MFS',
  );

  const changed = await Promise.all([1, 2, 3].map((i) => storePath(200 + i)));
  const nix = ctx.nix as StandInNix;
  nix.paths.splice(0, 3, ...changed);
  ctx.kubo.requests.length = 0;
  const again = await publish(ctx, [top.info.path]);
  assert.equal(again.paths.filter((p) => p.status === 'published').length, 3);
  assert.deepEqual(
    ctx.kubo.requests
      .flat()
      .filter((name) => name.endsWith('.narinfo'))
      .sort(),
    changed.map((c) => `${c.info.path.slice(11, 43)}.narinfo`).sort(),
  );
});

test('two paths with the same NAR in one batch share it: one NAR is sent, both narinfos name it', async () => {
  const a = await storePath(1, 'same bytes\n');
  const b = await storePath(2, 'same bytes\n');
  const ctx = context([a, b]);
  const result = await publish(ctx, [a.info.path, b.info.path]);
  assert.equal(result.failed.length, 0);
  assert.equal(result.paths[0].narCid, result.paths[1].narCid);
  assert.equal(ctx.kubo.requests.flat().filter((name) => name.endsWith('.nar')).length, 1);
});

test('a signed re-publish reads only the narinfos it has not seen signed: the 3 changed, not the 27 others', async () => {
  process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'nix-ipfs-state-'));
  const secretKey = parseSecretKey(generateKeyPair('batches-key-1').secret);
  const paths = await Promise.all(Array.from({ length: 30 }, (_, i) => storePath(i)));
  const ctx = context(paths);
  assert.equal((await publish(ctx, [paths[29].info.path], { secretKey })).failed.length, 0);
  // Another publisher, which does not sign, replaces 3 narinfos: those must be read and signed again.
  for (const p of paths.slice(0, 3)) {
    const file = `/nix-ipfs/cache/${p.info.path.slice(11, 43)}.narinfo`;
    await ctx.kubo.mfsWrite(file, new TextEncoder().encode(new TextDecoder().decode(await ctx.kubo.mfsRead(file)).replace(/^Sig: .*\n/m, '')));
  }
  ctx.kubo.reads = 0;
  const again = await publish(ctx, [paths[29].info.path], { secretKey });
  assert.equal(ctx.kubo.reads, 3);
  assert.deepEqual(
    again.paths
      .filter((p) => p.status === 're-signed')
      .map((p) => p.storePath)
      .sort(),
    paths
      .slice(0, 3)
      .map((p) => p.info.path)
      .sort(),
  );
  ctx.kubo.reads = 0;
  await publish(ctx, [paths[29].info.path], { secretKey });
  assert.equal(ctx.kubo.reads, 0, 're-signed narinfos are remembered too');
});

test('a race: a narinfo another publisher replaced unsigned while this signed publish ran is not remembered as signed', async () => {
  process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'nix-ipfs-state-'));
  const secretKey = parseSecretKey(generateKeyPair('batches-key-2').secret);
  const paths = await Promise.all(Array.from({ length: 20 }, (_, i) => storePath(i, `race ${i}\n`)));
  const ctx = context(paths);
  const narinfo = (p: StandInPath) => `/nix-ipfs/cache/${p.info.path.slice(11, 43)}.narinfo`;
  const unsigned = (text: string) => new TextEncoder().encode(text.replace(/^Sig: .*\n/m, ''));
  // When the second batch's narinfos go in, the other publisher has replaced one of the first batch's
  // unsigned, and written one of the second's first: the batch fails, and this publish looks again.
  let narinfoAdds = 0;
  const addToMfsDirectory = ctx.kubo.addToMfsDirectory.bind(ctx.kubo);
  ctx.kubo.addToMfsDirectory = async (dir, files) => {
    if (dir === '/nix-ipfs/cache' && ++narinfoAdds === 2) {
      await ctx.kubo.mfsWrite(narinfo(paths[0]), unsigned(new TextDecoder().decode(await ctx.kubo.mfsRead(narinfo(paths[0])))));
      await ctx.kubo.mfsWrite(narinfo(paths[19]), new TextEncoder().encode('StandInPath: written by the other publisher\n'));
    }
    return addToMfsDirectory(dir, files);
  };
  assert.equal((await publish(ctx, [paths[19].info.path], { secretKey })).failed.length, 0);

  const again = await publish(ctx, [paths[19].info.path], { secretKey });
  assert.deepEqual(
    again.paths.filter((p) => p.status === 're-signed').map((p) => p.storePath),
    [paths[0].info.path],
    'the narinfo the other publisher replaced is read and signed again',
  );
});

test('two signed publishes at once in one process both remember what they signed', async () => {
  process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'nix-ipfs-state-'));
  const secretKey = parseSecretKey(generateKeyPair('batches-key-3').secret);
  const [one, two] = await Promise.all([storePath(1, 'one\n'), storePath(2, 'two\n')]);
  const results = await Promise.all([publish(context([one]), [one.info.path], { secretKey }), publish(context([two]), [two.info.path], { secretKey })]);
  assert.deepEqual(
    results.map((r) => r.failed),
    [[], []],
  );
});
