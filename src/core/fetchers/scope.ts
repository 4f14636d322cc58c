import type { SyntaxNode } from '@lezer/common';

/*
 * Names and strings read from a Nix parse tree without evaluating it: a name is looked up in the
 * `let`s, `rec` sets and function parameters around it; `inherit` and `inherit (x)` follow Nix's
 * rules; a function's parameters take their values from one call of it when one is in view
 * (`Env.args`), and `finalAttrs: { … }` handed to a builder reads its own set (a fixed point).
 * What the text does not fix (a function's argument with no call in view, `with`, builtins) is
 * unknown, never guessed.
 */

export interface Env {
  /** Function (by offset) → the argument of the call being read through. */
  readonly args: ReadonlyMap<number, Value>;
  /** Dynamic attribute names fixed for one branch of a selection: `${system}` → `x86_64-linux`. */
  readonly keys: ReadonlyMap<string, string>;
}

export interface Value {
  readonly node: SyntaxNode;
  readonly env: Env;
}

/** A function parameter that no call in view fixes, and the attributes selected from it. */
export interface Param {
  fn: SyntaxNode;
  name: string;
  /** Named in a `{ … }` pattern (else the whole argument, `x:` or `args@`). */
  formal: boolean;
  path: string[];
}

export type Resolved = { value: Value } | { param: Param };

/** A component of an attribute path: a name, or an interpolated one (`${system}`, by its text). */
export type PathPart = string | { dynamic: string; node: SyntaxNode };

type Entry = { rest: PathPart[]; value: SyntaxNode } | { inherit: string; from?: SyntaxNode; holder: SyntaxNode };

export const NO_ENV: Env = { args: new Map(), keys: new Map() };
const NO_PARTS: PathPart[] = [];
const MAX_DEPTH = 16;
const ESCAPED: Record<string, string> = { n: '\n', t: '\t', r: '\r' };

/** Whether two nodes are the same node of the tree (Lezer makes a new object on each visit). */
export function same(a: SyntaxNode | null | undefined, b: SyntaxNode | null | undefined): boolean {
  return !!a && !!b && a.from === b.from && a.to === b.to && a.type === b.type;
}

export function unwrap(node: SyntaxNode): SyntaxNode {
  while (node.name === 'Parenthesized' && node.firstChild?.nextSibling) node = node.firstChild.nextSibling;
  return node;
}

/** The expression inside `${…}`. */
export function interpolated(node: SyntaxNode): SyntaxNode | null {
  for (let child = node.firstChild; child; child = child.nextSibling) if (child.name !== '}' && !child.type.isSkipped) return child;
  return null;
}

/** The functions an application applies and its arguments: `f a b` → [f, a, b]. */
export function spine(app: SyntaxNode): [SyntaxNode, ...SyntaxNode[]] {
  const args: SyntaxNode[] = [];
  let node = app;
  while (node.name === 'App' && node.firstChild && node.lastChild && !same(node.firstChild, node.lastChild)) {
    args.unshift(node.lastChild);
    node = unwrap(node.firstChild);
  }
  return [node, ...args];
}

export class Scope {
  private readonly cache = new Map<number, Map<string, Entry[]>>();

  constructor(readonly text: string) {}

  slice(node: SyntaxNode): string {
    return this.text.slice(node.from, node.to);
  }

  /** The last name of a function's path: `stdenv.mkDerivation` → `mkDerivation`. */
  lastName(node: SyntaxNode): string {
    const text = this.slice(node);
    return text.slice(text.lastIndexOf('.') + 1).trim();
  }

  /** The `name = …;` and `inherit …;` bindings of an attribute set or `let`, by first name. */
  entries(holder: SyntaxNode): Map<string, Entry[]> {
    const key = holder.from * 64 + holder.type.id; // the grammar has fewer than 64 node types
    let entries = this.cache.get(key);
    if (entries) return entries;
    entries = new Map();
    const add = (name: string, entry: Entry) => (entries!.get(name) ?? entries!.set(name, []).get(name)!).push(entry);
    for (let child = holder.firstChild; child; child = child.nextSibling) {
      if (child.name === 'Bind') {
        const path = child.firstChild;
        const value = path?.name === 'AttrPath' ? path.nextSibling : null;
        if (!value) continue;
        // Most paths are one name: read it without taking the path apart.
        const only = path!.firstChild;
        if (only?.name === 'Identifier' && only.to === path!.to) add(this.slice(only), { rest: NO_PARTS, value });
        else {
          const parts = this.pathParts(path!);
          if (typeof parts[0] === 'string') add(parts[0], { rest: parts.slice(1), value });
        }
      } else if (child.name === 'inherit') {
        let item = child.nextSibling;
        let from: SyntaxNode | undefined;
        if (item?.name === '(') {
          from = item.nextSibling ?? undefined;
          item = from?.nextSibling?.nextSibling ?? null;
        }
        for (; item && (item.name === 'Identifier' || item.name === 'String'); item = item.nextSibling) {
          const name = item.name === 'Identifier' ? this.slice(item) : this.literal(item);
          if (name !== undefined) add(name, { inherit: name, from, holder });
        }
      }
    }
    this.cache.set(key, entries);
    return entries;
  }

  /** An attribute path's components; interpolated ones are kept as their expression. */
  pathParts(path: SyntaxNode): PathPart[] {
    const parts: PathPart[] = [];
    for (let part = path.firstChild; part; part = part.nextSibling) {
      if (part.name === 'Identifier') parts.push(this.slice(part));
      else if (part.name === 'String') parts.push(this.literal(part) ?? { dynamic: this.slice(part), node: part });
      else if (part.name === 'Interpolation') {
        const inner = interpolated(part);
        if (inner) parts.push({ dynamic: this.slice(inner).replace(/\s+/g, ''), node: inner });
      }
    }
    return parts;
  }

  /** A path's names in an environment: dynamic ones through `env.keys` or their string value. */
  names(parts: PathPart[], env: Env, depth = 0): string[] | undefined {
    const names: string[] = [];
    for (const part of parts) {
      const name = typeof part === 'string' ? part : (env.keys.get(part.dynamic) ?? this.stringOf({ node: part.node, env }, depth + 1));
      if (name === undefined) return undefined;
      names.push(name);
    }
    return names;
  }

  /** What `name` refers to at `at`: a binding's value, or a parameter. */
  resolve(name: string, at: SyntaxNode, env: Env, depth = 0): Resolved | undefined {
    for (let child = at, scope = at.parent; scope; child = scope, scope = scope.parent) {
      const holder = scope.name === 'Let' ? scope : scope.name === 'RecAttrSet' ? scope.getChild('AttrSet') : null;
      if (holder) {
        const entry = this.entries(holder)
          .get(name)
          ?.find((e) => !('rest' in e) || e.rest.length === 0);
        if (entry) return this.entryValue(entry, env, depth);
      } else if (scope.name === 'Function' && (same(child, scope.lastChild) || child.name === 'Formal')) {
        const found = this.param(scope, name, env, depth);
        if (found) return found;
      }
    }
    return undefined;
  }

  private entryValue(entry: Entry, env: Env, depth: number): Resolved | undefined {
    if (depth > MAX_DEPTH) return undefined;
    if ('value' in entry) return { value: { node: entry.value, env } };
    if (entry.from) {
      const from = this.valueOf(entry.from, env, depth + 1);
      return from && this.select(from, [entry.inherit], depth + 1);
    }
    // `inherit x;` reads x from outside the set (outside a `rec` set too).
    const outside = entry.holder.parent?.name === 'RecAttrSet' ? entry.holder.parent : entry.holder;
    return this.resolve(entry.inherit, outside, env, depth + 1);
  }

  private param(fn: SyntaxNode, name: string, env: Env, depth: number): Resolved | undefined {
    for (let child = fn.firstChild; child && child !== fn.lastChild; child = child.nextSibling) {
      if (child.name === 'Identifier' && this.slice(child) === name) {
        const arg = env.args.get(fn.from);
        if (arg) return { value: arg };
        const body = fixedPointBody(fn, this);
        return body ? { value: { node: body, env } } : { param: { fn, name, formal: false, path: [] } };
      }
      const formal = child.name === 'Formal' ? child.firstChild : null;
      if (formal?.name !== 'Identifier' || this.slice(formal) !== name) continue;
      const arg = env.args.get(fn.from);
      if (!arg) return { param: { fn, name, formal: true, path: [] } };
      const given = this.select({ value: arg }, [name], depth + 1);
      const fallback = formal.nextSibling;
      return given ?? (fallback ? { value: { node: fallback, env } } : undefined);
    }
    return undefined;
  }

  /** What an expression refers to: names and selections followed, anything else as it stands. */
  valueOf(node: SyntaxNode, env: Env, depth = 0): Resolved | undefined {
    node = unwrap(node);
    if (depth > MAX_DEPTH) return undefined;
    if (node.name === 'Identifier') return this.resolve(this.slice(node), node, env, depth);
    if (node.name !== 'Select') return { value: { node, env } };
    const base = node.firstChild;
    const path = node.getChild('AttrPath');
    const fallback = node.getChild('or')?.nextSibling;
    const names = path && this.names(this.pathParts(path), env, depth);
    const from = base && base.name !== 'builtins' && names ? this.valueOf(base, env, depth + 1) : undefined;
    const selected = from && this.select(from, names!, depth + 1);
    return selected ?? (fallback ? this.valueOf(fallback, env, depth + 1) : undefined);
  }

  /** An attribute path selected from a value, when the text fixes it. */
  select(from: Resolved, names: string[], depth = 0): Resolved | undefined {
    if ('param' in from) return { param: { ...from.param, path: [...from.param.path, ...names] } };
    if (names.length === 0) return from;
    if (depth > MAX_DEPTH) return undefined;
    const { env } = from.value;
    const node = unwrap(from.value.node);
    switch (node.name) {
      case 'AttrSet':
        return this.selectEntry(node, names, env, depth);
      case 'RecAttrSet':
      case 'App': {
        const set = node.name === 'App' ? setOfArgument(unwrap(node.lastChild!), this) : node.getChild('AttrSet');
        return set ? this.select({ value: { node: set, env } }, names, depth + 1) : undefined;
      }
      case 'Let':
      case 'With':
      case 'Assert':
        return this.select({ value: { node: node.lastChild!, env } }, names, depth + 1);
      case 'Identifier':
      case 'Select': {
        const value = this.valueOf(node, env, depth + 1);
        return value && this.select(value, names, depth + 1);
      }
      case 'BinaryExpr':
        return this.operator(node) === '//'
          ? (this.select({ value: { node: node.lastChild!, env } }, names, depth + 1) ??
              this.select({ value: { node: node.firstChild!, env } }, names, depth + 1))
          : undefined;
      default:
        return undefined;
    }
  }

  /** `names` is not empty: `select` answers an empty path itself. */
  private selectEntry(set: SyntaxNode, names: string[], env: Env, depth: number): Resolved | undefined {
    for (const entry of this.entries(set).get(names[0]!) ?? []) {
      if (!('rest' in entry)) {
        const value = this.entryValue(entry, env, depth + 1);
        return value && this.select(value, names.slice(1), depth + 1);
      }
      const rest = this.names(entry.rest, env, depth);
      if (rest && rest.every((name, i) => names[i + 1] === name) && rest.length < names.length) {
        return this.select({ value: { node: entry.value, env } }, names.slice(1 + rest.length), depth + 1);
      }
    }
    return undefined;
  }

  operator(node: SyntaxNode): string {
    const left = node.firstChild;
    const right = node.lastChild;
    return left && right && left !== right
      ? this.text
          .slice(left.to, right.from)
          .replace(/(#.*|\/\*[^]*?\*\/)/g, '')
          .trim()
      : '';
  }

  /** The value as a string, when the text fixes it. */
  stringOf(value: Value, depth = 0): string | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const node = unwrap(value.node);
    const key = value.env.keys.get(this.slice(node).replace(/\s+/g, ''));
    if (key !== undefined) return key;
    switch (node.name) {
      case 'String':
      case 'IndentedString':
        return this.stringParts(node, value.env, depth);
      case 'Identifier':
      case 'Select': {
        const resolved = this.valueOf(node, value.env, depth + 1);
        return resolved && 'value' in resolved && !same(resolved.value.node, node) ? this.stringOf(resolved.value, depth + 1) : undefined;
      }
      case 'BinaryExpr': {
        if (this.operator(node) !== '+') return undefined;
        const left = this.stringOf({ node: node.firstChild!, env: value.env }, depth + 1);
        const right = left === undefined ? undefined : this.stringOf({ node: node.lastChild!, env: value.env }, depth + 1);
        return right === undefined ? undefined : left! + right;
      }
      case 'App':
        return this.applied(node, value.env, depth);
      case 'URI':
      case 'Integer':
        return this.slice(node);
      default:
        return undefined;
    }
  }

  /** A string literal with no interpolation. */
  literal(node: SyntaxNode): string | undefined {
    return this.stringParts(node, NO_ENV, MAX_DEPTH);
  }

  private stringParts(node: SyntaxNode, env: Env, depth: number): string | undefined {
    const quote = node.name === 'String' ? 1 : 2;
    let out = '';
    let at = node.from + quote;
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.name !== 'Interpolation') continue;
      out += unescape(this.text.slice(at, child.from), node.name);
      const inner = interpolated(child);
      const value = inner && depth < MAX_DEPTH ? this.stringOf({ node: inner, env }, depth + 1) : undefined;
      if (value === undefined) return undefined;
      out += value;
      at = child.to;
    }
    out += unescape(this.text.slice(at, node.to - quote), node.name);
    return node.name === 'IndentedString' ? out.trim() : out;
  }

  /** The few string functions URLs are built with; a helper that picks from a set by a fixed key. */
  private applied(node: SyntaxNode, env: Env, depth: number): string | undefined {
    const [fn, ...args] = spine(node);
    const str = (i: number) => (args[i] ? this.stringOf({ node: args[i], env }, depth + 1) : undefined);
    const picked = env.keys.get(`(${this.slice(fn).replace(/\s+/g, '')})`);
    if (picked !== undefined && args.length === 1) {
      const chosen = this.select({ value: { node: args[0]!, env } }, [picked], depth + 1);
      return chosen && 'value' in chosen ? this.stringOf(chosen.value, depth + 1) : undefined;
    }
    const name = this.lastName(fn);
    const version = () => str(0)?.split('.');
    switch (args.length === 1 ? name : `${name}/${args.length}`) {
      case 'majorMinor':
        return version()?.slice(0, 2).join('.');
      case 'major':
        return version()?.[0];
      case 'minor':
        return version()?.[1];
      case 'patch':
        return version()?.[2];
      case 'toString':
        return str(0);
      case 'toLower':
        return str(0)?.toLowerCase();
      case 'toUpper':
        return str(0)?.toUpperCase();
      case 'replaceStrings/3':
        return this.replaceStrings(args, env, depth);
      default:
        return undefined;
    }
  }

  private replaceStrings(args: SyntaxNode[], env: Env, depth: number): string | undefined {
    const list = (node: SyntaxNode) => {
      const items = listItems(unwrap(node)).map((item) => this.stringOf({ node: item, env }, depth + 1));
      return items.every((s) => s !== undefined) ? (items as string[]) : undefined;
    };
    const [fromList, toList, subject] = args;
    if (!fromList || !toList || !subject) return undefined;
    const [from, to] = [list(fromList), list(toList)];
    let s = this.stringOf({ node: subject, env }, depth + 1);
    if (!from || !to || s === undefined || from.length !== to.length) return undefined;
    for (const [i, pattern] of from.entries()) if (pattern) s = s.split(pattern).join(to[i]!);
    return s;
  }
}

/** The items of a `[ … ]` list, without comments. */
export function listItems(list: SyntaxNode): SyntaxNode[] {
  if (list.name !== 'List') return [];
  const items: SyntaxNode[] = [];
  for (let item = list.firstChild; item; item = item.nextSibling) if (item.name !== '[' && item.name !== ']' && !item.type.isSkipped) items.push(item);
  return items;
}

/** The set a function argument reads: the set itself, or the body of `finalAttrs: { … }`. */
export function setOfArgument(arg: SyntaxNode, scope: Scope): SyntaxNode | undefined {
  if (arg.name === 'AttrSet') return arg;
  if (arg.name === 'RecAttrSet') return arg.getChild('AttrSet') ?? undefined;
  if (arg.name === 'Function') return fixedPointBody(arg, scope);
  return undefined;
}

/**
 * The set `finalAttrs: { … }` builds, when the function is handed to a builder that passes it its
 * own result (mkDerivation, lib.fix); not for `overrideAttrs (old: …)`, whose argument is the old set.
 */
function fixedPointBody(fn: SyntaxNode, scope: Scope): SyntaxNode | undefined {
  let body = unwrap(fn.lastChild!);
  while (body.name === 'Let') body = unwrap(body.lastChild!);
  if (body.name !== 'AttrSet' && body.name !== 'RecAttrSet') return undefined;
  let holder = fn.parent;
  let arg = fn;
  while (holder?.name === 'Parenthesized') [arg, holder] = [holder, holder.parent];
  if (holder?.name !== 'App' || !same(holder.lastChild, arg) || scope.lastName(spine(holder)[0]).startsWith('override')) return undefined;
  return body.name === 'RecAttrSet' ? (body.getChild('AttrSet') ?? undefined) : body;
}

function unescape(raw: string, kind: string): string {
  // Indented strings escape with two apostrophes (`''$`, `'''`, `''\n`); a lone backslash is just a backslash.
  if (kind === 'IndentedString')
    return !raw.includes("''")
      ? raw
      : raw.replace(/''(\$|'|\\[^])/g, (_, e: string) => (e === '$' ? '$' : e === "'" ? "''" : (ESCAPED[e.charAt(1)] ?? e.charAt(1))));
  return !raw.includes('\\') ? raw : raw.replace(/\\([^])/g, (_, c: string) => ESCAPED[c] ?? c);
}
