import type { SecretKey } from '../../core/signature';
import { drainQueue, pendingEntries, queueDir } from '../../services/build-queue';
import { addFollows, followingReport, followRound, followStateFile, readFollowState, removeFollows, type FollowOutcome } from '../../services/follow';
import { reconnectPeers, teamContext, type TeamContext } from '../../services/network';
import { rootPath } from '../../services/replicate';
import { stateDir } from '../../services/state-files';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, readSecretKey, serviceContext, type Values } from '../context';
import { countOption } from './post-build-hook';

const stateOption = { 'state-dir': { type: 'string' } } as const;

export const followCommand: Command = {
  usage: [
    '[<ipns-name>...] [--keep N] [--keep-days D] [--interval S] [--once] [--key-file sk] [--state-dir DIR]',
    '       names are added to the followed list; without --once it keeps going (resolve every --interval seconds, default 60)',
  ].join('\n'),
  options: {
    ...nodeOptions,
    ...stateOption,
    keep: { type: 'string' },
    'keep-days': { type: 'string' },
    interval: { type: 'string' },
    once: { type: 'boolean' },
    'key-file': { type: 'string' },
  },
  maxArguments: Infinity,
  async run({ values, positionals }) {
    const dir = stateDir(values['state-dir'] as string | undefined);
    const file = followStateFile(dir);
    const names = positionals.map(ipnsName);
    const retention = { keep: optionalCount(values, 'keep'), keepDays: optionalCount(values, 'keep-days') };
    if (names.length > 0) await addFollows(file, names, retention);
    else if (retention.keep ?? retention.keepDays)
      throw new UsageError('--keep and --keep-days apply to the names given with them: nix-ipfs follow <ipns-name> --keep N', 2);
    if ((await readFollowState(file)).follows.length === 0)
      log("nothing followed yet (nix-ipfs follow k51…; 'nix-ipfs nix-conf' on a teammate's machine shows the name): only publishing queued builds");
    const worker = {
      ctx: teamContext(serviceContext(values)),
      file,
      queue: queueDir(dir),
      secretKey: await readSecretKey(values['key-file'] as string | undefined),
      values,
    };
    if (values.once) {
      await renewConnections(worker.ctx).catch((error: Error) => Promise.reject(new UsageError(error.message)));
      return (await round(worker)) ? 0 : 1;
    }
    return runForever(worker, countOption(values, 'interval', 60) * 1000);
  },
};

export const unfollowCommand: Command = {
  usage: '<ipns-name>... [--keep-pins] [--state-dir DIR]',
  options: { ...nodeOptions, ...stateOption, 'keep-pins': { type: 'boolean' } },
  maxArguments: Infinity,
  async run({ values, positionals }) {
    if (positionals.length === 0) throw new UsageError('name the IPNS names to stop following', 2);
    const file = followStateFile(stateDir(values['state-dir'] as string | undefined));
    const keepPins = Boolean(values['keep-pins']);
    const released = await removeFollows(keepPins ? undefined : teamContext(serviceContext(values)), file, positionals.map(ipnsName), keepPins).catch(
      (error: Error) => {
        throw new UsageError(error.message);
      },
    );
    print(
      values,
      { released: keepPins ? [] : released },
      keepPins ? 'no longer followed; what was pinned stays pinned' : `no longer followed; released ${released.length} pinned versions`,
    );
    return 0;
  },
};

export const followingCommand: Command = {
  usage: '[--json] [--state-dir DIR] [--api …]',
  options: { ...nodeOptions, ...stateOption },
  maxArguments: 0,
  async run({ values }) {
    const dir = stateDir(values['state-dir'] as string | undefined);
    const ctx = teamContext(serviceContext(values));
    // Bytes need Kubo; the rest is known without it.
    const report = await followingReport(ctx.kubo, dir);
    const { follows, kuboReachable: reachable } = report;
    const pending = report.publishQueue.pending;
    const lines = follows.map((f) =>
      [
        `${f.name}  ${f.root ? `root ${f.root}, ${f.versions} version${f.versions === 1 ? '' : 's'} held${f.bytes !== undefined ? `, ${f.bytes} bytes` : ''}` : 'nothing held yet'}${f.behind ? ', a newer root is not held yet' : ''}`,
        `    ${f.lagSeconds !== undefined ? `confirmed current ${f.lagSeconds} s ago` : 'never confirmed current'}; keeps ${f.keep} versions${f.keepDays ? ` and any replaced less than ${f.keepDays} days ago` : ''}`,
        ...(f.lastError ? [`    last check failed: ${f.lastError}`] : []),
      ].join('\n'),
    );
    const summary = [
      ...(lines.length ? lines : ["nothing followed ('nix-ipfs follow <ipns-name>')"]),
      `${pending} builds waiting to be published in ${queueDir(dir)}`,
    ];
    if (!reachable) summary.push(`(Kubo at ${ctx.kubo.address} did not answer: bytes held are unknown)`);
    print(values, report, summary.join('\n'));
    return 0;
  },
};

interface Worker {
  ctx: TeamContext;
  file: string;
  queue: string;
  secretKey?: SecretKey;
  values: Values;
}

/** Rounds until SIGINT or SIGTERM; a failed round (Kubo or a teammate away) is retried at the next one. */
async function runForever(worker: Worker, intervalMs: number): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  let reconnected = false;
  try {
    while (!stop.signal.aborted) {
      try {
        if (!reconnected) reconnected = await renewConnections(worker.ctx).then(() => true);
        await round(worker, stop.signal);
      } catch (error) {
        if (!stop.signal.aborted) log((error as Error).message);
      }
      await sleep(intervalMs, stop.signal);
    }
    log('stopped');
    return 0;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/** Kubo 0.42's bitswap may not see peers connected before it started: renew them once, at the start. */
async function renewConnections(ctx: TeamContext): Promise<void> {
  await reconnectPeers(ctx.kubo);
}

/** Publishes queued builds, then follows every name once. Returns whether everything succeeded. */
async function round(worker: Worker, signal?: AbortSignal): Promise<boolean> {
  const { ctx, values } = worker;
  let ok = true;
  if ((await pendingEntries(worker.queue)).length > 0) {
    const drained = await drainQueue(ctx, worker.queue, { secretKey: worker.secretKey }).catch(
      (error: Error) => (log(`publishing queued builds: ${error.message}; the queue is kept`), undefined),
    );
    if (drained && !drained.busy) log(`published ${drained.published} store paths from queued builds; ${drained.left} builds still queued`);
    ok = Boolean(drained) && drained!.failed.length === 0;
  }
  let last = 0;
  const outcomes = await followRound(ctx, worker.file, {
    signal,
    onProgress: (name, blocks) => {
      if (!values.json && blocks - last >= 500) log(`${name}: ${(last = blocks)} blocks`);
    },
  });
  if (values.json && values.once) print(values, outcomes, '');
  else outcomes.forEach((o) => log(describe(o)));
  return ok && outcomes.every((o) => o.status !== 'failed');
}

function describe(outcome: FollowOutcome): string {
  if (outcome.status === 'failed') return `${outcome.name}: ${outcome.error}`;
  if (outcome.status === 'unchanged') return `${outcome.name}: up to date (${outcome.root})`;
  const released = outcome.released.length ? `; released ${outcome.released.join(', ')}` : '';
  return `${outcome.name}: now holds ${outcome.root}${released}`;
}

/** An IPNS name from k51…, /ipns/…, or a gateway URL of one; a CID never changes, so it is refused. */
function ipnsName(given: string): string {
  const path = rootPath(given);
  if (!path.startsWith('/ipns/'))
    throw new UsageError(
      `${given} is not an IPNS name (k51…, /ipns/…): a CID never changes, so there is nothing to follow; 'nix-ipfs replicate' pins it once`,
      2,
    );
  return path.slice('/ipns/'.length);
}

function optionalCount(values: Values, name: string): number | undefined {
  return values[name] === undefined ? undefined : countOption(values, name, 1);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function log(message: string): void {
  process.stderr.write(`nix-ipfs follow: ${message}\n`);
}
