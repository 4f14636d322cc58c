// Checks that a change to the scan keeps its output: `node --import tsx bench/scan-compare.ts OLD/cli.mjs NEW/cli.mjs [dir|file …]`
// runs `scan --json` (and the text form) of both bundles on each target (test/fixtures and examples/ by default;
// add the bench's tree, e.g. a copy kept from `npm run bench -- lsp`) and exits 1 when any output differs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

// Not from measure.ts, which makes a work directory on import.
const root = path.resolve(import.meta.dirname, '..');

const [before, after, ...given] = process.argv.slice(2);
if (!before || !after) throw new Error('usage: bench/scan-compare.ts OLD/cli.mjs NEW/cli.mjs [dir|file …]');
const targets = given.length > 0 ? given : [path.join(root, 'test/fixtures'), path.join(root, 'examples')];

/** Everything the scan prints: stdout, then the summary on stderr. */
function output(cli: string, target: string, json: boolean): string {
  const result = spawnSync(process.execPath, [cli, 'scan', target, ...(json ? ['--json'] : [])], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return `${result.status}\n${result.stdout}\n${result.stderr}`;
}

let differs = 0;
for (const target of targets) {
  for (const json of [true, false]) {
    const same = output(before, target, json) === output(after, target, json);
    if (!same) differs++;
    process.stdout.write(`${same ? 'same' : 'DIFFERS'}  ${target}${json ? ' --json' : ''}\n`);
  }
}
process.exit(differs > 0 ? 1 : 0);
