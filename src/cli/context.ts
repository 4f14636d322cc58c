import { readFile } from 'node:fs/promises';
import { parseSecretKey, type SecretKey } from '../core/signature';
import { Kubo } from '../kubo/client';
import { defaultKuboApi } from '../kubo/endpoint';
import { Nix } from '../nix/cli';
import { DEFAULTS, Layout, type ServiceContext } from '../services/context';
import { UsageError, type Command } from './command';

/** Options every command that talks to Kubo takes, with the extension's defaults. */
export const nodeOptions = {
  api: { type: 'string' },
  gateway: { type: 'string' },
  root: { type: 'string' },
  'key-name': { type: 'string' },
  token: { type: 'string' },
  timeout: { type: 'string' },
  concurrency: { type: 'string' },
  chunker: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Command['options'];

export type Values = Record<string, unknown>;

function positiveInt(values: Values, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} takes a positive whole number, not '${raw}'`, 2);
  return n;
}

export function serviceContext(values: Values, log?: (message: string) => void): ServiceContext {
  const kubo = new Kubo({
    api: (values.api as string | undefined) ?? defaultKuboApi(),
    token: (values.token as string | undefined) ?? process.env.NIX_IPFS_KUBO_TOKEN,
    timeoutMs: positiveInt(values, 'timeout', 30_000),
  });
  return {
    kubo,
    nix: new Nix(),
    layout: new Layout((values.root as string | undefined) ?? DEFAULTS.root),
    keyName: (values['key-name'] as string | undefined) ?? DEFAULTS.keyName,
    chunker: (values.chunker as string | undefined) ?? DEFAULTS.chunker,
    concurrency: positiveInt(values, 'concurrency', DEFAULTS.concurrency),
    log,
  };
}

/** The gateway URL: --gateway, else the node's own configured gateway. */
export async function gatewayUrl(ctx: ServiceContext, values: Values): Promise<string> {
  return (values.gateway as string | undefined)?.replace(/\/+$/, '') ?? (await ctx.kubo.gatewayUrl());
}

export async function readSecretKey(file: string | undefined): Promise<SecretKey | undefined> {
  if (!file) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the signing key ${file}: ${(error as Error).message}`);
  }
  try {
    return parseSecretKey(text.trim());
  } catch (error) {
    throw new UsageError(`${file} is not a Nix secret key (name:base64, from nix-store --generate-binary-cache-key): ${(error as Error).message}`);
  }
}

export function print(values: Values, json: unknown, text: string): void {
  process.stdout.write(values.json ? JSON.stringify(json, null, 2) + '\n' : text.endsWith('\n') || !text ? text : text + '\n');
}
