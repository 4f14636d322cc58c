import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets, safeUrl } from '../../../src/core/redact';
import { authorizationFor } from '../../../src/kubo/credentials';
import { parseKuboApi } from '../../../src/kubo/endpoint';

const basic = (userAndPassword: string) => `Basic ${Buffer.from(userAndPassword).toString('base64')}`;

test('safeUrl removes the credentials of a URL and keeps the rest', () => {
  assert.equal(safeUrl('http://user:secretpw@127.0.0.1:5001/api/v0'), 'http://***@127.0.0.1:5001/api/v0');
  assert.equal(safeUrl(new URL('https://tok3n@host.example/x?y=1')), 'https://***@host.example/x?y=1');
  assert.equal(safeUrl('http://127.0.0.1:5001'), 'http://127.0.0.1:5001');
  assert.equal(safeUrl('/ip4/127.0.0.1/tcp/5001'), '/ip4/127.0.0.1/tcp/5001');
  assert.equal(safeUrl('notaurl://u:p@'), 'notaurl://***@');
});

test('redactSecrets removes credentials from every URL in a message, passwords with @ included', () => {
  const message = 'Request cannot be constructed from a URL that includes credentials: http://user:secretpw@127.0.0.1:9/api/v0/id and https://a:b@c@host/x';
  const redacted = redactSecrets(message);
  assert.equal(redacted, 'Request cannot be constructed from a URL that includes credentials: http://***@127.0.0.1:9/api/v0/id and https://***@host/x');
  assert.equal(redactSecrets('nothing here: user@example.org, http://host/a@b'), 'nothing here: user@example.org, http://host/a@b');
});

test('credentials in an API URL become a basic-auth header and leave the URL', () => {
  const endpoint = parseKuboApi('http://user:secret%40pw@127.0.0.1:5001/api/v0/');
  assert.equal(endpoint.url.href, 'http://127.0.0.1:5001/');
  assert.equal(endpoint.authorization, basic('user:secret@pw'));
  assert.equal(parseKuboApi('/ip4/127.0.0.1/tcp/5001').authorization, undefined);
  assert.equal(parseKuboApi('http://127.0.0.1:5001').authorization, undefined);
});

test('a bad API address is refused without its credentials', () => {
  assert.throws(
    () => parseKuboApi('ftp://user:secretpw@127.0.0.1:5001'),
    (error: Error) => /is not a Kubo API address/.test(error.message) && !error.message.includes('secretpw'),
  );
  assert.throws(
    () => parseKuboApi('http://user:secretpw@[bad'),
    (error: Error) => /is not a Kubo API address/.test(error.message) && !error.message.includes('secretpw'),
  );
});

test("a token in each form users copy: Kubo's AuthSecret, a header value, a bare token", () => {
  assert.equal(authorizationFor('bearer:abc'), 'Bearer abc');
  assert.equal(authorizationFor('basic:user:pass:word'), basic('user:pass:word'));
  assert.equal(authorizationFor('Bearer abc'), 'Bearer abc');
  assert.equal(authorizationFor('Basic dXNlcjpwYXNz'), 'Basic dXNlcjpwYXNz');
  assert.equal(authorizationFor('abc\n'), 'Bearer abc');
});
