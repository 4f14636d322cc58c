import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startKuboNode } from '../helpers/kubo';

test('a private Kubo node adds and cats a file through its RPC API', async () => {
  const node = await startKuboNode();
  const form = new FormData();
  form.append('file', new Blob(['hello from nix-ipfs\n']), 'hello.txt');
  const added = await fetch(`${node.apiUrl}/api/v0/add?cid-version=1&raw-leaves=true`, { method: 'POST', body: form });
  assert.equal(added.status, 200);
  const { Hash } = (await added.json()) as { Hash: string };
  assert.match(Hash, /^bafkrei/);
  const cat = await fetch(`${node.apiUrl}/api/v0/cat?arg=${Hash}`, { method: 'POST' });
  assert.equal(await cat.text(), 'hello from nix-ipfs\n');
  const viaGateway = await fetch(`${node.gatewayUrl}/ipfs/${Hash}`);
  assert.equal(await viaGateway.text(), 'hello from nix-ipfs\n');
});

test('two private nodes connected on loopback exchange blocks over bitswap', async () => {
  const [a, b] = await Promise.all([startKuboNode({ offline: false }), startKuboNode({ offline: false })]);
  await b.connect(a);
  const cid = (await a.cli(['add', '-Q', '--cid-version=1', '--pin=false', '-'], 'only on node A\n')).trim();
  assert.equal(await b.cli(['cat', cid]), 'only on node A\n');
});
