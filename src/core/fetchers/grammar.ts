import { parser as replitParser } from '@replit/codemirror-lang-nix';
import { ExternalTokenizer, type InputStream, type LRParser } from '@lezer/lr';

/*
 * The Lezer Nix grammar (@replit/codemirror-lang-nix 6.0.1, pinned: the token ids below are
 * its own) reads an indented string's escapes (`'''`, `''$`, `''\n`) as its end, so everything
 * after `''${` in a build script was lost, and reads `$${` as an interpolation where Nix reads
 * text. Lezer lets a parser swap its external tokenizers: these are the grammar's own, reading
 * strings as Nix's lexer does (lexer.l: `$` pairs with any character but `{`; in indented
 * strings `'''`, `''$` and `''\` + a character are escapes and a backslash is just text).
 */
const QUOTE = 34;
const APOSTROPHE = 39;
const DOLLAR = 36;
const BACKSLASH = 92;
const BRACE_L = 123;

interface StringTerms {
  content: number;
  dollarBrace: number;
  end: number;
  escape: number;
}

/** What starts at the input's position: the string's end or an escape (with its length), or neither. */
type Boundary = { end: number } | { escape: number } | undefined;

/** One string tokenizer for both kinds: text up to an end, an escape or `${` (after an unpaired `$`). */
function stringTokenizer(terms: StringTerms, boundary: (input: InputStream) => Boundary): ExternalTokenizer {
  return new ExternalTokenizer((input) => {
    for (let afterDollar = false, i = 0; ; i++) {
      if (input.next < 0) {
        if (i > 0) input.acceptToken(terms.content);
        return;
      }
      const at = boundary(input);
      if (at) {
        if (i > 0) return input.acceptToken(terms.content);
        if ('end' in at) return input.acceptToken(terms.end, at.end);
        input.advance(at.escape);
        return input.acceptToken(terms.escape);
      }
      if (input.next === BRACE_L && afterDollar) {
        return i === 1 ? input.acceptToken(terms.dollarBrace, 1) : input.acceptToken(terms.content, -1);
      }
      afterDollar = input.next === DOLLAR && !afterDollar;
      input.advance();
    }
  });
}

const string = stringTokenizer({ content: 63, dollarBrace: 64, end: 65, escape: 66 }, (input) => {
  if (input.next === QUOTE) return { end: 1 };
  if (input.next === BACKSLASH) return { escape: input.peek(1) < 0 ? 1 : 2 };
  return undefined;
});

const indentedString = stringTokenizer({ content: 67, dollarBrace: 68, end: 69, escape: 70 }, (input) => {
  if (input.next !== APOSTROPHE || input.peek(1) !== APOSTROPHE) return undefined;
  const escaped = input.peek(2);
  if (escaped === APOSTROPHE || escaped === DOLLAR) return { escape: 3 };
  if (escaped === BACKSLASH) return { escape: input.peek(3) < 0 ? 3 : 4 };
  return { end: 2 };
});

/**
 * The grammar's parser with these tokenizers in place of its own (strings, then indented strings,
 * in its order). Swapped in place rather than through `configure()`, whose copy of the parser V8
 * runs 1.6 times slower (measured on the bench's 2 MB file); nothing else in the bundle uses it.
 */
export const nixParser = replitParser as LRParser;
const tokenizers = (nixParser as unknown as { tokenizers: ExternalTokenizer[] }).tokenizers;
tokenizers[0] = string;
tokenizers[1] = indentedString;
