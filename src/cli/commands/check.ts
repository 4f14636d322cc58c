import { checkHashes } from '../../services/check';
import { directoryOrFileArgument, print, type Command } from '../command';

export const checkCommand: Command = {
  usage: '<dir | file.nix> [--json]',
  options: { json: { type: 'boolean' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    const target = await directoryOrFileArgument(positionals);
    const problems = await checkHashes(target);
    const lines = problems.map((p) => `${p.file}:${p.line}  ${p.code}  ${p.message}`);
    print(values, problems, lines.length > 0 ? lines.join('\n') : 'no stale, placeholder or malformed hash');
    return problems.length > 0 ? 1 : 0;
  },
};
