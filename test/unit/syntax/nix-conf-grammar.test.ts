// The grammar of the read-only nix.conf document (Show Nix Configuration) and of users' own
// nix.conf files, run through VS Code's TextMate engine.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';
import oniguruma from 'vscode-oniguruma';
import textmate from 'vscode-textmate';

const root = path.resolve(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);

test('nix.conf: comments, setting names, values, URLs and booleans get their own scopes', async () => {
  const wasm = await readFile(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async () => textmate.parseRawGrammar(await readFile(path.join(root, 'syntaxes/nix-conf.tmLanguage.json'), 'utf8'), 'nix-conf.tmLanguage.json'),
  });
  const grammar = (await registry.loadGrammar('source.nix-conf'))!;
  const text =
    '# nix-ipfs: use this node\nextra-substituters = http://127.0.0.1:8080/ipns/k51/cache\nfallback = true\nconnect-timeout = 5\n!include extra.conf';
  const scopes = new Map<string, string>();
  let stack = textmate.INITIAL;
  for (const line of text.split('\n')) {
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) scopes.set(line.slice(token.startIndex, token.endIndex).trim(), token.scopes.at(-1)!);
    stack = result.ruleStack;
  }
  assert.equal(scopes.get('# nix-ipfs: use this node'), 'comment.line.number-sign.nix-conf');
  assert.equal(scopes.get('extra-substituters'), 'variable.other.key.nix-conf');
  assert.equal(scopes.get('='), 'keyword.operator.assignment.nix-conf');
  assert.equal(scopes.get('http://127.0.0.1:8080/ipns/k51/cache'), 'markup.underline.link.nix-conf');
  assert.equal(scopes.get('true'), 'constant.language.boolean.nix-conf');
  assert.equal(scopes.get('5'), 'constant.numeric.nix-conf');
  assert.equal(scopes.get('!include'), 'keyword.control.import.nix-conf');
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const language = manifest.contributes.languages.find((l: { id: string }) => l.id === 'nix-conf');
  assert.deepEqual(language.filenames, ['nix.conf'], 'the document nix-ipfs:/nix.conf and users’ own nix.conf files get it');
});
