import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { assembleChunks, proposeChunks, type ChunkedNix, type ChunkPlan } from '../core/fetchers/chunks';
import type { Fetcher } from '../core/fetchers/extract';
import { NixHash } from '../core/hash';

/** What the language server asks a parse worker: these chunks of this text. */
export interface ChunkRequest {
  id: number;
  text: string;
  indices: number[];
}

export interface ChunkReply {
  id: number;
  /** The split, as the worker worked it out; absent when it does not hold. */
  plan?: ChunkPlan;
  /** By index asked; undefined where the grammar rejected the split. */
  chunks: (Fetcher[] | undefined)[];
}

/** A reply with its fetchers' hashes `NixHash`es again (a message between threads keeps their fields, not their class). */
function withHashes(reply: ChunkReply): ChunkReply {
  for (const chunk of reply.chunks) {
    for (const f of chunk ?? []) if (f.nixHash) f.nixHash = new NixHash(f.nixHash.algo, f.nixHash.digest);
  }
  return reply;
}

/** A generated set big enough to be split, in the shapes of nixpkgs' plugin and package lists; made when a pool starts (~10 ms, which every start of the CLI paid as a constant). */
const warmUpText = () =>
  `{ buildVimPlugin, fetchFromGitHub, fetchurl }:\n{\n${Array.from({ length: 4000 }, (_, i) =>
    i % 2 === 0
      ? `  p-${i} = buildVimPlugin { pname = "p-${i}"; version = "1.${i}"; src = fetchFromGitHub { owner = "o"; repo = "p-${i}"; rev = "v1.${i}"; sha256 = "${'1'.repeat(52)}"; }; };\n`
      : `  "q-${i}" = fetchurl { url = "https://example.org/q-${i}.tgz"; hash = "sha256-${'Q'.repeat(43)}="; };\n`,
  ).join('')}}\n`;

/** Parse workers run from the bundles only: from TypeScript sources (tsx) Node 20 cannot start a .ts worker. */
export const parseWorkersAvailable = !import.meta.url.endsWith('.ts');

/** A thread running dist/parse-worker.js, which scans files and parses chunks. */
export function startParseWorker(): Worker {
  return new Worker(new URL('./parse-worker.js', import.meta.url));
}

/**
 * Worker threads, one per core, that parse the chunks of big .nix files in parallel for the
 * language server (dist/parse-worker.js, as the workspace scan uses). Kept for the server's life,
 * so opening a file does not pay for starting threads and loading the grammar.
 */
export class ParsePool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (reply: ChunkReply) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  /** Set when a worker died: the server then parses on its own thread. */
  private broken = false;

  /** Undefined where parse workers cannot run. */
  static start(size = availableParallelism()): ParsePool | undefined {
    return parseWorkersAvailable ? new ParsePool(size) : undefined;
  }

  private constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      const worker = startParseWorker();
      worker.on('message', (reply: ChunkReply) => {
        this.waiting.get(reply.id)?.resolve(withHashes(reply));
        this.waiting.delete(reply.id);
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', () => this.fail(new Error('a parse worker stopped')));
      worker.unref(); // an idle pool never keeps the server alive
      return worker;
    });
    // A first parse runs the grammar cold, at half speed: run one now, on every thread, not on the user's first big file.
    void this.parse(warmUpText()).catch(() => undefined);
  }

  get size(): number {
    return this.workers.length;
  }

  /** The file in chunks, parsed on every worker; undefined when it is better parsed whole. */
  async parse(text: string): Promise<ChunkedNix | undefined> {
    // Each worker works the split out itself: this thread only counts the chunks, and stays free.
    const count = this.broken ? 0 : proposeChunks(text);
    if (count === 0) return undefined;
    const share = Math.ceil(count / this.workers.length);
    const replies = await Promise.all(
      this.workers.map((worker, w) => {
        const indices = Array.from({ length: Math.max(0, Math.min(share, count - w * share)) }, (_, i) => w * share + i);
        return indices.length > 0 ? this.ask(worker, { text, indices }) : undefined;
      }),
    );
    const plan = replies[0]?.plan;
    if (!plan || replies.some((reply) => reply && !reply.plan)) return undefined;
    return assembleChunks(
      text,
      plan,
      replies.flatMap((reply) => reply?.chunks ?? []),
    );
  }

  async dispose(): Promise<void> {
    this.broken = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private ask(worker: Worker, request: Omit<ChunkRequest, 'id'>): Promise<ChunkReply> {
    const id = this.nextId++;
    return new Promise<ChunkReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...request } satisfies ChunkRequest);
    });
  }

  private fail(error: Error): void {
    this.broken = true;
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
  }
}
