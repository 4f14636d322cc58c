// Multi-user Nix as users run it: nix-daemon owns the store and the editor runs as an
// unprivileged, untrusted user in the nix-users group. `npm test` runs the integration
// suites a second time this way. Needs root (to start the daemon and add the user).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { log } from './setup.mjs';

export const TEST_USER = 'nixipfs-test';
const SOCKET = '/nix/var/nix/daemon-socket/socket';

function listening() {
  if (!existsSync(SOCKET)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect(SOCKET);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function ensureUser() {
  if (spawnSync('id', ['-u', TEST_USER]).status === 0) return;
  const created = spawnSync('useradd', ['--create-home', '--groups', 'nix-users', '--shell', '/bin/sh', TEST_USER], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`useradd ${TEST_USER} failed: ${created.stderr}`);
}

/**
 * Starts nix-daemon (unless one listens already) and the test user; returns the environment
 * and a stop function. The Kubo binary is copied where the user can run it (root's cache is private).
 */
export async function startMultiUser({ nixConfig, kuboBin }) {
  if (process.getuid?.() !== 0) throw new Error('the multi-user pass needs root: it starts nix-daemon and adds a test user');
  ensureUser();
  let daemon;
  if (!(await listening())) {
    rmSync(SOCKET, { force: true }); // left by a daemon that died
    daemon = spawn('nix-daemon', [], { env: { ...process.env, NIX_CONFIG: nixConfig }, stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await listening()); i++) await new Promise((r) => setTimeout(r, 100));
    if (!(await listening())) throw new Error('nix-daemon did not open its socket');
    log('nix-daemon started');
  }
  // Kubo's filestore references only files below its repository's parent: to add /nix/store
  // files by reference a user needs a repository directly under /nix, which an administrator makes.
  const nixRepo = `/nix/ipfs-${TEST_USER}`;
  mkdirSync(nixRepo, { recursive: true, mode: 0o700 });
  const uid = Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout);
  const gid = Number(spawnSync('id', ['-g', TEST_USER], { encoding: 'utf8' }).stdout);
  chownSync(nixRepo, uid, gid);
  const shared = mkdtempSync(path.join(tmpdir(), 'nix-ipfs-rig-'));
  chmodSync(shared, 0o755);
  const userKubo = path.join(shared, 'ipfs');
  copyFileSync(kuboBin, userKubo);
  chmodSync(userKubo, 0o755);
  return {
    /** Runs a command as the test user, through the daemon, with only the variables given. */
    runAsUser(cmd, args, env, options = {}) {
      const userEnv = {
        HOME: `/home/${TEST_USER}`,
        USER: TEST_USER,
        PATH: process.env.PATH,
        NIX_REMOTE: 'daemon',
        NIX_CONFIG: 'experimental-features = nix-command',
        NIX_IPFS_KUBO_BIN: userKubo,
        NIX_IPFS_TEST_NIX_MODE: 'daemon',
        NIX_IPFS_TEST_NIX_REPO: nixRepo,
        ...env,
      };
      return spawnSync('runuser', ['-u', TEST_USER, '--', 'env', '-i', ...Object.entries(userEnv).map(([k, v]) => `${k}=${v}`), cmd, ...args], options);
    },
    stop() {
      daemon?.kill();
      rmSync(shared, { recursive: true, force: true });
    },
  };
}
