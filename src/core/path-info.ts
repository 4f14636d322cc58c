import { ParseError } from './errors';

/** One store path as `nix path-info --json` describes it. */
export interface PathInfo {
  path: string;
  /** As Nix printed it: SRI (`sha256-…`) in 2.8, `sha256:<nix32>` or SRI in newer versions. */
  narHash: string;
  narSize: number;
  references: string[];
  deriver?: string;
  signatures: string[];
  ca?: string;
}

/**
 * Parses `nix path-info --json` output of any Nix version: an array of objects with a
 * `path` field (Nix ≤ 2.18) or an object keyed by store path (Nix ≥ 2.19, where an
 * invalid path maps to null).
 */
export function parsePathInfoJson(text: string): PathInfo[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ParseError('nix path-info output', (error as Error).message);
  }
  let entries: [string | undefined, unknown][];
  if (Array.isArray(json)) entries = json.map((item) => [undefined, item]);
  else if (json && typeof json === 'object') entries = Object.entries(json);
  else throw new ParseError('nix path-info output', 'expected a JSON array or object');
  return entries.map(([key, value]) => toPathInfo(key, value));
}

function toPathInfo(key: string | undefined, value: unknown): PathInfo {
  if (value === null) throw new ParseError('nix path-info output', `${key} is not a valid store path`);
  if (typeof value !== 'object') throw new ParseError('nix path-info output', 'expected an object per path');
  const v = value as Record<string, unknown>;
  const path = key ?? v.path;
  if (typeof path !== 'string') throw new ParseError('nix path-info output', 'missing path');
  if (v.valid === false) throw new ParseError('nix path-info output', `${path} is not a valid store path`);
  if (typeof v.narHash !== 'string' || typeof v.narSize !== 'number') {
    throw new ParseError('nix path-info output', `missing narHash or narSize for ${path}`);
  }
  const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
  return {
    path,
    narHash: v.narHash,
    narSize: v.narSize,
    references: strings(v.references),
    deriver: typeof v.deriver === 'string' ? v.deriver : undefined,
    signatures: strings(v.signatures),
    ca: typeof v.ca === 'string' ? v.ca : undefined,
  };
}
