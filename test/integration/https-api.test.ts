// A Kubo RPC API behind TLS, as a team exposes a node to its machines (Debian's nginx in front of the
// real node): every call goes over https, the streamed batch adds included, and a certificate the
// machine does not trust is named as such, with the way to trust it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startKuboNode } from '../helpers/kubo';
import { cli } from '../helpers/cli';
import { buildClosure, tempDir } from '../helpers/nix-env';
import { startTlsProxy } from '../helpers/tls-proxy';

test('publish, verify and status through a Kubo API behind TLS', async () => {
  const node = await startKuboNode();
  const proxy = await startTlsProxy(node.apiUrl);
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: proxy.certificate };
  const { app, dep } = await buildClosure(await tempDir());

  const published = await cli(['publish', app, '--api', proxy.url, '--json'], { env });
  assert.equal(published.code, 0, published.stderr);
  assert.deepEqual((JSON.parse(published.stdout) as { paths: { storePath: string }[] }).paths.map((p) => p.storePath).sort(), [app, dep].sort());
  const requests = await proxy.requests();
  assert.ok(
    requests.some((line) => line.includes('"POST /api/v0/add?') && line.includes('to-files=')),
    `the NARs went in by a batch add through the TLS proxy:\n${requests.join('\n')}`,
  );

  // Unsigned, so not trusted (exit 1): what matters here is that the NAR was read back whole over TLS.
  const verified = await cli(['verify', dep, '--api', proxy.url, '--json'], { env });
  assert.equal((JSON.parse(verified.stdout) as { nar: { ok: boolean } }).nar.ok, true, verified.stderr + verified.stdout);
  const status = await cli(['status', '--api', proxy.url], { env });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /nix-ipfs-app/);
});

test('an API certificate this machine does not trust is named, with how to trust it', async () => {
  const node = await startKuboNode();
  const proxy = await startTlsProxy(node.apiUrl);
  const { app } = await buildClosure(await tempDir());
  for (const args of [['status'], ['publish', app]]) {
    const result = await cli([...args, '--api', proxy.url]);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /TLS certificate[\s\S]*self-signed[\s\S]*NODE_EXTRA_CA_CERTS/, result.stderr);
    assert.doesNotMatch(result.stderr, /Is the daemon running/);
  }
  assert.deepEqual(await proxy.requests(), [], 'nothing reached Kubo');
});
