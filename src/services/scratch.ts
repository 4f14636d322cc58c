import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diskSpace, DiskSpaceError, megabytes, writeNewFile } from '../nix/disk';
import { onExit } from '../on-exit';

/** The temporary folder's disk is full, or would be: the message says where and what to do. */
export class ScratchFullError extends Error {
  override name = 'ScratchFullError';
}

/** Temporary folders in use right now: removed on every way out, signals included. */
const live = new Set<string>();

function removeLeftovers(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

/**
 * Runs `work` in a fresh temporary folder that is always removed afterwards, also when the
 * process is interrupted (Ctrl-C, SIGTERM). A full disk there becomes an error that says where
 * and what to do (the folder is gone, so nothing is half-left).
 */
export async function withScratchDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  onExit(removeLeftovers);
  const dir = await mkdtemp(path.join(tmpdir(), prefix)).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOSPC' ? diskFull(tmpdir()) : error;
  });
  live.add(dir);
  try {
    return await work(dir);
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === 'ENOSPC' ? diskFull(dir) : error;
  } finally {
    await rm(dir, { recursive: true, force: true });
    live.delete(dir);
  }
}

/** What a write into a temporary folder leaves free for everyone else: 5% of the disk, at most 256 MB. */
async function reserve(dir: string): Promise<{ free: number; keepFree: number }> {
  const { free, size } = await diskSpace(dir);
  return { free, keepFree: Math.min(256 << 20, Math.floor(size / 20)) };
}

/** Refuses up front when `bytes` (what `what` will need) would not fit in the temporary folder. */
export async function ensureScratchRoom(dir: string, bytes: number, what: string): Promise<void> {
  const { free, keepFree } = await reserve(dir);
  if (free < bytes + keepFree) {
    throw new ScratchFullError(
      `not enough space in the temporary folder ${dir} for ${what}: it needs ${megabytes(bytes)} and ${megabytes(free)} is free (nix-ipfs leaves ${megabytes(keepFree)}): free space there or set TMPDIR to a folder with room, then run again (nothing was added)`,
    );
  }
}

/** Streams bytes into a new file in a temporary folder, stopping before the folder's disk would fill up. */
export async function writeScratchFile(file: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const { keepFree } = await reserve(path.dirname(file));
  try {
    return await writeNewFile(file, chunks, { keepFree });
  } catch (error) {
    if (!(error instanceof DiskSpaceError)) throw error;
    throw new ScratchFullError(`${error.message}: free space there or set TMPDIR to a folder with room, then run again (nothing was added)`);
  }
}

function diskFull(dir: string): Error {
  return new ScratchFullError(
    `no space left on device in the temporary folder ${dir}: free space there or set TMPDIR to a folder with room, then run again (nothing was added)`,
  );
}
