import type { SyntaxNode } from '@lezer/common';
import { Args } from './args';
import { HASH_NAME, VENDOR_HASHES, type HashMode } from './kinds';
import type { Claim } from './record';
import { NO_ENV, same, spine, type Scope } from './scope';

/*
 * Hash literals no fetcher call in the file reads: what their surroundings say. Data files have
 * conventions of their own (bundix gemsets, go2nix deps, hand-written fixed-output derivations);
 * anything else is reported with what is known (the set's URLs, the function it is passed to)
 * and an unknown mode, never a guessed one.
 */

/** How the data sets generators write name their fetcher: `type = "git"` in gemsets and go2nix deps. */
const TYPED_FETCHERS: Record<string, string> = { git: 'fetchgit', hg: 'fetchhg', svn: 'fetchsvn', bzr: 'fetchbzr' };
const SHAPE_PRIORITY = 1;

/** The claim a hash literal's surroundings support. */
export function claimFromShape(literal: SyntaxNode, scope: Scope): Claim {
  const binding = hashBinding(literal, scope);
  const unknown = (why: string, at: SyntaxNode = binding?.node ?? literal): Claim => ({
    fetcher: 'unknown',
    mode: 'unknown',
    urls: [],
    hashAttr: binding?.name ?? 'hash',
    from: at.from,
    to: at.to,
    why,
    priority: SHAPE_PRIORITY,
  });
  if (!binding) return unknown('a hash outside any attribute this scan reads');
  const { name, node } = binding;
  if (VENDOR_HASHES[name]) return vendorClaim(name, node);
  const set = node.name === 'Bind' ? node.parent : null;
  if (name === 'outputHashes' && set && isCargoLock(set, scope)) {
    return { fetcher: 'fetchgit', mode: 'recursive', urls: [], hashAttr: name, from: node.from, to: node.to, via: 'importCargoLock', priority: SHAPE_PRIORITY };
  }
  if (set?.name !== 'AttrSet' || !same(node.lastChild, literal))
    return unknown('nothing in this file hands this hash to a fetcher, so whether it is of a file or of a tree is not known here');
  return setClaim(name, set, scope) ?? unknown(callerWhy(set, scope), set);
}

export function vendorClaim(name: string, bind: SyntaxNode): Claim {
  return { fetcher: name, mode: VENDOR_HASHES[name] ?? 'unknown', urls: [], hashAttr: name, from: bind.from, to: bind.to, priority: SHAPE_PRIORITY + 1 };
}

/** A hand-written fixed-output derivation's `outputHash` binding, read from the set it stands in. */
export function outputHashClaim(bind: SyntaxNode, scope: Scope): Claim | undefined {
  return bind.parent?.name === 'AttrSet' ? setClaim('outputHash', bind.parent, scope) : undefined;
}

/** A set holding the hash with other attributes: a gem, a typed source, a derivation, a `{ url; hash; }`. */
function setClaim(name: string, set: SyntaxNode, scope: Scope): Claim | undefined {
  const args = new Args({ node: set, env: NO_ENV }, scope);
  const base = { hashAttr: name, from: set.from, to: set.to, priority: SHAPE_PRIORITY };
  const type = args.text('type');
  if (type === 'gem') return { ...base, fetcher: 'fetchurl', mode: 'flat', urls: gemUrls(set, args, scope), via: 'gemset' };
  if (type && TYPED_FETCHERS[type] && args.has('url')) return { ...base, fetcher: TYPED_FETCHERS[type], mode: 'recursive', urls: args.urls() };
  const caller = callerOf(set);
  if (caller && isHackage(name, caller, args, scope)) {
    return { ...base, fetcher: 'fetchurl', mode: 'flat', urls: [`mirror://hackage/${args.text('pname')}-${args.text('version')}.tar.gz`], via: 'hackage' };
  }
  if (name === 'outputHash' || args.has('outputHashMode') || args.isTrue('recursiveHash')) {
    const mode = outputHashMode(args);
    const fetcher = caller ? scope.lastName(spine(caller)[0]) : args.has('url') || args.has('urls') ? 'attrset' : 'derivation';
    return {
      ...base,
      fetcher,
      mode,
      urls: args.urls(),
      name: args.name(),
      outputHashAlgo: args.text('outputHashAlgo'),
      why: mode === 'unknown' ? 'outputHashMode is computed' : undefined,
    };
  }
  if (!caller && (args.has('url') || args.has('urls'))) {
    const why = 'a { url; hash } set read elsewhere: fetchurl would hash the file, fetchzip the unpacked tree';
    return { ...base, fetcher: 'attrset', mode: 'unknown', urls: args.urls(), name: args.name(), why };
  }
  if (caller) return { ...base, fetcher: callerName(caller, set, scope), mode: 'unknown', urls: [], why: callerWhy(set, scope) };
  return undefined;
}

/**
 * cabal2nix's `mkDerivation { pname; version; sha256; }` (hackage-packages.nix): Haskell's builder, a
 * parameter named `mkDerivation`, fetches `mirror://hackage/${pname}-${version}.tar.gz` when no `src` is given.
 */
function isHackage(name: string, caller: SyntaxNode, args: Args, scope: Scope): boolean {
  const head = spine(caller)[0];
  return (
    name === 'sha256' &&
    head.name === 'Identifier' &&
    scope.slice(head) === 'mkDerivation' &&
    !args.has('src') &&
    !!args.text('pname') &&
    !!args.text('version')
  );
}

/** nixpkgs' fetchurl and derivations: flat unless outputHashMode (or recursiveHash) says otherwise. */
function outputHashMode(args: Args): HashMode {
  if (args.isTrue('recursiveHash')) return 'recursive';
  if (!args.has('outputHashMode')) return 'flat';
  const mode = args.text('outputHashMode');
  return mode === 'flat' ? 'flat' : mode === 'recursive' || mode === 'nar' ? 'recursive' : 'unknown';
}

/** bundix: `${remote}/gems/${name}-${version}.gem` for each remote, the gem's name being its attribute. */
function gemUrls(source: SyntaxNode, args: Args, scope: Scope): (string | undefined)[] {
  const gem = source.parent?.name === 'Bind' ? source.parent.parent : null;
  const path = gem?.name === 'AttrSet' && gem.parent?.name === 'Bind' ? gem.parent.firstChild : null;
  const gemName = path ? scope.pathParts(path).at(-1) : undefined;
  const gemArgs = gem ? new Args({ node: gem, env: NO_ENV }, scope) : undefined;
  const version = gemArgs?.text('version');
  if (typeof gemName !== 'string' || !version) return [undefined];
  const platform = gemArgs!.text('platform');
  const suffix = platform && platform !== 'ruby' ? `${version}-${platform}` : version;
  return (args.list('remotes') ?? ['https://rubygems.org']).map((remote) => remote && `${remote}/gems/${gemName}-${suffix}.gem`);
}

/** The nearest attribute (or formal parameter) holding the literal whose name says it is a hash. */
function hashBinding(literal: SyntaxNode, scope: Scope): { name: string; node: SyntaxNode } | undefined {
  for (let node = literal.parent; node; node = node.parent) {
    const path = node.name === 'Bind' ? node.firstChild : node.name === 'Formal' ? node.firstChild : null;
    if (!path || (node.name === 'Bind' && path.name !== 'AttrPath')) continue;
    const name = node.name === 'Bind' ? scope.pathParts(path).at(-1) : scope.slice(path);
    if (typeof name === 'string' && HASH_NAME.test(name)) return { name, node };
  }
  return undefined;
}

/** `cargoLock = { outputHashes = { … }; }`: the git dependencies importCargoLock fetches with fetchgit. */
function isCargoLock(set: SyntaxNode, scope: Scope): boolean {
  const owner = set.parent?.name === 'Bind' ? set.parent.firstChild : null;
  if (owner && scope.pathParts(owner).at(-1) === 'cargoLock') return true;
  const caller = callerOf(set);
  return !!caller && scope.lastName(spine(caller)[0]) === 'importCargoLock';
}

/** The application a set is an argument of (also through `finalAttrs: { … }`), outermost in its chain. */
export function callerOf(set: SyntaxNode): SyntaxNode | undefined {
  let node = set;
  for (let parent = node.parent; parent?.name === 'Parenthesized' || (parent?.name === 'Function' && same(parent.lastChild, node)); parent = node.parent)
    node = parent;
  let app = node.parent;
  if (app?.name !== 'App' || same(app.firstChild, node)) return undefined;
  while (app.parent?.name === 'App' && same(app.parent.firstChild, app)) app = app.parent;
  return app;
}

/** How a call is named in reports: the function and the arguments before the set (`callPackage ./x.nix`). */
function callerName(caller: SyntaxNode, set: SyntaxNode, scope: Scope): string {
  const head = spine(caller)[0];
  const written = scope.text
    .slice(caller.from, set.from)
    .replace(/[\s(]+/g, ' ')
    .trim();
  return written.length > 0 && written.length <= 60 ? written : scope.slice(head).replace(/\s+/g, '');
}

function callerWhy(set: SyntaxNode, scope: Scope): string {
  const caller = callerOf(set);
  if (!caller) return 'nothing in this file hands this hash to a fetcher, so whether it is of a file or of a tree is not known here';
  return `passed to ${callerName(caller, set, scope)}, which this file does not show handing it to a fetcher`;
}
