import type { Fetcher } from '../core/fetchers/extract';
import type { LockedInput } from '../core/flake-lock';
import type { NixHash } from '../core/hash';
import { mapLimit } from './concurrency';
import { publishRoot, type ServiceContext } from './context';
import { listMirrored, lookupMirror, removeMirror, type MirrorRecord } from './mirror';
import type { SourceRequest } from './pin';

/**
 * The source a fetcher names (its literal URLs, hash and mode), or undefined when its hash is a
 * placeholder or malformed (nothing to check the bytes against), or the file does not say whether
 * the hash is of the file or of the unpacked tree.
 */
export function sourceRequestOf(fetcher: Pick<Fetcher, 'urls' | 'nixHash' | 'mode' | 'name' | 'flakeInput'>): SourceRequest | undefined {
  if (!fetcher.nixHash || (fetcher.mode !== 'flat' && fetcher.mode !== 'recursive')) return undefined;
  return {
    urls: fetcher.urls,
    hash: fetcher.nixHash,
    mode: fetcher.mode,
    name: fetcher.name,
    ...(fetcher.flakeInput ? { flakeInput: fetcher.flakeInput } : {}),
  };
}

/** Removes a mirrored source (its file, its record, its pin) and republishes the root. */
export async function unpinSource(ctx: ServiceContext, hash: NixHash): Promise<MirrorRecord> {
  const record = await lookupMirror(ctx.kubo, ctx.layout, hash);
  if (!record) throw new Error(`${hash.toSri()} is not in the mirror at ${ctx.layout.mirror}: nothing to unpin`);
  await removeMirror(ctx.kubo, ctx.layout, record);
  await publishRoot(ctx);
  return record;
}

/** Every mirrored source, with whether the node still pins it (for the Mirrored Sources view). */
export async function mirroredSources(ctx: ServiceContext): Promise<{ record: MirrorRecord; pinned: boolean }[]> {
  const records = await listMirrored(ctx.kubo, ctx.layout);
  return mapLimit(records, 8, async (record) => ({ record, pinned: await ctx.kubo.isPinned(record.cid).catch(() => false) }));
}

/** The source a locked flake input is: its tree, recursive, fetched by Nix's fetchTree; undefined when it has a problem. */
export function sourceRequestOfInput(input: LockedInput): SourceRequest | undefined {
  if (!input.narHash) return undefined;
  return { urls: [input.origin], hash: input.narHash, mode: 'recursive', name: input.name, flakeInput: { id: input.id, locked: input.locked } };
}

/** A source in a message: a flake input by its name in the lock and its origin, anything else by its hash. */
export function describeSource(source: SourceRequest): string {
  return source.flakeInput ? `input '${source.flakeInput.id}' (${source.urls[0] ?? source.hash.toSri()})` : source.hash.toSri();
}
