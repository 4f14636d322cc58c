// A team's build cache on its own private IPFS network: every node on loopback, joined with
// `nix-ipfs network join` (swarm key, the team's bootstrap peers, the DHT among them), never
// the public network.
import { spawn } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startKuboNode, type KuboNode, type KuboNodeOptions } from '../helpers/kubo';
import { cli, repoRoot, run } from '../helpers/cli';
import { buildClosure, nix, nixCopyFrom, nixKeyPair, tempDir, untrustedDaemonUser } from '../helpers/nix-env';

/** Loopback nodes only find each other through the DHT when it keeps loopback addresses; few connections each. */
const LOOPBACK_TEAM_CONFIG = {
  'Routing.LoopbackAddressesOnLanDHT': true,
  'Swarm.ConnMgr': { LowWater: 4, HighWater: 8, GracePeriod: '30s' },
};

function peerAddress(node: KuboNode): string {
  return `${node.swarmAddrs[0].replace(/\/p2p\/.*$/, '')}/p2p/${node.peerId}`;
}

/** A node of the team: `nix-ipfs network join` configures its repository before its daemon first starts. */
function teamNode(keyFile: string, bootstrap: KuboNode[], options: KuboNodeOptions = {}): Promise<KuboNode> {
  const peers = bootstrap.flatMap((node) => ['--peer', peerAddress(node)]);
  return startKuboNode({
    offline: false,
    ...options,
    config: { ...LOOPBACK_TEAM_CONFIG, ...options.config },
    prepare: async (repo) => {
      const joined = await cli(['network', 'join', keyFile, ...peers, '--repo', repo, '--yes']);
      assert.equal(joined.code, 0, joined.stderr);
    },
  });
}

/** Asks until `check` holds, a bounded number of times: the DHT and connections settle on their own schedule. */
async function eventually(what: string, check: () => Promise<boolean>, tries = 60): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.fail(`${what}: still not so after ${tries} tries`);
}

async function closureIn(storeDir: string, storePath: string): Promise<string[]> {
  return (await nix('nix-store', ['--store', storeDir, '-qR', storePath])).split('\n').sort();
}

/** Builds a fresh two-path closure (an app referring to a dependency) with extra nix-build arguments. */
async function buildWith(dir: string, tag: string, args: string[]): Promise<{ app: string; dep: string }> {
  const file = path.join(dir, `team-${tag}.nix`);
  await writeFile(
    file,
    `let dep = derivation { name = "team-dep"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${tag} > $out" ]; };
in derivation { name = "team-app"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo uses \${dep} > $out" ]; }
`,
  );
  const built = await run('nix-build', ['--no-out-link', file, '--option', 'substituters', '', ...args]);
  assert.equal(built.code, 0, built.stderr);
  const app = built.stdout.trim();
  return { app, dep: (await readFile(app, 'utf8')).trim().split(' ')[1] };
}

async function queued(stateDir: string): Promise<string[]> {
  return (await readdir(path.join(stateDir, 'publish-queue')).catch(() => [])).filter((name) => name.endsWith('.paths'));
}

/** Builds a fresh closure on the node's machine and publishes it, signed; returns the closure and the published root. */
async function buildAndPublish(dir: string, node: KuboNode, key: { secretFile: string }, tag: string) {
  const closure = await buildWith(dir, `${tag}-${process.pid}-${Date.now()}`, []);
  const published = await cli(['publish', closure.app, '--api', node.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(published.code, 0, published.stderr);
  const { rootCid, ipnsName } = JSON.parse(published.stdout) as { rootCid: string; ipnsName: string };
  return { ...closure, rootCid, ipnsName };
}

async function recursivePins(node: KuboNode): Promise<string> {
  return node.cli(['pin', 'ls', '--type=recursive']);
}

async function following(node: KuboNode, stateDir: string) {
  const listed = await cli(['following', '--json', '--api', node.apiAddr, '--state-dir', stateDir]);
  assert.equal(listed.code, 0, listed.stderr);
  return JSON.parse(listed.stdout) as { follows: { name: string; root?: string; versions: number; bytes?: number; lagSeconds?: number; behind: boolean }[] };
}

/** Stops a test's daemons when it ends: those of earlier tests would crowd the few cores. */
function stopWhenDone(t: TestContext, ...nodes: KuboNode[]): void {
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
}

async function peersOf(node: KuboNode): Promise<string> {
  return node.cli(['swarm', 'peers']);
}

test('1. network init makes a key; join puts a repository on the network; a node without the key can neither connect nor fetch', async (t) => {
  const dir = await tempDir();
  const keyFile = path.join(dir, 'swarm.key');
  const init = await cli(['network', 'init', keyFile, '--api', '/ip4/127.0.0.1/tcp/9']);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.match(init.stdout, /nix-ipfs network join .*swarm\.key --peer /);
  assert.match(await readFile(keyFile, 'utf8'), /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);

  const bootstrap = await teamNode(keyFile, []);
  const teammate = await teamNode(keyFile, [bootstrap]);
  const outsider = await startKuboNode({ offline: false, config: { ...LOOPBACK_TEAM_CONFIG, 'Routing.Type': 'dht', Bootstrap: [peerAddress(bootstrap)] } });
  stopWhenDone(t, bootstrap, teammate, outsider);

  // join shows what it would change and, without a terminal to ask on, changes nothing unless --yes.
  const configBefore = await readFile(path.join(outsider.ipfsPath, 'config'), 'utf8');
  const refused = await cli(['network', 'join', keyFile, '--peer', peerAddress(teammate)], { env: { ...process.env, IPFS_PATH: outsider.ipfsPath } });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`changes the Kubo repository ${outsider.ipfsPath}`));
  assert.match(refused.stderr, /swarm\.key +\(none\) -> \(the team key\)[\s\S]*Bootstrap +\[.*\] -> \[.*\]/);
  assert.match(refused.stderr, /Internal\.Bitswap\.WantHaveReplaceSize +\(default\) -> 1048576/);
  assert.match(refused.stderr, /nothing was changed: pass --yes/);
  assert.equal(await readFile(path.join(outsider.ipfsPath, 'config'), 'utf8'), configBefore);
  assert.equal(existsSync(path.join(outsider.ipfsPath, 'swarm.key')), false);

  // A joined node answers a want-have with blocks up to 1 MiB (one bitswap round trip less).
  const joinedConfig = JSON.parse(await readFile(path.join(teammate.ipfsPath, 'config'), 'utf8'));
  assert.equal(joinedConfig.Internal.Bitswap.WantHaveReplaceSize, 1 << 20);
  // The teammate reached the bootstrap node through its Bootstrap list alone.
  await eventually('the teammate connects to the bootstrap node', async () => (await peersOf(teammate)).includes(bootstrap.peerId));
  const cid = (await teammate.cli(['add', '-q', '--cid-version=1'], `built by the team ${Date.now()}\n`)).trim();
  const renewed = await cli(['network', 'reconnect', '--api', bootstrap.apiAddr]);
  assert.equal(renewed.code, 0, renewed.stderr);
  assert.match(await bootstrap.cli(['cat', '--timeout=60s', cid]), /built by the team/);

  // Without the key: no connection, so nothing to fetch.
  await assert.rejects(outsider.cli(['swarm', 'connect', '--timeout=10s', peerAddress(bootstrap)]));
  await assert.rejects(outsider.cli(['cat', '--timeout=5s', cid]));
  assert.equal((await peersOf(outsider)).trim(), '');
  assert.doesNotMatch(await peersOf(bootstrap), new RegExp(outsider.peerId));
});

test('2. a closure exported to a CAR file is substituted by stock Nix on an offline node that imported it', async (t) => {
  const dir = await tempDir();
  const publisher = await startKuboNode();
  stopWhenDone(t, publisher);
  const { app, dep } = await buildClosure(dir);
  const key = await nixKeyPair(dir, 'team-car-1');
  const published = await cli(['publish', app, '--api', publisher.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(published.code, 0, published.stderr);

  const car = path.join(dir, 'closure.car');
  const exported = await cli(['export', app, car, '--api', publisher.apiAddr, '--json']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.deepEqual(JSON.parse(exported.stdout).storePaths, [app, dep].sort());
  const missing = await cli(['export', '/nix/store/00000000000000000000000000000000-absent', path.join(dir, 'absent.car'), '--api', publisher.apiAddr]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /00000000000000000000000000000000-absent is not in the cache .*publish it there first/);
  assert.equal(existsSync(path.join(dir, 'absent.car')), false);

  const offline = await startKuboNode();
  stopWhenDone(t, offline);
  const imported = await cli(['import', car, '--api', offline.apiAddr, '--gateway', offline.gatewayUrl, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const [cache] = JSON.parse(imported.stdout).caches;
  assert.equal(cache.cacheUrl, `${offline.gatewayUrl}/ipfs/${JSON.parse(exported.stdout).rootCid}/cache`);
  assert.match(await offline.cli(['pin', 'ls', '--type=recursive']), new RegExp(cache.cid));

  const store = path.join(dir, 'store-offline');
  const copied = await nixCopyFrom(cache.cacheUrl, store, app, key.publicKey);
  assert.equal(copied.code, 0, copied.stderr);
  assert.deepEqual(await closureIn(store, app), [app, dep].sort());
  const other = await nixKeyPair(dir, 'not-the-team-1');
  const untrusted = await nixCopyFrom(cache.cacheUrl, path.join(dir, 'store-untrusted'), app, other.publicKey);
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.stderr, /lacks a valid signature/);
});

test('3. the post-build-hook queues what Nix builds and returns; the queue survives Kubo being down and drains later', async (t) => {
  if (untrustedDaemonUser) return t.skip("nix-daemon takes post-build-hook from nix.conf only, never from an untrusted user's --option");
  const dir = await tempDir();
  const state = path.join(dir, 'state');
  const node = await startKuboNode();
  stopWhenDone(t, node);
  const key = await nixKeyPair(dir, 'team-hook-1');
  const script = path.join(dir, 'nix-ipfs-post-build');
  const written = await cli(['post-build-hook', '--write-script', script, '--state-dir', state]);
  assert.equal(written.code, 0, written.stderr);
  assert.match(written.stdout, new RegExp(`post-build-hook = ${script}`));
  const conf = await cli(['nix-conf', '--post-build-hook', script, '--api', node.apiAddr, '--gateway', node.gatewayUrl]);
  assert.equal(conf.code, 0, conf.stderr);
  assert.match(conf.stdout, new RegExp(`only queues the built paths[\\s\\S]*\\npost-build-hook = ${script}\\n`));

  // Kubo is down while Nix builds: the hook only queues, so the build goes through.
  await node.stop();
  const { app, dep } = await buildWith(dir, `hook-${process.pid}-${Date.now()}`, ['--option', 'post-build-hook', script]);
  assert.equal((await queued(state)).length, 2, 'one entry per derivation Nix built');
  const down = await cli(['post-build-hook', '--drain', '--state-dir', state, '--api', node.apiAddr, '--key-file', key.secretFile, '--timeout', '5000']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /is not reachable[\s\S]*The queue in .* is kept/);
  assert.equal((await queued(state)).length, 2);

  await node.start();
  const drained = await cli(['post-build-hook', '--drain', '--state-dir', state, '--api', node.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(drained.code, 0, drained.stderr);
  assert.deepEqual({ ...JSON.parse(drained.stdout), batches: 1 }, { busy: false, batches: 1, published: 2, gone: [], failed: [], left: 0 });
  assert.deepEqual(await queued(state), []);
  const root = (await node.cli(['files', 'stat', '--hash', '/nix-ipfs'])).trim();
  const store = path.join(dir, 'store-hook');
  const copied = await nixCopyFrom(`${node.gatewayUrl}/ipfs/${root}/cache`, store, app, key.publicKey);
  assert.equal(copied.code, 0, copied.stderr);
  assert.deepEqual(await closureIn(store, app), [app, dep].sort());
});

test("4. follow keeps a replica of a teammate's cache through the network, releases old versions, and survives the teammate going away", async (t) => {
  const dir = await tempDir();
  const keyFile = path.join(dir, 'swarm.key');
  assert.equal((await cli(['network', 'init', keyFile, '--api', '/ip4/127.0.0.1/tcp/9'])).code, 0);
  const bootstrap = await teamNode(keyFile, []);
  const [publisher, follower] = await Promise.all([teamNode(keyFile, [bootstrap]), teamNode(keyFile, [bootstrap])]);
  stopWhenDone(t, bootstrap, publisher, follower);
  const key = await nixKeyPair(dir, 'team-follow-1');
  const state = path.join(dir, 'follower-state');
  const follow = (...args: string[]) => cli(['follow', ...args, '--once', '--api', follower.apiAddr, '--state-dir', state, '--json']);

  const v1 = await buildAndPublish(dir, publisher, key, 'v1');
  const first = await follow(v1.ipnsName, '--keep', '2');
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), [{ name: v1.ipnsName, status: 'updated', root: v1.rootCid, released: [] }]);
  const [status] = (await following(follower, state)).follows;
  assert.equal(status.root, v1.rootCid);
  assert.equal(status.behind, false);
  assert.ok(status.bytes! > 0 && status.lagSeconds! >= 0, JSON.stringify(status));
  assert.doesNotMatch(await follower.cli(['config', 'Bootstrap']), new RegExp(publisher.peerId), 'the follower only knows the bootstrap node');

  const v2 = await buildAndPublish(dir, publisher, key, 'v2');
  assert.equal((await follow()).code, 0);
  const v3 = await buildAndPublish(dir, publisher, key, 'v3');
  const third = await follow();
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(JSON.parse(third.stdout)[0].released, [v1.rootCid], 'keep 2: the oldest version goes');
  const pins = await recursivePins(follower);
  assert.ok(pins.includes(v3.rootCid) && pins.includes(v2.rootCid) && !pins.includes(v1.rootCid), pins);

  // The publisher goes away: the follower keeps what it holds (its record lives on in the DHT)...
  await publisher.stop('SIGKILL');
  const away = await follow();
  assert.equal(away.code, 0, away.stderr);
  assert.equal(JSON.parse(away.stdout)[0].root, v3.rootCid);
  // ...and when it comes back (on another port) and publishes again, the follower finds it through the network.
  await publisher.start();
  const v4 = await buildAndPublish(dir, publisher, key, 'v4');
  await eventually('the follower picks up the new version', async () => JSON.parse((await follow()).stdout)[0]?.root === v4.rootCid, 10);

  // The long-running follower (what a teammate runs as a service) picks up a publish on its own.
  const worker = spawn(process.execPath, [path.join(repoRoot, 'dist/cli.mjs'), 'follow', '--interval', '1', '--api', follower.apiAddr, '--state-dir', state], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  worker.stderr.setEncoding('utf8').on('data', (chunk) => (log += chunk));
  const v5 = await buildAndPublish(dir, publisher, key, 'v5');
  await eventually('the running follower holds the new version', async () => (await following(follower, state)).follows[0].root === v5.rootCid);
  const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
  worker.kill('SIGTERM');
  assert.equal(await exited, 0, log);
  assert.match(log, new RegExp(`now holds ${v5.rootCid}[\\s\\S]*stopped`));

  const unfollowed = await cli(['unfollow', v1.ipnsName, '--api', follower.apiAddr, '--state-dir', state, '--json']);
  assert.equal(unfollowed.code, 0, unfollowed.stderr);
  assert.deepEqual(JSON.parse(unfollowed.stdout).released.sort(), [v4.rootCid, v5.rootCid].sort());
  assert.doesNotMatch(await recursivePins(follower), new RegExp(`${v4.rootCid}|${v5.rootCid}`));
  assert.deepEqual((await following(follower, state)).follows, []);
});

test('5. five nodes, one private network: A publishes with the hook, B follows, A is killed, C substitutes from what B holds; a keyless node fetches nothing; a CAR from B serves an offline node', async (t) => {
  if (untrustedDaemonUser) return t.skip("nix-daemon takes post-build-hook from nix.conf only, never from an untrusted user's --option");
  const dir = await tempDir();
  const keyFile = path.join(dir, 'swarm.key');
  assert.equal((await cli(['network', 'init', keyFile, '--api', '/ip4/127.0.0.1/tcp/9'])).code, 0);
  const d = await teamNode(keyFile, []);
  const [a, b] = await Promise.all([teamNode(keyFile, [d]), teamNode(keyFile, [d])]);
  const outsider = await startKuboNode({ offline: false, config: { ...LOOPBACK_TEAM_CONFIG, 'Routing.Type': 'dht', Bootstrap: [peerAddress(d)] } });
  stopWhenDone(t, d, a, b, outsider);
  const key = await nixKeyPair(dir, 'team-proof-1');

  // A: every build is queued by the post-build-hook, and the queue is published.
  const stateA = path.join(dir, 'state-a');
  const hook = path.join(dir, 'post-build-a');
  assert.equal((await cli(['post-build-hook', '--write-script', hook, '--state-dir', stateA])).code, 0);
  const { app, dep } = await buildWith(dir, `proof-${process.pid}-${Date.now()}`, ['--option', 'post-build-hook', hook]);
  const drained = await cli(['post-build-hook', '--drain', '--state-dir', stateA, '--api', a.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(drained.code, 0, drained.stderr);
  assert.equal(JSON.parse(drained.stdout).published, 2);
  const conf = await cli(['nix-conf', '--api', a.apiAddr, '--gateway', a.gatewayUrl, '--key-file', key.secretFile]);
  const ipnsName = /^extra-substituters = .*\/ipns\/([^/]+)\/cache$/m.exec(conf.stdout)![1];

  // B follows A's name, found through the DHT (B's only bootstrap peer is D).
  const stateB = path.join(dir, 'state-b');
  const followed = await cli(['follow', ipnsName, '--once', '--api', b.apiAddr, '--state-dir', stateB, '--json']);
  assert.equal(followed.code, 0, followed.stderr);
  const [{ root }] = JSON.parse(followed.stdout) as { root: string }[];

  // A dies. C joins afterwards, so it never connected to A: what it gets, it gets from B.
  await a.stop('SIGKILL');
  const c = await teamNode(keyFile, [d]);
  stopWhenDone(t, c);
  assert.equal((await cli(['network', 'reconnect', '--api', c.apiAddr])).code, 0);
  const storeC = path.join(dir, 'store-c');
  const substituted = await nixCopyFrom(`${c.gatewayUrl}/ipns/${ipnsName}/cache`, storeC, app, key.publicKey);
  assert.equal(substituted.code, 0, substituted.stderr);
  assert.deepEqual(await closureIn(storeC, app), [app, dep].sort());
  assert.doesNotMatch(await peersOf(c), new RegExp(a.peerId));

  // Without the key nothing comes through, although B and C hold it all.
  await assert.rejects(outsider.cli(['cat', '--timeout=5s', `/ipfs/${root}/cache/nix-cache-info`]));
  await assert.rejects(outsider.cli(['swarm', 'connect', '--timeout=10s', peerAddress(b)]));
  assert.equal((await peersOf(outsider)).trim(), '');

  // The air gap: a CAR exported on B from its replica, imported on a node that runs offline.
  const car = path.join(dir, 'from-b.car');
  const exported = await cli(['export', app, car, '--from', ipnsName, '--api', b.apiAddr, '--state-dir', stateB]);
  assert.equal(exported.code, 0, exported.stderr);
  const e = await teamNode(keyFile, [d], { offline: true });
  stopWhenDone(t, e);
  const imported = await cli(['import', car, '--api', e.apiAddr, '--gateway', e.gatewayUrl, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const storeE = path.join(dir, 'store-e');
  const fromCar = await nixCopyFrom(JSON.parse(imported.stdout).caches[0].cacheUrl, storeE, app, key.publicKey);
  assert.equal(fromCar.code, 0, fromCar.stderr);
  assert.deepEqual(await closureIn(storeE, app), [app, dep].sort());
});
