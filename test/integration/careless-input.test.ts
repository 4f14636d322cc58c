// The CLI given careless input: every mistake ends with a message that says what is wrong and what
// to do (exit 2 for bad usage), never a JavaScript error, a bare "fetch failed" or a raw command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after } from 'node:test';
import { startKuboNode } from '../helpers/kubo';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/nix-env';

const node = await startKuboNode();
const dir = await tempDir('nix-ipfs-careless-');
const someHash = `sha256:${'1'.repeat(64)}`;
const pinUrl = (url: string) => cli(['pin', '--url', url, '--hash', someHash, '--api', node.apiAddr]);

/** A server on 127.0.0.1 that answers every request with an HTML page, as a gateway or a web server would. */
async function htmlServer(): Promise<string> {
  const server = createServer((_, res) => res.end('<html><body>hello</body></html>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('download URLs that cannot work are named with the reason', async () => {
  const proto = await pinUrl('mirror://__proto__/x');
  assert.equal(proto.code, 1);
  assert.match(proto.stdout, /mirror:\/\/__proto__\/x: nixpkgs has no mirror site '__proto__'/);
  assert.doesNotMatch(proto.stdout + proto.stderr, /is not a function/);

  const invalid = await pinUrl('http://[zz/x');
  assert.match(invalid.stdout, /'http:\/\/\[zz\/x' is not a valid URL/);

  const port = await closedPort();
  const refused = await pinUrl(`http://127.0.0.1:${port}/x`);
  assert.match(refused.stdout, new RegExp(`the download from http://127\\.0\\.0\\.1:${port}/x could not start: fetch failed: connect ECONNREFUSED`));
});

test('a server that is not Kubo is named as such, not as a JSON parse error', async () => {
  const api = await htmlServer();
  for (const args of [['status'], ['fetch', someHash], ['replicate', 'bafkreie5kzgnw7hj7nl6ew7kodv6xsijnrrkwrngdhbotp7ql2fhlyd3zu']]) {
    const result = await cli([...args, '--api', api]);
    assert.equal(result.code, 1, args[0]);
    assert.match(
      result.stderr,
      new RegExp(`the server at ${api} answered 'version' with something other than the Kubo RPC API's JSON .*check that --api names Kubo's RPC API`),
    );
  }
});

test('a bad --type, a path that is no folder, a store path that is not built: what is wrong and what to do', async () => {
  const type = await cli(['fetch', 'abc', '--type', 'sha999', '--api', node.apiAddr]);
  assert.equal(type.code, 2);
  assert.match(type.stderr, /--type takes md5, sha1, sha256 or sha512, not 'sha999'/);
  assert.doesNotMatch(type.stderr, /NaN/);

  const scan = await cli(['scan', '/dev/null']);
  assert.equal(scan.code, 1);
  assert.match(scan.stderr, /\/dev\/null is neither a directory nor a file: name a directory or a \.nix file/);

  const unbuilt = await cli(['publish', `/nix/store/${'a'.repeat(32)}-never-built`, '--api', node.apiAddr]);
  assert.equal(unbuilt.code, 1);
  assert.match(unbuilt.stderr, /is not in this Nix store \(not built yet, or garbage-collected\): build it first/);
  assert.doesNotMatch(unbuilt.stderr, /--extra-experimental-features|path-info/);
});

test('a Nix failure names the command, not its whole command line', async () => {
  const broken = path.join(dir, 'broken.nix');
  await writeFile(broken, 'derivation { name = "broken"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "exit 3" ]; }\n');
  const result = await cli(['publish', broken, '--api', node.apiAddr]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /'nix-build' failed: error: /);
  assert.doesNotMatch(result.stderr, /--no-out-link/);
});

test('--root /, a control character in --root, and --key-name self are refused', async () => {
  for (const [args, message] of [
    [['--root', '/'], /--root: MFS root '\/' must be an absolute MFS path below \//],
    [['--root', '/nix-ipfs\nx'], /--root: MFS root '\/nix-ipfs\\nx' must be/],
    [['--key-name', 'self'], /--key-name: self is the node's own identity key/],
  ] as const) {
    const result = await cli(['status', ...args, '--api', node.apiAddr]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
  }
});

test('arguments beyond what a command takes are refused, not ignored', async () => {
  const api = ['--api', node.apiAddr];
  for (const args of [
    ['status', 'extra', ...api],
    ['cid', someHash, 'extra'],
    ['fetch', someHash, 'extra', ...api],
    ['scan', dir, 'extra'],
    ['pin', '--url', 'http://127.0.0.1:9/x', '--hash', someHash, 'file.nix', ...api],
  ]) {
    const result = await cli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /unexpected argument|leave out 'file\.nix'/);
  }
  const spaced = await cli(['fetch', someHash, '--name', 'my', 'source', '--api', node.apiAddr]);
  assert.match(
    spaced.stderr,
    /unexpected argument 'source': nix-ipfs fetch takes at most one argument besides its options \(quote a value that holds spaces\)/,
  );
});
