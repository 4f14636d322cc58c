// The Followed Caches view's words: "3 min behind", "1.2 GB held", every value whole in the tooltip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesText, durationText, followDescription, followTooltipLines, heldText, lagText, queueText, shortName } from '../../../src/extension/follow-labels';
import type { FollowStatus } from '../../../src/protocol';

const NAME = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8';
const ROOT = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

function status(extra: Partial<FollowStatus> = {}): FollowStatus {
  return {
    name: NAME,
    root: ROOT,
    behind: false,
    versions: 2,
    bytes: 1_234_567_890,
    lagSeconds: 200,
    upToDateAt: '2030-01-10T00:00:00.000Z',
    keep: 2,
    ...extra,
  };
}

test('sizes in decimal units, one decimal', () => {
  assert.equal(bytesText(0), '0 B');
  assert.equal(bytesText(999), '999 B');
  assert.equal(bytesText(1000), '1.0 kB');
  assert.equal(bytesText(340_500), '340.5 kB');
  assert.equal(bytesText(1_234_567_890), '1.2 GB');
  assert.equal(bytesText(999_960), '1.0 MB');
  assert.equal(bytesText(5e15), '5.0 PB');
});

test('durations rounded down to their largest unit', () => {
  assert.equal(durationText(0), '0 s');
  assert.equal(durationText(59.9), '59 s');
  assert.equal(durationText(200), '3 min');
  assert.equal(durationText(7200), '2 h');
  assert.equal(durationText(86_400), '1 day');
  assert.equal(durationText(4 * 86_400 + 5), '4 days');
  assert.equal(durationText(-5), '0 s');
});

test('lag: up to date under a minute, else how long behind; a newer root not held and never confirmed are said', () => {
  assert.equal(lagText({ lagSeconds: 30, behind: false }), 'up to date');
  assert.equal(lagText({ lagSeconds: 200, behind: false }), '3 min behind');
  assert.equal(lagText({ lagSeconds: 90_000, behind: false }), '1 day behind');
  assert.equal(lagText({ lagSeconds: 10, behind: true }), 'a newer version is not held yet · 10 s behind');
  assert.equal(lagText({ behind: false }), 'never confirmed current');
  assert.equal(lagText({ behind: true }), 'fetching its first version');
});

test('bytes held, or why not known', () => {
  assert.equal(heldText({ root: ROOT, bytes: 1_234_567_890 }, true), '1.2 GB held');
  assert.equal(heldText({ root: ROOT }, false), 'size unknown (Kubo not answering)');
  assert.equal(heldText({ root: ROOT }, true), 'size unknown');
  assert.equal(heldText({}, true), 'nothing held yet');
});

test('the row: a short name, lag and bytes, and a failed check', () => {
  assert.equal(shortName(NAME), 'k51qzi5uqu5d…lnv0v8');
  assert.equal(shortName('short'), 'short');
  assert.equal(followDescription(status(), true), '3 min behind · 1.2 GB held');
  assert.equal(followDescription(status({ lastError: 'cannot resolve' }), true), '3 min behind · 1.2 GB held · last check failed');
});

test('the tooltip holds every value whole', () => {
  const now = new Date('2030-01-10T00:03:20.000Z');
  const lines = followTooltipLines(
    status({ lastError: 'cannot resolve k51…: no teammate answers', lastCheckAt: '2030-01-10T00:03:00.000Z', keepDays: 7 }),
    true,
    now,
  );
  assert.deepEqual(lines, [
    `IPNS name: ${NAME}`,
    `Current root: ${ROOT}`,
    'Held: 1.2 GB (1,234,567,890 bytes)',
    '2 versions held; keeps 2 and any replaced less than 7 days ago',
    'Last confirmed current: 2030-01-10T00:00:00.000Z (3 min ago)',
    'Last checked: 2030-01-10T00:03:00.000Z (20 s ago)',
    'Last check failed: cannot resolve k51…: no teammate answers',
  ]);
  const fresh = followTooltipLines({ name: NAME, behind: true, versions: 0, keep: 1 }, false, now);
  assert.ok(fresh.includes('Current root: none held yet'));
  assert.ok(fresh.includes('Held: nothing held yet'));
  assert.ok(fresh.includes('Never confirmed current'));
  assert.ok(fresh.some((l) => /newer root that is not held yet/.test(l)));
});

test('the publish queue in words', () => {
  assert.equal(queueText(0), 'no builds waiting to be published');
  assert.equal(queueText(1), '1 build waiting to be published');
  assert.equal(queueText(3), '3 builds waiting to be published');
});
