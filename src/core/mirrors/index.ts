import mirrors from './mirrors.json';

const sites = mirrors as unknown as Record<string, string[]>;

/** The sites `mirror://<site>/…` URLs may name. */
export function mirrorSites(): string[] {
  return Object.keys(sites).filter((site) => !site.startsWith('_'));
}

/**
 * Expands `mirror://site/path` into the site's mirror URLs, as nixpkgs' fetchurl does;
 * any other URL comes back alone. An unknown site expands to nothing.
 */
export function expandMirrorUrl(url: string): string[] {
  const match = /^mirror:\/\/([^/]+)\/(.*)$/.exec(url);
  if (!match) return [url];
  return (sites[match[1]] ?? []).map((base) => base + match[2]);
}
