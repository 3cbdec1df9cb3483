// End-to-end scenarios at scale: a large log is shown from its first events
// while the rest is indexed (SPEC §3, §6 Progress), and scrubbing it is
// measured with requestAnimationFrame timestamps (reported, not asserted:
// timings on a shared machine are not a verdict).

import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tid, waitFor } from './webdriver.mjs';
import { assert, squash } from './app.mjs';

const LARGE_EVENTS = 600_000;

/** Writes a JSON Lines log of `n` events over 5,000 entities (about 85 MB). */
async function writeLargeLog(file, n) {
  const out = createWriteStream(file);
  const t0 = Date.parse('2024-06-01T00:00:00Z');
  let chunk = [];
  for (let i = 1; i <= n; i++) {
    chunk.push(
      JSON.stringify({
        ts: new Date(t0 + i * 7).toISOString(),
        type: i % 9 === 0 ? 'StatusChanged' : 'QuantitySet',
        streamId: `item-${i % 5000}`,
        data: { n: i, status: `s${i % 7}`, note: 'a line long enough to look like a real event payload' },
      }),
    );
    if (chunk.length === 5000) {
      if (!out.write(chunk.join('\n') + '\n')) await new Promise((r) => out.once('drain', r));
      chunk = [];
    }
  }
  out.write(chunk.length ? chunk.join('\n') + '\n' : '');
  await new Promise((resolve, reject) => out.end((e) => (e ? reject(e) : resolve())));
}

const statusText = (app) =>
  app.s.execute('const e = document.querySelector(arguments[0]); return e ? e.innerText : "";', tid('status-bar'));

/** The count the status bar shows ("123,456 events"). */
const shownEvents = (text) => {
  const m = /([\d][\d,.\s\u00a0\u202f]*)\s+events\b/i.exec(text);
  return m ? Number(m[1].replace(/\D/g, '')) : null;
};

export const scaleScenarios = [
  {
    name: 'large_file',
    args: [],
    async run(app, ctx) {
      const file = path.join(ctx.tmp, 'large.jsonl');
      const t0 = Date.now();
      await writeLargeLog(file, LARGE_EVENTS);
      ctx.log(`wrote ${LARGE_EVENTS.toLocaleString('en-US')} events in ${Date.now() - t0} ms`);
      await app.s.waitForElement(tid('drop-zone'));
      await app.openPaths([file]);

      // While indexing: the first events are browsable and the status bar says how far it is.
      let early = null;
      const done = await waitFor(
        async () => {
          const text = squash(await statusText(app));
          const count = shownEvents(text);
          if (!early && /indexing\s+\d+%/i.test(text) && count !== null && count < LARGE_EVENTS) {
            const rows = (await app.rows()).length;
            if (rows > 0) {
              early = { count, rows, text };
              await ctx.shot('indexing');
            }
          }
          return count === LARGE_EVENTS && !/indexing\s+\d+%/i.test(text) ? text : null;
        },
        { timeout: 100000, interval: 50, message: `the status bar to say ${LARGE_EVENTS} events, indexed` },
      );
      assert(!(await app.visible('error-banner')), `an error banner is shown: ${await app.text('error-banner')}`);
      const took = /indexed in ([\d.]+)\s*(ms|s)\b/i.exec(done);
      const seconds = took ? Number(took[1]) / (took[2] === 'ms' ? 1000 : 1) : NaN;
      ctx.log(`indexed: ${done}`);
      ctx.log(early ? `shown while indexing: ${early.count} events, ${early.rows} rows — ${early.text}` : 'not seen while indexing');
      // A build that took a second or more leaves time to see it.
      assert(early || seconds < 1, `indexing took ${seconds} s but the window showed nothing before it ended`);

      // Scrub for five seconds, measuring frames and state-view refreshes in the page.
      const geo = await app.s.execute(
        `const r = (sel) => { const b = document.querySelector(sel).getBoundingClientRect(); return { x: b.left, y: b.top, w: b.width, h: b.height }; };
         return { timeline: r(arguments[0]), scrubber: r(arguments[1]) };`,
        tid('timeline'),
        tid('scrubber'),
      );
      await app.s.execute(
        `const m = { frames: [], refreshes: 0, last: '' };
         window.__scrub = m;
         const at = document.querySelector(arguments[0]);
         const tick = (t) => { m.frames.push(t); if (!m.stop) requestAnimationFrame(tick); };
         requestAnimationFrame(tick);
         // A refresh is a frame in which the state view shows the state at
         // another event (its "at #N").
         const seen = () => { const h = at.textContent; if (h !== m.last) { m.last = h; m.refreshes++; } if (!m.stop) requestAnimationFrame(seen); };
         requestAnimationFrame(seen);`,
        tid('state-at'),
      );
      const before = await app.settledSeq();
      const tl = geo.timeline;
      const y = Math.round(geo.scrubber.y + geo.scrubber.h / 2);
      const x0 = Math.round(geo.scrubber.x + geo.scrubber.w / 2);
      const acts = [
        { type: 'pointerMove', duration: 0, origin: 'viewport', x: x0, y },
        { type: 'pointerDown', button: 0 },
      ];
      // 300 moves of 16 ms (a move a frame, faster than any refresh could
      // follow): right across the timeline and back to its middle.
      for (let i = 1; i <= 300; i++) {
        const f = i <= 180 ? i / 180 : 1 - (i - 180) / 240;
        acts.push({ type: 'pointerMove', duration: 16, origin: 'viewport', x: Math.round(tl.x + 4 + (tl.w - 8) * f), y });
      }
      acts.push({ type: 'pointerUp', button: 0 });
      const started = Date.now();
      await app.s.pointer(acts);
      await app.s.releaseActions().catch(() => {});
      const dragMs = Date.now() - started;
      const m = await app.s.execute(
        `const m = window.__scrub; m.stop = true;
         const d = []; for (let i = 1; i < m.frames.length; i++) d.push(m.frames[i] - m.frames[i - 1]);
         d.sort((a, b) => a - b);
         const q = (p) => d.length ? d[Math.min(d.length - 1, Math.round((d.length - 1) * p))] : null;
         return { frames: m.frames.length, p50: q(0.5), p95: q(0.95), max: d.length ? d[d.length - 1] : null,
                  spanMs: m.frames.length > 1 ? m.frames[m.frames.length - 1] - m.frames[0] : 0, refreshes: m.refreshes };`,
      );
      const perSecond = m.spanMs > 0 ? (m.refreshes * 1000) / m.spanMs : 0;
      const after = await app.settledSeq();
      const report = { events: LARGE_EVENTS, dragMs, ...m, stateRefreshesPerSecond: perSecond, from: before, to: after };
      ctx.log(
        `scrubbing ${LARGE_EVENTS.toLocaleString('en-US')} events for ${dragMs} ms: frame p50 ${m.p50?.toFixed(1)} ms, ` +
          `p95 ${m.p95?.toFixed(1)} ms, max ${m.max?.toFixed(1)} ms; state view refreshed ${m.refreshes} times (${perSecond.toFixed(1)}/s)`,
      );
      await writeFile(path.join(ctx.root, 'target', 'e2e-scrub.json'), JSON.stringify(report, null, 2));
      assert(m.refreshes > 1, `the state view did not follow the drag (${m.refreshes} refreshes)`);
      assert(after !== before, `dragging did not move the position from #${before}`);
    },
  },
];
