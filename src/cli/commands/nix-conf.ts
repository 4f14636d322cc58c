import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { formatPublicKey, publicKeyOf } from '../../core/signature';
import { nixConfInput, nixConfLines } from '../../services/nix-conf';
import { print, UsageError, type Command } from '../command';
import { gatewayUrl, nodeOptions, publicKeyOption, readSecretKey, serviceContext } from '../context';

export const nixConfCommand: Command = {
  usage: '[--key-file sk | --public-key name:base64] [--gateway URL] [--post-build-hook FILE]',
  options: { ...nodeOptions, 'key-file': { type: 'string' }, 'public-key': { type: 'string', multiple: true }, 'post-build-hook': { type: 'string' } },
  maxArguments: 0,
  async run({ values }) {
    const ctx = serviceContext(values);
    const secret = await readSecretKey(values['key-file'] as string | undefined);
    const given = ((values['public-key'] as string[] | undefined) ?? []).map((text) => publicKeyOption('--public-key', text));
    const publicKeys = [...given, ...(secret ? [publicKeyOf(secret)] : [])].map(formatPublicKey);
    const input = await nixConfInput(ctx, await gatewayUrl(ctx, values), publicKeys, hookScript(values['post-build-hook'] as string | undefined));
    print(values, input, nixConfLines(input));
    if (input.access.daemon && !input.access.trusted)
      process.stderr.write('nix-ipfs: you are not a trusted user of nix-daemon: an administrator must add these lines to /etc/nix/nix.conf\n');
    return 0;
  },
};

/** The hook script must exist and be executable: Nix fails every build otherwise. */
function hookScript(given: string | undefined): string | undefined {
  if (given === undefined) return undefined;
  const script = path.resolve(given);
  try {
    accessSync(script, constants.X_OK);
  } catch {
    throw new UsageError(`${script} is not an executable file: write it first with 'nix-ipfs post-build-hook --write-script ${script}'`);
  }
  return script;
}
