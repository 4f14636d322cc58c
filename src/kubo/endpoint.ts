import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { safeUrl } from '../core/redact';
import { SETTINGS_SCHEMA } from '../settings';
import { basicAuthorization } from './credentials';

export const DEFAULT_KUBO_API = SETTINGS_SCHEMA.kuboApi.default;

/**
 * The Kubo API address the CLI uses when `--api` is not given, in the order Kubo's own
 * CLI looks: `$IPFS_API`, then the `api` file of `$IPFS_PATH` (or `~/.ipfs`), then the default.
 */
export function defaultKuboApi(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IPFS_API) return env.IPFS_API;
  const repo = env.IPFS_PATH || path.join(homedir(), '.ipfs');
  try {
    return readFileSync(path.join(repo, 'api'), 'utf8').trim();
  } catch {
    return DEFAULT_KUBO_API;
  }
}

export interface KuboEndpoint {
  /** `http(s)://host:port`, never with credentials: safe to print. */
  url: URL;
  /** `Basic …` from the `user:password@` of the address, when it has one. */
  authorization?: string;
}

/**
 * `/ip4/127.0.0.1/tcp/5001` or `http://[user:password@]host:port[/]` → `http://host:port`, with
 * credentials in the URL moved to a basic-auth header (fetch refuses URLs that carry them).
 */
export function parseKuboApi(api: string): KuboEndpoint {
  const trimmed = api.trim();
  const multiaddr = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)(\/(https?|tls\/http))?\/?$/.exec(trimmed);
  if (multiaddr) {
    const host = multiaddr[1] === 'ip6' ? `[${multiaddr[2]}]` : multiaddr[2];
    const scheme = multiaddr[5] === 'https' || multiaddr[5] === 'tls/http' ? 'https' : 'http';
    return { url: new URL(`${scheme}://${host}:${multiaddr[3]}`) };
  }
  if (/^https?:\/\//i.test(trimmed) && URL.canParse(trimmed)) {
    const url = new URL(trimmed.replace(/\/+(api\/v0\/?)?$/, ''));
    const authorization =
      url.username || url.password ? basicAuthorization(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`) : undefined;
    url.username = '';
    url.password = '';
    return { url, authorization };
  }
  throw new Error(`'${safeUrl(trimmed)}' is not a Kubo API address: use a multiaddr like /ip4/127.0.0.1/tcp/5001 or a URL like http://127.0.0.1:5001`);
}

/** The API's base URL without credentials (see parseKuboApi). */
export function apiBaseUrl(api: string): URL {
  return parseKuboApi(api).url;
}

/** True when the API is reached over plain HTTP on a host other than loopback. */
export function isInsecureRemoteApi(api: string): boolean {
  const url = apiBaseUrl(api);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return url.protocol === 'http:' && !loopback;
}
