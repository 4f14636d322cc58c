import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { scanWorkspace, type ScanRecord } from '../../../src/services/scan';
import { repoRoot } from '../../helpers/cli';
import { findHashLiterals, isSri, type HashLiteral } from './hash-literals';

/*
 * Recall and field precision of the scan on files written in the shapes nixpkgs uses (wrappers,
 * data files, per-system sets, today's fetchers, fixed points…), against an independent count of
 * their hash literals. Each literal's line says what is true of it: `# expect: fetcher · mode · urls`
 * (`unknown` where the file does not say; `-` for no URL). SRIs are checked against Nix's own
 * `nix hash to-sri`, CIDs against one built here from the digest.
 */
const corpus = path.join(repoRoot, 'test/fixtures/nixpkgs-shapes');
const files = readdirSync(corpus)
  .filter((f) => f.endsWith('.nix'))
  .sort();

interface Expectation {
  fetcher: string;
  mode: string;
  urls?: string[];
}

function expectationOf(literal: HashLiteral): Expectation | undefined {
  const match = /^expect: (.*)$/.exec(literal.comment ?? '');
  if (!match) return undefined;
  const [fetcher, mode, urls] = match[1].split(' · ');
  return { fetcher, mode, urls: urls === undefined ? undefined : urls === '-' ? [] : urls.split(' ') };
}

/** The algorithm a literal names: its SRI or `algo:` prefix, its attribute, or its length. */
function algoOf(literal: HashLiteral): string {
  const prefix = /^(md5|sha1|sha256|sha512)[-:]/.exec(literal.value);
  if (prefix) return prefix[1];
  const named = literal.bindings.map((b) => /(sha1|sha256|sha512|md5)$/i.exec(b)?.[1].toLowerCase()).find(Boolean);
  return named ?? ({ 40: 'sha1', 52: 'sha256', 64: 'sha256', 103: 'sha512', 128: 'sha512' } as Record<number, string>)[literal.value.length];
}

/** Nix's own SRI for each literal (one `nix hash to-sri` per algorithm). */
function nixSris(literals: HashLiteral[]): Map<string, string> {
  const sris = new Map<string, string>();
  for (const algo of new Set(literals.map(algoOf))) {
    const values = [...new Set(literals.filter((l) => algoOf(l) === algo).map((l) => l.value))];
    const out = execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'to-sri', '--type', algo, ...values], { encoding: 'utf8' });
    out
      .trim()
      .split('\n')
      .forEach((sri, i) => sris.set(values[i], sri));
  }
  return sris;
}

/** CIDv1, raw codec, sha2-256/512 multihash, base32: built from the digest, without the project's code. */
function rawCid(sri: string): string | undefined {
  const [algo, b64] = sri.split('-');
  const code = { sha256: 0x12, sha512: 0x13 }[algo];
  if (!code) return undefined;
  const digest = Buffer.from(b64, 'base64');
  const bytes = Buffer.concat([Buffer.from([0x01, 0x55, code, digest.length]), digest]);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  let out = 'b';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}

test('the independent count skips comments and the text of strings, and reads SRI anywhere', () => {
  const text = [
    '{ # sha256 = "0ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g";',
    "  script = ''",
    '    sha256 = "0ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g"',
    "  '';",
    '  rev = "9d9dbe6ed05854e03811c361a3380e09183f4f4a";',
    '  hash = { x86_64-linux = "0ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g"; }.${system};',
    '  checksums.aarch64-linux = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=";',
    '}',
  ].join('\n');
  assert.deepEqual(
    findHashLiterals(text).map((l) => [l.line, l.bindings]),
    [
      [6, ['hash', 'x86_64-linux']],
      [7, ['aarch64-linux']],
    ],
  );
});

test('every hash literal in the nixpkgs-shaped corpus is reported, with its fields right (recall and field precision ≥ 99 %)', async (t) => {
  // The corpus is Nix as Nix reads it: its own parser accepts every file (one process).
  execFileSync('nix-instantiate', ['--parse', ...files.map((f) => path.join(corpus, f))], { stdio: 'ignore' });
  const records = await scanWorkspace(corpus);
  const literals = files.flatMap((file) => findHashLiterals(readFileSync(path.join(corpus, file), 'utf8')).map((literal) => ({ file, literal })));
  const sris = nixSris(literals.map((l) => l.literal));
  const missed: string[] = [];
  const wrong: string[] = [];
  let checked = 0;
  for (const { file, literal } of literals) {
    const where = `${file}:${literal.line}`;
    const record = records.find((r) => path.basename(r.file) === file && r.line === literal.line && r.hash === literal.value);
    if (!record) {
      missed.push(where);
      continue;
    }
    for (const [field, ok] of fieldChecks(record, literal, sris.get(literal.value))) {
      checked++;
      if (!ok) wrong.push(`${where} ${field}: ${JSON.stringify(pick(record))}`);
    }
  }
  const recall = (literals.length - missed.length) / literals.length;
  const precision = (checked - wrong.length) / checked;
  t.diagnostic(
    `${literals.length} literals in ${files.length} files: recall ${(recall * 100).toFixed(1)} %, field precision ${(precision * 100).toFixed(1)} % of ${checked} fields`,
  );
  for (const line of [...missed.map((m) => `missed ${m}`), ...wrong]) t.diagnostic(line);
  assert.ok(recall >= 0.99, `recall ${recall}: missed ${missed.join(', ')}`);
  assert.ok(precision >= 0.99, `field precision ${precision}:\n${wrong.join('\n')}`);
  for (const file of files) {
    const held = literals.filter((l) => l.file === file).length;
    if (held > 0)
      assert.ok(
        records.some((r) => path.basename(r.file) === file),
        `${file} holds ${held} hash literals but the scan reports none`,
      );
  }
});

function pick(r: ScanRecord) {
  return { fetcher: r.fetcher, mode: r.mode, urls: r.urls, sri: r.sri, cid: r.cid };
}

/** Each field of a record against the literal's expectation and the independent SRI and CID. */
function fieldChecks(record: ScanRecord, literal: HashLiteral, sri: string | undefined): [string, boolean][] {
  const expected = expectationOf(literal);
  const checks: [string, boolean][] = [['sri', record.sri === sri]];
  const flat = (expected?.mode ?? record.mode) === 'flat';
  checks.push(['cid', record.cid === (flat && sri ? rawCid(sri) : undefined)]);
  if (!expected) return checks;
  checks.push(['fetcher', record.fetcher === expected.fetcher], ['mode', record.mode === expected.mode]);
  if (expected.urls) checks.push(['urls', JSON.stringify(record.urls) === JSON.stringify(expected.urls)]);
  return checks;
}

test('mirror:// URLs are expanded in the scan output, next to the URLs as written', async () => {
  const [gnu, extras] = await scanWorkspace(path.join(corpus, 'mirrors.nix'));
  assert.deepEqual(gnu.urls, ['mirror://gnu/hello/hello-2.12.1.tar.gz']);
  assert.equal(gnu.expandedUrls?.[0], 'http://ftpmirror.gnu.org/hello/hello-2.12.1.tar.gz');
  assert.ok(extras.expandedUrls?.some((u) => u.startsWith('http://downloads.sourceforge.net/hello-extras/')));
  assert.equal(extras.expandedUrls?.at(-1), 'https://example.org/hello-extras-2.12.1.tar.bz2');
  assert.ok(isSri(extras.sri!));
});
