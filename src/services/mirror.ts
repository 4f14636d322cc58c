import { parseHash, type NixHash } from '../core/hash';
import type { KuboApi } from './context';
import type { Layout } from './layout';

/** What nix-ipfs remembers about a mirrored source (the JSON sidecar in `<root>/mirror/meta/`). */
export interface MirrorRecord {
  /** The source's hash as SRI. */
  hash: string;
  /** CID of the file (flat) or of its NAR (recursive). */
  cid: string;
  mode: 'flat' | 'recursive';
  name?: string;
  urls: string[];
  size: number;
  /** The fixed-output store path the source has in Nix. */
  storePath?: string;
  addedAt: string;
}

export async function lookupMirror(kubo: KuboApi, layout: Layout, hash: NixHash): Promise<MirrorRecord | undefined> {
  const bytes = await kubo.mfsRead(layout.mirrorMeta(hash));
  return bytes ? parseRecord(bytes) : undefined;
}

export async function recordMirror(kubo: KuboApi, layout: Layout, hash: NixHash, record: MirrorRecord): Promise<void> {
  await kubo.mfsWrite(layout.mirrorMeta(hash), new TextEncoder().encode(JSON.stringify(record, null, 2) + '\n'));
}

/** Every mirrored source, for the sidebar and `status`. */
export async function listMirrored(kubo: KuboApi, layout: Layout): Promise<MirrorRecord[]> {
  const entries = await kubo.mfsList(layout.mirrorMetaDir);
  const records = await Promise.all(
    entries
      .filter((e) => e.name.endsWith('.json'))
      .map(async (e) => {
        const bytes = await kubo.mfsRead(`${layout.mirrorMetaDir}/${e.name}`);
        return bytes ? parseRecord(bytes) : undefined;
      }),
  );
  return records.filter((r): r is MirrorRecord => r !== undefined);
}

/** Removes a source from the mirror and unpins it. */
export async function removeMirror(kubo: KuboApi, layout: Layout, record: MirrorRecord): Promise<void> {
  const hash = parseHash(record.hash).hash;
  await kubo.mfsRemove(layout.mirrorFile(hash));
  await kubo.mfsRemove(layout.mirrorMeta(hash));
  if (await kubo.isPinned(record.cid)) await kubo.unpin(record.cid);
}

function parseRecord(bytes: Uint8Array): MirrorRecord | undefined {
  try {
    const record = JSON.parse(new TextDecoder().decode(bytes)) as MirrorRecord;
    return typeof record.hash === 'string' && typeof record.cid === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}
