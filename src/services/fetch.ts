import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cidForFlatHash } from '../core/cid';
import { NixHash } from '../core/hash';
import { NarHasher, readNar } from '../core/nar';
import { parseNarInfo } from '../core/narinfo';
import { makeFixedOutputPath, parseStorePath } from '../core/store-path';
import { extractNar } from '../nix/nar-extract';
import type { ServiceContext } from './context';
import { lookupMirror } from './mirror';
import { withScratchDir } from './scratch';
import { tap } from './streams';

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
    const fetched = recursive ? await fetchTree(ctx, request.hash, storePath, target) : await fetchFile(ctx, request.hash, record?.cid, target);
    const added = await ctx.nix.addFixed(target, { algo: request.hash.algo, recursive });
    if (added !== storePath) throw new Error(`Nix added ${added}, expected ${storePath}`);
    return { storePath, ...fetched };
  });
}

async function fetchFile(ctx: ServiceContext, hash: NixHash, mirroredCid: string | undefined, target: string): Promise<Omit<FetchResult, 'storePath'>> {
  // A file small enough to be one raw block has a CID computable from its hash alone.
  const cid = mirroredCid ?? cidForFlatHash(hash)?.toString();
  if (!cid) throw new Error(`${hash.toSri()} is not in the mirror index at ${ctx.layout.mirror} and has no raw CID (only sha256/sha512 do)`);
  const hasher = createHash(hash.algo);
  await pipeline(Readable.from(tap(ctx.kubo.cat(cid), (c) => hasher.update(c))), createWriteStream(target, { flags: 'wx' }));
  const actual = new NixHash(hash.algo, new Uint8Array(hasher.digest()));
  if (!actual.equals(hash)) {
    throw new Error(`content of ${cid} has hash ${actual.toSri()}, expected ${hash.toSri()}: rejected, nothing was added to the Nix store`);
  }
  return { from: mirroredCid ? 'mirror' : 'raw-cid', cid };
}

async function fetchTree(ctx: ServiceContext, hash: NixHash, storePath: string, target: string): Promise<Omit<FetchResult, 'storePath'>> {
  const { hashPart } = parseStorePath(storePath);
  const text = await ctx.kubo.mfsRead(ctx.layout.narinfo(hashPart));
  if (!text) throw new Error(`${storePath} is not in the binary cache at ${ctx.layout.cache}: pin the source first`);
  const narinfo = parseNarInfo(new TextDecoder().decode(text));
  const nar = await ctx.kubo.mfsStat(`${ctx.layout.cache}/${narinfo.url}`);
  if (!nar) throw new Error(`the narinfo of ${storePath} names ${narinfo.url}, which is missing from ${ctx.layout.cache}`);
  const hasher = new NarHasher();
  await extractNar(readNar(tap(ctx.kubo.cat(nar.cid), (c) => hasher.update(c))), target);
  const { narHash } = hasher.digest();
  if (!narHash.equals(hash)) {
    throw new Error(`NAR ${nar.cid} has hash ${narHash.toSri()}, expected ${hash.toSri()}: rejected, nothing was added to the Nix store`);
  }
  return { from: 'cache', cid: nar.cid };
}
