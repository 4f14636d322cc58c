import type { NixHash } from '../core/hash';

/**
 * Where nix-ipfs keeps things in Kubo's MFS, below a root (default `/nix-ipfs`).
 * The root is published under an IPNS name, and Kubo's gateway serves
 *   <gateway>/ipns/<name>/cache/   as a Nix binary cache (nix-cache-info, <hash>.narinfo, nar/<narhash>.nar)
 *   <gateway>/ipns/<name>/mirror/  as a Nix hashed mirror (sha256/<base16>, sha512/…, sha1/…, md5/…)
 * Metadata about mirrored sources sits beside, in mirror/meta/, which Nix never asks for.
 */
export class Layout {
  constructor(readonly root: string) {
    // `/` would publish the node's whole MFS; a control character ends up in messages and paths unseen.
    if (!/^(\/[^/\p{Cc}]+)+$/u.test(root) || root.split('/').some((part) => part === '..' || part === '.')) {
      throw new Error(
        `MFS root '${JSON.stringify(root).slice(1, -1)}' must be an absolute MFS path below / like /nix-ipfs, without '.', '..' or control characters`,
      );
    }
  }

  get cache(): string {
    return `${this.root}/cache`;
  }

  get cacheInfo(): string {
    return `${this.cache}/nix-cache-info`;
  }

  narinfo(hashPart: string): string {
    return `${this.cache}/${hashPart}.narinfo`;
  }

  /** The narinfo URL field (relative to the cache) for a NAR with this hash. */
  narUrl(narHash: NixHash): string {
    return `nar/${narHash.toNix32()}.nar`;
  }

  nar(narHash: NixHash): string {
    return `${this.cache}/${this.narUrl(narHash)}`;
  }

  get mirror(): string {
    return `${this.root}/mirror`;
  }

  /** Where Nix's `hashed-mirrors` looks for a flat file: `<mirror>/<algo>/<base16>`. */
  mirrorFile(hash: NixHash): string {
    return `${this.mirror}/${hash.algo}/${hash.toBase16()}`;
  }

  mirrorMeta(hash: NixHash): string {
    return `${this.mirror}/meta/${hash.algo}-${hash.toBase16()}.json`;
  }

  get mirrorMetaDir(): string {
    return `${this.mirror}/meta`;
  }
}
