import { parseArgs } from 'node:util';
import { redactSecrets } from '../core/redact';
import { UsageError, type Command, type CommandEntry } from './command';
import { commands } from './commands';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: nix-ipfs <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'nix-ipfs <command> --help' for a command's options.",
  ].join('\n');
}

function commandHelp(entry: CommandEntry, command: Command): string {
  const options = Object.entries(command.options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`);
  return [`Usage: nix-ipfs ${entry.name} ${command.usage}`, '', entry.summary, '', 'Options:', ...options, '  --help'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) throw new UsageError(`unknown command '${name}'\n\n${help()}`, 2);
  const command = await entry.load();
  const parsed = parseArgs({
    args: rest,
    options: { ...command.options, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (parsed.values.help) {
    process.stdout.write(commandHelp(entry, command) + '\n');
    return 0;
  }
  const extra = parsed.positionals.slice(command.maxArguments);
  if (extra.length > 0) throw new UsageError(tooManyArguments(entry.name, command, extra), 2);
  return command.run({ values: parsed.values as Record<string, unknown>, positionals: parsed.positionals });
}

function tooManyArguments(name: string, command: Command, extra: string[]): string {
  const takes = command.maxArguments === 0 ? 'no arguments' : `at most ${command.maxArguments === 1 ? 'one argument' : `${command.maxArguments} arguments`}`;
  return `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => `'${a}'`).join(' ')}: nix-ipfs ${name} takes ${takes} besides its options (quote a value that holds spaces)\nUsage: nix-ipfs ${name} ${command.usage}`;
}

declare const VERSION: string;

let finished = false;
// Node exits once nothing is left to wait for, even with the command unfinished: never let that pass for success.
// ('beforeExit' comes only then, not when the language server ends the process itself with process.exit.)
process.once('beforeExit', () => {
  if (finished) return;
  process.stderr.write(
    'nix-ipfs: stopped before the command finished (a wait that nothing could end): this is a bug in nix-ipfs; run again with NIX_IPFS_DEBUG=1 and report it\n',
  );
  process.exitCode = 1;
});

main(process.argv.slice(2)).then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    finished = true;
    // Messages are written for users; the stack only helps when debugging nix-ipfs itself.
    const message = error instanceof Error ? (process.env.NIX_IPFS_DEBUG ? error.stack : error.message) : String(error);
    process.stderr.write(`nix-ipfs: ${redactSecrets(message ?? '')}\n`);
    const parseArgsError = error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
    process.exitCode = error instanceof UsageError ? error.exitCode : parseArgsError ? 2 : 1;
  },
);
