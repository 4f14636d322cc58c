/**
 * The Followed Caches view's words: how far behind, how much held. No `vscode` here, so the unit
 * tests read the same labels the view shows.
 */
import type { FollowStatus } from '../protocol';

/** A size as people read it: `1.2 GB`, `340 kB`, `12 B` (decimal units, as disks and networks count). */
export function bytesText(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // 999.96 kB is 1.0 MB, not "1000.0 kB".
  if (Number(value.toFixed(1)) >= 1000 && unit < units.length - 1) return `1.0 ${units[unit + 1]}`;
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A duration as people read it: `12 s`, `3 min`, `2 h`, `1 day`, `4 days` (rounded down). */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  const days = Math.floor(s / 86400);
  return `${days} day${days === 1 ? '' : 's'}`;
}

/**
 * How far behind the replica may be: the time since the name was last confirmed to point at what is
 * held. Under a minute (a follower checks every minute by default) is up to date.
 */
export function lagText(follow: Pick<FollowStatus, 'lagSeconds' | 'behind'>): string {
  if (follow.lagSeconds === undefined) return follow.behind ? 'fetching its first version' : 'never confirmed current';
  if (follow.behind) return `a newer version is not held yet · ${durationText(follow.lagSeconds)} behind`;
  if (follow.lagSeconds < 60) return 'up to date';
  return `${durationText(follow.lagSeconds)} behind`;
}

/** What is held of the current version, or why it is not known. */
export function heldText(follow: Pick<FollowStatus, 'root' | 'bytes'>, kuboReachable: boolean): string {
  if (!follow.root) return 'nothing held yet';
  if (follow.bytes === undefined) return kuboReachable ? 'size unknown' : 'size unknown (Kubo not answering)';
  return `${bytesText(follow.bytes)} held`;
}

/** The row's description: lag and bytes, and a failure when the last check failed. */
export function followDescription(follow: FollowStatus, kuboReachable: boolean): string {
  return [lagText(follow), heldText(follow, kuboReachable), ...(follow.lastError ? ['last check failed'] : [])].join(' · ');
}

/** `k51qzi5uqu5d…x7yz`: a long IPNS name that fits a row (the tooltip has it whole). */
export function shortName(name: string): string {
  return name.length > 24 ? `${name.slice(0, 12)}…${name.slice(-6)}` : name;
}

/** Every value in full, one a line, for the tooltip. */
export function followTooltipLines(follow: FollowStatus, kuboReachable: boolean, now = new Date()): string[] {
  const ago = (iso: string) => `${iso} (${durationText((now.getTime() - Date.parse(iso)) / 1000)} ago)`;
  const versions = `${follow.versions} version${follow.versions === 1 ? '' : 's'} held; keeps ${follow.keep}${follow.keepDays ? ` and any replaced less than ${follow.keepDays} day${follow.keepDays === 1 ? '' : 's'} ago` : ''}`;
  return [
    `IPNS name: ${follow.name}`,
    follow.root ? `Current root: ${follow.root}` : 'Current root: none held yet',
    ...(follow.behind ? ['The name points at a newer root that is not held yet (it is being fetched, or fetching failed)'] : []),
    follow.bytes !== undefined
      ? `Held: ${bytesText(follow.bytes)} (${follow.bytes.toLocaleString('en-US')} bytes)`
      : `Held: ${heldText(follow, kuboReachable)}`,
    versions,
    follow.upToDateAt ? `Last confirmed current: ${ago(follow.upToDateAt)}` : 'Never confirmed current',
    ...(follow.lastCheckAt ? [`Last checked: ${ago(follow.lastCheckAt)}`] : []),
    ...(follow.lastError ? [`Last check failed: ${follow.lastError}`] : []),
  ];
}

/** The publish queue in words: `3 builds waiting to be published`. */
export function queueText(pending: number): string {
  return pending === 0 ? 'no builds waiting to be published' : `${pending} build${pending === 1 ? '' : 's'} waiting to be published`;
}
