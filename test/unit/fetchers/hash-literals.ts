/*
 * An independent count of the hash literals in a Nix file, for the recall test: a small lexer of
 * its own (not the extractor's grammar) that skips comments, paths and the text of strings, and
 * keeps, for every open brace, bracket, parenthesis or `let`, the attribute being bound there.
 * A literal counts when it is hash-shaped and either bound to a hash attribute (`hash`, `sha256`,
 * `outputHash`, `*Hash`, `*Sha256`, `*Hashes`, …; directly, or below one: `hash = { x86_64-linux
 * = "…"; }`) or written as SRI (`sha256-…`), which is a hash wherever it stands.
 */

export interface HashLiteral {
  value: string;
  /** 1-based line of the literal. */
  line: number;
  /** The names being bound around the literal, outermost first. */
  bindings: string[];
  /** The text of a `#` comment on the same line, if any. */
  comment?: string;
}

const HASH_NAME = /^(hash|hashes|sha1|sha256|sha512|md5|outputHash)$|(Hash|Hashes|Sha1|Sha256|Sha512)$/;
/** Attributes that hold other hex-looking strings (a git `rev` is 40 hex digits, as a sha1 is). */
const NOT_HASHES = new Set(['rev', 'url', 'urls', 'version', 'name', 'pname', 'owner', 'repo', 'tag', 'commit', 'ref', 'path', 'type']);
const BASE64_LENGTHS: Record<string, number> = { md5: 24, sha1: 28, sha256: 44, sha512: 88 };
const HEX_LENGTHS = new Set([32, 40, 64, 128]);
const NIX32_LENGTHS = new Set([26, 32, 52, 103]);

export function isSri(value: string): boolean {
  const match = /^(md5|sha1|sha256|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(value);
  return !!match && match[2].length === BASE64_LENGTHS[match[1]];
}

function isDigest(text: string): boolean {
  if (HEX_LENGTHS.has(text.length) && /^[0-9a-fA-F]+$/.test(text)) return true;
  if (NIX32_LENGTHS.has(text.length) && /^[0-9a-df-np-sv-z]+$/.test(text)) return true;
  // padded base64 of a digest's size (node2nix writes sha512 this way)
  return Object.entries(BASE64_LENGTHS).some(
    ([algo, length]) =>
      text.length === length &&
      Buffer.from(text, 'base64').length === { md5: 16, sha1: 20, sha256: 32, sha512: 64 }[algo] &&
      Buffer.from(text, 'base64').toString('base64') === text,
  );
}

export function isHashShaped(value: string): boolean {
  if (isSri(value)) return true;
  const prefixed = /^(md5|sha1|sha256|sha512):(.*)$/.exec(value);
  return isDigest(prefixed ? prefixed[2] : value);
}

function countsAsHash(value: string, bindings: string[]): boolean {
  if (!isHashShaped(value)) return false;
  if (isSri(value)) return true;
  const innermost = bindings.at(-1);
  if (innermost === undefined) return false;
  return HASH_NAME.test(innermost) || (!NOT_HASHES.has(innermost) && bindings.some((name) => HASH_NAME.test(name)));
}

interface Frame {
  open: string;
  /** The attribute (or formal) whose value is being read in this frame. */
  binding?: string;
  /** A `with …;` or `assert …;` is open: its `;` does not end a binding. */
  prefixes: number;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_'-]*/y;
const URI = /[a-zA-Z][a-zA-Z0-9+.-]*:[a-zA-Z0-9%/?:@&=+$,_.!~*'-]+/y;
const PATH = /(?:[a-zA-Z0-9._+-]*|~)(?:\/[a-zA-Z0-9._+-]+)+\/?/y;
const SPATH = /<[a-zA-Z0-9._+-]+(?:\/[a-zA-Z0-9._+-]+)*>/y;

/** Every hash literal in `text`, in order. */
export function findHashLiterals(text: string): HashLiteral[] {
  return new Lexer(text).run();
}

class Lexer {
  private readonly found: HashLiteral[] = [];
  private readonly comments = new Map<number, string>();
  private readonly lineStarts = [0];
  private readonly stack: Frame[] = [{ open: 'root', prefixes: 0 }];
  private lastName: string | undefined;

  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  run(): HashLiteral[] {
    this.code(0, false);
    for (const literal of this.found) literal.comment = this.comments.get(literal.line);
    return this.found;
  }

  private lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private match(pattern: RegExp, at: number): string | undefined {
    pattern.lastIndex = at;
    return pattern.exec(this.text)?.[0];
  }

  private onString(value: string, from: number): void {
    const bindings = this.stack.map((f) => f.binding).filter((b): b is string => b !== undefined);
    if (countsAsHash(value, bindings)) this.found.push({ value, line: this.lineOf(from), bindings });
  }

  /** Reads code from `start` to the end, or to the `}` closing an interpolation; returns where it stopped. */
  private code(start: number, inInterpolation: boolean): number {
    const { text, stack } = this;
    const base = stack.length;
    let i = start;
    while (i < text.length) {
      const c = text[i];
      const top = stack[stack.length - 1];
      if (/\s/.test(c)) {
        i++;
      } else if (c === '#') {
        const end = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
        this.comments.set(this.lineOf(i), text.slice(i + 1, end).trim());
        i = end;
      } else if (text.startsWith('/*', i)) {
        const end = text.indexOf('*/', i + 2);
        i = end < 0 ? text.length : end + 2;
      } else if (c === '"' || text.startsWith("''", i)) {
        const { end, value } = c === '"' ? this.doubleQuoted(i + 1) : this.indented(i + 2);
        if (value !== undefined) this.onString(c === '"' ? value : value.trim(), i);
        this.lastName = value;
        i = end;
      } else if (c === '}' && inInterpolation && stack.length === base) {
        return i + 1;
      } else {
        i = this.token(i, top);
      }
    }
    return i;
  }

  /** Any other token at `i`: names, paths, brackets and the punctuation of bindings. Returns its end. */
  private token(i: number, top: Frame): number {
    const { text, stack } = this;
    const c = text[i];
    const path = this.match(SPATH, i) ?? (/[./~a-zA-Z0-9_]/.test(c) ? this.match(PATH, i) : undefined);
    if (path?.includes('/')) return i + path.length;
    if (/[A-Za-z_]/.test(c)) {
      const uri = this.match(URI, i);
      if (uri) return i + uri.length;
      const word = this.match(IDENT, i)!;
      if (word === 'let') stack.push({ open: 'let', prefixes: 0 });
      else if (word === 'in' && top.open === 'let') stack.pop();
      else if (word === 'with' || word === 'assert') top.prefixes++;
      else this.lastName = word;
      return i + word.length;
    }
    if (c === '{' || c === '[' || c === '(') stack.push({ open: c, prefixes: 0 });
    else if ((c === '}' || c === ']' || c === ')') && stack.length > 1) stack.pop();
    else if (c === '=' && !'=!<>'.includes(text[i + 1]) && !'=!<>'.includes(text[i - 1])) top.binding = this.lastName;
    else if (c === '?' && top.open === '{') top.binding = this.lastName;
    else if (c === ',' && top.open === '{') top.binding = undefined;
    else if (c === ';' && top.prefixes > 0) top.prefixes--;
    else if (c === ';') top.binding = undefined;
    return i + 1;
  }

  /** A `"…"` string from after its quote: its value when it has no interpolation. */
  private doubleQuoted(start: number): { end: number; value?: string } {
    const { text } = this;
    let value: string | undefined = '';
    let i = start;
    while (i < text.length && text[i] !== '"') {
      const width = text[i] === '\\' || text.startsWith('$$', i) ? 2 : 1;
      if (text.startsWith('${', i)) {
        value = undefined;
        i = this.code(i + 2, true);
        continue;
      }
      if (value !== undefined) value += width === 2 && text[i] === '\\' ? text[i + 1] : text.slice(i, i + width);
      i += width;
    }
    return { end: i + 1, value };
  }

  /** A `''…''` string from after its quotes. */
  private indented(start: number): { end: number; value?: string } {
    const { text } = this;
    let value: string | undefined = '';
    let i = start;
    while (i < text.length) {
      if (text.startsWith("''", i) && !/^''['$\\]/.test(text.slice(i, i + 3))) return { end: i + 2, value };
      if (text.startsWith('${', i)) {
        value = undefined;
        i = this.code(i + 2, true);
        continue;
      }
      const escape = text.startsWith("''\\", i) ? 4 : text.startsWith("''", i) ? 3 : text.startsWith('$$', i) ? 2 : 1;
      if (value !== undefined) value += escape >= 3 ? text[i + escape - 1] : text.slice(i, i + escape);
      i += escape;
    }
    return { end: i, value };
  }
}
