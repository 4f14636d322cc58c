import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { extractFetchers, parseNix, reparseNix, type Fetcher, type ParsedNix, type TextEdit } from '../core/fetchers/extract';

interface Entry {
  document: TextDocument;
  parsed?: ParsedNix;
  fetchers?: Fetcher[];
  /** Edits since the last parse, for an incremental re-parse. */
  pending: TextEdit[];
}

/** Open Nix documents, each parsed lazily and incrementally, with its fetchers cached per version. */
export class NixDocuments {
  private readonly entries = new Map<string, Entry>();

  open(uri: string, version: number, text: string): void {
    this.entries.set(uri, { document: TextDocument.create(uri, 'nix', version, text), pending: [] });
  }

  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): void {
    const entry = this.entries.get(uri);
    if (!entry) return;
    for (const change of changes) {
      if ('range' in change) {
        const from = entry.document.offsetAt(change.range.start);
        const to = entry.document.offsetAt(change.range.end);
        entry.pending.push({ from, to, insert: change.text });
      } else {
        entry.parsed = undefined; // a full replacement: parse from scratch
        entry.pending = [];
      }
      entry.document = TextDocument.update(entry.document, [change], version);
    }
    entry.fetchers = undefined;
  }

  close(uri: string): void {
    this.entries.delete(uri);
  }

  get(uri: string): TextDocument | undefined {
    return this.entries.get(uri)?.document;
  }

  uris(): string[] {
    return [...this.entries.keys()];
  }

  fetchers(uri: string): Fetcher[] {
    const entry = this.entries.get(uri);
    if (!entry) return [];
    if (!entry.fetchers) {
      entry.parsed = entry.parsed && entry.pending.length > 0 ? reparseNix(entry.parsed, entry.pending) : entry.parsed ?? parseNix(entry.document.getText());
      entry.pending = [];
      entry.fetchers = extractFetchers(entry.parsed);
    }
    return entry.fetchers;
  }

  fetcherAt(uri: string, offset: number): Fetcher | undefined {
    const fetchers = this.fetchers(uri);
    return fetchers.find((f) => offset >= f.hashFrom && offset <= f.hashTo) ?? fetchers.find((f) => offset >= f.from && offset <= f.to);
  }
}
