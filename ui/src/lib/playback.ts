// Pacing of playback. The engine says what each event is; this only says
// how far to move per animation frame.

/** Events-per-second speeds offered. */
export const EPS_SPEEDS = [1, 5, 10, 50, 100, 500, 1000, 10000] as const;
/** Real-time factors offered when events have times. */
export const REALTIME_SPEEDS = [0.5, 1, 2, 10, 60, 600, 3600] as const;

/** Longest real wait between two events in real-time mode (ms). */
export const MAX_GAP_MS = 2000;

export type Speed = { mode: 'eps'; n: number } | { mode: 'realtime'; factor: number };

export function speedLabel(s: Speed): string {
  return s.mode === 'eps' ? `${s.n.toLocaleString('en-US')} ev/s` : `real time ×${s.factor}`;
}

export function speedKey(s: Speed): string {
  return s.mode === 'eps' ? `eps:${s.n}` : `rt:${s.factor}`;
}

export function parseSpeed(key: string): Speed | null {
  const [mode, v] = key.split(':');
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) return null;
  if (mode === 'eps') return { mode: 'eps', n };
  if (mode === 'rt') return { mode: 'realtime', factor: n };
  return null;
}

/**
 * Whole events to advance in a frame of `dtMs` at `eps` events/s, carrying
 * the fraction to the next frame.
 */
export function epsSteps(eps: number, dtMs: number, carry: number): { steps: number; carry: number } {
  const exact = carry + (eps * Math.max(0, Math.min(dtMs, 250))) / 1000;
  const steps = Math.floor(exact);
  return { steps, carry: exact - steps };
}

/**
 * Real-time pacing: given the log-time clock `clock` (ms) and upcoming
 * events' times, how many of them are due, and the clock after skipping a
 * gap longer than MAX_GAP_MS of real time. Events without a time are due
 * at once.
 */
export function dueEvents(
  clock: number,
  upcoming: readonly (number | null)[],
  factor: number,
): { due: number; clock: number } {
  let due = 0;
  let c = clock;
  for (const t of upcoming) {
    if (t === null || t <= c) {
      due++;
      continue;
    }
    // A long quiet stretch: jump the clock so the wait stays short.
    if (due === 0 && t - c > MAX_GAP_MS * factor) {
      c = t - MAX_GAP_MS * factor;
    }
    break;
  }
  return { due, clock: c };
}
