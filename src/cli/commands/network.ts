import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import {
  applyJoin,
  checkPeerAddress,
  generateSwarmKey,
  kuboRepoPath,
  parseSwarmKey,
  planJoin,
  reconnectPeers,
  teamContext,
  type JoinPlan,
} from '../../services/network';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, serviceContext, type Values } from '../context';
import { readSecretFile } from '../secrets';

export const networkCommand: Command = {
  usage: [
    'init [key-file] [--force]   (a new swarm key, default ./swarm.key, and what each teammate runs)',
    '       nix-ipfs network join <key-file> [--peer <multiaddr>]... [--repo DIR] [--yes]   (put a Kubo repository on the network)',
    '       nix-ipfs network reconnect [--api …]   (after Kubo starts: let its bitswap see every connected peer)',
  ].join('\n'),
  options: {
    ...nodeOptions,
    peer: { type: 'string', multiple: true },
    repo: { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
    force: { type: 'boolean' },
  },
  maxArguments: 2,
  async run({ values, positionals }) {
    const [action, file] = positionals;
    if (action === 'init') return init(values, file ?? 'swarm.key');
    if (action === 'join') {
      if (!file) throw new UsageError("name the team's swarm key file: nix-ipfs network join <key-file> --peer <a teammate's multiaddr>", 2);
      return join(values, file);
    }
    if (action === 'reconnect') {
      const renewed = await reconnectPeers(teamContext(serviceContext(values)).kubo);
      print(values, { renewed }, `renewed the connections to ${renewed} peer${renewed === 1 ? '' : 's'}`);
      return 0;
    }
    throw new UsageError(`nix-ipfs network takes init, join or reconnect${action ? `, not '${action}'` : ''}`, 2);
  },
};

async function init(values: Values, keyFile: string): Promise<number> {
  if (existsSync(keyFile) && !values.force)
    throw new UsageError(`${keyFile} already exists: pass --force to replace it (nodes that use the old key can no longer connect to those with the new one)`);
  await writeFile(keyFile, generateSwarmKey(), { mode: 0o600, flag: values.force ? 'w' : 'wx' });
  const peer = (await ownAddress(values)) ?? '/ip4/<this machine>/tcp/4001/p2p/<peer ID from ipfs id>';
  const join = [`nix-ipfs network join ${keyFile}`, `nix-ipfs network join ${path.basename(keyFile)} --peer ${peer}`];
  print(
    values,
    { keyFile, thisMachine: join[0], eachTeammate: join[1] },
    [
      `Wrote a new swarm key to ${keyFile} (readable only by you). Whoever has it can join: give it to teammates over a private channel.`,
      '',
      'On this machine, the first node the others connect to:',
      `  ${join[0]}`,
      '',
      "On each teammate's machine, with the key copied there:",
      `  ${join[1]}`,
      '',
      "Then restart each Kubo daemon and run 'nix-ipfs network reconnect'.",
    ].join('\n'),
  );
  return 0;
}

/** This node's TCP address for teammates (not loopback when it has another), if Kubo answers. */
async function ownAddress(values: Values): Promise<string | undefined> {
  try {
    const id = await serviceContext(values).kubo.id();
    const tcp = id.addresses.filter((a) => /^\/ip[46]\/[^/]+\/tcp\/\d+\/p2p\/[^/]+$/.test(a));
    return tcp.find((a) => !/^\/ip4\/127\.|^\/ip6\/::1\//.test(a)) ?? tcp[0];
  } catch {
    return undefined;
  }
}

async function join(values: Values, keyFile: string): Promise<number> {
  const swarmKey = parseSwarmKey(readSecretFile(keyFile, 'the swarm key'), keyFile);
  const peers = ((values.peer as string[] | undefined) ?? []).map((p) => {
    try {
      return checkPeerAddress(p);
    } catch (error) {
      throw new UsageError((error as Error).message, 2);
    }
  });
  const plan = await planJoin(kuboRepoPath(values.repo as string | undefined), swarmKey, peers).catch((error: Error) => {
    throw new UsageError(error.message);
  });
  if (plan.changes.length === 0) {
    print(values, { repo: plan.repo, changes: [] }, `${plan.repo} is already on this network: nothing to change`);
    return 0;
  }
  process.stderr.write(describePlan(plan));
  if (!values.yes && !(await confirmed()))
    throw new UsageError('nothing was changed' + (process.stdin.isTTY ? '' : ': pass --yes to apply the changes without asking'));
  const { backup } = await applyJoin(plan);
  const running = existsSync(path.join(plan.repo, 'api'));
  print(
    values,
    { repo: plan.repo, changes: plan.changes, backup, restartNeeded: true },
    [
      `Done${backup ? ` (the previous config is in ${backup})` : ''}.`,
      `${running ? 'Kubo is running from this repository and' : 'Kubo'} reads these settings only when it starts: restart it`,
      `  ipfs shutdown; LIBP2P_FORCE_PNET=1 IPFS_PATH=${plan.repo} ipfs daemon &`,
      '  nix-ipfs network reconnect        # once it is up',
      'LIBP2P_FORCE_PNET=1 makes Kubo refuse to start if the swarm key is ever missing.',
    ].join('\n'),
  );
  return 0;
}

function describePlan(plan: JoinPlan): string {
  const width = Math.max(...plan.changes.map((c) => c.key.length));
  const show = (value: unknown) => (typeof value === 'string' && value.startsWith('(') ? value : JSON.stringify(value));
  return [
    `Joining the private network changes the Kubo repository ${plan.repo}:`,
    ...plan.changes.map((c) => `  ${c.key.padEnd(width)}  ${show(c.from)} -> ${show(c.to)}\n  ${' '.repeat(width)}  (${c.why})`),
    '',
  ].join('\n');
}

/** Asks on the terminal; without one (a script) the answer is no. */
async function confirmed(): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question('Apply these changes? [y/N] ')).trim());
  } finally {
    prompt.close();
  }
}
