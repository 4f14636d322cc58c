import { realpath } from 'node:fs/promises';
import { exportCar } from '../../services/car';
import { followStateFile, readFollowState } from '../../services/follow';
import { teamContext, type TeamContext } from '../../services/network';
import { rootPath } from '../../services/replicate';
import { stateDir } from '../../services/state-files';
import { print, UsageError, type Command } from '../command';
import { nodeOptions, serviceContext, type Values } from '../context';

export const exportCommand: Command = {
  usage: '<store-path | result-link>... <out.car> | --all <out.car>   [--from <followed name | cid | /ipns/name>] [--state-dir DIR]',
  options: { ...nodeOptions, all: { type: 'boolean' }, from: { type: 'string' }, 'state-dir': { type: 'string' } },
  maxArguments: Infinity,
  async run({ values, positionals }) {
    const file = positionals.at(-1);
    const paths = positionals.slice(0, -1);
    if (!file || !file.endsWith('.car')) throw new UsageError('name the CAR file to write last, ending in .car: nix-ipfs export <store-path>... out.car', 2);
    if (values.all ? paths.length > 0 : paths.length === 0)
      throw new UsageError('name the store paths whose closures to export, or --all for the whole cache (not both)', 2);
    const ctx = teamContext(serviceContext(values));
    const source = await sourceRoot(ctx, values);
    const result = await exportCar(ctx, source, values.all ? undefined : await Promise.all(paths.map(storePathOf)), file);
    const what = result.storePaths ? `${result.storePaths.length} store paths (the closures asked for)` : `all of ${source}`;
    print(
      values,
      result,
      [`wrote ${file}: ${what}, ${result.bytes} bytes, root ${result.rootCid}`, `On the machine without network: nix-ipfs import ${file}`].join('\n'),
    );
    return 0;
  },
};

/**
 * --from: a followed name's replica (no network needed), else a CID, /ipfs/ or /ipns/ path, or a
 * gateway URL of one; without it, what this node publishes itself.
 */
async function sourceRoot(ctx: TeamContext, values: Values): Promise<string> {
  const from = values.from as string | undefined;
  if (from) {
    const path = rootPath(from);
    const { follows } = await readFollowState(followStateFile(stateDir(values['state-dir'] as string | undefined)));
    const held = follows.find((f) => `/ipns/${f.name}` === path)?.roots[0];
    return held ? held.cid : ctx.kubo.resolve(path);
  }
  const own = await ctx.kubo.mfsStat(ctx.layout.root);
  if (!own)
    throw new UsageError(
      `this node publishes nothing yet (${ctx.layout.root} is empty): publish first, or export another cache with --from <cid | /ipns/name>`,
    );
  return own.cid;
}

/** A store path (a file inside one counts as the path) or a link into the store such as ./result. */
async function storePathOf(given: string): Promise<string> {
  const resolved = given.startsWith('/nix/store/') ? given : await realpath(given).catch(() => given);
  if (!resolved.startsWith('/nix/store/')) throw new UsageError(`${given} is neither a store path nor a link into /nix/store`, 2);
  return resolved.split('/').slice(0, 4).join('/');
}
