// A 5 000-path closure published (signed), then re-published after 50 of its paths changed: time, peak
// memory and Kubo RPC requests, against `nix copy --to file://` doing the same into one cache directory.
import { readFileSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain ESM module shared with the test rig
import { startKuboNode } from '../scripts/kubo-node.mjs';
import type { KuboNode } from './cache';
import { startNginx } from './nginx';
import { log, ms, pct, requestTimes, root, rows, rpcRequests, sh, textClosure, timeSync, work } from './measure';

/** Runs the CLI under /usr/bin/time: how long it took and its peak resident memory. */
function measuredCli(args: string[]): { ms: number; peakMiB: number; stdout: string } {
  const report = path.join(work, 'time.txt');
  let stdout = '';
  const t = timeSync(
    () =>
      (stdout = sh('/usr/bin/time', ['-f', '%M', '-o', report, process.execPath, path.join(root, 'dist/cli.mjs'), ...args], {
        ...process.env,
        XDG_STATE_HOME: path.join(work, 'state'),
      })),
  );
  return { ms: t, peakMiB: Number(readFileSync(report, 'utf8').trim().split('\n').pop()) / 1024, stdout };
}

const kuboPeakMiB = (node: { daemon: { pid: number } }) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${node.daemon.pid}/status`, 'utf8'))![1]) / 1024;

export async function scaleBench(count: number, changed: number): Promise<void> {
  log(`scale: ${count} paths, then ${changed} changed`);
  const first = textClosure(count, 900);
  const second = textClosure(count, 900, count - changed, 'v2');
  // Signed, as a team publishes: a signed re-publish also checks the signatures of what is there.
  const secretKey = path.join(work, 'scale-key.sec');
  sh('nix-store', ['--generate-binary-cache-key', 'scale-bench-1', secretKey, path.join(work, 'scale-key.pub')]);
  const node: KuboNode & { daemon: { pid: number } } = await startKuboNode();
  const fileCache = `file://${path.join(work, 'scale-cache')}?compression=none`;
  try {
    const publishOnce = async (top: string) => {
      // The last phase's new files still being written back would slow this one (ext4 here: seconds).
      sh('sync', []);
      const before = await rpcRequests(node.apiUrl);
      const run = measuredCli(['publish', top, '--api', node.apiAddr, '--key-file', secretKey, '--json']);
      sh('sync', []);
      const baseline = timeSync(() => sh('nix', ['copy', '--to', fileCache, top]));
      return { ...run, rpc: (await rpcRequests(node.apiUrl)) - before, baseline };
    };
    const initial = await publishOnce(first);
    const again = await publishOnce(second);
    const paths = count + 1;
    const mem = (run: { peakMiB: number }) => `peak ${run.peakMiB.toFixed(0)} MiB (CLI)`;
    rows.push({
      area: 'Scale',
      measure: `publish ${paths} paths (1 KB each, signed) into an empty cache`,
      value: `${ms(initial.ms)}, ${mem(initial)}, ${(initial.rpc / paths).toFixed(2)} RPC requests per path`,
      baseline: `nix copy --to file:// ${ms(initial.baseline)}`,
      ratio: initial.baseline / initial.ms,
    });
    rows.push({
      area: 'Scale',
      measure: `re-publish after ${changed} paths changed (${changed + 1} new paths, ${paths} in the closure)`,
      value: `${ms(again.ms)}, ${mem(again)}, ${again.rpc} RPC requests (${(again.rpc / (changed + 1)).toFixed(2)} per new path)`,
      baseline: `nix copy --to file:// ${ms(again.baseline)}`,
      ratio: again.baseline / again.ms,
    });
    rows.push({ area: 'Scale', measure: `Kubo's peak memory after both`, value: `${kuboPeakMiB(node).toFixed(0)} MiB`, baseline: '' });
    await scaleMisses(`${node.gatewayUrl}/ipns/${JSON.parse(again.stdout).ipnsName}/cache`, paths, fileCache);
  } finally {
    await node.dispose();
  }
}

/** Cache misses on the large cache (its directory is sharded now) against nginx serving the file:// copy. */
async function scaleMisses(gateway: string, paths: number, fileCache: string): Promise<void> {
  const nginx = await startNginx(new URL(fileCache).pathname);
  const missing = (i: number) =>
    `${(i + 7)
      .toString(32)
      .padStart(32, '0')
      .replace(/[eotu]/g, 'a')}.narinfo`;
  const ours = await requestTimes((i) => `${gateway}/${missing(i)}`, 2000);
  const theirs = await requestTimes((i) => `${nginx.url}/${missing(i)}`, 2000);
  await nginx.stop();
  const p = (xs: number[]) => `p50 ${ms(pct(xs, 50))}, p99 ${ms(pct(xs, 99))}`;
  rows.push({
    area: 'Scale',
    measure: `cache miss on the ${paths}-path cache (2 000 GETs, one connection)`,
    value: p(ours),
    baseline: `nginx ${p(theirs)}`,
    ratio: pct(theirs, 99) / pct(ours, 99),
    target: 'p99 ≤ 2 ms',
  });
}
