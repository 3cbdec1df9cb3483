import { describe, expect, it } from 'vitest';
import type { TreeChild, TreeNode } from './ipc-types';
import {
  PAGE,
  changedPaths,
  depth,
  fromPage,
  isChanged,
  limitFor,
  mergePage,
  nextPage,
  parentPath,
  pathsToFetch,
  searchHits,
  unescapeToken,
  visibleRows,
  type Loaded,
  type LoadedNode,
} from './tree';

const obj = (key: string, path: string, size: number): TreeChild => ({ key, path, kind: 'object', size, preview: '' });
const num = (key: string, path: string, v: number): TreeChild => ({ key, path, kind: 'number', size: 0, preview: String(v) });
const str = (key: string, path: string, v: string): TreeChild => ({ key, path, kind: 'string', size: 0, preview: JSON.stringify(v) });

function node(path: string, children: TreeChild[], size = children.length): LoadedNode {
  return { path, kind: 'object', size, children };
}

describe('paths', () => {
  it('finds parents and depths of JSON Pointers', () => {
    expect(parentPath('')).toBeNull();
    expect(parentPath('/a')).toBe('');
    expect(parentPath('/a/b')).toBe('/a');
    expect(parentPath('/a~1b/c')).toBe('/a~1b');
    expect(depth('')).toBe(0);
    expect(depth('/a')).toBe(1);
    expect(depth('/a/b/0')).toBe(3);
  });
});

describe('what to fetch', () => {
  const loaded: Loaded = new Map([
    ['', node('', [obj('a', '/a', 2), obj('b', '/b', 0), num('n', '/n', 1)])],
  ]);

  it('fetches expanded containers whose parent is loaded, shallowest first', () => {
    const expanded = new Set(['/a/x', '/a', '/b', '/n', '/gone', '/a/x/y']);
    // /a/x waits for /a; /b is empty; /n is a scalar; /gone is not in the state.
    expect(pathsToFetch(expanded, loaded)).toEqual(['/a']);
    const more = new Map(loaded).set('/a', node('/a', [obj('x', '/a/x', 1), num('k', '/a/k', 2)]));
    expect(pathsToFetch(expanded, more)).toEqual(['/a/x']);
  });

  it('fetches nothing already loaded or collapsed above', () => {
    const more = new Map(loaded).set('/a', node('/a', [obj('x', '/a/x', 1)]));
    expect(pathsToFetch(new Set(['/a']), more)).toEqual([]);
    // /a/x stays expanded but its parent /a is collapsed and not loaded.
    expect(pathsToFetch(new Set(['/a/x']), loaded)).toEqual([]);
  });

  it('only finds children that are loaded in their parent’s page', () => {
    // Root has 60,000 members; only 200 are loaded.
    const kids = Array.from({ length: PAGE }, (_, i) => obj(`e${i}`, `/e${i}`, 3));
    const big: Loaded = new Map([['', node('', kids, 60_000)]]);
    expect(pathsToFetch(new Set(['/e5', '/e59999']), big)).toEqual(['/e5']);
  });
});

describe('paging', () => {
  const page = (offset: number, n: number, size: number): TreeNode => ({
    path: '',
    kind: 'object',
    size,
    offset,
    children: Array.from({ length: n }, (_, i) => num(`k${offset + i}`, `/k${offset + i}`, i)),
  });

  it('pages 200 at a time until every child is loaded', () => {
    let n = fromPage(page(0, PAGE, 450));
    expect(n.children).toHaveLength(200);
    expect(nextPage(n)).toEqual({ offset: 200, limit: PAGE });
    n = mergePage(n, page(200, PAGE, 450));
    expect(nextPage(n)).toEqual({ offset: 400, limit: PAGE });
    n = mergePage(n, page(400, 50, 450));
    expect(n.children).toHaveLength(450);
    expect(n.children[449].key).toBe('k449');
    expect(nextPage(n)).toBeNull();
  });

  it('ignores a page that does not continue the node', () => {
    const n = fromPage(page(0, 10, 100));
    expect(mergePage(n, page(50, 10, 100))).toBe(n);
    expect(mergePage(n, { ...page(10, 10, 100), path: '/other' })).toBe(n);
  });

  it('asks again for as many children as were loaded, within bounds', () => {
    expect(limitFor(undefined)).toBe(200);
    expect(limitFor(50)).toBe(200);
    expect(limitFor(800)).toBe(800);
    expect(limitFor(50_000)).toBe(10_000);
  });
});

describe('highlight by change path', () => {
  const changes = [{ path: '/order-17/status' }, { path: '/order-18' }];

  it('highlights the changed node and its ancestors, not siblings or prefixes', () => {
    expect(isChanged('/order-17/status', changes)).toBe(true);
    expect(isChanged('/order-17', changes)).toBe(true);
    expect(isChanged('/order-18', changes)).toBe(true);
    expect(isChanged('/order-17/total', changes)).toBe(false);
    expect(isChanged('/order-1', changes)).toBe(false);
    expect(isChanged('/order-17/status/x', changes)).toBe(false);
  });

  it('agrees with the set used for rendering', () => {
    const set = changedPaths(changes);
    for (const p of ['/order-17/status', '/order-17', '/order-18', '/order-17/total', '/order-1', '/order-1/status']) {
      expect(set.has(p)).toBe(isChanged(p, changes));
    }
  });
});

describe('rows to show', () => {
  const loaded: Loaded = new Map([
    ['', node('', [obj('a', '/a', 2), str('s', '/s', 'hello')], 5)],
    ['/a', node('/a', [num('x', '/a/x', 1), str('y', '/a/y', 'needle')])],
  ]);

  it('walks expanded nodes depth first and offers more', () => {
    const rows = visibleRows(loaded, { expanded: new Set(['/a']), changed: new Set(['/a', '/a/x']) });
    const shown = rows.map((r) => (r.type === 'node' ? `${r.depth}:${r.child.path}${r.changed ? '*' : ''}` : `more:${r.path}:${r.loaded}/${r.size}`));
    expect(shown).toEqual(['0:/a*', '1:/a/x*', '1:/a/y', '0:/s', 'more::2/5']);
  });

  it('hides the children of collapsed nodes', () => {
    const rows = visibleRows(loaded, { expanded: new Set() });
    expect(rows.filter((r) => r.type === 'node').map((r) => (r.type === 'node' ? r.child.path : ''))).toEqual(['/a', '/s']);
  });

  it('marks an expanded node whose page has not come as loading', () => {
    const only: Loaded = new Map([['', node('', [obj('a', '/a', 2)])]]);
    const [row] = visibleRows(only, { expanded: new Set(['/a']) });
    expect(row.type === 'node' && row.loading).toBe(true);
  });

  it('searches the loaded tree, keeping the ancestors of matches', () => {
    expect([...searchHits(loaded, 'NEEDLE')].sort()).toEqual(['/a', '/a/y']);
    const rows = visibleRows(loaded, { expanded: new Set(), query: 'needle' });
    expect(rows.map((r) => (r.type === 'node' ? `${r.child.path}${r.match ? '!' : ''}` : 'more'))).toEqual(['/a', '/a/y!']);
  });

  it('stops at the row cap', () => {
    expect(visibleRows(loaded, { expanded: new Set(['/a']), max: 2 })).toHaveLength(2);
  });
});

describe('changes beyond the loaded root page', () => {
  const kids = Array.from({ length: 3 }, (_, i) => obj(`e${i}`, `/e${i}`, 1));
  const root = node('', kids, 60_000);

  it('shows them first, marked, and decodes their keys', () => {
    expect(unescapeToken('a~1b~0c')).toBe('a/b~c');
    const extra = obj('order-17', '/order-17', 2);
    const loaded: Loaded = new Map([
      ['', root],
      ['/order-17', node('/order-17', [str('status', '/order-17/status', 'shipped')])],
    ]);
    const rows = visibleRows(loaded, { expanded: new Set(['/order-17']), extra: [extra], changed: changedPaths([{ path: '/order-17/status' }]) });
    const first = rows.slice(0, 3).map((r) => (r.type === 'node' ? `${r.child.path}${r.outside ? '@' : ''}${r.changed ? '*' : ''}` : r.type));
    expect(first).toEqual(['/order-17@*', '/order-17/status*', '/e0']);
  });
});

describe('a changed member shown above the tree', () => {
  it('is dropped once the root page holding it is loaded', () => {
    const extra = obj('z', '/z', 1);
    const loaded: Loaded = new Map([['', node('', [obj('a', '/a', 1), extra], 3)]]);
    const paths = visibleRows(loaded, { expanded: new Set(), extra: [extra] }).map((r) => (r.type === 'node' ? r.child.path : 'more'));
    expect(paths).toEqual(['/a', '/z', 'more']);
  });
});
