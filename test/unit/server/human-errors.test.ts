// What reaches the editor when something goes wrong: the language server says what happened and
// what to do, in words, with a code the editor can act on; never a parser's raw error, bytes or a
// second run of a command already running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseError } from 'vscode-languageserver';
import { NixIpfsError } from '../../../src/protocol';
import { runCommand } from '../../../src/server/commands';
import { nodeStatus } from '../../../src/server/listings';
import { commandEnvironment } from '../../helpers/command-env';

async function failure(work: Promise<unknown>): Promise<ResponseError> {
  const error = await work.then(
    () => assert.fail('expected a ResponseError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ResponseError, String(error));
  assert.doesNotMatch(error.message, /[\p{Cc}\p{Cf}]/u, 'no control character');
  return error;
}

test('Publish "hello": what a store path is, not a nix command line', async () => {
  const { env } = commandEnvironment();
  const error = await failure(runCommand('publish', { paths: ['hello'] }, env));
  assert.equal(error.code, NixIpfsError.Failed);
  assert.match(error.message, /^“hello” is not a store path: give \/nix\/store\/…-name, or the path of a result link/);
  const absent = await failure(runCommand('publish', { paths: ['/nix/store/0c6kzph7l0dcbfmjap64f0czdafn3b7x-hello-2.12.1'], allowUnsigned: true }, env));
  assert.match(absent.message, /is not in your Nix store: build or substitute it first$/);
});

test('Verify "abc", and Verify given a NAR\'s CID: each named for what it is', async () => {
  const { env, kubo } = commandEnvironment();
  assert.match((await failure(runCommand('verify', { target: 'abc' }, env))).message, /^“abc” is not a store path, a narinfo URL or a CID/);
  const length = Buffer.alloc(8);
  length.writeUInt32LE(13);
  const nar = Buffer.concat([length, Buffer.from('nix-archive-1\0\0\0'), length, Buffer.from('binary\0\0\xff\xfe')]);
  const { cid } = await kubo.add(new Uint8Array(nar));
  const message = (await failure(runCommand('verify', { target: cid }, env))).message;
  assert.match(message, /^\/ipfs\/\S+ is a NAR \(a store path's contents\), not its narinfo: give the narinfo's CID, URL/);
  assert.doesNotMatch(message, /nix-archive|binary/);
});

test('a node that does not answer: the error has its own code, for the editor to offer the settings', async () => {
  const { env } = commandEnvironment({ kuboApi: '/ip4/127.0.0.1/tcp/9', requestTimeoutMs: 1000 });
  const error = await failure(runCommand('unpin', { hash: 'sha256-jZkUKv2SV28wsM18tCqNxoCZmLxdYH2Idh9RLibH2yA=' }, env));
  assert.equal(error.code, NixIpfsError.KuboUnreachable);
  assert.deepEqual(error.data, { api: '/ip4/127.0.0.1/tcp/9' });
  assert.match(error.message, /Kubo API at .* is not reachable/);
});

test('the same command asked again while it runs joins the run under way', async () => {
  const { env } = commandEnvironment();
  const args = { storePath: '/nix/store/0c6kzph7l0dcbfmjap64f0czdafn3b7x-hello-2.12.1' };
  const first = runCommand('unpublish', args, env);
  const second = runCommand('unpublish', args, env);
  assert.equal(first, second);
  await first.catch(() => undefined);
  assert.equal(env.session.running.size, 0, 'once it ended, the next one runs afresh');
});

test('the node going away or coming back makes every pin state stale, once per change', async () => {
  const { session, told } = commandEnvironment({ kuboApi: '/ip4/127.0.0.1/tcp/9', requestTimeoutMs: 1000 });
  told.reasons.length = 0;
  const status = await nodeStatus(session);
  assert.equal(status.kubo.kind, 'unreachable');
  assert.deepEqual(status.signingKey, { kind: 'none' });
  await nodeStatus(session);
  assert.deepEqual(told.reasons, [], 'the first answer and an unchanged one change nothing');
  session.observeNode('connected');
  session.observeNode('connected');
  session.observeNode('unreachable');
  assert.deepEqual(told.reasons, ['node', 'node']);
  session.forgetNodeState();
  assert.deepEqual(told.reasons, ['node', 'node', 'node'], 'Refresh forgets too');
});

test('a bad mfsRoot is refused with a reason and does not stick: the settings before it stay, a good one applies', () => {
  const { session } = commandEnvironment({ kuboApi: '/ip4/127.0.0.1/tcp/9' }); // settings build the node
  session.configure({ mfsRoot: '/team-cache' });
  assert.throws(() => session.configure({ mfsRoot: 'relative/path' }), /mfsRoot: /);
  assert.equal(session.services().layout.root, '/team-cache');
  session.configure({ mfsRoot: '/nix-ipfs-2' });
  assert.equal(session.services().layout.root, '/nix-ipfs-2');
});

test("the node's own identity key is refused as nix-ipfs's IPNS key, in any editor", () => {
  const { session } = commandEnvironment({ kuboApi: '/ip4/127.0.0.1/tcp/9' });
  assert.throws(() => session.configure({ ipnsKeyName: 'self' }), /ipnsKeyName: self is the node's own identity key/);
  assert.equal(session.services().keyName, 'nix-ipfs');
});
