// Faults against real Kubo and Nix; a fault-injecting proxy stands in front of Kubo where one is needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { cli, run } from '../helpers/cli';
import { startFaultProxy } from '../helpers/fault-proxy';
import { buildClosure, buildWideClosure, nix, nixKeyPair, noNarinfoCache, tempDir } from '../helpers/nix-env';
import { positionOf, startLsp } from '../helpers/lsp';
import { parseNarInfo } from '../../src/core/narinfo';
import { parsePublicKey, verifySignatures } from '../../src/core/signature';
import { KuboAuthError, Kubo } from '../../src/kubo/client';

test('Kubo killed with SIGKILL in the middle of publishing 51 paths: a re-run completes and the index stays whole', async () => {
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const node = await startKuboNode({ dir: path.join(dir, 'repo') });
  const top = await buildWideClosure(dir, 'part', 50, '/usr/bin/head -c 200000 /dev/urandom > $out');
  const key = await nixKeyPair(dir, 'fault-test-1');

  // Kill the node in the middle, whatever the speed: past the first checkpoint (publish flushes MFS
  // after each batch of 16 paths), the proxy holds Kubo's answers while Kubo works on the next batch.
  const proxy = await startFaultProxy(node.apiUrl, { kind: 'hold-after', path: /\/api\/v0\/files\/flush/, passing: 1 });
  const publishing = cli(['publish', top, '--api', proxy.multiaddr, '--key-file', key.secretFile, '--concurrency', '2', '--timeout', '3000', '--json']);
  await proxy.holding();
  await new Promise((r) => setTimeout(r, 300)); // Kubo takes in part of the next batch
  await node.stop('SIGKILL');
  const interrupted = await publishing;
  assert.equal(interrupted.code, 1, 'the interrupted run reports failure');

  await node.start();
  const resumed = await cli(['publish', top, '--api', node.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const result = JSON.parse(resumed.stdout);
  assert.equal(result.paths.length, 51);
  assert.ok(
    result.paths.some((p: { status: string }) => p.status === 'already-published'),
    'work from before the kill is kept',
  );

  // Every narinfo parses (none half-written) and names a NAR that is there.
  const names = (await node.cli(['files', 'ls', '/nix-ipfs/cache'])).split('\n').filter((l) => l.endsWith('.narinfo'));
  assert.equal(names.length, 51);
  for (const name of names) {
    const info = parseNarInfo(await node.cli(['files', 'read', `/nix-ipfs/cache/${name}`]));
    await node.cli(['files', 'stat', `/nix-ipfs/cache/${info.url}`]);
  }
  const copied = await run(
    'nix',
    [
      'copy',
      '--from',
      `${node.gatewayUrl}/ipfs/${result.rootCid}/cache`,
      '--to',
      path.join(dir, 'storeB'),
      top,
      '--option',
      'trusted-public-keys',
      key.publicKey,
      ...noNarinfoCache,
    ],
    { env },
  );
  assert.equal(copied.code, 0, copied.stderr);
});

test('a proxy that corrupts bytes: fetch and verify reject them and nothing enters the Nix store', async () => {
  const dir = await tempDir();
  const node = await startKuboNode();
  const content = `precious ${Date.now()}\n`.repeat(100);
  const sha256 = createHash('sha256').update(content).digest('hex');
  await writeFile(path.join(dir, 'precious.txt'), content);
  const storePath = await nix('nix-store', ['--add-fixed', 'sha256', path.join(dir, 'precious.txt')]);
  assert.equal((await cli(['pin', '--url', 'http://127.0.0.1:9/x', '--hash', `sha256:${sha256}`, '--name', 'precious.txt', '--api', node.apiAddr])).code, 0);
  const { app } = await buildClosure(dir);
  const key = await nixKeyPair(dir, 'fault-test-2');
  assert.equal((await cli(['publish', app, '--api', node.apiAddr, '--key-file', key.secretFile])).code, 0);
  assert.equal((await run('nix-store', ['--delete', storePath])).code, 0);

  const proxy = await startFaultProxy(node.apiUrl, { kind: 'corrupt', path: /\/api\/v0\/cat/ });
  const fetched = await cli(['fetch', `sha256:${sha256}`, '--name', 'precious.txt', '--api', proxy.multiaddr]);
  assert.equal(fetched.code, 1);
  assert.match(fetched.stderr, /expected sha256-.*rejected, nothing was added to the Nix store/);
  assert.equal((await run('nix-store', ['--check-validity', storePath])).code, 1, 'the store does not have it');

  // Only the NAR is corrupted here: a corrupted narinfo is refused before any NAR is read.
  proxy.setFault({ kind: 'corrupt', path: /\/api\/v0\/cat\?.*\.nar(&|$)/ });
  const verified = await cli(['verify', app, '--api', proxy.multiaddr, '--trusted-key', key.publicKey]);
  assert.equal(verified.code, 1);
  assert.match(verified.stdout, /NAR BAD/);

  proxy.setFault({ kind: 'pass' });
  assert.equal((await cli(['fetch', `sha256:${sha256}`, '--name', 'precious.txt', '--api', proxy.multiaddr])).stdout.trim(), storePath);
});

test('a proxy that stalls: every command times out with a clear message; hovers do not block', async () => {
  const dir = await tempDir();
  const node = await startKuboNode();
  const proxy = await startFaultProxy(node.apiUrl, { kind: 'stall' });
  const { app } = await buildClosure(dir);
  const hash = `sha256-${createHash('sha256').update('x').digest('base64')}`;
  for (const args of [['publish', app], ['verify', app], ['fetch', hash], ['status']]) {
    const result = await cli([...args, '--api', proxy.multiaddr, '--timeout', '500']);
    assert.equal(result.code, 1, args[0]);
    assert.match(result.stderr, /did not answer '[\w/]+' within 500 ms/, args[0]);
  }
  // pin checks the node before downloading anything: it fails fast too.
  const pin = await cli(['pin', '--url', 'http://127.0.0.1:9/x', '--hash', hash, '--api', proxy.multiaddr, '--timeout', '500']);
  assert.match(pin.stderr, /within 500 ms/);

  proxy.setFault({ kind: 'pass' });
  const text = `{ fetchurl }: fetchurl { url = "http://127.0.0.1:9/a"; hash = "${hash}"; }`;
  const lsp = await startLsp({ kuboApi: proxy.multiaddr, hoverTimeoutMs: 200, requestTimeoutMs: 1000 });
  proxy.setFault({ kind: 'stall' });
  const uri = await lsp.open(path.join(dir, 'stall.nix'), text);
  const hover = await lsp.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, hash, 8) });
  assert.match(hover.contents.value, /SRI: `sha256-/);
  assert.match(hover.contents.value, /checking the Kubo node|unreachable/);
});

test('Kubo RPC authorization: a token opens the API, its absence gets an actionable error, the token is never printed', async () => {
  const token = `secret-${Date.now()}`;
  const node = await startKuboNode({
    apiAuth: `bearer:${token}`,
    config: { 'API.Authorizations': { ci: { AuthSecret: `bearer:${token}`, AllowedPaths: ['/api/v0'] } } },
  });
  assert.match(await new Kubo({ api: node.apiAddr, token }).version(), /^0\./);
  await assert.rejects(new Kubo({ api: node.apiAddr }).version(), (e: Error) => e instanceof KuboAuthError && /API token/.test(e.message));
  const denied = await cli(['status', '--api', node.apiAddr, '--token', `${token}x`]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /refused .* set the API token/);
  assert.doesNotMatch(denied.stderr + denied.stdout, new RegExp(token));
  const allowed = await cli(['status', '--api', node.apiAddr], { env: { ...process.env, NIX_IPFS_KUBO_TOKEN: token } });
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.doesNotMatch(allowed.stdout, new RegExp(token));
});

test('a tampered narinfo served by the cache is reported invalid by verify, per signature', async () => {
  const dir = await tempDir();
  const node = await startKuboNode();
  const { app } = await buildClosure(dir);
  const key = await nixKeyPair(dir, 'fault-test-5');
  const stranger = await nixKeyPair(dir, 'stranger-1');
  await cli(['publish', app, '--api', node.apiAddr, '--key-file', key.secretFile]);
  const good = await cli(['verify', app, '--api', node.apiAddr, '--trusted-key', key.publicKey, '--no-nix-keys']);
  assert.equal(good.code, 0, good.stdout);
  const untrusted = await cli(['verify', app, '--api', node.apiAddr, '--trusted-key', stranger.publicKey, '--no-nix-keys']);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stdout, /unknown-key\s+fault-test-5/);
  assert.match(untrusted.stdout, /NOT trusted: no valid signature by a trusted key/);
  const narinfo = `/nix-ipfs/cache/${path.basename(app).slice(0, 32)}.narinfo`;
  const text = await node.cli(['files', 'read', narinfo]);
  await node.cli(['files', 'rm', narinfo]);
  await node.cli(['files', 'write', '--create', narinfo], text.replace(/^References: .*$/m, 'References: '));
  const tampered = await cli(['verify', app, '--api', node.apiAddr, '--trusted-key', key.publicKey, '--no-nix-keys']);
  assert.equal(tampered.code, 1);
  assert.match(tampered.stdout, /invalid\s+fault-test-5/);
});

test('two publishers at once into one cache, one signing and one not: a signed publish after them leaves every narinfo signed', async () => {
  const dir = await tempDir();
  const node = await startKuboNode();
  const top = await buildWideClosure(dir, 'race', 40);
  const key = await nixKeyPair(dir, 'race-test-1');
  const [signed, unsigned] = await Promise.all([
    cli(['publish', top, '--api', node.apiAddr, '--key-file', key.secretFile, '--json']),
    cli(['publish', top, '--api', node.apiAddr, '--json']),
  ]);
  assert.equal(signed.code, 0, signed.stdout + signed.stderr);
  assert.equal(unsigned.code, 0, unsigned.stdout + unsigned.stderr);

  const again = await cli(['publish', top, '--api', node.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const trusted = [parsePublicKey(key.publicKey)];
  const names = (await node.cli(['files', 'ls', '/nix-ipfs/cache'])).split('\n').filter((l) => l.endsWith('.narinfo'));
  assert.equal(names.length, 41);
  for (const name of names) {
    const info = parseNarInfo(await node.cli(['files', 'read', `/nix-ipfs/cache/${name}`]));
    assert.deepEqual(
      verifySignatures(info, trusted).map((v) => v.state),
      ['valid-trusted'],
      `${name} is signed`,
    );
  }
});
