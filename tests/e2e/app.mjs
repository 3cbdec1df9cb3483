// Page helpers for the Hindsight window: read what the UI shows through its
// stable `data-testid` hooks, and drive it the way a user does (keys, clicks,
// drags). Reads go through one executeScript each, to keep round trips few.

import { Key, tid, waitFor } from './webdriver.mjs';

export class AssertionError extends Error {}

export function assert(cond, message) {
  if (!cond) throw new AssertionError(message);
}

/** Text with runs of whitespace folded to one space. */
export const squash = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();

export class App {
  constructor(session, ctx) {
    this.s = session;
    this.ctx = ctx;
  }

  /** The page is loaded and the UI has mounted (its e2e hook exists). */
  async ready() {
    await waitFor(
      () => this.s.execute('return document.readyState === "complete" && !!window.hindsight && typeof window.hindsight.openPaths === "function"'),
      {
        timeout: 20000,
        message: 'the UI to mount (window.hindsight.openPaths; is ui/dist a real build?)',
      },
    );
  }

  // ---- reading -----------------------------------------------------------

  /** Whether an element with this test id is rendered and visible. */
  visible(name) {
    return this.s.execute(
      `const el = document.querySelector(arguments[0]);
       if (!el) return false;
       const r = el.getBoundingClientRect(); const cs = getComputedStyle(el);
       return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';`,
      tid(name),
    );
  }

  /** innerText of the first element with this test id ('' when absent). */
  text(name) {
    return this.s.execute('const el = document.querySelector(arguments[0]); return el ? el.innerText : "";', tid(name));
  }

  bodyText() {
    return this.s.execute('return document.body.innerText');
  }

  /** The scrubber position: `data-seq` of the position readout (null when absent). */
  async seq() {
    const v = await this.s.execute(
      `const el = document.querySelector(arguments[0]);
       if (!el) return null;
       const a = el.getAttribute('data-seq');
       if (a !== null && a !== '') return Number(a);
       const m = /#\\s*([\\d,.\\u202f\\u00a0 ]+)/.exec(el.textContent || '');
       return m ? Number(m[1].replace(/[^\\d]/g, '')) : null;`,
      tid('position'),
    );
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }

  /** The readout's own text (e.g. "#1234 · 10:42:07 · OrderShipped"). */
  positionText() {
    return this.text('position');
  }

  /** Rows the event list renders now: `{seq, text, selected}`. */
  rows() {
    return this.s.execute(
      `return Array.from(document.querySelectorAll(arguments[0])).map((r) => ({
         seq: Number(r.getAttribute('data-seq')),
         text: r.innerText,
         selected: r.getAttribute('aria-selected') === 'true' || r.classList.contains('selected') || r.classList.contains('current'),
       }));`,
      tid('event-row'),
    );
  }

  /** Waits until the position readout shows `want` (a number, or a predicate on the seq). */
  async waitSeq(want, { timeout = 15000, message } = {}) {
    const ok = typeof want === 'function' ? want : (s) => s === want;
    let last = null;
    try {
      return await waitFor(
        async () => {
          last = await this.seq();
          return last !== null && ok(last) ? last : null;
        },
        { timeout, message: message ?? `the position to be #${want}` },
      );
    } catch (e) {
      e.message += ` (position shows ${last === null ? 'nothing' : `#${last}`})`;
      throw e;
    }
  }

  /** Waits until the position readout stops changing for `quietMs`. */
  async settledSeq({ quietMs = 400, timeout = 15000 } = {}) {
    let last = await this.seq();
    let since = Date.now();
    return waitFor(
      async () => {
        const s = await this.seq();
        if (s !== last) {
          last = s;
          since = Date.now();
          return null;
        }
        return Date.now() - since >= quietMs && s !== null ? { seq: s } : null;
      },
      { timeout, interval: 100, message: 'the position to settle' },
    ).then((r) => r.seq);
  }

  /** A log is open: the drop zone is gone and the list shows rows and a position. */
  async waitLoaded({ timeout = 30000 } = {}) {
    await waitFor(
      async () => {
        const dz = await this.visible('drop-zone');
        const rows = (await this.rows()).length;
        const seq = await this.seq();
        return !dz && rows > 0 && seq !== null;
      },
      { timeout, message: 'the log to open (drop zone gone, rows listed, a position shown)' },
    );
  }

  // ---- driving -----------------------------------------------------------

  /** Takes focus out of text fields so keys reach the window's shortcuts. */
  async focusWindow() {
    await this.s.execute(
      `const a = document.activeElement;
       if (a && a !== document.body && typeof a.blur === 'function') a.blur();
       window.focus();`,
    );
  }

  /** Presses keys (sent to the focused element) with modifiers held. */
  async keys(keys, mods = []) {
    await this.s.pressKeys(keys, mods);
  }

  /** Types characters into whatever has focus (e.g. `/`, `?` shortcuts). */
  async typeText(text) {
    await this.s.typeText(text);
  }

  /** Presses `key` n times in one action sequence. */
  async repeat(key, n, mods = []) {
    if (n > 0) await this.s.pressKeys(Array(n).fill(key), mods);
  }

  /**
   * Moves to `target` with the keyboard, from the end of the log: End, then
   * Shift+← for each hundred, ← for the rest, waiting for each to land.
   */
  async keyTo(target, total) {
    await this.focusWindow();
    await this.keys(Key.End);
    await this.waitSeq(total, { message: `End to reach #${total}` });
    const back = total - target;
    const hundreds = Math.floor(back / 100);
    const ones = back - hundreds * 100;
    if (hundreds) {
      await this.repeat(Key.ArrowLeft, hundreds, [Key.Shift]);
      await this.waitSeq(total - hundreds * 100);
    }
    if (ones) await this.repeat(Key.ArrowLeft, ones);
    await this.waitSeq(target);
  }

  /** Sets the filter input's text the way a user does: focus, select all, type. */
  async typeFilter(text) {
    const input = await this.s.waitForElement(tid('filter-input'));
    await input.click();
    await this.keys('a', [Key.Control]);
    await this.keys(Key.Backspace);
    if (text) await input.sendKeys(text);
    return input;
  }

  // ---- state tree, context menu, blame, pin -------------------------------
  //
  // These parts have no data-testid of their own (yet); the selectors below
  // are the UI's current markup: tree rows are `.node[data-path]` inside the
  // state-tree hook with an expand toggle `.tw`, the context menu is
  // `[role=menu]`, the blame panel is the aside labelled "History of a
  // value", and the pin control is the toolbar's `button.pin`.

  sel = Object.freeze({
    treeNode: (p) => `${tid('state-tree')} [data-path="${p.replace(/["\\]/g, '\\$&')}"]`,
    menu: '[data-testid="context-menu"], [role="menu"]',
    menuItem: '[role="menuitem"]',
    blamePanel: '[data-testid="blame-panel"], aside[aria-label="History of a value"]',
    pinButton: '[data-testid="pin-button"], header button.pin',
  });

  /** JSON Pointer of a list of keys. */
  static pointer(keys) {
    return keys.map((k) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
  }

  /** Paths of the state tree's nodes marked as changed by the current event. */
  changedTreeKeys() {
    return this.s.execute(
      `return Array.from(document.querySelectorAll(arguments[0] + ' .node.changed, ' + arguments[0] + ' [data-changed="true"]'))
         .map((n) => n.getAttribute('data-path'));`,
      tid('state-tree'),
    );
  }

  /**
   * Waits for the tree row of `path` (a JSON Pointer), pressing the parent's
   * "Load more" button while it is not among the loaded children.
   */
  async waitTreeRow(path, { timeout = 15000 } = {}) {
    const parentDepth = path.split('/').length - 2; // "/a" → 0, "/a/b" → 1
    return waitFor(
      async () => {
        const r = await this.s.execute(
          `const node = document.querySelector(arguments[0]);
           if (node) { node.scrollIntoView({ block: 'center' }); return 'found'; }
           // The "Load more" row of the parent: indented like its children.
           const want = (26 + arguments[1] * 14) + 'px';
           const more = Array.from(document.querySelectorAll(arguments[2] + ' .more'))
             .find((m) => m.style.paddingLeft === want && m.querySelector('button'));
           if (more) { more.scrollIntoView({ block: 'center' }); more.querySelector('button').click(); return 'more'; }
           return null;`,
          this.sel.treeNode(path),
          parentDepth,
          tid('state-tree'),
        );
        return r === 'found' ? this.s.findElement(this.sel.treeNode(path)) : null;
      },
      { timeout, interval: 200, message: `the state tree row ${path}` },
    );
  }

  /** The tree row of a key path (an array of keys), revealed by expanding its ancestors. */
  async treeNode(keys) {
    if (keys.length > 1) await this.expandTreePath(keys.slice(0, -1));
    return this.waitTreeRow(App.pointer(keys));
  }

  /** Expands each node along `keys` (by clicking its toggle), waiting for its children. */
  async expandTreePath(keys) {
    for (let i = 1; i <= keys.length; i++) {
      const path = App.pointer(keys.slice(0, i));
      const node = await this.waitTreeRow(path);
      if ((await node.attribute('aria-expanded')) !== 'true') {
        const toggle = await node.find('.tw');
        await toggle.click();
      }
      await waitFor(
        async () =>
          (await node.attribute('aria-expanded')) === 'true' &&
          this.s.execute('return !!document.querySelector(arguments[0])', `${tid('state-tree')} [data-path^="${path}/"]`),
        { message: `${path} to expand and show its children` },
      );
    }
  }

  /** Expands every collapsed node of the state tree (small states only), each once. */
  async expandAll({ rounds = 8 } = {}) {
    const done = [];
    for (let i = 0; i < rounds; i++) {
      const clicked = await this.s.execute(
        `const done = new Set(arguments[1]);
         const out = [];
         for (const n of document.querySelectorAll(arguments[0] + ' .node[aria-expanded="false"]')) {
           const p = n.getAttribute('data-path');
           const t = n.querySelector('.tw');
           if (t && !done.has(p)) { t.click(); out.push(p); }
         }
         return out;`,
        tid('state-tree'),
        done,
      );
      if (!clicked.length) return;
      done.push(...clicked);
      await waitFor(
        () =>
          this.s.execute(
            `const t = document.querySelector(arguments[0]);
             return !t.querySelector('.loading') && arguments[1].every((p) => {
               const n = t.querySelector('[data-path="' + p.replace(/["\\\\]/g, '\\\\$&') + '"]');
               return !n || n.getAttribute('aria-expanded') === 'true';
             });`,
            tid('state-tree'),
            clicked,
          ),
        { message: 'expanded tree nodes to open and load' },
      );
    }
  }

  /** The context menu's item whose label matches `re`. */
  async menuItem(re) {
    return waitFor(
      async () => {
        const items = await this.s.findElements(`:is(${this.sel.menu}) ${this.sel.menuItem}`);
        for (const it of items) if (re.test(await it.text())) return it;
        return null;
      },
      { message: `a context menu item matching ${re}` },
    );
  }

  /** Seqs listed by the blame panel, in order. */
  blameSeqs() {
    return this.s.execute(
      `const panel = document.querySelector(arguments[0]);
       if (!panel) return [];
       return Array.from(panel.querySelectorAll('li')).map((li) => {
         const d = li.querySelector('[data-seq]');
         if (d) return Number(d.getAttribute('data-seq'));
         const s = li.querySelector('.seq');
         return Number((s ? s.textContent : li.textContent).replace(/^[^#\\d]*#?/, '').split(/\\s/)[0].replace(/[^\\d]/g, ''));
       });`,
      this.sel.blamePanel,
    );
  }

  /** Pins A at the current position with the toolbar's pin button, or unpins when pinned. */
  async pin() {
    const seq = await this.seq();
    const button = await this.s.waitForElement(this.sel.pinButton);
    const pinned = /\d/.test(await button.text());
    await button.click();
    await waitFor(
      async () => {
        const digits = (await button.text()).replace(/[^\d]/g, '');
        return pinned ? digits === '' : digits === String(seq);
      },
      { message: pinned ? 'the pin button to unpin' : `the pin button to say A = #${seq}` },
    );
  }

  // ---- bookmarks ---------------------------------------------------------

  /** The bookmarks panel's items: `{seq, note, tags, stale, current}` in the order shown. */
  bookmarkItems() {
    return this.s.execute(
      `return Array.from(document.querySelectorAll(arguments[0] + ' [data-testid="bookmark-item"]')).map((li) => ({
         seq: Number(li.getAttribute('data-seq')),
         note: (li.querySelector('[data-testid="bookmark-note-text"]') || li).textContent,
         tags: Array.from(li.querySelectorAll('.chip')).map((c) => c.textContent),
         stale: !!li.querySelector('[data-testid="bookmark-stale"]'),
         current: li.classList.contains('current'),
         text: li.innerText,
       }));`,
      '[data-testid="bookmarks-panel"]',
    );
  }

  /** Waits for the panel to list exactly these seqs, in this order. */
  async waitBookmarks(seqs, { message } = {}) {
    let last = [];
    try {
      return await waitFor(
        async () => {
          const items = await this.bookmarkItems();
          last = items.map((i) => i.seq);
          return JSON.stringify(last) === JSON.stringify(seqs) ? items : null;
        },
        { message: message ?? `the bookmarks panel to list ${seqs.map((s) => `#${s}`).join(', ') || 'nothing'}` },
      );
    } catch (e) {
      e.message += ` (it lists: ${last.map((s) => `#${s}`).join(', ') || 'nothing'})`;
      throw e;
    }
  }

  /** The count badge of the toolbar's bookmarks toggle. */
  async bookmarkCount() {
    const t = await this.s.execute(
      'const e = document.querySelector(arguments[0]); return e ? e.textContent : null;',
      '[data-testid="bookmarks-toggle"] [data-testid="bookmarks-count"]',
    );
    return t === null ? null : Number(String(t).replace(/[^\d]/g, ''));
  }

  /**
   * Bookmark ribbons drawn along the timeline's top strip: runs of pixels in
   * the bookmark colour (--mk-bookmark) on one row of the canvas.
   */
  timelineBookmarks() {
    return this.s.execute(
      `const c = document.querySelector(arguments[0] + ' canvas');
       if (!c || !c.width) return -1;
       const want = getComputedStyle(document.documentElement).getPropertyValue('--mk-bookmark').trim();
       const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(want);
       if (!m) return -2;
       const [r, g, b] = [1, 2, 3].map((i) => parseInt(m[i], 16));
       const dpr = c.width / c.getBoundingClientRect().width;
       const y = Math.round(3 * dpr);
       const row = c.getContext('2d').getImageData(0, y, c.width, 1).data;
       let runs = 0, inRun = false;
       for (let x = 0; x < c.width; x++) {
         const i = x * 4;
         const hit = Math.abs(row[i] - r) < 40 && Math.abs(row[i + 1] - g) < 40 && Math.abs(row[i + 2] - b) < 40 && row[i + 3] > 200;
         if (hit && !inRun) runs++;
         inRun = hit;
       }
       return runs;`,
      tid('timeline'),
    );
  }

  /** Calls the drag-and-drop hook with these paths (not awaiting the open). */
  openPaths(paths) {
    return this.s.execute(
      `window.__e2eOpen = { done: false, error: null };
       Promise.resolve(window.hindsight.openPaths(arguments[0])).then(
         () => { window.__e2eOpen.done = true; },
         (e) => { window.__e2eOpen.done = true; window.__e2eOpen.error = String(e); });
       return true;`,
      paths,
    );
  }
}
