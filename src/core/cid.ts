import { CID } from 'multiformats/cid';
import * as base10 from 'multiformats/bases/base10';
import * as base16 from 'multiformats/bases/base16';
import * as base2 from 'multiformats/bases/base2';
import * as base256emoji from 'multiformats/bases/base256emoji';
import * as base32 from 'multiformats/bases/base32';
import * as base36 from 'multiformats/bases/base36';
import * as base58 from 'multiformats/bases/base58';
import * as base64 from 'multiformats/bases/base64';
import * as base8 from 'multiformats/bases/base8';
import * as identity from 'multiformats/bases/identity';
import { ParseError } from './errors';
import { NixHash } from './hash';

/** Multicodec codes nix-ipfs names; others show as hex. */
const CODEC_NAMES: Record<number, string> = { 0x55: 'raw', 0x70: 'dag-pb', 0x71: 'dag-cbor', 0x0129: 'dag-json', 0x0200: 'json', 0x72: 'libp2p-key' };
const SHA2_256 = 0x12;
const SHA2_512 = 0x13;
const RAW = 0x55;
const MULTIHASH_NAMES: Record<number, string> = {
  0x00: 'identity',
  0x11: 'sha1',
  [SHA2_256]: 'sha2-256',
  [SHA2_512]: 'sha2-512',
  0x1e: 'blake3',
  0xb220: 'blake2b-256',
};

// One decoder for every multibase prefix, so a CID pasted in any base parses. The bases one by one, not
// multiformats/basics: that also brings its hashers, whose node:crypto costs every start of the CLI ~6 ms.
const bases = { ...identity, ...base2, ...base8, ...base10, ...base16, ...base32, ...base36, ...base58, ...base64, ...base256emoji };
const anyBase = Object.values(bases)
  .map((b) => b.decoder as { or(other: unknown): unknown })
  .reduce((all, decoder) => all.or(decoder) as typeof all) as unknown as Parameters<typeof CID.parse>[1];

/**
 * The CIDv1 `raw` CID of a flat file with this hash (sha256 → sha2-256, sha512 → sha2-512), in base32.
 * It names the file only when IPFS stores it as one raw block; a larger file added to
 * Kubo becomes a UnixFS DAG with a different root CID, which only the mirror index knows.
 * Encoded from its bytes (version, codec, multihash code, digest length: one-byte varints, then the
 * digest): the scan makes one per flat hash, and building a CID object first costs 4× as much.
 */
export function cidForFlatHash(hash: NixHash): string | undefined {
  const code = hash.algo === 'sha256' ? SHA2_256 : hash.algo === 'sha512' ? SHA2_512 : undefined;
  if (code === undefined) return undefined;
  const bytes = new Uint8Array(4 + hash.digest.length);
  bytes.set([1, RAW, code, hash.digest.length]);
  bytes.set(hash.digest, 4);
  return base32.base32.encode(bytes);
}

export interface CidInfo {
  cid: CID;
  version: 0 | 1;
  codec: number;
  codecName: string;
  multihashName: string;
  multihashCode: number;
  digestHex: string;
  /** The CIDv1 form in base32 (what gateways and Kubo print). */
  base32: string;
  /** The digest as a Nix hash when the multihash is sha2-256/512 (a file hash when the codec is raw). */
  nixHash?: NixHash;
}

export function describeCid(text: string): CidInfo {
  let cid: CID;
  try {
    cid = text.startsWith('Qm') || text.startsWith('1') ? CID.parse(text) : CID.parse(text, anyBase);
  } catch (error) {
    throw new ParseError('CID', (error as Error).message ?? String(error));
  }
  const code = cid.multihash.code;
  const algo = code === SHA2_256 ? 'sha256' : code === SHA2_512 ? 'sha512' : undefined;
  let nixHash: NixHash | undefined;
  if (algo) {
    try {
      nixHash = new NixHash(algo, cid.multihash.digest);
    } catch {
      nixHash = undefined; // a truncated digest is a valid multihash but no Nix hash
    }
  }
  return {
    cid,
    version: cid.version,
    codec: cid.code,
    codecName: CODEC_NAMES[cid.code] ?? `0x${cid.code.toString(16)}`,
    multihashName: MULTIHASH_NAMES[code] ?? `0x${code.toString(16)}`,
    multihashCode: code,
    digestHex: Buffer.from(cid.multihash.digest).toString('hex'),
    base32: cid.toV1().toString(),
    nixHash,
  };
}

/** A cheap syntactic test (no decoding) for text that may be a CID: v0 `Qm…` or v1 base32 `b…`/base36 `k…`. */
export function looksLikeCid(text: string): boolean {
  return /^Qm[1-9A-HJ-NP-Za-km-z]{44}$/.test(text) || /^b[a-z2-7]{50,}$/.test(text) || /^k[0-9a-z]{50,}$/.test(text);
}

/** A CID shortened for a label: its first 8 and last 6 characters. */
export function shortCid(cid: string): string {
  return `${cid.slice(0, 8)}…${cid.slice(-6)}`;
}
