import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { run } from './cli';

/**
 * This process is an unprivileged user who reaches the store through nix-daemon and is not trusted
 * by it: set by `npm test`'s multi-user pass, and true of any ordinary user running the suites
 * (Debian's /nix/store belongs to root; trusted-users lists only root unless an administrator adds one).
 */
export const untrustedDaemonUser = process.env.NIX_IPFS_TEST_NIX_MODE === 'daemon' || process.getuid?.() !== 0;

/** A temporary directory removed after the current test file. */
export async function tempDir(prefix = 'nix-ipfs-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  after(() => rm(dir, { recursive: true, force: true }).catch(() => chmodAndRemove(dir)));
  return dir;
}

// A second Nix store's files are read-only: make them writable before removing.
async function chmodAndRemove(dir: string): Promise<void> {
  await run('chmod', ['-R', 'u+w', dir]);
  await rm(dir, { recursive: true, force: true });
}

/** Runs a Nix command; throws with Nix's stderr when it fails. */
export async function nix(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const result = await run(cmd, args, { env });
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim();
}

/** Builds a two-path closure (an app whose output references a dependency), unique to this run. */
export async function buildClosure(dir: string, tag = `${process.pid}-${Date.now()}`): Promise<{ app: string; dep: string }> {
  const file = path.join(dir, `closure-${tag}.nix`);
  await writeFile(
    file,
    `let
  dep = derivation { name = "nix-ipfs-dep"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo dependency ${tag} > $out" ]; };
in derivation { name = "nix-ipfs-app"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo uses \${dep} > $out" ]; }
`,
  );
  const app = await nix('nix-build', ['--no-out-link', file]);
  const dep = (await readFile(app, 'utf8')).trim().split(' ')[1];
  return { app, dep };
}

/**
 * Builds `count` paths `<name>-<i>`, unique to this run (each runs `fill` first, e.g. to write random bytes to
 * $out), and `<name>` that references them all; returns `<name>`'s store path.
 */
export async function buildWideClosure(dir: string, name: string, count: number, fill = ''): Promise<string> {
  const tag = `${process.pid}-${Date.now()}`;
  const file = path.join(dir, `${name}.nix`);
  const part = `${fill ? `${fill}; ` : ''}echo ${tag}-\${toString i} >> $out`;
  await writeFile(
    file,
    `let parts = builtins.genList (i: derivation { name = "${name}-\${toString i}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "${part}" ]; }) ${count};
in derivation { name = "${name}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo \${toString parts} > $out" ]; }\n`,
  );
  return nix('nix-build', ['--no-out-link', file]);
}

/** A binary-cache key pair made by Nix itself. */
export async function nixKeyPair(dir: string, name: string): Promise<{ secretFile: string; publicKey: string }> {
  const secretFile = path.join(dir, `${name}.sk`);
  const publicFile = path.join(dir, `${name}.pk`);
  await nix('nix-store', ['--generate-binary-cache-key', name, secretFile, publicFile]);
  return { secretFile, publicKey: (await readFile(publicFile, 'utf8')).trim() };
}

/** Options that make stock Nix forget nothing between attempts (no cached narinfo hits or misses). */
export const noNarinfoCache = ['--option', 'narinfo-cache-positive-ttl', '0', '--option', 'narinfo-cache-negative-ttl', '0'];

/** Stock Nix copies a closure from a binary cache URL into a store of its own, signatures required. */
export function nixCopyFrom(cacheUrl: string, storeDir: string, storePath: string, trustedKey: string, env: NodeJS.ProcessEnv = process.env) {
  const options = ['--option', 'trusted-public-keys', trustedKey, '--option', 'require-sigs', 'true', ...noNarinfoCache];
  return run('nix', ['copy', '--from', cacheUrl, '--to', storeDir, storePath, ...options], { env });
}

/** Stock Nix substitutes a closure into a store of its own as a build does, `jobs` paths at a time, signatures required. */
export function nixBuildFrom(cacheUrl: string, storeDir: string, storePath: string, trustedKey: string, jobs: number, env: NodeJS.ProcessEnv = process.env) {
  const options = [
    '--option',
    'substituters',
    cacheUrl,
    '--option',
    'trusted-public-keys',
    trustedKey,
    '--option',
    'require-sigs',
    'true',
    '--max-jobs',
    String(jobs),
  ];
  return run('nix', ['build', '--no-link', '--store', storeDir, storePath, ...options, ...noNarinfoCache], { env });
}
