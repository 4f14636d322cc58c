import { LiteralGuard, literalBinding } from './literal-bindings';
import type { Fetcher } from './record';

/*
 * What a scan need not parse. A quick pass over the text (strings, comments and brackets only)
 * finds long bindings whose value is a string or a list (build scripts, descriptions, dependency
 * lists) with nothing hash-like in them; the grammar then parses the rest as if it were the whole
 * file (Lezer parses a list of ranges), which holds the same hashes and the same names: a binding
 * is kept whenever the set around it binds a hash, so a fetcher's `urls` list stays. Bindings of an
 * attribute set that call fetchers with literals only are read without the grammar (literal-bindings.ts).
 */

/** Below this, a binding costs less to parse than to think about. */
const MIN_SKIPPED = 256;
const HASH_WORD = /hash|Hash|sha1|sha256|sha512|Sha1|Sha256|Sha512|md5/;

interface Frame {
  /** `{` or `let`: frames whose `name = value;` bindings may be skipped. */
  binds: boolean;
  /** `{`: an attribute set, whose bindings are read by name only through selects and inherits. */
  isSet: boolean;
  /** The binding being read: where its name starts and whether its value is a string or list. */
  start: number;
  value: number;
  /** Skippable bindings of this frame, kept only if the frame binds no hash itself. */
  skippable: { from: number; to: number }[];
  bindsHash: boolean;
}

const CHAR = {
  quote: 34,
  hash: 35,
  apostrophe: 39,
  paren: 40,
  parenEnd: 41,
  slash: 47,
  semicolon: 59,
  equals: 61,
  bracket: 91,
  bracketEnd: 93,
  brace: 123,
  braceEnd: 125,
  dollar: 36,
  backslash: 92,
  star: 42,
  bang: 33,
  less: 60,
  greater: 62,
};

/** What a scan parses of a text: the parts to parse (undefined for all of it), and the fetchers of the parts left out. */
export interface ParsePlan {
  ranges?: { from: number; to: number }[];
  /** The fetchers of literal bindings, read without the grammar. */
  fetchers: Fetcher[];
}

/** The parts of `text` to parse, in order; undefined when all of it must be. */
export function rangesToParse(text: string): { from: number; to: number }[] | undefined {
  return planParse(text).ranges;
}

export function planParse(text: string): ParsePlan {
  const skipper = new Skipper(text);
  const skipped = skipper.run();
  return { ranges: skipped.length === 0 ? undefined : complement(text, skipped), fetchers: skipper.fetchers };
}

function complement(text: string, skipped: { from: number; to: number }[]): { from: number; to: number }[] {
  const ranges: { from: number; to: number }[] = [];
  let at = 0;
  for (const skip of skipped) {
    if (skip.from > at) ranges.push({ from: at, to: skip.from });
    at = skip.to;
  }
  if (at < text.length) ranges.push({ from: at, to: text.length });
  return ranges;
}

class Skipper {
  /** The file's own frame, never closed; `frames` holds those opened inside it, innermost last. */
  private readonly outermost = this.frame(true);
  private readonly frames: Frame[] = [];
  private readonly skipped: { from: number; to: number }[] = [];
  readonly fetchers: Fetcher[] = [];
  private guard: LiteralGuard | undefined;

  constructor(private readonly text: string) {}

  run(): { from: number; to: number }[] {
    this.code(0, false);
    return this.skipped.sort((a, b) => a.from - b.from);
  }

  private frame(binds: boolean, isSet = false): Frame {
    return { binds, isSet, start: -1, value: -1, skippable: [], bindsHash: false };
  }

  /** Reads code from `i` to the end, or to the `}` closing an interpolation; returns where it stopped. */
  private code(i: number, inInterpolation: boolean): number {
    const { text, frames } = this;
    const base = frames.length;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      const top = frames.at(-1) ?? this.outermost;
      if (c === CHAR.hash) i = lineEnd(text, i);
      else if (c === CHAR.slash && text.charCodeAt(i + 1) === CHAR.star) i = blockEnd(text, i);
      else if (c === CHAR.quote) {
        // A quoted name starts a binding too: `"pkg-1" = fetchurl { … };`.
        if (top.binds && top.start < 0) top.start = i;
        i = this.string(i + 1, false);
      } else if (c === CHAR.apostrophe && text.charCodeAt(i + 1) === CHAR.apostrophe) i = this.string(i + 2, true);
      else if (c === CHAR.braceEnd && inInterpolation && frames.length === base) return i + 1;
      else if (c === CHAR.brace || c === CHAR.bracket || c === CHAR.paren) {
        frames.push(this.frame(c === CHAR.brace, c === CHAR.brace));
        i++;
      } else if (c === CHAR.braceEnd || c === CHAR.bracketEnd || c === CHAR.parenEnd) {
        this.close();
        i++;
      } else if (
        c === CHAR.equals &&
        top.binds &&
        top.start >= 0 &&
        top.value < 0 &&
        !isComparisonChar(text.charCodeAt(i + 1)) &&
        !isComparisonChar(text.charCodeAt(i - 1))
      ) {
        top.value = nextToken(text, i + 1);
        i = (top.isSet && isNameStart(text.charCodeAt(top.value)) && this.readLiteral(top)) || i + 1;
      } else if (c === CHAR.semicolon && top.binds) {
        this.endBinding(top, i + 1);
        i++;
      } else i = this.word(i, top);
    }
    return i;
  }

  /** Names: `let` opens a frame of bindings, `in` closes it; any other starts a binding when none is open. */
  private word(i: number, top: Frame): number {
    const { text } = this;
    let end = i;
    while (end < text.length && isWordChar(text.charCodeAt(end))) end++;
    if (end === i) return i + 1;
    const word = text.slice(i, end);
    if (word === 'let') this.frames.push(this.frame(true));
    else if (word === 'in' && this.frames.length > 0 && top.binds && top.start < 0) this.close();
    else if (top.binds && top.start < 0) top.start = i;
    if (top.start >= 0 && HASH_WORD.test(word) && top.value < 0) top.bindsHash = true;
    return end;
  }

  /** A string from after its opening quote(s); interpolations are read as code. Returns its end. */
  private string(i: number, indented: boolean): number {
    const { text } = this;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (indented && c === CHAR.apostrophe && text.charCodeAt(i + 1) === CHAR.apostrophe) {
        const next = text[i + 2];
        if (next === "'" || next === '$') i += 3;
        else if (next === '\\') i += 4;
        else return i + 2;
      } else if (!indented && c === CHAR.quote) return i + 1;
      else if (!indented && c === CHAR.backslash) i += 2;
      else if (c === CHAR.dollar && text.charCodeAt(i + 1) === CHAR.dollar) i += 2;
      else if (c === CHAR.dollar && text.charCodeAt(i + 1) === CHAR.brace) i = this.code(i + 2, true);
      else i++;
    }
    return i;
  }

  private endBinding(frame: Frame, end: number): void {
    const { text } = this;
    if (
      frame.start >= 0 &&
      frame.value >= 0 &&
      end - frame.start >= MIN_SKIPPED &&
      isStringOrList(text, frame.value) &&
      !HASH_WORD.test(text.slice(frame.start, end))
    ) {
      frame.skippable.push({ from: frame.start, to: end });
    }
    frame.start = -1;
    frame.value = -1;
  }

  /** The binding of `frame` read without the grammar and left out of the parse: where it ends, or 0 when it is not one to read so. */
  private readLiteral(frame: Frame): number {
    this.guard ??= new LiteralGuard(this.text);
    const read = literalBinding(this.text, frame.start, this.guard);
    if (!read) return 0;
    this.fetchers.push(...read.fetchers);
    this.skipped.push({ from: frame.start, to: read.end });
    frame.start = -1;
    frame.value = -1;
    return read.end;
  }

  private close(): void {
    const frame = this.frames.pop();
    if (frame && !frame.bindsHash) this.skipped.push(...frame.skippable);
  }
}

/** `=`, `!`, `<` and `>`: an `=` beside one is a comparison (`==`, `!=`, `<=`, `>=`), not a binding's. NaN (past either end) is none. */
function isComparisonChar(c: number): boolean {
  return c === CHAR.equals || c === CHAR.bang || c === CHAR.less || c === CHAR.greater;
}

/** Letters, digits, `_`, `'`, `-` and `.` (names, attribute paths, numbers). */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 39 || c === 45 || c === 46;
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isStringOrList(text: string, at: number): boolean {
  return text[at] === '"' || text[at] === '[' || text.startsWith("''", at);
}

function nextToken(text: string, i: number): number {
  while (i < text.length && /\s/.test(text.charAt(i))) i++;
  return i;
}

function lineEnd(text: string, i: number): number {
  const end = text.indexOf('\n', i);
  return end < 0 ? text.length : end;
}

function blockEnd(text: string, i: number): number {
  const end = text.indexOf('*/', i + 2);
  return end < 0 ? text.length : end + 2;
}
