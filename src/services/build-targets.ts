import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Nix } from '../nix/cli';
import { nixProgram } from '../nix/fod-build';
import { runTool } from '../nix/tools';

/**
 * What Nix builds to reach a file's fixed-output derivations: the file itself, `callPackage` of it
 * with a nixpkgs, an attribute of a .nix file that imports it, or a flake output.
 */
export type BuildTarget =
  | { kind: 'file' }
  | { kind: 'callPackage'; nixpkgs: string }
  | { kind: 'attribute'; entry: string; attribute: string }
  | { kind: 'flake'; flake: string; attribute: string };

/** A build as text, as targetFromText reads it; paths relative to `base` (absolute without it). */
export function describeTarget(target: BuildTarget, base?: string): string {
  // Relative within the same top folder (the workspace's); absolute elsewhere (/nix/store/…).
  const shown = (p: string) => (base === undefined || p.split('/')[1] !== base.split('/')[1] ? p : path.relative(base, p) || '.');
  switch (target.kind) {
    case 'file':
      return 'the file itself';
    case 'callPackage':
      return `callPackage ${shown(target.nixpkgs)}`;
    case 'attribute':
      return `${shown(target.entry)} -A ${target.attribute}`;
    case 'flake':
      return `${shown(target.flake)}#${target.attribute}`;
  }
}

/**
 * A build written as text (the language server's `target` argument): `FILE.nix -A ATTR`,
 * `DIR#ATTR` (a flake output) or `callPackage NIXPKGS`; paths relative to `base`.
 */
export function targetFromText(text: string, base: string): BuildTarget {
  const attribute = /^(.+?)\s+-A\s+(\S+)$/.exec(text.trim());
  if (attribute) {
    const [, entry = '', name = ''] = attribute;
    return { kind: 'attribute', entry: path.resolve(base, entry), attribute: name };
  }
  const callPackage = /^callPackage\s+(\S+)$/.exec(text.trim());
  if (callPackage) {
    const [, nixpkgs = ''] = callPackage;
    return { kind: 'callPackage', nixpkgs: path.resolve(base, nixpkgs) };
  }
  const flake = /^([^#\s]*)#(\S+)$/.exec(text.trim());
  if (flake) {
    const [, dir = '', name = ''] = flake;
    return { kind: 'flake', flake: path.resolve(base, dir || '.'), attribute: name };
  }
  throw new Error(`'${text}' is not a build: write FILE.nix -A ATTRIBUTE, DIR#ATTRIBUTE (a flake output) or callPackage NIXPKGS-PATH`);
}

/**
 * Whether `nix-build FILE` builds nothing: the file is a function nix-build cannot call by itself
 * (a parameter without a default, as callPackage files have).
 */
export async function needsTarget(nix: Nix, file: string): Promise<boolean> {
  const expression = `let v = import ${nixString(file)}; a = builtins.functionArgs v; in builtins.isFunction v && (a == {} || builtins.any (x: !x) (builtins.attrValues a))`;
  const out = await runTool(nixProgram(nix, 'nix-instantiate'), ['--eval', '-E', expression]).catch((error: Error) => {
    throw new Error(`Nix cannot evaluate ${path.basename(file)}: ${error.message}`);
  });
  return out.trim() === 'true';
}

/**
 * The builds that may reach a file's hashes: callPackage with the nixpkgs on NIX_PATH, and the
 * attributes of every default.nix and flake.nix in its folder and the folders above it (up to
 * `root`) named as the file's package is (all of them when none is and they are few).
 */
export async function targetCandidates(nix: Nix, file: string, root: string): Promise<BuildTarget[]> {
  const candidates: BuildTarget[] = [];
  const nixpkgs = (await runTool(nixProgram(nix, 'nix-instantiate'), ['--find-file', 'nixpkgs']).catch(() => '')).trim();
  if (nixpkgs) candidates.push({ kind: 'callPackage', nixpkgs });
  const wanted = packageName(file);
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const entry = path.join(dir, 'default.nix');
    if (entry !== file && existsSync(entry))
      candidates.push(...pick(await attributesOf(nix, entry), wanted).map((attribute) => ({ kind: 'attribute' as const, entry, attribute })));
    if (existsSync(path.join(dir, 'flake.nix'))) candidates.push(...(await flakeOutputs(nix, dir, wanted)));
    if (dir === root || !dir.startsWith(root) || dir === path.dirname(dir)) break;
  }
  return candidates;
}

export interface TargetChoice {
  /** The build the user named (an argument, a flag). */
  given?: BuildTarget;
  /** The build picked for this file before. */
  remembered?: BuildTarget;
  /** The highest folder searched for default.nix and flake.nix (the workspace folder). */
  root: string;
  /** Asks the user to pick one of several builds; undefined: they declined. */
  choose?: (candidates: BuildTarget[]) => Promise<BuildTarget | undefined>;
}

/** The build that reaches a file's hashes: the one given, the file itself when nix-build can call it, the one remembered, or one found. */
export async function resolveBuildTarget(nix: Nix, file: string, choice: TargetChoice): Promise<BuildTarget> {
  if (choice.given) return choice.given;
  if (!(await needsTarget(nix, file))) return { kind: 'file' };
  if (choice.remembered) return choice.remembered;
  const candidates = await targetCandidates(nix, file, choice.root);
  const name = path.basename(file);
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new Error(
      `${name} is a function nix-build cannot call by itself, and no default.nix, flake.nix or <nixpkgs> found builds it: name the build (the \`target\` argument, or --build in the CLI): FILE.nix -A ATTRIBUTE, DIR#ATTRIBUTE or callPackage NIXPKGS-PATH`,
    );
  }
  const chosen = choice.choose ? await choice.choose(candidates) : undefined;
  if (chosen) return chosen;
  throw new Error(
    `${name} is built by one of: ${candidates.map((c) => describeTarget(c)).join(', ')}: name one (the \`target\` argument, or --build in the CLI)`,
  );
}

/** The package a file is: `hello.nix` → hello; `pkgs/hello/default.nix` or `…/package.nix` → hello. */
function packageName(file: string): string {
  const base = path.basename(file, '.nix');
  return base === 'default' || base === 'package' ? path.basename(path.dirname(file)) : base;
}

function pick(attributes: string[], wanted: string): string[] {
  if (attributes.includes(wanted)) return [wanted];
  return attributes.length <= 8 ? attributes : [];
}

async function attributesOf(nix: Nix, entry: string): Promise<string[]> {
  const expression = `let e = import ${nixString(entry)}; v = if builtins.isFunction e then e {} else e; in if builtins.isAttrs v then builtins.attrNames v else []`;
  const out = await runTool(nixProgram(nix, 'nix-instantiate'), ['--eval', '--json', '--strict', '-E', expression]).catch(() => '[]');
  return JSON.parse(out) as string[];
}

async function flakeOutputs(nix: Nix, dir: string, wanted: string): Promise<BuildTarget[]> {
  const flags = ['--extra-experimental-features', 'nix-command flakes'];
  const system = (await runTool(nixProgram(nix, 'nix'), [...flags, 'eval', '--impure', '--raw', '--expr', 'builtins.currentSystem']).catch(() => '')).trim();
  const out = await runTool(nixProgram(nix, 'nix'), [...flags, 'eval', '--json', `path:${dir}#packages.${system}`, '--apply', 'builtins.attrNames']).catch(
    () => '[]',
  );
  return pick(JSON.parse(out) as string[], wanted).map((name) => ({ kind: 'flake', flake: dir, attribute: `packages.${system}.${name}` }));
}

/** A path as a Nix string (import takes either). */
export function nixString(text: string): string {
  return JSON.stringify(text).replace(/\$\{/g, '\\${');
}

/**
 * The build chosen for each file, remembered across sessions: the user picks once.
 * Kept in `$XDG_STATE_HOME/nix-ipfs/build-targets.json` (default `~/.local/state`).
 */
export class RememberedTargets {
  constructor(private readonly file = path.join(process.env.XDG_STATE_HOME || path.join(homedir(), '.local/state'), 'nix-ipfs', 'build-targets.json')) {}

  async get(nixFile: string): Promise<BuildTarget | undefined> {
    return (await this.read())[nixFile];
  }

  async remember(nixFile: string, target: BuildTarget): Promise<void> {
    const all = { ...(await this.read()), [nixFile]: target };
    await mkdir(path.dirname(this.file), { recursive: true });
    // Written whole, then renamed: two servers saving at once never leave half a file.
    const partial = `${this.file}.${process.pid}`;
    await writeFile(partial, JSON.stringify(all, null, 2) + '\n');
    await rename(partial, this.file);
  }

  private async read(): Promise<Record<string, BuildTarget>> {
    const text = await readFile(this.file, 'utf8').catch(() => '{}');
    try {
      return JSON.parse(text) as Record<string, BuildTarget>;
    } catch {
      return {};
    }
  }
}
