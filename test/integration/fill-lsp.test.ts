// Fill Hash through the language server, as an editor drives it: lenses and quick fixes, the build
// picked once (window/showMessageRequest) and remembered, hashes found by building, cancelling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CancellationTokenSource,
  ExecuteCommandRequest,
  ShowMessageRequest,
  type MessageActionItem,
  type ShowMessageRequestParams,
} from 'vscode-languageserver-protocol';
import { startLsp, type LspSession } from '../helpers/lsp';
import { tempDir } from '../helpers/nix-env';
import { serveFolder } from '../helpers/source-rig';
import { executeCommandParams, type FillSummary } from '../../src/protocol';

const zeroSri = `sha256-${'A'.repeat(43)}=`;
const sha256Sri = (text: string) => `sha256-${createHash('sha256').update(text).digest('base64')}`;

/** Nix without a binary cache to ask, and a state folder of this test's own for the remembered builds. */
async function isolatedEnvironment(): Promise<string> {
  const state = await tempDir('nix-ipfs-state-');
  process.env.XDG_STATE_HOME = state;
  process.env.NIX_CONFIG = `${process.env.NIX_CONFIG ?? ''}\nsubstituters =`;
  return state;
}

/** Answers the server's questions (window/showMessageRequest) with the choice `pick` makes, and keeps them. */
function answerQuestions(lsp: LspSession, pick: (titles: string[]) => string): ShowMessageRequestParams[] {
  const asked: ShowMessageRequestParams[] = [];
  lsp.connection.onRequest(ShowMessageRequest.type, (params): MessageActionItem | null => {
    asked.push(params);
    const titles = (params.actions ?? []).map((a) => a.title);
    return { title: pick(titles) };
  });
  return asked;
}

type Lens = { command: { title: string; command: string; arguments: unknown[] } };
type Action = { title: string; command?: { command: string; arguments: unknown[] } };

test('a file not built on its own: the user picks the build once (remembered); hashes that wait on each other are found by building again', async () => {
  const state = await isolatedEnvironment();
  const dir = await tempDir();
  await writeFile(
    path.join(dir, 'default.nix'),
    `let
  mkFod = { name, script, outputHash }: derivation {
    inherit name outputHash; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ];
    outputHashMode = "flat"; outputHashAlgo = "sha256";
  };
in {
  first = import ./pkg.nix { inherit mkFod; };
  other = derivation { name = "other"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
}
`,
  );
  // deps is built from src: its hash is reached only once src has its own.
  const text = `{ mkFod }:
rec {
  src = mkFod { name = "src"; script = "echo source ${process.pid} > $out"; outputHash = "${zeroSri}"; };
  deps = mkFod { name = "deps"; script = "/bin/cat \${src} \${src} > $out"; outputHash = "${zeroSri}"; };
}
`;
  const file = path.join(dir, 'pkg.nix');
  await writeFile(file, text);
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' }, dir);
  const asked = answerQuestions(lsp, (titles) => titles.find((t) => t.endsWith('-A first'))!);
  const uri = await lsp.open(file, text);

  const lenses = await lsp.request<Lens[]>('textDocument/codeLens', { textDocument: { uri } });
  assert.deepEqual(
    lenses.map((l) => l.command.title),
    ['Fill all 2 hashes in this file', 'Fill hash', 'Fill hash'],
  );
  const at = { line: 2, character: text.split('\n')[2].indexOf('sha256-') + 2 };
  const actions = await lsp.request<Action[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: at, end: at },
    context: { diagnostics: [] },
  });
  assert.deepEqual(
    actions.map((a) => a.title),
    ['Build with Nix and fill in outputHash', 'Fill all 2 placeholder hashes in this file'],
  );

  const all = actions[1].command!;
  const summary = await lsp.request<FillSummary>('workspace/executeCommand', all);
  const source = `source ${process.pid}\n`;
  assert.deepEqual(
    summary.filled.map((f) => [f.line, f.hash, f.method]),
    [
      [3, sha256Sri(source), 'build'],
      [4, sha256Sri(source + source), 'build'],
    ],
  );
  assert.deepEqual(summary.failed, []);
  assert.deepEqual(
    lsp.edits.at(-1)!.changes![uri].map((e) => e.newText),
    [sha256Sri(source), sha256Sri(source + source)],
  );
  assert.equal(asked.length, 1, 'asked once');
  assert.match(asked[0].message, /pkg\.nix is not built on its own: which build reaches its hashes\?/);
  assert.deepEqual(
    asked[0].actions!.map((a) => a.title),
    ['default.nix -A first', 'default.nix -A other'],
  );
  assert.equal(await readFile(file, 'utf8'), text, "the file on disk is the editor's business: the server only sent the edit");

  // The server's copy still holds the placeholders (this test's editor applies nothing): asked again, it remembers the build.
  const again = await lsp.execute('fillHash', { uri, position: at });
  assert.equal(again, sha256Sri(source));
  assert.equal(asked.length, 1, 'not asked a second time');
  const remembered = JSON.parse(await readFile(path.join(state, 'nix-ipfs/build-targets.json'), 'utf8'));
  assert.deepEqual(remembered[file], { kind: 'attribute', entry: path.join(dir, 'default.nix'), attribute: 'first' });
});

test('Fill All Hashes is cancelled while a server holds the download: a cancelled request, no edit', async () => {
  await isolatedEnvironment();
  const dir = await tempDir();
  const server = await serveFolder(dir);
  const text = `{ fetchurl, lib }: {\n  a = fetchurl { url = "${server.url('hang/a-1.0.tar.gz')}"; hash = lib.fakeHash; };\n  b = fetchurl { url = "${server.url('hang/b-1.0.tar.gz')}"; hash = ""; };\n}\n`;
  const file = path.join(dir, 'hang.nix');
  await writeFile(file, text);
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' }, dir);
  const uri = await lsp.open(file, text);
  const reached = server.nextRequest('/hang/');
  const cancel = new CancellationTokenSource();
  const filling = lsp.connection.sendRequest(ExecuteCommandRequest.type, executeCommandParams('fillAllHashes', { uri }), cancel.token);
  await reached;
  cancel.cancel();
  const error = await filling.then(
    () => assert.fail('expected the request to be cancelled'),
    (e: { code: number; message: string }) => e,
  );
  assert.equal(error.code, -32800, error.message);
  assert.equal(lsp.edits.length, 0, 'nothing put in');
});

test('Fill Hash on a site that cannot be filled: an error naming the site; the build that fails for another reason is quoted', async () => {
  await isolatedEnvironment();
  const dir = await tempDir();
  const text = `{\n  broken = derivation { name = "broken"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo the builder gave up >&2; exit 7" ];\n    outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "${zeroSri}"; };\n}\n`;
  const file = path.join(dir, 'broken.nix');
  await writeFile(file, text);
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' }, dir);
  const uri = await lsp.open(file, text);
  const error = await lsp.execute('fillHash', { uri, position: { line: 2, character: text.split('\n')[2].indexOf('sha256-') + 1 } }).then(
    () => assert.fail('expected an error'),
    (e: { code: number; message: string }) => e,
  );
  assert.equal(error.code, 1000);
  assert.match(
    error.message,
    /^line 3: derivation's outputHash: building the file itself failed before it reached this hash:\nerror: builder for '.*-broken\.drv' failed with exit code 7/,
  );
  assert.equal(lsp.edits.length, 0);
});
