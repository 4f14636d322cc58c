// `npm run demo`: the same set-up as `npm test`, then a private Kubo node (data in .demo/, loopback only)
// and VS Code (code-server) with the extension on examples/. Prints the URL and runs until Ctrl-C.
//   npm run demo -- --screenshot out.png   captures the workbench with the Nix IPFS view and exits
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { root, ensureDebianPackages, ensureNpmDependencies, ensureNix, ensureKubo, nixConfig, log, setUpOrExit } from './setup.mjs';
import { ensureE2E } from './setup-e2e.mjs';

const env = await setUpOrExit(() => {
  ensureDebianPackages(['nix', 'e2e']);
  ensureNpmDependencies();
  ensureNix();
  return { ...process.env, NIX_CONFIG: nixConfig, NIX_IPFS_KUBO_BIN: ensureKubo(), ...ensureE2E() };
});
if (spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
log('starting the demo');
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/demo-session.ts'), ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.on('SIGINT', () => child.kill('SIGINT'));
child.on('exit', (code) => process.exit(code ?? 0));
