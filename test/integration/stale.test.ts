// Stale hashes: a version bumped in a git working copy while the hash stays. `nix-ipfs check` exits 1
// on it; the language server flags it and offers to update it or make it a placeholder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli } from '../helpers/cli';
import { startLsp } from '../helpers/lsp';
import { tempDir } from '../helpers/nix-env';
import { commitAll, gitInit, serveFolder } from '../helpers/source-rig';
import { ServerCommand } from '../../src/protocol';

const sriOf = (text: string) => `sha256-${createHash('sha256').update(text).digest('base64')}`;
type Problem = { file: string; line: number; code: string; message: string };

/** A repository whose package fetches pkg-1.0 from a loopback server, committed; and the text that bumps it to 1.1. */
async function bumpedPackage() {
  const dir = await tempDir();
  const served = path.join(dir, 'served');
  const repo = path.join(dir, 'repo');
  await gitInit(repo);
  await mkdir(served);
  const contents = { '1.0': `pkg 1.0 ${process.pid}\n`, '1.1': `pkg 1.1 ${process.pid}\n` };
  for (const [version, text] of Object.entries(contents)) await writeFile(path.join(served, `pkg-${version}.tar.gz`), text);
  const server = await serveFolder(served);
  const pkg = (version: string) => `{ fetchurl }:
let version = "${version}"; in
fetchurl {
  url = "${server.url('pkg-')}\${version}.tar.gz";
  hash = "${sriOf(contents['1.0'])}";
}
`;
  const file = path.join(repo, 'pkg.nix');
  await writeFile(file, pkg('1.0'));
  await commitAll(repo, 'pkg 1.0');
  return { repo, file, bumped: pkg('1.1'), newHash: sriOf(contents['1.1']), oldUrl: server.url('pkg-1.0.tar.gz') };
}

test('nix-ipfs check: clean at HEAD (exit 0); a bumped URL with the hash unchanged, a placeholder, a malformed hash: exit 1, each named', async () => {
  const { repo, file, bumped, oldUrl } = await bumpedPackage();
  const clean = await cli(['check', repo]);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /no stale, placeholder or malformed hash/);

  await writeFile(file, bumped);
  await writeFile(
    path.join(repo, 'more.nix'),
    `{ fetchurl, lib }: {\n  a = fetchurl { url = "https://example.org/a.tar.gz"; hash = lib.fakeHash; };\n  b = fetchurl { url = "https://example.org/b.tar.gz"; sha256 = "not-a-hash"; };\n}\n`,
  );
  const flagged = await cli(['check', repo, '--json']);
  assert.equal(flagged.code, 1, flagged.stderr);
  const problems = (JSON.parse(flagged.stdout) as Problem[]).map((p) => [path.basename(p.file), p.line, p.code, p.message]);
  assert.deepEqual(problems, [
    ['more.nix', 2, 'placeholder-hash', 'hash is a placeholder (lib.fakeHash)'],
    ['more.nix', 3, 'malformed-hash', problems[1][3]],
    ['pkg.nix', 5, 'stale-hash', `the source changed but the hash did not: Nix will reuse the old source (URL was ${oldUrl} in HEAD)`],
  ]);
  const text = await cli(['check', file]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /pkg\.nix:5 {2}stale-hash {2}the source changed but the hash did not/);
});

test('the language server flags the stale hash; "Update hash" fills it for the new URL, "Replace with a placeholder" puts an all-zero hash', async () => {
  const { repo, file, bumped, newHash } = await bumpedPackage();
  await writeFile(file, bumped);
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' }, repo);
  const uri = await lsp.open(file, bumped);
  const [diagnostic] = lsp.diagnostics.get(uri)!;
  assert.equal(diagnostic.code, 'stale-hash');
  assert.equal(diagnostic.range.start.line, 4);
  type Action = { title: string; command?: { command: string; arguments: unknown[] }; edit?: { changes: Record<string, { newText: string }[]> } };
  const actions = await lsp.request<Action[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: diagnostic.range,
    context: { diagnostics: [diagnostic] },
  });
  const update = actions.find((a) => a.title === 'Update hash')!;
  assert.equal(update.command!.command, ServerCommand.fillHash);
  assert.equal(await lsp.request('workspace/executeCommand', update.command), newHash);
  assert.equal(lsp.edits.at(-1)!.changes![uri][0].newText, newHash);
  const placeholder = actions.find((a) => a.title === 'Replace with a placeholder')!;
  assert.equal(placeholder.edit!.changes[uri][0].newText, `sha256-${'A'.repeat(43)}=`);
});
