// Starts a private Kubo node on loopback: its own IPFS_PATH, API/gateway/swarm on random
// 127.0.0.1 ports, no bootstrap peers, no routing, no telemetry. Used by the test rig and
// the demo. Node built-ins only.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The ipfs binary: $NIX_IPFS_KUBO_BIN, else the one scripts/build-kubo.sh builds (or has cached). */
function kuboBin() {
  if (!process.env.NIX_IPFS_KUBO_BIN) {
    const script = new URL('./build-kubo.sh', import.meta.url).pathname;
    process.env.NIX_IPFS_KUBO_BIN = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  }
  return process.env.NIX_IPFS_KUBO_BIN;
}

/**
 * @param {{ dir?: string, offline?: boolean, config?: Record<string, unknown>, keep?: boolean, apiAuth?: string, prepare?: (ipfsPath: string) => Promise<void> }} [options]
 *   dir: IPFS_PATH to use (initialised when empty; kept on stop); offline: `ipfs daemon --offline`
 *   (default true; false lets nodes `swarm connect` for bitswap); config: extra `ipfs config --json` settings;
 *   apiAuth: the `--api-auth` secret the CLI needs when API.Authorizations is set; prepare: runs once a new
 *   repository is initialised and configured, before its daemon first starts (e.g. to join a private network).
 */
export async function startKuboNode(options = {}) {
  const bin = kuboBin();
  const ipfsPath = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'nix-ipfs-kubo-')));
  const env = { ...process.env, IPFS_PATH: ipfsPath, IPFS_TELEMETRY: 'off' };
  delete env.IPFS_API;
  const cli = async (args, input) => {
    const daemonRunning = node?.daemon && node.daemon.exitCode === null;
    const auth = options.apiAuth && daemonRunning ? [`--api-auth=${options.apiAuth}`] : [];
    const child = execFileAsync(bin, [...auth, ...args], { env, maxBuffer: 64 << 20, encoding: 'utf8' });
    if (input !== undefined) {
      child.child.stdin.end(input);
    }
    return (await child).stdout;
  };

  let node;
  const initialised = await access(path.join(ipfsPath, 'config')).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    await cli(['init', '--profile', 'test']);
    const settings = {
      'Routing.Type': 'none',
      Bootstrap: [],
      'Discovery.MDNS.Enabled': false,
      'AutoConf.Enabled': false,
      'AutoTLS.Enabled': false,
      'Swarm.RelayClient.Enabled': false,
      'Swarm.RelayService.Enabled': false,
      'Addresses.Swarm': ['/ip4/127.0.0.1/tcp/0'],
      'Addresses.API': '/ip4/127.0.0.1/tcp/0',
      'Addresses.Gateway': '/ip4/127.0.0.1/tcp/0',
      ...options.config,
    };
    for (const [key, value] of Object.entries(settings)) {
      await cli(['config', '--json', key, JSON.stringify(value)]);
    }
    await options.prepare?.(ipfsPath);
  }

  node = { ipfsPath, env, cli, bin, daemon: null, apiAddr: '', apiUrl: '', gatewayUrl: '', peerId: '', swarmAddrs: [] };

  node.start = async () => {
    const args = ['daemon', ...(options.offline === false ? [] : ['--offline'])];
    const daemon = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    node.daemon = daemon;
    let output = '';
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Kubo did not start within 60 s:\n${output}`)), 60_000);
      const onData = (chunk) => {
        output += chunk;
        const api = /RPC API server listening on (\S+)/.exec(output);
        const gateway = /Gateway server listening on (\S+)/.exec(output);
        if (api && gateway && output.includes('Daemon is ready')) {
          clearTimeout(timer);
          node.apiAddr = api[1];
          node.apiUrl = multiaddrToUrl(api[1]);
          node.gatewayUrl = multiaddrToUrl(gateway[1]);
          resolve();
        }
      };
      daemon.stdout.setEncoding('utf8').on('data', onData);
      daemon.stderr.setEncoding('utf8').on('data', onData);
      daemon.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Kubo exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
    const id = JSON.parse(await cli(['id']));
    node.peerId = id.ID;
    node.swarmAddrs = (id.Addresses ?? []).filter((a) => a.startsWith('/ip4/127.0.0.1/'));
    return node;
  };

  /** Stops the daemon (SIGTERM, or the given signal) and waits for it to exit. */
  node.stop = async (signal = 'SIGTERM') => {
    const daemon = node.daemon;
    if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
    await new Promise((resolve) => {
      const timer = setTimeout(() => daemon.kill('SIGKILL'), 15_000);
      daemon.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      daemon.kill(signal);
    });
  };

  node.restart = async () => {
    await node.stop();
    return node.start();
  };

  /** Stops the daemon and removes a temporary IPFS_PATH. */
  node.dispose = async () => {
    await node.stop();
    if (!options.dir && !options.keep) await rm(ipfsPath, { recursive: true, force: true });
  };

  /** Connects this node to another one over loopback (both must run without --offline). */
  node.connect = async (other) => {
    await cli(['swarm', 'connect', `${other.swarmAddrs[0]}/p2p/${other.peerId}`]);
  };

  return node.start();
}

/** `/ip4/127.0.0.1/tcp/5001` → `http://127.0.0.1:5001`. */
export function multiaddrToUrl(addr) {
  const match = /^\/ip([46])\/([^/]+)\/tcp\/(\d+)/.exec(addr);
  if (!match) throw new Error(`cannot turn ${addr} into a URL`);
  const host = match[1] === '6' ? `[${match[2]}]` : match[2];
  return `http://${host}:${match[3]}`;
}
