import type { Hover, Position } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { cidForFlatHash, describeCid, looksLikeCid } from '../core/cid';
import { hashProblemText, type Fetcher } from '../core/fetchers/extract';
import { makeFixedOutputPath } from '../core/store-path';
import type { PinState } from './pin-state';

/** The pin state of a hash, waiting at most as long as a hover may. */
export type PinStateLookup = (sri: string) => Promise<PinState | undefined>;

/** The hover at a position: a fetcher's hash (every encoding, CID, pin state) or a CID. */
export async function hover(
  document: TextDocument,
  fetchers: Fetcher[],
  position: Position,
  pinState: PinStateLookup,
  gatewayUrl: string,
): Promise<Hover | null> {
  const offset = document.offsetAt(position);
  const range = (from: number, to: number) => ({ start: document.positionAt(from), end: document.positionAt(to) });
  const fetcher = fetchers.find((f) => offset >= f.hashFrom && offset <= f.hashTo);
  if (fetcher) {
    const state = fetcher.nixHash ? await pinState(fetcher.nixHash.toSri()) : undefined;
    return { contents: { kind: 'markdown', value: fetcherHover(fetcher, state, gatewayUrl) }, range: range(fetcher.hashFrom, fetcher.hashTo) };
  }
  const word = wordAt(document.getText(), offset);
  const value = cidHover(word.text, gatewayUrl);
  return value ? { contents: { kind: 'markdown', value }, range: range(word.from, word.to) } : null;
}

function wordAt(text: string, offset: number): { text: string; from: number; to: number } {
  let from = offset;
  let to = offset;
  while (from > 0 && /[A-Za-z0-9]/.test(text.charAt(from - 1))) from--;
  while (to < text.length && /[A-Za-z0-9]/.test(text.charAt(to))) to++;
  return { text: text.slice(from, to), from, to };
}

/** Markdown for a CID: its parts, and the Nix hash a raw block's digest is. */
export function cidHover(word: string, gatewayUrl: string): string | undefined {
  if (!looksLikeCid(word)) return undefined;
  try {
    const info = describeCid(word);
    const lines = [`**CID** v${info.version} · ${info.codecName} · ${info.multihashName}`, '', `base32: \`${info.base32}\``, `digest: \`${info.digestHex}\``];
    if (info.nixHash && info.codecName === 'raw')
      lines.push('', `Nix hash of the file: \`${info.nixHash.toSri()}\``, `Nix base32: \`${info.nixHash.toNix32()}\``);
    if (gatewayUrl) lines.push('', `[Open in gateway](${gatewayUrl}/ipfs/${info.base32})`);
    return lines.join('  \n');
  } catch {
    return undefined;
  }
}

/** Markdown for a fetcher's hash: every encoding, the raw CID, and what the node holds. */
export function fetcherHover(f: Fetcher, state: PinState | undefined, gatewayUrl: string): string {
  if (f.placeholder) return `**${f.hashAttr}**: placeholder hash — build once and Nix prints the real one.`;
  const hash = f.nixHash;
  if (!hash) return `**${f.hashAttr}**: ${f.hashProblem ? hashProblemText(f.hashProblem) : 'not a literal hash'}`;
  const lines = [
    `**${hash.algo}** · ${modeText(f.mode)} · ${f.fetcher}${f.via ? ` (through ${f.via})` : ''}`,
    ...(f.mode === 'unknown'
      ? ['', `No CID and no “Pin to IPFS” for this hash: ${f.why ?? 'the file does not say whether it is of a file or of a tree'}.`]
      : []),
    '',
    `SRI: \`${hash.toSri()}\``,
    `Nix base32: \`${hash.toNix32()}\``,
    `base16: \`${hash.toBase16()}\``,
  ];
  if (f.flakeInput)
    lines.push(
      '',
      `Input \`${f.flakeInput.id}\` from ${f.urls[0] ?? '?'}`,
      `Store path: \`${makeFixedOutputPath({ name: f.name ?? 'source', hash, recursive: true })}\``,
    );
  const raw = f.mode === 'flat' ? cidForFlatHash(hash) : undefined;
  if (raw) lines.push(`CID: \`${raw}\` (raw block; the file's own CID when it is one block)`);
  lines.push('', f.mode === 'unknown' && state?.kind === 'not-mirrored' ? 'IPFS: not mirrored' : stateLine(state));
  const cid = state && 'cid' in state ? state.cid : raw;
  const nodeAnswers = state?.kind !== 'unreachable' && state?.kind !== 'failed' && state?.kind !== 'refused';
  if (cid && gatewayUrl && nodeAnswers) lines.push(`[Open in gateway](${gatewayUrl}/ipfs/${cid})`);
  // Two trailing spaces: a markdown line break, so each form sits on its own line.
  return lines.join('  \n');
}

function modeText(mode: string): string {
  if (mode === 'flat') return 'flat (the file)';
  if (mode === 'recursive') return 'recursive (the unpacked tree, as a NAR)';
  return 'of the file or the unpacked tree (the file does not say)';
}

function stateLine(state: PinState | undefined): string {
  if (!state) return 'IPFS: checking the Kubo node…';
  switch (state.kind) {
    case 'pinned':
      return `IPFS: **pinned** on your node ✓${state.record ? ` — mirrored as \`${state.cid}\`` : ''}`;
    case 'mirrored-unpinned':
      return `IPFS: mirrored as \`${state.cid}\` but **not pinned** (Kubo may collect it)`;
    case 'not-mirrored':
      return 'IPFS: not mirrored yet — use “Pin to IPFS”';
    case 'unreachable':
      return `IPFS: no Kubo node answers at ${state.api} — start it (\`ipfs daemon\`), or set the Kubo API (\`nixIpfs.kuboApi\`) to your node's`;
    case 'failed':
      return `IPFS: ${state.error}`;
    case 'refused':
      return `IPFS: ${state.reason}`;
  }
}
