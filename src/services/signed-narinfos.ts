import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { stateDir, writeFileDurably } from './state-files';

/**
 * The CIDs of narinfos seen to carry a valid signature by one key, kept between runs. A CID names
 * exact bytes, so a narinfo still listed under a remembered CID is known to be signed without
 * reading it: a signed re-publish reads only the narinfos that changed. Losing the file costs
 * reads, never a wrong answer.
 */
export class SignedNarinfos {
  private readonly cids: Set<string>;
  private changed = false;

  private constructor(
    private readonly file: string,
    cids: string[],
  ) {
    this.cids = new Set(cids);
  }

  /** The CIDs remembered for a public key (`name:base64`), in the state folder. */
  static async load(publicKey: string, dir = stateDir(undefined)): Promise<SignedNarinfos> {
    const file = path.join(dir, 'signed-narinfos', `${createHash('sha256').update(publicKey).digest('hex').slice(0, 32)}.txt`);
    const text = await readFile(file, 'utf8').catch(() => '');
    return new SignedNarinfos(file, text.split('\n').filter(Boolean));
  }

  has(cid: string | undefined): boolean {
    return cid !== undefined && this.cids.has(cid);
  }

  add(cid: string): void {
    if (this.cids.has(cid)) return;
    this.cids.add(cid);
    this.changed = true;
  }

  /** Writes the set when it changed; a crash leaves the old file or the new one. */
  async save(): Promise<void> {
    if (!this.changed) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFileDurably(this.file, [...this.cids].join('\n') + '\n');
    this.changed = false;
  }
}
