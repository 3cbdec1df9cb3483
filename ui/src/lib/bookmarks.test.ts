import { describe, expect, it } from 'vitest';
import {
  adjacentBookmark,
  firstLine,
  formKey,
  hasMoreLines,
  parseTags,
  reportDefaultPath,
  reportFileName,
  stem,
} from './bookmarks';

describe('bookmark form', () => {
  it('reads comma-separated tags as the engine does', () => {
    expect(parseTags('')).toEqual([]);
    expect(parseTags(' bug , refund,,bug ,  ')).toEqual(['bug', 'refund']);
    expect(parseTags('환불, 🔥, עברית')).toEqual(['환불', '🔥', 'עברית']);
    expect(parseTags('a b')).toEqual(['a b']);
  });

  it('saves on Ctrl+Enter and cancels on Esc; plain Enter is a new line', () => {
    expect(formKey({ key: 'Enter', ctrlKey: true })).toBe('save');
    expect(formKey({ key: 'Enter', metaKey: true })).toBe('save');
    expect(formKey({ key: 'Enter' })).toBeNull();
    expect(formKey({ key: 'Enter', ctrlKey: true, altKey: true })).toBeNull();
    expect(formKey({ key: 'Escape' })).toBe('cancel');
    expect(formKey({ key: 'b' })).toBeNull();
  });
});

describe('bookmark list', () => {
  it('shows the first line with text', () => {
    expect(firstLine('')).toBe('');
    expect(firstLine('one line')).toBe('one line');
    expect(firstLine('\n  \n  second\nthird')).toBe('second');
    expect(firstLine('a\r\nb')).toBe('a');
    expect(hasMoreLines('a\r\nb')).toBe(true);
    expect(hasMoreLines('a\n\n')).toBe(false);
    expect(hasMoreLines('')).toBe(false);
  });

  it('finds the next and previous bookmark', () => {
    const seqs = [40, 5, 300, 40];
    expect(adjacentBookmark(seqs, 1, true)).toBe(5);
    expect(adjacentBookmark(seqs, 5, true)).toBe(40);
    expect(adjacentBookmark(seqs, 40, true)).toBe(300);
    expect(adjacentBookmark(seqs, 300, true)).toBeNull();
    expect(adjacentBookmark(seqs, 300, false)).toBe(40);
    expect(adjacentBookmark(seqs, 41, false)).toBe(40);
    expect(adjacentBookmark(seqs, 5, false)).toBeNull();
    expect(adjacentBookmark([], 5, false)).toBeNull();
  });
});

describe('report file', () => {
  it('is named after the log', () => {
    expect(stem('/data/shop.jsonl')).toBe('shop');
    expect(stem('/data/app.log.gz')).toBe('app');
    expect(stem('C:\\logs\\x.y.csv.zst')).toBe('x.y');
    expect(stem('/data/.hidden')).toBe('.hidden');
    expect(stem('plain')).toBe('plain');
    expect(reportFileName(['/data/shop.jsonl'])).toBe('shop-report.html');
    expect(reportFileName(['/a/one.jsonl', '/b/two.jsonl', '/c/three.jsonl'])).toBe('one-and-2-more-report.html');
    expect(reportFileName([])).toBe('hindsight-report.html');
    expect(reportFileName(['/x/' + '가'.repeat(200) + '.log'])).toBe('가'.repeat(80) + '-report.html');
  });

  it('starts beside the first file', () => {
    expect(reportDefaultPath(['/data/logs/shop.jsonl'])).toBe('/data/logs/shop-report.html');
    expect(reportDefaultPath(['C:\\logs\\shop.jsonl'])).toBe('C:\\logs\\shop-report.html');
    expect(reportDefaultPath(['shop.jsonl'])).toBe('shop-report.html');
  });
});
