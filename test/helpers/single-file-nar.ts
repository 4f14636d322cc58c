import { NarHasher, writeNar } from '../../src/core/nar';

/** The NAR of a store path that is one regular file holding `text`, with its NarHash (SRI) and size. */
export async function singleFileNar(text: string): Promise<{ nar: Uint8Array; narHash: string; narSize: number }> {
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  const file = {
    type: 'regular' as const,
    executable: false,
    size: bytes.length,
    contents: async function* () {
      yield bytes;
    },
  };
  for await (const chunk of writeNar(file)) chunks.push(chunk);
  const nar = new Uint8Array(Buffer.concat(chunks));
  const hasher = new NarHasher();
  hasher.update(nar);
  const { narHash, narSize } = hasher.digest();
  return { nar, narHash: narHash.toSri(), narSize };
}
