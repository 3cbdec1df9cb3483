// Sessions: where the user was in a file set (scrubber, filter, pin, open
// tree nodes), saved by the shell per file set and restored when the same
// files are opened again.

import type { ListFilter, Session } from './ipc-types';

/** Open tree paths kept (the shell keeps no more either). */
export const MAX_OPEN = 200;

const FILTER_KEYS = ['type', 'key', 'level', 'text', 'since', 'until'] as const;

function cleanFilter(f: Partial<ListFilter> | null | undefined): ListFilter {
  const out = { type: null, key: null, level: null, text: null, since: null, until: null } as ListFilter;
  for (const k of FILTER_KEYS) {
    const v = f?.[k];
    out[k] = typeof v === 'string' && v !== '' ? v : null;
  }
  return out;
}

const depth = (p: string) => p.split('/').length;

/**
 * The session to save for what the window shows. Past the cap the
 * shallowest open paths are kept: a node shows only when its parents are
 * open too.
 */
export function sessionOf(s: { seq: number; filter: ListFilter; pin: number | null; expanded: Iterable<string> }): Session {
  let open = [...s.expanded].filter((p) => typeof p === 'string' && p !== '');
  if (open.length > MAX_OPEN) {
    open = open
      .map((p, i) => ({ p, i }))
      .sort((a, b) => depth(a.p) - depth(b.p) || a.i - b.i)
      .slice(0, MAX_OPEN)
      .sort((a, b) => a.i - b.i)
      .map((x) => x.p);
  }
  return { seq: Math.max(0, Math.round(s.seq)), filter: cleanFilter(s.filter), pin: s.pin, open };
}

/** A stable text of a session, to tell whether it changed. */
export function sessionKey(paths: readonly string[], s: Session): string {
  return JSON.stringify([paths, s.seq, FILTER_KEYS.map((k) => s.filter[k]), s.pin, s.open]);
}

export interface Restored {
  seq: number;
  pin: number | null;
  filter: ListFilter;
  open: Set<string>;
}

/**
 * What to show from a saved session for a source of `events` events: the
 * position clamped to the events there are, a pin past them dropped.
 */
export function restoreSession(s: Session | null | undefined, events: number): Restored | null {
  if (!s || typeof s !== 'object') return null;
  const min = events > 0 ? 1 : 0;
  const seq = Number.isFinite(s.seq) ? Math.min(events, Math.max(min, Math.round(s.seq))) : min;
  const pin = typeof s.pin === 'number' && Number.isFinite(s.pin) && s.pin >= 0 && s.pin <= events ? s.pin : null;
  const open = new Set((Array.isArray(s.open) ? s.open : []).filter((p) => typeof p === 'string' && p !== '').slice(0, MAX_OPEN));
  return { seq, pin, filter: cleanFilter(s.filter), open };
}
