import type { Fetcher, ParsedNix } from './fetchers/extract';
import { callArguments } from './fill-plan';

/*
 * A fixed-output derivation is found by its hash: change a fetcher's URL, rev or tag and keep the
 * hash, and Nix reuses the old source without a word. Comparing a file with its version in git
 * HEAD finds exactly that: a hash that stayed while what it names changed.
 */

/** What a fetcher downloads, as the text says it; undefined when the text does not fix it (or names no source). */
export interface SourceInputs {
  urls: string[];
  rev?: string;
  tag?: string;
}

export interface StaleHash {
  fetcher: Fetcher;
  /** What changed since HEAD: "url was https://…/x-1.0.tar.gz". */
  change: string;
}

/** A file as parsed, with its hashes. */
export interface ParsedFile {
  parsed: ParsedNix;
  fetchers: Fetcher[];
}

/** The source a hash names: its URLs, rev and tag; undefined when one of them is computed, or there is none (a vendor hash). */
export function sourceInputs(file: ParsedFile, fetcher: Fetcher): SourceInputs | undefined {
  if (fetcher.dynamicUrl) return undefined;
  const args = callArguments(file.parsed, fetcher);
  const inputs: SourceInputs = { urls: fetcher.urls };
  for (const name of ['rev', 'tag'] as const) {
    if (!args?.has(name)) continue;
    const value = args.text(name);
    if (value === undefined) return undefined;
    inputs[name] = value;
  }
  return inputs.urls.length > 0 || inputs.rev !== undefined || inputs.tag !== undefined ? inputs : undefined;
}

/** Hashes of `now` that HEAD has for another source only: the source changed, the hash did not. */
export function staleHashes(now: ParsedFile, head: ParsedFile): StaleHash[] {
  const before = new Map<string, [SourceInputs, ...SourceInputs[]]>();
  for (const f of head.fetchers) {
    const sri = f.nixHash?.toSri();
    const inputs = sri ? sourceInputs(head, f) : undefined;
    if (!sri || !inputs) continue;
    const known = before.get(sri);
    if (known) known.push(inputs);
    else before.set(sri, [inputs]);
  }
  const stale: StaleHash[] = [];
  for (const f of now.fetchers) {
    const then = f.nixHash ? before.get(f.nixHash.toSri()) : undefined;
    const inputs = then && sourceInputs(now, f);
    if (!then || !inputs || then.some((t) => sameInputs(t, inputs))) continue;
    stale.push({ fetcher: f, change: describeChange(then[0], inputs) });
  }
  return stale;
}

function sameInputs(a: SourceInputs, b: SourceInputs): boolean {
  return a.rev === b.rev && a.tag === b.tag && a.urls.length === b.urls.length && a.urls.every((u, i) => u === b.urls[i]);
}

function describeChange(before: SourceInputs, now: SourceInputs): string {
  if (before.rev !== now.rev) return `rev was ${before.rev ?? 'not set'} in HEAD, is ${now.rev ?? 'not set'} now`;
  if (before.tag !== now.tag) return `tag was ${before.tag ?? 'not set'} in HEAD, is ${now.tag ?? 'not set'} now`;
  return `URL was ${before.urls.join(' ') || 'none'} in HEAD`;
}

/** The diagnostic's words, the same in the editor and in `nix-ipfs check`. */
export function staleMessage(stale: StaleHash): string {
  return `the source changed but the hash did not: Nix will reuse the old source (${stale.change})`;
}
