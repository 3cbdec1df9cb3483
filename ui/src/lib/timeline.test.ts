import { describe, expect, it } from 'vitest';
import type { Bin, Histogram } from './ipc-types';
import { binAtX, binSeqRange, binsFor, countIn, brushRange, maxCount, seqRange, seqToX, stack, valueToX, xToSeq, xToValue } from './timeline';

const bin = (count: number, first_seq: number, levels?: number[]): Bin => ({
  count,
  first_seq,
  levels: levels ?? [0, 0, count, 0, 0, 0, 0],
});

/** Time axis, 4 bins over 0..400 ms: 10 events, a gap, 5 events, 1 event. */
const timeHist: Histogram = {
  axis: 'time',
  start: 0,
  end: 400,
  bins: [bin(10, 1), bin(0, 0), bin(5, 11), bin(1, 16)],
};

/** Seq axis over events 1..100 in 10 bins. */
const seqHist: Histogram = {
  axis: 'seq',
  start: 1,
  end: 100,
  bins: Array.from({ length: 10 }, (_, i) => bin(10, i * 10 + 1)),
};

describe('seq axis', () => {
  it('maps x to seq linearly, clamped to the range', () => {
    expect(xToSeq(seqHist, 0, 1000)).toBe(1);
    expect(xToSeq(seqHist, 5, 1000)).toBe(1);
    expect(xToSeq(seqHist, 10, 1000)).toBe(2);
    expect(xToSeq(seqHist, 500, 1000)).toBe(51);
    expect(xToSeq(seqHist, 999.9, 1000)).toBe(100);
    expect(xToSeq(seqHist, 1000, 1000)).toBe(100);
    expect(xToSeq(seqHist, -50, 1000)).toBe(1);
    expect(xToSeq(seqHist, 5000, 1000)).toBe(100);
  });

  it('maps seq to the middle of its slot and back', () => {
    for (const s of [1, 2, 37, 99, 100]) {
      const { x, inside } = seqToX(seqHist, s, 1000);
      expect(inside).toBe(true);
      expect(xToSeq(seqHist, x, 1000)).toBe(s);
    }
    expect(seqToX(seqHist, 1, 1000).x).toBeCloseTo(5);
    expect(seqToX(seqHist, 100, 1000).x).toBeCloseTo(995);
  });

  it('reports seqs outside a zoomed range as outside, at the edge', () => {
    const zoomed: Histogram = { ...seqHist, start: 41, end: 60 };
    expect(seqToX(zoomed, 10, 200)).toEqual({ x: 0, inside: false });
    expect(seqToX(zoomed, 80, 200)).toEqual({ x: 200, inside: false });
    expect(seqToX(zoomed, 50, 200).inside).toBe(true);
  });

  it('brushes to whole seq ranges', () => {
    expect(brushRange(seqHist, 100, 200, 1000)).toEqual({ start: 11, end: 20 });
    // Direction does not matter.
    expect(brushRange(seqHist, 200, 100, 1000)).toEqual({ start: 11, end: 20 });
    // Too short a drag is a click.
    expect(brushRange(seqHist, 100, 102, 1000)).toBeNull();
    // Clamped to the plot.
    expect(brushRange(seqHist, -100, 50, 1000)).toEqual({ start: 1, end: 5 });
  });

  it('cannot zoom below two events', () => {
    const tiny: Histogram = { ...seqHist, start: 5, end: 6 };
    expect(brushRange(tiny, 0, 10, 1000)).toBeNull();
  });

  it('covers its seq range', () => {
    expect(seqRange(seqHist)).toEqual({ first: 1, last: 100 });
  });
});

describe('time axis', () => {
  it('spreads a bin’s events across it by first_seq and count', () => {
    // Bin 0 spans x 0..100 with seqs 1..10.
    expect(xToSeq(timeHist, 0, 400)).toBe(1);
    expect(xToSeq(timeHist, 9.9, 400)).toBe(1);
    expect(xToSeq(timeHist, 10, 400)).toBe(2);
    expect(xToSeq(timeHist, 99, 400)).toBe(10);
    // Bin 2 (x 200..300) holds 11..15.
    expect(xToSeq(timeHist, 200, 400)).toBe(11);
    expect(xToSeq(timeHist, 299, 400)).toBe(15);
    expect(xToSeq(timeHist, 350, 400)).toBe(16);
  });

  it('maps a gap to the last event before it', () => {
    expect(xToSeq(timeHist, 150, 400)).toBe(10);
  });

  it('maps x before the first event to the first event', () => {
    const late: Histogram = { ...timeHist, bins: [bin(0, 0), bin(3, 7), bin(0, 0), bin(0, 0)] };
    expect(xToSeq(late, 10, 400)).toBe(7);
    expect(xToSeq(late, 390, 400)).toBe(9);
  });

  it('is null when the (zoomed) range holds no event', () => {
    const empty: Histogram = { ...timeHist, bins: [bin(0, 0), bin(0, 0)] };
    expect(xToSeq(empty, 10, 400)).toBeNull();
    expect(seqRange(empty)).toBeNull();
  });

  it('round-trips every seq through x', () => {
    for (let s = 1; s <= 16; s++) {
      const { x, inside } = seqToX(timeHist, s, 400);
      expect(inside).toBe(true);
      expect(xToSeq(timeHist, x, 400)).toBe(s);
    }
  });

  it('places seqs in their bin, cumulatively', () => {
    expect(seqToX(timeHist, 1, 400).x).toBeCloseTo(5);
    expect(seqToX(timeHist, 10, 400).x).toBeCloseTo(95);
    expect(seqToX(timeHist, 11, 400).x).toBeCloseTo(210);
    expect(seqToX(timeHist, 16, 400).x).toBeCloseTo(350);
  });

  it('puts seqs outside a zoomed range at the edges', () => {
    const zoomed: Histogram = { axis: 'time', start: 100, end: 200, bins: [bin(4, 50), bin(4, 54)] };
    expect(seqToX(zoomed, 10, 100)).toEqual({ x: 0, inside: false });
    expect(seqToX(zoomed, 500, 100)).toEqual({ x: 100, inside: false });
    expect(seqRange(zoomed)).toEqual({ first: 50, last: 57 });
  });

  it('brushes to a time range in ms', () => {
    expect(brushRange(timeHist, 100, 300, 400)).toEqual({ start: 100, end: 300 });
    const narrow: Histogram = { ...timeHist, start: 0, end: 2 };
    expect(brushRange(narrow, 0, 100, 400)).toBeNull();
  });

  it('converts between x and axis values', () => {
    expect(xToValue(timeHist, 200, 400)).toBe(200);
    expect(valueToX(timeHist, 300, 400)).toBe(300);
    expect(xToValue(timeHist, -10, 400)).toBe(0);
    expect(binAtX(timeHist, 399, 400)).toBe(3);
    expect(binAtX(timeHist, 1000, 400)).toBe(3);
    expect(binAtX(timeHist, -1, 400)).toBe(0);
  });
});

describe('bars', () => {
  it('stacks levels bottom-up in level order, scaled to the tallest bar', () => {
    const b = bin(10, 1, [0, 0, 6, 3, 1, 0, 0]);
    const segs = stack(b, 20, 100);
    expect(segs.map((s) => s.level)).toEqual(['info', 'warn', 'error']);
    expect(segs[0]).toEqual({ level: 'info', y: 70, h: 30 });
    expect(segs[1].y).toBeCloseTo(55);
    expect(segs[2].y).toBeCloseTo(50);
    expect(segs.reduce((a, s) => a + s.h, 0)).toBeCloseTo(50);
  });

  it('draws nothing for an empty bin and uses "none" for unlevelled events', () => {
    expect(stack(bin(0, 0), 10, 100)).toEqual([]);
    expect(stack(bin(5, 1, [0, 0, 0, 0, 0, 0, 5]), 5, 100)).toEqual([{ level: 'none', y: 0, h: 100 }]);
  });

  it('finds the tallest bar and asks for bins by width', () => {
    expect(maxCount(timeHist)).toBe(10);
    expect(binsFor(1200)).toBe(400);
    expect(binsFor(5)).toBe(10);
    expect(binsFor(100_000)).toBe(4096);
  });
});

describe('seqs of a bin', () => {
  it('slices the seq axis and reads first_seq on the time axis', () => {
    expect(binSeqRange(seqHist, 0, 1000)).toEqual({ first: 1, last: 10 });
    expect(binSeqRange(seqHist, 9, 1000)).toEqual({ first: 91, last: 100 });
    expect(binSeqRange(timeHist, 0, 400)).toEqual({ first: 1, last: 10 });
    expect(binSeqRange(timeHist, 1, 400)).toBeNull();
    expect(binSeqRange(timeHist, 2, 400)).toEqual({ first: 11, last: 15 });
    expect(binSeqRange(timeHist, 9, 400)).toBeNull();
  });

  it('counts the seqs (bookmarks) in a range', () => {
    expect(countIn([3, 10, 11, 15, 15], 11, 15)).toBe(3);
    expect(countIn([], 1, 100)).toBe(0);
    expect(countIn([5], 6, 9)).toBe(0);
  });
});
