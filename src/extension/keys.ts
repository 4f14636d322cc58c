import { hostname } from 'node:os';
import * as vscode from 'vscode';
import { keyNameProblem } from '../core/inputs';
import { generateKeyPair } from '../core/signature';
import type { SigningKeyStatus } from '../protocol';
import { copy, Declined } from './actions';
import type { Ctx } from './commands';
import { keySourceText } from './views';

/**
 * The signing key as the user handles it. The language server decides which key is active
 * (services/keys.ts: one stored in VS Code's secret store wins over nixIpfs.signingKeyFile); these
 * commands show it, and ask before replacing or removing it.
 */

/** The key as the server sees it now (asked afresh, so a file changed meanwhile counts). */
async function activeKey(ctx: Ctx): Promise<SigningKeyStatus> {
  await ctx.monitor.refresh();
  return ctx.monitor.signingKey ?? { kind: 'none' };
}

async function keyChanged(ctx: Ctx, secretText: string): Promise<void> {
  await ctx.secrets.set('signingKey', secretText);
  await ctx.server.secretsChanged({ signingKey: secretText });
  await ctx.monitor.refresh();
  ctx.published.refresh(); // signatures are checked against the user's own key too
}

/** Makes a key pair, asking first when a key is already set; the secret goes to the secret store only. */
export async function generateSigningKey(ctx: Ctx): Promise<void> {
  const current = await activeKey(ctx);
  if (current.kind !== 'none') {
    const name = current.kind === 'active' ? `“${current.name}”` : 'that cannot be used';
    const keeps =
      current.kind === 'active' ? ` Paths already published stay signed by “${current.name}”: Nix trusts them only where its public key is trusted.` : '';
    const file = current.from === 'file' ? ` ${current.file} stays on disk, unused while the new key is stored.` : ' The stored key is deleted.';
    const choice = await vscode.window.showWarningMessage(
      `Replace the signing key ${name} from ${keySourceText(current)}?`,
      { modal: true, detail: `The new key is kept in VS Code’s secret store and signs from now on.${keeps}${file}` },
      'Replace Key',
    );
    if (choice !== 'Replace Key') throw new Declined('the signing key was kept');
  }
  const name = await vscode.window.showInputBox({
    title: 'Generate Signing Key: its name',
    value: `${hostname()}-nix-ipfs-1`,
    prompt: 'Nix shows it before each signature; the usual form is host-purpose-N',
    validateInput: keyNameProblem,
    ignoreFocusOut: true,
  });
  if (name === undefined) throw new Declined('no name given');
  const pair = generateKeyPair(name.trim());
  await keyChanged(ctx, pair.secret);
  ctx.actions.log.info(`signing key ${name.trim()} generated and stored in the secret store; public key ${pair.public}`);
  const message = `Signing key “${name.trim()}” generated and kept in VS Code’s secret store. Nix trusts what it signs once its public key is trusted.`;
  offer(vscode.window.showInformationMessage(message, 'Copy Public Key', 'Show Nix Configuration'), {
    'Copy Public Key': () => copy(pair.public, 'the public key'),
    'Show Nix Configuration': () => vscode.commands.executeCommand('nixIpfs.showNixConfig'),
  });
}

/** A message's buttons, run when clicked; not awaited, so a message left open does not keep its action running. */
function offer(message: Thenable<string | undefined>, buttons: Record<string, () => Thenable<unknown>>): void {
  void message.then((choice) => (choice ? buttons[choice]?.() : undefined));
}

/** Which key signs, from where, and its public key. */
export async function showSigningKey(ctx: Ctx): Promise<void> {
  const key = await activeKey(ctx);
  const generate = () => vscode.commands.executeCommand('nixIpfs.generateSigningKey');
  if (key.kind === 'none') {
    offer(vscode.window.showInformationMessage('No signing key is set: published paths would be unsigned, and Nix refuses those.', 'Generate Signing Key'), {
      'Generate Signing Key': generate,
    });
    return;
  }
  if (key.kind === 'broken') {
    offer(vscode.window.showErrorMessage(`The signing key from ${keySourceText(key)} cannot be used: ${key.error}`, 'Open Settings', 'Generate Signing Key'), {
      'Open Settings': () => vscode.commands.executeCommand('workbench.action.openSettings', 'nixIpfs.signingKeyFile'),
      'Generate Signing Key': generate,
    });
    return;
  }
  const shadowed = key.shadowedFile ? ` (used instead of ${key.shadowedFile})` : '';
  offer(
    vscode.window.showInformationMessage(
      `Signing key “${key.name}” from ${keySourceText(key)}${shadowed}. Public key: ${key.publicKey}`,
      'Copy Public Key',
      'Remove…',
    ),
    {
      'Copy Public Key': () => copy(key.publicKey, 'the public key'),
      'Remove…': () => vscode.commands.executeCommand('nixIpfs.removeSigningKey'),
    },
  );
}

/** Stops signing with the active key: deletes the stored one, or clears nixIpfs.signingKeyFile (never the file). */
export async function removeSigningKey(ctx: Ctx): Promise<void> {
  const key = await activeKey(ctx);
  if (key.kind === 'none') {
    void vscode.window.showInformationMessage('No signing key is set: there is nothing to remove.');
    return;
  }
  const name = key.kind === 'active' ? `“${key.name}”` : 'that cannot be used';
  if (key.from === 'secret-store') {
    const next =
      key.kind === 'active' && key.shadowedFile ? `The key file ${key.shadowedFile} (nixIpfs.signingKeyFile) signs instead.` : 'Publishing will ask for a key.';
    const choice = await vscode.window.showWarningMessage(
      `Delete the signing key ${name} from VS Code’s secret store?`,
      { modal: true, detail: `It cannot be recovered. ${next}` },
      'Delete Key',
    );
    if (choice !== 'Delete Key') throw new Declined('the signing key was kept');
    await keyChanged(ctx, '');
    ctx.actions.log.info('the signing key in the secret store was deleted');
    return;
  }
  const choice = await vscode.window.showWarningMessage(
    `Stop signing with the key ${name}?`,
    { modal: true, detail: `This clears the setting nixIpfs.signingKeyFile; the file ${key.file} stays on disk.` },
    'Clear Setting',
  );
  if (choice !== 'Clear Setting') throw new Declined('the signing key was kept');
  await clearSetting('signingKeyFile');
  await ctx.monitor.refresh();
  ctx.published.refresh();
  ctx.actions.log.info('nixIpfs.signingKeyFile cleared');
}

/** Removes a setting wherever it is set (user, workspace, folder). */
async function clearSetting(key: string): Promise<void> {
  const configuration = vscode.workspace.getConfiguration('nixIpfs');
  const inspected = configuration.inspect(key);
  if (inspected?.workspaceFolderValue !== undefined) await configuration.update(key, undefined, vscode.ConfigurationTarget.WorkspaceFolder);
  if (inspected?.workspaceValue !== undefined) await configuration.update(key, undefined, vscode.ConfigurationTarget.Workspace);
  if (inspected?.globalValue !== undefined) await configuration.update(key, undefined, vscode.ConfigurationTarget.Global);
}
