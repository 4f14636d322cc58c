// `npm run bench`: the same set-up as `npm test` (Nix, Kubo, ripgrep), then bench/run.ts.
import { spawnSync } from 'node:child_process';
import { root, ensureDebianPackages, ensureNpmDependencies, ensureNix, ensureKubo, nixConfig, setUpOrExit } from './setup.mjs';

const env = await setUpOrExit(() => {
  ensureDebianPackages(['nix', 'bench']);
  ensureNpmDependencies();
  ensureNix();
  return { ...process.env, NIX_CONFIG: nixConfig, NIX_IPFS_KUBO_BIN: ensureKubo() };
});
// The bundles users get: minified, as `npm run package` ships them.
spawnSync(process.execPath, ['scripts/build.mjs', '--production'], { cwd: root, stdio: 'inherit' });
const result = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
