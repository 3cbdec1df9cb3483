// The window's state with the shell mocked: what a live-tail refresh
// changes, where Follow puts the scrubber and when it turns off, and how a
// session is restored and saved.

import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Refreshed, Session, SourceInfo } from './ipc-types';

const info = (events: number, files = ['/logs/shop.jsonl'], session: Session | null = null): SourceInfo => ({
  files,
  format: 'jsonl',
  reducer: 'entity',
  events,
  errors: 0,
  marked: 0,
  first_ts: '2024-03-04T06:00:00.000Z',
  last_ts: '2024-03-05T06:00:00.000Z',
  fields: { ts: 'ts', type: 'type', key: 'streamId', level: 'level', payload: 'data' },
  types: [],
  levels: [],
  keys: 0,
  index_seconds: 0.1,
  notes: [],
  session,
  indexing: false,
});

const refreshed = vi.fn<() => Promise<Refreshed>>();
const infoNow = vi.fn<() => Promise<SourceInfo>>();
const positions: number[] = [];

vi.mock('./api', () => ({
  open: vi.fn(async (paths: string[]) => info(100, paths)),
  refresh: () => refreshed(),
  sourceInfoNow: () => infoNow(),
  position: vi.fn(async (seq: number, pin: number | null) => {
    positions.push(seq);
    return { seq, base: pin ?? seq - 1, event: null, tree: { path: '', kind: 'object', size: 0, offset: 0, children: [] }, changes: [], outside: [] };
  }),
  treeNode: vi.fn(async (_seq: number, path: string) => ({ path, kind: 'object', size: 0, offset: 0, children: [] })),
  markers: vi.fn(async () => ({ marked: [], errors: [], bookmarks: [] })),
  bookmarks: vi.fn(async () => []),
  recentFiles: vi.fn(async () => []),
  list: vi.fn(async () => ({ total: 0, offset: 0, rows: [] })),
  listIndex: vi.fn(async () => 0),
  blame: vi.fn(async () => []),
  entityHistory: vi.fn(async (key: string) => ({ key, path: `/${key}`, lifetimes: [], steps: [] })),
  saveSession: vi.fn(async () => {}),
  errorMessage: (e: unknown) => String((e as { message?: string })?.message ?? e),
}));

Object.assign(globalThis, { requestAnimationFrame: () => 0, cancelAnimationFrame: () => {} });

const { HindsightApp } = await import('./app.svelte');

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

async function opened(events = 100, session: Session | null = null) {
  const app = new HindsightApp();
  const api = await import('./api');
  vi.mocked(api.open).mockResolvedValueOnce(info(events, undefined, session));
  await app.openPaths(['/logs/shop.jsonl']);
  await settle();
  return app;
}

describe('live tail in the window', () => {
  beforeEach(() => {
    refreshed.mockReset();
    positions.length = 0;
  });

  it('keeps the position when new events are appended, and says how many', async () => {
    const app = await opened(100);
    app.goTo(40);
    refreshed.mockResolvedValueOnce({ action: 'appended', info: info(103), notice: null });
    await app.refreshSource();
    await settle();
    expect(app.events).toBe(103);
    expect(app.seq).toBe(40);
    expect(positions[positions.length - 1]).toBe(40);
    expect(app.lastRefresh).toBe('+3');
    expect(app.listTotal).toBe(103);
    expect(app.notice).toBeNull();
  });

  it('follows the newest event when Follow is on; a move away by hand turns it off', async () => {
    const app = await opened(100);
    app.goTo(10);
    app.toggleFollow();
    expect(app.follow).toBe(true);
    expect(app.seq).toBe(100);
    refreshed.mockResolvedValueOnce({ action: 'appended', info: info(103), notice: null });
    await app.refreshSource();
    await settle();
    expect(app.seq).toBe(103);
    expect(positions[positions.length - 1]).toBe(103);
    // End keeps following; a step back stops it.
    app.end();
    expect(app.follow).toBe(true);
    app.step(-1);
    expect(app.follow).toBe(false);
    refreshed.mockResolvedValueOnce({ action: 'appended', info: info(110), notice: null });
    await app.refreshSource();
    expect(app.seq).toBe(102);
  });

  it('clamps to the last event and shows the notice when the file was truncated', async () => {
    const app = await opened(100);
    app.goTo(60);
    app.togglePin();
    refreshed.mockResolvedValueOnce({ action: 'rebuilt: the file shrank', info: info(10), notice: 'shop.jsonl was truncated or replaced, so it was indexed again from its start.' });
    await app.refreshSource();
    await settle();
    expect(app.events).toBe(10);
    expect(app.seq).toBe(10);
    expect(app.pin).toBeNull();
    expect(app.notice).toMatch(/truncated/);
    expect(app.lastRefresh).toBe('re-indexed');
    expect(app.error).toBeNull();
  });

  it('changes nothing when the files are as they were', async () => {
    const app = await opened(100);
    app.goTo(50);
    const before = app.info;
    const asked = positions.length;
    refreshed.mockResolvedValueOnce({ action: 'reused', info: info(100), notice: null });
    await app.refreshSource();
    await settle();
    expect(app.info).toBe(before);
    expect(positions.length).toBe(asked);
    expect(app.lastRefresh).toBeNull();
  });

  it('shows a failed refresh until a later one works', async () => {
    const app = await opened(100);
    refreshed.mockRejectedValueOnce({ code: 'empty', message: 'shop.jsonl is empty.' });
    await app.refreshSource();
    expect(app.error).toBe('shop.jsonl is empty.');
    refreshed.mockResolvedValueOnce({ action: 'appended', info: info(101), notice: null });
    await app.refreshSource();
    expect(app.error).toBeNull();
    expect(app.events).toBe(101);
  });
});

describe('sessions in the window', () => {
  const NONE = { type: null, key: null, level: null, text: null, since: null, until: null };

  it('restores where the user was when the files are opened again', async () => {
    const app = await opened(3502, { seq: 2740, filter: { ...NONE, type: 'RefundIssued' }, pin: 2700, open: ['/order-1137'] });
    expect(app.seq).toBe(2740);
    expect(app.pin).toBe(2700);
    expect(app.filter.type).toBe('RefundIssued');
    expect(app.filterEpoch).toBeGreaterThan(0);
    expect([...app.expanded]).toEqual(['/order-1137']);
    expect(positions[positions.length - 1]).toBe(2740);
  });

  it('clamps a saved position to the events there are now', async () => {
    const app = await opened(10, { seq: 2740, filter: NONE, pin: 2700, open: [] });
    expect(app.seq).toBe(10);
    expect(app.pin).toBeNull();
  });

  it('saves a second after the last change, and not what was just restored', async () => {
    vi.useFakeTimers();
    try {
      const api = await import('./api');
      const save = vi.mocked(api.saveSession);
      save.mockClear();
      const app = await opened(3502, { seq: 5, filter: NONE, pin: null, open: [] });
      app.noteSession();
      vi.advanceTimersByTime(2000);
      expect(save).not.toHaveBeenCalled();
      app.goTo(40);
      app.noteSession();
      vi.advanceTimersByTime(500);
      app.togglePin();
      app.toggle('/order-1');
      app.noteSession();
      vi.advanceTimersByTime(999);
      expect(save).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(save).toHaveBeenCalledTimes(1);
      expect(save.mock.calls[0]).toEqual([['/logs/shop.jsonl'], { seq: 40, filter: NONE, pin: 40, open: ['/order-1'] }]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a file shown while it is indexed', () => {
  const progress = (usable: number, done = false, error: string | null = null) => ({
    bytes: usable * 100,
    total_bytes: 1_000_000,
    events: usable,
    events_per_second: 1e6,
    eta_seconds: done ? null : 0.5,
    usable,
    done,
    error,
  });

  async function indexing() {
    const app = new HindsightApp();
    const api = await import('./api');
    let send: (p: ReturnType<typeof progress>) => void = () => {};
    vi.mocked(api.open).mockImplementationOnce(async (_paths, onProgress) => {
      send = onProgress as typeof send;
      return { ...info(1000), indexing: true };
    });
    await app.openPaths(['/logs/shop.jsonl']);
    await settle();
    return { app, send: (p: ReturnType<typeof progress>) => send(p) };
  }

  beforeEach(() => {
    refreshed.mockReset();
    infoNow.mockReset();
    positions.length = 0;
  });

  it('grows with the events committed, keeps the position and shows no live label', async () => {
    const { app, send } = await indexing();
    expect(app.indexing).toBe(true);
    expect(app.opening).toBe(false);
    app.goTo(500);
    infoNow.mockResolvedValueOnce({ ...info(50_000), indexing: true });
    send(progress(50_000));
    await settle();
    expect(app.events).toBe(50_000);
    expect(app.seq).toBe(500);
    expect(app.lastRefresh).toBeNull();
    expect(app.progress?.usable).toBe(50_000);
    // A live-tail poke while indexing asks nothing: the build reads to the end anyway.
    await app.refreshSource();
    expect(refreshed).not.toHaveBeenCalled();
  });

  it('ends with the finished count, then looks at the files again', async () => {
    const { app, send } = await indexing();
    infoNow.mockResolvedValueOnce({ ...info(90_000), indexing: false });
    refreshed.mockResolvedValue({ action: 'reused', info: info(90_000), notice: null });
    send(progress(90_000, true));
    await settle();
    expect(app.indexing).toBe(false);
    expect(app.progress).toBeNull();
    expect(app.events).toBe(90_000);
    expect(app.info?.indexing).toBe(false);
  });

  it('shows why indexing failed and keeps what was shown', async () => {
    const { app, send } = await indexing();
    infoNow.mockResolvedValueOnce({ ...info(1000), indexing: false });
    send(progress(1000, true, 'big.jsonl: the disk is full'));
    await settle();
    expect(app.indexing).toBe(false);
    expect(app.error).toContain('disk is full');
    expect(app.events).toBe(1000);
  });
});

describe('the text index in the status bar', () => {
  it('follows the open files and ignores a message for other files', async () => {
    const app = await opened(100);
    expect(app.textIndex).toBeNull();
    app.textIndexed({ files: ['/logs/other.jsonl'], covered: 10, total: 10 });
    expect(app.textIndex).toBeNull();
    app.textIndexed({ files: ['/logs/shop.jsonl'], covered: 40, total: 100 });
    expect(app.textIndex).toEqual({ covered: 40, total: 100 });
    // Another open starts over.
    await app.openPaths(['/logs/shop.jsonl']);
    expect(app.textIndex).toBeNull();
  });

  it('drops a notice about the last file set when another is opened', async () => {
    const app = await opened(100);
    app.say('shop.jsonl was truncated or replaced, so it was indexed again from its start.', 8000);
    const api = await import('./api');
    vi.mocked(api.open).mockResolvedValueOnce(info(50, ['/logs/other.jsonl']));
    await app.openPaths(['/logs/other.jsonl']);
    await settle();
    expect(app.notice).toBeNull();
  });
});

describe('watch and entity history in the window', () => {
  const blameRows = (seqs: number[]) => seqs.map((seq) => ({ seq, ts: null, type: null, old: null, new: null }));

  it('jumps between the changes of the watched value with w and W', async () => {
    const api = await import('./api');
    vi.mocked(api.blame).mockResolvedValueOnce(blameRows([10, 30]));
    const app = await opened(100);
    app.goTo(1);
    await app.watchPath('/order-1/total');
    expect(app.watch).toEqual({ path: '/order-1/total', seqs: [10, 30], error: null });
    app.jumpWatch(true);
    expect(app.seq).toBe(10);
    app.jumpWatch(true);
    expect(app.seq).toBe(30);
    app.jumpWatch(true);
    expect(app.seq).toBe(30);
    expect(app.notice).toMatch(/No later change of \/order-1\/total/);
    app.jumpWatch(false);
    expect(app.seq).toBe(10);
    app.clearWatch();
    app.jumpWatch(true);
    expect(app.seq).toBe(10);
    expect(app.notice).toMatch(/Nothing is watched/);
  });

  it('stops playback at the next change of the watched value', async () => {
    const api = await import('./api');
    vi.mocked(api.blame).mockResolvedValueOnce(blameRows([10, 30]));
    const frames: FrameRequestCallback[] = [];
    const raf = globalThis.requestAnimationFrame;
    globalThis.requestAnimationFrame = (cb: FrameRequestCallback) => (frames.push(cb), frames.length);
    try {
      const app = await opened(100);
      app.goTo(2);
      await app.watchPath('/order-1/total');
      app.setSpeed({ mode: 'eps', n: 100 });
      app.play();
      // A quarter of a second at 100 events/s would pass #10: playback stops on it.
      frames.shift()!(performance.now() + 250);
      expect(app.seq).toBe(10);
      expect(app.playing).toBe(false);
      expect(app.notice).toMatch(/Stopped at #10/);
      // Played again from there, it goes on to the next one.
      frames.length = 0;
      app.play();
      frames.pop()!(performance.now() + 250);
      expect(app.seq).toBe(30);
      expect(app.playing).toBe(false);
    } finally {
      globalThis.requestAnimationFrame = raf;
    }
  });

  it('opens the history of the current event\'s key with e, even before its position arrives', async () => {
    const api = await import('./api');
    const app = await opened(100);
    app.goTo(7);
    const row = (key: string | null) => ({ total: 100, offset: 6, rows: [{ seq: 7, line: 7, ts: null, type: 'T', key, level: null, marked: false }] });
    vi.mocked(api.list).mockResolvedValueOnce(row('order-7'));
    await app.entityOfCurrent();
    expect(vi.mocked(api.list).mock.lastCall?.slice(1)).toEqual([6, 1]);
    expect(app.entity?.key).toBe('order-7');
    app.closeEntity();
    vi.mocked(api.list).mockResolvedValueOnce(row(null));
    await app.entityOfCurrent();
    expect(app.entity).toBeNull();
    expect(app.notice).toMatch(/#7 has no key/);
  });

  it('opens the entity panel in place of the history drawer and asks again as the file grows', async () => {
    const api = await import('./api');
    const asked = vi.mocked(api.entityHistory);
    asked.mockClear();
    const app = await opened(100);
    await app.openBlame('/order-1/total');
    await app.openEntity('order-1');
    expect(app.blame).toBeNull();
    expect(app.entity?.history?.path).toBe('/order-1');
    refreshed.mockResolvedValueOnce({ action: 'appended', info: info(101), notice: null });
    await app.refreshSource();
    await settle();
    expect(asked).toHaveBeenCalledTimes(2);
    // An unknown key shows the engine's sentence in the panel.
    asked.mockRejectedValueOnce({ code: 'query', message: 'there is no entity `nope`.' });
    await app.openEntity('nope');
    expect(app.entity).toEqual({ key: 'nope', history: null, error: 'there is no entity `nope`.' });
    app.closeEntity();
    expect(app.entity).toBeNull();
  });
});

describe('changed members beyond the tree page', () => {
  it('shows those the position brought, without asking for them again', async () => {
    const app = await opened(100);
    const api = await import('./api');
    const page = (path: string, size: number) => ({ path, kind: 'object', size, offset: 0, children: [] });
    const child = (key: string) => ({ key, path: `/${key}`, kind: 'object', size: 1, preview: '' });
    vi.mocked(api.position).mockImplementationOnce(async (seq: number) => ({
      seq,
      base: seq - 1,
      event: null,
      tree: { ...page('', 60_000), children: [child('a'), child('b')] },
      changes: [{ op: 'replace', path: '/order-17/status', old: 'paid', new: 'shipped' }],
      outside: [
        {
          ...page('/order-17', 1),
          children: [{ key: 'status', path: '/order-17/status', kind: 'string', size: 0, preview: '"shipped"' }],
        },
      ],
    }));
    vi.mocked(api.treeNode).mockClear();
    app.goTo(50);
    await settle();
    expect(app.outside.map((c) => c.path)).toEqual(['/order-17']);
    expect(app.tree.get('/order-17')?.children.map((c) => c.key)).toEqual(['status']);
    expect(vi.mocked(api.treeNode)).not.toHaveBeenCalled();
  });
});
