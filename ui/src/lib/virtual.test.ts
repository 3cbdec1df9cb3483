import { describe, expect, it } from 'vitest';
import { MAX_SCROLL_PX, scrollTopFor, spacerHeight, virtualTop, visibleRange } from './virtual';

const small = { total: 1000, rowHeight: 20, viewportHeight: 200 };
const huge = { total: 5_000_000, rowHeight: 22, viewportHeight: 440 };

describe('virtual list', () => {
  it('renders only the visible rows plus overscan', () => {
    expect(visibleRange(0, small)).toEqual({ first: 0, count: 13, y: 0 });
    const r = visibleRange(1010, small);
    expect(r.first).toBe(48);
    expect(r.y).toBe(48 * 20 - 1010);
    expect(r.count).toBeLessThanOrEqual(16);
    expect(visibleRange(0, { ...small, total: 0 })).toEqual({ first: 0, count: 0, y: 0 });
  });

  it('caps the scroll height for millions of rows and scales positions', () => {
    expect(spacerHeight(small)).toBe(20_000);
    expect(spacerHeight(huge)).toBe(MAX_SCROLL_PX);
    // The bottom of the scroll area shows the last rows.
    const bottom = visibleRange(MAX_SCROLL_PX - 440, huge);
    expect(bottom.first + bottom.count).toBe(5_000_000);
    expect(virtualTop(MAX_SCROLL_PX - 440, huge)).toBeCloseTo(5_000_000 * 22 - 440);
  });

  it('scrolls a row into view only when it is not', () => {
    expect(scrollTopFor(3, 0, small)).toBe(0);
    const t = scrollTopFor(500, 0, small);
    expect(t).toBe(500 * 20 - 90);
    expect(scrollTopFor(999, 0, small)).toBe(20_000 - 200);
  });

  it('finds rows of a huge list through the scaled scroll', () => {
    const target = 3_210_987;
    const top = scrollTopFor(target, 0, huge);
    expect(top).toBeLessThanOrEqual(MAX_SCROLL_PX);
    const r = visibleRange(top, huge);
    expect(target).toBeGreaterThanOrEqual(r.first);
    expect(target).toBeLessThan(r.first + r.count);
  });
});
