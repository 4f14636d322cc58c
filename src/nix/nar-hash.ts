import { createHash } from 'node:crypto';
import { writeNar } from '../core/nar';
import { NixHash, type HashAlgo } from '../core/hash';
import { narNodeFromPath } from './nar-fs';

/** The hash of a file or folder's NAR serialisation: what a recursive fixed-output hash is of. */
export async function narHashOfPath(fsPath: string, algo: HashAlgo): Promise<NixHash> {
  const hash = createHash(algo);
  for await (const chunk of writeNar(await narNodeFromPath(fsPath))) hash.update(chunk);
  return new NixHash(algo, new Uint8Array(hash.digest()));
}
