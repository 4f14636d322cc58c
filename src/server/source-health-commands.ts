import { MessageType, ResponseError } from 'vscode-languageserver';
import { NixIpfsError } from '../protocol';
import { atRiskSources, rescueSources, sourceHealth, type RescueResult, type SourceHealthReport } from '../services/source-health';
import type { Args, CommandEnv, CommandTable } from './commands';

/** The Sources view's listing and Rescue: where each source of the workspace can come from, and pinning those at risk. */
export const sourceHealthCommands: Pick<CommandTable, 'sourceHealth' | 'rescueSources'> = {
  sourceHealth: { title: 'Looking for the sources', run: health },
  rescueSources: { title: 'Rescuing sources', run: rescue },
};

function foldersOf(args: Args, env: CommandEnv): string[] {
  const folders = args.optionalStrings('folders') ?? env.workspaceFolders;
  if (folders.length === 0) throw new ResponseError(NixIpfsError.Failed, 'no workspace folder to scan: open a folder with .nix files first');
  return folders;
}

async function listing(args: Args, env: CommandEnv): Promise<SourceHealthReport> {
  const check = args.optionalBoolean('check') ?? false;
  // Asking a URL tells its host that this workspace names it.
  if (check) env.session.requireTrust('Checking upstream URLs');
  return sourceHealth(env.session.services(), foldersOf(args, env), {
    check,
    answers: env.session.upstreamAnswers,
    signal: env.signal,
    onProgress: (message) => env.progress(message),
  });
}

async function health(args: Args, env: CommandEnv): Promise<SourceHealthReport> {
  const report = await listing(args, env);
  env.log(
    `sources: ${report.total} in ${report.files.length} files, ${report.atRisk} at risk, ${report.lost} lost${report.checked ? '' : ' (upstream not checked)'}`,
  );
  return report;
}

async function rescue(args: Args, env: CommandEnv): Promise<RescueResult> {
  env.session.requireTrust('Rescuing (it may download sources)');
  env.session.requireConfirmedApi();
  const hashes = args.optionalStrings('hashes');
  const report = await listing(args, env);
  const sources = hashes ? report.files.flatMap((f) => f.sources).filter((s) => hashes.includes(s.hash)) : atRiskSources(report);
  if (hashes && sources.length === 0) throw new ResponseError(NixIpfsError.Failed, `no .nix file of the workspace names ${hashes.join(', ')}`);
  const result = await rescueSources(env.session.services(), sources, {
    signal: env.signal,
    onProgress: (e) => {
      env.progress(`${e.done}/${e.total} ${e.error ? `could not save ${e.name}` : e.name}`, (100 * e.done) / e.total);
      if (e.error) env.log(`rescue ${e.name} failed: ${e.error}`);
    },
  });
  env.changed({ mirror: true });
  const text = rescueSummary(result);
  env.log(`rescue: ${text}`);
  env.show(result.failed.length ? MessageType.Warning : MessageType.Info, `Rescue: ${text}`);
  return result;
}

/** What was saved and from where, and what could not be and why. */
function rescueSummary(r: RescueResult): string {
  if (r.rescued.length + r.alreadyPinned.length + r.failed.length === 0) return 'no source is at risk';
  const fromStore = r.rescued.filter((s) => s.from === 'store').length;
  const saved = `${r.rescued.length} pinned (${fromStore} from the Nix store, ${r.rescued.length - fromStore} from upstream), ${r.alreadyPinned.length} already pinned`;
  const lost = r.failed.map((f) => `${f.name}: ${f.error}`);
  return `${saved}${r.cancelled ? ' (cancelled)' : ''}${lost.length ? `; could not save ${lost.length}: ${lost.join('; ')}` : ''}`;
}
