import { describe, expect, it } from 'vitest';
import type { EventRow } from './ipc-types';
import { PageCache } from './pages';

const rows = (from: number, n: number): EventRow[] =>
  Array.from({ length: n }, (_, i) => ({ seq: from + i, line: from + i, ts: null, type: 'T', key: null, level: null, marked: false }));

describe('list page cache', () => {
  it('asks for each missing page once', () => {
    const c = new PageCache(100, 4);
    expect(c.missing(0, 250)).toEqual([0, 1, 2]);
    c.asking(0);
    c.asking(1);
    expect(c.missing(0, 250)).toEqual([2]);
    c.put(0, rows(1, 100), 1000);
    expect(c.get(5)?.seq).toBe(6);
    expect(c.get(150)).toBeUndefined();
    expect(c.missing(0, 150)).toEqual([]);
    c.failed(1);
    expect(c.missing(0, 150)).toEqual([1]);
  });

  it('does not ask past the total', () => {
    const c = new PageCache(100, 4);
    c.put(0, rows(1, 100), 120);
    expect(c.missing(0, 5000)).toEqual([1]);
  });

  it('keeps a bounded number of pages and knows the loaded seqs', () => {
    const c = new PageCache(10, 2);
    c.put(0, rows(1, 10), 100);
    c.put(1, rows(11, 10), 100);
    c.put(2, rows(21, 10), 100);
    expect(c.size).toBe(2);
    expect(c.get(0)).toBeUndefined();
    expect(c.knownSeqs()).toEqual(rows(11, 20).map((r) => r.seq));
    c.clear();
    expect(c.size).toBe(0);
    expect(c.total).toBe(-1);
  });

  it('keeps full pages and drops the partial last one when the source grows', () => {
    const c = new PageCache(10, 8);
    c.put(0, rows(1, 10), 25);
    c.put(1, rows(11, 10), 25);
    c.put(2, rows(21, 5), 25);
    c.asking(3);
    c.grew(28);
    expect(c.get(12)?.seq).toBe(13);
    expect(c.get(22)).toBeUndefined();
    expect(c.total).toBe(28);
    expect(c.missing(0, 40)).toEqual([2]);
    c.grew(-1);
    expect(c.missing(0, 40)).toEqual([2, 3, 4]);
  });
});
