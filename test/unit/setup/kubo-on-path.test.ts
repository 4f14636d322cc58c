import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, run } from '../../helpers/cli';

// scripts/build-kubo.sh decides which Kubo the tests and the demo run. The seam: an `ipfs` on PATH
// that only answers `ipfs version --number`, and a cached "build" so a fallback never builds.
const dir = mkdtempSync(path.join(tmpdir(), 'nix-ipfs-kubo-choice-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cacheHome = path.join(dir, 'cache');
const cachedBuild = path.join(cacheHome, 'nix-ipfs', 'kubo-v0.42.0', 'ipfs');
mkdirSync(path.dirname(cachedBuild), { recursive: true });
writeExecutable(cachedBuild, '#!/bin/sh\nexit 0\n');

function writeExecutable(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/** Runs build-kubo.sh with an `ipfs` on PATH that reports `version`; returns the path it chose. */
async function chooseKubo(version: string | null, extraEnv: NodeJS.ProcessEnv = {}) {
  const bin = path.join(dir, `bin-${version ?? 'broken'}`);
  mkdirSync(bin, { recursive: true });
  const ipfs = path.join(bin, 'ipfs');
  writeExecutable(
    ipfs,
    version === null ? '#!/bin/sh\necho "Error: unknown command" >&2\nexit 1\n' : `#!/bin/sh\n[ "$1 $2" = "version --number" ] && echo ${version}\n`,
  );
  const env: NodeJS.ProcessEnv = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, XDG_CACHE_HOME: cacheHome, ...extraEnv };
  const result = await run('bash', [path.join(repoRoot, 'scripts', 'build-kubo.sh')], { env });
  assert.equal(result.code, 0, result.stderr);
  return { ipfs, chosen: result.stdout.trim(), stderr: result.stderr };
}

test('a supported ipfs on PATH is used instead of building Kubo', async () => {
  for (const version of ['0.42.0', '0.25.0', '0.49.9', '0.43.0-rc1']) {
    const { ipfs, chosen, stderr } = await chooseKubo(version);
    assert.equal(chosen, ipfs, version);
    assert.equal(stderr, '', version);
  }
});

test('an unsupported or unreadable ipfs on PATH is named, with the range and the override, and the pinned Kubo is used', async () => {
  for (const version of ['0.24.1', '0.50.0', '1.0.0', 'not a version', null]) {
    const { ipfs, chosen, stderr } = await chooseKubo(version);
    assert.equal(chosen, cachedBuild, String(version));
    assert.ok(stderr.includes(`Not using ${ipfs}`), stderr);
    assert.match(stderr, /supports Kubo 0\.25\.0 up to, not including, 0\.50\.0/);
    assert.ok(stderr.includes(`NIX_IPFS_KUBO_BIN=${ipfs}`), stderr);
  }
});

test('NIX_IPFS_KUBO_BIN wins over a supported ipfs on PATH', async () => {
  const own = path.join(dir, 'own-ipfs');
  writeExecutable(own, '#!/bin/sh\nexit 0\n');
  const { chosen } = await chooseKubo('0.42.0', { NIX_IPFS_KUBO_BIN: own });
  assert.equal(chosen, own);
});
