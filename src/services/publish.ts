import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { parseHash, type NixHash } from '../core/hash';
import { NarHasher } from '../core/nar';
import { fingerprint, formatNarInfo, parseNarInfo, type NarInfo } from '../core/narinfo';
import { formatNixCacheInfo } from '../core/nix-cache-info';
import { formatPublicKey, publicKeyOf, signFingerprint, verifySignatures, type SecretKey } from '../core/signature';
import { parseStorePath } from '../core/store-path';
import type { PathInfo } from '../core/path-info';
import { KuboUnreachableError } from '../kubo/client';
import { mapLimit } from './concurrency';
import { publishRoot, type ServiceContext } from './context';
import { SignedNarinfos } from './signed-narinfos';
import { tap } from './streams';

export interface PublishedPath {
  storePath: string;
  narCid: string;
  narSize: number;
  /** re-signed: it was published, but without this run's signature (another publisher wrote its narinfo). */
  status: 'published' | 'already-published' | 're-signed';
}

export interface PublishResult {
  paths: PublishedPath[];
  failed: { storePath: string; error: string }[];
  rootCid?: string;
  ipnsName?: string;
}

export interface PublishOptions {
  /** Signs each new narinfo; existing signatures from the Nix store are always kept. */
  secretKey?: SecretKey;
  onProgress?: (event: { storePath: string; status: PublishedPath['status'] | 'failed'; done: number; total: number }) => void;
  signal?: AbortSignal;
}

/** At most this many paths, and this many NAR bytes, go to Kubo in one request and one MFS checkpoint. */
const BATCH_PATHS = 16;
const BATCH_BYTES = 64 * 2 ** 20;

/** What the cache holds, from one listing of its two directories. */
interface CacheListing {
  /** narinfo file name → CID ('' when written without learning it). */
  narinfos: Map<string, string>;
  /** NAR file name → CID. */
  nars: Map<string, string>;
}

type Outcome = PublishedPath | { storePath: string; error: string };

/**
 * Publishes store paths and their closures as a Nix binary cache in MFS (`<root>/cache`).
 * NARs are streamed in-process from the store into Kubo, many per request and linked into MFS
 * by Kubo as it adds them (no temporary file, no call per file), each checked against Nix's
 * NarHash on the way. Only then are their narinfos added, the same way, and the batch flushed:
 * the index never names a NAR it does not have, and a crash loses at most the batch under way.
 * A path whose narinfo and NAR are listed is skipped without a request (a signed publish reads its
 * narinfo only when it has not seen that narinfo's CID signed by its key). MFS keeps the NARs from
 * Kubo's garbage collector; the NARs of the paths named (not their closure) are also pinned.
 */
export async function publish(ctx: ServiceContext, paths: string[], options: PublishOptions = {}): Promise<PublishResult> {
  const closure = await ctx.nix.pathInfo(paths, { recursive: true });
  const listing = await listCache(ctx);
  const outcomes = new Map<string, Outcome>();
  let done = 0;
  const report = (outcome: Outcome) => {
    outcomes.set(outcome.storePath, outcome);
    options.onProgress?.({ storePath: outcome.storePath, status: 'error' in outcome ? 'failed' : outcome.status, done: ++done, total: closure.length });
  };
  const fresh: PathInfo[] = [];
  const known: { info: PathInfo; published: PublishedPath }[] = [];
  for (const info of closure) {
    const published = await alreadyPublished(ctx, info, listing);
    if (published) known.push({ info, published });
    else fresh.push(info);
  }
  const signed = options.secretKey ? await SignedNarinfos.load(formatPublicKey(publicKeyOf(options.secretKey))) : undefined;
  const unsigned = options.secretKey && signed ? await unsignedBy(ctx, known, options.secretKey, listing, signed) : new Set<PathInfo>();
  if (unsigned.size > 0) {
    await addNarinfos(ctx, [...unsigned], listing, options.secretKey);
    await ctx.kubo.mfsFlush('/');
  }
  for (const { info, published } of known) report(unsigned.has(info) ? { ...published, status: 're-signed' } : published);
  for (const batch of batches(fresh)) {
    options.signal?.throwIfAborted();
    for (const outcome of await publishBatchOrEach(ctx, batch, listing, options.secretKey)) report(outcome);
  }
  const ordered = closure.map((info) => outcomes.get(info.path)!);
  const result: PublishResult = {
    paths: ordered.filter((o): o is PublishedPath => 'narCid' in o),
    failed: ordered.filter((o): o is { storePath: string; error: string } => 'error' in o),
  };
  await pinNamed(
    ctx,
    result.paths.filter((p) => paths.includes(p.storePath)),
  );
  if (signed) await rememberSigned(signed, result.paths, listing);
  if (result.paths.length > 0) Object.assign(result, await publishRoot(ctx));
  return result;
}

/** The narinfo of every path published now carries the key's signature (written, re-signed or checked): remember their CIDs. */
async function rememberSigned(signed: SignedNarinfos, published: PublishedPath[], listing: CacheListing): Promise<void> {
  for (const { storePath } of published) {
    const cid = listing.narinfos.get(`${parseStorePath(storePath).hashPart}.narinfo`);
    if (cid) signed.add(cid);
  }
  await signed.save();
}

/**
 * Builds a folder's flake (flake.nix) or default.nix, leaving the usual `result` link there,
 * and returns the built store path, ready to publish.
 */
export async function buildFolder(ctx: ServiceContext, folder: string): Promise<string> {
  const link = path.join(folder, 'result');
  if (existsSync(path.join(folder, 'flake.nix'))) {
    await ctx.nix.run('nix', ['--extra-experimental-features', 'flakes', 'build', `path:${folder}`, '--out-link', link]);
  } else if (existsSync(path.join(folder, 'default.nix'))) {
    await ctx.nix.run('nix-build', [path.join(folder, 'default.nix'), '--out-link', link]);
  } else {
    throw new Error(`${folder} has neither a flake.nix nor a default.nix to build`);
  }
  return realpath(link);
}

/** One listing of the cache and one of its NARs, instead of a lookup per path; creates an empty cache. */
async function listCache(ctx: ServiceContext): Promise<CacheListing> {
  const [narinfos, nars] = await Promise.all([ctx.kubo.mfsList(ctx.layout.cache), ctx.kubo.mfsList(`${ctx.layout.cache}/nar`)]);
  if (!narinfos.some((e) => e.name === 'nix-cache-info')) {
    // A low priority number makes Nix prefer this cache over cache.nixos.org (40).
    await ctx.kubo.mfsWrite(ctx.layout.cacheInfo, new TextEncoder().encode(formatNixCacheInfo({ storeDir: '/nix/store', wantMassQuery: true, priority: 30 })));
  }
  if (nars.length === 0) await ctx.kubo.mfsMkdir(`${ctx.layout.cache}/nar`);
  return { narinfos: new Map(narinfos.map((e) => [e.name, e.cid])), nars: new Map(nars.map((e) => [e.name, e.cid])) };
}

const narinfoName = (info: PathInfo) => `${parseStorePath(info.path).hashPart}.narinfo`;
const narName = (info: PathInfo) => `${parseHash(info.narHash, 'sha256').hash.toNix32()}.nar`;

/**
 * A path is published when its narinfo is listed and so is the NAR it names. The narinfo names the
 * NAR of the path's NarHash unless something else wrote it: only then is it read.
 */
async function alreadyPublished(ctx: ServiceContext, info: PathInfo, listing: CacheListing): Promise<PublishedPath | undefined> {
  if (!listing.narinfos.has(narinfoName(info))) return undefined;
  const cid = listing.nars.get(narName(info));
  if (cid) return { storePath: info.path, narCid: cid, narSize: info.narSize, status: 'already-published' };
  const existing = await ctx.kubo.mfsRead(`${ctx.layout.cache}/${narinfoName(info)}`);
  let narinfo: NarInfo;
  try {
    narinfo = parseNarInfo(new TextDecoder().decode(existing));
  } catch {
    return undefined; // damaged or gone: published again, which replaces it
  }
  const nar = await ctx.kubo.mfsStat(`${ctx.layout.cache}/${narinfo.url}`);
  return nar && { storePath: info.path, narCid: nar.cid, narSize: narinfo.narSize, status: 'already-published' };
}

/**
 * The published paths whose narinfo lacks a valid signature by `key`: another publisher (one that
 * does not sign) wrote it, or won a race with this key's publisher. Signing them is what was asked.
 */
async function unsignedBy(
  ctx: ServiceContext,
  known: { info: PathInfo }[],
  key: SecretKey,
  listing: CacheListing,
  signed: SignedNarinfos,
): Promise<Set<PathInfo>> {
  const trusted = [publicKeyOf(key)];
  const lacking = await mapLimit(known, ctx.concurrency, async ({ info }) => {
    if (signed.has(listing.narinfos.get(narinfoName(info)))) return false; // these very bytes were signed
    const bytes = await ctx.kubo.mfsRead(`${ctx.layout.cache}/${narinfoName(info)}`);
    try {
      return !verifySignatures(parseNarInfo(new TextDecoder().decode(bytes)), trusted).some((v) => v.state === 'valid-trusted');
    } catch {
      return true; // damaged or gone: written again, signed
    }
  });
  return new Set(known.filter((_, i) => lacking[i]).map(({ info }) => info));
}

/** Consecutive runs of at most BATCH_PATHS paths and (unless one path alone is larger) BATCH_BYTES. */
function* batches(infos: PathInfo[]): Iterable<PathInfo[]> {
  let batch: PathInfo[] = [];
  let bytes = 0;
  for (const info of infos) {
    if (batch.length > 0 && (batch.length === BATCH_PATHS || bytes + info.narSize > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(info);
    bytes += info.narSize;
  }
  if (batch.length > 0) yield batch;
}

/**
 * One batch in one go; when that fails (a path that cannot be read, Kubo refusing a name another
 * publisher added meanwhile), each of its paths alone after a new listing, and a path alone once
 * more, so that one bad path fails alone and a race with another publisher does not fail at all.
 */
async function publishBatchOrEach(ctx: ServiceContext, batch: PathInfo[], listing: CacheListing, secretKey?: SecretKey, retries = 1): Promise<Outcome[]> {
  try {
    return await publishBatch(ctx, batch, listing, secretKey);
  } catch (error) {
    const giveUp = error instanceof KuboUnreachableError || (batch.length === 1 && retries === 0);
    if (giveUp) return batch.map((info) => ({ storePath: info.path, error: (error as Error).message }));
    // Another publisher may have added some of these files meanwhile: look again, then retry path by path.
    learnNewNames(listing, await listCache(ctx));
    if (batch.length === 1) return publishBatchOrEach(ctx, batch, listing, secretKey, retries - 1);
    const outcomes: Outcome[] = [];
    for (const info of batch) outcomes.push(...(await publishBatchOrEach(ctx, [info], listing, secretKey)));
    return outcomes;
  }
}

/**
 * Adds to `listing` the names another publisher wrote since it was made. The CIDs already in it
 * stay: this run wrote or checked those bytes, so only they are known to carry its signature
 * (another publisher may have replaced them since; the next signed publish sees a new CID then).
 */
function learnNewNames(listing: CacheListing, fresh: CacheListing): void {
  for (const kind of ['narinfos', 'nars'] as const) for (const [name, cid] of fresh[kind]) if (!listing[kind].has(name)) listing[kind].set(name, cid);
}

/**
 * Adds the batch's NARs (one per NarHash: identical NARs are shared) into `nar/`, checks each
 * against Nix's record, then adds the narinfos of the paths whose NAR is right, and flushes.
 */
async function publishBatch(ctx: ServiceContext, batch: PathInfo[], listing: CacheListing, secretKey?: SecretKey): Promise<Outcome[]> {
  const narDir = `${ctx.layout.cache}/nar`;
  const byNar = new Map<string, PathInfo>();
  for (const info of batch) if (!byNar.has(narName(info))) byNar.set(narName(info), info);
  const newNars = [...byNar].filter(([name]) => !listing.nars.has(name));
  const hashers = new Map<string, NarHasher>();
  const files = newNars.map(([name, info]) => {
    const hasher = new NarHasher();
    hashers.set(name, hasher);
    return { name, content: tap(ctx.nix.dump(info.path), (chunk) => hasher.update(chunk)) };
  });
  const added = files.length > 0 ? await ctx.kubo.addToMfsDirectory(narDir, files, { chunker: ctx.chunker }) : [];
  const wrong = new Map<string, string>();
  for (const { name, cid } of added) {
    const mismatch = narMismatch(byNar.get(name)!, hashers.get(name)!);
    if (!mismatch) listing.nars.set(name, cid);
    else {
      wrong.set(name, mismatch);
      await ctx.kubo.mfsRemove(`${narDir}/${name}`);
    }
  }
  // Listed before this run without a narinfo of ours: a twin path's NAR, or one left by a crash.
  for (const [name, info] of byNar)
    if (!added.some((file) => file.name === name)) await relinkNar(ctx, info, listing).catch((error: Error) => wrong.set(name, error.message));
  const outcomes: Outcome[] = batch.map((info) => {
    const error = wrong.get(narName(info));
    return error
      ? { storePath: info.path, error }
      : { storePath: info.path, narCid: listing.nars.get(narName(info))!, narSize: info.narSize, status: 'published' };
  });
  await addNarinfos(
    ctx,
    batch.filter((info) => !wrong.has(narName(info))),
    listing,
    secretKey,
  );
  await ctx.kubo.mfsFlush('/');
  return outcomes;
}

/** Why a NAR just read does not match Nix's record of the path, or undefined when it does. */
function narMismatch(info: PathInfo, hasher: NarHasher): string | undefined {
  const expected = parseHash(info.narHash, 'sha256').hash;
  const { narHash, narSize } = hasher.digest();
  if (narHash.equals(expected) && narSize === info.narSize) return undefined;
  return `NAR of ${info.path} does not match Nix's record (got ${narHash.toSri()}, ${narSize} bytes; Nix says ${expected.toSri()}, ${info.narSize} bytes): run 'nix-store --verify --check-contents'`;
}

/** A NAR of this NarHash is listed already: adds ours, checks it, and links it when the listed one differs. */
async function relinkNar(ctx: ServiceContext, info: PathInfo, listing: CacheListing): Promise<void> {
  const hasher = new NarHasher();
  const { cid } = await ctx.kubo.add(
    tap(ctx.nix.dump(info.path), (chunk) => hasher.update(chunk)),
    { chunker: ctx.chunker },
  );
  const mismatch = narMismatch(info, hasher);
  if (mismatch) throw new Error(mismatch);
  if (listing.nars.get(narName(info)) !== cid) await ctx.kubo.mfsLink(cid, ctx.layout.nar(parseHash(info.narHash, 'sha256').hash), { flush: false });
  listing.nars.set(narName(info), cid);
}

/** Narinfos (signed when a key is given) of paths whose NAR is in: new ones in one request, replaced ones one by one. */
async function addNarinfos(ctx: ServiceContext, infos: PathInfo[], listing: CacheListing, secretKey?: SecretKey): Promise<void> {
  const files = infos.map((info) => {
    const narHash = parseHash(info.narHash, 'sha256').hash;
    const narinfo = narInfoFor(info, narHash, ctx.layout.narUrl(narHash));
    if (secretKey) narinfo.sigs = [...narinfo.sigs.filter((s) => !s.startsWith(`${secretKey.name}:`)), signFingerprint(secretKey, fingerprint(narinfo))];
    return { name: narinfoName(info), content: new TextEncoder().encode(formatNarInfo(narinfo)) };
  });
  const replaced = files.filter((file) => listing.narinfos.has(file.name));
  const added = files.filter((file) => !listing.narinfos.has(file.name));
  for (const file of replaced) {
    await ctx.kubo.mfsWrite(`${ctx.layout.cache}/${file.name}`, file.content, { flush: false });
    listing.narinfos.set(file.name, '');
  }
  if (added.length > 0) for (const { name, cid } of await ctx.kubo.addToMfsDirectory(ctx.layout.cache, added)) listing.narinfos.set(name, cid);
}

/**
 * Pins the NARs of the paths named (a mirrored source is one, and its pin state is its NAR's):
 * one check each, and a pin only when it is missing.
 */
async function pinNamed(ctx: ServiceContext, named: PublishedPath[]): Promise<void> {
  for (const { narCid } of named) if (!(await ctx.kubo.isPinned(narCid))) await ctx.kubo.pin(narCid);
}

/** The narinfo of an uncompressed NAR, keeping the signatures Nix already has for the path. */
export function narInfoFor(info: PathInfo, narHash: NixHash, url: string): NarInfo {
  const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  return {
    storePath: info.path,
    url,
    compression: 'none',
    fileHash: `sha256:${narHash.toNix32()}`,
    fileSize: info.narSize,
    narHash: `sha256:${narHash.toNix32()}`,
    narSize: info.narSize,
    references: info.references.map(baseName).sort(),
    deriver: info.deriver ? baseName(info.deriver) : undefined,
    sigs: [...info.signatures],
    ca: info.ca,
  };
}
