import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Nix IPFS', { log: true });
  context.subscriptions.push(log);
  log.info('nix-ipfs activated');
}

export function deactivate(): void {}
