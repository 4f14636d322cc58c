import { ParseError } from './errors';
import { parseHash, type NixHash } from './hash';
import { DEFAULT_STORE_DIR, parseStorePath, parseStorePathBaseName } from './store-path';

/** A binary cache's description of one store path (`<hash>.narinfo`). */
export interface NarInfo {
  storePath: string;
  /** Where the (possibly compressed) NAR is, relative to the cache. */
  url: string;
  compression: string;
  fileHash?: string;
  fileSize?: number;
  narHash: string;
  narSize: number;
  /** Base names (`<hash>-<name>`) of the paths this one refers to. */
  references: string[];
  deriver?: string;
  system?: string;
  sigs: string[];
  ca?: string;
}

const KNOWN = new Set(['StorePath', 'URL', 'Compression', 'FileHash', 'FileSize', 'NarHash', 'NarSize', 'References', 'Deriver', 'System', 'Sig', 'CA']);

function size(value: string, field: string, position: number): number {
  if (!/^\d{1,15}$/.test(value)) throw new ParseError('narinfo', `${field} must be a whole number, got '${value.slice(0, 40)}'`, position);
  return Number(value);
}

/** A relative path that stays in the cache however a URL parser reads it: `%2e%2e` is `..` to one. */
function isPathInsideCache(url: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    return false;
  }
  return [url, decoded].every((form) => !form.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(form) && !form.split('/').includes('..') && !/[\\\0]/.test(form));
}

interface Field {
  value: string;
  position: number;
}

/** The narinfo's lines as fields: Sig may repeat, any other field once; unknown fields are ignored, as Nix does. */
function readFields(text: string): { fields: Map<string, Field>; sigs: string[] } {
  const fields = new Map<string, Field>();
  const sigs: string[] = [];
  let position = 0;
  for (const line of text.split('\n')) {
    const at = position;
    position += line.length + 1;
    if (line.trim() === '') continue;
    const colon = line.indexOf(': ');
    if (colon < 0 && !line.endsWith(':')) throw new ParseError('narinfo', `line '${line.slice(0, 40)}' is not 'Field: value'`, at);
    const key = colon < 0 ? line.slice(0, -1) : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 2);
    if (!KNOWN.has(key)) continue;
    if (key === 'Sig') sigs.push(value);
    else if (fields.has(key)) throw new ParseError('narinfo', `${key} appears twice`, at);
    else fields.set(key, { value, position: at });
  }
  return { fields, sigs };
}

/** Field access that names the field, and where it stands, in every error. */
class NarInfoFields {
  constructor(
    private readonly fields: Map<string, Field>,
    private readonly storeDir: string,
  ) {}

  required(key: string): Field {
    const field = this.fields.get(key);
    if (!field || field.value === '') throw new ParseError('narinfo', `missing ${key}`);
    return field;
  }

  optional(key: string): string | undefined {
    return this.fields.get(key)?.value || undefined;
  }

  /** `parse` of the field's value, its error reported as this field's. */
  checked<T>(key: string, parse: (value: string) => T): T {
    try {
      return parse(this.required(key).value);
    } catch (error) {
      throw new ParseError('narinfo', `${key}: ${(error as ParseError).reason}`, this.fields.get(key)?.position);
    }
  }

  hash(key: string): NixHash {
    return this.checked(key, (value) => parseHash(value).hash);
  }

  /** A store path base name (References, Deriver) inside this store. */
  baseName(key: string, name: string): void {
    try {
      parseStorePathBaseName(name, this.storeDir);
    } catch (error) {
      throw new ParseError('narinfo', `${key}: '${name.slice(0, 60)}': ${(error as ParseError).reason}`, this.fields.get(key)?.position);
    }
  }
}

/**
 * Parses a narinfo and checks what a cache could use against us: the store path must be in
 * `storeDir`, the URL relative and without `..`, every reference a store path base name, and the
 * hashes well-formed.
 */
export function parseNarInfo(text: string, storeDir = DEFAULT_STORE_DIR): NarInfo {
  if (typeof text !== 'string') throw new ParseError('narinfo', 'not text');
  const { fields, sigs } = readFields(text);
  const read = new NarInfoFields(fields, storeDir);
  const storePath = read.required('StorePath').value;
  read.checked('StorePath', (value) => parseStorePath(value, storeDir));
  const urlField = read.required('URL');
  if (!isPathInsideCache(urlField.value)) {
    throw new ParseError(
      'narinfo',
      `URL '${urlField.value.slice(0, 200)}' must be a relative path inside the cache (no '..', not even percent-encoded, not absolute)`,
      urlField.position,
    );
  }
  const narHashField = read.required('NarHash');
  if (read.hash('NarHash').algo !== 'sha256') throw new ParseError('narinfo', 'NarHash must be sha256', narHashField.position);
  const narSizeField = read.required('NarSize');
  const references = (read.optional('References') ?? '').split(' ').filter((r) => r !== '');
  for (const reference of references) read.baseName('References', reference);
  if (read.optional('FileHash')) read.hash('FileHash');
  const fileSizeField = fields.get('FileSize');
  const deriver = read.optional('Deriver');
  if (deriver && deriver !== 'unknown-deriver') read.baseName('Deriver', deriver);
  return {
    storePath,
    url: urlField.value,
    compression: read.optional('Compression') ?? 'bzip2', // Nix's default when the field is absent
    fileHash: read.optional('FileHash'),
    fileSize: fileSizeField?.value ? size(fileSizeField.value, 'FileSize', fileSizeField.position) : undefined,
    narHash: narHashField.value,
    narSize: size(narSizeField.value, 'NarSize', narSizeField.position),
    references,
    deriver: deriver === 'unknown-deriver' ? undefined : deriver,
    system: read.optional('System'),
    sigs,
    ca: read.optional('CA'),
  };
}

/** Prints a narinfo in the field order Nix writes. */
export function formatNarInfo(info: NarInfo): string {
  const lines = [`StorePath: ${info.storePath}`, `URL: ${info.url}`, `Compression: ${info.compression}`];
  if (info.fileHash) lines.push(`FileHash: ${info.fileHash}`);
  if (info.fileSize !== undefined) lines.push(`FileSize: ${info.fileSize}`);
  lines.push(`NarHash: ${info.narHash}`, `NarSize: ${info.narSize}`, `References: ${info.references.join(' ')}`);
  if (info.deriver) lines.push(`Deriver: ${info.deriver}`);
  if (info.system) lines.push(`System: ${info.system}`);
  for (const sig of info.sigs) lines.push(`Sig: ${sig}`);
  if (info.ca) lines.push(`CA: ${info.ca}`);
  return lines.join('\n') + '\n';
}

/** A narinfo's NarHash as a hash (a bare digest in it is sha256). */
export function narHashOf(info: Pick<NarInfo, 'narHash'>): NixHash {
  return parseHash(info.narHash, 'sha256').hash;
}

/** What Nix signs: `1;<store path>;sha256:<nix32 NarHash>;<NarSize>;<comma-separated reference paths>`. */
export function fingerprint(info: Pick<NarInfo, 'storePath' | 'narHash' | 'narSize' | 'references'>, storeDir = DEFAULT_STORE_DIR): string {
  const narHash = narHashOf(info);
  const dir = storeDir.replace(/\/+$/, '');
  const references = info.references.map((r) => (r.startsWith('/') ? r : `${dir}/${r}`)).sort();
  return `1;${info.storePath};sha256:${narHash.toNix32()};${info.narSize};${references.join(',')}`;
}
