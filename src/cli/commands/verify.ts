import { parsePublicKey } from '../../core/signature';
import { verify } from '../../services/verify';
import type { Command } from '../command';
import { UsageError } from '../command';
import { nodeOptions, print, serviceContext } from '../context';

export const verifyCommand: Command = {
  name: 'verify',
  summary: "Check a published path's signatures against trusted keys and its NAR against its hash",
  usage: '<store-path | narinfo-URL | CID> [--trusted-key name:base64]... [--no-nix-keys] [--json]',
  options: { ...nodeOptions, 'trusted-key': { type: 'string', multiple: true }, 'no-nix-keys': { type: 'boolean' } },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('name one store path, narinfo URL or CID', 2);
    const ctx = serviceContext(values);
    const keyTexts = [...((values['trusted-key'] as string[] | undefined) ?? [])];
    if (!values['no-nix-keys']) keyTexts.push(...(await ctx.nix.trustedPublicKeys().catch(() => [])));
    const trusted = keyTexts.map((text) => {
      try {
        return parsePublicKey(text);
      } catch (error) {
        throw new UsageError(`'${text}' is not a Nix public key (name:base64): ${(error as Error).message}`);
      }
    });
    const report = await verify(ctx, positionals[0], trusted);
    const lines = [
      `${report.narinfo.storePath} (${report.source})`,
      ...report.signatures.map((s) => `  ${s.state.padEnd(15)} ${s.keyName}`),
      ...(report.signatures.length === 0 ? ['  unsigned'] : []),
      ...(report.narinfo.ca ? [`  content-addressed: ${report.narinfo.ca}`] : []),
      report.nar.ok ? `  NAR ok (${report.nar.narSize} bytes, hash matches)` : `  NAR BAD: ${report.nar.error}`,
      report.trusted
        ? 'trusted'
        : `NOT trusted: ${report.nar.ok ? 'no valid signature by a trusted key (add the signer with --trusted-key or to trusted-public-keys)' : 'the NAR does not match the narinfo'}`,
    ];
    print(values, report, lines.join('\n'));
    return report.trusted ? 0 : 1;
  },
};
