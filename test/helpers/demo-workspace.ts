import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './cli';

/** The address examples/*.nix name: where the demo serves examples/upstream/ when the port is free. */
const EXAMPLES_ORIGIN = 'http://127.0.0.1:8790';
const examples = path.join(repoRoot, 'examples');

export interface DemoWorkspace {
  /** A copy of examples/, its URLs pointing at `origin`. */
  workspace: string;
  /** Where examples/upstream/ is served: the sources every .nix file of the workspace fetches. */
  origin: string;
  /** Makes the server answer 503 (a source host that is down), or serve again. */
  setAvailable(available: boolean): void;
  /** Stops the server and removes the copy. */
  stop(): Promise<void>;
}

/**
 * The sample workspace `npm run demo` and the e2e suite open: examples/ copied to a temporary
 * folder, with its sources served on loopback, so that pinning, building and publishing all work
 * offline. Port 8790 when it is free; else another, and the copy's URLs say which.
 */
export async function startDemoWorkspace(): Promise<DemoWorkspace> {
  let available = true;
  const server = createServer((request, response) => {
    const name = path.basename(decodeURIComponent(new URL(request.url ?? '/', EXAMPLES_ORIGIN).pathname));
    if (!available) return void response.writeHead(503).end('the demo source host is down\n');
    try {
      response.end(readFileSync(path.join(examples, 'upstream', name)));
    } catch {
      response.writeHead(404).end('not found\n');
    }
  });
  const port = await listen(server, Number(new URL(EXAMPLES_ORIGIN).port)).catch(() => listen(server, 0));
  const origin = `http://127.0.0.1:${port}`;
  const base = mkdtempSync(path.join(tmpdir(), 'nix-ipfs-demo-'));
  const workspace = path.join(base, 'examples');
  cpSync(examples, workspace, { recursive: true });
  for (const file of readdirSync(workspace).filter((f) => f.endsWith('.nix'))) {
    const where = path.join(workspace, file);
    writeFileSync(where, readFileSync(where, 'utf8').replaceAll(EXAMPLES_ORIGIN, origin));
  }
  return {
    workspace,
    origin,
    setAvailable: (value) => void (available = value),
    stop: async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
