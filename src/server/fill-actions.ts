import { CodeActionKind, type CodeAction, type CodeLens, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Fetcher } from '../core/fetchers/extract';
import { fillablePlaceholders } from '../core/fill-plan';
import { HASH_SIZES, NixHash } from '../core/hash';
import { ServerCommand, type FetcherRef } from '../protocol';

/** What code-actions.ts offers to fetch (its own condition). */
const hasUrl = (f: Fetcher) => f.urls.some((u) => /^(https?|mirror):/.test(u));

/**
 * Quick fixes for the placeholders the range touches that code-actions.ts does not offer to fetch
 * (no URL: a vendor hash, a hand-written outputHash, a wrapper: Nix builds it), "fill all" when the
 * file has more than one, and for a stale hash (its `stale-hash` diagnostic): update it, or make it
 * a placeholder.
 */
export function fillActions(document: TextDocument, fetchers: Fetcher[], from: number, to: number, diagnostics: Diagnostic[]): CodeAction[] {
  const placeholders = fillablePlaceholders(fetchers);
  const touched = placeholders.filter((f) => f.hashTo >= from && f.hashFrom <= to);
  const actions: CodeAction[] = touched
    .filter((f) => !hasUrl(f))
    .map((f) => {
      const ref: FetcherRef = { uri: document.uri, hashFrom: f.hashFrom };
      const title = `Build with Nix and fill in ${f.hashAttr}`;
      return { title, kind: CodeActionKind.QuickFix, isPreferred: true, command: { title, command: ServerCommand.fillHash, arguments: [ref] } };
    });
  if (touched.length > 0 && placeholders.length > 1) {
    const title = `Fill all ${placeholders.length} placeholder hashes in this file`;
    actions.push({ title, kind: CodeActionKind.QuickFix, command: { title, command: ServerCommand.fillAllHashes, arguments: [{ uri: document.uri }] } });
  }
  return [...actions, ...staleHashActions(document, fetchers, diagnostics)];
}

function staleHashActions(document: TextDocument, fetchers: Fetcher[], diagnostics: Diagnostic[]): CodeAction[] {
  return diagnostics
    .filter((d) => d.source === 'nix-ipfs' && d.code === 'stale-hash')
    .flatMap((d) => {
      const f = fetchers.find((x) => x.hashFrom === document.offsetAt(d.range.start));
      if (!f?.algo) return [];
      const ref: FetcherRef = { uri: document.uri, hashFrom: f.hashFrom };
      const placeholder = new NixHash(f.algo, new Uint8Array(HASH_SIZES[f.algo])).toSri();
      const edit = { changes: { [document.uri]: [{ range: d.range, newText: placeholder }] } };
      return [
        {
          title: 'Update hash',
          kind: CodeActionKind.QuickFix,
          isPreferred: true,
          diagnostics: [d],
          command: { title: 'Update hash', command: ServerCommand.fillHash, arguments: [ref] },
        },
        { title: 'Replace with a placeholder', kind: CodeActionKind.QuickFix, diagnostics: [d], edit },
      ];
    });
}

/** "Fill hash" above each placeholder's fetcher, and "Fill all hashes in this file" above the first of several. */
export function fillLenses(document: TextDocument, fetchers: Fetcher[]): CodeLens[] {
  const placeholders = fillablePlaceholders(fetchers);
  const lenses: CodeLens[] = placeholders.map((f) => {
    const at = document.positionAt(f.from);
    const ref: FetcherRef = { uri: document.uri, hashFrom: f.hashFrom };
    return { range: { start: at, end: at }, command: { title: 'Fill hash', command: ServerCommand.fillHash, arguments: [ref] } };
  });
  const [first] = placeholders;
  if (first && placeholders.length > 1) {
    const at = document.positionAt(first.from);
    lenses.unshift({
      range: { start: at, end: at },
      command: { title: `Fill all ${placeholders.length} hashes in this file`, command: ServerCommand.fillAllHashes, arguments: [{ uri: document.uri }] },
    });
  }
  return lenses;
}
