// Publishing to and substituting from Kubo, against `ipfs add`, nginx serving a `nix copy --to file://`
// cache, and that cache read as files.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain ESM module shared with the test rig
import { startKuboNode } from '../scripts/kubo-node.mjs';
import { startNginx } from './nginx';
import { log, median, ms, pct, requestTimes, root, rows, rpcRequests, sh, textClosure, time, timeSync, work } from './measure';

interface BenchClosure {
  top: string;
  paths: string[];
  narDir: string;
  narBytes: number;
}

export interface KuboNode {
  apiAddr: string;
  apiUrl: string;
  gatewayUrl: string;
  cli(args: string[]): Promise<string>;
  connect(other: KuboNode): Promise<void>;
  dispose(): Promise<void>;
}

const cli = (args: string[]) => sh(process.execPath, [path.join(root, 'dist/cli.mjs'), ...args]);

/** Nix's own settings for one substitution into a fresh store, with nothing remembered from an earlier run. */
const freshStore = (label: string) => ({
  env: { ...process.env, XDG_CACHE_HOME: path.join(work, `xdg-${label}`) },
  store: path.join(work, `store-${label}`),
});

/**
 * Nix substitutes `top` from a cache URL as a build does: 16 paths at a time, the default of
 * `max-substitution-jobs` since Nix 2.16 (Nix 2.8 has no such setting and takes `max-jobs`).
 */
function nixSubstitute(url: string, top: string, label: string): void {
  const { env, store } = freshStore(label);
  const options = ['--option', 'substituters', url, '--option', 'require-sigs', 'false', '--max-jobs', '16'];
  sh('nix', ['build', '--quiet', '--no-link', '--store', store, top, ...options], env);
}

/** `nix copy --from`, which takes as many paths at a time as the machine has cores (2 here). */
function nixCopyFrom(url: string, top: string, label: string): void {
  const { env, store } = freshStore(label);
  sh('nix', ['copy', '--from', url, '--to', store, top, '--option', 'require-sigs', 'false'], env);
}

/** 190 small paths (1–60 KB) and 10 of 4 MB, all referenced by one top path, and their NARs as files. */
function benchClosure(): BenchClosure {
  const expr = path.join(work, 'closure.nix');
  writeFileSync(
    expr,
    `let mk = i: size: derivation { name = "bench-\${toString i}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "/usr/bin/head -c \${toString size} /dev/urandom > $out; echo ${Date.now()} >> $out" ]; };
  parts = builtins.genList (i: mk i (if i < 10 then 4000000 else 1000 + i * 300)) 200;
in derivation { name = "bench-top"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo \${toString parts} > $out" ]; }\n`,
  );
  const top = sh('nix-build', ['--no-out-link', expr]);
  const paths = sh('nix-store', ['-qR', top]).split('\n');
  const narDir = path.join(work, 'nars');
  mkdirSync(narDir);
  for (const p of paths) writeFileSync(path.join(narDir, `${path.basename(p)}.nar`), execFileSync('nix-store', ['--dump', p], { maxBuffer: 1 << 30 }));
  const narBytes = paths.reduce((s, p) => s + statSync(path.join(narDir, `${path.basename(p)}.nar`)).size, 0);
  return { top, paths, narDir, narBytes };
}

/** The substitution, cache-miss and peer rows, all against nginx serving the same closure as a file:// cache. */
export async function cacheBench(): Promise<void> {
  const closure = benchClosure();
  const published = await publishBench(closure);
  const nginx = await startNginx(published.fileCache);
  try {
    await substituteBench(closure, published, nginx.url);
    await missBench(published, nginx.url);
    await peerBench(closure, nginx.url);
  } finally {
    await nginx.stop();
    await published.node.dispose();
  }
}

/** Runs each of `runs` once per round, `rounds` times, starting each round one further: no run is always first. */
async function rotated(rounds: number, runs: (() => unknown)[]): Promise<void> {
  for (let round = 0; round < rounds; round++) for (let k = 0; k < runs.length; k++) await runs[(k + round) % runs.length]();
}

async function publishBench(closure: BenchClosure): Promise<{ node: KuboNode; rootCid: string; ipnsName: string; fileCache: string }> {
  log('publish: a generated closure vs ipfs add of the same NAR bytes vs nix copy --to file://');
  const ours: number[] = [];
  const raw: number[] = [];
  const fileCache: number[] = [];
  const kuboAlone: number[] = [];
  let resumed = 0;
  let rpcs = 0;
  let last: { node: KuboNode; rootCid: string; ipnsName: string } | undefined;
  for (let i = 0; i < 3; i++) {
    const node: KuboNode = await startKuboNode();
    let result = { rootCid: '', ipnsName: '' };
    ours.push(await time(() => (result = JSON.parse(cli(['publish', closure.top, '--api', node.apiAddr, '--json'])))));
    if (i === 2) {
      rpcs = await rpcRequests(node.apiUrl);
      resumed = await time(() => cli(['publish', closure.top, '--api', node.apiAddr, '--json']));
      last = { node, ...result };
    } else await node.dispose();
    const baselineNode = await startKuboNode();
    raw.push(await time(() => baselineNode.cli(['add', '-r', '-Q', '--cid-version=1', '--raw-leaves', '--chunker=buzhash', closure.narDir])));
    await baselineNode.dispose();
    fileCache.push(await time(() => sh('nix', ['copy', '--to', `file://${path.join(work, `file-cache-${i}`)}?compression=none`, closure.top])));
    kuboAlone.push(await cacheIntoKuboAlone(path.join(work, `file-cache-${i}`)));
  }
  const mbs = (t: number) => `${(closure.narBytes / 1e6 / (t / 1000)).toFixed(1)} MB/s`;
  const measure = `${closure.paths.length} paths, ${(closure.narBytes / 1e6).toFixed(0)} MB of NAR, nix-ipfs publish (median of 3)`;
  rows.push({
    area: 'Publish',
    measure,
    value: mbs(median(ours)),
    baseline: `ipfs add -r of the same NARs ${mbs(median(raw))}`,
    ratio: median(raw) / median(ours),
    target: '≥ 0.8×',
  });
  rows.push({
    area: 'Publish',
    measure: 'same closure vs nix copy --to file:// (compression=none)',
    value: mbs(median(ours)),
    baseline: mbs(median(fileCache)),
    ratio: median(fileCache) / median(ours),
  });
  rows.push({
    area: 'Publish',
    measure: 'ceiling: Kubo alone taking what the cache holds (the NARs and narinfos of nix copy --to file://, 16 of each per add --to-files request)',
    value: mbs(median(kuboAlone)),
    baseline: `ipfs add -r ${mbs(median(raw))}`,
    ratio: median(raw) / median(kuboAlone),
  });
  rows.push({ area: 'Publish', measure: 'Kubo RPC requests per path, first publish', value: (rpcs / closure.paths.length).toFixed(2), baseline: '' });
  rows.push({
    area: 'Publish',
    measure: 're-publish of the unchanged closure (no NAR re-read)',
    value: ms(resumed),
    baseline: `first publish ${ms(ours[2])}`,
    ratio: ours[2] / resumed,
    target: 'seconds',
  });
  return { ...last!, fileCache: path.join(work, 'file-cache-0') };
}

/**
 * What Kubo alone takes to hold a binary cache, sent as publish sends it: a cache written by
 * `nix copy --to file://`, its NARs 16 to a multipart `add --to-files` into `nar/`, then their 16
 * narinfos into the top, then a flush; no store, no hashing, no Node start. The narinfos are what
 * `ipfs add -r` of the NARs does not write: one more block, so one more file on flatfs, per path.
 */
async function cacheIntoKuboAlone(fileCache: string): Promise<number> {
  const node: KuboNode = await startKuboNode();
  await node.cli(['files', 'mkdir', '-p', '/cache/nar']);
  const narinfos = readdirSync(fileCache).filter((name) => name.endsWith('.narinfo'));
  // Which NAR each narinfo names, read before the clock starts: publish knows it without reading anything.
  const narOf = new Map(narinfos.map((narinfo) => [narinfo, /^URL: nar\/(.*)$/m.exec(readFileSync(path.join(fileCache, narinfo), 'utf8'))![1]]));
  const add = async (to: string, files: { name: string; file: string }[]) => {
    const form = new FormData();
    for (const { name, file } of files) form.append('file', new Blob([readFileSync(file)]), name);
    const query = `cid-version=1&raw-leaves=true&pin=false&chunker=buzhash&to-files=${to}`;
    const response = await fetch(`${node.apiUrl}/api/v0/add?${query}`, { method: 'POST', body: form });
    if (!response.ok) throw new Error(`Kubo refused the batch: ${response.status} ${await response.text()}`);
    await response.text();
  };
  const took = await time(async () => {
    for (let i = 0; i < narinfos.length; i += 16) {
      const batch = narinfos.slice(i, i + 16);
      const nars = [...new Set(batch.map((narinfo) => narOf.get(narinfo)!))];
      await add(
        '/cache/nar/',
        nars.map((name) => ({ name, file: path.join(fileCache, 'nar', name) })),
      );
      await add(
        '/cache/',
        batch.map((name) => ({ name, file: path.join(fileCache, name) })),
      );
      await fetch(`${node.apiUrl}/api/v0/files/flush?arg=/`, { method: 'POST' });
    }
  });
  const linked = (await node.cli(['files', 'ls', '/cache'])).trim().split('\n').length - 1;
  await node.dispose();
  if (linked !== narinfos.length) throw new Error(`Kubo linked ${linked} of ${narinfos.length} narinfos`);
  return took;
}

/** Stock Nix substituting the closure through the gateway, as nix-conf configures it (/ipns/<name>/cache); then what one request costs. */
async function substituteBench(closure: BenchClosure, published: { node: KuboNode; ipnsName: string; fileCache: string }, nginxUrl: string): Promise<void> {
  log('substitute: Nix builds from the gateway vs from nginx vs from file://');
  const times: Record<'gateway' | 'nginx' | 'file', number[]> = { gateway: [], nginx: [], file: [] };
  const from = (what: keyof typeof times, url: string) => () =>
    times[what].push(timeSync(() => nixSubstitute(url, closure.top, `${what}-${times[what].length}`)));
  await rotated(3, [
    from('gateway', `${published.node.gatewayUrl}/ipns/${published.ipnsName}/cache`),
    from('nginx', nginxUrl),
    from('file', `file://${published.fileCache}`),
  ]);
  rows.push(
    againstNginx(
      `Nix substitutes ${closure.paths.length} paths from <gateway>/ipns/<name>/cache, 16 at a time (median of 3)`,
      times.gateway,
      times.nginx,
      '≥ 0.9×',
    ),
  );
  rows.push(againstNginx('for context: the same from file:// (no HTTP at all), against nginx', times.file, times.nginx));
  await requestCeiling(closure, published, nginxUrl);
}

/** The ceiling: one narinfo and the largest NAR, already on the node's disk, asked for 200 times each. */
async function requestCeiling(closure: BenchClosure, published: { node: KuboNode; ipnsName: string }, nginxUrl: string): Promise<void> {
  const gateway = `${published.node.gatewayUrl}/ipns/${published.ipnsName}/cache`;
  const narSize = (p: string) => statSync(path.join(closure.narDir, `${path.basename(p)}.nar`)).size;
  const largest = closure.paths.reduce((a, b) => (narSize(a) >= narSize(b) ? a : b));
  const narinfo = `${path.basename(largest).slice(0, 32)}.narinfo`;
  const narUrl = async (base: string) => /^URL: (.*)$/m.exec(await (await fetch(`${base}/${narinfo}`)).text())![1];
  const files = [
    ['one narinfo', narinfo, narinfo],
    [`one ${(narSize(largest) / 1e6).toFixed(0)} MB NAR`, await narUrl(gateway), await narUrl(nginxUrl)],
  ];
  for (const [what, gatewayFile, nginxFile] of files) {
    const ours = await requestTimes(() => `${gateway}/${gatewayFile}`, 200);
    const theirs = await requestTimes(() => `${nginxUrl}/${nginxFile}`, 200);
    rows.push(againstNginx(`ceiling: ${what} already on disk, GET 200 times over one connection (median)`, ours, theirs));
  }
}

/** Nix asks for the narinfo of every path it builds: most are misses, and each one waits for the answer. */
async function missBench(published: { node: KuboNode; ipnsName: string }, nginxUrl: string): Promise<void> {
  log('cache miss: a narinfo the cache lacks, through the gateway vs nginx');
  const missing = (i: number) =>
    `${i
      .toString(32)
      .padStart(32, '0')
      .replace(/[eotu]/g, 'a')}.narinfo`;
  const count = 2000;
  const gateway = await requestTimes((i) => `${published.node.gatewayUrl}/ipns/${published.ipnsName}/cache/${missing(i)}`, count);
  const nginx = await requestTimes((i) => `${nginxUrl}/${missing(i)}`, count);
  const p = (xs: number[]) => `p50 ${ms(pct(xs, 50))}, p99 ${ms(pct(xs, 99))}`;
  rows.push({
    area: 'Substitute',
    measure: `cache miss: GET of ${count} narinfos the cache lacks, one connection, through /ipns/<name>/cache`,
    value: p(gateway),
    baseline: `nginx ${p(nginx)}`,
    ratio: pct(nginx, 99) / pct(gateway, 99),
    target: 'p99 ≤ 2 ms',
  });
}

/**
 * A second node that has nothing yet: Nix through its gateway (each block fetched when the gateway
 * reaches it), also from a publisher answering want-haves with blocks up to 1 MiB, with `nix copy`
 * (2 paths at a time), and after `nix-ipfs replicate` (the whole root pinned first, many blocks per message).
 */
async function peerBench(closure: BenchClosure, nginxUrl: string): Promise<void> {
  log('substitute: from a second node that has nothing yet, over loopback bitswap');
  const publishers: { node: KuboNode; rootCid: string }[] = [];
  for (const config of [{}, { 'Internal.Bitswap.WantHaveReplaceSize': 1 << 20 }]) {
    const node: KuboNode = await startKuboNode({ offline: false, config });
    publishers.push({ node, rootCid: JSON.parse(cli(['publish', closure.top, '--api', node.apiAddr, '--json'])).rootCid });
  }
  const ways = ['peer', 'tunedPeer', 'peerCopy', 'replicate'] as const;
  const times: Record<(typeof ways)[number] | 'afterReplicate' | 'nginx' | 'nginxCopy', number[]> = {
    peer: [],
    tunedPeer: [],
    peerCopy: [],
    replicate: [],
    afterReplicate: [],
    nginx: [],
    nginxCopy: [],
  };
  for (let i = 0; i < 3; i++) {
    for (const what of ways) {
      const publisher = publishers[what === 'tunedPeer' ? 1 : 0];
      const peer: KuboNode = await startKuboNode({ offline: false });
      await peer.connect(publisher.node);
      const url = `${peer.gatewayUrl}/ipfs/${publisher.rootCid}/cache`;
      if (what === 'replicate') times.replicate.push(timeSync(() => cli(['replicate', publisher.rootCid, '--api', peer.apiAddr])));
      const substitute = what === 'peerCopy' ? nixCopyFrom : nixSubstitute;
      times[what === 'replicate' ? 'afterReplicate' : what].push(timeSync(() => substitute(url, closure.top, `${what}-${i}`)));
      await peer.dispose();
    }
    times.nginx.push(timeSync(() => nixSubstitute(nginxUrl, closure.top, `peer-nginx-${i}`)));
    times.nginxCopy.push(timeSync(() => nixCopyFrom(nginxUrl, closure.top, `peer-nginx-copy-${i}`)));
  }
  for (const publisher of publishers) await publisher.node.dispose();
  const replicated = times.replicate.map((t, i) => t + times.afterReplicate[i]);
  rows.push(againstNginx('same, through a second node that fetches every block from the first (bitswap)', times.peer, times.nginx, '≥ 0.2×'));
  rows.push(againstNginx('same, the first node with Internal.Bitswap.WantHaveReplaceSize = 1 MiB', times.tunedPeer, times.nginx, '≥ 0.2×'));
  rows.push(againstNginx('same through the second node, by nix copy --from (2 paths at a time: one per core)', times.peerCopy, times.nginxCopy));
  rows.push(
    againstNginx(
      `same, the second node running nix-ipfs replicate first (${ms(median(times.replicate))}), then Nix (${ms(median(times.afterReplicate))})`,
      replicated,
      times.nginx,
      '≥ 0.7×',
    ),
  );
}

/**
 * Two versions of one package tree that differ in a few files: what IPFS stores for both, per
 * chunker, against the NAR bytes and an xz binary cache of the same two paths.
 */
export async function dedupBench(): Promise<void> {
  log('dedup: two versions of a package tree, per chunker');
  // 120 files of 2–360 KB; version 2 changes three of them, one by an insertion in the middle.
  const files = Array.from({ length: 120 }, (_, i) => randomBytes(2000 + i * 3000));
  const paths = [1, 2].map((v) => {
    const dir = path.join(work, `dedup-pkg-${v}`, 'share');
    mkdirSync(dir, { recursive: true });
    files.forEach((bytes, i) => {
      let content = bytes;
      if (v === 2 && (i === 7 || i === 99)) content = Buffer.concat([bytes, Buffer.from('changed in version 2\n')]);
      if (v === 2 && i === 50) content = Buffer.concat([bytes.subarray(0, bytes.length / 2), Buffer.from('inserted\n'), bytes.subarray(bytes.length / 2)]);
      writeFileSync(path.join(dir, `data-${i}`), content);
    });
    return sh('nix-store', ['--add', path.dirname(dir)]);
  });
  const narBytes = paths.reduce((sum, p) => sum + execFileSync('nix-store', ['--dump', p], { maxBuffer: 1 << 30 }).length, 0);
  const xzDir = path.join(work, 'dedup-xz');
  sh('nix', ['copy', '--to', `file://${xzDir}?compression=xz`, ...paths]);
  const xzBytes = Number(sh('du', ['-sb', xzDir]).split('\t')[0]);
  for (const chunker of ['size-262144', 'rabin', 'buzhash']) {
    const node = await startKuboNode();
    const before = JSON.parse(await node.cli(['repo', 'stat', '--size-only', '--enc=json'])).RepoSize as number;
    sh(process.execPath, [path.join(root, 'dist/cli.mjs'), 'publish', ...paths, '--api', node.apiAddr, '--chunker', chunker, '--json']);
    await node.cli(['repo', 'gc', '--silent']);
    const after = JSON.parse(await node.cli(['repo', 'stat', '--size-only', '--enc=json'])).RepoSize as number;
    await node.dispose();
    const stored = after - before;
    rows.push({
      area: 'Dedup',
      measure: `2 versions (3 files differ), chunker ${chunker}: IPFS repo growth`,
      value: `${(stored / 1e6).toFixed(2)} MB`,
      baseline: `NARs ${(narBytes / 1e6).toFixed(2)} MB; xz cache ${(xzBytes / 1e6).toFixed(2)} MB`,
      ratio: narBytes / stored,
    });
  }
}

/** Many tiny paths: what each path costs beyond its bytes. */
export async function smallPathsBench(count: number): Promise<void> {
  log(`many small paths: ${count}`);
  const top = textClosure(count, 20);
  const ours: number[] = [];
  const baseline: number[] = [];
  const kuboAlone: number[] = [];
  const smallCache = (label: string) => path.join(work, `small-cache-${label}`);
  sh('nix', ['copy', '--to', `file://${smallCache('kubo-alone')}?compression=none`, top]);
  await rotated(3, [
    async () => {
      const node: KuboNode = await startKuboNode();
      ours.push(await time(() => cli(['publish', top, '--api', node.apiAddr, '--json'])));
      await node.dispose();
    },
    async () => baseline.push(await time(() => sh('nix', ['copy', '--to', `file://${smallCache(String(baseline.length))}?compression=none`, top]))),
    async () => kuboAlone.push(await cacheIntoKuboAlone(smallCache('kubo-alone'))),
  ]);
  const rate = (t: number) => `${((count + 1) / (t / 1000)).toFixed(0)} paths/s`;
  rows.push({
    area: 'Publish',
    measure: `${count + 1} tiny store paths (median of 3)`,
    value: rate(median(ours)),
    baseline: `nix copy --to file:// ${rate(median(baseline))}`,
    ratio: median(baseline) / median(ours),
    target: '≥ 0.5×',
  });
  rows.push({
    area: 'Publish',
    measure: 'ceiling: Kubo alone taking what that cache holds (its NARs and narinfos, 16 of each per add --to-files request)',
    value: rate(median(kuboAlone)),
    baseline: `nix copy --to file:// ${rate(median(baseline))}`,
    ratio: median(baseline) / median(kuboAlone),
  });
}

/** A Substitute row: nix-ipfs's median time against nginx's in the same run (above 1×, nix-ipfs is faster). */
function againstNginx(measure: string, ours: number[], nginx: number[], target?: string) {
  return { area: 'Substitute', measure, value: ms(median(ours)), baseline: `nginx ${ms(median(nginx))}`, ratio: median(nginx) / median(ours), target };
}
