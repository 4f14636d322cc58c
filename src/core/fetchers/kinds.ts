import { isHashAlgo, type HashAlgo } from '../hash';

/** flat: the hash is of a file; recursive: of a tree's NAR; unknown: the text does not say which. */
export type HashMode = 'flat' | 'recursive' | 'unknown';

/** A fetcher call's arguments, as far as the text gives them. */
export interface FetcherArgs {
  has(name: string): boolean;
  /** The value as a string, when the text fixes it. */
  text(name: string): string | undefined;
  /** The value's text as written (`false`, `./x.patch`). */
  written(name: string): string | undefined;
  /** Whether the value is `true` as written. */
  isTrue(name: string): boolean;
}

export interface FetcherKind {
  mode: HashMode | ((args: FetcherArgs) => HashMode);
  /** Where it downloads from; without this, the call's own `url` / `urls`. */
  urls?: (args: FetcherArgs) => (string | undefined)[];
}

const recursive: FetcherKind = { mode: 'recursive' };
const flat: FetcherKind = { mode: 'flat' };
/** Dependency sets built by a package manager inside the derivation: a directory, no URL of its own. */
const vendored: FetcherKind = { mode: 'recursive', urls: () => [] };

type GitTemplate<K extends string> = (v: Record<K, string>, a: FetcherArgs) => string;

/** The values of `keys` (a missing `rev` is `refs/tags/<tag>`); undefined when the text does not fix one of them. */
function gitValues<K extends string>(keys: readonly K[], args: FetcherArgs): Record<K, string> | undefined {
  const tag = args.text('tag');
  const values: Partial<Record<K, string>> = {};
  for (const key of keys) values[key] = args.text(key) ?? (key === 'rev' && tag !== undefined ? `refs/tags/${tag}` : undefined);
  return hasAll(values, keys) ? values : undefined;
}

function hasAll<K extends string>(values: Partial<Record<K, string>>, keys: readonly K[]): values is Record<K, string> {
  return keys.every((key) => values[key] !== undefined);
}

/** A forge's archive URL; with submodules, LFS or a sparse checkout, fetchgit clones the repository instead (no `rev` needed). */
const gitHost =
  <K extends string>(archive: GitTemplate<K>, keys: readonly K[], clone?: GitTemplate<Exclude<K, 'rev'>>) =>
  (args: FetcherArgs): (string | undefined)[] => {
    const cloned = ['fetchSubmodules', 'leaveDotGit', 'deepClone', 'forceFetchGit', 'fetchLFS'].some((k) => args.isTrue(k)) || args.has('sparseCheckout');
    if (cloned) {
      const values = gitValues(
        keys.filter((k): k is Exclude<K, 'rev'> => k !== 'rev'),
        args,
      );
      return clone && values ? [clone(values, args)] : [undefined];
    }
    const values = gitValues(keys, args);
    return values ? [archive(values, args)] : [undefined];
  };

const sourcehutOwner = (owner: string) => (owner.startsWith('~') ? owner : `~${owner}`);
const githubBase = (a: FetcherArgs) => `https://${a.text('githubBase') ?? 'github.com'}`;
const gitlabBase = (a: FetcherArgs) => `https://${a.text('domain') ?? 'gitlab.com'}`;

function pypiUrls(a: FetcherArgs): (string | undefined)[] {
  const pname = a.text('pname');
  const version = a.text('version');
  if (!pname || !version) return [undefined];
  if (a.text('format') === 'wheel') {
    const python = a.text('python') ?? 'py3';
    const dist = a.text('dist') ?? python;
    return [
      `https://files.pythonhosted.org/packages/${dist}/${pname[0]}/${pname}/${pname}-${version}-${python}-${a.text('abi') ?? 'none'}-${a.text('platform') ?? 'any'}.whl`,
    ];
  }
  return [`mirror://pypi/${pname[0]}/${pname}/${pname}-${version}.${a.text('extension') ?? 'tar.gz'}`];
}

function crateUrls(a: FetcherArgs): (string | undefined)[] {
  const crate = a.text('crateName') ?? a.text('pname');
  const version = a.text('version');
  return crate && version ? [`${a.text('registryDl') ?? 'https://crates.io/api/v1/crates'}/${crate}/${version}/download`] : [undefined];
}

function debianPatchUrls(a: FetcherArgs): (string | undefined)[] {
  const [pname, version, patch] = [a.text('pname'), a.text('version'), a.text('patch')];
  if (!pname || !version || !patch || (a.has('debianRevision') && a.text('debianRevision') === undefined)) return [undefined];
  const prefix = pname.slice(0, pname.startsWith('lib') ? 4 : 1);
  const revision = a.text('debianRevision');
  return [
    `https://sources.debian.org/data/${a.text('area') ?? 'main'}/${prefix}/${pname}/${revision ? `${version}-${revision}` : version}/debian/patches/${patch}${a.text('extension') ?? '.patch'}`,
  ];
}

/** nixpkgs' fetchurl (and <nix/fetchurl.nix>): an executable or unpacked download is hashed as a tree. */
export const fetchurl: FetcherKind = { mode: (a) => (a.isTrue('recursiveHash') || a.isTrue('executable') || a.isTrue('unpack') ? 'recursive' : 'flat') };

/** What each nixpkgs fetcher hashes and where it downloads from (pkgs/build-support/fetch*, rust, node). */
export const FETCHERS: Record<string, FetcherKind> = {
  fetchurl,
  fetchurlBoot: fetchurl,
  'builtins.fetchurl': flat,
  fetchpatch: flat, // the hash is of the normalised patch, not of the download
  fetchpatch2: flat,
  fetchDebianPatch: { mode: 'flat', urls: debianPatchUrls },
  fetchPypi: { mode: 'flat', urls: pypiUrls },
  fetchNuGet: {
    mode: 'flat',
    urls: (a) => (a.text('pname') && a.text('version') ? [`https://www.nuget.org/api/v2/package/${a.text('pname')}/${a.text('version')}`] : [undefined]),
  },
  fetchHex: {
    mode: 'flat',
    urls: (a) => (a.text('pkg') && a.text('version') ? [`https://repo.hex.pm/tarballs/${a.text('pkg')}-${a.text('version')}.tar`] : [undefined]),
  },
  fetchipfs: flat,
  fetchFirefoxAddon: flat,
  requireFile: { mode: (a) => (a.text('hashMode') === 'recursive' ? 'recursive' : 'flat'), urls: () => [] },
  fetchzip: recursive,
  fetchTarball: recursive,
  'builtins.fetchTarball': recursive,
  fetchgit: recursive,
  fetchgitPrivate: recursive,
  fetchhg: recursive,
  fetchsvn: recursive,
  fetchbzr: recursive,
  fetchdarcs: recursive,
  fetchfossil: recursive,
  fetchcvs: recursive,
  fetchtorrent: recursive,
  fetchCrate: { mode: (a) => (a.written('unpack') === 'false' ? 'flat' : 'recursive'), urls: crateUrls },
  fetchcrate: { mode: (a) => (a.written('unpack') === 'false' ? 'flat' : 'recursive'), urls: crateUrls },
  fetchCargoTarball: { mode: 'flat', urls: () => [] }, // a vendor tarball, hashed as a file
  fetchCargoVendor: vendored,
  fetchYarnDeps: vendored,
  fetchYarnBerryDeps: vendored,
  fetchNpmDeps: vendored,
  fetchPnpmDeps: vendored,
  fetchDeps: vendored, // pnpm.fetchDeps
  fetchFromGitHub: {
    mode: 'recursive',
    urls: gitHost(
      (v, a) => `${githubBase(a)}/${v.owner}/${v.repo}/archive/${v.rev}.tar.gz`,
      ['owner', 'repo', 'rev'],
      (v, a) => `${githubBase(a)}/${v.owner}/${v.repo}.git`,
    ),
  },
  fetchFromGitLab: {
    mode: 'recursive',
    urls: gitHost(
      (v, a) => `${gitlabBase(a)}/${v.owner}/${v.repo}/-/archive/${v.rev}/${v.repo}-${v.rev}.tar.gz`,
      ['owner', 'repo', 'rev'],
      (v, a) => `${gitlabBase(a)}/${v.owner}/${v.repo}.git`,
    ),
  },
  fetchFromGitea: {
    mode: 'recursive',
    urls: gitHost(
      (v) => `https://${v.domain}/${v.owner}/${v.repo}/archive/${v.rev}.tar.gz`,
      ['domain', 'owner', 'repo', 'rev'],
      (v) => `https://${v.domain}/${v.owner}/${v.repo}.git`,
    ),
  },
  fetchFromForgejo: {
    mode: 'recursive',
    urls: gitHost(
      (v) => `https://${v.domain}/${v.owner}/${v.repo}/archive/${v.rev}.tar.gz`,
      ['domain', 'owner', 'repo', 'rev'],
      (v) => `https://${v.domain}/${v.owner}/${v.repo}.git`,
    ),
  },
  fetchFromSourcehut: {
    mode: 'recursive',
    urls: gitHost(
      (v) => `https://git.sr.ht/${sourcehutOwner(v.owner)}/${v.repo}/archive/${v.rev}.tar.gz`,
      ['owner', 'repo', 'rev'],
      (v) => `https://git.sr.ht/${sourcehutOwner(v.owner)}/${v.repo}`,
    ),
  },
  fetchFromBitbucket: { mode: 'recursive', urls: gitHost((v) => `https://bitbucket.org/${v.owner}/${v.repo}/get/${v.rev}.tar.gz`, ['owner', 'repo', 'rev']) },
  fetchFromCodeberg: { mode: 'recursive', urls: gitHost((v) => `https://codeberg.org/${v.owner}/${v.repo}/archive/${v.rev}.tar.gz`, ['owner', 'repo', 'rev']) },
  fetchFromSavannah: {
    mode: 'recursive',
    urls: gitHost((v) => `https://git.savannah.gnu.org/cgit/${v.repo}.git/snapshot/${v.repo}-${v.rev}.tar.gz`, ['repo', 'rev']),
  },
  fetchFromRepoOrCz: { mode: 'recursive', urls: gitHost((v) => `https://repo.or.cz/${v.repo}.git/snapshot/${v.rev}.tar.gz`, ['repo', 'rev']) },
};

/** Functions that take a fetcher and its arguments and call it (nixpkgs' fetcher tests). */
export const FETCHER_PASSERS = new Set(['invalidateFetcherByDrvHash']);

/** The attributes a fetcher reads its hash from, with the algorithm each implies. */
export const HASH_ATTRS: Record<string, HashAlgo | undefined> = {
  hash: undefined,
  outputHash: undefined,
  sha256: 'sha256',
  sha512: 'sha512',
  sha1: 'sha1',
  md5: 'md5',
};

/** Builders' hashes of vendored dependencies (a directory built by the package manager, no URL). */
export const VENDOR_HASHES: Record<string, HashMode> = {
  vendorHash: 'recursive', // buildGoModule
  vendorSha256: 'recursive',
  cargoHash: 'recursive', // buildRustPackage: fetchCargoVendor since nixpkgs 25.05
  cargoSha256: 'flat', // buildRustPackage: fetchCargoTarball, a tarball
  npmDepsHash: 'recursive', // buildNpmPackage: fetchNpmDeps
  mvnHash: 'recursive', // maven.buildMavenPackage
};

/** Names that hold hashes: `hash`, `sha256`, `outputHash`, `*Hash`, `*Sha256`, `*Hashes` (`srcHash`, `outputHashes`). */
export const HASH_NAME = /^(hash|hashes|sha1|sha256|sha512|md5|outputHash)$|(Hash|Hashes|Sha1|Sha256|Sha512)$/;
/** Attributes that hold other hex-looking strings (a git `rev` is 40 hex digits, as a sha1 is). */
export const NOT_HASHES = new Set(['rev', 'url', 'urls', 'version', 'name', 'pname', 'owner', 'repo', 'tag', 'commit', 'ref', 'path', 'type']);

/** The algorithm an attribute's name implies (`sha256`, `cargoSha256`), if any. */
export function algoOfName(name: string): HashAlgo | undefined {
  const algo = /(?:^|[a-z0-9])(md5|sha1|sha256|sha512|Md5|Sha1|Sha256|Sha512)$/.exec(name)?.[1];
  return algo === undefined ? undefined : (algo.toLowerCase() as HashAlgo);
}

const BASE64_LENGTHS: Record<HashAlgo, number> = { md5: 24, sha1: 28, sha256: 44, sha512: 88 };
/** Base64 digests by length (md5, sha1, sha256, sha512) → the `=` padding they end with. */
const BASE64_PADDING: Record<number, number> = { 24: 2, 28: 1, 44: 1, 88: 2 };
const HEX_LENGTHS = new Set([32, 40, 64, 128]);
const NIX32_LENGTHS = new Set([26, 32, 52, 103]);

/** `sha256-…` with a digest of the right size: a hash wherever it stands. */
export function isSri(value: string): boolean {
  const algo = /^(md5|sha1|sha256|sha512)-[A-Za-z0-9+/]+={0,2}$/.exec(value)?.[1];
  return algo !== undefined && isHashAlgo(algo) && value.length - algo.length - 1 === BASE64_LENGTHS[algo];
}

/** SRI, `algo:digest`, or a bare base16 / Nix base32 / padded base64 digest of a length some algorithm has. */
export function isHashShaped(value: string): boolean {
  if (isSri(value)) return true;
  const digest = /^(?:md5|sha1|sha256|sha512):/.test(value) ? value.slice(value.indexOf(':') + 1) : value;
  if (HEX_LENGTHS.has(digest.length) && /^[0-9a-fA-F]+$/.test(digest)) return true;
  if (NIX32_LENGTHS.has(digest.length) && /^[0-9a-df-np-sv-z]+$/.test(digest)) return true;
  // node2nix writes `sha512 = "…=="`: base64 with its padding, as a digest of that size has.
  const padding = BASE64_PADDING[digest.length];
  return padding !== undefined && /^[A-Za-z0-9+/]+=*$/.test(digest) && digest.length - digest.indexOf('=') === padding;
}
