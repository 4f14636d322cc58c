import { scanWorkspace, scanWorkspaceJson, type ScanCounts, type ScanRecord } from '../../services/scan';
import { directoryOrFileArgument, print, type Command } from '../command';

export const scanCommand: Command = {
  usage: '<dir | file.nix> [--json]',
  options: { json: { type: 'boolean' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    const target = await directoryOrFileArgument(positionals);
    let summary = '';
    const onStart = (files: number, threads: number) => (summary = `${files} .nix files on ${threads} thread${threads === 1 ? '' : 's'}`);
    let counts: ScanCounts;
    if (values.json) {
      // Streamed file by file, in the order of the result: no 100 MB string at the end of a big tree.
      let first = true;
      counts = await scanWorkspaceJson(
        target,
        (json) => {
          process.stdout.write(first ? '[\n' : ',\n');
          process.stdout.write(json);
          first = false;
        },
        { onStart },
      );
      process.stdout.write(first ? '[]\n' : '\n]\n');
    } else {
      const records = await scanWorkspace(target, { onStart });
      print(values, records, records.map(recordLine).join('\n'));
      counts = { hashes: records.length, unknown: records.filter((r) => r.mode === 'unknown').length };
    }
    const { hashes, unknown } = counts;
    process.stderr.write(`nix-ipfs: scanned ${summary}: ${hashes} hashes${unknown ? `, ${unknown} not known to be of a file or of a tree` : ''}\n`);
    return 0;
  },
};

function recordLine(r: ScanRecord): string {
  const notes = [r.hashError && `(${r.hashError})`, r.placeholder && '(placeholder)', r.mode === 'unknown' && `(mode unknown: ${r.why})`, r.cid].filter(
    Boolean,
  );
  return [`${r.file}:${r.line}`, r.via ? `${r.fetcher} via ${r.via}` : r.fetcher, `${r.hashAttr}=${r.sri ?? r.hash}`, ...notes].join('  ');
}
