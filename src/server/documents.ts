import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { chunkedFetchers, chunkNix, editChunked, type ChunkedNix } from '../core/fetchers/chunks';
import { extractFetchers, parseNix, reparseNix, type Fetcher, type ParsedNix, type TextEdit } from '../core/fetchers/extract';
import { flakeLockFetchers, isFlakeLock } from '../core/flake-lock';

/**
 * The largest file parsed whole. Hand-written .nix files are far smaller (nixpkgs' largest are under
 * 1 MB); generated sets of any size are parsed in chunks instead. A whole parse of a bigger file costs
 * seconds and gigabytes on every edit, so it is not read at all: the editor is told why.
 */
export const MAX_WHOLE_PARSE_BYTES = 8 * 1024 * 1024;

interface Entry {
  document: TextDocument;
  /** A big generated set parsed in chunks: an edit re-parses its chunk. */
  chunked?: ChunkedNix;
  /** A whole-file parse, re-parsed incrementally (Lezer fragments) on edits. */
  parsed?: ParsedNix;
  fetchers?: Fetcher[];
  /** Edits since the last parse. */
  pending: TextEdit[];
  /** A parse on worker threads under way; its result is taken only while it is still the latest. */
  parsing?: Promise<void>;
}

/** Open Nix documents (and flake.lock files), each parsed lazily and incrementally, with its fetchers cached per version. */
export class NixDocuments {
  private readonly entries = new Map<string, Entry>();

  /** `parallel` parses a big file's chunks on worker threads; without it they are parsed on this thread. */
  constructor(private readonly parallel?: (text: string) => Promise<ChunkedNix | undefined>) {}

  open(uri: string, version: number, text: string): void {
    const entry: Entry = { document: TextDocument.create(uri, 'nix', version, text), pending: [] };
    this.entries.set(uri, entry);
    this.startParallelParse(entry);
  }

  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): void {
    const entry = this.entries.get(uri);
    if (!entry) return;
    for (const change of changes) {
      const full = !('range' in change);
      if (!full) entry.pending.push({ from: entry.document.offsetAt(change.range.start), to: entry.document.offsetAt(change.range.end), insert: change.text });
      entry.document = TextDocument.update(entry.document, [change], version);
      if (full) {
        entry.parsed = entry.chunked = undefined; // a full replacement: parse from scratch
        entry.pending = [];
        this.startParallelParse(entry);
      }
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

  async fetchers(uri: string): Promise<Fetcher[]> {
    const entry = this.entries.get(uri);
    if (!entry) return [];
    while (entry.parsing) await entry.parsing;
    entry.fetchers ??= this.parse(entry);
    return entry.fetchers;
  }

  /** True when the file is too big to parse whole and is not a generated set read in chunks. */
  async tooLarge(uri: string): Promise<boolean> {
    const entry = this.entries.get(uri);
    if (!entry) return false;
    await this.fetchers(uri);
    return !entry.chunked && !entry.parsed && entry.document.getText().length > MAX_WHOLE_PARSE_BYTES;
  }

  async fetcherAt(uri: string, offset: number): Promise<Fetcher | undefined> {
    const fetchers = await this.fetchers(uri);
    return fetchers.find((f) => offset >= f.hashFrom && offset <= f.hashTo) ?? fetchers.find((f) => offset >= f.from && offset <= f.to);
  }

  private startParallelParse(entry: Entry): void {
    if (!this.parallel || isFlakeLock(entry.document.uri)) return;
    const parsing: Promise<void> = this.parallel(entry.document.getText())
      .catch(() => undefined) // a failed worker leaves the file to a whole parse on this thread
      .then((chunked) => {
        if (entry.parsing !== parsing) return;
        entry.parsing = undefined;
        // Edits made meanwhile are still pending, in the coordinates of the text just parsed.
        entry.chunked = chunked;
      });
    entry.parsing = parsing;
  }

  private parse(entry: Entry): Fetcher[] {
    const edits = entry.pending;
    entry.pending = [];
    // A flake.lock is JSON: its locked inputs, read afresh (a lock file is small).
    if (isFlakeLock(entry.document.uri)) return flakeLockFetchers(entry.document.getText());
    if (entry.chunked) {
      entry.chunked = edits.length > 0 ? editChunked(entry.chunked, edits) : entry.chunked;
      if (entry.chunked) return chunkedFetchers(entry.chunked);
      // An edit the chunks cannot take (one spanning two, an unfinished binding): parse whole from now on.
      entry.parsed = parseNix(entry.document.getText());
    } else if (entry.parsed) {
      if (edits.length > 0) entry.parsed = reparseNix(entry.parsed, edits);
    } else {
      const text = entry.document.getText();
      // With worker threads, the split was already tried when the text arrived.
      entry.chunked = this.parallel ? undefined : chunkNix(text);
      if (entry.chunked) return chunkedFetchers(entry.chunked);
      if (text.length > MAX_WHOLE_PARSE_BYTES) return [];
      entry.parsed = parseNix(text);
    }
    return extractFetchers(entry.parsed);
  }
}
