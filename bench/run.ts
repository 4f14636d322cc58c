// `npm run bench [-- lsp|cache|scale|fuzz ...]`: every figure as a ratio against a baseline measured in the
// same run on the same machine (it is shared and noisy). Writes bench/RESULTS.md and bench/ratios.svg;
// with some sections, only their rows change. Not part of npm test.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { editorBench, scanBench } from './lsp';
import { cacheBench, dedupBench, smallPathsBench } from './cache';
import { scaleBench } from './scale';
import { fuzzCounts } from './fuzz';
import { log, root, rows, sh, work } from './measure';

const SECTIONS: Record<string, () => Promise<void>> = {
  lsp: async () => {
    await editorBench();
    await scanBench();
  },
  cache: async () => {
    await cacheBench();
    await smallPathsBench(Number(process.env.NIX_IPFS_BENCH_SMALL_PATHS ?? 1000));
    await dedupBench();
  },
  scale: () => scaleBench(Number(process.env.NIX_IPFS_BENCH_SCALE_PATHS ?? 5000), 50),
  fuzz: fuzzCounts,
};
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SECTIONS);
for (const name of chosen) if (!SECTIONS[name]) throw new Error(`unknown bench section ${name}: ${Object.keys(SECTIONS).join(', ')}`);

/** Bars for the Publish and Substitute rows of the table that have a ratio. */
function chart(table: string[]): string {
  const bars = table
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter(([, area, , , , ratio]) => (area === 'Publish' || area === 'Substitute') && ratio)
    .map(([, , measure, , , ratio]) => ({ measure, ratio: parseFloat(ratio) }));
  const height = 40 + bars.length * 36;
  const scale = 300 / Math.max(1.5, ...bars.map((b) => b.ratio));
  const items = bars.map((b, i) => {
    const y = 30 + i * 36;
    return `<text x="10" y="${y + 16}" font-size="12">${b.measure.slice(0, 48).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text><rect x="360" y="${y}" width="${(b.ratio * scale).toFixed(1)}" height="22" fill="#65c2cb"/><text x="${365 + b.ratio * scale}" y="${y + 16}" font-size="12">${b.ratio.toFixed(2)}×</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">nix-ipfs speed relative to the baseline of the same run (1.0 = as fast; higher is better)</text><line x1="${360 + scale}" y1="24" x2="${360 + scale}" y2="${height - 4}" stroke="#999" stroke-dasharray="4"/>${items.join('')}</svg>\n`;
}

function bundleSizes(): void {
  const dist = path.join(root, 'dist');
  const cliFiles = readdirSync(dist).filter((f) => /^cli[.-].*\.mjs$/.test(f));
  const bundles: [string, string[]][] = [
    ['extension.js', ['extension.js']],
    ['server.js', ['server.js']],
    [`cli.mjs and its ${cliFiles.length - 1} chunks`, cliFiles],
  ];
  for (const [bundle, files] of bundles) {
    const size = files.reduce((sum, f) => sum + statSync(path.join(dist, f)).size, 0);
    rows.push({
      area: 'Bundle',
      measure: `dist/${bundle} (production, minified)`,
      value: `${(size / 1024).toFixed(0)} KiB`,
      baseline: '',
      target: bundle === 'extension.js' ? '≤ 1 MB' : '',
    });
  }
  try {
    const activation = readFileSync(path.join(root, 'test-results/activation-ms.txt'), 'utf8').trim();
    rows.push({
      area: 'Bundle',
      measure: 'extension activation, from the last e2e run in code-server',
      value: `${activation} ms`,
      baseline: '',
      target: '≤ 100 ms',
    });
  } catch {
    // no e2e run on this machine yet
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();
const started = Date.now();
bundleSizes();
for (const name of chosen) await SECTIONS[name]();
const versions = `Node ${process.version}; ${sh('nix', ['--version'])}; Kubo ${sh(process.env.NIX_IPFS_KUBO_BIN!, ['version', '--number'])}`;
const cells = (r: (typeof rows)[number]) =>
  `| ${r.area} | ${r.measure} | ${r.value} | ${r.baseline} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`} | ${r.target ?? ''} |`;
const header = ['| area | measure | nix-ipfs | baseline (same run) | ratio | target |', '|---|---|---|---|---|---|'];
rmSync(work, { recursive: true, force: true });
const resultsFile = path.join(root, 'bench/RESULTS.md');
const previous = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '';
const partial = chosen.length < Object.keys(SECTIONS).length;
const when = `${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${versions}; load average ${loadBefore} before, ${load()} after. Took ${((Date.now() - started) / 1000).toFixed(0)} s.`;
const run = partial ? `Re-measured by \`npm run bench -- ${chosen.join(' ')}\` ${when}` : `Measured by \`npm run bench\` ${when}`;
// A run of some sections replaces the rows of the areas it measured and keeps the other rows, the
// note of the last full run, and the findings written below the table (from the first '## ').
const findingsAt = previous.indexOf('\n## ');
const oldLines = (findingsAt < 0 ? previous : previous.slice(0, findingsAt)).split('\n');
const oldRows = oldLines.filter((l) => l.startsWith('| ') && !l.startsWith('| area |'));
const measured = new Set(rows.map((r) => r.area));
const table: string[] = [];
for (const line of partial ? oldRows : []) {
  const area = line.split('|')[1].trim();
  if (!measured.has(area)) table.push(line);
  else if (!table.some((l) => l.split('|')[1].trim() === area)) table.push(...rows.filter((r) => r.area === area).map(cells));
}
table.push(...rows.filter((r) => !table.some((l) => l.split('|')[1].trim() === r.area)).map(cells));
const aboveTable = oldLines.slice(
  0,
  Math.max(
    0,
    oldLines.findIndex((l) => l.startsWith('| ')),
  ),
);
const notes = partial ? aboveTable.filter((l) => /^(Measured|Re-measured) /.test(l) && !l.includes(`npm run bench -- ${chosen.join(' ')}\``)) : [];
const findings = findingsAt < 0 ? '' : previous.slice(findingsAt + 1);
writeFileSync(
  resultsFile,
  [
    '# nix-ipfs benchmark results',
    '',
    ...notes,
    run,
    'Ratios compare nix-ipfs with the baseline measured in the same run: above 1× nix-ipfs is faster (for rates) or the baseline is slower.',
    '',
    ...header,
    ...table,
    '',
    '![ratios](ratios.svg)',
    '',
    findings,
  ]
    .join('\n')
    .trimEnd() + '\n',
);
writeFileSync(path.join(root, 'bench/ratios.svg'), chart(table));
log(`wrote bench/RESULTS.md and bench/ratios.svg${partial ? ` (the rows of ${[...measured].join(', ')})` : ''}`);
process.exit(0);
