// The window's state and the actions on it. Everything shown comes from the
// engine through `api`; this keeps what was asked and what came back.

import * as api from './api';
import type { BlameRow, BookmarkRow, EntityHistory, FieldChoice, IndexProgress, ListFilter, Markers, Position, Refreshed, Session, SourceInfo, TreeChild } from './api';
import { errorMessage } from './api';
import { LatestOnly } from './latest';
import { PageCache } from './pages';
import { dueEvents, epsSteps, type Speed } from './playback';
import { fmtSeq, formatValue, parseTsMs } from './format';
import { adjacentBookmark, parseTags } from './bookmarks';
import { Coalescer, keepsFollowing, refreshLabel, seqAfterRefresh } from './live';
import { restoreSession, sessionKey, sessionOf } from './session';
import { adjacentChange, stopWithin, watchLabel } from './watch';
import {
  PAGE,
  changedPaths,
  fromPage,
  limitFor,
  mergePage,
  isContainer,
  nextPage,
  parentPath,
  pathsToFetch,
  unescapeToken,
  type Loaded,
} from './tree';

export const EMPTY_FILTER: ListFilter = { type: null, key: null, level: null, text: null, since: null, until: null };

export function filterActive(f: ListFilter): boolean {
  return Object.values(f).some((v) => v !== null && v !== '');
}

function sameFiles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

interface PositionAsk {
  seq: number;
  pin: number | null;
}

interface PositionAnswer {
  pos: Position;
  tree: Loaded;
  outside: TreeChild[];
}

export class HindsightApp {
  info = $state.raw<SourceInfo | null>(null);
  opening = $state(false);
  openingPaths = $state.raw<string[]>([]);
  progress = $state.raw<IndexProgress | null>(null);
  /** The open source is shown while the rest of its files is indexed. */
  indexing = $state(false);
  /** How far the text index of the open files is built (null: not heard yet). */
  textIndex = $state.raw<{ covered: number; total: number } | null>(null);
  /** A count asked for while indexing, so that at most one is in flight. */
  private growing = false;
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  recent = $state.raw<string[]>([]);
  dragging = $state(false);

  /** The scrubber: moves at once; `position` follows. */
  seq = $state(0);
  position = $state.raw<Position | null>(null);
  pin = $state<number | null>(null);

  filter = $state.raw<ListFilter>(EMPTY_FILTER);
  /** Bumped when the filter is set from outside the filter bar (a new file, a restored session). */
  filterEpoch = $state(0);
  /** Bumped whenever the list cache changes (the list and timeline redraw). */
  listVersion = $state(0);
  /** Rows passing the filter; -1 while unknown. */
  listTotal = $state(-1);
  readonly list = new PageCache(200, 64);

  tree = $state.raw<Loaded>(new Map());
  /** Changed top-level members the loaded root page does not show. */
  outside = $state.raw<TreeChild[]>([]);
  treeSeq = $state(0);
  expanded = $state.raw<ReadonlySet<string>>(new Set());
  changed = $derived(changedPaths(this.position?.changes ?? []));

  markers = $state.raw<Markers | null>(null);

  /** The open source's bookmarks, in event order (as the engine answers). */
  bookmarks = $state.raw<BookmarkRow[]>([]);
  /** Whether the bookmarks panel shows (beside the event detail). */
  bookmarksOpen = $state(false);
  /** The bookmark being written (its event), or null when the form is closed. */
  bookmarkDraft = $state.raw<{ seq: number } | null>(null);
  savingBookmark = $state(false);
  exporting = $state(false);
  blame = $state.raw<{ path: string; rows: BlameRow[] | null; error: string | null } | null>(null);
  /** The entity panel: one key's timeline (null while it is asked). */
  entity = $state.raw<{ key: string; history: EntityHistory | null; error: string | null } | null>(null);
  /** The watched path and the seqs of its changes (null while they are asked). */
  watch = $state.raw<{ path: string; seqs: number[] | null; error: string | null } | null>(null);

  /** Bumped when another source is shown (opened, or read again from its start): views reset zoom. */
  sourceEpoch = $state(0);
  /** Live tail: the window hears when the open files change. */
  watching = $state(false);
  /** Follow: each refresh that adds events moves the scrubber to the newest. */
  follow = $state(false);
  /** What the last refresh did ("+3", "re-indexed"), shown for a moment. */
  lastRefresh = $state<string | null>(null);

  playing = $state(false);
  speed = $state.raw<Speed>({ mode: 'eps', n: 10 });
  helpOpen = $state(false);

  /** Set by the filter bar so `/` can focus it. */
  filterInput: HTMLInputElement | null = null;

  private generation = 0;
  private queuedOpen: { paths: string[]; opts: OpenOpts } | null = null;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  /** The form opened the panel, so cancelling it closes the panel again. */
  private draftOpenedPanel = false;
  private treeFetching = new Set<string>();
  /** Bumped when the open source changes under the list: older page answers are dropped. */
  private listEpoch = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** The sentence of a failed refresh while it is the one shown. */
  private liveError: string | null = null;
  /** Changes to the files coalesce into one refresh at a time. */
  private readonly live = new Coalescer(() => this.refreshSource(), 250);
  /** The session waiting to be saved, and the last one saved (or restored). */
  private sessionPending: { paths: string[]; session: Session; key: string } | null = null;
  private sessionSaved = '';
  private readonly sessionSaver = new Coalescer(() => this.saveSession(), 1000);

  private readonly positions = new LatestOnly<PositionAsk, PositionAnswer>({
    intermediate: true,
    run: (ask) => this.fetchPosition(ask),
    onResult: ({ pos, tree, outside }) => {
      this.position = pos;
      this.tree = tree;
      this.outside = outside;
      this.treeSeq = pos.seq;
      void this.fillExpanded();
    },
    onError: (e) => this.fail(e),
  });

  get events(): number {
    return this.info?.events ?? 0;
  }

  get minSeq(): number {
    return this.events > 0 ? 1 : 0;
  }

  get hasTime(): boolean {
    return !!this.info?.first_ts;
  }

  fail(e: unknown): void {
    this.error = errorMessage(e);
  }

  say(text: string, ms = 3500): void {
    this.notice = text;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.notice = null), ms);
  }

  // ---- opening ---------------------------------------------------------

  /** Opens files: the one path drops, the dialog, recent files and e2e tests use. */
  async openPaths(paths: string[], opts: OpenOpts = {}): Promise<void> {
    const list = paths.filter((p) => typeof p === 'string' && p.length > 0);
    if (!list.length) return;
    if (this.opening) {
      // The engine indexes one request at a time; open the newest next.
      this.queuedOpen = { paths: list, opts };
      return;
    }
    this.stop();
    const gen = ++this.generation;
    this.opening = true;
    this.openingPaths = list;
    this.progress = null;
    this.indexing = false;
    this.textIndex = null;
    this.error = null;
    try {
      const info = await api.open(
        list,
        (p) => {
          if (gen !== this.generation) return;
          this.progress = p;
          if (this.indexing) this.indexed(p, gen);
        },
        opts,
      );
      if (gen !== this.generation) return;
      const same = this.info !== null && sameFiles(this.info.files, info.files);
      this.indexing = info.indexing;
      this.positions.reset();
      this.info = info;
      this.position = null;
      this.tree = new Map();
      this.outside = [];
      this.treeFetching.clear();
      this.markers = null;
      this.blame = null;
      this.sourceEpoch++;
      this.listEpoch++;
      this.liveError = null;
      let start = this.follow ? info.events : Math.min(Math.max(this.seq, this.minSeq), info.events);
      if (!same) {
        // A notice about the last file set would read as one about these.
        this.notice = null;
        clearTimeout(this.noticeTimer);
        // Another file set: what was pending for the last one is saved now.
        void this.flushSession();
        this.follow = false;
        this.lastRefresh = null;
        this.bookmarks = [];
        this.bookmarkDraft = null;
        this.entity = null;
        this.watch = null;
        // Where the user left these files, when they were open before.
        const restored = restoreSession(info.session, info.events);
        this.expanded = restored?.open ?? new Set();
        this.pin = restored?.pin ?? null;
        this.filter = restored?.filter ?? EMPTY_FILTER;
        this.filterEpoch++;
        start = restored?.seq ?? this.minSeq;
        this.sessionSaved = sessionKey(info.files, sessionOf({ seq: start, filter: this.filter, pin: this.pin, expanded: this.expanded }));
      } else if (this.pin !== null && this.pin > info.events) {
        this.pin = null;
      }
      this.resetList();
      // The same files read another way (reducer, fields): ask again.
      if (this.entity) void this.loadEntity(this.entity.key, false);
      if (this.watch) void this.loadWatch(this.watch.path, false);
      this.moveTo(start);
      void this.refreshMarks();
      api.recentFiles().then((r) => (this.recent = r), () => {});
    } catch (e) {
      if (gen === this.generation) this.fail(e);
    } finally {
      if (gen === this.generation) {
        this.opening = false;
        if (!this.indexing) this.progress = null;
      }
      const next = this.queuedOpen;
      this.queuedOpen = null;
      if (next) void this.openPaths(next.paths, next.opts);
    }
  }

  /** Progress of the files being indexed while the first events are shown:
   * the shown source grows with each message that has more usable events. */
  private indexed(p: IndexProgress, gen: number): void {
    if (p.done) {
      this.indexing = false;
      this.progress = null;
      if (p.error) this.fail(p.error);
      void this.grow(gen, true);
      return;
    }
    if (p.usable > this.events) void this.grow(gen, false);
  }

  /** Asks for the grown source and shows it; the last time (`done`) also
   * looks at the files again, since growth is not followed while indexing. */
  private async grow(gen: number, done: boolean): Promise<void> {
    if (this.growing && !done) return;
    this.growing = true;
    try {
      const info = await api.sourceInfoNow();
      if (gen !== this.generation || !this.info) return;
      if (info.events !== this.events || info.indexing !== this.info.indexing) {
        this.applyRefresh({ action: 'appended', info, notice: null }, false);
      }
      if (done) this.live.poke();
    } catch {
      // The next progress message asks again.
    } finally {
      this.growing = false;
    }
  }

  /** The shell built more of the text index; messages for other files are dropped. */
  textIndexed(p: { files: string[]; covered: number; total: number }): void {
    if (this.info && sameFiles(this.info.files, p.files)) this.textIndex = { covered: p.covered, total: p.total };
  }

  /** Opens the same files again with another reducer or other fields. */
  reopen(opts: OpenOpts): Promise<void> {
    if (!this.info) return Promise.resolve();
    return this.openPaths(this.info.files, opts);
  }

  // ---- moving ----------------------------------------------------------

  clampSeq(seq: number): number {
    if (!Number.isFinite(seq)) return this.seq;
    return Math.min(this.events, Math.max(this.minSeq, Math.round(seq)));
  }

  /** Moves the scrubber (the user's moves); the position follows, latest request only. */
  goTo(seq: number): void {
    if (!this.info) return;
    const s = this.clampSeq(seq);
    // Moving away from the end by hand stops following it.
    if (this.follow && !keepsFollowing(this.follow, s, this.events)) this.follow = false;
    this.moveTo(s);
  }

  /** Moves the scrubber without touching Follow (opening, refreshing, following). */
  private moveTo(seq: number): void {
    if (!this.info) return;
    const s = this.clampSeq(seq);
    this.seq = s;
    this.positions.request({ seq: s, pin: this.pin });
  }

  step(delta: number): void {
    this.goTo(this.seq + delta);
  }

  start(): void {
    this.goTo(this.minSeq);
  }

  end(): void {
    this.goTo(this.events);
  }

  togglePin(): void {
    if (!this.info) return;
    this.pin = this.pin === null ? this.seq : null;
    this.positions.request({ seq: this.seq, pin: this.pin });
  }

  async neighbor(byKey: boolean, forward: boolean): Promise<void> {
    if (!this.info || this.seq < 1) return;
    try {
      const s = await api.neighbor(this.seq, byKey, forward);
      if (s === null) {
        this.say(`No ${forward ? 'later' : 'earlier'} event with the same ${byKey ? 'key' : 'type'}.`);
      } else {
        this.goTo(s);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** Next or previous event passing the filter (a plain step without one). */
  async nextMatch(forward: boolean): Promise<void> {
    if (!this.info) return;
    if (!filterActive(this.filter)) {
      this.step(forward ? 1 : -1);
      return;
    }
    const f = this.filter;
    try {
      let idx: number;
      if (forward) {
        idx = await api.listIndex(f, this.seq + 1);
      } else {
        idx = (await api.listIndex(f, this.seq)) - 1;
      }
      if (idx < 0) {
        this.say('No earlier event matches the filter.');
        return;
      }
      const page = await api.list(f, idx, 1);
      const row = page.rows[0];
      if (!row) this.say(`No ${forward ? 'later' : 'earlier'} event matches the filter.`);
      else this.goTo(row.seq);
    } catch (e) {
      this.fail(e);
    }
  }

  async nextChangeOf(path: string): Promise<void> {
    try {
      const s = await api.nextChange(path, this.seq);
      if (s === null) this.say(`No later change of ${path || '/'}.`);
      else this.goTo(s);
    } catch (e) {
      this.fail(e);
    }
  }

  async openBlame(path: string): Promise<void> {
    // One drawer at a time on the right.
    this.entity = null;
    this.blame = { path, rows: null, error: null };
    try {
      const rows = await api.blame(path);
      if (this.blame?.path === path) this.blame = { path, rows, error: null };
    } catch (e) {
      if (this.blame?.path === path) this.blame = { path, rows: [], error: errorMessage(e) };
    }
  }

  // ---- entity history --------------------------------------------------

  /** Opens the entity panel on `key`: its events and its value after each. */
  async openEntity(key: string): Promise<void> {
    if (!this.info) return;
    this.blame = null;
    this.entity = { key, history: null, error: null };
    await this.loadEntity(key, false);
  }

  /** `e`: the entity history of the current event's key. */
  async entityOfCurrent(): Promise<void> {
    if (!this.info) return;
    const seq = this.seq;
    if (seq < 1) {
      this.say('There is no event here: move to an event first.');
      return;
    }
    let key: string | null;
    const pos = this.position;
    if (pos?.seq === seq && pos.event) {
      key = pos.event.key;
    } else {
      // The position is still on its way: the list's row has the key.
      try {
        key = (await api.list(EMPTY_FILTER, seq - 1, 1)).rows[0]?.key ?? null;
      } catch (e) {
        this.fail(e);
        return;
      }
    }
    if (key === null) this.say(`Event ${fmtSeq(seq)} has no key, so it belongs to no entity.`);
    else await this.openEntity(key);
  }

  closeEntity(): void {
    this.entity = null;
  }

  /** Asks for the entity's timeline; `quiet`: keep what is shown when it fails (a refresh asks again). */
  private async loadEntity(key: string, quiet: boolean): Promise<void> {
    const gen = this.generation;
    try {
      const history = await api.entityHistory(key);
      if (gen === this.generation && this.entity?.key === key) this.entity = { key, history, error: null };
    } catch (e) {
      if (quiet || gen !== this.generation || this.entity?.key !== key) return;
      this.entity = { key, history: null, error: errorMessage(e) };
    }
  }

  // ---- watch -----------------------------------------------------------

  /** Watches the value at `path`: its changes are marked on the timeline, `w`/`W` jump and playback stops at them. */
  async watchPath(path: string): Promise<void> {
    if (!this.info) return;
    this.watch = { path, seqs: null, error: null };
    await this.loadWatch(path, false);
  }

  clearWatch(): void {
    this.watch = null;
  }

  private async loadWatch(path: string, quiet: boolean): Promise<void> {
    const gen = this.generation;
    try {
      const rows = await api.blame(path);
      if (gen === this.generation && this.watch?.path === path) this.watch = { path, seqs: rows.map((r) => r.seq), error: null };
    } catch (e) {
      if (quiet || gen !== this.generation || this.watch?.path !== path) return;
      this.watch = null;
      this.fail(e);
    }
  }

  /** `w` / `W`: the next or previous change of the watched value. */
  jumpWatch(forward: boolean): void {
    if (!this.info) return;
    const w = this.watch;
    if (!w) {
      this.say('Nothing is watched: right-click a value in the state and choose Watch.');
      return;
    }
    if (w.seqs === null) {
      this.say(`Still looking for the changes of ${watchLabel(w.path)}…`);
      return;
    }
    const s = adjacentChange(w.seqs, this.seq, forward);
    if (s === null) this.say(`No ${forward ? 'later' : 'earlier'} change of ${watchLabel(w.path)}.`);
    else this.goTo(s);
  }

  // ---- bookmarks and the report -----------------------------------------

  /** Asks again for the bookmarks and the timeline's markers (after opening, adding, removing). */
  async refreshMarks(): Promise<void> {
    const gen = this.generation;
    const [marks, rows] = await Promise.allSettled([api.markers(), api.bookmarks()]);
    if (gen !== this.generation) return;
    if (marks.status === 'fulfilled') this.markers = marks.value;
    if (rows.status === 'fulfilled') this.bookmarks = rows.value;
    const failed = marks.status === 'rejected' ? marks : rows.status === 'rejected' ? rows : null;
    if (failed) this.fail(failed.reason);
  }

  /** `b`: opens the bookmark form on the current event (the panel opens with it). */
  startBookmark(): void {
    if (!this.info) return;
    if (this.seq < 1) {
      this.say('There is no event here to bookmark: move to an event first.');
      return;
    }
    if (!this.bookmarksOpen) {
      this.draftOpenedPanel = true;
      this.bookmarksOpen = true;
    } else if (!this.bookmarkDraft) {
      this.draftOpenedPanel = false;
    }
    this.bookmarkDraft = { seq: this.seq };
  }

  cancelBookmark(): void {
    this.bookmarkDraft = null;
    if (this.draftOpenedPanel) this.bookmarksOpen = false;
    this.draftOpenedPanel = false;
  }

  /** Saves the draft; false (the form stays, its text kept) when the engine refused. */
  async saveBookmark(note: string, tags: string): Promise<boolean> {
    const draft = this.bookmarkDraft;
    if (!draft || this.savingBookmark) return false;
    const gen = this.generation;
    this.savingBookmark = true;
    try {
      const row = await api.addBookmark(draft.seq, note, parseTags(tags));
      if (gen !== this.generation) return false;
      if (this.bookmarkDraft === draft) this.bookmarkDraft = null;
      this.draftOpenedPanel = false;
      this.say(`Bookmarked ${fmtSeq(row.seq)}.`);
      await this.refreshMarks();
      return true;
    } catch (e) {
      if (gen === this.generation) this.fail(e);
      return false;
    } finally {
      this.savingBookmark = false;
    }
  }

  async removeBookmark(id: number): Promise<void> {
    const gen = this.generation;
    try {
      await api.removeBookmark(id);
      if (gen !== this.generation) return;
      // Gone from the list at once; the engine's answer follows.
      this.bookmarks = this.bookmarks.filter((b) => b.id !== id);
      await this.refreshMarks();
    } catch (e) {
      if (gen === this.generation) this.fail(e);
    }
  }

  toggleBookmarks(): void {
    if (this.bookmarksOpen) {
      this.bookmarksOpen = false;
      this.bookmarkDraft = null;
      this.draftOpenedPanel = false;
    } else {
      this.bookmarksOpen = true;
    }
  }

  /** `,` / `.`: the previous or next bookmarked event. */
  jumpBookmark(forward: boolean): void {
    if (!this.info) return;
    if (!this.bookmarks.length) {
      this.say('No bookmarks yet: press b to bookmark the current event.');
      return;
    }
    const s = adjacentBookmark(
      this.bookmarks.map((b) => b.seq),
      this.seq,
      forward,
    );
    if (s === null) this.say(`No ${forward ? 'later' : 'earlier'} bookmark.`);
    else this.goTo(s);
  }

  /** Writes the audit report to `path` (chosen in the save dialog) and says where. */
  async exportReport(path: string): Promise<void> {
    if (!this.info || this.exporting) return;
    this.exporting = true;
    try {
      const written = await api.exportReport(path);
      this.say(`Report written to ${written}`, 8000);
    } catch (e) {
      this.fail(e);
    } finally {
      this.exporting = false;
    }
  }

  // ---- live tail -------------------------------------------------------

  /** The shell said the open files changed: refresh once they are quiet. */
  filesChanged(): void {
    if (this.info) this.live.poke();
  }

  /** `f` / the Follow button: follow the end of a growing file, or stop. */
  toggleFollow(): void {
    if (!this.info) return;
    this.follow = !this.follow;
    if (this.follow) {
      this.stop();
      this.moveTo(this.events);
    }
  }

  /** Asks the shell to look at the files again and shows what grew. */
  async refreshSource(): Promise<void> {
    // While indexing, the build reads the files to their end; `done` pokes again.
    if (!this.info || this.opening || this.indexing) return;
    const gen = this.generation;
    let r: Refreshed;
    try {
      r = await api.refresh();
    } catch (e) {
      if (gen !== this.generation || this.opening || !this.info) return;
      // Shown until a later refresh works (a file may be empty for a moment while it is rewritten).
      this.liveError = errorMessage(e);
      this.error = this.liveError;
      return;
    }
    if (gen !== this.generation || this.opening || !this.info) return;
    if (this.liveError !== null) {
      if (this.error === this.liveError) this.error = null;
      this.liveError = null;
    }
    if (r.action !== 'reused') this.applyRefresh(r);
  }

  private applyRefresh(r: Refreshed, labelled = true): void {
    const before = this.events;
    const rebuilt = r.action !== 'appended';
    this.info = r.info;
    const after = this.events;
    this.listEpoch++;
    if (rebuilt) {
      // Another file, in effect: what pointed into the old one may be gone.
      this.sourceEpoch++;
      this.stop();
      this.positions.reset();
      this.treeFetching.clear();
      if (this.pin !== null && this.pin > after) this.pin = null;
      if (this.bookmarkDraft && this.bookmarkDraft.seq > after) this.cancelBookmark();
      this.blame = null;
      this.resetList();
      // The same key and path may mean something else now: ask again.
      if (this.entity) void this.loadEntity(this.entity.key, false);
      if (this.watch) void this.loadWatch(this.watch.path, false);
    } else {
      // Pages already loaded stay valid; only the end of the list changed.
      const known = this.listTotal;
      const filtered = filterActive(this.filter);
      this.list.grew(filtered ? -1 : after);
      if (!filtered) this.listTotal = after;
      this.listVersion++;
      if (filtered && known >= 0) this.ensureRows(known, known);
      if (this.blame) void this.reloadBlame(this.blame.path);
      if (this.entity) void this.loadEntity(this.entity.key, true);
      if (this.watch) void this.loadWatch(this.watch.path, true);
    }
    const target = seqAfterRefresh(this.seq, after, this.follow);
    if (this.follow && target !== this.seq) this.stop();
    this.moveTo(target);
    void this.refreshMarks();
    if (r.notice) this.say(r.notice, 8000);
    const label = labelled ? refreshLabel(r.action, before, after) : null;
    if (label) {
      this.lastRefresh = label;
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => (this.lastRefresh = null), 4000);
    }
  }

  /** The open history of a value, asked again quietly (the rows stay until the answer). */
  private async reloadBlame(path: string): Promise<void> {
    try {
      const rows = await api.blame(path);
      if (this.blame?.path === path) this.blame = { path, rows, error: null };
    } catch {
      // The rows shown stay; the next refresh asks again.
    }
  }

  // ---- sessions --------------------------------------------------------

  /**
   * Notes where the user is (scrubber, filter, pin, open nodes); saved for
   * these files once it stays put for a second. Reading the state here
   * makes an effect that calls this run again when any of it changes.
   */
  noteSession(): void {
    const info = this.info;
    if (!info || this.opening) return;
    const session = sessionOf({ seq: this.seq, filter: this.filter, pin: this.pin, expanded: this.expanded });
    const key = sessionKey(info.files, session);
    if (key === this.sessionSaved && !this.sessionPending) return;
    if (key === this.sessionPending?.key) return;
    this.sessionPending = { paths: info.files, session, key };
    this.sessionSaver.poke();
  }

  /** Saves the pending session now (another file set is being opened). */
  private async flushSession(): Promise<void> {
    if (this.sessionPending) await this.saveSession();
  }

  private async saveSession(): Promise<void> {
    const p = this.sessionPending;
    if (!p) return;
    this.sessionPending = null;
    if (p.key === this.sessionSaved) return;
    try {
      await api.saveSession(p.paths, p.session);
      this.sessionSaved = p.key;
    } catch {
      // Only a convenience: the next change tries again.
    }
  }

  // ---- playback --------------------------------------------------------

  private raf = 0;
  private lastFrame = 0;
  private carry = 0;
  private clock = 0;
  private upcoming: { seq: number; t: number | null }[] = [];
  private upcomingFrom = -1;
  private fetchingUpcoming = false;
  private playedSeq = -1;
  private playEpoch = 0;

  togglePlay(): void {
    if (this.playing) this.stop();
    else this.play();
  }

  play(): void {
    if (!this.info || this.events === 0) return;
    if (this.seq >= this.events) this.goTo(this.minSeq);
    this.playing = true;
    this.carry = 0;
    this.playedSeq = -1;
    this.lastFrame = performance.now();
    this.raf = requestAnimationFrame((t) => this.frame(t));
  }

  stop(): void {
    this.playing = false;
    cancelAnimationFrame(this.raf);
  }

  setSpeed(s: Speed): void {
    this.speed = s;
    this.playedSeq = -1;
  }

  private frame(now: number): void {
    if (!this.playing) return;
    const dt = now - this.lastFrame;
    this.lastFrame = now;
    const s = this.speed;
    if (s.mode === 'eps') {
      const { steps, carry } = epsSteps(s.n, dt, this.carry);
      this.carry = carry;
      if (steps > 0) this.playTo(this.seq + steps);
    } else {
      this.realtimeFrame(dt, s.factor);
    }
    if (!this.playing) return;
    if (this.seq >= this.events) {
      this.stop();
      return;
    }
    this.raf = requestAnimationFrame((t) => this.frame(t));
  }

  /** Playback's move: it stops at a change of the watched value on the way. */
  private playTo(target: number): void {
    const stop = this.watch?.seqs ? stopWithin(this.watch.seqs, this.seq, Math.min(target, this.events)) : null;
    if (stop === null) {
      this.goTo(target);
      return;
    }
    this.goTo(stop);
    this.stop();
    this.say(`Stopped at ${fmtSeq(stop)}: ${watchLabel(this.watch?.path ?? '')} changed.`);
  }

  private realtimeFrame(dt: number, factor: number): void {
    if (this.playedSeq !== this.seq) {
      // Started, or the user moved the scrubber: start the clock here.
      this.upcoming = [];
      this.upcomingFrom = -1;
      this.clock = NaN;
      this.playedSeq = this.seq;
      this.playEpoch++;
    }
    if (this.upcoming.length < 50) void this.fetchUpcoming();
    if (!this.upcoming.length) return;
    if (!Number.isFinite(this.clock)) {
      // The clock starts at the current event's time (or the next one's).
      const cur = this.position?.seq === this.seq ? parseTsMs(this.position.event?.ts) : null;
      this.clock = cur ?? this.upcoming.find((u) => u.t !== null)?.t ?? 0;
    }
    this.clock += Math.min(dt, 250) * factor;
    const { due, clock } = dueEvents(
      this.clock,
      this.upcoming.map((u) => u.t),
      factor,
    );
    this.clock = clock;
    if (due > 0) {
      const target = this.upcoming[due - 1].seq;
      this.upcoming = this.upcoming.slice(due);
      this.playTo(target);
      this.playedSeq = this.seq;
    }
  }

  private async fetchUpcoming(): Promise<void> {
    if (this.fetchingUpcoming) return;
    const after = this.upcoming.length ? this.upcoming[this.upcoming.length - 1].seq : this.seq;
    if (after >= this.events || after === this.upcomingFrom) return;
    this.fetchingUpcoming = true;
    this.upcomingFrom = after;
    const epoch = this.playEpoch;
    try {
      // Unfiltered rows: row index i is event i + 1.
      const page = await api.list(EMPTY_FILTER, after, 500);
      if (epoch === this.playEpoch) {
        this.upcoming = this.upcoming.concat(page.rows.map((r) => ({ seq: r.seq, t: parseTsMs(r.ts) })));
      }
    } catch (e) {
      this.fail(e);
      this.stop();
    } finally {
      this.fetchingUpcoming = false;
    }
  }

  // ---- event list ------------------------------------------------------

  setFilter(f: ListFilter): void {
    this.filter = f;
    this.resetList();
  }

  /** Lists only the events of `key` (from outside the filter bar, which then shows it). */
  filterByKey(key: string): void {
    this.setFilter({ ...this.filter, key });
    this.filterEpoch++;
  }

  private resetList(): void {
    this.list.clear();
    this.listTotal = filterActive(this.filter) ? -1 : this.events;
    this.listVersion++;
  }

  private listInflight = 0;
  private listWanted: [number, number] | null = null;

  /**
   * Fetches list pages (for the visible rows) that are missing. At most two
   * page requests run at once; while they do, only the newest wanted range
   * is remembered, so a fast scrub never queues stale pages.
   */
  ensureRows(first: number, last: number): void {
    if (!this.info) return;
    const f = this.filter;
    const gen = this.generation;
    const epoch = this.listEpoch;
    const missing = this.list.missing(first, last);
    if (!missing.length) return;
    const slots = 2 - this.listInflight;
    if (slots <= 0) {
      this.listWanted = [first, last];
      return;
    }
    // The pages nearest the middle of the view first.
    const mid = Math.floor((first + last) / 2 / this.list.pageSize);
    missing.sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid));
    if (missing.length > slots) this.listWanted = [first, last];
    for (const p of missing.slice(0, slots)) {
      this.list.asking(p);
      this.listInflight++;
      api
        .list(f, p * this.list.pageSize, this.list.pageSize)
        .then(
          (page) => {
            if (f !== this.filter || gen !== this.generation || epoch !== this.listEpoch) {
              this.list.failed(p);
              return;
            }
            this.list.put(p, page.rows, page.total);
            this.listTotal = page.total;
            this.listVersion++;
          },
          (e) => {
            this.list.failed(p);
            if (f !== this.filter || gen !== this.generation || epoch !== this.listEpoch) return;
            this.fail(e);
          },
        )
        .finally(() => {
          this.listInflight--;
          const wanted = this.listWanted;
          this.listWanted = null;
          if (wanted) this.ensureRows(wanted[0], wanted[1]);
        });
    }
  }

  /** Seqs of filter matches known so far (timeline hit markers). */
  hitSeqs(): number[] {
    return filterActive(this.filter) ? this.list.knownSeqs() : [];
  }

  // ---- state tree ------------------------------------------------------

  private async fetchPosition(ask: PositionAsk): Promise<PositionAnswer> {
    const prev = this.tree;
    const pos = await api.position(ask.seq, ask.pin, limitFor(prev.get('')?.children.length));
    const tree: Loaded = new Map([['', fromPage(pos.tree)]]);
    const failed = new Set<string>();
    // Changed members beyond the loaded root page come with the position;
    // one the user had paged further into is fetched as far again.
    const topPages = await Promise.all(
      pos.outside.map((page) => {
        const wanted = limitFor(prev.get(page.path)?.children.length);
        const short = page.children.length < Math.min(wanted, page.size);
        return short ? api.treeNode(ask.seq, page.path, 0, wanted).catch(() => page) : Promise.resolve(page);
      }),
    );
    const outside: TreeChild[] = [];
    topPages.forEach((page) => {
      const path = page.path;
      const scalar = !isContainer(page.kind);
      const change = pos.changes.find((c) => c.path === path);
      outside.push({
        key: unescapeToken(path.slice(1)),
        path,
        kind: page.kind,
        size: page.size,
        preview: scalar && change ? formatValue(change.new ?? null, 300) : '',
      });
      if (!scalar) tree.set(path, fromPage(page));
    });
    // Expanded nodes are loaded again for the new seq, one depth at a time.
    for (let round = 0; round < 64; round++) {
      const todo = pathsToFetch(this.expanded, tree).filter((p) => !failed.has(p));
      if (!todo.length) break;
      const pages = await Promise.all(
        todo.map((p) => api.treeNode(ask.seq, p, 0, limitFor(prev.get(p)?.children.length)).catch(() => null)),
      );
      pages.forEach((page, i) => {
        if (page) tree.set(todo[i], fromPage(page));
        else failed.add(todo[i]);
      });
    }
    return { pos, tree, outside };
  }

  /** Loads expanded nodes that are not loaded yet at the shown seq. */
  private async fillExpanded(): Promise<void> {
    const seq = this.treeSeq;
    for (let round = 0; round < 64; round++) {
      const todo = pathsToFetch(this.expanded, this.tree).filter((p) => !this.treeFetching.has(`${seq}:${p}`));
      if (!todo.length) return;
      todo.forEach((p) => this.treeFetching.add(`${seq}:${p}`));
      const pages = await Promise.all(todo.map((p) => api.treeNode(seq, p, 0, PAGE).catch((e) => (this.fail(e), null))));
      todo.forEach((p) => this.treeFetching.delete(`${seq}:${p}`));
      if (this.treeSeq !== seq) return;
      const next = new Map(this.tree);
      pages.forEach((page, i) => {
        if (page) next.set(todo[i], fromPage(page));
      });
      this.tree = next;
      if (pages.some((p) => p === null)) return;
    }
  }

  toggle(path: string): void {
    const next = new Set(this.expanded);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    this.expanded = next;
    void this.fillExpanded();
  }

  /** A path the state tree should scroll to once it shows (then cleared). */
  revealPath = $state<string | null>(null);

  /** Expands every ancestor of `path` so it shows in the tree. */
  reveal(path: string): void {
    this.revealPath = path;
    setTimeout(() => {
      if (this.revealPath === path) this.revealPath = null;
    }, 3000);
    const next = new Set(this.expanded);
    let p = parentPath(path);
    while (p !== null && p !== '') {
      next.add(p);
      p = parentPath(p);
    }
    this.expanded = next;
    void this.fillExpanded();
  }

  collapseAll(): void {
    this.expanded = new Set();
  }

  async loadMore(path: string): Promise<void> {
    const seq = this.treeSeq;
    const node = this.tree.get(path);
    if (!node) return;
    const want = nextPage(node);
    if (!want) return;
    const key = `${seq}:more:${path}:${want.offset}`;
    if (this.treeFetching.has(key)) return;
    this.treeFetching.add(key);
    try {
      const page = await api.treeNode(seq, path, want.offset, want.limit);
      if (this.treeSeq !== seq) return;
      const cur = this.tree.get(path);
      if (!cur) return;
      this.tree = new Map(this.tree).set(path, mergePage(cur, page));
    } catch (e) {
      this.fail(e);
    } finally {
      this.treeFetching.delete(key);
    }
  }

  // ---- start -----------------------------------------------------------

  async init(): Promise<void> {
    try {
      this.recent = await api.recentFiles();
    } catch {
      this.recent = [];
    }
    try {
      const files = await api.initialFiles();
      if (files.length) await this.openPaths(files);
    } catch (e) {
      this.fail(e);
    }
  }
}

export interface OpenOpts {
  reducer?: string | null;
  fields?: FieldChoice | null;
}

export const app = new HindsightApp();
