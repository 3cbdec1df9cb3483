import { describe, expect, it } from 'vitest';
import {
  basename,
  changeView,
  fmtCompact,
  fmtDuration,
  fmtInt,
  fmtSeq,
  formatValue,
  matchSegments,
  oldNewText,
  parseTsMs,
  prettyJson,
  timeOfDay,
  truncate,
} from './format';

describe('numbers and names', () => {
  it('formats seqs and counts', () => {
    expect(fmtInt(1234567)).toBe('1,234,567');
    expect(fmtSeq(48213)).toBe('#48,213');
    expect(fmtCompact(1_250_000)).toBe('1.3 M');
    expect(fmtCompact(950)).toBe('950');
    expect(fmtDuration(0.0123)).toBe('12 ms');
    expect(fmtDuration(75)).toBe('1 min 15 s');
    expect(fmtDuration(NaN)).toBe('—');
    expect(basename('/home/u/logs/shop.jsonl')).toBe('shop.jsonl');
    expect(basename('C:\\logs\\a.log')).toBe('a.log');
  });
});

describe('truncation', () => {
  it('cuts at code points and marks the cut', () => {
    expect(truncate('abcdef', 10)).toBe('abcdef');
    expect(truncate('abcdef', 3)).toBe('abc…');
    // Emoji are two UTF-16 units each and never split.
    expect(truncate('😀😀😀😀', 2)).toBe('😀😀…');
    expect(truncate('한국어 텍스트', 3)).toBe('한국어…');
  });

  it('formats values as JSON text, cut to a length', () => {
    expect(formatValue('paid')).toBe('"paid"');
    expect(formatValue(120.5)).toBe('120.5');
    expect(formatValue(null)).toBe('null');
    expect(formatValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(formatValue('x'.repeat(500), 10)).toBe(`"${'x'.repeat(9)}…`);
    expect(formatValue(undefined)).toBe('');
    expect(prettyJson({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});

describe('diff rendering', () => {
  it('shows a replace as old → new', () => {
    const v = changeView({ op: 'replace', path: '/order-17/status', old: 'paid', new: 'shipped' });
    expect(v).toMatchObject({ op: 'replace', symbol: '~', path: '/order-17/status', old: '"paid"', new: '"shipped"' });
    expect(v.text).toBe('"paid" → "shipped"');
  });

  it('shows an add by its new value and a remove by its old one', () => {
    const add = changeView({ op: 'add', path: '/order-17/tracking', old: null, new: 'TRK18' });
    expect(add).toMatchObject({ symbol: '+', old: null, new: '"TRK18"', text: '"TRK18"' });
    const rm = changeView({ op: 'remove', path: '/cart-9', old: { items: 2 }, new: null });
    expect(rm).toMatchObject({ symbol: '−', old: '{"items":2}', new: null, text: '{"items":2}' });
  });

  it('keeps a replaced null distinct from a missing value and truncates long values', () => {
    expect(changeView({ op: 'replace', path: '/a', old: null, new: 1 }).text).toBe('null → 1');
    const long = changeView({ op: 'replace', path: '/a', old: 'a'.repeat(50), new: 2 }, 8);
    expect(long.old).toBe('"aaaaaaa…');
    expect(changeView({ op: 'replace', path: '', old: 1, new: 2 }).path).toBe('/');
  });

  it('keeps markup as text', () => {
    const v = changeView({ op: 'add', path: '/x', old: null, new: '<img src=x onerror=alert(1)>' });
    expect(v.new).toBe('"<img src=x onerror=alert(1)>"');
  });

  it('writes blame rows as old → new', () => {
    expect(oldNewText(null, 5)).toBe('∅ → 5');
    expect(oldNewText('a', undefined)).toBe('"a" → ∅');
  });
});

describe('times', () => {
  it('shows the time of day as the engine wrote it', () => {
    expect(timeOfDay('2024-03-04T10:42:07.125Z')).toBe('10:42:07.125');
    expect(timeOfDay('2024-03-04T10:42:07.123456789+02:00')).toBe('10:42:07.123');
    expect(timeOfDay('2024-03-04T10:42:07Z')).toBe('10:42:07');
    expect(timeOfDay(null)).toBe('');
  });

  it('parses RFC 3339 to ms for playback pacing', () => {
    expect(parseTsMs('2024-01-01T00:00:00Z')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTsMs('2024-01-01T00:00:00.5Z')).toBe(Date.UTC(2024, 0, 1) + 500);
    expect(parseTsMs('2024-01-01T00:00:00.123456789Z')).toBeCloseTo(Date.UTC(2024, 0, 1) + 123.456789, 3);
    expect(parseTsMs('2024-01-01T02:00:00+02:00')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTsMs('2024-01-01T00:00:00-0130')).toBe(Date.UTC(2024, 0, 1, 1, 30));
    expect(parseTsMs('yesterday')).toBeNull();
    expect(parseTsMs(null)).toBeNull();
  });
});

describe('search highlighting', () => {
  it('splits text around case-insensitive matches', () => {
    expect(matchSegments('Order shipped ORDER', 'order')).toEqual([
      { text: 'Order', hit: true },
      { text: ' shipped ', hit: false },
      { text: 'ORDER', hit: true },
    ]);
    expect(matchSegments('abc', '')).toEqual([{ text: 'abc', hit: false }]);
    expect(matchSegments('abc', 'x')).toEqual([{ text: 'abc', hit: false }]);
  });
});
