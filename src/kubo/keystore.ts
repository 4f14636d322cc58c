import path from 'node:path';
import { base32 } from 'multiformats/bases/base32';

/** Where Kubo keeps a key: `keystore/key_` + the name in unpadded lower-case base32 (boxo's keystore). */
export function keyFilePath(repoPath: string, name: string): string {
  return path.join(repoPath, 'keystore', `key_${base32.baseEncode(new TextEncoder().encode(name))}`);
}
