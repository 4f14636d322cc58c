import { readFile } from 'node:fs/promises';
import { formatPublicKey, parsePublicKey, parseSecretKey, publicKeyOf, type PublicKey, type SecretKey } from '../core/signature';
import type { ServiceContext } from './context';

/** Where the signing key comes from: an editor's secret store (handed over as text), or the `signingKeyFile` setting. */
export type SigningKeySource = 'secret-store' | 'file';

/**
 * Which key signs what is published, as a user should see it (never the secret itself):
 * `shadowedFile` is a `signingKeyFile` that is set but not used, because the stored key wins.
 */
export type SigningKeyStatus =
  | { kind: 'none' }
  | { kind: 'active'; from: SigningKeySource; name: string; publicKey: string; file?: string; shadowedFile?: string }
  | { kind: 'broken'; from: SigningKeySource; file?: string; error: string };

/** The one rule for the active key: a key handed over as text (an editor's secret store) wins over the key file. */
function activeSource(secretText: string, keyFile: string): SigningKeySource | undefined {
  if (secretText.trim()) return 'secret-store';
  return keyFile ? 'file' : undefined;
}

async function readKeyFile(keyFile: string): Promise<string> {
  return readFile(keyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'it does not exist' : error.code === 'EACCES' ? 'permission denied' : error.message;
    throw new Error(`cannot read the signing key file ${keyFile} (nixIpfs.signingKeyFile): ${why}`);
  });
}

/** The key that signs what is published, by the rule above; undefined when there is none. */
export async function loadSigningKey(secretText: string, keyFile: string): Promise<SecretKey | undefined> {
  const source = activeSource(secretText, keyFile);
  if (source === 'secret-store') return parseSecretKey(secretText.trim());
  if (source === 'file') return parseSecretKey((await readKeyFile(keyFile)).trim());
  return undefined;
}

/** The active key described for the user: its name, public key and where it comes from. */
export async function signingKeyStatus(secretText: string, keyFile: string): Promise<SigningKeyStatus> {
  const from = activeSource(secretText, keyFile);
  if (!from) return { kind: 'none' };
  const file = from === 'file' ? keyFile : undefined;
  try {
    const key = (await loadSigningKey(secretText, keyFile))!;
    const shadowedFile = from === 'secret-store' && keyFile ? keyFile : undefined;
    return { kind: 'active', from, name: key.name, publicKey: formatPublicKey(publicKeyOf(key)), file, shadowedFile };
  } catch (error) {
    return { kind: 'broken', from, file, error: (error as Error).message };
  }
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
