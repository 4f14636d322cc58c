import { createServer, type AddressInfo } from 'node:net';

/** A loopback port free at the moment of asking, for a server that cannot listen on port 0 and say where (nginx, code-server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}
