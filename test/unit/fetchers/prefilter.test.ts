import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { extractFetchers, fetchersInTree, parseNix, scanFetchers } from '../../../src/core/fetchers/extract';
import { rangesToParse } from '../../../src/core/fetchers/prefilter';
import { repoRoot } from '../../helpers/cli';

const corpus = path.join(repoRoot, 'test/fixtures/nixpkgs-shapes');
const shapes = readdirSync(corpus).map((f) => readFileSync(path.join(corpus, f), 'utf8'));
const whole = (text: string) => extractFetchers(parseNix(text));

/** A package as nixpkgs writes many: a fetcher, then long build scripts, a dependency list and a description. */
function scriptedPackage(lines: number): string {
  const script = (step: string) => Array.from({ length: lines }, (_, i) => `    ${step} build/part${i} "$out/share/tool/part${i}" # step ${i}`).join('\n');
  return `{ lib, stdenv, fetchurl, fetchpatch }:
let
  version = "3.4.5";
in
stdenv.mkDerivation (finalAttrs: {
  pname = "tool";
  inherit version;
  src = fetchurl {
    urls = [
      "https://example.org/tool-\${finalAttrs.version}.tar.gz"
      "https://mirror.example.org/tool/tool-\${finalAttrs.version}.tar.gz"
      "https://archive.example.org/releases/tool/\${finalAttrs.version}/tool-\${finalAttrs.version}.tar.gz"
      "https://old.example.org/pub/tool/tool-\${finalAttrs.version}.tar.gz"
    ];
    hash = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=";
  };
  patches = [ (fetchpatch { url = "https://example.org/fix.patch"; hash = "sha256-AONiY4BBM4d3ksFl7WOLI1xmXLXRmvaE50N0XGAWw+0="; }) ];
  postPatch = ''
${script('substituteInPlace')}
  '';
  installPhase = ''
    runHook preInstall
${script('install -Dm644')}
    runHook postInstall
  '';
  passthru.plugins = [
${Array.from({ length: lines }, (_, i) => `    "plugin-${i}"`).join('\n')}
  ];
  meta.longDescription = "${'A tool that does things. '.repeat(lines)}";
})
`;
}

test('a scan parses without long hash-free scripts and lists, and finds exactly what a whole parse finds', () => {
  const text = scriptedPackage(40);
  const kept = rangesToParse(text)!.reduce((n, r) => n + r.to - r.from, 0);
  assert.ok(kept < text.length / 4, `kept ${kept} of ${text.length} bytes`);
  assert.deepEqual(scanFetchers(text), whole(text));
  assert.deepEqual(
    scanFetchers(text).map((f) => f.urls.length),
    [4, 1],
    "the fetcher's own `urls` list is kept, however long: its set binds the hash",
  );
  for (const shape of shapes) assert.deepEqual(scanFetchers(shape), whole(shape));
});

test('property: wherever the whole file parses cleanly, the prefiltered parse finds the same hashes (mutated files)', () => {
  // Half the cases mutate a file the prefilter cuts much of.
  const texts = [...shapes, ...shapes.map(() => scriptedPackage(12))];
  const piece = fc.constantFrom('{', '}', '[', ']', '(', ')', ';', ' = ', '"', "''", '${', '#', '/*', '*/', 'let ', ' in ', 'x', '\n');
  fc.assert(
    fc.property(fc.nat(texts.length - 1), fc.nat(), fc.nat(8), fc.array(piece, { maxLength: 3 }), (which, at, cut, inserted) => {
      const text = texts[which];
      const from = at % text.length;
      const mutated = text.slice(0, from) + inserted.join('') + text.slice(Math.min(text.length, from + cut));
      const full = fetchersInTree(mutated, parseNix(mutated).tree);
      if (full.clean) assert.deepEqual(scanFetchers(mutated), full.fetchers);
    }),
    { numRuns: 600 },
  );
});
