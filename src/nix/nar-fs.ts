import { createReadStream, readFileSync } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { NarNode } from '../core/nar';

/** Up to this size a file is read in one call: a stream per small file costs ~10× more (publishing many paths). */
const READ_AT_ONCE = 256 * 1024;

/** A file or directory on disk as a NAR tree (read lazily, directories sorted bytewise like Nix). */
export async function narNodeFromPath(fsPath: string): Promise<NarNode> {
  const info = await lstat(fsPath);
  if (info.isSymbolicLink()) return { type: 'symlink', target: await readlink(fsPath) };
  if (info.isFile()) {
    return {
      type: 'regular',
      executable: (info.mode & 0o100) !== 0,
      size: info.size,
      contents:
        info.size <= READ_AT_ONCE
          ? async function* () {
              yield readFileSync(fsPath);
            }
          : () => createReadStream(fsPath) as AsyncIterable<Uint8Array>,
    };
  }
  if (info.isDirectory()) {
    return {
      type: 'directory',
      async *entries() {
        const names = (await readdir(fsPath)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        for (const name of names) yield [name, await narNodeFromPath(path.join(fsPath, name))] as [string, NarNode];
      },
    };
  }
  throw new Error(`${fsPath} is neither a file, a directory nor a symlink: NAR cannot hold it`);
}
