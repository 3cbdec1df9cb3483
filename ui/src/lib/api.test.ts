import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({
  invoke: (...args: unknown[]) => invoke(...args),
  Channel: class {
    onmessage: (m: unknown) => void = () => {};
  },
}));

const api = await import('./api');

describe('IPC wrappers', () => {
  beforeEach(() => invoke.mockReset().mockResolvedValue(null));

  it('names commands and camelCase arguments as the shell expects', async () => {
    const f = { type: 'A', key: null, level: null, text: null, since: null, until: null };
    await api.position(5, null, 200);
    await api.position(5, 2, 200);
    await api.treeNode(5, '/a', 0, 200);
    await api.list(f, 10, 100);
    await api.listIndex(f, 42);
    await api.histogram(300, null, null);
    await api.neighbor(7, true, false);
    await api.nextChange('/a/b', 9);
    await api.seqAtTime(1700000000000);
    await api.checkReducer('jq:.');
    await api.blame('/x');
    await api.diff(1, 2);
    await api.markers();
    await api.recentFiles();
    await api.initialFiles();
    await api.bookmarks();
    await api.addBookmark(12, 'a note', ['bug', 'refund']);
    await api.removeBookmark(3);
    await api.exportReport('/tmp/shop-report.html');
    await api.refresh();
    const session = { seq: 5, filter: f, pin: null, open: ['/a'] };
    await api.saveSession(['/x.jsonl'], session);
    expect(invoke.mock.calls).toEqual([
      ['position', { seq: 5, pin: null, treeLimit: 200 }],
      ['position', { seq: 5, pin: 2, treeLimit: 200 }],
      ['tree_node', { seq: 5, path: '/a', offset: 0, limit: 200 }],
      ['list', { filter: f, offset: 10, limit: 100 }],
      ['list_index', { filter: f, seq: 42 }],
      ['histogram', { bins: 300, start: null, end: null }],
      ['neighbor', { seq: 7, byKey: true, forward: false }],
      ['next_change', { path: '/a/b', seq: 9 }],
      ['seq_at_time', { ms: 1700000000000 }],
      ['check_reducer', { spec: 'jq:.' }],
      ['blame', { path: '/x' }],
      ['diff', { a: 1, b: 2 }],
      ['markers'],
      ['recent_files'],
      ['initial_files'],
      ['bookmarks'],
      ['add_bookmark', { seq: 12, note: 'a note', tags: ['bug', 'refund'] }],
      ['remove_bookmark', { id: 3 }],
      ['export_report', { path: '/tmp/shop-report.html' }],
      ['refresh'],
      ['save_session', { paths: ['/x.jsonl'], session }],
    ]);
  });

  it('opens with a request and a progress channel', async () => {
    const seen: unknown[] = [];
    await api.open(['/a.jsonl', '/b.jsonl'], (p) => seen.push(p), { reducer: 'entity' });
    const [cmd, args] = invoke.mock.calls[0];
    expect(cmd).toBe('open');
    expect(args.request).toEqual({ paths: ['/a.jsonl', '/b.jsonl'], reducer: 'entity', fields: null });
    args.onProgress.onmessage({ events: 5 });
    expect(seen).toEqual([{ events: 5 }]);
  });

  it('turns failures into one readable sentence', () => {
    expect(api.errorMessage({ code: 'parse', message: 'shop.jsonl line 3: not JSON' })).toBe('shop.jsonl line 3: not JSON');
    expect(api.errorMessage('plain')).toBe('plain');
    const e = new Error('first line\n    at stack (x.js:1)');
    expect(api.errorMessage(e)).toBe('first line');
    expect(api.errorMessage(42)).toMatch(/went wrong/);
  });
});
