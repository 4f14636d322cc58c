import { substitutionJobsIn, type StoreAccess, type SubstitutionJobs } from '../nix/cli';
import type { ServiceContext } from './context';

export interface NixConfInput {
  /** The gateway stock Nix talks to, e.g. http://127.0.0.1:8080. */
  gatewayUrl: string;
  /** IPNS name of the published root (stable across publishes). */
  ipnsName: string;
  /** Public keys whose signatures Nix should trust, `name:base64`. */
  publicKeys: string[];
  /** How the user reaches Nix: decides where the lines must go. */
  access: StoreAccess;
  substitutionJobs: SubstitutionJobs;
  /** The script from `nix-ipfs post-build-hook --write-script`, when every build is to be published. */
  postBuildHook?: string;
}

/** Gathers what nixConfLines needs: the node's IPNS name and how this user reaches Nix. */
export async function nixConfInput(ctx: ServiceContext, gatewayUrl: string, publicKeys: string[], postBuildHook?: string): Promise<NixConfInput> {
  // One read of Nix's settings serves both (Nix 2.8 tells trust only through them).
  const [ipnsName, config] = await Promise.all([ctx.kubo.ensureKey(ctx.keyName), ctx.nix.showConfig()]);
  const access = await ctx.nix.storeAccess(config);
  return { gatewayUrl, ipnsName, publicKeys, access, substitutionJobs: substitutionJobsIn(config), ...(postBuildHook ? { postBuildHook } : {}) };
}

/** Nix runs the hook after every build and waits for it: nix-ipfs's hook only queues the paths, and a worker publishes them. */
function postBuildHookLines(script: string | undefined): string[] {
  if (!script) return ["# To publish every build: 'nix-ipfs post-build-hook --write-script FILE', then add 'post-build-hook = FILE'."];
  return [
    '# Publish every build: Nix runs this after each build; it only queues the built paths and returns at once.',
    "# 'nix-ipfs follow' (long-running) or 'nix-ipfs post-build-hook --drain' publishes the queue. Under nix-daemon",
    '# it runs as root, so only /etc/nix/nix.conf can set it.',
    `post-build-hook = ${script}`,
  ];
}

/**
 * Through a peer's gateway each path waits for a few network round trips, so Nix must ask for many at
 * once (the bench: 16 at a time is ~10× faster than 2). Nix 2.16 and later take 16 by default; older Nix
 * takes max-jobs, which also bounds builds, so the line is offered, not set.
 */
function substitutionJobLines({ setting, value }: SubstitutionJobs): string[] {
  if (setting === 'max-substitution-jobs' || value >= 16) return [];
  return [
    `# This Nix fetches max-jobs paths at a time (${value} now). From a peer's gateway each path waits for network`,
    '# round trips, so asking for 16 at once is ~10× faster. Nix 2.16 and later do so by default; on this Nix',
    '# max-jobs also lets 16 builds run at once, so choose:',
    '# max-jobs = 16',
  ];
}

/** Says where the lines take effect; an untrusted nix-daemon user needs an administrator. */
function whereToAdd(access: StoreAccess): string[] {
  if (!access.daemon) return ['# Add to ~/.config/nix/nix.conf (or /etc/nix/nix.conf): your Nix opens the store itself.'];
  if (access.trusted) return ['# Add to ~/.config/nix/nix.conf or /etc/nix/nix.conf: you are a trusted user of nix-daemon.'];
  return [
    '# You use Nix through nix-daemon as an untrusted user (trusted-users does not list you): the daemon',
    '# ignores these settings in ~/.config/nix/nix.conf and in --option. Ask an administrator to add them',
    '# to /etc/nix/nix.conf and restart nix-daemon. Meanwhile `nix-ipfs fetch` still brings sources in.',
  ];
}

/**
 * The nix.conf lines that make stock Nix use a Kubo gateway as substituter and hashed mirror.
 * They are printed for the user to add; nix-ipfs never edits nix.conf itself.
 */
export function nixConfLines(input: NixConfInput): string {
  const base = `${input.gatewayUrl.replace(/\/+$/, '')}/ipns/${input.ipnsName}`;
  return [
    '# nix-ipfs: use this Kubo node as a binary cache and a source mirror.',
    ...whereToAdd(input.access),
    '# The binary cache: build results, and flake inputs pinned with `nix-ipfs pin flake.lock`. Nix looks a locked',
    "# input (one with a narHash in flake.lock) up here before its URL, so it evaluates when the input's origin is gone.",
    `extra-substituters = ${base}/cache`,
    ...(input.publicKeys.length
      ? [`extra-trusted-public-keys = ${input.publicKeys.join(' ')}`]
      : ['# no signing key yet: run `nix-ipfs keygen` and publish with --key-file']),
    `hashed-mirrors = ${base}/mirror/`,
    '# An offline gateway must not break builds: give up quickly and build from source instead.',
    'connect-timeout = 5',
    'fallback = true',
    "# Don't let Nix remember a miss: a path published a minute ago must be found.",
    'narinfo-cache-negative-ttl = 0',
    ...substitutionJobLines(input.substitutionJobs),
    ...postBuildHookLines(input.postBuildHook),
    '',
  ].join('\n');
}
