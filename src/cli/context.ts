import { safeUrl } from '../core/redact';
import { parsePublicKey, parseSecretKey, type PublicKey, type SecretKey } from '../core/signature';
import { defaultKuboApi } from '../kubo/endpoint';
import { createServiceContext, Layout, type ServiceContext } from '../services/context';
import { DEFAULT_SETTINGS, ipnsKeyNameProblem, type Settings } from '../settings';
import { UsageError, type Command } from './command';
import { kuboToken, readSecretFile } from './secrets';

/** Options every command that talks to Kubo takes, with the extension's defaults. */
export const nodeOptions = {
  api: { type: 'string' },
  gateway: { type: 'string' },
  root: { type: 'string' },
  'key-name': { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  timeout: { type: 'string' },
  concurrency: { type: 'string' },
  chunker: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Command['options'];

export type Values = Record<string, unknown>;

export function positiveInt(values: Values, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} takes a positive whole number, not '${raw}'`, 2);
  return n;
}

/** The service context for the command's options, built as the language server builds its own. */
export function serviceContext(values: Values, log?: (message: string) => void): ServiceContext {
  const option = (name: string) => values[name] as string | undefined;
  const settings: Settings = {
    ...DEFAULT_SETTINGS,
    kuboApi: option('api') ?? defaultKuboApi(),
    requestTimeoutMs: positiveInt(values, 'timeout', 30_000),
    mfsRoot: rootOption(option('root') ?? DEFAULT_SETTINGS.mfsRoot),
    ipnsKeyName: keyNameOption(option('key-name') ?? DEFAULT_SETTINGS.ipnsKeyName),
    chunker: option('chunker') ?? DEFAULT_SETTINGS.chunker,
    concurrency: positiveInt(values, 'concurrency', DEFAULT_SETTINGS.concurrency),
  };
  return createServiceContext(settings, { token: kuboToken(values), log });
}

function rootOption(root: string): string {
  try {
    return new Layout(root).root;
  } catch (error) {
    throw new UsageError(`--root: ${(error as Error).message}`, 2);
  }
}

/** `self` is the node's own identity: publishing under it would replace what the node itself publishes. */
function keyNameOption(name: string): string {
  const problem = ipnsKeyNameProblem(name);
  if (problem) throw new UsageError(`--key-name: ${problem}`, 2);
  return name;
}

/** The gateway URL: --gateway, else the node's own configured gateway. */
export async function gatewayUrl(ctx: ServiceContext, values: Values): Promise<string> {
  const given = values.gateway as string | undefined;
  return given === undefined ? await ctx.kubo.gatewayUrl() : gatewayOption(given);
}

/** --gateway is printed (and copied into nix.conf, which every user can read): a plain http(s) URL without credentials. */
function gatewayOption(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`--gateway takes an http(s) URL like http://127.0.0.1:8080, not '${safeUrl(text)}'`, 2);
  if (url.username || url.password) {
    throw new UsageError(
      `--gateway ${safeUrl(url)} carries credentials, which would be printed and copied into nix.conf: give the URL without them and the login to Nix in a netrc file (its netrc-file setting)`,
      2,
    );
  }
  return url.href.replace(/\/+$/, '');
}

/** The signing key in --key-file, if one is given; warns when other users may read it. */
export async function readSecretKey(file: string | undefined): Promise<SecretKey | undefined> {
  if (!file) return undefined;
  const text = readSecretFile(file, 'the signing key');
  try {
    return parseSecretKey(text);
  } catch (error) {
    throw new UsageError(
      `${file} is not a Nix secret key (name:base64, from nix-store --generate-binary-cache-key or nix-ipfs keygen): ${(error as Error).message}`,
    );
  }
}

/** A public key from the command line or a configuration; the error never repeats the key. */
export function publicKeyOption(source: string, text: string): PublicKey {
  try {
    return parsePublicKey(text);
  } catch (error) {
    throw new UsageError(`${source}: ${(error as Error).message}`);
  }
}
