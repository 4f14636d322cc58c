import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { startKuboNode } from '../helpers/kubo';
import { Kubo, KuboUnreachableError, KuboTimeoutError } from '../../src/kubo/client';
import { keyFilePath } from '../../src/kubo/keystore';

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

test('Kubo adapter: add a stream, pin, MFS write/read/link/list, IPNS', async () => {
  const node = await startKuboNode();
  const kubo = new Kubo({ api: node.apiAddr });
  assert.match(await kubo.version(), /^0\.\d+/);
  const { cid, size } = await kubo.add(chunks('hello ', 'world\n'));
  assert.match(cid, /^bafkrei/);
  assert.equal(size, 12);
  assert.equal(await kubo.isPinned(cid), false);
  await kubo.pin(cid);
  assert.equal(await kubo.isPinned(cid), true);

  assert.equal(await kubo.mfsStat('/nix-ipfs/missing'), undefined);
  assert.equal(await kubo.mfsRead('/nix-ipfs/missing'), undefined);
  await kubo.mfsWrite('/nix-ipfs/a/b.txt', new TextEncoder().encode('first'));
  await kubo.mfsWrite('/nix-ipfs/a/b.txt', new TextEncoder().encode('2nd'));
  assert.equal(Buffer.from((await kubo.mfsRead('/nix-ipfs/a/b.txt'))!).toString(), '2nd');
  await kubo.mfsLink(cid, '/nix-ipfs/a/c');
  assert.deepEqual((await kubo.mfsList('/nix-ipfs/a')).map((e) => e.name).sort(), ['b.txt', 'c']);
  const root = (await kubo.mfsStat('/nix-ipfs'))!;
  const text = await (await fetch(`${node.gatewayUrl}/ipfs/${root.cid}/a/c`)).text();
  assert.equal(text, 'hello world\n');

  const name = await kubo.ensureKey('nix-ipfs');
  assert.equal(await kubo.ensureKey('nix-ipfs'), name);
  // Several publishes at once on a new node (pinning many sources) all get the one key made.
  const raced = await Promise.all(Array.from({ length: 16 }, () => kubo.ensureKey('raced')));
  assert.equal(new Set(raced).size, 1, raced.join(' '));
  assert.equal(await kubo.publishName(root.cid, 'nix-ipfs'), name);
  assert.equal(await kubo.resolve(`/ipns/${name}`), root.cid);
});

test('Kubo adapter: a key file a full disk left empty is replaced; a damaged one is named and kept', async () => {
  const node = await startKuboNode();
  const kubo = new Kubo({ api: node.apiAddr });
  // What Kubo leaves when the disk fills between creating a key's file and writing it.
  const empty = keyFilePath(node.ipfsPath, 'left-empty');
  await writeFile(empty, '');
  const name = await kubo.ensureKey('left-empty');
  assert.equal(await kubo.ensureKey('left-empty'), name);
  assert.ok((await readFile(empty)).length > 0, 'the new key is written where the empty file was');

  const damaged = keyFilePath(node.ipfsPath, 'cut-short');
  await writeFile(damaged, 'not a key');
  await assert.rejects(kubo.ensureKey('cut-short'), (error: Error) => {
    assert.match(error.message, /key named 'cut-short' that it cannot read: .*key_.* \(9 bytes\) is damaged.*Move that file away and run again/);
    return true;
  });
  assert.equal(await readFile(damaged, 'utf8'), 'not a key', 'a file that might hold a key is never removed');
});

test('Kubo adapter: a closed port fails fast with an actionable message', async () => {
  const kubo = new Kubo({ api: '/ip4/127.0.0.1/tcp/9', timeoutMs: 2000 });
  await assert.rejects(kubo.version(), (error: Error) => {
    assert.ok(error instanceof KuboUnreachableError);
    assert.match(error.message, /Kubo API at http:\/\/127\.0\.0\.1:9 is not reachable/);
    return true;
  });
});

test('Kubo adapter: a server that never answers times out within the configured timeout', async (t) => {
  const sockets: import('node:net').Socket[] = [];
  const server = createServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
  t.after(() => {
    sockets.forEach((s) => s.destroy());
    server.close();
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const kubo = new Kubo({ api: `http://127.0.0.1:${port}`, timeoutMs: 300 });
  await assert.rejects(kubo.version(), KuboTimeoutError);
  await assert.rejects(async () => {
    for await (const _ of kubo.cat('bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am'));
  }, /did not answer 'cat' within 300 ms/);
});

test('Kubo adapter: node facts for the status views, offline and online', async () => {
  for (const offline of [true, false]) {
    const node = await startKuboNode({ offline });
    const kubo = new Kubo({ api: node.apiAddr });
    const id = await kubo.id();
    assert.equal(id.peerId, node.peerId);
    assert.equal(await kubo.peerCount(), 0);
    assert.ok((await kubo.repoStat()).storageMax > 0n);
  }
});
