// Content addresses against real Nix: the paths Nix makes reproduce from their CA lines, and a
// forged CA line is refused by `nix-ipfs verify` exactly where stock Nix refuses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ContentAddressHasher, contentAddressPathError, formatContentAddress, parseContentAddress } from '../../src/core/content-address';
import { hashBytes } from '../../src/core/hash';
import { readNar, writeNar, type NarNode } from '../../src/core/nar';
import { formatNarInfo, parseNarInfo } from '../../src/core/narinfo';
import { parsePathInfoJson, type PathInfo } from '../../src/core/path-info';
import { parseStorePath } from '../../src/core/store-path';
import { startKuboNode, type KuboNode } from '../helpers/kubo';
import { cli, run } from '../helpers/cli';
import { buildClosure, nix, nixKeyPair, noNarinfoCache, tempDir } from '../helpers/nix-env';

async function narOf(storePath: string): Promise<Buffer> {
  const { stdout } = await promisify(execFile)('nix-store', ['--dump', storePath], { encoding: 'buffer', maxBuffer: 1 << 28 });
  return stdout;
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** Why the NAR disagrees with the content address, streamed as verify streams it. */
async function contentMismatch(info: PathInfo, nar: Buffer): Promise<string | undefined> {
  const hasher = new ContentAddressHasher(parseContentAddress(info.ca!), parseStorePath(info.path).hashPart);
  hasher.narChunk(nar);
  for await (const entry of readNar(once(nar))) await hasher.entry(entry);
  return hasher.mismatch();
}

/** Every kind of content-addressed path Nix 2.8 makes: flat and recursive of each algorithm, text with references, and a path that refers to itself. */
async function contentAddressedPaths(dir: string): Promise<string[]> {
  const tag = `${process.pid}-${Date.now()}`;
  const tree = path.join(dir, `tree-${tag}`);
  await mkdir(path.join(tree, 'sub'), { recursive: true });
  await writeFile(path.join(tree, 'sub/data.bin'), randomBytes(70_000));
  await writeFile(path.join(tree, 'note'), `note ${tag}\n`);
  const file = path.join(dir, `file-${tag}`);
  await writeFile(file, randomBytes(5_000));
  const paths: string[] = [];
  for (const algo of ['md5', 'sha1', 'sha256', 'sha512']) paths.push(await nix('nix-store', ['--add-fixed', algo, file]));
  for (const algo of ['sha1', 'sha256', 'sha512']) paths.push(await nix('nix-store', ['--add-fixed', '--recursive', algo, tree]));
  const text = `let a = builtins.toFile "ca-a-${tag}" "a ${tag}"; in builtins.toFile "ca-b-${tag}" "b refers to \${a}"`;
  paths.push(await nix('nix', ['eval', '--raw', '--expr', text]));
  const selfFile = path.join(dir, `self-${tag}.nix`);
  await writeFile(
    selfFile,
    `derivation { name = "ca-self-${tag}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo $out > $out" ]; }\n`,
  );
  const built = await nix('nix-build', ['--no-out-link', selfFile]);
  const { rewrites } = JSON.parse(await nix('nix', ['store', 'make-content-addressed', '--json', built])) as { rewrites: Record<string, string> };
  paths.push(rewrites[built]);
  return paths;
}

test('the content addresses of paths Nix made reproduce their store paths and NARs; swapped ones do not', async () => {
  const dir = await tempDir();
  const paths = await contentAddressedPaths(dir);
  const infos = parsePathInfoJson(await nix('nix', ['path-info', '--json', '-r', ...paths])).filter((i) => i.ca);
  const kinds = new Set(
    infos.map((i) => `${i.ca!.split(':').slice(0, -1).join(':')}${i.references.includes(i.path) ? ' self' : ''}${i.references.length ? ' refs' : ''}`),
  );
  for (const kind of [
    'fixed:md5',
    'fixed:sha1',
    'fixed:sha256',
    'fixed:sha512',
    'fixed:r:sha1',
    'fixed:r:sha256',
    'fixed:r:sha512',
    'text:sha256',
    'text:sha256 refs',
    'fixed:r:sha256 self refs',
  ]) {
    assert.ok(kinds.has(kind), `Nix made a ${kind} path (made: ${[...kinds].join(', ')})`);
  }
  for (const info of infos) {
    const ca = parseContentAddress(info.ca!);
    assert.equal(formatContentAddress(ca), info.ca);
    const narinfo = { storePath: info.path, references: info.references.map((r) => path.basename(r)) };
    assert.equal(contentAddressPathError(narinfo, ca), undefined, info.path);
    assert.equal(await contentMismatch(info, await narOf(info.path)), undefined, info.path);
  }
  // Each path with its neighbour's content address: a different store path, or a different NAR.
  for (const [i, info] of infos.entries()) {
    const other = infos[(i + 1) % infos.length];
    const narinfo = { storePath: info.path, references: info.references.map((r) => path.basename(r)) };
    assert.ok(contentAddressPathError(narinfo, parseContentAddress(other.ca!)), `${info.path} with ${other.ca}`);
  }
});

/** Writes a file into the node's MFS (replacing it) from bytes on disk, so binary NARs arrive intact. */
async function writeMfs(node: KuboNode, dir: string, mfsPath: string, bytes: Uint8Array | string): Promise<void> {
  const file = path.join(dir, `upload-${randomBytes(6).toString('hex')}`);
  await writeFile(file, bytes);
  await node.cli(['files', 'rm', '--force', mfsPath]).catch(() => '');
  await node.cli(['files', 'write', '--create', '--parents', mfsPath, file]);
}

/** Replaces a published narinfo with one whose NAR is the attacker's (NarHash and NarSize made to match it). */
async function forge(node: KuboNode, dir: string, storePath: string, edit: (fields: { ca?: string }) => { ca?: string }): Promise<void> {
  const narinfoPath = `/nix-ipfs/cache/${parseStorePath(storePath).hashPart}.narinfo`;
  const genuine = parseNarInfo(await node.cli(['files', 'read', narinfoPath]));
  const chunks: Uint8Array[] = [];
  const evil: NarNode = { type: 'regular', executable: true, size: 20, contents: () => once(Buffer.from('#!/bin/sh\nrm -rf ~\n\n')) };
  for await (const chunk of writeNar(evil)) chunks.push(chunk);
  const nar = Buffer.concat(chunks);
  const narHash = hashBytes('sha256', nar);
  const url = `nar/${narHash.toNix32()}.nar`;
  await writeMfs(node, dir, `/nix-ipfs/cache/${url}`, nar);
  const forged = {
    ...genuine,
    url,
    fileHash: undefined,
    fileSize: undefined,
    narHash: narHash.toSri(),
    narSize: nar.length,
    sigs: [],
    ...edit({ ca: genuine.ca }),
  };
  await writeMfs(node, dir, narinfoPath, formatNarInfo(forged));
}

async function verifyJson(node: KuboNode, storePath: string) {
  const result = await cli(['verify', storePath, '--api', node.apiAddr, '--no-nix-keys', '--json']);
  return { code: result.code, report: JSON.parse(result.stdout), stderr: result.stderr };
}

test('verify refuses a forged content address where stock Nix does, and trusts a genuine unsigned one', async () => {
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const node = await startKuboNode();
  const made = await contentAddressedPaths(dir);
  const [flat, recursive] = [made[2], made[6]]; // fixed:sha256 and fixed:r:sha512
  const { app, dep } = await buildClosure(dir);
  const published = await cli(['publish', flat, recursive, app, '--api', node.apiAddr, '--json']);
  assert.equal(published.code, 0, published.stderr);

  // Unsigned but content-addressed: trusted, as Nix trusts it.
  for (const genuine of [flat, recursive]) {
    const { code, report } = await verifyJson(node, genuine);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(report.trusted, true);
    assert.equal(report.contentAddress.ok, true);
    assert.match(report.reason, /^content-addressed: the store path and the NAR agree with CA fixed:/);
  }

  // An input-addressed path with the attacker's NAR and a CA line of the attacker's choosing.
  await forge(node, dir, dep, () => ({ ca: `fixed:r:sha256:${hashBytes('sha256', Buffer.from('anything')).toNix32()}` }));
  // A content-addressed path keeping its true CA line, with the attacker's NAR.
  await forge(node, dir, recursive, (fields) => fields);
  // The same flat path claimed as recursive.
  await forge(node, dir, flat, (fields) => ({ ca: fields.ca!.replace('fixed:', 'fixed:r:') }));

  const depVerdict = await verifyJson(node, dep);
  assert.equal(depVerdict.code, 1);
  assert.equal(depVerdict.report.trusted, false);
  assert.match(
    depVerdict.report.reason,
    /claims to be content-addressed \(CA: fixed:r:sha256:\w+\) but is not: it gives the store path \/nix\/store\/\w{32}-nix-ipfs-dep, not /,
  );
  const recursiveVerdict = await verifyJson(node, recursive);
  assert.equal(recursiveVerdict.code, 1);
  assert.equal(recursiveVerdict.report.trusted, false);
  assert.equal(recursiveVerdict.report.nar.ok, true, 'the NAR matches its (forged) NarHash');
  assert.match(recursiveVerdict.report.reason, /claims to be content-addressed .* but is not: the NAR hashes to sha512:\w+, the content address says sha512:/);
  const flatVerdict = await verifyJson(node, flat);
  assert.equal(flatVerdict.code, 1);
  assert.match(flatVerdict.report.contentAddress.error, /gives the store path/);

  // Stock Nix, pulling the same cache through Kubo's gateway with signatures required, refuses all three.
  const root = (await node.cli(['files', 'stat', '--hash', '/nix-ipfs'])).trim();
  const cacheUrl = `${node.gatewayUrl}/ipfs/${root}/cache`;
  const someKey = (await nixKeyPair(dir, 'unrelated-1')).publicKey;
  const copy = (storePath: string, store: string) =>
    run(
      'nix',
      [
        'copy',
        '--from',
        cacheUrl,
        '--to',
        path.join(dir, store),
        storePath,
        '--option',
        'trusted-public-keys',
        someKey,
        '--option',
        'require-sigs',
        'true',
        ...noNarinfoCache,
      ],
      { env },
    );
  const nixDep = await copy(dep, 'store-dep');
  assert.notEqual(nixDep.code, 0);
  assert.match(nixDep.stderr, /claims to be content-addressed but isn't/);
  const nixRecursive = await copy(recursive, 'store-recursive');
  assert.notEqual(nixRecursive.code, 0);
  assert.match(nixRecursive.stderr, /ca hash mismatch importing path/);
  const nixFlat = await copy(flat, 'store-flat');
  assert.notEqual(nixFlat.code, 0);
  assert.match(nixFlat.stderr, /claims to be content-addressed but isn't/);
});
