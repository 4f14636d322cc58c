import { readFile } from 'node:fs/promises';
import { extractFetchers, isMalformedHash, parseNix } from '../core/fetchers/extract';
import { fillablePlaceholders } from '../core/fill-plan';
import { staleMessage } from '../core/stale';
import { scanRecordFetcher, scanWorkspace } from './scan';
import { staleHashesOf } from './stale';

/** A hash that will not do, with the language server's diagnostic code for it. */
export interface HashProblem {
  file: string;
  line: number;
  code: 'stale-hash' | 'placeholder-hash' | 'malformed-hash';
  hashAttr: string;
  message: string;
}

/**
 * Every hash below a folder (or in a file) that will not do: placeholders, malformed hashes, and
 * stale ones (the source changed since git HEAD, the hash did not). For CI and pre-commit hooks.
 */
export async function checkHashes(target: string): Promise<HashProblem[]> {
  const records = await scanWorkspace(target);
  const problems: HashProblem[] = [
    ...fillablePlaceholders(records).map((r): HashProblem => ({
      file: r.file,
      line: r.line,
      code: 'placeholder-hash',
      hashAttr: r.hashAttr,
      message: `${r.hashAttr} is a placeholder (${r.hash || 'empty'})`,
    })),
    ...records
      .filter((r) => isMalformedHash(scanRecordFetcher(r)))
      .map((r): HashProblem => ({ file: r.file, line: r.line, code: 'malformed-hash', hashAttr: r.hashAttr, message: `${r.hashAttr}: ${r.hashError}` })),
  ];
  for (const file of new Set(records.filter((r) => r.sri).map((r) => r.file))) {
    const text = await readFile(file, 'utf8');
    const parsed = parseNix(text);
    for (const stale of await staleHashesOf(file, { parsed, fetchers: extractFetchers(parsed) })) {
      const line = text.slice(0, stale.fetcher.hashFrom).split('\n').length;
      problems.push({ file, line, code: 'stale-hash', hashAttr: stale.fetcher.hashAttr, message: staleMessage(stale) });
    }
  }
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
