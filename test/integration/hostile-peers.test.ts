// `nix-ipfs fetch`, `pin --url` and `replicate` against hostile peers and servers: crafted NARs in the
// cache, a Kubo API that trickles or stalls (a proxy on 127.0.0.1 in front of the real node), download
// servers that never end, roots that are no cache. Every run ends, with an error that says what and
// where, within the bounds --timeout, --max-time and --max-size give, and leaves no temporary folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after } from 'node:test';
import { hashBytes, type NixHash } from '../../src/core/hash';
import { writeNar, type NarNode } from '../../src/core/nar';
import { formatNarInfo } from '../../src/core/narinfo';
import { makeFixedOutputPath } from '../../src/core/store-path';
import { startKuboNode, type KuboNode } from '../helpers/kubo';
import { cli, repoRoot, run } from '../helpers/cli';
import { nix, tempDir } from '../helpers/nix-env';

const isRoot = process.getuid?.() === 0;
/** Generous: a run that hangs fails its own test, not the file. */
const limit = { timeout: 120_000 };
const node: KuboNode = await startKuboNode();
const work = await tempDir('nix-ipfs-hostile-peers-');
/** Makes this run's sources its own: a store path an earlier run added would be taken as fetched already. */
const nonce = randomBytes(8).toString('hex');

// --- crafted NARs, planted in the node's cache as a hostile replica would leave them ---

const file = (text: string): NarNode => ({
  type: 'regular',
  executable: false,
  size: Buffer.byteLength(text),
  contents: async function* () {
    yield Buffer.from(text);
  },
});
const directory = (entries: () => Iterable<[string, NarNode]>): NarNode => ({
  type: 'directory',
  async *entries() {
    yield* entries();
  },
});

async function narOf(root: NarNode): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of writeNar(root)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `depth` directories inside each other, each name `nameLength` characters long, a file at the bottom. */
function nested(depth: number, nameLength: number): NarNode {
  let inner = file(`deep ${nonce}`);
  for (let level = depth; level > 0; level--) {
    const child = inner;
    inner = directory(() => [[String(level % 10).repeat(nameLength), child]]);
  }
  return directory(() => [['top', inner]]);
}

const manyFiles = (count: number): NarNode =>
  directory(function* () {
    for (let i = 0; i < count; i++) yield [`f${String(i).padStart(7, '0')}`, file('x')];
  });

/** The NAR of manyFiles(count), encoded by hand: writeNar takes half a minute for 200 000 entries on a busy machine. */
function narOfManyFiles(count: number): Buffer {
  const strings = (...parts: string[]) =>
    Buffer.concat(
      parts.flatMap((part) => [Buffer.from(new BigUint64Array([BigInt(part.length)]).buffer), Buffer.from(part), Buffer.alloc((8 - (part.length % 8)) % 8)]),
    );
  const entries = Array.from({ length: count }, (_, i) =>
    strings('entry', '(', 'name', `f${String(i).padStart(7, '0')}`, 'node', '(', 'type', 'regular', 'contents', 'x', ')', ')'),
  );
  return Buffer.concat([strings('nix-archive-1', '(', 'type', 'directory'), ...entries, strings(')')]);
}

let planted = 0;
/**
 * Writes a narinfo and a NAR into the node's cache for the recursive source `hash` (default: the
 * NAR's own hash); `narHash` and `narSize` are what the narinfo claims (default: the truth).
 */
async function plant(nar: Buffer, claims: { hash?: NixHash; narHash?: NixHash; narSize?: number } = {}): Promise<{ hash: NixHash; storePath: string }> {
  const actual = hashBytes('sha256', nar);
  const hash = claims.hash ?? actual;
  const storePath = makeFixedOutputPath({ name: 'source', hash, recursive: true });
  const narinfo = formatNarInfo({
    storePath,
    url: `nar/${actual.toNix32()}.nar`,
    compression: 'none',
    narHash: `sha256:${(claims.narHash ?? hash).toNix32()}`,
    narSize: claims.narSize ?? nar.length,
    references: [],
    sigs: [],
  });
  const files = path.join(work, `planted-${++planted}`);
  await mkdir(files);
  await writeFile(path.join(files, 'nar'), nar);
  await writeFile(path.join(files, 'narinfo'), narinfo);
  await node.cli(['files', 'write', '--create', '--parents', '--truncate', `/nix-ipfs/cache/nar/${actual.toNix32()}.nar`, path.join(files, 'nar')]);
  await node.cli([
    'files',
    'write',
    '--create',
    '--parents',
    '--truncate',
    `/nix-ipfs/cache/${path.basename(storePath).slice(0, 32)}.narinfo`,
    path.join(files, 'narinfo'),
  ]);
  return { hash, storePath };
}

/** A private TMPDIR, so a test sees exactly the temporary folders its command leaves. */
async function privateTmp(): Promise<string> {
  const dir = path.join(work, `tmp-${randomBytes(4).toString('hex')}`);
  await mkdir(dir);
  return dir;
}

const fetchTree = (hash: NixHash, env: NodeJS.ProcessEnv = process.env, api = node.apiAddr) =>
  cli(['fetch', hash.toSri(), '--recursive', '--api', api], { env });

test('a NAR of 250 nested 200-character names: fetch ends with a short error that names the limit', limit, async () => {
  const { hash } = await plant(await narOf(nested(250, 200)));
  const tmp = await privateTmp();
  const result = await fetchTree(hash, { ...process.env, TMPDIR: tmp });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /cannot be stored on this machine: cannot unpack NAR entry 'top\/1{56}…\d{50}' \(\d+ characters, \d+ levels deep\): its path is longer than this file system allows\. Nothing was added/,
  );
  assert.ok(result.stderr.length < 600, `a short message, not the whole path: ${result.stderr.length} characters`);
  assert.deepEqual(await readdir(tmp), [], 'the temporary folder was removed');
});

test('a NAR whose narinfo claims another hash is rejected before a byte of it is read', limit, async () => {
  const requested = hashBytes('sha256', await narOf(file(`wanted ${nonce}`)));
  const { hash } = await plant(await narOf(file(`something else ${nonce}`)), { hash: requested, narHash: hashBytes('sha256', Buffer.from('other')) });
  const result = await fetchTree(hash);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /says NarHash sha256:\w+, expected sha256-[\w+/=]+: rejected before unpacking, nothing was added to the Nix store/);
});

test('a NAR whose size differs from its NarSize is rejected before it is read', limit, async () => {
  const nar = await narOf(file(`sized ${nonce}`));
  const { hash } = await plant(nar, { narSize: nar.length + 8 });
  const result = await fetchTree(hash);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`says NarSize ${nar.length + 8}, but nar/\\w+\\.nar holds ${nar.length} bytes: rejected before unpacking`));
});

test('a NAR of 200 000 files with a wrong hash is rejected without unpacking one of them', limit, async (t) => {
  assert.deepEqual(narOfManyFiles(3), await narOf(manyFiles(3)), 'the hand-made NAR is the one Nix would write');
  const requested = hashBytes('sha256', await narOf(file(`the real source ${nonce}`)));
  const { hash } = await plant(narOfManyFiles(200_000), { hash: requested });
  // On a file system with room for the NAR but only 1 000 files, unpacking would fail with "no space" instead.
  const tmp = isRoot ? await smallDisk(t, { megabytes: 128, inodes: 1000 }) : await privateTmp();
  const result = await fetchTree(hash, { ...process.env, TMPDIR: tmp });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /names NAR \w+, which has hash sha256-[\w+/=]+, not sha256-[\w+/=]+: rejected before unpacking, nothing was added to the Nix store/,
  );
  assert.deepEqual(await readdir(tmp), []);
});

/** A tmpfs of its own (root only), unmounted after the test. */
async function smallDisk(t: import('node:test').TestContext, size: { megabytes: number; inodes?: number }): Promise<string> {
  const dir = await privateTmp();
  const options = `size=${size.megabytes}m${size.inodes ? `,nr_inodes=${size.inodes}` : ''}`;
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  assert.equal(mounted.code, 0, mounted.stderr);
  t.after(() => run('umount', ['-l', dir]));
  return dir;
}

// --- flat sources through a Kubo API that misbehaves ---

/** Pins a random file of `bytes` from the Nix store, then deletes it there: a fetch must bring it back. */
async function mirroredSource(bytes: number): Promise<{ sha256: string; name: string; storePath: string }> {
  const name = `hostile-${randomBytes(4).toString('hex')}.bin`;
  const content = randomBytes(bytes);
  const sha256 = hashBytes('sha256', content).toBase16();
  await writeFile(path.join(work, name), content);
  const storePath = await nix('nix-store', ['--add-fixed', 'sha256', path.join(work, name)]);
  const pinned = await cli(['pin', '--url', 'http://127.0.0.1:9/gone', '--hash', `sha256:${sha256}`, '--name', name, '--api', node.apiAddr]);
  assert.equal(pinned.code, 0, pinned.stderr);
  await nix('nix-store', ['--delete', storePath]);
  return { sha256, name, storePath };
}

type Misbehaviour = 'pass' | 'trickle' | 'stall';

/** A proxy in front of the real Kubo API that misbehaves on the requests `affects` picks. */
async function startApiProxy(affects: (url: string) => boolean, behaviour: Misbehaviour): Promise<string> {
  const upstream = new URL(node.apiUrl);
  const answers = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const misbehave = affects(req.url ?? '') ? behaviour : 'pass';
    const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answers.add(res);
      res.on('close', () => answers.delete(res));
      relay(answer, res, misbehave);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    answers.forEach((r) => r.destroy());
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** pass: as it comes; trickle: one byte every 100 ms; stall: the first chunk, then nothing. */
function relay(answer: IncomingMessage, res: ServerResponse, behaviour: Misbehaviour): void {
  if (behaviour === 'pass') return void answer.pipe(res);
  if (behaviour === 'stall') return void answer.once('data', (chunk: Buffer) => res.write(chunk.subarray(0, 1024)));
  const pending: number[] = [];
  answer.on('data', (chunk: Buffer) => pending.push(...chunk));
  const drip = setInterval(() => {
    if (res.destroyed) return clearInterval(drip);
    if (pending.length > 0) res.write(Buffer.of(pending.shift()!));
  }, 100);
  res.on('close', () => clearInterval(drip));
}

test('a Kubo API that sends a byte every 100 ms: fetch ends at the time --timeout and the size allow', limit, async () => {
  const source = await mirroredSource(4096);
  for (const affects of [(url: string) => url.startsWith('/api/v0/cat'), () => true]) {
    const api = await startApiProxy(affects, 'trickle');
    const result = await cli(['fetch', `sha256:${source.sha256}`, '--api', api, '--timeout', '1000']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /took longer than [\d.]+ s in all|did not answer '[\w/]+' within 1000 ms/);
  }
  assert.equal((await run('nix-store', ['--check-validity', source.storePath])).code, 1, 'nothing entered the store');
});

test('a 64 MB flat source fetches whole (reading it takes time linear in its size)', limit, async () => {
  const source = await mirroredSource(64 << 20);
  const result = await cli(['fetch', `sha256:${source.sha256}`, '--api', node.apiAddr, '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).storePath, source.storePath);
  assert.equal((await stat(source.storePath)).size, 64 << 20);
});

/** Starts the CLI, waits until `ready` holds for its TMPDIR, sends `signal`, and waits for it to end. */
async function interrupt(args: string[], tmp: string, ready: (entries: string[]) => Promise<boolean>, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/cli.mjs'), ...args], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, killedBy) => resolve({ code, signal: killedBy })),
  );
  for (let tries = 0; tries < 600 && child.exitCode === null && !(await ready(await readdir(tmp))); tries++) await sleep(100);
  child.kill(signal);
  return { ...(await ended), stderr };
}

/** A temporary folder of the CLI's with a file in it that has started to fill. */
const writing = (tmp: string) => async (entries: string[]) => {
  for (const entry of entries) {
    const inside = await readdir(path.join(tmp, entry)).catch(() => []);
    for (const name of inside) if ((await stat(path.join(tmp, entry, name)).catch(() => undefined))?.size) return true;
  }
  return false;
};

test('SIGTERM while fetch reads from a stalled API leaves no temporary folder', limit, async () => {
  const source = await mirroredSource(256 * 1024);
  const api = await startApiProxy((url) => url.startsWith('/api/v0/cat'), 'stall');
  const tmp = await privateTmp();
  const ended = await interrupt(['fetch', `sha256:${source.sha256}`, '--api', api, '--timeout', '120000'], tmp, writing(tmp), 'SIGTERM');
  assert.equal(ended.signal, 'SIGTERM', ended.stderr);
  assert.deepEqual(await readdir(tmp), [], 'the temporary folder was removed');
});

// --- pin --url against download servers that misbehave ---

/** A download server on 127.0.0.1; each path misbehaves in its own way. */
async function startDownloadServer(): Promise<string> {
  const server = createServer((req, res) => {
    res.on('error', () => undefined);
    const endless = (length?: number) => {
      res.writeHead(200, length ? { 'content-length': length } : {});
      const block = Buffer.alloc(1 << 16, 7);
      const pump = () => {
        while (!res.destroyed && res.write(block));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    switch (req.url) {
      case '/silent': // accepts, never answers
        return;
      case '/stall':
        return void res.writeHead(200, { 'content-length': 1000 }).write('x');
      case '/trickle': {
        res.writeHead(200, { 'content-length': 4096 });
        const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write('x')), 100);
        return void res.on('close', () => clearInterval(drip));
      }
      case '/huge':
        return endless(10 * 1024 ** 3);
      default:
        return endless();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const downloads = await startDownloadServer();
const unknownHash = () => `sha256:${randomBytes(32).toString('hex')}`;
const pinUrl = (url: string, ...extra: string[]) => cli(['pin', '--url', `${downloads}${url}`, '--hash', unknownHash(), '--api', node.apiAddr, ...extra]);

test('pin --url ends at --timeout when the server does not answer, or stops sending', limit, async () => {
  const silent = await pinUrl('/silent', '--timeout', '1000');
  assert.equal(silent.code, 1, silent.stderr);
  assert.match(silent.stdout, new RegExp(`the download from ${downloads}/silent could not start: no answer within 1000 ms \\(--timeout\\)`));
  const stalled = await pinUrl('/stall', '--timeout', '1000');
  assert.match(stalled.stdout, new RegExp(`the download from ${downloads}/stall sent nothing for 1 s after 1 bytes`));
  const trickled = await pinUrl('/trickle', '--timeout', '1000');
  assert.match(trickled.stdout, new RegExp(`the download from ${downloads}/trickle took longer than [\\d.]+ s in all`));
});

test('pin --url --recursive, which Nix downloads and unpacks, ends at --timeout when the server does not answer', limit, async () => {
  const silent = await pinUrl('/silent', '--recursive', '--timeout', '1000');
  assert.equal(silent.code, 1, silent.stderr);
  assert.match(silent.stdout + silent.stderr, /could not be fetched/);
});

/** Whether a process whose command line holds `text` is running. */
const running = async (text: string) => (await run('pgrep', ['-f', text])).code === 0;

test('SIGTERM while Nix downloads for pin --url --recursive stops Nix too', limit, async () => {
  const hash = hashBytes('sha256', randomBytes(32)); // unique to this run: it names Nix's process
  const args = ['pin', '--url', `${downloads}/silent`, '--hash', hash.toSri(), '--recursive', '--api', node.apiAddr, '--timeout', '60000'];
  const ended = await interrupt(args, await privateTmp(), () => running(hash.toNix32()), 'SIGTERM');
  assert.equal(ended.signal, 'SIGTERM', ended.stderr);
  for (let tries = 0; tries < 50 && (await running(hash.toNix32())); tries++) await sleep(100);
  assert.equal(await running(hash.toNix32()), false, 'nix-prefetch-url was left running');
});

test('pin --url stops an endless download at --max-size, and refuses an announced size above it at once', limit, async () => {
  const endless = await pinUrl('/endless', '--max-size', '1M');
  assert.equal(endless.code, 1, endless.stderr);
  assert.match(endless.stdout, new RegExp(`the download from ${downloads}/endless is longer than --max-size 1M \\(1048576 bytes\\)`));
  const huge = await pinUrl('/huge', '--max-size', '1M');
  assert.match(huge.stdout, new RegExp(`the download from ${downloads}/huge is 10240 MB, more than --max-size 1M allows \\(1 MB\\)`));
  assert.equal((await cli(['pin', '--url', `${downloads}/x`, '--hash', unknownHash(), '--max-size', 'lots'])).code, 2);
});

test(
  'pin --url of an endless download stops before the disk is full, and leaves nothing',
  { ...limit, skip: !isRoot && 'mounting a small tmpfs needs root' },
  async (t) => {
    const tmp = await smallDisk(t, { megabytes: 40 });
    const result = await cli(['pin', '--url', `${downloads}/endless`, '--hash', unknownHash(), '--api', node.apiAddr], {
      env: { ...process.env, TMPDIR: tmp },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /stopped writing \S+ after [\d.]+ MB: only [\d.]+ MB left on its file system[^\n]*set TMPDIR/);
    assert.deepEqual(await readdir(tmp), []);
  },
);

test('Ctrl-C during an endless download leaves no temporary folder', limit, async () => {
  const tmp = await privateTmp();
  const args = ['pin', '--url', `${downloads}/endless`, '--hash', unknownHash(), '--api', node.apiAddr, '--max-size', '64G'];
  const ended = await interrupt(args, tmp, writing(tmp), 'SIGINT');
  assert.equal(ended.signal, 'SIGINT', ended.stderr);
  assert.deepEqual(await readdir(tmp), []);
});

// --- replicate ---

test('replicate refuses a root that is no cache, and pins nothing', limit, async () => {
  await writeFile(path.join(work, 'not-a-cache.txt'), 'just a file\n');
  const fileCid = (await node.cli(['add', '-Q', '--pin=false', '--cid-version', '1', path.join(work, 'not-a-cache.txt')])).trim();
  await mkdir(path.join(work, 'folder'), { recursive: true });
  await writeFile(path.join(work, 'folder', 'readme'), 'a folder, not a cache\n');
  const folderCid = (await node.cli(['add', '-Q', '-r', '--pin=false', '--cid-version', '1', path.join(work, 'folder')])).trim();
  for (const [cid, why] of [
    [fileCid, 'is a single file'],
    [folderCid, 'has no nix-cache-info'],
  ]) {
    const result = await cli(['replicate', cid, '--api', node.apiAddr]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`${cid} .*${why}.*Nothing was pinned`));
    assert.doesNotMatch(await node.cli(['pin', 'ls', '--type', 'recursive']), new RegExp(cid));
  }
});

test('replicate of a cache whose blocks no peer has ends at --timeout, and at --max-time, though Kubo reports progress', limit, async () => {
  const online = await startKuboNode({ offline: false });
  // A cache root whose nix-cache-info is on the node but whose NAR no peer has.
  await writeFile(path.join(work, 'nix-cache-info'), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n');
  const info = (await online.cli(['add', '-Q', '--cid-version', '1', '--raw-leaves', path.join(work, 'nix-cache-info')])).trim();
  await writeFile(path.join(work, 'lost.nar'), randomBytes(1000));
  const lost = (await online.cli(['add', '-Q', '--only-hash', '--cid-version', '1', '--raw-leaves', path.join(work, 'lost.nar')])).trim();
  const folder = async (links: [string, string][]) =>
    (
      await online.cli(
        ['dag', 'put', '--store-codec', 'dag-pb', '--input-codec', 'dag-json'],
        JSON.stringify({ Data: { '/': { bytes: 'CAE' } }, Links: links.map(([Name, cid]) => ({ Hash: { '/': cid }, Name, Tsize: 1000 })) }),
      )
    ).trim();
  const root = await folder([
    [
      'cache',
      await folder([
        ['nar', lost],
        ['nix-cache-info', info],
      ]),
    ],
  ]);

  const stalled = await cli(['replicate', root, '--api', online.apiAddr, '--timeout', '1500']);
  assert.equal(stalled.code, 1, stalled.stderr);
  assert.match(
    stalled.stderr,
    new RegExp(`no new block of ${root} arrived for 1500 ms after \\d+ blocks: no peer reachable from your node seems to have the rest of it`),
  );
  const capped = await cli(['replicate', root, '--api', online.apiAddr, '--timeout', '60000', '--max-time', '1500']);
  assert.match(capped.stderr, new RegExp(`replicating ${root} took longer than 1500 ms in all`));
  // A root no peer has at all ends at the first check.
  const nowhere = await cli(['replicate', lost, '--api', online.apiAddr, '--timeout', '1500']);
  assert.match(nowhere.stderr, new RegExp(`no node reachable from yours sent the first blocks of ${lost} within 1500 ms`));
});
