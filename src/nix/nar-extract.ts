import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { readNar } from '../core/nar';
import { writeNewFile } from './disk';

type NarEntries = ReturnType<typeof readNar>;

/** Why the file system refused an entry, in words; the rest keep the system's own message. */
const REFUSALS: Record<string, string> = {
  ENAMETOOLONG: 'its path is longer than this file system allows',
  ENOSPC: 'no space left on device',
  EDQUOT: 'the disk quota is used up',
  EMLINK: 'its directory holds more entries than this file system allows',
};

/** The file system refused to hold a NAR entry; the message names the entry briefly and says why. */
export class NarExtractError extends Error {
  override name = 'NarExtractError';
  constructor(
    entryPath: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`cannot unpack NAR entry '${shorten(entryPath)}' (${entryPath.length} characters, ${entryPath.split('/').length} levels deep): ${reason}`);
  }
}

/**
 * Writes the entries of a NAR (already validated by core's reader: no `..`, no `/` in names,
 * sorted, bounded) below `destination`, which must not exist yet.
 */
export async function extractNar(entries: NarEntries, destination: string): Promise<void> {
  const root = path.resolve(destination);
  for await (const entry of entries) {
    const target = entry.path === '' ? root : path.join(root, ...entry.path.split('/'));
    if (target !== root && !target.startsWith(root + path.sep)) throw new Error(`NAR entry '${shorten(entry.path)}' escapes ${root}`);
    try {
      if (entry.type === 'directory') await mkdir(target);
      else if (entry.type === 'symlink') await symlink(entry.target!, target);
      else await writeNewFile(target, entry.contents ?? [], { mode: entry.executable ? 0o755 : 0o644 });
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      if (!code) throw error;
      // The system's message repeats the whole path, which a hostile NAR can make kilobytes long.
      const [firstClause = message] = message.split(',');
      throw new NarExtractError(entry.path, code, REFUSALS[code] ?? firstClause);
    }
  }
}

/** The start and end of a long path: enough to recognise it, short enough to read. */
function shorten(entryPath: string): string {
  return entryPath.length <= 120 ? entryPath : `${entryPath.slice(0, 60)}…${entryPath.slice(-50)}`;
}
