// Installs what the tests and the demo need, using only Node's built-ins so it runs
// on a fresh clone before node_modules exists. Each step is skipped when already done.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'nix-ipfs');

export function log(message) {
  process.stderr.write(`[setup] ${message}\n`);
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, ...options });
  if (result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${result.status ?? result.signal}`);
  }
}

export function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;
}

const isRoot = process.getuid?.() === 0;
let aptUpdated = false;

function aptInstall(packages, why) {
  if (!isRoot) {
    throw new Error(`${why} needs the Debian packages ${packages.join(' ')}: run 'sudo apt-get install -y ${packages.join(' ')}' and try again.`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    run('apt-get', ['update', '-qq'], { env });
    aptUpdated = true;
  }
  log(`apt-get install ${packages.join(' ')} (${why})`);
  run('apt-get', ['install', '-y', '-qq', ...packages], { env });
}

export function ensureNpmDependencies() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('npm ci');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** The Nix settings every test and the demo run with; nothing global is edited. */
export const nixConfig = ['experimental-features = nix-command', 'sandbox = false', ...(isRoot ? ['build-users-group ='] : [])].join('\n');

export function ensureNix() {
  if (!which('nix') || !which('nix-store')) aptInstall(['nix-bin'], 'Nix');
  const out = spawnSync('nix', ['--version'], { encoding: 'utf8' });
  log(out.stdout.trim());
}

/** $NIX_IPFS_KUBO_BIN, else a supported `ipfs` on PATH, else Kubo built from source (build-kubo.sh decides). */
export function ensureKubo() {
  const bin = execFileSync('bash', [path.join(root, 'scripts', 'build-kubo.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const version = spawnSync(bin, ['version', '--number'], { encoding: 'utf8' }).stdout.trim();
  log(`kubo ${version || '(version unknown)'}: ${bin}`);
  return bin;
}

/** Debian's Neovim: the second editor the integration suite drives the language server from. */
export function ensureNeovim() {
  if (!which('nvim')) aptInstall(['neovim'], 'the Neovim test');
  log(spawnSync('nvim', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]);
}

export function ensureRipgrep() {
  if (!which('rg')) aptInstall(['ripgrep'], 'the scan benchmark');
}

export function ensureChromium() {
  if (!existsSync('/usr/bin/chromium')) aptInstall(['chromium'], 'the end-to-end tests');
  return '/usr/bin/chromium';
}
