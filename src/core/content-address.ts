import { createHash, type Hash } from 'node:crypto';
import { ParseError } from './errors';
import { isHashAlgo, NixHash, parseHash } from './hash';
import type { NarEntry } from './nar';
import { DEFAULT_STORE_DIR, makeFixedOutputPath, makeTextPath, parseStorePath, parseStorePathBaseName } from './store-path';

/**
 * A store path's content address (a narinfo's `CA:` line), as Nix's content-address.cc reads it:
 * `text:sha256:<hash>` (builtins.toFile, derivations), `fixed:<algo>:<hash>` (the hash of one
 * file's bytes) or `fixed:r:<algo>:<hash>` (the hash of the NAR).
 */
export interface ContentAddress {
  method: 'text' | 'flat' | 'recursive';
  hash: NixHash;
}

/** Parses a `CA:` value; throws ParseError saying what is wrong. */
export function parseContentAddress(text: string): ContentAddress {
  const fail: (reason: string) => never = (reason) => {
    throw new ParseError('content address', `'${text.slice(0, 120)}': ${reason}`);
  };
  const [prefix, ...rest] = text.split(':');
  if (prefix !== 'text' && prefix !== 'fixed') fail("expected 'text:' or 'fixed:' at the start");
  if (prefix === 'fixed' && rest[0] === 'git') fail("Git hashing ('fixed:git:', from newer Nix) is not supported");
  const recursive = prefix === 'fixed' && rest[0] === 'r';
  const [algo, digest, ...extra] = recursive ? rest.slice(1) : rest;
  if (algo === undefined || digest === undefined || extra.length > 0) fail(`expected '${prefix}:${prefix === 'fixed' ? '[r:]' : ''}<algorithm>:<hash>'`);
  if (!isHashAlgo(algo)) fail(`unknown hash algorithm '${algo.slice(0, 20)}' (md5, sha1, sha256 or sha512)`);
  if (prefix === 'text' && algo !== 'sha256') fail(`a text content address uses sha256, not ${algo}`);
  let hash: NixHash;
  try {
    hash = parseHash(digest, algo).hash;
  } catch (error) {
    return fail((error as ParseError).reason);
  }
  return { method: prefix === 'text' ? 'text' : recursive ? 'recursive' : 'flat', hash };
}

/** Prints a content address as Nix does (Nix base32 digest). */
export function formatContentAddress(ca: ContentAddress): string {
  const method = ca.method === 'text' ? 'text:' : ca.method === 'recursive' ? 'fixed:r:' : 'fixed:';
  return `${method}${ca.hash.algo}:${ca.hash.toNix32()}`;
}

/**
 * The store path a content address gives to a path of this name and these references (base
 * names), as Nix's makeFixedOutputPathFromCA: a reference to the path itself counts as `self`.
 * Throws ParseError when Nix would refuse the combination.
 */
export function contentAddressedPath(ca: ContentAddress, storePath: string, references: string[], storeDir = DEFAULT_STORE_DIR): string {
  const { name, path } = parseStorePath(storePath, storeDir);
  const referencePaths = [...new Set(references.map((r) => parseStorePathBaseName(r, storeDir).path))]; // Nix reads them into a set
  const self = referencePaths.includes(path);
  const others = referencePaths.filter((r) => r !== path);
  if (ca.method === 'text') {
    if (self) throw new ParseError('content address', 'a text path cannot refer to itself');
    return makeTextPath({ name, hash: ca.hash, references: others, storeDir });
  }
  return makeFixedOutputPath({ name, hash: ca.hash, recursive: ca.method === 'recursive', references: others, selfReference: self, storeDir });
}

/** Why a narinfo's content address does not give its StorePath, or undefined when it does. */
export function contentAddressPathError(
  info: { storePath: string; references: string[] },
  ca: ContentAddress,
  storeDir = DEFAULT_STORE_DIR,
): string | undefined {
  let computed: string;
  try {
    computed = contentAddressedPath(ca, info.storePath, info.references, storeDir);
  } catch (error) {
    return error instanceof ParseError ? error.reason : (error as Error).message;
  }
  if (computed === info.storePath) return undefined;
  return `it gives the store path ${computed}, not ${info.storePath} (with References: ${info.references.join(' ') || 'none'})`;
}

/**
 * Nix's HashModuloSink: hashes a stream with every occurrence of `modulus` (a store path's own hash
 * part) replaced by zero bytes, then the decimal offsets of those occurrences, each as `|<offset>`,
 * so a path that refers to itself has a hash that does not depend on its own name.
 */
export class HashModulo {
  private readonly hash: Hash;
  private readonly modulus: Buffer;
  /** The last modulus.length-1 bytes, held back because a match may continue in the next chunk. */
  private pending = Buffer.alloc(0);
  private offset = 0;
  private readonly matches: number[] = [];

  constructor(
    private readonly algo: NixHash['algo'],
    modulus: string,
  ) {
    this.hash = createHash(algo);
    this.modulus = Buffer.from(modulus);
  }

  update(chunk: Uint8Array): void {
    const data = Buffer.concat([this.pending, chunk]);
    for (let at = data.indexOf(this.modulus); at >= 0; at = data.indexOf(this.modulus, at + this.modulus.length)) {
      this.matches.push(this.offset + at);
      data.fill(0, at, at + this.modulus.length);
    }
    const keep = Math.min(data.length, this.modulus.length - 1);
    this.pending = Buffer.from(data.subarray(data.length - keep));
    this.hash.update(data.subarray(0, data.length - keep));
    this.offset += data.length - keep;
  }

  digest(): NixHash {
    this.hash.update(this.pending);
    for (const match of this.matches) this.hash.update(`|${match}`);
    return new NixHash(this.algo, new Uint8Array(this.hash.digest()));
  }
}

/**
 * Checks a NAR against a content address while the NAR streams past once: a recursive address
 * covers the whole NAR, a flat or text one the contents of a NAR that is a single regular file.
 */
export class ContentAddressHasher {
  private readonly sink: HashModulo;
  private rootType?: NarEntry['type'];

  constructor(
    private readonly ca: ContentAddress,
    selfHashPart: string,
  ) {
    this.sink = new HashModulo(ca.hash.algo, selfHashPart);
  }

  /** Every byte of the NAR, in order. */
  narChunk(chunk: Uint8Array): void {
    if (this.ca.method === 'recursive') this.sink.update(chunk);
  }

  /** Every entry readNar yields; reads its contents. */
  async entry(entry: NarEntry): Promise<void> {
    if (entry.path === '') this.rootType = entry.type;
    const hashed = entry.path === '' && this.ca.method !== 'recursive';
    if (entry.contents) for await (const chunk of entry.contents) if (hashed) this.sink.update(chunk);
  }

  /** Why the NAR does not agree with the content address, or undefined when it does. */
  mismatch(): string | undefined {
    if (this.ca.method !== 'recursive' && this.rootType !== 'regular') {
      return `a ${this.ca.method} content address names a single file, but the NAR holds a ${this.rootType ?? 'nothing'}`;
    }
    const actual = this.sink.digest();
    if (actual.equals(this.ca.hash)) return undefined;
    const what = this.ca.method === 'recursive' ? 'the NAR' : 'the file';
    return `${what} hashes to ${this.ca.hash.algo}:${actual.toNix32()}, the content address says ${this.ca.hash.algo}:${this.ca.hash.toNix32()}`;
  }
}
