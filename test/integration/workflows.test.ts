// The proof that stock Nix consumes what nix-ipfs publishes, through Kubo's gateway,
// with Nix's own signature and hash checks on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { cli, run } from '../helpers/cli';
import { buildClosure, nix, nixBuildFrom, nixCopyFrom, nixKeyPair, tempDir, untrustedDaemonUser } from '../helpers/nix-env';

/** Whether the store holds the path as valid (registered), which is what Nix would use. */
async function storeHas(storeDir: string, storePath: string): Promise<boolean> {
  if (!existsSync(storeDir)) return false;
  return (await run('nix-store', ['--store', storeDir, '--check-validity', storePath])).code === 0;
}

test('1. a published closure is substituted by stock Nix through the gateway, and rejected when untrusted or tampered', async () => {
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
  const node = await startKuboNode();
  const { app, dep } = await buildClosure(dir);
  const key = await nixKeyPair(dir, 'nix-ipfs-test-1');
  const other = await nixKeyPair(dir, 'someone-else-1');

  const published = await cli(['publish', app, '--api', node.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(published.code, 0, published.stderr);
  const result = JSON.parse(published.stdout);
  assert.equal(result.paths.length, 2);
  assert.deepEqual(result.failed, []);
  const cacheUrl = `${node.gatewayUrl}/ipns/${result.ipnsName}/cache`;

  // Trusted key: the whole closure arrives.
  const storeB = path.join(dir, 'storeB');
  const copied = await nixCopyFrom(cacheUrl, storeB, app, key.publicKey, env);
  assert.equal(copied.code, 0, copied.stderr);
  const closure = (await nix('nix-store', ['--store', storeB, '-qR', app], env)).split('\n').sort();
  assert.deepEqual(closure, [app, dep].sort());

  // Untrusted key: Nix refuses, and the store stays empty.
  const storeC = path.join(dir, 'storeC');
  const untrusted = await nixCopyFrom(cacheUrl, storeC, app, other.publicKey, env);
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.stderr, /lacks a valid signature/);
  assert.equal(await storeHas(storeC, app), false);

  // A re-run publishes nothing new.
  const again = JSON.parse((await cli(['publish', app, '--api', node.apiAddr, '--key-file', key.secretFile, '--json'])).stdout);
  assert.deepEqual(
    again.paths.map((p: { status: string }) => p.status),
    ['already-published', 'already-published'],
  );

  // A narinfo field tampered in MFS: the signature no longer matches.
  const hashPart = path.basename(app).slice(0, 32);
  const narinfoPath = `/nix-ipfs/cache/${hashPart}.narinfo`;
  const original = await node.cli(['files', 'read', narinfoPath]);
  const tampered = original.replace(/^NarSize: (\d+)$/m, (_, n) => `NarSize: ${Number(n) + 1}`);
  assert.notEqual(tampered, original);
  await replaceMfsFile(node, narinfoPath, tampered);
  const storeD = path.join(dir, 'storeD');
  const afterTamper = await nixCopyFrom(cacheUrl, storeD, app, key.publicKey, env);
  assert.notEqual(afterTamper.code, 0);
  assert.match(afterTamper.stderr, /lacks a valid signature/);
  assert.equal(await storeHas(storeD, app), false);
  await replaceMfsFile(node, narinfoPath, original);

  // The NAR replaced by other bytes: Nix's hash check fails.
  const narUrl = /^URL: (.*)$/m.exec(original)![1];
  const fakeNar = (await run('nix-store', ['--dump', dep])).stdout;
  await replaceMfsFile(node, `/nix-ipfs/cache/${narUrl}`, fakeNar);
  const storeE = path.join(dir, 'storeE');
  const afterSwap = await nixCopyFrom(cacheUrl, storeE, app, key.publicKey, env);
  assert.notEqual(afterSwap.code, 0);
  assert.equal(await storeHas(storeE, app), false);
});

/** Replaces an MFS file and re-points the IPNS name at the new root, as a tamperer with the node would. */
async function replaceMfsFile(node: Awaited<ReturnType<typeof startKuboNode>>, mfsPath: string, content: string) {
  await node.cli(['files', 'rm', mfsPath]);
  await node.cli(['files', 'write', '--create', mfsPath], content);
  const root = (await node.cli(['files', 'stat', '--hash', '/nix-ipfs'])).trim();
  await node.cli(['name', 'publish', '--allow-offline', '--key', 'nix-ipfs', `/ipfs/${root}`]);
}

test('2. a fetchurl source whose URL died builds from the hashed mirror on the gateway', async () => {
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
  const node = await startKuboNode();
  const content = `source tarball ${process.pid} ${Date.now()}\n`;
  const sha256 = createHash('sha256').update(content).digest('hex');

  // Upstream is alive while we pin...
  const upstream = createServer((_, res) => res.end(content)).listen(0, '127.0.0.1');
  await new Promise((r) => upstream.once('listening', r));
  const url = `http://127.0.0.1:${(upstream.address() as import('node:net').AddressInfo).port}/hello-1.0.tar.gz`;
  const pinned = await cli(['pin', '--url', url, '--hash', `sha256:${sha256}`, '--api', node.apiAddr, '--json']);
  assert.equal(pinned.code, 0, pinned.stderr);
  const { ipnsName, pinned: records } = JSON.parse(pinned.stdout);
  assert.equal(records.length, 1);
  assert.match(await node.cli(['pin', 'ls', '--type=recursive']), new RegExp(records[0].cid));
  // ...and dead when Nix builds.
  await new Promise((r) => upstream.close(r));

  const file = path.join(dir, 'fetch.nix');
  await writeFile(file, `import <nix/fetchurl.nix> { url = "${url}"; sha256 = "${sha256}"; }\n`);
  const mirror = `${node.gatewayUrl}/ipns/${ipnsName}/mirror/`;
  const withoutMirror = await run('nix-build', ['--no-out-link', file, '--option', 'hashed-mirrors', ''], { env });
  assert.notEqual(withoutMirror.code, 0, 'the URL must really be dead');
  const conf = await cli(['nix-conf', '--api', node.apiAddr, '--gateway', node.gatewayUrl]);
  assert.equal(conf.code, 0, conf.stderr);
  assert.ok(conf.stdout.includes(`hashed-mirrors = ${mirror}`), conf.stdout);
  assert.match(conf.stdout, /max-jobs paths at a time \(1 now\)[\s\S]*\n# max-jobs = 16\n/, 'Nix 2.8 substitutes max-jobs paths at a time');
  if (untrustedDaemonUser) {
    // nix-daemon ignores an untrusted user's hashed-mirrors (Nix 2.8 does not even say so to the
    // client): nix-ipfs says who must add it where...
    const ignored = await run('nix-build', ['--no-out-link', file, '--option', 'hashed-mirrors', mirror], { env });
    assert.notEqual(ignored.code, 0, 'the daemon must not take the mirror from an untrusted user');
    assert.match(conf.stdout, /untrusted user[\s\S]*administrator[\s\S]*\/etc\/nix\/nix\.conf/);
    assert.match(conf.stderr, /not a trusted user of nix-daemon/);
    // ...and what the user can do alone: fetch the source from IPFS; the build then finds it in the store.
    const fetched = await cli(['fetch', `sha256:${sha256}`, '--name', 'hello-1.0.tar.gz', '--api', node.apiAddr]);
    assert.equal(fetched.code, 0, fetched.stderr);
  } else {
    assert.match(conf.stdout, /your Nix opens the store itself/);
  }
  const built = await run('nix-build', ['--no-out-link', file, ...(untrustedDaemonUser ? [] : ['--option', 'hashed-mirrors', mirror])], { env });
  assert.equal(built.code, 0, built.stderr);
  assert.equal(await readFile(built.stdout.trim(), 'utf8'), content);
});

test('3. what node A published, node B serves to Nix over bitswap', async () => {
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
  const [a, b] = await Promise.all([startKuboNode({ offline: false }), startKuboNode({ offline: false })]);
  await b.connect(a);
  const { app, dep } = await buildClosure(dir);
  // A key made by nix-ipfs itself (no Nix, no root): stock Nix accepts what it signs.
  const key = { secretFile: path.join(dir, 'own.sk'), publicKey: '' };
  const keygen = await cli(['keygen', 'nix-ipfs-test-3', key.secretFile, path.join(dir, 'own.pk')]);
  assert.equal(keygen.code, 0, keygen.stderr);
  key.publicKey = keygen.stdout.trim();
  const published = await cli(['publish', app, '--api', a.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(published.code, 0, published.stderr);
  const { rootCid } = JSON.parse(published.stdout);

  // As nix-conf suggests for this Nix: 16 paths at a time (a build's substitution, bounded by max-jobs).
  const storeB = path.join(dir, 'storeB');
  const copied = await nixBuildFrom(`${b.gatewayUrl}/ipfs/${rootCid}/cache`, storeB, app, key.publicKey, 16, env);
  assert.equal(copied.code, 0, copied.stderr);
  assert.deepEqual((await nix('nix-store', ['--store', storeB, '-qR', app], env)).split('\n').sort(), [app, dep].sort());
  // B now holds the blocks itself.
  assert.match(await b.cli(['refs', 'local']), new RegExp(JSON.parse(published.stdout).paths[0].narCid));

  // C replicates A's whole cache by IPNS name, then serves it alone: any peer that has it can serve it.
  const c = await startKuboNode({ offline: false });
  await c.connect(a);
  const { ipnsName } = JSON.parse(published.stdout);
  const replicated = await cli(['replicate', `${a.gatewayUrl}/ipfs/${rootCid}/cache`, '--api', c.apiAddr, '--json']);
  assert.equal(replicated.code, 0, replicated.stderr);
  assert.equal(JSON.parse(replicated.stdout).rootCid, rootCid);
  assert.ok(JSON.parse(replicated.stdout).blocks > 0);
  assert.match(await c.cli(['pin', 'ls', '--type=recursive']), new RegExp(rootCid));
  await a.stop();
  const storeC = path.join(dir, 'storeC');
  const fromC = await nixCopyFrom(`${c.gatewayUrl}/ipfs/${rootCid}/cache`, storeC, app, key.publicKey, env);
  assert.equal(fromC.code, 0, fromC.stderr);
  const unknown = await cli(['replicate', `/ipns/${ipnsName}`, '--api', c.apiAddr, '--timeout', '3000']);
  assert.equal(unknown.code, 1, 'the IPNS record lives on the stopped node A');
  assert.match(unknown.stderr, /cannot resolve \/ipns\/.*ipfs swarm connect/);
  assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'no stack trace');
});

test('4. with Kubo stopped every command fails fast with an actionable message', async () => {
  const node = await startKuboNode();
  const api = node.apiAddr;
  await node.stop();
  const dir = await tempDir();
  const { app } = await buildClosure(dir);
  const hash = `sha256-${createHash('sha256').update('x').digest('base64')}`;
  for (const args of [['publish', app], ['pin', '--url', 'http://127.0.0.1:9/x', '--hash', hash], ['verify', app], ['fetch', hash], ['nix-conf'], ['status']]) {
    const result = await cli([...args, '--api', api, '--timeout', '5000']);
    assert.equal(result.code, 1, `${args[0]}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`Kubo API at http://127\\.0\\.0\\.1:\\d+ is not reachable`), args[0]);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
});
