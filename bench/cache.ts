// Publishing to and substituting from Kubo, against \`ipfs add\` and \`nix copy\` file:// caches.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain ESM module shared with the test rig
import { startKuboNode } from '../scripts/kubo-node.mjs';
import { log, median, ms, root, rows, sh, time, work } from './measure';

export async function publishBench(): Promise<void> {
  log('publish: a generated closure vs ipfs add of the same NAR bytes vs nix copy --to file://');
  const env = { ...process.env };
  const tag = Date.now();
  const expr = path.join(work, 'closure.nix');
  // 190 small paths (1–60 KB) and 10 of 4 MB, all referenced by one top path.
  writeFileSync(
    expr,
    `let mk = i: size: derivation { name = "bench-\${toString i}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "/usr/bin/head -c \${toString size} /dev/urandom > $out; echo ${tag} >> $out" ]; };
  parts = builtins.genList (i: mk i (if i < 10 then 4000000 else 1000 + i * 300)) 200;
in derivation { name = "bench-top"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo \${toString parts} > $out" ]; }\n`,
  );
  const top = sh('nix-build', ['--no-out-link', expr], env);
  const closure = sh('nix-store', ['-qR', top]).split('\n');
  const narDir = path.join(work, 'nars');
  mkdirSync(narDir);
  for (const p of closure) writeFileSync(path.join(narDir, `${path.basename(p)}.nar`), execFileSync('nix-store', ['--dump', p], { maxBuffer: 1 << 30 }));
  const narBytes = closure.reduce((s, p) => s + statSync(path.join(narDir, `${path.basename(p)}.nar`)).size, 0);
  const cli = (args: string[]) => sh(process.execPath, [path.join(root, 'dist/cli.js'), ...args], env);
  const ours: number[] = [];
  const raw: number[] = [];
  const fileCache: number[] = [];
  let resumed = 0;
  let lastNode: { apiAddr: string; gatewayUrl: string; dispose(): Promise<void> } | undefined;
  let rootCid = '';
  for (let i = 0; i < 3; i++) {
    const node = await startKuboNode();
    ours.push(await time(() => (rootCid = JSON.parse(cli(['publish', top, '--api', node.apiAddr, '--json'])).rootCid)));
    if (i === 2) {
      resumed = await time(() => cli(['publish', top, '--api', node.apiAddr, '--json']));
      lastNode = node;
    } else await node.dispose();
    const baselineNode = await startKuboNode();
    raw.push(await time(() => baselineNode.cli(['add', '-r', '-Q', '--cid-version=1', '--raw-leaves', '--chunker=buzhash', narDir])));
    await baselineNode.dispose();
    const dir = path.join(work, `file-cache-${i}`);
    fileCache.push(await time(() => sh('nix', ['copy', '--to', `file://${dir}?compression=none`, top], env)));
  }
  const mbs = (t: number) => `${(narBytes / 1e6 / (t / 1000)).toFixed(1)} MB/s`;
  rows.push({ area: 'Publish', measure: `${closure.length} paths, ${(narBytes / 1e6).toFixed(0)} MB of NAR (median of 3)`, value: mbs(median(ours)), baseline: `ipfs add -r of the same NARs ${mbs(median(raw))}`, ratio: median(raw) / median(ours), target: '≥ 0.8×' });
  rows.push({ area: 'Publish', measure: 'same closure vs nix copy --to file:// (compression=none)', value: mbs(median(ours)), baseline: mbs(median(fileCache)), ratio: median(fileCache) / median(ours) });
  rows.push({ area: 'Publish', measure: 're-publish of the unchanged closure (no NAR re-read)', value: ms(resumed), baseline: `first publish ${ms(ours[2])}`, ratio: ours[2] / resumed, target: 'seconds' });

  log('substitute: nix copy --from the gateway vs --from file://');
  const viaGateway: number[] = [];
  const viaFile: number[] = [];
  for (let i = 0; i < 3; i++) {
    const xdg = { ...env, XDG_CACHE_HOME: path.join(work, `xdg-${i}`) };
    viaGateway.push(await time(() => sh('nix', ['copy', '--from', `${lastNode!.gatewayUrl}/ipfs/${rootCid}/cache`, '--to', path.join(work, `sub-gw-${i}`), top, '--option', 'require-sigs', 'false'], xdg)));
    viaFile.push(await time(() => sh('nix', ['copy', '--from', `file://${path.join(work, 'file-cache-0')}`, '--to', path.join(work, `sub-file-${i}`), top, '--option', 'require-sigs', 'false'], xdg)));
  }
  rows.push({ area: 'Substitute', measure: `nix copy --from <gateway>/ipfs/<root>/cache, ${closure.length} paths (median of 3)`, value: ms(median(viaGateway)), baseline: `--from file:// ${ms(median(viaFile))}`, ratio: median(viaFile) / median(viaGateway), target: '≥ 0.7×' });

  log('substitute: from a second node that has nothing yet, over loopback bitswap');
  const viaPeer: number[] = [];
  const publisher = await startKuboNode({ offline: false });
  const published = JSON.parse(cli(['publish', top, '--api', publisher.apiAddr, '--json']));
  for (let i = 0; i < 3; i++) {
    const peer = await startKuboNode({ offline: false });
    await peer.connect(publisher);
    const xdg = { ...env, XDG_CACHE_HOME: path.join(work, `xdg-peer-${i}`) };
    viaPeer.push(await time(() => sh('nix', ['copy', '--from', `${peer.gatewayUrl}/ipfs/${published.rootCid}/cache`, '--to', path.join(work, `sub-peer-${i}`), top, '--option', 'require-sigs', 'false'], xdg)));
    await peer.dispose();
  }
  // The same, when the second node first pins the whole published root (many wants at once).
  const viaPrefetch: number[] = [];
  for (let i = 0; i < 3; i++) {
    const peer = await startKuboNode({ offline: false });
    await peer.connect(publisher);
    const xdg = { ...env, XDG_CACHE_HOME: path.join(work, `xdg-prefetch-${i}`) };
    viaPrefetch.push(
      await time(async () => {
        await peer.cli(['pin', 'add', '--progress=false', published.rootCid]);
        sh('nix', ['copy', '--from', `${peer.gatewayUrl}/ipfs/${published.rootCid}/cache`, '--to', path.join(work, `sub-prefetch-${i}`), top, '--option', 'require-sigs', 'false'], xdg);
      }),
    );
    await peer.dispose();
  }
  await publisher.dispose();
  rows.push({ area: 'Substitute', measure: `same, through a second node fetching every block from the first (bitswap)`, value: ms(median(viaPeer)), baseline: `--from file:// ${ms(median(viaFile))}`, ratio: median(viaFile) / median(viaPeer), target: '≥ 0.7×' });
  rows.push({ area: 'Substitute', measure: `same, the second node pinning the published root first (ipfs pin add), then nix copy`, value: ms(median(viaPrefetch)), baseline: `--from file:// ${ms(median(viaFile))}`, ratio: median(viaFile) / median(viaPrefetch), target: '≥ 0.7×' });
  await lastNode!.dispose();
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
    sh(process.execPath, [path.join(root, 'dist/cli.js'), 'publish', ...paths, '--api', node.apiAddr, '--chunker', chunker, '--json']);
    await node.cli(['repo', 'gc', '--silent']);
    const after = JSON.parse(await node.cli(['repo', 'stat', '--size-only', '--enc=json'])).RepoSize as number;
    await node.dispose();
    const stored = after - before;
    rows.push({ area: 'Dedup', measure: `2 versions (3 files differ), chunker ${chunker}: IPFS repo growth`, value: `${(stored / 1e6).toFixed(2)} MB`, baseline: `NARs ${(narBytes / 1e6).toFixed(2)} MB; xz cache ${(xzBytes / 1e6).toFixed(2)} MB`, ratio: narBytes / stored });
  }
}

export async function smallPathsBench(count: number): Promise<void> {
  log(`many small paths: ${count}`);
  const expr = path.join(work, 'small.nix');
  writeFileSync(expr, `let parts = builtins.genList (i: derivation { name = "tiny-\${toString i}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo tiny \${toString i} ${Date.now()} > $out" ]; }) ${count};
in derivation { name = "tiny-top"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo \${toString parts} > $out" ]; }\n`);
  const top = sh('nix-build', ['--no-out-link', expr]);
  const node = await startKuboNode();
  const t = await time(() => sh(process.execPath, [path.join(root, 'dist/cli.js'), 'publish', top, '--api', node.apiAddr, '--concurrency', '8', '--json']));
  const dir = path.join(work, 'small-cache');
  const baseline = await time(() => sh('nix', ['copy', '--to', `file://${dir}?compression=none`, top]));
  await node.dispose();
  rows.push({ area: 'Publish', measure: `${count + 1} tiny store paths`, value: `${((count + 1) / (t / 1000)).toFixed(0)} paths/s`, baseline: `nix copy --to file:// ${((count + 1) / (baseline / 1000)).toFixed(0)} paths/s`, ratio: baseline / t, target: '≥ 100 paths/s' });
}

