import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flakeLockFetchers, isFlakeLock, parseFlakeLock } from '../../../src/core/flake-lock';
import { hashBytes } from '../../../src/core/hash';

// A lock Nix 2.8 wrote (`nix flake lock`) for a tarball and a git input, with the store paths
// `nix-store --print-fixed-path --recursive sha256 <narHash> source` printed for them.
const NIX_WROTE = {
  nodes: {
    gt: {
      flake: false,
      locked: {
        lastModified: 1795712047,
        narHash: 'sha256-du8YLjlu5SvGkUHWxUpp0zGVUElsNb2R44CMQ/Y3fxQ=',
        ref: 'master',
        rev: '771d36df38b1c465bcfe0c2a82216723021fe256',
        revCount: 1,
        type: 'git',
        url: 'file:///tmp/flx.zomg/gitrepo',
      },
      original: { type: 'git', url: 'file:///tmp/flx.zomg/gitrepo' },
    },
    root: { inputs: { gt: 'gt', tb: 'tb' } },
    tb: {
      flake: false,
      locked: { narHash: 'sha256-6dE4kfWRC87PAwAGf/AgNWaPkRrk2BkscpFS83WG50Y=', type: 'tarball', url: 'http://127.0.0.1:18931/pkg.tar.gz' },
      original: { type: 'tarball', url: 'http://127.0.0.1:18931/pkg.tar.gz' },
    },
  },
  root: 'root',
  version: 7,
};

test('every locked input gets the store path Nix gives it, and where it comes from', () => {
  const inputs = parseFlakeLock(JSON.stringify(NIX_WROTE));
  assert.deepEqual(
    inputs.map((i) => [i.id, i.type, i.origin, i.storePath, i.problem]),
    [
      [
        'gt',
        'git',
        'git+file:///tmp/flx.zomg/gitrepo?rev=771d36df38b1c465bcfe0c2a82216723021fe256',
        '/nix/store/mib1qrlcqxs53py2fx7zpgsvcm7s3w1b-source',
        undefined,
      ],
      ['tb', 'tarball', 'http://127.0.0.1:18931/pkg.tar.gz', '/nix/store/yln7a80xqjif1rs256wg55d3czwa8a7n-source', undefined],
    ],
  );
  assert.equal(inputs[1]?.narHash?.toSri(), 'sha256-6dE4kfWRC87PAwAGf/AgNWaPkRrk2BkscpFS83WG50Y=');
});

test('inputs of inputs are listed once, by the first path to them; a follows is the node it names', () => {
  const locked = (owner: string, n: number) => ({
    type: 'github',
    owner,
    repo: 'r',
    rev: `${n}`.repeat(40),
    narHash: hashBytes('sha256', new Uint8Array([n])).toSri(),
  });
  const lock = {
    version: 7,
    root: 'root',
    nodes: {
      root: { inputs: { nixpkgs: 'nixpkgs', utils: 'utils' } },
      nixpkgs: { locked: locked('nixos', 1) },
      utils: { inputs: { systems: 'systems', nixpkgs: ['nixpkgs'] }, locked: locked('numtide', 2) },
      systems: { locked: locked('nix-systems', 3) },
    },
  };
  const inputs = parseFlakeLock(JSON.stringify(lock));
  assert.deepEqual(
    inputs.map((i) => [i.id, i.origin]),
    [
      ['nixpkgs', `github:nixos/r/${'1'.repeat(40)}`],
      ['utils', `github:numtide/r/${'2'.repeat(40)}`],
      ['utils/systems', `github:nix-systems/r/${'3'.repeat(40)}`],
    ],
  );
  assert.ok(inputs.every((i) => i.storePath?.endsWith('-source')));
});

test('an input without narHash, or with a malformed one, is named with its problem; the others are read', () => {
  const lock = structuredClone(NIX_WROTE) as { nodes: Record<string, { locked?: Record<string, unknown> }> };
  delete lock.nodes.gt!.locked!.narHash;
  const inputs = parseFlakeLock(JSON.stringify(lock));
  assert.match(inputs[0]?.problem ?? '', /input 'gt' \(git\+file:.*\) has no narHash/);
  assert.equal(inputs[1]?.problem, undefined);
  lock.nodes.tb!.locked!.narHash = 'sha256-short';
  assert.match(parseFlakeLock(JSON.stringify(lock))[1]?.problem ?? '', /input 'tb' has a malformed narHash 'sha256-short'/);
});

test('a file that is not a flake.lock is refused as a whole, in words', () => {
  assert.throws(() => parseFlakeLock('{"nodes": '), /invalid flake.lock: it is not JSON/);
  assert.throws(() => parseFlakeLock('[]'), /invalid flake.lock: it has no "nodes" object/);
  assert.throws(() => parseFlakeLock('{"nodes": {}, "root": "root", "version": 7}'), /its root node 'root' is missing/);
  assert.throws(() => parseFlakeLock('{"nodes": {"root": {}}, "version": 3}'), /version 3 is not one Nix writes/);
  assert.deepEqual(parseFlakeLock('{"nodes": {"root": {}}, "root": "root", "version": 7}'), []);
});

test("in the editor each input is a recursive fetcher at its narHash's text, with what fetchTree needs to bring it back", () => {
  const text = JSON.stringify(NIX_WROTE, null, 2);
  const fetchers = flakeLockFetchers(text);
  assert.deepEqual(
    fetchers.map((f) => [text.slice(f.hashFrom, f.hashTo), f.mode, f.name, f.fetcher, f.flakeInput?.id]),
    [
      ['sha256-du8YLjlu5SvGkUHWxUpp0zGVUElsNb2R44CMQ/Y3fxQ=', 'recursive', 'source', 'flake input (git)', 'gt'],
      ['sha256-6dE4kfWRC87PAwAGf/AgNWaPkRrk2BkscpFS83WG50Y=', 'recursive', 'source', 'flake input (tarball)', 'tb'],
    ],
  );
  assert.deepEqual(fetchers[0]?.flakeInput?.locked, NIX_WROTE.nodes.gt.locked);
  assert.deepEqual(flakeLockFetchers(text.slice(0, 100)), [], 'half a lock file (being edited) names nothing');
  assert.ok(isFlakeLock('file:///src/flake.lock') && !isFlakeLock('file:///src/flake.lock.nix') && !isFlakeLock('file:///src/Cargo.lock'));
});
