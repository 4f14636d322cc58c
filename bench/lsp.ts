// The language server over stdio (hover, lenses, diagnostics on a 10 000-fetcher file) and the
// workspace scan (the built CLI, on worker threads) against Nix's own parser. \`npm run bench -- lsp\` runs these alone.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { encodeNix32 } from '../src/core/nix-base32';
import { availableParallelism } from 'node:os';
import { nixParser } from '../src/core/fetchers/grammar';
import { extractFetchers, parseNix } from '../src/core/fetchers/extract';
import { log, median, ms, pct, rand, root, rows, RUNS, sh, time, work } from './measure';

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

export async function editorBench(): Promise<void> {
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
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    initializationOptions: { kuboApi: '/ip4/127.0.0.1/tcp/9', hoverTimeoutMs: 0 },
  });
  await conn.sendNotification('initialized', {});
  const uri = pathToFileURL(file).href;
  const diagnosed = () => new Promise<void>((resolve) => (onDiagnostics = resolve));
  const open = (uri: string, text: string) =>
    time(async () => {
      const done = diagnosed();
      await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'nix', version: 1, text } });
      await done;
    });
  // The first file a fresh server sees pays for the JIT; later ones show what opening a big file costs.
  const firstParse = await open(uri, text);
  const laterOpens: number[] = [];
  for (let i = 0; i < RUNS; i++) laterOpens.push(await open(pathToFileURL(path.join(work, `other-${i}.nix`)).href, generatedNix(10_000)));
  const lines = text.split('\n');
  const hashLines = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes('sha256 = "'));
  const hovers: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const [line, n] = hashLines[Math.floor(Math.random() * hashLines.length)];
    hovers.push(
      await time(() => conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: n, character: line.indexOf('sha256 = "') + 15 } })),
    );
  }
  const lenses: number[] = [];
  for (let i = 0; i < RUNS; i++) lenses.push(await time(() => conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })));
  const edits: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [, n] = hashLines[Math.floor(Math.random() * hashLines.length)];
    edits.push(
      await time(async () => {
        const done = diagnosed();
        await conn.sendNotification('textDocument/didChange', {
          textDocument: { uri, version: i + 2 },
          contentChanges: [{ range: { start: { line: n, character: 2 }, end: { line: n, character: 2 } }, text: ' ' }],
        });
        await done;
      }),
    );
  }
  conn.dispose();
  child.kill();
  // Baseline: the same text through the parser alone, in this process.
  const parses: number[] = [];
  for (let i = 0; i < RUNS; i++) parses.push(await time(() => extractFetchers(parseNix(text))));
  const parseOnly = median(parses);
  const mb = (Buffer.byteLength(text) / 1e6).toFixed(1);
  rows.push({
    area: 'Editor',
    measure: `first parse + diagnostics, ${mb} MB file (10 000 fetchers), the first file a fresh server opens`,
    value: ms(firstParse),
    baseline: `parse+extract in-process ${ms(parseOnly)}`,
    ratio: firstParse / parseOnly,
    target: '≤ 200 ms',
  });
  rows.push({
    area: 'Editor',
    measure: `first parse + diagnostics of another ${mb} MB file, server running (median of 5; chunks on worker threads)`,
    value: ms(median(laterOpens)),
    baseline: `parse+extract in-process ${ms(parseOnly)}`,
    ratio: median(laterOpens) / parseOnly,
    target: '≤ 200 ms',
  });
  rows.push({
    area: 'Editor',
    measure: 'hover p50 / p99 (2 000 hovers, computed part)',
    value: `${ms(pct(hovers, 50))} / ${ms(pct(hovers, 99))}`,
    baseline: '',
    target: 'p99 ≤ 5 ms',
  });
  rows.push({ area: 'Editor', measure: 'code lenses for 10 000 fetchers (median of 5)', value: ms(median(lenses)), baseline: '', target: '≤ 50 ms' });
  rows.push({
    area: 'Editor',
    measure: 'edit → diagnostics, incremental re-parse (median of 5)',
    value: ms(median(edits)),
    baseline: `full parse ${ms(parseOnly)}`,
    ratio: median(edits) / parseOnly,
  });
}

/** Starts of the CLI measured for the start-up row. */
const STARTS = 21;

/**
 * The scan's tree: big generated sets, and the nixpkgs-shaped files of the recall test (wrappers, data files, packages);
 * without `generated`, those files alone (written by hand: the grammar parses all of them).
 */
function scanTree(name: string, generated: boolean): string {
  const tree = path.join(work, name);
  const shapes = path.join(root, 'test/fixtures/nixpkgs-shapes');
  for (let d = 0; d < 20; d++) {
    mkdirSync(path.join(tree, `dir${d}`), { recursive: true });
    for (let f = 0; f < (generated ? 10 : 0); f++) writeFileSync(path.join(tree, `dir${d}`, `f${f}.nix`), generatedNix(500));
    for (const file of readdirSync(shapes)) copyFileSync(path.join(shapes, file), path.join(tree, `dir${d}`, file));
  }
  return tree;
}

/** Wall time and peak resident memory of a command (GNU time's %M), its output discarded. */
function run(cmd: string, args: string[]): { ms: number; peakKb: number } {
  const t = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr.slice(-500)}`);
  return { ms, peakKb: Number(result.stderr.trim().split('\n').pop()) };
}

/**
 * The built CLI, as users run it (files parsed on worker threads, one per core), against Nix's own parser over the
 * same files in one process (it builds the syntax tree of every file, as the scan does), turn about on a shared machine.
 */
function scanAndNix(tree: string): { ours: { ms: number; peakKb: number }[]; nix: { ms: number; peakKb: number }[]; bytes: number; files: number } {
  const files = sh('find', [tree, '-name', '*.nix']).split('\n');
  const ours: { ms: number; peakKb: number }[] = [];
  const nix: { ms: number; peakKb: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(run(process.execPath, [path.join(root, 'dist/cli.mjs'), 'scan', tree, '--json']));
    nix.push(run('nix-instantiate', ['--parse', ...files]));
  }
  return { ours, nix, bytes: Number(sh('du', ['-sb', tree]).split('\t')[0]), files: files.length };
}

export async function scanBench(): Promise<void> {
  log('scan: a tree of generated and nixpkgs-shaped .nix files vs nix-instantiate --parse');
  const { ours, nix, bytes, files } = scanAndNix(scanTree('tree', true));
  const handWritten = scanAndNix(scanTree('hand-written', false));
  const cli = path.join(root, 'dist/cli.mjs');
  const tiny = path.join(work, 'tiny.nix');
  writeFileSync(tiny, '{ fetchurl }: fetchurl { url = "https://example.org/a.tar.gz"; sha256 = "0ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g"; }\n');
  // A start is ~0.1 s and noisy on a shared machine: many runs, turn about with Nix's.
  // Node's own start (`node -e 0`) in the same rounds: the floor under any Node CLI on this machine at that minute.
  const starts = Array.from({ length: STARTS }, () => [
    run(process.execPath, [cli, 'scan', tiny, '--json']).ms,
    run('nix-instantiate', ['--parse', tiny]).ms,
    run(process.execPath, ['-e', '0']).ms,
  ]);
  const [startUp, nixStartUp, nodeStartUp] = [0, 1, 2].map((k) => median(starts.map((times) => times[k]!)));
  const [oursMs, nixMs] = [median(ours.map((r) => r.ms)), median(nix.map((r) => r.ms))];
  const mbs = (t: number, size = bytes) => `${(size / 1e6 / (t / 1000)).toFixed(1)} MB/s`;
  const peak = (runs: { peakKb: number }[]) => `${(Math.max(...runs.map((r) => r.peakKb)) / 1024).toFixed(0)} MiB`;
  // The ceiling: the grammar alone on one core, times the cores, is the most any scan that parses every file can reach.
  const sample = generatedNix(5000);
  const grammarAlone = median(
    Array.from({ length: RUNS }, () => {
      const t = performance.now();
      nixParser.parse(sample);
      return performance.now() - t;
    }),
  );
  const perCore = Buffer.byteLength(sample) / 1e6 / (grammarAlone / 1000);
  const size = `${(bytes / 1e6).toFixed(0)} MB in ${files} files`;
  rows.push({
    area: 'Scan',
    measure: 'the grammar alone (Lezer Nix parse, no extraction), one core; × cores = ceiling for a full-parse scan',
    value: `${perCore.toFixed(1)} MB/s`,
    baseline: `${availableParallelism()} cores: ${(perCore * availableParallelism()).toFixed(1)} MB/s`,
    target: '',
  });
  rows.push({
    area: 'Scan',
    measure: `workspace scan (nix-ipfs scan --json, worker threads), ${size} (median of 5)`,
    value: mbs(oursMs),
    baseline: `nix-instantiate --parse ${mbs(nixMs)}`,
    ratio: nixMs / oursMs,
    target: '≥ 0.5×',
  });
  const [handMs, handNixMs] = [median(handWritten.ours.map((r) => r.ms)), median(handWritten.nix.map((r) => r.ms))];
  rows.push({
    area: 'Scan',
    measure: `the same without the generated sets: the hand-written files only, ${(handWritten.bytes / 1e6).toFixed(1)} MB in ${handWritten.files} files (median of 5)`,
    value: mbs(handMs, handWritten.bytes),
    baseline: `nix-instantiate --parse ${mbs(handNixMs, handWritten.bytes)}`,
    ratio: handNixMs / handMs,
    target: '',
  });
  rows.push({
    area: 'Scan',
    measure: 'workspace scan, peak memory (resident, GNU time)',
    value: peak(ours),
    baseline: `nix-instantiate --parse ${peak(nix)}`,
    target: '',
  });
  rows.push({
    area: 'Scan',
    measure: `scan start-up: one small file, process start to exit (median of ${STARTS})`,
    value: `${ms(startUp)} (node -e 0 alone: ${ms(nodeStartUp)})`,
    baseline: `nix-instantiate --parse ${ms(nixStartUp)}`,
    ratio: nixStartUp / startUp,
    target: '≤ 100 ms',
  });
}
