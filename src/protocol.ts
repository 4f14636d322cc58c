/**
 * nix-ipfs' language-server protocol: every custom method, command id, argument and result,
 * shared by the server, the VS Code extension and the tests (docs/protocol.md describes it for
 * other editors). Nothing else spells a method name or a command id.
 */
import {
  ErrorCodes,
  NotificationType,
  NotificationType0,
  ProtocolRequestType,
  RequestType0,
  type ExecuteCommandParams,
  type Position,
  type WorkDoneProgressParams,
} from 'vscode-languageserver-protocol';
import type { SignatureVerdict } from './core/signature';
import type { PublishedEntry } from './services/cache-index';
import type { FetchResult } from './services/fetch';
import type { FailedSite, FilledSite } from './services/fill';
import type { FollowingReport, FollowStatus } from './services/follow';
import type { MirrorRecord } from './services/mirror';
import type { KuboStatus, NixStatus } from './services/node-status';
import type { PinOutcome } from './services/pin';
import type { PublishResult } from './services/publish';
import type { ReplicateResult } from './services/replicate';
import type { SigningKeyStatus } from './services/keys';
import type { ScanRecord } from './services/scan';
import type { FileHealth, RescueResult, Risk, SourceHealth, SourceHealthReport } from './services/source-health';
import type { VerifyReport } from './services/verify';

export type {
  FetchResult,
  FileHealth,
  FollowingReport,
  FollowStatus,
  KuboStatus,
  MirrorRecord,
  NixStatus,
  PinOutcome,
  PublishedEntry,
  PublishResult,
  ReplicateResult,
  RescueResult,
  Risk,
  ScanRecord,
  SignatureVerdict,
  SourceHealth,
  SourceHealthReport,
  SigningKeyStatus,
  VerifyReport,
};

/** A fetcher in an open document: at a position (the cursor) or at its hash's offset (lenses). */
export interface FetcherRef {
  uri: string;
  position?: Position;
  hashFrom?: number;
}

/** A source named by its hash, for Fetch from the palette (no document needed). */
export interface SourceByHash {
  /** Any Nix form: SRI, `sha256:…`, base32 or base16. */
  hash: string;
  mode: 'flat' | 'recursive';
  name?: string;
}

/** What Fill All Hashes did: each site filled (line, SRI hash, how) or not (and why). */
export interface FillSummary {
  filled: FilledSite[];
  failed: FailedSite[];
}

/**
 * `target`: the build that reaches the file's hashes when it is not built on its own:
 * `FILE.nix -A ATTR`, `DIR#ATTR` (a flake output) or `callPackage NIXPKGS` (paths relative to the file).
 */
export interface FillArgs {
  target?: string;
}

export interface PinAllResult {
  pinned: number;
  alreadyPinned: number;
  failed: { hash: string; error: string }[];
  /** True when the work was cancelled before every source was tried. */
  cancelled: boolean;
  rootCid?: string;
  ipnsName?: string;
}

export interface NixConfigResult {
  /** The nix.conf lines, with comments saying where they go. */
  text: string;
  /** The user reaches Nix through nix-daemon without being trusted: an administrator must add the lines. */
  needsAdministrator: boolean;
}

/** Which sources the Sources view and Rescue look at: the folders' .nix files (default: the workspace folders); `check` asks the upstream URLs. */
export interface SourceHealthArgs {
  folders?: string[];
  check?: boolean;
}

/** Argument and result of each `workspace/executeCommand` the server offers. */
export interface ServerCommandSignatures {
  pinSource: [FetcherRef, PinOutcome];
  /** Every source in the folders' .nix files, or every one an open document names (a flake.lock: its locked inputs). */
  pinAll: [{ folders?: string[]; uri?: string }, PinAllResult];
  unpin: [{ hash: string }, MirrorRecord];
  publish: [{ paths: string[]; allowUnsigned?: boolean }, PublishResult];
  publishBuildResult: [{ folder?: string; allowUnsigned?: boolean }, PublishResult];
  unpublish: [{ storePath: string }, PublishedEntry];
  verify: [{ target: string }, VerifyReport];
  fetchSource: [FetcherRef | SourceByHash, FetchResult];
  fillHash: [FetcherRef & FillArgs, string];
  fillAllHashes: [{ uri: string } & FillArgs, FillSummary];
  copyCid: [FetcherRef, string];
  replicate: [{ target: string }, ReplicateResult];
  nixConfig: [Record<string, never>, NixConfigResult];
  sourceHealth: [SourceHealthArgs, SourceHealthReport];
  rescueSources: [SourceHealthArgs & { hashes?: string[] }, RescueResult];
}

export type ServerCommandName = keyof ServerCommandSignatures;
export type CommandArgs<C extends ServerCommandName> = ServerCommandSignatures[C][0];
export type CommandResult<C extends ServerCommandName> = ServerCommandSignatures[C][1];

/** The ids the server lists in `executeCommandProvider.commands`. */
export const ServerCommand = {
  pinSource: 'nixIpfs.server.pinSource',
  pinAll: 'nixIpfs.server.pinAll',
  unpin: 'nixIpfs.server.unpin',
  publish: 'nixIpfs.server.publish',
  publishBuildResult: 'nixIpfs.server.publishBuildResult',
  unpublish: 'nixIpfs.server.unpublish',
  verify: 'nixIpfs.server.verify',
  fetchSource: 'nixIpfs.server.fetchSource',
  fillHash: 'nixIpfs.server.fillHash',
  fillAllHashes: 'nixIpfs.server.fillAllHashes',
  copyCid: 'nixIpfs.server.copyCid',
  replicate: 'nixIpfs.server.replicate',
  nixConfig: 'nixIpfs.server.nixConfig',
  sourceHealth: 'nixIpfs.server.sourceHealth',
  rescueSources: 'nixIpfs.server.rescueSources',
} as const satisfies { [C in ServerCommandName]: `nixIpfs.server.${C}` };

export type ServerCommandId = (typeof ServerCommand)[ServerCommandName];

/** The name of a server command id, or undefined for an id that is not one. */
export function serverCommandName(id: string): ServerCommandName | undefined {
  return (Object.keys(ServerCommand) as ServerCommandName[]).find((name) => ServerCommand[name] === id);
}

/** `workspace/executeCommand` params: one argument object, as every nix-ipfs command takes. */
export function executeCommandParams<C extends ServerCommandName>(name: C, args: CommandArgs<C>, workDoneToken?: string): ExecuteCommandParams {
  return { command: ServerCommand[name], arguments: [args], workDoneToken };
}

/** What the node and Nix look like from the server; the status bar and the Node view show it. */
export interface NodeStatus {
  kubo: KuboStatus;
  nix: NixStatus;
  /** The key that signs what is published, and where it comes from. */
  signingKey: SigningKeyStatus;
}

export interface PublishedPathRow {
  entry: PublishedEntry;
  /** Each signature against the trusted keys (Nix's, the settings', the user's own). */
  verdicts: SignatureVerdict[];
}

export interface MirroredSourceRow {
  record: MirrorRecord;
  pinned: boolean;
}

/** Every fetcher in the folder (default: the workspace folders), as `nix-ipfs scan --json` prints them. */
export const ScanWorkspaceRequest = new ProtocolRequestType<{ folder?: string } & WorkDoneProgressParams, ScanRecord[], never, void, void>(
  'nixIpfs/scanWorkspace',
);
export const NodeStatusRequest = new RequestType0<NodeStatus, void>('nixIpfs/nodeStatus');
export const PublishedPathsRequest = new RequestType0<PublishedPathRow[], void>('nixIpfs/publishedPaths');
export const MirroredSourcesRequest = new RequestType0<MirroredSourceRow[], void>('nixIpfs/mirroredSources');
/**
 * The caches `nix-ipfs follow` keeps a replica of (root, lag, bytes held, last error) and the builds waiting in the
 * post-build-hook queue, as `nix-ipfs following --json` prints them; read from `$XDG_STATE_HOME/nix-ipfs`.
 */
export const FollowedCachesRequest = new RequestType0<FollowingReport, void>('nixIpfs/followedCaches');

/** Client → server: secrets changed ('' removes one). Only the given fields change. */
export const SecretsChangedNotification = new NotificationType<{ kuboApiToken?: string; signingKey?: string }>('nixIpfs/secretsChanged');
/** Client → server: the user agreed to use this plain-HTTP API on another machine. */
export const InsecureApiAcceptedNotification = new NotificationType<{ api: string }>('nixIpfs/insecureApiAccepted');
/** Client → server: the user asked to look again (Refresh): pin states are looked up afresh, lenses and hovers follow. */
export const RefreshNotification = new NotificationType0('nixIpfs/refresh');
/** Client → server: the workspace became trusted. */
export const TrustGrantedNotification = new NotificationType0('nixIpfs/trustGranted');
/** Server → client: the mirror (pinned sources) or the cache (published paths) changed. */
export const ContentChangedNotification = new NotificationType<{ mirror: boolean; cache: boolean }>('nixIpfs/contentChanged');

/** Error codes of the ResponseErrors nix-ipfs commands fail with, besides the JSON-RPC ones. */
export const NixIpfsError = {
  /** The work failed; the message says why and what to do. */
  Failed: 1000,
  /** The Kubo API is plain HTTP on another machine: ask the user, then send insecureApiAccepted. `data: { api }` */
  InsecureApiUnconfirmed: 1001,
  /** Publishing without a signing key: set one, or pass `allowUnsigned: true`. */
  SigningKeyMissing: 1002,
  /** Downloads, builds and Nix evaluation are off in an untrusted workspace. */
  UntrustedWorkspace: 1003,
  /** Nothing answers at the Kubo API address: start the node, or change the address. `data: { api }` */
  KuboUnreachable: 1004,
  /** Kubo refused the request: it needs the API token (API.Authorizations). `data: { api }` */
  KuboUnauthorized: 1005,
  InvalidParams: ErrorCodes.InvalidParams,
} as const;

/** The VS Code extension's own command ids (package.json `contributes.commands`). */
export const ClientCommand = {
  pinSource: 'nixIpfs.pinSource',
  pinAll: 'nixIpfs.pinAll',
  publishStorePath: 'nixIpfs.publishStorePath',
  publishBuildResult: 'nixIpfs.publishBuildResult',
  verifyStorePath: 'nixIpfs.verifyStorePath',
  verifyNarinfo: 'nixIpfs.verifyNarinfo',
  fetchSource: 'nixIpfs.fetchSource',
  fillHash: 'nixIpfs.fillHash',
  fillAllHashes: 'nixIpfs.fillAllHashes',
  copyCid: 'nixIpfs.copyCid',
  replicate: 'nixIpfs.replicate',
  showNixConfig: 'nixIpfs.showNixConfig',
  generateSigningKey: 'nixIpfs.generateSigningKey',
  showSigningKey: 'nixIpfs.showSigningKey',
  removeSigningKey: 'nixIpfs.removeSigningKey',
  copyNixConfig: 'nixIpfs.copyNixConfig',
  setApiToken: 'nixIpfs.setApiToken',
  showLog: 'nixIpfs.showLog',
  refresh: 'nixIpfs.refresh',
  openSettings: 'nixIpfs.openSettings',
  itemCopyCid: 'nixIpfs.item.copyCid',
  itemCopyStorePath: 'nixIpfs.item.copyStorePath',
  itemCopyValue: 'nixIpfs.item.copyValue',
  itemOpenInGateway: 'nixIpfs.item.openInGateway',
  itemVerify: 'nixIpfs.item.verify',
  itemUnpublish: 'nixIpfs.item.unpublish',
  itemRevealFetchers: 'nixIpfs.item.revealFetchers',
  itemUnpin: 'nixIpfs.item.unpin',
  itemCopyName: 'nixIpfs.item.copyName',
  checkSources: 'nixIpfs.checkSources',
  filterSources: 'nixIpfs.filterSources',
  rescueSource: 'nixIpfs.rescueSource',
  rescueAllAtRisk: 'nixIpfs.rescueAllAtRisk',
} as const;

export type ClientCommandName = keyof typeof ClientCommand;

/** The extension's views (package.json `contributes.views`); VS Code adds `<id>.focus` commands. */
export const ClientView = {
  published: 'nixIpfs.published',
  mirrored: 'nixIpfs.mirrored',
  node: 'nixIpfs.node',
  followed: 'nixIpfs.followed',
  sources: 'nixIpfs.sources',
} as const;
