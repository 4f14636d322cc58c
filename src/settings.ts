/**
 * The `nixIpfs` settings: one schema for the VS Code extension (package.json's `configuration`
 * must match it, a unit test checks), the language server in any editor, and the CLI's defaults.
 * Keys are the VS Code setting names without `nixIpfs.`; other editors send the same names,
 * nested (`{ "diagnostics": { "notMirrored": true } }`) or dotted.
 */

type Field =
  | { type: 'string'; default: string }
  | { type: 'number'; default: number; minimum?: number; maximum?: number }
  | { type: 'boolean'; default: boolean }
  | { type: 'array'; default: readonly string[] };

type ValueOf<F extends Field> = F extends { type: 'string' }
  ? string
  : F extends { type: 'number' }
    ? number
    : F extends { type: 'boolean' }
      ? boolean
      : string[];
type Values<T extends Record<string, Field>> = { -readonly [K in keyof T]: ValueOf<T[K]> };

export const SETTINGS_SCHEMA = {
  kuboApi: { type: 'string', default: '/ip4/127.0.0.1/tcp/5001' },
  gatewayUrl: { type: 'string', default: '' },
  mfsRoot: { type: 'string', default: '/nix-ipfs' },
  ipnsKeyName: { type: 'string', default: 'nix-ipfs' },
  chunker: { type: 'string', default: 'buzhash' },
  trustedPublicKeys: { type: 'array', default: [] },
  signingKeyFile: { type: 'string', default: '' },
  nixPath: { type: 'string', default: '' },
  refreshIntervalSeconds: { type: 'number', default: 30, minimum: 0 },
  requestTimeoutMs: { type: 'number', default: 5000, minimum: 100 },
  concurrency: { type: 'number', default: 4, minimum: 1, maximum: 64 },
  'diagnostics.notMirrored': { type: 'boolean', default: false },
  pinOnFill: { type: 'boolean', default: false },
} as const satisfies Record<string, Field>;

export type Settings = Values<typeof SETTINGS_SCHEMA>;

/**
 * What only the language server takes, besides the settings, in `initializationOptions`:
 * secrets the editor keeps elsewhere, and the editor's decisions about trust.
 */
export const SESSION_SCHEMA = {
  /** Kubo's API.Authorizations secret (VS Code keeps it in its secret store). */
  kuboApiToken: { type: 'string', default: '' },
  /** A signing key's secret text (`name:base64`), used before `signingKeyFile`. */
  signingKey: { type: 'string', default: '' },
  /** False in an untrusted workspace: no downloads, builds or Nix evaluation. */
  trusted: { type: 'boolean', default: true },
  /** Plain-HTTP Kubo APIs on other machines the user agreed to use; any other such API is not contacted. */
  insecureApisAccepted: { type: 'array', default: [] },
  /** How long a hover may wait for Kubo. */
  hoverTimeoutMs: { type: 'number', default: 300, minimum: 0 },
} as const satisfies Record<string, Field>;

export type SessionOptions = Values<typeof SESSION_SCHEMA>;

function defaults<T extends Record<string, Field>>(schema: T): Values<T> {
  return Object.fromEntries(
    Object.entries(schema).map(([key, field]) => [key, Array.isArray(field.default) ? [...field.default] : field.default]),
  ) as Values<T>;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze(defaults(SETTINGS_SCHEMA));
export const DEFAULT_SESSION: Readonly<SessionOptions> = Object.freeze(defaults(SESSION_SCHEMA));

/** Settings of the wrong type or out of range; the message lists every one. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** `a.b` read from `{ a: { b } }` or from `{ 'a.b': … }`. */
function lookup(source: Record<string, unknown>, key: string): unknown {
  if (key in source) return source[key];
  const [head = '', ...rest] = key.split('.');
  const inner = rest.length > 0 ? source[head] : undefined;
  return inner && typeof inner === 'object' ? lookup(inner as Record<string, unknown>, rest.join('.')) : undefined;
}

function problemWith(field: Field, value: unknown): string | undefined {
  if (field.type === 'array') {
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? undefined : 'must be a list of strings';
  }
  if (typeof value !== field.type || (field.type === 'number' && !Number.isFinite(value))) return `must be a ${field.type}`;
  if (field.type === 'number') {
    const n = value as number;
    if (field.minimum !== undefined && n < field.minimum) return `must be at least ${field.minimum}`;
    if (field.maximum !== undefined && n > field.maximum) return `must be at most ${field.maximum}`;
  }
  return undefined;
}

function normalizeWith<T extends Record<string, Field>>(schema: T, value: unknown, base: Values<T>): Values<T> {
  if (value === undefined || value === null) return { ...base };
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SettingsError(`nix-ipfs settings must be an object of named values, not ${JSON.stringify(value)}`);
  const result: Record<string, unknown> = { ...base };
  const problems: string[] = [];
  for (const [key, field] of Object.entries(schema)) {
    const given = lookup(value as Record<string, unknown>, key);
    if (given === undefined || given === null) continue;
    const problem = problemWith(field, given);
    if (problem) problems.push(`${key} ${problem} (got ${JSON.stringify(given)})`);
    else result[key] = given;
  }
  if (problems.length > 0) throw new SettingsError(`nix-ipfs settings not applied: ${problems.join('; ')}`);
  return result as Values<T>;
}

/**
 * Checks settings an editor sent (initializationOptions, or the `nixIpfs` section of
 * didChangeConfiguration); keys not given keep `base`. Throws a SettingsError naming every
 * value of the wrong type, so nothing is half-applied.
 */
export function normalizeSettings(value: unknown, base: Settings = DEFAULT_SETTINGS): Settings {
  return normalizeWith(SETTINGS_SCHEMA, value, base);
}

/** The session part of initializationOptions (token, signing key, trust); see SESSION_SCHEMA. */
export function normalizeSession(value: unknown, base: SessionOptions = DEFAULT_SESSION): SessionOptions {
  return normalizeWith(SESSION_SCHEMA, value, base);
}

/** Why a name cannot be nix-ipfs's IPNS key, or undefined when it can. `self` is the node's own identity. */
export function ipnsKeyNameProblem(name: string): string | undefined {
  if (name === 'self') return "self is the node's own identity key: name a key of its own for nix-ipfs (the default is nix-ipfs)";
  if (!/^[^/\p{Cc}]+$/u.test(name)) return `a Kubo key name has no '/' or control characters, unlike '${JSON.stringify(name).slice(1, -1)}'`;
  return undefined;
}
