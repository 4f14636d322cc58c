import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NixHash } from '../core/hash';
import { cidForFlatHash } from '../core/cid';
import { expandMirrorUrl, unknownMirrorSite } from '../core/mirrors';
import { safeUrl } from '../core/redact';
import type { SecretKey } from '../core/signature';
import { makeFixedOutputPath } from '../core/store-path';
import { mapLimit } from './concurrency';
import { publishRoot, type ServiceContext } from './context';
import { lookupMirror, recordMirror, type MirrorRecord } from './mirror';
import { publish } from './publish';
import { ScratchFullError, withScratchDir } from './scratch';
import { DEFAULT_MAX_DOWNLOAD_BYTES, downloadToFile } from './transfer';

/** A source to keep alive in IPFS: what a fetcher in a .nix file says. */
export interface SourceRequest {
  urls: string[];
  hash: NixHash;
  /** flat: the file itself (fetchurl); recursive: the unpacked tree's NAR (fetchzip, fetchFromGitHub, …). */
  mode: 'flat' | 'recursive';
  /** The store path name; defaults to the URL's file name (flat) or `source` (recursive), as nixpkgs does. */
  name?: string;
  /** A flake input from a flake.lock: Nix's fetchTree brings it into the store when it is missing. */
  flakeInput?: { id: string; locked: Record<string, unknown> };
}

export interface PinOutcome {
  status: 'pinned' | 'already-pinned';
  record: MirrorRecord;
}

export interface PinOptions {
  /** Add a flat source that is already in the Nix store by reference (Kubo filestore) instead of copying it. */
  nocopy?: boolean;
  /** The most a download may bring, and its name for messages (the time limits are the context's --timeout). */
  maxDownload?: { bytes: number; name: string };
  /** Signs the narinfos of unpacked sources (they are content-addressed, so Nix takes them unsigned too). */
  secretKey?: SecretKey;
  signal?: AbortSignal;
}

/**
 * Pins one source and records it in the mirror index. The bytes come from the Nix store when
 * the fixed-output path is valid there, otherwise from the URLs; the hash is verified before
 * anything is added to Kubo.
 */
export async function pinSource(ctx: ServiceContext, source: SourceRequest, options: PinOptions = {}): Promise<PinOutcome> {
  const existing = await lookupMirror(ctx.kubo, ctx.layout, source.hash);
  if (existing && (await ctx.kubo.isPinned(existing.cid))) return { status: 'already-pinned', record: existing };
  const record = source.mode === 'flat' ? await pinFlat(ctx, source, options) : await pinRecursive(ctx, source, options);
  await recordMirror(ctx.kubo, ctx.layout, source.hash, record);
  return { status: 'pinned', record };
}

export interface PinManyResult {
  pinned: PinOutcome[];
  alreadyPinned: PinOutcome[];
  failed: { source: SourceRequest; error: string }[];
  rootCid?: string;
  ipnsName?: string;
}

/** Pins many sources with bounded concurrency, carrying on past failures; publishes the root once. */
export async function pinSources(
  ctx: ServiceContext,
  sources: SourceRequest[],
  options: PinOptions & { onProgress?: (e: { done: number; total: number; source: SourceRequest; error?: string }) => void } = {},
): Promise<PinManyResult> {
  const result: PinManyResult = { pinned: [], alreadyPinned: [], failed: [] };
  let done = 0;
  await mapLimit(sources, ctx.concurrency, async (source) => {
    if (options.signal?.aborted) return;
    try {
      const outcome = await pinSource(ctx, source, options);
      (outcome.status === 'pinned' ? result.pinned : result.alreadyPinned).push(outcome);
      options.onProgress?.({ done: ++done, total: sources.length, source });
    } catch (error) {
      const message = (error as Error).message;
      result.failed.push({ source, error: message });
      options.onProgress?.({ done: ++done, total: sources.length, source, error: message });
    }
  });
  if (result.pinned.length > 0) Object.assign(result, await publishRoot(ctx));
  return result;
}

export function defaultSourceName(source: SourceRequest): string {
  if (source.name) return source.name;
  if (source.mode === 'recursive') return 'source';
  const url = source.urls.find((u) => u.length > 0) ?? '';
  // builtins.fetchurl / <nix/fetchurl.nix> name the store path after the URL's last component.
  const base = decodeURIComponent(
    url
      .replace(/[?#].*$/, '')
      .replace(/\/+$/, '')
      .split('/')
      .pop() ?? '',
  );
  return base.replace(/[^A-Za-z0-9+\-._?=]/g, '_').replace(/^\.+/, '') || 'source';
}

async function pinFlat(ctx: ServiceContext, source: SourceRequest, options: PinOptions): Promise<MirrorRecord> {
  const name = defaultSourceName(source);
  const storePath = makeFixedOutputPath({ name, hash: source.hash, recursive: false });
  const fromStore = await ctx.nix.isValid(storePath);
  const pinFile = async (file: string): Promise<MirrorRecord> => {
    const actual = await hashFile(file, source.hash.algo);
    if (!actual.equals(source.hash)) {
      throw new Error(`${file} has hash ${actual.toSri()}, expected ${source.hash.toSri()}`);
    }
    const size = (await stat(file)).size;
    const added =
      fromStore && options.nocopy
        ? await ctx.kubo.addByReference(file, { pin: true, chunker: ctx.chunker })
        : await ctx.kubo.add(Readable.from(createReadStream(file)), { pin: true, chunker: ctx.chunker });
    await ctx.kubo.mfsLink(added.cid, ctx.layout.mirrorFile(source.hash));
    return { hash: source.hash.toSri(), cid: added.cid, mode: 'flat', name, urls: source.urls, size, storePath, addedAt: new Date().toISOString() };
  };
  return fromStore ? pinFile(storePath) : withScratchDir('nix-ipfs-pin-', async (work) => pinFile(await download(ctx, source, path.join(work, name), options)));
}

async function pinRecursive(ctx: ServiceContext, source: SourceRequest, options: PinOptions): Promise<MirrorRecord> {
  if (source.hash.algo !== 'sha256') throw new Error(`only sha256 recursive hashes can be pinned, not ${source.hash.algo}`);
  const name = defaultSourceName(source);
  const storePath = makeFixedOutputPath({ name, hash: source.hash, recursive: true });
  if (!(await ctx.nix.isValid(storePath)))
    await (source.flakeInput ? fetchFlakeInput(ctx, source.flakeInput, storePath) : prefetchUnpacked(ctx, source, name, storePath, options));
  // The unpacked tree goes into the binary cache as a content-addressed path (CA: fixed:r:…),
  // which Nix accepts without a signature because its hash is its name.
  const result = await publish(ctx, [storePath], { signal: options.signal, secretKey: options.secretKey });
  const [failure] = result.failed;
  if (failure) throw new Error(failure.error);
  const nar = result.paths[0];
  if (!nar) throw new Error(`publishing ${storePath} published nothing`);
  return {
    hash: source.hash.toSri(),
    cid: nar.narCid,
    mode: 'recursive',
    name,
    urls: source.urls,
    size: nar.narSize,
    storePath,
    addedAt: new Date().toISOString(),
  };
}

/** Nix's own download bounds set to ours (`--timeout`): one attempt, no pause or connection longer than it. */
function nixDownloadLimits(timeoutMs: number): string[] {
  const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  return ['--option', 'stalled-download-timeout', seconds, '--option', 'connect-timeout', seconds, '--option', 'download-attempts', '1'];
}

/**
 * Lets Nix fetch a locked flake input the way a flake evaluation does (`builtins.fetchTree` of its
 * locked attributes: tarball, GitHub, git, path, …); Nix checks the narHash itself.
 */
async function fetchFlakeInput(ctx: ServiceContext, input: NonNullable<SourceRequest['flakeInput']>, storePath: string): Promise<void> {
  // The attributes reach Nix as JSON inside a string literal: nothing in them is evaluated.
  const json = JSON.stringify(input.locked).replace(/[\\"$]/g, (c) => `\\${c}`);
  const expr = `(builtins.fetchTree (builtins.fromJSON "${json}")).outPath`;
  const flags = ['--extra-experimental-features', 'flakes', ...nixDownloadLimits(ctx.kubo.timeoutMs)];
  let fetched: string;
  try {
    fetched = (await ctx.nix.run('nix', ['eval', ...flags, '--impure', '--raw', '--expr', expr])).trim();
  } catch (error) {
    const reason = (error as Error).message.replace(/\s*\(use '--show-trace'[^)]*\)\s*$/, '');
    throw new Error(`input '${input.id}' is not in the local Nix store and Nix could not fetch it: ${reason}`, { cause: error });
  }
  if (fetched !== storePath || !(await ctx.nix.isValid(storePath)))
    throw new Error(`input '${input.id}' was fetched to ${fetched}, not to ${storePath} as its narHash says: lock the flake again`);
}

/** Lets Nix download and unpack a tarball source (it checks the hash itself). */
async function prefetchUnpacked(ctx: ServiceContext, source: SourceRequest, name: string, storePath: string, options: PinOptions): Promise<void> {
  const urls = source.urls.flatMap(expandMirrorUrl).filter((u) => /^https?:\/\//.test(u));
  const errors: string[] = [];
  for (const url of urls) {
    options.signal?.throwIfAborted();
    try {
      await ctx.nix.run('nix-prefetch-url', [
        ...nixDownloadLimits(ctx.kubo.timeoutMs),
        '--unpack',
        '--type',
        'sha256',
        '--name',
        name,
        url,
        source.hash.toNix32(),
      ]);
      if (await ctx.nix.isValid(storePath)) return;
      errors.push(`${url}: unpacked to a different tree`);
    } catch (error) {
      errors.push(`${url}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    `${storePath} is not in the local Nix store and could not be fetched${errors.length ? `:\n  ${errors.join('\n  ')}` : ' (no downloadable URL)'}. Build the package once (nix-build), then pin again.`,
  );
}

/** Downloads the first URL that answers with the right bytes into `file`, within the context's time limits and the size limit. */
async function download(ctx: ServiceContext, source: SourceRequest, file: string, options: PinOptions): Promise<string> {
  const urls = source.urls.flatMap(expandMirrorUrl).filter((u) => /^https?:\/\//i.test(u));
  const rawCid = cidForFlatHash(source.hash);
  const errors = source.urls.flatMap((url) => {
    const site = unknownMirrorSite(url);
    return site === undefined ? [] : [`${url}: nixpkgs has no mirror site '${site}' (mirror://gnu/…, mirror://sourceforge/… and the like)`];
  });
  const maxDownload = options.maxDownload ?? { bytes: DEFAULT_MAX_DOWNLOAD_BYTES, name: 'the 16 GB download limit' };
  for (const url of urls) {
    options.signal?.throwIfAborted();
    try {
      await downloadToFile(url, file, { timeoutMs: ctx.kubo.timeoutMs, maxBytes: maxDownload.bytes, maxBytesName: maxDownload.name, signal: options.signal });
      const actual = await hashFile(file, source.hash.algo);
      if (actual.equals(source.hash)) return file;
      errors.push(`${safeUrl(url)}: hash mismatch, got ${actual.toSri()}`);
    } catch (error) {
      // Another URL cannot help a full disk or a cancelled pin.
      if (error instanceof ScratchFullError || (error as NodeJS.ErrnoException).code === 'ENOSPC' || options.signal?.aborted) throw error;
      errors.push((error as Error).message);
    }
    await rm(file, { force: true });
  }
  throw new Error(
    `could not download ${source.hash.toSri()}${rawCid ? ` (CID ${rawCid})` : ''}${errors.length ? `:\n  ${errors.join('\n  ')}` : ': the fetcher has no literal http(s) URL'}`,
  );
}

export async function hashFile(file: string, algo: NixHash['algo']): Promise<NixHash> {
  const hash = createHash(algo);
  await pipeline(createReadStream(file), hash);
  return new NixHash(algo, new Uint8Array(hash.digest()));
}
