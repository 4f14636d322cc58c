import { literalCallClaim, fetcherOfPath } from './extract';
import { FETCHER_PASSERS, HASH_ATTRS, HASH_NAME, isHashShaped, isSri, NOT_HASHES, VENDOR_HASHES } from './kinds';
import { literalHashRecord, type Fetcher } from './record';
import type { CallArgs } from './args';

/*
 * The scan's fast path for generated sets (nixpkgs' plugin, package and node lists): thousands of
 * bindings that call a fetcher with literal strings only, `x = fetchurl { url = "…"; sha256 = "…"; };`,
 * or a builder around one, `x = buildVimPlugin { pname = "…"; src = fetchFromGitHub { … }; };`.
 * What such a binding holds depends on nothing else in the file, so it is read here from its text
 * and left out of the grammar's parse. Anything else (an interpolation, an `inherit`, a comment, a
 * second hash, a name the file defines or selects) is left to the grammar.
 */

const HASH_ATTR_NAMES = Object.keys(HASH_ATTRS);
/** A hash's length as `hashShapedText` in extract.ts allows it. */
const MIN_HASH = 26;
const MAX_HASH = 140;

type LiteralValue =
  { kind: 'string'; value: string; from: number; to: number } | { kind: 'word'; written: string } | { kind: 'list'; items: string[] } | LiteralCall;

interface LiteralCall {
  kind: 'call';
  function: string;
  from: number;
  to: number;
  entries: Map<string, LiteralValue>;
  /** Whether a binding's name is a path (`meta.homepage = …`): a fetcher's arguments hold none. */
  dotted: boolean;
}

/** The names by which the rest of a file may reach a binding or define a function, worked out once per file. */
export class LiteralGuard {
  /** Undefined when the file reaches bindings by names the guard does not collect (`rec`, `with`, `x.${y}`). */
  private readonly selected: Set<string> | undefined;
  private readonly inherited: Set<string>;
  private readonly defined = new Map<string, boolean>();

  constructor(private readonly text: string) {
    this.selected = reachesByOtherNames(text) ? undefined : selectedNames(text);
    this.inherited = inheritedNames(text);
  }

  /** Whether a binding of this name, calling these functions, may be read alone. */
  allows(name: string, functions: string[]): boolean {
    return !!this.selected && !this.selected.has(name) && !this.inherited.has(name) && functions.every((f) => !this.isDefined(f));
  }

  /** A function the file defines (`f = …`, `inherit f`) may be a wrapper whose other calls read the hash. */
  private isDefined(path: string): boolean {
    const name = path.slice(path.lastIndexOf('.') + 1);
    let defined = this.defined.get(name);
    if (defined === undefined) {
      defined = this.inherited.has(name) || new RegExp(`(?<![\\w'-])${name}\\s*=(?!=)`).test(this.text);
      this.defined.set(name, defined);
    }
    return defined;
  }
}

/** Whether the file may reach a binding by names the guard does not collect: `rec`, `with`, `x.${y}`. */
function reachesByOtherNames(text: string): boolean {
  // The plain searches first: the pattern's look-behind is slow on a big file.
  const mayHave = text.includes('rec') || text.includes('with') || text.includes('${');
  return mayHave && /(?<![\w'-])(rec|with)(?![\w'-])|\.\s*\$\{/.test(text);
}

/** Every name selected in the text (`x.name`, `x."name"`, strings included): a superset of those read from a set. */
function selectedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name = '', quoted] of text.matchAll(/\.\s*(?:([A-Za-z_][\w'-]*)|"([^"\\$]*)")/g)) names.add(quoted ?? name);
  return names;
}

function inheritedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, inherited = ''] of text.matchAll(/(?<![\w'-])inherit(?![\w'-])([^;]*)/g))
    for (const [word] of inherited.matchAll(/[A-Za-z_][\w'-]*/g)) names.add(word);
  return names;
}

/** The binding at `from` when it is `name = call;` of literals only: its fetchers and where it ends; undefined for any other. */
export function literalBinding(text: string, from: number, guard: LiteralGuard): { fetchers: Fetcher[]; end: number } | undefined {
  const reader = new Reader(text, from, text.length);
  const binding = reader.binding();
  if (!binding || binding.dotted || binding.value.kind !== 'call') return undefined;
  const calls: LiteralCall[] = [];
  if (
    !collectCalls(binding.value, false, calls) ||
    !guard.allows(
      binding.name,
      calls.map((c) => c.function),
    )
  )
    return undefined;
  const fetchers: Fetcher[] = [];
  for (const call of calls) {
    const fetcher = fetcherOf(call.function);
    if (!fetcher) continue;
    const hashAttr = HASH_ATTR_NAMES.find((name) => call.entries.has(name));
    const hash = hashAttr ? call.entries.get(hashAttr) : undefined;
    if (!hashAttr || hash?.kind !== 'string') return undefined;
    const claim = literalCallClaim({ fetcher: fetcher.display, kind: fetcher.kind }, new LiteralArgs(call.entries), hashAttr, call);
    fetchers.push(literalHashRecord(claim, hash.value, hash.from, hash.to));
  }
  return fetchers.length > 0 ? { fetchers, end: reader.position } : undefined;
}

/**
 * The calls in a binding's value, when every hash in it is a fetcher's own (one per fetcher, a
 * string) and nothing else in it would count as a hash (see `countsAsHash` in extract.ts).
 */
function collectCalls(call: LiteralCall, inFetcher: boolean, calls: LiteralCall[]): boolean {
  const path = call.function;
  const name = path.slice(path.lastIndexOf('.') + 1);
  const isFetcher = !!fetcherOf(path);
  if (FETCHER_PASSERS.has(name) || name === 'import' || (path.startsWith('builtins.') && !isFetcher) || inFetcher || (isFetcher && call.dotted)) return false;
  calls.push(call);
  let hashes = 0;
  for (const [key, value] of call.entries) {
    const kind = keyKind(key);
    const isHashAttr = isFetcher && kind === 'hash attribute';
    if (isHashAttr) hashes++;
    // `recursiveHash = true;` holds no hash; any other value under a hash's name may.
    else if (kind === 'vendor hash' || (kind !== 'other' && value.kind !== 'word')) return false;
    if (value.kind === 'call' && !collectCalls(value, isFetcher, calls)) return false;
    if (value.kind === 'string' && !isHashAttr && countsAsHash(key, value.value)) return false;
    // A fetcher's lists (`urls`) are left to the grammar.
    if (value.kind === 'list' && (isFetcher || value.items.some((item) => countsAsHash(key, item)))) return false;
  }
  return !isFetcher || hashes === 1;
}

/** A string that the grammar's reading would count as a hash: SRI anywhere, or hash-shaped under a name not known to hold none. */
function countsAsHash(key: string, value: string): boolean {
  // Shorter than any hash, SRI included: most strings (names, versions).
  if (value.trim().length < MIN_HASH) return false;
  return isSri(value) || (value.length <= MAX_HASH && isHashShaped(value.trim()) && !NOT_HASHES.has(key));
}

type KeyKind = 'hash attribute' | 'vendor hash' | 'hash name' | 'other';
const keyKinds = new Map<string, KeyKind>();

/** What a binding's name says of its value, remembered: a generated set repeats a few names thousands of times. */
function keyKind(key: string): KeyKind {
  let kind = keyKinds.get(key);
  if (kind === undefined) {
    kind = HASH_ATTR_NAMES.includes(key) ? 'hash attribute' : VENDOR_HASHES[key] ? 'vendor hash' : HASH_NAME.test(key) ? 'hash name' : 'other';
    keyKinds.set(key, kind);
  }
  return kind;
}

const fetchers = new Map<string, ReturnType<typeof fetcherOfPath>>();

/** `fetcherOfPath`, remembered: a generated set calls the same few functions thousands of times. */
function fetcherOf(path: string): ReturnType<typeof fetcherOfPath> {
  if (!fetchers.has(path)) fetchers.set(path, fetcherOfPath(path));
  return fetchers.get(path);
}

/** A fetcher's arguments from literals: strings, `true`/`false`. */
class LiteralArgs implements CallArgs {
  constructor(private readonly entries: Map<string, LiteralValue>) {}

  has(name: string): boolean {
    return this.entries.has(name);
  }

  text(name: string): string | undefined {
    const value = this.entries.get(name);
    return value?.kind === 'string' ? value.value : undefined;
  }

  written(name: string): string | undefined {
    const value = this.entries.get(name);
    return value?.kind === 'word' ? value.written : value?.kind === 'string' ? `"${value.value}"` : undefined;
  }

  isTrue(name: string): boolean {
    return this.written(name) === 'true';
  }

  urls(): (string | undefined)[] {
    return this.has('url') ? [this.text('url')] : [];
  }

  name(): string | undefined {
    const pname = this.text('pname');
    const version = this.text('version');
    return this.text('name') ?? (pname && version ? `${pname}-${version}` : undefined);
  }
}

const QUOTE = 34;

/** A reader of the literal-only bindings above, over text[from, to): character by character, as it runs on every binding of a big set. */
class Reader {
  private at: number;

  constructor(
    private readonly text: string,
    from: number,
    private readonly to: number,
  ) {
    this.at = from;
  }

  get position(): number {
    return this.at;
  }

  /** `a.b."c" = value;`: the last name of the path and the value. */
  binding(): { name: string; dotted: boolean; value: LiteralValue } | undefined {
    let name = this.key();
    let dotted = false;
    for (; name !== undefined && this.eat('.'); dotted = true) name = this.key();
    if (name === undefined || !this.eat('=') || this.text[this.at] === '=') return undefined;
    const value = this.value();
    return value && this.eat(';') ? { name, dotted, value } : undefined;
  }

  private value(): LiteralValue | undefined {
    this.space();
    const from = this.at;
    const string = this.string();
    if (string !== undefined) return { kind: 'string', value: string, from: from + 1, to: this.at - 1 };
    const word = this.word('true') ?? this.word('false');
    if (word) return { kind: 'word', written: word };
    return this.text[from] === '[' ? this.list() : this.call();
  }

  /** `f { bindings }`, `pkgs.f { bindings }`. */
  private call(): LiteralCall | undefined {
    const from = this.at;
    let path = this.identifier();
    while (path !== undefined && this.text[this.at] === '.') {
      this.at++;
      const part = this.identifier();
      path = part === undefined ? undefined : `${path}.${part}`;
    }
    if (path === undefined || !this.eat('{')) return undefined;
    const entries = new Map<string, LiteralValue>();
    let dotted = false;
    while (!this.eat('}')) {
      const binding = this.binding();
      if (!binding || entries.has(binding.name)) return undefined;
      entries.set(binding.name, binding.value);
      dotted ||= binding.dotted;
    }
    return { kind: 'call', function: path, from, to: this.at, entries, dotted };
  }

  /** A list of plain strings (in a builder's set only: `meta.platforms = [ "x86_64-linux" ];`). */
  private list(): LiteralValue | undefined {
    this.at++;
    const items: string[] = [];
    for (let item = (this.space(), this.string()); item !== undefined; item = (this.space(), this.string())) items.push(item);
    return this.eat(']') ? { kind: 'list', items } : undefined;
  }

  private key(): string | undefined {
    this.space();
    return this.string() ?? this.identifier();
  }

  /** A string without escapes or interpolations (`$` alone is text, but rare enough to leave to the grammar). */
  private string(): string | undefined {
    const { text } = this;
    if (text.charCodeAt(this.at) !== QUOTE) return undefined;
    const end = text.indexOf('"', this.at + 1);
    if (end < 0 || end >= this.to) return undefined;
    const value = text.slice(this.at + 1, end);
    if (value.includes('\\') || value.includes('$')) return undefined;
    this.at = end + 1;
    return value;
  }

  private identifier(): string | undefined {
    const { text } = this;
    const from = this.at;
    if (!isNameStart(text.charCodeAt(from))) return undefined;
    let end = from + 1;
    while (end < this.to && isNameChar(text.charCodeAt(end))) end++;
    this.at = end;
    return text.slice(from, end);
  }

  private word(word: string): string | undefined {
    const end = this.at + word.length;
    if (end > this.to || !this.text.startsWith(word, this.at) || isNameChar(this.text.charCodeAt(end))) return undefined;
    this.at = end;
    return word;
  }

  private eat(char: string): boolean {
    this.space();
    if (this.text[this.at] !== char || this.at >= this.to) return false;
    this.at++;
    return true;
  }

  private space(): void {
    for (let c = this.text.charCodeAt(this.at); this.at < this.to && (c === 32 || c === 10 || c === 9 || c === 13); c = this.text.charCodeAt(this.at))
      this.at++;
  }
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

/** `[\w'-]`: letters, digits, `_`, `'` and `-`. */
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 39 || c === 45;
}
