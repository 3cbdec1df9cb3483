import { describe, expect, it } from 'vitest';
import type { ListFilter } from './ipc-types';
import { MAX_OPEN, restoreSession, sessionKey, sessionOf } from './session';

const NONE: ListFilter = { type: null, key: null, level: null, text: null, since: null, until: null };

describe('sessions', () => {
  it('saves the position, the filter, the pin and the open nodes', () => {
    const s = sessionOf({ seq: 2740, filter: { ...NONE, type: 'RefundIssued', text: '' }, pin: 2700, expanded: new Set(['/order-1137', '/order-1137/items']) });
    expect(s).toEqual({ seq: 2740, filter: { ...NONE, type: 'RefundIssued' }, pin: 2700, open: ['/order-1137', '/order-1137/items'] });
  });

  it('keeps at most 200 open paths, the shallowest first', () => {
    const deep = Array.from({ length: 250 }, (_, i) => `/a/b${i}`);
    const s = sessionOf({ seq: 1, filter: NONE, pin: null, expanded: [...deep, '/a', ''] });
    expect(s.open.length).toBe(MAX_OPEN);
    expect(s.open).toContain('/a');
    expect(s.open).not.toContain('');
    expect(s.open.indexOf('/a/b0')).toBeLessThan(s.open.indexOf('/a/b1'));
  });

  it('restores clamped to the events there are', () => {
    const saved = { seq: 9000, filter: { ...NONE, level: 'error' }, pin: 5000, open: ['/x', '', '/x/y'] };
    const r = restoreSession(saved, 3502)!;
    expect(r.seq).toBe(3502);
    expect(r.pin).toBeNull();
    expect(r.filter).toEqual({ ...NONE, level: 'error' });
    expect([...r.open]).toEqual(['/x', '/x/y']);
    expect(restoreSession({ ...saved, seq: 0, pin: 3 }, 10)).toMatchObject({ seq: 1, pin: 3 });
    expect(restoreSession({ ...saved, seq: 7 }, 0)).toMatchObject({ seq: 0 });
    expect(restoreSession(null, 10)).toBeNull();
  });

  it('tells a changed session from the same one', () => {
    const a = sessionOf({ seq: 5, filter: NONE, pin: null, expanded: ['/a'] });
    const b = sessionOf({ seq: 5, filter: { ...NONE, text: '' }, pin: null, expanded: new Set(['/a']) });
    expect(sessionKey(['/f'], a)).toBe(sessionKey(['/f'], b));
    expect(sessionKey(['/f'], a)).not.toBe(sessionKey(['/g'], a));
    expect(sessionKey(['/f'], a)).not.toBe(sessionKey(['/f'], { ...a, seq: 6 }));
  });
});
