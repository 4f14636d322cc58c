import path from 'node:path';
import { safeUrl } from '../core/redact';
import { megabytes } from '../nix/disk';
import { ensureScratchRoom, writeScratchFile } from './scratch';
import { boundedRead, type ReadBounds } from './streams';

/** The slowest rate (bytes per second) still taken for progress: a transfer may take two timeouts plus its size at this rate. */
const SLOWEST_RATE = 64 * 1024;
/** The most a download whose size nobody vouches for may bring, unless the user says otherwise. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 16 * 1024 ** 3;

/** Bounds for reading at most `maxBytes`: no pause longer than `timeoutMs`, and a total time that grows with the size. */
export function transferBounds(timeoutMs: number, what: string, maxBytes: number, limitName: string): ReadBounds {
  return { what, maxBytes, limitName, idleMs: timeoutMs, totalMs: 2 * timeoutMs + Math.ceil((maxBytes / SLOWEST_RATE) * 1000) };
}

export interface DownloadLimits {
  /** The longest wait for the answer and between two chunks; the total follows from the size. */
  timeoutMs: number;
  maxBytes: number;
  /** Names maxBytes in messages: "--max-size". */
  maxBytesName: string;
  signal?: AbortSignal;
}

/**
 * Downloads a URL (redirects followed, as Nix's fetchurl does) into a new file in a temporary
 * folder, within bounds: its Content-Length or `maxBytes`, the time those allow, and the free space
 * of the folder's disk. The caller checks the hash.
 */
export async function downloadToFile(url: string, file: string, limits: DownloadLimits): Promise<void> {
  if (!URL.canParse(url)) throw new Error(`'${safeUrl(url)}' is not a valid URL`);
  const what = `the download from ${safeUrl(url)}`;
  const transfer = new AbortController();
  const signal = AbortSignal.any([transfer.signal, ...(limits.signal ? [limits.signal] : [])]);
  const waiting = setTimeout(() => transfer.abort(new DOMException('no answer', 'TimeoutError')), limits.timeoutMs);
  const response = await fetch(url, { redirect: 'follow', signal })
    .catch((error: Error) => {
      throw new Error(`${what} could not start: ${reason(error, signal, limits.timeoutMs)}`);
    })
    .finally(() => clearTimeout(waiting));
  try {
    if (!response.ok || !response.body) throw new Error(`${what} failed: HTTP ${response.status} ${response.statusText}`);
    const announced = Number(response.headers.get('content-length') ?? NaN);
    if (announced > limits.maxBytes)
      throw new Error(`${what} is ${megabytes(announced)}, more than ${limits.maxBytesName} allows (${megabytes(limits.maxBytes)})`);
    const maxBytes = Number.isInteger(announced) ? announced : limits.maxBytes;
    await ensureScratchRoom(path.dirname(file), maxBytes === announced ? announced : 0, what);
    const body = response.body as unknown as AsyncIterable<Uint8Array>;
    const open = (stop: AbortSignal) => {
      stop.addEventListener('abort', () => transfer.abort(stop.reason), { once: true });
      return body;
    };
    const limitName = maxBytes === announced ? 'its Content-Length' : limits.maxBytesName;
    await writeScratchFile(file, boundedRead(open, transferBounds(limits.timeoutMs, what, maxBytes, limitName)));
  } finally {
    transfer.abort();
  }
}

/** Why fetch() failed, in words: its own message is only "fetch failed". */
function reason(error: Error, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted && (signal.reason as Error)?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms (--timeout)`;
  const cause = (error.cause as Error | undefined)?.message;
  return cause ? `${error.message}: ${cause}` : error.message;
}
