// The end-to-end scenarios (SPEC §6). Each runs in a fresh app session
// (see run.mjs); `args` are the files on the app's command line. Every
// assertion is about what the window shows.

import { Key, tid, waitFor } from './webdriver.mjs';
import { assert, squash } from './app.mjs';
import { XSS } from './fixtures.mjs';

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
];
