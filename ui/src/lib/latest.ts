// Latest-only requests: at most one request in flight; while it runs only
// the newest wanted argument is remembered and sent when it returns. Every
// request gets a number from a counter; an answer is dropped when it is
// stale: older than an answer already delivered, or asked before `reset()`.
//
// With `intermediate: true` (the scrubber's use) an answer superseded by a
// newer wish is still delivered, flagged `latest: false`, so the view keeps
// moving while the user drags; with `intermediate: false` only the answer to
// the newest wish is delivered.

export interface LatestOptions<A, R> {
  run: (arg: A) => Promise<R>;
  onResult: (result: R, arg: A, latest: boolean) => void;
  onError?: (error: unknown, arg: A) => void;
  intermediate?: boolean;
}

export class LatestOnly<A, R> {
  private running = false;
  private pending: { arg: A; id: number } | null = null;
  /** Number of the newest request asked for. */
  private counter = 0;
  /** Number of the newest answer delivered. */
  private delivered = 0;
  /** Requests numbered at or below this were asked before a reset. */
  private floor = 0;
  /** How many requests were actually sent (for tests and diagnostics). */
  sent = 0;

  constructor(private readonly opts: LatestOptions<A, R>) {}

  /** Asks for `arg`; returns the request's number. */
  request(arg: A): number {
    const id = ++this.counter;
    if (this.running) {
      this.pending = { arg, id };
    } else {
      void this.start(arg, id);
    }
    return id;
  }

  /** Forgets the pending wish and drops every answer still to come. */
  reset(): void {
    this.pending = null;
    this.floor = this.counter;
  }

  /** Whether a request is running or waiting. */
  get busy(): boolean {
    return this.running || this.pending !== null;
  }

  private isStale(id: number): boolean {
    if (id <= this.floor || id <= this.delivered) return true;
    return !this.opts.intermediate && id !== this.counter;
  }

  private async start(arg: A, id: number): Promise<void> {
    this.running = true;
    this.sent++;
    try {
      const result = await this.opts.run(arg);
      if (!this.isStale(id)) {
        this.delivered = id;
        this.opts.onResult(result, arg, id === this.counter);
      }
    } catch (e) {
      // A failure is only worth showing for what the user wants now.
      if (!this.isStale(id) && id === this.counter) {
        this.delivered = id;
        this.opts.onError?.(e, arg);
      }
    } finally {
      this.running = false;
      const next = this.pending;
      this.pending = null;
      if (next && next.id > this.floor) void this.start(next.arg, next.id);
    }
  }
}
