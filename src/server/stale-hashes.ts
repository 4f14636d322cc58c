import { fileURLToPath } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Fetcher } from '../core/fetchers/extract';
import { parseNix } from '../core/fetchers/extract';
import { isFlakeLock } from '../core/flake-lock';
import { staleMessage } from '../core/stale';
import { staleHashesOf } from '../services/stale';

/** Generated sets (hackage-packages.nix and the like) are updated by their scripts, and parsed in chunks: not compared. */
const MAX_COMPARED = 256 * 1024;

/** Hash offset → why it is stale (its source changed since git HEAD, it did not), for an open document. */
export async function staleHashesIn(document: TextDocument, fetchers: Fetcher[]): Promise<Map<number, string>> {
  const text = document.getText();
  if (!document.uri.startsWith('file:') || text.length > MAX_COMPARED || isFlakeLock(document.uri)) return new Map();
  const stale = await staleHashesOf(fileURLToPath(document.uri), { parsed: parseNix(text), fetchers }).catch(() => []);
  return new Map(stale.map((s) => [s.fetcher.hashFrom, staleMessage(s)]));
}
