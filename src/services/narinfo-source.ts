import { describeCid } from '../core/cid';
import { parseNarInfo, type NarInfo } from '../core/narinfo';
import { parseStorePath } from '../core/store-path';
import type { ServiceContext } from './context';
import { boundedRead } from './streams';

/** The most a narinfo may hold: real ones are under 1 KiB, a few KiB with many references. */
const MAX_NARINFO_BYTES = 1 << 20;
/** A read may take two timeouts (so a stall is told apart from slowness), a NAR also what it needs at this rate (bytes per second). */
const SLOWEST_NAR_RATE = 64 * 1024;
const MAX_REDIRECTS = 5;

type Open = (signal: AbortSignal) => AsyncIterable<Uint8Array>;

/** Where a narinfo is read from, and where the NAR it names is: beside it, in the same cache. */
export interface NarinfoSource {
  /** An MFS path, a URL or an IPFS path, for messages and reports. */
  source: string;
  narinfo: Open;
  /** Where the NAR a narinfo from here names is, and how to open it. */
  nar(narinfo: NarInfo): Promise<{ where: string; open: Open }>;
}

/**
 * A store path (this node's cache), a narinfo URL, an IPFS path of a narinfo (`/ipfs/<root>/cache/<hash>.narinfo`),
 * or a bare narinfo CID (only this node's own: a bare CID does not say where its NAR is).
 */
export async function locateNarinfo(ctx: ServiceContext, target: string): Promise<NarinfoSource> {
  if (/^https?:\/\//i.test(target)) return httpSource(new URL(target));
  if (/^\/ip[fn]s\//.test(target)) return ipfsPathSource(ctx, target);
  if (target.startsWith('/')) return localSource(ctx, parseStorePath(target).hashPart, target);
  return cidSource(ctx, target);
}

/** The narinfo, read within 1 MiB, with no pause longer than the context's timeout, and parsed. */
export async function readNarInfo(ctx: ServiceContext, from: NarinfoSource): Promise<NarInfo> {
  const bounds = {
    what: `the narinfo ${from.source}`,
    maxBytes: MAX_NARINFO_BYTES,
    limitName: 'the 1 MiB a narinfo may hold',
    idleMs: ctx.kubo.timeoutMs,
    totalMs: 2 * ctx.kubo.timeoutMs,
  };
  const chunks: Uint8Array[] = [];
  for await (const chunk of boundedRead(from.narinfo, bounds)) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  // A NAR's CID (the views' "Copy CID") given for its narinfo: say so, never show its bytes.
  if (bytes.subarray(8, 8 + NAR_MAGIC.length).toString('latin1') === NAR_MAGIC) {
    throw new Error(`${from.source} is a NAR (a store path's contents), not its narinfo: give the narinfo's CID, URL (…/<hash>.narinfo) or the store path`);
  }
  if (bytes.includes(0)) throw new Error(`${from.source} is binary data, not a narinfo (a narinfo is text: StorePath, URL, NarHash, …)`);
  return parseNarInfo(bytes.toString('utf8'));
}

/** What a NAR starts with, after its 8-byte length. */
const NAR_MAGIC = 'nix-archive-1';

/** The NAR's bytes, never more than NarSize, with no pause longer than the timeout and a total time for its size. */
export async function openNar(ctx: ServiceContext, from: NarinfoSource, narinfo: NarInfo): Promise<AsyncIterable<Uint8Array>> {
  if (narinfo.compression !== 'none') throw new Error(`the NAR is compressed (Compression: ${narinfo.compression}); verify reads uncompressed NARs only`);
  const { where, open } = await from.nar(narinfo);
  const totalMs = 2 * ctx.kubo.timeoutMs + Math.ceil((narinfo.narSize / SLOWEST_NAR_RATE) * 1000);
  return boundedRead(open, { what: `the NAR at ${where}`, maxBytes: narinfo.narSize, limitName: 'its NarSize', idleMs: ctx.kubo.timeoutMs, totalMs });
}

function httpSource(url: URL): NarinfoSource {
  const cache = new URL('.', url);
  return {
    source: url.href,
    narinfo: (signal) => httpGet(url, cache, signal),
    nar: async (narinfo) => {
      const narUrl = new URL(narinfo.url, cache);
      if (!isInside(cache, narUrl)) throw new Error(`the narinfo's URL '${narinfo.url}' leads to ${narUrl.href}, outside the cache ${cache.href}`);
      return { where: narUrl.href, open: (signal) => httpGet(narUrl, cache, signal) };
    },
  };
}

function isInside(cache: URL, url: URL): boolean {
  return url.origin === cache.origin && url.pathname.startsWith(cache.pathname);
}

/** GET that follows a redirect only when it stays inside the cache (a hostile one could point at a local API). */
async function* httpGet(url: URL, cache: URL, signal: AbortSignal): AsyncIterable<Uint8Array> {
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const response = await fetch(current, { signal, redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) {
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText} from ${current.href}`);
      yield* response.body;
      return;
    }
    await response.body?.cancel();
    const next = new URL(location, current);
    if (!isInside(cache, next)) throw new Error(`${current.href} redirects to ${next.href}, outside the cache ${cache.href}: not followed`);
    if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url.href}`);
    current = next;
  }
}

/** A narinfo at an IPFS path: its NAR is in the same directory tree. */
function ipfsPathSource(ctx: ServiceContext, path: string): NarinfoSource {
  const directory = path.slice(0, path.lastIndexOf('/'));
  return {
    source: path,
    narinfo: (signal) => ctx.kubo.cat(path, signal),
    nar: async (narinfo) => {
      const where = `${directory}/${narinfo.url}`;
      return { where, open: (signal) => ctx.kubo.cat(where, signal) };
    },
  };
}

/** This node's cache, read as one snapshot (its CID) so the narinfo and the NAR belong together. */
async function localSource(ctx: ServiceContext, hashPart: string, storePath: string): Promise<NarinfoSource> {
  const cache = ctx.layout.cache;
  const cacheCid = (await ctx.kubo.mfsStat(cache))?.cid;
  if (!cacheCid || !(await ctx.kubo.mfsStat(ctx.layout.narinfo(hashPart)))) {
    throw new Error(`${storePath} is not published in ${cache} on Kubo at ${ctx.kubo.address}: publish it first, or verify a narinfo URL or IPFS path`);
  }
  return { ...ipfsPathSource(ctx, `/ipfs/${cacheCid}/${hashPart}.narinfo`), source: ctx.layout.narinfo(hashPart) };
}

function cidSource(ctx: ServiceContext, target: string): NarinfoSource {
  const cid = describeCid(target).cid;
  return {
    source: `/ipfs/${cid}`,
    narinfo: (signal) => ctx.kubo.cat(cid.toString(), signal),
    nar: async (narinfo) => {
      const { hashPart } = parseStorePath(narinfo.storePath);
      const own = await ctx.kubo.mfsStat(ctx.layout.narinfo(hashPart));
      if (!own || describeCid(own.cid).cid.toV1().toString() !== cid.toV1().toString()) {
        throw new Error(
          `the narinfo ${cid} is not the one this node publishes for ${narinfo.storePath}, and a bare CID does not say where its NAR is: verify its IPFS path (/ipfs/<cache CID>/${hashPart}.narinfo) or its gateway URL instead`,
        );
      }
      return (await localSource(ctx, hashPart, narinfo.storePath)).nar(narinfo);
    },
  };
}
