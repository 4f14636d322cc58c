import type { SyntaxNode } from '@lezer/common';
import { isPlaceholderHash, parseHash, type HashAlgo, type NixHash } from '../hash';
import { ParseError } from '../errors';
import { algoOfName, HASH_ATTRS, type HashMode } from './kinds';
import type { Scope } from './scope';

/** Why a hash is not usable: it does not parse, or Nix code computes it (the text alone cannot check it). */
export type HashProblem = { kind: 'malformed'; reason: string } | { kind: 'interpolated' } | { kind: 'not-literal' };

const PROBLEM_TEXT = { interpolated: 'interpolated', 'not-literal': 'not a literal string' } as const;

/** The one wording of a hash problem (hovers, diagnostics, the scan's `hashError`). */
export function hashProblemText(problem: HashProblem): string {
  return problem.kind === 'malformed' ? problem.reason : PROBLEM_TEXT[problem.kind];
}

/** The problem a serialised `hashError` (the scan's JSON) stands for: the inverse of `hashProblemText`. */
export function hashProblemOfText(text: string): HashProblem {
  if (text === PROBLEM_TEXT.interpolated) return { kind: 'interpolated' };
  if (text === PROBLEM_TEXT['not-literal']) return { kind: 'not-literal' };
  return { kind: 'malformed', reason: text };
}

/** A literal hash that does not parse (one computed by Nix code cannot be checked from the text). */
export function isMalformedHash(f: { placeholder: boolean; hashProblem?: HashProblem }): boolean {
  return !f.placeholder && f.hashProblem?.kind === 'malformed';
}

/** A hash a .nix file holds, and the source it names as far as the text alone tells. */
export interface Fetcher {
  /**
   * `fetchurl`, `fetchFromGitHub`, … (without `pkgs.`/`builtins.` prefixes, except `builtins.fetchurl`/
   * `builtins.fetchTarball`); `attrset` for a bare `{ url; hash; }`; `cargoHash` etc. for vendor hashes;
   * for a hash handed to a function the scan cannot see into, that function (`callPackage ./x.nix`);
   * `unknown` when nothing in the file uses the hash.
   */
  fetcher: string;
  /** Offsets of the whole call (or attribute set, or binding) in the text. */
  from: number;
  to: number;
  /** Literal URLs (`mirror://…` kept as written). */
  urls: string[];
  /** Whether the file names a URL the text does not fix (interpolated, and not resolved). */
  dynamicUrl: boolean;
  hashAttr: string;
  /** The hash as written ('' for an empty string, `lib.fakeHash` for a reference). */
  hash: string;
  /** Offsets of the hash's text (inside the quotes), for edits and hovers. */
  hashFrom: number;
  hashTo: number;
  /** Whether the hash is written as a string (else a reference such as `lib.fakeHash`). */
  quoted: boolean;
  algo?: HashAlgo;
  /** The hash, when it parses (and is not a placeholder). */
  nixHash?: NixHash;
  /** Why the hash is not usable, when it is not (and is not a placeholder). */
  hashProblem?: HashProblem;
  placeholder: boolean;
  /** flat: the hash is of the downloaded file; recursive: of the unpacked tree's NAR; unknown: the file does not say. */
  mode: HashMode;
  /** The store path name when the file says it (name, or pname + version). */
  name?: string;
  /** fetchipfs' `ipfs` attribute. */
  ipfs?: string;
  /** The function in this file the hash passes through on its way to the fetcher (`generic`, `map`, `gemset`). */
  via?: string;
  /** Why the fetcher or the mode is unknown. */
  why?: string;
  /** A locked input of a flake.lock (its narHash): Nix's fetchTree of these attributes brings it back. */
  flakeInput?: { id: string; locked: Record<string, unknown> };
}

/** What is known of the source a hash names, before the hash itself is read. */
export interface Claim {
  fetcher: string;
  mode: HashMode;
  /** The URLs it names; undefined for one the text does not fix. */
  urls: (string | undefined)[];
  /** The attribute the hash is read from (`sha256` implies the algorithm; `hash` does not). */
  hashAttr: string;
  from: number;
  to: number;
  name?: string;
  ipfs?: string;
  via?: string;
  why?: string;
  outputHashAlgo?: string;
  /** Higher wins when two readings of the file claim one hash: a fetcher's own argument over a guess from shape. */
  priority: number;
}

/** The record for a hash value (a string, or a reference such as `lib.fakeHash`) under a claim. */
export function hashRecord(value: SyntaxNode, claim: Claim, scope: Scope): Fetcher {
  const isString = value.name === 'String' || value.name === 'IndentedString';
  const quote = value.name === 'String' ? 1 : value.name === 'IndentedString' ? 2 : 0;
  const written = isString ? scope.literal(value) : scope.slice(value);
  const record = recordOf(claim, written ?? scope.text.slice(value.from + quote, value.to - quote), value.from + quote, value.to - quote, isString);
  if (!isString) {
    record.placeholder = /^(lib\.)?fake(Hash|Sha256|Sha512)$/.test(record.hash);
    if (!record.placeholder) record.hashProblem = { kind: 'not-literal' };
    return record;
  }
  if (written === undefined) {
    record.hashProblem = { kind: 'interpolated' };
    return record;
  }
  readHash(record, written, algoFor(value, claim, written, scope));
  return record;
}

/** The record for a plain string `written` at [hashFrom, hashTo), bound to the claim's own hash attribute. */
export function literalHashRecord(claim: Claim, written: string, hashFrom: number, hashTo: number): Fetcher {
  const record = recordOf(claim, written, hashFrom, hashTo, true);
  readHash(record, written, algoOfBinding(claim, claim.hashAttr, written));
  return record;
}

function recordOf(claim: Claim, hash: string, hashFrom: number, hashTo: number, quoted: boolean): Fetcher {
  const record: Fetcher = {
    fetcher: claim.fetcher,
    from: claim.from,
    to: claim.to,
    urls: claim.urls.filter((url): url is string => url !== undefined),
    dynamicUrl: claim.urls.includes(undefined),
    hashAttr: claim.hashAttr,
    hash,
    hashFrom,
    hashTo,
    quoted,
    placeholder: false,
    mode: claim.mode,
  };
  if (claim.name !== undefined) record.name = claim.name;
  if (claim.ipfs !== undefined) record.ipfs = claim.ipfs;
  if (claim.via !== undefined) record.via = claim.via;
  if (claim.why !== undefined) record.why = claim.why;
  return record;
}

/** The algorithm a bare digest is in: from the attribute, the name it is bound to, outputHashAlgo, or its length. */
function algoFor(value: SyntaxNode, claim: Claim, written: string, scope: Scope): HashAlgo | undefined {
  const bound = value.parent?.name === 'Bind' ? value.parent.firstChild : value.parent?.name === 'Formal' ? value.parent.firstChild : null;
  return algoOfBinding(claim, bound ? scope.slice(bound).split('.').pop()!.replace(/"/g, '') : undefined, written);
}

function algoOfBinding(claim: Claim, boundName: string | undefined, written: string): HashAlgo | undefined {
  const fromAttr = HASH_ATTRS[claim.hashAttr] ?? algoOfName(claim.hashAttr);
  if (fromAttr) return fromAttr;
  const boundAlgo = boundName ? algoOfName(boundName) : undefined;
  if (boundAlgo) return boundAlgo;
  if (claim.outputHashAlgo && claim.outputHashAlgo in HASH_ATTRS) return claim.outputHashAlgo as HashAlgo;
  return ({ 52: 'sha256', 64: 'sha256', 103: 'sha512', 128: 'sha512' } as Record<number, HashAlgo>)[written.length];
}

function readHash(record: Fetcher, written: string, algo: HashAlgo | undefined): void {
  try {
    const parsed = parseHash(written, written.includes('-') || written.includes(':') ? undefined : algo);
    // Decoded once: a placeholder is a well-formed all-zero digest (or, below, one of another algorithm).
    if (parsed.hash.digest.every((b) => b === 0)) {
      record.placeholder = true;
      return;
    }
    if (algo && HASH_ATTRS[record.hashAttr] && parsed.hash.algo !== algo)
      throw new ParseError('hash', `${record.hashAttr} must be a ${algo} hash, got ${parsed.hash.algo}`);
    record.algo = parsed.hash.algo;
    record.nixHash = parsed.hash;
  } catch (error) {
    if (isPlaceholderHash(written)) {
      record.placeholder = true;
      return;
    }
    record.algo = algo;
    record.hashProblem = { kind: 'malformed', reason: error instanceof ParseError ? error.reason : String(error) };
  }
}
