#!/usr/bin/env node
// Runs the Hindsight end-to-end scenarios against the real desktop app
// through tauri-driver (WebDriver on 127.0.0.1:4444 unless E2E_DRIVER_URL
// says otherwise). Each scenario gets a fresh app session started by a small
// wrapper script that gives it its own config and data dirs (the index cache
// is shared by the run); a screenshot of each lands in
// target/e2e-screenshots/NAME.png. The last line printed is
// `N passed, N failed`; the exit code is 1 when anything failed.
//
//   node tests/e2e/run.mjs [NAME…]        (scripts/e2e.sh sets up Xvfb and tauri-driver)
//
// Environment: E2E_APP (the binary; default target/release/hindsight-app),
// E2E_DRIVER_URL, E2E_SCREENSHOTS (dir), E2E_ONLY (comma-separated names),
// E2E_TIMEOUT (seconds per scenario, default 120), E2E_KEEP_TMP=1.

import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile, constants } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, waitFor } from './webdriver.mjs';
import { App } from './app.mjs';
import { demoFacts, writeFixtures } from './fixtures.mjs';
import { scenarios as demoScenarios } from './scenarios.mjs';
import { scaleScenarios } from './scale.mjs';

const scenarios = [...demoScenarios, ...scaleScenarios];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APP = path.resolve(ROOT, process.env.E2E_APP || 'target/release/hindsight-app');
const DRIVER = (process.env.E2E_DRIVER_URL || 'http://127.0.0.1:4444').replace(/\/$/, '');
const SHOTS = path.resolve(ROOT, process.env.E2E_SCREENSHOTS || 'target/e2e-screenshots');
const LIMIT_MS = Number(process.env.E2E_TIMEOUT || 120) * 1000;
const DEMO = path.join(ROOT, 'demo/shop.jsonl');

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function log(line) {
  process.stdout.write(`${line}\n`);
}

/**
 * A launcher for one scenario: its own config/data dirs, and its pid
 * recorded. `env` adds variables (e.g. GTK_THEME for a restart in dark mode).
 */
async function writeLauncher(dir, cacheDir, env = {}, name = 'hindsight-app') {
  await mkdir(path.join(dir, 'config'), { recursive: true });
  await mkdir(path.join(dir, 'data'), { recursive: true });
  await mkdir(cacheDir, { recursive: true });
  const file = path.join(dir, name);
  const extra = Object.entries(env).filter(([k]) => /^[A-Z_][A-Z0-9_]*$/.test(k));
  await writeFile(
    file,
    [
      '#!/bin/sh',
      `XDG_CONFIG_HOME=${shq(path.join(dir, 'config'))}`,
      `XDG_DATA_HOME=${shq(path.join(dir, 'data'))}`,
      `XDG_CACHE_HOME=${shq(cacheDir)}`,
      'export XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME',
      ...extra.map(([k, v]) => `${k}=${shq(v)}; export ${k}`),
      `echo $$ > ${shq(path.join(dir, 'app.pid'))}`,
      `exec ${shq(APP)} "$@" 2>>${shq(path.join(dir, 'app.log'))}`,
      '',
    ].join('\n'),
  );
  await chmod(file, 0o755);
  return file;
}

/** Ends the app a launcher started if deleting the session left it running. */
async function reapApp(dir) {
  let pid;
  try {
    pid = Number((await readFile(path.join(dir, 'app.pid'), 'utf8')).trim());
  } catch {
    return;
  }
  if (!pid) return;
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Starts a session on the app. WebKitWebDriver waits forever for an app that
 * died at start, so watch the launcher's pid and give up as soon as it is gone.
 */
async function newSession(launcher, args, dir) {
  const caps = { alwaysMatch: { 'tauri:options': { application: launcher, args } } };
  let lastError;
  for (let attempt = 1; attempt <= 2; attempt++) {
    await rm(path.join(dir, 'app.pid'), { force: true });
    const ctl = new AbortController();
    const watch = setInterval(async () => {
      try {
        const pid = Number((await readFile(path.join(dir, 'app.pid'), 'utf8')).trim());
        if (pid && !alive(pid)) ctl.abort(new Error('the app exited before its window opened'));
      } catch {
        // Not started yet.
      }
    }, 250);
    try {
      return await Session.create(DRIVER, caps, { timeout: 40000, signal: ctl.signal });
    } catch (e) {
      lastError = e;
      log(`   (session start failed, attempt ${attempt}: ${e.message})`);
      if (ctl.signal.aborted) break;
    } finally {
      clearInterval(watch);
    }
  }
  throw lastError;
}

/** The last lines the app wrote to stderr in this scenario. */
async function appLog(dir, lines = 15) {
  try {
    const text = (await readFile(path.join(dir, 'app.log'), 'utf8')).trimEnd();
    return text ? text.split('\n').slice(-lines) : [];
  } catch {
    return [];
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${secs(ms)}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function driverReady() {
  try {
    await waitFor(
      async () => {
        const res = await fetch(`${DRIVER}/status`);
        return res.ok;
      },
      { timeout: 15000, interval: 250, message: `tauri-driver at ${DRIVER}` },
    );
  } catch (e) {
    throw new Error(`no WebDriver server answers at ${DRIVER} (start it with scripts/e2e.sh): ${e.message}`);
  }
}

async function main() {
  const started = Date.now();
  try {
    await access(APP, constants.X_OK);
  } catch {
    log(`e2e: the app binary ${APP} is missing; build it with \`cargo build --release -p hindsight-app\``);
    log('0 passed, 1 failed');
    return 1;
  }
  await driverReady();
  await mkdir(SHOTS, { recursive: true });
  const tmp = await mkdtemp(path.join(process.env.E2E_TMPDIR || os.tmpdir(), 'hindsight-e2e-'));
  const fixtures = await writeFixtures(path.join(tmp, 'fixtures'));
  const cacheDir = path.join(tmp, 'cache');
  await mkdir(cacheDir, { recursive: true });
  const demo = await demoFacts(DEMO);

  const wanted = [...process.argv.slice(2), ...(process.env.E2E_ONLY || '').split(',')].map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !scenarios.some((s) => s.name === w));
  if (unknown.length) {
    log(`e2e: no scenario named ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
    log('0 passed, 1 failed');
    return 1;
  }
  const chosen = wanted.length ? scenarios.filter((s) => wanted.includes(s.name)) : scenarios;

  const shown = (p) => (p.startsWith(ROOT + path.sep) ? path.relative(ROOT, p) : p);
  log(`e2e: ${chosen.length} scenarios · app ${shown(APP)} · driver ${DRIVER} · screenshots ${shown(SHOTS)}/`);
  // Screenshots of an earlier run of these scenarios would mislead.
  const stale = new Set(chosen.map((s) => s.name));
  for (const f of await readdir(SHOTS)) {
    if (f.endsWith('.png') && [...stale].some((n) => f === `${n}.png` || f.startsWith(`${n}-`))) await rm(path.join(SHOTS, f), { force: true });
  }
  const results = [];
  // When the app never starts or its UI never mounts (e.g. a binary built
  // before ui/dist), fail the rest at once instead of waiting on each.
  let mounted = 0;
  let unmounted = 0;
  for (const sc of chosen) {
    const t0 = Date.now();
    if (unmounted >= 2 && mounted === 0) {
      results.push({ name: sc.name, ok: false, ms: 0, error: 'not run: the app did not start or its UI did not mount in the earlier scenarios', screenshot: null });
      log(`FAIL ${sc.name} (not run: the app did not start or its UI did not mount in the earlier scenarios)`);
      continue;
    }
    const dir = path.join(tmp, sc.name);
    // A scenario that writes next to the index (bookmarks) gets a cache of
    // its own, so that what it leaves never shows in another scenario.
    const scCache = sc.ownCache ? path.join(dir, 'cache') : cacheDir;
    const launcher = await writeLauncher(dir, scCache);
    let restarts = 0;
    const ctx = {
      root: ROOT,
      demoPath: DEMO,
      demo,
      fixtures,
      tmp: dir,
      log: (m) => log(`   ${m}`),
      // An extra screenshot mid-scenario: NAME-STEP.png (best effort).
      shot: (step) => (ctx.session ? ctx.session.screenshot(path.join(SHOTS, `${sc.name}-${step}.png`)).catch(() => {}) : undefined),
      /**
       * Quits the app and starts it again on the same files, config, data
       * and cache (what a user's restart keeps); `env` adds variables for the
       * new process. Answers the App of the new session.
       */
      restart: async ({ env = {} } = {}) => {
        if (session) await session.delete();
        session = null;
        ctx.session = null;
        await reapApp(dir);
        const again = await writeLauncher(dir, scCache, env, `hindsight-app-${++restarts}`);
        session = await newSession(again, args, dir);
        ctx.session = session;
        const next = new App(session, ctx);
        await next.ready();
        return next;
      },
    };
    const args = typeof sc.args === 'function' ? sc.args(ctx) : sc.args ?? [];
    let session;
    let error;
    let shot = path.join(SHOTS, `${sc.name}.png`);
    try {
      try {
        session = await newSession(launcher, args, dir);
      } catch (e) {
        unmounted++;
        throw e;
      }
      ctx.session = session;
      const app = new App(session, ctx);
      await withTimeout(
        (async () => {
          try {
            await app.ready();
            mounted++;
          } catch (e) {
            unmounted++;
            throw e;
          }
          await sc.run(app, ctx);
        })(),
        LIMIT_MS,
        `scenario ${sc.name}`,
      );
    } catch (e) {
      error = e;
    }
    if (session) {
      try {
        await session.screenshot(shot);
      } catch (e) {
        shot = null;
        if (!error) error = new Error(`the screenshot failed: ${e.message}`);
        else error.message += `\n(and the screenshot failed: ${e.message})`;
      }
      await session.delete();
    } else {
      shot = null;
    }
    await reapApp(dir);
    const ms = Date.now() - t0;
    results.push({ name: sc.name, ok: !error, ms, error: error ? String(error.message || error) : null, screenshot: shot });
    if (error) {
      log(`FAIL ${sc.name} (${secs(ms)})`);
      for (const line of String(error.message || error).split('\n')) log(`     ${line}`);
      const tail = await appLog(dir);
      if (tail.length) {
        log("     the app's stderr (last lines):");
        for (const line of tail) log(`       ${line}`);
      }
    } else {
      log(`ok   ${sc.name} (${secs(ms)})`);
    }
  }

  await writeFile(path.join(SHOTS, 'results.json'), JSON.stringify({ seconds: (Date.now() - started) / 1000, results }, null, 2));
  if (process.env.E2E_KEEP_TMP !== '1') await rm(tmp, { recursive: true, force: true }).catch(() => {});
  else log(`e2e: kept ${tmp}`);
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  log(`e2e: finished in ${secs(Date.now() - started)}`);
  log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    log(`e2e: ${e.message || e}`);
    log('0 passed, 1 failed');
    process.exit(1);
  },
);
