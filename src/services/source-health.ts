import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Tree } from '@lezer/common';
import { extractFetchers, mayHaveFetchers, parseNix } from '../core/fetchers/extract';
import { flakeLockFetchers, isFlakeLock, parseFlakeLock } from '../core/flake-lock';
import { parseHash } from '../core/hash';
import { expandMirrorUrl } from '../core/mirrors';
import { safeUrl } from '../core/redact';
import { makeFixedOutputPath } from '../core/store-path';
import { mapLimit } from './concurrency';
import type { ServiceContext } from './context';
import type { MirrorRecord } from './mirror';
import { defaultSourceName, pinSources, type SourceRequest } from './pin';
import { lineCounter, nixFilesBelow } from './scan';
import { mirroredSources, sourceRequestOf } from './sources';

/**
 * Upstream: `live` answers, `dead` does not (an error status, no connection), `different` answers
 * something else (an HTML page for a file, another size), `unchecked` was not asked (assumed live),
 * `none` has no http(s) URL to ask.
 */
export type UpstreamState = 'live' | 'dead' | 'different' | 'unchecked' | 'none';

export interface UpstreamCheck {
  state: UpstreamState;
  /** The URL the state is about: the live one, else the last one asked. */
  url?: string;
  detail?: string;
}

/** On the node: pinned, only in our mirror's files (kept by MFS, not pinned), not there, or the node did not answer. */
export type NodeState = 'pinned' | 'mirrored' | 'absent' | 'unknown';

/** safe: two places or more have it; at-risk: one; lost: none. */
export type Risk = 'safe' | 'at-risk' | 'lost';

/** One source a .nix file names, and every place it can come from today. */
export interface SourceHealth {
  line: number;
  fetcher: string;
  /** The store path name (what pinning and Nix call it). */
  name: string;
  /** SRI. */
  hash: string;
  mode: 'flat' | 'recursive';
  urls: string[];
  /** A flake.lock's input: its name in the lock and its locked attributes (Nix fetches it by them). */
  flakeInput?: SourceRequest['flakeInput'];
  upstream: UpstreamCheck;
  store: { path: string; valid: boolean };
  node: { state: NodeState; cid?: string; detail?: string };
  places: number;
  risk: Risk;
}

/** A file's sources; `problem` when the file could not be read or does not parse (its sources are what the parser recovered). */
export interface FileHealth {
  file: string;
  sources: SourceHealth[];
  problem?: string;
}

export interface SourceHealthReport {
  files: FileHealth[];
  /** Whether the upstream states come from asking the URLs, now or at an earlier check (else each is `unchecked`). */
  checked: boolean;
  total: number;
  atRisk: number;
  lost: number;
}

export interface SourceHealthOptions {
  /** Ask each upstream URL (a bounded HEAD, then a small GET when HEAD is refused). */
  check?: boolean;
  /**
   * What the upstream URLs answered, by SRI hash: written by a listing that checks, read by one that does not
   * (a view refreshed after a pin shows the last answers instead of asking every URL again).
   */
  answers?: Map<string, UpstreamCheck>;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** URLs asked per source at most: a `mirror://` URL expands to a dozen mirrors, and one live one is enough. */
const MAX_URLS_CHECKED = 4;

/** Every source the .nix files and flake.lock files below the targets (folders or files) name, with where each can come from. */
export async function sourceHealth(ctx: ServiceContext, targets: string[], options: SourceHealthOptions = {}): Promise<SourceHealthReport> {
  options.onProgress?.('scanning .nix files…');
  const below = async (target: string) => ((await stat(target)).isFile() ? [target] : nixFilesBelow(target, options.signal));
  const nixFiles = (await mapLimit(targets, 4, below)).flat();
  const files = [...nixFiles, ...(await flakeLocksBeside(targets, nixFiles))];
  const scanned = await mapLimit(files, 4, (file) => scanFile(file));
  const named = scanned.filter((f) => f.sources.length > 0 || f.problem);
  const unique = new Map(named.flatMap((f) => f.sources.map((s): [string, SourceRequest] => [s.hash.toSri(), s])));
  options.onProgress?.(`looking up ${unique.size} sources in the store and on the node…`);
  const [places, node] = await Promise.all([storePlaces(ctx, [...unique.values()], options), nodePlaces(ctx)]);
  const healthOf = (line: number, fetcher: string, source: SourceRequest): SourceHealth => {
    const sri = source.hash.toSri();
    const { storePath, valid, upstream } = places.get(sri)!;
    return withRisk({
      line,
      fetcher,
      name: defaultSourceName(source),
      hash: sri,
      mode: source.mode,
      urls: source.urls,
      flakeInput: source.flakeInput,
      upstream,
      store: { path: storePath, valid },
      node: node(sri),
    });
  };
  const report = named.map((f) => ({ file: f.file, problem: f.problem, sources: f.sources.map((s) => healthOf(s.line, s.fetcher, s)) }));
  const all = report.flatMap((f) => f.sources);
  return {
    files: report,
    checked: Boolean(options.check) || all.some((source) => options.answers?.has(source.hash)),
    total: all.length,
    atRisk: all.filter((s) => s.risk === 'at-risk').length,
    lost: all.filter((s) => s.risk === 'lost').length,
  };
}

type ScannedSource = SourceRequest & { line: number; fetcher: string };

/** A file's sources with a usable hash and mode, and its problem (unreadable, or a syntax error and where). */
interface ScannedFile {
  file: string;
  sources: ScannedSource[];
  problem?: string;
}

async function scanFile(file: string): Promise<ScannedFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { file, sources: [], problem: `cannot be read: ${(error as Error).message}` };
  }
  if (isFlakeLock(file)) return scanFlakeLock(file, text);
  if (!mayHaveFetchers(text)) return { file, sources: [] };
  // One whole parse gives both the fetchers and the first syntax error (the scan's faster path parses part of a file).
  const parsed = parseNix(text);
  const lineOf = lineCounter(text);
  const sources = extractFetchers(parsed).flatMap((fetcher) => {
    const source = sourceRequestOf(fetcher);
    return source ? [{ ...source, line: lineOf(fetcher.hashFrom), fetcher: fetcher.fetcher }] : [];
  });
  const errorAt = syntaxErrorOffset(parsed.tree);
  const problem = errorAt === undefined ? undefined : `syntax error at line ${lineAt(text, errorAt)}: the sources listed are what could be read`;
  return { file, sources, problem };
}

/** The flake.lock in each target folder, and beside each flake.nix found. */
export async function flakeLocksBeside(targets: string[], nixFiles: string[]): Promise<string[]> {
  const folders = [...targets, ...nixFiles.filter((f) => path.basename(f) === 'flake.nix').map(path.dirname)];
  const locks = [...new Set(folders.map((folder) => path.join(folder, 'flake.lock')))];
  const present = await Promise.all(
    locks.map((lock) =>
      access(lock).then(
        () => true,
        () => false,
      ),
    ),
  );
  return locks.filter((_, i) => present[i]);
}

/** A flake.lock's locked inputs, each at the line of its narHash; the inputs that cannot be kept are the file's problem. */
function scanFlakeLock(file: string, text: string): ScannedFile {
  let problems: string[];
  try {
    problems = parseFlakeLock(text).flatMap((input) => (input.problem ? [input.problem] : []));
  } catch (error) {
    return { file, sources: [], problem: (error as Error).message };
  }
  const sources = flakeLockFetchers(text).flatMap((fetcher) => {
    const source = sourceRequestOf(fetcher);
    return source ? [{ ...source, line: lineAt(text, fetcher.hashFrom), fetcher: fetcher.fetcher }] : [];
  });
  return { file, sources, problem: problems.length ? problems.join('; ') : undefined };
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** Where the first syntax error of a parsed Nix text is, or undefined when it parses cleanly. */
export function syntaxErrorOffset(tree: Tree): number | undefined {
  let at: number | undefined;
  tree.iterate({
    enter: (node) => {
      if (at !== undefined) return false;
      if (node.type.isError) at = node.from;
      return undefined;
    },
  });
  return at;
}

interface StorePlace {
  storePath: string;
  valid: boolean;
  upstream: UpstreamCheck;
}

/** Each source's fixed-output path and whether it is valid, and its upstream state (asked only with `check`). */
async function storePlaces(ctx: ServiceContext, sources: SourceRequest[], options: SourceHealthOptions): Promise<Map<string, StorePlace>> {
  let done = 0;
  const places = await mapLimit(sources, 8, async (source): Promise<[string, StorePlace]> => {
    options.signal?.throwIfAborted();
    const storePath = makeFixedOutputPath({ name: defaultSourceName(source), hash: source.hash, recursive: source.mode === 'recursive' });
    const valid = await ctx.nix.isValid(storePath);
    const expectedSize = valid && source.mode === 'flat' ? (await stat(storePath).catch(() => undefined))?.size : undefined;
    const sri = source.hash.toSri();
    if (!options.check) return [sri, { storePath, valid, upstream: options.answers?.get(sri) ?? unchecked(source.urls) }];
    const upstream = await checkUpstream(source.urls, { timeoutMs: ctx.kubo.timeoutMs, expectedSize, signal: options.signal });
    options.answers?.set(sri, upstream);
    options.onProgress?.(`checked ${++done}/${sources.length} upstream URLs`);
    return [sri, { storePath, valid, upstream }];
  });
  return new Map(places);
}

/** What the node holds, by SRI hash: one listing of our mirror, then whether each entry is pinned. */
async function nodePlaces(ctx: ServiceContext): Promise<(sri: string) => SourceHealth['node']> {
  let records: { record: MirrorRecord; pinned: boolean }[];
  try {
    records = await mirroredSources(ctx);
  } catch (error) {
    const detail = `the node did not answer: ${(error as Error).message}`;
    return () => ({ state: 'unknown', detail });
  }
  const byHash = new Map(records.map((r) => [r.record.hash, r]));
  return (sri) => {
    const found = byHash.get(sri);
    return found ? { state: found.pinned ? 'pinned' : 'mirrored', cid: found.record.cid } : { state: 'absent' };
  };
}

function httpUrls(urls: string[]): string[] {
  return urls.flatMap(expandMirrorUrl).filter((u) => /^https?:\/\//i.test(u));
}

function unchecked(urls: string[]): UpstreamCheck {
  const first = httpUrls(urls)[0] ?? urls[0];
  return first ? { state: 'unchecked', url: safeUrl(first) } : { state: 'none' };
}

/** Places that have the source: the store, the node (pinned or in the mirror), and upstream unless known not to. */
function withRisk(health: Omit<SourceHealth, 'places' | 'risk'>): SourceHealth {
  const upstream = health.upstream.state === 'live' || health.upstream.state === 'unchecked';
  const node = health.node.state === 'pinned' || health.node.state === 'mirrored';
  const places = [upstream, health.store.valid, node].filter(Boolean).length;
  return { ...health, places, risk: places >= 2 ? 'safe' : places === 1 ? 'at-risk' : 'lost' };
}

/** The first of a source's URLs that is live, else the state of the last one asked. */
export async function checkUpstream(urls: string[], limits: { timeoutMs: number; expectedSize?: number; signal?: AbortSignal }): Promise<UpstreamCheck> {
  const candidates = httpUrls(urls).slice(0, MAX_URLS_CHECKED);
  // A git or github: origin (a flake input) is not asked: counted as there, as without --check.
  if (candidates.length === 0) return urls.length ? { ...unchecked(urls), detail: 'not an http(s) URL: not checked' } : { state: 'none' };
  let last: UpstreamCheck = { state: 'none' };
  for (const url of candidates) {
    last = await checkUrl(url, limits);
    if (last.state === 'live') return last;
  }
  return last;
}

/** One URL: a HEAD, or a GET of its first byte when the server refuses HEAD; never more than the time limit. */
export async function checkUrl(url: string, limits: { timeoutMs: number; expectedSize?: number; signal?: AbortSignal }): Promise<UpstreamCheck> {
  const shown = safeUrl(url);
  const ask = async (method: 'HEAD' | 'GET') => {
    const signal = AbortSignal.any([AbortSignal.timeout(limits.timeoutMs), ...(limits.signal ? [limits.signal] : [])]);
    const response = await fetch(url, { method, redirect: 'follow', signal, headers: method === 'GET' ? { range: 'bytes=0-0' } : {} });
    await response.body?.cancel();
    return response;
  };
  try {
    let response = await ask('HEAD');
    if (response.status === 405 || response.status === 501 || response.status === 403) response = await ask('GET');
    if (!response.ok) return { state: 'dead', url: shown, detail: `HTTP ${response.status}` };
    const problem = answerProblem(url, response, limits.expectedSize);
    return problem ? { state: 'different', url: shown, detail: problem } : { state: 'live', url: shown };
  } catch (error) {
    limits.signal?.throwIfAborted();
    const cause = (error as Error & { cause?: Error }).cause?.message;
    return {
      state: 'dead',
      url: shown,
      detail: (error as Error).name === 'TimeoutError' ? `no answer within ${limits.timeoutMs} ms` : (cause ?? (error as Error).message),
    };
  }
}

/** Why a 2xx answer is not the source: a web page where a file is expected, or another size than the store's copy. */
function answerProblem(url: string, response: Response, expectedSize: number | undefined): string | undefined {
  const type = response.headers.get('content-type') ?? '';
  if (/^text\/html/i.test(type) && !/\.html?([?#]|$)/i.test(url)) return 'answers a web page, not the file';
  const range = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
  const length = response.status === 206 ? range : response.headers.get('content-length');
  if (expectedSize !== undefined && length !== undefined && length !== null && Number(length) !== expectedSize)
    return `answers ${length} bytes, the store's copy has ${expectedSize}`;
  return undefined;
}

/** What a rescue did: each source pinned (and from where), or not (and why). */
export interface RescueResult {
  rescued: { hash: string; name: string; cid: string; from: 'store' | 'upstream' }[];
  alreadyPinned: { hash: string; name: string; cid: string }[];
  failed: { hash: string; name: string; error: string }[];
  cancelled: boolean;
  rootCid?: string;
  ipnsName?: string;
}

/** The sources of a report that only one place or none has. */
export function atRiskSources(report: SourceHealthReport): SourceHealth[] {
  const unique = new Map(report.files.flatMap((f) => f.sources.filter((s) => s.risk !== 'safe').map((s): [string, SourceHealth] => [s.hash, s])));
  return [...unique.values()];
}

/**
 * Pins each source into IPFS from wherever it still is: the Nix store when its fixed-output path
 * is valid there, else its URLs (pinSource's order). Carries on past failures; publishes the root once.
 */
export async function rescueSources(
  ctx: ServiceContext,
  sources: Pick<SourceHealth, 'hash' | 'mode' | 'urls' | 'name' | 'flakeInput' | 'store'>[],
  options: { signal?: AbortSignal; onProgress?: (e: { done: number; total: number; name: string; error?: string }) => void } = {},
): Promise<RescueResult> {
  const byHash = new Map(sources.map((s) => [s.hash, s]));
  const requests = [...byHash.values()].map((s): SourceRequest => ({
    urls: s.urls,
    hash: parseHash(s.hash).hash,
    mode: s.mode,
    name: s.name,
    flakeInput: s.flakeInput,
  }));
  const result = await pinSources(ctx, requests, {
    signal: options.signal,
    onProgress: (e) => options.onProgress?.({ done: e.done, total: e.total, name: defaultSourceName(e.source), error: e.error }),
  });
  const named = (hash: string) => byHash.get(hash)?.name ?? hash;
  // pinSource takes the bytes from the store when the path is valid there, as the listing found it.
  const from = (hash: string) => (byHash.get(hash)?.store.valid ? 'store' : 'upstream');
  return {
    rescued: result.pinned.map(({ record }) => ({
      hash: record.hash,
      name: named(record.hash),
      cid: record.cid,
      from: from(record.hash),
    })),
    alreadyPinned: result.alreadyPinned.map(({ record }) => ({ hash: record.hash, name: named(record.hash), cid: record.cid })),
    failed: result.failed.map((f) => ({ hash: f.source.hash.toSri(), name: defaultSourceName(f.source), error: f.error })),
    cancelled: Boolean(options.signal?.aborted),
    rootCid: result.rootCid,
    ipnsName: result.ipnsName,
  };
}
