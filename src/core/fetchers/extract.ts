import { nixParser as parser } from './grammar';
import { TreeFragment, type SyntaxNode, type Tree } from '@lezer/common';
import { Args, type CallArgs } from './args';
import { FETCHER_PASSERS, FETCHERS, fetchurl, HASH_ATTRS, HASH_NAME, isHashShaped, isSri, NOT_HASHES, VENDOR_HASHES, type FetcherKind } from './kinds';
import { hashRecord, type Claim, type Fetcher } from './record';
import { claimFromShape, outputHashClaim, vendorClaim } from './shapes';
import { planParse } from './prefilter';
import { NO_ENV, Scope, same, spine, unwrap, type Resolved, type Value } from './scope';
import { Tracer, type FoundLiteral } from './trace';

export type { Fetcher, HashProblem } from './record';
export { hashProblemOfText, hashProblemText, isMalformedHash } from './record';
export type { HashMode } from './kinds';

/*
 * Every hash a .nix file holds, and what the text says of the source it names. Each hash-shaped
 * string bound to a hash attribute is one record, wherever it stands: read by a fetcher call
 * (directly, by name, per system, or through a wrapper defined in the file), by a builder's
 * vendor hash, by a data file's convention, or by nothing this file shows (then the fetcher and
 * the mode say `unknown`, and why).
 */

const HASH_ATTR_NAMES = Object.keys(HASH_ATTRS);
const FAKE_HASH = /^(lib\.)?fake(Hash|Sha256|Sha512)$/;
/** A fetcher's own argument outranks a hash reached by name, which outranks a guess from shape. */
const DIRECT = 3;
const INDIRECT = 2;

/**
 * False when no hash can be in the text: every one is bound to a name holding one of these, or
 * written as SRI. Lets a workspace scan skip parsing files that are not about sources.
 */
export function mayHaveFetchers(text: string): boolean {
  return /hash|Hash|sha1|sha256|sha512|Sha1|Sha256|Sha512|md5/.test(text);
}

export interface ParsedNix {
  text: string;
  tree: Tree;
}

export function parseNix(text: string): ParsedNix {
  return { text, tree: parser.parse(text) };
}

/**
 * The hashes of a file for a workspace scan, parsing it without the long scripts and lists that
 * hold nothing hash-like and without the bindings read from their literals (see prefilter.ts),
 * unless what is left does not parse cleanly.
 */
export function scanFetchers(text: string): Fetcher[] {
  const { ranges, fetchers } = planParse(text);
  if (ranges) {
    const found = fetchersInTree(text, parser.parse(text, [], ranges));
    if (found.clean) return fetchers.length === 0 ? found.fetchers : [...found.fetchers, ...fetchers].sort((a, b) => a.hashFrom - b.hashFrom);
  }
  return extractFetchers(parseNix(text));
}

/** Every hash in a Nix file, including in files with syntax errors (what the parser recovered). */
export function extractFetchers(parsed: ParsedNix): Fetcher[] {
  return fetchersInTree(parsed.text, parsed.tree).fetchers;
}

/**
 * The hashes in one parse tree of `text` (a whole file, or a chunk of it parsed with its
 * surroundings), and whether the tree is clean: no syntax errors, and, when `outerFrom` names a
 * set split into chunks, that set has no url or hash of its own (a chunk sees only its share).
 */
export function fetchersInTree(text: string, tree: Tree, outerFrom?: number): { fetchers: Fetcher[]; clean: boolean } {
  const scope = new Scope(text);
  const found = walk(tree, scope);
  const tracer = new Tracer(scope, () => callsByName(tree, scope));
  const claims = new Map<number, { node: SyntaxNode; claim: Claim }>();
  const references: Fetcher[] = [];
  for (const call of found.fetcherCalls) references.push(...readCall(call, scope, tracer, claims));
  for (const bind of found.vendorBinds) references.push(...readVendor(bind, scope, tracer, claims));
  for (const bind of found.outputHashBinds) references.push(...readFakeOutputHash(bind, scope));
  for (const literal of found.literals) if (!claims.has(literal.from)) claims.set(literal.from, { node: literal, claim: claimFromShape(literal, scope) });
  const fetchers = [...claims.values()].map(({ node, claim }) => hashRecord(node, claim, scope));
  const clean = found.clean && !(outerFrom !== undefined && ownsSource(tree, outerFrom, scope));
  return { fetchers: [...fetchers, ...references].sort((a, b) => a.hashFrom - b.hashFrom), clean };
}

interface FetcherCall {
  app: SyntaxNode;
  fetcher: string;
  kind: FetcherKind;
  arg: SyntaxNode;
}

interface Walked {
  /** Hash-shaped strings bound to hash attributes (or SRI anywhere). */
  literals: SyntaxNode[];
  fetcherCalls: FetcherCall[];
  vendorBinds: SyntaxNode[];
  /** `outputHash = …` of a hand-written fixed-output derivation: a placeholder reference is a site too. */
  outputHashBinds: SyntaxNode[];
  clean: boolean;
}

const IDENTIFIER = /[A-Za-z_][\w'-]*/y;
const FUNCTION_PATH = /[A-Za-z_][\w'.-]*/y;

function walk(tree: Tree, scope: Scope): Walked {
  const { text } = scope;
  const walked: Walked = { literals: [], fetcherCalls: [], vendorBinds: [], outputHashBinds: [], clean: true };
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) walked.clean = false;
      // Most nodes are none of these: only materialise a SyntaxNode for those that matter.
      if (ref.name === 'String' || ref.name === 'IndentedString') {
        if (hashShapedText(text, ref.from, ref.to, ref.name === 'String' ? 1 : 2) && countsAsHash(ref.node, scope)) walked.literals.push(ref.node);
      } else if (ref.name === 'Bind') {
        IDENTIFIER.lastIndex = ref.from;
        const name = IDENTIFIER.exec(text)?.[0];
        if (name && VENDOR_HASHES[name] && text[ref.from + name.length] !== '.') walked.vendorBinds.push(ref.node);
        if (name === 'outputHash' && text[ref.from + name.length] !== '.') walked.outputHashBinds.push(ref.node);
      } else if (ref.name === 'App' && mayCallFetcher(text, ref.from)) {
        const app = ref.node;
        if (app.parent?.name === 'App' && same(app.parent.firstChild, app)) return;
        const call = fetcherCall(app, scope);
        if (call) walked.fetcherCalls.push(call);
      }
    },
  });
  return walked;
}

function hashShapedText(text: string, from: number, to: number, quote: number): boolean {
  if (to - from < 26 + 2 * quote || to - from > 140 + 2 * quote) return false;
  const value = text.slice(from + quote, to - quote).trim();
  return !value.includes('${') && isHashShaped(value);
}

/** Bound to a hash attribute (directly, or below one: `hash = { x86_64-linux = "…"; }`), or SRI. */
function countsAsHash(node: SyntaxNode, scope: Scope): boolean {
  if (node.parent?.name === 'AttrPath') return false;
  if (isSri(scope.slice(node).slice(1, -1))) return true;
  let innermost = true;
  for (let at = node.parent; at; at = at.parent) {
    const name = bindingName(at, scope);
    if (name === undefined) continue;
    if (HASH_NAME.test(name)) return true;
    // A `rev` (40 hex digits, as a sha1) is not a hash even below one.
    if (innermost && NOT_HASHES.has(name)) return false;
    innermost = false;
  }
  return false;
}

/** The name a `Bind` binds (the last of its path) or a `Formal` declares. */
function bindingName(node: SyntaxNode, scope: Scope): string | undefined {
  if (node.name === 'Formal') return node.firstChild?.name === 'Identifier' ? scope.slice(node.firstChild) : undefined;
  if (node.name !== 'Bind') return undefined;
  const last = node.firstChild?.name === 'AttrPath' ? node.firstChild.lastChild : null;
  return last?.name === 'Identifier' ? scope.slice(last) : last?.name === 'String' ? scope.literal(last) : undefined;
}

/** A call of a known fetcher: `fetchurl { … }`, `testers.invalidateFetcherByDrvHash fetchgit { … }`, `import <nix/fetchurl.nix> { … }`. */
function fetcherCall(app: SyntaxNode, scope: Scope): FetcherCall | undefined {
  // Most applications are not fetchers: decide from the function's name before taking the call apart.
  const head = headOf(app);
  const name = head.name === 'Identifier' || head.name === 'Select' ? scope.lastName(head) : '';
  if (!FETCHERS[name] && !FETCHER_PASSERS.has(name) && name !== 'import') return undefined;
  const [, ...args] = spine(app);
  if (FETCHER_PASSERS.has(name) && args.length === 2) {
    const passed = fetcherName(unwrap(args[0]!), scope);
    return passed && { app, fetcher: passed.display, kind: passed.kind, arg: args[1]! };
  }
  if (name === 'import') {
    const nixFetchurl = args.length === 2 && scope.slice(args[0]!) === '<nix/fetchurl.nix>';
    return nixFetchurl ? { app, fetcher: 'fetchurl', kind: fetchurl, arg: args[1]! } : undefined;
  }
  const fetcher = args.length === 1 ? fetcherName(head, scope) : undefined;
  return fetcher && { app, fetcher: fetcher.display, kind: fetcher.kind, arg: args[0]! };
}

/** The function an application chain applies: `f` in `f a b`. */
function headOf(app: SyntaxNode): SyntaxNode {
  let node = app;
  while (node.name === 'App' && node.firstChild) node = unwrap(node.firstChild);
  return node;
}

function fetcherName(fn: SyntaxNode, scope: Scope): { kind: FetcherKind; display: string } | undefined {
  if (fn.name !== 'Identifier' && fn.name !== 'Select') return undefined;
  return fetcherOfPath(scope.slice(fn).replace(/\s+/g, ''));
}

/** The fetcher a function path (`fetchurl`, `pkgs.fetchFromGitHub`, `builtins.fetchurl`) names, without spaces. */
export function fetcherOfPath(source: string): { kind: FetcherKind; display: string } | undefined {
  const builtin = source === 'builtins.fetchurl' || source === 'builtins.fetchTarball';
  const key = builtin ? source : source.slice(source.lastIndexOf('.') + 1);
  const kind = FETCHERS[key];
  if (!kind || (!builtin && source.startsWith('builtins.'))) return undefined;
  // pnpm.fetchDeps: the name alone does not say which package manager.
  return { kind, display: key === 'fetchDeps' ? source.replace(/^pkgs\./, '') : key };
}

/** Whether the function an application starts with may be a fetcher, from its text alone (most are not). */
function mayCallFetcher(text: string, from: number): boolean {
  FUNCTION_PATH.lastIndex = from;
  const path = FUNCTION_PATH.exec(text)?.[0];
  if (!path) return text[from] === '(';
  const name = path.slice(path.lastIndexOf('.') + 1);
  return !!FETCHERS[name] || FETCHER_PASSERS.has(name) || name === 'import';
}

/** Applications by the name of the function applied (`generic { … }`, `map f list`): where wrappers are called. */
function callsByName(tree: Tree, scope: Scope): Map<string, SyntaxNode[]> {
  const calls = new Map<string, SyntaxNode[]>();
  tree.iterate({
    enter: (ref) => {
      if (ref.name !== 'App') return;
      const app = ref.node;
      if (app.parent?.name === 'App' && same(app.parent.firstChild, app)) return;
      const head = headOf(app);
      const name = head.name === 'Identifier' ? scope.slice(head) : head.name === 'Select' && scope.lastName(head) === 'map' ? 'map' : undefined;
      if (name) (calls.get(name) ?? calls.set(name, []).get(name)!).push(app);
    },
  });
  return calls;
}

type Claims = Map<number, { node: SyntaxNode; claim: Claim }>;

/** One claim per literal: a higher priority wins; two equal ones that disagree on the mode leave it unknown. */
function addClaim(claims: Claims, node: SyntaxNode, claim: Claim): void {
  const held = claims.get(node.from);
  if (!held || claim.priority > held.claim.priority) claims.set(node.from, { node, claim });
  else if (claim.priority === held.claim.priority && claim.mode !== held.claim.mode) {
    held.claim = { ...held.claim, mode: 'unknown', why: `read both by ${held.claim.fetcher} (${held.claim.mode}) and by ${claim.fetcher} (${claim.mode})` };
  }
}

/** A fetcher call's hash: the literals it reads claimed; a reference (`lib.fakeHash`) reported as it stands. */
function readCall(call: FetcherCall, scope: Scope, tracer: Tracer, claims: Claims): Fetcher[] {
  const references: Fetcher[] = [];
  for (const set of argumentSets(call.arg, scope, tracer)) {
    const args = new Args(set, scope);
    const attr = HASH_ATTR_NAMES.find((name) => args.has(name));
    const value = attr && args.value(attr);
    if (!value) continue;
    const fake = isFakeHash(value, scope);
    const literals = fake ? [] : tracer.literals(value, set.env);
    for (const literal of literals) {
      const inCall = literal.node.from >= call.app.from && literal.node.to <= call.app.to;
      addClaim(claims, literal.node, callClaim(call, new Args({ node: set.node, env: literal.env }, scope), attr, literal, inCall));
    }
    if (literals.length === 0 && 'value' in value && (fake || !endsInParameter(value, scope)))
      references.push(hashRecord(unwrap(value.value.node), callClaim(call, args, attr, undefined, true), scope));
  }
  return references;
}

function callClaim(call: FetcherCall, args: Args, hashAttr: string, literal: FoundLiteral | undefined, inCall: boolean): Claim {
  const range = inCall || !literal ? call.app : (literal.node.parent ?? literal.node);
  const claim = literalCallClaim(call, args, hashAttr, range);
  if (!inCall) claim.priority = INDIRECT;
  if (literal?.via) claim.via = literal.via;
  return claim;
}

/** The claim of a fetcher call on the hash its own `hashAttr` holds, spanning `range`. */
export function literalCallClaim(call: { fetcher: string; kind: FetcherKind }, args: CallArgs, hashAttr: string, range: { from: number; to: number }): Claim {
  const override = args.text('outputHashMode');
  const mode =
    override === 'recursive' || override === 'nar'
      ? 'recursive'
      : override === 'flat'
        ? 'flat'
        : typeof call.kind.mode === 'function'
          ? call.kind.mode(args)
          : call.kind.mode;
  const claim: Claim = {
    fetcher: call.fetcher,
    mode,
    urls: call.kind.urls?.(args) ?? args.urls(),
    hashAttr,
    from: range.from,
    to: range.to,
    priority: DIRECT,
  };
  const name = args.name();
  if (name) claim.name = name;
  if (call.fetcher === 'fetchipfs' && args.text('ipfs')) claim.ipfs = args.text('ipfs');
  const algo = args.text('outputHashAlgo');
  if (algo) claim.outputHashAlgo = algo;
  return claim;
}

/** The sets a fetcher's argument can be: written in place, or named (`fetchurl srcs.${system}`). */
function argumentSets(arg: SyntaxNode, scope: Scope, tracer: Tracer): Value[] {
  const node = unwrap(arg);
  if (node.name === 'AttrSet') return [{ node, env: NO_ENV }];
  const rec = node.name === 'RecAttrSet' ? node.getChild('AttrSet') : null;
  if (rec) return [{ node: rec, env: NO_ENV }];
  if (node.name === 'BinaryExpr' && scope.operator(node) === '//')
    return [node.lastChild!, node.firstChild!].flatMap((side) => argumentSets(side, scope, tracer));
  return tracer.sets({ value: { node, env: NO_ENV } });
}

/** A builder's vendor hash (`cargoHash = "…"`, or by name). */
function readVendor(bind: SyntaxNode, scope: Scope, tracer: Tracer, claims: Claims): Fetcher[] {
  const name = scope.pathParts(bind.firstChild!)[0] as string;
  const value: Resolved = { value: { node: bind.lastChild!, env: NO_ENV } };
  const fake = isFakeHash(value, scope);
  const literals = fake ? [] : tracer.literals(value);
  for (const literal of literals) addClaim(claims, literal.node, vendorClaim(name, bind));
  return literals.length === 0 && (fake || !endsInParameter(value, scope)) ? [hashRecord(unwrap(bind.lastChild!), vendorClaim(name, bind), scope)] : [];
}

/** `outputHash = lib.fakeSha256;` in a hand-written derivation: the place to fill (literals are found as strings). */
function readFakeOutputHash(bind: SyntaxNode, scope: Scope): Fetcher[] {
  const value: Resolved = { value: { node: bind.lastChild!, env: NO_ENV } };
  const claim = isFakeHash(value, scope) ? outputHashClaim(bind, scope) : undefined;
  return claim ? [hashRecord(unwrap(bind.lastChild!), claim, scope)] : [];
}

function isFakeHash(value: Resolved, scope: Scope): boolean {
  return 'value' in value && FAKE_HASH.test(scope.slice(unwrap(value.value.node)).replace(/\s+/g, ''));
}

/** A hash that is a parameter of the function around it: its calls hold the literal, not this place. */
function endsInParameter(value: Resolved, scope: Scope): boolean {
  if ('param' in value) return true;
  const node = unwrap(value.value.node);
  if (node.name !== 'Identifier' && node.name !== 'Select') return false;
  const resolved = scope.valueOf(node, value.value.env);
  return !!resolved && 'param' in resolved;
}

/** Whether the set at `from` has a url or hash of its own. */
function ownsSource(tree: Tree, from: number, scope: Scope): boolean {
  let set: SyntaxNode | null = tree.resolve(from, 1);
  while (set && !(set.name === 'AttrSet' && set.from === from)) set = set.parent;
  if (!set) return false;
  const entries = scope.entries(set);
  return entries.has('url') || entries.has('urls') || HASH_ATTR_NAMES.some((name) => entries.has(name));
}

/** One edit in the coordinates of the text before it (as LSP's incremental sync reports them). */
export interface TextEdit {
  from: number;
  to: number;
  insert: string;
}

/**
 * Re-parses after edits, reusing the unchanged parts of the previous tree (Lezer fragments),
 * so a keystroke in a 2 MB file does not cost a full parse.
 */
export function reparseNix(previous: ParsedNix, edits: TextEdit[]): ParsedNix {
  let text = previous.text;
  let fragments = TreeFragment.addTree(previous.tree);
  for (const edit of edits) {
    text = text.slice(0, edit.from) + edit.insert + text.slice(edit.to);
    fragments = TreeFragment.applyChanges(fragments, [{ fromA: edit.from, toA: edit.to, fromB: edit.from, toB: edit.from + edit.insert.length }]);
  }
  return { text, tree: parser.parse(text, fragments) };
}
