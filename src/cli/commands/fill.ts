import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { extractFetchers, parseNix } from '../../core/fetchers/extract';
import { fillablePlaceholders } from '../../core/fill-plan';
import { resolveBuildTarget, targetFromText, type BuildTarget } from '../../services/build-targets';
import { fillHashes, type FillResult } from '../../services/fill';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, positiveInt, serviceContext, type Values } from '../context';

export const fillCommand: Command = {
  usage: "<file.nix> [--line N | --all] [--dry-run] [--build 'FILE.nix -A ATTR' | --build DIR#ATTR | --build 'callPackage NIXPKGS'] [--pin] [--json]",
  options: {
    ...nodeOptions,
    line: { type: 'string' },
    all: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    build: { type: 'string' },
    pin: { type: 'boolean' },
  },
  maxArguments: 1,
  async run({ values, positionals }) {
    const [named, ...extra] = positionals;
    if (named === undefined || extra.length > 0) throw new UsageError('name one .nix file', 2);
    const file = path.resolve(named);
    const text = await readFile(file, 'utf8').catch(() => {
      throw new UsageError(`${named} cannot be read: name an existing .nix file`);
    });
    const ctx = serviceContext(values, (message) => process.stderr.write(`nix-ipfs: ${message}\n`));
    const given = buildFlag(values);
    const result = await fillHashes(ctx, {
      file,
      text,
      at: sitesFromFlags(values, text),
      target: () => resolveBuildTarget(ctx.nix, file, { given, root: gitTopOrFolder(file) }),
      pin: Boolean(values.pin),
      timeoutMs: positiveInt(values, 'timeout', 30_000),
      progress: values.json ? undefined : (message) => process.stderr.write(`nix-ipfs: ${message}\n`),
    });
    if (!values['dry-run'] && result.edits.length > 0) {
      if ((await readFile(file, 'utf8')) !== text) throw new Error(`${named} changed while its hashes were fetched: nothing written; run again`);
      await writeFile(file, result.text);
    }
    print(
      values,
      { file, ...result, text: undefined, written: !values['dry-run'] && result.edits.length > 0 },
      report(result, Boolean(values['dry-run']), named),
    );
    return result.failed.length > 0 ? 1 : 0;
  },
};

/** --line N: the hashes on that line; --all: every placeholder; neither: the one placeholder there is. */
function sitesFromFlags(values: Values, text: string): number[] | undefined {
  if (values.all && values.line !== undefined) throw new UsageError('--line fills the hashes of one line and --all every placeholder: give one of them', 2);
  if (values.all) return undefined;
  const fetchers = extractFetchers(parseNix(text));
  if (values.line === undefined) {
    const placeholders = fillablePlaceholders(fetchers);
    if (placeholders.length <= 1) return undefined;
    throw new UsageError(`the file has ${placeholders.length} placeholder hashes: fill one with --line N, or all of them with --all`, 2);
  }
  const line = positiveInt(values, 'line', 1);
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  const onLine = [...new Set(fetchers.filter((f) => lineOf(f.hashFrom) === line).map((f) => f.hashFrom))];
  if (onLine.length === 0) throw new UsageError(`line ${line} holds no hash`, 2);
  return onLine;
}

/** --build: what Nix builds to reach the hashes when the file is not built on its own (paths relative to here). */
function buildFlag(values: Values): BuildTarget | undefined {
  if (values.build === undefined) return undefined;
  try {
    return targetFromText(values.build as string, process.cwd());
  } catch (error) {
    throw new UsageError(`--build: ${(error as Error).message}`, 2);
  }
}

/** The repository's top folder, where the search for a default.nix or flake.nix stops; else the file's folder. */
function gitTopOrFolder(file: string): string {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) if (existsSync(path.join(dir, '.git'))) return dir;
  return path.dirname(file);
}

function report(result: FillResult, dryRun: boolean, name: string): string {
  const lines = [
    ...result.filled.map(
      (f) =>
        `${name}:${f.line}  ${f.hash}  (${f.label.replace(/^line \d+: /, '')}, ${f.method})${f.cid ? `  pinned ${f.cid}` : ''}${f.pinError ? `  not pinned: ${f.pinError}` : ''}`,
    ),
    ...result.failed.map((f) => `${name}:${f.line}  not filled (${f.label.replace(/^line \d+: /, '')}): ${f.error}`),
  ];
  const verb = dryRun ? 'would fill' : 'filled';
  lines.push(
    `${verb} ${result.filled.length} hash${result.filled.length === 1 ? '' : 'es'}${result.failed.length ? `, ${result.failed.length} failed (left as they are)` : ''}`,
  );
  return lines.join('\n');
}
