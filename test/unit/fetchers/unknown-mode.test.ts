// A hash whose meaning the file does not give: reported, but with no CID and no "Pin to IPFS",
// and the hover says why. The server's hover and lens functions, as the language server calls them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { extractFetchers, parseNix } from '../../../src/core/fetchers/extract';
import { hover } from '../../../src/server/hover';
import { codeLenses } from '../../../src/server/lenses';
import { scanText } from '../../../src/services/scan';

const sri = 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=';
const text = `{
  version = "1.2";
  hashes = { webSrcHash = "${sri}"; };
  src = { url = "https://example.org/web-1.2.tar.gz"; hash = "${sri}"; };
}
`;

test('a hash the file does not say how it is fetched: mode unknown, no CID, no lens, and the hover says why', async () => {
  const document = TextDocument.create('file:///ws/pin.nix', 'nix', 1, text);
  const fetchers = extractFetchers(parseNix(text));
  assert.deepEqual(
    fetchers.map((f) => [f.fetcher, f.mode, f.hashAttr]),
    [
      ['unknown', 'unknown', 'webSrcHash'],
      ['attrset', 'unknown', 'hash'],
    ],
  );
  assert.deepEqual(
    scanText('pin.nix', text).map((r) => r.cid),
    [undefined, undefined],
  );
  assert.deepEqual(
    await codeLenses(
      document,
      fetchers,
      async () => ({ kind: 'not-mirrored' }),
      () => false,
    ),
    [],
  );
  for (const f of fetchers) {
    const result = await hover(document, fetchers, document.positionAt(f.hashFrom + 3), async () => ({ kind: 'not-mirrored' }), 'http://127.0.0.1:8080');
    const value = (result!.contents as { value: string }).value;
    assert.ok(value.includes(`SRI: \`${sri}\``), value);
    assert.doesNotMatch(value, /CID:|Pin to IPFS”$|use “Pin to IPFS”|Open in gateway/);
    assert.ok(value.includes(`No CID and no “Pin to IPFS” for this hash: ${f.why}.`), value);
  }
});
