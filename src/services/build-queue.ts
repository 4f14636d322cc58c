import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SecretKey } from '../core/signature';
import type { ServiceContext } from './context';
import { publish } from './publish';
import { tryLock, writeFileDurably } from './state-files';

/**
 * The publish queue: one small file per finished build, naming its output paths. Nix's
 * post-build-hook only adds a file (a build never waits for Kubo); a worker publishes them in
 * batches and removes a file only once its paths are published, so nothing is lost while Kubo
 * or the worker is down.
 */
export function queueDir(stateDir: string): string {
  return path.join(stateDir, 'publish-queue');
}

/** `<milliseconds>-<pid>-<sequence in that process>-<random>.paths`: sorted by the numbers, the oldest comes first. */
const ENTRY = /^(\d+)-(\d+)-(\d+)-[0-9a-f]+\.paths$/;
let sequence = 0;

/** Queues the paths of one build (Nix's OUT_PATHS), durably, and returns the entry's file. */
export async function enqueue(queue: string, storePaths: string[]): Promise<string> {
  const bad = storePaths.find((p) => !/^\/nix\/store\/[0-9a-z]{32}-[^/]+$/.test(p));
  if (bad !== undefined) throw new Error(`'${bad}' is not a store path: OUT_PATHS must hold the store paths Nix just built`);
  await mkdir(queue, { recursive: true });
  const file = path.join(queue, `${Date.now()}-${process.pid}-${sequence++}-${randomBytes(4).toString('hex')}.paths`);
  await writeFileDurably(file, storePaths.join('\n') + '\n');
  return file;
}

/**
 * The output paths a .drv file names (`Derive([("out","/nix/store/…","",""),…],…)`). Nix 2.8.0
 * runs the post-build-hook with OUT_PATHS empty (NixOS/nix#6446) but DRV_PATH set; the .drv is
 * a small file already on disk, so reading it keeps the hook instant.
 */
export function derivationOutputs(drvText: string): string[] {
  const outputs = /^Derive\(\[((?:\("(?:[^"\\]|\\.)*","(?:[^"\\]|\\.)*","(?:[^"\\]|\\.)*","(?:[^"\\]|\\.)*"\),?)*)\]/.exec(drvText);
  if (!outputs) throw new Error('not a derivation (.drv) file');
  const [, list = ''] = outputs;
  return [...list.matchAll(/\("[^"]*","([^"]*)"/g)].map(([, out = '']) => out).filter((p) => p !== '');
}

/** The queued entries, oldest first. */
export async function pendingEntries(queue: string): Promise<string[]> {
  const names = await readdir(queue).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const order = (name: string): [number, number, number] => {
    const [, time = '', pid = '', sequence = ''] = ENTRY.exec(name)!; // only names ENTRY matches are sorted
    return [Number(time), Number(pid), Number(sequence)];
  };
  return names
    .filter((name) => ENTRY.test(name))
    .sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
}

export interface DrainResult {
  /** Another worker is draining: this one did nothing. */
  busy: boolean;
  batches: number;
  /** Store paths published or found published, closures included. */
  published: number;
  /** Queued paths Nix no longer has (garbage-collected): nothing to publish. */
  gone: string[];
  /** Paths that failed; their entries stay queued for the next drain. */
  failed: { storePath: string; error: string }[];
  /** Entries still queued after this drain. */
  left: number;
}

export interface DrainOptions {
  secretKey?: SecretKey;
  /** Queued builds published together: one closure walk and one IPNS update per batch. */
  batchSize?: number;
  onBatch?: (event: { entries: number; paths: number; published: number }) => void;
}

/**
 * Publishes the queue in batches, oldest first, one worker at a time. When Kubo cannot be
 * reached the error goes up and every entry not yet published stays for the next drain.
 */
export async function drainQueue(ctx: ServiceContext, queue: string, options: DrainOptions = {}): Promise<DrainResult> {
  const result: DrainResult = { busy: false, batches: 0, published: 0, gone: [], failed: [], left: 0 };
  await mkdir(queue, { recursive: true });
  const release = await tryLock(path.join(queue, '.drain.lock'));
  if (!release) return { ...result, busy: true, left: (await pendingEntries(queue)).length };
  try {
    const tried = new Set<string>();
    for (;;) {
      const batch = (await pendingEntries(queue)).filter((name) => !tried.has(name)).slice(0, options.batchSize ?? 64);
      if (batch.length === 0) break;
      batch.forEach((name) => tried.add(name));
      await publishBatch(ctx, queue, batch, options, result);
      result.batches++;
    }
    result.left = (await pendingEntries(queue)).length;
    return result;
  } finally {
    await release();
  }
}

async function publishBatch(ctx: ServiceContext, queue: string, batch: string[], options: DrainOptions, result: DrainResult): Promise<void> {
  const queued = new Set<string>();
  for (const name of batch) {
    for (const line of (await readFile(path.join(queue, name), 'utf8')).split('\n')) if (line.trim()) queued.add(line.trim());
  }
  const present: string[] = [];
  for (const storePath of queued) ((await ctx.nix.isValid(storePath)) ? present : result.gone).push(storePath);
  let published = 0;
  if (present.length > 0) {
    const outcome = await publish(ctx, present, { secretKey: options.secretKey });
    published = outcome.paths.length;
    result.published += published;
    if (outcome.failed.length > 0) {
      result.failed.push(...outcome.failed);
      options.onBatch?.({ entries: batch.length, paths: present.length, published });
      return;
    }
  }
  await Promise.all(batch.map((name) => rm(path.join(queue, name), { force: true })));
  options.onBatch?.({ entries: batch.length, paths: present.length, published });
}
