import { parseNarInfo, type NarInfo } from '../core/narinfo';
import type { Kubo } from '../kubo/client';
import type { Layout } from './layout';
import { mapLimit } from './concurrency';

export interface PublishedEntry extends NarInfo {
  /** CID of the NAR in MFS, when it is there. */
  narCid?: string;
}

/** Every narinfo in the cache, with its NAR's CID (for the sidebar and `status`). */
export async function listPublished(kubo: Kubo, layout: Layout): Promise<PublishedEntry[]> {
  const entries = (await kubo.mfsList(layout.cache)).filter((e) => e.name.endsWith('.narinfo'));
  const infos = await mapLimit(entries, 8, async (entry): Promise<PublishedEntry | undefined> => {
    const bytes = await kubo.mfsRead(`${layout.cache}/${entry.name}`);
    if (!bytes) return undefined;
    try {
      const info = parseNarInfo(new TextDecoder().decode(bytes));
      const nar = await kubo.mfsStat(`${layout.cache}/${info.url}`);
      return { ...info, narCid: nar?.cid };
    } catch {
      return undefined; // a foreign or damaged file: not ours to list
    }
  });
  return infos.filter((i): i is PublishedEntry => i !== undefined).sort((a, b) => a.storePath.localeCompare(b.storePath));
}

/** Removes a path from the cache (narinfo first, so nothing ever names a missing NAR) and unpins its NAR. */
export async function unpublish(kubo: Kubo, layout: Layout, entry: PublishedEntry): Promise<void> {
  const hashPart = entry.storePath.split('/').pop()!.slice(0, 32);
  await kubo.mfsRemove(layout.narinfo(hashPart));
  await kubo.mfsRemove(`${layout.cache}/${entry.url}`);
  if (entry.narCid && (await kubo.isPinned(entry.narCid))) await kubo.unpin(entry.narCid);
}
