import path from 'node:path';
import { extractFetchers, parseNix } from '../core/fetchers/extract';
import { staleHashes, type ParsedFile, type StaleHash } from '../core/stale';
import { runTool } from '../nix/tools';

/** HEAD's version of files, parsed, by git blob id: the same blob is parsed once, whatever asks. */
const heads = new Map<string, ParsedFile>();
const MAX_HEADS = 256;

/** The file as committed in git HEAD, parsed; undefined outside a repository, for a new file, or before the first commit. */
async function headVersion(file: string): Promise<ParsedFile | undefined> {
  const git = (args: string[]) => runTool('git', ['-C', path.dirname(file), ...args], { env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
  const blob = (await git(['rev-parse', '--verify', '--quiet', `HEAD:./${path.basename(file)}`]).catch(() => '')).trim();
  if (!blob) return undefined;
  let parsed = heads.get(blob);
  if (!parsed) {
    const text = await git(['cat-file', 'blob', blob]);
    const tree = parseNix(text);
    parsed = { parsed: tree, fetchers: extractFetchers(tree) };
    if (heads.size >= MAX_HEADS) heads.clear();
    heads.set(blob, parsed);
  }
  return parsed;
}

/** The hashes of `now` (the file's current text) that stayed while the source they name changed since git HEAD. */
export async function staleHashesOf(file: string, now: ParsedFile): Promise<StaleHash[]> {
  const head = await headVersion(file);
  return head ? staleHashes(now, head) : [];
}
