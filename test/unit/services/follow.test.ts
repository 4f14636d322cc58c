// The retention rule of followed caches: keep the newest N versions, and any version replaced
// less than D days ago; the current version always stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releasedVersions, type HeldRoot } from '../../../src/services/follow';

const now = new Date('2030-01-10T00:00:00Z');
/** Newest first, each seen `daysAgo` before now. */
function versions(...daysAgo: number[]): HeldRoot[] {
  return daysAgo.map((days, i) => ({
    cid: `v${daysAgo.length - i}`,
    seenAt: new Date(now.getTime() - days * 86_400_000).toISOString(),
    blocks: 1,
    pinnedBefore: false,
  }));
}

test('keep N versions releases all older ones', () => {
  assert.deepEqual(
    releasedVersions(versions(0, 1, 2, 3), { keep: 2 }, now).map((r) => r.cid),
    ['v2', 'v1'],
  );
  assert.deepEqual(releasedVersions(versions(0, 1), { keep: 2 }, now), []);
});

test('a version replaced less than D days ago stays beyond N; the current one always stays', () => {
  // v3 was replaced 1 day ago and v2 3 days ago (within 5 days: kept); v1 was replaced 8 days ago.
  assert.deepEqual(
    releasedVersions(versions(1, 3, 8, 20), { keep: 1, keepDays: 5 }, now).map((r) => r.cid),
    ['v1'],
  );
  assert.deepEqual(
    releasedVersions(versions(6, 7, 8), { keep: 1, keepDays: 5 }, now).map((r) => r.cid),
    ['v2', 'v1'],
  );
  assert.deepEqual(releasedVersions(versions(0), { keep: 0 }, now), []);
});
