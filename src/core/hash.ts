import { createHash } from 'node:crypto';
import { ParseError } from './errors';
import { decodeNix32, encodeNix32, nix32Length } from './nix-base32';

export type HashAlgo = 'md5' | 'sha1' | 'sha256' | 'sha512';
export type HashEncoding = 'base16' | 'nix32' | 'base64' | 'sri';

export const HASH_SIZES: Record<HashAlgo, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };
const ALGOS = Object.keys(HASH_SIZES) as HashAlgo[];

export function isHashAlgo(text: string): text is HashAlgo {
  return (ALGOS as string[]).includes(text);
}

/** A digest and its algorithm, printable in every encoding Nix accepts. */
export class NixHash {
  constructor(
    readonly algo: HashAlgo,
    readonly digest: Uint8Array,
  ) {
    if (digest.length !== HASH_SIZES[algo]) throw new ParseError('hash', `${algo} digest must be ${HASH_SIZES[algo]} bytes, got ${digest.length}`);
  }

  toBase16(): string {
    return Buffer.from(this.digest).toString('hex');
  }

  toNix32(): string {
    return encodeNix32(this.digest);
  }

  toBase64(): string {
    return Buffer.from(this.digest).toString('base64');
  }

  toSri(): string {
    return `${this.algo}-${this.toBase64()}`;
  }

  format(encoding: HashEncoding): string {
    switch (encoding) {
      case 'base16':
        return this.toBase16();
      case 'nix32':
        return this.toNix32();
      case 'base64':
        return this.toBase64();
      case 'sri':
        return this.toSri();
    }
  }

  equals(other: NixHash): boolean {
    return this.algo === other.algo && Buffer.from(this.digest).equals(Buffer.from(other.digest));
  }

  toString(): string {
    return this.toSri();
  }
}

export interface ParsedHash {
  hash: NixHash;
  encoding: HashEncoding;
  /** Written as `algo:digest`. */
  prefixed: boolean;
}

function expectedLengths(algo: HashAlgo): string {
  const size = HASH_SIZES[algo];
  return `${nix32Length(size)} Nix base32, ${size * 2} base16 or ${Math.ceil(size / 3) * 4} base64 characters for ${algo}`;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string, algo: HashAlgo, offset: number): Uint8Array {
  if (!BASE64.test(text)) throw new ParseError('hash', `not valid base64 for ${algo}`, offset);
  const bytes = Buffer.from(text, 'base64');
  // Node ignores bad padding; re-encoding catches digests that would not round-trip.
  if (bytes.length !== HASH_SIZES[algo] || bytes.toString('base64') !== text) {
    throw new ParseError('hash', `expected ${Math.ceil(HASH_SIZES[algo] / 3) * 4} base64 characters encoding ${HASH_SIZES[algo]} bytes for ${algo}`, offset);
  }
  return new Uint8Array(bytes);
}

function decodeDigest(text: string, algo: HashAlgo, offset: number): { digest: Uint8Array; encoding: Exclude<HashEncoding, 'sri'> } {
  const size = HASH_SIZES[algo];
  if (text.length === size * 2) {
    const bad = text.search(/[^0-9a-fA-F]/);
    if (bad >= 0) throw new ParseError('hash', `'${text[bad]}' is not a base16 digit`, offset + bad);
    return { digest: new Uint8Array(Buffer.from(text, 'hex')), encoding: 'base16' };
  }
  if (text.length === nix32Length(size)) {
    try {
      return { digest: decodeNix32(text, size), encoding: 'nix32' };
    } catch (error) {
      const e = error as ParseError;
      throw new ParseError('hash', e.reason, e.position === undefined ? undefined : offset + e.position);
    }
  }
  if (text.length === Math.ceil(size / 3) * 4) return { digest: decodeBase64(text, algo, offset), encoding: 'base64' };
  throw new ParseError('hash', `expected ${expectedLengths(algo)}, got ${text.length}`, offset);
}

/**
 * Parses a hash in any form Nix accepts: SRI (`sha256-…`), prefixed (`sha256:…`), or a bare
 * base16 / Nix base32 / base64 digest when `algo` is given. The encoding is told by length and alphabet.
 */
export function parseHash(text: string, algo?: HashAlgo): ParsedHash {
  if (typeof text !== 'string' || text.length === 0) throw new ParseError('hash', 'empty');
  const sri = /^(md5|sha1|sha256|sha512)-(.*)$/.exec(text);
  if (sri) {
    const sriAlgo = sri[1] as HashAlgo;
    const [, , digest = ''] = sri;
    if (algo && algo !== sriAlgo) throw new ParseError('hash', `expected a ${algo} hash, got ${sriAlgo}`, 0);
    return { hash: new NixHash(sriAlgo, decodeBase64(digest, sriAlgo, sriAlgo.length + 1)), encoding: 'sri', prefixed: false };
  }
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const prefix = text.slice(0, colon);
    if (!isHashAlgo(prefix)) throw new ParseError('hash', `unknown hash algorithm '${prefix}' (md5, sha1, sha256 or sha512)`, 0);
    if (algo && algo !== prefix) throw new ParseError('hash', `expected a ${algo} hash, got ${prefix}`, 0);
    const { digest, encoding } = decodeDigest(text.slice(colon + 1), prefix, colon + 1);
    return { hash: new NixHash(prefix, digest), encoding, prefixed: true };
  }
  if (!algo) throw new ParseError('hash', 'a bare digest needs its algorithm: write it as SRI (sha256-…) or sha256:…', 0);
  const { digest, encoding } = decodeDigest(text, algo, 0);
  return { hash: new NixHash(algo, digest), encoding, prefixed: false };
}

/** nixpkgs' placeholders (`lib.fakeHash`, `lib.fakeSha256`, `lib.fakeSha512`) and the empty hash. */
export function isPlaceholderHash(text: string): boolean {
  if (text === '') return true;
  for (const algo of [undefined, 'sha256', 'sha512'] as const) {
    try {
      return parseHash(text, algo).hash.digest.every((b) => b === 0);
    } catch {
      // try the next reading
    }
  }
  return false;
}

export function hashBytes(algo: HashAlgo, data: Uint8Array): NixHash {
  return new NixHash(algo, new Uint8Array(createHash(algo).update(data).digest()));
}
