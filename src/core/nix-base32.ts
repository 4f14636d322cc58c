import { ParseError } from './errors';

/** Nix's base32 alphabet: digits and lowercase letters without e, o, t, u. */
export const NIX32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
/** Character code → digit value, -1 outside the alphabet. */
const NIX32_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < NIX32_ALPHABET.length; i++) NIX32_VALUES[NIX32_ALPHABET.charCodeAt(i)] = i;

/** Length of the Nix base32 form of `bytes` bytes. */
export function nix32Length(bytes: number): number {
  return Math.ceil((bytes * 8) / 5);
}

/**
 * Nix base32: the string's first character holds the digest's highest 5-bit group, and bits
 * are taken from the bytes little-endian (Nix's printHash32), unlike RFC 4648.
 */
export function encodeNix32(bytes: Uint8Array): string {
  const length = nix32Length(bytes.length);
  let out = '';
  for (let n = length - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    // i < bytes.length: n < nix32Length(bytes.length), so 5n < 8 * bytes.length. Past the last byte there are no bits.
    const value = (bytes[i]! >> j) | ((bytes[i + 1] ?? 0) << (8 - j));
    out += NIX32_ALPHABET[value & 0x1f];
  }
  return out;
}

/** Decodes Nix base32 into `size` bytes; rejects foreign characters and non-zero excess bits. */
export function decodeNix32(text: string, size: number, what = 'hash'): Uint8Array {
  if (text.length !== nix32Length(size)) {
    throw new ParseError(what, `expected ${nix32Length(size)} Nix base32 characters, got ${text.length}`);
  }
  const bytes = new Uint8Array(size);
  for (let n = 0; n < text.length; n++) {
    const code = text.charCodeAt(text.length - n - 1);
    const value = NIX32_VALUES[code] ?? -1;
    if (value < 0) {
      throw new ParseError(what, `'${text[text.length - n - 1]}' is not a Nix base32 character (alphabet ${NIX32_ALPHABET})`, text.length - n - 1);
    }
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    bytes[i]! |= (value << j) & 0xff; // i < size, as the length is checked above
    const carry = value >> (8 - j);
    if (i + 1 < size) bytes[i + 1]! |= carry;
    else if (carry) throw new ParseError(what, 'Nix base32 value has bits beyond the digest size', 0);
  }
  return bytes;
}
