/**
 * A flake.lock read as the graph Nix locks: every input reachable from the root (inputs of inputs
 * too), once each, with the fixed-output store path its narHash gives it. Nix looks that path up
 * in its substituters before it goes to the input's URL, so a binary cache that holds it keeps
 * the input alive when its origin dies.
 */
import { ParseError } from './errors';
import type { Fetcher } from './fetchers/record';
import { parseHash, type NixHash } from './hash';
import { makeFixedOutputPath } from './store-path';

export interface LockedInput {
  /** The input's path from the root, as `nix flake metadata` names it: `nixpkgs`, `utils/systems`. */
  id: string;
  /** The node's key in the lock file. */
  node: string;
  /** `tarball`, `github`, `git`, `path`, … */
  type: string;
  /** The `locked` attributes, as Nix's fetchTree takes them. */
  locked: Record<string, unknown>;
  /** Where it comes from, for people: a URL, `github:owner/repo/rev`, a path. */
  origin: string;
  /** Its store path's name: `source` unless the lock says otherwise. */
  name: string;
  /** With its store path, unless `problem` says why it has none. */
  narHash?: NixHash;
  storePath?: string;
  /** Why this input cannot be kept (no narHash, a malformed one): the others go on. */
  problem?: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Where a locked input comes from, the way `nix flake metadata` writes it. */
export function lockedOrigin(locked: Json): string {
  const type = text(locked.type) ?? '?';
  const rev = text(locked.rev);
  switch (type) {
    case 'github':
    case 'gitlab':
    case 'sourcehut':
      return `${type}:${text(locked.owner) ?? '?'}/${text(locked.repo) ?? '?'}${rev ? `/${rev}` : ''}`;
    case 'git':
    case 'mercurial':
      return `${type === 'git' ? 'git+' : 'hg+'}${text(locked.url) ?? '?'}${rev ? `?rev=${rev}` : ''}`;
    case 'path':
      return `path:${text(locked.path) ?? '?'}`;
    case 'indirect':
      return `flake:${text(locked.id) ?? '?'}`;
    default:
      return text(locked.url) ?? type;
  }
}

/**
 * Every locked input of a flake.lock (version 5 to 7), breadth first from the root; an input
 * another follows is listed once, under the first path that reaches it. Throws a ParseError
 * when the file as a whole cannot be read; an input that is wrong by itself gets a `problem`.
 */
export function parseFlakeLock(source: string): LockedInput[] {
  let lock: unknown;
  try {
    lock = JSON.parse(source);
  } catch (error) {
    throw new ParseError('flake.lock', `it is not JSON (${(error as Error).message})`);
  }
  if (!isObject(lock) || !isObject(lock.nodes)) throw new ParseError('flake.lock', 'it has no "nodes" object');
  const version = lock.version;
  if (typeof version === 'number' && (version < 5 || version > 7))
    throw new ParseError('flake.lock', `version ${version} is not one Nix writes (5 to 7): lock it again with your Nix`);
  const nodes = lock.nodes;
  const rootKey = text(lock.root) ?? 'root';
  if (!isObject(nodes[rootKey])) throw new ParseError('flake.lock', `its root node '${rootKey}' is missing`);

  const inputs: LockedInput[] = [];
  const seen = new Set<string>([rootKey]);
  const queue: { key: string; id: string }[] = [{ key: rootKey, id: '' }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const node = nodes[next.key];
    const edges = isObject(node) && isObject(node.inputs) ? node.inputs : {};
    for (const [name, target] of Object.entries(edges)) {
      // An array is a `follows`: the input is another one, reached by its own path.
      const key = typeof target === 'string' ? target : Array.isArray(target) ? followed(nodes, rootKey, target) : undefined;
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      const id = next.id ? `${next.id}/${name}` : name;
      inputs.push(lockedInput(id, key, nodes[key]));
      queue.push({ key, id });
    }
  }
  return inputs;
}

/** The node a `follows` path (input names from the root) ends at. */
function followed(nodes: Json, rootKey: string, names: unknown[]): string | undefined {
  let key: string | undefined = rootKey;
  for (const name of names) {
    const node: unknown = key === undefined ? undefined : nodes[key];
    const target: unknown = isObject(node) && isObject(node.inputs) && typeof name === 'string' ? node.inputs[name] : undefined;
    key = typeof target === 'string' ? target : Array.isArray(target) ? followed(nodes, rootKey, target) : undefined;
  }
  return key;
}

function lockedInput(id: string, key: string, node: unknown): LockedInput {
  const locked = isObject(node) && isObject(node.locked) ? node.locked : undefined;
  if (!locked)
    return { id, node: key, type: '?', locked: {}, origin: '?', name: 'source', problem: `input '${id}' has no "locked" attributes: run 'nix flake lock'` };
  const base = { id, node: key, type: text(locked.type) ?? '?', locked, origin: lockedOrigin(locked), name: text(locked.name) ?? 'source' };
  const narHashText = text(locked.narHash);
  if (narHashText === undefined) return { ...base, problem: `input '${id}' (${base.origin}) has no narHash: Nix cannot look it up in a cache; lock it again` };
  try {
    const narHash = parseHash(narHashText, 'sha256').hash;
    // The fixed-output path Nix gives a locked input, and looks up in its substituters.
    return { ...base, narHash, storePath: makeFixedOutputPath({ name: base.name, hash: narHash, recursive: true }) };
  } catch (error) {
    return { ...base, problem: `input '${id}' has a malformed narHash '${narHashText}': ${(error as Error).message}` };
  }
}

/** Whether a document is a flake lock file (read as JSON, not as Nix). */
export function isFlakeLock(uriOrPath: string): boolean {
  return /(^|[/\\])flake\.lock$/.test(uriOrPath);
}

/**
 * The locked inputs of a flake.lock as the fetchers an editor shows: one at each `"narHash"` value,
 * recursive, named `source` unless the lock says otherwise. A file that is not a flake.lock (yet:
 * it is being edited) has none.
 */
export function flakeLockFetchers(text: string): Fetcher[] {
  let inputs: LockedInput[];
  try {
    inputs = parseFlakeLock(text);
  } catch {
    return [];
  }
  const fetchers: Fetcher[] = [];
  const unplaced = inputs.filter((i) => i.narHash);
  for (const match of text.matchAll(/"narHash"\s*:\s*"([^"\\]*)"/g)) {
    const value = match[1] ?? '';
    const at = unplaced.findIndex((i) => i.locked.narHash === value);
    const [input] = at < 0 ? [] : unplaced.splice(at, 1);
    if (!input?.narHash) continue;
    const hashFrom = match.index + match[0].length - 1 - value.length;
    fetchers.push({
      fetcher: `flake input (${input.type})`,
      from: hashFrom,
      to: hashFrom + value.length,
      urls: [input.origin],
      dynamicUrl: false,
      hashAttr: 'narHash',
      hash: value,
      hashFrom,
      hashTo: hashFrom + value.length,
      quoted: true,
      algo: 'sha256',
      nixHash: input.narHash,
      placeholder: false,
      mode: 'recursive',
      name: input.name,
      flakeInput: { id: input.id, locked: input.locked },
    });
  }
  return fetchers;
}
