// Lenses tell the truth about the node: "Pinned ✓" only while the node says so, and the quick fix
// for a hash that cannot be right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { extractFetchers, parseNix } from '../../../src/core/fetchers/extract';
import { ServerCommand } from '../../../src/protocol';
import { codeActions } from '../../../src/server/code-actions';
import { diagnose } from '../../../src/server/diagnostics';
import { codeLenses } from '../../../src/server/lenses';
import type { PinState } from '../../../src/server/pin-state';

const text = `{ fetchurl }: fetchurl { url = "https://example.org/src-1.0.tar.gz"; sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"; }\n`;

function open(source: string) {
  const document = TextDocument.create('file:///ws/pkg.nix', 'nix', 1, source);
  return { document, fetchers: extractFetchers(parseNix(source)) };
}

test('a lens never says "Pin to IPFS" plainly unless the node said the source is not pinned', async () => {
  const { document, fetchers } = open(text);
  const title = async (state: PinState | undefined) =>
    (
      await codeLenses(
        document,
        fetchers,
        async () => state,
        () => false,
      )
    )[0].command!.title;
  assert.equal(await title({ kind: 'not-mirrored' }), 'Pin to IPFS');
  assert.equal(await title(undefined), 'Pin to IPFS (checking the node…)');
  assert.equal(await title({ kind: 'unreachable', api: 'http://127.0.0.1:9' }), 'Pin to IPFS (node unreachable)');
  assert.equal(await title({ kind: 'failed', error: 'timeout' }), 'Pin to IPFS (node not answering)');
});

test('a malformed hash with a URL gets a quick fix: fetch the source and put its real hash there', () => {
  const source = `{ fetchurl }: fetchurl { url = "https://example.org/a-1.0.tar.gz"; sha256 = "0123abc"; }\n`;
  const { document, fetchers } = open(source);
  const [diagnostic] = diagnose(document, fetchers, { workspaceHashes: new Map(), cachedPinState: () => undefined, notMirrored: false });
  assert.equal(diagnostic.code, 'malformed-hash');
  const [fix] = codeActions(document, fetchers, diagnostic.range);
  assert.equal(fix.title, 'Fetch the source and replace the malformed sha256 with its real hash');
  assert.equal(fix.kind, 'quickfix');
  assert.equal(fix.isPreferred, true);
  assert.deepEqual(fix.command!.arguments, [{ uri: document.uri, hashFrom: source.indexOf('0123abc') }]);
  assert.equal(fix.command!.command, ServerCommand.fillHash);
});
