// Virtual scrolling for lists of millions of fixed-height rows. Browsers cap
// an element's height (WebKit near 33 million px), so past `maxPx` the
// scrollable height is fixed and scroll positions are scaled.

/** The tallest scroll area we make; beyond it positions are scaled. */
export const MAX_SCROLL_PX = 8_000_000;

export interface Viewport {
  total: number;
  rowHeight: number;
  viewportHeight: number;
  maxPx?: number;
}

/** Height of the scrollable spacer. */
export function spacerHeight(v: Viewport): number {
  return Math.min(v.total * v.rowHeight, v.maxPx ?? MAX_SCROLL_PX);
}

/** Ratio of virtual pixels to scroll pixels (1 while nothing is scaled). */
function scale(v: Viewport): number {
  const real = v.total * v.rowHeight;
  const spacer = spacerHeight(v);
  const realRange = real - v.viewportHeight;
  const spacerRange = spacer - v.viewportHeight;
  if (real <= spacer || spacerRange <= 0 || realRange <= 0) return 1;
  return realRange / spacerRange;
}

/** The virtual pixel offset at the top of the viewport. */
export function virtualTop(scrollTop: number, v: Viewport): number {
  const max = Math.max(0, v.total * v.rowHeight - v.viewportHeight);
  return Math.min(max, Math.max(0, scrollTop * scale(v)));
}

/**
 * The rows to render at a scroll position: the first row index, how many,
 * and the y (relative to the viewport's top) of the first one.
 */
export function visibleRange(scrollTop: number, v: Viewport, overscan = 2): { first: number; count: number; y: number } {
  if (v.total <= 0 || v.rowHeight <= 0) return { first: 0, count: 0, y: 0 };
  const top = virtualTop(scrollTop, v);
  const first = Math.max(0, Math.floor(top / v.rowHeight) - overscan);
  const last = Math.min(v.total - 1, Math.ceil((top + v.viewportHeight) / v.rowHeight) + overscan);
  return { first, count: Math.max(0, last - first + 1), y: first * v.rowHeight - top };
}

/**
 * The scrollTop that shows row `index`: unchanged when it is already fully
 * in view, else with the row centred.
 */
export function scrollTopFor(index: number, scrollTop: number, v: Viewport): number {
  const top = virtualTop(scrollTop, v);
  const rowTop = index * v.rowHeight;
  if (rowTop >= top && rowTop + v.rowHeight <= top + v.viewportHeight) return scrollTop;
  const wanted = rowTop - (v.viewportHeight - v.rowHeight) / 2;
  const max = Math.max(0, v.total * v.rowHeight - v.viewportHeight);
  const clamped = Math.min(max, Math.max(0, wanted));
  return clamped / scale(v);
}
