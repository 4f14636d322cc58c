// A parse worker: scans the .nix files scanWorkspace sends it, a batch at a time, and parses chunks
// of big files for the language server's ParsePool.
import { parentPort } from 'node:worker_threads';
import { parseChunks } from '../core/fetchers/chunks';
import type { ChunkReply, ChunkRequest } from './parse-pool';
import { scanFilesForWorker, type ScanRequest } from './scan';

parentPort!.on('message', (request: ScanRequest | ChunkRequest) => {
  if ('files' in request) {
    const { reply, transfer } = scanFilesForWorker(request);
    parentPort!.postMessage(reply, transfer);
    return;
  }
  // A parse that throws is a split that does not hold: the server parses the file whole, and reports what that finds.
  let parsed: ReturnType<typeof parseChunks>;
  try {
    parsed = parseChunks(request.text, request.indices);
  } catch {
    parsed = undefined;
  }
  parentPort!.postMessage({ id: request.id, plan: parsed?.plan, chunks: parsed?.chunks ?? [] } satisfies ChunkReply);
});
