//! A source: one log opened through its index, and every question the
//! product asks of it — events, parse errors, state at any point, diffs,
//! blame, find, SQL (SPEC §4, §5).
//!
//! API boundary: this is what the CLI, the desktop shell and the benchmarks
//! call. Everything returned is plain data (serde-serialisable); nothing here
//! prints.

use crate::bookmarks::{self, Bookmark};
use crate::index::{BuildOptions, Index, Location, OpenReport, Progress, Settings};
use crate::jq::{Budget, JqProgram};
use crate::patch::{self, PatchOp};
use crate::reducer::{self, EventView, Reducer};
use crate::search::{self, TextIndexStatus, TextIndexer};
use crate::replay::{self, Files, Row, FLAG_LOSSY_UTF8};
use crate::state::{self, State, Touched};
use crate::time::{Level, Timestamp};
use crate::{Error, Result};
use rusqlite::{params, params_from_iter, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to open a source.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub settings: Settings,
    pub location: Location,
    /// How a new index is built: shared with [`Source::open_building`]
    /// while it runs (the desktop app does; it costs the build a little),
    /// and cancellable.
    pub build: BuildOptions,
}

/// `hindsight index`: what was indexed.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub format: String,
    pub reducer: String,
    pub events: u64,
    pub errors: u64,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub seconds: f64,
}

/// `hindsight info`: the summary and what the log holds.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    #[serde(flatten)]
    pub summary: Summary,
    pub types: BTreeMap<String, u64>,
    pub keys: u64,
    pub levels: BTreeMap<String, u64>,
    pub fields: BTreeMap<&'static str, String>,
    /// Why detection passed over some candidate fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub field_notes: Vec<String>,
    /// Events the reducer could not apply.
    pub marked: u64,
    /// Things worth knowing about the file, reported once (e.g. times that
    /// did not parse).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<ParseError>,
    pub index: String,
}

/// One event as the product shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub seq: u64,
    /// The file the event came from, when several are merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'static str>,
    pub payload: Value,
    #[serde(skip)]
    pub raw: String,
    /// The record held invalid UTF-8 and was decoded lossily.
    #[serde(skip)]
    pub lossy: bool,
    /// Why the reducer could not apply this event, if it could not.
    #[serde(skip)]
    pub mark: Option<String>,
}

/// Filters for listing events. All given filters must match.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub from: Option<u64>,
    pub limit: Option<u64>,
    pub ty: Option<String>,
    pub key: Option<String>,
    pub level: Option<String>,
    /// Case-insensitive text that the raw record must contain.
    pub search: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParseError {
    /// The file, when several are merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub line: u64,
    pub message: String,
}

/// One change of the value at a path: `old`/`new` are `None` when absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlameEntry {
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// What one event did to the value under [`Source::walk_value`] (`None`:
/// absent).
pub(crate) enum Seen<'a> {
    /// The value is as it was.
    Same(&'a Option<Value>),
    /// The value changed from `old` to `new`.
    Changed { old: Option<Value>, new: &'a Option<Value> },
}

/// An event at which a predicate turned true.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
}

/// Recently computed states, so that stepping and adjacent diffs replay one
/// event instead of restoring from a checkpoint.
#[derive(Default)]
struct StateCache {
    entries: Vec<(u64, State)>,
}

const CACHE_STATES: usize = 6;

impl StateCache {
    /// The cached state with the greatest seq ≤ n.
    fn best(&self, n: u64) -> Option<&(u64, State)> {
        self.entries.iter().filter(|(s, _)| *s <= n).max_by_key(|(s, _)| *s)
    }

    fn put(&mut self, seq: u64, state: &State) {
        if self.entries.iter().any(|(s, _)| *s == seq) {
            return;
        }
        if self.entries.len() >= CACHE_STATES {
            state::drop_later(self.entries.remove(0).1);
        }
        self.entries.push((seq, state.clone()));
    }
}

pub struct Source {
    index: Index,
    files: RefCell<Files>,
    cache: RefCell<StateCache>,
    events: u64,
    /// The paths as the caller gave them, for naming files in answers.
    given: Vec<PathBuf>,
}

/// How many events either side of its old place a bookmark looks for its
/// event after the source was rewritten.
const RELOCATE_WINDOW: u64 = 1000;

/// The current time, RFC 3339 to the second.
fn now_to_the_second() -> String {
    let now = Timestamp::now();
    Timestamp::from_nanos(now.nanos - now.nanos.rem_euclid(1_000_000_000), 0).to_rfc3339()
}

fn sql_err(db: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::index(db, e)
}

impl Source {
    /// Opens (indexing as needed) the log at `paths`.
    pub fn open(paths: &[PathBuf], opts: &OpenOptions, progress: &mut dyn FnMut(Progress)) -> Result<Source> {
        let index = Index::open(paths, &opts.settings, &opts.location, &opts.build, progress)?;
        Source::over(index, paths)
    }

    /// Opens the index being built for `paths` by [`Source::open`] with
    /// `build.share` on another thread, as far as it is committed:
    /// its events are the first `count()` of the source, and every answer
    /// about them is final. Call it again to see more.
    pub fn open_building(paths: &[PathBuf], opts: &OpenOptions) -> Result<Source> {
        Source::over(Index::open_building(paths, &opts.settings, &opts.location)?, paths)
    }

    /// True while this source reads an index still being built.
    pub fn building(&self) -> bool {
        self.index.report.action == "building"
    }

    fn over(index: Index, paths: &[PathBuf]) -> Result<Source> {
        let files = RefCell::new(index.open_files()?);
        let events: i64 = index
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
            .map_err(sql_err(&index.db_path))?;
        Ok(Source { index, files, cache: RefCell::default(), events: events as u64, given: paths.to_vec() })
    }

    /// Number of events (seqs run 1..=count).
    pub fn count(&self) -> u64 {
        self.events
    }

    pub fn report(&self) -> &OpenReport {
        &self.index.report
    }

    /// The files of the source, as opened (canonical paths).
    pub fn files(&self) -> &[PathBuf] {
        &self.index.files
    }

    pub fn index_path(&self) -> &Path {
        &self.index.db_path
    }

    pub fn reducer_name(&self) -> String {
        self.index.reducer.name()
    }

    pub(crate) fn connection(&self) -> &rusqlite::Connection {
        &self.index.conn
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    /// What the index was built with (format, fields, reducer).
    pub fn config(&self) -> &crate::index::Config {
        &self.index.config
    }

    fn db(&self) -> &Path {
        &self.index.db_path
    }

    fn scalar(&self, sql: &str) -> Result<i64> {
        self.index.conn.query_row(sql, [], |r| r.get(0)).map_err(sql_err(self.db()))
    }

    /// The first or last event time (`which`: `first_ts`/`last_ts`) as
    /// (nanoseconds, fraction digits), kept by the build with each commit.
    fn ts_extreme(&self, which: &str) -> Result<Option<(i64, i64)>> {
        crate::index::read_ts_extreme(&self.index.conn, which).map_err(sql_err(self.db()))
    }

    /// The first and last event times in nanoseconds (`None` when no event
    /// has a time).
    pub(crate) fn ts_range(&self) -> Result<Option<(i64, i64)>> {
        Ok(self.ts_extreme("first_ts")?.map(|t| t.0).zip(self.ts_extreme("last_ts")?.map(|t| t.0)))
    }

    pub fn summary(&self) -> Result<Summary> {
        // Kept by the build with each commit: no scan of the events.
        let ts = |which: &str| -> Result<Option<String>> {
            Ok(self.ts_extreme(which)?.map(|(n, d)| Timestamp::from_nanos(n, d.clamp(0, 9) as u8).to_rfc3339()))
        };
        Ok(Summary {
            format: self.index.config.format_label(),
            reducer: self.index.config.reducer.clone(),
            events: self.events,
            errors: self.scalar("SELECT count(*) FROM errors")? as u64,
            first_ts: ts("first_ts")?,
            last_ts: ts("last_ts")?,
            seconds: (self.index.report.seconds * 1000.0).round() / 1000.0,
        })
    }

    pub fn info(&self) -> Result<Info> {
        let counts = |sql: &str| -> Result<BTreeMap<String, u64>> {
            let mut stmt = self.index.conn.prepare(sql).map_err(sql_err(self.db()))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))
                .map_err(sql_err(self.db()))?;
            rows.collect::<rusqlite::Result<_>>().map_err(sql_err(self.db()))
        };
        let levels = counts("SELECT CAST(level AS TEXT), count FROM level_counts WHERE count > 0")?
            .into_iter()
            .filter_map(|(code, n)| Some((Level::from_code(code.parse().ok()?)?.as_str().to_string(), n)))
            .collect();
        Ok(Info {
            summary: self.summary()?,
            types: counts("SELECT name, count FROM types WHERE count > 0")?,
            keys: (self.scalar("SELECT count(*) FROM keys")?
                - self.scalar("SELECT coalesce((SELECT json_array_length(value) FROM meta WHERE key = 'orphan_keys'), 0)")?)
                as u64,
            levels,
            fields: self.index.config.fields.describe(),
            field_notes: self.index.config.notes.clone(),
            marked: self.scalar("SELECT count(*) FROM marks")? as u64,
            notices: {
                let mut stmt = self.index.conn.prepare("SELECT file, line, message FROM notices ORDER BY id").map_err(sql_err(self.db()))?;
                let rows = stmt
                    .query_map([], |r| Ok(ParseError { file: self.file_label(r.get::<_, i64>(0)? as u32), line: r.get::<_, i64>(1)? as u64, message: r.get(2)? }))
                    .map_err(sql_err(self.db()))?;
                rows.collect::<rusqlite::Result<_>>().map_err(sql_err(self.db()))?
            },
            index: self.db().display().to_string(),
        })
    }

    /// Parse errors in file order.
    pub fn errors(&self) -> Result<Vec<ParseError>> {
        let mut stmt = self.index.conn.prepare("SELECT file, line, message FROM errors ORDER BY file, line, id").map_err(sql_err(self.db()))?;
        let rows = stmt
            .query_map([], |r| Ok(ParseError { file: self.file_label(r.get::<_, i64>(0)? as u32), line: r.get::<_, i64>(1)? as u64, message: r.get(2)? }))
            .map_err(sql_err(self.db()))?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql_err(self.db()))
    }

    /// The bookmarks, in event order. A bookmark whose event moved (the
    /// source was rewritten and re-indexed) follows it by file, line and
    /// record hash; one whose event is gone is `stale`.
    pub fn bookmarks(&self) -> Result<Vec<Bookmark>> {
        let path = &self.index.bookmarks_path;
        let mut book = bookmarks::load(path)?;
        let mut moved = false;
        for stored in &mut book.bookmarks {
            if self.anchor_of(stored.mark.seq).ok().as_ref() == Some(&stored.anchor) {
                stored.mark.stale = false;
                continue;
            }
            // Where it was (same line), then nearby: lines added or removed
            // above it shift both its line and its seq a little.
            let same_line: Vec<u64> = self
                .index
                .conn
                .prepare_cached("SELECT seq FROM events WHERE file = ?1 AND line = ?2 ORDER BY seq")
                .and_then(|mut s| s.query_map(params![stored.anchor.file, stored.anchor.line as i64], |r| r.get::<_, i64>(0))?.map(|r| r.map(|n| n as u64)).collect())
                .map_err(sql_err(self.db()))?;
            let old = stored.mark.seq;
            let nearby = (1..=RELOCATE_WINDOW).flat_map(|d| [old.checked_sub(d), old.checked_add(d)]).flatten().filter(|&n| n >= 1 && n <= self.events);
            let same_record = |seq: &u64| {
                let here = self.anchor_of(*seq).ok();
                here.is_some_and(|a| a.file == stored.anchor.file && a.record_sha256 == stored.anchor.record_sha256)
            };
            let found = same_line.into_iter().chain(nearby).find(same_record);
            match found {
                Some(seq) => {
                    stored.mark.seq = seq;
                    stored.anchor = self.anchor_of(seq)?;
                    stored.mark.stale = false;
                    moved = true;
                }
                None => stored.mark.stale = true,
            }
        }
        if moved {
            bookmarks::save(path, &book)?;
        }
        let mut list: Vec<Bookmark> = book.bookmarks.into_iter().map(|s| s.mark).collect();
        list.sort_by_key(|b| (b.seq, b.id));
        Ok(list)
    }

    /// Bookmarks event `seq` with a note and tags.
    pub fn add_bookmark(&self, seq: u64, note: &str, tags: Vec<String>) -> Result<Bookmark> {
        if seq == 0 {
            return Err(Error::Query("event 0 does not exist: seqs start at 1".into()));
        }
        self.check_seq(seq)?;
        let path = &self.index.bookmarks_path;
        let mut book = bookmarks::load(path)?;
        let id = book.next_id.max(book.bookmarks.iter().map(|b| b.mark.id + 1).max().unwrap_or(1));
        let mark = Bookmark { id, seq, note: note.to_string(), tags, created: now_to_the_second(), stale: false };
        book.bookmarks.push(bookmarks::Stored { mark: mark.clone(), anchor: self.anchor_of(seq)? });
        book.next_id = id + 1;
        bookmarks::save(path, &book)?;
        Ok(mark)
    }

    /// Removes bookmark `id`.
    pub fn remove_bookmark(&self, id: i64) -> Result<Bookmark> {
        let path = &self.index.bookmarks_path;
        let mut book = bookmarks::load(path)?;
        let Some(at) = book.bookmarks.iter().position(|b| b.mark.id == id) else {
            return Err(Error::Query(format!("there is no bookmark {id}; `bookmarks FILE list` shows them")));
        };
        let removed = book.bookmarks.remove(at);
        bookmarks::save(path, &book)?;
        Ok(removed.mark)
    }

    /// Where event `seq` is, and the hash of its record.
    fn anchor_of(&self, seq: u64) -> Result<bookmarks::Anchor> {
        let row = self
            .index
            .conn
            .query_row(&format!("SELECT {} FROM {} WHERE e.seq = ?1", replay::ROW_COLUMNS, replay::ROW_FROM), [seq as i64], replay::row_from_sql)
            .optional()
            .map_err(sql_err(self.db()))?
            .ok_or_else(|| Error::Query(format!("event {seq} does not exist")))?;
        let text = self.files.borrow_mut().record_text(&row)?;
        Ok(bookmarks::Anchor { file: row.file, line: row.line, record_sha256: crate::report::sha256_hex(text.as_bytes()) })
    }

    /// How events name their file: only when several are merged, by the
    /// path as given.
    fn file_label(&self, file: u32) -> Option<String> {
        if self.index.files.len() < 2 {
            return None;
        }
        self.given.get(file as usize).map(|p| p.display().to_string())
    }

    fn check_seq(&self, n: u64) -> Result<()> {
        if n > self.events {
            return Err(Error::Query(if self.events == 0 {
                format!("event {n} does not exist: the log has no events")
            } else {
                format!("event {n} does not exist: the log has {} events (1–{}); 0 is the state before the first", self.events, self.events)
            }));
        }
        Ok(())
    }

    fn to_event(&self, row: &Row) -> Result<Event> {
        let raw = self.files.borrow_mut().record_text(row)?;
        self.event_with_text(row, raw)
    }

    /// The event of `row`, whose record text was already read.
    fn event_with_text(&self, row: &Row, raw: String) -> Result<Event> {
        let payload = replay::payload_of(&self.index.config.fields, &self.index.decoder, &raw);
        let mark: Option<String> = self
            .index
            .conn
            .prepare_cached("SELECT message FROM marks WHERE seq = ?1")
            .and_then(|mut s| s.query_row([row.seq as i64], |r| r.get(0)).optional())
            .map_err(sql_err(self.db()))?;
        Ok(Event {
            seq: row.seq,
            file: self.file_label(row.file),
            line: row.line,
            ts: row.ts.map(|t| t.to_rfc3339()),
            ty: row.ty.clone(),
            key: row.key.clone(),
            level: row.level.map(|l| l.as_str()),
            payload,
            raw,
            lossy: row.flags & FLAG_LOSSY_UTF8 != 0,
            mark,
        })
    }

    /// Events the reducer could not apply, with the reason.
    pub fn marks(&self) -> Result<Vec<(u64, String)>> {
        let mut stmt = self.index.conn.prepare("SELECT seq, message FROM marks ORDER BY seq").map_err(sql_err(self.db()))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .map_err(sql_err(self.db()))?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql_err(self.db()))
    }

    /// One event by seq.
    pub fn event(&self, seq: u64) -> Result<Event> {
        self.check_seq(seq)?;
        if seq == 0 {
            return Err(Error::Query("event 0 does not exist: seqs start at 1".into()));
        }
        let row = self
            .index
            .conn
            .query_row(&format!("SELECT {} FROM {} WHERE e.seq = ?1", replay::ROW_COLUMNS, replay::ROW_FROM), [seq as i64], replay::row_from_sql)
            .map_err(sql_err(self.db()))?;
        self.to_event(&row)
    }

    /// Calls `f` with each event that passes `filter`, in seq order, until
    /// `f` returns false or the limit is reached.
    pub fn events(&self, filter: &EventFilter, f: &mut dyn FnMut(Event) -> bool) -> Result<()> {
        if filter.limit == Some(0) {
            return Ok(());
        }
        let mut sent = 0u64;
        self.each_match(filter, &mut |row, text| {
            if filter.limit.is_some_and(|l| sent >= l) {
                return Ok(false);
            }
            sent += 1;
            let raw = match text {
                Some(text) => text,
                None => self.files.borrow_mut().record_text(&row)?,
            };
            Ok(f(self.event_with_text(&row, raw)?))
        })
    }

    /// Calls `visit` with the row of each event that passes `filter` (its
    /// `from`, not its `limit`), in seq order, and its record text when the
    /// search had to read it, until `visit` returns false.
    ///
    /// A search reads the events the text index covers through it (the
    /// index's candidates, in seq order, each tested against its record) and
    /// scans the others, so the answer never depends on how far the text
    /// index got (see `search`).
    pub(crate) fn each_match(&self, filter: &EventFilter, visit: &mut dyn FnMut(Row, Option<String>) -> Result<bool>) -> Result<()> {
        let mut conds = String::new();
        let mut args: Vec<rusqlite::types::Value> = vec![];
        if let Some(t) = &filter.ty {
            conds.push_str(" AND t.name = ?");
            args.push(t.clone().into());
        }
        if let Some(k) = &filter.key {
            // By id, so that the key index (see `search`) can serve it.
            conds.push_str(" AND e.key = (SELECT id FROM keys WHERE name = ?)");
            args.push(k.clone().into());
        }
        if let Some(l) = &filter.level {
            let level = crate::time::normalize_level_str(l)
                .ok_or_else(|| Error::Query(format!("unknown level `{l}`; use trace, debug, info, warn, error or fatal")))?;
            conds.push_str(" AND e.level = ?");
            args.push(level.code().into());
        }
        if let Some(t) = filter.since {
            conds.push_str(" AND e.ts >= ?");
            args.push(t.nanos.into());
        }
        if let Some(t) = filter.until {
            conds.push_str(" AND e.ts <= ?");
            args.push(t.nanos.into());
        }
        let mut needle = filter.search.as_deref().map(search::Needle::new);
        let from = filter.from.unwrap_or(1).max(1);
        let mut scan_from = from;
        if let Some(query) = needle.as_ref().and_then(search::Needle::fts_query) {
            let upto = search::covered(&self.index.conn).map_err(sql_err(self.db()))?;
            if upto >= from {
                let sql = search::candidates_sql(&conds);
                let mut all: Vec<rusqlite::types::Value> = vec![query.into(), (from as i64).into(), (upto as i64).into()];
                all.extend(args.iter().cloned());
                if !self.visit_rows(&sql, all, needle.as_mut(), visit)? {
                    return Ok(());
                }
                scan_from = upto + 1;
            }
        }
        let sql = format!("SELECT {} FROM {} WHERE e.seq >= ?{conds} ORDER BY e.seq", replay::ROW_COLUMNS, replay::ROW_FROM);
        let mut all: Vec<rusqlite::types::Value> = vec![(scan_from as i64).into()];
        all.extend(args);
        self.visit_rows(&sql, all, needle.as_mut(), visit)?;
        Ok(())
    }

    /// Runs `sql` (rows in `ROW_COLUMNS` order) and calls `visit` with each
    /// row whose record contains the needle, if there is one. Returns false
    /// when `visit` asked to stop.
    fn visit_rows(
        &self,
        sql: &str,
        args: Vec<rusqlite::types::Value>,
        mut needle: Option<&mut search::Needle>,
        visit: &mut dyn FnMut(Row, Option<String>) -> Result<bool>,
    ) -> Result<bool> {
        let mut stmt = self.index.conn.prepare_cached(sql).map_err(sql_err(self.db()))?;
        let mut rows = stmt.query(params_from_iter(args)).map_err(sql_err(self.db()))?;
        while let Some(r) = rows.next().map_err(sql_err(self.db()))? {
            let row = replay::row_from_sql(r).map_err(sql_err(self.db()))?;
            let text = match needle.as_deref_mut() {
                Some(needle) => {
                    let text = self.files.borrow_mut().record_text(&row)?;
                    if !needle.matches(&text) {
                        continue;
                    }
                    Some(text)
                }
                None => None,
            };
            if !visit(row, text)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Builds the text index, or extends it to the events it does not cover
    /// yet, on this thread; `progress(done, total)` returning false stops it
    /// (what was stored stays). For a background thread, use
    /// [`TextIndexer`] directly.
    pub fn build_text_index(&self, progress: &mut dyn FnMut(u64, u64) -> bool) -> Result<TextIndexStatus> {
        TextIndexer::new(self)?.run(progress)
    }

    /// How many events the text index covers (searches scan the others).
    pub fn text_index_status(&self) -> Result<TextIndexStatus> {
        let covered = search::covered(&self.index.conn).map_err(sql_err(self.db()))?;
        Ok(TextIndexStatus { covered: covered.min(self.events), total: self.events })
    }

    /// Whether the text index covers every event ("search index ready").
    pub fn search_ready(&self) -> bool {
        self.text_index_status().is_ok_and(|s| s.ready())
    }

    /// Replays events (from, to] onto `state`, recording touched members.
    fn replay(&self, from: u64, to: u64, state: &mut State, touched: &mut Touched) -> Result<()> {
        let mut files = self.files.borrow_mut();
        self.replayer().replay(&self.index.conn, &mut files, from, to, state, touched)
    }

    fn replayer(&self) -> replay::Replayer<'_> {
        replay::Replayer {
            reducer: &self.index.reducer,
            fields: &self.index.config.fields,
            decoder: &self.index.decoder,
            cx: crate::time::TimeContext { default_year: self.index.config.default_year },
        }
    }

    /// The seq of the last checkpoint at or before `n` (0 when none).
    fn checkpoint_at_or_before(&self, n: u64) -> Result<u64> {
        let seq: i64 = self
            .index
            .conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM checkpoints WHERE seq <= ?1")
            .and_then(|mut q| q.query_row([n as i64], |r| r.get(0)))
            .map_err(sql_err(self.db()))?;
        Ok(seq as u64)
    }

    /// The state after event `n` (`n = 0`: before the first event).
    pub fn state(&self, n: u64) -> Result<State> {
        self.check_seq(n)?;
        let checkpoint_seq = self.checkpoint_at_or_before(n)?;
        let cached = self.cache.borrow().best(n).map(|(s, st)| (*s, st.clone()));
        // A state cached before the checkpoint: moved forward by the deltas
        // in between rather than restored from the full checkpoint (what a
        // drag to the right asks for at every interval it crosses).
        let advanced = match cached {
            Some((s, st)) if s < checkpoint_seq => {
                let from = self.checkpoint_at_or_before(s)?;
                replay::advance_to_checkpoint(&self.index.conn, st, from, checkpoint_seq)?.map(|st| (checkpoint_seq, st))
            }
            other => other,
        };
        let (base, mut state) = match advanced {
            Some((s, st)) if s >= checkpoint_seq => (s, st),
            _ => {
                let (s, st) = replay::load_checkpoint(&self.index.conn, n)?;
                self.cache.borrow_mut().put(s, &st);
                (s, st)
            }
        };
        if n > base + 1 {
            // The state before `n` is kept on the way: the window asks for
            // what event `n` changed right after, and stepping back asks
            // for it too; each would otherwise replay from the checkpoint.
            self.replay(base, n - 1, &mut state, &mut Touched::default())?;
            self.cache.borrow_mut().put(n - 1, &state);
            self.replay(n - 1, n, &mut state, &mut Touched::default())?;
        } else {
            self.replay(base, n, &mut state, &mut Touched::default())?;
        }
        self.cache.borrow_mut().put(n, &state);
        Ok(state)
    }

    /// The state after the last event with `ts ≤ t`, and that event's seq
    /// (0 when every event is later).
    pub fn state_at(&self, t: Timestamp) -> Result<(u64, State)> {
        let seq: i64 = self
            .index
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM events WHERE ts <= ?1", [t.nanos], |r| r.get(0))
            .map_err(sql_err(self.db()))?;
        Ok((seq as u64, self.state(seq as u64)?))
    }

    /// RFC 6902 operations turning state(a) into state(b). Nearby points are
    /// diffed by replaying between them and comparing only what the events
    /// touched, so the cost grows with what changed.
    pub fn diff(&self, a: u64, b: u64) -> Result<Vec<PatchOp>> {
        self.check_seq(a)?;
        self.check_seq(b)?;
        if a == b {
            return Ok(vec![]);
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let lo_state = self.state(lo)?;
        let next_checkpoint: Option<i64> = self
            .index
            .conn
            .prepare_cached("SELECT min(seq) FROM checkpoints WHERE seq > ?1 AND seq <= ?2")
            .and_then(|mut s| s.query_row([lo as i64, hi as i64], |r| r.get(0)))
            .map_err(sql_err(self.db()))?;
        let (hi_state, touched) = if next_checkpoint.is_none() || hi - lo <= 4096 {
            let mut st = lo_state.clone();
            let mut touched = Touched::default();
            self.replay(lo, hi, &mut st, &mut touched)?;
            self.cache.borrow_mut().put(hi, &st);
            (st, Some(touched))
        } else {
            (self.state(hi)?, None)
        };
        let (from, to) = if a < b { (&lo_state, &hi_state) } else { (&hi_state, &lo_state) };
        Ok(state::diff_states(from, to, touched.as_ref()))
    }

    /// Every event that changed the value at `pointer`, with old and new.
    pub fn blame(&self, pointer: &str) -> Result<Vec<BlameEntry>> {
        let mut out = Vec::new();
        self.walk_value(pointer, &mut |row, seen| {
            if let Seen::Changed { old, new } = seen {
                out.push(BlameEntry { seq: row.seq, ts: row.ts.map(|t| t.to_rfc3339()), ty: row.ty.clone(), old, new: new.clone() });
            }
        })?;
        Ok(out)
    }

    /// Replays the events that can change the value at `pointer`, in seq
    /// order, calling `visit` with each and what it did to the value. With
    /// the entity reducer, `/KEY/…` only changes through events of KEY and
    /// keyless events, so only those are visited (onto a one-member state);
    /// with any other reducer every event is.
    pub(crate) fn walk_value(&self, pointer: &str, visit: &mut dyn FnMut(&Row, Seen<'_>)) -> Result<()> {
        let tokens = patch::parse_pointer(pointer).map_err(|e| Error::Query(e.to_string()))?;
        let entity_key = match (&self.index.reducer, tokens.first()) {
            (Reducer::Entity, Some(k)) => Some(k.clone()),
            _ => None,
        };
        let mut sql = format!("SELECT {} FROM {}", replay::ROW_COLUMNS, replay::ROW_FROM);
        let mut args: Vec<rusqlite::types::Value> = vec![];
        if let Some(k) = &entity_key {
            // By id: with the key index, two index ranges instead of a scan.
            sql.push_str(" WHERE e.key = (SELECT id FROM keys WHERE name = ?1) OR e.key IS NULL");
            args.push(k.clone().into());
        }
        sql.push_str(" ORDER BY e.seq");
        let mut stmt = self.index.conn.prepare(&sql).map_err(sql_err(self.db()))?;
        let mut rows = stmt.query(params_from_iter(args)).map_err(sql_err(self.db()))?;
        let mut files = self.files.borrow_mut();
        let replayer = self.replayer();
        let mut state = State::default();
        let value_at = |s: &State| -> Option<Value> {
            if tokens.is_empty() {
                Some(s.to_value())
            } else {
                s.pointer_tokens(&tokens)
            }
        };
        let mut current = value_at(&state);
        while let Some(r) = rows.next().map_err(sql_err(self.db()))? {
            let row = replay::row_from_sql(r).map_err(sql_err(self.db()))?;
            let mut touched = Touched::default();
            let text = files.record_text(&row)?;
            replayer.apply_text(row.seq, &text, &mut state, &mut touched);
            if let (Touched::Keys(keys), Some(first)) = (&touched, tokens.first()) {
                if !keys.contains(first.as_str()) {
                    visit(&row, Seen::Same(&current));
                    continue;
                }
            }
            if let Some(k) = &entity_key {
                // Keep only the member under blame.
                if let State::Object(m) = &mut state {
                    if m.len() > 1 {
                        let kept = m.get(k.as_str()).cloned();
                        m.clear();
                        if let Some(v) = kept {
                            m.insert(std::sync::Arc::from(k.as_str()), v);
                        }
                    }
                }
            }
            let now = value_at(&state);
            if now != current {
                let old = std::mem::replace(&mut current, now);
                visit(&row, Seen::Changed { old, new: &current });
            } else {
                visit(&row, Seen::Same(&current));
            }
        }
        Ok(())
    }

    /// The events at which the jq predicate `expr` over the state turns true
    /// (false or error before, true after); only the first unless `all`.
    pub fn find(&self, expr: &str, all: bool) -> Result<Vec<Hit>> {
        let program = JqProgram::compile(expr)?;
        let budget = Budget::default();
        let mut state = State::default();
        let test = |state: &State, event: &Value| -> Result<bool> {
            match program.test(&state.to_value(), event, &budget) {
                Ok(b) => Ok(b),
                Err(crate::jq::JqError::Budget(m)) => Err(Error::Jq(crate::jq::JqError::Budget(m))),
                Err(_) => Ok(false),
            }
        };
        let mut before = test(&state, &Value::Null)?;
        let mut stmt = self
            .index
            .conn
            .prepare(&format!("SELECT {} FROM {} ORDER BY e.seq", replay::ROW_COLUMNS, replay::ROW_FROM))
            .map_err(sql_err(self.db()))?;
        let mut rows = stmt.query([]).map_err(sql_err(self.db()))?;
        let mut files = self.files.borrow_mut();
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sql_err(self.db()))? {
            let row = replay::row_from_sql(r).map_err(sql_err(self.db()))?;
            let text = files.record_text(&row)?;
            let payload = replay::payload_of(&self.index.config.fields, &self.index.decoder, &text);
            let view = EventView { seq: row.seq, ts: row.ts, ty: row.ty.as_deref(), key: row.key.as_deref(), level: row.level, payload };
            let event = view.to_jq_value();
            let _ = reducer::apply(&self.index.reducer, &mut state, view, &mut Touched::default());
            let now = test(&state, &event)?;
            if now && !before {
                out.push(Hit { seq: row.seq, ts: row.ts.map(|t| t.to_rfc3339()), ty: row.ty.clone() });
                if !all {
                    break;
                }
            }
            before = now;
        }
        Ok(out)
    }

    /// Runs a read-only SQL query over the index.
    pub fn sql(&self, query: &str, row: &mut dyn FnMut(Map<String, Value>) -> bool) -> Result<()> {
        crate::sql::run(self.db(), query, row)
    }

    /// The value at `pointer` in state(n), or an error naming what is missing.
    pub fn value_at(&self, n: u64, pointer: &str) -> Result<Value> {
        let state = self.state(n)?;
        if pointer.is_empty() {
            return Ok(state.to_value());
        }
        let tokens = patch::parse_pointer(pointer).map_err(|e| Error::Query(e.to_string()))?;
        state
            .pointer_tokens(&tokens)
            .ok_or_else(|| Error::Query(format!("the path {pointer} does not exist in the state after event {n}")))
    }
}

/// Shared handle type for callers that keep a source across threads.
pub type SharedSource = Arc<std::sync::Mutex<Source>>;
