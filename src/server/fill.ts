import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { MessageType, ResponseError } from 'vscode-languageserver';
import { NixIpfsError, type FillSummary } from '../protocol';
import { describeTarget, RememberedTargets, resolveBuildTarget, targetFromText, type BuildTarget } from '../services/build-targets';
import { fillHashes, type FillResult } from '../services/fill';
import type { Args, CommandEnv, CommandTable } from './commands';

/** Fill one hash, or every placeholder of a file: what the "Fill hash" actions and lenses run. */
export const fillCommands: Pick<CommandTable, 'fillHash' | 'fillAllHashes'> = {
  fillHash: { title: 'Filling in the hash', run: fillOne },
  fillAllHashes: { title: 'Filling in the hashes', run: fillAll },
};

/** The build picked for each file, kept across sessions (the user picks once). */
let remembered: RememberedTargets | undefined;

async function fillOne(args: Args, env: CommandEnv): Promise<string> {
  const document = env.documents.get(args.string('uri')) ?? args.invalid(`${args.string('uri')} is not open in the editor`);
  const offset = args.optionalNumber('hashFrom') ?? document.offsetAt(args.optionalPosition('position') ?? args.invalid("give 'position' or 'hashFrom'"));
  const fetcher = await env.documents.fetcherAt(args.string('uri'), offset);
  if (!fetcher) throw new ResponseError(NixIpfsError.Failed, 'there is no hash at the cursor: put it on a fetcher call or its hash');
  const result = await fill(args, env, [fetcher.hashFrom]);
  const [failure] = result.failed;
  if (failure) throw new ResponseError(NixIpfsError.Failed, `${failure.label}: ${failure.error}`);
  const [filled] = result.filled;
  if (!filled) throw new ResponseError(NixIpfsError.Failed, 'no hash was filled in at the cursor');
  return filled.hash;
}

async function fillAll(args: Args, env: CommandEnv): Promise<FillSummary> {
  const { filled, failed } = await fill(args, env, undefined);
  return { filled, failed };
}

/** Fills the sites, applies the edits to the document as it was, and tells the user what happened. */
async function fill(args: Args, env: CommandEnv, at: number[] | undefined): Promise<FillResult> {
  env.session.requireTrust('Filling a hash (it downloads sources and builds with Nix)');
  const uri = args.string('uri');
  const document = env.documents.get(uri) ?? args.invalid(`${uri} is not open in the editor`);
  if (!uri.startsWith('file:')) throw new ResponseError(NixIpfsError.Failed, `${uri} is not a file on disk: save it first (Nix builds it from its folder)`);
  const file = fileURLToPath(uri);
  const given = args.has('target') ? targetFromText(args.string('target'), path.dirname(file)) : undefined;
  const pin = env.session.settings.pinOnFill;
  if (pin) env.session.requireConfirmedApi();
  const result = await fillHashes(env.session.services(), {
    file,
    text: document.getText(),
    at,
    target: () => chooseTarget(env, file, given),
    pin,
    timeoutMs: env.session.settings.requestTimeoutMs,
    signal: env.signal,
    progress: env.progress,
  });
  if (result.edits.length > 0) {
    const found = result.filled.map((f) => `line ${f.line}: ${f.hash}`).join(', ');
    if (env.documents.get(uri)?.version !== document.version)
      throw new ResponseError(NixIpfsError.Failed, `the file changed while its hashes were found, so nothing was put in (${found}): run Fill again`);
    const edits = result.edits.map((e) => ({ range: { start: document.positionAt(e.from), end: document.positionAt(e.to) }, newText: e.text }));
    await env.applyEdit({ changes: { [uri]: edits } });
  }
  if (result.filled.some((f) => f.cid)) env.changed({ mirror: true });
  for (const f of result.failed) env.log(`fill ${path.basename(file)} ${f.label}: ${f.error}`);
  const failed = result.failed.length > 0 ? `, ${result.failed.length} not (${result.failed.map((f) => f.label).join('; ')}: see the log)` : '';
  env.show(
    result.failed.length > 0 ? MessageType.Warning : MessageType.Info,
    `Filled ${result.filled.length} hash${result.filled.length === 1 ? '' : 'es'} in ${path.basename(file)}${failed}`,
  );
  return result;
}

/** The build for a file that needs one: given, remembered, or picked by the user (then remembered). */
async function chooseTarget(env: CommandEnv, file: string, given: BuildTarget | undefined): Promise<BuildTarget> {
  remembered ??= new RememberedTargets();
  const memory = remembered;
  const root = env.workspaceFolders.find((folder) => file.startsWith(folder + path.sep)) ?? path.dirname(file);
  let picked: BuildTarget | undefined;
  const target = await resolveBuildTarget(env.session.services().nix, file, {
    given,
    remembered: await memory.get(file),
    root,
    choose: async (candidates) => {
      const titles = candidates.map((c) => describeTarget(c, path.dirname(file)));
      const answer = await env.ask(`${path.basename(file)} is not built on its own: which build reaches its hashes? (remembered for this file)`, titles);
      picked = candidates[titles.indexOf(answer ?? '')];
      return picked;
    },
  });
  if (picked) await memory.remember(file, picked);
  return target;
}
