// Sources beyond the flat-file case: unpacked trees as content-addressed cache entries, fetch back
// into the store, verify by narinfo URL and CID, add by reference (filestore), pin a .nix file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { cli, run } from '../helpers/cli';
import { nix, noNarinfoCache, tempDir } from '../helpers/nix-env';
import { parsePathInfoJson } from '../../src/core/path-info';
import { parseHash } from '../../src/core/hash';

test('an unpacked source is published content-addressed: Nix takes it unsigned, fetch and verify work', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const tree = path.join(dir, 'source');
  await mkdir(path.join(tree, 'src'), { recursive: true });
  await writeFile(path.join(tree, 'src/main.c'), `int main() { return ${Date.now() % 100}; }\n`);
  await writeFile(path.join(tree, 'README'), 'unpacked tarball\n');
  const storePath = await nix('nix-store', ['--add-fixed', '--recursive', 'sha256', tree]);
  const [info] = parsePathInfoJson(await nix('nix', ['path-info', '--json', storePath]));
  const sri = parseHash(info.narHash, 'sha256').hash.toSri();

  const pinned = await cli(['pin', '--url', 'http://127.0.0.1:9/source.tar.gz', '--hash', sri, '--recursive', '--api', node.apiAddr, '--json']);
  assert.equal(pinned.code, 0, pinned.stderr);
  const {
    ipnsName,
    pinned: [record],
  } = JSON.parse(pinned.stdout);
  assert.equal(record.mode, 'recursive');
  assert.equal(record.storePath, storePath);

  // Stock Nix accepts a content-addressed path without any trusted key.
  const cacheUrl = `${node.gatewayUrl}/ipns/${ipnsName}/cache`;
  const copied = await run(
    'nix',
    [
      'copy',
      '--from',
      cacheUrl,
      '--to',
      path.join(dir, 'storeB'),
      storePath,
      '--option',
      'require-sigs',
      'true',
      '--option',
      'trusted-public-keys',
      '',
      ...noNarinfoCache,
    ],
    { env },
  );
  assert.equal(copied.code, 0, copied.stderr);

  const hashPart = path.basename(storePath).slice(0, 32);
  const byUrl = await cli(['verify', `${cacheUrl}/${hashPart}.narinfo`, '--api', node.apiAddr, '--no-nix-keys']);
  assert.equal(byUrl.code, 0, byUrl.stdout + byUrl.stderr);
  assert.match(byUrl.stdout, /trusted: content-addressed: .*fixed:r:sha256:/);
  const narinfoCid = (await node.cli(['files', 'stat', '--hash', `/nix-ipfs/cache/${hashPart}.narinfo`])).trim();
  const byCid = await cli(['verify', narinfoCid, '--api', node.apiAddr, '--no-nix-keys', '--json']);
  assert.equal(byCid.code, 0, byCid.stderr);
  assert.equal(JSON.parse(byCid.stdout).nar.ok, true);

  // Gone from the store, fetched back from IPFS, verified on the way.
  assert.equal((await run('nix-store', ['--delete', storePath])).code, 0);
  const fetched = await cli(['fetch', sri, '--recursive', '--api', node.apiAddr, '--json']);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.deepEqual(JSON.parse(fetched.stdout), { storePath, from: 'cache', cid: record.cid });
});

test("--nocopy adds a store file by reference through Kubo's filestore", async (t) => {
  // The filestore only references files below the folder holding the repository: keep it under /nix.
  // An unprivileged user cannot create one there: the multi-user rig made theirs, as an administrator would.
  const given = process.env.NIX_IPFS_TEST_NIX_REPO;
  if (!given && process.getuid?.() !== 0) return t.skip('an ordinary user needs a repository under /nix made by an administrator (npm test as root makes one)');
  const repo = given ?? path.join('/nix', `ipfs-test-${process.pid}`);
  const node = await startKuboNode({ dir: repo, config: { 'Experimental.FilestoreEnabled': true } });
  t.after(async () => {
    await node.dispose();
    const entries = given ? (await readdir(repo)).map((e) => path.join(repo, e)) : [repo];
    await Promise.all(entries.map((e) => rm(e, { recursive: true, force: true })));
  });
  const dir = await tempDir();
  const file = path.join(dir, 'by-reference.txt');
  const content = `referenced ${Date.now()}\n`.repeat(1000);
  await writeFile(file, content);
  await nix('nix-store', ['--add-fixed', 'sha256', file]);
  const sha256 = createHash('sha256').update(content).digest('hex');
  // The URL is dead: the bytes can only come from the store file, by reference.
  const pinByReference = (api: string, ...extra: string[]) =>
    cli(['pin', '--url', 'http://127.0.0.1:9/dead', '--hash', `sha256:${sha256}`, '--name', 'by-reference.txt', '--nocopy', '--api', api, ...extra]);
  const pinned = await pinByReference(node.apiAddr, '--json');
  assert.equal(pinned.code, 0, pinned.stderr);
  const { cid } = JSON.parse(pinned.stdout).pinned[0];
  // Listed relative to the filestore root (/nix): the blocks point into the store file.
  assert.match(await node.cli(['filestore', 'ls']), new RegExp(`${cid}\\s+\\d+\\s+store/\\w{32}-by-reference\\.txt`));
  assert.equal(await node.cli(['cat', cid]), content);

  const plain = await startKuboNode();
  const refused = await pinByReference(plain.apiAddr);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Experimental\.FilestoreEnabled true/);
  const outside = await startKuboNode({ config: { 'Experimental.FilestoreEnabled': true } });
  const elsewhere = await pinByReference(outside.apiAddr);
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.stderr, /IPFS_PATH=\/nix\/ipfs/);
});

test('pin <file.nix> pins its fetchers; a directory needs --all; a wrong hash is refused before anything is added', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const good = `good source ${Date.now()}\n`;
  const server = createServer((req, res) => res.end(req.url === '/good.tar.gz' ? good : 'tampered bytes')).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  const sri = `sha256-${createHash('sha256').update(good).digest('base64')}`;
  const wrong = `sha256-${createHash('sha256').update('something else').digest('base64')}`;
  await writeFile(
    path.join(dir, 'default.nix'),
    `{ fetchurl }: [ (fetchurl { url = "${base}/good.tar.gz"; hash = "${sri}"; }) (fetchurl { url = "${base}/bad.tar.gz"; hash = "${wrong}"; }) ]\n`,
  );
  try {
    const result = await cli(['pin', path.join(dir, 'default.nix'), '--api', node.apiAddr, '--json']);
    assert.equal(result.code, 1, 'one source failed');
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.pinned.length, 1);
    assert.equal(summary.failed.length, 1);
    assert.match(summary.failed[0].error, /hash mismatch/);
    const pins = await node.cli(['pin', 'ls', '--type=recursive', '-q']);
    assert.ok(pins.includes(summary.pinned[0].cid));
    const wrongCid = (await node.cli(['add', '-Q', '--only-hash', '--cid-version=1', '--raw-leaves', '-'], 'tampered bytes')).trim();
    assert.ok(!pins.includes(wrongCid), 'the tampered download was never added');
    const again = JSON.parse((await cli(['pin', path.join(dir, 'default.nix'), '--api', node.apiAddr, '--json'])).stdout);
    assert.equal(again.alreadyPinned.length, 1);
    const needsAll = await cli(['pin', dir, '--api', node.apiAddr]);
    assert.equal(needsAll.code, 2);
    assert.match(needsAll.stderr, /add --all/);
  } finally {
    server.close();
  }
});

test('two store paths with identical contents share one NAR and publish together', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const content = `same bytes ${Date.now()}\n`;
  await writeFile(path.join(dir, 'first-name'), content);
  await writeFile(path.join(dir, 'second-name'), content);
  const paths = [await nix('nix-store', ['--add', path.join(dir, 'first-name')]), await nix('nix-store', ['--add', path.join(dir, 'second-name')])];
  const result = await cli(['publish', ...paths, '--api', node.apiAddr, '--concurrency', '2', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const published = JSON.parse(result.stdout).paths;
  assert.equal(published.length, 2);
  assert.equal(published[0].narCid, published[1].narCid);
});
