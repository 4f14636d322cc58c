import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Where nix-ipfs keeps what must outlive a process (the publish queue, the followed caches):
 * --state-dir, else $XDG_STATE_HOME/nix-ipfs, else ~/.local/state/nix-ipfs.
 */
export function stateDir(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(given || path.join(env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state'), 'nix-ipfs'));
}

/** Writes a file whole and on disk before it takes the name: a crash leaves the old file or the new one. */
export async function writeFileDurably(file: string, text: string, mode = 0o644): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temporary, 'w', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  // The rename itself must reach the disk too, or a power cut could take the file back.
  const folder = await open(path.dirname(file), 'r');
  await folder.sync().finally(() => folder.close());
}

/**
 * Takes a lock file holding this process's id; undefined when a live process holds it. A lock
 * left by a process that died is taken over. Returns the function that releases it.
 */
export async function tryLock(lockFile: string): Promise<(() => Promise<void>) | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx', 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (isAlive(holder)) return undefined;
      await rm(lockFile, { force: true });
    }
  }
  return undefined;
}

/** Waits (a bounded number of short tries) for a lock that others only hold for a moment. */
export async function withLock<T>(lockFile: string, work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const release = await tryLock(lockFile);
    if (release) {
      try {
        return await work();
      } finally {
        await release();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${lockFile} stays locked by another nix-ipfs process: if none runs, remove the file`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
