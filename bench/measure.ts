// Shared by the benchmark sections: the rows of bench/RESULTS.md and small measuring helpers.
import { execFileSync } from 'node:child_process';
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
export const sh = (cmd: string, args: string[], env = process.env) => execFileSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();
export const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
export const rand = (n: number) => new Uint8Array(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));
