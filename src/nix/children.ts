import type { ChildProcess } from 'node:child_process';
import { onExit } from '../on-exit';

/** The programs nix-ipfs started (Nix, git, tar) and that still run. */
const running = new Set<ChildProcess>();

function stopAll(): void {
  for (const child of running) child.kill('SIGTERM');
}

/** Stops `child` with nix-ipfs: a Ctrl-C or SIGTERM must not leave a download or a build running. */
export function stoppedWithUs<T extends ChildProcess>(child: T): T {
  onExit(stopAll);
  running.add(child);
  const forget = () => running.delete(child);
  child.once('exit', forget).once('error', forget);
  return child;
}
