import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { after } from 'node:test';

export type Fault =
  /** Forward unchanged. */
  | { kind: 'pass' }
  /** Forward, but flip a byte in the body of responses whose path matches. */
  | { kind: 'corrupt'; path: RegExp }
  /** Accept the connection and never answer. */
  | { kind: 'stall' }
  /**
   * Forward everything, but once `passing` answers to requests whose path matches have gone back,
   * hold every later answer: the node does the work it is handed, and the client never hears of it.
   */
  | { kind: 'hold-after'; path: RegExp; passing: number };

/**
 * A fault-injecting HTTP proxy in front of a real Kubo API or gateway (the only kind of fake the
 * project allows): it forwards to the real node and breaks what it is told to.
 */
export async function startFaultProxy(
  target: string,
  fault: Fault,
): Promise<{ url: string; multiaddr: string; setFault(f: Fault): void; requests(): number; mostAtOnce(): number; holding(): Promise<void> }> {
  const upstream = new URL(target);
  let current = fault;
  let requests = 0;
  let inFlight = 0;
  let mostAtOnce = 0;
  let answered = 0;
  let startHolding!: () => void;
  const holding = new Promise<void>((resolve) => (startHolding = resolve));
  let held = false;
  const stalled: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests++;
    mostAtOnce = Math.max(mostAtOnce, ++inFlight);
    res.once('close', () => inFlight--);
    if (current.kind === 'stall') {
      stalled.push(req);
      return;
    }
    const mode = current;
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        if (held) return void stalled.push(req);
        const counted = mode.kind === 'hold-after' && mode.path.test(req.url ?? '');
        if (counted) answer.once('end', () => ++answered >= mode.passing && ((held = true), startHolding()));
        const corrupt = mode.kind === 'corrupt' && mode.path.test(req.url ?? '');
        const headers = { ...answer.headers };
        res.writeHead(answer.statusCode ?? 502, headers);
        let flipped = false;
        answer.on('data', (chunk: Buffer) => {
          if (corrupt && !flipped && chunk.length > 0) {
            const copy = Buffer.from(chunk);
            copy[Math.floor(copy.length / 2)] ^= 0xff;
            flipped = true;
            res.write(copy);
          } else res.write(chunk);
        });
        answer.on('end', () => res.end());
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  after(() => {
    stalled.forEach((r) => r.socket.destroy());
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    multiaddr: `/ip4/127.0.0.1/tcp/${port}`,
    setFault: (f) => (current = f),
    requests: () => requests,
    mostAtOnce: () => mostAtOnce,
    holding: () => holding,
  };
}
