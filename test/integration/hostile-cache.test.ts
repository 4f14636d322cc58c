// `nix-ipfs verify` against a hostile cache: a server on 127.0.0.1 in front of the real Kubo gateway
// that stalls, never ends, redirects or breaks off; and foreign caches in IPFS itself. Every read ends
// with an error that says what and where, within the bounds --timeout and NarSize give.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatNarInfo, parseNarInfo } from '../../src/core/narinfo';
import { parsePathInfoJson } from '../../src/core/path-info';
import { startKuboNode, type KuboNode } from '../helpers/kubo';
import { cli } from '../helpers/cli';
import { buildClosure, nix, nixKeyPair, tempDir } from '../helpers/nix-env';

// One node and one published closure for the whole file (after() hooks registered in before() would run at once).
const node: KuboNode = await startKuboNode();
const { app, publicKey, rootCid } = await publishClosure();
const hostile = await startHostileCache(`${node.gatewayUrl}/ipfs/${rootCid}/cache`);

async function publishClosure(): Promise<{ app: string; publicKey: string; rootCid: string }> {
  const dir = await tempDir();
  const { app } = await buildClosure(dir);
  const key = await nixKeyPair(dir, 'hostile-test-1');
  const published = await cli(['publish', app, '--api', node.apiAddr, '--key-file', key.secretFile, '--json']);
  assert.equal(published.code, 0, published.stderr);
  return { app, publicKey: key.publicKey, rootCid: JSON.parse(published.stdout).rootCid };
}

const hashPart = () => path.basename(app).slice(0, 32);

function verify(target: string, ...extra: string[]) {
  return cli(['verify', target, '--api', node.apiAddr, '--no-nix-keys', '--trusted-key', publicKey, '--json', ...extra]);
}

/** Writes until the client goes away (or `limit` bytes), minding backpressure. */
function writeForever(res: ServerResponse, chunk: Buffer, limit = Infinity): void {
  let left = limit;
  const pump = () => {
    while (left > 0 && !res.destroyed && res.write(chunk.subarray(0, Math.min(left, chunk.length)))) left -= chunk.length;
    if (left > 0 && !res.destroyed) res.once('drain', pump);
  };
  res.on('error', () => undefined);
  pump();
}

type Handler = (res: ServerResponse, body: Buffer, url: string) => void;

/** How each behaviour serves the narinfo and the NAR; what it leaves out passes the real file through. */
const BEHAVIOURS: Record<string, { narinfo?: Handler; nar?: Handler }> = {
  good: {},
  stall: {
    nar: (res, body) => {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1)); // and never the rest
    },
  },
  trickle: {
    nar: (res, body) => {
      res.writeHead(200, { 'content-length': body.length });
      let sent = 0;
      const drip = setInterval(() => (res.destroyed || sent >= body.length ? clearInterval(drip) : res.write(body.subarray(sent, ++sent))), 200);
      res.on('close', () => clearInterval(drip));
    },
  },
  endless: {
    nar: (res, body) => {
      res.write(body);
      writeForever(res, Buffer.alloc(65536));
    },
  },
  broken: {
    nar: (res, body) => {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 20), () => res.socket?.destroy());
    },
  },
  'redirect-in': { nar: (res, body, url) => (url.endsWith('?moved') ? res.end(body) : res.writeHead(302, { location: `${url}?moved` }).end()) },
  'redirect-out': { nar: (res) => res.writeHead(302, { location: '/outside/api/v0/version' }).end() },
  escape: { narinfo: (res, body) => res.end(formatNarInfo({ ...parseNarInfo(body.toString()), url: '%2e%2e/%2e%2e/secret.nar' })) },
  'endless-narinfo': {
    narinfo: (res, body) => {
      res.write(body);
      writeForever(res, Buffer.from(`References: ${'x'.repeat(65_000)}\n`));
    },
  },
  'big-narinfo': {
    narinfo: (res, body) => {
      // 50 MB: the real narinfo, then fields Nix ignores.
      res.writeHead(200, { 'content-length': 50_000_000 });
      res.write(body);
      writeForever(res, Buffer.from(`X-Padding: ${'p'.repeat(65_000)}\n`), 50_000_000 - body.length);
    },
  },
};

/** Serves `/<behaviour>/cache/…` from the real cache behind the gateway, misbehaving as BEHAVIOURS say. */
async function startHostileCache(upstream: string): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    const [, behaviour, cache, ...rest] = url.split('?')[0].split('/');
    const real = await fetch(`${upstream}/${rest.join('/')}`);
    const body = Buffer.from(await real.arrayBuffer());
    const serve = BEHAVIOURS[behaviour];
    if (!real.ok || !serve || cache !== 'cache') {
      res.writeHead(404).end();
      return;
    }
    const handler = rest[0] === 'nar' ? serve.nar : serve.narinfo;
    (handler ?? ((r: ServerResponse, b: Buffer) => r.end(b)))(res, body, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const narinfoAt = (behaviour: string) => `${hostile.url}/${behaviour}/cache/${hashPart()}.narinfo`;

test('the hostile server passes the real cache through: verify over HTTP trusts it, and follows a redirect inside the cache', async () => {
  for (const behaviour of ['good', 'redirect-in']) {
    const result = await verify(narinfoAt(behaviour));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(JSON.parse(result.stdout).trusted, true);
  }
  assert.ok(hostile.requests.some((r) => r.endsWith('?moved')));
});

test('a gateway that stalls mid-NAR ends at --timeout, naming the NAR and how far it got', async () => {
  const result = await verify(narinfoAt('stall'), '--timeout', '1000');
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.trusted, false);
  assert.match(report.nar.error, new RegExp(`^the NAR at ${hostile.url}/stall/cache/nar/\\w+\\.nar sent nothing for 1 s after \\d+ bytes$`));
  assert.match(report.reason, /^the NAR was not verified: /);
});

test('a gateway that trickles the NAR byte by byte ends at the total time --timeout and NarSize allow', async () => {
  const result = await verify(narinfoAt('trickle'), '--timeout', '1000');
  assert.equal(result.code, 1, result.stderr);
  assert.match(JSON.parse(result.stdout).nar.error, new RegExp(`^the NAR at ${hostile.url}/trickle/cache/nar/\\w+\\.nar took longer than 2\\.\\d+ s in all$`));
});

test('an endless NAR is read no further than its NarSize', async () => {
  const result = await verify(narinfoAt('endless'));
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.match(
    report.nar.error,
    new RegExp(`^the NAR at ${hostile.url}/endless/cache/nar/\\w+\\.nar is longer than its NarSize \\(${report.narinfo.narSize} bytes\\)$`),
  );
});

test('an endless narinfo and a 50 MB narinfo end at 1 MiB', async () => {
  for (const behaviour of ['endless-narinfo', 'big-narinfo']) {
    const result = await verify(narinfoAt(behaviour));
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`the narinfo ${narinfoAt(behaviour)} is longer than the 1 MiB a narinfo may hold \\(1048576 bytes\\)`));
  }
});

test('a NAR that breaks off is reported as a broken transfer, not as bad NAR data', async () => {
  const result = await verify(narinfoAt('broken'));
  assert.equal(result.code, 1, result.stderr);
  const { nar } = JSON.parse(result.stdout);
  assert.match(nar.error, /^the NAR at http:\/\/127\.0\.0\.1:\d+\/broken\/cache\/nar\/\w+\.nar broke off after \d+ bytes: /);
  assert.doesNotMatch(nar.error, /UTF-8/);
});

test("a narinfo URL with percent-encoded '..' and a redirect out of the cache are not followed", async () => {
  const escape = await verify(narinfoAt('escape'));
  assert.equal(escape.code, 1);
  assert.match(escape.stderr, /URL '%2e%2e\/%2e%2e\/secret\.nar' must be a relative path inside the cache/);
  const redirect = await verify(narinfoAt('redirect-out'));
  assert.equal(redirect.code, 1, redirect.stderr);
  assert.match(
    JSON.parse(redirect.stdout).nar.error,
    new RegExp(`redirects to ${hostile.url}/outside/api/v0/version, outside the cache ${hostile.url}/redirect-out/cache/: not followed`),
  );
  assert.deepEqual(
    hostile.requests.filter((r) => !/^\/[\w-]+\/cache\//.test(r)),
    [],
    'nothing outside a cache was asked for',
  );
});

/** Adds a directory tree to the node (not to its MFS cache): someone else's cache, reached by CID. */
async function addForeignCache(files: Record<string, Uint8Array | string>): Promise<string> {
  const dir = await tempDir();
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, 'cache', name)), { recursive: true });
    await writeFile(path.join(dir, 'cache', name), bytes);
  }
  return (await node.cli(['add', '-r', '-Q', '--pin=false', path.join(dir, 'cache')])).trim();
}

test("a foreign cache's narinfo is verified against the NAR beside it; a bare foreign CID says where to look instead", async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'foreign'), `foreign ${process.pid} ${Date.now()}\n`);
  const foreignPath = await nix('nix-store', ['--add-fixed', '--recursive', 'sha256', path.join(dir, 'foreign')]);
  const [info] = parsePathInfoJson(await nix('nix', ['path-info', '--json', foreignPath]));
  const nar = execFileSync('nix-store', ['--dump', foreignPath]);
  const foreignHash = path.basename(foreignPath).slice(0, 32);
  const narinfo = formatNarInfo({
    storePath: foreignPath,
    url: 'nar/foreign.nar',
    compression: 'none',
    narHash: info.narHash,
    narSize: info.narSize,
    references: [],
    sigs: [],
    ca: info.ca,
  });
  const root = await addForeignCache({ [`${foreignHash}.narinfo`]: narinfo, 'nar/foreign.nar': nar });

  const byPath = await verify(`/ipfs/${root}/${foreignHash}.narinfo`);
  assert.equal(byPath.code, 0, byPath.stdout + byPath.stderr);
  assert.equal(JSON.parse(byPath.stdout).nar.ok, true);

  const narinfoCid = (await node.cli(['resolve', `/ipfs/${root}/${foreignHash}.narinfo`])).trim().replace('/ipfs/', '');
  const byCid = await verify(narinfoCid);
  assert.equal(byCid.code, 1);
  assert.match(
    JSON.parse(byCid.stdout).nar.error,
    new RegExp(`a bare CID does not say where its NAR is: verify its IPFS path \\(/ipfs/<cache CID>/${foreignHash}\\.narinfo\\) or its gateway URL instead`),
  );

  const ownCid = (await node.cli(['files', 'stat', '--hash', `/nix-ipfs/cache/${hashPart()}.narinfo`])).trim();
  const own = await verify(ownCid);
  assert.equal(own.code, 0, own.stdout + own.stderr);
});

test('through Kubo too: a NAR whose blocks are gone is a read error, and a narinfo over 1 MiB is refused', async () => {
  const narinfo = formatNarInfo({ ...parseNarInfo(await node.cli(['files', 'read', `/nix-ipfs/cache/${hashPart()}.narinfo`])), url: 'nar/gone.nar', sigs: [] });
  const root = await addForeignCache({
    [`${hashPart()}.narinfo`]: narinfo,
    'nar/gone.nar': randomBytes(1000),
    'big.narinfo': narinfo + `X-Padding: ${'p'.repeat(2 << 20)}\n`,
  });
  const goneCid = (await node.cli(['resolve', `/ipfs/${root}/nar/gone.nar`])).trim().replace('/ipfs/', '');
  await node.cli(['block', 'rm', goneCid]);

  const gone = await verify(`/ipfs/${root}/${hashPart()}.narinfo`, '--timeout', '2000');
  assert.equal(gone.code, 1, gone.stderr);
  const { nar } = JSON.parse(gone.stdout);
  assert.match(nar.error, new RegExp(`^the NAR at /ipfs/${root}/nar/gone\\.nar (could not be read|sent nothing for 2 s)`));
  assert.doesNotMatch(nar.error, /UTF-8/);

  const big = await verify(`/ipfs/${root}/big.narinfo`);
  assert.equal(big.code, 1);
  assert.match(big.stderr, new RegExp(`the narinfo /ipfs/${root}/big\\.narinfo is longer than the 1 MiB a narinfo may hold`));
});
