import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import { hashBytes } from '../../../src/core/hash';
import { NarHasher, readNar, writeNar, type NarEntry, type NarNode } from '../../../src/core/nar';
import { fingerprint, formatNarInfo, parseNarInfo, type NarInfo } from '../../../src/core/narinfo';
import { formatPublicKey, generateKeyPair, parsePublicKey, parseSecretKey, publicKeyOf, signFingerprint, verifySignatures } from '../../../src/core/signature';
import { parseStorePath } from '../../../src/core/store-path';
import { parsePathInfoJson } from '../../../src/core/path-info';

const P = '/nix/store/0l9hbp60gz8hbxgq812nb4yrfaxg88xv-nix-ipfs-dep';
const narHash = hashBytes('sha256', new Uint8Array([1, 2, 3]));
const sample: NarInfo = {
  storePath: '/nix/store/rasp519bnwxqr8zfv51w34xi28winh4w-nix-ipfs-app',
  url: `nar/${narHash.toNix32()}.nar`,
  compression: 'none',
  fileHash: `sha256:${narHash.toNix32()}`,
  fileSize: 120,
  narHash: `sha256:${narHash.toNix32()}`,
  narSize: 120,
  references: ['0l9hbp60gz8hbxgq812nb4yrfaxg88xv-nix-ipfs-dep'],
  deriver: 'mh3rz2qzm0lrcxk22g2b1kifak7q2nj9-x.drv',
  sigs: [],
};

test('store paths parse and bad ones say why', () => {
  assert.deepEqual(parseStorePath(`${P}/bin/x`), { storeDir: '/nix/store', hashPart: '0l9hbp60gz8hbxgq812nb4yrfaxg88xv', name: 'nix-ipfs-dep', path: P });
  assert.throws(() => parseStorePath('/tmp/x'), /not inside \/nix\/store/);
  assert.throws(() => parseStorePath('/nix/store/0l9hbp60gz8hbxgq812nb4yrfaxg88xe-x'), /32 Nix base32/);
  assert.throws(() => parseStorePath('/nix/store/0l9hbp60gz8hbxgq812nb4yrfaxg88xv-.x'), /starts with '.'/);
  assert.throws(() => parseStorePath('/nix/store/0l9hbp60gz8hbxgq812nb4yrfaxg88xv-a b'), /character outside/);
});

test('narinfo: every field round-trips; the fingerprint is what Nix signs', () => {
  const withAll = { ...sample, system: 'x86_64-linux', sigs: ['k:sig'], ca: 'fixed:r:sha256:abc' };
  assert.deepEqual(parseNarInfo(formatNarInfo(withAll)), withAll);
  assert.equal(fingerprint(sample), `1;${sample.storePath};sha256:${narHash.toNix32()};120;${P}`);
  // An SRI NarHash is signed in its Nix base32 form.
  assert.equal(fingerprint({ ...sample, narHash: narHash.toSri() }), fingerprint(sample));
});

test('narinfo: hostile fields are rejected with specific errors', () => {
  const bad = (patch: Partial<NarInfo>, pattern: RegExp) =>
    assert.throws(
      () => parseNarInfo(formatNarInfo({ ...sample, ...patch })),
      (e: Error) => e instanceof ParseError && pattern.test(e.message),
    );
  bad({ storePath: '/etc/passwd' }, /StorePath: .*not inside/);
  bad({ url: '../../etc/passwd' }, /URL .* must be a relative path/);
  bad({ url: '/etc/passwd' }, /URL .* must be a relative path/);
  bad({ url: 'http://evil/x.nar' }, /URL .* must be a relative path/);
  bad({ references: ['not-a-store-path'] }, /References: 'not-a-store-path'/);
  bad({ narHash: 'sha256:zzz' }, /NarHash/);
  assert.throws(() => parseNarInfo('StorePath: x\n'), /StorePath/);
  assert.throws(() => parseNarInfo(formatNarInfo(sample).replace('NarSize: 120', 'NarSize: -1')), /NarSize must be a whole number/);
});

test('signatures: made and checked with Nix key formats; any signed field tampered fails', () => {
  const pair = generateKeyPair('test-1');
  const secret = parseSecretKey(pair.secret);
  const publicKey = parsePublicKey(pair.public);
  assert.equal(formatPublicKey(publicKeyOf(secret)), pair.public);
  const signed = { ...sample, sigs: [signFingerprint(secret, fingerprint(sample))] };
  assert.equal(verifySignatures(signed, [publicKey])[0].state, 'valid-trusted');
  assert.equal(verifySignatures(signed, [], [publicKey])[0].state, 'valid-untrusted');
  assert.equal(verifySignatures(signed, [parsePublicKey(generateKeyPair('other').public)])[0].state, 'unknown-key');
  const other = hashBytes('sha256', new Uint8Array([9]));
  for (const tampered of [
    { storePath: sample.storePath.replace('app', 'apq') },
    { narHash: `sha256:${other.toNix32()}` },
    { narSize: 121 },
    { references: [] },
  ]) {
    assert.equal(verifySignatures({ ...signed, ...tampered }, [publicKey])[0].state, 'invalid', JSON.stringify(tampered));
  }
  assert.throws(() => parseSecretKey('name:abc'), /64-byte key/);
  assert.throws(() => parsePublicKey('nocolon'), /name:base64/);
});

test('nix path-info JSON: the old array and the new object shapes', () => {
  const old = `[{"path":"${P}","narHash":"sha256-EFUdrtf6Rn0LWIJufrmg8q99aT3jGfLvd1//zaJEufY=","narSize":120,"references":[],"signatures":["a:b"],"ultimate":true}]`;
  const newer = `{"${P}":{"narHash":"sha256:178x3wjg23lph7qg1il46a9lj04p7l5p53qrabzh25i77hc5w34g","narSize":120,"references":["${P}"],"signatures":[],"ca":"fixed:r:sha256:178x3wjg23lph7qg1il46a9lj04p7l5p53qrabzh25i77hc5w34g"}}`;
  assert.deepEqual(parsePathInfoJson(old)[0], {
    path: P,
    narHash: 'sha256-EFUdrtf6Rn0LWIJufrmg8q99aT3jGfLvd1//zaJEufY=',
    narSize: 120,
    references: [],
    deriver: undefined,
    signatures: ['a:b'],
    ca: undefined,
  });
  assert.equal(parsePathInfoJson(newer)[0].path, P);
  assert.equal(parsePathInfoJson(newer)[0].ca?.startsWith('fixed:r:'), true);
  assert.throws(() => parsePathInfoJson(`{"${P}":null}`), /not a valid store path/);
});

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of source) chunks.push(c);
  return Buffer.concat(chunks);
}

async function* once(bytes: Uint8Array, chunk = 7): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
}

async function entries(bytes: Uint8Array): Promise<(NarEntry & { data?: string })[]> {
  const out: (NarEntry & { data?: string })[] = [];
  for await (const e of readNar(once(bytes))) {
    const data = e.contents ? Buffer.from(await collect(e.contents)).toString() : undefined;
    out.push({ path: e.path, type: e.type, executable: e.executable, target: e.target, size: e.size, ...(data === undefined ? {} : { data }) });
  }
  return out;
}

const file = (text: string, executable = false): NarNode => ({
  type: 'regular',
  executable,
  size: Buffer.byteLength(text),
  contents: () => once(new TextEncoder().encode(text)),
});
const dir = (children: [string, NarNode][]): NarNode => ({ type: 'directory', entries: () => once2(children) });
async function* once2<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

test('NAR: written and read back, hashed while streaming', async () => {
  const tree = dir([
    ['bin', dir([['hello', file('#!/bin/sh\n', true)]])],
    ['empty', file('')],
    ['link', { type: 'symlink', target: 'bin/hello' }],
  ]);
  const bytes = await collect(writeNar(tree));
  const hasher = new NarHasher();
  hasher.update(bytes);
  const { narHash, narSize } = hasher.digest();
  assert.equal(narSize, bytes.length);
  assert.ok(narHash.equals(hashBytes('sha256', bytes)));
  assert.deepEqual(
    (await entries(bytes)).map((e) => [e.path, e.type, e.data ?? e.target ?? '']),
    [
      ['', 'directory', ''],
      ['bin', 'directory', ''],
      ['bin/hello', 'regular', '#!/bin/sh\n'],
      ['empty', 'regular', ''],
      ['link', 'symlink', 'bin/hello'],
    ],
  );
});

test('NAR: traversal, bad order, bad padding, truncation and depth bombs are rejected', async () => {
  const nar = (tree: NarNode) => collect(writeNar(tree));
  const raw = async (names: string[]) => {
    // Builds a directory NAR by hand, bypassing the writer's own checks (two-character names).
    const good = await nar(dir(names.map((_, i) => [`n${i}`, file('x')] as [string, NarNode])));
    let text = Buffer.from(good).toString('latin1');
    names.forEach((n, i) => (text = text.replace(`n${i}`.padEnd(8, '\0'), n.padEnd(8, '\0'))));
    return Buffer.from(text, 'latin1');
  };
  const rejects = (bytes: Uint8Array, pattern: RegExp) => assert.rejects(entries(bytes), (e: Error) => e instanceof ParseError && pattern.test(e.message));
  await rejects(await raw(['..']), /forbidden entry name '\.\.'/);
  await rejects(await raw(['nb', 'na']), /out of order/);
  await rejects(await raw(['na', 'na']), /out of order or repeated/);
  const good = await nar(file('abc'));
  await rejects(good.subarray(0, good.length - 9), /unexpected end/);
  const padded = Buffer.from(good);
  padded[padded.length - 17] = 1; // a padding byte after "abc"
  await rejects(padded, /non-zero padding/);
  await rejects(Buffer.concat([good, new Uint8Array(8)]), /data after the end/);
  let deep: NarNode = file('x');
  for (let i = 0; i < 20; i++) deep = dir([['d', deep]]);
  await assert.rejects(async () => {
    for await (const _ of readNar(once(await nar(deep)), { maxDepth: 10 }));
  }, /nested deeper than 10/);
});

test('fuzz: store path, narinfo, NAR and path-info parsers throw nothing but ParseError (10^4 cases each)', async () => {
  const only = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      assert.ok(error instanceof ParseError, `${(error as Error)?.constructor?.name}: ${String(error)}`);
    }
  };
  fc.assert(
    fc.property(fc.string(), (s) => only(() => parseStorePath(s))),
    { numRuns: 10_000 },
  );
  fc.assert(
    fc.property(
      fc.string().map((s) => `/nix/store/${s}`),
      (s) => only(() => parseStorePath(s)),
    ),
    { numRuns: 10_000 },
  );
  const line = fc
    .tuple(fc.constantFrom('StorePath', 'URL', 'NarHash', 'NarSize', 'References', 'Sig', 'CA', 'FileSize', 'Deriver', 'X'), fc.string())
    .map(([k, v]) => `${k}: ${v}`);
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), (lines) => only(() => parseNarInfo(lines.join('\n')))),
    { numRuns: 10_000 },
  );
  fc.assert(
    fc.property(fc.string(), (s) => only(() => parseNarInfo(formatNarInfo(sample).replace(/NarHash: .*/, `NarHash: ${s}`)))),
    { numRuns: 10_000 },
  );
  fc.assert(
    fc.property(fc.string(), (s) => only(() => parsePathInfoJson(s))),
    { numRuns: 10_000 },
  );
  const valid = await collect(
    writeNar(
      dir([
        ['a', file('hello')],
        ['b', { type: 'symlink', target: 'a' }],
      ]),
    ),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(valid.length),
      async (flips, cut) => {
        const bytes = Buffer.from(valid.subarray(0, cut));
        for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
        try {
          await entries(bytes);
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error));
        }
      },
    ),
    { numRuns: 10_000 },
  );
});
