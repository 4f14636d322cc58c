import { replicate } from '../../services/replicate';
import type { Command } from '../command';
import { UsageError } from '../command';
import { nodeOptions, print, serviceContext } from '../context';

export const replicateCommand: Command = {
  name: 'replicate',
  summary: "Fetch and pin another machine's published cache (CID, /ipns/ name or gateway URL) on your node",
  usage: '<cid | /ipfs/cid | /ipns/name | gateway URL> [--api …] [--json]',
  options: nodeOptions,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('name one published root: a CID, /ipns/<name> or a gateway URL of one', 2);
    const ctx = serviceContext(values);
    let last = 0;
    const result = await replicate(ctx, positionals[0], {
      onProgress: (blocks) => {
        if (!values.json && blocks - last >= 100) process.stderr.write(`\r${(last = blocks)} blocks`);
      },
    });
    if (!values.json && last > 0) process.stderr.write('\n');
    print(values, result, `pinned ${result.rootCid} (${result.blocks} blocks): your node now serves it to Nix and to other peers`);
    return 0;
  },
};
