import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseFlakeLock, type LockedInput } from '../../core/flake-lock';
import { pinSources, type SourceRequest } from '../../services/pin';
import { nixFilesBelow, scanRecordFetcher, scanWorkspace } from '../../services/scan';
import { flakeLocksBeside } from '../../services/source-health';
import { describeSource, sourceRequestOf, sourceRequestOfInput } from '../../services/sources';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, readSecretKey, serviceContext } from '../context';
import { hashArgument } from './cid';

export const pinCommand: Command = {
  usage:
    '<file.nix | flake.lock | dir --all> | --url URL --hash HASH [--recursive] [--name NAME] [--nocopy] [--key-file sk] [--max-size 16G] [--timeout ms] [--json]',
  options: {
    ...nodeOptions,
    all: { type: 'boolean' },
    url: { type: 'string', multiple: true },
    hash: { type: 'string' },
    type: { type: 'string' },
    recursive: { type: 'boolean' },
    name: { type: 'string' },
    nocopy: { type: 'boolean' },
    'max-size': { type: 'string' },
    'key-file': { type: 'string' },
  },
  maxArguments: Infinity,
  async run({ values, positionals }) {
    if (values.hash && positionals.length > 0)
      throw new UsageError(`--hash pins the one source --url names: leave out '${positionals.join("' '")}', or pin .nix files without --url and --hash`, 2);
    if (values.url && !values.hash)
      throw new UsageError('--url needs --hash: the hash the download must have (nix-ipfs checks it before anything is pinned)', 2);
    const maxSize = values['max-size'] as string | undefined;
    const maxDownload = maxSize === undefined ? undefined : { bytes: byteSize('--max-size', maxSize), name: `--max-size ${maxSize}` };
    const { sources, unusable } = values.hash ? { sources: [sourceFromFlags(values)], unusable: [] } : await sourcesFromFiles(positionals, Boolean(values.all));
    for (const problem of unusable) if (!values.json) process.stderr.write(`failed: ${problem}\n`);
    if (sources.length === 0) throw new UsageError(unusable.length ? 'no source could be pinned' : 'no fetcher with a usable hash found', 1);
    const secretKey = await readSecretKey(values['key-file'] as string | undefined);
    const ctx = serviceContext(values);
    await ctx.kubo.version(); // fail fast, before any download, when the node is down
    const result = await pinSources(ctx, sources, {
      nocopy: Boolean(values.nocopy),
      maxDownload,
      secretKey,
      onProgress: (e) => {
        if (!values.json)
          process.stderr.write(`[${e.done}/${e.total}] ${e.error ? 'failed' : 'ok'} ${describeSource(e.source)}${e.error ? `: ${e.error}` : ''}\n`);
      },
    });
    const failures = result.failed.length + unusable.length;
    const summary = [
      `${result.pinned.length} pinned, ${result.alreadyPinned.length} already pinned, ${failures} failed`,
      ...result.pinned.map((p) => `pinned: ${p.record.hash} ${p.record.cid} ${p.record.name ?? ''}`),
      ...result.failed.map((f) => `failed: ${describeSource(f.source)}: ${f.error}`),
      ...unusable.map((problem) => `failed: ${problem}`),
    ];
    print(
      values,
      {
        pinned: result.pinned.map((p) => p.record),
        alreadyPinned: result.alreadyPinned.map((p) => p.record),
        failed: [
          ...result.failed.map((f) => ({ hash: f.source.hash.toSri(), urls: f.source.urls, ...inputOf(f.source), error: f.error })),
          ...unusable.map((error) => ({ error })),
        ],
        rootCid: result.rootCid,
        ipnsName: result.ipnsName,
      },
      summary.join('\n'),
    );
    return failures > 0 ? 1 : 0;
  },
};

const inputOf = (source: SourceRequest) => (source.flakeInput ? { input: source.flakeInput.id } : {});

/** A size such as 1048576, 500M or 4G (powers of 1024). */
function byteSize(option: string, text: string): number {
  const [, amount, unit = ''] = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(text.trim()) ?? [];
  const bytes = amount === undefined ? NaN : Math.floor(Number(amount) * 1024 ** ' KMGT'.indexOf(unit.toUpperCase() || ' '));
  if (!(bytes > 0)) throw new UsageError(`${option} takes a size such as 500M or 4G, not '${text}'`, 2);
  return bytes;
}

function sourceFromFlags(values: Record<string, unknown>): SourceRequest {
  const urls = (values.url as string[] | undefined) ?? [];
  return {
    urls,
    hash: hashArgument(values.hash as string, values.type),
    mode: values.recursive ? 'recursive' : 'flat',
    name: values.name as string | undefined,
  };
}

/**
 * The sources the files name, and why some named in a flake.lock cannot be pinned (the others go on).
 * A folder with --all brings its .nix files and the flake.lock files the Sources view lists for it.
 */
async function sourcesFromFiles(targets: string[], all: boolean): Promise<{ sources: SourceRequest[]; unusable: string[] }> {
  if (targets.length === 0) throw new UsageError('name a .nix file, a flake.lock, a directory with --all, or --url and --hash', 2);
  const sources: SourceRequest[] = [];
  const unusable: string[] = [];
  const addLock = async (lock: string) => {
    for (const input of await lockInputs(lock)) {
      const source = sourceRequestOfInput(input);
      if (source) sources.push(source);
      else unusable.push(`${lock}: ${input.problem ?? `input '${input.id}' cannot be pinned`}`);
    }
  };
  for (const target of targets) {
    const info = await stat(target).catch(() => undefined);
    if (!info) throw new UsageError(`${target} does not exist`);
    if (info.isDirectory() && !all) throw new UsageError(`${target} is a directory: add --all to pin every source in it`, 2);
    if (info.isFile() && path.basename(target).endsWith('.lock')) {
      await addLock(target);
      continue;
    }
    for (const record of await scanWorkspace(target)) {
      // None for a placeholder or malformed hash, or one not known to be a file's or a tree's.
      const source = sourceRequestOf(scanRecordFetcher(record));
      if (source) sources.push(source);
    }
    if (info.isDirectory()) for (const lock of await flakeLocksBeside([target], await nixFilesBelow(target))) await addLock(lock);
  }
  return { sources, unusable };
}

async function lockInputs(file: string): Promise<LockedInput[]> {
  try {
    return parseFlakeLock(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
}
