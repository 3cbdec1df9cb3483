// A small W3C WebDriver client over Node's built-in fetch: just what the
// Hindsight end-to-end scenarios need, talking to tauri-driver (which
// forwards to WebKitWebDriver). No npm packages, no browser downloads.

import { writeFile } from 'node:fs/promises';

/** W3C WebDriver key codes (https://www.w3.org/TR/webdriver/#keyboard-actions). */
export const Key = Object.freeze({
  Backspace: '\uE003',
  Tab: '\uE004',
  Enter: '\uE007',
  Shift: '\uE008',
  Control: '\uE009',
  Alt: '\uE00A',
  Escape: '\uE00C',
  Space: '\uE00D',
  PageUp: '\uE00E',
  PageDown: '\uE00F',
  End: '\uE010',
  Home: '\uE011',
  ArrowLeft: '\uE012',
  ArrowUp: '\uE013',
  ArrowRight: '\uE014',
  ArrowDown: '\uE015',
  Delete: '\uE017',
});

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** `[data-testid="name"]`, the selector for the UI's stable hooks. */
export const tid = (name) => `[data-testid="${name}"]`;

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    const v = value && typeof value === 'object' ? value : {};
    super(`${method} ${path} → HTTP ${status}: ${v.error ?? 'error'}: ${v.message ?? JSON.stringify(value)}`);
    this.status = status;
    this.code = v.error;
  }
}

export class TimeoutError extends Error {}

/** Polls `fn` until it returns a truthy value (which is returned), or throws after `timeout` ms. */
export async function waitFor(fn, { timeout = 15000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
      lastError = undefined;
    } catch (e) {
      // A stale element or a page still loading: try again until the deadline.
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? ` (last error: ${lastError.message})` : last !== undefined ? ` (last value: ${JSON.stringify(last)})` : '';
      throw new TimeoutError(`timed out after ${timeout} ms waiting for ${message}${why}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export class Element {
  constructor(session, id, selector) {
    this.session = session;
    this.id = id;
    this.selector = selector;
  }
  get ref() {
    return { [ELEMENT]: this.id };
  }
  path(suffix = '') {
    return `/element/${this.id}${suffix}`;
  }
  click() {
    return this.session.cmd('POST', this.path('/click'), {});
  }
  clear() {
    return this.session.cmd('POST', this.path('/clear'), {});
  }
  sendKeys(text) {
    return this.session.cmd('POST', this.path('/value'), { text });
  }
  text() {
    return this.session.cmd('GET', this.path('/text'));
  }
  attribute(name) {
    return this.session.cmd('GET', this.path(`/attribute/${encodeURIComponent(name)}`));
  }
  property(name) {
    return this.session.cmd('GET', this.path(`/property/${encodeURIComponent(name)}`));
  }
  rect() {
    return this.session.cmd('GET', this.path('/rect'));
  }
  displayed() {
    return this.session.cmd('GET', this.path('/displayed'));
  }
  find(css) {
    return this.session.findElement(css, this);
  }
  findAll(css) {
    return this.session.findElements(css, this);
  }
  // The W3C command names, for readers who know them.
  getText() {
    return this.text();
  }
  getAttribute(name) {
    return this.attribute(name);
  }

  screenshot(file) {
    return this.session.cmd('GET', this.path('/screenshot')).then((b64) => writeFile(file, Buffer.from(b64, 'base64')));
  }
}

export class Session {
  constructor(base, id, capabilities) {
    this.base = base;
    this.id = id;
    this.capabilities = capabilities;
  }

  /** POST /session. `capabilities` is the W3C `{alwaysMatch: …}` object. */
  /** `signal` aborts the wait (e.g. when the app died before its window opened). */
  static async create(base, capabilities, { timeout = 60000, signal } = {}) {
    const value = await request(base, 'POST', '/session', { capabilities }, timeout, signal);
    return new Session(base, value.sessionId, value.capabilities);
  }

  cmd(method, path, body, timeout = 30000) {
    return request(this.base, method, `/session/${this.id}${path}`, body, timeout);
  }

  async delete() {
    try {
      await this.cmd('DELETE', '', undefined, 15000);
    } catch {
      // The app may already be gone; nothing left to clean up.
    }
  }

  // The W3C command names, for readers who know them.
  deleteSession() {
    return this.delete();
  }
  executeScript(script, ...args) {
    return this.execute(script, ...args);
  }
  /** The first element with this `data-testid`. */
  findByTestId(name) {
    return this.findElement(tid(name));
  }
  findAllByTestId(name) {
    return this.findElements(tid(name));
  }

  setTimeouts(t) {
    return this.cmd('POST', '/timeouts', t);
  }

  url() {
    return this.cmd('GET', '/url');
  }

  title() {
    return this.cmd('GET', '/title');
  }

  source() {
    return this.cmd('GET', '/source');
  }

  setWindowRect(rect) {
    return this.cmd('POST', '/window/rect', rect);
  }

  windowRect() {
    return this.cmd('GET', '/window/rect');
  }

  async findElement(css, from) {
    const path = from ? from.path('/element') : '/element';
    const v = await this.cmd('POST', path, { using: 'css selector', value: css });
    return new Element(this, v[ELEMENT], css);
  }

  /** The element, or null when none matches (no implicit wait). */
  async maybeElement(css, from) {
    const all = await this.findElements(css, from);
    return all[0] ?? null;
  }

  async findElements(css, from) {
    const path = from ? from.path('/elements') : '/elements';
    const v = await this.cmd('POST', path, { using: 'css selector', value: css });
    return v.map((e) => new Element(this, e[ELEMENT], css));
  }

  /** Waits until `css` matches a (displayed, unless `displayed:false`) element. */
  async waitForElement(css, { timeout = 15000, displayed = true } = {}) {
    return waitFor(
      async () => {
        for (const el of await this.findElements(css)) {
          if (!displayed || (await el.displayed())) return el;
        }
        return null;
      },
      { timeout, message: `element ${css}` },
    );
  }

  async waitForGone(css, { timeout = 15000 } = {}) {
    return waitFor(
      async () => {
        for (const el of await this.findElements(css)) {
          if (await el.displayed().catch(() => false)) return false;
        }
        return true;
      },
      { timeout, message: `${css} to disappear` },
    );
  }

  /** Runs `script` (a function body; `arguments` holds `args`, elements as refs). */
  execute(script, ...args) {
    return this.cmd('POST', '/execute/sync', { script, args: args.map(toWire) }).then(fromWire(this));
  }

  /** Like execute, but the body calls `arguments[arguments.length - 1](result)` when done. */
  executeAsync(script, ...args) {
    return this.cmd('POST', '/execute/async', { script, args: args.map(toWire) }, 60000).then(fromWire(this));
  }

  /** Runs an async expression in the page and returns its awaited value: `await (BODY)`. */
  evalAsync(body, ...args) {
    const script = `const done = arguments[arguments.length - 1];
      const args = Array.prototype.slice.call(arguments, 0, -1);
      Promise.resolve().then(async () => { ${body} }).then(
        (v) => done({ ok: true, value: v === undefined ? null : v }),
        (e) => done({ ok: false, error: String(e && (e.message || e)) }));`;
    return this.executeAsync(script, ...args).then((r) => {
      if (!r || !r.ok) throw new Error(`script failed in the page: ${r ? r.error : 'no result'}`);
      return r.value;
    });
  }

  actions(actions) {
    return this.cmd('POST', '/actions', { actions });
  }

  releaseActions() {
    return this.cmd('DELETE', '/actions');
  }

  /** Presses keys (W3C key codes or characters) in order; `mods` are held down around them. */
  async pressKeys(keys, mods = []) {
    const down = mods.map((k) => ({ type: 'keyDown', value: k }));
    const up = mods.map((k) => ({ type: 'keyUp', value: k })).reverse();
    const presses = [];
    for (const k of Array.isArray(keys) ? keys : [keys]) {
      presses.push({ type: 'keyDown', value: k }, { type: 'keyUp', value: k });
    }
    await this.actions([{ type: 'key', id: 'keyboard', actions: [...down, ...presses, ...up] }]);
    await this.releaseActions().catch(() => {});
  }

  /** Types text into whatever has focus, character by character. */
  typeText(text) {
    return this.pressKeys([...text]);
  }

  pointer(actions) {
    return this.actions([{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions }]);
  }

  /** Moves to `el` (offset from its centre), presses, moves by dx/dy in `steps`, releases. */
  async drag(el, { fromX = 0, fromY = 0, dx = 0, dy = 0, steps = 10, stepMs = 16 } = {}) {
    const acts = [
      { type: 'pointerMove', duration: 0, origin: el.ref, x: Math.round(fromX), y: Math.round(fromY) },
      { type: 'pointerDown', button: 0 },
    ];
    for (let i = 1; i <= steps; i++) {
      acts.push({ type: 'pointerMove', duration: stepMs, origin: 'pointer', x: Math.round(dx / steps), y: Math.round(dy / steps) });
    }
    acts.push({ type: 'pointerUp', button: 0 });
    await this.pointer(acts);
    await this.releaseActions().catch(() => {});
  }

  /** A click at a viewport point (x, y). */
  async clickAt(x, y, button = 0) {
    await this.pointer([
      { type: 'pointerMove', duration: 0, origin: 'viewport', x: Math.round(x), y: Math.round(y) },
      { type: 'pointerDown', button },
      { type: 'pointerUp', button },
    ]);
    await this.releaseActions().catch(() => {});
  }

  /**
   * A right-click (button 2) on the element (offset from its centre): opens
   * a context menu. WebKitWebDriver turns a button-2 pointerUp into a
   * button-0 mouseup and a left `click` on the element; ending the action
   * with "release actions" instead sends no such stray click.
   */
  async contextClick(el, { x = 0, y = 0 } = {}) {
    await this.pointer([
      { type: 'pointerMove', duration: 0, origin: el.ref, x: Math.round(x), y: Math.round(y) },
      { type: 'pointerDown', button: 2 },
    ]);
    await this.releaseActions().catch(() => {});
  }

  /**
   * WebKitGTK takes a screenshot after the page's next presentation update;
   * a page with nothing to repaint never has one and the command hangs. So
   * repaint one transparent corner pixel every frame for a moment first.
   */
  nudgeRepaint(ms = 3000) {
    return this.execute(
      `const d = document.createElement('div');
       d.setAttribute('aria-hidden', 'true');
       d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647;background:rgba(0,0,0,0.01)';
       document.documentElement.appendChild(d);
       let n = 0;
       const end = performance.now() + arguments[0];
       const tick = () => {
         n++;
         d.style.background = n % 2 ? 'rgba(0,0,0,0.02)' : 'rgba(0,0,0,0.01)';
         if (performance.now() < end) requestAnimationFrame(tick); else d.remove();
       };
       requestAnimationFrame(tick);`,
      ms,
    );
  }

  async screenshot(file) {
    await this.nudgeRepaint().catch(() => {});
    const b64 = await this.cmd('GET', '/screenshot', undefined, 30000);
    await writeFile(file, Buffer.from(b64, 'base64'));
  }
}

/** POST /session: a new session (the app starts). */
export function newSession(base, capabilities, opts) {
  return Session.create(base, capabilities, opts);
}

function toWire(v) {
  return v instanceof Element ? v.ref : v;
}

function fromWire(session) {
  const conv = (v) => {
    if (Array.isArray(v)) return v.map(conv);
    if (v && typeof v === 'object') {
      if (typeof v[ELEMENT] === 'string' && Object.keys(v).length === 1) return new Element(session, v[ELEMENT]);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)]));
    }
    return v;
  };
  return conv;
}

const SLOW_MS = Number(process.env.E2E_SLOW_MS || 0);

async function request(base, method, path, body, timeout, signal) {
  const started = Date.now();
  try {
    return await send(base, method, path, body, timeout, signal);
  } finally {
    const ms = Date.now() - started;
    if (SLOW_MS && ms >= SLOW_MS) process.stderr.write(`   [slow webdriver call: ${method} ${path.replace(/^\/session\/[^/]+/, '')} took ${ms} ms]\n`);
  }
}

async function send(base, method, path, body, timeout, signal) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  const onAbort = () => ctl.abort();
  signal?.addEventListener('abort', onAbort);
  let res;
  try {
    res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctl.signal,
    });
  } catch (e) {
    if (signal?.aborted) throw new WebDriverError(method, path, 0, { error: 'aborted', message: String(signal.reason?.message ?? signal.reason ?? 'aborted') });
    if (e.name === 'AbortError') throw new WebDriverError(method, path, 0, { error: 'timeout', message: `no answer in ${timeout} ms` });
    throw new WebDriverError(method, path, 0, { error: 'connection', message: e.cause?.message ?? e.message });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new WebDriverError(method, path, res.status, { error: 'bad response', message: text.slice(0, 300) });
  }
  if (!res.ok) {
    throw new WebDriverError(method, path, res.status, json.value ?? json);
  }
  return json.value;
}
