import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { NarNode } from '../core/nar';

/** A file or directory on disk as a NAR tree (read lazily, directories sorted bytewise like Nix). */
export async function narNodeFromPath(fsPath: string): Promise<NarNode> {
  const info = await lstat(fsPath);
  if (info.isSymbolicLink()) return { type: 'symlink', target: await readlink(fsPath) };
  if (info.isFile()) {
    return {
      type: 'regular',
      executable: (info.mode & 0o100) !== 0,
      size: info.size,
      contents: () => createReadStream(fsPath) as AsyncIterable<Uint8Array>,
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
