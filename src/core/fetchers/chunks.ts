import { nixParser as parser } from './grammar';
import type { SyntaxNode, Tree } from '@lezer/common';
import { fetchersInTree, type Fetcher, type TextEdit } from './extract';

/*
 * Big generated sets (nixpkgs' plugin, package and hackage lists: thousands of bindings in one
 * attribute set) are parsed in chunks of whole bindings, each together with the text around the
 * set, so chunks can be parsed on several cores and an edit re-parses only its own chunk. Split
 * points are proposed from the shape of lines, but the grammar has the last word: when any chunk
 * parses with an error, or the set does not span the same text in it, the split is void and the
 * file is parsed whole. A split the grammar accepts yields exactly the fetchers of a whole parse.
 */

export interface ChunkPlan {
  /** Offset of the split set's opening brace. */
  outerFrom: number;
  /** Line start of each chunk (there is at least one); chunk i ends where chunk i+1 starts, the last one at `suffixFrom`. */
  starts: [number, ...number[]];
  /** The split set's closing brace. The text before `starts[0]` and from here on is parsed with every chunk. */
  suffixFrom: number;
}

export interface ChunkedNix {
  text: string;
  plan: ChunkPlan;
  /** Fetchers by chunk; the last chunk's list also holds those before the first chunk and after the set. */
  chunks: Fetcher[][];
}

/** Below this, a whole parse takes a few milliseconds: not worth a split. */
const MIN_TEXT = 256 * 1024;
const CHUNK_BYTES = 32 * 1024;
/** The text around the set is parsed once per chunk, so it must be small. */
const MAX_SURROUNDINGS = 16 * 1024;
const MIN_BINDINGS = 64;
const KEY = String.raw`(?:[A-Za-z_][\w'-]*|"[^"\\$\n]*")`;
const BINDING_LINE = new RegExp(String.raw`^([ \t]*)${KEY}(?:[ \t]*\.[ \t]*${KEY})*[ \t]*=(?!=)`, 'gm');

/** How many chunks a split of this text would make; 0 when it is better parsed whole. Cheap: no parsing. */
export function proposeChunks(text: string): number {
  return proposeStarts(text)?.starts.length ?? 0;
}

/**
 * Parses the chunks at `indices` (any share of them, on any thread: the split is worked out the
 * same way from the text everywhere). Undefined when the split does not hold; a chunk is
 * undefined when the grammar rejects it.
 */
export function parseChunks(text: string, indices: number[]): { plan: ChunkPlan; chunks: (Fetcher[] | undefined)[] } | undefined {
  const planned = planChunks(text);
  if (!planned) return undefined;
  const last = planned.plan.starts.length - 1;
  return { plan: planned.plan, chunks: indices.map((i) => (i === last ? planned.last : parseChunk(text, planned.plan, i))) };
}

/** Checks the proposed split on the last chunk, which also finds the set's closing brace. */
function planChunks(text: string): { plan: ChunkPlan; last: Fetcher[] } | undefined {
  const proposal = proposeStarts(text);
  if (!proposal) return undefined;
  const { starts, indent } = proposal;
  const lastStart = starts.at(-1);
  if (lastStart === undefined) return undefined;
  const tree = parseRanges(text, [
    { from: 0, to: starts[0] },
    { from: lastStart, to: text.length },
  ]);
  const outer = enclosingSet(tree, lastStart + indent);
  if (!outer || outer.from >= starts[0] || text.length - outer.to > MAX_SURROUNDINGS) return undefined;
  const plan = { outerFrom: outer.from, starts, suffixFrom: outer.to - 1 };
  const last = chunkFetchers(text, plan, starts.length - 1, tree);
  return last && { plan, last };
}

/** The fetchers of chunk `index`, or undefined when the grammar rejects the split there. */
function parseChunk(text: string, plan: ChunkPlan, index: number): Fetcher[] | undefined {
  const { starts, suffixFrom } = plan;
  const from = starts[index];
  if (from === undefined) return undefined; // no such chunk: the split does not hold
  const to = starts[index + 1] ?? suffixFrom;
  const tree = parseRanges(text, [
    { from: 0, to: starts[0] },
    { from, to },
    { from: suffixFrom, to: text.length },
  ]);
  return chunkFetchers(text, plan, index, tree);
}

/** Splits and parses a whole file on this thread; undefined when it is better parsed whole. */
export function chunkNix(text: string): ChunkedNix | undefined {
  const count = proposeChunks(text);
  const parsed =
    count > 0
      ? parseChunks(
          text,
          Array.from({ length: count }, (_, i) => i),
        )
      : undefined;
  return parsed && assembleChunks(text, parsed.plan, parsed.chunks);
}

/** A chunked file from every chunk's fetchers, in order (parsed anywhere). */
export function assembleChunks(text: string, plan: ChunkPlan, chunks: (Fetcher[] | undefined)[]): ChunkedNix | undefined {
  return chunks.length === plan.starts.length && chunks.every((chunk) => chunk) ? { text, plan, chunks: chunks as Fetcher[][] } : undefined;
}

export function chunkedFetchers(chunked: ChunkedNix): Fetcher[] {
  return chunked.chunks.flat().sort((a, b) => a.hashFrom - b.hashFrom);
}

/**
 * Applies edits (each in the coordinates of the text before it, as LSP reports them) by
 * re-parsing only the chunks they fall in. Undefined when an edit touches the text around the
 * set or spans two chunks, or the grammar rejects a re-parsed chunk: then parse the file whole.
 */
export function editChunked(chunked: ChunkedNix, edits: TextEdit[]): ChunkedNix | undefined {
  let text = chunked.text;
  const starts: ChunkPlan['starts'] = [...chunked.plan.starts];
  let suffixFrom = chunked.plan.suffixFrom;
  let chunks = chunked.chunks;
  const dirty = new Set<number>();
  for (const edit of edits) {
    const index = chunkOf(starts, suffixFrom, edit);
    if (index < 0) return undefined;
    text = text.slice(0, edit.from) + edit.insert + text.slice(edit.to);
    const delta = edit.insert.length - (edit.to - edit.from);
    const moved = (at: number) => (at >= edit.to ? at + delta : at);
    for (let i = index + 1; i < starts.length; i++) starts[i]! += delta;
    suffixFrom += delta;
    chunks = chunks.map((fetchers) =>
      fetchers.map((f) => (f.to < edit.to ? f : { ...f, from: moved(f.from), to: moved(f.to), hashFrom: moved(f.hashFrom), hashTo: moved(f.hashTo) })),
    );
    dirty.add(index);
  }
  const plan = { outerFrom: chunked.plan.outerFrom, starts, suffixFrom };
  chunks = [...chunks];
  for (const index of dirty) {
    const fetchers = parseChunk(text, plan, index);
    if (!fetchers) return undefined;
    chunks[index] = fetchers;
  }
  return { text, plan, chunks };
}

/** The chunk an edit lies in (it may reach the chunk's end), or -1. */
function chunkOf(starts: ChunkPlan['starts'], suffixFrom: number, edit: TextEdit): number {
  if (edit.from < starts[0]) return -1;
  for (let i = starts.length - 1; i >= 0; i--) {
    if (edit.from < starts[i]!) continue;
    return edit.to <= (starts[i + 1] ?? suffixFrom) ? i : -1;
  }
  return -1;
}

/** Line starts of bindings at the outermost indentation that has many, grouped into chunks. */
function proposeStarts(text: string): { starts: [number, ...number[]]; indent: number } | undefined {
  if (text.length < MIN_TEXT) return undefined;
  const byIndent = new Map<number, number[]>();
  for (const match of text.matchAll(BINDING_LINE)) {
    const [, leading = ''] = match;
    const lines = byIndent.get(leading.length);
    if (lines) lines.push(match.index);
    else byIndent.set(leading.length, [match.index]);
  }
  const indent = [...byIndent.keys()].sort((a, b) => a - b).find((i) => byIndent.get(i)!.length >= MIN_BINDINGS);
  if (indent === undefined) return undefined;
  // A set opens right before its first binding. Bindings at this indentation in other sets (a
  // `let`'s, a `// { … }` after it) are not the big set's: keep the longest run after an opening.
  let lines: number[] = [];
  let run: number[] = [];
  for (const line of byIndent.get(indent)!) {
    if (/\{\s*$/.test(text.slice(Math.max(0, line - 64), line))) run = [];
    run.push(line);
    if (run.length > lines.length) lines = run;
  }
  const [first] = lines;
  if (first === undefined || first > MAX_SURROUNDINGS) return undefined;
  const starts: [number, ...number[]] = [first];
  let chunkStart = first;
  for (const line of lines) {
    if (line - chunkStart < CHUNK_BYTES) continue;
    starts.push(line);
    chunkStart = line;
  }
  return starts.length >= 2 ? { starts, indent } : undefined;
}

function parseRanges(text: string, ranges: { from: number; to: number }[]): Tree {
  const merged: { from: number; to: number }[] = [];
  for (const range of ranges) {
    const previous = merged[merged.length - 1];
    if (previous && previous.to >= range.from) previous.to = Math.max(previous.to, range.to);
    else if (range.to > range.from) merged.push({ ...range });
  }
  return parser.parse(text, [], merged);
}

/** The plain (not `rec`) attribute set whose binding starts at `bindStart`. */
function enclosingSet(tree: Tree, bindStart: number): SyntaxNode | undefined {
  for (let node: SyntaxNode | null = tree.resolve(bindStart, 1); node && node.from >= bindStart; node = node.parent) {
    if (node.name !== 'Bind') continue;
    const set = node.from === bindStart ? node.parent : null;
    return set?.name === 'AttrSet' && set.parent?.name !== 'RecAttrSet' ? set : undefined;
  }
  return undefined;
}

/** The chunk's share of a tree's fetchers, when the tree is clean and the set spans what the plan says. */
function chunkFetchers(text: string, plan: ChunkPlan, index: number, tree: Tree): Fetcher[] | undefined {
  let set: SyntaxNode | null = tree.resolve(plan.outerFrom, 1);
  while (set && !(set.name === 'AttrSet' && set.from === plan.outerFrom)) set = set.parent;
  if (!set || set.to !== plan.suffixFrom + 1 || set.parent?.name === 'RecAttrSet') return undefined;
  const { fetchers, clean } = fetchersInTree(text, tree, plan.outerFrom);
  if (!clean) return undefined;
  const from = plan.starts[index];
  if (from === undefined) return undefined;
  const last = index === plan.starts.length - 1;
  const to = plan.starts[index + 1] ?? plan.suffixFrom;
  return fetchers.filter((f) => (f.hashFrom >= from && f.hashFrom < to) || (last && (f.hashFrom < plan.starts[0] || f.hashFrom >= to)));
}
