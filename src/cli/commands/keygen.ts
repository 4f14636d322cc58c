import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, rename, rm, writeFile } from 'node:fs/promises';
import { generateKeyPair } from '../../core/signature';
import { UsageError, type Command } from '../command';

export const keygenCommand: Command = {
  usage: '<key-name> <secret-key-file> <public-key-file> [--force]',
  options: { force: { type: 'boolean' } },
  maxArguments: 3,
  async run({ values, positionals }) {
    const [name, secretFile, publicFile, ...extra] = positionals;
    if (name === undefined || secretFile === undefined || publicFile === undefined || extra.length > 0) {
      throw new UsageError('usage: nix-ipfs keygen <key-name> <secret-key-file> <public-key-file> [--force]', 2);
    }
    if (secretFile === publicFile) throw new UsageError('the secret and the public key need two different files', 2);
    const force = Boolean(values.force);
    for (const file of [secretFile, publicFile]) {
      if (!force && existsSync(file))
        throw new UsageError(`${file} already exists: pass --force to replace it (whatever it signed or verified stops matching)`);
    }
    const pair = generateKeyPair(name);
    await writePair(
      [
        { file: secretFile, text: pair.secret, mode: 0o600 },
        { file: publicFile, text: pair.public, mode: 0o644 },
      ],
      force,
    );
    process.stdout.write(`${pair.public}\n`);
    return 0;
  },
};

interface KeyFile {
  file: string;
  text: string;
  mode: number;
}

/**
 * Writes both files or neither: each goes to a temporary file beside it, and only when both are
 * written are they moved into place. Without `replace`, a file that appeared meanwhile is kept.
 */
async function writePair(files: KeyFile[], replace: boolean): Promise<void> {
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const placed: string[] = [];
  try {
    for (const { file, text, mode } of files) {
      await writeFile(file + suffix, text, { mode, flag: 'wx' }).catch((error: Error) => {
        throw new UsageError(`cannot write ${file}: ${error.message.replace(suffix, '')}`);
      });
    }
    for (const { file } of files) {
      // link() refuses an existing target, so nothing is overwritten without --force.
      await (replace ? rename(file + suffix, file) : link(file + suffix, file)).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(error.code === 'EEXIST' ? `${file} already exists: pass --force to replace it` : `cannot write ${file}: ${error.message}`);
      });
      placed.push(file);
    }
  } catch (error) {
    // Half a pair is worse than none: take back the file already placed.
    await Promise.all(placed.map((file) => rm(file, { force: true })));
    throw error;
  } finally {
    await Promise.all(files.map(({ file }) => rm(file + suffix, { force: true })));
  }
}
