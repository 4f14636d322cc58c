import { parseHash } from '../core/hash';
import { contentAddressPathError, ContentAddressHasher, parseContentAddress, type ContentAddress } from '../core/content-address';
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
  /** The narinfo's `CA:` line checked as Nix checks it; absent when there is none. */
  contentAddress?: { claimed: string; ok: true } | { claimed: string; ok: false; error: string };
  /**
   * Nix's rule: the NAR matches, any content address is true (its store path and the NAR agree with it),
   * and there is a valid signature by a trusted key or a content address.
   */
  trusted: boolean;
  /** Why it is trusted or not, in one sentence. */
  reason: string;
  nar: { ok: true; narSize: number } | { ok: false; error: string };
}

/**
 * Verifies what the cache says about a store path: each signature against the trusted keys, the
 * content address (if any) against the store path and the NAR, and the NAR (fetched from IPFS,
 * parsed and hashed while streaming) against NarHash/NarSize.
 * `target` is a store path (looked up in this node's cache), a narinfo URL, or a narinfo's CID.
 */
export async function verify(ctx: ServiceContext, target: string, trustedKeys: PublicKey[]): Promise<VerifyReport> {
  const { source, text, narStream } = await locate(ctx, target);
  const narinfo = parseNarInfo(text);
  const signatures = verifySignatures(narinfo, trustedKeys);
  const claim = narinfo.ca === undefined ? undefined : contentAddressClaim(narinfo);
  const content = claim && 'ca' in claim ? new ContentAddressHasher(claim.ca, parseStorePath(narinfo.storePath).hashPart) : undefined;
  const nar = await checkNar(narStream(narinfo.url), narinfo, content);
  const contentAddress = narinfo.ca === undefined ? undefined : contentAddressVerdict(narinfo.ca, claim!, content, nar);
  return { source, narinfo, signatures, contentAddress, nar, ...decide(nar, contentAddress, signatures) };
}

/** Reads the NAR once: its structure, NarHash and NarSize, and what the content address covers. */
async function checkNar(stream: AsyncIterable<Uint8Array>, narinfo: NarInfo, content?: ContentAddressHasher): Promise<VerifyReport['nar']> {
  try {
    const expected = parseHash(narinfo.narHash, 'sha256').hash;
    const hasher = new NarHasher();
    const observe = (chunk: Uint8Array) => {
      hasher.update(chunk);
      content?.narChunk(chunk);
    };
    for await (const entry of readNar(tap(stream, observe))) {
      if (content) await content.entry(entry);
      else if (entry.contents) for await (const _ of entry.contents);
    }
    const { narHash, narSize } = hasher.digest();
    if (narSize !== narinfo.narSize) throw new Error(`NAR is ${narSize} bytes, narinfo says ${narinfo.narSize}`);
    if (!narHash.equals(expected)) throw new Error(`NAR hash is ${narHash.toSri()}, narinfo says ${expected.toSri()}`);
    return { ok: true, narSize };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** The parsed content address when the store path is the one it gives, or why it is not. */
function contentAddressClaim(narinfo: NarInfo): { ca: ContentAddress } | { error: string } {
  try {
    const ca = parseContentAddress(narinfo.ca!);
    const error = contentAddressPathError(narinfo, ca);
    return error ? { error } : { ca };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function contentAddressVerdict(claimed: string, claim: { ca: ContentAddress } | { error: string }, content: ContentAddressHasher | undefined, nar: VerifyReport['nar']): NonNullable<VerifyReport['contentAddress']> {
  if ('error' in claim) return { claimed, ok: false, error: claim.error };
  if (!nar.ok) return { claimed, ok: false, error: 'the NAR could not be checked against it' };
  const mismatch = content!.mismatch();
  return mismatch ? { claimed, ok: false, error: mismatch } : { claimed, ok: true };
}

function decide(nar: VerifyReport['nar'], contentAddress: VerifyReport['contentAddress'], signatures: SignatureVerdict[]): { trusted: boolean; reason: string } {
  if (!nar.ok) return { trusted: false, reason: `the NAR does not match the narinfo: ${nar.error}` };
  if (contentAddress && !contentAddress.ok) {
    // Nix refuses to add such a path at all, signed or not ("claims to be content-addressed but isn't").
    return { trusted: false, reason: `the narinfo claims to be content-addressed (CA: ${contentAddress.claimed}) but is not: ${contentAddress.error}` };
  }
  const signers = signatures.filter((s) => s.state === 'valid-trusted').map((s) => s.keyName);
  if (signers.length > 0) return { trusted: true, reason: `signed by ${signers.join(', ')}` };
  if (contentAddress) return { trusted: true, reason: `content-addressed: the store path and the NAR agree with CA ${contentAddress.claimed}` };
  return { trusted: false, reason: "no valid signature by a trusted key (add the signer's public key with --trusted-key or to trusted-public-keys)" };
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
