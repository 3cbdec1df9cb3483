import { describe, expect, it } from 'vitest';
import { MAX_GAP_MS, dueEvents, epsSteps, parseSpeed, speedKey, speedLabel } from './playback';

describe('playback pacing', () => {
  it('advances whole events per frame and carries the rest', () => {
    let carry = 0;
    let total = 0;
    for (let i = 0; i < 60; i++) {
      const r = epsSteps(10, 1000 / 60, carry);
      carry = r.carry;
      total += r.steps;
    }
    expect(total).toBe(10);
    // A long pause (a background tab) does not jump far.
    expect(epsSteps(100, 10_000, 0).steps).toBe(25);
  });

  it('lets due events through in real time', () => {
    expect(dueEvents(1000, [900, 1000, 1001], 1)).toEqual({ due: 2, clock: 1000 });
    expect(dueEvents(1000, [null, 2000], 1)).toEqual({ due: 1, clock: 1000 });
  });

  it('skips long quiet stretches', () => {
    const r = dueEvents(0, [3_600_000], 1);
    expect(r.due).toBe(0);
    expect(r.clock).toBe(3_600_000 - MAX_GAP_MS);
    // Faster playback allows proportionally longer log gaps.
    expect(dueEvents(0, [50_000], 60).clock).toBe(0);
  });

  it('names speeds and reads them back', () => {
    expect(speedLabel({ mode: 'eps', n: 1000 })).toBe('1,000 ev/s');
    expect(speedLabel({ mode: 'realtime', factor: 60 })).toBe('real time ×60');
    expect(parseSpeed(speedKey({ mode: 'realtime', factor: 0.5 }))).toEqual({ mode: 'realtime', factor: 0.5 });
    expect(parseSpeed('eps:10')).toEqual({ mode: 'eps', n: 10 });
    expect(parseSpeed('eps:-1')).toBeNull();
    expect(parseSpeed('x:1')).toBeNull();
  });
});
