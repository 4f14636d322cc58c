import { writeFile } from 'node:fs/promises';
import { generateKeyPair } from '../../core/signature';
import type { Command } from '../command';
import { UsageError } from '../command';

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'Generate a Nix binary-cache signing key pair (same format as nix-store --generate-binary-cache-key)',
  usage: '<key-name> <secret-key-file> <public-key-file>',
  options: {},
  async run({ positionals }) {
    if (positionals.length !== 3) throw new UsageError('usage: nix-ipfs keygen <key-name> <secret-key-file> <public-key-file>', 2);
    const [name, secretFile, publicFile] = positionals;
    const pair = generateKeyPair(name);
    await writeFile(secretFile, pair.secret, { mode: 0o600, flag: 'wx' }).catch((error: Error) => {
      throw new UsageError(`cannot write ${secretFile}: ${error.message}`);
    });
    await writeFile(publicFile, pair.public, { flag: 'wx' });
    process.stdout.write(`${pair.public}\n`);
    return 0;
  },
};
