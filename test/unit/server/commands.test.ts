// The server's commands as plain functions: their arguments checked, the consent and trust checks,
// and what they tell the editor after a change, against an in-memory Kubo node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessageType, ResponseError } from 'vscode-languageserver';
import { NixHash } from '../../../src/core/hash';
import { Nix } from '../../../src/nix/cli';
import { NixIpfsError } from '../../../src/protocol';
import { runCommand, type CommandEnv } from '../../../src/server/commands';
import { NixDocuments } from '../../../src/server/documents';
import { PinStates } from '../../../src/server/pin-state';
import { ServerSession } from '../../../src/server/session';
import { Layout, type ServiceContext } from '../../../src/services/context';
import { recordMirror } from '../../../src/services/mirror';
import { MemoryKubo } from '../../helpers/memory-kubo';

class EmptyStore extends Nix {
  override async isValid(): Promise<boolean> {
    return false;
  }
}

/** A command environment on an in-memory node, recording what the server would tell the editor. */
function environment(init: Record<string, unknown> = {}) {
  const kubo = new MemoryKubo();
  const ctx: ServiceContext = { kubo, nix: new EmptyStore(), layout: new Layout('/nix-ipfs'), keyName: 'nix-ipfs', concurrency: 2 };
  const session = new ServerSession(
    () => undefined,
    () => undefined,
    () => ctx,
  );
  session.configure(init, init);
  const told = { messages: [] as [MessageType, string][], changes: [] as Parameters<CommandEnv['changed']>[0][] };
  const env: CommandEnv = {
    session,
    documents: new NixDocuments(),
    pinStates: new PinStates(
      () => ctx,
      () => undefined,
    ),
    workspaceFolders: [],
    signal: new AbortController().signal,
    progress: () => undefined,
    show: (type, message) => void told.messages.push([type, message]),
    log: () => undefined,
    changed: (what) => void told.changes.push(what),
    applyEdit: async () => undefined,
    ask: async () => undefined,
  };
  return { kubo, ctx, env, told };
}

async function failure(work: Promise<unknown>): Promise<ResponseError> {
  const error = await work.then(
    () => assert.fail('expected a ResponseError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ResponseError, String(error));
  return error;
}

test('arguments are checked: a missing or mistyped field is an InvalidParams error naming it', async () => {
  const { env } = environment();
  const missing = await failure(runCommand('unpin', {}, env));
  assert.equal(missing.code, NixIpfsError.InvalidParams);
  assert.match(missing.message, /^nixIpfs\.server\.unpin: 'hash' \(a string\) is missing/);
  assert.match((await failure(runCommand('publish', { paths: '/nix/store/x' }, env))).message, /'paths' must be a list of strings, not "\/nix\/store\/x"/);
  assert.match((await failure(runCommand('verify', 'target', env))).message, /its argument must be an object, not "target"/);
  assert.match(
    (await failure(runCommand('pinSource', { uri: 'file:///closed.nix', hashFrom: 0 }, env))).message,
    /file:\/\/\/closed\.nix is not open in the editor/,
  );
  assert.match(
    (await failure(runCommand('fetchSource', { hash: 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=', mode: 'tree' }, env))).message,
    /'mode' must be 'flat'/,
  );
});

test('an untrusted workspace refuses downloads, and an unconfirmed plain-HTTP API is refused before any request', async () => {
  const untrusted = environment({ trusted: false });
  assert.equal((await failure(runCommand('pinAll', {}, untrusted.env))).code, NixIpfsError.UntrustedWorkspace);
  const remote = environment({ kuboApi: 'http://192.0.2.7:5001' });
  const refused = await failure(runCommand('unpin', { hash: 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=' }, remote.env));
  assert.equal(refused.code, NixIpfsError.InsecureApiUnconfirmed);
  assert.deepEqual(refused.data, { api: 'http://192.0.2.7:5001' });
  remote.env.session.acceptInsecureApi('http://192.0.2.7:5001');
  assert.equal(
    (await failure(runCommand('unpin', { hash: 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=' }, remote.env))).code,
    NixIpfsError.Failed,
    'accepted: the work is tried',
  );
});

test('publishing without a signing key is refused with SigningKeyMissing, so the editor can ask what to do', async () => {
  const { env } = environment();
  const missing = await failure(runCommand('publish', { paths: ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x'] }, env));
  assert.equal(missing.code, NixIpfsError.SigningKeyMissing);
});

test('pin from a document, then unpin: the editor hears of each change with the pin state it made', async (t) => {
  const { kubo, env, told } = environment();
  const content = 'a source for the command test\n';
  const server = createServer((_, res) => res.end(content)).listen(0, '127.0.0.1');
  t.after(() => server.close());
  await new Promise((r) => server.once('listening', r));
  const sri = `sha256-${createHash('sha256').update(content).digest('base64')}`;
  const text = `{ fetchurl }: fetchurl { url = "http://127.0.0.1:${(server.address() as AddressInfo).port}/cmd-1.0.tar.gz"; hash = "${sri}"; }\n`;
  env.documents.open('file:///ws/cmd.nix', 1, text);

  const pinned = await runCommand('pinSource', { uri: 'file:///ws/cmd.nix', position: { line: 0, character: text.indexOf(sri) + 3 } }, env);
  assert.equal(pinned.status, 'pinned');
  assert.ok(kubo.pins.has(pinned.record.cid));
  assert.deepEqual(told.changes, [{ mirror: true, known: [[sri, { kind: 'pinned', cid: pinned.record.cid, record: pinned.record }]] }]);
  assert.deepEqual(told.messages.at(-1), [MessageType.Info, `Pinned: cmd-1.0.tar.gz → ${pinned.record.cid}`]);
  assert.equal(await runCommand('copyCid', { uri: 'file:///ws/cmd.nix', hashFrom: text.indexOf(sri) }, env), pinned.record.cid);

  const removed = await runCommand('unpin', { hash: sri }, env);
  assert.equal(removed.cid, pinned.record.cid);
  assert.ok(!kubo.pins.has(pinned.record.cid));
  assert.deepEqual(told.changes.at(-1), { mirror: true, known: [[sri, { kind: 'not-mirrored' }]] });
});

test('unpin of a source recorded by another machine removes its record and pin', async () => {
  const { kubo, ctx, env } = environment();
  const hash = new NixHash('sha256', new Uint8Array(32).fill(7));
  const { cid } = await kubo.add(new Uint8Array([1, 2, 3]), { pin: true });
  await recordMirror(kubo, ctx.layout, hash, { hash: hash.toSri(), cid, mode: 'flat', urls: [], size: 3, addedAt: '' });
  assert.equal((await runCommand('unpin', { hash: hash.toSri() }, env)).cid, cid);
  assert.equal(kubo.pins.size, 0);
});
