import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { runTool, ToolError } from './tools';

export interface CheckoutOptions {
  /** Check out the submodules too, recursively (fetchgit's fetchSubmodules). */
  submodules: boolean;
  signal?: AbortSignal;
}

/**
 * Checks out `rev` (a commit, `refs/tags/…`, a branch or HEAD) of a repository into `dir`, as
 * nixpkgs' fetchgit does without leaveDotGit: every `.git` removed. The user's and the system's
 * git configuration are left out, as in Nix's sandbox (autocrlf and the like would change files).
 */
export async function checkoutGit(url: string, rev: string, dir: string, options: CheckoutOptions): Promise<void> {
  const git = (args: string[]) =>
    runTool('git', ['-c', 'advice.detachedHead=false', '-c', 'protocol.file.allow=always', ...args], { cwd: dir, env: gitEnv(dir), signal: options.signal });
  await runTool('git', ['init', '-q', dir], { env: gitEnv(dir), signal: options.signal });
  await git(['remote', 'add', 'origin', url]);
  try {
    await git(['fetch', '-q', '--depth', '1', 'origin', rev]);
    await git(['checkout', '-q', 'FETCH_HEAD']);
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    // Some servers refuse a commit by its id in a shallow fetch: take everything, then look for it.
    await git(['fetch', '-q', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*']).catch((full: Error) => {
      throw new Error(`git could not fetch ${url}: ${full.message}`);
    });
    await git(['checkout', '-q', rev]).catch(() => {
      throw new Error(`git rev '${rev}' does not exist in ${url} (git says: ${error.stderr.trim().split('\n').pop()})`);
    });
  }
  if (/^[0-9a-f]{40}$/.test(rev)) {
    const head = (await git(['rev-parse', 'HEAD'])).trim();
    if (head !== rev) throw new Error(`git checked out ${head} for rev '${rev}' of ${url}`);
  }
  if (options.submodules) await git(['submodule', 'update', '--init', '--recursive', '-q']);
  await removeDotGit(dir);
}

function gitEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
}

/** nix-prefetch-git: `find "$dir" -name .git | xargs rm -rf` (submodules' `.git` files too). */
async function removeDotGit(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.name === '.git') await rm(full, { recursive: true, force: true });
    else if (entry.isDirectory()) await removeDotGit(full);
  }
}
