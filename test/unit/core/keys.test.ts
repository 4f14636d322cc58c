import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, parsePublicKey, parseSecretKey } from '../../../src/core/signature';

const pair = generateKeyPair('cache.example.org-1');
const secretPart = pair.secret.slice(pair.secret.indexOf(':') + 1);
const publicPart = pair.public.slice(pair.public.indexOf(':') + 1);

/** Asserts that parsing fails with `expected` and that the message repeats no part of the key. */
function refuses(parse: () => unknown, expected: RegExp, ...secrets: string[]): void {
  assert.throws(parse, (error: Error) => {
    assert.match(error.message, expected);
    for (const secret of secrets) assert.ok(!error.message.includes(secret), `the message repeats the key: ${error.message}`);
    return true;
  });
}

test('a secret key where a public key is expected is refused as a SECRET key, without repeating it', () => {
  refuses(
    () => parsePublicKey(pair.secret),
    /public key 'cache\.example\.org-1': this is a SECRET key; give its public key \(nix key convert-secret-to-public < sk, or nix-ipfs keygen\)/,
    secretPart,
    secretPart.slice(0, 16),
  );
  refuses(() => parsePublicKey(`${pair.secret}\n`), /SECRET key/, secretPart);
});

test('a public key where a secret key is expected is named as such', () => {
  refuses(() => parseSecretKey(pair.public), /secret key 'cache\.example\.org-1': this is a public key; give the secret key file/, publicPart);
});

test('garbage keys are refused, echoing at most the name', () => {
  refuses(() => parsePublicKey('name:not base64 at all!'), /public key 'name': .*not base64/, 'not base64 at all');
  refuses(() => parsePublicKey('name:QUJD'), /public key 'name': expected a 32-byte key, got 3 bytes/, 'QUJD');
  refuses(() => parsePublicKey(secretPart), /expected 'name:base64'/, secretPart.slice(0, 8));
  refuses(() => parsePublicKey(`${' x'.repeat(50)}:${secretPart}`), /public key \(with an unprintable or overlong name\): this is a SECRET key/, secretPart);
  refuses(() => parseSecretKey('name:abc'), /64-byte key/);
  refuses(() => parsePublicKey('nocolon'), /name:base64/);
});

test('a secret key whose public half does not match its seed is refused without repeating it', () => {
  const other = generateKeyPair('other');
  const seed = Buffer.from(secretPart, 'base64').subarray(0, 32);
  const foreignPublic = Buffer.from(other.public.slice(other.public.indexOf(':') + 1), 'base64');
  const mixed = Buffer.concat([seed, foreignPublic]).toString('base64');
  refuses(() => parseSecretKey(`mixed:${mixed}`), /secret key 'mixed': its public half does not match its seed/, mixed);
});

test('good keys still parse, surrounding whitespace included', () => {
  assert.equal(parsePublicKey(`${pair.public}\n`).name, 'cache.example.org-1');
  assert.equal(parseSecretKey(`${pair.secret}\n`).name, 'cache.example.org-1');
});
