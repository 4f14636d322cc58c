// Filling placeholder hashes: sources served on loopback (HTTP files and archives, file:// git
// repositories), hashed by nix-ipfs' own NAR code and checked against Nix's own answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli } from '../helpers/cli';
import { startKuboNode } from '../helpers/kubo';
import { nix, tempDir } from '../helpers/nix-env';
import { commitAll, gitInit, makeTree, must, serveFolder } from '../helpers/source-rig';
import { parseHash } from '../../src/core/hash';

/** Nix without a binary cache to ask (builds here are local and offline), nor a nixpkgs of the machine's. */
const env = { ...process.env, NIX_CONFIG: `${process.env.NIX_CONFIG ?? ''}\nsubstituters =`, NIX_PATH: '' };

type Filled = { filled: { line: number; hash: string; method: string }[]; failed: { line: number; label: string; error: string }[]; written: boolean };

/** `nix-ipfs fill` on a file holding `text`; its JSON report and the file's text afterwards. */
async function fill(dir: string, name: string, text: string, args: string[] = []) {
  const file = path.join(dir, name);
  await writeFile(file, text);
  const result = await cli(['fill', file, '--json', ...args], { env });
  const report = result.stdout ? (JSON.parse(result.stdout) as Filled) : undefined;
  return { code: result.code, stderr: result.stderr, report, after: await readFile(file, 'utf8'), file };
}

const sriOfNix32 = (nix32: string) => parseHash(nix32.trim(), 'sha256').hash.toSri();

test('an archive is unpacked as fetchzip unpacks it: the filled hash is what nix-prefetch-url --unpack and nix hash path give', async () => {
  const dir = await tempDir();
  const served = path.join(dir, 'served');
  await makeTree(path.join(served, 'pkg-1.0'), `archive ${process.pid}`);
  await must('tar', ['-czf', 'pkg-1.0.tar.gz', 'pkg-1.0'], served);
  await must('tar', ['-cJf', 'pkg-1.0.tar.xz', 'pkg-1.0'], served);
  await must('zip', ['-qry', '../flat.zip', '.'], path.join(served, 'pkg-1.0'));
  const server = await serveFolder(served);
  const byNix = sriOfNix32(await nix('nix-prefetch-url', ['--unpack', '--type', 'sha256', server.url('pkg-1.0.tar.gz')], env));
  const treeHash = await nix('nix', ['hash', 'path', path.join(served, 'pkg-1.0')], env);
  assert.equal(byNix, treeHash, 'Nix agrees with itself on the tree');

  const zipped = await fill(dir, 'zip.nix', `{ fetchzip, lib }: fetchzip { url = "${server.url('pkg-1.0.tar.gz')}"; hash = lib.fakeHash; }\n`);
  assert.equal(zipped.code, 0, zipped.stderr);
  assert.deepEqual(
    zipped.report!.filled.map((f) => [f.hash, f.method]),
    [[treeHash, 'archive']],
  );
  assert.equal(zipped.after, `{ fetchzip, lib }: fetchzip { url = "${server.url('pkg-1.0.tar.gz')}"; hash = "${treeHash}"; }\n`);

  const xz = await fill(dir, 'xz.nix', `builtins.fetchTarball { url = "${server.url('pkg-1.0.tar.xz')}"; sha256 = "${'0'.repeat(52)}"; }\n`);
  assert.equal(xz.report!.filled[0].hash, treeHash);
  const flat = await fill(dir, 'flat.nix', `{ fetchzip }: fetchzip { url = "${server.url('flat.zip')}"; stripRoot = false; hash = ""; }\n`);
  assert.equal(flat.report!.filled[0].hash, treeHash, 'a zip of the files themselves, stripRoot = false');
  const rootless = await fill(dir, 'rootless.nix', `{ fetchzip }: fetchzip { url = "${server.url('flat.zip')}"; hash = ""; }\n`);
  assert.equal(rootless.code, 1);
  assert.match(rootless.report!.failed[0].error, /flat\.zip holds \d+ entries at its top, not one folder: add stripRoot = false;/);
});

test('fetchgit: the checkout at rev with submodules, .git removed, as Nix hashes it; fetchSubmodules = false leaves them out', async () => {
  const dir = await tempDir();
  const sub = path.join(dir, 'sub');
  await gitInit(sub);
  await writeFile(path.join(sub, 'lib.c'), 'int lib;\n');
  await commitAll(sub, 'sub');
  const repo = path.join(dir, 'repo');
  await gitInit(repo);
  await makeTree(repo, `git ${process.pid}`);
  await must('git', ['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${sub}`, 'vendor/sub'], repo);
  const rev = await commitAll(repo, 'first');
  await writeFile(path.join(repo, 'README'), 'a later commit\n');
  await commitAll(repo, 'later');

  // The reference: a checkout of rev with its submodules, every .git removed, hashed by Nix.
  const reference = path.join(dir, 'reference');
  await must('git', ['-c', 'protocol.file.allow=always', 'clone', '-q', '--recurse-submodules', `file://${repo}`, reference]);
  await must('git', ['-c', 'protocol.file.allow=always', 'checkout', '-q', '--recurse-submodules', rev], reference);
  await must('sh', ['-c', 'find . -name .git -prune -exec rm -rf {} +'], reference);
  const withSubmodules = await nix('nix', ['hash', 'path', reference], env);
  await must('rm', ['-rf', path.join(reference, 'vendor/sub')]);
  await mkdir(path.join(reference, 'vendor/sub'));
  const withoutSubmodules = await nix('nix', ['hash', 'path', reference], env);

  const filled = await fill(
    dir,
    'git.nix',
    `{ fetchgit, lib }:\n{\n  a = fetchgit { url = "file://${repo}"; rev = "${rev}"; hash = lib.fakeHash; };\n  b = fetchgit { url = "file://${repo}"; rev = "${rev}"; fetchSubmodules = false; hash = ""; };\n}\n`,
    ['--all'],
  );
  assert.equal(filled.code, 0, filled.stderr);
  assert.deepEqual(
    filled.report!.filled.map((f) => [f.line, f.hash, f.method]),
    [
      [3, withSubmodules, 'git'],
      [4, withoutSubmodules, 'git'],
    ],
  );
});

test('a dead URL, an HTML page instead of the tarball, a rev that does not exist: a message naming the site, the file untouched', async () => {
  const dir = await tempDir();
  const served = path.join(dir, 'served');
  await mkdir(served);
  await writeFile(path.join(served, 'good.txt'), 'a good file\n');
  const server = await serveFolder(served);
  const repo = path.join(dir, 'repo');
  await gitInit(repo);
  await writeFile(path.join(repo, 'x'), 'x\n');
  await commitAll(repo, 'x');
  const text = [
    '{ fetchurl, fetchzip, fetchgit, lib }:',
    '{',
    `  dead = fetchurl { url = "http://127.0.0.1:9/gone-1.0.tar.gz"; hash = lib.fakeHash; };`,
    `  html = fetchzip { url = "${server.url('html/pkg-1.0.tar.gz')}"; hash = lib.fakeHash; };`,
    `  page = fetchurl { url = "${server.url('html/pkg-1.0.tar.gz')}"; hash = lib.fakeHash; };`,
    `  rev = fetchgit { url = "file://${repo}"; rev = "${'0123456789'.repeat(4)}"; hash = lib.fakeHash; };`,
    `  good = fetchurl { url = "${server.url('good.txt')}"; hash = lib.fakeHash; };`,
    '}',
    '',
  ].join('\n');
  const failing = await fill(dir, 'bad.nix', text, ['--line', '3']);
  assert.equal(failing.code, 1);
  assert.equal(failing.after, text, 'nothing written');
  assert.match(failing.report!.failed[0].label, /^line 3: fetchurl's hash$/);
  assert.match(failing.report!.failed[0].error, /could not download the source: the download from http:\/\/127\.0\.0\.1:9\/gone-1\.0\.tar\.gz could not start/);

  const all = await fill(dir, 'bad.nix', text, ['--all', '--dry-run']);
  assert.equal(all.code, 1);
  assert.equal(all.after, text, 'a dry run writes nothing');
  const errors = Object.fromEntries(all.report!.failed.map((f) => [f.line, f.error]));
  assert.match(errors[4], /pkg-1\.0\.tar\.gz is an HTML page, not an archive/);
  assert.match(errors[5], /answered with an HTML page .* instead of the file/);
  assert.match(errors[6], /git rev '0123456789012345678901234567890123456789' does not exist in file:\/\//);
  assert.deepEqual(
    all.report!.filled.map((f) => f.line),
    [7],
    'the good one is still found',
  );
});

test('three placeholders of three kinds and a hand-written fixed-output derivation get their real hashes; stock nix-build then builds the file', async () => {
  const dir = await tempDir();
  const served = path.join(dir, 'served');
  await makeTree(path.join(served, 'pkg-1.0'), `three kinds ${process.pid}`);
  await must('tar', ['-czf', 'pkg-1.0.tar.gz', 'pkg-1.0'], served);
  await writeFile(path.join(served, 'data-1.0.txt'), `data ${process.pid} ${Date.now()}\n`);
  const server = await serveFolder(served);
  const repo = path.join(dir, 'repo');
  await gitInit(repo);
  await makeTree(repo, `repo ${process.pid}`);
  const rev = await commitAll(repo, 'first');
  const zeroSri = `sha256-${'A'.repeat(43)}=`;
  const text = `let
  lib = { fakeHash = "${zeroSri}"; };
  # fetchgit as nixpkgs has it, small: the checkout at rev without .git.
  fetchgit = { url, rev, hash }: derivation {
    name = "source"; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin";
    GIT_CONFIG_NOSYSTEM = "1"; GIT_CONFIG_GLOBAL = "/dev/null";
    args = [ "-c" "git config --file $TMPDIR/gitconfig safe.directory '*' && GIT_CONFIG_GLOBAL=$TMPDIR/gitconfig git clone -q \${url} $out && cd $out && git -c advice.detachedHead=false checkout -q \${rev} && rm -rf .git" ]; # through nix-daemon the builder is root, and the repository is the test user's
    outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = hash;
  };
in {
  file = import <nix/fetchurl.nix> { url = "${server.url('data-1.0.txt')}"; hash = ""; };
  tree = derivation {
    name = "tree"; system = builtins.currentSystem; builder = "/bin/sh";
    args = [ "-c" "/bin/cp -r \${builtins.fetchTarball { url = "${server.url('pkg-1.0.tar.gz')}"; sha256 = "${'0'.repeat(52)}"; }} $out" ];
  };
  repo = fetchgit { url = "file://${repo}"; rev = "${rev}"; hash = lib.fakeHash; };
  made = derivation {
    name = "made"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo made by a local builder ${process.pid} > $out" ];
    outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = lib.fakeHash;
  };
}
`;
  const filled = await fill(dir, 'pkgs.nix', text, ['--all']);
  assert.equal(filled.code, 0, filled.stderr);
  const byLine = Object.fromEntries(filled.report!.filled.map((f) => [f.line, [f.method, f.hash]]));
  assert.deepEqual(Object.keys(byLine).map(Number), [11, 14, 16, 19]);
  assert.deepEqual(
    Object.values(byLine).map(([method]) => method),
    ['download', 'archive', 'git', 'build'],
  );
  assert.equal(new Set(Object.values(byLine).map(([, hash]) => hash)).size, 4, 'four different hashes');
  assert.doesNotMatch(filled.after, /hash = ""|0{52}|lib\.fakeHash;\s*}/, 'no placeholder left at a site');
  const built = await nix('nix-build', ['--no-out-link', filled.file], env);
  assert.equal(built.split('\n').length, 4, 'stock nix-build builds all four');
});

test('a callPackage file is built through the nixpkgs named with --build, or the one flake output found; several builds found are listed', async () => {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'nixpkgs'));
  // A nixpkgs as small as it gets: callPackage hands the file its one dependency.
  await writeFile(
    path.join(dir, 'nixpkgs/default.nix'),
    `{ }: {
  callPackage = fn: args: import fn ({
    mkFod = { name, script, outputHash }: derivation {
      inherit name outputHash; system = builtins.currentSystem or "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" script ];
      outputHashMode = "flat"; outputHashAlgo = "sha256";
    };
  } // args);
}
`,
  );
  await writeFile(path.join(dir, 'flake.nix'), `{ outputs = { self }: { packages.x86_64-linux.pkg = (import ./nixpkgs { }).callPackage ./pkg.nix { }; }; }\n`);
  const text = `{ mkFod }:\nmkFod { name = "made"; script = "echo made ${process.pid} > $out"; outputHash = "sha256-${'A'.repeat(43)}="; }\n`;
  const made = `sha256-${createHash('sha256').update(`made ${process.pid}\n`).digest('base64')}`;

  const given = await fill(dir, 'pkg.nix', text, ['--dry-run', '--build', `callPackage ${path.join(dir, 'nixpkgs')}`]);
  assert.equal(given.code, 0, given.stderr);
  assert.deepEqual(
    given.report!.filled.map((f) => [f.hash, f.method]),
    [[made, 'build']],
  );
  const found = await fill(dir, 'pkg.nix', text, ['--dry-run']);
  assert.equal(found.code, 0, found.stderr);
  assert.equal(found.report!.filled[0].hash, made, 'the flake output, the one build found');

  const both = await cli(['fill', path.join(dir, 'pkg.nix'), '--dry-run'], { env: { ...env, NIX_PATH: `nixpkgs=${path.join(dir, 'nixpkgs')}` } });
  assert.equal(both.code, 1);
  assert.match(
    both.stdout,
    /pkg\.nix is built by one of: callPackage .*\/nixpkgs, .*#packages\.x86_64-linux\.pkg: name one \(the `target` argument, or --build in the CLI\)/,
  );
});

test("--pin: what fill downloads goes into the Nix store under the fetcher's name and is pinned to IPFS", async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const served = path.join(dir, 'served');
  await makeTree(path.join(served, 'kept-1.0'), `pinned ${process.pid}`);
  await must('tar', ['-czf', 'kept-1.0.tar.gz', 'kept-1.0'], served);
  const text = `{ fetchurl }: {\n  file = fetchurl { url = "${(await serveFolder(served)).url('kept-1.0.tar.gz')}"; hash = ""; };\n}\n`;
  const filled = await fill(dir, 'kept.nix', text, ['--pin', '--api', node.apiAddr]);
  assert.equal(filled.code, 0, filled.stderr);
  const [site] = filled.report!.filled as (Filled['filled'][number] & { cid?: string; pinError?: string })[];
  assert.equal(site.pinError, undefined);
  assert.match(site.cid!, /^bafkrei/, 'a flat sha256 source is one raw block');
  assert.match(await node.cli(['pin', 'ls', '--type', 'recursive', site.cid!]), new RegExp(site.cid!));
  const storePath = await nix('nix-store', ['--print-fixed-path', 'sha256', parseHash(site.hash).hash.toNix32(), 'kept-1.0.tar.gz'], env);
  assert.equal(await nix('nix-store', ['--check-validity', '--print-invalid', storePath], env), '', 'in the Nix store');
});
