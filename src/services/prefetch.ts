import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FillMethod } from '../core/fill-plan';
import type { HashAlgo, NixHash } from '../core/hash';
import { expandMirrorUrl, unknownMirrorSite } from '../core/mirrors';
import { safeUrl } from '../core/redact';
import { checkoutGit } from '../nix/git-checkout';
import { narHashOfPath } from '../nix/nar-hash';
import { looksLikeHtml, unpackArchive } from '../nix/unpack';
import { hashFile } from './pin';
import { ScratchFullError, withScratchDir } from './scratch';
import { DEFAULT_MAX_DOWNLOAD_BYTES, downloadToFile } from './transfer';

export interface PrefetchOptions {
  /** The longest wait for a server's answer and between two chunks. */
  timeoutMs: number;
  signal?: AbortSignal;
  progress?: (message: string) => void;
  /**
   * Called with the fetched file or folder and its hash before the temporary copy is removed
   * (to add it to the Nix store and pin it while it is here anyway).
   */
  keep?: (fsPath: string, hash: NixHash) => Promise<void>;
}

export type DirectMethod = Exclude<FillMethod, { kind: 'build' }>;

/**
 * Fetches what a fetcher would fetch and hashes it as Nix would: a download's bytes (flat), an
 * archive unpacked as fetchzip unpacks it, or a git checkout (NAR, with nix-ipfs' own NAR code).
 */
export function prefetch(method: DirectMethod, algo: HashAlgo, options: PrefetchOptions): Promise<NixHash> {
  return withScratchDir('nix-ipfs-fill-', async (work) => {
    const { fsPath, hash } = await fetchInto(method, algo, work, options);
    await options.keep?.(fsPath, hash);
    return hash;
  });
}

async function fetchInto(method: DirectMethod, algo: HashAlgo, work: string, options: PrefetchOptions): Promise<{ fsPath: string; hash: NixHash }> {
  switch (method.kind) {
    case 'download': {
      const file = path.join(work, 'download');
      const url = await downloadFirst(method.urls, file, options);
      if (!/\.html?$/i.test(fileNameOf(url)) && (await looksLikeHtml(file))) {
        throw new Error(`${safeUrl(url)} answered with an HTML page (a login, an error page?) instead of the file: check the URL`);
      }
      return { fsPath: file, hash: await hashFile(file, algo) };
    }
    case 'archive': {
      const file = path.join(work, 'download');
      const url = await downloadFirst(method.urls, file, options);
      const name = method.extension ? `download.${method.extension.replace(/^\./, '')}` : fileNameOf(url);
      options.progress?.(`unpacking ${name}`);
      const root = await unpackArchive(file, name, work, method.stripRoot, options.signal);
      return { fsPath: root, hash: await narHashOfPath(root, algo) };
    }
    case 'git': {
      const dir = path.join(work, 'checkout');
      await mkdir(dir);
      options.progress?.(`git checkout of ${safeUrl(method.url)} at ${method.rev}`);
      await checkoutGit(method.url, method.rev, dir, { submodules: method.submodules, signal: options.signal });
      return { fsPath: dir, hash: await narHashOfPath(dir, algo) };
    }
  }
}

/** Downloads the first of the URLs that answers (mirror:// expanded, in order, as fetchurl tries them); returns it. */
async function downloadFirst(urls: string[], file: string, options: PrefetchOptions): Promise<string> {
  const errors = urls.flatMap((url) => {
    const site = unknownMirrorSite(url);
    return site === undefined ? [] : [`${url}: nixpkgs has no mirror site '${site}'`];
  });
  const candidates = urls.flatMap(expandMirrorUrl).filter((u) => /^https?:\/\//i.test(u));
  for (const url of candidates) {
    options.signal?.throwIfAborted();
    options.progress?.(`downloading ${safeUrl(url)}`);
    try {
      await downloadToFile(url, file, {
        timeoutMs: options.timeoutMs,
        maxBytes: DEFAULT_MAX_DOWNLOAD_BYTES,
        maxBytesName: 'the 16 GB download limit',
        signal: options.signal,
      });
      return url;
    } catch (error) {
      if (error instanceof ScratchFullError || options.signal?.aborted) throw error;
      errors.push((error as Error).message);
      await rm(file, { force: true });
    }
  }
  if (candidates.length === 0) errors.push(`no http(s) URL among ${urls.map((u) => safeUrl(u)).join(', ') || 'none'}`);
  throw new Error(`could not download the source: ${errors.join('; ')}`);
}

/** The last part of a URL's path, as fetchurl names its download. */
function fileNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/\/+$/, '').split('/').pop() ?? '') || 'download';
}
