import type { SyntaxNode } from '@lezer/common';
import { listItems, NO_ENV, same, spine, unwrap, type Env, type Param, type PathPart, type Resolved, type Scope, type Value } from './scope';

/*
 * From the expression a fetcher reads its hash from to the string literals that can be that hash:
 * through names (`hash = srcHash`), per-system selections (`hashes.${system}`, `selectSystem { … }`,
 * each branch with its key fixed so the URL can be read for it too), `if` branches, and a
 * function's parameters to the calls of that function in the same file (wrappers).
 */

/** A string literal a hash expression can evaluate to, with the environment it was reached in. */
export interface FoundLiteral {
  node: SyntaxNode;
  env: Env;
  /** The function the hash passed through (a wrapper's name, `map`). */
  via?: string;
}

const MAX_DEPTH = 16;
const MAX_WRAPPERS = 4;

export class Tracer {
  private calls?: ReadonlyMap<string, SyntaxNode[]>;

  /**
   * @param findCalls applications by the name of the function applied (`generic { … }`, `map f list`),
   * each the outermost App of its chain; asked for only when a hash is a wrapper's parameter.
   */
  constructor(
    private readonly scope: Scope,
    private readonly findCalls: () => ReadonlyMap<string, SyntaxNode[]>,
  ) {}

  /** The literals `start` (read in `env`) can evaluate to, following wrappers' parameters to their calls. */
  literals(start: Resolved, env: Env = NO_ENV, wrappers = 0): FoundLiteral[] {
    const found: FoundLiteral[] = [];
    for (const end of this.ends(start, env, 0)) {
      if ('node' in end) found.push(end);
      else if (wrappers < MAX_WRAPPERS) found.push(...this.throughCalls(end.param, end.env, wrappers));
    }
    return found;
  }

  /** The sets an expression can evaluate to (a fetcher's argument given by name: `fetchurl srcs.${system}`). */
  sets(start: Resolved): Value[] {
    const sets: Value[] = [];
    for (const end of this.ends(start, NO_ENV, 0, true)) if ('node' in end) sets.push({ node: end.node, env: end.env });
    return sets;
  }

  /** Where an expression ends: literals (or sets), and parameters no call in view fixes. */
  private ends(start: Resolved, context: Env, depth: number, wantSets = false): End[] {
    if (depth > MAX_DEPTH) return [];
    if ('param' in start) return [{ param: start.param, env: context }];
    const { env } = start.value;
    const node = unwrap(start.value.node);
    const next = (to: Resolved | undefined) => (to && !('value' in to && same(unwrap(to.value.node), node)) ? this.ends(to, env, depth + 1, wantSets) : []);
    switch (node.name) {
      case 'String':
      case 'IndentedString':
        return wantSets ? [] : [{ node, env }];
      case 'AttrSet':
        return wantSets ? [{ node, env }] : [];
      case 'RecAttrSet': {
        const set = node.getChild('AttrSet');
        return wantSets && set ? [{ node: set, env }] : [];
      }
      case 'Identifier':
        return next(this.scope.valueOf(node, env, depth));
      case 'Select':
        return this.selectEnds(node, env, depth, wantSets);
      case 'IfExpr':
        return [node.getChild('then')?.nextSibling, node.getChild('else')?.nextSibling].flatMap((branch) =>
          branch ? next({ value: { node: branch, env } }) : [],
        );
      case 'App':
        return this.pickEnds(node, env, depth, wantSets);
      case 'Let':
      case 'With':
      case 'Assert':
        return next({ value: { node: node.lastChild!, env } });
      default:
        return [];
    }
  }

  /** `x.a.b`, and `x.${system}` with every branch of a set whose key the text does not fix; then any `or` default. */
  private selectEnds(node: SyntaxNode, env: Env, depth: number, wantSets: boolean): End[] {
    const { scope } = this;
    const base = node.firstChild!;
    const path = node.getChild('AttrPath');
    const fallback = node.getChild('or')?.nextSibling;
    const orElse = () => (fallback ? this.ends({ value: { node: fallback, env } }, env, depth + 1, wantSets) : []);
    if (!path || base.name === 'builtins') return [];
    const parts = scope.pathParts(path);
    const open = parts.findIndex((p) => typeof p !== 'string' && !env.keys.has(p.dynamic) && scope.stringOf({ node: p.node, env }, depth + 1) === undefined);
    const before = scope.names(open < 0 ? parts : parts.slice(0, open), env, depth);
    const from = before && scope.valueOf(base, env, depth + 1);
    const selected = from && scope.select(from, before, depth + 1);
    if (!selected) return orElse();
    if (open < 0) return this.ends(selected, env, depth + 1, wantSets);
    if ('param' in selected) return orElse();
    const dynamic = parts[open] as { dynamic: string };
    return [
      ...this.branches(selected.value, env, dynamic.dynamic, depth, (branch) => this.selectRest(branch, parts.slice(open + 1), depth, wantSets)),
      ...orElse(),
    ];
  }

  private selectRest(branch: Value, rest: PathPart[], depth: number, wantSets: boolean): End[] {
    const names = this.scope.names(rest, branch.env, depth);
    const to = names && this.scope.select({ value: branch }, names, depth + 1);
    return to ? this.ends(to, branch.env, depth + 1, wantSets) : [];
  }

  /** `selectSystem { x86_64-linux = "…"; … }`: a helper applied to a set picks one branch by a key. */
  private pickEnds(node: SyntaxNode, env: Env, depth: number, wantSets: boolean): End[] {
    const [fn, ...args] = spine(node);
    const set = args.length === 1 ? unwrap(args[0]!) : undefined;
    if (set?.name !== 'AttrSet') return [];
    const key = `(${this.scope.slice(fn).replace(/\s+/g, '')})`;
    return this.branches({ node: set, env }, env, key, depth, (branch) => this.ends({ value: branch }, branch.env, depth + 1, wantSets));
  }

  /** Each binding of a set (or of the set a name or `let` leads to), with `key` fixed to its name. */
  private branches<T>(set: Value, env: Env, key: string, depth: number, follow: (branch: Value) => T[]): T[] {
    let node = unwrap(set.node);
    while (node.name === 'Let' || node.name === 'RecAttrSet') {
      const inner = node.name === 'Let' ? node.lastChild : node.getChild('AttrSet');
      if (!inner || inner.name === 'in' || inner.name === 'let') return [];
      node = unwrap(inner);
    }
    if (node.name === 'Identifier' || node.name === 'Select') {
      const resolved = this.scope.valueOf(node, set.env, depth + 1);
      return resolved && 'value' in resolved && depth < MAX_DEPTH ? this.branches(resolved.value, env, key, depth + 1, follow) : [];
    }
    if (node.name !== 'AttrSet') return [];
    const out: T[] = [];
    for (const name of this.scope.entries(node).keys()) {
      const keys = new Map(env.keys).set(key, name);
      const branchEnv = { args: set.env.args, keys };
      const value = this.scope.select({ value: { node, env: branchEnv } }, [name], depth + 1);
      if (value && 'value' in value) out.push(...follow(value.value));
    }
    return out;
  }

  /** A wrapper's parameter: the literals each call of the wrapper in this file passes for it. */
  private throughCalls(param: Param, env: Env, wrappers: number): FoundLiteral[] {
    const found: FoundLiteral[] = [];
    const sites = this.callSites(param.fn);
    for (const site of sites) {
      const next = withArgument(env, param.fn.from, site.arg);
      const arg = next.args.get(param.fn.from)!;
      const given = this.scope.select({ value: arg }, param.formal ? [param.name, ...param.path] : param.path);
      const start = given ?? this.defaultOf(param, next);
      if (start) for (const literal of this.literals(start, next, wrappers + 1)) found.push({ ...literal, via: literal.via ?? site.via });
    }
    // A default is a hash of its own, read where no call passes one.
    const fallback = this.defaultOf(param, env);
    if (fallback) found.push(...this.literals(fallback, env, wrappers + 1));
    return found;
  }

  /** The calls of a function bound by name in this file (`w { … }`, `w a { … }` when curried, `map w [ … ]`). */
  private callSites(fn: SyntaxNode): { arg: SyntaxNode; via: string }[] {
    let node = fn;
    let position = 0;
    for (let parent = node.parent; parent; parent = node.parent) {
      if (parent.name === 'Parenthesized') node = parent;
      else if (parent.name === 'Function' && same(parent.lastChild, node)) [node, position] = [parent, position + 1];
      else if (parent.name === 'App' && same(parent.lastChild, node) && /^makeOverridable/.test(this.scope.lastName(spine(parent)[0]))) node = parent;
      else break;
    }
    let holder = node.parent;
    if (holder?.name === 'App' && position === 0) {
      while (holder.parent?.name === 'App' && same(holder.parent.firstChild, holder)) holder = holder.parent;
      return this.mapped(holder, node, 'map');
    }
    const path = holder?.name === 'Bind' ? holder.firstChild : null;
    if (!path || !same(path.firstChild, path.lastChild) || path.firstChild?.name !== 'Identifier') return [];
    const name = this.scope.slice(path.firstChild);
    const sites: { arg: SyntaxNode; via: string }[] = [];
    this.calls ??= this.findCalls();
    for (const app of this.calls.get(name) ?? []) {
      const [head, ...args] = spine(app);
      const arg = args[position];
      if (arg && this.isFunction(head, node)) sites.push({ arg, via: name });
    }
    for (const app of this.calls.get('map') ?? []) sites.push(...this.mapped(app, node, name));
    return sites;
  }

  /** `map f [ a b ]` where `f` is the function: each item of the list is a call of it. */
  private mapped(app: SyntaxNode, fn: SyntaxNode, via: string): { arg: SyntaxNode; via: string }[] {
    const [head, f, list] = spine(app);
    if (!f || !list || this.scope.lastName(head) !== 'map' || !this.isFunction(f, fn)) return [];
    return listItems(unwrap(list)).map((arg) => ({ arg, via }));
  }

  /** Whether `f` is the function `fn`, written in place or by a name bound to it. */
  private isFunction(f: SyntaxNode, fn: SyntaxNode): boolean {
    if (unwrap(f).from === unwrap(fn).from) return true;
    const target = this.scope.valueOf(f, NO_ENV);
    return !!target && 'value' in target && unwrap(target.value.node).from === unwrap(fn).from;
  }

  /** A formal parameter's default (`sha256 ? "…"`), read in `env`. */
  private defaultOf(param: Param, env: Env): Resolved | undefined {
    if (!param.formal) return undefined;
    for (let child = param.fn.firstChild; child; child = child.nextSibling) {
      const name = child.name === 'Formal' ? child.firstChild : null;
      if (name?.name !== 'Identifier' || this.scope.slice(name) !== param.name || !name.nextSibling) continue;
      return param.path.length === 0 ? { value: { node: name.nextSibling, env } } : this.scope.select({ value: { node: name.nextSibling, env } }, param.path);
    }
    return undefined;
  }
}

type End = FoundLiteral | { param: Param; env: Env };

/** The environment with a function's argument fixed; every argument in it reads the whole chain. */
function withArgument(env: Env, fn: number, arg: SyntaxNode): Env {
  const args = new Map<number, Value>();
  const next: Env = { args, keys: env.keys };
  for (const [from, value] of env.args) args.set(from, { node: value.node, env: next });
  args.set(fn, { node: arg, env: next });
  return next;
}
