import { createHash } from 'node:crypto';
import { ParseError } from './errors';
import { NixHash } from './hash';

/**
 * NAR (Nix ARchive), Nix's canonical serialisation of a file tree: a sequence of strings, each a
 * little-endian u64 length, the bytes, and zero padding to 8 bytes.
 */
const MAGIC = 'nix-archive-1';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export type NarNode =
  | { type: 'regular'; executable: boolean; size: number; contents: () => AsyncIterable<Uint8Array> }
  | { type: 'symlink'; target: string }
  /** Entries sorted by name, bytewise, as Nix writes them. */
  | { type: 'directory'; entries: () => AsyncIterable<[name: string, node: NarNode]> };

function u64(n: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
  return bytes;
}

function padding(length: number): Uint8Array {
  return new Uint8Array((8 - (length % 8)) % 8);
}

function strings(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? encoder.encode(part) : part;
    chunks.push(u64(bytes.length), bytes, padding(bytes.length));
  }
  return Buffer.concat(chunks);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Serialises a tree as a NAR, streaming file contents as they come. */
export async function* writeNar(root: NarNode): AsyncIterable<Uint8Array> {
  yield strings(MAGIC);
  yield* writeNode(root);
}

async function* writeNode(node: NarNode): AsyncIterable<Uint8Array> {
  switch (node.type) {
    case 'regular': {
      yield strings('(', 'type', 'regular', ...(node.executable ? ['executable', ''] : []), 'contents');
      yield u64(node.size);
      let written = 0;
      for await (const chunk of node.contents()) {
        written += chunk.length;
        if (written > node.size) throw new Error(`file grew while it was archived (expected ${node.size} bytes)`);
        yield chunk;
      }
      if (written !== node.size) throw new Error(`file shrank while it was archived (${written} of ${node.size} bytes)`);
      yield Buffer.concat([padding(node.size), strings(')')]);
      return;
    }
    case 'symlink':
      yield strings('(', 'type', 'symlink', 'target', node.target, ')');
      return;
    case 'directory': {
      yield strings('(', 'type', 'directory');
      let previous: Uint8Array | undefined;
      for await (const [name, child] of node.entries()) {
        const nameBytes = encoder.encode(name);
        if (previous && compareBytes(previous, nameBytes) >= 0) throw new Error(`directory entries are not sorted: '${name}'`);
        previous = nameBytes;
        yield strings('entry', '(', 'name', nameBytes, 'node');
        yield* writeNode(child);
        yield strings(')');
      }
      yield strings(')');
      return;
    }
  }
}

export interface NarLimits {
  maxDepth: number;
  maxNameLength: number;
  maxTargetLength: number;
  maxEntries: number;
  maxFileSize: number;
}

export const DEFAULT_NAR_LIMITS: NarLimits = {
  maxDepth: 256,
  maxNameLength: 255,
  maxTargetLength: 4095,
  maxEntries: 10_000_000,
  maxFileSize: Number.MAX_SAFE_INTEGER,
};

export interface NarEntry {
  /** '' for the root, then slash-separated names: 'bin/hello'. */
  path: string;
  type: 'regular' | 'symlink' | 'directory';
  executable?: boolean;
  size?: number;
  target?: string;
  /** A regular file's bytes; read them before asking for the next entry, or they are skipped. */
  contents?: AsyncIterable<Uint8Array>;
}

/** Reads exact byte counts from a chunked stream, keeping the offset for error messages. */
class ByteReader {
  private buffer: Uint8Array = new Uint8Array(0);
  private position = 0;
  offset = 0;
  private readonly iterator: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.position >= this.buffer.length) {
      const next = await this.iterator.next();
      if (next.done) return false;
      this.buffer = next.value;
      this.position = 0;
    }
    return true;
  }

  async read(length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (!(await this.fill())) throw new ParseError('NAR', `unexpected end of data (needed ${length - filled} more bytes)`, this.offset);
      const take = Math.min(length - filled, this.buffer.length - this.position);
      out.set(this.buffer.subarray(this.position, this.position + take), filled);
      this.position += take;
      this.offset += take;
      filled += take;
    }
    return out;
  }

  /** Up to `length` bytes as they arrive, without copying. */
  async *stream(length: number): AsyncIterable<Uint8Array> {
    let left = length;
    while (left > 0) {
      if (!(await this.fill())) throw new ParseError('NAR', `unexpected end of data inside a file (${left} bytes missing)`, this.offset);
      const take = Math.min(left, this.buffer.length - this.position);
      const chunk = this.buffer.subarray(this.position, this.position + take);
      this.position += take;
      this.offset += take;
      left -= take;
      yield chunk;
    }
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }
}

class NarParser {
  private entries = 0;

  constructor(
    private readonly r: ByteReader,
    private readonly limits: NarLimits,
  ) {}

  private async u64(): Promise<number> {
    const at = this.r.offset;
    const value = new DataView((await this.r.read(8)).buffer).getBigUint64(0, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ParseError('NAR', 'length field too large', at);
    return Number(value);
  }

  private async padding(length: number): Promise<void> {
    const at = this.r.offset;
    const pad = await this.r.read((8 - (length % 8)) % 8);
    if (pad.some((b) => b !== 0)) throw new ParseError('NAR', 'non-zero padding', at);
  }

  private async bytes(maxLength: number, what: string): Promise<Uint8Array> {
    const at = this.r.offset;
    const length = await this.u64();
    if (length > maxLength) throw new ParseError('NAR', `${what} is ${length} bytes, more than the limit of ${maxLength}`, at);
    const value = await this.r.read(length);
    await this.padding(length);
    return value;
  }

  private async text(maxLength: number, what: string): Promise<string> {
    const at = this.r.offset;
    const bytes = await this.bytes(maxLength, what); // a failing source throws its own error from here
    try {
      return decoder.decode(bytes);
    } catch {
      throw new ParseError('NAR', `${what} is not valid UTF-8`, at);
    }
  }

  private async expect(token: string): Promise<void> {
    const at = this.r.offset;
    const got = await this.text(64, 'token');
    if (got !== token) throw new ParseError('NAR', `expected '${token}', got '${got.slice(0, 32)}'`, at);
  }

  async *archive(): AsyncIterable<NarEntry> {
    await this.expect(MAGIC);
    yield* this.node('', 0);
    if (!(await this.r.atEnd())) throw new ParseError('NAR', 'data after the end of the archive', this.r.offset);
  }

  private async *node(path: string, depth: number): AsyncIterable<NarEntry> {
    if (depth > this.limits.maxDepth) throw new ParseError('NAR', `nested deeper than ${this.limits.maxDepth} directories`, this.r.offset);
    if (++this.entries > this.limits.maxEntries) throw new ParseError('NAR', `more than ${this.limits.maxEntries} entries`, this.r.offset);
    await this.expect('(');
    await this.expect('type');
    const at = this.r.offset;
    const type = await this.text(16, 'type');
    if (type === 'regular') {
      let tag = await this.text(16, 'token');
      const executable = tag === 'executable';
      if (executable) {
        await this.expect('');
        tag = await this.text(16, 'token');
      }
      if (tag !== 'contents') throw new ParseError('NAR', `expected 'contents', got '${tag}'`, this.r.offset);
      const sizeAt = this.r.offset;
      const size = await this.u64();
      if (size > this.limits.maxFileSize)
        throw new ParseError('NAR', `file '${path}' is ${size} bytes, more than the limit of ${this.limits.maxFileSize}`, sizeAt);
      const body = this.r.stream(size)[Symbol.asyncIterator]();
      // The consumer reads what it wants; the rest is skipped so the parser stays in step.
      const contents: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => body.next() }) };
      yield { path, type: 'regular', executable, size, contents };
      while (!(await body.next()).done);
      await this.padding(size);
    } else if (type === 'symlink') {
      await this.expect('target');
      const targetAt = this.r.offset;
      const target = await this.text(this.limits.maxTargetLength, 'symlink target');
      if (target.length === 0 || target.includes('\0')) throw new ParseError('NAR', 'empty symlink target or one with a NUL byte', targetAt);
      yield { path, type: 'symlink', target };
    } else if (type === 'directory') {
      yield { path, type: 'directory' };
      let previous: Uint8Array | undefined;
      for (;;) {
        const tagAt = this.r.offset;
        const tag = await this.text(16, 'token');
        if (tag === ')') return;
        if (tag !== 'entry') throw new ParseError('NAR', `expected 'entry' or ')', got '${tag}'`, tagAt);
        await this.expect('(');
        await this.expect('name');
        const nameAt = this.r.offset;
        const nameBytes = await this.bytes(this.limits.maxNameLength, 'entry name');
        let name: string;
        try {
          name = decoder.decode(nameBytes);
        } catch {
          throw new ParseError('NAR', 'entry name is not valid UTF-8', nameAt);
        }
        if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
          throw new ParseError('NAR', `forbidden entry name '${name}'`, nameAt);
        }
        if (previous && compareBytes(previous, nameBytes) >= 0) throw new ParseError('NAR', `entry '${name}' is out of order or repeated`, nameAt);
        previous = nameBytes;
        await this.expect('node');
        yield* this.node(path ? `${path}/${name}` : name, depth + 1);
        await this.expect(')');
      }
    } else {
      throw new ParseError('NAR', `unknown node type '${type}'`, at);
    }
    await this.expect(')');
  }
}

/** Parses and validates a NAR as it streams; throws ParseError with the byte offset of the problem. */
export function readNar(source: AsyncIterable<Uint8Array>, limits: Partial<NarLimits> = {}): AsyncIterable<NarEntry> {
  return new NarParser(new ByteReader(source), { ...DEFAULT_NAR_LIMITS, ...limits }).archive();
}

/** NarHash (sha256) and NarSize of a NAR, fed chunk by chunk. */
export class NarHasher {
  private readonly hash = createHash('sha256');
  private size = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  digest(): { narHash: NixHash; narSize: number } {
    return { narHash: new NixHash('sha256', new Uint8Array(this.hash.digest())), narSize: this.size };
  }
}
