// The state tree, loaded lazily: one page of one level at a time, from
// `position(...).tree` (the root) and `tree_node(seq, path, offset, limit)`.
// Paths are JSON Pointers as the engine writes them ("" is the root).
// This module decides what to fetch and what to show; it computes no state.

import type { Change, TreeChild, TreeNode } from './ipc-types';

/** Children fetched per page. */
export const PAGE = 200;
/** The engine's cap on one page. */
export const MAX_PAGE = 10_000;

export interface LoadedNode {
  path: string;
  kind: string;
  size: number;
  /** Children 0 .. children.length of `size`, in engine order. */
  children: TreeChild[];
}

export type Loaded = Map<string, LoadedNode>;

export const isContainer = (kind: string) => kind === 'object' || kind === 'array';

/** "/a/b" → "/a"; "/a" → ""; "" → null. */
export function parentPath(path: string): string | null {
  if (path === '') return null;
  const i = path.lastIndexOf('/');
  return i <= 0 ? '' : path.slice(0, i);
}

/** Number of tokens: "" → 0, "/a" → 1, "/a/b" → 2. */
export function depth(path: string): number {
  if (path === '') return 0;
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path[i] === '/') n++;
  return n;
}

/** A first page from the engine as a loaded node. */
export function fromPage(page: TreeNode): LoadedNode {
  return { path: page.path, kind: page.kind, size: page.size, children: page.offset === 0 ? page.children.slice() : [] };
}

/** Adds a further page; a page that does not continue the node is ignored. */
export function mergePage(node: LoadedNode, page: TreeNode): LoadedNode {
  if (page.path !== node.path || page.offset !== node.children.length) return node;
  return { ...node, size: page.size, kind: page.kind, children: node.children.concat(page.children) };
}

/** The next page to ask for, or null when every child is loaded. */
export function nextPage(node: LoadedNode, page = PAGE): { offset: number; limit: number } | null {
  if (node.children.length >= node.size) return null;
  return { offset: node.children.length, limit: page };
}

/**
 * How many children to ask for when a node is loaded again (at another
 * seq): as many as the user had loaded, at least a page, at most the cap.
 */
export function limitFor(previouslyLoaded: number | undefined): number {
  return Math.min(MAX_PAGE, Math.max(PAGE, previouslyLoaded ?? 0));
}

/**
 * Expanded paths to fetch now: those whose parent is loaded and lists them
 * as a non-empty container, and that are not loaded themselves. Deeper
 * ones follow once their parents arrive (call again). Shallowest first.
 */
export function pathsToFetch(expanded: Iterable<string>, loaded: Loaded): string[] {
  const out: string[] = [];
  for (const path of expanded) {
    if (path === '' || loaded.has(path)) continue;
    const parent = parentPath(path);
    if (parent === null) continue;
    const p = loaded.get(parent);
    if (!p) continue;
    const child = p.children.find((c) => c.path === path);
    if (child && isContainer(child.kind) && child.size > 0) out.push(path);
  }
  return out.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Every path a node must have to be highlighted for these changes: each
 * change path and all its ancestors. A node is highlighted when a change
 * path equals it or starts with it + "/".
 */
export function changedPaths(changes: readonly Pick<Change, 'path'>[]): Set<string> {
  const set = new Set<string>();
  for (const c of changes) {
    let p: string | null = c.path;
    while (p !== null && !set.has(p)) {
      set.add(p);
      p = parentPath(p);
    }
  }
  return set;
}

/** The highlight rule, directly (changedPaths is the fast form). */
export function isChanged(path: string, changes: readonly Pick<Change, 'path'>[]): boolean {
  return changes.some((c) => c.path === path || c.path.startsWith(`${path}/`));
}

/** A JSON Pointer token as text: "a~1b~0c" → "a/b~c". */
export function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

export type Row =
  | {
      type: 'node';
      child: TreeChild;
      depth: number;
      expanded: boolean;
      loading: boolean;
      changed: boolean;
      match: boolean;
      /** Shown above the tree because the root page does not hold it. */
      outside?: boolean;
    }
  | { type: 'more'; path: string; depth: number; loaded: number; size: number };

export interface RowOptions {
  expanded: ReadonlySet<string>;
  changed?: ReadonlySet<string>;
  /** Show only loaded nodes that match (or hold a loaded match), expanded. */
  query?: string;
  /** Stop after this many rows (the pane renders no more). */
  max?: number;
  /** Top-level members shown first, outside the loaded root page. */
  extra?: readonly TreeChild[];
}

function matches(child: TreeChild, q: string): boolean {
  return child.key.toLowerCase().includes(q) || child.preview.toLowerCase().includes(q);
}

/**
 * Paths of loaded nodes that match the query or contain a loaded match,
 * computed bottom-up over what is loaded.
 */
export function searchHits(loaded: Loaded, query: string, extra: readonly TreeChild[] = []): Set<string> {
  const q = query.toLowerCase();
  const keep = new Set<string>();
  const visit = (path: string): boolean => {
    const node = loaded.get(path);
    if (!node) return false;
    let any = false;
    for (const c of node.children) {
      const sub = isContainer(c.kind) ? visit(c.path) : false;
      if (sub || matches(c, q)) {
        keep.add(c.path);
        any = true;
      }
    }
    return any;
  };
  visit('');
  for (const c of extra) {
    if ((isContainer(c.kind) && visit(c.path)) || matches(c, q)) keep.add(c.path);
  }
  return keep;
}

/** The tree flattened into the rows to show, depth first. */
export function visibleRows(loaded: Loaded, opts: RowOptions): Row[] {
  const rows: Row[] = [];
  const max = opts.max ?? Infinity;
  const q = opts.query?.trim().toLowerCase() ?? '';
  const hits = q ? searchHits(loaded, q, opts.extra) : null;
  const visit = (child: TreeChild, d: number, outside: boolean) => {
    const container = isContainer(child.kind) && child.size > 0;
    const open = container && (hits ? loaded.has(child.path) : opts.expanded.has(child.path));
    rows.push({
      type: 'node',
      child,
      depth: d,
      expanded: open,
      loading: open && !loaded.has(child.path),
      changed: opts.changed?.has(child.path) ?? false,
      match: q ? matches(child, q) : false,
      ...(outside ? { outside } : {}),
    });
    if (open) walk(child.path, d + 1);
  };
  const walk = (path: string, d: number) => {
    const node = loaded.get(path);
    if (!node) return;
    for (const child of node.children) {
      if (rows.length >= max) return;
      if (hits && !hits.has(child.path)) continue;
      visit(child, d, false);
    }
    if (!hits && node.children.length < node.size && rows.length < max) {
      rows.push({ type: 'more', path, depth: d, loaded: node.children.length, size: node.size });
    }
  };
  // A member shown above the tree is dropped once its page is loaded.
  const inRoot = new Set((loaded.get('')?.children ?? []).map((c) => c.path));
  for (const child of opts.extra ?? []) {
    if (rows.length >= max) break;
    if (inRoot.has(child.path)) continue;
    if (hits && !hits.has(child.path) && !(q && matches(child, q))) continue;
    visit(child, 0, true);
  }
  walk('', 0);
  return rows;
}
