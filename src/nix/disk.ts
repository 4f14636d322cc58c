import { createWriteStream } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';

/**
 * Bytes buffered ahead of the disk. With Node's default 16 KiB, every chunk from Kubo waits for
 * its own write, and undici's fetch then re-copies the bytes piling up in its socket on each read:
 * a 32 MB file took 15 s instead of 0.7 s, growing with the square of the size.
 */
const WRITE_BUFFER_BYTES = 1 << 20;
/** How often a long write asks again how much room is left. */
const RECHECK_EVERY_BYTES = 16 << 20;

/** A write stopped because it would have filled its file system. */
export class DiskSpaceError extends Error {
  override name = 'DiskSpaceError';
}

/** Bytes an unprivileged process may still write on the file system holding `dir`, and its size. */
export async function diskSpace(dir: string): Promise<{ free: number; size: number }> {
  const stats = await statfs(dir);
  return { free: stats.bavail * stats.bsize, size: stats.blocks * stats.bsize };
}

export interface WriteOptions {
  /** File permissions, as for open(2). */
  mode?: number;
  /** Stop with a DiskSpaceError before fewer than this many bytes would be left free. */
  keepFree?: number;
}

/** Writes a stream of chunks into a new file (never overwrites one); returns how many bytes it wrote. */
export async function writeNewFile(file: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: WriteOptions = {}): Promise<number> {
  const out = createWriteStream(file, { flags: 'wx', mode: options.mode, highWaterMark: WRITE_BUFFER_BYTES });
  const failed = once(out, 'error').then(([error]) => Promise.reject(error as Error));
  failed.catch(() => undefined);
  let written = 0;
  let checkedAt = -Infinity;
  try {
    await Promise.race([once(out, 'open'), failed]);
    for await (const chunk of chunks) {
      if (options.keepFree !== undefined && written + chunk.length - checkedAt >= RECHECK_EVERY_BYTES) {
        await ensureRoom(file, RECHECK_EVERY_BYTES + options.keepFree, written);
        checkedAt = written;
      }
      written += chunk.length;
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
    }
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    return written;
  } finally {
    out.destroy();
  }
}

async function ensureRoom(file: string, needed: number, written: number): Promise<void> {
  const { free } = await diskSpace(path.dirname(file));
  if (free < needed) {
    throw new DiskSpaceError(
      `stopped writing ${file} after ${megabytes(written)}: only ${megabytes(free)} left on its file system, and nix-ipfs keeps ${megabytes(needed - RECHECK_EVERY_BYTES)} free`,
    );
  }
}

export const megabytes = (bytes: number) => `${+(bytes / 1048576).toFixed(1)} MB`;
