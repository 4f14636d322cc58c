// Flake inputs kept alive in IPFS: `nix-ipfs pin flake.lock` puts each locked input into the
// binary cache, and stock Nix evaluates the flake again from it once the inputs' origins are gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { positionOf, startLsp } from '../helpers/lsp';
import { cli, run } from '../helpers/cli';
import { hashBytes } from '../../src/core/hash';
import { nix, nixKeyPair, noNarinfoCache, tempDir, untrustedDaemonUser } from '../helpers/nix-env';

const FLAKES = ['--extra-experimental-features', 'nix-command flakes'];

/** Serves one file on loopback until closed. */
async function serveFile(bytes: Uint8Array): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.end(bytes));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/pkg-1.0.tar.gz`, server };
}

async function git(cwd: string, args: string[]): Promise<void> {
  const result = await run('git', ['-c', 'user.email=test@example.invalid', '-c', 'user.name=test', '-c', 'init.defaultBranch=main', ...args], { cwd });
  assert.equal(result.code, 0, result.stderr);
}

/** A git repository of one commit holding `data.txt` with `text`: a git input. */
async function gitRepo(repo: string, text: string): Promise<void> {
  await mkdir(repo);
  await writeFile(path.join(repo, 'data.txt'), text);
  await git(repo, ['init', '-q']);
  await git(repo, ['add', '.']);
  await git(repo, ['commit', '-qm', 'one']);
}

test('a flake whose tarball and git inputs are gone from their origins and from the store evaluates again from IPFS after nix-ipfs pin flake.lock', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const tag = `${process.pid}-${Date.now()}`;

  // A tarball input behind a server on loopback, a git input in a repository on disk.
  await mkdir(path.join(dir, 'tarball/pkg-1.0'), { recursive: true });
  await writeFile(path.join(dir, 'tarball/pkg-1.0/hello.txt'), `hello from the tarball ${tag}\n`);
  await nix('tar', ['-C', path.join(dir, 'tarball'), '-czf', path.join(dir, 'pkg.tar.gz'), 'pkg-1.0']);
  const origin = await serveFile(await readFile(path.join(dir, 'pkg.tar.gz')));
  const repo = path.join(dir, 'repo');
  await gitRepo(repo, `hello from git ${tag}\n`);

  const flake = path.join(dir, 'flake');
  await mkdir(flake);
  await writeFile(
    path.join(flake, 'flake.nix'),
    `{
  inputs.tb = { url = "${origin.url}"; flake = false; };
  inputs.gt = { url = "git+file://${repo}"; flake = false; };
  outputs = { self, tb, gt }: { out = builtins.readFile "\${tb}/hello.txt" + builtins.readFile "\${gt}/data.txt"; };
}
`,
  );
  await nix('nix', [...FLAKES, 'flake', 'lock', flake], env);
  const expected = `hello from the tarball ${tag}\nhello from git ${tag}\n`;
  const evaluate = (...extra: string[]) => run('nix', [...FLAKES, 'eval', '--raw', `${flake}#out`, ...noNarinfoCache, ...extra], { env });
  const first = await evaluate('--option', 'substituters', '');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, expected);

  // Both inputs leave the store: pinning fetches them again (Nix's fetchTree), then publishes them.
  const lock = JSON.parse(await readFile(path.join(flake, 'flake.lock'), 'utf8'));
  const storePaths: string[] = [];
  for (const name of ['tb', 'gt']) {
    const narHash: string = lock.nodes[name].locked.narHash;
    const nix32 = await nix('nix', ['hash', 'to-base32', narHash]);
    storePaths.push(await nix('nix-store', ['--print-fixed-path', '--recursive', 'sha256', nix32, 'source']));
  }
  const deleteInputs = async () => {
    await rm(path.join(dir, 'xdg'), { recursive: true, force: true }); // Nix's fetcher cache would answer from memory
    const deleted = await run('nix-store', ['--delete', ...storePaths], { env });
    assert.equal(deleted.code, 0, deleted.stderr);
  };
  await deleteInputs();

  const key = await nixKeyPair(dir, `flake-inputs-${tag}`);
  const pinned = await cli(['pin', path.join(flake, 'flake.lock'), '--key-file', key.secretFile, '--api', node.apiAddr, '--json'], { env });
  assert.equal(pinned.code, 0, pinned.stdout + pinned.stderr);
  const report = JSON.parse(pinned.stdout);
  assert.deepEqual(report.pinned.map((r: { storePath: string }) => r.storePath).sort(), [...storePaths].sort());
  assert.ok(
    report.pinned.every((r: { mode: string; cid: string }) => r.mode === 'recursive' && r.cid),
    pinned.stdout,
  );
  const cache = `${node.gatewayUrl}/ipns/${report.ipnsName}/cache`;
  for (const storePath of storePaths) {
    const narinfo = await (await fetch(`${cache}/${path.basename(storePath).slice(0, 32)}.narinfo`)).text();
    assert.match(narinfo, /^CA: fixed:r:sha256:/m, 'content-addressed: Nix needs no key for it');
    assert.match(narinfo, new RegExp(`^Sig: flake-inputs-${tag}:`, 'm'), 'signed with the key given');
  }
  const again = await cli(['pin', path.join(flake, 'flake.lock'), '--api', node.apiAddr, '--json'], { env });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal(JSON.parse(again.stdout).alreadyPinned.length, 2);

  // The origins die: the server stops, the repository goes away; the inputs leave the store again.
  await new Promise((resolve) => origin.server.close(resolve));
  await rename(repo, `${repo}.gone`);
  await deleteInputs();
  const dead = await evaluate('--option', 'substituters', '');
  assert.notEqual(dead.code, 0, 'without the cache the inputs must really be gone');

  // Stock Nix, told of the cache (require-sigs on, no key trusted: the inputs are content-addressed).
  // nix-daemon ignores an untrusted user's substituters, so that user evaluates into a store of their own.
  const store = untrustedDaemonUser ? ['--store', path.join(dir, 'storeB')] : [];
  const back = await evaluate(...store, '--option', 'substituters', cache, '--option', 'require-sigs', 'true', '--option', 'trusted-public-keys', '');
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout, expected);
  for (const storePath of storePaths) assert.ok(back.stderr.includes(`copying path '${storePath}' from '${cache}'`), back.stderr);
});

test('a github: input (the commonest kind) is pinned from the store, and Nix evaluates the flake from IPFS with GitHub unreachable', async () => {
  // Nothing may leave this machine, so the input's host is 127.0.0.1 (GitHub Enterprise's `host`), where
  // nothing answers on 443: GitHub is as gone as it can be. The lock is written in the shape
  // `nix flake lock` writes for github inputs; the tree is in the store as Nix would have unpacked it.
  const node = await startKuboNode();
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const tag = `${process.pid}-${Date.now()}`;
  await mkdir(path.join(dir, 'unpacked/source'), { recursive: true });
  await writeFile(path.join(dir, 'unpacked/source/README.md'), `a github input ${tag}\n`);
  const storePath = await nix('nix-store', ['--add-fixed', '--recursive', 'sha256', path.join(dir, 'unpacked/source')]);
  const narHash = await nix('nix', ['hash', 'to-sri', '--type', 'sha256', await nix('nix-store', ['--query', '--hash', storePath])]);

  const flake = path.join(dir, 'flake');
  await mkdir(flake);
  const original = { type: 'github', owner: 'nix-ipfs-test', repo: `gone-${tag}`, host: '127.0.0.1' };
  await writeFile(
    path.join(flake, 'flake.nix'),
    `{
  inputs.gh = { url = "github:${original.owner}/${original.repo}?host=127.0.0.1"; flake = false; };
  outputs = { self, gh }: { out = builtins.readFile "\${gh}/README.md"; };
}
`,
  );
  const locked = { ...original, rev: '0123456789abcdef0123456789abcdef01234567', lastModified: 1700000000, narHash };
  const lock = { nodes: { gh: { flake: false, locked, original }, root: { inputs: { gh: 'gh' } } }, root: 'root', version: 7 };
  await writeFile(path.join(flake, 'flake.lock'), JSON.stringify(lock, null, 2));
  const evaluate = (...extra: string[]) => run('nix', [...FLAKES, 'eval', '--raw', `${flake}#out`, ...noNarinfoCache, ...extra], { env });
  const first = await evaluate('--option', 'substituters', '');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `a github input ${tag}\n`);

  const pinned = await cli(['pin', path.join(flake, 'flake.lock'), '--api', node.apiAddr, '--json'], { env });
  assert.equal(pinned.code, 0, pinned.stdout + pinned.stderr);
  const report = JSON.parse(pinned.stdout);
  assert.deepEqual(
    report.pinned.map((r: { storePath: string }) => r.storePath),
    [storePath],
  );

  await rm(path.join(dir, 'xdg'), { recursive: true, force: true });
  const deleted = await run('nix-store', ['--delete', storePath], { env });
  assert.equal(deleted.code, 0, deleted.stderr);
  const dead = await evaluate('--option', 'substituters', '', '--option', 'connect-timeout', '2');
  assert.notEqual(dead.code, 0, 'without the cache the input must really be gone');

  const cache = `${node.gatewayUrl}/ipns/${report.ipnsName}/cache`;
  const store = untrustedDaemonUser ? ['--store', path.join(dir, 'storeB')] : [];
  const back = await evaluate(...store, '--option', 'substituters', cache, '--option', 'require-sigs', 'true', '--option', 'trusted-public-keys', '');
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout, `a github input ${tag}\n`);
  assert.ok(back.stderr.includes(`copying path '${storePath}' from '${cache}'`), back.stderr);
});

test('a flake.lock with an input without narHash and one nothing can fetch: each is named, the good input is pinned', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const tree = path.join(dir, 'tree');
  await mkdir(tree);
  await writeFile(path.join(tree, 'file'), `a path input ${process.pid}-${Date.now()}\n`);
  // A path input locked by Nix, and two more beside it: one without narHash, one whose URL is dead.
  await writeFile(path.join(dir, 'flake.nix'), `{ inputs.good = { url = "path:${tree}"; flake = false; }; outputs = { self, good }: { }; }\n`);
  await nix('nix', [...FLAKES, 'flake', 'lock', dir], env);
  const lock = JSON.parse(await readFile(path.join(dir, 'flake.lock'), 'utf8'));
  Object.assign(lock.nodes.root.inputs, { unhashed: 'unhashed', lost: 'lost' });
  lock.nodes.unhashed = { flake: false, locked: { type: 'tarball', url: 'http://127.0.0.1:9/x.tar.gz' } };
  lock.nodes.lost = {
    flake: false,
    locked: { type: 'tarball', url: 'http://127.0.0.1:9/gone.tar.gz', narHash: hashBytes('sha256', Buffer.from(dir)).toSri() },
  };
  const file = path.join(dir, 'flake.lock');
  await writeFile(file, JSON.stringify(lock));
  const pinned = await cli(['pin', file, '--api', node.apiAddr, '--timeout', '3000'], { env });
  assert.equal(pinned.code, 1, pinned.stdout + pinned.stderr);
  assert.match(pinned.stdout, /^1 pinned, 0 already pinned, 2 failed$/m);
  assert.match(pinned.stdout, /failed: .*flake\.lock: input 'unhashed' \(http:\/\/127\.0\.0\.1:9\/x\.tar\.gz\) has no narHash/);
  assert.match(
    pinned.stdout,
    /failed: input 'lost' \(http:\/\/127\.0\.0\.1:9\/gone\.tar\.gz\): input 'lost' is not in the local Nix store and Nix could not fetch it/,
  );

  // A folder with --all pins the flake.lock beside its flake.nix too.
  const folder = await cli(['pin', dir, '--all', '--api', node.apiAddr, '--timeout', '3000'], { env });
  assert.equal(folder.code, 1, folder.stdout + folder.stderr);
  assert.match(folder.stdout, /^0 pinned, 1 already pinned, 2 failed$/m);

  await writeFile(file, '{ "nodes": ');
  const malformed = await cli(['pin', file, '--api', node.apiAddr], { env });
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /flake\.lock: invalid flake\.lock: it is not JSON/);
});

test("in the editor: hovering an input's narHash in flake.lock shows its store path and state; the lens pins every input (fetched first when missing), signed, and the hover then shows its CID", async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const tag = `${process.pid}-${Date.now()}`;
  const tree = path.join(dir, 'tree');
  const repo = path.join(dir, 'repo');
  await mkdir(tree);
  await writeFile(path.join(tree, 'file'), `a path input ${tag}\n`);
  await gitRepo(repo, `a git input ${tag}\n`);
  const flake = path.join(dir, 'flake');
  await mkdir(flake);
  await writeFile(
    path.join(flake, 'flake.nix'),
    `{ inputs.tree = { url = "path:${tree}"; flake = false; }; inputs.gt = { url = "git+file://${repo}"; flake = false; }; outputs = { self, ... }: { }; }\n`,
  );
  await nix('nix', [...FLAKES, 'flake', 'lock', flake], env);
  const lockFile = path.join(flake, 'flake.lock');
  const text = await readFile(lockFile, 'utf8');
  const lock = JSON.parse(text);
  const storePathOf = async (name: string) =>
    nix('nix-store', ['--print-fixed-path', '--recursive', 'sha256', await nix('nix', ['hash', 'to-base32', lock.nodes[name].locked.narHash]), 'source']);
  const gitPath = await storePathOf('gt');
  // The git input leaves the store: the lens must have Nix fetch it before publishing it.
  assert.equal((await run('nix-store', ['--delete', gitPath], { env })).code, 0);

  const key = await nixKeyPair(dir, `flake-lsp-${tag}`);
  const lsp = await startLsp(
    { kuboApi: node.apiAddr, gatewayUrl: node.gatewayUrl, signingKeyFile: key.secretFile, requestTimeoutMs: 5000, hoverTimeoutMs: 5000 },
    flake,
    env,
  );
  const uri = await lsp.open(lockFile, text);
  const at = positionOf(text, lock.nodes.gt.locked.narHash, 5);
  const before = (await lsp.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: at }))!.contents.value;
  assert.match(before, /recursive .* flake input \(git\)/);
  assert.ok(before.includes(`Input \`gt\` from git+file://${repo}?rev=${lock.nodes.gt.locked.rev}`), before);
  assert.ok(before.includes(`Store path: \`${gitPath}\``), before);
  assert.match(before, /not mirrored yet/);

  type Lens = { command: { title: string; command: string; arguments: unknown[] } };
  const lenses = await lsp.request<Lens[]>('textDocument/codeLens', { textDocument: { uri } });
  const pinAll = lenses.find((l) => l.command.title === 'Pin all 2 flake inputs to IPFS');
  assert.ok(pinAll, JSON.stringify(lenses));
  assert.equal(lenses.filter((l) => l.command.title.startsWith('Pin to IPFS')).length, 2, JSON.stringify(lenses));
  const result = await lsp.request<{ pinned: number; failed: unknown[]; ipnsName: string }>('workspace/executeCommand', {
    command: pinAll.command.command,
    arguments: pinAll.command.arguments,
  });
  assert.deepEqual([result.pinned, result.failed], [2, []], JSON.stringify(result));
  assert.ok(await nix('nix-store', ['--query', '--hash', gitPath]), 'fetched back into the store');

  const after = (await lsp.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: at }))!.contents.value;
  const [, cid = ''] = /\*\*pinned\*\* on your node ✓ — mirrored as `([a-z0-9]+)`/.exec(after) ?? [];
  assert.ok(cid, after);
  assert.match(await node.cli(['pin', 'ls', '--type=recursive']), new RegExp(cid));
  const narinfo = await (await fetch(`${node.gatewayUrl}/ipns/${result.ipnsName}/cache/${path.basename(gitPath).slice(0, 32)}.narinfo`)).text();
  assert.match(narinfo, new RegExp(`^Sig: flake-lsp-${tag}:`, 'm'), narinfo);
  assert.match(narinfo, /^CA: fixed:r:sha256:/m);
});
