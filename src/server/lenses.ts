import type { CodeLens } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { shortCid } from '../core/cid';
import type { Fetcher } from '../core/fetchers/extract';
import { makeFixedOutputPath } from '../core/store-path';
import { ServerCommand, type FetcherRef } from '../protocol';
import { defaultSourceName, type SourceRequest } from '../services/pin';
import { sourceRequestOf } from '../services/sources';
import { fillLenses } from './fill-actions';
import type { PinStateLookup } from './hover';
import type { PinState } from './pin-state';

/**
 * One lens above each fetcher with a usable hash: "Pin to IPFS", or "Pinned ✓ <cid>" (copies the
 * CID) plus "Fetch from IPFS" when the source is not in the Nix store. Lenses never wait on Kubo:
 * `pinState` answers what is known now, and the server refreshes them when the node answers, goes
 * away or comes back.
 */
export async function codeLenses(
  document: TextDocument,
  fetchers: Fetcher[],
  pinState: PinStateLookup,
  inStore: (storePath: string) => boolean,
): Promise<CodeLens[]> {
  const lenses: CodeLens[] = fillLenses(document, fetchers);
  const inputs = fetchers.filter((f) => f.flakeInput).length;
  if (inputs > 0) {
    const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const title = `Pin ${inputs === 1 ? 'the flake input' : `all ${inputs} flake inputs`} to IPFS`;
    lenses.push({ range: top, command: { title, command: ServerCommand.pinAll, arguments: [{ uri: document.uri }] } });
  }
  for (const f of fetchers) {
    const source = sourceRequestOf(f);
    if (!source) continue;
    const range = { start: document.positionAt(f.from), end: document.positionAt(f.from) };
    const ref: FetcherRef = { uri: document.uri, hashFrom: f.hashFrom };
    const state = await pinState(source.hash.toSri());
    if (state?.kind === 'pinned') {
      lenses.push({ range, command: { title: `Pinned ✓ ${shortCid(state.cid)}`, command: ServerCommand.copyCid, arguments: [ref] } });
      const storePath = fixedOutputPath(source, state.record?.name);
      if (state.record && storePath && !inStore(storePath))
        lenses.push({ range, command: { title: 'Fetch from IPFS', command: ServerCommand.fetchSource, arguments: [ref] } });
    } else {
      lenses.push({ range, command: { title: pinTitle(state), command: ServerCommand.pinSource, arguments: [ref] } });
    }
  }
  return lenses;
}

/** "Pin to IPFS", saying so when the node cannot tell whether the source is pinned (never a stale "Pinned ✓"). */
function pinTitle(state: PinState | undefined): string {
  if (!state) return 'Pin to IPFS (checking the node…)';
  if (state.kind === 'unreachable') return 'Pin to IPFS (node unreachable)';
  if (state.kind === 'failed' || state.kind === 'refused') return 'Pin to IPFS (node not answering)';
  return 'Pin to IPFS';
}

/** Where Nix puts the source; undefined when the name is not a valid store path name. */
function fixedOutputPath(source: SourceRequest, recordedName?: string): string | undefined {
  const name = source.name ?? recordedName ?? defaultSourceName(source);
  try {
    return makeFixedOutputPath({ name, hash: source.hash, recursive: source.mode === 'recursive' });
  } catch {
    return undefined;
  }
}
