import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult } from './cli';

const SOCKET = '/nix/var/nix/daemon-socket/socket';
export const TEST_USER = 'nixipfs-test';
export const isRoot = process.getuid?.() === 0;

/**
 * Multi-user Nix as users run it: a nix-daemon (started here unless one already listens)
 * and an unprivileged user in the nix-users group who reaches the store only through it.
 */
export async function startMultiUserNix(): Promise<{ asUser: (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => Promise<RunResult> }> {
  if (!isRoot) throw new Error('starting nix-daemon and creating a test user needs root');
  if ((await run('id', ['-u', TEST_USER])).code !== 0) {
    const created = await run('useradd', ['--create-home', '--groups', 'nix-users', '--shell', '/bin/sh', TEST_USER]);
    if (created.code !== 0) throw new Error(`useradd failed: ${created.stderr}`);
  }
  let daemon: ChildProcess | undefined;
  if (!(await listening())) {
    rmSync(SOCKET, { force: true }); // left by a daemon that died
    daemon = spawn('nix-daemon', [], { env: process.env, stdio: 'ignore' });
    after(() => {
      daemon?.kill();
    });
    for (let i = 0; i < 100 && !(await listening()); i++) await sleep(100);
    if (!(await listening())) throw new Error('nix-daemon did not open its socket');
  }
  const home = `/home/${TEST_USER}`;
  return {
    asUser: (cmd, args, env = {}) =>
      run('runuser', ['-u', TEST_USER, '--', 'env', `HOME=${home}`, 'NIX_REMOTE=daemon', `NIX_CONFIG=experimental-features = nix-command`, `PATH=${process.env.PATH}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], {
        cwd: '/',
      }),
  };
}

function listening(): Promise<boolean> {
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
