// The health of a workspace's sources: where each can come from today (upstream, the Nix store, the node),
// which are at risk, and a rescue that pins them from wherever they still are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { cli } from '../helpers/cli';
import { startLsp } from '../helpers/lsp';
import { nix, tempDir } from '../helpers/nix-env';
import { parseHash } from '../../src/core/hash';
import { parsePathInfoJson } from '../../src/core/path-info';
import { NixIpfsError } from '../../src/protocol';
import type { SourceHealthReport, RescueResult } from '../../src/services/source-health';

test('nix-ipfs sources: a dead URL only in the store is at risk, a flake input too; rescue pins them from the store; a malformed file and a lock input without narHash are reported', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const content = `health ${process.pid} ${Date.now()}\n`;
  const sha256 = createHash('sha256').update(content).digest('hex');
  const upstream = createServer((_, res) => res.end(content)).listen(0, '127.0.0.1');
  await new Promise((r) => upstream.once('listening', r));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/health-1.0.tar.gz`;

  const workspace = path.join(dir, 'workspace');
  await mkdir(workspace);
  await writeFile(path.join(workspace, 'default.nix'), `{ fetchurl }:\nfetchurl {\n  url = "${url}";\n  sha256 = "${sha256}";\n}\n`);
  await writeFile(path.join(workspace, 'broken.nix'), `{ fetchurl }:\nfetchurl {\n  url = "${url}";\n  sha256 = "${sha256}";\n  = ;\n`);
  // The source is in the store under the name Nix gives it (the URL's file name), as after a build.
  const copy = path.join(dir, 'health-1.0.tar.gz');
  await writeFile(copy, content);
  const storePath = await nix('nix-store', ['--add-fixed', 'sha256', copy]);
  // A flake.lock beside: a tarball input the store holds (its host gone), and one locked without a narHash.
  const tree = path.join(dir, 'input', 'source');
  await mkdir(tree, { recursive: true });
  await writeFile(path.join(tree, 'flake.nix'), `{ outputs = _: { tag = "${content.trim()}"; }; }\n`);
  const inputPath = await nix('nix-store', ['--add-fixed', '--recursive', 'sha256', tree]);
  const [{ narHash }] = parsePathInfoJson(await nix('nix', ['path-info', '--json', inputPath]));
  const tarball = (url: string, narHash?: string) => ({
    locked: { type: 'tarball', url, ...(narHash ? { narHash } : {}) },
    original: { type: 'tarball', url },
  });
  const lock = {
    nodes: {
      root: { inputs: { dep: 'dep', unlocked: 'unlocked' } },
      dep: tarball('http://127.0.0.1:9/dep.tar.gz', parseHash(narHash, 'sha256').hash.toSri()),
      unlocked: tarball('http://127.0.0.1:9/unlocked.tar.gz'),
    },
    root: 'root',
    version: 7,
  };
  await writeFile(path.join(workspace, 'flake.lock'), JSON.stringify(lock, null, 2));

  const sources = async (...flags: string[]) => {
    const result = await cli(['sources', workspace, '--check', '--json', '--api', node.apiAddr, ...flags]);
    return { ...result, report: JSON.parse(result.stdout) as SourceHealthReport & { rescue?: RescueResult } };
  };
  const defaultNix = (report: SourceHealthReport) => report.files.find((f) => f.file.endsWith('default.nix'))!.sources[0]!;
  const flakeLock = (report: SourceHealthReport) => report.files.find((f) => f.file.endsWith('flake.lock'))!;

  const live = await sources();
  assert.equal(defaultNix(live.report).upstream.state, 'live', live.stdout);
  assert.deepEqual(defaultNix(live.report).store, { path: storePath, valid: true });
  assert.equal(defaultNix(live.report).risk, 'safe');
  const broken = live.report.files.find((f) => f.file.endsWith('broken.nix'));
  assert.match(broken?.problem ?? '', /syntax error at line 5/, live.stdout);
  assert.equal(live.code, 1, 'a file with a problem fails the listing');
  const input = flakeLock(live.report);
  assert.match(input.problem ?? '', /input 'unlocked' .* has no narHash/);
  assert.deepEqual(
    input.sources.map((s) => [s.flakeInput?.id, s.store, s.upstream.state, s.risk]),
    [['dep', { path: inputPath, valid: true }, 'dead', 'at-risk']],
  );

  await new Promise((r) => upstream.close(r));
  const dead = await sources();
  const source = defaultNix(dead.report);
  assert.equal(source.upstream.state, 'dead', dead.stdout);
  assert.equal(source.node.state, 'absent');
  assert.equal(source.risk, 'at-risk');
  assert.equal(dead.report.atRisk, 3, 'both .nix files name it, and the flake input');
  const atRiskOnly = await cli(['sources', workspace, '--check', '--at-risk', '--api', node.apiAddr]);
  assert.match(atRiskOnly.stdout, /health-1\.0\.tar\.gz .* upstream dead .* in store .* AT-RISK/, atRiskOnly.stdout);

  const rescued = await sources('--rescue');
  assert.deepEqual(
    rescued.report.rescue?.rescued.map((r) => [r.name, r.from]).sort(),
    [
      ['health-1.0.tar.gz', 'store'],
      ['source', 'store'],
    ],
    rescued.stdout,
  );
  assert.equal(flakeLock(rescued.report).sources[0]?.node.state, 'pinned', 'the flake input is in the IPFS cache');
  const after = defaultNix(rescued.report);
  assert.equal(after.node.state, 'pinned');
  assert.equal(after.risk, 'safe');
  assert.equal(rescued.report.atRisk, 0);
  assert.match(await node.cli(['pin', 'ls', '--type=recursive']), new RegExp(after.node.cid!));
  assert.equal(await node.cli(['cat', after.node.cid!]), content);
});

test('through the language server: the listing, Rescue All At Risk with what could not be saved and why, and no URL asked in an untrusted workspace', async () => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const kept = `kept ${process.pid} ${Date.now()}\n`;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const copy = path.join(dir, 'kept-1.0.tar.gz');
  await writeFile(copy, kept);
  await nix('nix-store', ['--add-fixed', 'sha256', copy]);
  const workspace = path.join(dir, 'workspace');
  await mkdir(workspace);
  const fetcher = (name: string, hash: string) => `(fetchurl { url = "http://127.0.0.1:9/${name}"; sha256 = "${hash}"; })`;
  await writeFile(
    path.join(workspace, 'default.nix'),
    `{ fetchurl }: [\n  ${fetcher('kept-1.0.tar.gz', sha256(kept))}\n  ${fetcher('gone-1.0.tar.gz', sha256(`gone ${Date.now()}`))}\n]\n`,
  );

  const untrusted = await startLsp({ kuboApi: node.apiAddr, trusted: false }, workspace);
  const listed = await untrusted.execute('sourceHealth', {});
  assert.deepEqual(
    listed.files[0]?.sources.map((s) => [s.name, s.upstream.state, s.store.valid, s.risk]),
    [
      ['kept-1.0.tar.gz', 'unchecked', true, 'safe'],
      ['gone-1.0.tar.gz', 'unchecked', false, 'at-risk'],
    ],
  );
  for (const refused of [untrusted.execute('sourceHealth', { check: true }), untrusted.execute('rescueSources', {})]) {
    const error = await refused.then(
      (value) => assert.fail(`expected a refusal, got ${JSON.stringify(value)}`),
      (e: { code: number }) => e,
    );
    assert.equal(error.code, NixIpfsError.UntrustedWorkspace);
  }

  const lsp = await startLsp({ kuboApi: node.apiAddr, requestTimeoutMs: 5000 }, workspace);
  const result = await lsp.execute('rescueSources', { check: true });
  assert.deepEqual(
    result.rescued.map((r) => [r.name, r.from]),
    [['kept-1.0.tar.gz', 'store']],
  );
  assert.deepEqual(
    result.failed.map((f) => f.name),
    ['gone-1.0.tar.gz'],
  );
  assert.match(result.failed[0]!.error, /127\.0\.0\.1:9/, 'why: its URL does not answer');
  assert.match(lsp.messages.at(-1)!, /1 pinned \(1 from the Nix store, 0 from upstream\), 0 already pinned; could not save 1: gone-1\.0\.tar\.gz: /);
  assert.deepEqual(lsp.contentChanges.at(-1), { mirror: true, cache: false });
  const after = await lsp.execute('sourceHealth', { check: true });
  assert.deepEqual(
    after.files[0]?.sources.map((s) => [s.name, s.node.state, s.risk]),
    [
      ['kept-1.0.tar.gz', 'pinned', 'safe'],
      ['gone-1.0.tar.gz', 'absent', 'lost'],
    ],
  );
  // A listing that does not ask (the view refreshed after a pin) shows what the URLs answered at the check.
  const refreshed = await lsp.execute('sourceHealth', {});
  assert.equal(refreshed.checked, true);
  assert.deepEqual(
    refreshed.files[0]?.sources.map((s) => [s.name, s.upstream.state, s.risk]),
    [
      ['kept-1.0.tar.gz', 'dead', 'safe'],
      ['gone-1.0.tar.gz', 'dead', 'lost'],
    ],
  );
});
