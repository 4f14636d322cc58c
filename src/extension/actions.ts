import * as vscode from 'vscode';
import { LSPErrorCodes, ResponseError } from 'vscode-languageclient/node';
import { printableMessage } from '../core/inputs';
import { NixIpfsError } from '../protocol';

/** A failure already dealt with (the user declined, or cancelled): nothing more to show. */
export class Declined extends Error {
  override name = 'Declined';
}

/** True for a failure the user caused on purpose (cancel, decline): not worth an error message. */
export function isDeclined(error: unknown): boolean {
  return (
    error instanceof Declined || error instanceof vscode.CancellationError || (error instanceof ResponseError && error.code === LSPErrorCodes.RequestCancelled)
  );
}

/** The code of a ResponseError from the server (NixIpfsError), else undefined. */
export function serverErrorCode(error: unknown): number | undefined {
  return error instanceof ResponseError ? error.code : undefined;
}

const MAX_NOTIFICATION_LENGTH = 400;

/**
 * A message as a notification shows it: one paragraph of printable text, bounded (the whole of
 * it goes to the log). Never a stack trace, a control character or a page of output.
 */
export function notificationText(message: string): string {
  const text = printableMessage(message)
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line))
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
  return text.length > MAX_NOTIFICATION_LENGTH ? `${text.slice(0, MAX_NOTIFICATION_LENGTH - 40).trimEnd()}… (the rest is in the output log)` : text;
}

/** What the user can do about a failure, by its code: the button's title and what it runs. */
function remedies(error: unknown): [string, () => Thenable<unknown>][] {
  switch (serverErrorCode(error)) {
    case NixIpfsError.KuboUnreachable:
      return [['Open Settings', () => vscode.commands.executeCommand('workbench.action.openSettings', 'nixIpfs.kuboApi')]];
    case NixIpfsError.KuboUnauthorized:
      return [['Set Kubo API Token', () => vscode.commands.executeCommand('nixIpfs.setApiToken')]];
    case NixIpfsError.UntrustedWorkspace:
      return [['Manage Workspace Trust', () => vscode.commands.executeCommand('workbench.trust.manage')]];
    default:
      return [];
  }
}

/**
 * Every action the user starts, whoever does the work (the extension or the language server),
 * goes through here: logged when it starts and ends in the one output channel, its failure shown
 * in words with what to do and "Open Log", and never started twice at once.
 */
export class Actions {
  private readonly running = new Set<string>();

  constructor(readonly log: vscode.LogOutputChannel) {}

  /** Runs `work` as the action `title`; `key` tells two starts of the same action apart from two actions. */
  async run<T>(title: string, key: string, work: () => Promise<T>): Promise<T | undefined> {
    if (this.running.has(key)) {
      this.log.info(`${title}: already running, not started again`);
      void vscode.window.showInformationMessage(`${title} is already running: its progress is in the notifications.`);
      return undefined;
    }
    this.running.add(key);
    this.log.info(`${title}: started`);
    try {
      const result = await work();
      this.log.info(`${title}: finished`);
      return result;
    } catch (error) {
      if (isDeclined(error)) {
        this.log.info(`${title}: cancelled`);
        return undefined;
      }
      this.log.error(`${title}: ${printableMessage((error as Error).message)}`);
      this.showError(error);
      return undefined;
    } finally {
      this.running.delete(key);
    }
  }

  /** A failure as a notification: what happened in words, what to do, and the log. */
  showError(error: unknown): void {
    const buttons = [...remedies(error), ['Open Log', async () => this.log.show()] as [string, () => Thenable<unknown>]];
    void vscode.window.showErrorMessage(`Nix IPFS: ${notificationText((error as Error).message)}`, ...buttons.map(([title]) => title)).then((choice) => {
      void buttons.find(([title]) => title === choice)?.[1]();
    });
  }

  /** A message the language server sent (window/showMessage): logged, and shown with "Open Log" when something went wrong. */
  showServerMessage(type: 'error' | 'warning' | 'info', message: string): void {
    const text = notificationText(message);
    this.log[type === 'warning' ? 'warn' : type](printableMessage(message));
    if (type === 'info') {
      void vscode.window.showInformationMessage(`Nix IPFS: ${text}`);
      return;
    }
    const show = type === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(`Nix IPFS: ${text}`, 'Open Log').then((choice) => choice && this.log.show());
  }
}

/** Copies to the clipboard, and says what was copied (the text itself too, when it is one short line). */
export async function copy(text: string, what: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
  const shown = text.length <= 100 && !text.includes('\n') ? `: ${text}` : '';
  void vscode.window.showInformationMessage(`Copied ${what}${shown}`);
}
