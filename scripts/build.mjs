// Bundles the entry points into dist/ with esbuild. `--watch` rebuilds on every change (development).
// The bundles are CommonJS (VS Code loads extensions with require); ESM-only
// dependencies such as multiformats and kubo-rpc-client are inlined.
import { context } from 'esbuild';
import { mkdirSync, writeFileSync, chmodSync, readFileSync, readdirSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/**
 * @replit/codemirror-lang-nix is imported for its `parser` alone. Its other exports (the editor
 * language: folding, indentation, completions) import CodeMirror's editor, ~210 KB that esbuild keeps
 * because their top-level calls read properties, and that every start of the CLI, the language server
 * and a scan worker would load (~20 ms) to run nothing. No bundle runs an editor: they get a stand-in.
 */
const noCodeMirrorEditor = './scripts/no-codemirror-editor.mjs';

const common = {
  alias: { '@codemirror/language': noCodeMirrorEditor, '@codemirror/autocomplete': noCodeMirrorEditor },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // Some ESM dependencies read import.meta.url; in a CJS bundle it maps to the file URL.
  define: { 'import.meta.url': 'importMetaUrl', VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

mkdirSync('dist', { recursive: true });
// The package is ESM for sources and tests; the bundles are CommonJS.
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
// Chunks are named by their content: those of an earlier build would pile up.
for (const file of readdirSync('dist')) if (/^cli([.-].*)?\.(m?js|map)$/.test(file)) rmSync(`dist/${file}`);

const bundles = [
  { ...common, entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...common, entryPoints: ['src/server/main.ts'], outfile: 'dist/server.js' },
  // The workspace scan's worker thread, started by server.js and cli.mjs.
  { ...common, entryPoints: ['src/services/parse-worker.ts'], outfile: 'dist/parse-worker.js' },
  // The CLI is ESM split into chunks, so a command compiles and evaluates only its own modules
  // (one bundle of every command cost ~60 ms of compiling at each start).
  {
    ...common,
    format: 'esm',
    splitting: true,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    chunkNames: 'cli-[hash]',
    outExtension: { '.js': '.mjs' },
    define: { VERSION: common.define.VERSION },
    // CommonJS dependencies inlined in ESM still call require().
    banner: { js: "#!/usr/bin/env node\nimport { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  },
];
const contexts = await Promise.all(bundles.map((options) => context(options)));
await Promise.all(contexts.map((c) => c.rebuild()));
chmodSync('dist/cli.mjs', 0o755);
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('watching src/ for changes (Ctrl-C to stop)');
} else {
  await Promise.all(contexts.map((c) => c.dispose()));
}
