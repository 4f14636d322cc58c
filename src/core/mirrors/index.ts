import mirrors from './mirrors.json';

const sites = mirrors as unknown as Record<string, string[]>;

/** The sites `mirror://<site>/…` URLs may name. */
export function mirrorSites(): string[] {
  return Object.keys(sites).filter((site) => !site.startsWith('_'));
}

/** The base URLs of a site nixpkgs' mirrors.nix lists; undefined for anything else (`__proto__`, `_comment`). */
function siteUrls(site: string): string[] | undefined {
  return !site.startsWith('_') && Object.hasOwn(sites, site) && Array.isArray(sites[site]) ? sites[site] : undefined;
}

/**
 * Expands `mirror://site/path` into the site's mirror URLs, as nixpkgs' fetchurl does;
 * any other URL comes back alone. An unknown site expands to nothing (see unknownMirrorSite).
 */
export function expandMirrorUrl(url: string): string[] {
  const match = /^mirror:\/\/([^/]+)\/(.*)$/.exec(url);
  if (!match) return [url];
  const [, site = '', path = ''] = match;
  return (siteUrls(site) ?? []).map((base) => base + path);
}

/** The site a `mirror://` URL names when nixpkgs has no such mirror site. */
export function unknownMirrorSite(url: string): string | undefined {
  const site = /^mirror:\/\/([^/]*)/.exec(url)?.[1];
  return site !== undefined && !siteUrls(site) ? site : undefined;
}
