import type { Command } from '../command';
import { checkCommand } from './check';
import { cidCommand, hashCommand } from './cid';
import { exportCommand } from './export';
import { fetchCommand } from './fetch';
import { fillCommand } from './fill';
import { followCommand, followingCommand, unfollowCommand } from './follow';
import { importCommand } from './import';
import { keygenCommand } from './keygen';
import { lspCommand } from './lsp';
import { networkCommand } from './network';
import { nixConfCommand } from './nix-conf';
import { pinCommand } from './pin';
import { postBuildHookCommand } from './post-build-hook';
import { publishCommand } from './publish';
import { replicateCommand } from './replicate';
import { scanCommand } from './scan';
import { sourcesCommand } from './sources';
import { statusCommand } from './status';
import { verifyCommand } from './verify';

/** Every subcommand, in the order `--help` lists them. */
export const commands: Command[] = [
  publishCommand,
  pinCommand,
  verifyCommand,
  fetchCommand,
  replicateCommand,
  networkCommand,
  exportCommand,
  importCommand,
  postBuildHookCommand,
  followCommand,
  unfollowCommand,
  followingCommand,
  nixConfCommand,
  statusCommand,
  scanCommand,
  sourcesCommand,
  fillCommand,
  checkCommand,
  keygenCommand,
  cidCommand,
  hashCommand,
  lspCommand,
];
