// pin, unpin, publish, unpublish and pin states on an in-memory Kubo node: fast, and beside the
// integration suites that prove the same services against a real node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NixHash } from '../../../src/core/hash';
import { parseNarInfo } from '../../../src/core/narinfo';
import { generateKeyPair, parseSecretKey, publicKeyOf, verifySignatures } from '../../../src/core/signature';
import type { PathInfo } from '../../../src/core/path-info';
import { Nix } from '../../../src/nix/cli';
import { pinStateOf } from '../../../src/server/pin-state';
import { listPublished, unpublishPath } from '../../../src/services/cache-index';
import { Layout, type ServiceContext } from '../../../src/services/context';
import { lookupMirror } from '../../../src/services/mirror';
import { pinSource } from '../../../src/services/pin';
import { publish } from '../../../src/services/publish';
import { mirroredSources, unpinSource } from '../../../src/services/sources';
import { MemoryKubo } from '../../helpers/memory-kubo';
import { StandInNix } from '../../helpers/stand-in-nix';
import { singleFileNar } from '../../helpers/single-file-nar';

function memoryContext(nix: Nix = new StandInNix()): ServiceContext & { kubo: MemoryKubo } {
  return { kubo: new MemoryKubo(), nix, layout: new Layout('/nix-ipfs'), keyName: 'nix-ipfs', concurrency: 2 };
}

/** A file served on loopback, and its hash. */
async function served(t: { after: (fn: () => void) => void }, content: string) {
  const server = createServer((_, res) => res.end(content)).listen(0, '127.0.0.1');
  t.after(() => server.close());
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/memory-1.0.tar.gz`;
  return { url, hash: new NixHash('sha256', new Uint8Array(createHash('sha256').update(content).digest())) };
}

test('pin, pin state, the Mirrored Sources listing and unpin, on an in-memory node', async (t) => {
  const ctx = memoryContext();
  const { url, hash } = await served(t, 'a source for the memory node\n');
  assert.deepEqual(await pinStateOf(ctx, hash.toSri()), { kind: 'not-mirrored' });

  const first = await pinSource(ctx, { urls: [url], hash, mode: 'flat' });
  assert.equal(first.status, 'pinned');
  assert.equal(first.record.name, 'memory-1.0.tar.gz');
  assert.ok(ctx.kubo.pins.has(first.record.cid));
  assert.equal(ctx.kubo.files.get(ctx.layout.mirrorFile(hash)), first.record.cid, 'placed where hashed-mirrors looks');
  assert.deepEqual(await pinStateOf(ctx, hash.toSri()), { kind: 'pinned', cid: first.record.cid, record: first.record });
  assert.equal((await pinSource(ctx, { urls: [url], hash, mode: 'flat' })).status, 'already-pinned');
  assert.deepEqual(await mirroredSources(ctx), [{ record: first.record, pinned: true }]);

  const removed = await unpinSource(ctx, hash);
  assert.equal(removed.cid, first.record.cid);
  assert.equal(await lookupMirror(ctx.kubo, ctx.layout, hash), undefined);
  assert.ok(!ctx.kubo.pins.has(first.record.cid));
  assert.deepEqual(await pinStateOf(ctx, hash.toSri()), { kind: 'not-mirrored' });
  assert.deepEqual(await mirroredSources(ctx), []);
  await assert.rejects(unpinSource(ctx, hash), /is not in the mirror at \/nix-ipfs\/mirror: nothing to unpin/);
});

test('a source whose bytes do not match its hash is never added', async (t) => {
  const ctx = memoryContext();
  const { url } = await served(t, 'the real bytes\n');
  const wrong = new NixHash('sha256', new Uint8Array(32).fill(1));
  await assert.rejects(pinSource(ctx, { urls: [url], hash: wrong, mode: 'flat' }), /could not download/);
  assert.equal(ctx.kubo.pins.size, 0);
  assert.equal(ctx.kubo.files.size, 0);
});

async function storePathWithNar(name: string, text: string): Promise<{ info: PathInfo; nar: Uint8Array }> {
  const { nar, narHash, narSize } = await singleFileNar(text);
  return { info: { path: `/nix/store/${'a'.repeat(31)}${name.length % 10}-${name}`, narHash, narSize, references: [], signatures: [] }, nar };
}

test('publish, the Published Paths listing and unpublish, on an in-memory node', async () => {
  const path = await storePathWithNar('memory-app', 'built in memory\n');
  const ctx = memoryContext(new StandInNix([path]));
  const result = await publish(ctx, [path.info.path]);
  assert.deepEqual(
    result.paths.map((p) => [p.storePath, p.status]),
    [[path.info.path, 'published']],
  );
  assert.equal(result.ipnsName, 'k51-memory-nix-ipfs');
  assert.equal(ctx.kubo.names.get('nix-ipfs'), result.rootCid, 'the root is published under the IPNS key');
  assert.equal((await publish(ctx, [path.info.path])).paths[0].status, 'already-published');

  const [entry] = await listPublished(ctx.kubo, ctx.layout);
  assert.equal(entry.storePath, path.info.path);
  assert.equal(entry.narCid, result.paths[0].narCid);
  assert.equal((await unpublishPath(ctx, path.info.path)).storePath, path.info.path);
  assert.deepEqual(await listPublished(ctx.kubo, ctx.layout), []);
  assert.ok(!ctx.kubo.pins.has(result.paths[0].narCid), 'the NAR is unpinned');
  await assert.rejects(unpublishPath(ctx, path.info.path), /is not published in \/nix-ipfs\/cache: nothing to unpublish/);
});

test('a signed publish signs what an unsigned publisher wrote before it, and says so', async () => {
  const path = await storePathWithNar('memory-signed', 'signed in memory\n');
  const ctx = memoryContext(new StandInNix([path]));
  const secretKey = parseSecretKey(generateKeyPair('memory-key-1').secret);
  await publish(ctx, [path.info.path]);
  const signed = await publish(ctx, [path.info.path], { secretKey });
  assert.equal(signed.paths[0]!.status, 're-signed');
  const narinfo = parseNarInfo(new TextDecoder().decode(await ctx.kubo.mfsRead(ctx.layout.narinfo(path.info.path.slice(11, 43)))));
  assert.deepEqual(
    verifySignatures(narinfo, [publicKeyOf(secretKey)]).map((v) => v.state),
    ['valid-trusted'],
  );
  assert.equal((await publish(ctx, [path.info.path], { secretKey })).paths[0]!.status, 'already-published');
});
