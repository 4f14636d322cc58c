import { CodeActionKind, type CodeAction, type Diagnostic, type Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Fetcher } from '../core/fetchers/extract';
import { ServerCommand, type FetcherRef } from '../protocol';
import { fillActions } from './fill-actions';

/** For the fetchers whose hash the range touches: "Convert to SRI", and "fill in" for a placeholder with a URL. */
export function codeActions(document: TextDocument, fetchers: Fetcher[], range: Range, diagnostics: Diagnostic[] = []): CodeAction[] {
  const from = document.offsetAt(range.start);
  const to = document.offsetAt(range.end);
  const actions: CodeAction[] = [];
  for (const f of fetchers) {
    if (f.hashTo < from || f.hashFrom > to) continue;
    const hashRange = { start: document.positionAt(f.hashFrom), end: document.positionAt(f.hashTo) };
    if (f.sri && f.hash !== f.sri) {
      const edit = { changes: { [document.uri]: [{ range: hashRange, newText: f.sri }] } };
      actions.push({ title: `Convert ${f.hashAttr} to SRI (${f.sri.slice(0, 16)}…)`, kind: CodeActionKind.RefactorRewrite, edit });
    }
    if (f.placeholder && f.urls.some((u) => /^(https?|mirror):/.test(u))) {
      const ref: FetcherRef = { uri: document.uri, hashFrom: f.hashFrom };
      actions.push({ title: 'Fetch the source and fill in its hash', kind: CodeActionKind.QuickFix, command: { title: 'Fetch and fill in hash', command: ServerCommand.fillHash, arguments: [ref] } });
    }
  }
  return [...actions, ...fillActions(document, fetchers, from, to, diagnostics)];
}
