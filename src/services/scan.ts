import { readFileSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { cidForFlatHash } from '../core/cid';
import { parseHash } from '../core/hash';
import { hashProblemOfText, hashProblemText, mayHaveFetchers, scanFetchers, type Fetcher, type HashMode } from '../core/fetchers/extract';
import { expandMirrorUrl } from '../core/mirrors';
import { redactSecrets } from '../core/redact';
import type { Worker } from 'node:worker_threads';
import { parseWorkersAvailable, startParseWorker } from './parse-pool';

/** One hash found by a workspace scan (the shape of `nix-ipfs scan --json`). */
export interface ScanRecord {
  file: string;
  /** 1-based line of the hash. */
  line: number;
  /** The fetcher that reads it, the function it is passed to, or `unknown` (see Fetcher.fetcher). */
  fetcher: string;
  /** The URLs as written (`mirror://…` kept); then `dynamic` (once) when the text names one it does not fix. */
  urls: string[];
  /** `urls` with each `mirror://` URL replaced by the mirrors nixpkgs tries, in order; only when there is one. */
  expandedUrls?: string[];
  hashAttr: string;
  hash: string;
  sri?: string;
  mode: HashMode;
  /** The raw-block CID, for flat sha256/sha512 hashes: never when the mode is not known to be flat. */
  cid?: string;
  name?: string;
  placeholder: boolean;
  hashError?: string;
  /** The function in this file the hash passes through (a wrapper's name, `map`, `gemset`). */
  via?: string;
  /** Why the fetcher or the mode is unknown. */
  why?: string;
}

const ALWAYS_SKIPPED = new Set(['.git', 'node_modules', '.direnv', 'result']);

/** What a scan record's `urls` hold for a URL the text does not fix (kept for the JSON's readers). */
const DYNAMIC_URL = 'dynamic';

/** The record of a fetcher: the one place a `Fetcher` becomes JSON (for `--json`, the workers and the protocol). */
function toScanRecord(file: string, line: number, fetcher: Fetcher): ScanRecord {
  const cid = fetcher.nixHash && fetcher.mode === 'flat' ? cidForFlatHash(fetcher.nixHash) : undefined;
  const urls = fetcher.dynamicUrl ? [...fetcher.urls, DYNAMIC_URL] : fetcher.urls;
  const mirrored = urls.some((url) => url.startsWith('mirror://'));
  return {
    file,
    line,
    fetcher: fetcher.fetcher,
    urls,
    expandedUrls: mirrored ? urls.flatMap(expandMirrorUrl) : undefined,
    hashAttr: fetcher.hashAttr,
    hash: fetcher.hash,
    sri: fetcher.nixHash?.toSri(),
    mode: fetcher.mode,
    cid,
    name: fetcher.name,
    placeholder: fetcher.placeholder,
    hashError: fetcher.hashProblem && hashProblemText(fetcher.hashProblem),
    via: fetcher.via,
    why: fetcher.why,
  };
}

/** A scan record's typed values back (the inverse of `toScanRecord` for what the record keeps). */
export function scanRecordFetcher(r: ScanRecord): Pick<Fetcher, 'urls' | 'dynamicUrl' | 'nixHash' | 'hashProblem' | 'mode' | 'name' | 'placeholder'> {
  return {
    urls: r.urls.filter((url) => url !== DYNAMIC_URL),
    dynamicUrl: r.urls.includes(DYNAMIC_URL),
    nixHash: r.sri === undefined ? undefined : parseHash(r.sri).hash,
    hashProblem: r.hashError === undefined ? undefined : hashProblemOfText(r.hashError),
    mode: r.mode,
    name: r.name,
    placeholder: r.placeholder,
  };
}

/**
 * Records as `nix-ipfs scan --json` prints them: each as `JSON.stringify(record, null, 2)`, indented
 * as an item of the array, separated by `,\n`; URLs' user-info redacted. Made where the records are,
 * so a worker thread sends text, not objects, and the main thread only writes it.
 */
export function scanRecordsJson(records: ScanRecord[]): string {
  if (records.length === 0) return '';
  // The items of the array's own pretty form: without its `[\n` and `\n]`.
  const items = JSON.stringify(records, null, 2).slice(2, -2);
  return items.includes('@') ? redactSecrets(items) : items;
}

/** Every hash in one .nix file's text. */
export function scanText(file: string, text: string): ScanRecord[] {
  if (!mayHaveFetchers(text)) return [];
  const lineOf = lineCounter(text);
  return scanFetchers(text).map((f) => toScanRecord(file, lineOf(f.hashFrom), f));
}

/** The line of each offset, asked in increasing order (fetchers come sorted by position): one pass over the text. */
export function lineCounter(text: string): (offset: number) => number {
  let line = 1;
  let at = 0;
  return (offset) => {
    for (let i = text.indexOf('\n', at); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
      line++;
      at = i + 1;
    }
    return line;
  };
}

export interface ScanOptions {
  onStart?: (files: number, threads: number) => void;
  onProgress?: (files: number, fetchers: number) => void;
  signal?: AbortSignal;
}

/** What a scan found, for its summary. */
export interface ScanCounts {
  hashes: number;
  /** Hashes whose mode is unknown. */
  unknown: number;
}

/** One file's share of a scan: its records, or (for `--json`) their text and counts. */
export type FileScan = { records: ScanRecord[] } | ({ json: string | Uint8Array } & ScanCounts);

function fileScan(file: string, text: string, asJson: boolean): FileScan {
  const records = scanText(file, text);
  return asJson ? { json: scanRecordsJson(records), hashes: records.length, unknown: records.filter((r) => r.mode === 'unknown').length } : { records };
}

/**
 * Every hash in every .nix file below `target` (or in `target` itself, when it is a file),
 * honouring each directory's .gitignore. Files are parsed on worker threads, one per core.
 */
export async function scanWorkspace(target: string, options: ScanOptions = {}): Promise<ScanRecord[]> {
  const perFile = await scanTarget(target, false, options, () => undefined);
  return perFile.flatMap((scanned) => ('records' in scanned ? scanned.records : []));
}

/**
 * `scanWorkspace` for `--json`: writes the records as JSON text (see `scanRecordsJson`), file by
 * file in the order of the result, made on the worker threads; returns the counts.
 */
export async function scanWorkspaceJson(target: string, write: (json: string | Uint8Array) => void, options: ScanOptions = {}): Promise<ScanCounts> {
  const counts = { hashes: 0, unknown: 0 };
  await scanTarget(target, true, options, (scanned) => {
    if (!('json' in scanned)) return;
    counts.hashes += scanned.hashes;
    counts.unknown += scanned.unknown;
    if (scanned.json.length > 0) write(scanned.json);
  });
  return counts;
}

/** Each file's scan, in order; `onInOrder` has each as soon as every file before it is done (the JSON streams so). */
async function scanTarget(target: string, asJson: boolean, options: ScanOptions, onInOrder: (scanned: FileScan) => void): Promise<FileScan[]> {
  const info = await stat(target);
  if (info.isFile()) {
    options.onStart?.(1, 1);
    const scanned = fileScan(target, await readFile(target, 'utf8'), asJson);
    onInOrder(scanned);
    return [scanned];
  }
  const files = await nixFilesBelow(target, options.signal);
  let done = 0;
  let fetchers = 0;
  // Workers finish out of order: hold a file's records until every file before it is out.
  const finished = new Map<number, FileScan>();
  let next = 0;
  return scanFiles(files, asJson, options, (index, scanned) => {
    options.onProgress?.(++done, (fetchers += 'records' in scanned ? scanned.records.length : scanned.hashes));
    finished.set(index, scanned);
    for (; finished.has(next); next++) {
      onInOrder(finished.get(next)!);
      finished.delete(next);
    }
  });
}

/** The .nix files below a directory, in a stable order, without what .gitignore files exclude. */
export async function nixFilesBelow(target: string, signal?: AbortSignal): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string, rules: { base: string; ig: Ignore }[]) => {
    signal?.throwIfAborted();
    const entries = await readdir(dir, { withFileTypes: true });
    const gitignore = entries.find((e) => e.name === '.gitignore' && e.isFile());
    const scoped = gitignore ? [...rules, { base: dir, ig: ignore().add(await readFile(path.join(dir, '.gitignore'), 'utf8')) }] : rules;
    const ignored = (full: string, isDir: boolean) =>
      scoped.some(({ base, ig }) => {
        const relative = path.relative(base, full);
        return relative !== '' && ig.ignores(isDir ? `${relative}/` : relative);
      });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!ALWAYS_SKIPPED.has(entry.name) && !ignored(full, true)) await walk(full, scoped);
      } else if (entry.isFile() && entry.name.endsWith('.nix') && !ignored(full, false)) {
        files.push(full);
      }
    }
  };
  await walk(target, []);
  return files;
}

/** Up to this many files, starting a worker (it loads the grammar) costs more than it saves: they are scanned on this thread. */
const MIN_FILES_FOR_WORKERS = 8;
/**
 * Text a worker must have to pay for itself: each one compiles its own hot code (~0.5 s of CPU),
 * so below this a second worker takes as long as one, at twice the CPU (the bench's hand-written tree).
 */
const MIN_BYTES_PER_WORKER = 1 << 20;

/** Batches a worker is sent ahead of the one it works on: it never waits for the main thread to send the next. */
const BATCHES_IN_FLIGHT = 2;
/** Files per message at most: each message costs a worker a fraction of a millisecond, as much as a small file. */
const MAX_BATCH = 16;
/** Bytes per message at most (a bigger file goes alone), so that work is shared out in small parts. */
const MAX_BATCH_BYTES = 256 * 1024;

/** Text per window of the file queue: the results of a window wait for its slowest file, and are held till then. */
const WINDOW_BYTES = 16 << 20;

/**
 * The files in the order the workers take them, a window of some 16 MiB of text at a time in the walk's
 * order (so that what waits to be printed in order stays within about a window): in each, the first
 * worker takes the files from the smallest up, the others from the largest down, until they meet.
 * Small files are written by hand and all go through the grammar, whose warm-up (most of their cost)
 * each worker pays once, so one worker takes them; the big ones are mostly generated sets; and the
 * largest going first leaves none for the end of the window, when one worker would wait.
 */
export class FileQueue {
  /** Each window's file indices, smallest first, and the part of it not taken yet. */
  private readonly windows: { bySize: number[]; low: number; high: number }[] = [];
  private current = 0;

  constructor(
    private readonly sizes: number[],
    private readonly maxFiles: number,
    windowBytes = WINDOW_BYTES,
  ) {
    for (let from = 0; from < sizes.length;) {
      let to = from;
      for (let bytes = 0; to < sizes.length && bytes < windowBytes; to++) bytes += sizes[to]!;
      const bySize = Array.from({ length: to - from }, (_, i) => from + i).sort((a, b) => sizes[a]! - sizes[b]!);
      this.windows.push({ bySize, low: 0, high: bySize.length });
      from = to;
    }
  }

  /** The next batch's indices, from one window; empty when every file is taken. */
  take(fromSmallest: boolean): number[] {
    while (this.current < this.windows.length && this.windows[this.current]!.low >= this.windows[this.current]!.high) this.current++;
    const window = this.windows[this.current];
    const batch: number[] = [];
    for (let bytes = 0; window && window.low < window.high && batch.length < this.maxFiles && bytes < MAX_BATCH_BYTES;) {
      const index = fromSmallest ? window.bySize[window.low++]! : window.bySize[--window.high]!;
      batch.push(index);
      bytes += this.sizes[index]!;
    }
    return batch;
  }
}

async function scanFiles(
  files: string[],
  asJson: boolean,
  { signal, onStart }: { signal?: AbortSignal; onStart?: (files: number, threads: number) => void },
  onFile: (index: number, scanned: FileScan) => void,
): Promise<FileScan[]> {
  const results: FileScan[] = new Array(files.length);
  // From TypeScript sources (the unit tests, the bench's in-process baseline) the scan stays on this thread.
  if (!parseWorkersAvailable || files.length <= MIN_FILES_FOR_WORKERS) {
    onStart?.(files.length, 1);
    for (const [i, file] of files.entries()) {
      signal?.throwIfAborted();
      onFile(i, (results[i] = fileScan(file, await readFile(file, 'utf8'), asJson)));
    }
    return results;
  }
  // A file gone since the walk counts as empty here; its worker then reports it.
  const sizes = await Promise.all(
    files.map((file) =>
      stat(file).then(
        (info) => info.size,
        () => 0,
      ),
    ),
  );
  const bytes = sizes.reduce((sum, size) => sum + size, 0);
  const threads = Math.max(1, Math.min(availableParallelism(), Math.ceil(files.length / MIN_FILES_FOR_WORKERS), Math.floor(bytes / MIN_BYTES_PER_WORKER)));
  onStart?.(files.length, threads);
  const workers = Array.from({ length: threads }, startParseWorker);
  // Some eight batches per worker at least, so that they finish close together.
  const queue = new FileQueue(sizes, Math.max(1, Math.min(MAX_BATCH, Math.floor(files.length / (threads * 8)))));
  try {
    await Promise.all(
      workers.map(async (worker, w) => {
        const failed = new Promise<never>((_, reject) => worker.once('error', reject));
        const aborted = new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
        // Either may settle after this worker's last file, when nobody races it any more.
        failed.catch(() => undefined);
        aborted.catch(() => undefined);
        const sendNext = () => {
          const indices = queue.take(w === 0);
          if (indices.length === 0) return false;
          worker.postMessage({ indices, files: indices.map((i) => files[i]!), asJson } satisfies ScanRequest);
          return true;
        };
        const nextReply = replies(worker);
        let inFlight = 0;
        while (inFlight < BATCHES_IN_FLIGHT && sendNext()) inFlight++;
        for (; inFlight > 0; inFlight--) {
          const reply = await Promise.race([nextReply(), failed, aborted]);
          if ('error' in reply) throw new Error(reply.error);
          for (const [k, index] of reply.indices.entries()) onFile(index, (results[index] = reply.scanned[k]!));
          if (sendNext()) inFlight++;
        }
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

/** A worker's replies in the order they come, none lost while the last one is handled. */
function replies(worker: Worker): () => Promise<ScanReply> {
  const arrived: ScanReply[] = [];
  let waiting: ((reply: ScanReply) => void) | undefined;
  worker.on('message', (reply: ScanReply) => {
    if (waiting) waiting(reply);
    else arrived.push(reply);
    waiting = undefined;
  });
  return () => (arrived.length > 0 ? Promise.resolve(arrived.shift()!) : new Promise((resolve) => (waiting = resolve)));
}

/** What scanWorkspace asks a parse worker: files (at these indices of the result), scanned into records or their JSON text. */
export interface ScanRequest {
  indices: number[];
  files: string[];
  asJson: boolean;
}

/** What parse-worker.ts answers for a batch of files. */
export type ScanReply = { indices: number[]; scanned: FileScan[] } | { error: string };

/** A batch's scans as a worker sends them back. */
export function scanFilesForWorker(request: ScanRequest): { reply: ScanReply; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const scanned: FileScan[] = [];
  for (const file of request.files) {
    try {
      // A worker does one file at a time: reading it synchronously costs less than the promise machinery.
      const scan = fileScan(file, readFileSync(file, 'utf8'), request.asJson);
      if (!('json' in scan) || typeof scan.json !== 'string') {
        scanned.push(scan);
        continue;
      }
      // Sent as bytes: moved to the main thread, not copied, and written to stdout as they are.
      const json = new TextEncoder().encode(scan.json);
      scanned.push({ ...scan, json });
      transfer.push(json.buffer);
    } catch (error) {
      return { reply: { error: `${file}: ${error instanceof Error ? error.message : String(error)}` }, transfer: [] };
    }
  }
  return { reply: { indices: request.indices, scanned }, transfer };
}
