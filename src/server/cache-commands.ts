import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { MessageType, ResponseError } from 'vscode-languageserver';
import { publishTargetProblem, quoteInput, replicateTargetProblem, verifyTargetProblem } from '../core/inputs';
import { DEFAULT_STORE_DIR, parseStorePath } from '../core/store-path';
import { formatPublicKey, publicKeyOf, type SecretKey } from '../core/signature';
import { NixIpfsError, type NixConfigResult } from '../protocol';
import { unpublishPath } from '../services/cache-index';
import { nixConfInput, nixConfLines } from '../services/nix-conf';
import { buildFolder, publish, type PublishResult } from '../services/publish';
import { replicate } from '../services/replicate';
import { verify } from '../services/verify';
import type { Args, CommandEnv, CommandTable } from './commands';

/** Publish, unpublish, verify, replicate and the nix.conf lines: what acts on the binary cache. */
export const cacheCommands: Pick<CommandTable, 'publish' | 'publishBuildResult' | 'unpublish' | 'verify' | 'replicate' | 'nixConfig'> = {
  publish: { title: 'Publishing to IPFS', run: publishPaths },
  publishBuildResult: { title: 'Building and publishing', run: publishBuildResult },
  unpublish: { title: 'Unpublishing', run: unpublish },
  verify: { title: 'Verifying', run: verifyTarget },
  replicate: { title: 'Replicating a cache', run: replicateCache },
  nixConfig: { title: 'Reading the node and Nix', run: nixConfig },
};

/** The signing key, or undefined when the caller agreed to publish unsigned; else a SigningKeyMissing error. */
async function signingKey(args: Args, env: CommandEnv): Promise<SecretKey | undefined> {
  const key = await env.session.signingKey();
  if (key || args.optionalBoolean('allowUnsigned')) return key;
  throw new ResponseError(
    NixIpfsError.SigningKeyMissing,
    'no signing key, and Nix refuses unsigned paths unless require-sigs is off: set signingKeyFile (nix-ipfs keygen makes a key), or publish unsigned (allowUnsigned: true)',
  );
}

async function publishPaths(args: Args, env: CommandEnv): Promise<PublishResult> {
  env.session.requireConfirmedApi();
  const given = args.strings('paths');
  for (const text of given) {
    const problem = publishTargetProblem(text);
    if (problem) throw new ResponseError(NixIpfsError.Failed, problem);
  }
  const secretKey = await signingKey(args, env);
  return publishSigned(await Promise.all(given.map((text) => validStorePath(text, env))), secretKey, env);
}

/** A store path in the local store, from what the user gave: the path itself, or a link to it (`./result`). */
async function validStorePath(text: string, env: CommandEnv): Promise<string> {
  const given = text.trim().replace(/^~(?=\/)/, homedir());
  const target = given.startsWith(`${DEFAULT_STORE_DIR}/`) ? given : await realpath(path.resolve(env.workspaceFolders[0] ?? '.', given)).catch(() => undefined);
  if (!target) throw new ResponseError(NixIpfsError.Failed, `${quoteInput(text)} does not exist: give a store path, or the path of a result link`);
  if (!target.startsWith(`${DEFAULT_STORE_DIR}/`))
    throw new ResponseError(NixIpfsError.Failed, `${quoteInput(text)} is not in the Nix store (${DEFAULT_STORE_DIR}): give a store path, or a link to one`);
  const storePath = parseStorePath(target).path;
  if (!(await env.session.services().nix.isValid(storePath))) {
    throw new ResponseError(NixIpfsError.Failed, `${quoteInput(storePath)} is not in your Nix store: build or substitute it first`);
  }
  return storePath;
}

async function publishBuildResult(args: Args, env: CommandEnv): Promise<PublishResult> {
  env.session.requireTrust('Building');
  env.session.requireConfirmedApi();
  const folder = args.optionalString('folder') ?? env.workspaceFolders[0];
  if (!folder) throw new ResponseError(NixIpfsError.Failed, 'no folder to build: open a folder with a default.nix or flake.nix first');
  const secretKey = await signingKey(args, env); // asked before the build, not after it
  env.progress(`building ${folder}…`);
  const storePath = await buildFolder(env.session.services(), folder);
  env.log(`built ${storePath}`);
  return publishSigned([storePath], secretKey, env);
}

async function publishSigned(paths: string[], secretKey: SecretKey | undefined, env: CommandEnv): Promise<PublishResult> {
  const result = await publish(env.session.services(), paths, {
    secretKey,
    signal: env.signal,
    onProgress: (e) => env.progress(`${e.done}/${e.total} ${path.basename(e.storePath)}`, (100 * e.done) / e.total),
  });
  for (const f of result.failed) env.log(`publish ${f.storePath}: ${f.error}`);
  env.log(
    `publish ${paths.join(' ')}: ${result.paths.length} paths in the cache, ${result.failed.length} failed; root /ipfs/${result.rootCid}, IPNS ${result.ipnsName}`,
  );
  env.changed({ cache: true });
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const failed = result.failed.length ? `, ${result.failed.length} failed (the output log says why)` : '';
  const summary = `${count(result.paths.length, 'path')} in the cache${failed}${secretKey ? '' : ', unsigned'}`;
  env.show(result.failed.length ? MessageType.Warning : MessageType.Info, `Published: ${summary}`);
  return result;
}

async function unpublish(args: Args, env: CommandEnv) {
  env.session.requireConfirmedApi();
  const entry = await unpublishPath(env.session.services(), args.string('storePath'));
  env.changed({ cache: true });
  env.show(MessageType.Info, `Unpublished ${entry.storePath}`);
  return entry;
}

async function verifyTarget(args: Args, env: CommandEnv) {
  env.session.requireConfirmedApi();
  const target = args.string('target').trim();
  const problem = verifyTargetProblem(target);
  if (problem) throw new ResponseError(NixIpfsError.Failed, problem);
  const report = await verify(env.session.services(), target, await env.session.trustedKeys());
  env.log(`verify ${report.narinfo.storePath} (${report.source}): ${report.trusted ? 'trusted' : 'NOT trusted'}`);
  for (const s of report.signatures) env.log(`  ${s.state} ${s.keyName}`);
  env.log(report.nar.ok ? `  NAR ok (${report.nar.narSize} bytes)` : `  NAR BAD: ${report.nar.error}`);
  const message = `${path.basename(report.narinfo.storePath)} is ${report.trusted ? 'trusted' : 'NOT trusted'}: ${report.reason}`;
  env.show(report.trusted ? MessageType.Info : MessageType.Warning, message);
  return report;
}

async function replicateCache(args: Args, env: CommandEnv) {
  env.session.requireConfirmedApi();
  const target = args.string('target').trim();
  const problem = replicateTargetProblem(target);
  if (problem) throw new ResponseError(NixIpfsError.Failed, problem);
  const result = await replicate(env.session.services(), target, { signal: env.signal, onProgress: (blocks) => env.progress(`${blocks} blocks`) });
  env.show(MessageType.Info, `Replicated ${target}: ${result.blocks} blocks pinned (root ${result.rootCid})`);
  env.changed({});
  return result;
}

async function nixConfig(_args: Args, env: CommandEnv): Promise<NixConfigResult> {
  env.session.requireConfirmedApi();
  const ctx = env.session.services();
  const own = await env.session.signingKey().catch(() => undefined);
  const gateway = env.session.settings.gatewayUrl || (await ctx.kubo.gatewayUrl());
  const input = await nixConfInput(ctx, gateway, own ? [formatPublicKey(publicKeyOf(own))] : []);
  return { text: nixConfLines(input), needsAdministrator: input.access.daemon && !input.access.trusted };
}
