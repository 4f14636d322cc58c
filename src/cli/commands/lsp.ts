import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from '../../server/server';
import type { Command } from '../command';

export const lspCommand: Command = {
  usage: '--stdio',
  options: { stdio: { type: 'boolean' } },
  maxArguments: 0,
  async run() {
    startServer(createConnection(ProposedFeatures.all));
    // The connection keeps the process alive until the editor sends exit.
    return new Promise<number>(() => undefined);
  },
};
