// A scan worker: parses the .nix files the main thread sends, one at a time (see scanWorkspace).
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { scanText, type ScanReply } from './scan';

parentPort!.on('message', async (file: string) => {
  let reply: ScanReply;
  try {
    reply = { records: scanText(file, await readFile(file, 'utf8')) };
  } catch (error) {
    reply = { error: `${file}: ${error instanceof Error ? error.message : String(error)}` };
  }
  parentPort!.postMessage(reply);
});
