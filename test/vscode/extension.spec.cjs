const assert = require('node:assert/strict');
const vscode = require('vscode');
const manifest = require('../../package.json');

describe('nix-ipfs in VS Code', () => {
  before(async () => {
    const extension = vscode.extensions.getExtension('nix-ipfs.nix-ipfs');
    assert.ok(extension, 'the extension is installed');
    const document = await vscode.workspace.openTextDocument({ language: 'nix', content: '{ }' });
    await vscode.window.showTextDocument(document);
    await extension.activate();
  });

  it('registers every command the manifest declares', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const { command } of manifest.contributes.commands) assert.ok(registered.has(command), command);
  });

  it('has the documented setting defaults', () => {
    const config = vscode.workspace.getConfiguration('nixIpfs');
    for (const [key, schema] of Object.entries(manifest.contributes.configuration.properties)) {
      assert.deepEqual(config.get(key.replace(/^nixIpfs\./, '')), schema.default, key);
    }
  });

  it('treats .nix files as the nix language', async () => {
    const document = await vscode.workspace.openTextDocument({ language: 'nix', content: '' });
    assert.equal(document.languageId, 'nix');
  });
});
