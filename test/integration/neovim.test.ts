// A second real editor: Debian's Neovim (0.7) runs headless with its built-in LSP client against
// `nix-ipfs lsp --stdio` and a private Kubo node. test/helpers/neovim-lsp.lua drives it from a plan
// of steps and writes what the server answered as JSON; a new check is one more step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { repoRoot } from '../helpers/cli';
import { startKuboNode } from '../helpers/kubo';
import { positionOf } from '../helpers/lsp';
import { tempDir } from '../helpers/nix-env';
import { ServerCommand } from '../../src/protocol';

const driver = path.join(repoRoot, 'test/helpers/neovim-lsp.lua');
const fixture = path.join(repoRoot, 'test/fixtures/nix/neovim.nix');
const server = [process.execPath, path.join(repoRoot, 'dist/cli.mjs'), 'lsp', '--stdio'];
const hex = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
const sri = 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=';
const cid = 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am';

type Position = { line: number; character: number };
type Step = { id: string } & (
  | { action: 'diagnostics'; codes: string[] }
  | { action: 'hover'; at: Position }
  | { action: 'codeLens' }
  | { action: 'codeAction'; at: Position; title?: string }
  | { action: 'executeCommand'; lens?: string; command?: string; arguments?: unknown[] }
  | { action: 'freezeServer' }
);
interface Report {
  error?: string;
  serverExit?: { code: number; signal: number };
  steps: Record<string, { result?: unknown; error?: string }>;
}

/** Runs Neovim headless on `file` with the plan's steps; every wait in it is bounded by stepTimeoutMs. */
async function runNeovim(file: string, initOptions: Record<string, unknown>, steps: Step[], cmd = server, stepTimeoutMs = 30_000): Promise<Report> {
  const dir = await tempDir('nix-ipfs-nvim-');
  const planFile = path.join(dir, 'plan.json');
  const out = path.join(dir, 'report.json');
  await writeFile(planFile, JSON.stringify({ cmd, rootDir: path.dirname(file), initOptions, file, timeoutMs: stepTimeoutMs, out, steps }));
  const home = (name: string) => path.join(dir, name);
  const env = {
    ...process.env,
    NIX_IPFS_NVIM_PLAN: planFile,
    XDG_CONFIG_HOME: home('config'),
    XDG_DATA_HOME: home('data'),
    XDG_CACHE_HOME: home('cache'),
    XDG_STATE_HOME: home('state'),
  };
  // Its own process group, so the server it starts goes with it.
  const nvim = spawn('nvim', ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${driver}`], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  nvim.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  nvim.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  const killGroup = () => {
    try {
      process.kill(-nvim.pid!, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  const bound = setTimeout(killGroup, (steps.length + 2) * stepTimeoutMs + 10_000);
  const exit = await new Promise<number | string>((resolve, reject) => {
    nvim.once('error', (error) =>
      reject(new Error(`cannot start nvim (${error.message}): install Debian's neovim ('apt-get install -y neovim'; npm test does it as root)`)),
    );
    nvim.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  clearTimeout(bound);
  killGroup();
  const report = await readFile(out, 'utf8').catch(() => undefined);
  if (!report) throw new Error(`Neovim wrote no report (exit ${exit}):\n${output}`);
  return JSON.parse(report) as Report;
}

/** A step's answer; a step that failed fails the test with the driver's message. */
function answer<T>(report: Report, id: string): T {
  const step = report.steps[id];
  assert.ok(step, `step ${id} did not run: ${report.error ?? 'no error reported'}`);
  assert.equal(step.error, undefined, `step ${id}: ${step.error}`);
  return step.result as T;
}

test('Neovim 0.7 against nix-ipfs lsp with a real Kubo node: diagnostics, hover with the CID, lenses, pin, unpin, a code action', async (t) => {
  const node = await startKuboNode();
  const dir = await tempDir();
  const file = path.join(dir, 'sources.nix');
  // The well-formed hash is of "hello\n": served here on loopback, so pinning it works offline.
  const upstream = createServer((_, res) => res.end('hello\n')).listen(0, '127.0.0.1');
  t.after(() => upstream.close());
  await new Promise((r) => upstream.once('listening', r));
  const served = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/hello-2.12.1.tar.gz`;
  await writeFile(file, (await readFile(fixture, 'utf8')).replace('http://127.0.0.1:9/hello-2.12.1.tar.gz', served));
  const text = await readFile(file, 'utf8');
  const onHash = positionOf(text, hex, 3);
  const initOptions = { kuboApi: node.apiAddr, gatewayUrl: node.gatewayUrl, requestTimeoutMs: 15_000, hoverTimeoutMs: 15_000 };
  const report = await runNeovim(file, initOptions, [
    { id: 'diagnostics', action: 'diagnostics', codes: ['placeholder-hash', 'malformed-hash'] },
    { id: 'hover', action: 'hover', at: onHash },
    { id: 'lenses', action: 'codeLens' },
    { id: 'cidFromLens', action: 'executeCommand', lens: 'Pin to IPFS', command: ServerCommand.copyCid },
    { id: 'pin', action: 'executeCommand', lens: 'Pin to IPFS' },
    { id: 'unpin', action: 'executeCommand', command: ServerCommand.unpin, arguments: [{ hash: sri }] },
    { id: 'toSri', action: 'codeAction', at: onHash, title: 'to SRI' },
    { id: 'afterEdit', action: 'codeAction', at: onHash },
  ]);
  assert.equal(report.error, undefined, report.error);

  const diagnostics = answer<{ code: string; line: number; message: string }[]>(report, 'diagnostics');
  assert.deepEqual(diagnostics.map((d) => [d.code, d.line]).sort(), [
    ['malformed-hash', positionOf(text, '1ayhp9').line],
    ['placeholder-hash', positionOf(text, '00000000').line],
  ]);
  assert.match(diagnostics.find((d) => d.code === 'malformed-hash')!.message, /expected 52 Nix base32, 64 base16 or 44 base64 characters for sha256, got 51/);

  const hover = answer<string>(report, 'hover');
  assert.ok(hover.includes(`CID: \`${cid}\``), hover);
  assert.ok(hover.includes(`SRI: \`${sri}\``), hover);
  assert.match(hover, /IPFS: not mirrored yet/, 'the server asked the Kubo node');

  const lenses = answer<{ title: string; command: string }[]>(report, 'lenses');
  assert.deepEqual(
    lenses.map((l) => [l.title, l.command]),
    [
      ['Fill hash', ServerCommand.fillHash],
      ['Pin to IPFS', ServerCommand.pinSource],
    ],
    'Fill hash on the placeholder, a pin lens on the one well-formed hash, none on the malformed one',
  );
  assert.equal(answer(report, 'cidFromLens'), cid, "the lens's fetcher reference works through workspace/executeCommand");
  const pinned = answer<{ status: string; record: { cid: string; hash: string } }>(report, 'pin');
  assert.deepEqual([pinned.status, pinned.record.cid, pinned.record.hash], ['pinned', cid, sri], 'pinned through the lens');
  assert.equal(answer<{ cid: string }>(report, 'unpin').cid, cid, 'and unpinned by hash');
  assert.doesNotMatch(await node.cli(['pin', 'ls', '--type=recursive']), new RegExp(cid));

  const toSri = answer<{ applied: string; line: string }>(report, 'toSri');
  assert.match(toSri.applied, /^Convert sha256 to SRI/);
  assert.equal(toSri.line, `    sha256 = "${sri}";`, 'Neovim applied the edit to its buffer');
  const afterEdit = answer<{ titles: string[] }>(report, 'afterEdit');
  assert.deepEqual(afterEdit.titles, [], 'the server received the edited buffer: the hash is SRI now');
});

test('the Neovim run fails when the server stops answering', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'sources.nix');
  await copyFile(fixture, file);
  const steps: Step[] = [
    { id: 'before', action: 'codeLens' },
    { id: 'freeze', action: 'freezeServer' },
    { id: 'after', action: 'codeAction', at: positionOf(await readFile(file, 'utf8'), hex, 3) },
  ];
  const report = await runNeovim(file, { kuboApi: '/ip4/127.0.0.1/tcp/9' }, steps, server, 3_000);
  assert.equal(answer<unknown[]>(report, 'before').length, 2, 'the server answered before it froze');
  assert.throws(() => answer(report, 'after'), /step after: textDocument\/codeAction: no answer from the server/);
});
