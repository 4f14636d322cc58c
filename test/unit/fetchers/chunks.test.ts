import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { chunkedFetchers, chunkNix, editChunked } from '../../../src/core/fetchers/chunks';
import { extractFetchers, parseNix } from '../../../src/core/fetchers/extract';
import { encodeNix32 } from '../../../src/core/nix-base32';

const nix32 = (seed: string) => encodeNix32(createHash('sha256').update(seed).digest());

/** nixpkgs' generated vim plugin set: a header, then thousands of bindings in one plain set. */
function vimPlugins(count: number, { header = '{ lib, buildVimPlugin, fetchFromGitHub, fetchurl }:\n\nfinal: prev:\n{\n', footer = '}\n' } = {}): string {
  const body: string[] = [];
  for (let i = 0; i < count; i++) {
    body.push(
      i % 3 === 2
        ? `  "pkg-${i}" = fetchurl {\n    url = "https://registry.example.org/pkg-${i}/-/pkg-\${version}.tgz";\n    sha256 = "${nix32(`p${i}`)}";\n  };\n`
        : `  plugin-${i} = buildVimPlugin {\n    pname = "plugin-${i}";\n    version = "2024-01-${(i % 28) + 1}";\n    src = fetchFromGitHub {\n      owner = "owner${i}";\n      repo = "plugin-${i}";\n      rev = "${createHash('sha1').update(String(i)).digest('hex')}";\n      sha256 = "${nix32(String(i))}";\n    };\n    meta.homepage = "https://github.com/owner${i}/plugin-${i}/"; # a "quoted" comment { \n  };\n`,
    );
  }
  return header + body.join('\n') + footer;
}

/** hackage-packages.nix: `self: {` and every package a callPackage of a function. */
function hackage(count: number): string {
  const body: string[] = [];
  for (let i = 0; i < count; i++) {
    body.push(
      `  "pkg${i}" = callPackage\n    ({ mkDerivation, base, fetchurl }:\n     mkDerivation {\n       pname = "pkg${i}";\n       version = "0.${i}";\n       src = fetchurl { url = "mirror://hackage/pkg${i}-0.${i}.tar.gz"; sha256 = "${nix32(`h${i}`)}"; };\n       description = ''\n         A package; with {braces}, "quotes" and $dollars\n       '';\n     }) {};\n`,
    );
  }
  return `/* hackage-packages.nix is an auto-generated file -- DO NOT EDIT! */\n\n{ pkgs, lib, callPackage }:\n\nself: {\n\n${body.join('\n')}}\n`;
}

const whole = (text: string) => extractFetchers(parseNix(text));

test('big generated sets are split into chunks the grammar accepts, with exactly the fetchers of a whole parse', () => {
  const withLet = vimPlugins(1200, {
    header:
      '{ fetchurl, fetchFromGitHub, buildVimPlugin }:\nlet\n  version = "1.0";\n  tool = fetchurl { url = "https://example.org/t-${version}"; sha256 = "' +
      nix32('tool') +
      '"; };\nin\n{\n',
  });
  const withSuffix = vimPlugins(1200, { footer: '} // {\n  extra = fetchurl { url = "https://example.org/extra"; sha256 = "' + nix32('extra') + '"; };\n}\n' });
  for (const [name, text] of Object.entries({ vimPlugins: vimPlugins(1200), hackage: hackage(900), withLet, withSuffix })) {
    const chunked = chunkNix(text);
    assert.ok(chunked, `${name}: not split`);
    assert.ok(chunked.chunks.length >= 8, `${name}: ${chunked.chunks.length} chunks`);
    assert.deepEqual(chunkedFetchers(chunked), whole(text), name);
  }
  // The let-bound version resolved in a chunk far from the let: the text around the set is parsed with each chunk.
  const last = chunkedFetchers(chunkNix(withLet)!).at(-1)!;
  assert.deepEqual(last.urls, ['https://registry.example.org/pkg-1199/-/pkg-1.0.tgz']);
});

test('files a split could misread are parsed whole', () => {
  // Small: a whole parse is quick.
  assert.equal(chunkNix(vimPlugins(50)), undefined);
  // A rec set: a binding may name any other, in any chunk.
  assert.equal(chunkNix(vimPlugins(1200, { header: '{ fetchurl }:\nrec {\n' })), undefined);
  // The split set is itself a source (url and hash among its own bindings): no chunk sees both.
  assert.equal(
    chunkNix(vimPlugins(1200, { header: '{\n  url = "https://example.org/whole";\n' }).replace(/\}\n$/, `  sha256 = "${nix32('w')}";\n}\n`)),
    undefined,
  );
  // A long text after the set (node-packages' shape) would be re-parsed with every chunk.
  assert.equal(chunkNix(vimPlugins(1200, { footer: `}\n${'# a long tail\n'.repeat(2000)}` })), undefined);
  // A syntax error anywhere: the whole parse's recovery decides.
  const broken = vimPlugins(1200);
  assert.equal(chunkNix(broken.slice(0, broken.length / 2) + '{ "unclosed' + broken.slice(broken.length / 2)), undefined);
});

// Strings, comments and braces that, cut by a chunk boundary, would change what the rest means.
const nasty = fc.constantFrom(
  '"',
  "''",
  '{',
  '}',
  '/*',
  '*/',
  '#',
  ';',
  '${',
  'rec ',
  '\n  x = ',
  '\n  y = {\n',
  "\n  s = ''\n",
  '\n  u = "\n',
  '\\',
  'let ',
  ' in ',
);

test('property: a split never changes the fetchers found, whatever the text (mutated generated sets)', () => {
  const base = vimPlugins(1100);
  let split = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(base.length), nasty), { minLength: 1, maxLength: 3 }), (inserts) => {
      let text = base;
      for (const [at, snippet] of inserts.sort((a, b) => b[0] - a[0])) text = text.slice(0, at) + snippet + text.slice(at);
      const chunked = chunkNix(text);
      if (!chunked) return;
      split++;
      assert.deepEqual(chunkedFetchers(chunked), whole(text));
    }),
    { numRuns: 40 },
  );
  assert.ok(split > 0, 'no mutated text was split');
});

test('property: an edit re-parses its chunk and gives the fetchers of a whole parse, or gives up', () => {
  const base = vimPlugins(1100);
  const chunked = chunkNix(base)!;
  let reparsed = 0;
  fc.assert(
    // Typing (letters, spaces, newlines) mostly keeps the split; the nasty snippets mostly void it.
    fc.property(
      fc.nat(base.length),
      fc.oneof(fc.constant(0), fc.nat(40)),
      fc.oneof(nasty, fc.string({ maxLength: 12 }), fc.constantFrom('', ' ', 'a', '\n', '1.2', 'ab-c')),
      (from, length, insert) => {
        const to = Math.min(base.length, from + length);
        const edited = editChunked(chunked, [{ from, to, insert }]);
        if (!edited) return;
        reparsed++;
        assert.deepEqual(chunkedFetchers(edited), whole(base.slice(0, from) + insert + base.slice(to)));
      },
    ),
    { numRuns: 60 },
  );
  assert.ok(reparsed > 10, `only ${reparsed} edits kept the split`);
  // Edits in sequence, each in the coordinates of the text before it (as LSP sends them).
  const at = base.indexOf('plugin-600 =');
  const edits = [
    { from: at, to: at, insert: 'my-' },
    { from: at + 3, to: at + 3 + 'plugin-600'.length, insert: 'renamed' },
    { from: base.length - 10, to: base.length - 10, insert: ' ' },
  ];
  let text = base;
  for (const e of edits) text = text.slice(0, e.from) + e.insert + text.slice(e.to);
  assert.deepEqual(chunkedFetchers(editChunked(chunked, edits)!), whole(text));
});
