import { fileURLToPath } from 'node:url';
import { DiagnosticSeverity, type Diagnostic, type Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { describeCid } from '../core/cid';
import { hashProblemText, isMalformedHash, type Fetcher } from '../core/fetchers/extract';
import type { NixHash } from '../core/hash';
import { scanRecordFetcher, type ScanRecord } from '../services/scan';
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
    if (f.placeholder)
      return [
        diagnostic(
          DiagnosticSeverity.Warning,
          'placeholder-hash',
          `${f.hashAttr} is a placeholder (${f.hash || 'empty'}): the build will fail and print the real hash`,
        ),
      ];
    if (isMalformedHash(f) && f.hashProblem)
      return [diagnostic(DiagnosticSeverity.Error, 'malformed-hash', `${f.hashAttr}: ${hashProblemText(f.hashProblem)}`)];
    return f.nixHash ? hashDiagnostics(f, f.nixHash, file, range, inputs) : [];
  });
}

function hashDiagnostics(f: Fetcher, hash: NixHash, file: string, range: Range, inputs: DiagnosticInputs): Diagnostic[] {
  const sri = hash.toSri();
  const diagnostics: Diagnostic[] = [];
  const diagnostic = (severity: DiagnosticSeverity, code: string, message: string) => diagnostics.push({ range, severity, source: 'nix-ipfs', code, message });
  const stale = inputs.staleHashes?.get(f.hashFrom);
  if (stale) diagnostic(DiagnosticSeverity.Warning, 'stale-hash', stale);
  const ipfsMismatch = f.ipfs ? cidDisagrees(f.ipfs, hash) : undefined;
  if (ipfsMismatch) diagnostic(DiagnosticSeverity.Error, 'ipfs-mismatch', ipfsMismatch);
  const named = (r: Pick<Fetcher, 'urls' | 'dynamicUrl'>) => r.urls.length > 0 || r.dynamicUrl;
  const identity = (r: Pick<Fetcher, 'name' | 'urls' | 'dynamicUrl'>) => `${r.name ?? ''} ${r.urls.join(' ')}${r.dynamicUrl ? ' (computed)' : ''}`;
  const others = (inputs.workspaceHashes.get(sri) ?? []).filter((r) => {
    const typed = scanRecordFetcher(r);
    return r.file !== file && identity(typed) !== identity(f) && named(typed) && named(f);
  });
  const [other] = others;
  if (other) {
    diagnostic(
      DiagnosticSeverity.Warning,
      'duplicate-hash',
      `the same hash is used for another source (${other.urls[0] ?? other.name} in ${other.file}:${other.line}): probably a copy-paste mistake`,
    );
  }
  if (inputs.notMirrored && inputs.cachedPinState(sri)?.kind === 'not-mirrored') {
    diagnostic(DiagnosticSeverity.Information, 'not-mirrored', 'this source is not mirrored in IPFS yet');
  }
  return diagnostics;
}

/** fetchipfs: a raw CID names the file's sha256 itself, so it must agree with the hash. */
function cidDisagrees(cid: string, hash: NixHash): string | undefined {
  try {
    const info = describeCid(cid);
    if (info.codecName !== 'raw' || !info.nixHash) return undefined; // a UnixFS CID cannot be checked from the text
    return info.nixHash.algo === hash.algo && !info.nixHash.equals(hash)
      ? `the ipfs CID names ${info.nixHash.toSri()}, but the hash is ${hash.toSri()}`
      : undefined;
  } catch (error) {
    return `ipfs is not a CID: ${(error as Error).message}`;
  }
}
