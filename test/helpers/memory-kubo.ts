import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { KuboError, type AddedFile, type MfsFile, type MfsStat } from '../../src/kubo/client';
import type { KuboApi } from '../../src/services/context';

async function cidOf(bytes: Uint8Array): Promise<string> {
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString();
}

async function collect(content: Uint8Array | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  if (content instanceof Uint8Array) return content;
  const chunks: Uint8Array[] = [];
  for await (const chunk of content) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * A Kubo node in memory, for unit tests of services: content by CID (each add is one raw block),
 * pins, an MFS tree (folders made on the way to a file, as Kubo's `parents` does), and IPNS names. The
 * integration suites prove the same services against a real node.
 */
export class MemoryKubo implements KuboApi {
  readonly address = 'http://memory.invalid';
  readonly timeoutMs = 1000;
  readonly blocks = new Map<string, Uint8Array>();
  readonly pins = new Set<string>();
  /** MFS file path → CID. */
  readonly files = new Map<string, string>();
  readonly folders = new Set<string>();
  /** The last root published under each key. */
  readonly names = new Map<string, string>();

  async add(content: Uint8Array | AsyncIterable<Uint8Array>, options: { pin?: boolean } = {}): Promise<{ cid: string; size: number }> {
    const bytes = await collect(content);
    const cid = await cidOf(bytes);
    this.blocks.set(cid, bytes);
    if (options.pin) this.pins.add(cid);
    return { cid, size: bytes.length };
  }

  async pin(cid: string): Promise<void> {
    this.pins.add(cid);
  }

  async unpin(cid: string): Promise<void> {
    if (!this.pins.delete(cid)) throw new KuboError(`Kubo 'pin/rm' failed: ${cid} is not pinned`);
  }

  async isPinned(cid: string): Promise<boolean> {
    return this.pins.has(cid);
  }

  async *cat(path: string): AsyncIterable<Uint8Array> {
    const bytes = this.blocks.get(path.replace(/^\/ipfs\//, ''));
    if (!bytes) throw new KuboError(`Kubo 'cat' failed: ${path} is not in the in-memory node`);
    yield bytes;
  }

  async mfsStat(path: string): Promise<MfsStat | undefined> {
    const cid = this.files.get(path);
    if (cid) return { cid, size: this.blocks.get(cid)!.length, cumulativeSize: this.blocks.get(cid)!.length, type: 'file' };
    if (!this.folders.has(path)) return undefined;
    const inside = [...this.files].filter(([file]) => file.startsWith(`${path}/`)).sort();
    return { cid: await cidOf(new TextEncoder().encode(JSON.stringify(inside))), size: 0, cumulativeSize: 0, type: 'directory' };
  }

  async mfsRead(path: string): Promise<Uint8Array | undefined> {
    const cid = this.files.get(path);
    return cid ? this.blocks.get(cid) : undefined;
  }

  async mfsWrite(path: string, content: Uint8Array): Promise<void> {
    await this.mfsLink((await this.add(content)).cid, path);
  }

  async mfsLink(cid: string, path: string): Promise<void> {
    for (let folder = path.slice(0, path.lastIndexOf('/')); folder; folder = folder.slice(0, folder.lastIndexOf('/'))) this.folders.add(folder);
    this.files.set(path, cid);
  }

  async mfsFlush(): Promise<void> {}

  async mfsMkdir(path: string): Promise<void> {
    this.folders.add(path);
  }

  /** Like Kubo's `add --to-files=<dir>/`: a name the folder has already fails from that file on. */
  async addToMfsDirectory(dir: string, files: Iterable<MfsFile> | AsyncIterable<MfsFile>): Promise<AddedFile[]> {
    const added: AddedFile[] = [];
    for await (const file of files) {
      if (this.files.has(`${dir}/${file.name}`)) throw new KuboError(`Kubo 'add' failed: directory already has entry by that name (${file.name})`);
      const { cid, size } = await this.add(file.content);
      await this.mfsLink(cid, `${dir}/${file.name}`);
      added.push({ name: file.name, cid, size });
    }
    return added;
  }

  async mfsList(path: string): Promise<{ name: string; type: 'file' | 'directory'; size: number; cid: string }[]> {
    const names = new Map<string, 'file' | 'directory'>();
    for (const [entry, type] of [...[...this.files.keys()].map((f) => [f, 'file'] as const), ...[...this.folders].map((f) => [f, 'directory'] as const)]) {
      if (entry.startsWith(`${path}/`) && !entry.slice(path.length + 1).includes('/')) names.set(entry.slice(path.length + 1), type);
    }
    return Promise.all([...names].map(async ([name, type]) => ({ name, type, size: 0, cid: (await this.mfsStat(`${path}/${name}`))!.cid })));
  }

  async mfsRemove(path: string): Promise<void> {
    const gone = (entry: string) => entry === path || entry.startsWith(`${path}/`);
    for (const file of [...this.files.keys()]) if (gone(file)) this.files.delete(file);
    for (const folder of [...this.folders]) if (gone(folder)) this.folders.delete(folder);
  }

  async ensureKey(name: string): Promise<string> {
    return `k51-memory-${name}`;
  }

  async publishName(cid: string, keyName: string): Promise<string> {
    this.names.set(keyName, cid);
    return this.ensureKey(keyName);
  }

  async version(): Promise<string> {
    return '0.0.0-memory';
  }

  async id(): Promise<{ peerId: string; addresses: string[]; agentVersion: string }> {
    return { peerId: '12D3KooWMemory', addresses: [], agentVersion: 'memory' };
  }

  async peerCount(): Promise<number> {
    return 0;
  }

  async repoStat(): Promise<{ repoSize: bigint; storageMax: bigint; numObjects: bigint }> {
    return { repoSize: 0n, storageMax: 0n, numObjects: BigInt(this.blocks.size) };
  }

  async gatewayUrl(): Promise<string> {
    return 'http://gateway.invalid';
  }

  addByReference(): Promise<{ cid: string; size: number }> {
    return unsupported('adding by reference (the filestore)');
  }

  resolve(): Promise<string> {
    return unsupported('resolving names');
  }

  pinFetching(): AsyncIterable<number> {
    throw new Error('the in-memory node has no peers to fetch from');
  }
}

function unsupported(what: string): never {
  throw new Error(`the in-memory node does not do ${what}: test it against a real node (test/integration)`);
}
