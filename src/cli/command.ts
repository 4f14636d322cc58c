import { stat } from 'node:fs/promises';
import type { ParseArgsConfig } from 'node:util';
import { redactSecrets } from '../core/redact';

/** One `nix-ipfs <name>` subcommand as `--help` lists it; `load` brings its modules only when it runs. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** What a subcommand takes and does. `run` returns the process exit code. */
export interface Command {
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

/** A command's result: `--json` prints the JSON, otherwise the text; secrets are redacted either way. */
export function print(values: Record<string, unknown>, json: unknown, text: string): void {
  const output = values.json ? JSON.stringify(json, null, 2) + '\n' : text.endsWith('\n') || !text ? text : text + '\n';
  process.stdout.write(redactSecrets(output));
}
