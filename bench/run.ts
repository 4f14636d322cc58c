// `npm run bench`: every figure as a ratio against a baseline measured in the same run on the same
// machine (it is shared and noisy). Writes bench/RESULTS.md and bench/ratios.svg. Not part of npm test.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
// @ts-expect-error plain ESM module shared with the test rig
import { startKuboNode } from '../scripts/kubo-node.mjs';
import { scanWorkspace } from '../src/services/scan';
import { encodeNix32 } from '../src/core/nix-base32';
import { parseHash } from '../src/core/hash';
import { describeCid } from '../src/core/cid';
import { parseStorePath } from '../src/core/store-path';
import { parseNarInfo } from '../src/core/narinfo';
import { readNar } from '../src/core/nar';
import { extractFetchers, parseNix } from '../src/core/fetchers/extract';

const root = path.resolve(import.meta.dirname, '..');
const work = mkdtempSync(path.join(tmpdir(), 'nix-ipfs-bench-'));
const RUNS = 5;
const rows: { area: string; measure: string; value: string; baseline: string; ratio?: number; target?: string }[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const ms = (x: number) => `${x.toFixed(2)} ms`;
const time = async (run: () => unknown) => {
  const t = performance.now();
  await run();
  return performance.now() - t;
};
const sh = (cmd: string, args: string[], env = process.env) => execFileSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const rand = (n: number) => new Uint8Array(Array.from({ length: n }, () => Math.floor(Math.random() * 256)));

function generatedNix(count: number): string {
  const lines = ['{ buildVimPlugin, fetchFromGitHub, fetchurl }:', '{'];
  for (let i = 0; i < count; i++) {
    const hash = encodeNix32(rand(32));
    lines.push(
      i % 2 === 0
        ? `  plugin-${i} = buildVimPlugin { pname = "plugin-${i}"; version = "2024-01-${(i % 28) + 1}"; src = fetchFromGitHub { owner = "owner${i}"; repo = "plugin-${i}"; rev = "${Buffer.from(rand(20)).toString('hex')}"; sha256 = "${hash}"; }; };`
        : `  "pkg-${i}" = fetchurl { url = "https://registry.example.org/pkg-${i}/-/pkg-${i}-1.0.${i}.tgz"; sha256 = "${hash}"; };`,
    );
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

async function editorBench(): Promise<void> {
  log('editor: 10 000 fetchers over stdio');
  const text = generatedNix(10_000);
  const file = path.join(work, 'generated.nix');
  writeFileSync(file, text);
  const child = spawn(process.execPath, [path.join(root, 'dist/server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  let onDiagnostics = () => undefined as void;
  conn.onNotification('textDocument/publishDiagnostics', () => onDiagnostics());
  conn.onRequest('workspace/codeLens/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { kuboApi: '/ip4/127.0.0.1/tcp/9', hoverTimeoutMs: 0 } });
  await conn.sendNotification('initialized', {});
  const uri = pathToFileURL(file).href;
  const diagnosed = () => new Promise<void>((resolve) => (onDiagnostics = resolve));
  const firstParse = await time(async () => {
    const done = diagnosed();
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'nix', version: 1, text } });
    await done;
  });
  const lines = text.split('\n');
  const hashLines = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes('sha256 = "'));
  const hovers: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const [line, n] = hashLines[Math.floor(Math.random() * hashLines.length)];
    hovers.push(await time(() => conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: n, character: line.indexOf('sha256 = "') + 15 } })));
  }
  const lenses: number[] = [];
  for (let i = 0; i < RUNS; i++) lenses.push(await time(() => conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })));
  const edits: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [, n] = hashLines[Math.floor(Math.random() * hashLines.length)];
    edits.push(
      await time(async () => {
        const done = diagnosed();
        await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: i + 2 }, contentChanges: [{ range: { start: { line: n, character: 2 }, end: { line: n, character: 2 } }, text: ' ' }] });
        await done;
      }),
    );
  }
  conn.dispose();
  child.kill();
  // Baseline: the same text through the parser alone, in this process.
  const parseOnly = median(await Promise.all(Array.from({ length: RUNS }, () => time(() => extractFetchers(parseNix(text))))));
  const mb = (Buffer.byteLength(text) / 1e6).toFixed(1);
  rows.push({ area: 'Editor', measure: `first parse + diagnostics, ${mb} MB file (10 000 fetchers)`, value: ms(firstParse), baseline: `parse+extract in-process ${ms(parseOnly)}`, ratio: firstParse / parseOnly, target: '≤ 200 ms' });
  rows.push({ area: 'Editor', measure: 'hover p50 / p99 (2 000 hovers, computed part)', value: `${ms(pct(hovers, 50))} / ${ms(pct(hovers, 99))}`, baseline: '', target: 'p99 ≤ 5 ms' });
  rows.push({ area: 'Editor', measure: 'code lenses for 10 000 fetchers (median of 5)', value: ms(median(lenses)), baseline: '', target: '≤ 50 ms' });
  rows.push({ area: 'Editor', measure: 'edit → diagnostics, incremental re-parse (median of 5)', value: ms(median(edits)), baseline: `full parse ${ms(parseOnly)}`, ratio: median(edits) / parseOnly });
}

async function scanBench(): Promise<void> {
  log('scan: a tree of generated .nix files vs rg');
  const tree = path.join(work, 'tree');
  for (let d = 0; d < 20; d++) {
    mkdirSync(path.join(tree, `dir${d}`), { recursive: true });
    for (let f = 0; f < 10; f++) writeFileSync(path.join(tree, `dir${d}`, `f${f}.nix`), generatedNix(500));
  }
  const bytes = Number(sh('du', ['-sb', tree]).split('\t')[0]);
  const scans: number[] = [];
  for (let i = 0; i < RUNS; i++) scans.push(await time(() => scanWorkspace(tree)));
  const ours = median(scans);
  const rg = median(Array.from({ length: RUNS }, () => {
    const t = performance.now();
    spawnSync('rg', ['-c', 'sha256 = "', tree]);
    return performance.now() - t;
  }));
  const mbs = (t: number) => `${(bytes / 1e6 / (t / 1000)).toFixed(1)} MB/s`;
  rows.push({ area: 'Scan', measure: `workspace scan, ${(bytes / 1e6).toFixed(0)} MB of .nix (median of 5)`, value: mbs(ours), baseline: `rg ${mbs(rg)}`, ratio: rg / ours, target: '≥ 25 MB/s' });
}

async function publishBench(): Promise<void> {
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
  await lastNode!.dispose();
}

async function smallPathsBench(count: number): Promise<void> {
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

async function fuzzCounts(): Promise<void> {
  log('fuzz: 10^5 cases per parser');
  const alphabet = '0123456789abcdfghijklmnpqrsvwxyz:-=+/ABCDsha256{}"; ';
  const randText = () => Array.from({ length: Math.floor(Math.random() * 80) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
  const parsers: [string, (s: string) => unknown][] = [
    ['hash', (s) => parseHash(s, 'sha256')],
    ['CID', (s) => describeCid(s)],
    ['store path', (s) => parseStorePath(`/nix/store/${s}`)],
    ['narinfo', (s) => parseNarInfo(`StorePath: /nix/store/${s}\nURL: ${s}\nNarHash: ${s}\nNarSize: 1\n`)],
    ['fetcher extraction', (s) => extractFetchers(parseNix(`{ x = fetchurl { url = "${s}"; sha256 = "${s}"; }; }`))],
  ];
  for (const [name, parse] of parsers) {
    let typed = 0;
    let other = 0;
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) {
      try {
        parse(randText());
      } catch (error) {
        if ((error as Error).name === 'ParseError') typed++;
        else other++;
      }
    }
    rows.push({ area: 'Fuzz', measure: `${name}: 10^5 random inputs`, value: `${typed} typed errors, ${other} untyped`, baseline: `${((performance.now() - t) / 1000).toFixed(1)} s` });
  }
  let narTyped = 0;
  let narOther = 0;
  const valid = execFileSync('nix-store', ['--dump', path.join(root, 'examples')]);
  for (let i = 0; i < 100_000; i++) {
    const bytes = Buffer.from(valid.subarray(0, Math.floor(Math.random() * valid.length)));
    bytes[Math.floor(Math.random() * bytes.length)] ^= 0xff;
    try {
      for await (const e of readNar((async function* () { yield bytes; })())) if (e.contents) for await (const _ of e.contents);
    } catch (error) {
      if ((error as Error).name === 'ParseError') narTyped++;
      else narOther++;
    }
  }
  rows.push({ area: 'Fuzz', measure: 'NAR reader: 10^5 truncated/corrupted NARs', value: `${narTyped} typed errors, ${narOther} untyped`, baseline: '' });
}

function chart(): string {
  const bars = rows.filter((r) => r.ratio !== undefined && (r.area === 'Publish' || r.area === 'Substitute'));
  const height = 40 + bars.length * 36;
  const scale = 300 / Math.max(1.5, ...bars.map((b) => b.ratio!));
  const items = bars.map((b, i) => {
    const y = 30 + i * 36;
    return `<text x="10" y="${y + 16}" font-size="12">${b.measure.slice(0, 48).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text><rect x="360" y="${y}" width="${(b.ratio! * scale).toFixed(1)}" height="22" fill="#65c2cb"/><text x="${365 + b.ratio! * scale}" y="${y + 16}" font-size="12">${b.ratio!.toFixed(2)}×</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">nix-ipfs speed relative to the baseline of the same run (1.0 = as fast; higher is better)</text><line x1="${360 + scale}" y1="24" x2="${360 + scale}" y2="${height - 4}" stroke="#999" stroke-dasharray="4"/>${items.join('')}</svg>\n`;
}

function bundleSizes(): void {
  for (const bundle of ['extension.js', 'server.js', 'cli.js']) {
    const size = statSync(path.join(root, 'dist', bundle)).size;
    rows.push({ area: 'Bundle', measure: `dist/${bundle} (production, minified)`, value: `${(size / 1024).toFixed(0)} KiB`, baseline: '', target: bundle === 'extension.js' ? '≤ 1 MB' : '' });
  }
  try {
    const activation = readFileSync(path.join(root, 'test-results/activation-ms.txt'), 'utf8').trim();
    rows.push({ area: 'Bundle', measure: 'extension activation, from the last e2e run in code-server', value: `${activation} ms`, baseline: '', target: '≤ 100 ms' });
  } catch {
    // no e2e run on this machine yet
  }
}

const started = Date.now();
bundleSizes();
await editorBench();
await scanBench();
await publishBench();
await smallPathsBench(Number(process.env.NIX_IPFS_BENCH_SMALL_PATHS ?? 1000));
await fuzzCounts();
const versions = `Node ${process.version}; ${sh('nix', ['--version'])}; Kubo ${sh(process.env.NIX_IPFS_KUBO_BIN!, ['version', '--number'])}`;
const table = rows.map((r) => `| ${r.area} | ${r.measure} | ${r.value} | ${r.baseline} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`} | ${r.target ?? ''} |`);
writeFileSync(
  path.join(root, 'bench/RESULTS.md'),
  [
    '# nix-ipfs benchmark results',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${versions}. Took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    'Ratios compare nix-ipfs with the baseline measured in the same run: above 1× nix-ipfs is faster (for rates) or the baseline is slower.',
    '',
    '| area | measure | nix-ipfs | baseline (same run) | ratio | target |',
    '|---|---|---|---|---|---|',
    ...table,
    '',
    '![ratios](ratios.svg)',
    '',
  ].join('\n'),
);
writeFileSync(path.join(root, 'bench/ratios.svg'), chart());
rmSync(work, { recursive: true, force: true });
log('wrote bench/RESULTS.md and bench/ratios.svg');
process.exit(0);
