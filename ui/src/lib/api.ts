// Typed wrappers over the Tauri commands of src-tauri/src/commands.rs.
// Argument names are camelCase on this side (Tauri maps them to the Rust
// snake_case names). The engine computes everything; these only ask.

import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  BlameRow,
  BookmarkRow,
  Change,
  EntityHistory,
  FieldChoice,
  Hit,
  Histogram,
  IndexProgress,
  IpcError,
  ListFilter,
  ListPage,
  Markers,
  OpenRequest,
  Position,
  Refreshed,
  Session,
  SourceInfo,
  TreeNode,
} from './ipc-types';

// The boundary's types, for the components.
export type * from './ipc-types';

/** Opens files (indexing them as needed); progress arrives on `onProgress`. */
export function open(
  paths: string[],
  onProgress: (p: IndexProgress) => void,
  opts: { reducer?: string | null; fields?: FieldChoice | null } = {},
): Promise<SourceInfo> {
  const channel = new Channel<IndexProgress>();
  channel.onmessage = onProgress;
  const request: OpenRequest = { paths, reducer: opts.reducer ?? null, fields: opts.fields ?? null };
  return invoke<SourceInfo>('open', { request, onProgress: channel });
}

/** Files given on the command line (taken once). */
export const initialFiles = (): Promise<string[]> => invoke('initial_files');

/** Recently opened files, newest first. */
export const recentFiles = (): Promise<string[]> => invoke('recent_files');

/** The error sentence for a reducer spec, or null when it is valid. */
export const checkReducer = (spec: string): Promise<string | null> => invoke('check_reducer', { spec });

/** Rows `offset .. offset + limit` of the events passing `filter`. */
export const list = (filter: ListFilter, offset: number, limit: number): Promise<ListPage> =>
  invoke('list', { filter, offset, limit });

/** The row index, under `filter`, of the first event at or after `seq`. */
export const listIndex = (filter: ListFilter, seq: number): Promise<number> => invoke('list_index', { filter, seq });

/** Event, state-tree root page and changes at one scrubber position. */
export const position = (seq: number, pin: number | null, treeLimit: number): Promise<Position> =>
  invoke('position', { seq, pin, treeLimit });

/** One page of one level of the state tree after event `seq`. */
export const treeNode = (seq: number, path: string, offset: number, limit: number): Promise<TreeNode> =>
  invoke('tree_node', { seq, path, offset, limit });

/** The changes turning the state after `a` into the state after `b`. */
export const diff = (a: number, b: number): Promise<Change[]> => invoke('diff', { a, b });

/** Every event that changed the value at `path`. */
export const blame = (path: string): Promise<BlameRow[]> => invoke('blame', { path });

/** One entity's timeline: its events and every event that changed it, with its value after each. */
export const entityHistory = (key: string): Promise<EntityHistory> => invoke('entity_history', { key });

/** Events at which a jq predicate over the state turns true. */
export const find = (expr: string, all: boolean): Promise<Hit[]> => invoke('find', { expr, all });

/** Event density for the timeline; `start`/`end` in the axis' unit (ms or seq). */
export const histogram = (bins: number, start: number | null, end: number | null): Promise<Histogram> =>
  invoke('histogram', { bins, start, end });

/** Marked events, parse-error positions and bookmarked events. */
export const markers = (): Promise<Markers> => invoke('markers');

/** Every bookmark of the open source, in event order. */
export const bookmarks = (): Promise<BookmarkRow[]> => invoke('bookmarks');

/** Bookmarks event `seq` with a note and tags. */
export const addBookmark = (seq: number, note: string, tags: string[]): Promise<BookmarkRow> =>
  invoke('add_bookmark', { seq, note, tags });

/** Removes bookmark `id`. */
export const removeBookmark = (id: number): Promise<void> => invoke('remove_bookmark', { id });

/** Writes the audit report (one HTML file) to `path`; answers the path written. */
export const exportReport = (path: string): Promise<string> => invoke('export_report', { path });

/** The next or previous event of the same type (or key) as `seq`. */
export const neighbor = (seq: number, byKey: boolean, forward: boolean): Promise<number | null> =>
  invoke('neighbor', { seq, byKey, forward });

/** The first event after `seq` that changes the value at `path`. */
export const nextChange = (path: string, seq: number): Promise<number | null> => invoke('next_change', { path, seq });

/** The last event at or before a time (ms since the epoch). */
export const seqAtTime = (ms: number): Promise<number> => invoke('seq_at_time', { ms });

/**
 * Live tail: looks at the open files again and indexes what was appended
 * (or all of it after a truncation or rotation); `action` says which.
 */
export const refresh = (): Promise<Refreshed> => invoke('refresh');

/** What is open now; its count grows while the rest of the files is indexed. */
export const sourceInfoNow = (): Promise<SourceInfo> => invoke('source_info_now');

/** Remembers where the user is in these files; `open` answers it next time. */
export const saveSession = (paths: string[], session: Session): Promise<void> => invoke('save_session', { paths, session });

function isIpcError(e: unknown): e is IpcError {
  return typeof e === 'object' && e !== null && typeof (e as IpcError).message === 'string' && 'code' in e;
}

/** The one readable sentence to show for a failure: never a stack trace. */
export function errorMessage(e: unknown): string {
  if (isIpcError(e)) return e.message;
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message.split('\n')[0] || 'Something went wrong.';
  return 'Something went wrong; try again.';
}
