// Users run Nix multi-user, through nix-daemon, with the editor as an unprivileged user.
// nix-ipfs must work there without privileged operations (it signs narinfos itself
// instead of `nix store sign`, and adds sources with `--add-fixed`, which untrusted users may).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { repoRoot, run } from '../helpers/cli';
import { isRoot, startMultiUserNix } from '../helpers/nix-daemon';

test('an unprivileged user publishes, verifies and fetches through nix-daemon', { skip: !isRoot && 'needs root to start nix-daemon and add a user' }, async () => {
  const { asUser } = await startMultiUserNix();
  const node = await startKuboNode();
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-mu-'));
  await chmod(dir, 0o777);
  const nixIpfs = (args: string[]) => asUser(process.execPath, [path.join(repoRoot, 'dist/cli.js'), ...args]);
  const cli = (args: string[]) => nixIpfs([...args, '--api', node.apiAddr]);

  const expr = path.join(dir, 'app.nix');
  const tag = `${process.pid}-${Date.now()}`;
  await writeFile(expr, `derivation { name = "nix-ipfs-mu"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo multi-user ${tag} > $out" ]; }\n`);
  const built = await asUser('nix-build', ['--no-out-link', expr]);
  assert.equal(built.code, 0, built.stderr);
  const storePath = built.stdout.trim();

  // The user's own key, made by nix-ipfs (no root needed).
  const sk = path.join(dir, 'user.sk');
  const keygen = await nixIpfs(['keygen', 'mu-user-1', sk, path.join(dir, 'user.pk')]);
  assert.equal(keygen.code, 0, keygen.stderr);
  const publicKey = keygen.stdout.trim();

  const published = await cli(['publish', storePath, '--key-file', sk, '--json']);
  assert.equal(published.code, 0, published.stderr);
  assert.equal(JSON.parse(published.stdout).paths[0].status, 'published');

  const verified = await cli(['verify', storePath, '--trusted-key', publicKey]);
  assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  assert.match(verified.stdout, /valid-trusted\s+mu-user-1/);

  // A source added by the user through the daemon, pinned, removed, fetched back from IPFS.
  const content = `multi-user source ${tag}\n`;
  const sha256 = createHash('sha256').update(content).digest('hex');
  const pinned = await cli(['pin', '--url', 'http://127.0.0.1:9/dead.txt', '--hash', `sha256:${sha256}`, '--name', 'mu-source.txt']);
  assert.notEqual(pinned.code, 0, 'the URL is dead and the store does not have it yet');
  await writeFile(path.join(dir, 'mu-source.txt'), content);
  const added = await asUser('nix-store', ['--add-fixed', 'sha256', path.join(dir, 'mu-source.txt')]);
  assert.equal(added.code, 0, added.stderr);
  const pinnedNow = await cli(['pin', '--url', 'http://127.0.0.1:9/dead.txt', '--hash', `sha256:${sha256}`, '--name', 'mu-source.txt', '--json']);
  assert.equal(pinnedNow.code, 0, pinnedNow.stderr);
  const deleted = await run('nix-store', ['--delete', added.stdout.trim()]);
  assert.equal(deleted.code, 0, deleted.stderr);
  const fetched = await cli(['fetch', `sha256:${sha256}`, '--name', 'mu-source.txt', '--json']);
  assert.equal(fetched.code, 0, fetched.stderr);
  const result = JSON.parse(fetched.stdout);
  assert.equal(result.storePath, added.stdout.trim());
  assert.equal(result.from, 'mirror');
});
