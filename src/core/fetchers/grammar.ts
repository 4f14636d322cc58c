import { parser as replitParser } from '@replit/codemirror-lang-nix';
import { ExternalTokenizer, type LRParser } from '@lezer/lr';

/*
 * The Lezer Nix grammar (@replit/codemirror-lang-nix 6.0.1, pinned: the token ids below are
 * its own) reads an indented string's escapes (`'''`, `''$`, `''\n`) as its end, so everything
 * after `''${` in a build script was lost, and reads `$${` as an interpolation where Nix reads
 * text. Lezer lets a parser swap its external tokenizers: these are the grammar's own, reading
 * strings as Nix's lexer does (lexer.l: `$` pairs with any character but `{`; in indented
 * strings `'''`, `''$` and `''\` + a character are escapes and a backslash is just text).
 */
const STR_CONTENT = 63;
const STR_DOLLAR_BRACE = 64;
const STR_END = 65;
const ESCAPE_SEQUENCE = 66;
const IND_STR_CONTENT = 67;
const IND_STR_DOLLAR_BRACE = 68;
const IND_STR_END = 69;
const IND_ESCAPE_SEQUENCE = 70;
const QUOTE = 34;
const APOSTROPHE = 39;
const DOLLAR = 36;
const BACKSLASH = 92;
const BRACE_L = 123;

const string = new ExternalTokenizer((input) => {
  for (let afterDollar = false, i = 0; ; i++) {
    const next = input.next;
    if (next < 0) {
      if (i > 0) input.acceptToken(STR_CONTENT);
      return;
    }
    if (next === QUOTE) return i > 0 ? input.acceptToken(STR_CONTENT) : input.acceptToken(STR_END, 1);
    if (next === BRACE_L && afterDollar) {
      return i === 1 ? input.acceptToken(STR_DOLLAR_BRACE, 1) : input.acceptToken(STR_CONTENT, -1);
    }
    if (next === BACKSLASH) {
      if (i > 0) return input.acceptToken(STR_CONTENT);
      input.advance();
      if (input.next >= 0) input.advance();
      return input.acceptToken(ESCAPE_SEQUENCE);
    }
    afterDollar = next === DOLLAR && !afterDollar;
    input.advance();
  }
});

const indentedString = new ExternalTokenizer((input) => {
  for (let afterDollar = false, i = 0; ; i++) {
    const next = input.next;
    if (next < 0) {
      if (i > 0) input.acceptToken(IND_STR_CONTENT);
      return;
    }
    if (next === APOSTROPHE && input.peek(1) === APOSTROPHE) {
      if (i > 0) return input.acceptToken(IND_STR_CONTENT);
      const escaped = input.peek(2);
      if (escaped === APOSTROPHE || escaped === DOLLAR || escaped === BACKSLASH) {
        input.advance(3);
        if (escaped === BACKSLASH && input.next >= 0) input.advance();
        return input.acceptToken(IND_ESCAPE_SEQUENCE);
      }
      return input.acceptToken(IND_STR_END, 2);
    }
    if (next === BRACE_L && afterDollar) {
      return i === 1 ? input.acceptToken(IND_STR_DOLLAR_BRACE, 1) : input.acceptToken(IND_STR_CONTENT, -1);
    }
    afterDollar = next === DOLLAR && !afterDollar;
    input.advance();
  }
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
