// Text formatting for display. Everything here returns plain strings that
// the components put into the page as text (never as HTML).

import type { Change } from './ipc-types';

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 → "1,234,567". */
export function fmtInt(n: number): string {
  return intFormat.format(n);
}

/** 1234 → "#1,234". */
export function fmtSeq(n: number): string {
  return `#${fmtInt(n)}`;
}

/** A count with a unit: 1 → "1 event", 2 → "2 events". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}

/** 1234567 → "1.2 M", 4321 → "4.3 k", 12 → "12". */
export function fmtCompact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return fmtInt(Math.round(n));
}

/** Seconds as a short duration: 0.0123 → "12 ms", 75 → "1 min 15 s". */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

/** 1536 → "1.5 KiB". */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The last component of a path (either separator). */
export function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/**
 * Cuts `text` to at most `max` characters (code points, so emoji and other
 * astral characters are never split), adding "…" when cut.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let count = 0;
  let cut = 0;
  for (const ch of text) {
    if (count === max) return `${text.slice(0, cut)}…`;
    count++;
    cut += ch.length;
  }
  return text;
}

/** A JSON value as one line of JSON text; `undefined` (absent) → "". */
export function jsonText(v: unknown): string {
  if (v === undefined) return '';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch {
    return String(v);
  }
}

/** A value as display text, cut at `max` characters. */
export function formatValue(v: unknown, max = 200): string {
  return truncate(jsonText(v), max);
}

/** A JSON value pretty-printed for a detail pane, cut at `max` characters. */
export function prettyJson(v: unknown, max = 200_000): string {
  if (v === undefined) return '';
  let s: string;
  try {
    s = JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    s = String(v);
  }
  return truncate(s, max);
}

export type Op = 'add' | 'remove' | 'replace';

export interface ChangeView {
  op: Op;
  /** One character for the op: + − ~ */
  symbol: string;
  path: string;
  /** Old value as text, or null when there was none (add). */
  old: string | null;
  /** New value as text, or null when there is none (remove). */
  new: string | null;
  /** The whole change in one line: `"paid" → "shipped"`. */
  text: string;
}

const SYMBOLS: Record<Op, string> = { add: '+', remove: '−', replace: '~' };

function asOp(op: string): Op {
  return op === 'add' || op === 'remove' ? op : 'replace';
}

/** A change as text parts for the diff view. */
export function changeView(c: Change, max = 200): ChangeView {
  const op = asOp(c.op);
  // Absent values travel as null; the op says which side exists.
  const old = op === 'add' ? null : formatValue(c.old ?? null, max);
  const nu = op === 'remove' ? null : formatValue(c.new ?? null, max);
  let text: string;
  if (op === 'add') text = nu ?? '';
  else if (op === 'remove') text = old ?? '';
  else text = `${old} → ${nu}`;
  return { op, symbol: SYMBOLS[op], path: c.path || '/', old, new: nu, text };
}

/** The same for a blame row's old → new. */
export function oldNewText(old: unknown, nu: unknown, max = 120): string {
  const o = old === undefined || old === null ? '∅' : formatValue(old, max);
  const n = nu === undefined || nu === null ? '∅' : formatValue(nu, max);
  return `${o} → ${n}`;
}

/**
 * The time of day of an RFC 3339 timestamp as the engine wrote it:
 * "2024-03-04T10:42:07.125Z" → "10:42:07.125". Other text is returned as is.
 */
export function timeOfDay(ts: string | null | undefined): string {
  if (!ts) return '';
  const m = /T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(ts);
  if (!m) return ts;
  const t = m[1];
  // Keep milliseconds at most; the full text is in the tooltip and detail.
  const dot = t.indexOf('.');
  return dot >= 0 ? t.slice(0, Math.min(t.length, dot + 4)) : t;
}

/** The date part of an RFC 3339 timestamp: "2024-03-04". */
export function datePart(ts: string | null | undefined): string {
  if (!ts) return '';
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(ts);
  return m ? m[1] : '';
}

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp, with any number of
 * fraction digits and `Z` or a ±HH:MM offset; null when it is not one.
 * (Used to pace real-time playback; the engine owns all time semantics.)
 */
export function parseTsMs(ts: string | null | undefined): number | null {
  if (!ts) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?$/.exec(ts.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, off] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (frac) ms += Number(`0.${frac}`) * 1000;
  if (off && off !== 'Z' && off !== 'z') {
    const sign = off[0] === '-' ? -1 : 1;
    const digits = off.slice(1).replace(':', '');
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    ms -= sign * minutes * 60_000;
  }
  return ms;
}

/** An axis label for a time in ms: "2024-03-04 10:42:07" (UTC). */
export function fmtAxisTime(ms: number, spanMs: number): string {
  if (!Number.isFinite(ms)) return '';
  const iso = new Date(ms).toISOString(); // 2024-03-04T10:42:07.125Z
  const date = iso.slice(0, 10);
  const time = spanMs < 10_000 ? iso.slice(11, 23) : iso.slice(11, 19);
  return spanMs > 36 * 3600_000 ? `${date} ${iso.slice(11, 16)}` : `${date} ${time}`;
}

/** Splits `text` around case-insensitive matches of `query` for highlighting. */
export function matchSegments(text: string, query: string): { text: string; hit: boolean }[] {
  if (!query) return [{ text, hit: false }];
  const lower = text.toLowerCase();
  const q = query.toLowerCase();
  const out: { text: string; hit: boolean }[] = [];
  let i = 0;
  // Lower-casing can change lengths for a few scripts; fall back to no split.
  if (lower.length !== text.length) {
    return [{ text, hit: lower.includes(q) }];
  }
  while (i < text.length) {
    const j = lower.indexOf(q, i);
    if (j < 0) break;
    if (j > i) out.push({ text: text.slice(i, j), hit: false });
    out.push({ text: text.slice(j, j + q.length), hit: true });
    i = j + q.length;
  }
  if (i < text.length) out.push({ text: text.slice(i), hit: false });
  return out.length ? out : [{ text, hit: false }];
}
