import * as vscode from 'vscode';
import { safeUrl } from '../core/redact';
import { DEFAULT_SETTINGS, normalizeSettings, SETTINGS_SCHEMA, type Settings } from '../settings';

const TOKEN_SECRET = 'nixIpfs.kuboApiToken';
const SIGNING_KEY_SECRET = 'nixIpfs.signingKey';
const ACCEPTED_INSECURE_APIS = 'nixIpfs.insecureApisAccepted';

/** The `nixIpfs` section as the user wrote it, for the language server to check (it reports wrong types). */
export function rawSettings(): Record<string, unknown> {
  const c = vscode.workspace.getConfiguration('nixIpfs');
  return Object.fromEntries(Object.keys(SETTINGS_SCHEMA).map((key) => [key, c.get(key)]));
}

/** The settings the extension itself reads (refresh interval, gateway), read fresh each time. */
export function readSettings(): Settings {
  try {
    return normalizeSettings(rawSettings());
  } catch {
    return DEFAULT_SETTINGS; // the language server shows what is wrong
  }
}

/** Secrets (API token, imported signing key) live in SecretStorage only, never in settings or logs. */
export class Secrets {
  constructor(private readonly storage: vscode.SecretStorage) {}

  async apiToken(): Promise<string> {
    return (await this.storage.get(TOKEN_SECRET)) ?? '';
  }

  async signingKey(): Promise<string> {
    return (await this.storage.get(SIGNING_KEY_SECRET)) ?? '';
  }

  /** Stores a secret ('' removes it). */
  async set(secret: 'kuboApiToken' | 'signingKey', value: string): Promise<void> {
    const key = secret === 'kuboApiToken' ? TOKEN_SECRET : SIGNING_KEY_SECRET;
    if (value) await this.storage.store(key, value);
    else await this.storage.delete(key);
  }
}

/**
 * The user's answer about plain-HTTP Kubo APIs on other machines. The language server decides
 * when one needs consent (and refuses until then); this only asks, and remembers the answer.
 */
export class Consent {
  constructor(private readonly memento: vscode.Memento) {}

  accepted(): string[] {
    return this.memento.get<string[]>(ACCEPTED_INSECURE_APIS) ?? [];
  }

  /** Asks once (modally) whether to use the API; true when the user agrees. */
  async ask(api: string): Promise<boolean> {
    if (this.accepted().includes(api)) return true;
    const choice = await vscode.window.showWarningMessage(
      `The Kubo API ${safeUrl(api)} is reached over plain HTTP on another machine: anyone on the network path can read the API token and change what gets published. Use it anyway?`,
      { modal: true },
      'Use It',
    );
    if (choice !== 'Use It') return false;
    await this.memento.update(ACCEPTED_INSECURE_APIS, [...this.accepted(), api]);
    return true;
  }
}
