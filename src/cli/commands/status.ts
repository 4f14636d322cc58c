import { listMirrored } from '../../services/mirror';
import { listPublished } from '../../services/cache-index';
import { print, type Command } from '../command';
import { gatewayUrl, nodeOptions, serviceContext } from '../context';

export const statusCommand: Command = {
  usage: '[--api …] [--json]',
  options: nodeOptions,
  maxArguments: 0,
  async run({ values }) {
    const ctx = serviceContext(values);
    const [version, id, peers, gateway, published, mirrored, ipnsName] = await Promise.all([
      ctx.kubo.version(),
      ctx.kubo.id(),
      ctx.kubo.peerCount(),
      gatewayUrl(ctx, values).catch(() => undefined),
      listPublished(ctx.kubo, ctx.layout),
      listMirrored(ctx.kubo, ctx.layout),
      ctx.kubo.ensureKey(ctx.keyName),
    ]);
    const node = { version, peerId: id.peerId, api: ctx.kubo.address, gateway, peers, ipnsName };
    print(
      values,
      { node, published, mirrored },
      [
        `Kubo ${version} at ${ctx.kubo.address}, peer ${id.peerId}, ${peers} peers`,
        `IPNS ${ipnsName}${gateway ? `  cache ${gateway}/ipns/${ipnsName}/cache` : ''}`,
        `${published.length} published store paths:`,
        ...published.map((p) => `  ${p.storePath}  ${p.narSize} B  ${p.sigs.length} sig(s)`),
        `${mirrored.length} mirrored sources:`,
        ...mirrored.map((m) => `  ${m.hash}  ${m.cid}  ${m.name ?? ''}`),
      ].join('\n'),
    );
    return 0;
  },
};
