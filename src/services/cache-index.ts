import { parseNarInfo, type NarInfo } from '../core/narinfo';
import { parseStorePath } from '../core/store-path';
import type { Layout } from './layout';
import { mapLimit } from './concurrency';
import { publishRoot, type KuboApi, type ServiceContext } from './context';

export interface PublishedEntry extends NarInfo {
  /** CID of the NAR in MFS, when it is there. */
  narCid?: string;
}

/** Every narinfo in the cache, with its NAR's CID (for the sidebar and `status`): one read per narinfo. */
export async function listPublished(kubo: KuboApi, layout: Layout): Promise<PublishedEntry[]> {
  const [entries, nars] = await Promise.all([kubo.mfsList(layout.cache), kubo.mfsList(`${layout.cache}/nar`)]);
  const narCids = new Map(nars.map((nar) => [`nar/${nar.name}`, nar.cid]));
  const narinfos = entries.filter((e) => e.name.endsWith('.narinfo'));
  const infos = await mapLimit(narinfos, 8, (entry) => readEntry(kubo, layout, `${layout.cache}/${entry.name}`, narCids));
  return infos.filter((i): i is PublishedEntry => i !== undefined).sort((a, b) => a.storePath.localeCompare(b.storePath));
}

/** A narinfo and its NAR's CID, from `narCids` (URL → CID) when listed there. */
async function readEntry(kubo: KuboApi, layout: Layout, narinfoPath: string, narCids = new Map<string, string>()): Promise<PublishedEntry | undefined> {
  const bytes = await kubo.mfsRead(narinfoPath);
  if (!bytes) return undefined;
  try {
    const info = parseNarInfo(new TextDecoder().decode(bytes));
    const narCid = narCids.get(info.url) ?? (await kubo.mfsStat(`${layout.cache}/${info.url}`))?.cid;
    return { ...info, narCid };
  } catch {
    return undefined; // a foreign or damaged file: not ours to list
  }
}

/** Removes a store path from the published cache and republishes the root; returns what it was. */
export async function unpublishPath(ctx: ServiceContext, storePath: string): Promise<PublishedEntry> {
  const entry = await readEntry(ctx.kubo, ctx.layout, ctx.layout.narinfo(parseStorePath(storePath).hashPart));
  if (!entry) throw new Error(`${storePath} is not published in ${ctx.layout.cache}: nothing to unpublish`);
  await unpublish(ctx.kubo, ctx.layout, entry);
  await publishRoot(ctx);
  return entry;
}

/** Removes a path from the cache (narinfo first, so nothing ever names a missing NAR) and unpins its NAR. */
async function unpublish(kubo: KuboApi, layout: Layout, entry: PublishedEntry): Promise<void> {
  await kubo.mfsRemove(layout.narinfo(parseStorePath(entry.storePath).hashPart));
  await kubo.mfsRemove(`${layout.cache}/${entry.url}`);
  if (entry.narCid && (await kubo.isPinned(entry.narCid))) await kubo.unpin(entry.narCid);
}
