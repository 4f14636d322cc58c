import { replicate } from '../../services/replicate';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, positiveInt, serviceContext } from '../context';

export const replicateCommand: Command = {
  usage: '<cid | /ipfs/cid | /ipns/name | gateway URL> [--timeout ms (without a new block)] [--max-time ms (in all)] [--api …] [--json]',
  options: { ...nodeOptions, 'max-time': { type: 'string' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    const [root, ...extra] = positionals;
    if (root === undefined || extra.length > 0) throw new UsageError('name one published root: a CID, /ipns/<name> or a gateway URL of one', 2);
    const totalMs = values['max-time'] === undefined ? undefined : positiveInt(values, 'max-time', 0);
    const ctx = serviceContext(values);
    await ctx.kubo.version(); // a dead node or a server that is not Kubo is named before anything else
    let last = 0;
    const result = await replicate(ctx, root, {
      totalMs,
      onProgress: (blocks) => {
        if (!values.json && blocks - last >= 100) process.stderr.write(`\r${(last = blocks)} blocks`);
      },
    }).finally(() => {
      if (last > 0) process.stderr.write('\n'); // end the progress line before the result or the error
    });
    print(values, result, `pinned ${result.rootCid} (${result.blocks} blocks): your node now serves it to Nix and to other peers`);
    return 0;
  },
};
