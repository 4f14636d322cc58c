// Hover, lenses, diagnostics and code actions as plain functions of (document, fetchers, state):
// no server process, no Kubo. test/integration/lsp.test.ts drives the same through the real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { extractFetchers, parseNix } from '../../../src/core/fetchers/extract';
import { ServerCommand } from '../../../src/protocol';
import { codeActions } from '../../../src/server/code-actions';
import { diagnose } from '../../../src/server/diagnostics';
import { hover } from '../../../src/server/hover';
import { codeLenses } from '../../../src/server/lenses';
import type { PinState } from '../../../src/server/pin-state';

const sri = 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=';
const cid = 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am';
const text = `{ fetchurl }: fetchurl { url = "https://example.org/src-1.0.tar.gz"; sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"; }\n`;

function open(source: string) {
  const document = TextDocument.create('file:///ws/pkg.nix', 'nix', 1, source);
  return { document, fetchers: extractFetchers(parseNix(source)) };
}

const stateIs = (state: PinState | undefined) => async () => state;
const onHash = (document: TextDocument) => document.positionAt(text.indexOf('5891b5') + 3);

test('hover on a hash: every encoding, the raw CID, and what the node holds', async () => {
  const { document, fetchers } = open(text);
  const value = async (state: PinState | undefined, gateway = '') =>
    ((await hover(document, fetchers, onHash(document), stateIs(state), gateway))!.contents as { value: string }).value;
  const notMirrored = await value({ kind: 'not-mirrored' }, 'http://127.0.0.1:8080');
  assert.match(notMirrored, /\*\*sha256\*\* · flat \(the file\) · fetchurl/);
  assert.ok(notMirrored.includes(`SRI: \`${sri}\``));
  assert.ok(notMirrored.includes(`CID: \`${cid}\``));
  assert.match(notMirrored, /IPFS: not mirrored yet/);
  assert.ok(notMirrored.includes(`[Open in gateway](http://127.0.0.1:8080/ipfs/${cid})`));
  assert.match(await value({ kind: 'pinned', cid }), /IPFS: \*\*pinned\*\* on your node ✓/);
  assert.match(await value(undefined), /IPFS: checking the Kubo node…/);
  const down = await value({ kind: 'unreachable', api: 'http://127.0.0.1:9' }, 'http://127.0.0.1:8080');
  assert.match(
    down,
    /IPFS: no Kubo node answers at http:\/\/127\.0\.0\.1:9 — start it \(`ipfs daemon`\), or set the Kubo API \(`nixIpfs\.kuboApi`\) to your node's$/,
  );
  assert.doesNotMatch(down, /Open in gateway/, 'no link to a gateway whose node is down');
});

test('hover on a CID names its parts and the Nix hash of a raw block; elsewhere nothing', async () => {
  const source = `# ${cid}\n`;
  const { document, fetchers } = open(source);
  const result = await hover(document, fetchers, document.positionAt(5), stateIs(undefined), '');
  assert.match((result!.contents as { value: string }).value, /\*\*CID\*\* v1 · raw · sha2-256[\s\S]*Nix hash of the file: `sha256-WJG1/);
  assert.equal(await hover(document, fetchers, document.positionAt(0), stateIs(undefined), ''), null);
});

test('lenses: "Pin to IPFS" until pinned, then "Pinned ✓" (copies the CID) and "Fetch from IPFS" when not in the store', async () => {
  const { document, fetchers } = open(text);
  const lenses = (state: PinState | undefined, inStore = false) => codeLenses(document, fetchers, stateIs(state), () => inStore);
  const titles = async (state: PinState | undefined, inStore = false) => (await lenses(state, inStore)).map((l) => [l.command!.title, l.command!.command]);
  assert.deepEqual(await titles({ kind: 'not-mirrored' }), [['Pin to IPFS', ServerCommand.pinSource]]);
  assert.deepEqual(await titles({ kind: 'unreachable', api: 'http://127.0.0.1:9' }), [['Pin to IPFS (node unreachable)', ServerCommand.pinSource]]);
  const record = { hash: sri, cid, mode: 'flat' as const, urls: [], size: 1, addedAt: '' };
  assert.deepEqual(await titles({ kind: 'pinned', cid, record }), [
    ['Pinned ✓ bafkreic…n5v6am', ServerCommand.copyCid],
    ['Fetch from IPFS', ServerCommand.fetchSource],
  ]);
  assert.deepEqual(await titles({ kind: 'pinned', cid, record }, true), [['Pinned ✓ bafkreic…n5v6am', ServerCommand.copyCid]]);
  assert.deepEqual((await lenses(undefined))[0].command!.arguments, [{ uri: document.uri, hashFrom: text.indexOf('5891b5') }]);
});

test('diagnostics: placeholder, malformed, copy-paste across the workspace, not mirrored', () => {
  const source = `{ fetchurl, lib }: {\n  a = fetchurl { url = "https://e/a"; hash = lib.fakeHash; };\n  b = fetchurl { url = "https://e/b"; sha256 = "not-a-hash"; };\n  c = fetchurl { url = "https://e/c"; hash = "${sri}"; };\n}\n`;
  const { document, fetchers } = open(source);
  const other = {
    file: '/ws/other.nix',
    line: 3,
    fetcher: 'fetchurl',
    urls: ['https://e/other'],
    hashAttr: 'hash',
    hash: sri,
    sri,
    mode: 'flat' as const,
    placeholder: false,
  };
  const found = diagnose(document, fetchers, {
    workspaceHashes: new Map([[sri, [other]]]),
    cachedPinState: () => ({ kind: 'not-mirrored' }),
    notMirrored: true,
  });
  assert.deepEqual(
    found.map((d) => [d.code, d.range.start.line]),
    [
      ['placeholder-hash', 1],
      ['malformed-hash', 2],
      ['duplicate-hash', 3],
      ['not-mirrored', 3],
    ],
  );
  assert.match(String(found[2].message), /https:\/\/e\/other in \/ws\/other\.nix:3/);
  const quiet = diagnose(document, fetchers, { workspaceHashes: new Map(), cachedPinState: () => undefined, notMirrored: true });
  assert.deepEqual(
    quiet.map((d) => d.code),
    ['placeholder-hash', 'malformed-hash'],
  );
});

test('code actions: convert a hash to SRI; fetch and fill in a placeholder', () => {
  const { document, fetchers } = open(text);
  const at = onHash(document);
  const [convert] = codeActions(document, fetchers, { start: at, end: at });
  assert.equal(convert.edit!.changes![document.uri][0].newText, sri);
  const placeholder = open(`{ fetchurl, lib }: fetchurl { url = "https://e/p.tar.gz"; hash = lib.fakeHash; }`);
  const where = placeholder.document.positionAt(placeholder.document.getText().indexOf('lib.fakeHash') + 2);
  const [fill] = codeActions(placeholder.document, placeholder.fetchers, { start: where, end: where });
  assert.equal(fill.command!.command, ServerCommand.fillHash);
});
