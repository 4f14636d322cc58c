import { randomBytes } from 'node:crypto';
import { chmod, copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Kubo } from '../kubo/client';
import type { ServiceContext } from './context';

/** The only swarm key format Kubo reads: a 32-byte pre-shared key, hex-encoded. */
const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n';
const SWARM_KEY = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n([0-9a-fA-F]{64})\s*$/;

/** A service context whose node is the real RPC client: the team commands use calls beyond the common ones. */
export type TeamContext = Omit<ServiceContext, 'kubo'> & { kubo: Kubo };

export function teamContext(ctx: ServiceContext): TeamContext {
  if (!(ctx.kubo instanceof Kubo)) throw new Error('the team network commands need a Kubo RPC client');
  return ctx as TeamContext;
}

/** A new private-network key, in the format of Kubo's `swarm.key`. */
export function generateSwarmKey(): string {
  return `${SWARM_KEY_HEADER}${randomBytes(32).toString('hex')}\n`;
}

/** The key's text as Kubo writes it, or an error that says what is wrong without showing the key. */
export function parseSwarmKey(text: string, source: string): string {
  const match = SWARM_KEY.exec(text);
  if (!match) {
    throw new Error(
      `${source} is not a swarm key: expected the three lines '/key/swarm/psk/1.0.0/', '/base16/' and 64 hex digits (made by 'nix-ipfs network init')`,
    );
  }
  const [, hex = ''] = match;
  return `${SWARM_KEY_HEADER}${hex.toLowerCase()}\n`;
}

/**
 * A teammate's node as Bootstrap takes it: a TCP address ending in its peer ID. Private networks
 * only run over TCP (Kubo refuses QUIC, WebTransport and WebRTC with a swarm key).
 */
export function checkPeerAddress(address: string): string {
  if (!/^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+\/p2p\/[1-9A-HJ-NP-Za-km-z]{40,}$/.test(address)) {
    const udp = /\/udp\//.test(address) ? ' (private networks run over TCP only: use its /tcp/ address)' : '';
    throw new Error(
      `--peer ${address} is not a teammate's address like /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW…${udp}; 'ipfs id' on that machine lists its addresses`,
    );
  }
  return address;
}

/** The Kubo repository to change: --repo, else $IPFS_PATH, else ~/.ipfs (where Kubo itself looks). */
export function kuboRepoPath(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(given || env.IPFS_PATH || path.join(homedir(), '.ipfs'));
}

/** One change `network join` makes, described for the user before it is made. */
export interface ConfigChange {
  /** The config key (dotted), or `swarm.key` for the key file. */
  key: string;
  from: unknown;
  to: unknown;
  why: string;
}

export interface JoinPlan {
  repo: string;
  swarmKey: string;
  changes: ConfigChange[];
  /** The repository's config with the changes applied. */
  config: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/**
 * What joining the team's private network changes in a Kubo repository: the swarm key, the
 * team's nodes as the only bootstrap peers, the DHT among them as the only routing, and nothing
 * that reaches public services (Kubo refuses AutoConf's public URL on a private network).
 */
export async function planJoin(repo: string, swarmKey: string, peers: string[]): Promise<JoinPlan> {
  const configFile = path.join(repo, 'config');
  if (!existsSync(configFile))
    throw new Error(`${repo} is not a Kubo repository (no config file): run 'ipfs init' first, or name the repository with --repo or IPFS_PATH`);
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Json;
  const currentKey = await readFile(path.join(repo, 'swarm.key'), 'utf8').catch(() => undefined);
  const changes: ConfigChange[] = [];
  if (currentKey?.trim() !== swarmKey.trim()) {
    changes.push({
      key: 'swarm.key',
      from: currentKey === undefined ? '(none)' : '(another key)',
      to: '(the team key)',
      why: 'only nodes with this key can connect to yours',
    });
  }
  const change = (key: string, to: unknown, why: string) => {
    const from = getKey(config, key);
    if (JSON.stringify(from) === JSON.stringify(to)) return;
    changes.push({ key, from: from ?? '(default)', to, why });
    setKey(config, key, to);
  };
  change('Bootstrap', peers, peers.length ? "connect to the team's nodes at start, not to public peers" : 'no public peers: teammates connect to this node');
  change('Routing.Type', 'dht', "find names, providers and peers through the team's own DHT");
  change('AutoConf.Enabled', false, 'Kubo will not start a private network with the public AutoConf service');
  for (const key of ['Routing.DelegatedRouters', 'Ipns.DelegatedPublishers']) {
    if (nonEmpty(getKey(config, key))) change(key, [], 'no public HTTP routers or publishers');
  }
  const resolvers = getKey(config, 'DNS.Resolvers');
  if (resolvers && typeof resolvers === 'object') {
    change(
      'DNS.Resolvers',
      Object.fromEntries(Object.entries(resolvers).filter(([, url]) => url !== 'auto')),
      "'auto' needs AutoConf: the system resolver is used instead",
    );
  }
  change('AutoTLS.Enabled', false, 'the public certificate service would learn your node');
  change('Provide.Strategy', 'pinned+mfs', 'announce only what you publish or follow, not every block you cached');
  change('Import.FastProvideDAG', true, 'announce every block of what you publish or pin at once, so teammates find it when its publisher is gone');
  change(
    'Internal.Bitswap.WantHaveReplaceSize',
    1 << 20,
    "a teammate asking whether you have a block gets the block itself, up to 1 MiB: one round trip less, and Nix through a teammate's gateway ~1.2-1.5x faster",
  );
  change('Swarm.Transports.Network.Websocket', false, 'it shares the TCP port, which a private network cannot');
  for (const transport of ['QUIC', 'WebTransport', 'WebRTCDirect']) {
    if (getKey(config, `Swarm.Transports.Network.${transport}`) === true)
      change(`Swarm.Transports.Network.${transport}`, false, 'Kubo refuses it with a swarm key');
  }
  return { repo, swarmKey, changes, config };
}

/**
 * Writes the plan into the repository: the key file readable only by you, the config replaced
 * in one step with the old one kept beside it. A running daemon reads neither until restarted.
 */
export async function applyJoin(plan: JoinPlan): Promise<{ backup?: string }> {
  const keyFile = path.join(plan.repo, 'swarm.key');
  if (plan.changes.some((c) => c.key === 'swarm.key')) await writeAtomically(keyFile, plan.swarmKey, 0o600);
  if (!plan.changes.some((c) => c.key !== 'swarm.key')) return {};
  const configFile = path.join(plan.repo, 'config');
  const backup = `${configFile}.before-network-join`;
  await copyFile(configFile, backup);
  await writeAtomically(configFile, JSON.stringify(plan.config, null, 2) + '\n', 0o600);
  return { backup };
}

/**
 * Kubo 0.42's bitswap never learns of peers that connected while the daemon was starting
 * (ipfs/boxo#83): it asks them for nothing for the life of the connection, so content they
 * hold cannot be fetched. Connecting again makes them known. Returns how many peers were renewed.
 */
export async function reconnectPeers(kubo: Kubo): Promise<number> {
  let renewed = 0;
  for (const address of await kubo.swarmPeers()) {
    // A peer that is gone meanwhile is no loss: routing finds whoever has the content.
    await kubo.swarmDisconnect(address).catch(() => undefined);
    if (
      await kubo.swarmConnect(address).then(
        () => true,
        () => false,
      )
    )
      renewed++;
  }
  return renewed;
}

async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, text, { mode });
  await chmod(temporary, mode);
  await rename(temporary, file);
}

function nonEmpty(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

function getKey(config: Json, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Json)[part] : undefined), config);
}

function setKey(config: Json, key: string, value: unknown): void {
  const dot = key.lastIndexOf('.');
  let node = config;
  for (const part of dot < 0 ? [] : key.slice(0, dot).split('.')) {
    if (!node[part] || typeof node[part] !== 'object') node[part] = {};
    node = node[part] as Json;
  }
  node[key.slice(dot + 1)] = value;
}
