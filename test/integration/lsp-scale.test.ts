// A file with tens of thousands of fetchers: lenses answer at once, and the language server never
// asks Kubo more than a handful of things at a time (issue: 100 000 fetchers once meant no answer in
// 180 s while Kubo grew to 840 MB and 2 668 open files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { startFaultProxy } from '../helpers/fault-proxy';
import { positionOf, startLsp } from '../helpers/lsp';
import { tempDir } from '../helpers/nix-env';

const FETCHERS = 20_000;

/** Nixpkgs' generated-set shape: one fetchurl per attribute, each with its own hash. */
function generatedSet(count: number): string {
  const entries = Array.from({ length: count }, (_, i) => {
    const sri = `sha256-${randomBytes(32).toString('base64')}`;
    return `  pkg${i} = fetchurl { url = "http://127.0.0.1:9/pkg${i}.tar.gz"; hash = "${sri}"; };`;
  });
  return `{ fetchurl }:\n{\n${entries.join('\n')}\n}\n`;
}

test(`lenses for ${FETCHERS} fetchers answer at once; Kubo is asked a few things at a time`, { timeout: 240_000 }, async () => {
  const node = await startKuboNode();
  const proxy = await startFaultProxy(node.apiUrl, { kind: 'pass' });
  const lsp = await startLsp({ kuboApi: proxy.multiaddr, hoverTimeoutMs: 300 });
  const text = generatedSet(FETCHERS);
  const uri = await lsp.open(path.join(await tempDir(), 'generated.nix'), text);

  const refreshed = lsp.nextLensRefresh();
  const lenses = await lsp.request<{ command: { title: string } }[]>('textDocument/codeLens', { textDocument: { uri } });
  assert.equal(lenses.length, FETCHERS);
  assert.ok(
    lenses.every((l) => l.command.title === 'Pin to IPFS (checking the node…)'),
    'no lens waits for Kubo',
  );
  await refreshed; // answers arrive in the background, and the editor is asked to refresh

  const hover = await lsp.request<{ contents: { value: string } } | null>('textDocument/hover', {
    textDocument: { uri },
    position: positionOf(text, 'sha256-', 3),
  });
  assert.match(hover?.contents.value ?? '', /bafkrei/);
  assert.ok(proxy.mostAtOnce() <= 12, `at most a handful of Kubo requests at once, saw ${proxy.mostAtOnce()}`);
});

test('a hand-written file too big to parse whole is not read, and the editor is told why', { timeout: 120_000 }, async () => {
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' });
  // A `rec` set is never split into chunks: over the limit, it would be one multi-second parse per edit.
  const text = `rec {\n${'  note = "padding";\n'.repeat(500_000)}  src = fetchurl { url = "http://127.0.0.1:9/a"; hash = "sha256-${randomBytes(32).toString('base64')}"; };\n}\n`;
  const told = lsp.nextMessage();
  const uri = await lsp.open(path.join(await tempDir(), 'huge.nix'), text);
  assert.match(await told, /does not read huge\.nix \(\d+ MB\): files over 8 MB are read only when they are one generated set/);
  const hover = await lsp.request('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'sha256-', 3) });
  assert.equal(hover, null);
});
