import { randomBytes } from 'node:crypto';
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Fetcher } from '../core/fetchers/extract';
import { HASH_SIZES, NixHash, type HashAlgo } from '../core/hash';
import type { Nix } from '../nix/cli';
import { buildReadingHashes, nixProgram, type BuildOutcome } from '../nix/fod-build';
import { describeTarget, nixString, type BuildTarget } from './build-targets';
import { withScratchDir } from './scratch';

/** A hash site to find by building: where it is and the algorithm Nix will report it in. */
export interface BuildSite {
  fetcher: Fetcher;
  algo: HashAlgo;
}

/** Text to put in place of a hash: `from`/`to` as the fetcher's hashFrom/hashTo. */
export interface Replacement {
  from: number;
  to: number;
  text: string;
}

export interface BuildFillRequest {
  file: string;
  text: string;
  /** Every site to find: each gets a fake hash of its own for the build, so Nix's "specified" names it. */
  sites: BuildSite[];
  /** Hashes already known (filled directly), put in before building. */
  known: Replacement[];
  target: BuildTarget;
  nix: Nix;
  signal?: AbortSignal;
  progress?: (message: string) => void;
}

/** The text that writes `hash` where a fetcher's hash is (quoted when the place held a reference such as lib.fakeHash). */
export function replacementFor(fetcher: Fetcher, hash: NixHash): Replacement {
  return { from: fetcher.hashFrom, to: fetcher.hashTo, text: fetcher.quoted ? hash.toSri() : `"${hash.toSri()}"` };
}

export function applyReplacements(text: string, replacements: Replacement[]): string {
  let out = text;
  for (const r of [...replacements].sort((a, b) => b.from - a.from)) out = out.slice(0, r.from) + r.text + out.slice(r.to);
  return out;
}

/**
 * Builds the target with a distinct fake hash at each site and reads the real ones from Nix's
 * mismatch messages; builds again while that finds more (a vendor hash is reached once the source
 * it vendors from has its hash). Each site ends with its hash or the reason it has none.
 */
export async function fillByBuilding(request: BuildFillRequest): Promise<Map<BuildSite, NixHash | Error>> {
  const fakes = new Map<string, BuildSite>();
  const replacements = new Map<number, Replacement>(request.known.map((r) => [r.from, r]));
  for (const site of request.sites) {
    const fake = new NixHash(site.algo, new Uint8Array(randomBytes(HASH_SIZES[site.algo])));
    fakes.set(fake.toSri(), site);
    replacements.set(site.fetcher.hashFrom, replacementFor(site.fetcher, fake));
  }
  const results = new Map<BuildSite, NixHash | Error>();
  const outcome = await withBuildCopy(request, async (build) => {
    for (let round = 1; ; round++) {
      request.progress?.(`building ${describeTarget(request.target, path.dirname(request.file))}${round > 1 ? ` (round ${round})` : ''}`);
      const built = await build(applyReplacements(request.text, [...replacements.values()]));
      const found = built.mismatches.filter(({ specified }) => fakes.has(specified.toSri()) && !results.has(fakes.get(specified.toSri())!));
      for (const { specified, got } of found) {
        const site = fakes.get(specified.toSri())!;
        results.set(site, got);
        replacements.set(site.fetcher.hashFrom, replacementFor(site.fetcher, got));
      }
      if (built.ok || found.length === 0 || results.size === fakes.size) return built;
    }
  });
  for (const site of request.sites) if (!results.has(site)) results.set(site, new Error(notReached(outcome, request.target, request.file)));
  return results;
}

function notReached(outcome: BuildOutcome, target: BuildTarget, file: string): string {
  const what = describeTarget(target, path.dirname(file));
  if (outcome.ok) return `building ${what} succeeded without using this hash: pick a build that uses it`;
  const other =
    outcome.otherErrors[0] ?? outcome.mismatches.map((m) => `a hash elsewhere is wrong (specified ${m.specified.toSri()}, got ${m.got.toSri()})`)[0];
  return other ? `building ${what} failed before it reached this hash:\n${other}` : `building ${what} did not reach this hash`;
}

type Build = (text: string) => Promise<BuildOutcome>;

/**
 * Runs `work` with a way to build the target on a copy of the file holding `text`: beside the
 * file (so its relative paths hold) when the file itself is built, else in a temporary copy of
 * the folder of the .nix file or flake that imports it. The user's files are never changed.
 */
async function withBuildCopy<T>(request: BuildFillRequest, work: (build: Build) => Promise<T>): Promise<T> {
  const { file, target, nix, signal } = request;
  const options = { signal, cwd: path.dirname(file) };
  const keepGoing = ['--keep-going', '--no-out-link'];
  if (target.kind === 'file' || target.kind === 'callPackage') {
    const copy = path.join(path.dirname(file), `.${path.basename(file, '.nix')}.nix-ipfs-fill-${process.pid}-${randomBytes(4).toString('hex')}.nix`);
    const args =
      target.kind === 'file' ? [copy, ...keepGoing] : ['-E', `(import ${nixString(target.nixpkgs)} {}).callPackage ${nixString(copy)} {}`, ...keepGoing];
    try {
      return await work(async (text) => {
        await writeFile(copy, text);
        return buildReadingHashes(nixProgram(nix, 'nix-build'), args, options);
      });
    } finally {
      await rm(copy, { force: true });
    }
  }
  const root = target.kind === 'attribute' ? path.dirname(target.entry) : target.flake;
  const relative = path.relative(root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative))
    throw new Error(`${file} is outside ${root}, so building ${describeTarget(target, path.dirname(file))} does not read it`);
  return withScratchDir('nix-ipfs-build-', async (dir) => {
    const tree = path.join(dir, 'tree');
    signal?.throwIfAborted();
    await cp(root, tree, { recursive: true, verbatimSymlinks: true, filter: (source) => path.basename(source) !== '.git' });
    const program = nixProgram(nix, target.kind === 'attribute' ? 'nix-build' : 'nix');
    const args =
      target.kind === 'attribute'
        ? [path.join(tree, path.relative(root, target.entry)), '-A', target.attribute, ...keepGoing]
        : ['--extra-experimental-features', 'nix-command flakes', 'build', `path:${tree}#${target.attribute}`, '--keep-going', '--no-link'];
    return work(async (text) => {
      await writeFile(path.join(tree, relative), text);
      return buildReadingHashes(program, args, { signal, cwd: tree });
    });
  });
}
