// The language server, driven over stdio by JSON-RPC exactly as an editor drives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { startOtherMachine } from '../helpers/other-machine';
import { cli, repoRoot } from '../helpers/cli';
import { changeSettings, positionOf, startLsp, type LspSession } from '../helpers/lsp';
import { buildClosure, nixKeyPair, tempDir } from '../helpers/nix-env';
import { encodeNix32 } from '../../src/core/nix-base32';
import {
  InsecureApiAcceptedNotification,
  MirroredSourcesRequest,
  NixIpfsError,
  NodeStatusRequest,
  PublishedPathsRequest,
  ScanWorkspaceRequest,
  ServerCommand,
  type FetcherRef,
} from '../../src/protocol';
import { scanWorkspace } from '../../src/services/scan';

const fixtures = path.join(repoRoot, 'test/fixtures/nix');
type Hover = { contents: { value: string } } | null;
type Lens = { command: { title: string; command: string; arguments: [FetcherRef] } };

const lensesOf = (lsp: LspSession, uri: string) => lsp.request<Lens[]>('textDocument/codeLens', { textDocument: { uri } });

/** The lenses once the server knows every pin state: it asks for a refresh when a lookup settles. */
async function settledLenses(lsp: LspSession, uri: string): Promise<Lens[]> {
  const refreshed = lsp.nextLensRefresh();
  const lenses = await lensesOf(lsp, uri);
  if (lenses.every((l) => !l.command.title.startsWith('Pin to IPFS') || l.command.title.includes('unreachable'))) return lenses;
  await refreshed;
  return lensesOf(lsp, uri);
}

/** A source served once over HTTP on loopback, and a .nix file that fetches it. */
async function servedSource(dir: string, name: string) {
  const content = `${name} served once ${Date.now()}\n`;
  const { createServer } = await import('node:http');
  const server = createServer((_, res) => res.end(content)).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/${name}-1.0.tar.gz`;
  const sri = `sha256-${createHash('sha256').update(content).digest('base64')}`;
  const text = `{ fetchurl }: fetchurl { url = "${url}"; hash = "${sri}"; }\n`;
  const file = path.join(dir, `${name}.nix`);
  await writeFile(file, text);
  return { url, sri, text, file, close: () => server.close() };
}

/** The ResponseError a request fails with. */
async function failure(request: Promise<unknown>): Promise<{ code: number; message: string; data?: { api?: string } }> {
  return request.then(
    (value) => assert.fail(`expected an error, got ${JSON.stringify(value)}`),
    (error: { code: number; message: string; data?: { api?: string } }) => error,
  );
}

test('hover on a hash: every encoding and the CID; Kubo unreachable is said, fast', async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9', gatewayUrl: 'http://127.0.0.1:8080' });
  const text = await readFile(path.join(fixtures, 'fetchers.nix'), 'utf8');
  const uri = await lsp.open(path.join(fixtures, 'fetchers.nix'), text);
  const hover = await lsp.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, '5891b5b522d5', 3) });
  const value = hover!.contents.value;
  assert.match(value, /\*\*sha256\*\* · flat/);
  assert.match(value, /SRI: `sha256-WJG1tSLV3whtD\/CxEPvZ0hu0\/HFjrzTQgoai6Eb2vgM=`/);
  assert.match(value, /Nix base32: `00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq`/);
  assert.match(value, /CID: `bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am`/);
  // The whole sentence: what does not answer, and what to do (it was cut at the URL's first ':').
  assert.match(value, /IPFS: no Kubo node answers at http:\/\/127\.0\.0\.1:9 — start it \(`ipfs daemon`\), or set the Kubo API \(`nixIpfs\.kuboApi`\)/);

  const cidHover = await lsp.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'bafkreicysg23', 5) });
  assert.match(cidHover!.contents.value, /CID\*\* v1 · raw · sha2-256/);
  assert.match(cidHover!.contents.value, /Nix hash of the file: `sha256-WJG1tSLV3whtD\/CxEPvZ0hu0\/HFjrzTQgoai6Eb2vgM=`/);
  assert.equal(await lsp.request('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'rec {') }), null);
});

test('a plain-HTTP Kubo API on another machine is not contacted until the user accepts it', async (t) => {
  const node = await startKuboNode();
  const remote = await startOtherMachine(node.apiUrl);
  if (typeof remote === 'string') return t.skip(remote);
  const lsp = await startLsp({ kuboApi: remote.url, kuboApiToken: 'secret-token', hoverTimeoutMs: 5000 });
  const text = await readFile(path.join(fixtures, 'fetchers.nix'), 'utf8');
  const uri = await lsp.open(path.join(fixtures, 'fetchers.nix'), text);
  const position = positionOf(text, '5891b5b522d5', 3);
  const refused = (await lsp.request<Hover>('textDocument/hover', { textDocument: { uri }, position }))!.contents.value;
  assert.match(refused, /plain HTTP on another machine and is not used until you confirm it/);
  await lsp.request('textDocument/codeLens', { textDocument: { uri } });
  const refusal = await failure(lsp.execute('nixConfig', {}));
  assert.equal(refusal.code, NixIpfsError.InsecureApiUnconfirmed);
  assert.equal(refusal.data?.api, remote.url, 'the editor learns which API to ask about');
  assert.equal((await lsp.connection.sendRequest(NodeStatusRequest)).kubo.kind, 'unconfirmed');
  assert.equal(remote.connections(), 0, 'nothing (and no token) went over plain HTTP');

  await lsp.connection.sendNotification(InsecureApiAcceptedNotification, { api: remote.url });
  const accepted = (await lsp.request<Hover>('textDocument/hover', { textDocument: { uri }, position }))!.contents.value;
  assert.match(accepted, /IPFS: not mirrored yet/);
  assert.ok(remote.connections() > 0);
});

test('diagnostics: malformed, placeholder, fetchipfs mismatch; a half-typed file still yields its fetchers', async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' });
  const text = await readFile(path.join(fixtures, 'broken.nix'), 'utf8');
  const uri = await lsp.open(path.join(fixtures, 'broken.nix'), text);
  const diagnostics = lsp.diagnostics.get(uri)!;
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.range.start.line]),
    [
      ['placeholder-hash', 5],
      ['malformed-hash', 9],
    ],
  );
  assert.match(diagnostics[1].message, /expected 52 Nix base32, 64 base16 or 44 base64 characters for sha256, got 51/);
  const lenses = await lsp.request<Lens[]>('textDocument/codeLens', { textDocument: { uri } });
  assert.deepEqual(
    lenses.map((l) => l.command.title.replace(/ \(.*\)$/, '')),
    ['Fill hash', 'Pin to IPFS'],
    'the placeholder gets "Fill hash", only the well-formed fetcher a pin lens, the malformed hash none',
  );

  const mismatch = `{ fetchipfs }: fetchipfs { url = "https://e/x"; ipfs = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"; sha256 = "sha256-AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="; }`;
  const dir = await tempDir();
  const mismatchUri = await lsp.open(path.join(dir, 'ipfs.nix'), mismatch);
  assert.deepEqual(
    lsp.diagnostics.get(mismatchUri)!.map((d) => d.code),
    ['ipfs-mismatch'],
  );
});

test('code actions: convert to SRI; edits re-parse incrementally', async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' });
  const dir = await tempDir();
  const text = `{ fetchurl }: fetchurl { url = "https://e/x.tar.gz"; sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"; }`;
  const uri = await lsp.open(path.join(dir, 'x.nix'), text);
  const at = positionOf(text, '5891b5');
  const actions = await lsp.request<{ title: string; edit?: { changes: Record<string, { newText: string }[]> } }[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: at, end: at },
    context: { diagnostics: [] },
  });
  assert.equal(actions[0].edit!.changes[uri][0].newText, 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=');

  // Break the hash by deleting one character: the diagnostic follows the edit.
  const changed = lsp.waitForDiagnostics(uri);
  await lsp.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: at, end: { line: at.line, character: at.character + 1 } }, text: '' }],
  });
  await changed;
  assert.deepEqual(
    lsp.diagnostics.get(uri)!.map((d) => d.code),
    ['malformed-hash'],
  );
});

test('with a real Kubo node: "Pin to IPFS" pins through the server, the lens says "Pinned ✓" at once, and Unpin brings "Pin to IPFS" back at once', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const source = await servedSource(dir, 'src');
  const lsp = await startLsp({ kuboApi: node.apiAddr, gatewayUrl: node.gatewayUrl, requestTimeoutMs: 5000, hoverTimeoutMs: 5000 }, dir);
  const uri = await lsp.open(source.file, source.text);
  const lenses = await settledLenses(lsp, uri);
  assert.deepEqual(
    lenses.map((l) => l.command.title),
    ['Pin to IPFS'],
    JSON.stringify(lenses),
  );

  const outcome = await lsp.request<{ status: string; record: { cid: string } }>('workspace/executeCommand', {
    command: lenses[0].command.command,
    arguments: lenses[0].command.arguments,
  });
  assert.equal(outcome.status, 'pinned');
  source.close();
  assert.match(await node.cli(['pin', 'ls', '--type=recursive']), new RegExp(outcome.record.cid));
  assert.deepEqual(lsp.contentChanges.at(-1), { mirror: true, cache: false }, 'the editor is told to refresh its views');
  // No waiting: the server recorded what it just did.
  const pinned = await lensesOf(lsp, uri);
  assert.ok(
    pinned.some((l) => l.command.title.startsWith('Pinned ✓ bafkrei')),
    JSON.stringify(pinned),
  );
  const hover = await lsp.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(source.text, source.sri, 10) });
  assert.match(hover!.contents.value, /\*\*pinned\*\* on your node/);
  assert.match(hover!.contents.value, new RegExp(`${node.gatewayUrl}/ipfs/${outcome.record.cid}`));
  assert.equal(await lsp.execute('copyCid', { uri, position: positionOf(source.text, source.sri, 10) }), outcome.record.cid);
  const rows = await lsp.connection.sendRequest(MirroredSourcesRequest);
  assert.deepEqual(
    rows.map((r) => [r.record.cid, r.pinned]),
    [[outcome.record.cid, true]],
  );

  const removed = await lsp.execute('unpin', { hash: source.sri });
  assert.equal(removed.cid, outcome.record.cid);
  assert.doesNotMatch(await node.cli(['pin', 'ls', '--type=recursive']), new RegExp(outcome.record.cid));
  assert.deepEqual(
    (await lensesOf(lsp, uri)).map((l) => l.command.title),
    ['Pin to IPFS'],
    'back at once, no stale "Pinned ✓"',
  );
  assert.deepEqual(await lsp.connection.sendRequest(MirroredSourcesRequest), []);
  assert.match(lsp.messages.join('\n'), /Unpinned src-1\.0\.tar\.gz/);
});

test('with a real Kubo node: Pin All pins every source in the workspace, and every lens says "Pinned ✓" at once', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const sources = [await servedSource(dir, 'one'), await servedSource(dir, 'two')];
  const lsp = await startLsp({ kuboApi: node.apiAddr, requestTimeoutMs: 5000 }, dir);
  const uris = [await lsp.open(sources[0].file, sources[0].text), await lsp.open(sources[1].file, sources[1].text)];
  assert.deepEqual(
    (await settledLenses(lsp, uris[0])).map((l) => l.command.title),
    ['Pin to IPFS'],
  );

  const result = await lsp.execute('pinAll', {});
  assert.deepEqual(
    { ...result, rootCid: undefined, ipnsName: undefined },
    { pinned: 2, alreadyPinned: 0, failed: [], cancelled: false, rootCid: undefined, ipnsName: undefined },
  );
  assert.ok(result.rootCid && result.ipnsName);
  for (const uri of uris) assert.match((await lensesOf(lsp, uri))[0].command.title, /^Pinned ✓/);
  assert.match(lsp.messages.at(-1)!, /2 pinned, 0 already pinned, 0 failed/);
  sources.forEach((s) => s.close());
  const again = await lsp.execute('pinAll', { folders: [dir] });
  assert.equal(again.alreadyPinned, 2);
});

test('with a real Kubo node and Nix: publish (signed), the Published Paths listing, verify and unpublish go through the server', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const { app, dep } = await buildClosure(dir);
  const key = await nixKeyPair(dir, 'lsp-test-1');
  const unsigned = await startLsp({ kuboApi: node.apiAddr });
  const missing = await failure(unsigned.execute('publish', { paths: [app] }));
  assert.equal(missing.code, NixIpfsError.SigningKeyMissing);
  assert.match(missing.message, /set signingKeyFile .* or publish unsigned \(allowUnsigned: true\)/);

  const lsp = await startLsp({ kuboApi: node.apiAddr, signingKeyFile: key.secretFile, trustedPublicKeys: [key.publicKey] });
  const published = await lsp.execute('publish', { paths: [app] });
  assert.deepEqual(published.paths.map((p) => p.storePath).sort(), [app, dep].sort());
  assert.deepEqual(lsp.contentChanges.at(-1), { mirror: false, cache: true });
  const rows = await lsp.connection.sendRequest(PublishedPathsRequest);
  assert.deepEqual(
    rows.map((r) => [r.entry.storePath, r.verdicts.map((v) => v.state)]).sort(),
    [
      [app, ['valid-trusted']],
      [dep, ['valid-trusted']],
    ].sort(),
  );

  const report = await lsp.execute('verify', { target: app });
  assert.equal(report.trusted, true, JSON.stringify(report));
  assert.match(lsp.messages.at(-1)!, /nix-ipfs-app is trusted/);

  const removed = await lsp.execute('unpublish', { storePath: app });
  assert.equal(removed.storePath, app);
  assert.deepEqual(
    (await lsp.connection.sendRequest(PublishedPathsRequest)).map((r) => r.entry.storePath),
    [dep],
  );
  assert.equal((await failure(lsp.execute('unpublish', { storePath: app }))).code, NixIpfsError.Failed);
});

test('with a real Kubo node and Nix: "Publish Build Result" builds the folder\'s default.nix and publishes it', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const tag = `${process.pid}-${Date.now()}`;
  await writeFile(
    path.join(dir, 'default.nix'),
    `derivation { name = "nix-ipfs-built"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo built ${tag} > $out" ]; }\n`,
  );
  const lsp = await startLsp({ kuboApi: node.apiAddr }, dir);
  const result = await lsp.execute('publishBuildResult', { allowUnsigned: true });
  assert.equal(result.paths.length, 1);
  assert.match(result.paths[0].storePath, /-nix-ipfs-built$/);
  assert.equal(await readFile(path.join(dir, 'result'), 'utf8'), `built ${tag}\n`, 'the usual result link is left');
});

test('node status: connected with its peer ID, or unreachable with the reason', async () => {
  const node = await startKuboNode();
  const connected = await (await startLsp({ kuboApi: node.apiAddr })).connection.sendRequest(NodeStatusRequest);
  assert.equal(connected.kubo.kind, 'connected');
  assert.equal(connected.kubo.kind === 'connected' && connected.kubo.peerId, node.peerId);
  assert.equal(connected.nix.found, true);
  const down = await (await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' })).connection.sendRequest(NodeStatusRequest);
  assert.equal(down.kubo.kind, 'unreachable');
  assert.match(down.kubo.kind === 'unreachable' ? down.kubo.error : '', /not reachable/);
});

test('settings of the wrong type are refused with a message naming each; the rest keep working', async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9', requestTimeoutMs: '5000', trusted: 'yes' });
  assert.match(lsp.messages.join('\n'), /requestTimeoutMs must be a number \(got "5000"\)/);
  const shown = lsp.nextMessage();
  await changeSettings(lsp, { concurrency: 'many' });
  assert.match(await shown, /concurrency must be a number/);
  const text = await readFile(path.join(fixtures, 'fetchers.nix'), 'utf8');
  const uri = await lsp.open(path.join(fixtures, 'fetchers.nix'), text);
  const hover = await lsp.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, '5891b5b522d5', 3) });
  assert.match(hover!.contents.value, /SRI: `sha256-/);
});

test('commands check their arguments: an unknown command or a wrong argument is an InvalidParams error that says which', async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' });
  const unknown = await failure(lsp.request('workspace/executeCommand', { command: 'nixIpfs.server.nope', arguments: [] }));
  assert.match(unknown.message, /unknown command nixIpfs\.server\.nope: the server offers nixIpfs\.server\.pinSource/);
  const wrong = await failure(lsp.request('workspace/executeCommand', { command: ServerCommand.verify, arguments: [{ target: 42 }] }));
  assert.equal(wrong.code, NixIpfsError.InvalidParams);
  assert.match(wrong.message, /nixIpfs\.server\.verify: 'target' must be a string, not 42/);
  const missing = await failure(lsp.request('workspace/executeCommand', { command: ServerCommand.unpin, arguments: [] }));
  assert.match(missing.message, /'hash' \(a string\) is missing/);
});

test('untrusted workspace: the server refuses to download or pin', async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9', trusted: false });
  const dir = await tempDir();
  const text = `{ fetchurl }: fetchurl { url = "http://127.0.0.1:9/x"; hash = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="; }`;
  const uri = await lsp.open(path.join(dir, 'evil.nix'), text);
  const refused = await failure(lsp.execute('pinSource', { uri, hashFrom: text.indexOf('sha256-') }));
  assert.equal(refused.code, NixIpfsError.UntrustedWorkspace);
  assert.match(refused.message, /untrusted workspace: trust the folder first/);
});

test('nix-ipfs scan --json prints one object per fetcher with the documented fields', async () => {
  const result = await cli(['scan', path.join(repoRoot, 'test/fixtures/packages'), '--json']);
  assert.equal(result.code, 0, result.stderr);
  const records = JSON.parse(result.stdout) as Record<string, unknown>[];
  const hello = records.find((r) => String(r.file).endsWith('hello.nix'))!;
  assert.deepEqual(
    { line: hello.line, fetcher: hello.fetcher, urls: hello.urls, hashAttr: hello.hashAttr, hash: hello.hash, mode: hello.mode },
    {
      line: 10,
      fetcher: 'fetchurl',
      urls: ['mirror://gnu/hello/hello-2.12.1.tar.gz'],
      hashAttr: 'sha256',
      hash: '086vqwk2wl8zfs47sq2xpjc9k066ilmb8z6dn0q6ymwjzlm196cd',
      mode: 'flat',
    },
  );
  assert.match(String(hello.sri), /^sha256-/);
  assert.match(String(hello.cid), /^bafkrei/);
  const github = records.find((r) => r.fetcher === 'fetchFromGitHub')!;
  assert.equal(github.mode, 'recursive');
  assert.equal(github.cid, undefined);
  assert.deepEqual(github.urls, ['https://github.com/BurntSushi/ripgrep/archive/14.1.0.tar.gz']);
});

test('a big generated set is parsed in chunks on worker threads; an edit re-parses its chunk, and a broken one the whole file', async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' });
  const dir = await tempDir();
  const hashOf = (i: number) => encodeNix32(createHash('sha256').update(String(i)).digest());
  const entries = Array.from(
    { length: 3000 },
    (_, i) => `  "pkg-${i}" = fetchurl {\n    url = "https://registry.example.org/pkg-${i}.tgz";\n    sha256 = "${hashOf(i)}";\n  };\n`,
  );
  entries.push('  broken = fetchurl { url = "https://example.org/b"; sha256 = "not-a-hash"; };\n');
  const text = `{ fetchurl }:\n{\n${entries.join('')}}\n`;
  const uri = await lsp.open(path.join(dir, 'generated.nix'), text);
  assert.match(lsp.logs.join('\n'), new RegExp(`in \\d+ chunks on ${availableParallelism()} threads`));
  const lineOf = (needle: string) => positionOf(text, needle).line;
  assert.deepEqual(
    lsp.diagnostics.get(uri)!.map((d) => [d.code, d.range.start.line]),
    [['malformed-hash', lineOf('not-a-hash')]],
  );
  const hover = await lsp.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, hashOf(2900), 5) });
  assert.match(hover!.contents.value, /CID: `bafkrei/);

  // Typing inside one chunk: only that chunk is re-parsed; positions after it move with the edit.
  const at = positionOf(text, hashOf(1500));
  let changed = lsp.waitForDiagnostics(uri);
  await lsp.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: at, end: { line: at.line, character: at.character + 1 } }, text: '\n' }],
  });
  await changed;
  assert.deepEqual(
    lsp.diagnostics.get(uri)!.map((d) => [d.code, d.range.start.line]),
    [
      ['malformed-hash', at.line],
      ['malformed-hash', lineOf('not-a-hash') + 1],
    ],
  );

  // An unclosed string: the chunks no longer hold, the whole file is parsed with recovery, and the fetchers before the break are still there.
  const quote = positionOf(text, 'pkg-2000.tgz');
  changed = lsp.waitForDiagnostics(uri);
  await lsp.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 3 },
    contentChanges: [{ range: { start: quote, end: quote }, text: '"' }],
  });
  await changed;
  assert.deepEqual(
    lsp.diagnostics
      .get(uri)!
      .map((d) => [d.code, d.range.start.line])
      .slice(0, 1),
    [['malformed-hash', at.line]],
  );
  const early = await lsp.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, hashOf(10), 5) });
  assert.match(early!.contents.value, /CID: `bafkrei/);
});

test('the same hash for two different sources in the workspace is flagged', async () => {
  const dir = await tempDir();
  const hash = 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=';
  await writeFile(path.join(dir, 'a.nix'), `{ fetchurl }: fetchurl { url = "https://example.org/a-1.0.tar.gz"; hash = "${hash}"; }\n`);
  const text = `{ fetchurl }: fetchurl { url = "https://example.org/b-2.0.tar.gz"; hash = "${hash}"; }\n`;
  await writeFile(path.join(dir, 'b.nix'), text);
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' }, dir);
  const uri = await lsp.open(path.join(dir, 'b.nix'), text);
  for (let i = 0; i < 50 && !lsp.diagnostics.get(uri)?.length; i++) await new Promise((r) => setTimeout(r, 100));
  const [diagnostic] = lsp.diagnostics.get(uri)!;
  assert.equal(diagnostic.code, 'duplicate-hash');
  assert.match(diagnostic.message, /a-1\.0\.tar\.gz in .*a\.nix:1/);
});

test('"Fetch the source and fill in its hash" replaces a placeholder with the real hash', async () => {
  const dir = await tempDir();
  const content = `placeholder source ${Date.now()}\n`;
  const { createServer } = await import('node:http');
  const server = createServer((_, res) => res.end(content)).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/p-1.0.tar.gz`;
    const text = `{ fetchurl, lib }: fetchurl { url = "${url}"; hash = lib.fakeHash; }\n`;
    const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' });
    const uri = await lsp.open(path.join(dir, 'p.nix'), text);
    const at = positionOf(text, 'lib.fakeHash', 2);
    const actions = await lsp.request<{ title: string; command?: { command: string; arguments: unknown[] } }[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: at, end: at },
      context: { diagnostics: [] },
    });
    const fill = actions.find((a) => a.title.startsWith('Fetch the source'))!;
    const sri = await lsp.request<string>('workspace/executeCommand', fill.command);
    const { createHash } = await import('node:crypto');
    assert.equal(sri, `sha256-${createHash('sha256').update(content).digest('base64')}`);
    assert.equal(lsp.edits[0].changes![uri][0].newText, `"${sri}"`, 'a reference becomes a quoted string');
  } finally {
    server.close();
  }
});

test('a large tree is scanned on worker threads, with the same result as one thread', async () => {
  const dir = await tempDir();
  const examples = ['hello.nix', 'ripgrep.nix', 'sources.nix'].map((f) => readFileSync(path.join(repoRoot, 'test/fixtures/packages', f), 'utf8'));
  for (let i = 0; i < 24; i++) {
    await mkdir(path.join(dir, `pkg${i % 6}`), { recursive: true });
    await writeFile(path.join(dir, `pkg${i % 6}`, `p${i}.nix`), examples[i % 3]);
  }
  await writeFile(path.join(dir, 'module.nix'), '{ config, lib, ... }: { options.foo = lib.mkOption { }; }\n'); // no fetcher: not parsed
  await writeFile(path.join(dir, '.gitignore'), 'pkg5/\n');
  // A worker pays for itself from 1 MiB of text on: these 21 small files get one worker...
  const small = await cli(['scan', dir, '--json']);
  assert.match(small.stderr, /scanned 21 \.nix files on 1 thread/);
  assert.deepEqual(JSON.parse(small.stdout), JSON.parse(JSON.stringify(await scanWorkspace(dir))));
  // ...and a 2.6 MB generated set among them two.
  const hash = '0ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g';
  const set = Array.from({ length: 16_000 }, (_, i) => `  "pkg-${i}" = fetchurl { url = "https://example.org/pkg-${i}.tgz"; sha256 = "${hash}"; };`);
  await writeFile(path.join(dir, 'pkg0', 'generated.nix'), `{ fetchurl }:\n{\n${set.join('\n')}\n}\n`);
  const result = await cli(['scan', dir, '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, availableParallelism() > 1 ? /scanned 22 \.nix files on 2 threads/ : /scanned 22 \.nix files on 1 thread/);
  const threaded = JSON.parse(result.stdout);
  // This process runs from TypeScript sources, where the scan stays on one thread.
  const single = await scanWorkspace(dir);
  assert.ok(threaded.length >= 16_020, 'every package file has a fetcher');
  assert.deepEqual(threaded, JSON.parse(JSON.stringify(single)));
  assert.ok(threaded.every((r: { file: string }) => !r.file.includes('/pkg5/')));
  // The language server (what "Pin All Sources" asks) runs the same workers from its own bundle.
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' });
  assert.deepEqual(await lsp.connection.sendRequest(ScanWorkspaceRequest, { folder: dir }), threaded);
});

test('the scanWorkspace request lists every fetcher', async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' }, path.join(repoRoot, 'test/fixtures/packages'));
  const records = await lsp.connection.sendRequest(ScanWorkspaceRequest, { folder: path.join(repoRoot, 'test/fixtures/packages') });
  assert.deepEqual(records.map((r) => `${path.basename(r.file)}:${r.fetcher}`).sort(), [
    'flake.nix:fetchpatch',
    'flake.nix:fetchzip',
    'hello.nix:fetchurl',
    'ripgrep.nix:cargoHash',
    'ripgrep.nix:fetchFromGitHub',
    'sources.nix:attrset',
    'sources.nix:attrset',
    'sources.nix:attrset',
  ]);
});

test("'nix-ipfs lsp --stdio' ends as editors expect: exit code 0 after shutdown and exit, and nothing on stderr", async () => {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/cli.mjs'), 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const send = (body: object) => {
    const json = JSON.stringify({ jsonrpc: '2.0', ...body });
    child.stdin.write(`Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
  };
  const answered = async (id: number) => {
    for (let waited = 0; !stdout.includes(`"id":${id},`); waited += 20) {
      assert.ok(waited < 10_000, `no answer to request ${id}: ${stdout}${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  // As an editor does: each request's answer before the next step.
  send({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
  await answered(1);
  send({ method: 'initialized', params: {} });
  send({ id: 2, method: 'shutdown' });
  await answered(2);
  send({ method: 'exit' });
  assert.equal(await exited, 0, stderr);
  assert.equal(stderr, '');
});
