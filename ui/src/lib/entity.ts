// The entity panel's reading of an entity's timeline: which step the
// scrubber is at, what each update changed, and its lifetimes in words.
// The engine answers the steps; these only shape them for showing.

import type { EntityStep, Lifetime } from './ipc-types';
import { fmtSeq, formatValue } from './format';

export type MemberOp = 'add' | 'remove' | 'replace';

/** One top-level member an update changed (`key` '' for a whole value that is not an object). */
export interface MemberChange {
  key: string;
  op: MemberOp;
  text: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality of JSON values (member order aside). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/**
 * What an update changed, member by member when both values are objects
 * (in the members' order, added ones last), else the whole value. Nothing
 * when either side is absent: a creation or deletion says it all.
 */
export function memberChanges(before: unknown, after: unknown, max = 60): MemberChange[] {
  if (before === undefined || after === undefined) return [];
  if (!isObject(before) || !isObject(after)) {
    return sameJson(before, after) ? [] : [{ key: '', op: 'replace', text: `${formatValue(before, max)} → ${formatValue(after, max)}` }];
  }
  const out: MemberChange[] = [];
  for (const [k, v] of Object.entries(before)) {
    if (!Object.prototype.hasOwnProperty.call(after, k)) out.push({ key: k, op: 'remove', text: formatValue(v, max) });
    else if (!sameJson(v, after[k])) out.push({ key: k, op: 'replace', text: `${formatValue(v, max)} → ${formatValue(after[k], max)}` });
  }
  for (const [k, v] of Object.entries(after)) {
    if (!Object.prototype.hasOwnProperty.call(before, k)) out.push({ key: k, op: 'add', text: formatValue(v, max) });
  }
  return out;
}

/**
 * Index of the last step at or before `seq` — the entity as the state at
 * the scrubber has it — or -1 before its first step.
 */
export function stepAt(steps: readonly Pick<EntityStep, 'seq'>[], seq: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid].seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Whether the entity exists after event `seq`, by its lifetimes. */
export function existsAt(lifetimes: readonly Lifetime[], seq: number): boolean {
  return lifetimes.some((l) => l.created <= seq && (l.deleted === null || seq < l.deleted));
}

/** The lifetimes in words: "created #1,452 · still exists", "created #2 · deleted #7 · created again #8 · …". */
export function lifeSummary(lifetimes: readonly Lifetime[]): string {
  if (!lifetimes.length) return 'never created as a member of the state';
  const parts: string[] = [];
  lifetimes.forEach((l, i) => {
    parts.push(`${i === 0 ? 'created' : 'created again'} ${fmtSeq(l.created)}`);
    if (l.deleted !== null) parts.push(`deleted ${fmtSeq(l.deleted)}`);
  });
  if (lifetimes[lifetimes.length - 1].deleted === null) parts.push('still exists');
  return parts.join(' · ');
}
