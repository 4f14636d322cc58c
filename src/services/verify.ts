import { contentAddressPathError, ContentAddressHasher, parseContentAddress, type ContentAddress } from '../core/content-address';
import { NarHasher, readNar } from '../core/nar';
import { narHashOf, type NarInfo } from '../core/narinfo';
import { verifySignatures, type PublicKey, type SignatureVerdict } from '../core/signature';
import { parseStorePath } from '../core/store-path';
import type { ServiceContext } from './context';
import { locateNarinfo, openNar, readNarInfo } from './narinfo-source';
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
 * content address (if any) against the store path and the NAR, and the NAR (read within bounds
 * from beside the narinfo, parsed and hashed while streaming) against NarHash/NarSize.
 * `target` is a store path (looked up in this node's cache), a narinfo URL or IPFS path, or a narinfo's CID.
 */
export async function verify(ctx: ServiceContext, target: string, trustedKeys: PublicKey[]): Promise<VerifyReport> {
  const from = await locateNarinfo(ctx, target);
  const narinfo = await readNarInfo(ctx, from);
  const signatures = verifySignatures(narinfo, trustedKeys);
  const claim = narinfo.ca === undefined ? undefined : contentAddressClaim(narinfo);
  const content = claim && 'ca' in claim ? new ContentAddressHasher(claim.ca, parseStorePath(narinfo.storePath).hashPart) : undefined;
  const nar = await checkNar(() => openNar(ctx, from, narinfo), narinfo, content);
  const contentAddress = narinfo.ca === undefined ? undefined : contentAddressVerdict(narinfo.ca, claim!, content, nar);
  return { source: from.source, narinfo, signatures, contentAddress, nar, ...decide(nar, contentAddress, signatures) };
}

/** Reads the NAR once: its structure, NarHash and NarSize, and what the content address covers. */
async function checkNar(open: () => Promise<AsyncIterable<Uint8Array>>, narinfo: NarInfo, content?: ContentAddressHasher): Promise<VerifyReport['nar']> {
  try {
    const stream = await open();
    const expected = narHashOf(narinfo);
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

function contentAddressVerdict(
  claimed: string,
  claim: { ca: ContentAddress } | { error: string },
  content: ContentAddressHasher | undefined,
  nar: VerifyReport['nar'],
): NonNullable<VerifyReport['contentAddress']> {
  if ('error' in claim) return { claimed, ok: false, error: claim.error };
  if (!nar.ok) return { claimed, ok: false, error: 'the NAR could not be checked against it' };
  const mismatch = content!.mismatch();
  return mismatch ? { claimed, ok: false, error: mismatch } : { claimed, ok: true };
}

function decide(
  nar: VerifyReport['nar'],
  contentAddress: VerifyReport['contentAddress'],
  signatures: SignatureVerdict[],
): { trusted: boolean; reason: string } {
  if (!nar.ok) return { trusted: false, reason: `the NAR was not verified: ${nar.error}` };
  if (contentAddress && !contentAddress.ok) {
    // Nix refuses to add such a path at all, signed or not ("claims to be content-addressed but isn't").
    return { trusted: false, reason: `the narinfo claims to be content-addressed (CA: ${contentAddress.claimed}) but is not: ${contentAddress.error}` };
  }
  const signers = signatures.filter((s) => s.state === 'valid-trusted').map((s) => s.keyName);
  if (signers.length > 0) return { trusted: true, reason: `signed by ${signers.join(', ')}` };
  if (contentAddress) return { trusted: true, reason: `content-addressed: the store path and the NAR agree with CA ${contentAddress.claimed}` };
  return { trusted: false, reason: "no valid signature by a trusted key (add the signer's public key with --trusted-key or to trusted-public-keys)" };
}
