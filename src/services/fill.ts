import { mkdtemp, rename } from 'node:fs/promises';
import path from 'node:path';
import { extractFetchers, parseNix, type Fetcher } from '../core/fetchers/extract';
import { fillablePlaceholders, fillAlgo, planFill, type FillMethod, type FillSite } from '../core/fill-plan';
import type { NixHash } from '../core/hash';
import type { BuildTarget } from './build-targets';
import { mapLimit } from './concurrency';
import { publishRoot, type ServiceContext } from './context';
import { applyReplacements, fillByBuilding, replacementFor, type BuildSite, type Replacement } from './fill-build';
import { defaultSourceName, pinSource, type SourceRequest } from './pin';
import { prefetch, type DirectMethod } from './prefetch';

export interface FillRequest {
  /** The .nix file (its folder is where relative paths in it point). */
  file: string;
  /** Its text: the editor's, which may differ from the disk. */
  text: string;
  /** The hashes to fill, by their offset (a fetcher's hashFrom); every placeholder when left out. */
  at?: number[];
  /** The build that reaches the file's hashes; asked for only when a site must be built. */
  target: () => Promise<BuildTarget>;
  /** Pin what is downloaded to IPFS (nixIpfs.pinOnFill). */
  pin?: boolean;
  /** The longest wait for a server's answer and between two chunks. */
  timeoutMs: number;
  signal?: AbortSignal;
  progress?: (message: string, percentage?: number) => void;
}

export interface FilledSite {
  line: number;
  label: string;
  /** The real hash, SRI. */
  hash: string;
  method: FillMethod['kind'];
  /** With `pin`: the CID it is pinned as, or why it could not be pinned. */
  cid?: string;
  pinError?: string;
}

export interface FailedSite {
  line: number;
  label: string;
  error: string;
}

export interface FillResult {
  filled: FilledSite[];
  failed: FailedSite[];
  /** The edits that put the filled hashes in (offsets of the text given). */
  edits: Replacement[];
  /** The text with them. */
  text: string;
}

/**
 * Fills hashes of a .nix file: known fetchers fetched directly and hashed as Nix would, the rest
 * found by building with Nix. A site that fails is left as it is and named in `failed`.
 */
export async function fillHashes(ctx: ServiceContext, request: FillRequest): Promise<FillResult> {
  const parsed = parseNix(request.text);
  const fetchers = uniqueSites(extractFetchers(parsed));
  const sites = sitesToFill(fetchers, request).map((f) => planFill(parsed, f));
  const result: FillResult = { filled: [], failed: [], edits: [], text: request.text };
  let done = 0;
  // Each step's message keeps the share of sites done so far.
  const report = (message: string) => request.progress?.(message, (100 * done) / sites.length);
  const settle = (site: FillSite, outcome: NixHash | Error, extra: Partial<FilledSite> = {}) => {
    const line = request.text.slice(0, site.fetcher.hashFrom).split('\n').length;
    if (outcome instanceof Error) result.failed.push({ line, label: site.label, error: outcome.message });
    else {
      result.filled.push({ line, label: site.label, hash: outcome.toSri(), method: site.method.kind, ...extra });
      result.edits.push(replacementFor(site.fetcher, outcome));
    }
    done++;
    report(`${done}/${sites.length} ${site.label}`);
  };
  const direct = sites.filter((s): s is FillSite & { method: DirectMethod } => s.method.kind !== 'build');
  await mapLimit(direct, ctx.concurrency, async (site) => {
    const pinned: Partial<FilledSite> = {};
    const hash = await prefetch(site.method, site.algo, {
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      progress: (message) => report(`${site.label}: ${message}`),
      keep: request.pin
        ? (fsPath, got) =>
            keepInIpfs(ctx, site, fsPath, got).then(
              (cid) => void (pinned.cid = cid),
              (e: Error) => void (pinned.pinError = e.message),
            )
        : undefined,
    }).catch((error: Error) => error);
    if (request.signal?.aborted) throw request.signal.reason;
    settle(site, hash, pinned);
  });
  const built = sites.filter((s) => s.method.kind === 'build');
  if (built.length > 0) {
    const outcomes = await buildSites(ctx, { ...request, progress: report }, fetchers, built, result.edits);
    for (const site of built) settle(site, outcomes.get(site)!);
  }
  if (result.filled.some((f) => f.cid)) await publishRoot(ctx);
  result.filled.sort((a, b) => a.line - b.line);
  result.failed.sort((a, b) => a.line - b.line);
  result.text = applyReplacements(request.text, result.edits);
  return result;
}

/** The same hash can be claimed twice (by a fetcher and by its shape): one site per place. */
function uniqueSites(fetchers: Fetcher[]): Fetcher[] {
  return [...new Map(fetchers.map((f) => [f.hashFrom, f])).values()];
}

function sitesToFill(fetchers: Fetcher[], request: FillRequest): Fetcher[] {
  if (!request.at) {
    const placeholders = fillablePlaceholders(fetchers);
    if (placeholders.length === 0) throw new Error(`${path.basename(request.file)} has no placeholder hash (lib.fakeHash, "", an all-zero hash) to fill`);
    return placeholders;
  }
  return request.at.map((offset) => {
    const fetcher = fetchers.find((f) => offset >= f.hashFrom && offset <= f.hashTo);
    if (!fetcher) throw new Error(`there is no hash at offset ${offset} of ${path.basename(request.file)}`);
    return fetcher;
  });
}

/**
 * The sites only Nix can fill, found in one build (again while it finds more). The file's other
 * placeholders get fakes of their own too, so a hash that waits on them (a vendor hash on its
 * source's) is reached.
 */
async function buildSites(
  ctx: ServiceContext,
  request: FillRequest,
  fetchers: Fetcher[],
  built: FillSite[],
  known: Replacement[],
): Promise<Map<FillSite, NixHash | Error>> {
  const target = await request.target().catch((error: Error) => error);
  if (target instanceof Error) return new Map(built.map((site) => [site, target]));
  const filledAt = new Set([...known.map((r) => r.from), ...built.map((s) => s.fetcher.hashFrom)]);
  const others: BuildSite[] = fillablePlaceholders(fetchers)
    .filter((f) => !filledAt.has(f.hashFrom))
    .map((f) => ({ fetcher: f, algo: fillAlgo(f) }));
  const found = await fillByBuilding({
    file: request.file,
    text: request.text,
    sites: [...built, ...others],
    known,
    target,
    nix: ctx.nix,
    signal: request.signal,
    progress: request.progress,
  });
  if (request.signal?.aborted) throw request.signal.reason;
  return new Map(built.map((site) => [site, found.get(site)!]));
}

/** nixIpfs.pinOnFill: the fetched file or folder into the Nix store under the fetcher's name, then pinned from there. */
async function keepInIpfs(ctx: ServiceContext, site: FillSite, fsPath: string, hash: NixHash): Promise<string> {
  const source: SourceRequest = {
    urls: site.fetcher.urls,
    hash,
    mode: site.method.kind === 'download' ? 'flat' : 'recursive',
    name: site.fetcher.name,
  };
  if (hash.algo !== 'sha256') throw new Error(`only sha256 sources are pinned, not ${hash.algo}`);
  const named = path.join(await mkdtemp(path.join(path.dirname(fsPath), 'add-')), defaultSourceName(source));
  await rename(fsPath, named);
  await ctx.nix.addFixed(named, { algo: hash.algo, recursive: source.mode === 'recursive' });
  return (await pinSource(ctx, source)).record.cid;
}
