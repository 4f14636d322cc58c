import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { ParseError } from './errors';
import { fingerprint, type NarInfo } from './narinfo';

/** A Nix signing key: text form `name:base64(seed ‖ public key)`, 64 bytes (nix-store --generate-binary-cache-key). */
export interface SecretKey {
  name: string;
  key: KeyObject;
  publicKey: Uint8Array;
}

/** A Nix public key: text form `name:base64(32-byte ed25519 key)`. */
export interface PublicKey {
  name: string;
  key: KeyObject;
  raw: Uint8Array;
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

const PUBLIC_KEY_BYTES = 32;
const SECRET_KEY_BYTES = 64;

const SECRET_INSTEAD_OF_PUBLIC = 'this is a SECRET key; give its public key (nix key convert-secret-to-public < sk, or nix-ipfs keygen)';
const PUBLIC_INSTEAD_OF_SECRET = 'this is a public key; give the secret key file (from nix-store --generate-binary-cache-key or nix-ipfs keygen)';

/**
 * The name and bytes of a key in its text form `name:base64`. Every error names the kind of key
 * and at most its name: the text may be a secret, so no part of the key itself is ever repeated.
 */
function splitKey(text: string, kind: 'public key' | 'secret key'): { name: string; bytes: Uint8Array } {
  if (typeof text !== 'string') throw new ParseError(kind, 'not text');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new ParseError(kind, "expected 'name:base64' (a name, a colon, then the key in base64)");
  const name = text.slice(0, colon).trim();
  const what = `${kind} ${printableName(name)}`;
  const data = text.slice(colon + 1).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new ParseError(what, "the part after the name's colon is not base64");
  const bytes = new Uint8Array(Buffer.from(data, 'base64'));
  const expected = kind === 'public key' ? PUBLIC_KEY_BYTES : SECRET_KEY_BYTES;
  if (bytes.length === expected) return { name, bytes };
  if (kind === 'public key' && bytes.length === SECRET_KEY_BYTES) throw new ParseError(what, SECRET_INSTEAD_OF_PUBLIC);
  if (kind === 'secret key' && bytes.length === PUBLIC_KEY_BYTES) throw new ParseError(what, PUBLIC_INSTEAD_OF_SECRET);
  throw new ParseError(what, `expected a ${expected}-byte key, got ${bytes.length} bytes`);
}

/** A key's name quoted for a message, or a placeholder when the name is not a plain short word. */
function printableName(name: string): string {
  return /^[\x21-\x7e]{1,64}$/.test(name) ? `'${name}'` : '(with an unprintable or overlong name)';
}

export function parseSecretKey(text: string): SecretKey {
  const { name, bytes } = splitKey(text, 'secret key');
  const what = `secret key ${printableName(name)}`;
  const seed = bytes.subarray(0, 32);
  const publicKey = bytes.slice(32);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(publicKey) }, format: 'jwk' });
  } catch {
    throw new ParseError(what, 'not an Ed25519 key');
  }
  const derived = new Uint8Array(Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url'));
  if (!Buffer.from(derived).equals(Buffer.from(publicKey))) throw new ParseError(what, 'its public half does not match its seed');
  return { name, key, publicKey };
}

export function parsePublicKey(text: string): PublicKey {
  const { name, bytes } = splitKey(text, 'public key');
  try {
    return { name, raw: bytes, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(bytes) }, format: 'jwk' }) };
  } catch {
    throw new ParseError(`public key ${printableName(name)}`, 'not an Ed25519 key');
  }
}

export function publicKeyOf(secret: SecretKey): PublicKey {
  return parsePublicKey(`${secret.name}:${Buffer.from(secret.publicKey).toString('base64')}`);
}

export function formatPublicKey(key: PublicKey): string {
  return `${key.name}:${Buffer.from(key.raw).toString('base64')}`;
}

/** A new key pair in the text forms of `nix-store --generate-binary-cache-key`. */
export function generateKeyPair(name: string): { secret: string; public: string } {
  if (!name || name.includes(':')) throw new ParseError('key name', "must be non-empty and without ':'");
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  return { secret: `${name}:${Buffer.concat([seed, pub]).toString('base64')}`, public: `${name}:${pub.toString('base64')}` };
}

/** Signs a narinfo fingerprint: `name:base64(signature)`. */
export function signFingerprint(secret: SecretKey, text: string): string {
  return `${secret.name}:${sign(null, Buffer.from(text), secret.key).toString('base64')}`;
}

export interface SignatureVerdict {
  sig: string;
  keyName: string;
  /** valid-untrusted: a known key that is not trusted; unknown-key: no key of that name is known. */
  state: 'valid-trusted' | 'valid-untrusted' | 'invalid' | 'unknown-key';
}

/**
 * Checks each `Sig:` of a narinfo: against the trusted keys, then against other known (untrusted)
 * keys. A signature whose key name matches but whose bytes do not verify is invalid.
 */
export function verifySignatures(
  info: Pick<NarInfo, 'storePath' | 'narHash' | 'narSize' | 'references' | 'sigs'>,
  trusted: PublicKey[],
  known: PublicKey[] = [],
  storeDir?: string,
): SignatureVerdict[] {
  let text: string | undefined;
  try {
    text = fingerprint(info, storeDir);
  } catch {
    text = undefined; // a narinfo whose NarHash does not parse has no valid signature
  }
  return info.sigs.map((sig) => {
    const colon = sig.indexOf(':');
    const keyName = colon > 0 ? sig.slice(0, colon) : '';
    const bytes = colon > 0 ? Buffer.from(sig.slice(colon + 1), 'base64') : Buffer.alloc(0);
    const check = (keys: PublicKey[]) => {
      const candidates = keys.filter((k) => k.name === keyName);
      if (candidates.length === 0) return undefined;
      return text !== undefined && bytes.length === 64 && candidates.some((k) => verify(null, Buffer.from(text!), k.key, bytes));
    };
    const trustedResult = check(trusted);
    if (trustedResult !== undefined) return { sig, keyName, state: trustedResult ? 'valid-trusted' : 'invalid' };
    const knownResult = check(known);
    if (knownResult !== undefined) return { sig, keyName, state: knownResult ? 'valid-untrusted' : 'invalid' };
    return { sig, keyName, state: colon > 0 && bytes.length === 64 ? 'unknown-key' : 'invalid' };
  });
}
