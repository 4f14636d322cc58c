// Stands in for @codemirror/language and @codemirror/autocomplete in the bundles (see scripts/build.mjs).
// @replit/codemirror-lang-nix 6.0.1 calls these once when it loads, to define the editor language
// nobody here uses; the one call that reaches the parser, configure({ props }), gets sources that
// add nothing. An import not defined here fails the build, not a run.
const addsNothing = () => undefined;
const giveAddsNothing = () => addsNothing;

export const LRLanguage = { define: giveAddsNothing };
export const indentNodeProp = { add: giveAddsNothing };
export const foldNodeProp = { add: giveAddsNothing };
export const delimitedIndent = giveAddsNothing;
export const continuedIndent = giveAddsNothing;
export const foldInside = addsNothing;
export class LanguageSupport {}
export const snippetCompletion = giveAddsNothing;
export const ifNotIn = giveAddsNothing;
export const completeFromList = giveAddsNothing;
