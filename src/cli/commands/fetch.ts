import { fetchSource } from '../../services/fetch';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, serviceContext } from '../context';
import { hashArgument } from './cid';

export const fetchCommand: Command = {
  usage: '<hash> [--recursive] [--name NAME] [--type sha256] [--timeout ms] [--json]',
  options: { ...nodeOptions, recursive: { type: 'boolean' }, name: { type: 'string' }, type: { type: 'string' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('name one hash (SRI, sha256:…, or base16/base32/base64 with --type)', 2);
    const hash = hashArgument(positionals[0], values.type);
    const ctx = serviceContext(values);
    await ctx.kubo.version(); // a dead node or a server that is not Kubo is named before anything else
    const result = await fetchSource(ctx, { hash, mode: values.recursive ? 'recursive' : 'flat', name: values.name as string | undefined });
    print(values, result, result.storePath);
    return 0;
  },
};
