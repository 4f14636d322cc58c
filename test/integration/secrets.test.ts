// Credentials and keys never reach an output: the real CLI and language server against a real Kubo and Nix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { cli, run, type RunResult } from '../helpers/cli';
import { positionOf, startLsp } from '../helpers/lsp';
import { ServerCommand } from '../../src/protocol';
import { nixKeyPair, tempDir } from '../helpers/nix-env';

const USER = 'nixipfs';
const PASSWORD = `secretpw-${process.pid}`;
const WRONG_PASSWORD = 'secretpw-wrong';

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function assertNotShown(result: RunResult, secret: string, what: string): void {
  assert.ok(!result.stdout.includes(secret), `${what}: stdout shows the secret:\n${result.stdout}`);
  assert.ok(!result.stderr.includes(secret), `${what}: stderr shows the secret:\n${result.stderr}`);
}

/** The test's environment without the user's own Kubo address and token, plus `extra`. */
function withoutIpfsApi(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.IPFS_API;
  delete env.NIX_IPFS_KUBO_TOKEN;
  return { ...env, ...extra };
}

test('basic auth in the API URL (--api and IPFS_API) opens a real Kubo; no output ever shows the password', async () => {
  const secret = `basic:${USER}:${PASSWORD}`;
  const node = await startKuboNode({ apiAuth: secret, config: { 'API.Authorizations': { ci: { AuthSecret: secret, AllowedPaths: ['/api/v0'] } } } });
  const port = new URL(node.apiUrl).port;
  const api = (password: string, at = port) => `http://${USER}:${password}@127.0.0.1:${at}`;

  const ok = await cli(['status', '--api', api(PASSWORD)], { env: withoutIpfsApi() });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`Kubo \\S+ at http://127\\.0\\.0\\.1:${port}`));
  assertNotShown(ok, PASSWORD, 'status with basic auth');
  const okFromEnv = await cli(['status', '--json'], { env: withoutIpfsApi({ IPFS_API: api(PASSWORD) }) });
  assert.equal(okFromEnv.code, 0, okFromEnv.stderr);
  assertNotShown(okFromEnv, PASSWORD, 'status --json with IPFS_API');

  const dead = await deadPort();
  for (const [what, address, expected] of [
    ['wrong password', api(WRONG_PASSWORD), /refused .*HTTP 40[13].* NIX_IPFS_KUBO_TOKEN .*--token-file/],
    ['dead port', api(PASSWORD, String(dead)), new RegExp(`Kubo API at http://127\\.0\\.0\\.1:${dead} is not reachable`)],
  ] as const) {
    for (const json of [[], ['--json']]) {
      const viaFlag = await cli(['status', '--api', address, ...json], { env: withoutIpfsApi() });
      const viaEnv = await cli(['status', ...json], { env: withoutIpfsApi({ IPFS_API: address }) });
      for (const result of [viaFlag, viaEnv]) {
        assert.equal(result.code, 1, `${what}: ${result.stdout}`);
        assert.match(result.stderr, expected);
        assertNotShown(result, 'secretpw', what);
      }
    }
  }
});

test('the language server with credentials in kuboApi and a dead port: no message, log or reply shows the password', async () => {
  const dir = await tempDir();
  const lsp = await startLsp({ kuboApi: `http://${USER}:${PASSWORD}@127.0.0.1:${await deadPort()}`, hoverTimeoutMs: 2000, requestTimeoutMs: 2000 });
  const sri = 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=';
  const text = `{ fetchurl }: fetchurl { url = "http://127.0.0.1:9/x"; hash = "${sri}"; }\n`;
  const uri = await lsp.open(path.join(dir, 'secret.nix'), text);
  // An error reply is a reply too: it must not show the password either.
  const asReply = (error: Error) => ({ error: error.message });
  const hover = await lsp.request<unknown>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, sri, 10) }).catch(asReply);
  const fetched = await lsp
    .request<{ error?: string }>('workspace/executeCommand', { command: ServerCommand.fetchSource, arguments: [{ uri, hashFrom: text.indexOf(sri) }] })
    .catch(asReply);
  assert.match(fetched.error ?? '', /Kubo API at http:\/\/127\.0\.0\.1:\d+ is not reachable/);
  const lenses = await lsp.request<unknown>('textDocument/codeLens', { textDocument: { uri } }).catch(asReply);
  const everything = JSON.stringify({ hover, fetched, lenses, messages: lsp.messages, logs: lsp.logs, diagnostics: [...lsp.diagnostics] });
  assert.ok(!everything.includes(PASSWORD), `the server showed the password: ${everything}`);
});

test('nix-conf and verify refuse a secret key given as a public key, and garbage, without printing either', async () => {
  const dir = await tempDir();
  const node = await startKuboNode();
  const key = await nixKeyPair(dir, 'secrets-test-1');
  const secretText = (await readFile(key.secretFile, 'utf8')).trim();
  const secretBase64 = secretText.slice(secretText.indexOf(':') + 1);
  const garbage = 'garbage-name:this-is-not/a key at all';
  const common = ['--api', node.apiAddr, '--gateway', 'http://127.0.0.1:8080'];

  const nixConf = (publicKey: string, ...more: string[]) => cli(['nix-conf', ...common, '--public-key', publicKey, ...more], { env: withoutIpfsApi() });
  const verify = (trustedKey: string, ...more: string[]) =>
    cli(['verify', '/nix/store/00000000000000000000000000000000-x', ...common, '--no-nix-keys', '--trusted-key', trustedKey, ...more], {
      env: withoutIpfsApi(),
    });
  for (const run of [nixConf, verify]) {
    for (const json of [[], ['--json']]) {
      const secret = await run(secretText, ...json);
      assert.equal(secret.code, 1, secret.stdout);
      assert.match(
        secret.stderr,
        /public key 'secrets-test-1': this is a SECRET key; give its public key \(nix key convert-secret-to-public < sk, or nix-ipfs keygen\)/,
      );
      assertNotShown(secret, secretBase64, 'a secret key as a public key');
      assertNotShown(secret, secretBase64.slice(0, 12), 'a secret key as a public key');

      const bad = await run(garbage, ...json);
      assert.equal(bad.code, 1, bad.stdout);
      assert.match(bad.stderr, /public key 'garbage-name': .*not base64/);
      assertNotShown(bad, 'this-is-not', 'a garbage key');
    }
  }

  const good = await nixConf(key.publicKey);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, new RegExp(`^extra-trusted-public-keys = ${key.publicKey.replace(/[+/]/g, '\\$&')}$`, 'm'));
});

test('nix-conf refuses a gateway URL that carries credentials or is not a URL, without printing the password', async () => {
  const node = await startKuboNode();
  const withCredentials = await cli(['nix-conf', '--api', node.apiAddr, '--gateway', `http://${USER}:${PASSWORD}@127.0.0.1:8080`], { env: withoutIpfsApi() });
  assert.equal(withCredentials.code, 2, withCredentials.stdout);
  assert.match(withCredentials.stderr, /--gateway http:\/\/\*\*\*@127\.0\.0\.1:8080\/ carries credentials.*netrc/);
  assertNotShown(withCredentials, PASSWORD, 'a gateway with credentials');
  const notUrl = await cli(['nix-conf', '--api', node.apiAddr, '--gateway', 'notaurl'], { env: withoutIpfsApi() });
  assert.equal(notUrl.code, 2, notUrl.stdout);
  assert.match(notUrl.stderr, /--gateway takes an http\(s\) URL/);
});

test('the Kubo API token: from --token-file or NIX_IPFS_KUBO_TOKEN quietly, from --token with a warning, a refusal names both ways', async () => {
  const dir = await tempDir();
  const token = `tok-${process.pid}-${Date.now()}`;
  const node = await startKuboNode({
    apiAuth: `bearer:${token}`,
    config: { 'API.Authorizations': { ci: { AuthSecret: `bearer:${token}`, AllowedPaths: ['/api/v0'] } } },
  });
  const tokenFile = path.join(dir, 'kubo-token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const status = (args: string[], env: NodeJS.ProcessEnv = {}) => cli(['status', '--api', node.apiAddr, ...args], { env: withoutIpfsApi(env) });

  const fromFile = await status(['--token-file', tokenFile]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(fromFile.stderr, '');
  const fromEnv = await status([], { NIX_IPFS_KUBO_TOKEN: token });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(fromEnv.stderr, '');
  const inline = await status(['--token', token]);
  assert.equal(inline.code, 0, inline.stderr);
  assert.match(inline.stderr, /warning: --token is visible to every user of this machine .*NIX_IPFS_KUBO_TOKEN .*--token-file/);

  await chmod(tokenFile, 0o644);
  const readable = await status(['--token-file', tokenFile]);
  assert.equal(readable.code, 0, readable.stderr);
  assert.match(
    readable.stderr,
    new RegExp(`warning: the Kubo API token file ${tokenFile} can be read by other users \\(mode 644\\): run 'chmod 600 ${tokenFile}'`),
  );

  const none = await status([]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /refused .*HTTP 40[13].*NIX_IPFS_KUBO_TOKEN.*--token-file/);
  const both = await status(['--token', token, '--token-file', tokenFile]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--token-file or --token, not both/);
  for (const result of [fromFile, fromEnv, inline, readable, none, both]) assertNotShown(result, token, 'a token');
});

test('a signing key file other users can read is used with a warning to chmod 600', async () => {
  const dir = await tempDir();
  const node = await startKuboNode();
  const key = await nixKeyPair(dir, 'secrets-test-2');
  const nixConf = () => cli(['nix-conf', '--api', node.apiAddr, '--gateway', 'http://127.0.0.1:8080', '--key-file', key.secretFile], { env: withoutIpfsApi() });
  const private600 = await nixConf();
  assert.equal(private600.code, 0, private600.stderr);
  assert.doesNotMatch(private600.stderr, /warning/);
  await chmod(key.secretFile, 0o644);
  const readable = await nixConf();
  assert.equal(readable.code, 0, readable.stderr);
  assert.match(readable.stdout, new RegExp(`extra-trusted-public-keys = ${key.publicKey.replace(/[+/]/g, '\\$&')}`));
  assert.match(
    readable.stderr,
    new RegExp(`warning: the signing key ${key.secretFile} can be read by other users \\(mode 644\\): run 'chmod 600 ${key.secretFile}'`),
  );
});

test('keygen writes a pair Nix accepts, refuses to overwrite without --force, and never leaves half a pair', async () => {
  const dir = await tempDir();
  const secretFile = path.join(dir, 'cache.sk');
  const publicFile = path.join(dir, 'cache.pk');
  const made = await cli(['keygen', 'keygen-test-1', secretFile, publicFile]);
  assert.equal(made.code, 0, made.stderr);
  const publicKey = await readFile(publicFile, 'utf8');
  assert.equal(made.stdout.trim(), publicKey);
  assert.equal((await stat(secretFile)).mode & 0o777, 0o600);
  const converted = await run('nix', ['key', 'convert-secret-to-public'], { input: await readFile(secretFile, 'utf8') });
  assert.equal(converted.stdout.trim(), publicKey, converted.stderr);

  const again = await cli(['keygen', 'keygen-test-2', secretFile, publicFile]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /cache\.sk already exists: pass --force to replace it/);
  assert.equal(await readFile(publicFile, 'utf8'), publicKey, 'an existing key is kept');
  const forced = await cli(['keygen', 'keygen-test-2', secretFile, publicFile, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(await readFile(publicFile, 'utf8'), /^keygen-test-2:/);

  const lonelySecret = path.join(dir, 'lonely.sk');
  const failed = await cli(['keygen', 'keygen-test-3', lonelySecret, path.join(dir, 'missing-dir', 'lonely.pk')]);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /cannot write .*missing-dir\/lonely\.pk/);
  assert.deepEqual((await readdir(dir)).sort(), ['cache.pk', 'cache.sk'], 'no secret key without its public key, no temporary files');
});
