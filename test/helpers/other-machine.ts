import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

export interface OtherMachine {
  /** The API's URL as seen from this machine: plain HTTP to an address outside loopback. */
  url: string;
  /** Connections that reached the real API through it. */
  connections(): number;
}

let made = 0;

/**
 * A Kubo API that looks like it is on another machine, without leaving this one: a network
 * namespace of the test's own, reached over a veth pair, whose relay hands each connection to the
 * real API (on 127.0.0.1) through a Unix socket (a file, which namespaces do not separate).
 * Connections are counted on this side, so a test sees whether anything crossed.
 * Returns why it cannot, instead, when not root or without `ip` (iproute2).
 */
export async function startOtherMachine(apiUrl: string): Promise<OtherMachine | string> {
  if (process.getuid?.() !== 0) return 'a network namespace needs root (the root pass runs this)';
  if (spawnSync('ip', ['-V']).error) return "`ip` (Debian's iproute2) is missing";
  const api = new URL(apiUrl);
  const folder = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-other-'));
  const socketPath = path.join(folder, 'api.sock');
  let connections = 0;
  const sockets = new Set<Socket>();
  const relay = createServer((socket) => {
    connections++;
    pipeBoth(socket, connect(Number(api.port), api.hostname), sockets);
  }).listen(socketPath);
  await new Promise((resolve) => relay.once('listening', resolve));

  // Unique per process and call: test files run at once, each may make its own.
  const id = (process.pid * 4 + made++) % 16384;
  const [ns, hostSide, nsSide] = [`nix-ipfs-${process.pid}-${made}`, `nxi${id}h`, `nxi${id}n`];
  const subnet = `10.77.${id >> 6}.${(id & 63) * 4}`.split('.').map(Number);
  const address = (last: number) => [...subnet.slice(0, 3), subnet[3] + last].join('.');
  const ip = (...args: string[]) => {
    const result = spawnSync('ip', args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
  };
  const removeNamespace = () => {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', hostSide]);
  };
  removeNamespace();
  ip('netns', 'add', ns);
  ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
  ip('link', 'set', nsSide, 'netns', ns);
  ip('addr', 'add', `${address(1)}/30`, 'dev', hostSide);
  ip('link', 'set', hostSide, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address(2)}/30`, 'dev', nsSide);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', nsSide, 'up');

  const inside = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', RELAY, address(2), socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    inside.stdout.once('data', (data: Buffer) => resolve(data.toString().trim()));
    inside.once('exit', (code) => reject(new Error(`the relay in ${ns} exited with ${code}`)));
  });
  after(async () => {
    inside.kill();
    sockets.forEach((s) => s.destroy());
    relay.close();
    removeNamespace();
    await rm(folder, { recursive: true, force: true });
  });
  return { url: `http://${address(2)}:${port}`, connections: () => connections };
}

function pipeBoth(a: Socket, b: Socket, open: Set<Socket>): void {
  for (const s of [a, b]) {
    open.add(s);
    s.on('error', () => (a.destroy(), b.destroy()));
    s.on('close', () => open.delete(s));
  }
  a.pipe(b).pipe(a);
}

/** Runs inside the namespace: TCP on the namespace's address → the Unix socket. */
const RELAY = `
const net = require('node:net');
const [address, socketPath] = process.argv.slice(1);
const server = net.createServer((client) => {
  const api = net.connect(socketPath);
  for (const s of [client, api]) s.on('error', () => (client.destroy(), api.destroy()));
  client.pipe(api).pipe(client);
}).listen(0, address, () => console.log(server.address().port));
`;
