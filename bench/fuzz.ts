// 10^5 random inputs per parser: every failure must be a typed ParseError.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseHash } from '../src/core/hash';
import { describeCid } from '../src/core/cid';
import { parseStorePath } from '../src/core/store-path';
import { parseNarInfo } from '../src/core/narinfo';
import { readNar } from '../src/core/nar';
import { extractFetchers, parseNix } from '../src/core/fetchers/extract';
import { log, root, rows } from './measure';

export async function fuzzCounts(): Promise<void> {
  log('fuzz: 10^5 cases per parser');
  const alphabet = '0123456789abcdfghijklmnpqrsvwxyz:-=+/ABCDsha256{}"; ';
  const randText = () => Array.from({ length: Math.floor(Math.random() * 80) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
  const parsers: [string, (s: string) => unknown][] = [
    ['hash', (s) => parseHash(s, 'sha256')],
    ['CID', (s) => describeCid(s)],
    ['store path', (s) => parseStorePath(`/nix/store/${s}`)],
    ['narinfo', (s) => parseNarInfo(`StorePath: /nix/store/${s}\nURL: ${s}\nNarHash: ${s}\nNarSize: 1\n`)],
    ['fetcher extraction', (s) => extractFetchers(parseNix(`{ x = fetchurl { url = "${s}"; sha256 = "${s}"; }; }`))],
  ];
  for (const [name, parse] of parsers) {
    let typed = 0;
    let other = 0;
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) {
      try {
        parse(randText());
      } catch (error) {
        if ((error as Error).name === 'ParseError') typed++;
        else other++;
      }
    }
    rows.push({
      area: 'Fuzz',
      measure: `${name}: 10^5 random inputs`,
      value: `${typed} typed errors, ${other} untyped`,
      baseline: `${((performance.now() - t) / 1000).toFixed(1)} s`,
    });
  }
  let narTyped = 0;
  let narOther = 0;
  const valid = execFileSync('nix-store', ['--dump', path.join(root, 'examples')]);
  for (let i = 0; i < 100_000; i++) {
    const bytes = Buffer.from(valid.subarray(0, Math.floor(Math.random() * valid.length)));
    bytes[Math.floor(Math.random() * bytes.length)] ^= 0xff;
    try {
      for await (const e of readNar(
        (async function* () {
          yield bytes;
        })(),
      ))
        if (e.contents) for await (const _ of e.contents);
    } catch (error) {
      if ((error as Error).name === 'ParseError') narTyped++;
      else narOther++;
    }
  }
  rows.push({ area: 'Fuzz', measure: 'NAR reader: 10^5 truncated/corrupted NARs', value: `${narTyped} typed errors, ${narOther} untyped`, baseline: '' });
}
