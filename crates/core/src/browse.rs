//! What an interactive viewer asks of a source beyond the CLI's questions:
//! a density histogram for the timeline, light event rows for a virtualised
//! list under a filter, one level of the state tree at a time, and jumps
//! (next event of the same type or key, next change of a value).
//!
//! Everything here is computed by the engine; a UI only renders it.

use crate::patch;
use crate::source::{EventFilter, Source};
use crate::state::State;
use crate::time::{Level, Timestamp};
use crate::{Error, Result};
use serde::Serialize;
use serde_json::Value;

/// Event counts over the log, by time when events have one, else by seq.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// `"time"` (start/end in ns since the epoch) or `"seq"`.
    pub axis: &'static str,
    pub start: i64,
    pub end: i64,
    pub bins: Vec<Bin>,
}

/// One bar: events per level (trace, debug, info, warn, error, fatal, none).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Bin {
    pub count: u64,
    pub levels: [u64; 7],
    /// First seq in the bar, to jump to when it is clicked.
    pub first_seq: u64,
}

impl Bin {
    /// Adds `n` events of `level` (6: none), the first of them `seq`.
    fn add(&mut self, n: u64, level: i64, seq: u64) {
        if n == 0 {
            return;
        }
        self.count += n;
        self.levels[level.clamp(0, 6) as usize] += n;
        if self.first_seq == 0 {
            self.first_seq = seq;
        }
    }
}

/// A light row for an event list: no payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    pub seq: u64,
    pub line: u64,
    pub ts: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub key: Option<String>,
    pub level: Option<&'static str>,
    pub marked: bool,
}

/// One level of the state tree under a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeNode {
    pub path: String,
    pub kind: &'static str,
    /// Number of children (members or elements); 0 for scalars.
    pub size: u64,
    /// Children `offset .. offset + children.len()` of `size`.
    pub offset: u64,
    pub children: Vec<TreeChild>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeChild {
    /// Member name, or array index as text.
    pub key: String,
    pub path: String,
    pub kind: &'static str,
    pub size: u64,
    /// JSON text of a scalar (cut at 300 characters), empty for containers.
    pub preview: String,
}

/// The longest scalar preview sent to a viewer.
const PREVIEW_CHARS: usize = 300;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn size(v: &Value) -> u64 {
    match v {
        Value::Array(a) => a.len() as u64,
        Value::Object(m) => m.len() as u64,
        _ => 0,
    }
}

fn preview(v: &Value) -> String {
    if matches!(v, Value::Array(_) | Value::Object(_)) {
        return String::new();
    }
    let text = v.to_string();
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn child(parent: &str, key: String, v: &Value) -> TreeChild {
    let mut path = parent.to_string();
    path.push('/');
    path.push_str(&patch::escape_token(&key));
    TreeChild { key, path, kind: kind(v), size: size(v), preview: preview(v) }
}

/// A diff operation with the value before it, for showing old → new.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// `add`, `remove` or `replace`.
    pub op: &'static str,
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

impl Source {
    /// [`Source::diff`] with each operation's old value (from state(a)).
    pub fn changes(&self, a: u64, b: u64) -> Result<Vec<Change>> {
        let ops = self.diff(a, b)?;
        if ops.is_empty() {
            return Ok(vec![]);
        }
        let before = self.state(a)?;
        Ok(ops
            .into_iter()
            .map(|op| {
                let tokens = patch::parse_pointer(&op.path).unwrap_or_default();
                let old = if matches!(op.op, patch::OpKind::Add) { None } else { before.pointer_tokens(&tokens) };
                let kind = match op.op {
                    patch::OpKind::Add => "add",
                    patch::OpKind::Remove => "remove",
                    patch::OpKind::Replace => "replace",
                };
                Change { op: kind, path: op.path, old, new: op.value }
            })
            .collect())
    }

    /// `bins` bars of event density between `range` (ns, inclusive) or over
    /// the whole log.
    pub fn histogram(&self, bins: usize, range: Option<(i64, i64)>) -> Result<Histogram> {
        let bins = bins.clamp(1, 4096);
        let conn = self.connection();
        let db_err = |e: rusqlite::Error| Error::Query(format!("the index could not be read: {e}"));
        // The first and last times are kept by the build: no scan for them.
        let (axis, column, lo, hi) = match self.ts_range()? {
            Some((a, b)) => {
                let (lo, hi) = range.unwrap_or((a, b));
                ("time", "ts", lo, hi.max(lo))
            }
            None => {
                let (lo, hi) = range.unwrap_or((1, self.count() as i64));
                ("seq", "seq", lo, hi.max(lo))
            }
        };
        let span = (hi as i128 - lo as i128) + 1;
        let mut out = Histogram { axis, start: lo, end: hi, bins: vec![Bin::default(); bins] };
        let bin_of = |v: i64| ((v as i128 - lo as i128) * bins as i128 / span).clamp(0, bins as i128 - 1) as usize;
        let count = self.count() as i64;
        // The build keeps a summary of every block of events (time range,
        // counts per level): a block within one bar is added whole, and only
        // the rows of blocks that straddle bars (or have events without a
        // time, or are not summarised) are read. In seq order throughout, so
        // a bar's first contribution holds its first event.
        let rows_sql = format!("SELECT {column}, coalesce(level, 6), seq FROM events WHERE seq BETWEEN ?1 AND ?2 AND {column} BETWEEN ?3 AND ?4");
        let mut rows_stmt = conn.prepare_cached(&rows_sql).map_err(db_err)?;
        let mut read_rows = |from: i64, to: i64, out: &mut Histogram| -> Result<()> {
            if from > to {
                return Ok(());
            }
            let mut rows = rows_stmt.query([from, to, lo, hi]).map_err(db_err)?;
            while let Some(r) = rows.next().map_err(db_err)? {
                let (v, level, seq): (i64, i64, i64) = (r.get(0).map_err(db_err)?, r.get(1).map_err(db_err)?, r.get(2).map_err(db_err)?);
                out.bins[bin_of(v)].add(1, level, seq as u64);
            }
            Ok(())
        };
        let mut blocks = conn
            .prepare_cached("SELECT first_seq, last_seq, min_ts, max_ts, count, untimed, levels FROM blocks WHERE last_seq <= ?1 ORDER BY first_seq")
            .map_err(db_err)?;
        let mut summaries = blocks.query([count]).map_err(db_err)?;
        let mut covered = 0i64;
        while let Some(r) = summaries.next().map_err(db_err)? {
            let (first, last): (i64, i64) = (r.get(0).map_err(db_err)?, r.get(1).map_err(db_err)?);
            let (min_ts, max_ts): (Option<i64>, Option<i64>) = (r.get(2).map_err(db_err)?, r.get(3).map_err(db_err)?);
            let (n, untimed): (i64, i64) = (r.get(4).map_err(db_err)?, r.get(5).map_err(db_err)?);
            let levels: String = r.get(6).map_err(db_err)?;
            if first <= covered {
                continue;
            }
            read_rows(covered + 1, first - 1, &mut out)?;
            covered = last;
            let span_of_block = match axis {
                "time" if untimed == n => continue,
                "time" if untimed == 0 => min_ts.zip(max_ts),
                "time" => None,
                _ => Some((first, last)),
            };
            let levels: Vec<i64> = levels.split(',').filter_map(|l| l.parse().ok()).collect();
            match span_of_block {
                Some((a, b)) if b < lo || a > hi => {}
                Some((a, b)) if a >= lo && b <= hi && bin_of(a) == bin_of(b) && levels.len() == 7 => {
                    let bin = &mut out.bins[bin_of(a)];
                    for (level, k) in levels.iter().enumerate() {
                        bin.add(*k as u64, level as i64, first as u64);
                    }
                }
                _ => read_rows(first, last, &mut out)?,
            }
        }
        read_rows(covered + 1, count, &mut out)?;
        Ok(out)
    }

    /// The seqs of the events passing `filter`, in order; `None` when the
    /// filter passes everything (the list is then 1..=count).
    pub fn matching(&self, filter: &EventFilter) -> Result<Option<Vec<u64>>> {
        let unfiltered = filter.ty.is_none()
            && filter.key.is_none()
            && filter.level.is_none()
            && filter.search.as_deref().is_none_or(str::is_empty)
            && filter.since.is_none()
            && filter.until.is_none();
        if unfiltered {
            return Ok(None);
        }
        // Rows only: no payload is parsed for a list of seqs.
        let mut seqs = Vec::new();
        self.each_match(&EventFilter { from: None, limit: None, ..filter.clone() }, &mut |row, _| {
            seqs.push(row.seq);
            Ok(true)
        })?;
        Ok(Some(seqs))
    }

    /// Light rows for the given seqs, in the order given.
    pub fn rows(&self, seqs: &[u64]) -> Result<Vec<EventRow>> {
        let conn = self.connection();
        let db_err = |e: rusqlite::Error| Error::Query(format!("the index could not be read: {e}"));
        let mut stmt = conn
            .prepare_cached(
                "SELECT e.seq, e.line, e.ts, e.flags & 15, t.name, k.name, e.level, m.seq IS NOT NULL
                 FROM events e LEFT JOIN types t ON t.id = e.type LEFT JOIN keys k ON k.id = e.key
                 LEFT JOIN marks m ON m.seq = e.seq WHERE e.seq = ?1",
            )
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let row = stmt.query_row([*seq as i64], |r| {
                let ts: Option<i64> = r.get(2)?;
                let digits: i64 = r.get(3)?;
                let level: Option<i64> = r.get(6)?;
                Ok(EventRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    line: r.get::<_, i64>(1)? as u64,
                    ts: ts.map(|n| Timestamp::from_nanos(n, digits.clamp(0, 9) as u8).to_rfc3339()),
                    ty: r.get(4)?,
                    key: r.get(5)?,
                    level: level.and_then(Level::from_code).map(|l| l.as_str()),
                    marked: r.get(7)?,
                })
            });
            match row {
                Ok(r) => out.push(r),
                Err(rusqlite::Error::QueryReturnedNoRows) => {}
                Err(e) => return Err(db_err(e)),
            }
        }
        Ok(out)
    }

    /// One level of the state after event `n` under `pointer`: children
    /// `offset .. offset + limit`, members in key order.
    pub fn tree(&self, n: u64, pointer: &str, offset: u64, limit: u64) -> Result<TreeNode> {
        let state = self.state(n)?;
        let tokens = patch::parse_pointer(pointer).map_err(|e| Error::Query(e.to_string()))?;
        let limit = limit.min(10_000) as usize;
        let offset_usize = offset as usize;
        if let (State::Object(members), true) = (&state, tokens.is_empty()) {
            let children = members
                .iter()
                .skip(offset_usize)
                .take(limit)
                .map(|(k, m)| child("", k.to_string(), m.value()))
                .collect();
            return Ok(TreeNode { path: String::new(), kind: "object", size: members.len() as u64, offset, children });
        }
        let value = state
            .pointer_tokens(&tokens)
            .ok_or_else(|| Error::Query(format!("the path {pointer} does not exist in the state after event {n}")))?;
        let children = match &value {
            Value::Object(m) => m.iter().skip(offset_usize).take(limit).map(|(k, v)| child(pointer, k.clone(), v)).collect(),
            Value::Array(a) => a.iter().enumerate().skip(offset_usize).take(limit).map(|(i, v)| child(pointer, i.to_string(), v)).collect(),
            _ => vec![],
        };
        Ok(TreeNode { path: pointer.to_string(), kind: kind(&value), size: size(&value), offset, children })
    }

    /// The next (or previous) event with the same type, or the same key, as
    /// event `seq`.
    pub fn neighbor(&self, seq: u64, by_key: bool, forward: bool) -> Result<Option<u64>> {
        let column = if by_key { "key" } else { "type" };
        let (cmp, order) = if forward { (">", "ASC") } else { ("<", "DESC") };
        let sql = format!(
            "SELECT seq FROM events WHERE {column} = (SELECT {column} FROM events WHERE seq = ?1) AND seq {cmp} ?1 ORDER BY seq {order} LIMIT 1"
        );
        let conn = self.connection();
        let found: Option<i64> = match conn.query_row(&sql, [seq as i64], |r| r.get(0)) {
            Ok(s) => Some(s),
            Err(rusqlite::Error::QueryReturnedNoRows) => None,
            Err(e) => return Err(Error::Query(format!("the index could not be read: {e}"))),
        };
        Ok(found.map(|s| s as u64))
    }

    /// The first event after `seq` that changes the value at `pointer`.
    pub fn next_change(&self, pointer: &str, seq: u64) -> Result<Option<u64>> {
        Ok(self.blame(pointer)?.into_iter().map(|b| b.seq).find(|s| *s > seq))
    }

    /// The seq of the last event at or before `t` (0 when none).
    pub fn seq_at(&self, t: Timestamp) -> Result<u64> {
        let conn = self.connection();
        let seq: i64 = conn
            .query_row("SELECT coalesce(max(seq), 0) FROM events WHERE ts <= ?1", [t.nanos], |r| r.get(0))
            .map_err(|e| Error::Query(format!("the index could not be read: {e}")))?;
        Ok(seq as u64)
    }

    /// Seqs of the events the reducer marked, and the seq just before each
    /// parse error (where the timeline shows it).
    pub fn markers(&self) -> Result<(Vec<u64>, Vec<u64>)> {
        let conn = self.connection();
        let db_err = |e: rusqlite::Error| Error::Query(format!("the index could not be read: {e}"));
        let collect = |sql: &str| -> Result<Vec<u64>> {
            let mut stmt = conn.prepare(sql).map_err(db_err)?;
            let rows = stmt.query_map([], |r| r.get::<_, i64>(0)).map_err(db_err)?;
            rows.map(|r| r.map(|s| s as u64).map_err(db_err)).collect()
        };
        let marks = collect("SELECT seq FROM marks ORDER BY seq LIMIT 10000")?;
        let errors = collect(
            "SELECT coalesce((SELECT max(seq) FROM events e WHERE e.off < er.off), 0) FROM errors er ORDER BY er.off LIMIT 10000",
        )?;
        Ok((marks, errors))
    }
}

#[cfg(test)]
mod tests {
    use crate::{EventFilter, Location, OpenOptions, Source};
    use std::io::Write;

    fn source(lines: &[&str]) -> (tempfile::TempDir, Source) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let mut f = std::fs::File::create(&path).unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
        let src = Source::open(&[path], &OpenOptions { location: Location::Temp, ..Default::default() }, &mut |_| {}).unwrap();
        (dir, src)
    }

    #[test]
    fn histogram_by_time_and_levels() {
        let (_d, src) = source(&[
            r#"{"ts":"2024-01-01T00:00:00Z","type":"A","level":"info","data":{}}"#,
            r#"{"ts":"2024-01-01T00:00:01Z","type":"A","level":"error","data":{}}"#,
            r#"{"ts":"2024-01-01T00:00:09Z","type":"B","data":{}}"#,
        ]);
        let h = src.histogram(10, None).unwrap();
        assert_eq!(h.axis, "time");
        assert_eq!(h.bins.iter().map(|b| b.count).sum::<u64>(), 3);
        assert_eq!(h.bins[0].levels[2], 1);
        assert_eq!(h.bins[1].levels[4], 1);
        assert_eq!(h.bins[9].levels[6], 1);
        assert_eq!(h.bins[9].first_seq, 3);
    }

    /// The histogram by reading every row, as it was before block summaries.
    fn histogram_by_rows(src: &Source, bins: usize, range: Option<(i64, i64)>) -> super::Histogram {
        let h = src.histogram(bins, range).unwrap();
        let column = if h.axis == "time" { "ts" } else { "seq" };
        let span = (h.end as i128 - h.start as i128) + 1;
        let mut out = super::Histogram { bins: vec![super::Bin::default(); h.bins.len()], ..h };
        let sql = format!("SELECT {column}, coalesce(level, 6), seq FROM events WHERE {column} BETWEEN ?1 AND ?2 ORDER BY seq");
        let mut stmt = src.connection().prepare(&sql).unwrap();
        let mut rows = stmt.query([out.start, out.end]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let (v, level, seq): (i64, i64, i64) = (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap());
            let b = ((v as i128 - out.start as i128) * out.bins.len() as i128 / span).clamp(0, out.bins.len() as i128 - 1) as usize;
            out.bins[b].add(1, level, seq as u64);
        }
        out
    }

    /// A log of `n` events over several summary blocks: mostly in time order
    /// with jumps back, levels of every kind, event `i` without a time when
    /// `untimed(i)`.
    fn block_log(n: usize, untimed: impl Fn(usize) -> bool) -> Vec<String> {
        let levels = ["trace", "debug", "info", "warn", "error", "fatal"];
        (0..n)
            .map(|i| {
                let level = if i % 11 == 0 { String::new() } else { format!(r#","level":"{}""#, levels[i % 6]) };
                let secs = if i % 97 == 5 { i / 3 } else { i };
                let ts = if untimed(i) { String::new() } else { format!(r#","ts":{}"#, 1_700_000_000_000u64 + secs as u64 * 250) };
                format!(r#"{{"type":"T{}","streamId":"k{}"{level}{ts},"data":{{"i":{i}}}}}"#, i % 3, i % 40)
            })
            .collect()
    }

    #[test]
    fn histogram_from_block_summaries_equals_reading_every_row() {
        for timed in [true, false] {
            let lines = block_log(3 * crate::index::BLOCK_EVENTS as usize + 77, |i| !timed || i % 301 == 7);
            let (_d, src) = source(&lines.iter().map(String::as_str).collect::<Vec<_>>());
            let whole = src.histogram(1, None).unwrap();
            let (lo, hi) = (whole.start, whole.end);
            let third = (hi - lo) / 3;
            for bins in [1, 2, 7, 60, 700, 4096] {
                for range in [None, Some((lo + third, hi - third)), Some((lo - 5, lo + 3)), Some((hi + 1, hi + 100))] {
                    assert_eq!(src.histogram(bins, range).unwrap(), histogram_by_rows(&src, bins, range), "timed {timed}, {bins} bins, {range:?}");
                }
            }
            let untimed = if timed { (0..lines.len()).filter(|i| i % 301 == 7).count() } else { 0 };
            assert_eq!(whole.bins[0].count as usize, lines.len() - untimed);
        }
    }

    #[test]
    fn histogram_after_an_append_counts_the_block_it_split() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        // The summarised block has no event without a time, so it is added whole.
        let lines = block_log(3 * crate::index::BLOCK_EVENTS as usize + 300, |i| i % 1001 == 700);
        let (head, tail) = lines.split_at(crate::index::BLOCK_EVENTS as usize + 100);
        std::fs::write(&path, head.join("\n") + "\n").unwrap();
        let opts = OpenOptions { location: Location::Path(dir.path().join("log.hsidx")), ..Default::default() };
        drop(Source::open(&[path.clone()], &opts, &mut |_| {}).unwrap());
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all((tail.join("\n") + "\n").as_bytes()).unwrap();
        let src = Source::open(&[path], &opts, &mut |_| {}).unwrap();
        assert_eq!(src.report().records_parsed as usize, tail.len(), "resumed, not rebuilt");
        for bins in [1, 2, 3, 50, 999] {
            assert_eq!(src.histogram(bins, None).unwrap(), histogram_by_rows(&src, bins, None));
        }
    }

    #[test]
    fn tree_pages_members_and_filters_match() {
        let (_d, src) = source(&[
            r#"{"type":"Set","streamId":"b","data":{"n":1,"tags":["x","y"]}}"#,
            r#"{"type":"Set","streamId":"a","data":{"n":2}}"#,
            r#"{"type":"Other","streamId":"c","data":{"s":"<script>"}}"#,
        ]);
        let root = src.tree(3, "", 1, 1).unwrap();
        assert_eq!((root.size, root.children.len(), root.children[0].key.as_str()), (3, 1, "b"));
        let b = src.tree(3, "/b/tags", 0, 10).unwrap();
        assert_eq!(b.children.iter().map(|c| c.preview.as_str()).collect::<Vec<_>>(), ["\"x\"", "\"y\""]);
        assert_eq!(b.children[1].path, "/b/tags/1");
        let m = src.matching(&EventFilter { ty: Some("Set".into()), ..Default::default() }).unwrap();
        assert_eq!(m, Some(vec![1, 2]));
        assert_eq!(src.matching(&EventFilter::default()).unwrap(), None);
        assert_eq!(src.neighbor(1, false, true).unwrap(), Some(2));
        assert_eq!(src.neighbor(2, false, true).unwrap(), None);
        assert_eq!(src.next_change("/a/n", 0).unwrap(), Some(2));
        assert_eq!(src.rows(&[3]).unwrap()[0].ty.as_deref(), Some("Other"));
    }
}
