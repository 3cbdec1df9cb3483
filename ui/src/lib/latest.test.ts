import { describe, expect, it } from 'vitest';
import { LatestOnly } from './latest';

/** A request whose answer the test releases by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function harness(intermediate: boolean) {
  const calls: { arg: number; d: ReturnType<typeof deferred<string>> }[] = [];
  const results: { r: string; latest: boolean }[] = [];
  const errors: unknown[] = [];
  const q = new LatestOnly<number, string>({
    intermediate,
    run: (arg) => {
      const d = deferred<string>();
      calls.push({ arg, d });
      return d.promise;
    },
    onResult: (r, _a, latest) => results.push({ r, latest }),
    onError: (e) => errors.push(e),
  });
  return { q, calls, results, errors };
}

describe('latest-only requests', () => {
  it('keeps one request in flight and sends only the newest wish after it', async () => {
    const { q, calls, results } = harness(false);
    q.request(1);
    q.request(2);
    q.request(3);
    q.request(4);
    expect(calls.map((c) => c.arg)).toEqual([1]);
    calls[0].d.resolve('one');
    await tick();
    // 2 and 3 were never sent; 4 is.
    expect(calls.map((c) => c.arg)).toEqual([1, 4]);
    // The answer for 1 was stale (4 was wanted) and dropped.
    expect(results).toEqual([]);
    calls[1].d.resolve('four');
    await tick();
    expect(results).toEqual([{ r: 'four', latest: true }]);
    expect(q.sent).toBe(2);
    expect(q.busy).toBe(false);
  });

  it('delivers superseded answers as intermediate when asked to', async () => {
    const { q, calls, results } = harness(true);
    q.request(1);
    q.request(2);
    calls[0].d.resolve('one');
    await tick();
    expect(results).toEqual([{ r: 'one', latest: false }]);
    calls[1].d.resolve('two');
    await tick();
    expect(results).toEqual([
      { r: 'one', latest: false },
      { r: 'two', latest: true },
    ]);
  });

  it('sends at once when idle', async () => {
    const { q, calls, results } = harness(false);
    q.request(1);
    calls[0].d.resolve('a');
    await tick();
    q.request(2);
    expect(calls).toHaveLength(2);
    calls[1].d.resolve('b');
    await tick();
    expect(results.map((r) => r.r)).toEqual(['a', 'b']);
  });

  it('drops answers asked before a reset', async () => {
    const { q, calls, results } = harness(true);
    q.request(1);
    q.request(2);
    q.reset();
    calls[0].d.resolve('old');
    await tick();
    // The pending wish was forgotten too.
    expect(calls).toHaveLength(1);
    expect(results).toEqual([]);
    q.request(3);
    calls[1].d.resolve('new');
    await tick();
    expect(results).toEqual([{ r: 'new', latest: true }]);
  });

  it('reports only the failure of the newest request and keeps going', async () => {
    const { q, calls, results, errors } = harness(true);
    q.request(1);
    q.request(2);
    calls[0].d.reject(new Error('stale failure'));
    await tick();
    expect(errors).toEqual([]);
    calls[1].d.reject({ code: 'query', message: 'bad' });
    await tick();
    expect(errors).toEqual([{ code: 'query', message: 'bad' }]);
    q.request(3);
    calls[2].d.resolve('ok');
    await tick();
    expect(results).toEqual([{ r: 'ok', latest: true }]);
  });
});
