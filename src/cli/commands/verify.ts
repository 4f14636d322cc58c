import { verify } from '../../services/verify';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, publicKeyOption, serviceContext } from '../context';

export const verifyCommand: Command = {
  usage: '<store-path | narinfo-URL | /ipfs/…/<hash>.narinfo | narinfo-CID> [--trusted-key name:base64]... [--no-nix-keys] [--timeout ms] [--json]',
  options: { ...nodeOptions, 'trusted-key': { type: 'string', multiple: true }, 'no-nix-keys': { type: 'boolean' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    const [source, ...extra] = positionals;
    if (source === undefined || extra.length > 0) throw new UsageError('name one store path, narinfo URL, narinfo IPFS path or narinfo CID', 2);
    const ctx = serviceContext(values);
    const given = ((values['trusted-key'] as string[] | undefined) ?? []).map((text) => publicKeyOption('--trusted-key', text));
    const fromNix = values['no-nix-keys']
      ? []
      : (await ctx.nix.trustedPublicKeys().catch(() => [])).map((text) => publicKeyOption("trusted-public-keys in Nix's configuration", text));
    const trusted = [...given, ...fromNix];
    const report = await verify(ctx, source, trusted);
    const lines = [
      `${report.narinfo.storePath} (${report.source})`,
      ...report.signatures.map((s) => `  ${s.state.padEnd(15)} ${s.keyName}`),
      ...(report.signatures.length === 0 ? ['  unsigned'] : []),
      ...(report.contentAddress ? [`  content address ${report.contentAddress.ok ? 'ok' : 'BAD'}: ${report.contentAddress.claimed}`] : []),
      report.nar.ok ? `  NAR ok (${report.nar.narSize} bytes, hash matches)` : `  NAR BAD: ${report.nar.error}`,
      `${report.trusted ? 'trusted' : 'NOT trusted'}: ${report.reason}`,
    ];
    print(values, report, lines.join('\n'));
    return report.trusted ? 0 : 1;
  },
};
