// Watch: one path of the state whose changes the timeline marks, playback
// stops at and `w` / `W` jump between. The engine answers the changes
// (blame); these only search the sorted list of their seqs.

/** Index of the first seq in `seqs` (ascending) greater than `seq`. */
function firstAfter(seqs: readonly number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seqs[mid] <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The nearest change after (`forward`) or before `current`, or null when
 * there is none that way. `seqs` is ascending, as blame answers.
 */
export function adjacentChange(seqs: readonly number[], current: number, forward: boolean): number | null {
  if (forward) {
    const i = firstAfter(seqs, current);
    return i < seqs.length ? seqs[i] : null;
  }
  // The last seq < current.
  const i = firstAfter(seqs, current - 1) - 1;
  return i >= 0 ? seqs[i] : null;
}

/**
 * Where playback moving from `from` to `to` must stop instead: the first
 * change in (from, to], or null when it may go on. A step backwards never
 * stops.
 */
export function stopWithin(seqs: readonly number[], from: number, to: number): number | null {
  if (to <= from) return null;
  const next = adjacentChange(seqs, from, true);
  return next !== null && next <= to ? next : null;
}

/** How the chip names a watched path ("/" for the whole state). */
export function watchLabel(path: string): string {
  return path === '' ? '/' : path;
}
