// Shared by the benchmark sections: the rows of bench/RESULTS.md and small measuring helpers.
import { execFileSync } from 'node:child_process';
import { Agent, get } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const root = path.resolve(import.meta.dirname, '..');
export const work = mkdtempSync(path.join(tmpdir(), 'nix-ipfs-bench-'));
export const RUNS = 5;
export const rows: { area: string; measure: string; value: string; baseline: string; ratio?: number; target?: string }[] = [];
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
export const ms = (x: number) => `${x.toFixed(2)} ms`;
export const time = async (run: () => unknown) => {
  const t = performance.now();
  await run();
  return performance.now() - t;
};
export const timeSync = (run: () => unknown) => {
  const t = performance.now();
  run();
  return performance.now() - t;
};
export const sh = (cmd: string, args: string[], env = process.env) => execFileSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();
export const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
export const rand = (n: number) => new Uint8Array(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));

/** GETs one after another over one kept-alive connection, as Nix's curl asks: each one's time in ms. */
export async function requestTimes(urlFor: (i: number) => string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await new Promise<void>((resolve, reject) => get(urlFor(i), { agent }, (res) => res.resume().on('end', resolve).on('error', reject)).on('error', reject));
    times.push(performance.now() - t);
  }
  agent.destroy();
  return times;
}

/** The RPC requests a Kubo node has answered so far, from its own metrics. */
export async function rpcRequests(apiUrl: string): Promise<number> {
  const metrics = await (await fetch(`${apiUrl}/debug/metrics/prometheus`)).text();
  const port = new URL(apiUrl).port;
  return metrics
    .split('\n')
    .filter((l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes('http_route="/api/v0/"') && l.includes(`server_port="${port}"`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * `count` store paths of about `bytes` bytes each (builtins.toFile: written at evaluation, no build) and
 * one that names them all, whose closure they are; returns that one. Paths from `changedFrom` on hold
 * `version` instead of v1: other contents, other store paths.
 */
export function textClosure(count: number, bytes: number, changedFrom = count, version = 'v1'): string {
  const part = `builtins.toFile "text-\${toString i}" "path \${toString i} \${if i >= ${changedFrom} then "${version}" else "v1"} ${work} \${builtins.concatStringsSep "" (builtins.genList (_: "x") ${bytes})}"`;
  const expr = `builtins.toFile "text-closure" (toString (builtins.genList (i: ${part}) ${count}))`;
  return JSON.parse(sh('nix-instantiate', ['--eval', '--read-write-mode', '--json', '-E', expr]));
}
