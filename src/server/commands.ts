import { ErrorCodes, LSPErrorCodes, ResponseError, type MessageType, type WorkspaceEdit } from 'vscode-languageserver';
import { printableMessage } from '../core/inputs';
import { safeUrl } from '../core/redact';
import { KuboAuthError, KuboUnreachableError } from '../kubo/client';
import { NixIpfsError, ServerCommand, type CommandResult, type ServerCommandName } from '../protocol';
import { cacheCommands } from './cache-commands';
import type { NixDocuments } from './documents';
import type { PinState, PinStates } from './pin-state';
import type { ServerSession } from './session';
import { sourceCommands } from './source-commands';
import { sourceHealthCommands } from './source-health-commands';

/** A source hash (SRI) and the state a change just gave it. */
export type KnownPinState = [sri: string, state: PinState];

/** What a command works with: the server's state, and the editor it reports to. */
export interface CommandEnv {
  session: ServerSession;
  documents: NixDocuments;
  pinStates: PinStates;
  workspaceFolders: string[];
  /** Aborted when the editor cancels the request or its progress. */
  signal: AbortSignal;
  progress(message: string, percentage?: number): void;
  /** A message every editor shows (window/showMessage). */
  show(type: MessageType, message: string): void;
  log(message: string): void;
  /**
   * After a change to the node: pin states are looked up afresh (except those `known` from the
   * change itself), and lenses, diagnostics and the editor's views follow at once.
   */
  changed(what: { mirror?: boolean; cache?: boolean; known?: KnownPinState[] }): void;
  applyEdit(edit: WorkspaceEdit): Promise<void>;
  /** Asks the user to pick one of `choices` (window/showMessageRequest); undefined when they dismiss it. */
  ask(message: string, choices: string[]): Promise<string | undefined>;
}

/** A command reads its one argument object from whatever JSON the editor sent (see Args). */
export type CommandHandler<C extends ServerCommandName> = (args: Args, env: CommandEnv) => Promise<CommandResult<C>>;
export type CommandTable = { [C in ServerCommandName]: { title: string; run: CommandHandler<C> } };

const COMMANDS: CommandTable = { ...sourceCommands, ...sourceHealthCommands, ...cacheCommands };

/**
 * Runs a command; every failure reaches the editor as a ResponseError whose message says what
 * to do (the consent, trust, signing-key and Kubo cases with their own codes, for the editor to
 * act on). The same command with the same argument, asked again while it runs (a lens clicked
 * twice), joins the run under way instead of starting another.
 */
export function runCommand<C extends ServerCommandName>(name: C, raw: unknown, env: CommandEnv): Promise<CommandResult<C>> {
  const key = `${name} ${JSON.stringify(raw ?? null)}`;
  const running = env.session.running.get(key) as Promise<CommandResult<C>> | undefined;
  if (running) return running;
  const run = runOnce(name, raw, env).finally(() => env.session.running.delete(key));
  env.session.running.set(key, run);
  return run;
}

async function runOnce<C extends ServerCommandName>(name: C, raw: unknown, env: CommandEnv): Promise<CommandResult<C>> {
  const command = COMMANDS[name] as CommandTable[C];
  try {
    return await command.run(new Args(ServerCommand[name], raw), env);
  } catch (error) {
    if (error instanceof ResponseError) throw new ResponseError(error.code, printableMessage(error.message), error.data);
    if (env.signal.aborted) throw new ResponseError(LSPErrorCodes.RequestCancelled, `${command.title}: cancelled`);
    const message = printableMessage((error as Error).message);
    const api = safeUrl(env.session.settings.kuboApi);
    if (error instanceof KuboUnreachableError) throw new ResponseError(NixIpfsError.KuboUnreachable, message, { api });
    if (error instanceof KuboAuthError) throw new ResponseError(NixIpfsError.KuboUnauthorized, message, { api });
    throw new ResponseError(NixIpfsError.Failed, message);
  }
}

export function commandTitle(name: ServerCommandName): string {
  return COMMANDS[name].title;
}

/** The argument object of a command, read field by field; a wrong one is an InvalidParams error naming it. */
export class Args {
  private readonly fields: Record<string, unknown>;

  constructor(
    private readonly command: string,
    raw: unknown,
  ) {
    this.fields = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    if (raw !== undefined && raw !== null && this.fields !== raw) this.invalid(`its argument must be an object, not ${JSON.stringify(raw)}`);
  }

  has(key: string): boolean {
    return this.fields[key] !== undefined && this.fields[key] !== null;
  }

  string(key: string): string {
    const value = this.optionalString(key);
    return value ?? this.invalid(`'${key}' (a string) is missing`);
  }

  optionalString(key: string): string | undefined {
    return this.typed(key, 'string', (v): v is string => typeof v === 'string');
  }

  optionalNumber(key: string): number | undefined {
    return this.typed(key, 'number', (v): v is number => typeof v === 'number' && Number.isFinite(v));
  }

  optionalBoolean(key: string): boolean | undefined {
    return this.typed(key, 'boolean', (v): v is boolean => typeof v === 'boolean');
  }

  strings(key: string): string[] {
    return this.optionalStrings(key) ?? this.invalid(`'${key}' (a list of strings) is missing`);
  }

  optionalStrings(key: string): string[] | undefined {
    return this.typed(key, 'list of strings', (v): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string'));
  }

  optionalPosition(key: string): { line: number; character: number } | undefined {
    const isPosition = (v: unknown): v is { line: number; character: number } =>
      typeof v === 'object' && v !== null && typeof (v as { line?: unknown }).line === 'number' && typeof (v as { character?: unknown }).character === 'number';
    return this.typed(key, 'position { line, character }', isPosition);
  }

  invalid(problem: string): never {
    throw new ResponseError(ErrorCodes.InvalidParams, `${this.command}: ${problem} (docs/protocol.md lists every command's arguments)`);
  }

  private typed<T>(key: string, what: string, check: (value: unknown) => value is T): T | undefined {
    const value = this.fields[key];
    if (value === undefined || value === null) return undefined;
    return check(value) ? value : this.invalid(`'${key}' must be a ${what}, not ${JSON.stringify(value)}`);
  }
}
