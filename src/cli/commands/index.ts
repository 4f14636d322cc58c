import type { CommandEntry } from '../command';

/**
 * Every subcommand, in the order `--help` lists them. A command's modules load only when it runs:
 * evaluating all of them (Kubo's client, the language server, curves) cost ~50 ms of every start.
 */
export const commands: CommandEntry[] = [
  {
    name: 'publish',
    summary: 'Publish store paths and their closures as a Nix binary cache in IPFS',
    load: async () => (await import('./publish')).publishCommand,
  },
  {
    name: 'pin',
    summary: 'Pin fetcher sources to IPFS and record them in the hashed mirror',
    load: async () => (await import('./pin')).pinCommand,
  },
  {
    name: 'verify',
    summary: "Check a published path's signatures against trusted keys and its NAR against its hash",
    load: async () => (await import('./verify')).verifyCommand,
  },
  {
    name: 'fetch',
    summary: 'Fetch a source from IPFS by its hash, verify it, and add it to the Nix store',
    load: async () => (await import('./fetch')).fetchCommand,
  },
  {
    name: 'replicate',
    summary: "Fetch and pin another machine's published cache (CID, /ipns/ name or gateway URL) on your node",
    load: async () => (await import('./replicate')).replicateCommand,
  },
  {
    name: 'network',
    summary: "Set up a team's private IPFS network: init (a swarm key), join (configure your Kubo), reconnect",
    load: async () => (await import('./network')).networkCommand,
  },
  {
    name: 'export',
    summary: 'Write a signed closure (or the whole published cache with --all) to a CAR file for a machine without network',
    load: async () => (await import('./export')).exportCommand,
  },
  {
    name: 'import',
    summary: "Import a CAR file from 'nix-ipfs export' into your Kubo node (pinned) and print where Nix finds its cache",
    load: async () => (await import('./import')).importCommand,
  },
  {
    name: 'post-build-hook',
    summary: "Publish every build: run by Nix's post-build-hook it queues the built paths and returns at once; --drain publishes the queue",
    load: async () => (await import('./post-build-hook')).postBuildHookCommand,
  },
  {
    name: 'follow',
    summary: "Keep a replica of teammates' published caches (IPNS names) on your node, and publish your queued builds",
    load: async () => (await import('./follow')).followCommand,
  },
  {
    name: 'unfollow',
    summary: 'Stop following caches and release what was pinned for them (--keep-pins keeps it)',
    load: async () => (await import('./follow')).unfollowCommand,
  },
  {
    name: 'following',
    summary: 'The followed caches: current root, lag, bytes held, last error; and builds waiting to be published',
    load: async () => (await import('./follow')).followingCommand,
  },
  {
    name: 'nix-conf',
    summary: 'Print the nix.conf lines that make stock Nix substitute and fetch through your Kubo gateway',
    load: async () => (await import('./nix-conf')).nixConfCommand,
  },
  {
    name: 'status',
    summary: 'Show the Kubo node, the published store paths and the mirrored sources',
    load: async () => (await import('./status')).statusCommand,
  },
  {
    name: 'scan',
    summary: 'List every hash in the .nix files below a directory, with its fetcher and mode where known (honours .gitignore)',
    load: async () => (await import('./scan')).scanCommand,
  },
  {
    name: 'sources',
    summary: 'List every source the .nix files name and where it can come from today (upstream, Nix store, IPFS); rescue those at risk',
    load: async () => (await import('./sources')).sourcesCommand,
  },
  {
    name: 'fill',
    summary: 'Fill placeholder hashes (lib.fakeHash, "", all-zero) in a .nix file with the real ones, in place',
    load: async () => (await import('./fill')).fillCommand,
  },
  {
    name: 'check',
    summary: 'Find stale hashes (the source changed since git HEAD, the hash did not), placeholders and malformed hashes; exit 1 when any',
    load: async () => (await import('./check')).checkCommand,
  },
  {
    name: 'keygen',
    summary: 'Generate a Nix binary-cache signing key pair (same format as nix-store --generate-binary-cache-key)',
    load: async () => (await import('./keygen')).keygenCommand,
  },
  {
    name: 'cid',
    summary: 'Print the IPFS CID (CIDv1 raw) of a file with this sha256 or sha512 hash, in any Nix encoding',
    load: async () => (await import('./cid')).cidCommand,
  },
  {
    name: 'hash',
    summary: 'Convert a hash between Nix encodings (SRI, Nix base32, base16, base64)',
    load: async () => (await import('./cid')).hashCommand,
  },
  {
    name: 'lsp',
    summary: 'Run the language server (hovers, code lenses, diagnostics for .nix files) for any editor',
    load: async () => (await import('./lsp')).lspCommand,
  },
];
