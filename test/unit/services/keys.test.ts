// One rule decides which key signs: a key handed over as text (VS Code's secret store) wins over
// the key file; the status says which, from where, and which file it shadows, never the secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair } from '../../../src/core/signature';
import { loadSigningKey, signingKeyStatus } from '../../../src/services/keys';

test('the stored key wins over the file, and the status names the file it shadows', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-keys-'));
  const fromFile = generateKeyPair('file-key-1');
  const stored = generateKeyPair('stored-key-1');
  const file = path.join(dir, 'sk');
  await writeFile(file, `${fromFile.secret}\n`, { mode: 0o600 });

  assert.deepEqual(await signingKeyStatus('', ''), { kind: 'none' });
  assert.equal(await loadSigningKey('', ''), undefined);
  assert.deepEqual(await signingKeyStatus('', file), {
    kind: 'active',
    from: 'file',
    name: 'file-key-1',
    publicKey: fromFile.public,
    file,
    shadowedFile: undefined,
  });
  assert.equal((await loadSigningKey('', file))!.name, 'file-key-1');
  const both = await signingKeyStatus(stored.secret, file);
  assert.deepEqual(both, { kind: 'active', from: 'secret-store', name: 'stored-key-1', publicKey: stored.public, file: undefined, shadowedFile: file });
  assert.equal((await loadSigningKey(stored.secret, file))!.name, 'stored-key-1');
  assert.ok(!JSON.stringify(both).includes(stored.secret.split(':')[1]), 'the status never holds the secret');
});

test('a key that cannot be used is a state that says why, not an exception', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-keys-'));
  const missing = path.join(dir, 'none');
  const broken = await signingKeyStatus('', missing);
  assert.equal(broken.kind, 'broken');
  assert.match((broken as { error: string }).error, /cannot read the signing key file .*none \(nixIpfs\.signingKeyFile\): it does not exist/);
  const publicOnly = path.join(dir, 'pk');
  await writeFile(publicOnly, generateKeyPair('k').public);
  await chmod(publicOnly, 0o600);
  assert.match(((await signingKeyStatus('', publicOnly)) as { error: string }).error, /this is a public key; give the secret key file/);
});
