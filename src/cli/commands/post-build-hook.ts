import { realpathSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { derivationOutputs, drainQueue, enqueue, queueDir, type DrainResult } from '../../services/build-queue';
import { stateDir } from '../../services/state-files';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, readSecretKey, serviceContext, type Values } from '../context';

export const postBuildHookCommand: Command = {
  usage: [
    '  (run by Nix: queues $OUT_PATHS)',
    '       nix-ipfs post-build-hook --write-script FILE   (the executable to name in nix.conf: post-build-hook = FILE)',
    '       nix-ipfs post-build-hook --drain [--key-file sk] [--batch N]   (publish what is queued; nix-ipfs follow does it too)',
    '       each takes --state-dir DIR (default $XDG_STATE_HOME/nix-ipfs or ~/.local/state/nix-ipfs)',
  ].join('\n'),
  options: {
    ...nodeOptions,
    drain: { type: 'boolean' },
    'write-script': { type: 'string' },
    'key-file': { type: 'string' },
    batch: { type: 'string' },
    'state-dir': { type: 'string' },
  },
  maxArguments: 0,
  async run({ values }) {
    const queue = queueDir(stateDir(values['state-dir'] as string | undefined));
    if (values['write-script'] !== undefined) return writeScript(values, values['write-script'] as string, queue);
    if (values.drain) return drain(values, queue);
    // Nothing else: the build waits for this process, so Kubo is left to the worker.
    await enqueue(queue, await builtPaths(process.env));
    return 0;
  },
};

/** OUT_PATHS, or the outputs DRV_PATH names when Nix left OUT_PATHS empty (Nix 2.8.0 does). */
async function builtPaths(env: NodeJS.ProcessEnv): Promise<string[]> {
  const outPaths = env.OUT_PATHS?.trim();
  if (outPaths) return outPaths.split(/\s+/);
  if (env.DRV_PATH) {
    const drv = await readFile(env.DRV_PATH, 'utf8');
    try {
      return derivationOutputs(drv);
    } catch (error) {
      throw new UsageError(`DRV_PATH ${env.DRV_PATH}: ${(error as Error).message}`);
    }
  }
  throw new UsageError(
    "this is run by Nix after each build (nix.conf's post-build-hook), with the built paths in OUT_PATHS: see --write-script to set it up, and --drain to publish what is queued",
    2,
  );
}

async function drain(values: Values, queue: string): Promise<number> {
  const ctx = serviceContext(values);
  const secretKey = await readSecretKey(values['key-file'] as string | undefined);
  const batchSize = countOption(values, 'batch', 64);
  let result: DrainResult;
  try {
    result = await drainQueue(ctx, queue, {
      secretKey,
      batchSize,
      onBatch: (e) => !values.json && process.stderr.write(`published ${e.published} store paths for ${e.entries} queued builds\n`),
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nThe queue in ${queue} is kept: drain again once this is fixed (nix-ipfs follow retries on its own)`);
  }
  if (result.busy) {
    print(values, result, `another worker is draining ${queue} now: nothing to do (${result.left} builds queued)`);
    return 0;
  }
  print(
    values,
    result,
    [
      `${result.published} store paths published or already there, from ${result.batches} batches; ${result.left} builds still queued`,
      ...result.gone.map((p) => `gone from the Nix store (garbage-collected?), not published: ${p}`),
      ...result.failed.map((f) => `failed, kept in the queue: ${f.storePath}: ${f.error}`),
      ...(secretKey ? [] : ['note: nothing was signed (no --key-file); Nix will only accept these paths with require-sigs = false']),
    ].join('\n'),
  );
  return result.failed.length > 0 ? 1 : 0;
}

/**
 * nix.conf's post-build-hook names one executable and passes no arguments: this script runs
 * this very nix-ipfs (absolute paths, so it works in nix-daemon's environment) with the queue.
 */
async function writeScript(values: Values, file: string, queue: string): Promise<number> {
  const script = path.resolve(file);
  const entry = process.argv[1];
  if (entry === undefined) throw new Error('cannot tell where this nix-ipfs is (Node was started without a script), so the hook script cannot name it');
  const nixIpfs = [process.execPath, realpathSync(entry)];
  const stateDirArg = path.dirname(queue);
  await mkdir(queue, { recursive: true });
  await writeFile(
    script,
    [
      '#!/bin/sh',
      "# nix.conf's post-build-hook: queues the paths Nix just built for nix-ipfs to publish, and returns at once.",
      "# Written by 'nix-ipfs post-build-hook --write-script'; 'nix-ipfs follow' or 'nix-ipfs post-build-hook --drain' publishes the queue.",
      `exec ${[...nixIpfs, 'post-build-hook', '--state-dir', stateDirArg].map(shellQuote).join(' ')}`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  print(
    values,
    { script, queue },
    [
      `wrote ${script}; add to nix.conf (under nix-daemon: /etc/nix/nix.conf, by an administrator, as it runs as root):`,
      `  post-build-hook = ${script}`,
      `Builds are then queued in ${queue}; 'nix-ipfs follow' (long-running) or 'nix-ipfs post-build-hook --drain' publishes them.`,
    ].join('\n'),
  );
  return 0;
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A whole number option above zero, or its default. */
export function countOption(values: Values, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} takes a whole number above 0, not '${raw}'`, 2);
  return n;
}
