import { readFileSync, statSync } from 'node:fs';
import { UsageError } from './command';

type Values = Record<string, unknown>;

export const TOKEN_HELP = 'pass the token in the environment variable NIX_IPFS_KUBO_TOKEN or in a file named by --token-file';

/**
 * The Kubo API token: from --token-file, else --token (with a warning: other users see a
 * command line), else NIX_IPFS_KUBO_TOKEN.
 */
export function kuboToken(values: Values, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = values['token-file'] as string | undefined;
  const inline = values.token as string | undefined;
  if (file !== undefined && inline !== undefined) throw new UsageError('give the Kubo API token once: --token-file or --token, not both', 2);
  if (file !== undefined) return readSecretFile(file, 'the Kubo API token file');
  if (inline !== undefined) {
    warn(`--token is visible to every user of this machine (in the process list): ${TOKEN_HELP} instead`);
    return inline;
  }
  return env.NIX_IPFS_KUBO_TOKEN || undefined;
}

/** A secret's text from a file, trimmed; warns when other users may read the file. */
export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  if (!text.trim()) throw new UsageError(`${what} ${file} is empty`);
  warnIfReadableByOthers(file, what);
  return text.trim();
}

function warnIfReadableByOthers(file: string, what: string): void {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o044) warn(`${what} ${file} can be read by other users (mode ${mode.toString(8)}): run 'chmod 600 ${file}'`);
}

function warn(message: string): void {
  process.stderr.write(`nix-ipfs: warning: ${message}\n`);
}
