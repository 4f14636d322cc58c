import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { cidForFlatHash } from '../core/cid';
import { NixHash } from '../core/hash';
import { NarHasher, readNar } from '../core/nar';
import { narHashOf } from '../core/narinfo';
import { makeFixedOutputPath, parseStorePath } from '../core/store-path';
import { megabytes } from '../nix/disk';
import { extractNar, NarExtractError } from '../nix/nar-extract';
import type { ServiceContext } from './context';
import { lookupMirror, type MirrorRecord } from './mirror';
import { locateNarinfo, openNar, readNarInfo } from './narinfo-source';
import { ensureScratchRoom, withScratchDir, writeScratchFile } from './scratch';
import { boundedRead, tap } from './streams';
import { transferBounds } from './transfer';

/** The largest block Kubo exchanges: a file whose CID is its hash (a raw block) is no bigger. */
const MAX_RAW_BLOCK_BYTES = 2 << 20;

export interface FetchRequest {
  hash: NixHash;
  mode: 'flat' | 'recursive';
  /** Store path name; defaults to the name recorded when the source was pinned. */
  name?: string;
}

export interface FetchResult {
  storePath: string;
  /** `store`: it was already valid, nothing was fetched. */
  from: 'store' | 'mirror' | 'raw-cid' | 'cache';
  cid?: string;
}

/**
 * Gets a source from IPFS into the Nix store. The bytes are hashed while they arrive and
 * compared with the expected hash before Nix sees them; Nix then hashes them again.
 */
export async function fetchSource(ctx: ServiceContext, request: FetchRequest): Promise<FetchResult> {
  const record = await lookupMirror(ctx.kubo, ctx.layout, request.hash);
  const name = request.name ?? record?.name ?? 'source';
  const recursive = request.mode === 'recursive';
  const storePath = makeFixedOutputPath({ name, hash: request.hash, recursive });
  if (await ctx.nix.isValid(storePath)) return { storePath, from: 'store' };

  return withScratchDir('nix-ipfs-fetch-', async (work) => {
    const target = path.join(work, name);
    const fetched = recursive ? await fetchTree(ctx, request.hash, storePath, target) : await fetchFile(ctx, request.hash, record, target);
    const added = await ctx.nix.addFixed(target, { algo: request.hash.algo, recursive });
    if (added !== storePath) throw new Error(`Nix added ${added}, expected ${storePath}`);
    return { storePath, ...fetched };
  });
}

async function fetchFile(ctx: ServiceContext, hash: NixHash, record: MirrorRecord | undefined, target: string): Promise<Omit<FetchResult, 'storePath'>> {
  // A file small enough to be one raw block has a CID computable from its hash alone.
  const cid = record?.cid ?? cidForFlatHash(hash);
  if (!cid) throw new Error(`${hash.toSri()} is not in the mirror index at ${ctx.layout.mirror} and has no raw CID (only sha256/sha512 do)`);
  const [maxBytes, limitName] = record ? [record.size, 'the size the mirror index records'] : [MAX_RAW_BLOCK_BYTES, 'the largest raw block'];
  await ensureScratchRoom(path.dirname(target), maxBytes, `${cid} (${megabytes(maxBytes)})`);
  const hasher = createHash(hash.algo);
  const bytes = boundedRead((signal) => ctx.kubo.cat(cid, signal), transferBounds(ctx.kubo.timeoutMs, `the content of ${cid}`, maxBytes, limitName));
  await writeScratchFile(
    target,
    tap(bytes, (c) => hasher.update(c)),
  );
  const actual = new NixHash(hash.algo, new Uint8Array(hasher.digest()));
  if (!actual.equals(hash)) {
    throw new Error(`content of ${cid} has hash ${actual.toSri()}, expected ${hash.toSri()}: rejected, nothing was added to the Nix store`);
  }
  return { from: record ? 'mirror' : 'raw-cid', cid };
}

/**
 * Reads the NAR into the temporary folder, checks it, and only then unpacks it: a NAR that does not
 * match is never unpacked. What the narinfo and the node say about it is checked before any byte is read.
 */
async function fetchTree(ctx: ServiceContext, hash: NixHash, storePath: string, target: string): Promise<Omit<FetchResult, 'storePath'>> {
  if (hash.algo !== 'sha256') throw new Error(`only sha256 recursive hashes can be fetched (the cache knows NARs by sha256), not ${hash.algo}`);
  const { hashPart } = parseStorePath(storePath);
  const cacheCid = (await ctx.kubo.mfsStat(ctx.layout.narinfo(hashPart))) && (await ctx.kubo.mfsStat(ctx.layout.cache))?.cid;
  if (!cacheCid) throw new Error(`${storePath} is not in the binary cache at ${ctx.layout.cache}: pin the source first`);
  const from = await locateNarinfo(ctx, `/ipfs/${cacheCid}/${hashPart}.narinfo`);
  const narinfo = await readNarInfo(ctx, from);
  const nar = await ctx.kubo.mfsStat(`/ipfs/${cacheCid}/${narinfo.url}`);
  const rejected = (why: string) => new Error(`${from.source} ${why}: rejected before unpacking, nothing was added to the Nix store`);
  if (narinfo.storePath !== storePath) throw rejected(`describes ${narinfo.storePath}, not ${storePath}`);
  if (!narHashOf(narinfo).equals(hash)) throw rejected(`says NarHash ${narinfo.narHash}, expected ${hash.toSri()}`);
  if (!nar) throw new Error(`the narinfo of ${storePath} names ${narinfo.url}, which is missing from ${ctx.layout.cache}`);
  if (nar.size !== narinfo.narSize) throw rejected(`says NarSize ${narinfo.narSize}, but ${narinfo.url} holds ${nar.size} bytes`);
  // The NAR, then the tree unpacked from it.
  await ensureScratchRoom(path.dirname(target), 2 * narinfo.narSize, `the NAR of ${storePath} and its unpacked files`);
  const narFile = `${target}.nar`;
  const hasher = new NarHasher();
  await writeScratchFile(
    narFile,
    tap(await openNar(ctx, from, narinfo), (c) => hasher.update(c)),
  );
  const { narHash } = hasher.digest();
  if (!narHash.equals(hash)) throw rejected(`names NAR ${nar.cid}, which has hash ${narHash.toSri()}, not ${hash.toSri()}`);
  await unpack(narFile, storePath, target);
  return { from: 'cache', cid: nar.cid };
}

/** Unpacks a checked NAR file; a tree this file system cannot hold is named without its kilobytes of path. */
async function unpack(narFile: string, storePath: string, target: string): Promise<void> {
  const stream = createReadStream(narFile, { highWaterMark: 1 << 20 });
  try {
    await extractNar(readNar(stream), target);
  } catch (error) {
    if (!(error instanceof NarExtractError) || error.code === 'ENOSPC') throw error;
    throw new Error(`${storePath} cannot be stored on this machine: ${error.message}. Nothing was added to the Nix store`, { cause: error });
  } finally {
    stream.destroy();
  }
}
