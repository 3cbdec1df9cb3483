import { describe, expect, it } from 'vitest';
import { adjacentChange, stopWithin, watchLabel } from './watch';

describe('watch', () => {
  const seqs = [1452, 1461, 2719, 2740];

  it('finds the next and previous change', () => {
    const cases: [number, boolean, number | null][] = [
      [0, true, 1452],
      [1452, true, 1461],
      [1453, true, 1461],
      [2740, true, null],
      [9999, true, null],
      [0, false, null],
      [1452, false, null],
      [1453, false, 1452],
      [2719, false, 1461],
      [9999, false, 2740],
    ];
    for (const [from, forward, want] of cases) expect(adjacentChange(seqs, from, forward), `${from} ${forward}`).toBe(want);
    expect(adjacentChange([], 5, true)).toBeNull();
    expect(adjacentChange([], 5, false)).toBeNull();
  });

  it('stops playback at the first change it would pass', () => {
    const cases: [number, number, number | null][] = [
      [1450, 1451, null],
      [1450, 1452, 1452],
      [1450, 1500, 1452],
      [1452, 1460, null],
      [1452, 1461, 1461],
      [1462, 3000, 2719],
      [2740, 3502, null],
      [2000, 1000, null],
      [1452, 1452, null],
    ];
    for (const [from, to, want] of cases) expect(stopWithin(seqs, from, to), `${from}→${to}`).toBe(want);
  });

  it('names the root as /', () => {
    expect(watchLabel('')).toBe('/');
    expect(watchLabel('/order-1137/total')).toBe('/order-1137/total');
  });
});
