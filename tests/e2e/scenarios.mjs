// The end-to-end scenarios (SPEC §6). Each runs in a fresh app session
// (see run.mjs); `args` are the files on the app's command line. Every
// assertion is about what the window shows.

import { Key, tid, waitFor } from './webdriver.mjs';
import { assert, squash } from './app.mjs';
import { XSS } from './fixtures.mjs';

const DEMO_EVENTS = 3502;

/** A number as the UI may print it: 3502, 3,502, 3 502, 3.502. */
const numberPattern = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '[,.\\s\\u00a0\\u202f]?');

async function openDemo(app, ctx) {
  await app.waitLoaded();
  return ctx;
}

/** The text of the diff entry for `path` (from the path to the next entry). */
async function diffEntry(app, path) {
  return app.s.execute(
    `const view = document.querySelector(arguments[0]);
     if (!view) return null;
     // The smallest element whose text holds the path and something after it.
     const all = Array.from(view.querySelectorAll('*')).filter((e) => e.innerText && e.innerText.includes(arguments[1]));
     let best = null;
     for (const e of all) {
       const t = e.innerText.replace(/\\s+/g, ' ').trim();
       if (t.length > arguments[1].length + 1 && (!best || t.length < best.length)) best = t;
     }
     return best;`,
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
      const re = new RegExp(`\\b${numberPattern(DEMO_EVENTS)}\\s+events\\b`, 'i');
      await waitFor(async () => re.test(await app.bodyText()), { message: `the window to say "${DEMO_EVENTS} events"` });
      const first = rows.find((r) => r.seq === 1);
      if (first) assert(first.text.includes('ProductListed'), `row #1 does not show its type ProductListed: ${squash(first.text)}`);
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
      const re = new RegExp(`\\b${numberPattern(DEMO_EVENTS)}\\s+events\\b`, 'i');
      await waitFor(async () => re.test(await app.bodyText()), { message: `the window to say "${DEMO_EVENTS} events"` });
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
      // The state tree marks the changed path (order-1137, and total inside it).
      const hl = await waitFor(() => app.changedTreeKeys(), { message: 'highlighted nodes in the state tree' });
      ctx.log(`highlighted in the tree: ${hl.join(', ')}`);
      assert(hl.some((k) => k.includes('order-1137')), `order-1137 is not highlighted in the state tree (highlighted: ${hl.join(', ')})`);
      const expandedHl = await app.expandTreePath(['order-1137']).then(() => app.changedTreeKeys());
      assert(expandedHl.some((k) => /(^|\/)total$/.test(k) || k === 'total'), `total is not highlighted inside order-1137 (highlighted: ${expandedHl.join(', ')})`);
      assert(!expandedHl.some((k) => /(^|\/)(status|customer|items)$/.test(k)), `unchanged members are highlighted too: ${expandedHl.join(', ')}`);
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
      ctx.log(`${rows.length} rows shown, all RefundIssued (${refunds.size} in the log)`);
      assert(rows.length === Math.min(refunds.size, rows.length), 'row count mismatch');
      // All 25 fit in the list: each of them is there.
      if (rows.length < refunds.size) ctx.log(`note: the list renders ${rows.length} of ${refunds.size} matches (virtualised)`);
      const ordered = rows.map((r) => r.seq);
      assert(ordered.every((s, i) => i === 0 || s > ordered[i - 1]), `filtered rows are not in seq order: ${ordered.join(',')}`);
      await app.s.screenshot(`${ctx.root}/target/e2e-screenshots/filter-applied.png`).catch(() => {});
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
      assert(text.includes('-338.96'), `the blame panel does not show the new value -338.96: ${text}`);
      assert(/\/order-1137\/total|order-1137.*total/.test(text), `the blame panel does not name the path: ${text}`);
    },
  },

  {
    name: 'pin_diff',
    args: (ctx) => [ctx.demoPath],
    async run(app, ctx) {
      await app.waitLoaded();
      // A = #1452 (order-1137 placed, total 328.97); B = #2740 (total -338.96).
      await app.keyTo(1452, DEMO_EVENTS);
      await app.pin();
      await app.focusWindow();
      await app.repeat(Key.ArrowRight, 12, [Key.Shift]);
      await app.waitSeq(2652);
      await app.repeat(Key.ArrowRight, 88);
      await app.waitSeq(2740);
      const entry = await waitFor(
        async () => {
          const e = await diffEntry(app, '/order-1137/total');
          return e && e.includes('328.97') ? e : null;
        },
        { message: 'the diff against pin A (#1452) to show /order-1137/total 328.97 → -338.96' },
      );
      ctx.log(`diff entry: ${entry}`);
      assert(/328\.97\b[^\d]*-338\.96\b/.test(entry), `the pinned diff entry does not read 328.97 → -338.96: ${entry}`);
      const diffText = squash(await app.text('diff-view'));
      assert(/1452/.test(diffText) || /1452/.test(squash(await app.bodyText())), 'the window does not say the diff is against #1452');
      // Changes between A and B of other entities are there too (not just the last event's).
      const others = (diffText.match(/\/(order|cart|customer|product)-[\w-]+/g) || []).filter((p) => !p.startsWith('/order-1137'));
      assert(new Set(others).size >= 3, `the pinned diff lists too few other changes between #1452 and #2740: ${diffText.slice(0, 400)}`);
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
        if (file === ctx.fixtures.binary) await app.s.screenshot(`${ctx.root}/target/e2e-screenshots/bad_file-binary.png`).catch(() => {});
      }
      assert(await app.visible('drop-zone'), 'the drop zone is gone after failed opens');
      assert((await app.rows()).length === 0, 'event rows appeared for a bad file');
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
      // Open the detail's raw view and the blame of a node if present, then check.
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
    },
  },
];
