// A hash that stayed while the source it names changed since HEAD, read from the two texts alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractFetchers, parseNix } from '../../../src/core/fetchers/extract';
import { staleHashes, staleMessage } from '../../../src/core/stale';

const sri = 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=';
const nix32 = '00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq';
const other = 'sha256-h0KPxSKAPTEGXnvOPPA/5HUJZjHl4Hu9eg/eYMTPJcc=';

function parsed(text: string) {
  const tree = parseNix(text);
  return { parsed: tree, fetchers: extractFetchers(tree) };
}

/** The stale hashes of `now` against `head`: [line, message]. */
function stale(head: string, now: string) {
  return staleHashes(parsed(now), parsed(head)).map((s) => [now.slice(0, s.fetcher.hashFrom).split('\n').length, staleMessage(s)]);
}

const pkg = (version: string, hash: string) => `{ fetchurl, buildGoModule }: buildGoModule rec {
  pname = "x"; version = "${version}";
  src = fetchurl { url = "https://example.org/x-\${version}.tar.gz"; hash = "${hash}"; };
  vendorHash = "${other}";
}
`;

test('a version bump the URL uses, with the hash left as it was, is stale; the vendor hash that stays is not', () => {
  assert.deepEqual(stale(pkg('1.0', sri), pkg('1.1', sri)), [
    [3, 'the source changed but the hash did not: Nix will reuse the old source (URL was https://example.org/x-1.0.tar.gz in HEAD)'],
  ]);
});

test('a new hash with the new version, the same hash in another encoding, or nothing changed: not stale', () => {
  assert.deepEqual(stale(pkg('1.0', sri), pkg('1.1', 'sha256-Pr6uq9qFqQI7dEV/JRkz4yiUnXTi55DyXlBHm7R2G40=')), []);
  assert.deepEqual(stale(pkg('1.0', sri), pkg('1.0', nix32)), []);
  assert.deepEqual(stale(pkg('1.0', sri), pkg('1.0', sri)), []);
});

test('a git rev or tag changed, or a fetcher copied with a new URL and the old hash: stale', () => {
  const git = (rev: string) => `{ fetchgit }: fetchgit { url = "https://example.org/r.git"; rev = "${rev}"; hash = "${sri}"; }\n`;
  assert.match(stale(git('v1.0'), git('v1.1'))[0][1] as string, /\(rev was v1\.0 in HEAD, is v1\.1 now\)$/);
  const copied = `{ fetchurl }: {\n  a = fetchurl { url = "https://example.org/a.tar.gz"; hash = "${sri}"; };\n  b = fetchurl { url = "https://example.org/b.tar.gz"; hash = "${sri}"; };\n}\n`;
  const before = `{ fetchurl }: {\n  a = fetchurl { url = "https://example.org/a.tar.gz"; hash = "${sri}"; };\n}\n`;
  assert.deepEqual(
    stale(before, copied).map(([line]) => line),
    [3],
  );
});
