import { parseHash } from '../core/hash';
import { NarHasher, readNar } from '../core/nar';
import { parseNarInfo, type NarInfo } from '../core/narinfo';
import { verifySignatures, type PublicKey, type SignatureVerdict } from '../core/signature';
import { parseStorePath } from '../core/store-path';
import { describeCid } from '../core/cid';
import type { ServiceContext } from './context';
import { tap } from './streams';

export interface VerifyReport {
  /** Where the narinfo came from: an MFS path, a URL or `/ipfs/<cid>`. */
  source: string;
  narinfo: NarInfo;
  signatures: SignatureVerdict[];
  /** True when at least one signature is valid and made by a trusted key, or the path is content-addressed and its NAR matches. */
  trusted: boolean;
  nar: { ok: true; narSize: number } | { ok: false; error: string };
}

/**
 * Verifies what the cache says about a store path: each signature against the trusted keys,
 * and the NAR (fetched from IPFS, parsed and hashed while streaming) against NarHash/NarSize.
 * `target` is a store path (looked up in this node's cache), a narinfo URL, or a narinfo's CID.
 */
export async function verify(ctx: ServiceContext, target: string, trustedKeys: PublicKey[]): Promise<VerifyReport> {
  const { source, text, narStream } = await locate(ctx, target);
  const narinfo = parseNarInfo(text);
  const signatures = verifySignatures(narinfo, trustedKeys);
  let nar: VerifyReport['nar'];
  try {
    const expected = parseHash(narinfo.narHash, 'sha256').hash;
    const hasher = new NarHasher();
    // Reading the NAR validates its structure; the hasher sees every byte.
    for await (const entry of readNar(tap(narStream(narinfo.url), (c) => hasher.update(c)))) {
      if (entry.contents) for await (const _ of entry.contents);
    }
    const { narHash, narSize } = hasher.digest();
    if (narSize !== narinfo.narSize) throw new Error(`NAR is ${narSize} bytes, narinfo says ${narinfo.narSize}`);
    if (!narHash.equals(expected)) throw new Error(`NAR hash is ${narHash.toSri()}, narinfo says ${expected.toSri()}`);
    nar = { ok: true, narSize };
  } catch (error) {
    nar = { ok: false, error: (error as Error).message };
  }
  const contentAddressed = narinfo.ca !== undefined && nar.ok;
  return { source, narinfo, signatures, nar, trusted: nar.ok && (contentAddressed || signatures.some((s) => s.state === 'valid-trusted')) };
}

async function locate(ctx: ServiceContext, target: string) {
  if (/^https?:\/\//.test(target)) {
    const text = await httpText(target);
    const base = new URL('.', target);
    return { source: target, text, narStream: (url: string) => httpStream(new URL(url, base).href) };
  }
  const cache = ctx.layout.cache;
  const cacheCid = (await ctx.kubo.mfsStat(cache))?.cid;
  const narStream = (url: string) => {
    if (!cacheCid) throw new Error(`no binary cache at ${cache} on Kubo at ${ctx.kubo.address} to fetch ${url} from`);
    return ctx.kubo.cat(`/ipfs/${cacheCid}/${url}`);
  };
  if (target.startsWith('/')) {
    const { hashPart } = parseStorePath(target);
    const bytes = await ctx.kubo.mfsRead(ctx.layout.narinfo(hashPart));
    if (!bytes) throw new Error(`${target} is not published in ${cache} on Kubo at ${ctx.kubo.address}`);
    return { source: ctx.layout.narinfo(hashPart), text: new TextDecoder().decode(bytes), narStream };
  }
  const cid = describeCid(target).cid.toString();
  const chunks: Uint8Array[] = [];
  for await (const chunk of ctx.kubo.cat(cid)) chunks.push(chunk);
  return { source: `/ipfs/${cid}`, text: Buffer.concat(chunks).toString('utf8'), narStream };
}

async function httpText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

async function* httpStream(url: string): AsyncIterable<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`${url}: HTTP ${response.status}`);
  for await (const chunk of response.body) yield chunk as Uint8Array;
}
