import type { PathInfo } from '../../src/core/path-info';
import { Nix } from '../../src/nix/cli';

/** A store path a stand-in Nix holds: its info, its NAR, and a fault to give instead of the NAR. */
export interface StandInPath {
  info: PathInfo;
  nar: Uint8Array;
  /** What the store yields instead of the NAR: other bytes, or a read error. */
  broken?: 'corrupt' | 'unreadable';
}

/**
 * Nix for unit tests of the services (beside the integration suites that run the real one): it
 * publishes exactly `paths`, and only the store paths in `valid` are valid.
 */
export class StandInNix extends Nix {
  constructor(
    readonly paths: StandInPath[] = [],
    private readonly valid = new Set<string>(),
  ) {
    super();
  }
  override async isValid(storePath: string): Promise<boolean> {
    return this.valid.has(storePath);
  }
  override async pathInfo(): Promise<PathInfo[]> {
    return this.paths.map((p) => p.info);
  }
  override async *dump(path: string): AsyncIterable<Uint8Array> {
    const found = this.paths.find((p) => p.info.path === path)!;
    if (found.broken === 'unreadable') throw new Error(`EACCES: permission denied, open '${path}'`);
    yield found.broken === 'corrupt' ? new Uint8Array(found.nar).fill(7, 40) : found.nar;
  }
}
