import { createWriteStream } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { readNar } from '../core/nar';

type NarEntries = ReturnType<typeof readNar>;

/**
 * Writes the entries of a NAR (already validated by core's reader: no `..`, no `/` in names,
 * sorted, bounded) below `destination`, which must not exist yet.
 */
export async function extractNar(entries: NarEntries, destination: string): Promise<void> {
  const root = path.resolve(destination);
  for await (const entry of entries) {
    const target = entry.path === '' ? root : path.join(root, ...entry.path.split('/'));
    if (target !== root && !target.startsWith(root + path.sep)) throw new Error(`NAR entry '${entry.path}' escapes ${root}`);
    if (entry.type === 'directory') {
      await mkdir(target);
    } else if (entry.type === 'symlink') {
      await symlink(entry.target!, target);
    } else {
      await pipeline(Readable.from(entry.contents ?? []), createWriteStream(target, { flags: 'wx', mode: entry.executable ? 0o755 : 0o644 }));
    }
  }
}
