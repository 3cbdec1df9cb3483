// The end-to-end scenarios (SPEC §6). Each runs in a fresh app session
// (see run.mjs); `args` are the files on the app's command line. Every
// assertion is about what the window shows.

import { Key, tid, waitFor } from './webdriver.mjs';
import { assert, squash } from './app.mjs';
import { XSS } from './fixtures.mjs';
import { appendFile, copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

const DEMO_EVENTS = 3502;

/** A number as the UI may print it: 3502, 3,502, 3 502, 3.502. */
const numberPattern = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '[,.\\s\\u00a0\\u202f]?');

const STATUS = '[data-testid="status-bar"], footer[aria-label="Status"]';

/** Waits for the status bar to say how many events the log has. */
async function statusSays(app, n) {
  const re = new RegExp(`(^|\\D)${numberPattern(n)}\\s+events\\b`, 'i');
  let last = '';
  try {
    return await waitFor(
      async () => {
        last = await app.s.execute('const e = document.querySelector(arguments[0]); return e ? e.innerText : "";', STATUS);
        return re.test(last) ? last : null;
      },
      { message: `the status bar to say "${n} events"` },
    );
  } catch (e) {
    e.message += ` (it says: ${JSON.stringify(squash(last))})`;
    throw e;
  }
}

/**
 * The text of the diff entry for `path`: from the element that holds just
 * the path, up to the first ancestor that also holds a value.
 */
async function diffEntry(app, path) {
  return app.s.execute(
    `const view = document.querySelector(arguments[0]);
     const path = arguments[1];
     if (!view) return null;
     const squash = (t) => t.replace(/\\s+/g, ' ').trim();
     const leaf = Array.from(view.querySelectorAll('*')).find((e) => squash(e.textContent) === path);
     for (let e = leaf; e && e !== view; e = e.parentElement) {
       const t = squash(e.innerText);
       if (/\\d/.test(t.replace(path, ''))) return t;
     }
     return null;`,
    tid('diff-view'),
    path,
  );
}

/** The window's inner size, and whether the page or a panel overflows sideways. */
function layoutReport(app) {
  return app.s.execute(
    `const panel = document.querySelector('[data-testid="bookmarks-panel"]');
     const r = panel ? panel.getBoundingClientRect() : null;
     const body = panel ? panel.querySelector('.pane-body') : null;
     const tb = document.querySelector('header.toolbar');
     return {
       w: window.innerWidth, h: window.innerHeight,
       pageOverflow: document.documentElement.scrollWidth > window.innerWidth + 1 || document.documentElement.scrollHeight > window.innerHeight + 1,
       panel: r && { left: r.left, right: r.right, top: r.top, bottom: r.bottom, w: r.width, h: r.height },
       panelOverflowX: body ? body.scrollWidth > body.clientWidth + 1 : false,
       toolbarH: tb ? tb.getBoundingClientRect().height : 0,
       dark: matchMedia('(prefers-color-scheme: dark)').matches,
     };`,
  );
}

/** Resizes the window and waits for the page to take the size. */
async function resizeTo(app, width, height) {
  await app.s.setWindowRect({ width, height }).catch(() => {});
  return waitFor(
    async () => {
      const r = await layoutReport(app);
      return Math.abs(r.w - width) <= 16 && Math.abs(r.h - height) <= 40 ? r : null;
    },
    { timeout: 8000, message: `the window to become ${width}×${height}` },
  );
}

/** Layout checks for the bookmarks panel at the current size. */
async function checkLayout(app, where) {
  const r = await layoutReport(app);
  app.ctx.log(`${where}: ${r.w}×${r.h}${r.dark ? ' dark' : ''}, toolbar ${Math.round(r.toolbarH)} px, panel ${r.panel ? `${Math.round(r.panel.w)}×${Math.round(r.panel.h)}` : 'hidden'}`);
  assert(!r.pageOverflow, `${where}: the page overflows the window (${r.w}×${r.h})`);
  if (r.panel) {
    assert(r.panel.left >= 0 && r.panel.right <= r.w + 1 && r.panel.bottom <= r.h + 1, `${where}: the bookmarks panel sticks out of the window: ${JSON.stringify(r.panel)}`);
    assert(r.panel.w >= 240 && r.panel.h >= 100, `${where}: the bookmarks panel is too small to use: ${JSON.stringify(r.panel)}`);
    assert(!r.panelOverflowX, `${where}: the bookmarks panel scrolls sideways (a long note or tag widens it)`);
  }
  assert(r.toolbarH < 50, `${where}: the toolbar wraps onto a second row (${Math.round(r.toolbarH)} px high)`);
  return r;
}

/**
 * Every event the window's list has for the open file (no filter), asked
 * page by page the way the list asks: `{seq, type, key}`.
 */
function listAll(app) {
  return app.s.evalAsync(
    `const none = { type: null, key: null, level: null, text: null, since: null, until: null };
     const out = [];
     for (let offset = 0; ; offset += 1000) {
       const page = await window.__TAURI_INTERNALS__.invoke('list', { filter: none, offset, limit: 1000 });
       for (const r of page.rows) out.push([r.seq, r.type, r.key]);
       if (offset + 1000 >= page.total) return { total: page.total, rows: out };
     }`,
  ).then(({ total, rows }) => ({ total, rows: rows.map(([seq, type, key]) => ({ seq, type, key })) }));
}

/** What a fresh index of JSON Lines text lists: one event per non-empty line, in order. */
function expectedRows(text) {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const e = JSON.parse(l);
      return { seq: i + 1, type: e.type ?? null, key: e.streamId ?? null };
    });
}

/** Waits until the window lists exactly the events a fresh index of `file` gives (none lost, none twice). */
async function listMatchesFile(app, file, what) {
  const want = expectedRows(await readFile(file, 'utf8'));
  let got = null;
  try {
    await waitFor(
      async () => {
        got = await listAll(app);
        return got.total === want.length && JSON.stringify(got.rows) === JSON.stringify(want);
      },
      { message: `${what}: the event list to equal a fresh index of the file (${want.length} events)` },
    );
  } catch (e) {
    const rows = got?.rows ?? [];
    const diff = rows.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(want[i]));
    e.message += ` (it lists ${got?.total ?? '?'} events; first difference at row ${diff}: ${JSON.stringify(rows[diff])} vs ${JSON.stringify(want[diff])})`;
    throw e;
  }
  return want;
}

/**
 * Runs of pixels in the watch colour (--mk-watch) along the row of the
 * diamonds at the foot of the timeline's bars.
 */
function timelineWatchRuns(app) {
  return app.s.execute(
    `const c = document.querySelector(arguments[0] + ' canvas');
     if (!c || !c.width) return -1;
     const want = getComputedStyle(document.documentElement).getPropertyValue('--mk-watch').trim();
     const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(want);
     if (!m) return -2;
     const [r, g, b] = [1, 2, 3].map((i) => parseInt(m[i], 16));
     const dpr = c.width / c.getBoundingClientRect().width;
     const y = Math.round((c.getBoundingClientRect().height - 4.5) * dpr);
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

/** The entity panel's steps as shown: `{seq, change, here, text}`. */
function entitySteps(app) {
  return app.s.execute(
    `return Array.from(document.querySelectorAll(arguments[0])).map((li) => ({
       seq: Number(li.getAttribute('data-seq')),
       change: li.getAttribute('data-change'),
       here: li.classList.contains('here'),
       text: li.innerText.replace(/\\s+/g, ' ').trim(),
     }));`,
    `${tid('entity-panel')} ${tid('entity-step')}`,
  );
}

/** Waits for the entity panel to list these seqs with these changes. */
async function waitEntitySteps(app, want, what) {
  let last = [];
  try {
    return await waitFor(
      async () => {
        last = await entitySteps(app);
        const got = last.map((s) => [s.seq, s.change]);
        return JSON.stringify(got) === JSON.stringify(want) ? last : null;
      },
      { message: `the entity panel to list ${what}` },
    );
  } catch (e) {
    e.message += ` (it lists ${JSON.stringify(last.map((s) => [s.seq, s.change]))})`;
    throw e;
  }
}

/** Layout checks for the entity panel: inside the window, usable, nothing clipped sideways. */
async function checkEntityLayout(app, where) {
  const r = await app.s.execute(
    `const p = document.querySelector(arguments[0]);
     if (!p) return null;
     const b = p.getBoundingClientRect();
     const list = p.querySelector('ol');
     const steps = Array.from(p.querySelectorAll(arguments[1]));
     const clipped = steps.filter((s) => { const m = s.querySelector('.main'); return m && m.scrollWidth > m.clientWidth + 1; }).length;
     const tl = document.querySelector(arguments[2]).getBoundingClientRect();
     const sb = document.querySelector('[data-testid="status-bar"], footer[aria-label="Status"]');
     return {
       w: window.innerWidth, h: window.innerHeight,
       panel: { left: b.left, right: b.right, top: b.top, bottom: b.bottom, w: b.width, h: b.height },
       listH: list ? list.clientHeight : 0,
       listOverflowX: list ? list.scrollWidth > list.clientWidth + 1 : false,
       clipped,
       timelineBottom: tl.bottom,
       statusTop: sb ? sb.getBoundingClientRect().top : window.innerHeight,
       pageOverflow: document.documentElement.scrollWidth > window.innerWidth + 1 || document.documentElement.scrollHeight > window.innerHeight + 1,
     };`,
    tid('entity-panel'),
    tid('entity-step'),
    tid('timeline'),
  );
  assert(r, `${where}: no entity panel`);
  app.ctx.log(`${where}: ${r.w}×${r.h}, entity panel ${Math.round(r.panel.w)}×${Math.round(r.panel.h)}, its list ${r.listH} px high`);
  assert(!r.pageOverflow, `${where}: the page overflows the window`);
  assert(r.panel.left >= 0 && r.panel.right <= r.w + 1 && r.panel.bottom <= r.h + 1, `${where}: the entity panel sticks out of the window: ${JSON.stringify(r.panel)}`);
  assert(r.panel.top >= r.timelineBottom - 1, `${where}: the entity panel covers the timeline (${Math.round(r.panel.top)} < ${Math.round(r.timelineBottom)})`);
  assert(r.panel.bottom <= r.statusTop + 1, `${where}: the entity panel covers the status bar`);
  assert(r.panel.w >= 300 && r.listH >= 150, `${where}: the entity panel is too small to use: ${JSON.stringify(r)}`);
  assert(!r.listOverflowX && r.clipped === 0, `${where}: the entity panel's steps are clipped sideways (${r.clipped})`);
}

/** Whether the element with this test id has focus. */
const focused = (app, name) => app.s.execute('return document.activeElement === document.querySelector(arguments[0])', tid(name));

export const scenarios = [
  {
    name: 'open_cli',
    args: (ctx) => [ctx.demoPath],
    async run(app) {
      await app.waitLoaded();
      assert(!(await app.visible('drop-zone')), 'the drop zone is still shown after opening a file from the command line');
      const rows = await app.rows();
      assert(rows.length >= 5, `the event list shows only ${rows.length} rows`);
      assert(rows.every((r) => Number.isInteger(r.seq) && r.seq >= 1 && r.seq <= DEMO_EVENTS), `rows carry bad data-seq values: ${rows.map((r) => r.seq).join(',')}`);
      assert(await app.visible('position'), 'no position readout');
      const seq = await app.seq();
      assert(seq !== null && seq >= 0 && seq <= DEMO_EVENTS, `the position readout shows no seq (${await app.positionText()})`);
      const status = await statusSays(app, DEMO_EVENTS);
      app.ctx.log(`status bar: ${squash(status)}`);
      // Each row shows its own event: the type the log has at that seq.
      for (const r of rows) {
        const type = app.ctx.demo.bySeq(r.seq).type;
        assert(r.text.includes(type), `row #${r.seq} does not show its type ${type}: ${squash(r.text)}`);
      }
    },
  },

  {
    name: 'open_drop_path',
    args: [],
    async run(app, ctx) {
      await app.s.waitForElement(tid('drop-zone'));
      assert((await app.rows()).length === 0, 'event rows are shown before any file was opened');
      await app.openPaths([ctx.demoPath]);
      await app.waitLoaded();
      assert(!(await app.visible('drop-zone')), 'the drop zone is still shown after openPaths');
      const rows = await app.rows();
      assert(rows.length >= 5, `only ${rows.length} rows after openPaths`);
      await statusSays(app, DEMO_EVENTS);
      const err = await app.visible('error-banner');
      assert(!err, `an error banner is shown: ${await app.text('error-banner')}`);
    },
  },

  {
    name: 'scrub',
    args: (ctx) => [ctx.demoPath],
    async run(app) {
      await app.waitLoaded();
      const before = await app.settledSeq();
      await waitFor(async () => (await app.text('state-tree')).trim().length > 0, { message: 'the state tree to show content' });
      const treeBefore = await app.text('state-tree');
      const geo = await app.s.execute(
        `const r = (sel) => { const e = document.querySelector(sel); if (!e) return null; const b = e.getBoundingClientRect(); return { x: b.left, y: b.top, w: b.width, h: b.height }; };
         return { timeline: r(arguments[0]), scrubber: r(arguments[1]) };`,
        tid('timeline'),
        tid('scrubber'),
      );
      assert(geo.timeline && geo.timeline.w > 100, `the timeline is missing or too narrow: ${JSON.stringify(geo.timeline)}`);
      assert(geo.scrubber, 'no scrubber element');
      // Press on the handle's centre; drag to the far side of the timeline.
      const sx = geo.scrubber.x + geo.scrubber.w / 2;
      const sy = geo.scrubber.y + geo.scrubber.h / 2;
      const tl = geo.timeline;
      const towardsRight = sx < tl.x + tl.w / 2;
      const tx = towardsRight ? tl.x + tl.w * 0.7 : tl.x + tl.w * 0.3;
      app.ctx.log(`scrubber ${JSON.stringify(geo.scrubber)} in timeline ${JSON.stringify(tl)}; dragging ${Math.round(sx)} → ${Math.round(tx)} at y=${Math.round(sy)}`);
      const steps = 12;
      const acts = [
        { type: 'pointerMove', duration: 0, origin: 'viewport', x: Math.round(sx), y: Math.round(sy) },
        { type: 'pointerDown', button: 0 },
      ];
      for (let i = 1; i <= steps; i++) {
        acts.push({ type: 'pointerMove', duration: 20, origin: 'viewport', x: Math.round(sx + ((tx - sx) * i) / steps), y: Math.round(sy) });
      }
      acts.push({ type: 'pointerUp', button: 0 });
      await app.s.pointer(acts);
      await app.s.releaseActions().catch(() => {});
      const after = await app.waitSeq((s) => s !== before, { message: `the position to move from #${before} by dragging` });
      const settled = await app.settledSeq();
      app.ctx.log(`position #${before} → #${settled}`);
      assert(towardsRight ? settled > before : settled < before, `dragging ${towardsRight ? 'right' : 'left'} moved the position the wrong way: #${before} → #${after}`);
      // Roughly where the pointer was released (the axis may be time, not seq).
      assert(settled > 50 && settled < DEMO_EVENTS - 50, `the drag landed at the edge (#${settled}), not mid-timeline`);
      await waitFor(async () => (await app.text('state-tree')) !== treeBefore, { message: 'the state tree to change after scrubbing' });
    },
  },

  {
    name: 'keyboard',
    args: (ctx) => [ctx.demoPath],
    async run(app) {
      await app.waitLoaded();
      await app.focusWindow();
      await app.keys(Key.End);
      await app.waitSeq(DEMO_EVENTS, { message: `End to go to the last event #${DEMO_EVENTS}` });
      await app.keys(Key.ArrowLeft);
      await app.waitSeq(DEMO_EVENTS - 1, { message: '← to step back one event' });
      await app.keys(Key.ArrowLeft, [Key.Shift]);
      await app.waitSeq(DEMO_EVENTS - 101, { message: 'Shift+← to jump back 100 events' });
      await app.keys(Key.ArrowRight);
      await app.waitSeq(DEMO_EVENTS - 100, { message: '→ to step forward one event' });
      await app.keys(Key.ArrowRight, [Key.Shift]);
      await app.waitSeq(DEMO_EVENTS, { message: 'Shift+→ to jump forward (clamped at the end)' });
      await app.keys(Key.Home);
      const start = await app.waitSeq((s) => s === 0 || s === 1, { message: 'Home to go to the start (#0 or #1)' });
      // The start is the minimum: stepping back does not go below it.
      await app.keys(Key.ArrowLeft);
      await app.keys(Key.ArrowLeft, [Key.Shift]);
      const after = await app.settledSeq();
      assert(after === start, `← at the start moved the position from #${start} to #${after}`);
      const row = (await app.rows()).find((r) => r.seq === Math.max(start, 1));
      assert(row, `the list does not show row #${Math.max(start, 1)} at the start`);
      // Space plays (10 events/s by default) and pauses.
      await app.keys(Key.Space);
      await app.waitSeq((q) => q > start + 1, { message: 'Space to start playback' });
      await app.keys(Key.Space);
      const paused = await app.settledSeq({ quietMs: 600 });
      await new Promise((r) => setTimeout(r, 400));
      assert((await app.seq()) === paused, 'Space did not pause playback');
      // `/` focuses the filter; Esc leaves it.
      await app.typeText('/');
      await waitFor(() => app.s.execute('return document.activeElement === document.querySelector(arguments[0])', tid('filter-input')), {
        message: '`/` to focus the filter input',
      });
      await app.keys(Key.Escape);
      // `?` shows the help overlay listing the keys; Esc closes it.
      await app.typeText('?');
      const help = await waitFor(
        async () => {
          const t = await app.bodyText();
          return /Keyboard shortcuts/i.test(t) && /Jump 100 events/i.test(t) ? t : null;
        },
        { message: '`?` to open the keyboard help' },
      );
      assert(/Shift\+←/.test(help) && /Home/.test(help) && /Space/.test(help), 'the help overlay does not list Shift+←, Home and Space');
      await app.ctx.shot('help');
      await app.keys(Key.Escape);
      await waitFor(async () => !/Keyboard shortcuts/i.test(await app.bodyText()), { message: 'Esc to close the help overlay' });
    },
  },

  {
    name: 'state_and_diff',
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      // A user's way there: filter the refunds, click the row of #2740.
      await app.typeFilter('RefundIssued');
      const row = await waitFor(
        async () => {
          const el = await app.s.maybeElement(`${tid('event-row')}[data-seq="2740"]`);
          return el && (await el.displayed()) ? el : null;
        },
        { message: 'row #2740 in the filtered list' },
      );
      await row.click();
      await app.waitSeq(2740, { message: 'clicking row #2740 to move the position' });
      const entry = await waitFor(() => diffEntry(app, '/order-1137/total'), { message: 'the diff view to list /order-1137/total' });
      ctx.log(`diff entry: ${entry}`);
      const m = /\/order-1137\/total\b(.*)$/.exec(entry);
      assert(m, `no /order-1137/total entry in ${entry}`);
      assert(/(^|[^\d.])0(\.0+)?\b[^\d]*-338\.96\b/.test(m[1]), `the diff entry does not read 0 → -338.96: "${entry}"`);
      assert(!/328\.97/.test(m[1]), `the diff is not against the previous event: "${entry}"`);
      const diffText = squash(await app.text('diff-view'));
      assert(diffText.includes('/order-1137/refunded'), `the diff view lacks the other change of #2740 (/order-1137/refunded): ${diffText}`);
      // The state tree marks the changed paths: order-1137 and, inside it, total and refunded.
      await app.expandTreePath(['order-1137']);
      const hl = await waitFor(
        async () => {
          const h = await app.changedTreeKeys();
          return h.includes('/order-1137/total') ? h : null;
        },
        { message: 'the state tree to highlight /order-1137/total' },
      );
      ctx.log(`highlighted in the tree: ${hl.join(', ')}`);
      const allowed = new Set(['/order-1137', '/order-1137/total', '/order-1137/refunded']);
      assert(hl.includes('/order-1137'), `order-1137 itself is not highlighted (highlighted: ${hl.join(', ')})`);
      assert(hl.every((p) => allowed.has(p)), `paths #2740 did not change are highlighted: ${hl.filter((p) => !allowed.has(p)).join(', ')}`);
      const total = await app.s.execute('const n = document.querySelector(arguments[0]); return n ? n.innerText : null;', app.sel.treeNode('/order-1137/total'));
      assert(total && total.includes('-338.96'), `the tree shows total as ${JSON.stringify(total)}, not -338.96`);
    },
  },

  {
    name: 'filter',
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      const refunds = new Set(ctx.demo.seqsOfType('RefundIssued'));
      await app.typeFilter('RefundIssued');
      const rows = await waitFor(
        async () => {
          const r = await app.rows();
          return r.length > 0 && r.every((x) => refunds.has(x.seq)) ? r : null;
        },
        { message: 'only RefundIssued rows to be listed' },
      );
      assert(rows.every((r) => r.text.includes('RefundIssued')), `a filtered row does not show RefundIssued: ${rows.map((r) => squash(r.text)).find((t) => !t.includes('RefundIssued'))}`);
      ctx.log(`${rows.length} rows rendered, all RefundIssued (${refunds.size} in the log)`);
      const ordered = rows.map((r) => r.seq);
      assert(ordered.every((s, i) => i === 0 || s > ordered[i - 1]), `filtered rows are not in seq order: ${ordered.join(',')}`);
      assert(ordered[0] === Math.min(...refunds), `the first filtered row is #${ordered[0]}, not the first refund #${Math.min(...refunds)}`);
      const head = squash(await app.s.execute('const l = document.querySelector(arguments[0]); const p = l && l.closest("section"); return p ? p.innerText.slice(0, 80) : "";', tid('event-list')));
      assert(new RegExp(`\\b${refunds.size} of ${numberPattern(DEMO_EVENTS)}\\b`).test(head), `the list does not count ${refunds.size} of ${DEMO_EVENTS}: ${head}`);
      // The list is virtualised: scroll to its end, where the last refunds are.
      await app.s.execute('const l = document.querySelector(arguments[0]); l.scrollTop = l.scrollHeight;', tid('event-list'));
      const tail = await waitFor(
        async () => {
          const r = await app.rows();
          return r.some((x) => x.seq === Math.max(...refunds)) ? r : null;
        },
        { message: `the last refund #${Math.max(...refunds)} at the end of the filtered list` },
      );
      assert(tail.every((x) => refunds.has(x.seq)), `rows at the end of the filtered list are not all RefundIssued: ${tail.map((x) => x.seq).join(',')}`);
      const seen = new Set([...ordered, ...tail.map((x) => x.seq)]);
      ctx.log(`seen ${seen.size} of ${refunds.size} refunds while scrolling`);
      await ctx.shot('applied');
      // Clearing the filter brings every event back.
      await app.typeFilter('');
      await waitFor(
        async () => {
          const r = await app.rows();
          return r.some((x) => !refunds.has(x.seq));
        },
        { message: 'other events to come back after clearing the filter' },
      );
      const value = await app.s.execute('return document.querySelector(arguments[0]).value', tid('filter-input'));
      assert(value === '', `the filter input still holds "${value}"`);
    },
  },

  {
    name: 'blame',
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      // Go to the end so order-1137 exists with its final total.
      await app.focusWindow();
      await app.keys(Key.End);
      await app.waitSeq(DEMO_EVENTS);
      await app.expandTreePath(['order-1137']);
      const node = await app.treeNode(['order-1137', 'total']);
      await app.s.contextClick(node);
      const item = await app.menuItem(/History|blame/i);
      await item.click();
      const panel = await app.s.waitForElement(app.sel.blamePanel);
      const seqs = await waitFor(
        async () => {
          const found = await app.blameSeqs();
          return found.length >= 4 ? found : null;
        },
        { message: 'the blame panel to list the changes of /order-1137/total' },
      );
      ctx.log(`blame lists ${seqs.join(', ')}`);
      assert(JSON.stringify(seqs) === JSON.stringify([1452, 1461, 2719, 2740]), `blame of /order-1137/total lists ${seqs.join(', ')}; expected 1452, 1461, 2719, 2740`);
      const text = squash(await panel.text());
      assert(text.includes('/order-1137/total'), `the blame panel does not name the path /order-1137/total: ${text}`);
      // Each change with its old → new value (the first has no old value).
      const changes = [
        [1452, null, '328.97'],
        [1461, '328.97', '338.96'],
        [2719, '338.96', '0'],
        [2740, '0', '-338.96'],
      ];
      const items = await app.s.execute('return Array.from(document.querySelector(arguments[0]).querySelectorAll("li")).map((li) => li.innerText.replace(/\\s+/g, " "))', app.sel.blamePanel);
      changes.forEach(([seq, from, to], i) => {
        const row = items[i] || '';
        const re = from === null ? new RegExp(`(^|[^\\d.-])${to.replace('.', '\\.')}\\b`) : new RegExp(`(^|[^\\d.-])${from.replace('.', '\\.')}\\b\\D*${to.replace(/[.-]/g, '\\$&')}\\b`);
        assert(re.test(row.replace(/^#?[\d,]+/, '')), `blame row #${seq} does not read ${from ?? '(absent)'} → ${to}: ${row}`);
      });
      // Clicking a change goes there.
      const rowButton = await app.s.findElement(`:is(${app.sel.blamePanel}) li:nth-child(2) button`);
      await rowButton.click();
      await app.waitSeq(1461, { message: 'clicking blame row #1461 to move the position' });
      await ctx.shot('history');
      // Right-click → "Jump to next change" goes to the next change of total: #2719.
      await (await app.s.findElement(`:is(${app.sel.blamePanel}) button[aria-label="Close"]`)).click();
      await app.s.waitForGone(app.sel.blamePanel);
      const again = await app.treeNode(['order-1137', 'total']);
      await app.s.contextClick(again);
      await (await app.menuItem(/next change/i)).click();
      await app.waitSeq(2719, { message: '"Jump to next change" of /order-1137/total from #1461 to reach #2719' });
    },
  },

  {
    name: 'pin_diff',
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      // A = #2700 (order-1137 delivered, total 338.96); B = #2740 (refund: total -338.96).
      // Between them: #2712 refunds order-1028, #2719 refunds order-1137 (status, total 0).
      await app.keyTo(2700, DEMO_EVENTS);
      await app.pin();
      await app.focusWindow();
      await app.repeat(Key.ArrowRight, 40);
      await app.waitSeq(2740);
      const entry = await waitFor(
        async () => {
          const e = await diffEntry(app, '/order-1137/total');
          return e && /338\.96\b[^\d]*-338\.96/.test(e) ? e : null;
        },
        { message: 'the diff against pin A (#2700) to show /order-1137/total 338.96 → -338.96' },
      );
      ctx.log(`diff entry: ${entry}`);
      const diffText = squash(await app.text('diff-view'));
      // Changes made by events between A and B, not only by B itself.
      for (const p of ['/order-1137/status', '/order-1028/total', '/order-1249', '/cart-362']) {
        assert(diffText.includes(p), `the diff A→B lacks ${p}, changed between #2700 and #2740: ${diffText.slice(0, 300)}…`);
      }
      const status = await diffEntry(app, '/order-1137/status');
      assert(status && /delivered.*refunded/.test(status), `/order-1137/status does not read "delivered" → "refunded": ${status}`);
      const pane = squash(await app.s.execute('const v = document.querySelector(arguments[0]); const p = v && v.closest("section"); return p ? p.innerText : "";', tid('diff-view')));
      ctx.log(`diff pane head: ${pane.slice(0, 60)}`);
      assert(/2,?700/.test(pane) && /2,?740/.test(pane), `the diff pane does not say it compares A #2700 with #2740: ${pane.slice(0, 120)}`);
      assert(/\b46 changes\b/.test(pane), `the diff pane does not count 46 changes from #2700 to #2740: ${pane.slice(0, 120)}`);
      await ctx.shot('pinned');
      // Unpinned, the diff is against the previous event again.
      await app.pin();
      const prev = await waitFor(
        async () => {
          const e = await diffEntry(app, '/order-1137/total');
          return e && !/338\.96\b[^\d]*-338\.96/.test(e) ? e : null;
        },
        { message: 'the diff to go back to the previous event after unpinning' },
      );
      assert(/(^|[^\d.])0(\.0+)?\b[^\d]*-338\.96\b/.test(prev), `after unpinning, /order-1137/total does not read 0 → -338.96: ${prev}`);
    },
  },

  {
    name: 'bad_file',
    args: [],
    async run(app, ctx) {
      await app.s.waitForElement(tid('drop-zone'));
      for (const file of [ctx.fixtures.binary, ctx.fixtures.empty]) {
        const name = file.split('/').pop();
        await app.openPaths([file]);
        const text = await waitFor(
          async () => {
            if (!(await app.visible('error-banner'))) return null;
            const t = await app.text('error-banner');
            return t.includes(name) ? t : null;
          },
          { message: `an error banner naming ${name}` },
        );
        ctx.log(`banner for ${name}: ${squash(text)}`);
        assert(/[A-Za-z]{3,}.*[A-Za-z]{3,}/.test(text), `the banner is not a sentence: ${text}`);
        assert(!/panicked|stack backtrace|RUST_BACKTRACE|\bat [\w$.<>]+ \(|^\s*at\s|\n\s+at\s|Error: .*\n\s+at|webpack|\.rs:\d+|\.js:\d+/im.test(text), `the banner shows stack trace text: ${text}`);
        assert(text.length < 600, `the banner is too long for a sentence (${text.length} chars)`);
        assert(!/undefined|null|\[object Object\]/.test(text), `the banner shows a programming placeholder: ${text}`);
        if (file === ctx.fixtures.binary) await ctx.shot('binary');
      }
      assert(await app.visible('drop-zone'), 'the drop zone is gone after failed opens');
      assert((await app.rows()).length === 0, 'event rows appeared for a bad file');
      // With a log open, a bad file leaves it open and usable.
      await app.openPaths([ctx.demoPath]);
      await app.waitLoaded();
      assert(!(await app.visible('error-banner')), 'the error banner stays after a good file opened');
      await app.openPaths([ctx.fixtures.binary]);
      await waitFor(async () => (await app.visible('error-banner')) && (await app.text('error-banner')).includes('not-a-log.bin'), {
        message: 'an error banner for the bad file over the open log',
      });
      assert((await app.rows()).length > 0 && !(await app.visible('drop-zone')), 'the open log was dropped after a bad file');
      await app.focusWindow();
      await app.keys(Key.End);
      await app.waitSeq(DEMO_EVENTS, { message: 'the window to stay usable (End) after a failed open' });
    },
  },

  {
    name: 'xss',
    args: (ctx) => [ctx.fixtures.xss],
    async run(app, ctx) {
      await app.waitLoaded();
      // Visit every event so the detail, diff and tree render each one.
      await app.focusWindow();
      await app.keys(Key.Home);
      const start = await app.waitSeq((s) => s <= 1);
      for (let seq = Math.max(start, 1); seq <= 4; seq++) {
        if (seq > Math.max(start, 1) || start === 0) await app.keys(Key.ArrowRight);
        await app.waitSeq(seq);
        await waitFor(async () => (await app.text('event-detail')).includes('<'), { message: `the detail of #${seq} to render` });
      }
      // Expand every node of the state tree (keys hold markup too).
      await app.expandAll();
      // The history (blame) of a member whose key is markup lists events whose types are markup.
      const node = await app.s.findElement(`${tid('state-tree')} .node[data-path]`);
      await app.s.contextClick(node);
      await (await app.menuItem(/History|blame/i)).click();
      await waitFor(async () => (await app.blameSeqs()).length > 0, { message: 'the blame panel to list changes' });
      const blameText = await app.s.execute('const p = document.querySelector(arguments[0]); return p ? p.innerText : "";', app.sel.blamePanel);
      assert(/<(script|img|a)\b/.test(blameText), `the blame panel does not show the markup as text: ${squash(blameText).slice(0, 200)}`);
      await ctx.shot('blame');
      const report = await app.s.execute(
        `const own = Array.from(document.scripts).filter((s) => !s.src).length;
         return {
           pwned: typeof window.__pwned,
           text: document.body.innerText,
           inlineScripts: own,
           imgX: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
           onerror: document.querySelectorAll('[onerror]').length,
           jsLinks: Array.from(document.querySelectorAll('a[href]')).filter((a) => /^\\s*javascript:/i.test(a.getAttribute('href'))).length,
           bold: Array.from(document.querySelectorAll('b')).filter((b) => b.textContent === 'bold').length,
         };`,
      );
      ctx.log(`pwned=${report.pwned} inlineScripts=${report.inlineScripts} img[src=x]=${report.imgX} [onerror]=${report.onerror} javascript:links=${report.jsLinks}`);
      assert(report.pwned === 'undefined', 'window.__pwned was set: log markup ran as script');
      assert(report.imgX === 0, `an <img src=x> from the log was put into the page (${report.imgX})`);
      assert(report.onerror === 0, 'an element with an onerror attribute from the log is in the page');
      assert(report.jsLinks === 0, 'a javascript: link from the log is in the page');
      assert(report.inlineScripts === 0, 'an inline <script> element is in the page');
      assert(report.bold === 0, 'log markup <b>bold</b> was rendered as an element');
      const text = report.text;
      for (const [where, needle] of [
        ['<script>', '<script>'],
        ['the img markup', '<img src=x onerror='],
        ['the javascript: text', XSS.link],
      ]) {
        assert(text.includes(needle), `the page does not show ${where} as text (${JSON.stringify(needle)})`);
      }
      for (const name of ['event-list', 'event-detail', 'state-tree', 'diff-view']) {
        const t = await app.text(name);
        assert(t.includes('<script>') || t.includes('<img') || t.includes('javascript:'), `${name} does not show the log's markup as text: ${squash(t).slice(0, 200)}`);
      }
      // Close the history so the final screenshot shows every pane.
      await (await app.s.findElement(`:is(${app.sel.blamePanel}) button[aria-label="Close"]`)).click();
      await app.s.waitForGone(app.sel.blamePanel);
      assert((await app.s.execute('return typeof window.__pwned')) === 'undefined', 'window.__pwned was set');
    },
  },
  {
    // SPEC §6 Bookmarks: add with `b`, list, move between them, survive a
    // restart, remove; notes are text. Its own cache dir: bookmarks are kept
    // beside the index and must not show up in other scenarios.
    name: 'bookmarks',
    ownCache: true,
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      await resizeTo(app, 1280, 800).catch((e) => ctx.log(`(resize: ${e.message})`));
      await app.s.execute('window.__alerts = 0; window.alert = () => { window.__alerts++; };');
      assert(!(await app.visible('bookmarks-panel')), 'the bookmarks panel shows before any bookmark');
      assert((await app.bookmarkCount()) === 0, `the bookmarks toggle counts ${await app.bookmarkCount()} on a fresh cache`);
      const exportButton = await app.s.waitForElement(tid('export-report'));
      assert(await exportButton.property('disabled') === false, 'the Export report button is disabled with a log open');

      // 1. `b` on #2740 opens the form with the focus in the note.
      await app.keyTo(2740, DEMO_EVENTS);
      await app.typeText('b');
      await app.s.waitForElement(tid('bookmark-form'));
      await waitFor(() => focused(app, 'bookmark-note'), { message: 'the focus to go to the note' });
      assert(await app.visible('bookmarks-panel'), 'the form opened without the bookmarks panel');
      // Shortcut keys are text in the note: Space (play), n (step), p (pin), b, [ ] , . / ? go into it.
      const ascii = 'Paid, then refunded twice by the bot [n/p?] <img src=x onerror=alert(1)> ';
      await app.typeText(ascii);
      const noteEl = await app.s.findElement(tid('bookmark-note'));
      await noteEl.sendKeys('환불');
      const note1 = `${ascii}환불`;
      const typed = await noteEl.property('value');
      assert(typed === note1, `the note holds ${JSON.stringify(typed)}, not what was typed ${JSON.stringify(note1)}`);
      assert((await app.seq()) === 2740, `typing in the note moved the position to #${await app.seq()}`);
      assert(!/\d/.test(await (await app.s.findElement(app.sel.pinButton)).text()), 'typing p in the note pinned A');
      assert(!/Keyboard shortcuts/i.test(await app.bodyText()), 'typing ? in the note opened the help');
      const tags = await app.s.findElement(tid('bookmark-tags'));
      await tags.sendKeys('refund, bug,  refund');
      await ctx.shot('form');
      await (await app.s.findElement(tid('bookmark-save'))).click();
      const first = await app.waitBookmarks([2740]);
      await app.s.waitForGone(tid('bookmark-form'));
      ctx.log(`listed: ${squash(first[0].text)}`);
      assert(first[0].note.includes('<img src=x onerror=alert(1)>') && first[0].note.includes('환불'), `the note does not show as literal text: ${JSON.stringify(first[0].note)}`);
      assert(JSON.stringify(first[0].tags) === JSON.stringify(['refund', 'bug']), `the tags show as ${JSON.stringify(first[0].tags)}, not ["refund","bug"]`);
      assert(first[0].current, 'the bookmark of the current event is not highlighted');
      const dom = await app.s.execute(
        `return { img: document.querySelectorAll('img[src="x"], img[src$="/x"]').length, onerror: document.querySelectorAll('[onerror]').length, alerts: window.__alerts };`,
      );
      assert(dom.img === 0 && dom.onerror === 0 && dom.alerts === 0, `the note's markup became an element or ran: ${JSON.stringify(dom)}`);
      assert((await app.bookmarkCount()) === 1, `the toggle counts ${await app.bookmarkCount()} bookmarks, not 1`);
      const notice = await waitFor(async () => ((await app.visible('notice')) ? app.text('notice') : null), { message: 'a notice that the bookmark was saved' });
      ctx.log(`notice: ${notice}`);
      await waitFor(async () => (await app.timelineBookmarks()) === 1, { message: 'one bookmark ribbon on the timeline' });

      // 2. A second bookmark from the toolbar button, a long note in several
      //    scripts over two lines, a long tag; saved with Ctrl+Enter.
      await app.focusWindow();
      await app.keys(Key.Home);
      await app.waitSeq(1);
      await app.repeat(Key.ArrowRight, 4);
      await app.waitSeq(5);
      await (await app.s.findElement(tid('bookmark-add'))).click();
      await waitFor(() => focused(app, 'bookmark-note'), { message: 'the focus to go to the note (toolbar button)' });
      const line1 = '주문 취소가 두 번 처리됨 — 注文が二重 — 订单取消两次 — בדיקה מימין לשמאל — and a first line long enough to be cut at the edge of the panel';
      const note2 = await app.s.findElement(tid('bookmark-note'));
      await note2.sendKeys(line1);
      await app.keys(Key.Enter);
      await note2.sendKeys('second line');
      await (await app.s.findElement(tid('bookmark-tags'))).sendKeys('한국어, a-very-long-tag-name-that-must-not-widen-the-bookmarks-panel-whatever-happens');
      await note2.click();
      await app.keys(Key.Enter, [Key.Control]);
      const both = await app.waitBookmarks([5, 2740], { message: 'both bookmarks in event order after Ctrl+Enter' });
      assert(both[0].note.startsWith(line1) && !both[0].note.includes('second line'), `the list does not show the note's first line: ${JSON.stringify(both[0].note)}`);
      assert((await app.bookmarkCount()) === 2, `the toggle counts ${await app.bookmarkCount()}, not 2`);
      await waitFor(async () => (await app.timelineBookmarks()) === 2, { message: 'two bookmark ribbons on the timeline' });

      // 3. `.` and `,` move between bookmarks; clicking one goes there.
      await app.focusWindow();
      await app.typeText('.');
      await app.waitSeq(2740, { message: '`.` to go to the next bookmark #2740' });
      await app.typeText(',');
      await app.waitSeq(5, { message: '`,` to go back to the bookmark #5' });
      await app.keys(Key.End);
      await app.waitSeq(DEMO_EVENTS);
      await (await app.s.findElement(`${tid('bookmark-item')}[data-seq="2740"] button`)).click();
      await app.waitSeq(2740, { message: 'clicking the bookmark #2740 to move the position' });
      await checkLayout(app, '1280×800');
      await ctx.shot('two');
      await resizeTo(app, 1024, 700);
      await checkLayout(app, '1024×700');
      await ctx.shot('two-1024');

      // 4. A restart on the same file keeps both.
      app = await ctx.restart();
      await app.waitLoaded();
      await resizeTo(app, 1280, 800).catch((e) => ctx.log(`(resize: ${e.message})`));
      await waitFor(async () => (await app.bookmarkCount()) === 2, { message: 'the toggle to count 2 bookmarks after the restart' });
      await waitFor(async () => (await app.timelineBookmarks()) === 2, { message: 'two bookmark ribbons after the restart' });
      await (await app.s.findElement(tid('bookmarks-toggle'))).click();
      const kept = await app.waitBookmarks([5, 2740], { message: 'both bookmarks after the restart' });
      assert(kept[1].note === note1 && kept[0].note.startsWith(line1), `the notes changed across the restart: ${JSON.stringify(kept.map((k) => k.note))}`);
      assert(kept.every((k) => !k.stale), 'a bookmark of an unchanged file shows as stale');

      // 5. Remove one: a confirm step, and Keep leaves it.
      await (await app.s.findElement(`${tid('bookmark-item')}[data-seq="2740"] ${tid('bookmark-remove')}`)).click();
      await app.s.waitForElement(`${tid('bookmark-item')}[data-seq="2740"] ${tid('bookmark-remove-confirm')}`);
      await ctx.shot('confirm');
      await (await app.s.findElement(`${tid('bookmark-item')}[data-seq="2740"] .actions button:not(.danger)`)).click();
      await app.s.waitForGone(tid('bookmark-remove-confirm'));
      await app.waitBookmarks([5, 2740], { message: 'Keep to leave the bookmark' });
      await (await app.s.findElement(`${tid('bookmark-item')}[data-seq="5"] ${tid('bookmark-remove')}`)).click();
      await (await app.s.waitForElement(`${tid('bookmark-item')}[data-seq="5"] ${tid('bookmark-remove-confirm')}`)).click();
      await app.waitBookmarks([2740], { message: 'the removed bookmark to leave the list' });
      await waitFor(async () => (await app.bookmarkCount()) === 1, { message: 'the toggle to count 1 bookmark' });
      await waitFor(async () => (await app.timelineBookmarks()) === 1, { message: 'one bookmark ribbon after removing one' });
      assert(!(await app.visible('error-banner')), `an error banner is shown: ${await app.text('error-banner')}`);

      // 6. Export report: the native save dialog cannot be driven; the button is there and enabled.
      const exp = await app.s.waitForElement(tid('export-report'));
      assert((await exp.property('disabled')) === false, 'the Export report button is disabled');

      // 7. Dark theme (when the system says so), at both sizes, with the form open.
      app = await ctx.restart({ env: { GTK_THEME: 'Adwaita:dark' } });
      await app.waitLoaded();
      const dark = (await layoutReport(app)).dark;
      if (!dark) ctx.log('(GTK_THEME=Adwaita:dark did not make the page dark; dark screenshots skipped)');
      else {
        await resizeTo(app, 1280, 800).catch(() => {});
        await (await app.s.findElement(tid('bookmarks-toggle'))).click();
        await app.waitBookmarks([2740]);
        await app.keyTo(2740, DEMO_EVENTS);
        await (await app.s.findElement(tid('bookmark-add'))).click();
        await app.s.waitForElement(tid('bookmark-form'));
        await checkLayout(app, 'dark 1280×800');
        await ctx.shot('dark');
        await resizeTo(app, 1024, 700);
        await checkLayout(app, 'dark 1024×700');
        await ctx.shot('dark-1024');
        await app.keys(Key.Escape);
        await app.s.waitForGone(tid('bookmark-form'));
      }
    },
  },
  {
    // A bookmark whose event changed in the file shows as stale after the
    // file is opened again; the others keep their place.
    name: 'bookmarks_stale',
    ownCache: true,
    args: [],
    async run(app, ctx) {
      const file = path.join(ctx.tmp, 'orders.jsonl');
      const line = (i, v) => JSON.stringify({ ts: `2024-05-01T10:00:0${i}.000Z`, type: i % 2 ? 'OrderPlaced' : 'OrderPaid', streamId: `order-${i}`, data: { v } });
      const lines = (changed) => [1, 2, 3, 4, 5, 6].map((i) => line(i, i === 3 && changed ? 'changed' : i)).join('\n') + '\n';
      await writeFile(file, lines(false));
      await app.s.waitForElement(tid('drop-zone'));
      await app.openPaths([file]);
      await app.waitLoaded();
      for (const [seq, note, tags] of [
        [3, 'Paid 🔥 then changed — שלום עולם', 'stale-soon'],
        [5, '✓ stays', ''],
      ]) {
        await app.focusWindow();
        await app.keys(Key.Home);
        await app.waitSeq(1);
        await app.repeat(Key.ArrowRight, seq - 1);
        await app.waitSeq(seq);
        await app.typeText('b');
        const el = await app.s.waitForElement(tid('bookmark-note'));
        await el.sendKeys(note);
        if ((await el.property('value')) !== note) {
          // WebKitWebDriver may not type some characters (emoji); the note then goes in as an input event.
          ctx.log(`(typed ${JSON.stringify(await el.property('value'))}; setting the note by script)`);
          await app.s.execute('const t = arguments[0]; t.value = arguments[1]; t.dispatchEvent(new Event("input", { bubbles: true }));', el, note);
        }
        if (tags) await (await app.s.findElement(tid('bookmark-tags'))).sendKeys(tags);
        await (await app.s.findElement(tid('bookmark-save'))).click();
        await app.s.waitForGone(tid('bookmark-form'));
      }
      const before = await app.waitBookmarks([3, 5]);
      assert(before.every((b) => !b.stale), 'a fresh bookmark shows as stale');
      assert(before[0].note === 'Paid 🔥 then changed — שלום עולם', `the note shows as ${JSON.stringify(before[0].note)}`);
      // The third record changes; opening the file again re-indexes it.
      await writeFile(file, lines(true));
      await app.openPaths([file]);
      const after = await waitFor(
        async () => {
          const items = await app.bookmarkItems();
          return items.length === 2 && items[0].stale ? items : null;
        },
        { message: 'the bookmark of the changed record to show as stale' },
      );
      assert(after[0].seq === 3 && !after[1].stale, `the wrong bookmark is stale: ${JSON.stringify(after.map((b) => [b.seq, b.stale]))}`);
      await checkLayout(app, 'stale 1280×800');
      await ctx.shot('stale');
    },
  },
  {
    // SPEC §6 Live tail: a file that grows is indexed as it grows; Follow
    // keeps the scrubber at the end; a truncated file is read again with a
    // notice. The log is a temp copy of the demo, so it can be changed.
    name: 'live_tail',
    args: [],
    async run(app, ctx) {
      const file = path.join(ctx.tmp, 'live-shop.jsonl');
      const text = await readFile(ctx.demoPath, 'utf8');
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      await writeFile(file, text);
      await app.s.waitForElement(tid('drop-zone'));
      await app.openPaths([file]);
      await app.waitLoaded();
      await statusSays(app, DEMO_EVENTS);
      await resizeTo(app, 1280, 800).catch((e) => ctx.log(`(resize: ${e.message})`));
      await waitFor(() => app.visible('live-indicator'), { message: 'the live indicator in the status bar' });
      const follow = await app.s.waitForElement(tid('follow-toggle'));
      assert((await follow.attribute('aria-pressed')) === 'false', 'Follow is on before it was turned on');
      await follow.click();
      await waitFor(async () => (await follow.attribute('aria-pressed')) === 'true', { message: 'the Follow toggle to be pressed' });
      await app.waitSeq(DEMO_EVENTS, { message: `turning Follow on to jump to the last event #${DEMO_EVENTS}` });

      // 1. Three events are appended (copies of the last three, later in time).
      const last = lines.slice(-3).map((l, i) => {
        const e = JSON.parse(l);
        e.ts = `2024-03-05T06:00:0${i + 1}.000Z`;
        return JSON.stringify(e);
      });
      await appendFile(file, last.join('\n') + '\n');
      const status = await statusSays(app, DEMO_EVENTS + 3);
      await app.waitSeq(DEMO_EVENTS + 3, { message: `Follow to move the position to the new last event #${DEMO_EVENTS + 3}` });
      const readout = squash(await app.positionText());
      assert(/#\s*3,505\b/.test(readout), `the position readout does not show #3,505: ${readout}`);
      const live = squash(await app.text('live-indicator'));
      ctx.log(`status bar: ${squash(status)} · readout: ${readout} · live: ${live}`);
      assert(/live/i.test(live) && /\+\s*3\b/.test(live), `the live indicator does not say +3 events: ${JSON.stringify(live)}`);
      const rows = await waitFor(
        async () => {
          const r = await app.rows();
          return r.some((x) => x.seq === DEMO_EVENTS + 3) ? r : null;
        },
        { message: `the event list to show the new row #${DEMO_EVENTS + 3}` },
      );
      const newest = rows.find((x) => x.seq === DEMO_EVENTS + 3);
      assert(newest.selected, `the new last row #${DEMO_EVENTS + 3} is not the current one`);
      await listMatchesFile(app, file, 'after the append');
      await ctx.shot('appended');
      await resizeTo(app, 1024, 700);
      await checkLayout(app, 'live 1024×700');
      await ctx.shot('appended-1024');
      await resizeTo(app, 1280, 800).catch(() => {});

      // 2. A step back by hand stops following; `f` follows again.
      await app.focusWindow();
      await app.keys(Key.ArrowLeft);
      await app.waitSeq(DEMO_EVENTS + 2);
      await waitFor(async () => (await follow.attribute('aria-pressed')) === 'false', { message: 'a step back to turn Follow off' });
      await app.typeText('f');
      await waitFor(async () => (await follow.attribute('aria-pressed')) === 'true', { message: '`f` to turn Follow on' });
      await app.waitSeq(DEMO_EVENTS + 3, { message: '`f` to jump to the last event' });

      // 3. The file is cut to its first 10 lines: read again from its start, with a notice.
      await writeFile(file, lines.slice(0, 10).join('\n') + '\n');
      await statusSays(app, 10);
      await app.waitSeq(10, { message: 'the position to be clamped to the last event #10' });
      const notice = await waitFor(async () => ((await app.visible('notice')) ? app.text('notice') : null), { message: 'a notice that the file was indexed again' });
      ctx.log(`notice: ${squash(notice)}`);
      assert(/truncated|replaced|again/i.test(notice), `the notice does not say the file was read again: ${notice}`);
      assert(!(await app.visible('error-banner')), `an error banner is shown: ${await app.text('error-banner')}`);
      let after = [];
      await waitFor(
        async () => {
          after = await app.rows();
          return after.length === 10 && after.every((r, i) => r.seq === i + 1);
        },
        { message: 'the event list to show exactly events #1–#10' },
      ).catch((e) => {
        e.message += ` (it shows ${after.map((r) => r.seq).join(',')})`;
        throw e;
      });
      await listMatchesFile(app, file, 'after the truncation');
      await ctx.shot('truncated');

      // 4. Rotation, as logrotate does it: the file is renamed away and a
      // new one with other events takes its path. The app follows the path.
      const rotated = lines.slice(2000, 2012);
      await rename(file, `${file}.1`);
      await writeFile(file, rotated.join('\n') + '\n');
      await statusSays(app, rotated.length);
      const again = await waitFor(
        async () => {
          const t = (await app.visible('notice')) ? await app.text('notice') : '';
          return /replaced|again/i.test(t) ? t : null;
        },
        { message: 'a notice that the rotated file was indexed again' },
      );
      ctx.log(`after rotation: ${squash(again)}`);
      const types = new Set(rotated.map((l) => JSON.parse(l).type));
      await waitFor(
        async () => {
          const r = await app.rows();
          return r.length === rotated.length && r.every((x) => [...types].some((t) => x.text.includes(t)));
        },
        { message: `the event list to show the ${rotated.length} events of the new file` },
      );
      await listMatchesFile(app, file, 'after the rotation');
      await app.waitSeq(rotated.length, { message: `Follow to keep the scrubber on the last event #${rotated.length} of the new file` });
      // The old file still being written (the writer has not reopened yet) changes nothing.
      await appendFile(`${file}.1`, lines.slice(20, 23).join('\n') + '\n');
      // The new file grows: its events come once each, after the others.
      const more = lines.slice(3000, 3004);
      await appendFile(file, more.join('\n') + '\n');
      await statusSays(app, rotated.length + more.length);
      await app.waitSeq(rotated.length + more.length, { message: 'Follow to move to the newest event of the new file' });
      const followed = await listMatchesFile(app, file, 'after appending to the new file');
      await waitFor(async () => !(await app.visible('error-banner')), { timeout: 5000, message: 'no error banner once the new file is read' }).catch(async (e) => {
        e.message += `: ${await app.text('error-banner')}`;
        throw e;
      });
      await ctx.shot('rotated');
      // The same answer as a fresh index of the final file (a copy, so nothing is reused).
      const copy = path.join(ctx.tmp, 'fresh-copy.jsonl');
      await copyFile(file, copy);
      await app.openPaths([copy]);
      await statusSays(app, followed.length);
      await waitFor(async () => (await app.text('status-bar')).includes('fresh-copy') || (await app.bodyText()).includes('fresh-copy'), { message: 'the copy to be the open file' });
      const fresh = await listAll(app);
      assert(JSON.stringify(fresh.rows) === JSON.stringify(followed), `a fresh index of the final file lists other events than the followed one: ${JSON.stringify(fresh.rows.slice(0, 3))}…`);
    },
  },
  {
    // SPEC §6 Sessions: reopening a file restores the scrubber position,
    // the filters, the pinned A point and the open tree nodes.
    name: 'session_restore',
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      await resizeTo(app, 1280, 800).catch((e) => ctx.log(`(resize: ${e.message})`));
      // A at #2700, the scrubber at #2740, order-1137 open, only refunds listed.
      await app.keyTo(2700, DEMO_EVENTS);
      await app.pin();
      await app.keyTo(2740, DEMO_EVENTS);
      await app.expandTreePath(['order-1137']);
      const typeSelect = 'select[aria-label="Filter by type"]';
      const option = await app.s.findElement(`${typeSelect} option[value="RefundIssued"]`);
      await option.click().catch(() => {});
      if ((await app.s.execute('return document.querySelector(arguments[0]).value', typeSelect)) !== 'RefundIssued') {
        ctx.log('(clicking the option did not choose it; choosing it by script)');
        await app.s.execute('const s = document.querySelector(arguments[0]); s.value = "RefundIssued"; s.dispatchEvent(new Event("change", { bubbles: true }));', typeSelect);
      }
      const refunds = new Set(ctx.demo.seqsOfType('RefundIssued'));
      const listedRefunds = async () => {
        const r = await app.rows();
        return r.length > 0 && r.every((x) => refunds.has(x.seq)) ? r : null;
      };
      await waitFor(listedRefunds, { message: 'only RefundIssued rows to be listed' });
      assert((await app.seq()) === 2740, `choosing a type filter moved the position to #${await app.seq()}`);
      await ctx.shot('before');
      // Saved a second after the last change, in the app's settings.
      const settings = path.join(ctx.tmp, 'config', 'app.hindsight.desktop', 'settings.json');
      const saved = await waitFor(
        async () => {
          try {
            const json = JSON.parse(await readFile(settings, 'utf8'));
            const s = Object.values(json.choices ?? {}).find((c) => c.session)?.session;
            return s && s.seq === 2740 && s.pin === 2700 && s.filter?.type === 'RefundIssued' && s.open?.includes('/order-1137') ? s : null;
          } catch {
            return null;
          }
        },
        { timeout: 10000, message: `the session to be saved in ${settings}` },
      );
      ctx.log(`saved: ${JSON.stringify(saved)}`);

      app = await ctx.restart();
      await app.waitLoaded();
      await resizeTo(app, 1280, 800).catch(() => {});
      await app.waitSeq(2740, { message: 'the position #2740 to be restored' });
      const pin = await app.s.findElement(app.sel.pinButton);
      await waitFor(async () => (await pin.text()).replace(/[^\d]/g, '') === '2700', { message: 'the pin A = #2,700 to be restored' });
      await waitFor(async () => (await app.s.execute('return document.querySelector(arguments[0]).value', typeSelect)) === 'RefundIssued', {
        message: 'the type filter RefundIssued to be restored',
      });
      await waitFor(listedRefunds, { message: 'the restored filter to list only RefundIssued rows' });
      const node = await app.waitTreeRow('/order-1137');
      await waitFor(
        async () =>
          (await node.attribute('aria-expanded')) === 'true' &&
          app.s.execute('return !!document.querySelector(arguments[0])', `${tid('state-tree')} [data-path^="/order-1137/"]`),
        { message: 'the tree node order-1137 to be open again, showing its members' },
      );
      // The diff is against the restored pin.
      await waitFor(
        async () => {
          const e = await diffEntry(app, '/order-1137/total');
          return e && /338\.96\b[^\d]*-338\.96/.test(e) ? e : null;
        },
        { message: 'the diff against the restored pin A (#2700)' },
      );
      assert(!(await app.visible('error-banner')), `an error banner is shown: ${await app.text('error-banner')}`);
      await checkLayout(app, 'restored 1280×800');
    },
  },
  {
    // The auditor's question about one entity: its events, its value after
    // each, when it was created and deleted. Opened from a top-level member
    // of the state, from a row of the event list, from the event detail's
    // key and with `e`; a step moves the scrubber; Esc closes.
    name: 'entity_history',
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      await resizeTo(app, 1280, 800).catch((e) => ctx.log(`(resize: ${e.message})`));
      await app.keyTo(2740, DEMO_EVENTS);

      // 1. From the state tree: right-click the member order-1137.
      const member = await app.waitTreeRow('/order-1137');
      await app.s.contextClick(member);
      await (await app.menuItem(/^Entity history$/)).click();
      await app.s.waitForElement(tid('entity-panel'));
      const order = [1452, 1461, 1463, 1918, 2551, 2719, 2740];
      let steps = await waitEntitySteps(app, order.map((q, i) => [q, i === 0 ? 'created' : 'updated']), 'the seven events of order-1137');
      // innerText: WebDriver's element text leaves out text in overflow-hidden boxes.
      const head = squash(await app.text('entity-panel'));
      ctx.log(`panel: ${head.slice(0, 160)}`);
      assert(head.includes('order-1137'), `the panel does not name the entity: ${head.slice(0, 120)}`);
      assert(/created #1,452/.test(head) && /still exists/.test(head), `the panel does not say when order-1137 was created: ${head.slice(0, 200)}`);
      // Each step names its type and shows the value after it; the scrubber's step is marked.
      for (const st of steps) {
        const type = ctx.demo.bySeq(st.seq).type;
        assert(st.text.includes(type), `step #${st.seq} does not show its type ${type}: ${st.text}`);
      }
      assert(steps.find((x) => x.seq === 2740).here, 'the step of the current event #2740 is not marked');
      assert(/-338\.96/.test(steps[6].text), `the last step does not show the total -338.96 after it: ${steps[6].text}`);
      assert(/total: 328\.97 → 338\.96/.test(steps[1].text), `step #1461 does not say total went 328.97 → 338.96: ${steps[1].text}`);
      await checkEntityLayout(app, '1280×800');
      await ctx.shot('order');

      // 2. Clicking a step moves the scrubber there; the panel marks it.
      const step1461 = await app.s.findElement(`${tid('entity-step')}[data-seq="1461"] button.main`);
      await app.s.execute('arguments[0].scrollIntoView({ block: "center" })', step1461);
      await step1461.click();
      await app.waitSeq(1461, { message: 'clicking the step #1461 to move the scrubber' });
      await waitFor(async () => (await entitySteps(app)).find((x) => x.seq === 1461)?.here, { message: 'the step #1461 to be marked as the current one' });
      // The whole value of a step unfolds.
      await (await app.s.findElement(`${tid('entity-step')}[data-seq="1461"] button.unfold`)).click();
      const whole = await app.s.waitForElement(`${tid('entity-step')}[data-seq="1461"] pre.whole`);
      assert(/"total": 338\.96/.test(await whole.text()), `the unfolded value of #1461 does not show "total": 338.96: ${(await whole.text()).slice(0, 200)}`);
      await ctx.shot('unfolded');

      // 3. Esc closes it.
      await app.focusWindow();
      await app.keys(Key.Escape);
      await app.s.waitForGone(tid('entity-panel'));

      // 4. From the event list: a cart that was created and deleted.
      const keyInput = await app.s.findElement('input[aria-label="Filter by key"]');
      await keyInput.click();
      await keyInput.sendKeys('cart-362');
      const cartRow = await waitFor(
        async () => {
          const el = await app.s.maybeElement(`${tid('event-row')}[data-seq="2735"]`);
          return el && (await el.displayed()) ? el : null;
        },
        { message: 'row #2735 (CartDeleted of cart-362) in the filtered list' },
      );
      await app.s.contextClick(cartRow);
      await (await app.menuItem(/^Entity history$/)).click();
      steps = await waitEntitySteps(
        app,
        [
          [2688, 'created'],
          [2702, 'updated'],
          [2705, 'updated'],
          [2709, 'updated'],
          [2735, 'deleted'],
        ],
        'cart-362 created, filled and deleted',
      );
      assert(/no value/.test(steps[4].text), `the deletion step shows a value: ${steps[4].text}`);
      const cartHead = squash(await app.text('entity-summary'));
      assert(/created #2,688 · deleted #2,735/.test(cartHead), `the panel does not give cart-362's lifetime: ${cartHead}`);
      assert(/At #1,461: not created yet/.test(cartHead), `the panel does not say cart-362 does not exist yet at #1,461: ${cartHead}`);
      await (await app.s.findElement(`${tid('entity-step')}[data-seq="2735"] button.main`)).click();
      await app.waitSeq(2735, { message: 'clicking the deletion step to move the scrubber to #2735' });
      await waitFor(async () => /At #2,735: deleted/.test(await app.text('entity-summary')), { message: 'the panel to say cart-362 is deleted at #2,735' });
      await resizeTo(app, 1024, 700);
      await checkEntityLayout(app, '1024×700');
      await ctx.shot('cart-1024');
      await resizeTo(app, 1280, 800).catch(() => {});
      await (await app.s.findElement(`:is(${tid('entity-panel')}) button[aria-label="Close"]`)).click();
      await app.s.waitForGone(tid('entity-panel'));
      await keyInput.click();
      await app.keys('a', [Key.Control]);
      await app.keys(Key.Backspace);
      await waitFor(async () => (await app.rows()).some((r) => !r.text.includes('cart-362')), { message: 'every event to be listed again' });

      // 5. From the event detail's key, and with `e`.
      await app.keyTo(1463, DEMO_EVENTS);
      await (await app.s.waitForElement(tid('detail-entity'))).click();
      await waitEntitySteps(app, order.map((q, i) => [q, i === 0 ? 'created' : 'updated']), 'order-1137 again from the event detail');
      await app.focusWindow();
      await app.keys(Key.Escape);
      await app.s.waitForGone(tid('entity-panel'));
      await app.keyTo(2702, DEMO_EVENTS);
      await app.typeText('e');
      await waitFor(async () => (await entitySteps(app)).length === 5 && squash(await app.text('entity-panel')).includes('cart-362'), {
        message: '`e` to open the history of the current event\'s key (cart-362)',
      });
      assert(!(await app.visible('error-banner')), `an error banner is shown: ${await app.text('error-banner')}`);

      // 6. Keys and values that hold markup show as text.
      await app.openPaths([ctx.fixtures.xss]);
      await app.waitSeq((q) => q >= 1 && q <= 4, { message: 'the markup log to open' });
      await waitFor(async () => !(await app.visible('entity-panel')), { message: 'the panel to close when another file opens' });
      await app.focusWindow();
      await app.keys(Key.Home);
      await app.waitSeq(1);
      await app.typeText('e');
      await waitFor(async () => (await entitySteps(app)).length === 2, { message: 'the history of the entity keyed by an <img> tag' });
      const markup = await app.text('entity-panel');
      assert(markup.includes(XSS.img) && markup.includes('<script>'), `the entity panel does not show the markup as text: ${squash(markup).slice(0, 200)}`);
      const pwned = await app.s.execute('return [typeof window.__pwned, document.querySelectorAll("[onerror]").length, document.querySelectorAll(\'img[src="x"]\').length]');
      assert(JSON.stringify(pwned) === '["undefined",0,0]', `log markup in the entity panel became elements or ran: ${JSON.stringify(pwned)}`);
      await ctx.shot('markup');
    },
  },
  {
    // Watch a value: its changes are marked on the timeline, a chip names
    // it, w / W jump between its changes and playback stops at the next one.
    name: 'watch',
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      await resizeTo(app, 1280, 800).catch((e) => ctx.log(`(resize: ${e.message})`));
      await app.focusWindow();
      await app.keys(Key.End);
      await app.waitSeq(DEMO_EVENTS);
      await app.expandTreePath(['order-1137']);
      await app.s.contextClick(await app.treeNode(['order-1137', 'total']));
      // The existing actions stay beside the new one.
      const labels = await app.s.execute('return Array.from(document.querySelectorAll(arguments[0])).map((b) => b.innerText)', `:is(${app.sel.menu}) ${app.sel.menuItem}`);
      assert(labels.some((l) => /History|blame/i.test(l)) && labels.some((l) => /next change/i.test(l)), `the menu lost Blame or next change: ${labels.join(' | ')}`);
      await (await app.menuItem(/^Watch$/)).click();
      await app.s.waitForElement(tid('watch-chip'));
      await waitFor(async () => /\b4 changes\b/.test(await app.text('watch-chip')), { message: 'the chip to count the 4 changes of the total' });
      const chipText = squash(await app.text('watch-chip'));
      ctx.log(`chip: ${chipText}`);
      assert(chipText.includes('/order-1137/total'), `the chip does not name the watched path: ${chipText}`);
      const runs = await waitFor(async () => {
        const n = await timelineWatchRuns(app);
        return n >= 2 ? n : null;
      }, { message: 'the watched changes to be marked on the timeline in the watch colour' });
      ctx.log(`watch markers on the timeline: ${runs} runs`);
      assert(runs <= 4, `more watch markers than changes on the timeline (${runs})`);

      // w / W jump between the changes.
      await app.keys(Key.Home);
      await app.waitSeq((q) => q <= 1);
      for (const [key, want] of [
        ['w', 1452],
        ['w', 1461],
        ['w', 2719],
        ['W', 1461],
        ['w', 2719],
      ]) {
        // W as the user types it: Shift held (the driver types a bare 'W' without it).
        if (key === 'W') await app.keys('w', [Key.Shift]);
        else await app.typeText(key);
        await app.waitSeq(want, { message: `\`${key}\` to jump to the change at #${want}` });
      }
      await ctx.shot('watching');

      // Playback from #2719 stops at the next change, #2740.
      await app.keys(Key.Space);
      await app.waitSeq((q) => q > 2719, { message: 'Space to start playing' });
      await app.waitSeq(2740, { timeout: 20000, message: 'playback to reach the next change of the total (#2740)' });
      await new Promise((r) => setTimeout(r, 800));
      assert((await app.seq()) === 2740, `playback went on past the watched change to #${await app.seq()}`);
      const notice = await waitFor(async () => ((await app.visible('notice')) ? app.text('notice') : null), { message: 'a notice that playback stopped at the change' });
      assert(/Stopped at #2,740/.test(notice), `the notice does not say where playback stopped: ${notice}`);
      const play = await app.s.findElement('header.toolbar button.play');
      assert((await play.attribute('aria-label')) === 'Play', 'the play button does not show that playback stopped');
      await checkLayout(app, 'watching 1280×800');
      await resizeTo(app, 1024, 700);
      await checkLayout(app, 'watching 1024×700');
      const chipBox = await app.s.execute('const b = document.querySelector(arguments[0]).getBoundingClientRect(); return { right: b.right, w: window.innerWidth };', tid('watch-chip'));
      assert(chipBox.right <= chipBox.w, `the watch chip sticks out of the window at 1024 px: ${JSON.stringify(chipBox)}`);
      await ctx.shot('watching-1024');
      await resizeTo(app, 1280, 800).catch(() => {});

      // The help lists the keys (opened with its toolbar button: after a
      // Shift-held press the driver sends a typed '?' as '/').
      await (await app.s.findElement('header.toolbar button[aria-label="Keyboard shortcuts"]')).click();
      const help = await waitFor(async () => {
        const t = await app.bodyText();
        return /Keyboard shortcuts/.test(t) ? t : null;
      }, { message: 'the help overlay' });
      assert(/W\s*\/\s*w/.test(help) && /watched value/i.test(help), 'the help does not list W / w for the watched value');
      await ctx.shot('help');
      await app.keys(Key.Escape);
      await waitFor(async () => !/Keyboard shortcuts/.test(await app.bodyText()), { message: 'Esc to close the help' });

      // × stops watching: the chip and the markers go.
      await (await app.s.findElement(tid('watch-clear'))).click();
      await app.s.waitForGone(tid('watch-chip'));
      await waitFor(async () => (await timelineWatchRuns(app)) === 0, { message: 'the watch markers to leave the timeline' });
      await app.focusWindow();
      await app.typeText('w');
      await waitFor(async () => /Nothing is watched/.test(await app.text('notice')), { message: '`w` with nothing watched to say so' });
      assert((await app.seq()) === 2740, '`w` moved the scrubber with nothing watched');
    },
  },
];
