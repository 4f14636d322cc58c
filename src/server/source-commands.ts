import { MessageType, ResponseError } from 'vscode-languageserver';
import { cidForFlatHash } from '../core/cid';
import { hashProblemText, type Fetcher } from '../core/fetchers/extract';
import { parseHash } from '../core/hash';
import { NixIpfsError, type PinAllResult } from '../protocol';
import { fetchSource } from '../services/fetch';
import { publishRoot } from '../services/context';
import { pinSource, pinSources, type SourceRequest } from '../services/pin';
import { describeSource, sourceRequestOf, unpinSource } from '../services/sources';
import { scanRecordFetcher, scanWorkspace } from '../services/scan';
import type { Args, CommandEnv, CommandTable, KnownPinState } from './commands';
import { fillCommands } from './fill';

/** Pin, unpin, fetch, fill and copy the CID: what acts on the sources a .nix file names. */
export const sourceCommands: Pick<CommandTable, 'pinSource' | 'pinAll' | 'unpin' | 'fetchSource' | 'fillHash' | 'fillAllHashes' | 'copyCid'> = {
  pinSource: { title: 'Pinning to IPFS', run: pinOne },
  pinAll: { title: 'Pinning all sources', run: pinAll },
  unpin: { title: 'Unpinning', run: unpin },
  fetchSource: { title: 'Fetching from IPFS', run: fetchOne },
  ...fillCommands,
  copyCid: { title: 'Finding the CID', run: copyCid },
};

/** The fetcher a `FetcherRef` argument points at, with a usable hash when `needHash`. */
async function fetcherAt(args: Args, env: CommandEnv): Promise<Fetcher> {
  const uri = args.string('uri');
  const document = env.documents.get(uri);
  if (!document) args.invalid(`${uri} is not open in the editor`);
  const offset = args.optionalNumber('hashFrom') ?? document.offsetAt(args.optionalPosition('position') ?? args.invalid("give 'position' or 'hashFrom'"));
  const fetcher = await env.documents.fetcherAt(uri, offset);
  if (!fetcher) throw new ResponseError(NixIpfsError.Failed, 'there is no fetcher at the cursor: put it on a fetcher call or its hash');
  return fetcher;
}

function sourceOf(fetcher: Fetcher): SourceRequest {
  const source = sourceRequestOf(fetcher);
  if (source) return source;
  const why = fetcher.nixHash
    ? 'the file does not say whether it is the hash of the downloaded file or of the unpacked tree, so the source cannot be found by it'
    : `it is not a usable hash (${fetcher.hashProblem ? hashProblemText(fetcher.hashProblem) : 'a placeholder'}): fix it first`;
  throw new ResponseError(NixIpfsError.Failed, `this fetcher's ${fetcher.hashAttr}: ${why}`);
}

async function pinOne(args: Args, env: CommandEnv) {
  env.session.requireTrust('Pinning (it may download the source)');
  env.session.requireConfirmedApi();
  const source = sourceOf(await fetcherAt(args, env));
  env.progress(source.urls[0] ?? source.hash.toSri());
  const ctx = env.session.services();
  const outcome = await pinSource(ctx, source, { signal: env.signal, secretKey: await env.session.signingKey().catch(() => undefined) });
  await publishRoot(ctx);
  env.changed({ mirror: true, known: [[source.hash.toSri(), { kind: 'pinned', cid: outcome.record.cid, record: outcome.record }]] });
  env.show(
    MessageType.Info,
    `${outcome.status === 'pinned' ? 'Pinned' : 'Already pinned'}: ${outcome.record.name ?? source.hash.toSri()} → ${outcome.record.cid}`,
  );
  return outcome;
}

/** The sources of one open document (`uri`: a flake.lock's inputs, a .nix file's fetchers), else of the folders' .nix files. */
async function sourcesToPin(args: Args, env: CommandEnv): Promise<SourceRequest[]> {
  const sources = new Map<string, SourceRequest>();
  const add = (source: SourceRequest | undefined) => source && sources.set(source.hash.toSri(), source);
  const uri = args.optionalString('uri');
  if (uri !== undefined) {
    if (!env.documents.get(uri)) args.invalid(`${uri} is not open in the editor`);
    for (const fetcher of await env.documents.fetchers(uri)) add(sourceRequestOf(fetcher));
    return [...sources.values()];
  }
  const folders = args.optionalStrings('folders') ?? env.workspaceFolders;
  if (folders.length === 0) throw new ResponseError(NixIpfsError.Failed, 'no workspace folder to scan: open a folder with .nix files first');
  env.progress('scanning .nix files…');
  for (const folder of folders) for (const record of await scanWorkspace(folder)) add(sourceRequestOf(scanRecordFetcher(record)));
  return [...sources.values()];
}

async function pinAll(args: Args, env: CommandEnv): Promise<PinAllResult> {
  env.session.requireTrust('Pinning (it may download sources)');
  env.session.requireConfirmedApi();
  const sources = await sourcesToPin(args, env);
  const result = await pinSources(env.session.services(), sources, {
    signal: env.signal,
    secretKey: await env.session.signingKey().catch(() => undefined),
    onProgress: (e) => {
      env.progress(`${e.done}/${e.total}${e.error ? ` (failed: ${describeSource(e.source)})` : ''}`, (100 * e.done) / e.total);
      if (e.error) env.log(`pin ${describeSource(e.source)} failed: ${e.error}`);
    },
  });
  const pinned = [...result.pinned, ...result.alreadyPinned].map(({ record }): KnownPinState => [record.hash, { kind: 'pinned', cid: record.cid, record }]);
  env.changed({ mirror: true, known: pinned });
  const summary: PinAllResult = {
    pinned: result.pinned.length,
    alreadyPinned: result.alreadyPinned.length,
    failed: result.failed.map((f) => ({ hash: f.source.hash.toSri(), error: f.error })),
    cancelled: env.signal.aborted,
    rootCid: result.rootCid,
    ipnsName: result.ipnsName,
  };
  const text = `${summary.pinned} pinned, ${summary.alreadyPinned} already pinned, ${summary.failed.length} failed${summary.cancelled ? ' (cancelled)' : ''}`;
  env.log(`pin all: ${text}`);
  env.show(summary.failed.length ? MessageType.Warning : MessageType.Info, `Pin all sources: ${text}`);
  return summary;
}

async function unpin(args: Args, env: CommandEnv) {
  env.session.requireConfirmedApi();
  const hash = parseHash(args.string('hash')).hash;
  const record = await unpinSource(env.session.services(), hash);
  env.changed({ mirror: true, known: [[hash.toSri(), { kind: 'not-mirrored' }]] });
  env.show(MessageType.Info, `Unpinned ${record.name ?? record.hash}`);
  return record;
}

async function fetchOne(args: Args, env: CommandEnv) {
  env.session.requireTrust('Fetching into the Nix store');
  env.session.requireConfirmedApi();
  const request = args.has('uri')
    ? sourceOf(await fetcherAt(args, env))
    : { hash: parseHash(args.string('hash'), 'sha256').hash, mode: modeOf(args), name: args.optionalString('name') };
  const result = await fetchSource(env.session.services(), request);
  env.log(`fetch ${request.hash.toSri()}: ${result.storePath} (from ${result.from})`);
  env.show(MessageType.Info, `Fetched from IPFS: ${result.storePath}`);
  env.changed({});
  return result;
}

function modeOf(args: Args): 'flat' | 'recursive' {
  const mode = args.string('mode');
  return mode === 'flat' || mode === 'recursive'
    ? mode
    : args.invalid(`'mode' must be 'flat' (the file, as fetchurl) or 'recursive' (the unpacked tree), not '${mode}'`);
}

async function copyCid(args: Args, env: CommandEnv): Promise<string> {
  const source = sourceOf(await fetcherAt(args, env));
  const state = await env.pinStates.get(source.hash.toSri(), env.session.settings.requestTimeoutMs);
  const cid = state && 'cid' in state ? state.cid : cidForFlatHash(source.hash);
  if (!cid) throw new ResponseError(NixIpfsError.Failed, 'this source is not mirrored and its hash has no raw CID: pin it first');
  return cid;
}
