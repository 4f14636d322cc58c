import { readFile } from 'node:fs/promises';
import { parsePublicKey, parseSecretKey, publicKeyOf, type PublicKey, type SecretKey } from '../core/signature';
import type { ServiceContext } from './context';

/**
 * The key that signs what is published: one handed over as text (an editor's secret store) wins
 * over the key file; undefined when there is neither.
 */
export async function loadSigningKey(secretText: string, keyFile: string): Promise<SecretKey | undefined> {
  if (secretText) return parseSecretKey(secretText.trim());
  if (!keyFile) return undefined;
  const text = await readFile(keyFile, 'utf8').catch((error: Error) => {
    throw new Error(`cannot read the signing key file ${keyFile} (signingKeyFile): ${error.message}`);
  });
  return parseSecretKey(text.trim());
}

/** Keys trusted when verifying: Nix's own `trusted-public-keys`, the extra ones given, and the user's own. */
export async function trustedKeys(ctx: Pick<ServiceContext, 'nix'>, extra: string[], own?: SecretKey): Promise<PublicKey[]> {
  const texts = [...extra, ...(await ctx.nix.trustedPublicKeys().catch(() => []))];
  // A malformed key in a configuration trusts nothing; the others still count.
  const keys = texts.flatMap((text) => {
    try {
      return [parsePublicKey(text)];
    } catch {
      return [];
    }
  });
  return own ? [...keys, publicKeyOf(own)] : keys;
}
