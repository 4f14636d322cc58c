// `npm test`: installs what is missing (npm packages, Nix, Kubo, Neovim, code-server, Chromium),
// builds, type-checks, then runs every suite in one `node --test` run so it ends with
// the runner's own summary line.
//   npm test                         every suite
//   npm test -- --suite unit         one suite (unit | integration | e2e), may repeat
//   npm test -- test/unit/x.test.ts  given files
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { root, log, ensureDebianPackages, ensureNpmDependencies, ensureNix, ensureKubo, logNeovimVersion, nixConfig, setUpOrExit } from './setup.mjs';
import { ensureE2E } from './setup-e2e.mjs';

const args = process.argv.slice(2);
const suites = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--suite') suites.push(args[++i]);
  else files.push(path.resolve(args[i]));
}
const chosen = suites.length ? suites : ['unit', 'integration', 'e2e'];

function testFiles(dir) {
  const full = path.join(root, 'test', dir);
  return readdirSync(full, { recursive: true })
    .map((f) => path.join(full, String(f)))
    .filter((f) => /\.test\.ts$/.test(f) && statSync(f).isFile())
    .sort();
}

function step(what, cmd, cmdArgs, options = {}) {
  log(what);
  const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) {
    log(`${what} failed`);
    process.exit(result.status ?? 1);
  }
}

/** What Prettier keeps formatted (package.json's `format` script names the same). */
const FORMATTED = ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.{mjs,ts}', 'eslint.config.js'];

const started = Date.now();
const needsReal = files.length > 0 || chosen.some((s) => s !== 'unit');
const needsE2E = files.length > 0 || chosen.includes('e2e');
const env = await setUpOrExit(() => {
  ensureDebianPackages([...(needsReal ? ['nix', 'neovim'] : []), ...(needsE2E ? ['e2e'] : [])]);
  ensureNpmDependencies();
  const env = { ...process.env, NIX_CONFIG: nixConfig };
  if (needsReal) {
    ensureNix();
    env.NIX_IPFS_KUBO_BIN = ensureKubo();
    logNeovimVersion();
  }
  return needsE2E ? { ...env, ...ensureE2E() } : env;
});
log(`set-up took ${((Date.now() - started) / 1000).toFixed(0)} s`);

step('build', process.execPath, ['scripts/build.mjs']);
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
step('type-check', process.execPath, [tsc, '-p', '.']);
step('type-check of tests and benches', process.execPath, [tsc, '-p', 'tsconfig.tests.json']);
step('lint', process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.']);
step('format check (npm run format fixes it)', process.execPath, [
  path.join(root, 'node_modules/prettier/bin/prettier.cjs'),
  '--check',
  '--log-level=warn',
  ...FORMATTED,
]);

const selected = files.length ? files : chosen.flatMap(testFiles);
if (selected.length === 0) {
  log('no test files found: refusing to report success with zero tests');
  process.exit(1);
}
// --test-force-exit: a test file whose tests are done must not keep the run waiting on a stray
// handle (one full run stalled that way, idle, in a unit file); 5 minutes bounds any single test.
const nodeTest = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-force-exit', '--test-timeout=300000'];

// Users run Nix multi-user: the integration suites run first as an unprivileged, untrusted
// user through nix-daemon, then everything runs as this user, ending with the runner's summary.
const integration = selected.filter((f) => f.startsWith(path.join(root, 'test', 'integration') + path.sep));
if (integration.length > 0) {
  if (process.getuid?.() === 0) {
    const { startMultiUser, TEST_USER } = await import('./multi-user.mjs');
    const multiUser = await startMultiUser({ nixConfig, kuboBin: env.NIX_IPFS_KUBO_BIN });
    log(`integration suites as ${TEST_USER} through nix-daemon (NIX_REMOTE=daemon, untrusted)`);
    const pass = multiUser.runAsUser(process.execPath, [...nodeTest, ...integration], {}, { stdio: 'inherit', cwd: root });
    multiUser.stop();
    if (pass.status !== 0) {
      log('the multi-user pass failed');
      process.exit(pass.status ?? 1);
    }
  } else {
    log('not root: the multi-user pass (nix-daemon and a test user) is skipped; run as root to include it');
  }
}
const result = spawnSync(process.execPath, [...nodeTest, ...selected], { stdio: 'inherit', cwd: root, env });
process.exit(result.status ?? 1);
