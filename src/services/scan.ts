import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { cidForFlatHash } from '../core/cid';
import { parseHash } from '../core/hash';
import { extractFetchers, parseNix, type Fetcher } from '../core/fetchers/extract';

/** One fetcher found by a workspace scan (the shape of `nix-ipfs scan --json`). */
export interface ScanRecord {
  file: string;
  /** 1-based line of the hash. */
  line: number;
  fetcher: string;
  urls: string[];
  hashAttr: string;
  hash: string;
  sri?: string;
  mode: 'flat' | 'recursive';
  /** The raw-block CID, for flat sha256/sha512 hashes. */
  cid?: string;
  name?: string;
  placeholder: boolean;
  hashError?: string;
}

const ALWAYS_SKIPPED = new Set(['.git', 'node_modules', '.direnv', 'result']);

export function toScanRecord(file: string, text: string, fetcher: Fetcher): ScanRecord {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < fetcher.hashFrom; i = text.indexOf('\n', i + 1)) line++;
  const cid = fetcher.sri && fetcher.mode === 'flat' ? cidForFlatHash(parseHash(fetcher.sri).hash)?.toString() : undefined;
  return {
    file,
    line,
    fetcher: fetcher.fetcher,
    urls: fetcher.urls,
    hashAttr: fetcher.hashAttr,
    hash: fetcher.hash,
    sri: fetcher.sri,
    mode: fetcher.mode,
    cid,
    name: fetcher.name,
    placeholder: fetcher.placeholder,
    hashError: fetcher.hashError,
  };
}

/** Every fetcher in one .nix file's text. */
export function scanText(file: string, text: string): ScanRecord[] {
  return extractFetchers(parseNix(text)).map((f) => toScanRecord(file, text, f));
}

/**
 * Every fetcher in every .nix file below `target` (or in `target` itself, when it is a file),
 * honouring each directory's .gitignore.
 */
export async function scanWorkspace(target: string, options: { onProgress?: (files: number, fetchers: number) => void; signal?: AbortSignal } = {}): Promise<ScanRecord[]> {
  const info = await stat(target);
  if (info.isFile()) return scanText(target, await readFile(target, 'utf8'));
  const records: ScanRecord[] = [];
  let files = 0;
  const walk = async (dir: string, rules: { base: string; ig: Ignore }[]) => {
    options.signal?.throwIfAborted();
    const entries = await readdir(dir, { withFileTypes: true });
    const gitignore = entries.find((e) => e.name === '.gitignore' && e.isFile());
    const scoped = gitignore ? [...rules, { base: dir, ig: ignore().add(await readFile(path.join(dir, '.gitignore'), 'utf8')) }] : rules;
    const ignored = (full: string, isDir: boolean) =>
      scoped.some(({ base, ig }) => {
        const relative = path.relative(base, full);
        return relative !== '' && ig.ignores(isDir ? `${relative}/` : relative);
      });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!ALWAYS_SKIPPED.has(entry.name) && !ignored(full, true)) await walk(full, scoped);
      } else if (entry.isFile() && entry.name.endsWith('.nix') && !ignored(full, false)) {
        records.push(...scanText(full, await readFile(full, 'utf8')));
        options.onProgress?.(++files, records.length);
      }
    }
  };
  await walk(target, []);
  return records;
}
