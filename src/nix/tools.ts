import { execFile } from 'node:child_process';
import { stoppedWithUs } from './children';

/** A program nix-ipfs runs (tar, unzip, git, nix-build) failed; `stderr` is what it said. */
export class ToolError extends Error {
  override name = 'ToolError';
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface ToolOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kills the program when aborted. */
  signal?: AbortSignal;
}

/** Build logs can be long; what a program prints beyond this is an error of its own. */
const MAX_OUTPUT = 256 * 1024 * 1024;

/** Runs a program to completion; its stdout, or a ToolError with its stderr. */
export function runTool(program: string, args: string[], options: ToolOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { ...options, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if (options.signal?.aborted) return reject(options.signal.reason instanceof Error ? options.signal.reason : new Error('cancelled'));
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new ToolError(`${program} was not found: install it (it is needed to fill this hash)`, ''));
      reject(new ToolError(`${program} ${args[0] ?? ''} failed: ${lastLines(stderr) || error.message}`, stderr));
    });
    stoppedWithUs(child);
  });
}

/** The end of a program's complaint: where its error is. */
export function lastLines(text: string, count = 8): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
