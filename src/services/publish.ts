import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { parseHash, NixHash } from '../core/hash';
import { NarHasher } from '../core/nar';
import { fingerprint, formatNarInfo, parseNarInfo, type NarInfo } from '../core/narinfo';
import { formatNixCacheInfo } from '../core/nix-cache-info';
import { signFingerprint, type SecretKey } from '../core/signature';
import { parseStorePath } from '../core/store-path';
import type { PathInfo } from '../core/path-info';
import { mapLimit } from './concurrency';
import { publishRoot, type ServiceContext } from './context';
import { tap } from './streams';

export interface PublishedPath {
  storePath: string;
  narCid: string;
  narSize: number;
  status: 'published' | 'already-published';
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

/**
 * Publishes store paths and their closures as a Nix binary cache in MFS (`<root>/cache`).
 * Each NAR is streamed from `nix-store --dump` into Kubo (no temporary file), checked
 * against Nix's NarHash on the way, linked, and only then described by a narinfo — so the
 * index never names a NAR it does not have. Paths whose narinfo exists are skipped.
 */
export async function publish(ctx: ServiceContext, paths: string[], options: PublishOptions = {}): Promise<PublishResult> {
  const closure = await ctx.nix.pathInfo(paths, { recursive: true });
  await ensureCacheInfo(ctx);
  // One listing instead of one lookup per path: most paths of a first publish are new.
  const [narinfos, nars] = await Promise.all([ctx.kubo.mfsList(ctx.layout.cache), ctx.kubo.mfsList(`${ctx.layout.cache}/nar`)]);
  const listed = new Set([...narinfos.map((e) => `${ctx.layout.cache}/${e.name}`), ...nars.map((e) => `${ctx.layout.cache}/nar/${e.name}`)]);
  let done = 0;
  const outcomes = await mapLimit(closure, ctx.concurrency, async (info) => {
    options.signal?.throwIfAborted();
    try {
      const published = await publishPath(ctx, info, listed, options.secretKey);
      options.onProgress?.({ storePath: info.path, status: published.status, done: ++done, total: closure.length });
      return published;
    } catch (error) {
      options.onProgress?.({ storePath: info.path, status: 'failed', done: ++done, total: closure.length });
      return { storePath: info.path, error: (error as Error).message };
    }
  });
  const result: PublishResult = {
    paths: outcomes.filter((o): o is PublishedPath => 'narCid' in o),
    failed: outcomes.filter((o): o is { storePath: string; error: string } => 'error' in o),
  };
  // The links above stayed in Kubo's memory (flush: false) since the last checkpoint: write them.
  await ctx.kubo.mfsFlush('/');
  if (result.paths.length > 0) Object.assign(result, await publishRoot(ctx));
  return result;
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

async function ensureCacheInfo(ctx: ServiceContext): Promise<void> {
  if (await ctx.kubo.mfsStat(ctx.layout.cacheInfo)) return;
  // A low priority number makes Nix prefer this cache over cache.nixos.org (40).
  await ctx.kubo.mfsWrite(ctx.layout.cacheInfo, new TextEncoder().encode(formatNixCacheInfo({ storeDir: '/nix/store', wantMassQuery: true, priority: 30 })));
}

async function publishPath(ctx: ServiceContext, info: PathInfo, listed: Set<string>, secretKey?: SecretKey): Promise<PublishedPath> {
  const storePath = parseStorePath(info.path);
  const narinfoPath = ctx.layout.narinfo(storePath.hashPart);
  const existing = listed.has(narinfoPath) ? await ctx.kubo.mfsRead(narinfoPath) : undefined;
  if (existing) {
    const narinfo = parseNarInfo(new TextDecoder().decode(existing));
    const nar = await ctx.kubo.mfsStat(`${ctx.layout.cache}/${narinfo.url}`);
    if (nar) return { storePath: info.path, narCid: nar.cid, narSize: narinfo.narSize, status: 'already-published' };
  }

  const expected = parseHash(info.narHash, 'sha256').hash;
  const hasher = new NarHasher();
  const { cid } = await ctx.kubo.add(tap(ctx.nix.dump(info.path), (chunk) => hasher.update(chunk)), { pin: true, chunker: ctx.chunker });
  const { narHash, narSize } = hasher.digest();
  if (!narHash.equals(expected) || narSize !== info.narSize) {
    await ctx.kubo.unpin(cid).catch(() => undefined);
    throw new Error(
      `NAR of ${info.path} does not match Nix's record (got ${narHash.toSri()}, ${narSize} bytes; Nix says ${expected.toSri()}, ${info.narSize} bytes): run 'nix-store --verify --check-contents'`,
    );
  }
  await linkNar(ctx, cid, ctx.layout.nar(narHash), listed);

  const narinfo = narInfoFor(info, narHash, ctx.layout.narUrl(narHash));
  if (secretKey) {
    const sig = signFingerprint(secretKey, fingerprint(narinfo));
    narinfo.sigs = [...narinfo.sigs.filter((s) => !s.startsWith(`${secretKey.name}:`)), sig];
  }
  await ctx.kubo.mfsWrite(narinfoPath, new TextEncoder().encode(formatNarInfo(narinfo)), { flush: false });
  return { storePath: info.path, narCid: cid, narSize, status: 'published' };
}

/**
 * Links a NAR at its path, named by its hash. Two store paths can have the same NAR (same
 * contents, other names): when it is linked already (by an earlier run or by this one), fine.
 */
async function linkNar(ctx: ServiceContext, cid: string, narPath: string, listed: Set<string>): Promise<void> {
  if (listed.has(narPath) && (await ctx.kubo.mfsStat(narPath))?.cid === cid) return;
  // Same name, same bytes: a NAR linked meanwhile by a twin path is simply replaced by itself.
  await ctx.kubo.mfsLink(cid, narPath, { flush: false });
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
