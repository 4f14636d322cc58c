import { after } from 'node:test';
// @ts-expect-error plain ESM module shared with the demo script, typed below
import { startKuboNode as start } from '../../scripts/kubo-node.mjs';

export interface KuboNode {
  ipfsPath: string;
  env: NodeJS.ProcessEnv;
  apiAddr: string;
  apiUrl: string;
  gatewayUrl: string;
  peerId: string;
  swarmAddrs: string[];
  /** Runs the `ipfs` CLI against this node's repo; resolves to stdout. */
  cli(args: string[], input?: string): Promise<string>;
  start(): Promise<KuboNode>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<KuboNode>;
  dispose(): Promise<void>;
  connect(other: KuboNode): Promise<void>;
}

export interface KuboNodeOptions {
  dir?: string;
  offline?: boolean;
  config?: Record<string, unknown>;
  /** `--api-auth` for the node's own CLI when API.Authorizations is set, e.g. `bearer:token`. */
  apiAuth?: string;
  /** Runs once a new repository is initialised and configured, before its daemon first starts. */
  prepare?: (ipfsPath: string) => Promise<void>;
}

/** Starts a private Kubo node for the current test file; it is disposed after the file's tests. */
export async function startKuboNode(options: KuboNodeOptions = {}): Promise<KuboNode> {
  const node: KuboNode = await start(options);
  after(() => node.dispose());
  return node;
}
