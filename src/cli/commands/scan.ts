import { redactSecrets } from '../../core/redact';
import { scanWorkspace, type ScanRecord } from '../../services/scan';
import { directoryOrFileArgument, type Command } from '../command';
import { print } from '../context';

export const scanCommand: Command = {
  name: 'scan',
  summary: 'List every hash in the .nix files below a directory, with its fetcher and mode where known (honours .gitignore)',
  usage: '<dir | file.nix> [--json]',
  options: { json: { type: 'boolean' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    const target = await directoryOrFileArgument(positionals);
    let summary = '';
    // --json streams file by file, in the order of the result: no 100 MB string at the end of a big tree.
    const json = values.json ? jsonArrayWriter() : undefined;
    const records = await scanWorkspace(target, {
      onStart: (files, threads) => (summary = `${files} .nix files on ${threads} thread${threads === 1 ? '' : 's'}`),
      onRecords: json?.write,
    });
    if (json) json.end();
    else print(values, records, records.map(recordLine).join('\n'));
    const unknown = records.filter((r) => r.mode === 'unknown').length;
    process.stderr.write(`nix-ipfs: scanned ${summary}: ${records.length} hashes${unknown ? `, ${unknown} not known to be of a file or of a tree` : ''}\n`);
    return 0;
  },
};

function recordLine(r: ScanRecord): string {
  const notes = [r.hashError && `(${r.hashError})`, r.placeholder && '(placeholder)', r.mode === 'unknown' && `(mode unknown: ${r.why})`, r.cid].filter(
    Boolean,
  );
  return [`${r.file}:${r.line}`, r.via ? `${r.fetcher} via ${r.via}` : r.fetcher, `${r.hashAttr}=${r.sri ?? r.hash}`, ...notes].join('  ');
}

/** The records as `JSON.stringify(records, null, 2)` prints them, written as they come. */
function jsonArrayWriter() {
  let first = true;
  return {
    write(records: ScanRecord[]): void {
      let chunk = '';
      for (const record of records) {
        chunk += `${first ? '[\n' : ',\n'}${JSON.stringify(record, null, 2).replace(/^/gm, '  ')}`;
        first = false;
      }
      if (chunk) process.stdout.write(redactSecrets(chunk));
    },
    end(): void {
      process.stdout.write(first ? '[]\n' : '\n]\n');
    },
  };
}
