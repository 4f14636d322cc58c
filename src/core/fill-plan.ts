import { Args } from './fetchers/args';
import type { Fetcher, ParsedNix } from './fetchers/extract';
import { algoOfName, HASH_ATTRS } from './fetchers/kinds';
import { NO_ENV, Scope, setOfArgument, spine, unwrap } from './fetchers/scope';
import type { HashAlgo } from './hash';

/*
 * How a hash in a .nix file is filled: known fetchers are fetched directly (a file's hash, an
 * archive unpacked as fetchzip unpacks it, a git checkout); everything else is built with Nix,
 * which names the real hash when it does not match.
 */

/** How fetchzip and friends take the archive's top folder away. */
export type StripRoot =
  /** fetchzip: the one top entry becomes the output; a lone file is put in a folder. */
  | 'fetchzip'
  /** builtins.fetchTarball: the one top entry (file or folder) is the output; more is an error. */
  | 'single'
  /** fetchzip { stripRoot = false; }: the unpacked folder as it is. */
  | false;

export type FillMethod =
  | { kind: 'download'; urls: string[] }
  /** `extension`: fetchzip's, for URLs whose name does not say what the archive is. */
  | { kind: 'archive'; urls: string[]; stripRoot: StripRoot; extension?: string }
  | { kind: 'git'; url: string; rev: string; submodules: boolean }
  /** Build the fixed-output derivation and read the hash Nix reports; `why` says why not directly. */
  | { kind: 'build'; why: string };

/** One hash to fill: where it is, in which algorithm, and how. */
export interface FillSite {
  fetcher: Fetcher;
  algo: HashAlgo;
  method: FillMethod;
  /** `line 12: fetchurl's hash`, for progress and errors. */
  label: string;
}

const FLAT_DOWNLOADS = new Set(['fetchurl', 'fetchurlBoot', 'builtins.fetchurl', 'fetchPypi', 'fetchNuGet', 'fetchHex', 'fetchipfs', 'fetchFirefoxAddon']);
const ARCHIVES = new Set([
  'fetchzip',
  'fetchTarball',
  'builtins.fetchTarball',
  'fetchCrate',
  'fetchcrate',
  'fetchFromGitHub',
  'fetchFromGitLab',
  'fetchFromGitea',
  'fetchFromForgejo',
  'fetchFromSourcehut',
  'fetchFromBitbucket',
  'fetchFromCodeberg',
  'fetchFromSavannah',
  'fetchFromRepoOrCz',
]);
const SINGLE_ROOT = new Set(['fetchTarball', 'builtins.fetchTarball']);
/** Arguments that change what a fetcher puts in the store beyond the download: only Nix can apply them. */
const OUTPUT_CHANGERS = ['postFetch', 'extraPostFetch', 'downloadToTemp', 'postUnpack', 'nativeBuildInputs', 'private', 'netrcPhase', 'curlOptsList'];
/** What makes a forge fetcher clone with fetchgit instead of downloading the archive. */
const CLONE_FLAGS = ['fetchSubmodules', 'leaveDotGit', 'deepClone', 'forceFetchGit', 'fetchLFS'];
/** fetchgit options whose output nix-ipfs does not reproduce (nixpkgs rewrites `.git` with its own script). */
const GIT_BUILD_ONLY = ['leaveDotGit', 'deepClone', 'fetchLFS', 'sparseCheckout', 'rootDir'];
/** The binding that defines lib's placeholder itself (`fakeHash = "sha256-AAAA…";`): nothing to fill. */
const PLACEHOLDER_DEFINITION = /^fake(Hash|Sha256|Sha512)$/;

/** The arguments of the call (or the set) a hash is read from, when the text holds them. */
export function callArguments(parsed: ParsedNix, fetcher: Fetcher): Args | undefined {
  const scope = new Scope(parsed.text);
  let node = parsed.tree.resolveInner(fetcher.from, 1);
  while (node.parent && !(node.from === fetcher.from && node.to === fetcher.to)) node = node.parent;
  const whole = node.from === fetcher.from && node.to === fetcher.to ? unwrap(node) : undefined;
  const set = whole?.name === 'App' ? setOfArgument(unwrap(spine(whole).at(-1)!), scope) : whole?.name === 'AttrSet' ? whole : undefined;
  if (set) return new Args({ node: set, env: NO_ENV }, scope);
  // A hash reached by name (`fetchurl srcs.${system}`): the set that holds it.
  for (let at = parsed.tree.resolveInner(fetcher.hashFrom, 1).parent; at; at = at.parent) {
    if (at.name === 'Bind') return at.parent?.name === 'AttrSet' ? new Args({ node: at.parent, env: NO_ENV }, scope) : undefined;
  }
  return undefined;
}

/** The algorithm a filled hash must have: the attribute's (`sha512`), the placeholder's (`lib.fakeSha512`), else sha256. */
export function fillAlgo(fetcher: Fetcher): HashAlgo {
  if (fetcher.algo) return fetcher.algo;
  const named = HASH_ATTRS[fetcher.hashAttr] ?? algoOfName(fetcher.hashAttr);
  if (named) return named;
  return /Sha512|^sha512/.test(fetcher.hash) || fetcher.hash.length === 103 || fetcher.hash.length === 128 ? 'sha512' : 'sha256';
}

/** The sites `fill all` works on: every placeholder except lib's own definition of one. */
export function fillablePlaceholders<T extends Pick<Fetcher, 'placeholder' | 'hashAttr'>>(hashes: T[]): T[] {
  return hashes.filter((f) => f.placeholder && !PLACEHOLDER_DEFINITION.test(f.hashAttr));
}

/** How to fill one site of a parsed file. */
export function planFill(parsed: ParsedNix, fetcher: Fetcher): FillSite {
  const line = parsed.text.slice(0, fetcher.hashFrom).split('\n').length;
  const label = `line ${line}: ${fetcher.fetcher}'s ${fetcher.hashAttr}`;
  return { fetcher, algo: fillAlgo(fetcher), method: fillMethod(fetcher, callArguments(parsed, fetcher)), label };
}

function fillMethod(f: Fetcher, args: Args | undefined): FillMethod {
  const changer = args && OUTPUT_CHANGERS.find((name) => args.has(name));
  if (changer) return { kind: 'build', why: `${changer} changes what ${f.fetcher} stores` };
  const urls = f.urls;
  if (FLAT_DOWNLOADS.has(f.fetcher) && f.mode === 'flat') {
    return urls.length > 0 ? { kind: 'download', urls } : { kind: 'build', why: 'its URL is computed' };
  }
  if (f.fetcher === 'fetchgit') return gitMethod(f, args, args?.written('fetchSubmodules') !== 'false');
  if (ARCHIVES.has(f.fetcher) && f.mode === 'recursive') {
    if (args && (CLONE_FLAGS.some((flag) => args.isTrue(flag)) || args.has('sparseCheckout'))) return gitMethod(f, args, args.isTrue('fetchSubmodules'));
    if (urls.length === 0) return { kind: 'build', why: 'its URL is computed' };
    const stripRoot = SINGLE_ROOT.has(f.fetcher) ? 'single' : args?.written('stripRoot') === 'false' ? false : 'fetchzip';
    const extension = args?.text('extension');
    return extension === undefined ? { kind: 'archive', urls, stripRoot } : { kind: 'archive', urls, stripRoot, extension };
  }
  return { kind: 'build', why: `${f.fetcher}'s ${f.hashAttr} is the hash of what Nix builds` };
}

/** fetchgit (or a forge fetcher that clones): the checkout at `rev` (or `tag`), `.git` removed. */
function gitMethod(f: Fetcher, args: Args | undefined, submodules: boolean): FillMethod {
  const url = f.urls[0];
  if (!url || !args) return { kind: 'build', why: 'its repository URL is computed' };
  const buildOnly = GIT_BUILD_ONLY.find((name) => (name === 'sparseCheckout' || name === 'rootDir' ? args.has(name) : args.isTrue(name)));
  if (buildOnly) return { kind: 'build', why: `${buildOnly} makes nixpkgs' fetchgit store more than the checkout` };
  const tag = args.text('tag');
  const rev = args.text('rev') ?? (tag === undefined ? undefined : `refs/tags/${tag}`);
  if (rev === undefined && (args.has('rev') || args.has('tag'))) return { kind: 'build', why: 'its rev is computed' };
  return { kind: 'git', url, rev: rev ?? 'HEAD', submodules };
}
