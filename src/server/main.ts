import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

// Transport from the command line (--stdio, --node-ipc, --socket=N), as every LSP client passes it.
startServer(createConnection(ProposedFeatures.all));
