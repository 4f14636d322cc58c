import { nixParser as parser } from './grammar';
import { TreeFragment, type SyntaxNode, type Tree } from '@lezer/common';
import { isPlaceholderHash, parseHash, type HashAlgo } from '../hash';
import { ParseError } from '../errors';

/** A source a .nix file fetches, as far as the text alone tells. */
export interface Fetcher {
  /** `fetchurl`, `fetchFromGitHub`, … (without `pkgs.`/`builtins.` prefixes, except `builtins.fetchurl`/`builtins.fetchTarball`); `attrset` for a bare `{ url; hash; }`; `cargoHash` etc. for vendor hashes. */
  fetcher: string;
  /** Offsets of the whole call (or attribute set) in the text. */
  from: number;
  to: number;
  /** Literal URLs (`mirror://…` kept as written); an interpolated one that could not be resolved is `dynamic`. */
  urls: string[];
  hashAttr: string;
  /** The hash as written ('' for an empty string, `lib.fakeHash` for a reference). */
  hash: string;
  /** Offsets of the hash's text (inside the quotes), for edits and hovers. */
  hashFrom: number;
  hashTo: number;
  /** Whether the hash is written as a string (else a reference such as `lib.fakeHash`). */
  quoted: boolean;
  algo?: HashAlgo;
  /** Normalised hash, when it parses. */
  sri?: string;
  /** Why the hash does not parse (malformed), when it does not. */
  hashError?: string;
  placeholder: boolean;
  /** flat: the hash is of the downloaded file; recursive: of the unpacked tree's NAR. */
  mode: 'flat' | 'recursive';
  /** The store path name when the file says it (name, or pname + version). */
  name?: string;
  /** fetchipfs' `ipfs` attribute. */
  ipfs?: string;
}

interface FetcherKind {
  mode: 'flat' | 'recursive';
  urls?: (args: Args) => string[] | undefined;
}

/** A set's `name = value;` bindings with single-name paths; a value's literal text is resolved on first use. */
class Args {
  private readonly nodes = new Map<string, SyntaxNode>();
  private readonly texts = new Map<string, string | undefined>();

  constructor(
    set: SyntaxNode,
    private readonly source: string,
  ) {
    for (let child = set.firstChild; child; child = child.nextSibling) {
      if (child.name !== 'Bind') continue;
      const path = child.firstChild;
      const value = path?.nextSibling;
      if (path?.name !== 'AttrPath' || !value || path.firstChild?.name !== 'Identifier' || path.firstChild.nextSibling) continue;
      this.nodes.set(source.slice(path.from, path.to), value);
    }
  }

  has(name: string): boolean {
    return this.nodes.has(name);
  }

  node(name: string): SyntaxNode | undefined {
    return this.nodes.get(name);
  }

  /** The value as a literal string, when it is one. */
  text(name: string): string | undefined {
    if (!this.texts.has(name)) {
      const node = this.nodes.get(name);
      this.texts.set(name, node && literal(node, this.source));
    }
    return this.texts.get(name);
  }

  names(): IterableIterator<string> {
    return this.nodes.keys();
  }
}

const gitHost = (template: (a: Record<string, string>) => string, keys: string[]) => (args: Args) => {
  const values: Record<string, string> = {};
  for (const key of keys) {
    const value = args.text(key) ?? (key === 'rev' && args.text('tag') !== undefined ? `refs/tags/${args.text('tag')}` : undefined);
    if (value === undefined) return key === 'domain' ? undefined : ['dynamic'];
    values[key] = value;
  }
  return [template(values)];
};

/** What each nixpkgs fetcher hashes and where it downloads from (pkgs/build-support/fetch*). */
const FETCHERS: Record<string, FetcherKind> = {
  fetchurl: { mode: 'flat' },
  'builtins.fetchurl': { mode: 'flat' },
  fetchpatch: { mode: 'flat' }, // the hash is of the normalised patch, not of the download
  fetchpatch2: { mode: 'flat' },
  fetchPypi: {
    mode: 'flat',
    urls: (a) => {
      const pname = a.text('pname');
      const version = a.text('version');
      return pname && version ? [`mirror://pypi/${pname[0]}/${pname}/${pname}-${version}.${a.text('extension') ?? 'tar.gz'}`] : ['dynamic'];
    },
  },
  fetchNuGet: {
    mode: 'flat',
    urls: (a) => (a.text('pname') && a.text('version') ? [`https://www.nuget.org/api/v2/package/${a.text('pname')}/${a.text('version')}`] : ['dynamic']),
  },
  fetchipfs: { mode: 'flat' },
  fetchzip: { mode: 'recursive' },
  fetchTarball: { mode: 'recursive' },
  'builtins.fetchTarball': { mode: 'recursive' },
  fetchgit: { mode: 'recursive' },
  fetchcrate: {
    mode: 'recursive',
    urls: (a) => {
      const crate = a.text('crateName') ?? a.text('pname');
      return crate && a.text('version') ? [`https://crates.io/api/v1/crates/${crate}/${a.text('version')}/download`] : ['dynamic'];
    },
  },
  fetchFromGitHub: { mode: 'recursive', urls: gitHost((v) => `https://github.com/${v.owner}/${v.repo}/archive/${v.rev}.tar.gz`, ['owner', 'repo', 'rev']) },
  fetchFromGitLab: {
    mode: 'recursive',
    urls: (a) => gitHost((v) => `https://${a.text('domain') ?? 'gitlab.com'}/${v.owner}/${v.repo}/-/archive/${v.rev}/${v.repo}-${v.rev}.tar.gz`, ['owner', 'repo', 'rev'])(a),
  },
  fetchFromGitea: { mode: 'recursive', urls: gitHost((v) => `https://${v.domain}/${v.owner}/${v.repo}/archive/${v.rev}.tar.gz`, ['domain', 'owner', 'repo', 'rev']) },
  fetchFromSourcehut: { mode: 'recursive', urls: gitHost((v) => `https://git.sr.ht/${v.owner.startsWith('~') ? v.owner : `~${v.owner}`}/${v.repo}/archive/${v.rev}.tar.gz`, ['owner', 'repo', 'rev']) },
  fetchFromBitbucket: { mode: 'recursive', urls: gitHost((v) => `https://bitbucket.org/${v.owner}/${v.repo}/get/${v.rev}.tar.gz`, ['owner', 'repo', 'rev']) },
  fetchFromCodeberg: { mode: 'recursive', urls: gitHost((v) => `https://codeberg.org/${v.owner}/${v.repo}/archive/${v.rev}.tar.gz`, ['owner', 'repo', 'rev']) },
};

const HASH_ATTRS: Record<string, HashAlgo | undefined> = { hash: undefined, outputHash: undefined, sha256: 'sha256', sha512: 'sha512', sha1: 'sha1', md5: 'md5' };
/** Hashes of vendored dependencies: recursive, with no URL of their own. */
const HASH_ATTR_NAMES = Object.keys(HASH_ATTRS);
const VENDOR_HASHES = new Set(['cargoHash', 'cargoSha256', 'vendorHash', 'vendorSha256', 'npmDepsHash', 'pnpmDepsHash', 'yarnHash', 'mvnHash']);

/**
 * False when no fetcher can be in the text: every one needs one of these attribute names. Lets a
 * workspace scan skip parsing files that are not about sources (most of nixpkgs' modules and lib).
 */
export function mayHaveFetchers(text: string): boolean {
  return HASH_ATTR_NAMES.some((name) => text.includes(name)) || [...VENDOR_HASHES].some((name) => text.includes(name));
}

export interface ParsedNix {
  text: string;
  tree: Tree;
}


export function parseNix(text: string): ParsedNix {
  return { text, tree: parser.parse(text) };
}

/** Every fetcher in a Nix file, including in files with syntax errors (what the parser recovered). */
export function extractFetchers(parsed: ParsedNix): Fetcher[] {
  return fetchersInTree(parsed.text, parsed.tree).fetchers;
}

/**
 * The fetchers in one parse tree of `text` (a whole file, or a chunk of it parsed with its
 * surroundings), and whether the tree is clean: no syntax errors, and, when `outerFrom` names a
 * set split into chunks, that set has no url or hash of its own (a chunk sees only its share).
 */
export function fetchersInTree(text: string, tree: Tree, outerFrom?: number): { fetchers: Fetcher[]; clean: boolean } {
  const found: Fetcher[] = [];
  let clean = true;
  const claimed = new Set<number>(); // attribute sets already reported as a fetcher's arguments
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) clean = false;
      // Most nodes are neither: only materialise a SyntaxNode for the two that matter.
      if (ref.name !== 'App' && ref.name !== 'AttrSet') return;
      const node = ref.node;
      if (node.name === 'App') {
        const fetcher = fetcherName(node.firstChild, text);
        const argSet = attrSetOf(node.lastChild);
        if (fetcher && argSet && node.firstChild !== node.lastChild) {
          claimed.add(argSet.from);
          const record = fromArgs(fetcher, FETCHERS[fetcher], new Args(argSet, text), node, text);
          if (record) found.push(record);
        }
        return;
      }
      const isOuter = node.from === outerFrom;
      if (claimed.has(node.from) && !isOuter) return;
      const binds = new Args(node, text);
      const hasUrl = binds.has('url') || binds.has('urls');
      const hasHash = HASH_ATTR_NAMES.some((k) => binds.has(k));
      if (isOuter && (hasUrl || hasHash)) clean = false;
      if (claimed.has(node.from)) return;
      if (hasUrl && hasHash) {
        const mode = binds.text('outputHashMode') === 'recursive' || binds.text('recursiveHash') !== undefined ? 'recursive' : 'flat';
        const record = fromArgs('attrset', { mode }, binds, node, text);
        if (record) found.push(record);
      }
      for (const attr of binds.names()) {
        if (VENDOR_HASHES.has(attr)) found.push(hashRecord(attr, attr, binds.node(attr)!, text, node, { mode: 'recursive', urls: [] }));
      }
    },
  });
  return { fetchers: found.sort((a, b) => a.hashFrom - b.hashFrom), clean };
}

function fetcherName(fn: SyntaxNode | null, text: string): string | undefined {
  while (fn?.name === 'Parenthesized') fn = fn.firstChild?.nextSibling ?? null;
  if (!fn) return undefined;
  const source = text.slice(fn.from, fn.to).replace(/\s+/g, '');
  if (fn.name === 'Identifier') return FETCHERS[source] && !source.startsWith('builtins.') ? source : undefined;
  if (fn.name !== 'Select') return undefined;
  if (source === 'builtins.fetchurl' || source === 'builtins.fetchTarball') return source;
  const last = source.split('.').pop()!;
  return FETCHERS[last] && !last.startsWith('builtins.') ? last : undefined;
}

function attrSetOf(node: SyntaxNode | null): SyntaxNode | undefined {
  while (node?.name === 'Parenthesized') node = node.firstChild?.nextSibling ?? null;
  if (node?.name === 'AttrSet') return node;
  if (node?.name === 'RecAttrSet') return node.getChild('AttrSet') ?? undefined;
  return undefined;
}

/**
 * The value of a string with no interpolation, or whose interpolations name variables bound to
 * literal strings in an enclosing `let` or `rec` set (`"${pname}-${version}"`).
 */
function literal(node: SyntaxNode, text: string, depth = 0): string | undefined {
  if (node.name === 'Parenthesized') return node.firstChild?.nextSibling ? literal(node.firstChild.nextSibling, text, depth) : undefined;
  if (node.name === 'Identifier') return depth < 4 ? lookup(node, text.slice(node.from, node.to), text, depth) : undefined;
  if (node.name !== 'String' && node.name !== 'IndentedString') return undefined;
  const quote = node.name === 'String' ? 1 : 2;
  let out = '';
  let at = node.from + quote;
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (child.name !== 'Interpolation') continue;
    out += unescape(text.slice(at, child.from), node.name);
    const inner = child.getChild('Identifier');
    const value = inner && child.getChildren('Identifier').length === 1 && depth < 4 ? lookup(child, text.slice(inner.from, inner.to), text, depth) : undefined;
    if (value === undefined) return undefined;
    out += value;
    at = child.to;
  }
  out += unescape(text.slice(at, node.to - quote), node.name);
  return node.name === 'IndentedString' ? out.trim() : out;
}

const ESCAPED: Record<string, string> = { n: '\n', t: '\t', r: '\r' };

function unescape(raw: string, kind: string): string {
  // Indented strings escape with two apostrophes (`''$`, `'''`, `''\n`); a lone backslash is just a backslash.
  if (kind === 'IndentedString') return !raw.includes("''") ? raw : raw.replace(/''(\$|'|\\[^])/g, (_, e: string) => (e === '$' ? '$' : e === "'" ? "''" : (ESCAPED[e[1]] ?? e[1])));
  return !raw.includes('\\') ? raw : raw.replace(/\\([^])/g, (_, c: string) => ESCAPED[c] ?? c);
}

/** Finds `name` bound to a literal in the `let`s and `rec` sets around `from`. */
function lookup(from: SyntaxNode, name: string, text: string, depth: number): string | undefined {
  for (let scope = from.parent; scope; scope = scope.parent) {
    const holder = scope.name === 'Let' ? scope : scope.name === 'RecAttrSet' ? scope.getChild('AttrSet') : undefined;
    if (!holder) continue;
    for (let child = holder.firstChild; child; child = child.nextSibling) {
      if (child.name !== 'Bind') continue;
      const path = child.getChild('AttrPath');
      if (!path || text.slice(path.from, path.to) !== name || !path.nextSibling) continue;
      return literal(path.nextSibling, text, depth + 1);
    }
  }
  return undefined;
}

function fromArgs(fetcher: string, kind: FetcherKind, args: Args, call: SyntaxNode, text: string): Fetcher | undefined {
  const hashAttr = HASH_ATTR_NAMES.find((k) => args.has(k));
  if (!hashAttr) return undefined;
  const urls = kind.urls?.(args) ?? urlsOf(args, text);
  const mode = args.text('outputHashMode') === 'recursive' ? 'recursive' : args.text('outputHashMode') === 'flat' ? 'flat' : kind.mode;
  const record = hashRecord(fetcher, hashAttr, args.node(hashAttr)!, text, call, { mode, urls }, args.text('outputHashAlgo'));
  const name = args.text('name') ?? (args.text('pname') && args.text('version') ? `${args.text('pname')}-${args.text('version')}` : undefined);
  if (name) record.name = name;
  if (fetcher === 'fetchipfs' && args.text('ipfs')) record.ipfs = args.text('ipfs');
  return record;
}

function urlsOf(args: Args, text: string): string[] {
  if (args.has('url')) return [args.text('url') ?? 'dynamic'];
  const urls = args.node('urls');
  if (urls?.name !== 'List') return urls ? ['dynamic'] : [];
  const out: string[] = [];
  for (let item = urls.firstChild; item; item = item.nextSibling) {
    if (item.name === '[' || item.name === ']') continue;
    out.push(literal(item, text) ?? 'dynamic');
  }
  return out;
}

function hashRecord(
  fetcher: string,
  hashAttr: string,
  value: SyntaxNode,
  text: string,
  call: SyntaxNode,
  rest: { mode: 'flat' | 'recursive'; urls: string[] },
  outputHashAlgo?: string,
): Fetcher {
  const isString = value.name === 'String' || value.name === 'IndentedString';
  const quote = value.name === 'String' ? 1 : value.name === 'IndentedString' ? 2 : 0;
  const written = isString ? literal(value, text) : text.slice(value.from, value.to);
  const record: Fetcher = {
    fetcher,
    from: call.from,
    to: call.to,
    urls: rest.urls,
    hashAttr,
    hash: written ?? text.slice(value.from + quote, value.to - quote),
    hashFrom: value.from + quote,
    hashTo: value.to - quote,
    quoted: isString,
    placeholder: false,
    mode: rest.mode,
  };
  if (!isString) {
    record.placeholder = /^(lib\.)?fake(Hash|Sha256|Sha512)$/.test(record.hash);
    if (!record.placeholder) record.hashError = 'not a literal string';
    return record;
  }
  if (written === undefined) {
    record.hashError = 'interpolated';
    return record;
  }
  const algo = HASH_ATTRS[hashAttr] ?? (outputHashAlgo && outputHashAlgo in HASH_ATTRS ? (outputHashAlgo as HashAlgo) : undefined) ?? (VENDOR_HASHES.has(hashAttr) ? 'sha256' : undefined);
  try {
    const parsed = parseHash(written, written.includes('-') || written.includes(':') ? undefined : algo);
    // Decoded once: a placeholder is a well-formed all-zero digest (or, below, one of another algorithm).
    if (parsed.hash.digest.every((b) => b === 0)) {
      record.placeholder = true;
      return record;
    }
    if (algo && parsed.hash.algo !== algo) throw new ParseError('hash', `${hashAttr} must be a ${algo} hash, got ${parsed.hash.algo}`);
    record.algo = parsed.hash.algo;
    record.sri = parsed.hash.toSri();
  } catch (error) {
    if (isPlaceholderHash(written)) {
      record.placeholder = true;
      return record;
    }
    record.algo = algo;
    record.hashError = error instanceof ParseError ? error.reason : String(error);
  }
  return record;
}

/** One edit in the coordinates of the text before it (as LSP's incremental sync reports them). */
export interface TextEdit {
  from: number;
  to: number;
  insert: string;
}

/**
 * Re-parses after edits, reusing the unchanged parts of the previous tree (Lezer fragments),
 * so a keystroke in a 2 MB file does not cost a full parse.
 */
export function reparseNix(previous: ParsedNix, edits: TextEdit[]): ParsedNix {
  let text = previous.text;
  let fragments = TreeFragment.addTree(previous.tree);
  for (const edit of edits) {
    text = text.slice(0, edit.from) + edit.insert + text.slice(edit.to);
    fragments = TreeFragment.applyChanges(fragments, [{ fromA: edit.from, toA: edit.to, fromB: edit.from, toB: edit.from + edit.insert.length }]);
  }
  return { text, tree: parser.parse(text, fragments) };
}
