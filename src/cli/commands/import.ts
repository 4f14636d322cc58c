import { existsSync } from 'node:fs';
import { importCar } from '../../services/car';
import { teamContext } from '../../services/network';
import { print, UsageError, type Command } from '../command';
import { gatewayUrl, nodeOptions, serviceContext } from '../context';

export const importCommand: Command = {
  usage: '<in.car> [--gateway URL] [--api …] [--json]',
  options: nodeOptions,
  maxArguments: 1,
  async run({ values, positionals }) {
    const [file] = positionals;
    if (!file) throw new UsageError('name the CAR file to import: nix-ipfs import in.car', 2);
    if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
    const ctx = teamContext(serviceContext(values));
    const roots = await importCar(ctx, file);
    const gateway = await gatewayUrl(ctx, values).catch(() => 'http://127.0.0.1:8080');
    const caches = roots.filter((r) => r.cachePath).map((r) => ({ ...r, cacheUrl: `${gateway}${r.cachePath}` }));
    const lines = [`imported and pinned ${roots.map((r) => r.cid).join(', ')} from ${file}`];
    for (const cache of caches) {
      lines.push(
        'Stock Nix substitutes from it through your gateway (with the public key of whoever signed it):',
        `  extra-substituters = ${cache.cacheUrl}`,
        `  nix copy --from ${cache.cacheUrl} /nix/store/<hash>-<name> --option trusted-public-keys '<name>:<key>'`,
      );
    }
    if (caches.length === 0) lines.push('it holds no Nix binary cache (no nix-cache-info): Nix cannot substitute from it');
    print(values, { roots, caches }, lines.join('\n'));
    return 0;
  },
};
