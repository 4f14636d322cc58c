import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashBytes } from '../../../src/core/hash';
import { formatNarInfo, parseNarInfo } from '../../../src/core/narinfo';

const narHash = hashBytes('sha256', new Uint8Array([1]));
const withUrl = (url: string) =>
  formatNarInfo({
    storePath: '/nix/store/0l9hbp60gz8hbxgq812nb4yrfaxg88xv-x',
    url,
    compression: 'none',
    narHash: narHash.toSri(),
    narSize: 8,
    references: [],
    sigs: [],
  });

test('a narinfo URL that a URL parser would take out of the cache is refused, percent-encoded or not', () => {
  for (const url of [
    '../x.nar',
    'nar/../../x.nar',
    '%2e%2e/x.nar',
    'nar/%2E%2E/%2e%2E/x.nar',
    '.%2e/x.nar',
    '..%2fx.nar',
    '%2fetc/passwd',
    '/x.nar',
    'http://evil/x.nar',
    'nar\\..\\x.nar',
    'nar/%zz.nar',
  ]) {
    assert.throws(() => parseNarInfo(withUrl(url)), /must be a relative path inside the cache \(no '\.\.', not even percent-encoded, not absolute\)/, url);
  }
  for (const url of ['nar/abc.nar', 'nar/abc.nar.xz', 'nar/a%20b.nar', 'nar/..x.nar']) assert.equal(parseNarInfo(withUrl(url)).url, url);
});
