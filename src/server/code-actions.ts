import { CodeActionKind, type CodeAction, type Diagnostic, type Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { isMalformedHash, type Fetcher } from '../core/fetchers/extract';
import { ServerCommand, type FetcherRef } from '../protocol';
import { fillActions } from './fill-actions';

/**
 * For the fetchers whose hash the range touches: "Convert to SRI"; and for a placeholder or a
 * malformed hash with a URL, fetching the source to put its real hash there.
 */
export function codeActions(document: TextDocument, fetchers: Fetcher[], range: Range, diagnostics: Diagnostic[] = []): CodeAction[] {
  const from = document.offsetAt(range.start);
  const to = document.offsetAt(range.end);
  const actions: CodeAction[] = [];
  for (const f of fetchers) {
    if (f.hashTo < from || f.hashFrom > to) continue;
    const hashRange = { start: document.positionAt(f.hashFrom), end: document.positionAt(f.hashTo) };
    const sri = f.nixHash?.toSri();
    if (sri && f.hash !== sri) {
      const edit = { changes: { [document.uri]: [{ range: hashRange, newText: sri }] } };
      actions.push({ title: `Convert ${f.hashAttr} to SRI (${sri.slice(0, 16)}…)`, kind: CodeActionKind.RefactorRewrite, edit });
    }
    const replaceable = f.placeholder || isMalformedHash(f);
    if (replaceable && f.urls.some((u) => /^(https?|mirror):/.test(u))) {
      const ref: FetcherRef = { uri: document.uri, hashFrom: f.hashFrom };
      const title = f.placeholder ? 'Fetch the source and fill in its hash' : `Fetch the source and replace the malformed ${f.hashAttr} with its real hash`;
      actions.push({ title, kind: CodeActionKind.QuickFix, isPreferred: true, command: { title, command: ServerCommand.fillHash, arguments: [ref] } });
    }
  }
  return [...actions, ...fillActions(document, fetchers, from, to, diagnostics)];
}
