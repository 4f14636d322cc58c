// The publish queue's pure parts: which paths a .drv names (Nix 2.8.0 leaves OUT_PATHS empty),
// and entries that are whole, store paths only, oldest first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { derivationOutputs, enqueue, pendingEntries } from '../../../src/services/build-queue';

const OUT = '/nix/store/sph52bxaqr391ziizm0374ncvwd1i0dm-hooktest';
const DEV = '/nix/store/0m7hxnvfqmg3aiv6zkp2c1fs0k5v7w9a-hooktest-dev';

test('a derivation names its outputs; a floating content-addressed output has no path yet', () => {
  const drv = `Derive([("dev","${DEV}","",""),("out","${OUT}","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo \\"x\\" > $out"],[("out","${OUT}")])`;
  assert.deepEqual(derivationOutputs(drv), [DEV, OUT]);
  assert.deepEqual(derivationOutputs('Derive([("out","","r:sha256","")],[],[],"x","/bin/sh",[],[])'), []);
  assert.throws(() => derivationOutputs('{"not": "a drv"}'), /not a derivation/);
});

test('each build is one whole entry; only store paths are queued; entries come oldest first', async () => {
  const queue = path.join(await mkdtemp(path.join(tmpdir(), 'nix-ipfs-queue-')), 'publish-queue');
  const first = await enqueue(queue, [OUT, DEV]);
  await writeFile(path.join(queue, '1-1-0-00.paths.tmp'), 'half written');
  const second = await enqueue(queue, [OUT]);
  assert.equal(await readFile(first, 'utf8'), `${OUT}\n${DEV}\n`);
  assert.deepEqual(await pendingEntries(queue), [path.basename(first), path.basename(second)]);
  await assert.rejects(enqueue(queue, ['/etc/passwd']), /'\/etc\/passwd' is not a store path/);
  assert.deepEqual(await pendingEntries(path.join(queue, 'absent')), []);
});
