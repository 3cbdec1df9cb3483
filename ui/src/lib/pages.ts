// A small cache of event-list pages for one filter: which pages to fetch
// for the visible rows, and the rows known so far.

import type { EventRow } from './ipc-types';

export class PageCache {
  private pages = new Map<number, EventRow[]>();
  private pending = new Set<number>();
  /** Rows passing the filter (from the last page answer); -1 unknown. */
  total = -1;

  constructor(
    readonly pageSize = 200,
    readonly maxPages = 64,
  ) {}

  /** The row at list index `i`, when its page is loaded. */
  get(i: number): EventRow | undefined {
    const page = this.pages.get(Math.floor(i / this.pageSize));
    return page?.[i % this.pageSize];
  }

  /** Pages covering rows first..last that are neither loaded nor asked for. */
  missing(first: number, last: number): number[] {
    if (last < first) return [];
    const out: number[] = [];
    const end = this.total >= 0 ? Math.min(last, this.total - 1) : last;
    for (let p = Math.floor(first / this.pageSize); p <= Math.floor(Math.max(first, end) / this.pageSize); p++) {
      if (!this.pages.has(p) && !this.pending.has(p)) out.push(p);
    }
    return out;
  }

  /** Marks a page as asked for. */
  asking(page: number): void {
    this.pending.add(page);
  }

  /** Stores a page's rows and the total; drops the oldest pages past the cap. */
  put(page: number, rows: EventRow[], total: number): void {
    this.pending.delete(page);
    this.pages.delete(page);
    this.pages.set(page, rows);
    this.total = total;
    while (this.pages.size > this.maxPages) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
  }

  /** A page request failed: it may be asked again. */
  failed(page: number): void {
    this.pending.delete(page);
  }

  /** Marks a page as recently used (kept longest). */
  touch(page: number): void {
    const rows = this.pages.get(page);
    if (rows) {
      this.pages.delete(page);
      this.pages.set(page, rows);
    }
  }

  /**
   * Events were appended to the source: full pages stay as they are (rows
   * after them can only come later), the last, partly filled one and those
   * still asked for are dropped. `total` is the new count of rows when
   * known (no filter), else -1.
   */
  grew(total: number): void {
    for (const [p, rows] of [...this.pages]) {
      if (rows.length < this.pageSize) this.pages.delete(p);
    }
    this.pending.clear();
    this.total = total;
  }

  clear(): void {
    this.pages.clear();
    this.pending.clear();
    this.total = -1;
  }

  /** Seqs of every loaded row, in list order. */
  knownSeqs(): number[] {
    const out: number[] = [];
    for (const p of [...this.pages.keys()].sort((a, b) => a - b)) {
      for (const r of this.pages.get(p) ?? []) out.push(r.seq);
    }
    return out;
  }

  get size(): number {
    return this.pages.size;
  }
}
