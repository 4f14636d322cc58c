// The Followed Caches view's data: the language server answers nixIpfs/followedCaches from the same
// state `nix-ipfs follow` writes (in $XDG_STATE_HOME/nix-ipfs) and as `nix-ipfs following --json`
// prints it: root, lag, bytes held, last error, and the builds waiting in the post-build-hook queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startKuboNode } from '../helpers/kubo';
import { cli } from '../helpers/cli';
import { startLsp } from '../helpers/lsp';
import { tempDir } from '../helpers/nix-env';
import { FollowedCachesRequest, type FollowingReport } from '../../src/protocol';
import { DEFAULT_SETTINGS } from '../../src/settings';
import { enqueue, queueDir } from '../../src/services/build-queue';
import { createServiceContext } from '../../src/services/context';
import { addFollows, followRound, followStateFile } from '../../src/services/follow';
import { teamContext } from '../../src/services/network';

/** The report without the lag, which moves on with the clock between two askings. */
function withoutLag(report: FollowingReport): unknown {
  return { ...report, follows: report.follows.map(({ lagSeconds: _lag, ...rest }) => rest) };
}

test('nixIpfs/followedCaches: what nix-ipfs follow holds (root, lag, bytes) and failed to reach, and the queued builds; without Kubo all but the bytes', async () => {
  const node = await startKuboNode();
  const ctx = teamContext(createServiceContext({ ...DEFAULT_SETTINGS, kuboApi: node.apiAddr }));
  // A teammate's cache (a binary cache's folder) published under an IPNS name; and a name nothing was ever published under.
  const content = randomBytes(300_000);
  await ctx.kubo.mfsWrite('/teammate/cache/nix-cache-info', Buffer.from('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n'));
  await ctx.kubo.mfsWrite('/teammate/cache/nar/blob.nar', content);
  const cid = (await ctx.kubo.mfsStat('/teammate'))!.cid;
  await ctx.kubo.ensureKey('teammate');
  const published = await ctx.kubo.publishName(cid, 'teammate');
  const silent = await ctx.kubo.ensureKey('silent');

  const stateHome = await tempDir();
  const dir = path.join(stateHome, 'nix-ipfs');
  const file = followStateFile(dir);
  await addFollows(file, [published], { keep: 3 });
  await addFollows(file, [silent], { keep: 1, keepDays: 7 });
  const outcomes = await followRound(ctx, file);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['updated', 'failed'],
    JSON.stringify(outcomes),
  );
  await enqueue(queueDir(dir), ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello-1.0']);
  await enqueue(queueDir(dir), ['/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-world-1.0']);

  const lsp = await startLsp({ kuboApi: node.apiAddr }, undefined, { XDG_STATE_HOME: stateHome });
  const report = await lsp.connection.sendRequest(FollowedCachesRequest);
  assert.equal(report.kuboReachable, true);
  assert.deepEqual(report.publishQueue, { pending: 2, dir: queueDir(dir) });
  const [held, failing] = report.follows;
  assert.equal(held?.name, published);
  assert.equal(held?.root, cid);
  assert.equal(held?.behind, false);
  assert.equal(held?.versions, 1);
  assert.equal(held?.keep, 3);
  assert.equal(held?.bytes, (await ctx.kubo.mfsStat(`/ipfs/${cid}`))?.cumulativeSize);
  assert.ok(held!.bytes! >= content.length, `${held?.bytes} bytes held for ${content.length} bytes of content`);
  assert.ok(held?.lagSeconds !== undefined && held.lagSeconds < 60, `lag ${held?.lagSeconds}`);
  assert.equal(held?.lastError, undefined);
  assert.equal(failing?.name, silent);
  assert.equal(failing?.root, undefined);
  assert.equal(failing?.bytes, undefined);
  assert.equal(failing?.lagSeconds, undefined);
  assert.equal(failing?.keepDays, 7);
  assert.match(failing?.lastError ?? '', /cannot resolve/);
  assert.ok(failing?.lastCheckAt);

  // The same answer as the command line's.
  const printed = await cli(['following', '--json', '--api', node.apiAddr], { env: { ...process.env, XDG_STATE_HOME: stateHome } });
  assert.equal(printed.code, 0, printed.stderr);
  assert.deepEqual(withoutLag(JSON.parse(printed.stdout) as FollowingReport), withoutLag(report));

  // Kubo not answering: everything the state folder knows, the bytes unknown.
  const away = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' }, undefined, { XDG_STATE_HOME: stateHome });
  const offline = await away.connection.sendRequest(FollowedCachesRequest);
  assert.equal(offline.kuboReachable, false);
  assert.equal(offline.follows[0]?.root, cid);
  assert.equal(offline.follows[0]?.bytes, undefined);
  assert.equal(offline.publishQueue.pending, 2);
});

test('nixIpfs/followedCaches with nothing followed: an empty list (the view shows its welcome text)', async () => {
  const stateHome = await tempDir();
  const lsp = await startLsp({ kuboApi: '/ip4/127.0.0.1/tcp/9' }, undefined, { XDG_STATE_HOME: stateHome });
  const report = await lsp.connection.sendRequest(FollowedCachesRequest);
  assert.deepEqual(report, { follows: [], publishQueue: { pending: 0, dir: queueDir(path.join(stateHome, 'nix-ipfs')) }, kuboReachable: false });
});
