import { realpath } from 'node:fs/promises';
import type { Nix } from '../../nix/cli';
import { publish } from '../../services/publish';
import { print, UsageError, type Command } from '../command';
import { gatewayUrl, nodeOptions, readSecretKey, serviceContext } from '../context';

export const publishCommand: Command = {
  usage: '<store-path | result-link | file.nix>... [--key-file sk] [--api …] [--json]',
  options: { ...nodeOptions, 'key-file': { type: 'string' } },
  maxArguments: Infinity,
  async run({ values, positionals }) {
    if (positionals.length === 0) throw new UsageError('name at least one store path, result link or .nix file to build', 2);
    const ctx = serviceContext(values);
    const secretKey = await readSecretKey(values['key-file'] as string | undefined);
    const paths = (await Promise.all(positionals.map((p) => resolveInstallable(ctx.nix, p)))).flat();
    const result = await publish(ctx, paths, {
      secretKey,
      onProgress: (e) => {
        if (!values.json) process.stderr.write(`[${e.done}/${e.total}] ${e.status} ${e.storePath}\n`);
      },
    });
    const cacheUrl = result.ipnsName ? `${await gatewayUrl(ctx, values).catch(() => '<gateway>')}/ipns/${result.ipnsName}/cache` : undefined;
    const published = result.paths.filter((p) => p.status === 'published').length;
    print(
      values,
      { ...result, cacheUrl },
      [
        `${published} published, ${result.paths.length - published} already published, ${result.failed.length} failed`,
        ...result.failed.map((f) => `failed: ${f.storePath}: ${f.error}`),
        ...(cacheUrl ? [`cache: ${cacheUrl}`, `root: /ipfs/${result.rootCid}`] : []),
        ...(secretKey ? [] : ['note: nothing was signed (no --key-file); Nix will only accept these paths with require-sigs = false']),
      ].join('\n'),
    );
    return result.failed.length > 0 ? 1 : 0;
  },
};

/** A store path, a symlink into the store (`./result`), or a .nix file to build. */
async function resolveInstallable(nix: Nix, installable: string): Promise<string[]> {
  if (installable.startsWith('/nix/store/')) return [await builtStorePath(nix, installable)];
  let resolved: string;
  try {
    resolved = await realpath(installable);
  } catch {
    throw new UsageError(`${installable} is neither a store path nor an existing file`);
  }
  if (resolved.startsWith('/nix/store/')) return [await builtStorePath(nix, resolved)];
  if (resolved.endsWith('.nix')) return nix.build(resolved);
  throw new UsageError(`${installable} is not in /nix/store and is not a .nix file to build`);
}

/** The store path a path inside the store belongs to, when this store holds it (Nix would otherwise try to download it). */
async function builtStorePath(nix: Nix, inside: string): Promise<string> {
  const storePath = inside.split('/').slice(0, 4).join('/');
  if (!(await nix.isValid(storePath))) {
    throw new UsageError(
      `${storePath} is not in this Nix store (not built yet, or garbage-collected): build it first (nix-build, or name its .nix file here), then publish`,
    );
  }
  return storePath;
}
