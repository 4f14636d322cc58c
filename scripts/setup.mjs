// Installs what the tests and the demo need, using only Node's built-ins so it runs
// on a fresh clone before node_modules exists. Each step is skipped when already done.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
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

/** A set-up step that cannot go on: its message says what to run. Printed without a stack trace. */
export class SetupError extends Error {}

/** Runs the set-up steps; a SetupError ends the process with its message alone. */
export async function setUpOrExit(steps) {
  try {
    return await steps();
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    log(error.message);
    process.exit(1);
  }
}

/**
 * The Debian packages each part of the set-up needs, each with the command or file that shows it is
 * there already (Nix or Neovim installed another way counts); packages without one are asked of dpkg.
 */
const DEBIAN_PACKAGES = {
  // Fill Hash unpacks archives and checks out git repositories as nixpkgs' fetchers do (its tests make zips).
  nix: [
    ['nix-bin', 'nix'],
    ['git', 'git'],
    ['tar', 'tar'],
    ['xz-utils', 'xz'],
    ['zip', 'zip'],
    ['unzip', 'unzip'],
    // The tests' "other machine" (a plain-HTTP API off loopback) is a network namespace of their own.
    ['iproute2', 'ip'],
    // A Kubo API behind TLS, as a team would put it behind a reverse proxy: nginx, with a certificate made here.
    ['nginx', '/usr/sbin/nginx'],
    ['openssl', 'openssl'],
  ],
  neovim: [['neovim', 'nvim']],
  // Chromium drives VS Code; code-server's native modules build against the -dev libraries.
  e2e: [
    ['chromium', '/usr/bin/chromium'],
    ['libkrb5-dev'],
    ['libsecret-1-dev'],
    ['libx11-dev'],
    ['libxkbfile-dev'],
    ['build-essential'],
    ['python3', 'python3'],
  ],
  bench: [
    ['ripgrep', 'rg'],
    ['nginx', '/usr/sbin/nginx'],
  ],
};

function present(pkg, shownBy) {
  if (shownBy?.startsWith('/')) return existsSync(shownBy);
  if (shownBy && which(shownBy)) return true;
  return spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout.includes('install ok installed');
}

/**
 * Installs, in one apt-get call, every Debian package the given parts need. An ordinary user gets
 * the one line to run instead.
 */
export function ensureDebianPackages(parts) {
  const wanted = parts.flatMap((part) => DEBIAN_PACKAGES[part]);
  const missing = [...new Set(wanted.filter(([pkg, shownBy]) => !present(pkg, shownBy)).map(([pkg]) => pkg))];
  if (missing.length === 0) return;
  const line = `apt-get install -y ${missing.join(' ')}`;
  if (!isRoot) throw new SetupError(`Debian packages are missing (${parts.join(', ')}). Run this one line, then try again:\n  sudo ${line}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log('apt-get update');
  run('apt-get', ['update', '-qq'], { env });
  log(line);
  run('apt-get', ['install', '-y', '-qq', ...missing], { env });
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
  log(spawnSync('nix', ['--version'], { encoding: 'utf8' }).stdout.trim());
  if (isRoot) return; // root runs Nix single-user on its own store
  const ping = spawnSync('nix', ['store', 'ping'], { encoding: 'utf8', env: { ...process.env, NIX_CONFIG: nixConfig } });
  if (ping.status !== 0) {
    const reason = ping.stderr.trim().split('\n').pop();
    throw new SetupError(
      `Nix cannot reach its store as this user (${reason}). Start the Nix daemon, then try again:\n  sudo systemctl start nix-daemon.socket   (or, without systemd: sudo nix-daemon &)`,
    );
  }
}

/** $NIX_IPFS_KUBO_BIN, else a supported `ipfs` on PATH, else Kubo built from source (build-kubo.sh decides). */
export function ensureKubo() {
  let bin;
  try {
    bin = execFileSync('bash', [path.join(root, 'scripts', 'build-kubo.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    throw new SetupError('Kubo is not available (the reason is printed above); set NIX_IPFS_KUBO_BIN to an ipfs binary to skip the build.');
  }
  const version = spawnSync(bin, ['version', '--number'], { encoding: 'utf8' }).stdout.trim();
  log(`kubo ${version || '(version unknown)'}: ${bin}`);
  return bin;
}

/** Neovim: the second editor the integration suite drives the language server from. */
export function logNeovimVersion() {
  log(spawnSync('nvim', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]);
}
