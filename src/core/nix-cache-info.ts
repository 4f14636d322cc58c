import { ParseError } from './errors';

export interface NixCacheInfo {
  storeDir: string;
  wantMassQuery: boolean;
  /** Lower is preferred; cache.nixos.org says 40. */
  priority: number;
}

export function formatNixCacheInfo(info: Partial<NixCacheInfo> = {}): string {
  return `StoreDir: ${info.storeDir ?? '/nix/store'}\nWantMassQuery: ${info.wantMassQuery === false ? 0 : 1}\nPriority: ${info.priority ?? 40}\n`;
}

export function parseNixCacheInfo(text: string): NixCacheInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\w+): (.*)$/.exec(line);
    if (!match) continue;
    const [, name = '', value = ''] = match;
    fields.set(name, value.trim());
  }
  const storeDir = fields.get('StoreDir');
  if (!storeDir) throw new ParseError('nix-cache-info', 'missing StoreDir');
  const priority = Number(fields.get('Priority') ?? '50');
  if (!Number.isInteger(priority)) throw new ParseError('nix-cache-info', 'Priority must be a whole number');
  return { storeDir, wantMassQuery: fields.get('WantMassQuery') === '1', priority };
}
