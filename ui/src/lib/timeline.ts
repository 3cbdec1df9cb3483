// Pure mapping between timeline pixels and events. The histogram comes from
// the engine (`histogram(bins, start, end)`); this only scales it.
//
// Seq axis: bins are equal slices of [start, end] (seqs, inclusive), so x and
// seq map linearly. Time axis: bins are equal slices of time; the events in
// bin i are taken as seqs first_seq .. first_seq + count - 1 (the engine
// numbers events in time order), spread evenly across the bin. An x in an
// empty bin maps to the last event before it — the state "at that time".

import type { Bin, Histogram } from './ipc-types';

/** Level order of `Bin.levels`. */
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'none'] as const;
export type Level = (typeof LEVELS)[number];

/** Smallest drag (px) that counts as a brush rather than a click. */
export const MIN_BRUSH_PX = 4;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function binWidth(h: Histogram, width: number): number {
  return h.bins.length ? width / h.bins.length : width;
}

/** Index of the bin under x (clamped into the histogram). */
export function binAtX(h: Histogram, x: number, width: number): number {
  if (!h.bins.length || width <= 0) return 0;
  return clamp(Math.floor((x / width) * h.bins.length), 0, h.bins.length - 1);
}

/** The axis value (ms or seq) at x. */
export function xToValue(h: Histogram, x: number, width: number): number {
  const f = width > 0 ? clamp(x / width, 0, 1) : 0;
  if (h.axis === 'seq') return h.start + f * (h.end - h.start + 1);
  return h.start + f * (h.end - h.start);
}

/** The x of an axis value (ms or seq). */
export function valueToX(h: Histogram, v: number, width: number): number {
  const span = h.axis === 'seq' ? h.end - h.start + 1 : h.end - h.start;
  if (span <= 0) return 0;
  return ((v - h.start) / span) * width;
}

interface Slot {
  bin: number;
  first: number;
  count: number;
}

/** Non-empty bins in order, the basis of the time-axis mapping. */
export function slots(h: Histogram): Slot[] {
  const out: Slot[] = [];
  h.bins.forEach((b: Bin, i) => {
    if (b.count > 0 && b.first_seq > 0) out.push({ bin: i, first: b.first_seq, count: b.count });
  });
  return out;
}

/** First and last seq the histogram covers; null when it holds no event. */
export function seqRange(h: Histogram): { first: number; last: number } | null {
  if (h.axis === 'seq') {
    return h.end >= h.start ? { first: Math.max(1, Math.round(h.start)), last: Math.round(h.end) } : null;
  }
  const s = slots(h);
  if (!s.length) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const sl of s) {
    first = Math.min(first, sl.first);
    last = Math.max(last, sl.first + sl.count - 1);
  }
  return { first, last };
}

/**
 * The seq under x, or null when the histogram holds no event there and none
 * before or after it (an empty zoomed range: ask the engine by time).
 */
export function xToSeq(h: Histogram, x: number, width: number): number | null {
  if (width <= 0 || !h.bins.length) return null;
  if (h.axis === 'seq') {
    const span = h.end - h.start + 1;
    if (span <= 0) return null;
    const f = clamp(x / width, 0, 1 - Number.EPSILON);
    return clamp(Math.floor(h.start + f * span), Math.max(1, h.start), h.end);
  }
  const s = slots(h);
  if (!s.length) return null;
  const w = binWidth(h, width);
  const i = binAtX(h, x, width);
  // The slot holding bin i, or the last one before it.
  let k = -1;
  for (let j = 0; j < s.length && s[j].bin <= i; j++) k = j;
  if (k < 0) return s[0].first; // before the first event: the first one
  const sl = s[k];
  if (sl.bin < i) return sl.first + sl.count - 1; // in a gap: the last event before
  const f = clamp((x - i * w) / w, 0, 1);
  return sl.first + Math.min(sl.count - 1, Math.floor(f * sl.count));
}

/**
 * The x of `seq` (the middle of its share of its bin), and whether it lies
 * inside the histogram's range (outside, x is clamped to an edge).
 */
export function seqToX(h: Histogram, seq: number, width: number): { x: number; inside: boolean } {
  if (width <= 0 || !h.bins.length) return { x: 0, inside: false };
  if (h.axis === 'seq') {
    const span = h.end - h.start + 1;
    const inside = seq >= h.start && seq <= h.end;
    const x = ((seq - h.start + 0.5) / span) * width;
    return { x: clamp(x, 0, width), inside };
  }
  const s = slots(h);
  if (!s.length) return { x: 0, inside: false };
  const w = binWidth(h, width);
  if (seq < s[0].first) return { x: s[0].bin * w, inside: false };
  // Binary search: the last slot whose first seq is <= seq.
  let lo = 0;
  let hi = s.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid].first <= seq) lo = mid;
    else hi = mid - 1;
  }
  const sl = s[lo];
  const within = seq - sl.first;
  if (within >= sl.count) {
    // Past this slot's events: past the end of the range, or an event
    // without a time between slots; put it at the slot's right edge.
    const last = lo === s.length - 1;
    return { x: (sl.bin + 1) * w, inside: !last };
  }
  return { x: (sl.bin + (within + 0.5) / sl.count) * w, inside: true };
}

/**
 * The range (axis values) to ask the histogram for after brushing from x0
 * to x1; null when the drag is too short or the range cannot shrink further.
 */
export function brushRange(h: Histogram, x0: number, x1: number, width: number): { start: number; end: number } | null {
  const a = clamp(Math.min(x0, x1), 0, width);
  const b = clamp(Math.max(x0, x1), 0, width);
  if (b - a < MIN_BRUSH_PX) return null;
  if (h.axis === 'seq') {
    const start = Math.floor(xToValue(h, a, width));
    const end = Math.min(h.end, Math.ceil(xToValue(h, b, width)) - 1);
    if (end <= start) return null;
    return { start, end: Math.max(end, start + 1) };
  }
  const start = xToValue(h, a, width);
  const end = xToValue(h, b, width);
  // Below a millisecond the engine's bins cannot be told apart.
  if (end - start < 1) return null;
  return { start, end };
}

/** The tallest bar, for scaling bar heights. */
export function maxCount(h: Histogram): number {
  let m = 0;
  for (const b of h.bins) m = Math.max(m, b.count);
  return m;
}

/**
 * Stacked segments of one bar, bottom to top in level order: each with its
 * level, y (from the top of a `height`-px area) and height in px.
 */
export function stack(bin: Bin, max: number, height: number): { level: Level; y: number; h: number }[] {
  if (max <= 0 || bin.count <= 0) return [];
  const total = (bin.count / max) * height;
  const out: { level: Level; y: number; h: number }[] = [];
  let y = height;
  const sum = bin.levels.reduce((a, b) => a + b, 0) || bin.count;
  bin.levels.forEach((n, i) => {
    if (n <= 0) return;
    const hh = (n / sum) * total;
    y -= hh;
    out.push({ level: LEVELS[i] ?? 'none', y, h: hh });
  });
  if (!out.length) out.push({ level: 'none', y: height - total, h: total });
  return out;
}

/** How many bins to ask for a canvas `width` CSS px wide. */
export function binsFor(width: number): number {
  return clamp(Math.floor(width / 3), 10, 4096);
}

/**
 * The seqs bin `i` holds: on the seq axis its slice of the range, on the
 * time axis `first_seq .. first_seq + count - 1`. Null for an empty bin.
 */
export function binSeqRange(h: Histogram, i: number, width: number): { first: number; last: number } | null {
  const b = h.bins[i];
  if (!b || b.count <= 0) return null;
  if (h.axis === 'seq') {
    const w = binWidth(h, width);
    const first = Math.max(1, Math.ceil(xToValue(h, i * w, width)));
    const last = Math.max(first, Math.ceil(xToValue(h, (i + 1) * w, width)) - 1);
    return { first, last };
  }
  return { first: b.first_seq, last: b.first_seq + b.count - 1 };
}

/** How many of `seqs` lie in `first ..= last`. */
export function countIn(seqs: readonly number[], first: number, last: number): number {
  let n = 0;
  for (const s of seqs) if (s >= first && s <= last) n++;
  return n;
}
