// A parse worker: scans the .nix files scanWorkspace sends it, one at a time, and parses chunks
// of big files for the language server's ParsePool.
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { parseChunk } from '../core/fetchers/chunks';
import type { ChunkReply, ChunkRequest } from './parse-pool';
import { scanText, type ScanReply } from './scan';

parentPort!.on('message', async (request: string | ChunkRequest) => {
  if (typeof request !== 'string') {
    // A chunk that throws is a rejected split: the server parses the file whole, and reports what that finds.
    const chunks = request.indices.map((i) => {
      try {
        return parseChunk(request.text, request.plan, i);
      } catch {
        return undefined;
      }
    });
    parentPort!.postMessage({ id: request.id, chunks } satisfies ChunkReply);
    return;
  }
  let reply: ScanReply;
  try {
    reply = { records: scanText(request, await readFile(request, 'utf8')) };
  } catch (error) {
    reply = { error: `${request}: ${error instanceof Error ? error.message : String(error)}` };
  }
  parentPort!.postMessage(reply);
});
