import { describe, expect, it } from 'vitest';
import { existsAt, lifeSummary, memberChanges, sameJson, stepAt } from './entity';

describe('entity timeline', () => {
  it('compares JSON values whatever the member order', () => {
    const cases: [unknown, unknown, boolean][] = [
      [1, 1, true],
      [1, 1.5, false],
      [null, null, true],
      [null, undefined, false],
      [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
      [{ a: 1 }, { a: 1, b: 2 }, false],
      [{ a: 1, b: undefined }, { a: 1, c: 2 }, false],
      [[1, 2], [2, 1], false],
      [[1], { 0: 1 }, false],
      ['1', 1, false],
    ];
    for (const [a, b, want] of cases) expect(sameJson(a, b), JSON.stringify([a, b])).toBe(want);
  });

  it('says what an update changed, member by member', () => {
    expect(memberChanges({ total: 328.97, status: 'placed', coupon: 'X' }, { total: 338.96, status: 'placed', items: [1] })).toEqual([
      { key: 'total', op: 'replace', text: '328.97 → 338.96' },
      { key: 'coupon', op: 'remove', text: '"X"' },
      { key: 'items', op: 'add', text: '[1]' },
    ]);
    // Nested changes name their top-level member once.
    expect(memberChanges({ p: { a: 1, b: 2 } }, { p: { a: 1, b: 3 } })).toEqual([{ key: 'p', op: 'replace', text: '{"a":1,"b":2} → {"a":1,"b":3}' }]);
    // Not objects: the whole value.
    expect(memberChanges('EUR', 'USD')).toEqual([{ key: '', op: 'replace', text: '"EUR" → "USD"' }]);
    expect(memberChanges([1], { a: 1 })).toEqual([{ key: '', op: 'replace', text: '[1] → {"a":1}' }]);
    // Creations, deletions and unchanged steps list nothing.
    expect(memberChanges(undefined, { a: 1 })).toEqual([]);
    expect(memberChanges({ a: 1 }, undefined)).toEqual([]);
    expect(memberChanges({ a: 1 }, { a: 1 })).toEqual([]);
    expect(memberChanges(null, null)).toEqual([]);
    // Long values are cut.
    const [c] = memberChanges({ s: 'x'.repeat(500) }, { s: 'y' }, 10);
    expect(c.text).toBe(`"xxxxxxxxx… → "y"`);
  });

  it('finds the step the scrubber is at', () => {
    const steps = [{ seq: 5 }, { seq: 9 }, { seq: 20 }];
    const cases: [number, number][] = [
      [0, -1],
      [4, -1],
      [5, 0],
      [8, 0],
      [9, 1],
      [19, 1],
      [20, 2],
      [1000, 2],
    ];
    for (const [seq, want] of cases) expect(stepAt(steps, seq), String(seq)).toBe(want);
    expect(stepAt([], 3)).toBe(-1);
  });

  it('reads the lifetimes', () => {
    const lives = [
      { created: 2, deleted: 7 },
      { created: 8, deleted: null },
    ];
    expect(lifeSummary(lives)).toBe('created #2 · deleted #7 · created again #8 · still exists');
    expect(lifeSummary([{ created: 1452, deleted: null }])).toBe('created #1,452 · still exists');
    expect(lifeSummary([{ created: 3, deleted: 4 }])).toBe('created #3 · deleted #4');
    expect(lifeSummary([])).toBe('never created as a member of the state');
    const cases: [number, boolean][] = [
      [1, false],
      [2, true],
      [6, true],
      [7, false],
      [8, true],
      [99, true],
    ];
    for (const [seq, want] of cases) expect(existsAt(lives, seq), String(seq)).toBe(want);
  });
});
