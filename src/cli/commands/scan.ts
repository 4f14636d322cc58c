import { scanWorkspace } from '../../services/scan';
import type { Command } from '../command';
import { UsageError } from '../command';
import { print } from '../context';

export const scanCommand: Command = {
  name: 'scan',
  summary: 'List every fetcher and hash in the .nix files below a directory (honours .gitignore)',
  usage: '<dir | file.nix> [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('name one directory or .nix file', 2);
    let summary = '';
    const records = await scanWorkspace(positionals[0], { onStart: (files, threads) => (summary = `${files} .nix files on ${threads} thread${threads === 1 ? '' : 's'}`) }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new UsageError(`${positionals[0]} does not exist`) : error;
    });
    const lines = records.map((r) => `${r.file}:${r.line}  ${r.fetcher}  ${r.hashAttr}=${r.sri ?? r.hash}${r.hashError ? `  (${r.hashError})` : ''}${r.placeholder ? '  (placeholder)' : ''}${r.cid ? `  ${r.cid}` : ''}`);
    print(values, records, lines.join('\n'));
    process.stderr.write(`nix-ipfs: scanned ${summary}: ${records.length} fetchers\n`);
    return 0;
  },
};
