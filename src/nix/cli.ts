import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';
import { writeNar } from '../core/nar';
import { parsePathInfoJson, type PathInfo } from '../core/path-info';
import { narNodeFromPath } from './nar-fs';
import { stoppedWithUs } from './children';

export interface NixOptions {
  /** Directory holding `nix`/`nix-store`, or empty to use PATH. */
  binDir?: string;
  /** `--store` for every command (a second local store, or a `daemon`/`local` URI). */
  store?: string;
  env?: NodeJS.ProcessEnv;
}

/** How this user reaches the Nix store. Untrusted daemon users cannot set substituters, keys or mirrors. */
export interface StoreAccess {
  daemon: boolean;
  trusted: boolean;
}

/** How many paths Nix substitutes at a time, and the setting that says so (Nix 2.16 added its own). */
export interface SubstitutionJobs {
  setting: 'max-substitution-jobs' | 'max-jobs';
  value: number;
}

/** How many paths this Nix substitutes at a time, from its `nix show-config`. */
export function substitutionJobsIn(config: Map<string, string>): SubstitutionJobs {
  const own = config.get('max-substitution-jobs');
  if (own !== undefined) return { setting: 'max-substitution-jobs', value: Number(own) };
  return { setting: 'max-jobs', value: Number(config.get('max-jobs') ?? 1) };
}

type NixCommand = 'nix' | 'nix-store' | 'nix-build' | 'nix-prefetch-url';

export class NixError extends Error {
  override name = 'NixError';
}

/** The nix CLI, as nix-ipfs uses it. Every failure is a NixError carrying Nix's own message. */
export class Nix {
  constructor(readonly options: NixOptions = {}) {}

  private bin(name: NixCommand): string {
    return this.options.binDir ? `${this.options.binDir}/${name}` : name;
  }

  private storeArgs(): string[] {
    return this.options.store ? ['--store', this.options.store] : [];
  }

  /** Runs a command to completion; rejects with Nix's stderr on failure. */
  async run(name: NixCommand, args: string[], input?: Uint8Array): Promise<string> {
    const what = commandName(name, args);
    // The `nix` command is experimental before Nix 2.x-something: enable it for our calls only.
    if (name === 'nix') args = ['--extra-experimental-features', 'nix-command', ...args];
    const child = stoppedWithUs(spawn(this.bin(name), args, { env: this.options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] }));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.end(input);
    const code = await exitCode(child, name);
    if (code !== 0) throw new NixError(`'${what}' failed: ${nixMessage(Buffer.concat(err).toString()) || `exit code ${code}`}`);
    return Buffer.concat(out).toString();
  }

  async version(): Promise<string> {
    return (await this.run('nix', ['--version'])).trim();
  }

  /** `nix path-info --json --sigs`, optionally of the whole closure. */
  async pathInfo(paths: string[], options: { recursive?: boolean } = {}): Promise<PathInfo[]> {
    const args = ['path-info', ...this.storeArgs(), '--json', '--sigs', ...(options.recursive ? ['--recursive'] : []), ...paths];
    return parsePathInfoJson(await this.run('nix', args));
  }

  async isValid(path: string): Promise<boolean> {
    try {
      await this.run('nix-store', [...this.storeArgs(), '--check-validity', path]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Streams the NAR serialisation of a store path. A store on this machine (the default, or
   * nix-daemon's) is read from its files directly: spawning `nix-store --dump` for each path
   * dominated publishing many small paths. Other stores go through `nix-store --dump`. Either
   * way callers compare the result with Nix's NarHash.
   */
  async *dump(path: string): AsyncIterable<Uint8Array> {
    if (!this.options.store || this.options.store === 'daemon' || this.options.store === 'local') {
      yield* writeNar(await narNodeFromPath(path));
      return;
    }
    const child = stoppedWithUs(
      spawn(this.bin('nix-store'), [...this.storeArgs(), '--dump', path], {
        env: this.options.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const exited = exitCode(child, 'nix-store');
    try {
      for await (const chunk of child.stdout) yield chunk as Uint8Array;
    } finally {
      if (child.exitCode === null) child.kill();
    }
    const code = await exited;
    if (code !== 0) throw new NixError(`nix-store --dump ${path} failed: ${Buffer.concat(err).toString().trim() || `exit code ${code}`}`);
  }

  /** `nix-store --add-fixed ALGO [--recursive] FILE`: the resulting store path. */
  async addFixed(file: string, options: { algo: string; recursive: boolean }): Promise<string> {
    const args = [...this.storeArgs(), '--add-fixed', ...(options.recursive ? ['--recursive'] : []), options.algo, file];
    return (await this.run('nix-store', args)).trim();
  }

  /** `nix show-config` as a map of setting → value. */
  async showConfig(): Promise<Map<string, string>> {
    const text = await this.run('nix', ['show-config']);
    const settings = new Map<string, string>();
    for (const line of text.split('\n')) {
      const match = /^([\w-]+) = (.*)$/.exec(line);
      if (!match) continue;
      const [, name = '', value = ''] = match;
      settings.set(name, value);
    }
    return settings;
  }

  /** The public keys this Nix trusts (`trusted-public-keys`). */
  async trustedPublicKeys(): Promise<string[]> {
    return ((await this.showConfig()).get('trusted-public-keys') ?? '').split(/\s+/).filter(Boolean);
  }

  /** Whether this user goes through nix-daemon, and whether the daemon trusts them; `config` is `showConfig()`'s, when read already. */
  async storeAccess(config?: Map<string, string>): Promise<StoreAccess> {
    // Newer Nix asks the daemon (`trusted` in `nix store ping --json`); Nix 2.8 has no such flag.
    const pinged = await this.run('nix', ['store', 'ping', ...this.storeArgs(), '--json']).catch(() => '');
    const reported = parseJsonObject(pinged);
    if (typeof reported?.trusted === 'number') {
      return { daemon: /^(daemon|unix:)/.test(String(reported.url ?? '')), trusted: reported.trusted === 1 };
    }
    config ??= await this.showConfig();
    const store = this.options.store ?? (this.options.env ?? process.env).NIX_REMOTE ?? config.get('store') ?? 'auto';
    const daemon = store === 'daemon' || store.startsWith('unix:') || (store === 'auto' && !writable('/nix/var/nix/db'));
    if (!daemon) return { daemon, trusted: true };
    // What nix-daemon does with the same /etc/nix/nix.conf: match the user, a group (@name) or `*`.
    const user = userInfo().username;
    const groups = (await promisify(execFile)('id', ['-Gn'])).stdout.trim().split(/\s+/);
    const trustedUsers = (config.get('trusted-users') ?? 'root').split(/\s+/);
    const trusted = trustedUsers.some((entry) => entry === '*' || entry === user || (entry.startsWith('@') && groups.includes(entry.slice(1))));
    return { daemon, trusted };
  }

  /** Builds an installable (a file path, flake ref or expression file) and returns its output paths. */
  async build(installable: string): Promise<string[]> {
    const out = await this.run('nix-build', ['--no-out-link', installable]);
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }
}

/** `nix path-info`, `nix-store --add-fixed`: what ran, without the paths and options a message has no use for. */
function commandName(name: NixCommand, args: string[]): string {
  const words = args.filter((arg, i) => arg !== '--store' && args[i - 1] !== '--store');
  if (name === 'nix') return ['nix', ...words.slice(0, words[0] === 'store' || words[0] === 'hash' ? 2 : 1)].join(' ');
  if (name === 'nix-store') return `nix-store ${words.find((w) => w.startsWith('--')) ?? ''}`.trim();
  return name;
}

/** Nix's error, without the retries and warnings before it, and never a whole build log. */
function nixMessage(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const firstError = lines.findIndex((line) => /^error\b/.test(line.trim()));
  return (firstError >= 0 ? lines.slice(firstError) : lines).slice(-20).join('\n');
}

function exitCode(child: ReturnType<typeof spawn>, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new NixError(
          error.code === 'ENOENT' ? `${name} was not found: install Nix (https://nixos.org/download) or set nixIpfs.nixPath / --nix-bin` : error.message,
        ),
      ),
    );
    child.once('close', (code) => resolve(code ?? 1));
  });
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
