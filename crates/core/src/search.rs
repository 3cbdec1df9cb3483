//! The text index: answering "which events' records contain this text"
//! without reading every record (SPEC §3), and the test every answer passes.
//!
//! What a search means does not change with the index: an event matches when
//! its raw record text, lowercased by `str::to_lowercase`, contains the
//! lowercased needle. The index only narrows where to look.
//!
//! Design, chosen by measurement on the benchmark's 1M-event JSON Lines log
//! (145 MB): one FTS5 table `search`, keyed by `seq` (rowid), *contentless*
//! (`content=''`: the text stays in the source) with `detail=none` (which
//! trigrams a record holds, not where), over the *lowercased* record text,
//! tokenized by `trigram` with `case_sensitive 1`. With `detail=full` the
//! table was 2.9× the source and no faster for this use; with `detail=none`
//! it is about 1×. `unicode61` is far smaller but matches whole tokens, so
//! most substrings could not be asked of it.
//! Lowercasing in Rust, not in SQLite, makes the index fold case exactly as
//! the test does, in any script. A needle of three characters or more
//! becomes the AND of (up to `MAX_TERMS` of) its trigrams: every record that
//! contains the needle holds all of them, so the index returns a superset,
//! and each candidate is read back and tested. Shorter needles, and the
//! events the index does not cover yet, are scanned.
//!
//! The second pass also creates the index of events by (key, seq), so that
//! blame, entity histories and key filters read one entity's events instead
//! of scanning them all; it is created before the first text chunk.
//!
//! Building is a second pass after the main index is complete, never part
//! of it: [`TextIndexer`] reads records back through the raw reader (the
//! stored record for compressed sources and envelopes) and commits in chunks
//! on its own connection, recording in `meta` how far it got
//! (`search_upto`: events `1..=search_upto` are indexed). A stop or a kill
//! loses at most one chunk; the next run resumes there. When the main index
//! appends, events after the kept ones are numbered again, so
//! `forget_after` lowers `search_upto` and the indexer deletes the stale
//! rows before it continues (hence `contentless_delete=1`). A rebuilt index
//! starts without the table.
//!
//! Concurrency: each chunk is one `BEGIN IMMEDIATE` transaction taken under
//! the index's lock file (tried, never waited for), so a build or append of
//! the main index in another thread or process stops the indexer instead of
//! interleaving with it; readers (in rollback-journal or WAL mode) see a
//! `search_upto` and a table that agree.

use crate::replay::Files;
use crate::source::Source;
use crate::{Error, Result};
use memchr::memmem;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use rustc_hash::FxHashSet;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The meta key holding how many events (by seq) the text index covers.
pub(crate) const UPTO_KEY: &str = "search_upto";

const CREATE: &str = "CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(text, content='', contentless_delete=1, \
     detail=none, tokenize='trigram case_sensitive 1')";

/// Built by the second pass too (not by the first, which it would slow by
/// a quarter); SQLite keeps it up to date when the main index appends.
const CREATE_KEY_INDEX: &str = "CREATE INDEX IF NOT EXISTS events_by_key ON events(key, seq)";

/// A chunk ends after this many events or this long, whichever comes first:
/// long enough for few FTS segments, short enough that a build of the main
/// index waiting on the lock waits little.
const CHUNK_EVENTS: usize = 200_000;
const CHUNK_TIME: Duration = Duration::from_millis(1000);

/// How long the indexer's connection waits for readers and writers.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Most trigrams asked of the index for one needle; more narrow little and
/// cost a doclist each.
const MAX_TERMS: usize = 12;

/// A record longer than this is indexed as its distinct trigrams (enough
/// with `detail=none`), so a 200 MB line costs its distinct trigrams, not
/// 200 M tokens.
const LONG_RECORD: usize = 1 << 20;

/// How much of the log the text index covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TextIndexStatus {
    /// Events `1..=covered` are in the text index.
    pub covered: u64,
    /// Events in the index.
    pub total: u64,
}

impl TextIndexStatus {
    /// Every event is covered: searches no longer scan.
    pub fn ready(&self) -> bool {
        self.covered >= self.total
    }
}

/// How many events the text index covers, as recorded in `meta`.
pub(crate) fn covered(conn: &Connection) -> rusqlite::Result<u64> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([UPTO_KEY], |r| r.get(0))
        .optional()?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// The main index is about to number events after `keep` again: the text
/// index stops covering them (its rows there are deleted when it resumes).
pub(crate) fn forget_after(conn: &Connection, keep: u64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE meta SET value = CAST(min(CAST(value AS INTEGER), ?2) AS TEXT) WHERE key = ?1",
        rusqlite::params![UPTO_KEY, keep as i64],
    )
    .map(drop)
}

/// The rows (in `replay::ROW_COLUMNS` order) of the text index's candidates
/// for a query (parameter 1) between two seqs (2 and 3) that also pass
/// `conds` (` AND …` over `e`, `t`, `k`). The text index drives, in rowid
/// order, so the first page of a needle found everywhere comes at once
/// instead of after every candidate was gathered and sorted.
pub(crate) fn candidates_sql(conds: &str) -> String {
    format!(
        "SELECT {} FROM search s CROSS JOIN {} WHERE s.search MATCH ? AND s.rowid >= ? AND s.rowid <= ? AND e.seq = s.rowid{conds} ORDER BY s.rowid",
        crate::replay::ROW_COLUMNS,
        crate::replay::ROW_FROM
    )
}

/// A search text, ready to narrow with the index and to test records.
pub(crate) struct Needle {
    lower: String,
    finder: memmem::Finder<'static>,
    scratch: Vec<u8>,
}

impl Needle {
    pub(crate) fn new(text: &str) -> Needle {
        let lower = text.to_lowercase();
        let finder = memmem::Finder::new(lower.as_bytes()).into_owned();
        Needle { lower, finder, scratch: Vec::new() }
    }

    /// Whether the record `text` contains the needle, ignoring case as
    /// `str::to_lowercase` does: the definition of a match.
    pub(crate) fn matches(&mut self, text: &str) -> bool {
        if text.is_ascii() {
            // Lowercasing ASCII is bytewise; skip the allocation.
            self.scratch.clear();
            self.scratch.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
            self.finder.find(&self.scratch).is_some()
        } else {
            self.finder.find(text.to_lowercase().as_bytes()).is_some()
        }
    }

    /// The FTS5 query whose rows include every record that contains the
    /// needle, or `None` when the index cannot narrow it (fewer than three
    /// characters, or a NUL, which indexed text never holds).
    pub(crate) fn fts_query(&self) -> Option<String> {
        if self.lower.contains('\0') {
            return None;
        }
        let mut bounds: Vec<usize> = self.lower.char_indices().map(|(i, _)| i).collect();
        bounds.push(self.lower.len());
        if bounds.len() < 4 {
            return None;
        }
        let mut terms: Vec<&str> = Vec::new();
        for w in bounds.windows(4) {
            let t = &self.lower[w[0]..w[3]];
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        if terms.len() > MAX_TERMS {
            // Spread over the needle, first and last included.
            let n = terms.len();
            terms = (0..MAX_TERMS).map(|k| terms[k * (n - 1) / (MAX_TERMS - 1)]).collect();
        }
        Some(terms.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND "))
    }
}

/// The text stored for a record: lowercased as needles are, NULs as
/// spaces; a long record as its distinct trigrams one after another (the
/// joins add trigrams, which may add candidates but never lose one).
fn indexed_text(text: &str) -> String {
    let mut lower = text.to_lowercase();
    if lower.contains('\0') {
        lower = lower.replace('\0', " ");
    }
    if lower.len() <= LONG_RECORD {
        return lower;
    }
    if lower.is_ascii() {
        // Three 7-bit bytes make a 21-bit number: a bitset of 256 KiB.
        let mut seen = vec![0u64; 1 << 15];
        let mut out = Vec::new();
        for w in lower.as_bytes().windows(3) {
            let n = (w[0] as usize) << 14 | (w[1] as usize) << 7 | w[2] as usize;
            let (word, bit) = (n >> 6, 1u64 << (n & 63));
            if seen[word] & bit == 0 {
                seen[word] |= bit;
                out.extend_from_slice(w);
            }
        }
        return String::from_utf8(out).unwrap_or_default();
    }
    let mut bounds = lower.char_indices().map(|(i, _)| i).chain([lower.len()]);
    let mut window: [usize; 4] = [0; 4];
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut out = String::new();
    for (n, b) in (&mut bounds).enumerate() {
        window.rotate_left(1);
        window[3] = b;
        if n >= 3 {
            let t = &lower[window[0]..window[3]];
            if seen.insert(t) {
                out.push_str(t);
            }
        }
    }
    out
}

/// Builds the text index of a source on a connection of its own, so that it
/// can run on another thread while the source answers through its own. It
/// owns everything it needs (`Send`); the source's index must stay where it
/// is while it runs (a temporary index lives as long as its source).
pub struct TextIndexer {
    conn: Connection,
    db: PathBuf,
    files: Files,
    lock: Option<PathBuf>,
    /// The database file as opened, to notice when it was replaced.
    identity: Option<FileId>,
    events: u64,
    /// Events per chunk (tests make it small).
    chunk_events: usize,
}

/// What the run did, beyond how far it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A chunk was stored; more may follow.
    Stored,
    /// The main index is incomplete or being built: try again once it is.
    Yielded,
}

impl TextIndexer {
    /// Opens a second connection to `source`'s index and readers for its
    /// files.
    pub fn new(source: &Source) -> Result<TextIndexer> {
        let index = source.index();
        let db = index.db_path.clone();
        let conn = Connection::open(&db).map_err(|e| Error::index(&db, e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| Error::index(&db, e))?;
        conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA synchronous = NORMAL;")
            .map_err(|e| Error::index(&db, e))?;
        Ok(TextIndexer { identity: file_id(&db), conn, files: index.open_files()?, lock: index.lock_path.clone(), db, events: source.count(), chunk_events: CHUNK_EVENTS })
    }

    /// Chunks of `n` events instead of the default.
    #[cfg(test)]
    pub(crate) fn with_chunk(mut self, n: usize) -> TextIndexer {
        self.chunk_events = n.max(1);
        self
    }

    /// How much the text index covers now.
    pub fn status(&self) -> Result<TextIndexStatus> {
        let covered = covered(&self.conn).map_err(|e| Error::index(&self.db, e))?;
        Ok(TextIndexStatus { covered: covered.min(self.events), total: self.events })
    }

    /// Indexes events from where the text index ends until it covers them
    /// all, `progress(done, total)` returns false (it is called after each
    /// chunk is committed, the last one included), or the main index is
    /// being built by someone else (the run yields; run it again once that
    /// build is done). Returns how far the text index got: `ready()` tells
    /// a finished run from a stopped or yielded one.
    pub fn run(&mut self, progress: &mut dyn FnMut(u64, u64) -> bool) -> Result<TextIndexStatus> {
        let mut first = true;
        loop {
            let Some(_lock) = self.try_lock() else { return self.status() };
            if file_id(&self.db) != self.identity {
                return Err(Error::Query(format!(
                    "the index at {} was rebuilt while its text index was being built; open the files again",
                    self.db.display()
                )));
            }
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| Error::index(&self.db, e))?;
            let step = chunk(&tx, &mut self.files, first, self.chunk_events, &self.db)?;
            tx.commit().map_err(|e| Error::index(&self.db, e))?;
            first = false;
            let (outcome, done, total) = step;
            self.events = total;
            if outcome == Outcome::Yielded {
                return self.status();
            }
            let go_on = progress(done, total);
            if done >= total || !go_on {
                return self.status();
            }
        }
    }

    /// The index's lock, when nobody else holds it; `None` when a build of
    /// the main index holds it. A filesystem without locks goes without.
    fn try_lock(&self) -> Option<Option<std::fs::File>> {
        let Some(path) = &self.lock else { return Some(None) };
        let Some(file) = crate::index::lock_file(path) else { return Some(None) };
        match file.try_lock() {
            Ok(()) => Some(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => None,
            Err(std::fs::TryLockError::Error(_)) => Some(None),
        }
    }
}

/// One chunk inside an immediate transaction: the events after
/// `search_upto`, read back and inserted, and the new `search_upto`.
/// Returns the outcome, the coverage and the number of events.
fn chunk(tx: &Connection, files: &mut Files, first: bool, limit: usize, db: &Path) -> Result<(Outcome, u64, u64)> {
    let err = |e: rusqlite::Error| Error::index(db, e);
    let complete: Option<String> = tx.query_row("SELECT value FROM meta WHERE key = 'complete'", [], |r| r.get(0)).optional().map_err(err)?;
    let upto = covered(tx).map_err(err)?;
    let total: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0)).map_err(err)?;
    let total = total as u64;
    if complete.as_deref() != Some("1") {
        return Ok((Outcome::Yielded, upto, total));
    }
    if first {
        // The key index first: blame, entity histories and key filters read
        // one entity's events through it instead of scanning all of them.
        tx.execute_batch(CREATE_KEY_INDEX).map_err(err)?;
        tx.execute_batch(CREATE).map_err(err)?;
        // Rows past `search_upto` belong to events that an append of the
        // main index numbered again.
        tx.execute("DELETE FROM search WHERE rowid > ?1", [upto as i64]).map_err(err)?;
    }
    let started = Instant::now();
    let mut insert = tx.prepare_cached("INSERT INTO search(rowid, text) VALUES (?1, ?2)").map_err(err)?;
    let mut read = tx.prepare_cached("SELECT seq, file, off, len, raw FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2").map_err(err)?;
    let mut rows = read.query([upto as i64, limit as i64]).map_err(err)?;
    let mut last = upto;
    while let Some(r) = rows.next().map_err(err)? {
        let seq = r.get::<_, i64>(0).map_err(err)? as u64;
        let file = r.get::<_, i64>(1).map_err(err)? as usize;
        let off = r.get::<_, i64>(2).map_err(err)? as u64;
        let len = r.get::<_, i64>(3).map_err(err)? as usize;
        let stored = match r.get_ref(4).map_err(err)? {
            rusqlite::types::ValueRef::Blob(b) => Some(b),
            _ => None,
        };
        let text = indexed_text(&files.text_at(file, off, len, stored, seq)?);
        insert.execute(rusqlite::params![seq as i64, text]).map_err(err)?;
        last = seq;
        if started.elapsed() >= CHUNK_TIME {
            break;
        }
    }
    drop(rows);
    if last > upto {
        tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", rusqlite::params![UPTO_KEY, last.to_string()]).map_err(err)?;
    }
    Ok((Outcome::Stored, last, total))
}

/// Which file a path names, where the platform says (device and inode).
type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_path: &Path) -> Option<FileId> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Location, Settings};
    use crate::source::{EventFilter, OpenOptions};
    use std::io::Write;

    /// Records in several scripts and cases, with JSON escapes, repeated
    /// with numbers so that the log spans many chunks.
    const TEXTS: &[&str] = &[
        "Hello World",
        "日本語のテキスト",
        "emoji 🙂🎉 party",
        "ΟΔΟΣ και οδός",
        "Straße STRAẞE",
        "İstanbul ıI",
        r#"quote \"q\" here"#,
        r"tab\tsep",
        "MiXeD CaSe needle",
        "ǅungla ǈ",
    ];

    fn line(i: usize) -> String {
        let text = TEXTS[i % TEXTS.len()];
        format!(r#"{{"ts":"2024-01-05T10:{:02}:{:02}Z","type":"T{}","streamId":"k{}","data":{{"text":"{text} #{i}"}}}}"#, i / 60 % 60, i % 60, i % 3, i % 4)
    }

    fn write_lines(path: &Path, range: std::ops::Range<usize>, append: bool) {
        let mut f = std::fs::OpenOptions::new().create(true).append(append).write(true).truncate(!append).open(path).unwrap();
        for i in range {
            writeln!(f, "{}", line(i)).unwrap();
        }
    }

    fn open(paths: &[PathBuf], location: Location) -> Source {
        Source::open(paths, &OpenOptions { settings: Settings::default(), location, ..OpenOptions::default() }, &mut |_| {}).unwrap()
    }

    /// Every event's raw record text, by seq: what a search is defined on.
    fn raws(src: &Source) -> Vec<(u64, String)> {
        let mut out = vec![];
        src.events(&EventFilter::default(), &mut |e| {
            out.push((e.seq, e.raw));
            true
        })
        .unwrap();
        out
    }

    /// The definition, applied to every record.
    fn reference(raws: &[(u64, String)], needle: &str) -> Vec<u64> {
        let needle = needle.to_lowercase();
        raws.iter().filter(|(_, raw)| raw.to_lowercase().contains(&needle)).map(|(seq, _)| *seq).collect()
    }

    fn searched(src: &Source, filter: EventFilter) -> Vec<u64> {
        let mut out = vec![];
        src.events(&filter, &mut |e| {
            out.push(e.seq);
            true
        })
        .unwrap();
        out
    }

    fn search(src: &Source, needle: &str) -> Vec<u64> {
        searched(src, EventFilter { search: Some(needle.into()), ..EventFilter::default() })
    }

    /// The rows the text index itself offers for `needle`.
    fn candidates(src: &Source, needle: &str) -> Option<Vec<u64>> {
        let query = Needle::new(needle).fts_query()?;
        let conn = src.connection();
        let mut stmt = conn.prepare("SELECT rowid FROM search WHERE search MATCH ?1 ORDER BY rowid").unwrap();
        let rows = stmt.query_map([query], |r| r.get::<_, i64>(0)).unwrap();
        Some(rows.map(|r| r.unwrap() as u64).collect())
    }

    /// Needles cut from the records themselves (1 to 8 characters, at the
    /// start, middle and end, as written and upper-cased), plus some that
    /// match nothing or cross case rules.
    fn needles(raws: &[(u64, String)]) -> Vec<String> {
        let mut out: Vec<String> = ["", "zzzq", "ss", "STRASSE", "istanbul", "\"q\"", r#"\"q\""#, "🙂🎉", "#1", "ǆ", "Ǆ"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for (_, raw) in raws.iter().step_by(3).take(40) {
            let chars: Vec<char> = raw.chars().collect();
            for len in [1, 2, 3, 4, 8] {
                for at in [0, chars.len() / 2, chars.len().saturating_sub(len + 3)] {
                    let cut: String = chars.iter().skip(at).take(len).collect();
                    out.push(cut.to_uppercase());
                    out.push(cut);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Asserts that every needle's answer is the definition's, and that the
    /// index's candidates (where it narrows) include every answer.
    fn check_all(src: &Source, raws: &[(u64, String)], needles: &[String]) {
        let covered = src.text_index_status().unwrap().covered;
        for needle in needles {
            let expected = reference(raws, needle);
            assert_eq!(search(src, needle), expected, "needle {needle:?}");
            if covered > 0 {
                if let Some(found) = candidates(src, needle) {
                    let missed: Vec<u64> = expected.iter().filter(|s| **s <= covered && !found.contains(s)).copied().collect();
                    assert!(missed.is_empty(), "the text index misses {missed:?} for {needle:?}");
                }
            }
        }
    }

    #[test]
    fn index_answers_equal_scan_answers_in_any_script() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("texts.jsonl");
        write_lines(&log, 0..120, false);
        let src = open(std::slice::from_ref(&log), Location::Temp);
        let raws = raws(&src);
        let needles = needles(&raws);
        assert!(needles.len() > 100);
        // Without the text index, every search scans.
        check_all(&src, &raws, &needles);
        let status = TextIndexer::new(&src).unwrap().with_chunk(17).run(&mut |_, _| true).unwrap();
        assert_eq!(status, TextIndexStatus { covered: 120, total: 120 });
        assert!(src.search_ready());
        check_all(&src, &raws, &needles);
        // The index narrows: a rare needle has few candidates.
        assert_eq!(candidates(&src, "日本語").unwrap().len(), 12);
        assert_eq!(candidates(&src, "ab"), None);
        // Case and script rules are those of `str::to_lowercase`.
        assert_eq!(search(&src, "ΟΔΟΣ").len(), 12);
        assert_eq!(search(&src, "strasse"), Vec::<u64>::new());
        assert_eq!(search(&src, "STRAẞE").len(), 12);
        assert_eq!(search(&src, "i̇stanbul").len(), 12);
    }

    #[test]
    fn other_filters_from_and_limit_keep_their_meaning() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("texts.jsonl");
        write_lines(&log, 0..200, false);
        let src = open(&[log], Location::Temp);
        let filters = |needle: &str| {
            let search = Some(needle.to_string());
            vec![
                EventFilter { search: search.clone(), ty: Some("T1".into()), ..EventFilter::default() },
                EventFilter { search: search.clone(), key: Some("k2".into()), from: Some(37), ..EventFilter::default() },
                EventFilter { search: search.clone(), level: Some("info".into()), ..EventFilter::default() },
                EventFilter { search: search.clone(), from: Some(150), limit: Some(3), ..EventFilter::default() },
                EventFilter { search: search.clone(), limit: Some(5), ..EventFilter::default() },
                EventFilter { search: search.clone(), limit: Some(0), ..EventFilter::default() },
                EventFilter {
                    search,
                    since: crate::time::parse_user_time("2024-01-05T10:01:00Z"),
                    until: crate::time::parse_user_time("2024-01-05T10:02:30Z"),
                    ..EventFilter::default()
                },
            ]
        };
        let needles = ["world", "🙂🎉 p", "#1", "e", "nothing-here"];
        let scanned: Vec<Vec<u64>> = needles.iter().flat_map(|n| filters(n)).map(|f| searched(&src, f)).collect();
        assert!(scanned.iter().any(|s| s.len() > 3), "the filters select something");
        // Half covered, then all: the same answers, in seq order.
        let mut stop_at_half = |done: u64, _| done < 100;
        TextIndexer::new(&src).unwrap().with_chunk(10).run(&mut stop_at_half).unwrap();
        assert_eq!(src.text_index_status().unwrap(), TextIndexStatus { covered: 100, total: 200 });
        let half: Vec<Vec<u64>> = needles.iter().flat_map(|n| filters(n)).map(|f| searched(&src, f)).collect();
        assert_eq!(half, scanned);
        src.build_text_index(&mut |_, _| true).unwrap();
        let full: Vec<Vec<u64>> = needles.iter().flat_map(|n| filters(n)).map(|f| searched(&src, f)).collect();
        assert_eq!(full, scanned);
        for answer in &full {
            assert!(answer.windows(2).all(|w| w[0] < w[1]), "in seq order: {answer:?}");
        }
    }

    #[test]
    fn a_partial_text_index_and_a_grown_file_answer_everything() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("texts.jsonl");
        let db = Location::Path(dir.path().join("texts.hsidx"));
        write_lines(&log, 0..100, false);
        let src = open(std::slice::from_ref(&log), db.clone());
        let status = TextIndexer::new(&src).unwrap().with_chunk(9).run(&mut |done, _| done < 50).unwrap();
        assert_eq!(status, TextIndexStatus { covered: 54, total: 100 });
        assert!(!src.search_ready());
        let raws_before = raws(&src);
        check_all(&src, &raws_before, &needles(&raws_before));
        drop(src);
        // The file grows: the main index appends, the text index covers
        // what it covered, and searches scan the rest.
        write_lines(&log, 100..260, true);
        let src = open(std::slice::from_ref(&log), db.clone());
        assert_eq!(src.report().action, "appended");
        assert_eq!(src.text_index_status().unwrap(), TextIndexStatus { covered: 54, total: 260 });
        let raws = raws(&src);
        let needles = needles(&raws);
        check_all(&src, &raws, &needles);
        // Resumed, it extends to the new events.
        let mut calls = 0;
        let status = src.build_text_index(&mut |_, _| {
            calls += 1;
            true
        }).unwrap();
        assert_eq!(status, TextIndexStatus { covered: 260, total: 260 });
        assert_eq!(calls, 1, "one chunk covers the rest");
        check_all(&src, &raws, &needles);
        // Reopening an unchanged file keeps it.
        drop(src);
        assert!(open(&[log], db).search_ready());
    }

    #[test]
    fn a_stopped_build_resumes_to_the_same_index() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("texts.jsonl");
        write_lines(&log, 0..90, false);
        let (a, b) = (Location::Path(dir.path().join("a.hsidx")), Location::Path(dir.path().join("b.hsidx")));
        let resumed = open(std::slice::from_ref(&log), a.clone());
        for _ in 0..4 {
            // Stopped after each chunk, each run started afresh.
            TextIndexer::new(&resumed).unwrap().with_chunk(8).run(&mut |_, _| false).unwrap();
        }
        assert_eq!(resumed.text_index_status().unwrap().covered, 32);
        TextIndexer::new(&resumed).unwrap().with_chunk(8).run(&mut |_, _| true).unwrap();
        let whole = open(&[log], b);
        whole.build_text_index(&mut |_, _| true).unwrap();
        let raws = raws(&whole);
        for needle in needles(&raws) {
            assert_eq!(candidates(&resumed, &needle), candidates(&whole, &needle), "needle {needle:?}");
        }
    }

    #[test]
    fn events_numbered_again_by_an_append_leave_the_text_index() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("texts.jsonl");
        let db = Location::Path(dir.path().join("texts.hsidx"));
        write_lines(&log, 0..10, false);
        // The last record has no newline yet: it is an event, but the main
        // index reads it again when the file grows.
        std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(br#"{"type":"A","data":{"s":"old-text"}}"#).unwrap();
        let src = open(std::slice::from_ref(&log), db.clone());
        assert_eq!(src.count(), 11);
        src.build_text_index(&mut |_, _| true).unwrap();
        assert_eq!(search(&src, "old-text"), [11]);
        drop(src);
        // Completed differently: that line is no longer an event, and seq 11
        // is a new record.
        std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(b"x\n{\"type\":\"B\",\"data\":{\"s\":\"fresh-text\"}}\n").unwrap();
        let src = open(std::slice::from_ref(&log), db.clone());
        assert_eq!((src.report().action.as_str(), src.count()), ("appended", 11));
        assert_eq!(src.text_index_status().unwrap().covered, 10);
        assert_eq!(search(&src, "fresh-text"), [11]);
        assert_eq!(search(&src, "old-text"), Vec::<u64>::new());
        src.build_text_index(&mut |_, _| true).unwrap();
        assert_eq!(candidates(&src, "old-text").unwrap(), Vec::<u64>::new(), "the stale row is gone");
        assert_eq!(candidates(&src, "fresh-text").unwrap(), [11]);
        assert_eq!(search(&src, "fresh-text"), [11]);
    }

    #[test]
    fn merged_compressed_and_text_sources_search_their_raw_records() {
        let dir = tempfile::tempdir().unwrap();
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden");
        let a = dir.path().join("a.jsonl");
        let b = dir.path().join("b.jsonl");
        write_lines(&a, 0..40, false);
        let mut f = std::fs::File::create(&b).unwrap();
        for i in 40..80 {
            // Later times, other texts: merged by time after a's.
            writeln!(f, "{}", line(i).replace("2024-01-05", "2024-01-06").replace("#", "№")).unwrap();
        }
        drop(f);
        let gz = dir.path().join("texts.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
        for i in 0..60 {
            writeln!(enc, "{}", line(i)).unwrap();
        }
        enc.finish().unwrap();
        let sources: Vec<Vec<PathBuf>> = vec![
            vec![a, b],
            vec![gz],
            vec![golden.join("orders.csv")],
            vec![golden.join("syslog.log")],
            vec![golden.join("java.log")],
            vec![golden.join("access.log")],
            vec![golden.join("otlp.jsonl")],
            vec![golden.join("redux.json")],
        ];
        for paths in sources {
            let src = open(&paths, Location::Temp);
            let raws = raws(&src);
            assert!(raws.len() > 2, "{paths:?}");
            let needles = needles(&raws);
            let scanned: Vec<Vec<u64>> = needles.iter().map(|n| search(&src, n)).collect();
            src.build_text_index(&mut |_, _| true).unwrap();
            assert!(src.search_ready(), "{paths:?}");
            check_all(&src, &raws, &needles);
            let indexed: Vec<Vec<u64>> = needles.iter().map(|n| search(&src, n)).collect();
            assert_eq!(indexed, scanned, "{paths:?}");
        }
    }

    #[test]
    fn a_long_record_is_indexed_by_its_distinct_trigrams() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("long.jsonl");
        // One long record in ASCII, one in other scripts.
        let blob = "abcdef".repeat(LONG_RECORD / 4);
        let wide = "日本語🙂ΣΑ".repeat(LONG_RECORD / 16);
        std::fs::write(
            &log,
            format!("{{\"type\":\"small\"}}\n{{\"type\":\"long\",\"data\":\"{blob}Needle-At-End\"}}\n{{\"type\":\"wide\",\"data\":\"{wide}Ende-ÄÖÜ\"}}\n"),
        )
        .unwrap();
        let src = open(&[log], Location::Temp);
        src.build_text_index(&mut |_, _| true).unwrap();
        let raws = raws(&src);
        assert!(raws[1].1.len() > LONG_RECORD && raws[2].1.len() > LONG_RECORD);
        for (needle, seq) in [("NEEDLE-AT-END", 2), ("fabcdefab", 2), ("defneedle", 2), ("type", 2), ("σα日本", 3), ("🙂σαende-äöü", 3), ("ΣΑENDE", 3)] {
            let expected = reference(&raws, needle);
            assert_eq!(search(&src, needle), expected, "{needle}");
            assert!(candidates(&src, needle).unwrap().contains(&seq), "{needle}");
        }
        assert_eq!(search(&src, "fabcdefab"), [2]);
        assert_eq!(search(&src, "🙂σαende-äöü"), [3]);
        assert!(indexed_text(&format!("{blob}xyz")).len() < 100);
        assert!(indexed_text(&format!("{wide}xyz")).len() < 200);
    }

    #[test]
    fn the_indexer_runs_on_another_thread_beside_readers() {
        for journal in ["DELETE", "WAL"] {
            beside_readers(journal);
        }
    }

    fn beside_readers(journal: &str) {
        fn send<T: Send>(_: &T) {}
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("texts.jsonl");
        let db = dir.path().join("texts.hsidx");
        write_lines(&log, 0..400, false);
        drop(open(std::slice::from_ref(&log), Location::Path(db.clone())));
        let mode: String = Connection::open(&db).unwrap().query_row(&format!("PRAGMA journal_mode = {journal}"), [], |r| r.get(0)).unwrap();
        assert_eq!(mode.to_uppercase(), journal);
        let src = open(&[log], Location::Path(db));
        assert_eq!(src.report().action, "reused");
        let raws = raws(&src);
        let needles = ["world", "日本語", "🙂🎉", "#13", "a"];
        let mut indexer = TextIndexer::new(&src).unwrap().with_chunk(7);
        send(&indexer);
        let worker = std::thread::spawn(move || indexer.run(&mut |_, _| true));
        while !src.search_ready() {
            for needle in needles {
                assert_eq!(search(&src, needle), reference(&raws, needle), "{needle}");
            }
        }
        assert_eq!(worker.join().unwrap().unwrap(), TextIndexStatus { covered: 400, total: 400 });
        for needle in needles {
            assert_eq!(search(&src, needle), reference(&raws, needle), "{needle}");
        }
    }

    #[test]
    fn the_indexer_yields_to_a_build_and_notices_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("texts.jsonl");
        let db = Location::Path(dir.path().join("texts.hsidx"));
        write_lines(&log, 0..50, false);
        let src = open(std::slice::from_ref(&log), db.clone());
        // Someone builds the main index: the indexer stores nothing.
        let held = crate::index::lock_file(src.index().lock_path.as_deref().unwrap()).unwrap();
        held.lock().unwrap();
        assert_eq!(src.build_text_index(&mut |_, _| true).unwrap().covered, 0);
        drop(held);
        let mut indexer = TextIndexer::new(&src).unwrap().with_chunk(10);
        assert_eq!(indexer.run(&mut |_, _| false).unwrap().covered, 10);
        drop(src);
        // The file is rewritten: the index is rebuilt without a text index,
        // and the old indexer stops instead of writing to a removed file.
        write_lines(&log, 5..40, false);
        let src = open(&[log], db);
        assert!(src.report().action.starts_with("rebuilt"));
        assert_eq!(src.text_index_status().unwrap(), TextIndexStatus { covered: 0, total: 35 });
        let err = indexer.run(&mut |_, _| true).unwrap_err().to_string();
        assert!(err.contains("was rebuilt"), "{err}");
    }

    #[test]
    fn the_second_pass_indexes_keys_and_blame_reads_one_entity_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("keys.jsonl");
        write_lines(&log, 0..40, false);
        let src = open(&[log], Location::Temp);
        let key_filter = EventFilter { key: Some("k2".into()), ..EventFilter::default() };
        let listed = |src: &Source| {
            let mut v = vec![];
            src.events(&key_filter, &mut |e| {
                v.push(e.seq);
                true
            })
            .unwrap();
            v
        };
        let (blamed, keyed) = (src.blame("/k2/text").unwrap(), listed(&src));
        assert_eq!(keyed, (0..40).filter(|i| i % 4 == 2).map(|i| i as u64 + 1).collect::<Vec<_>>());
        src.build_text_index(&mut |_, _| true).unwrap();
        assert_eq!(src.blame("/k2/text").unwrap(), blamed);
        assert_eq!(listed(&src), keyed);
        let plan: Vec<String> = src
            .connection()
            .prepare("EXPLAIN QUERY PLAN SELECT seq FROM events e WHERE e.key = (SELECT id FROM keys WHERE name = ?1) OR e.key IS NULL ORDER BY e.seq")
            .unwrap()
            .query_map(["k2"], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(plan.iter().any(|p| p.contains("events_by_key")), "{plan:?}");
    }

    #[test]
    fn candidates_come_in_seq_order_from_the_index_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("texts.jsonl");
        write_lines(&log, 0..30, false);
        let src = open(&[log], Location::Temp);
        src.build_text_index(&mut |_, _| true).unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", candidates_sql(" AND t.name = ? AND k.name = ? AND e.level = ? AND e.ts >= ?"));
        let conn = src.connection();
        let mut stmt = conn.prepare(&sql).unwrap();
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params!["\"wor\"", 1, 30, "T1", "k1", 2, 0], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(plan[0].starts_with("SCAN s VIRTUAL TABLE"), "{plan:?}");
        assert!(plan[1].starts_with("SEARCH e USING INTEGER PRIMARY KEY"), "{plan:?}");
        assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
    }

    #[test]
    fn needles_become_trigram_queries() {
        let q = |s: &str| Needle::new(s).fts_query();
        assert_eq!(q(""), None);
        assert_eq!(q("ab"), None);
        assert_eq!(q("日本"), None);
        assert_eq!(q("a\0bc"), None);
        assert_eq!(q("ABC").as_deref(), Some(r#""abc""#));
        assert_eq!(q("abcd").as_deref(), Some(r#""abc" AND "bcd""#));
        assert_eq!(q(r#"a"b"#).as_deref(), Some(r#""a""b""#));
        assert_eq!(q("🙂🎉 p").as_deref(), Some(r#""🙂🎉 " AND "🎉 p""#));
        assert_eq!(q("aaaaaa").as_deref(), Some(r#""aaa""#));
        let long = q("the quick brown fox jumps over the lazy dog").unwrap();
        assert_eq!(long.matches(" AND ").count(), MAX_TERMS - 1);
        assert!(long.starts_with(r#""the""#) && long.ends_with(r#""dog""#), "{long}");
        let mut n = Needle::new("ΟΔΟΣ");
        assert!(n.matches("στην ΟΔΟΣ"));
        assert!(n.matches("οδος"));
        assert!(!n.matches("plain ascii"));
    }
}
