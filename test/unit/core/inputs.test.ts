// What users type where nix-ipfs asks for something: each mistake gets a message in words, the
// same in VS Code's input boxes and from the language server; nothing raw reaches a notification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hashProblem,
  keyNameProblem,
  printableMessage,
  publishTargetProblem,
  quoteInput,
  replicateTargetProblem,
  verifyTargetProblem,
} from '../../../src/core/inputs';

const storePath = '/nix/store/0c6kzph7l0dcbfmjap64f0czdafn3b7x-hello-2.12.1';
const cid = 'bafkreientekcv7msk5xtbmgnps2cvdogqcmzrpc5mb6yq5q7kexcnr63ea';

/** A message fit for a notification: printable, without a stack trace or a command line. */
function human(message: string | undefined): string {
  assert.ok(message, 'a problem is reported');
  assert.doesNotMatch(message, /[\p{Cc}\p{Cf}]/u, 'no control character');
  assert.doesNotMatch(message, /\n\s+at |\s--[a-z]/, 'no stack trace or command-line option');
  return message;
}

test('Publish takes a store path or a link to one; a bare name is refused in words', () => {
  assert.equal(publishTargetProblem(storePath), undefined);
  assert.equal(publishTargetProblem('./result'), undefined);
  assert.equal(publishTargetProblem('/home/me/project/result'), undefined);
  assert.match(human(publishTargetProblem('hello')), /^“hello” is not a store path: give \/nix\/store\/…-name, or the path of a result link/);
  assert.match(human(publishTargetProblem('/nix/store/short-x')), /is not a store path: expected 32 Nix base32 characters/);
  assert.match(human(publishTargetProblem('  ')), /^Type a store path/);
});

test('Verify takes a store path, a narinfo URL or IPFS path, or a CID; "abc" gets no list of multibase prefixes', () => {
  for (const fine of [storePath, 'https://cache.example.org/abc.narinfo', '/ipfs/bafy/x.narinfo', cid])
    assert.equal(verifyTargetProblem(fine), undefined, fine);
  const abc = human(verifyTargetProblem('abc'));
  assert.match(abc, /^“abc” is not a store path, a narinfo URL or a CID/);
  assert.doesNotMatch(abc, /prefix|multibase/);
  assert.ok(!abc.includes(String.fromCharCode(0)));
  assert.match(human(verifyTargetProblem(`b${'1'.repeat(58)}`)), /is not a store path, a narinfo URL or a CID/, 'CID-shaped but not decodable');
});

test('Replicate, Fetch and key names: each bad input named, with what to give instead', () => {
  assert.equal(replicateTargetProblem('/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'), undefined);
  assert.match(human(replicateTargetProblem('my cache')), /is not a cache: give \/ipns\/k51…, a CID/);
  assert.equal(hashProblem('sha256-jZkUKv2SV28wsM18tCqNxoCZmLxdYH2Idh9RLibH2yA='), undefined);
  assert.equal(hashProblem('086vqwk2wl8zfs47sq2xpjc9k066ilmb8z6dn0q6ymwjzlm196cd'), undefined);
  assert.match(human(hashProblem('abc')), /^“abc” is not a hash: expected 52 Nix base32, 64 base16 or 44 base64 characters for sha256, got 3$/);
  assert.equal(keyNameProblem('myhost-nix-ipfs-1'), undefined);
  assert.match(human(keyNameProblem('my key')), /without spaces/);
  assert.match(human(keyNameProblem('a:b')), /“:”/);
});

test('what a user typed is quoted without control characters; a message loses them but keeps its lines', () => {
  assert.equal(quoteInput('a\u0000b\u001b[31mc'), '“ab[31mc”');
  assert.equal(quoteInput('x'.repeat(100)).length, 62);
  assert.equal(printableMessage('line one\nline\u0000 two\u200b\uFFFD\uFFFD'), 'line one\nline two�');
  assert.ok(printableMessage('y'.repeat(10_000)).length <= 4000);
});
