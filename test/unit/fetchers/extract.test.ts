import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { extractFetchers, hashProblemText, mayHaveFetchers, parseNix, reparseNix } from '../../../src/core/fetchers/extract';
import { expandMirrorUrl } from '../../../src/core/mirrors';
import { scanRecordFetcher, scanText } from '../../../src/services/scan';
import { repoRoot } from '../../helpers/cli';

const fixture = (name: string) => readFileSync(path.join(repoRoot, 'test/fixtures/nix', name), 'utf8');

test('every fetcher form, with its URLs, hash attribute, mode and name', () => {
  const found = extractFetchers(parseNix(fixture('fetchers.nix')));
  const summary = Object.fromEntries(
    found.map((f) => [f.fetcher + (f.fetcher === 'fetchurl' ? `:${f.hashAttr}:${f.urls[0]?.slice(-8)}` : ''), [f.mode, f.urls, f.placeholder]]),
  );
  assert.deepEqual(summary['fetchurl:sha256:3.tar.gz'], ['flat', ['https://example.org/a-1.2.3.tar.gz', 'https://mirror.example.org/a.tar.gz'], false]);
  assert.deepEqual(summary['builtins.fetchurl'], ['flat', ['https://example.org/b.bin'], false]);
  assert.deepEqual(summary['builtins.fetchTarball'], ['recursive', ['https://example.org/c.tar.gz'], false]);
  assert.deepEqual(summary.fetchzip, ['recursive', ['https://example.org/d.zip'], false]);
  assert.deepEqual(summary.fetchgit, ['recursive', ['https://example.org/e.git'], false]);
  assert.deepEqual(summary.fetchFromGitLab, ['recursive', ['https://gitlab.com/o/r/-/archive/v1.2.3/r-v1.2.3.tar.gz'], false]);
  assert.deepEqual(summary.fetchFromGitea, ['recursive', ['https://codeberg.org/o/r/archive/v1.tar.gz'], false]);
  assert.deepEqual(summary.fetchFromSourcehut, ['recursive', ['https://git.sr.ht/~o/r/archive/v1.tar.gz'], false]);
  assert.deepEqual(summary.fetchpatch, ['flat', ['https://example.org/i.patch'], false]);
  assert.deepEqual(summary.fetchpatch2, ['flat', ['https://example.org/j.patch'], false]);
  assert.deepEqual(summary.fetchcrate, ['recursive', ['https://crates.io/api/v1/crates/serde/1.0.0/download'], false]);
  assert.deepEqual(summary.fetchPypi, ['flat', ['mirror://pypi/r/requests/requests-2.31.0.tar.gz'], false]);
  assert.deepEqual(summary.fetchNuGet, ['flat', ['https://www.nuget.org/api/v2/package/Newtonsoft.Json/13.0.3'], false]);
  assert.deepEqual(summary['fetchurl:hash:o.tar.gz'], ['flat', ['https://example.org/o.tar.gz'], false]);
  assert.deepEqual(summary.attrset, ['recursive', ['https://example.org/p'], false]);
  assert.deepEqual(
    summary['fetchurl:sha256:ample.org/q'.replace('ample.org/q', 'e.org/q')] ?? summary[Object.keys(summary).find((k) => k.endsWith('.org/q'))!],
    ['flat', ['https://example.org/q'], true],
  );
  assert.deepEqual(summary.vendorHash, ['recursive', [], false]);
  assert.deepEqual(summary.npmDepsHash, ['recursive', [], true]);
  const ipfs = found.find((f) => f.fetcher === 'fetchipfs')!;
  assert.equal(ipfs.ipfs, 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am');
  const crate = found.find((f) => f.fetcher === 'fetchcrate')!;
  assert.equal(crate.name, 'serde-1.0.0');
  // Exact ranges: the hash text itself.
  const text = fixture('fetchers.nix');
  for (const f of found.filter((x) => !x.hash.startsWith('lib.'))) assert.equal(text.slice(f.hashFrom, f.hashTo), f.hash);
});

test('interpolated URLs resolve through let and rec bindings, else are dynamic', () => {
  const [hello] = extractFetchers(parseNix(readFileSync(path.join(repoRoot, 'test/fixtures/packages/hello.nix'), 'utf8')));
  assert.deepEqual(hello.urls, ['mirror://gnu/hello/hello-2.12.1.tar.gz']);
  const [dynamic] = extractFetchers(
    parseNix('{ v }: fetchurl { url = "https://e/${v}.tgz"; sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"; }'),
  );
  assert.deepEqual([dynamic.urls, dynamic.dynamicUrl], [[], true]);
  assert.equal(hello.dynamicUrl, false);
});

test('mirror:// URLs expand with the nixpkgs mirror list', () => {
  assert.equal(expandMirrorUrl('mirror://gnu/hello/hello-2.12.1.tar.gz')[0], 'http://ftpmirror.gnu.org/hello/hello-2.12.1.tar.gz');
  assert.deepEqual(expandMirrorUrl('https://e/x'), ['https://e/x']);
  assert.deepEqual(expandMirrorUrl('mirror://nowhere/x'), []);
});

test('a half-typed file still yields the fetchers before the break', () => {
  const found = extractFetchers(parseNix(fixture('broken.nix')));
  assert.deepEqual(
    found.map((f) => f.fetcher),
    ['fetchurl', 'fetchurl', 'fetchzip'],
  );
  assert.equal(found[2].nixHash?.toSri(), 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=');
});

test('incremental re-parse gives the same fetchers as a full parse', () => {
  const text = fixture('fetchers.nix');
  fc.assert(
    fc.property(fc.nat(text.length), fc.nat(20), fc.string({ maxLength: 12 }), (from, length, insert) => {
      const to = Math.min(text.length, from + length);
      const edited = reparseNix(parseNix(text), [{ from, to, insert }]);
      const full = parseNix(text.slice(0, from) + insert + text.slice(to));
      assert.deepEqual(extractFetchers(edited), extractFetchers(full));
    }),
    { numRuns: 300 },
  );
});

test('fuzz: extraction never throws on any input, and finds nothing where the scan skips parsing (10^4 cases)', () => {
  const pieces = fc.constantFrom(
    'fetchurl',
    '{',
    '}',
    ' = ',
    '"',
    ';',
    'url',
    'urls',
    'sha256',
    'hash',
    'sha1',
    'cargoHash',
    'outputHash',
    '${',
    'rec',
    'let',
    'in',
    "''",
    'x',
    '[',
    ']',
    '(',
    ')',
    '.',
    ':',
    '#',
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.array(pieces, { maxLength: 40 }).map((p) => p.join('')),
      ),
      (text) => {
        const found = extractFetchers(parseNix(text));
        if (!mayHaveFetchers(text)) assert.deepEqual(found, []);
      },
    ),
    { numRuns: 10_000 },
  );
});

test("indented strings' escapes (''$, ''', ''\\n) are read as Nix reads them, not as the string's end", () => {
  const hash = '0'.repeat(51) + '1';
  const text = [
    'let',
    "  tag = ''v''${\"1\"}''''';",
    'in {',
    "  postInstall = ''",
    "    substituteInPlace $out/bin/x --replace ''${HOME} '''/home'''",
    "    echo ''\\n done",
    "  '';",
    `  src = fetchurl { url = ''https://example.org/\${tag}.tar.gz''; sha256 = "${hash}"; };`,
    `  doc = fetchurl { url = "https://example.org/doc"; sha256 = "${hash}"; };`,
    '}',
  ].join('\n');
  const found = extractFetchers(parseNix(text));
  assert.deepEqual(
    found.map((f) => f.urls[0]),
    ['https://example.org/v${"1"}\'\'.tar.gz', 'https://example.org/doc'],
  );
});

test('hash problems are typed: malformed (with why), interpolated, not a literal; scan records keep the text and "dynamic"', () => {
  const problems = extractFetchers(
    parseNix(
      '{ v, h }: [ (fetchurl { url = "https://e/a"; sha256 = "nothex"; }) (fetchurl { url = "https://e/${v}"; hash = "sha256-${h}"; }) (fetchurl { urls = [ "https://e/c" v ]; hash = lib.hashOf h; }) ]',
    ),
  ).map((f) => f.hashProblem?.kind);
  assert.deepEqual(problems, ['malformed', 'interpolated', 'not-literal']);
  const [malformed, interpolated, reference] = scanText(
    'x.nix',
    '{ v, h }: [ (fetchurl { url = "https://e/a"; sha256 = "nothex"; }) (fetchurl { url = "https://e/${v}"; hash = "sha256-${h}"; }) (fetchurl { urls = [ "https://e/c" v ]; hash = lib.hashOf h; }) ]',
  );
  assert.deepEqual([interpolated.hashError, reference.hashError], ['interpolated', 'not a literal string']);
  assert.deepEqual([malformed.urls, interpolated.urls, reference.urls], [['https://e/a'], ['dynamic'], ['https://e/c', 'dynamic']]);
  for (const r of [malformed, interpolated, reference]) assert.equal(hashProblemText(scanRecordFetcher(r).hashProblem!), r.hashError);
  assert.equal(scanRecordFetcher(malformed).hashProblem?.kind, 'malformed');
  assert.deepEqual(scanRecordFetcher(reference).urls, ['https://e/c']);
});

test('a hand-written fixed-output derivation whose outputHash is lib.fakeSha256 is a place to fill, with its mode', () => {
  const text = `{ lib }: {
  made = derivation { name = "made"; builder = "/bin/sh"; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = lib.fakeSha256; };
  flat = derivation { name = "flat"; builder = "/bin/sh"; outputHash = lib.fakeHash; };
  computed = derivation { name = "computed"; outputHash = someHash; };
}`;
  assert.deepEqual(
    extractFetchers(parseNix(text)).map((f) => [f.fetcher, f.mode, f.hash, f.placeholder]),
    [
      ['derivation', 'recursive', 'lib.fakeSha256', true],
      ['derivation', 'flat', 'lib.fakeHash', true],
    ],
  );
});
