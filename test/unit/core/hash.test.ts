import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HASH_SIZES, hashBytes, isPlaceholderHash, NixHash, parseHash, type HashAlgo } from '../../../src/core/hash';
import { decodeNix32, encodeNix32 } from '../../../src/core/nix-base32';
import { ParseError } from '../../../src/core/errors';
import { base36 } from 'multiformats/bases/base36';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { cidForFlatHash, describeCid, looksLikeCid } from '../../../src/core/cid';

const HELLO = hashBytes('sha256', new TextEncoder().encode('hello\n'));

test('known vectors: sha256 of "hello\\n" in every encoding (values from nix hash and ipfs add)', () => {
  assert.equal(HELLO.toBase16(), '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  assert.equal(HELLO.toNix32(), '00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq');
  assert.equal(HELLO.toSri(), 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=');
  assert.equal(cidForFlatHash(HELLO), 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am');
});

test('every form Nix accepts parses to the same hash, with the encoding detected', () => {
  const forms: [string, string, boolean][] = [
    [HELLO.toSri(), 'sri', false],
    [`sha256:${HELLO.toNix32()}`, 'nix32', true],
    [`sha256:${HELLO.toBase16()}`, 'base16', true],
    [`sha256:${HELLO.toBase64()}`, 'base64', true],
    [HELLO.toNix32(), 'nix32', false],
    [HELLO.toBase16().toUpperCase(), 'base16', false],
  ];
  for (const [text, encoding, prefixed] of forms) {
    const parsed = parseHash(text, 'sha256');
    assert.ok(parsed.hash.equals(HELLO), text);
    assert.equal(parsed.encoding, encoding);
    assert.equal(parsed.prefixed, prefixed);
  }
});

test('wrong lengths and alphabets are rejected with the expected form', () => {
  assert.throws(() => parseHash(HELLO.toNix32().slice(1), 'sha256'), /expected 52 Nix base32, 64 base16 or 44 base64 characters for sha256, got 51/);
  assert.throws(
    () => parseHash('e'.repeat(52), 'sha256'),
    (e: ParseError) => e instanceof ParseError && /'e' is not a Nix base32 character/.test(e.message),
  );
  assert.throws(() => parseHash('sha256-abc'), /base64/);
  assert.throws(() => parseHash('sha3:abc'), /unknown hash algorithm 'sha3'/);
  assert.throws(() => parseHash(HELLO.toNix32()), /needs its algorithm/);
  assert.throws(() => parseHash(HELLO.toSri(), 'sha512'), /expected a sha512 hash/);
});

test('placeholders: lib.fakeHash, lib.fakeSha256, lib.fakeSha512 and the empty string', () => {
  assert.ok(isPlaceholderHash('sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='));
  assert.ok(isPlaceholderHash('0'.repeat(52)));
  assert.ok(isPlaceholderHash('0'.repeat(128)));
  assert.ok(isPlaceholderHash(''));
  assert.ok(!isPlaceholderHash(HELLO.toSri()));
});

const algo = fc.constantFrom<HashAlgo>('md5', 'sha1', 'sha256', 'sha512');
const anyHash = algo.chain((a) => fc.uint8Array({ minLength: HASH_SIZES[a], maxLength: HASH_SIZES[a] }).map((d) => new NixHash(a, d)));

test('property: every encoding round-trips for every algorithm', () => {
  fc.assert(
    fc.property(anyHash, (hash) => {
      for (const encoding of ['base16', 'nix32', 'base64'] as const) {
        assert.ok(parseHash(hash.format(encoding), hash.algo).hash.equals(hash));
        assert.ok(parseHash(`${hash.algo}:${hash.format(encoding)}`).hash.equals(hash));
      }
      assert.ok(parseHash(hash.toSri()).hash.equals(hash));
      assert.deepEqual(decodeNix32(encodeNix32(hash.digest), hash.digest.length), hash.digest);
    }),
    { numRuns: 2000 },
  );
});

test('property: a CID made from a sha256/sha512 hash gives the hash back', () => {
  fc.assert(
    fc.property(anyHash, (hash) => {
      const cid = cidForFlatHash(hash);
      if (hash.algo !== 'sha256' && hash.algo !== 'sha512') return assert.equal(cid, undefined);
      const info = describeCid(cid!);
      assert.equal(info.codecName, 'raw');
      assert.ok(info.nixHash!.equals(hash));
      assert.ok(looksLikeCid(cid!));
      assert.equal(cid, CID.createV1(0x55, Digest.create(hash.algo === 'sha256' ? 0x12 : 0x13, hash.digest)).toString(), 'as multiformats encodes it');
    }),
    { numRuns: 1000 },
  );
});

test('CIDs in other versions and bases parse', () => {
  const v0 = describeCid('QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8u');
  assert.equal(v0.version, 0);
  assert.equal(v0.codecName, 'dag-pb');
  assert.equal(v0.base32, 'bafybeiduiecxoeiqs3gyc6r7v3lymmhserldnpw62qjnhmqsulqjxjmtzi');
  const cid = CID.parse(cidForFlatHash(HELLO)!);
  for (const text of [cid.toString(), cid.toString(base36)]) assert.ok(describeCid(text).nixHash!.equals(HELLO));
  assert.throws(() => describeCid('bafkreinotacid'), ParseError);
});

test('fuzz: the hash parser throws nothing but ParseError (10^4 cases)', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(...'0123456789abcdfghijklmnpqrsvwxyz:-=+/ABCDsha256') })),
      fc.option(algo, { nil: undefined }),
      (text, a) => {
        try {
          parseHash(text, a);
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error));
        }
      },
    ),
    { numRuns: 10_000 },
  );
});

test('fuzz: the CID parser throws nothing but ParseError (10^4 cases)', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(...'bafkreiQm123456789abcdefghijklmnopqrstuvwxyzABCDEFGH') })), (text) => {
      try {
        describeCid(text);
      } catch (error) {
        assert.ok(error instanceof ParseError, String(error));
      }
    }),
    { numRuns: 10_000 },
  );
});
