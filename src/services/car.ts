import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { parseNarInfo } from '../core/narinfo';
import { parseStorePath, parseStorePathBaseName } from '../core/store-path';
import type { TeamContext } from './network';

export interface ExportResult {
  file: string;
  /** The root of the exported DAG: `import` pins it, Nix reads `/ipfs/<root>/cache`. */
  rootCid: string;
  /** The store paths whose narinfo and NAR the CAR holds; all of them for `--all`. */
  storePaths?: string[];
  bytes: number;
}

/**
 * Writes a CAR file (Kubo's `dag export`) for a machine without network: the whole published
 * root, or only the closures of some store paths taken from its cache (their narinfos, still
 * signed, and NARs, in the same `cache/` layout). Only blocks this node holds are exported.
 */
export async function exportCar(ctx: TeamContext, sourceRoot: string, storePaths: string[] | undefined, file: string): Promise<ExportResult> {
  if (!storePaths) return { ...(await writeCar(ctx, sourceRoot, file)), rootCid: sourceRoot };
  const cache = await cacheFolder(ctx, sourceRoot);
  const closure = await closureInCache(ctx, cache, storePaths);
  const scratch = `/.nix-ipfs-export-${randomBytes(6).toString('hex')}`;
  try {
    await linkFrom(ctx, `${cache}/nix-cache-info`, `${scratch}/cache/nix-cache-info`);
    for (const [hashPart, { narUrl }] of closure) {
      await linkFrom(ctx, `${cache}/${hashPart}.narinfo`, `${scratch}/cache/${hashPart}.narinfo`);
      await linkFrom(ctx, `${cache}/${narUrl}`, `${scratch}/cache/${narUrl}`);
    }
    await ctx.kubo.mfsFlush(scratch);
    const rootCid = (await ctx.kubo.mfsStat(scratch))!.cid;
    const written = await writeCar(ctx, rootCid, file);
    return { ...written, rootCid, storePaths: [...closure.values()].map((entry) => entry.storePath).sort() };
  } finally {
    await ctx.kubo.mfsRemove(scratch).catch(() => undefined);
  }
}

/** The cache inside a root: nix-ipfs publishes it in `cache/`; a bare binary cache is its own root. */
async function cacheFolder(ctx: TeamContext, rootCid: string): Promise<string> {
  for (const folder of [`/ipfs/${rootCid}/cache`, `/ipfs/${rootCid}`]) {
    if (await ctx.kubo.mfsStat(`${folder}/nix-cache-info`)) return folder;
  }
  throw new Error(`${rootCid} holds no Nix binary cache (no nix-cache-info in it or in its cache/ folder)`);
}

/** Every path of the closures, by hash part, read from the cache's own narinfos: the paths need not be in this machine's Nix store. */
async function closureInCache(ctx: TeamContext, cache: string, storePaths: string[]): Promise<Map<string, { storePath: string; narUrl: string }>> {
  const found = new Map<string, { storePath: string; narUrl: string }>();
  const pending = storePaths.map((p) => ({ path: parseStorePath(p), referrer: undefined as string | undefined }));
  while (pending.length > 0) {
    const { path, referrer } = pending.pop()!;
    if (found.has(path.hashPart)) continue;
    const text = await readNarInfo(ctx, `${cache}/${path.hashPart}.narinfo`);
    if (text === undefined) {
      const what = referrer ? `${path.path}, which ${referrer} refers to,` : path.path;
      throw new Error(`${what} is not in the cache ${cache}: publish it there first (a closure is only useful whole)`);
    }
    const narinfo = parseNarInfo(text);
    found.set(path.hashPart, { storePath: narinfo.storePath, narUrl: narinfo.url });
    for (const reference of narinfo.references) pending.push({ path: parseStorePathBaseName(reference), referrer: narinfo.storePath });
  }
  return found;
}

/** A narinfo is a few lines; more than this is no narinfo. */
const MAX_NARINFO_BYTES = 1 << 20;

async function readNarInfo(ctx: TeamContext, ipfsPath: string): Promise<string | undefined> {
  if (!(await ctx.kubo.mfsStat(ipfsPath))) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of ctx.kubo.cat(ipfsPath)) {
    size += chunk.length;
    if (size > MAX_NARINFO_BYTES) throw new Error(`${ipfsPath} is larger than a narinfo can be (1 MiB)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function linkFrom(ctx: TeamContext, source: string, target: string): Promise<void> {
  const stat = await ctx.kubo.mfsStat(source);
  if (!stat) throw new Error(`${source} is missing from the cache`);
  await ctx.kubo.mfsLink(stat.cid, target, { flush: false });
}

/** Streams `dag export` into the file: a temporary name first, so a failed export leaves no CAR behind. */
async function writeCar(ctx: TeamContext, rootCid: string, file: string): Promise<{ file: string; bytes: number }> {
  const temporary = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(temporary, { mode: 0o644 });
  let bytes = 0;
  try {
    for await (const chunk of ctx.kubo.dagExport(rootCid)) {
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    await rename(temporary, file);
    return { file, bytes };
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    if (/not found locally|offline/i.test((error as Error).message)) {
      throw new Error(
        `this node does not hold all of ${rootCid}, so the CAR would be incomplete: pin it first ('nix-ipfs follow' or 'nix-ipfs replicate'), then export again`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** A root the CAR brought, pinned, and where Nix finds its cache. */
export interface ImportedRoot {
  cid: string;
  /** `/ipfs/<root>/cache` (or the root itself when it is a bare cache); undefined when it holds none. */
  cachePath?: string;
}

/** Imports a CAR file made by `exportCar` (or any `dag export`) and pins its roots. */
export async function importCar(ctx: TeamContext, file: string): Promise<ImportedRoot[]> {
  const roots = await ctx.kubo.dagImport(createReadStream(file) as AsyncIterable<Uint8Array>).catch((error: Error) => {
    if (!/import failed|car|EOF/i.test(error.message)) throw error;
    throw new Error(`${file} is not a whole CAR file (${error.message}): copy it again, or export it again with 'nix-ipfs export'`);
  });
  if (roots.length === 0) throw new Error(`${file} names no root: it is not a CAR file from 'nix-ipfs export' or 'ipfs dag export'`);
  const failed = roots.find((r) => r.pinError);
  if (failed) throw new Error(`${file} is incomplete or damaged: Kubo could not pin ${failed.cid} (${failed.pinError}); export it again`);
  return Promise.all(roots.map(async ({ cid }) => ({ cid, cachePath: await cacheFolder(ctx, cid).catch(() => undefined) })));
}
