// Sources served on loopback for the fill tests: files and archives over HTTP, git repositories by file://.
import { createReadStream } from 'node:fs';
import { chmod, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after } from 'node:test';
import { run } from './cli';

export interface FileServer {
  /** The URL of a file below the served folder. */
  url(name: string): string;
  /** URLs every request asked for, in order. */
  requested: string[];
  /** Resolves at the next request whose path starts with `prefix`. */
  nextRequest(prefix: string): Promise<IncomingMessage>;
}

/**
 * Serves a folder over HTTP on 127.0.0.1 (closed after the test file). `/html/…` answers a web
 * page with status 200, as a login wall does; `/hang/…` never answers.
 */
export async function serveFolder(root: string): Promise<FileServer> {
  const requested: string[] = [];
  let waiting: { prefix: string; resolve: (r: IncomingMessage) => void }[] = [];
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent(req.url ?? '/');
    requested.push(url);
    const matched = waiting.filter((w) => url.startsWith(w.prefix));
    waiting = waiting.filter((w) => !matched.includes(w));
    matched.forEach((w) => w.resolve(req));
    if (url.startsWith('/hang/')) return;
    if (url.startsWith('/html/')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html>\n<html><body>Please sign in</body></html>\n');
      return;
    }
    const file = path.join(root, url);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || !file.startsWith(root)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': info.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    requested,
    nextRequest: (prefix) => new Promise((resolve) => waiting.push({ prefix, resolve })),
  };
}

/**
 * A source tree with what a NAR must get right: an executable, a symlink, an empty folder, nested
 * folders, and names that sort differently bytewise than by locale (`B` before `a`, UTF-8).
 */
export async function makeTree(root: string, tag: string): Promise<void> {
  await mkdir(path.join(root, 'src/deep'), { recursive: true });
  await mkdir(path.join(root, 'empty'));
  await writeFile(path.join(root, 'README'), `a source tree ${tag}\n`);
  await writeFile(path.join(root, 'B-upper'), 'sorts before a-lower\n');
  await writeFile(path.join(root, 'a-lower'), 'sorts after B-upper\n');
  await writeFile(path.join(root, 'ünïcode.txt'), 'utf-8 name\n');
  await writeFile(path.join(root, 'src/deep/main.c'), `int main() { return 0; } /* ${tag} */\n`);
  await writeFile(path.join(root, 'run.sh'), '#!/bin/sh\necho run\n');
  await chmod(path.join(root, 'run.sh'), 0o755);
  await symlink('README', path.join(root, 'link-to-readme'));
}

/** Runs a program; throws with its stderr when it fails. */
export async function must(cmd: string, args: string[], cwd?: string): Promise<string> {
  const result = await run(cmd, args, {
    cwd,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  });
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** A git repository holding `tree`'s files, committed; returns the commit. */
export async function commitAll(repo: string, message: string): Promise<string> {
  await must('git', ['add', '-A'], repo);
  await must('git', ['commit', '-q', '-m', message], repo);
  return must('git', ['rev-parse', 'HEAD'], repo);
}

export async function gitInit(repo: string): Promise<void> {
  await mkdir(repo, { recursive: true });
  await must('git', ['init', '-q', '-b', 'main', repo]);
}
