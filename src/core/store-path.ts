import { createHash } from 'node:crypto';
import { ParseError } from './errors';
import { NixHash } from './hash';
import { encodeNix32, NIX32_ALPHABET } from './nix-base32';

export const DEFAULT_STORE_DIR = '/nix/store';
const HASH_PART_LENGTH = 32;
const MAX_NAME_LENGTH = 211;
const NAME_CHARS = /^[A-Za-z0-9+\-._?=]+$/;
const HASH_PART = new RegExp(`^[${NIX32_ALPHABET}]{${HASH_PART_LENGTH}}$`);

export interface StorePath {
  storeDir: string;
  /** The 32 Nix base32 characters after the store directory. */
  hashPart: string;
  name: string;
  path: string;
}

/** Checks a store path name the way Nix does; returns the reason it is invalid, if it is. */
export function storePathNameError(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.length > MAX_NAME_LENGTH) return `the name is longer than ${MAX_NAME_LENGTH} characters`;
  if (name.startsWith('.')) return "the name starts with '.'";
  if (!NAME_CHARS.test(name)) return `the name has a character outside A-Z a-z 0-9 + - . _ ? =`;
  return undefined;
}

/** Parses `/nix/store/<hash>-<name>` (a path below it is cut to the store path). */
export function parseStorePath(path: string, storeDir = DEFAULT_STORE_DIR): StorePath {
  if (typeof path !== 'string') throw new ParseError('store path', 'not a string');
  const prefix = storeDir.replace(/\/+$/, '') + '/';
  if (!path.startsWith(prefix)) throw new ParseError('store path', `'${path}' is not inside ${storeDir}`, 0);
  const [base = ''] = path.slice(prefix.length).split('/');
  const hashPart = base.slice(0, HASH_PART_LENGTH);
  if (!HASH_PART.test(hashPart)) throw new ParseError('store path', `expected ${HASH_PART_LENGTH} Nix base32 characters after ${prefix}`, prefix.length);
  if (base[HASH_PART_LENGTH] !== '-') throw new ParseError('store path', `expected '-' after the hash`, prefix.length + HASH_PART_LENGTH);
  const name = base.slice(HASH_PART_LENGTH + 1);
  const problem = storePathNameError(name);
  if (problem) throw new ParseError('store path', problem, prefix.length + HASH_PART_LENGTH + 1);
  return { storeDir: prefix.slice(0, -1), hashPart, name, path: prefix + base };
}

/** Parses a store path's base name `<hash>-<name>` (as narinfo References lists them). */
export function parseStorePathBaseName(baseName: string, storeDir = DEFAULT_STORE_DIR): StorePath {
  if (baseName.includes('/')) throw new ParseError('store path', `'${baseName}' is not a base name`, baseName.indexOf('/'));
  return parseStorePath(`${storeDir.replace(/\/+$/, '')}/${baseName}`, storeDir);
}

// Nix folds a sha256 into 20 bytes by XOR-ing it onto itself (compressHash).
function compress(digest: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  digest.forEach((b, i) => (out[i % size]! ^= b));
  return out;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function makeStorePath(type: string, innerHashHex: string, name: string, storeDir: string): string {
  const problem = storePathNameError(name);
  if (problem) throw new ParseError('store path', problem);
  const fingerprint = `${type}:sha256:${innerHashHex}:${storeDir}:${name}`;
  const digest = new Uint8Array(createHash('sha256').update(fingerprint).digest());
  return `${storeDir}/${encodeNix32(compress(digest, 20))}-${name}`;
}

// Nix's makeType: references (full paths, sorted) and a reference to itself go into the type.
function storePathType(type: string, references: string[], selfReference = false): string {
  return [type, ...[...references].sort(), ...(selfReference ? ['self'] : [])].join(':');
}

/**
 * The store path of a fixed-output derivation or `nix-store --add-fixed`, computed as Nix's
 * makeFixedOutputPath does: a recursive sha256 is a "source" path (which may have references,
 * full store paths, and refer to itself); anything else hashes `fixed:out:[r:]<algo>:<base16>:`
 * into an "output:out" path, which refers to nothing.
 */
export function makeFixedOutputPath(options: {
  name: string;
  hash: NixHash;
  recursive: boolean;
  references?: string[];
  selfReference?: boolean;
  storeDir?: string;
}): string {
  const storeDir = (options.storeDir ?? DEFAULT_STORE_DIR).replace(/\/+$/, '');
  const references = options.references ?? [];
  if (options.recursive && options.hash.algo === 'sha256') {
    return makeStorePath(storePathType('source', references, options.selfReference), options.hash.toBase16(), options.name, storeDir);
  }
  if (references.length > 0 || options.selfReference) {
    throw new ParseError(
      'store path',
      `only a recursive sha256 path can have references, not a ${options.recursive ? 'recursive' : 'flat'} ${options.hash.algo} one`,
    );
  }
  const inner = sha256Hex(`fixed:out:${options.recursive ? 'r:' : ''}${options.hash.algo}:${options.hash.toBase16()}:`);
  return makeStorePath('output:out', inner, options.name, storeDir);
}

/** The store path of a text file (`builtins.toFile`, a .drv) with a sha256 of its contents, as Nix's makeTextPath. */
export function makeTextPath(options: { name: string; hash: NixHash; references?: string[]; storeDir?: string }): string {
  if (options.hash.algo !== 'sha256') throw new ParseError('store path', `a text path is named by a sha256, not ${options.hash.algo}`);
  const storeDir = (options.storeDir ?? DEFAULT_STORE_DIR).replace(/\/+$/, '');
  return makeStorePath(storePathType('text', options.references ?? []), options.hash.toBase16(), options.name, storeDir);
}
