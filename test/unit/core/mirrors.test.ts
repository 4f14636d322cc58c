import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandMirrorUrl, mirrorSites, unknownMirrorSite } from '../../../src/core/mirrors';

test('mirror:// URLs expand to the sites nixpkgs lists, and only those', () => {
  assert.ok(expandMirrorUrl('mirror://gnu/hello/hello-2.12.tar.gz').every((url) => /^https?:\/\/.*\/hello\/hello-2\.12\.tar\.gz$/.test(url)));
  assert.ok(expandMirrorUrl('mirror://gnu/x').length > 0);
  assert.deepEqual(expandMirrorUrl('https://example.org/a.tar.gz'), ['https://example.org/a.tar.gz']);
  assert.ok(mirrorSites().includes('gnu'));
  assert.equal(unknownMirrorSite('mirror://gnu/x'), undefined);
  assert.equal(unknownMirrorSite('https://example.org/x'), undefined);
});

test("names that are not sites (prototype keys, the file's own notes) expand to nothing and are named", () => {
  for (const site of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '_source', 'no-such-site']) {
    assert.deepEqual(expandMirrorUrl(`mirror://${site}/x`), [], site);
    assert.equal(unknownMirrorSite(`mirror://${site}/x`), site);
  }
  assert.ok(!mirrorSites().includes('_source'));
});
