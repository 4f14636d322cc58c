// The TextMate grammar VS Code highlights .nix files with, run through the same engine VS Code
// uses (vscode-textmate + Oniguruma): each construct gets the scope themes colour.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import oniguruma from 'vscode-oniguruma';
import textmate from 'vscode-textmate';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);

async function loadGrammar(): Promise<textmate.IGrammar> {
  const wasm = await readFile(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async () => textmate.parseRawGrammar(await readFile(path.join(root, 'syntaxes/nix.tmLanguage.json'), 'utf8'), 'nix.tmLanguage.json'),
  });
  const grammar = await registry.loadGrammar('source.nix');
  assert.ok(grammar);
  return grammar;
}

/** Each token's text with its innermost scope, line by line. */
function tokenize(grammar: textmate.IGrammar, text: string): Array<[string, string]> {
  let stack = textmate.INITIAL;
  const out: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) out.push([line.slice(token.startIndex, token.endIndex), token.scopes.at(-1)!]);
    stack = result.ruleStack;
  }
  return out;
}

const scopeOf = (tokens: Array<[string, string]>, text: string) => tokens.find(([t]) => t === text)?.[1];

const SAMPLE = `{ lib, stdenv, fetchurl }:
# a package
stdenv.mkDerivation (finalAttrs: rec {
  pname = "hello";
  version = "2.12";
  src = fetchurl {
    url = "mirror://gnu/hello/\${pname}-\${finalAttrs.version}.tar.gz";
    hash = "sha256-jZkUKv2SV28wsM18tCqNxoCZmLxdYH2Idh9RLibH2yA=";
  };
  postPatch = ''
    echo ''\${not-interpolated} \${toString 1.5} '''quoted'''
  '';
  doCheck = true; /* block
  comment */ meta.homepage = https://example.org/hello;
  patches = [ ./fix.patch <nixpkgs/lib> ];
  enable = if version == "2.12" then 1 else null;
})`;

test('the Nix grammar gives each construct the scope VS Code themes colour', async () => {
  const tokens = tokenize(await loadGrammar(), SAMPLE);
  assert.equal(scopeOf(tokens, '# a package'), 'comment.line.number-sign.nix');
  assert.equal(scopeOf(tokens, 'pname'), 'entity.other.attribute-name.nix');
  assert.equal(scopeOf(tokens, 'meta.homepage'), 'entity.other.attribute-name.nix');
  assert.equal(scopeOf(tokens, 'finalAttrs'), 'variable.parameter.nix');
  assert.equal(scopeOf(tokens, 'rec'), 'keyword.control.nix');
  assert.equal(scopeOf(tokens, 'hello'), 'string.quoted.double.nix');
  assert.equal(scopeOf(tokens, '${'), 'punctuation.section.embedded.begin.nix');
  assert.equal(scopeOf(tokens, "''$"), 'constant.character.escape.nix', "''${ is an escape, not an interpolation");
  assert.equal(scopeOf(tokens, "'''"), 'constant.character.escape.nix');
  assert.equal(scopeOf(tokens, 'toString'), 'support.function.builtin.nix', 'an interpolation holds an expression');
  assert.equal(scopeOf(tokens, '1.5'), 'constant.numeric.float.nix');
  assert.equal(scopeOf(tokens, 'true'), 'constant.language.nix');
  assert.equal(tokens.find(([t]) => t.trim() === 'comment')?.[1], 'comment.block.nix');
  assert.equal(scopeOf(tokens, 'https://example.org/hello'), 'string.unquoted.uri.nix');
  assert.equal(scopeOf(tokens, './fix.patch'), 'string.unquoted.path.nix');
  assert.equal(scopeOf(tokens, '<nixpkgs/lib>'), 'string.unquoted.path.search.nix');
  assert.equal(scopeOf(tokens, '=='), 'keyword.operator.nix');
  assert.equal(scopeOf(tokens, 'null'), 'constant.language.nix');
  // The indented string ends where Nix ends it: what follows is code again.
  assert.equal(scopeOf(tokens, 'doCheck'), 'entity.other.attribute-name.nix');
});

test('the language configuration declares Nix comments and brackets for toggling and matching', async () => {
  const config = JSON.parse(await readFile(path.join(root, 'language-configuration.json'), 'utf8'));
  assert.equal(config.comments.lineComment, '#');
  assert.deepEqual(config.comments.blockComment, ['/*', '*/']);
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const nix = manifest.contributes.languages.find((l: { id: string }) => l.id === 'nix');
  assert.equal(nix.configuration, './language-configuration.json');
  assert.deepEqual(
    manifest.contributes.grammars.filter((g: { language: string }) => g.language === 'nix'),
    [{ language: 'nix', scopeName: 'source.nix', path: './syntaxes/nix.tmLanguage.json' }],
  );
});
