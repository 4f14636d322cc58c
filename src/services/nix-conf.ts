export interface NixConfInput {
  /** The gateway stock Nix talks to, e.g. http://127.0.0.1:8080. */
  gatewayUrl: string;
  /** IPNS name of the published root (stable across publishes). */
  ipnsName: string;
  /** Public keys whose signatures Nix should trust, `name:base64`. */
  publicKeys: string[];
}

/**
 * The nix.conf lines that make stock Nix use a Kubo gateway as substituter and hashed mirror.
 * They are printed for the user to add; nix-ipfs never edits nix.conf itself.
 */
export function nixConfLines(input: NixConfInput): string {
  const base = `${input.gatewayUrl.replace(/\/+$/, '')}/ipns/${input.ipnsName}`;
  return [
    '# nix-ipfs: use this Kubo node as a binary cache and a source mirror.',
    '# Add to ~/.config/nix/nix.conf (single-user) or /etc/nix/nix.conf (multi-user; then also list the',
    '# substituter in trusted-substituters, or run as a trusted user, or Nix ignores it).',
    `extra-substituters = ${base}/cache`,
    ...(input.publicKeys.length ? [`extra-trusted-public-keys = ${input.publicKeys.join(' ')}`] : ['# no signing key yet: run `nix-ipfs keygen` and publish with --key-file']),
    `hashed-mirrors = ${base}/mirror/`,
    '# An offline gateway must not break builds: give up quickly and build from source instead.',
    'connect-timeout = 5',
    'fallback = true',
    "# Don't let Nix remember a miss: a path published a minute ago must be found.",
    'narinfo-cache-negative-ttl = 0',
    '',
  ].join('\n');
}
