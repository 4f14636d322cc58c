import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { extractFetchers, fetchersInTree, parseNix, scanFetchers } from '../../../src/core/fetchers/extract';
import { planParse } from '../../../src/core/fetchers/prefilter';

const whole = (text: string) => extractFetchers(parseNix(text));
const NIX32 = '0ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g';
const SRI = 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=';

/** A generated set as nixpkgs writes its plugin and package lists: every binding a fetcher call of literals. */
function generatedSet(count: number, extra = ''): string {
  const bindings = Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? `  plugin-${i} = buildVimPlugin {\n    pname = "plugin-${i}";\n    version = "2024-01-${i}";\n    src = fetchFromGitHub {\n      owner = "o${i}";\n      repo = "plugin-${i}";\n      rev = "${'a'.repeat(40)}";\n      sha256 = "${NIX32}";\n    };\n    meta.homepage = "https://example.org/${i}/";\n    meta.platforms = [ "x86_64-linux" ];\n  };`
      : `  "pkg-${i}" = fetchurl { url = "mirror://gnu/pkg-${i}.tgz"; hash = "${SRI}"; recursiveHash = ${i % 3 === 0}; };`,
  );
  return `{ buildVimPlugin, fetchFromGitHub, fetchurl }:\n{\n${bindings.join('\n')}\n${extra}}\n`;
}

test('a generated set is read from its literals without the grammar, with exactly the fetchers of a whole parse', () => {
  const text = generatedSet(40);
  assert.equal(planParse(text).fetchers.length, 40);
  assert.deepEqual(scanFetchers(text), whole(text));
});

test('bindings another part of the file may reach, or holding another hash, are left to the grammar', () => {
  const cases: [string, string][] = [
    ['a name selected elsewhere', `  other = fetchurl { url = pkgs.plugin-0.src.url; hash = "${SRI}"; };\n`],
    ['a name inherited elsewhere', `  inherit (self) pkg-1;\n`],
    ['a wrapper defined in the file', `  fetchFromGitHub = args: fetchurl { url = "x"; inherit (args) sha256; };\n`],
    ['a second hash in the builder', `  plugin-2 = buildVimPlugin { pname = "x"; cargoHash = "${SRI}"; src = fetchurl { url = "u"; hash = "${SRI}"; }; };\n`],
    ['an SRI elsewhere in a call', `  plugin-3 = buildVimPlugin { description = "${SRI}"; src = fetchurl { url = "u"; hash = "${SRI}"; }; };\n`],
    ['a comment inside', `  plugin-5 = fetchurl { url = "u"; # mirror\n hash = "${SRI}"; };\n`],
    ['a nested fetcher', `  plugin-7 = fetchzip { url = "u"; hash = "${SRI}"; passthru = fetchurl { url = "v"; hash = "${SRI}"; }; };\n`],
  ];
  for (const [why, extra] of cases) {
    const text = generatedSet(8, extra);
    assert.deepEqual(scanFetchers(text), whole(text), why);
  }
  for (const hiding of ['rec {', 'with pkgs; {']) {
    const text = generatedSet(8).replace('{\n', `${hiding}\n`);
    assert.equal(planParse(text).fetchers.length, 0, hiding);
    assert.deepEqual(scanFetchers(text), whole(text), hiding);
  }
});

test('property: wherever the whole file parses cleanly, a scan reading literal bindings finds the same hashes (mutated sets)', () => {
  const texts = [generatedSet(6), generatedSet(5, `  x = fetchgit { url = "u"; rev = "r"; sha256 = "${NIX32}"; };\n`)];
  const piece = fc.constantFrom('{', '}', '[', ']', ';', ' = ', '"', '${', '#', 'rec ', 'inherit ', '.', 'sha256 = "', SRI, 'x', '\n');
  fc.assert(
    fc.property(fc.nat(texts.length - 1), fc.nat(), fc.nat(8), fc.array(piece, { maxLength: 3 }), (which, at, cut, inserted) => {
      const text = texts[which]!;
      const from = at % text.length;
      const mutated = text.slice(0, from) + inserted.join('') + text.slice(Math.min(text.length, from + cut));
      const full = fetchersInTree(mutated, parseNix(mutated).tree);
      if (full.clean) assert.deepEqual(scanFetchers(mutated), full.fetchers);
    }),
    { numRuns: 800 },
  );
});
