import { stat } from 'node:fs/promises';
import type { ParseArgsConfig } from 'node:util';

/** One `nix-ipfs <name>` subcommand. `run` returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Usage lines printed by `--help`, after `nix-ipfs <name>`. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** How many arguments besides the options it takes at most (Infinity: any number); more is a usage error. */
  maxArguments: number;
  run(args: { values: Record<string, unknown>; positionals: string[] }): Promise<number>;
}

/** An error the user can act on: printed without a stack trace, exit code 1 (or `exitCode`). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The one directory or .nix file a command reads (main.ts refuses more than one). */
export async function directoryOrFileArgument(positionals: string[]): Promise<string> {
  const [target] = positionals;
  if (target === undefined) throw new UsageError('name one directory or .nix file', 2);
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new UsageError(`${target} does not exist: name a directory or a .nix file`);
  if (!info.isDirectory() && !info.isFile()) throw new UsageError(`${target} is neither a directory nor a file: name a directory or a .nix file`);
  return target;
}
