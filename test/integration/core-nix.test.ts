// core/ against the real nix binary: encodings, NAR bytes, store paths and signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HASH_SIZES, NixHash, parseHash, type HashAlgo } from '../../src/core/hash';
import { NarHasher, writeNar } from '../../src/core/nar';
import { fingerprint, formatNarInfo, parseNarInfo } from '../../src/core/narinfo';
import { extractFetchers, parseNix } from '../../src/core/fetchers/extract';
import { parsePathInfoJson } from '../../src/core/path-info';
import { parsePublicKey, parseSecretKey, signFingerprint, verifySignatures } from '../../src/core/signature';
import { makeFixedOutputPath } from '../../src/core/store-path';
import { narNodeFromPath } from '../../src/nix/nar-fs';
import { cli, run } from '../helpers/cli';
import { nix, nixKeyPair, noNarinfoCache, tempDir, untrustedDaemonUser } from '../helpers/nix-env';

/** `nix hash to-base32 …` (Nix 2.8) or `nix hash convert --to nix32 …` (newer), for many hashes at once. */
async function nixConvert(algo: HashAlgo, to: 'base32' | 'base16' | 'sri', hashes: string[]): Promise<string[]> {
  const old = await run('nix', ['hash', `to-${to}`, '--type', algo, ...hashes]);
  if (old.code === 0) return old.stdout.trim().split('\n');
  const modern = await nix('nix', ['hash', 'convert', '--hash-algo', algo, '--to', to === 'base32' ? 'nix32' : to, ...hashes]);
  return modern.split('\n');
}

test('encodings equal nix hash to-base32 / to-base16 / to-sri for hundreds of random hashes', async () => {
  for (const algo of ['md5', 'sha1', 'sha256', 'sha512'] as HashAlgo[]) {
    const hashes = Array.from({ length: 100 }, () => new NixHash(algo, new Uint8Array(randomBytes(HASH_SIZES[algo]))));
    const hex = hashes.map((h) => h.toBase16());
    assert.deepEqual(
      await nixConvert(algo, 'base32', hex),
      hashes.map((h) => h.toNix32()),
      `${algo} base32`,
    );
    assert.deepEqual(
      await nixConvert(algo, 'sri', hex),
      hashes.map((h) => h.toSri()),
      `${algo} sri`,
    );
    assert.deepEqual(
      await nixConvert(
        algo,
        'base16',
        hashes.map((h) => h.toNix32()),
      ),
      hex,
      `${algo} base16`,
    );
  }
});

async function makeTree(root: string, seed: number): Promise<void> {
  await mkdir(path.join(root, 'bin'), { recursive: true });
  await mkdir(path.join(root, 'share/doc/deep/deeper'), { recursive: true });
  await mkdir(path.join(root, 'empty dir'));
  await writeFile(path.join(root, 'bin/tool'), `#!/bin/sh\necho ${seed}\n`);
  await chmod(path.join(root, 'bin/tool'), 0o755);
  await writeFile(path.join(root, 'empty'), '');
  await writeFile(path.join(root, 'share/doc/ünïcödé name.txt'), 'unicode\n');
  await writeFile(path.join(root, 'share/doc/deep/deeper/big.bin'), randomBytes(200_000 + seed));
  await writeFile(path.join(root, 'with space'), 'x');
  await writeFile(path.join(root, 'A-upper'), 'sorted before lowercase');
  await symlink('../bin/tool', path.join(root, 'share/tool-link'));
  await symlink('/nonexistent/absolute', path.join(root, 'dangling'));
}

test('our NAR bytes and NarHash equal nix-store --dump and nix path-info; fixed-output paths equal --add-fixed', async () => {
  const dir = await tempDir();
  for (const seed of [1, 2, 3]) {
    const tree = path.join(dir, `tree${seed}`);
    await makeTree(tree, seed);
    const chunks: Uint8Array[] = [];
    const hasher = new NarHasher();
    for await (const chunk of writeNar(await narNodeFromPath(tree))) {
      chunks.push(chunk);
      hasher.update(chunk);
    }
    const ours = Buffer.concat(chunks);
    const { narHash, narSize } = hasher.digest();

    const added = await nix('nix-store', ['--add', tree]);
    const dumped = await runBuffer('nix-store', ['--dump', added]);
    assert.ok(ours.equals(dumped), `NAR of tree${seed} differs from nix-store --dump`);
    const [info] = parsePathInfoJson(await nix('nix', ['path-info', '--json', added]));
    assert.ok(parseHash(info.narHash, 'sha256').hash.equals(narHash));
    assert.equal(info.narSize, narSize);

    assert.equal(makeFixedOutputPath({ name: `tree${seed}`, hash: narHash, recursive: true }), added);
    assert.equal(
      makeFixedOutputPath({ name: `tree${seed}`, hash: narHash, recursive: true }),
      await nix('nix-store', ['--add-fixed', '--recursive', 'sha256', tree]),
    );
    const file = path.join(tree, 'share/doc/deep/deeper/big.bin');
    const flat = await nix('nix-store', ['--add-fixed', 'sha256', file]);
    const fileHash = parseHash(`sha256:${await nix('nix', ['hash', 'file', '--base16', file])}`).hash;
    assert.equal(makeFixedOutputPath({ name: 'big.bin', hash: fileHash, recursive: false }), flat);
    for (const algo of ['sha1', 'sha512'] as const) {
      const other = parseHash(`${algo}:${await nix('nix', ['hash', 'file', '--type', algo, '--base16', file])}`).hash;
      assert.equal(makeFixedOutputPath({ name: 'big.bin', hash: other, recursive: false }), await nix('nix-store', ['--add-fixed', algo, file]));
    }
  }
});

function runBuffer(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    import('node:child_process').then(({ execFile }) =>
      execFile(cmd, args, { encoding: 'buffer', maxBuffer: 1 << 30 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
  });
}

test('signatures interoperate with Nix both ways; a flipped byte in any signed field fails both', async () => {
  const dir = await tempDir();
  const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const key = await nixKeyPair(dir, 'core-test-1');
  const secret = parseSecretKey((await readFile(key.secretFile, 'utf8')).trim());
  const publicKey = parsePublicKey(key.publicKey);
  await writeFile(path.join(dir, 'content'), `signed ${Date.now()}\n`);
  const storePath = await nix('nix-store', ['--add', path.join(dir, 'content')]);

  // Nix signs, we verify. Signing needs a store we own: nix-daemon refuses untrusted users.
  if (untrustedDaemonUser) {
    const refused = await run('nix', ['store', 'sign', '--key-file', key.secretFile, storePath]);
    assert.match(refused.stderr, /not privileged to add signatures/);
  }
  const signer = path.join(dir, 'signer');
  await nix('nix', ['copy', '--no-check-sigs', '--to', signer, storePath], env);
  await nix('nix', ['store', 'sign', '--store', signer, '--key-file', key.secretFile, storePath], env);
  const [info] = parsePathInfoJson(await nix('nix', ['path-info', '--store', signer, '--json', '--sigs', storePath], env));
  const narinfo = {
    storePath,
    url: 'nar/x.nar',
    compression: 'none',
    narHash: info.narHash,
    narSize: info.narSize,
    references: info.references.map((r) => path.basename(r)),
    sigs: info.signatures,
  };
  assert.deepEqual(
    verifySignatures(narinfo, [publicKey]).map((v) => v.state),
    ['valid-trusted'],
  );

  // We sign, Nix verifies: a file:// binary cache holding our narinfo, copied with require-sigs.
  const cache = path.join(dir, 'cache');
  await mkdir(path.join(cache, 'nar'), { recursive: true });
  await writeFile(path.join(cache, 'nix-cache-info'), 'StoreDir: /nix/store\n');
  await writeFile(path.join(cache, 'nar/x.nar'), await runBuffer('nix-store', ['--dump', storePath]));
  const ours = { ...narinfo, sigs: [signFingerprint(secret, fingerprint(narinfo))] };
  const hashPart = path.basename(storePath).slice(0, 32);
  const copy = async (text: string, store: string) => {
    await writeFile(path.join(cache, `${hashPart}.narinfo`), text);
    return run(
      'nix',
      [
        'copy',
        '--from',
        `file://${cache}`,
        '--to',
        path.join(dir, store),
        storePath,
        '--option',
        'trusted-public-keys',
        key.publicKey,
        '--option',
        'require-sigs',
        'true',
        ...noNarinfoCache,
      ],
      { env },
    );
  };
  const accepted = await copy(formatNarInfo(ours), 'store-ok');
  assert.equal(accepted.code, 0, accepted.stderr);

  const flips: [string, (t: string) => string][] = [
    ['StorePath', (t) => t.replace(/^(StorePath: \/nix\/store\/.{32}-)/m, '$1x')],
    ['NarSize', (t) => t.replace(/^NarSize: (\d+)/m, (_, n) => `NarSize: ${Number(n) + 1}`)],
    ['NarHash', (t) => t.replace(/^NarHash: sha256-(.)/m, (_, c) => `NarHash: sha256-${c === 'A' ? 'B' : 'A'}`)],
    ['References', (t) => t.replace(/^References: .*$/m, `References: ${hashPart}-content`)],
  ];
  for (const [field, flip] of flips) {
    const tampered = flip(formatNarInfo(ours));
    assert.notEqual(tampered, formatNarInfo(ours), field);
    let parsed;
    try {
      parsed = parseNarInfo(tampered);
    } catch {
      continue; // our parser already refuses it (e.g. a StorePath that no longer matches its file)
    }
    assert.equal(verifySignatures(parsed, [publicKey])[0].state, 'invalid', `ours accepts a tampered ${field}`);
    const result = await copy(tampered, `store-${field}`);
    assert.notEqual(result.code, 0, `Nix accepts a tampered ${field}`);
  }
});

test('nix-ipfs cid and hash convert every encoding; bad input exits 1 with a clear message', async () => {
  const hex = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
  for (const form of [hex, '00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq', 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=', `sha256:${hex}`]) {
    const result = await cli(['cid', form]);
    assert.equal(result.stdout.trim(), 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am', form);
  }
  const json = JSON.parse((await cli(['cid', hex, '--json'])).stdout);
  assert.deepEqual(json, {
    algo: 'sha256',
    sri: 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=',
    base32: '00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq',
    base16: hex,
    cid: 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am',
  });
  assert.equal((await cli(['hash', hex, '--to', 'base32'])).stdout.trim(), '00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq');
  assert.equal((await cli(['hash', 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=', '--to', 'base16'])).stdout.trim(), hex);
  assert.equal((await cli(['hash', hex, '--to', 'base64'])).stdout.trim(), 'WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=');
  assert.equal((await cli(['hash', hex, '--to', 'sri'])).stdout.trim(), 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=');
  const bad = await cli(['cid', hex.slice(1)]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /expected 52 Nix base32, 64 base16 or 44 base64 characters for sha256, got 63/);
  assert.equal((await cli(['cid', 'md5:' + '0'.repeat(32)])).code, 1);
});

test('string literals, escapes included, read as nix-instantiate evaluates them', async () => {
  const strings = [
    "''\n  plain\n''",
    "''\n  a ''${HOME} b\n''",
    "''a'''b''",
    "''x''\\ny''\\tz''",
    "''back\\slash''",
    "''$dollar and $${brace}''",
    '"a\\"b\\\\c\\n\\$d"',
    '"tab\\there"',
  ];
  for (const source of strings) {
    const evaluated = JSON.parse(await nix('nix-instantiate', ['--eval', '--json', '--expr', source]));
    const hash = '0'.repeat(51) + '1';
    const [fetcher] = extractFetchers(parseNix(`fetchurl { url = ${source}; sha256 = "${hash}"; }`));
    // Indented strings are trimmed: what a URL or hash needs (Nix strips their indentation and keeps a last newline).
    assert.equal(fetcher.urls[0], source.startsWith("''") ? evaluated.trim() : evaluated, source);
  }
});
