import { describe, expect, it } from 'vitest';
import { Coalescer, keepsFollowing, refreshLabel, seqAfterRefresh, type Timers } from './live';

/** Timers the test moves by hand. */
class FakeClock implements Timers {
  now = 0;
  private next = 1;
  private due = new Map<number, { at: number; fn: () => void }>();
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(h: unknown): void {
    this.due.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const ready = [...this.due.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!ready) break;
      this.due.delete(ready[0]);
      this.now = ready[1].at;
      ready[1].fn();
    }
    this.now = end;
  }
}

/** A job whose runs the test finishes by hand. */
function jobs() {
  const open: (() => void)[] = [];
  let started = 0;
  let running = 0;
  let maxRunning = 0;
  const job = () =>
    new Promise<void>((resolve) => {
      started++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      open.push(() => {
        running--;
        resolve();
      });
    });
  return {
    job,
    get started() {
      return started;
    },
    get maxRunning() {
      return maxRunning;
    },
    /** Finishes the oldest running job and lets its promise settle. */
    async finish() {
      open.shift()?.();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

describe('Coalescer', () => {
  it('runs once after a burst of changes goes quiet (trailing debounce)', () => {
    const clock = new FakeClock();
    const j = jobs();
    const c = new Coalescer(j.job, 250, clock);
    c.poke();
    clock.advance(100);
    c.poke();
    clock.advance(100);
    c.poke();
    clock.advance(249);
    expect(j.started).toBe(0);
    expect(c.busy).toBe(true);
    clock.advance(1);
    expect(j.started).toBe(1);
  });

  it('never runs twice at once, and runs again after a change that came during a run', async () => {
    const clock = new FakeClock();
    const j = jobs();
    const c = new Coalescer(j.job, 250, clock);
    c.poke();
    clock.advance(250);
    expect(j.started).toBe(1);
    // Changes during the run: their wait ends while the first run is still going.
    c.poke();
    clock.advance(250);
    c.poke();
    clock.advance(250);
    expect(j.started).toBe(1);
    await j.finish();
    // One more run, at once (the wait is already over), for all of them.
    expect(j.started).toBe(2);
    await j.finish();
    expect(j.started).toBe(2);
    expect(j.maxRunning).toBe(1);
    expect(c.busy).toBe(false);
  });

  it('waits out a change whose quiet time has not ended when the run finishes', async () => {
    const clock = new FakeClock();
    const j = jobs();
    const c = new Coalescer(j.job, 250, clock);
    c.poke();
    clock.advance(250);
    c.poke();
    clock.advance(100);
    await j.finish();
    expect(j.started).toBe(1);
    clock.advance(150);
    expect(j.started).toBe(2);
    await j.finish();
    expect(c.runs).toBe(2);
  });

  it('keeps going after a failed run', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const c = new Coalescer(
      async () => {
        calls++;
        throw new Error('boom');
      },
      250,
      clock,
    );
    c.poke();
    clock.advance(250);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    c.poke();
    clock.advance(250);
    expect(calls).toBe(2);
  });

  it('takes no more pokes once disposed', () => {
    const clock = new FakeClock();
    const j = jobs();
    const c = new Coalescer(j.job, 250, clock);
    c.poke();
    c.dispose();
    clock.advance(1000);
    c.poke();
    clock.advance(1000);
    expect(j.started).toBe(0);
  });
});

describe('Follow', () => {
  it('moves to the newest event when following', () => {
    expect(seqAfterRefresh(3502, 3505, true)).toBe(3505);
    expect(seqAfterRefresh(10, 3505, true)).toBe(3505);
    // A truncated file: the end is the last event left.
    expect(seqAfterRefresh(3505, 10, true)).toBe(10);
  });

  it('keeps the position when not following, clamped to what is left', () => {
    expect(seqAfterRefresh(2740, 3505, false)).toBe(2740);
    expect(seqAfterRefresh(3502, 3505, false)).toBe(3502);
    expect(seqAfterRefresh(2740, 10, false)).toBe(10);
    expect(seqAfterRefresh(0, 10, false)).toBe(1);
    expect(seqAfterRefresh(5, 0, false)).toBe(0);
  });

  it('stays on only while the scrubber is at the end', () => {
    expect(keepsFollowing(true, 3505, 3505)).toBe(true);
    expect(keepsFollowing(true, 3504, 3505)).toBe(false);
    expect(keepsFollowing(true, 1, 3505)).toBe(false);
    expect(keepsFollowing(false, 3505, 3505)).toBe(false);
  });

  it('labels what a refresh did', () => {
    expect(refreshLabel('appended', 3502, 3505)).toBe('+3');
    expect(refreshLabel('appended', 1, 12_001)).toBe('+12,000');
    expect(refreshLabel('appended', 5, 5)).toBeNull();
    expect(refreshLabel('rebuilt: the file shrank', 3505, 10)).toBe('re-indexed');
    expect(refreshLabel('reused', 5, 5)).toBeNull();
  });
});
