import { parseHash, type NixHash } from '../core/hash';
import type { Nix } from './cli';
import { runTool, ToolError, type ToolOptions } from './tools';

/** Nix's "specified: … got: …": what a fixed-output derivation (or a builtin fetcher) said it was, and what it is. */
export interface HashMismatch {
  specified: NixHash;
  got: NixHash;
}

export interface BuildOutcome {
  /** The build (or evaluation) succeeded. */
  ok: boolean;
  mismatches: HashMismatch[];
  /** Nix's errors other than hash mismatches and their knock-on failures: why else the build failed. */
  otherErrors: string[];
}

/** A Nix program (`nix-build`, `nix-instantiate`, `nix`) in the folder the settings name, else on PATH. */
export function nixProgram(nix: Nix, name: 'nix' | 'nix-build' | 'nix-instantiate'): string {
  return nix.options.binDir ? `${nix.options.binDir}/${name}` : name;
}

/**
 * Runs a build that is expected to fail on hash mismatches (`--keep-going`, so every
 * independent fixed-output derivation reports), and reads what Nix said.
 */
export async function buildReadingHashes(program: string, args: string[], options: ToolOptions): Promise<BuildOutcome> {
  try {
    await runTool(program, args, options);
    return { ok: true, mismatches: [], otherErrors: [] };
  } catch (error) {
    if (!(error instanceof ToolError) || !error.stderr) throw error;
    return { ok: false, mismatches: parseMismatches(error.stderr), otherErrors: otherErrors(error.stderr) };
  }
}

/** Every "specified: H1 / got: H2" pair, in any hash form Nix prints (SRI, `sha256:<nix32>`). */
export function parseMismatches(stderr: string): HashMismatch[] {
  const found: HashMismatch[] = [];
  for (const [, specified = '', got = ''] of stderr.matchAll(/specified:\s*(\S+)\s*\n\s*got:\s*(\S+)/g)) {
    try {
      found.push({ specified: parseHash(specified).hash, got: parseHash(got).hash });
    } catch {
      // not a hash Nix would print: not a mismatch this reads
    }
  }
  return found;
}

/** A hash mismatch, or a failure that only follows from one. */
const MISMATCH_OR_KNOCK_ON =
  /hash mismatch in|^error: build of .* failed$|dependencies of derivation .* failed to build|^error: (\d+ )?dependenc(y|ies) failed/;

/** Nix's error blocks (`error: …` and the indented lines after it) other than mismatches, each cut to 12 lines. */
export function otherErrors(stderr: string): string[] {
  const blocks: [string, ...string[]][] = [];
  for (const line of stderr.split('\n')) {
    if (line.startsWith('error:')) blocks.push([line]);
    else if (blocks.length > 0 && /^\s/.test(line) && line.trim()) blocks.at(-1)!.push(line);
  }
  return blocks.filter((b) => !MISMATCH_OR_KNOCK_ON.test(b[0])).map((b) => b.slice(0, 12).join('\n'));
}
