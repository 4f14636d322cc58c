import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Runs `work` in a fresh temporary folder that is always removed afterwards. A full disk there
 * becomes an error that says where and what to do (the folder is gone, so nothing is half-left).
 */
export async function withScratchDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix)).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOSPC' ? diskFull(tmpdir()) : error;
  });
  try {
    return await work(dir);
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === 'ENOSPC' ? diskFull(dir) : error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function diskFull(dir: string): Error {
  return new Error(`no space left on device in the temporary folder ${dir}: free space there or set TMPDIR to a folder with room, then run again (nothing was added)`);
}
