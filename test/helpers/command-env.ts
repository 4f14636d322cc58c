import type { MessageType } from 'vscode-languageserver';
import { Nix } from '../../src/nix/cli';
import type { CommandEnv } from '../../src/server/commands';
import { NixDocuments } from '../../src/server/documents';
import { PinStates } from '../../src/server/pin-state';
import { ServerSession } from '../../src/server/session';
import { createServiceContext, Layout, type ServiceContext } from '../../src/services/context';
import { MemoryKubo } from './memory-kubo';

/** A Nix whose store holds nothing: no path is valid. */
export class EmptyStore extends Nix {
  override async isValid(): Promise<boolean> {
    return false;
  }
}

/**
 * A language server's command environment without a process: on an in-memory node, or (with
 * `kuboApi`) on a real Kubo client for that address. It records what the server tells the editor.
 */
export function commandEnvironment(init: Record<string, unknown> = {}) {
  const kubo = new MemoryKubo();
  const ctx: ServiceContext = { kubo, nix: new EmptyStore(), layout: new Layout('/nix-ipfs'), keyName: 'nix-ipfs', concurrency: 2 };
  const reasons: string[] = [];
  const session = new ServerSession(
    (reason) => void reasons.push(reason),
    () => undefined,
    init.kuboApi ? createServiceContext : () => ctx,
  );
  session.configure(init, init);
  const told = { messages: [] as [MessageType, string][], changes: [] as Parameters<CommandEnv['changed']>[0][], reasons };
  const env: CommandEnv = {
    session,
    documents: new NixDocuments(),
    pinStates: new PinStates(
      () => session.services(),
      () => undefined,
    ),
    workspaceFolders: [],
    signal: new AbortController().signal,
    progress: () => undefined,
    show: (type, message) => void told.messages.push([type, message]),
    log: () => undefined,
    changed: (what) => void told.changes.push(what),
    applyEdit: async () => undefined,
    ask: async () => undefined,
  };
  return { kubo, ctx, env, told, session };
}
