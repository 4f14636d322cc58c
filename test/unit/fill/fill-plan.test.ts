// How each kind of hash is filled, read from the text alone; Nix's mismatch messages read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractFetchers, parseNix } from '../../../src/core/fetchers/extract';
import { fillablePlaceholders, planFill } from '../../../src/core/fill-plan';
import { otherErrors, parseMismatches } from '../../../src/nix/fod-build';
import { describeTarget, targetFromText } from '../../../src/services/build-targets';

/** The plan for each placeholder of a file: [fetcher, algorithm, method]. */
function plans(text: string) {
  const parsed = parseNix(text);
  return fillablePlaceholders(extractFetchers(parsed)).map((f) => {
    const site = planFill(parsed, f);
    return [f.fetcher, site.algo, site.method] as const;
  });
}

test('known fetchers are fetched directly: flat downloads, archives with their stripRoot, git checkouts with their submodules', () => {
  const text = `{ lib, fetchurl, fetchzip, fetchFromGitHub, fetchgit }: let version = "1.2"; in {
  a = fetchurl { url = "https://example.org/a-\${version}.tar.gz"; hash = lib.fakeHash; };
  b = fetchzip { url = "https://example.org/b.zip"; stripRoot = false; sha512 = lib.fakeSha512; };
  c = fetchFromGitHub { owner = "o"; repo = "r"; rev = "v\${version}"; hash = ""; };
  d = fetchFromGitHub { owner = "o"; repo = "r"; tag = "v\${version}"; fetchSubmodules = true; hash = ""; };
  e = fetchgit { url = "https://example.org/r.git"; rev = "0123456789012345678901234567890123456789"; hash = lib.fakeHash; };
  f = fetchgit { url = "https://example.org/r.git"; fetchSubmodules = false; hash = lib.fakeHash; };
  g = builtins.fetchTarball { url = "https://example.org/g.tar.gz"; sha256 = "${'0'.repeat(52)}"; };
  h = fetchzip { url = "https://example.org/h"; extension = "zip"; hash = ""; };
}`;
  assert.deepEqual(plans(text), [
    ['fetchurl', 'sha256', { kind: 'download', urls: ['https://example.org/a-1.2.tar.gz'] }],
    ['fetchzip', 'sha512', { kind: 'archive', urls: ['https://example.org/b.zip'], stripRoot: false }],
    ['fetchFromGitHub', 'sha256', { kind: 'archive', urls: ['https://github.com/o/r/archive/v1.2.tar.gz'], stripRoot: 'fetchzip' }],
    ['fetchFromGitHub', 'sha256', { kind: 'git', url: 'https://github.com/o/r.git', rev: 'refs/tags/v1.2', submodules: true }],
    ['fetchgit', 'sha256', { kind: 'git', url: 'https://example.org/r.git', rev: '0123456789012345678901234567890123456789', submodules: true }],
    ['fetchgit', 'sha256', { kind: 'git', url: 'https://example.org/r.git', rev: 'HEAD', submodules: false }],
    ['builtins.fetchTarball', 'sha256', { kind: 'archive', urls: ['https://example.org/g.tar.gz'], stripRoot: 'single' }],
    ['fetchzip', 'sha256', { kind: 'archive', urls: ['https://example.org/h'], stripRoot: 'fetchzip', extension: 'zip' }],
  ]);
});

test('what only Nix can produce is built: vendor hashes, fetchpatch, postFetch, leaveDotGit, outputHash, computed URLs', () => {
  const text = `{ lib, fetchurl, fetchpatch, fetchgit, fetchzip, buildGoModule, src }: {
  a = buildGoModule { pname = "a"; version = "1"; inherit src; vendorHash = lib.fakeHash; };
  b = fetchpatch { url = "https://example.org/fix.patch"; hash = lib.fakeHash; };
  c = fetchurl { url = "https://example.org/c.tar.gz"; postFetch = "rm $out/x"; hash = lib.fakeHash; };
  d = fetchgit { url = "https://example.org/r.git"; rev = "v1"; leaveDotGit = true; hash = lib.fakeHash; };
  e = derivation { name = "e"; builder = "/bin/sh"; outputHashMode = "recursive"; outputHash = "sha256-${'A'.repeat(43)}="; };
  f = fetchzip { url = src.url; hash = lib.fakeHash; };
}`;
  assert.deepEqual(
    plans(text).map(([fetcher, , method]) => [fetcher, method.kind === 'build' ? method.why : method.kind]),
    [
      ['vendorHash', "vendorHash's vendorHash is the hash of what Nix builds"],
      ['fetchpatch', "fetchpatch's hash is the hash of what Nix builds"],
      ['fetchurl', 'postFetch changes what fetchurl stores'],
      ['fetchgit', "leaveDotGit makes nixpkgs' fetchgit store more than the checkout"],
      ['derivation', "derivation's outputHash is the hash of what Nix builds"],
      ['fetchzip', 'its URL is computed'],
    ],
  );
});

test("lib's own definition of a placeholder is not a site to fill", () => {
  assert.deepEqual(
    plans(`let lib = { fakeHash = "sha256-${'A'.repeat(43)}="; }; in { fetchurl }: fetchurl { url = "https://e.org/x"; hash = lib.fakeHash; }`).length,
    1,
  );
});

test("Nix's mismatch messages are read in every form it prints; other failures are kept, knock-on ones dropped", () => {
  const stderr = `building '/nix/store/aaa-fod-a.drv'...
error: hash mismatch in fixed-output derivation '/nix/store/aaa-fod-a.drv':
         specified: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=
            got:    sha256-h0KPxSKAPTEGXnvOPPA/5HUJZjHl4Hu9eg/eYMTPJcc=
error: hash mismatch in file downloaded from 'http://127.0.0.1:1/t.tar.gz':
         specified: sha256:0000000000000000000000000000000000000000000000000000
         got:       sha256:1w6nah5f7rz21gf3k2lzknbdqayd9silnz33jiddi0grrqxwfzz5
error: builder for '/nix/store/ccc-c.drv' failed with exit code 3;
       last 1 log lines:
       > cc: not found
error: 1 dependencies of derivation '/nix/store/ddd-d.drv' failed to build
error: build of '/nix/store/aaa-fod-a.drv', '/nix/store/ccc-c.drv' failed
`;
  assert.deepEqual(
    parseMismatches(stderr).map((m) => [m.specified.toSri(), m.got.toSri()]),
    [
      ['sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=', 'sha256-h0KPxSKAPTEGXnvOPPA/5HUJZjHl4Hu9eg/eYMTPJcc='],
      [`sha256-${'A'.repeat(43)}=`, 'sha256-5X/HO875gdhalGN8S6NOzSvclp2fijncC+Ln4wpU1vA='],
    ],
  );
  assert.deepEqual(otherErrors(stderr), [
    "error: builder for '/nix/store/ccc-c.drv' failed with exit code 3;\n       last 1 log lines:\n       > cc: not found",
  ]);
});

test('a build written as text reads back as itself', () => {
  const base = '/ws/pkgs/hello';
  for (const text of ['../../default.nix -A hello', '../..#packages.x86_64-linux.hello', 'callPackage /nix/store/x-nixpkgs']) {
    assert.equal(describeTarget(targetFromText(text, base), base), text);
  }
  assert.deepEqual(targetFromText('#hello', base), { kind: 'flake', flake: base, attribute: 'hello' });
  assert.throws(() => targetFromText('hello', base), /'hello' is not a build: write FILE\.nix -A ATTRIBUTE, DIR#ATTRIBUTE/);
});
