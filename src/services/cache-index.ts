import { parseNarInfo, type NarInfo } from '../core/narinfo';
import { parseStorePath } from '../core/store-path';
import type { Layout } from './layout';
import { mapLimit } from './concurrency';
import { publishRoot, type KuboApi, type ServiceContext } from './context';

export interface PublishedEntry extends NarInfo {
  /** CID of the NAR in MFS, when it is there. */
  narCid?: string;
}

/** Every narinfo in the cache, with its NAR's CID (for the sidebar and `status`). */
export async function listPublished(kubo: KuboApi, layout: Layout): Promise<PublishedEntry[]> {
  const entries = (await kubo.mfsList(layout.cache)).filter((e) => e.name.endsWith('.narinfo'));
  const infos = await mapLimit(entries, 8, (entry) => readEntry(kubo, layout, `${layout.cache}/${entry.name}`));
  return infos.filter((i): i is PublishedEntry => i !== undefined).sort((a, b) => a.storePath.localeCompare(b.storePath));
}

async function readEntry(kubo: KuboApi, layout: Layout, narinfoPath: string): Promise<PublishedEntry | undefined> {
  const bytes = await kubo.mfsRead(narinfoPath);
  if (!bytes) return undefined;
  try {
    const info = parseNarInfo(new TextDecoder().decode(bytes));
    const nar = await kubo.mfsStat(`${layout.cache}/${info.url}`);
    return { ...info, narCid: nar?.cid };
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
