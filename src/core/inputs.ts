/**
 * What a user types where nix-ipfs asks for a store path, a narinfo, a hash, a cache or a key
 * name: each check returns what is wrong in words (undefined when it is fine). The VS Code input
 * boxes run them as the user types; the language server runs them again on every argument, so
 * every editor gets the same human message and no input reaches a parser's raw error.
 */
import { describeCid, looksLikeCid } from './cid';
import { parseHash, type HashAlgo } from './hash';
import { DEFAULT_STORE_DIR, parseStorePath } from './store-path';

/** Text a user typed, quoted for a message: control characters dropped, at most 60 characters. */
export function quoteInput(text: string): string {
  const printable = text.replace(/[\p{Cc}\p{Cf}]/gu, '').trim();
  return `“${printable.length > 60 ? `${printable.slice(0, 59)}…` : printable}”`;
}

/**
 * A message fit to show: no control characters but line breaks, no runs of undecodable bytes
 * (binary data read as text), and bounded, whatever a library or a peer put in it.
 */
export function printableMessage(text: string): string {
  const printable = text
    .replace(/[^\P{Cc}\n\t]/gu, '')
    .replace(/\p{Cf}/gu, '')
    .replace(/\uFFFD+/g, '�');
  return printable.length > 4000 ? `${printable.slice(0, 3999)}…` : printable;
}

function storePathProblem(text: string): string | undefined {
  try {
    parseStorePath(text);
    return undefined;
  } catch (error) {
    return `${quoteInput(text)} is not a store path: ${(error as Error).message.replace(/^invalid store path: /, '')}`;
  }
}

/** What Publish takes: a store path, or the path of a link to one (a build's `result`). */
export function publishTargetProblem(text: string): string | undefined {
  const target = text.trim();
  if (!target) return 'Type a store path (/nix/store/…-name) or the path of a result link';
  if (target.startsWith(`${DEFAULT_STORE_DIR}/`)) return storePathProblem(target);
  if (target.startsWith('/') || target.startsWith('./') || target.startsWith('~/')) return undefined; // a link: resolved when published
  return `${quoteInput(target)} is not a store path: give /nix/store/…-name, or the path of a result link (build it first)`;
}

/** What Verify takes: a store path, a narinfo URL or IPFS path, or a narinfo's CID. */
export function verifyTargetProblem(text: string): string | undefined {
  const target = text.trim();
  if (!target) return 'Type a store path, a narinfo URL or the CID of a narinfo';
  if (/^https?:\/\/[^\s]+$/i.test(target) || /^\/ip[fn]s\/[^\s]+$/.test(target)) return undefined;
  if (target.startsWith('/')) return storePathProblem(target);
  if (looksLikeCid(target)) {
    try {
      describeCid(target);
      return undefined;
    } catch {
      // falls through to the general message
    }
  }
  return `${quoteInput(target)} is not a store path, a narinfo URL or a CID: give /nix/store/…-name, https://…/<hash>.narinfo, /ipfs/…/<hash>.narinfo or the narinfo's CID (bafy…)`;
}

/** What Replicate takes: a cache root as a CID, an /ipfs/ or /ipns/ path, an IPNS name, or a gateway URL of one. */
export function replicateTargetProblem(text: string): string | undefined {
  const target = text.trim();
  if (!target) return 'Type the /ipns/ name or the CID of a published cache';
  if (/^https?:\/\/[^\s]+$/i.test(target) || /^\/ip[fn]s\/[^\s]+$/.test(target)) return undefined;
  if (looksLikeCid(target)) {
    try {
      describeCid(target);
      return undefined;
    } catch {
      // falls through to the general message
    }
  }
  return `${quoteInput(target)} is not a cache: give /ipns/k51…, a CID (bafy…), or a gateway URL of one`;
}

/** A hash in any Nix form; `algo` when the form does not say (base32, base16). */
export function hashProblem(text: string, algo: HashAlgo = 'sha256'): string | undefined {
  const hash = text.trim();
  if (!hash) return 'Type a hash: sha256-… (SRI), sha256:…, or Nix base32';
  try {
    parseHash(hash, algo);
    return undefined;
  } catch (error) {
    return `${quoteInput(hash)} is not a hash: ${(error as Error).message.replace(/^invalid hash: /, '').replace(/ \(at \d+\)$/, '')}`;
  }
}

/** A Nix signing key's name: shown before each signature, so printable and without ':' or spaces. */
export function keyNameProblem(text: string): string | undefined {
  const name = text.trim();
  if (!name) return 'Type a name, such as myhost-nix-ipfs-1';
  if (!/^[\x21-\x7e]{1,64}$/.test(name) || name.includes(':')) return 'A key name has up to 64 printable characters, without spaces or “:”';
  return undefined;
}
