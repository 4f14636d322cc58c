import { cidForFlatHash } from '../../core/cid';
import { isHashAlgo, parseHash, type HashAlgo } from '../../core/hash';
import { print, UsageError, type Command } from '../command';

/**
 * Parses a hash for the CLI. An SRI (sha512-…) or prefixed (sha512:…) hash names its own algorithm;
 * a bare digest is read as --type (default sha256). An explicit --type must agree with the hash.
 */
export function hashArgument(text: string | undefined, type: unknown): ReturnType<typeof parseHash>['hash'] {
  if (!text) throw new UsageError('name a hash: SRI (sha256-…), sha256:…, or a bare base16/base32/base64 digest', 2);
  const trimmed = text.trim();
  // No Nix digest encoding uses '-' or ':', so either one means the hash names its algorithm.
  const named = /^([^-:]*)[-:]/.exec(trimmed)?.[1];
  if (named !== undefined && !isHashAlgo(named)) throw new UsageError(`unknown hash algorithm '${named}' (md5, sha1, sha256 or sha512)`);
  if (type !== undefined && !isHashAlgo(String(type))) throw new UsageError(`--type takes md5, sha1, sha256 or sha512, not '${type}'`, 2);
  const algo = (type as HashAlgo | undefined) ?? (named ? undefined : 'sha256');
  try {
    return parseHash(trimmed, algo).hash;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export const cidCommand: Command = {
  usage: '<hash> [--type sha256|sha512 (for a bare digest)] [--json]',
  options: { json: { type: 'boolean' }, type: { type: 'string' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    const hash = hashArgument(positionals[0], values.type);
    const cid = cidForFlatHash(hash);
    if (!cid) throw new UsageError(`${hash.algo} hashes have no CID: only sha256 and sha512 are IPFS multihashes Nix also uses`);
    print(values, { algo: hash.algo, sri: hash.toSri(), base32: hash.toNix32(), base16: hash.toBase16(), cid }, cid);
    return 0;
  },
};

export const hashCommand: Command = {
  usage: '<hash> --to sri|base32|base16|base64 [--type sha256|sha512 (for a bare digest)]',
  options: { to: { type: 'string' }, type: { type: 'string' } },
  maxArguments: 1,
  async run({ values, positionals }) {
    const hash = hashArgument(positionals[0], values.type);
    const to = values.to ?? 'sri';
    const encoding = ({ sri: 'sri', base32: 'nix32', nix32: 'nix32', base16: 'base16', hex: 'base16', base64: 'base64' } as const)[to as string];
    if (!encoding) throw new UsageError(`--to takes sri, base32, base16 or base64, not '${to}'`, 2);
    process.stdout.write(`${hash.format(encoding)}\n`);
    return 0;
  },
};
