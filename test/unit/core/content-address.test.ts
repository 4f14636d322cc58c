import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ContentAddressHasher, contentAddressPathError, formatContentAddress, HashModulo, parseContentAddress } from '../../../src/core/content-address';
import { hashBytes, NixHash } from '../../../src/core/hash';
import { readNar, writeNar, type NarNode } from '../../../src/core/nar';
import { parseStorePath } from '../../../src/core/store-path';

// Store paths, references, content addresses and NAR hashes printed by Nix 2.8 (`nix path-info --json`)
// for `nix-store --add-fixed [--recursive] <algo>`, `builtins.toFile` and `nix store make-content-addressed`.
const SELF = '/nix/store/3mpppw82vxgw4vaxa95yvvgfqvg848wv-ca-probe-self';
const DEP = '/nix/store/v8yn108nrgwk3mkzwa42s00k8ivvyj2g-ca-probe-dep';
const TEXT_A = '/nix/store/12wigjpizrn8axaqxj288q1b751qmwya-a';

interface Vector {
  storePath: string;
  ca: string;
  references: string[];
  nar: NarNode;
  narHash?: string;
}

const file = (text: string): NarNode => ({ type: 'regular', executable: false, size: Buffer.byteLength(text), contents: () => items([Buffer.from(text)]) });
const dir = (children: [string, NarNode][]): NarNode => ({ type: 'directory', entries: () => items(children) });
async function* items<T>(list: T[]): AsyncIterable<T> {
  yield* list;
}
const base = (storePath: string) => storePath.slice('/nix/store/'.length);

const VECTORS: Vector[] = [
  {
    storePath: '/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt',
    ca: `fixed:sha256:${hashBytes('sha256', Buffer.from('hello\n')).toNix32()}`,
    references: [],
    nar: file('hello\n'),
  },
  {
    storePath: '/nix/store/svdva85yi507g9vncgsaxvnd1r808h4w-hello.txt',
    ca: 'fixed:sha1:iwjz551fyw0cxcjgf4l6c879zabd6wpm',
    references: [],
    nar: file('hello\n'),
  },
  { storePath: '/nix/store/dra1cz5vbrhclpv4y1q0psnbkxz581bk-hello.txt', ca: 'fixed:md5:4425hx5d1mc9y39llj4k4nm55i', references: [], nar: file('hello\n') },
  {
    storePath: '/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt',
    ca: 'fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw',
    references: [],
    nar: file('hello\n'),
  },
  {
    storePath: '/nix/store/7am52wcvq0mjsrqq04c1n7znnxmxvh5r-tree',
    ca: 'fixed:r:sha256:01ck5rvyzqybzm60d7600qxnf699pxcdy4743f8li7mb5y0ckn4b',
    references: [],
    nar: dir([['hello.txt', file('hello\n')]]),
  },
  {
    storePath: '/nix/store/xak4qlvfrac08zwdv5rzmq2nj1qi8926-tree',
    ca: 'fixed:r:sha1:zg2alvgrcnq0g3axyj5hsm54asa5p7pz',
    references: [],
    nar: dir([['hello.txt', file('hello\n')]]),
  },
  { storePath: TEXT_A, ca: 'text:sha256:10a83a91g1r50bdw8g4hn47m7j7m6angpabwc80l9c16nx11cw9d', references: [], nar: file('x') },
  {
    storePath: '/nix/store/kbnsdqvza4r1hzcr5vs2bhx8kv150g37-b',
    ca: 'text:sha256:0z1kxv336pq6fag7l6wa9d0bkv9f13v88v1jn1c9jxw0037zlsvg',
    references: [base(TEXT_A)],
    nar: file(`ref ${TEXT_A}`),
  },
  {
    // A directory naming itself and a dependency: hashed modulo its own hash part, `self` in the path's type.
    storePath: SELF,
    ca: 'fixed:r:sha256:1xzvd5pl1zvasl8gjzx3pprm2v8wha7kjy97anpl4mr6g3zhsgg5',
    references: [base(SELF), base(DEP)],
    nar: dir([
      ['dep', file(`${DEP}\n`)],
      ['me', file(`${SELF}\n`)],
    ]),
    narHash: 'sha256-0sXKlIoCdcJW+DJIGHV86EGR5N2lMuEL85N81CF7UeM=',
  },
];

async function narBytes(node: NarNode): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of writeNar(node)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Streams a NAR through ContentAddressHasher in small chunks, as verify does. */
async function contentMismatch(ca: string, storePath: string, nar: Buffer): Promise<string | undefined> {
  const hasher = new ContentAddressHasher(parseContentAddress(ca), parseStorePath(storePath).hashPart);
  async function* chunks() {
    for (let at = 0; at < nar.length; at += 13) {
      const chunk = nar.subarray(at, at + 13);
      hasher.narChunk(chunk);
      yield chunk;
    }
  }
  for await (const entry of readNar(chunks())) await hasher.entry(entry);
  return hasher.mismatch();
}

test('content addresses Nix writes parse and print back the same', () => {
  for (const { ca } of VECTORS) assert.equal(formatContentAddress(parseContentAddress(ca)), ca);
  const hash = hashBytes('sha256', Buffer.from('hello\n'));
  for (const digest of [hash.toBase16(), hash.toNix32(), hash.toBase64()]) {
    assert.deepEqual(parseContentAddress(`fixed:r:sha256:${digest}`), { method: 'recursive', hash });
  }
  assert.deepEqual(parseContentAddress(`text:sha256:${hash.toNix32()}`), { method: 'text', hash });
});

test('a malformed content address says what is wrong', () => {
  const sha1 = hashBytes('sha1', Buffer.from('x')).toNix32();
  const cases: [string, RegExp][] = [
    ['anything', /expected 'text:' or 'fixed:'/],
    ['fixed:', /expected 'fixed:\[r:\]<algorithm>:<hash>'/],
    ['fixed:r:sha256', /expected 'fixed:\[r:\]<algorithm>:<hash>'/],
    [`fixed:git:sha1:${sha1}`, /Git hashing \('fixed:git:', from newer Nix\) is not supported/],
    [`fixed:blake3:${sha1}`, /unknown hash algorithm 'blake3'/],
    [`text:sha1:${sha1}`, /a text content address uses sha256, not sha1/],
    ['fixed:sha256:abc', /expected 52 Nix base32/],
    [`fixed:sha1:${sha1}:extra`, /expected/],
    ['sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=', /expected 'text:' or 'fixed:'/],
  ];
  for (const [text, reason] of cases)
    assert.throws(
      () => parseContentAddress(text),
      (e: Error) => e.name === 'ParseError' && reason.test(e.message),
      text,
    );
});

test('the store path recomputed from a content address is the one Nix made, references and self included', () => {
  for (const v of VECTORS) assert.equal(contentAddressPathError(v, parseContentAddress(v.ca)), undefined, v.storePath);
  // The same references listed twice or in another order are the same set to Nix.
  const self = VECTORS.at(-1)!;
  assert.equal(
    contentAddressPathError({ ...self, references: [...self.references].reverse().concat(self.references) }, parseContentAddress(self.ca)),
    undefined,
  );
});

test('a content address that does not give the store path is refused, saying why', () => {
  const [flat, , , , tree] = VECTORS;
  const self = VECTORS.at(-1)!;
  const textB = VECTORS.at(-2)!;
  const refuse = (info: { storePath: string; references: string[] }, ca: string, reason: RegExp) =>
    assert.match(contentAddressPathError(info, parseContentAddress(ca)) ?? 'accepted', reason, `${info.storePath} ${ca}`);
  // Another path's content address: the attacker's CA line for a genuine store path.
  refuse(tree, flat.ca, new RegExp(`gives the store path /nix/store/\\w{32}-tree, not ${tree.storePath}`));
  refuse(flat, `fixed:r:sha256:${hashBytes('sha256', Buffer.from('evil')).toNix32()}`, /gives the store path/);
  // References change the path, and only recursive sha256 and text paths may have any.
  refuse({ ...tree, references: [base(DEP)] }, tree.ca, /gives the store path/);
  refuse({ ...flat, references: [base(DEP)] }, flat.ca, /only a recursive sha256 path can have references, not a flat sha256 one/);
  refuse({ ...flat, references: [base(flat.storePath)] }, flat.ca, /only a recursive sha256 path can have references/);
  refuse({ ...VECTORS[5], references: [base(DEP)] }, VECTORS[5].ca, /not a recursive sha1 one/);
  refuse({ ...self, references: [base(DEP)] }, self.ca, /gives the store path/);
  refuse({ ...textB, references: [] }, textB.ca, /gives the store path/);
  refuse({ ...textB, references: [base(textB.storePath)] }, textB.ca, /a text path cannot refer to itself/);
  refuse(flat, textB.ca, /gives the store path/);
});

test('every vector NAR agrees with its content address; another NAR or shape does not', async () => {
  for (const v of VECTORS) {
    const nar = await narBytes(v.nar);
    if (v.narHash) assert.equal(hashBytes('sha256', nar).toSri(), v.narHash, 'the NAR built here is the one Nix dumped');
    assert.equal(await contentMismatch(v.ca, v.storePath, nar), undefined, v.storePath);
  }
  const [flat, , , recursive, tree] = VECTORS;
  const evil = await narBytes(file('evil\n'));
  assert.match((await contentMismatch(flat.ca, flat.storePath, evil))!, /^the file hashes to sha256:\w{52}, the content address says sha256:/);
  assert.match((await contentMismatch(recursive.ca, recursive.storePath, evil))!, /^the NAR hashes to sha256:/);
  assert.match(
    (await contentMismatch(flat.ca, flat.storePath, await narBytes(tree.nar)))!,
    /a flat content address names a single file, but the NAR holds a directory/,
  );
  const symlink = await narBytes({ type: 'symlink', target: '/etc/passwd' });
  assert.match(
    (await contentMismatch(VECTORS[6].ca, VECTORS[6].storePath, symlink))!,
    /a text content address names a single file, but the NAR holds a symlink/,
  );
});

/** Nix's HashModuloSink on the whole input at once: zero each occurrence of the modulus, then hash `|<offset>` for each. */
function hashModuloAtOnce(data: Buffer, modulus: string): string {
  const copy = Buffer.from(data);
  const offsets: number[] = [];
  for (let at = copy.indexOf(modulus); at >= 0; at = copy.indexOf(modulus, at + modulus.length)) {
    offsets.push(at);
    copy.fill(0, at, at + modulus.length);
  }
  const hash = createHash('sha256').update(copy);
  for (const offset of offsets) hash.update(`|${offset}`);
  return hash.digest('hex');
}

test('HashModulo gives the same hash however the stream is cut, with the modulus anywhere', () => {
  const modulus = 'aaab';
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant(modulus), fc.constantFrom('a', 'b', 'aa', 'ab', 'x'))), fc.array(fc.nat(12)), (pieces, cuts) => {
      const data = Buffer.from(pieces.join(''));
      const sink = new HashModulo('sha256', modulus);
      let at = 0;
      for (const cut of cuts) {
        sink.update(data.subarray(at, at + cut));
        at += cut;
      }
      sink.update(data.subarray(at));
      assert.equal(sink.digest().toBase16(), hashModuloAtOnce(data, modulus));
    }),
  );
  const plain = new HashModulo('sha512', SELF.slice(11, 43));
  plain.update(Buffer.from('no self-reference here'));
  assert.ok(plain.digest().equals(new NixHash('sha512', hashBytes('sha512', Buffer.from('no self-reference here')).digest)));
});
