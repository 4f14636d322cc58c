import * as vscode from 'vscode';

/** The walkthrough's steps that tick on an action's success (package.json `walkthroughs`: `onContext:nixIpfs.done.<step>`). */
export type WalkthroughStep = 'pinned' | 'published' | 'shared';

const OPENED = 'nixIpfs.walkthroughOpened';

/** Ticks a step: only ever called after the action succeeded (a failed one leaves it open). */
export function stepDone(step: WalkthroughStep): void {
  void vscode.commands.executeCommand('setContext', `nixIpfs.done.${step}`, true);
}

/** Opens the walkthrough the first time the extension starts, as a new user's first page. */
export function openWalkthroughOnce(context: vscode.ExtensionContext): void {
  if (context.globalState.get<boolean>(OPENED)) return;
  void context.globalState.update(OPENED, true);
  void vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#nixIpfs.start`, false);
}
