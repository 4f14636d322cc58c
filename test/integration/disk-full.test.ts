// A full disk under Kubo's repository or under the temporary folder Nix-bound bytes pass through:
// a clear error, nothing half-written, and a re-run completes once there is room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { cli, run } from '../helpers/cli';
import { buildClosure, nix, tempDir } from '../helpers/nix-env';

const isRoot = process.getuid?.() === 0;

/** A tmpfs of the given size, unmounted after the test file. */
async function smallDisk(t: import('node:test').TestContext, megabytes: number): Promise<{ dir: string; grow: (mb: number) => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-disk-'));
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir]);
  assert.equal(mounted.code, 0, mounted.stderr);
  t.after(async () => {
    await run('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    grow: async (mb) => {
      const grown = await run('mount', ['-o', `remount,size=${mb}m`, dir]);
      assert.equal(grown.code, 0, grown.stderr);
    },
  };
}

test(
  "Kubo's disk fills up while publishing: a clear error, no narinfo without its NAR, a re-run completes",
  { skip: !isRoot && 'mounting a small tmpfs needs root' },
  async (t) => {
    const disk = await smallDisk(t, 24);
    const node = await startKuboNode({ dir: path.join(disk.dir, 'repo') });
    const dir = await tempDir();
    const { app } = await buildClosure(dir);
    // A 40 MB path in the closure cannot fit.
    const big = path.join(dir, 'big.bin');
    await writeFile(big, randomBytes(40 * 1024 * 1024));
    const bigPath = await nix('nix-store', ['--add', big]);

    const failed = await cli(['publish', app, bigPath, '--api', node.apiAddr, '--json']);
    assert.equal(failed.code, 1, failed.stderr);
    // Per path in the JSON report when an add fails; on stderr when the final write of the index does.
    assert.match(failed.stdout + failed.stderr, /ran out of disk space[\s\S]*free space[\s\S]*run again/);

    // Whatever is in the index is whole: every narinfo names a NAR that is there.
    const listed = await node.cli(['files', 'ls', '/nix-ipfs/cache']).catch(() => '');
    for (const name of listed.split('\n').filter((n) => n.endsWith('.narinfo'))) {
      const text = await node.cli(['files', 'read', `/nix-ipfs/cache/${name}`]);
      const url = /^URL: (.*)$/m.exec(text)![1];
      await node.cli(['files', 'stat', `/nix-ipfs/cache/${url}`]);
    }
    assert.doesNotMatch(listed, new RegExp(path.basename(bigPath).slice(0, 32)), 'no narinfo for the path that did not fit');

    await disk.grow(256);
    const again = await cli(['publish', app, bigPath, '--api', node.apiAddr, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const verified = await cli(['verify', bigPath, '--api', node.apiAddr, '--json']);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  },
);

test(
  'the temporary folder fills up while fetching: a clear error, nothing enters the Nix store, nothing is left behind',
  { skip: !isRoot && 'mounting a small tmpfs needs root' },
  async (t) => {
    const disk = await smallDisk(t, 1);
    const node = await startKuboNode();
    const content = randomBytes(4 * 1024 * 1024);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const dir = await tempDir();
    await writeFile(path.join(dir, 'large-source.tar'), content);
    const storePath = await nix('nix-store', ['--add-fixed', 'sha256', path.join(dir, 'large-source.tar')]);
    const pinned = await cli(['pin', '--url', 'http://127.0.0.1:9/dead', '--hash', `sha256:${sha256}`, '--name', 'large-source.tar', '--api', node.apiAddr]);
    assert.equal(pinned.code, 0, pinned.stderr);
    await nix('nix-store', ['--delete', storePath]);

    const fetched = await cli(['fetch', `sha256:${sha256}`, '--name', 'large-source.tar', '--api', node.apiAddr], {
      env: { ...process.env, TMPDIR: disk.dir },
    });
    assert.equal(fetched.code, 1);
    assert.match(fetched.stderr, /(no space left on device|not enough space) in the temporary folder[\s\S]*set TMPDIR/);
    assert.equal((await run('nix-store', ['--check-validity', storePath])).code, 1, 'nothing entered the store');
    assert.deepEqual(await readdir(disk.dir), [], 'the partial download was removed');

    const retried = await cli(['fetch', `sha256:${sha256}`, '--name', 'large-source.tar', '--api', node.apiAddr]);
    assert.equal(retried.code, 0, retried.stderr);
  },
);
