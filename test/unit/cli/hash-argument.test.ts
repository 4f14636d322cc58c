import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cli } from '../../helpers/cli';

// nixpkgs' npm sources carry sha512 SRI hashes: the CLI must read them without --type.
const content = 'nix-ipfs sha512 fixture\n';
const sha512Hex = createHash('sha512').update(content).digest('hex');
const sha512Sri = `sha512-${createHash('sha512').update(content).digest('base64')}`;

test('cid reads the algorithm from an SRI or prefixed sha512 hash without --type', async () => {
  for (const form of [sha512Sri, `sha512:${sha512Hex}`]) {
    const result = await cli(['cid', form, '--json']);
    assert.equal(result.code, 0, `${form}: ${result.stderr}`);
    const json = JSON.parse(result.stdout);
    assert.equal(json.algo, 'sha512');
    assert.equal(json.sri, sha512Sri);
    assert.match(json.cid, /^bafkrgq/, 'a sha512 raw CID');
  }
});

test('hash converts an SRI sha512 hash without --type', async () => {
  const result = await cli(['hash', sha512Sri, '--to', 'base16']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), sha512Hex);
});

test('--type still names the algorithm of a bare digest', async () => {
  const result = await cli(['hash', sha512Hex, '--type', 'sha512', '--to', 'sri']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), sha512Sri);
  const withoutType = await cli(['hash', sha512Hex, '--to', 'sri']);
  assert.notEqual(withoutType.code, 0, 'a bare 128-digit digest is not a sha256 hash');
});

test('an explicit --type that contradicts the hash is refused', async () => {
  const result = await cli(['cid', sha512Sri, '--type', 'sha256']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /expected a sha256 hash, got sha512/);
});

test('an SRI hash of an unknown algorithm is named in the error', async () => {
  const result = await cli(['hash', 'blake3-AAAA', '--to', 'base16']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /unknown hash algorithm 'blake3'/);
});
