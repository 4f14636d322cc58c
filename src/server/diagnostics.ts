import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, type Diagnostic, type Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { describeCid } from '../core/cid';
import { parseHash } from '../core/hash';
import type { Fetcher } from '../core/fetchers/extract';
import type { ScanRecord } from '../services/scan';
import type { PinState } from './pin-state';

export interface DiagnosticInputs {
  /** Hash (SRI) → every fetcher using it across the workspace, for the copy-paste check. */
  workspaceHashes: ReadonlyMap<string, ScanRecord[]>;
  /** The pin state known now (never waits on Kubo). */
  cachedPinState: (sri: string) => PinState | undefined;
  /** The `diagnostics.notMirrored` setting. */
  notMirrored: boolean;
  /** Hash offset → why it is stale (its source changed since git HEAD, it did not). */
  staleHashes?: ReadonlyMap<number, string>;
}

/** Problems with the fetchers' hashes: placeholders, malformed hashes, fetchipfs mismatches, copy-paste. */
export function diagnose(document: TextDocument, fetchers: Fetcher[], inputs: DiagnosticInputs): Diagnostic[] {
  const file = document.uri.startsWith('file:') ? fileURLToPath(document.uri) : document.uri;
  return fetchers.flatMap((f) => {
    const range = { start: document.positionAt(f.hashFrom), end: document.positionAt(f.hashTo) };
    const diagnostic = (severity: DiagnosticSeverity, code: string, message: string): Diagnostic => ({ range, severity, source: 'nix-ipfs', code, message });
    if (f.placeholder) return [diagnostic(DiagnosticSeverity.Warning, 'placeholder-hash', `${f.hashAttr} is a placeholder (${f.hash || 'empty'}): the build will fail and print the real hash`)];
    if (isMalformed(f)) return [diagnostic(DiagnosticSeverity.Error, 'malformed-hash', `${f.hashAttr}: ${f.hashError}`)];
    return f.sri ? hashDiagnostics(f, f.sri, file, range, inputs) : [];
  });
}

/** A literal hash that does not parse (not one computed by Nix code, which the text cannot check). */
export function isMalformed(f: Fetcher): boolean {
  return Boolean(f.hashError) && !f.placeholder && f.hashError !== 'interpolated' && f.hashError !== 'not a literal string';
}

function hashDiagnostics(f: Fetcher, sri: string, file: string, range: Range, inputs: DiagnosticInputs): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const diagnostic = (severity: DiagnosticSeverity, code: string, message: string) => diagnostics.push({ range, severity, source: 'nix-ipfs', code, message });
  const stale = inputs.staleHashes?.get(f.hashFrom);
  if (stale) diagnostic(DiagnosticSeverity.Warning, 'stale-hash', stale);
  const ipfsMismatch = f.ipfs ? cidDisagrees(f.ipfs, sri) : undefined;
  if (ipfsMismatch) diagnostic(DiagnosticSeverity.Error, 'ipfs-mismatch', ipfsMismatch);
  const identity = (r: { name?: string; urls: string[] }) => `${r.name ?? ''} ${r.urls.join(' ')}`;
  const others = (inputs.workspaceHashes.get(sri) ?? []).filter((r) => r.file !== file && identity(r) !== identity(f) && r.urls.length > 0 && f.urls.length > 0);
  const [other] = others;
  if (other) {
    diagnostic(DiagnosticSeverity.Warning, 'duplicate-hash', `the same hash is used for another source (${other.urls[0] ?? other.name} in ${other.file}:${other.line}): probably a copy-paste mistake`);
  }
  if (inputs.notMirrored && inputs.cachedPinState(sri)?.kind === 'not-mirrored') {
    diagnostic(DiagnosticSeverity.Information, 'not-mirrored', 'this source is not mirrored in IPFS yet');
  }
  return diagnostics;
}

/** fetchipfs: a raw CID names the file's sha256 itself, so it must agree with the hash. */
function cidDisagrees(cid: string, sri: string): string | undefined {
  try {
    const info = describeCid(cid);
    if (info.codecName !== 'raw' || !info.nixHash) return undefined; // a UnixFS CID cannot be checked from the text
    const hash = parseHash(sri).hash;
    return info.nixHash.algo === hash.algo && !info.nixHash.equals(hash) ? `the ipfs CID names ${info.nixHash.toSri()}, but the hash is ${sri}` : undefined;
  } catch (error) {
    return `ipfs is not a CID: ${(error as Error).message}`;
  }
}
