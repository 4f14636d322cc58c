import { stat, unlink } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { create, type KuboRPCClient } from 'kubo-rpc-client';
import { CID } from 'multiformats/cid';
import { redactSecrets } from '../core/redact';
import { authorizationFor } from './credentials';
import { apiBaseUrl, parseKuboApi } from './endpoint';
import { keyFilePath } from './keystore';

export interface KuboOptions {
  /** Multiaddr (`/ip4/127.0.0.1/tcp/5001`) or URL of the RPC API; `user:password@` in a URL is sent as basic auth. */
  api: string;
  /** Kubo's `API.Authorizations` secret (`bearer:…`, `basic:user:password`), a header value, or a bare token; wins over URL credentials. */
  token?: string;
  /** How long one request (or the gap between two chunks of a stream) may take. */
  timeoutMs?: number;
  /**
   * When the API is plain HTTP on another machine and the user has not confirmed it: no request is
   * sent (it would carry the token in clear); every call fails with this explanation instead.
   */
  refuseBecause?: string;
}

/** Every failure of a Kubo call, with a message a user can act on. */
export class KuboError extends Error {
  override name = 'KuboError';
}
export class KuboUnreachableError extends KuboError {
  override name = 'KuboUnreachableError';
}
export class KuboAuthError extends KuboError {
  override name = 'KuboAuthError';
}
export class KuboTimeoutError extends KuboError {
  override name = 'KuboTimeoutError';
}
export class KuboRefusedError extends KuboError {
  override name = 'KuboRefusedError';
}

export interface MfsChangeOptions {
  /**
   * false: keep the change in the node's memory until mfsFlush (much faster for many changes in
   * one directory). A crash before the flush loses the change, never the order between changes.
   */
  flush?: boolean;
}

export interface MfsStat {
  cid: string;
  size: number;
  cumulativeSize: number;
  type: 'file' | 'directory';
}

/** A file for addToMfsDirectory: its name in the directory and its bytes. */
export interface MfsFile {
  name: string;
  content: Uint8Array | AsyncIterable<Uint8Array>;
}

export interface AddedFile {
  name: string;
  cid: string;
  size: number;
}

export interface AddOptions {
  chunker?: string;
  pin?: boolean;
  /** Add by reference to a file on the node's disk (needs Experimental.FilestoreEnabled). */
  nocopy?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const UNFLUSHED_CHECKPOINT = 32;

/** The Kubo RPC API, as nix-ipfs uses it: every call is bounded in time and fails with a KuboError. */
export class Kubo {
  /** Never carries credentials: safe to print. */
  readonly apiUrl: URL;
  readonly timeoutMs: number;
  private readonly authorization?: string;
  private readonly rpc: KuboRPCClient;
  private mfsQueue: Promise<unknown> = Promise.resolve();
  /** MFS changes made with flush: false since the last flush of the whole tree. */
  private unflushed = 0;

  constructor(readonly options: KuboOptions) {
    const endpoint = parseKuboApi(options.api);
    this.apiUrl = endpoint.url;
    this.authorization = options.token ? authorizationFor(options.token) : endpoint.authorization;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.rpc = create({ url: new URL('/api/v0', this.apiUrl), headers: this.authHeader() });
  }

  /** Describes the API for messages; never includes the token. */
  get address(): string {
    return this.apiUrl.origin;
  }

  async version(): Promise<string> {
    return (await this.call('version', (signal) => this.rpc.version({ signal }))).version;
  }

  async id(): Promise<{ peerId: string; addresses: string[]; agentVersion: string }> {
    const id = await this.call('id', (signal) => this.rpc.id({ signal }));
    return { peerId: id.id.toString(), addresses: (id.addresses ?? []).map(String), agentVersion: id.agentVersion };
  }

  /** Connected peers; 0 for a node running with --offline. */
  async peerCount(): Promise<number> {
    try {
      return (await this.call('swarm/peers', (signal) => this.rpc.swarm.peers({ signal }))).length;
    } catch (error) {
      if (error instanceof KuboError && /online mode/.test(error.message)) return 0;
      throw error;
    }
  }

  async repoStat(): Promise<{ repoSize: bigint; storageMax: bigint; numObjects: bigint }> {
    return this.call('repo/stat', (signal) => this.rpc.repo.stat({ signal }));
  }

  async config(key: string): Promise<unknown> {
    return this.call('config', (signal) => this.rpc.config.get(key, { signal }));
  }

  /** The node's own HTTP gateway, from its `Addresses.Gateway`. */
  async gatewayUrl(): Promise<string> {
    const configured = await this.config('Addresses.Gateway');
    const first = Array.isArray(configured) ? configured[0] : configured;
    if (typeof first !== 'string') throw new KuboError(`Kubo at ${this.address} has no HTTP gateway (Addresses.Gateway is empty)`);
    const url = apiBaseUrl(first);
    if (url.port === '0') throw new KuboError(`Kubo at ${this.address} listens on a random gateway port: pass the gateway URL explicitly`);
    return url.origin;
  }

  /** Adds one file as CIDv1 with raw leaves. */
  async add(content: Uint8Array | AsyncIterable<Uint8Array>, options: AddOptions = {}): Promise<{ cid: string; size: number }> {
    const result = await this.call('add', (signal) =>
      this.rpc.add(content, {
        cidVersion: 1,
        rawLeaves: true,
        pin: options.pin ?? false,
        chunker: options.chunker,
        ...(options.nocopy ? { nocopy: true } : {}),
        signal,
      }),
    );
    return { cid: result.cid.toString(), size: result.size };
  }

  /**
   * Adds a file on the node's own disk by reference (Kubo's filestore, `add --nocopy`): the
   * blocks point into the file instead of copying it, so the file must stay where it is.
   */
  async addByReference(absolutePath: string, options: Omit<AddOptions, 'nocopy'> = {}): Promise<{ cid: string; size: number }> {
    if ((await this.config('Experimental.FilestoreEnabled')) !== true) {
      throw new KuboError(
        `Kubo at ${this.address} has no filestore: run 'ipfs config --json Experimental.FilestoreEnabled true' and restart it, or add without --nocopy`,
      );
    }
    const url = new URL('/api/v0/add', this.apiUrl);
    url.search = new URLSearchParams({
      'cid-version': '1',
      'raw-leaves': 'true',
      nocopy: 'true',
      pin: String(options.pin ?? false),
      ...(options.chunker ? { chunker: options.chunker } : {}),
    }).toString();
    const boundary = `nix-ipfs-${Date.now().toString(36)}`;
    const name = encodeURIComponent(absolutePath.slice(absolutePath.lastIndexOf('/') + 1));
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nAbspath: ${absolutePath}\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const { createReadStream } = await import('node:fs');
    async function* body() {
      yield new TextEncoder().encode(head);
      for await (const chunk of createReadStream(absolutePath)) yield chunk as Uint8Array;
      yield new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
    }
    const text = await this.call('add', async (signal) => {
      const response = await fetch(url, {
        method: 'POST',
        body: ReadableStream.from(body()) as unknown as RequestInit['body'],
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...this.authHeader() },
        signal,
        duplex: 'half',
      } as RequestInit);
      const payload = await response.text();
      if (!response.ok) throw Object.assign(new Error(parseJsonMessage(payload)), { response });
      return payload;
    }).catch((error: Error) => {
      if (/outside ipfs root/.test(error.message)) {
        throw new KuboError(
          `Kubo's filestore only references files below the folder that holds its repository, and ${absolutePath} is not: keep the repository directly under /nix (IPFS_PATH=/nix/ipfs) to add /nix/store files by reference, or add without --nocopy`,
        );
      }
      throw error;
    });
    const last = JSON.parse(text.trim().split('\n').pop()!) as { Hash: string; Size: string };
    return { cid: last.Hash, size: Number(last.Size) };
  }

  /**
   * Adds many files in one request and links each into an existing MFS directory as Kubo adds it
   * (`add --to-files=<dir>/`): one round trip and no per-file MFS call. Unpinned: MFS is what keeps
   * them. The links stay in the node's memory until mfsFlush. A name the directory has already fails
   * the request from that file on. Bounded by the timeout between two chunks either way.
   */
  addToMfsDirectory(
    dir: string,
    files: Iterable<MfsFile> | AsyncIterable<MfsFile>,
    options: { chunker?: string; signal?: AbortSignal } = {},
  ): Promise<AddedFile[]> {
    const url = new URL('/api/v0/add', this.apiUrl);
    url.search = new URLSearchParams({
      'cid-version': '1',
      'raw-leaves': 'true',
      pin: 'false',
      'to-files': `${dir}/`,
      ...(options.chunker ? { chunker: options.chunker } : {}),
    }).toString();
    return this.mfsExclusive(async () => {
      if (this.options.refuseBecause) throw new KuboRefusedError(this.options.refuseBecause);
      const stall = new AbortController();
      const sent: string[] = [];
      try {
        const lines = await postMultipart(url, this.authHeader(), files, sent, { idleMs: this.timeoutMs, stall, outer: options.signal });
        const added = lines.filter((line): line is { Name: string; Hash: string; Size: string } => typeof line.Hash === 'string');
        const missing = sent.filter((name) => !added.some((a) => a.Name === name));
        if (missing.length > 0) throw new KuboError(`Kubo ended 'add --to-files ${dir}/' without adding ${missing.join(', ')}`);
        return added.map((a) => ({ name: a.Name, cid: a.Hash, size: Number(a.Size) }));
      } catch (error) {
        throw error instanceof SourceError ? error.error : this.explain('add', error, stall.signal);
      }
    });
  }

  private authHeader(): Record<string, string> {
    return this.authorization ? { authorization: this.authorization } : {};
  }

  async pin(cid: string): Promise<void> {
    await this.call('pin/add', (signal) => this.rpc.pin.add(CID.parse(cid), { signal }));
  }

  /**
   * Pins a DAG, fetching what the node lacks from its peers (many blocks at once, unlike a
   * gateway serving one request at a time), and reports how many blocks are in so far. The
   * time limit applies between two reports, not to the whole pin.
   */
  async *pinFetching(cid: string, signal?: AbortSignal): AsyncIterable<number> {
    const url = new URL('/api/v0/pin/add', this.apiUrl);
    url.search = new URLSearchParams({ arg: cid, progress: 'true' }).toString();
    let pinned = false;
    for await (const line of this.stream('pin/add', (s) => this.postNdjson(url, s), signal)) {
      if (typeof line.Progress === 'number') yield line.Progress;
      if (Array.isArray(line.Pins)) pinned = true;
    }
    if (!pinned) throw new KuboError(`Kubo at ${this.address} ended 'pin/add ${cid}' without pinning it`);
  }

  /** POSTs to the RPC API and yields its newline-delimited JSON answer object by object. */
  private async *postNdjson(url: URL, signal: AbortSignal): AsyncIterable<Record<string, unknown>> {
    const response = await fetch(url, { method: 'POST', headers: this.authHeader(), signal });
    if (!response.ok || !response.body) {
      const payload = await response.text();
      throw Object.assign(new Error(parseJsonMessage(payload)), { response });
    }
    let pending = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
    }
    const trailer = response.headers.get('x-stream-error');
    if (trailer) throw new Error(trailer);
  }

  async unpin(cid: string): Promise<void> {
    await this.call('pin/rm', (signal) => this.rpc.pin.rm(CID.parse(cid), { signal }));
  }

  async isPinned(cid: string): Promise<boolean> {
    try {
      await this.call('pin/ls', async (signal) => {
        for await (const _ of this.rpc.pin.ls({ paths: [CID.parse(cid)], signal })) return;
      });
      return true;
    } catch (error) {
      if (error instanceof KuboError && /not pinned|is not pinned/.test(error.message)) return false;
      throw error;
    }
  }

  /** Streams a file by CID or `/ipfs/…` path. */
  cat(path: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    return this.stream('cat', (s) => this.rpc.cat(path, { signal: s }), signal);
  }

  async mfsStat(path: string): Promise<MfsStat | undefined> {
    try {
      const stat = await this.call('files/stat', (signal) => this.rpc.files.stat(path, { signal }));
      return {
        cid: stat.cid.toString(),
        size: Number(stat.size),
        cumulativeSize: Number(stat.cumulativeSize),
        type: stat.type === 'directory' ? 'directory' : 'file',
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Reads a whole (small) MFS file, or undefined when it does not exist. */
  async mfsRead(path: string): Promise<Uint8Array | undefined> {
    try {
      const chunks: Uint8Array[] = [];
      // A small file comes within one timeout, like any other answer: a trickle cannot stretch it.
      for await (const chunk of this.stream('files/read', (signal) => this.rpc.files.read(path, { signal }), AbortSignal.timeout(this.timeoutMs)))
        chunks.push(chunk);
      return Buffer.concat(chunks);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /**
   * Replaces an MFS file with the given bytes (parents created). The bytes are added first and
   * linked in one step, so a crash leaves the old file or the new one, never half of one.
   */
  async mfsWrite(path: string, content: Uint8Array, options: MfsChangeOptions = {}): Promise<void> {
    const { cid } = await this.add(content);
    await this.mfsLink(cid, path, options);
  }

  /** Links existing content (by CID) at an MFS path, replacing what was there. */
  mfsLink(cid: string, path: string, { flush = true }: MfsChangeOptions = {}): Promise<void> {
    const copy = () => this.call('files/cp', (signal) => this.rpc.files.cp(`/ipfs/${cid}`, path, { parents: true, flush, signal }));
    return this.mfsExclusive(async () => {
      // Kubo refuses more than 256 unflushed changes; flushing every few dozen is also a checkpoint
      // that a crash cannot take back.
      if (!flush && ++this.unflushed > UNFLUSHED_CHECKPOINT) await this.flushUnlocked('/');
      try {
        await copy();
      } catch (error) {
        // Replacing is the rare case: try the plain copy first, one request instead of two.
        if (!(error instanceof KuboError && /already has entry/.test(error.message))) throw error;
        await this.removeUnlocked(path);
        await copy();
      }
    });
  }

  /** Writes MFS changes made with `flush: false` under `path` to the repository. */
  mfsFlush(path: string): Promise<void> {
    return this.mfsExclusive(() => this.flushUnlocked(path));
  }

  private async flushUnlocked(path: string): Promise<void> {
    await this.call('files/flush', (signal) => this.rpc.files.flush(path, { signal }));
    if (path === '/') this.unflushed = 0;
  }

  mfsMkdir(path: string): Promise<void> {
    return this.mfsExclusive(() => this.call('files/mkdir', (signal) => this.rpc.files.mkdir(path, { parents: true, cidVersion: 1, signal })));
  }

  async mfsList(path: string): Promise<{ name: string; type: 'file' | 'directory'; size: number; cid: string }[]> {
    try {
      const entries = [];
      for await (const entry of this.stream('files/ls', (signal) => this.rpc.files.ls(path, { signal }))) {
        entries.push({
          name: entry.name,
          type: entry.type === 'directory' ? ('directory' as const) : ('file' as const),
          size: Number(entry.size),
          cid: entry.cid.toString(),
        });
      }
      return entries;
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  mfsRemove(path: string): Promise<void> {
    return this.mfsExclusive(() => this.removeUnlocked(path));
  }

  private async removeUnlocked(path: string): Promise<void> {
    try {
      await this.call('files/rm', (signal) => this.rpc.files.rm(path, { recursive: true, signal }));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /**
   * Runs MFS changes one at a time: Kubo's MFS loses track of files when several changes to one
   * directory overlap ("cannot flush the created file"). Adds, the heavy part, stay concurrent.
   */
  private mfsExclusive<T>(change: () => Promise<T>): Promise<T> {
    const next = this.mfsQueue.then(change, change);
    this.mfsQueue = next.catch(() => undefined);
    return next;
  }

  /** The IPNS name of a key, creating the key when it does not exist. */
  async ensureKey(name: string): Promise<string> {
    const listed = async () => (await this.call('key/list', (signal) => this.rpc.key.list({ signal }))).find((k) => k.name === name);
    const existing = await listed();
    if (existing) return existing.id;
    const generate = async () => (await this.call('key/gen', (signal) => this.rpc.key.gen(name, { type: 'ed25519', signal }))).id;
    try {
      return await generate();
    } catch (error) {
      if (!/already exists/.test((error as Error).message)) throw error;
      // Two publishes at once on a new node (pinning several sources does that): the other one made it.
      const made = await listed();
      if (made) return made.id;
      await this.removeEmptyKeyFile(name);
      return generate();
    }
  }

  /**
   * Kubo creates a key's file before writing it, so a full disk leaves an empty file that `key list`
   * skips and `key gen` and `key rm` refuse. An empty file holds no key, so removing it loses nothing;
   * anything else is left for the user, named.
   */
  private async removeEmptyKeyFile(name: string): Promise<void> {
    const { repoPath } = await this.call('repo/stat', (signal) => this.rpc.repo.stat({ signal }));
    const file = keyFilePath(repoPath, name);
    const size = await stat(file).then(
      (found) => found.size,
      () => undefined,
    );
    if (size === 0) return unlink(file);
    throw new KuboError(
      `Kubo has a key named '${name}' that it cannot read: ${file}` +
        (size === undefined ? ' (on the machine that runs Kubo)' : ` (${size} bytes)`) +
        ` is damaged, perhaps by a full disk. Move that file away and run again; the IPNS name it held is lost unless you have a copy of the file.`,
    );
  }

  /** Points an IPNS key at a CID; works without peers (`allow-offline`). */
  async publishName(cid: string, keyName: string): Promise<string> {
    const result = await this.call('name/publish', (signal) =>
      this.rpc.name.publish(`/ipfs/${cid}`, { key: keyName, allowOffline: true, resolve: false, signal }),
    );
    return result.name;
  }

  /** Resolves a name or path to its CID. */
  async resolve(path: string): Promise<string> {
    const resolved = await this.call('resolve', (signal) => this.rpc.resolve(path, { recursive: true, signal }));
    return resolved.replace(/^\/ipfs\//, '');
  }

  /** Resolves an IPNS name through the routing system (the DHT), never from Kubo's cache of earlier answers. */
  async resolveName(name: string): Promise<string> {
    const answer = await this.postJson('name/resolve', { arg: `/ipns/${name}`, nocache: 'true', recursive: 'true' });
    return String(answer.Path ?? '').replace(/^\/ipfs\//, '');
  }

  /** The peers this node is connected to, each as `<address>/p2p/<peer id>`. */
  async swarmPeers(): Promise<string[]> {
    const answer = await this.postJson('swarm/peers', {});
    const peers = (answer.Peers ?? []) as { Addr: string; Peer: string }[];
    return peers.map((p) => `${p.Addr}/p2p/${p.Peer}`);
  }

  async swarmConnect(address: string): Promise<void> {
    await this.postJson('swarm/connect', { arg: address });
  }

  async swarmDisconnect(address: string): Promise<void> {
    await this.postJson('swarm/disconnect', { arg: address });
  }

  /**
   * The DAG under a CID as a CAR stream (`dag export`), from this node's own blocks only: a
   * block it lacks fails the export instead of waiting for the network.
   */
  dagExport(cid: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const url = new URL('/api/v0/dag/export', this.apiUrl);
    url.search = new URLSearchParams({ arg: cid, offline: 'true' }).toString();
    return this.stream('dag/export', (s) => this.postStream(url, s), signal);
  }

  /**
   * Imports CAR bytes (`dag import`) and pins the roots they name; returns each root, with Kubo's
   * reason when it could not pin it. The time limit applies between two chunks sent and to the answer.
   */
  async dagImport(car: AsyncIterable<Uint8Array>): Promise<{ cid: string; pinError?: string }[]> {
    if (this.options.refuseBecause) throw new KuboRefusedError(this.options.refuseBecause);
    const stalled = new AbortController();
    const timer = setTimeout(() => stalled.abort(new DOMException('stream stalled', 'TimeoutError')), this.timeoutMs);
    async function* watched() {
      for await (const chunk of car) {
        timer.refresh();
        yield chunk;
      }
    }
    try {
      const roots: { cid: string; pinError?: string }[] = [];
      for await (const { root } of this.rpc.dag.import(watched(), { pinRoots: true, signal: stalled.signal })) {
        timer.refresh();
        roots.push({ cid: root.cid.toString(), ...(root.pinErrorMsg ? { pinError: root.pinErrorMsg } : {}) });
      }
      return roots;
    } catch (error) {
      throw this.explain('dag/import', error, stalled.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** POSTs one RPC command with its arguments and returns its JSON answer, within the timeout. */
  private postJson(command: string, params: Record<string, string>): Promise<Record<string, unknown>> {
    const url = new URL(`/api/v0/${command}`, this.apiUrl);
    url.search = new URLSearchParams(params).toString();
    return this.call(command, async (signal) => {
      const response = await fetch(url, { method: 'POST', headers: this.authHeader(), signal });
      const payload = await response.text();
      if (!response.ok) throw Object.assign(new Error(parseJsonMessage(payload)), { response });
      return (payload.trim() ? JSON.parse(payload) : {}) as Record<string, unknown>;
    });
  }

  /**
   * POSTs to the RPC API and yields its raw answer. Kubo reports an error met after it began to
   * answer in the X-Stream-Error trailer, which fetch drops: node:http reads it, and it fails the stream.
   */
  private async *postStream(url: URL, signal: AbortSignal): AsyncIterable<Uint8Array> {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      requestFor(url)(url, { method: 'POST', headers: this.authHeader(), signal }, resolve).on('error', reject).end();
    });
    if ((response.statusCode ?? 500) >= 300) {
      let payload = '';
      for await (const chunk of response) payload += String(chunk);
      throw Object.assign(new Error(parseJsonMessage(payload)), { response: { status: response.statusCode } });
    }
    for await (const chunk of response) yield chunk as Uint8Array;
    const trailer = response.trailers['x-stream-error'];
    if (trailer) throw new Error(trailer);
  }

  /** Runs one request with the timeout and turns every failure into a KuboError. */
  private async call<T>(what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.options.refuseBecause) throw new KuboRefusedError(this.options.refuseBecause);
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      return await run(signal);
    } catch (error) {
      throw this.explain(what, error, signal);
    }
  }

  /** A streamed response whose every chunk must arrive within the timeout. */
  private async *stream<T>(what: string, open: (signal: AbortSignal) => AsyncIterable<T>, outer?: AbortSignal): AsyncIterable<T> {
    if (this.options.refuseBecause) throw new KuboRefusedError(this.options.refuseBecause);
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort);
    let timer = setTimeout(() => controller.abort(new DOMException('stream stalled', 'TimeoutError')), this.timeoutMs);
    try {
      for await (const chunk of open(controller.signal)) {
        clearTimeout(timer);
        yield chunk;
        timer = setTimeout(() => controller.abort(new DOMException('stream stalled', 'TimeoutError')), this.timeoutMs);
      }
    } catch (error) {
      throw this.explain(what, error, controller.signal);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }

  private explain(what: string, error: unknown, signal: AbortSignal): KuboError {
    if (error instanceof KuboError) return error;
    if (signal.aborted && (signal.reason as Error)?.name === 'TimeoutError') {
      return new KuboTimeoutError(`Kubo API at ${this.address} did not answer '${what}' within ${this.timeoutMs} ms`);
    }
    const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string }; response?: { status?: number } };
    const code = err.cause?.code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO_(GET_ISSUER|VERIFY)/.test(code)) {
      return new KuboError(
        `the TLS certificate of the Kubo API at ${this.address} is not trusted here (${redactSecrets(err.cause?.message ?? code)}): give Node the certificate, or the CA that signed it, in the environment variable NODE_EXTRA_CA_CERTS=<file.pem>, or check that the API URL names the host the certificate is for`,
      );
    }
    if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|UND_ERR_SOCKET|EAI_AGAIN/.test(code) || err.message === 'fetch failed') {
      return new KuboUnreachableError(
        `Kubo API at ${this.address} is not reachable: ${redactSecrets(err.cause?.message ?? err.message ?? '')}. Is the daemon running ('ipfs daemon')?`,
      );
    }
    if (error instanceof SyntaxError) {
      return new KuboError(
        `the server at ${this.address} answered '${what}' with something other than the Kubo RPC API's JSON (${redactSecrets(err.message ?? '')}): check that --api names Kubo's RPC API (Addresses.API, port 5001 by default), not its gateway or another service`,
      );
    }
    const status = err.response?.status;
    if (status === 401 || status === 403) {
      return new KuboAuthError(`Kubo API at ${this.address} refused '${what}' (HTTP ${status}): ${this.howToAuthorize()}`);
    }
    if (/no space left on device/i.test(err.message ?? '')) {
      return new KuboError(
        `Kubo at ${this.address} ran out of disk space during '${what}': free space where its repository lives (e.g. 'ipfs repo gc') and run again; what was already published is kept (${redactSecrets(err.message ?? '')})`,
      );
    }
    return new KuboError(`Kubo '${what}' failed: ${redactSecrets(err.message ?? String(error))}`);
  }

  private howToAuthorize(): string {
    const how =
      "set the API token from Kubo's API.Authorizations in the environment variable NIX_IPFS_KUBO_TOKEN or in a file named by --token-file (editors: the Kubo API token setting)";
    return this.authorization ? `the credentials given were not accepted; ${how}, or put basic-auth credentials in the API URL` : how;
  }
}

/** Kubo's error body is `{"Message": …}`; anything else is shown as it is. */
function parseJsonMessage(payload: string): string {
  try {
    return (JSON.parse(payload) as { Message?: string }).Message ?? payload;
  } catch {
    return payload;
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof KuboError && /does not exist|file does not exist|no link named|not found/i.test(error.message);
}

/** A failure reading a file's bytes (not Kubo's): postMultipart's caller rethrows it as it is. */
class SourceError {
  constructor(readonly error: unknown) {}
}

/** The items, with a failure to produce one wrapped in SourceError (the consumer's own errors are not). */
async function* sourced<T>(items: Iterable<T> | AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* items;
  } catch (error) {
    throw new SourceError(error);
  }
}

/** node:http or node:https, as the API's URL says (an API behind TLS is https). */
function requestFor(url: URL): typeof httpRequest {
  return url.protocol === 'https:' ? httpsRequest : httpRequest;
}

/**
 * POSTs files as multipart/form-data, streaming each one's bytes, and returns the newline-delimited
 * JSON answer. `sent` names each file as it goes out. Kubo reports an error after it began to answer
 * in the X-Stream-Error trailer, which only node:http shows (fetch drops trailers). No chunk either
 * way within idleMs aborts `stall` with a TimeoutError.
 */
async function postMultipart(
  url: URL,
  headers: Record<string, string>,
  files: Iterable<MfsFile> | AsyncIterable<MfsFile>,
  sent: string[],
  limits: { idleMs: number; stall: AbortController; outer?: AbortSignal },
): Promise<Record<string, unknown>[]> {
  const boundary = `nix-ipfs-${Math.random().toString(36).slice(2)}`;
  const signal = limits.outer ? AbortSignal.any([limits.stall.signal, limits.outer]) : limits.stall.signal;
  const req = requestFor(url)(url, { method: 'POST', headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` }, signal });
  const idle = setTimeout(() => limits.stall.abort(new DOMException('stream stalled', 'TimeoutError')), limits.idleMs);
  let refused: unknown;
  const answer = new Promise<Record<string, unknown>[]>((resolve, reject) => {
    req.on('error', (error) => reject(signal.aborted ? signal.reason : new Error('request failed', { cause: error })));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => ((body += chunk), idle.refresh()));
      res.on('error', reject);
      res.on('end', () => {
        const trailer = res.trailers['x-stream-error'];
        if ((res.statusCode ?? 500) >= 300 || trailer)
          return reject(Object.assign(new Error(trailer || parseJsonMessage(body)), { response: { status: res.statusCode } }));
        try {
          resolve(
            body
              .split('\n')
              .filter((line) => line.trim())
              .map((line) => JSON.parse(line) as Record<string, unknown>),
          );
        } catch (error) {
          reject(error); // not Kubo's JSON: explain() says to check --api
        }
      });
    });
  });
  // Kubo answering (an error) before the body is sent: stop sending, and report its answer.
  answer.catch((error) => ((refused = error), req.destroy()));
  const whyClosed = () => refused ?? signal.reason ?? new Error('the request was closed');
  const drained = () =>
    new Promise<void>((resolve, reject) => {
      const closed = () => reject(whyClosed());
      req.once('close', closed).once('drain', () => (req.off('close', closed), resolve()));
    });
  const write = async (chunk: Uint8Array | string) => {
    // Closed while the next bytes were read (Kubo answered early): no 'close' or 'drain' is to come.
    if (req.destroyed) throw whyClosed();
    if (!req.write(chunk)) await drained();
    idle.refresh();
  };
  try {
    for await (const file of sourced(files)) {
      sent.push(file.name);
      await write(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${encodeURIComponent(file.name)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      );
      for await (const chunk of sourced(file.content instanceof Uint8Array ? [file.content] : file.content)) await write(chunk);
      await write('\r\n');
    }
    req.end(`--${boundary}--\r\n`);
    return await answer;
  } catch (error) {
    req.destroy();
    throw error;
  } finally {
    clearTimeout(idle);
  }
}
