// Generated from src-tauri/src/ipc.rs by ts-rs. Do not edit:
// run `UPDATE_BINDINGS=1 cargo test -p hindsight-app bindings` instead.

export type IpcError = { code: string, message: string, };

export type FieldChoice = { ts: string | null, type: string | null, key: string | null, level: string | null, payload: string | null, };

export type OpenRequest = { paths: Array<string>, reducer: string | null, fields: FieldChoice | null, };

export type IndexProgress = { bytes: number, total_bytes: number, events: number, events_per_second: number, eta_seconds: number | null, 
/**
 * Events 1..=usable can be shown now, before indexing ends.
 */
usable: number, 
/**
 * The last message: indexing ended (`error` says why when it failed
 * after the first events were shown).
 */
done: boolean, error: string | null, };

export type TextIndexProgress = { 
/**
 * The files it is for, as opened (an earlier file set's last message
 * may arrive after another was opened).
 */
files: Array<string>, covered: number, total: number, };

export type NameCount = { name: string, count: number, };

export type SourceInfo = { files: Array<string>, format: string, reducer: string, events: number, errors: number, marked: number, first_ts: string | null, last_ts: string | null, 
/**
 * The field chosen for each slot (ts, type, key, level, payload).
 */
fields: FieldChoice, types: Array<NameCount>, levels: Array<NameCount>, keys: number, index_seconds: number, notes: Array<string>, 
/**
 * Where the user left these files last time (answered by `open` only).
 */
session: Session | null, 
/**
 * The rest of the files is still being indexed: `events` grows, and
 * progress keeps arriving on the open's channel until `done`.
 */
indexing: boolean, };

export type ListFilter = { type: string | null, key: string | null, level: string | null, text: string | null, since: string | null, until: string | null, };

export type Session = { seq: number, filter: ListFilter, pin: number | null, 
/**
 * JSON Pointers of the expanded state-tree nodes.
 */
open: Array<string>, };

export type EventRow = { seq: number, line: number, ts: string | null, type: string | null, key: string | null, level: string | null, marked: boolean, };

export type ListPage = { total: number, offset: number, rows: Array<EventRow>, };

export type EventDetail = { seq: number, line: number, ts: string | null, type: string | null, key: string | null, level: string | null, payload: unknown, raw: string, 
/**
 * Why the reducer could not apply this event.
 */
mark: string | null, 
/**
 * The record held invalid UTF-8, shown with replacement characters.
 */
lossy: boolean, };

export type TreeChild = { key: string, path: string, 
/**
 * object, array, string, number, boolean or null.
 */
kind: string, size: number, 
/**
 * JSON text of a scalar; empty for objects and arrays.
 */
preview: string, };

export type TreeNode = { path: string, kind: string, size: number, offset: number, children: Array<TreeChild>, };

export type Change = { 
/**
 * add, remove or replace.
 */
op: string, path: string, old: unknown, new: unknown, };

export type Position = { seq: number, 
/**
 * The seq the diff is against: the previous event, or the pinned one.
 */
base: number, event: EventDetail | null, tree: TreeNode, changes: Array<Change>, 
/**
 * First pages of the top-level members the changes touch that `tree`
 * does not show (at most ten): a root of 60,000 entities shows 200, and
 * the window shows changed ones anyway. Sent along so that a scrubber
 * move is one round trip.
 */
outside: Array<TreeNode>, };

export type BlameRow = { seq: number, ts: string | null, type: string | null, old: unknown, new: unknown, };

export type EntityStep = { seq: number, ts: string | null, type: string | null, 
/**
 * Whether the event carries the entity's key.
 */
keyed: boolean, change: string, value?: unknown, };

export type Lifetime = { created: number, deleted: number | null, };

export type EntityHistory = { key: string, path: string, lifetimes: Array<Lifetime>, steps: Array<EntityStep>, };

export type Hit = { seq: number, ts: string | null, type: string | null, };

export type Bin = { count: number, levels: Array<number>, first_seq: number, };

export type Histogram = { 
/**
 * "time" (start/end in ms since the epoch) or "seq".
 */
axis: string, start: number, end: number, bins: Array<Bin>, };

export type Markers = { marked: Array<number>, errors: Array<number>, bookmarks: Array<number>, };

export type BookmarkRow = { id: number, seq: number, note: string, tags: Array<string>, created: string, stale: boolean, };

export type Refreshed = { action: string, info: SourceInfo, notice: string | null, };
