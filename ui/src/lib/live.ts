// Live tail: when the open files change the shell says `files-changed`; the
// window then asks for `refresh`. Changes come in bursts (a writer appends
// line by line), so they are coalesced, and refreshes never overlap. The
// Follow rules say where the scrubber goes when the source grows.

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * A trailing debounce in front of one async job that never runs twice at
 * once: `poke()` (re)starts the wait; when it ends the job runs, or, when
 * the job is already running, runs once more right after it.
 */
export class Coalescer {
  private timer: unknown = null;
  private running = false;
  private again = false;
  private disposed = false;
  /** How many times the job started (for tests and diagnostics). */
  runs = 0;

  constructor(
    private readonly job: () => Promise<void>,
    readonly delayMs = 250,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Something changed: run the job once things are quiet for `delayMs`. */
  poke(): void {
    if (this.disposed) return;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = this.timers.set(() => {
      this.timer = null;
      this.fire();
    }, this.delayMs);
  }

  /** Whether a run is waiting, running or due again. */
  get busy(): boolean {
    return this.timer !== null || this.running || this.again;
  }

  /** Forgets a waiting run (a running one finishes) and takes no more pokes. */
  dispose(): void {
    this.disposed = true;
    this.again = false;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }

  private fire(): void {
    if (this.disposed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    this.runs++;
    try {
      await this.job();
    } catch {
      // The job reports its own failures; the next change tries again.
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      this.fire();
    }
  }
}

/**
 * Where the scrubber at `seq` goes after a refresh left the source with
 * `after` events: to the newest event when following, else where it was
 * (clamped to the events that are left).
 */
export function seqAfterRefresh(seq: number, after: number, follow: boolean): number {
  const min = after > 0 ? 1 : 0;
  if (follow) return after;
  return Math.min(after, Math.max(min, seq));
}

/** Whether Follow stays on when the user moves the scrubber to `seq`: only at the end. */
export function keepsFollowing(follow: boolean, seq: number, events: number): boolean {
  return follow && seq >= events;
}

/**
 * What the status bar says about the last refresh: `+N` for N events
 * appended, `re-indexed` when the file was read again from its start, or
 * null when there is nothing to say.
 */
export function refreshLabel(action: string, before: number, after: number): string | null {
  if (action === 'appended') {
    const added = after - before;
    return added > 0 ? `+${added.toLocaleString('en-US')}` : null;
  }
  if (action.startsWith('rebuilt')) return 're-indexed';
  return null;
}
