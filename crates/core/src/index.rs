//! The index: one SQLite database per source, a cache of what the source
//! says that can always be rebuilt (SPEC §3).
//!
//! Lifecycle. Each file's size, modification time and hashes of its first and
//! last 64 KiB are recorded. Reopening an unchanged file reads nothing but
//! those; a JSON Lines file that only grew is indexed from the end of its last
//! complete line; anything else (truncated, rewritten, another schema, an
//! index left incomplete by a kill — `complete` is set only by the final
//! commit) is rebuilt from scratch.
//!
//! Building is one pass through a pipeline of three threads: the parser
//! cuts records, extracts slots and payloads, merges several files by time
//! and names types and keys; the committer numbers events, runs the reducer
//! and writes checkpoint records; the calling thread stores rows in large
//! transactions and compresses the records it is handed. Three stages keep
//! two cores busy where two uneven ones left one waiting.
//!
//! Counts `info` reports (per type and level, first and last time) are kept
//! by the writer and stored with each commit, so no question scans every
//! event. A build asked to *share* runs in WAL mode and commits after its
//! first 1,000 events and then every 50,000, so another connection
//! (`Index::open_building`) can read what is committed while the rest is
//! indexed; a build nobody reads runs without a journal. A complete index
//! is left in WAL mode, so that the second pass (text and key indexes)
//! commits beside readers without making them fail, and a grown file is
//! appended in it.
//!
//! Concurrency: planning and building take an exclusive lock on a file
//! beside the index (`….hsidx.lock`), so two processes opening the same
//! files build once; the second finds the index built.
//!
//! Architecture invariant: source files are opened read-only, never written,
//! locked or moved.

use crate::fields::{self, FieldOverrides, Fields};
use crate::format::{self, Compression, Decoder, Explode, Format, RecordReader};
use crate::tabular::CsvDialect;
use crate::reducer::{self, Reducer};
use crate::replay::{self, CheckpointStore, Checkpointer, Files, RawReader};
use crate::scan;
use crate::time::TimeContext;
use crate::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::io::Read;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

/// Bump when the schema or the meaning of stored data changes: older
/// indexes are then rebuilt.
const SCHEMA_VERSION: &str = "8";

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    head_hash BLOB NOT NULL, tail_hash BLOB NOT NULL, indexed_bytes INTEGER NOT NULL, next_line INTEGER NOT NULL,
    compressed INTEGER NOT NULL);
CREATE TABLE types(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE level_counts(level INTEGER PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE blocks(first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, min_ts INTEGER, max_ts INTEGER,
    count INTEGER NOT NULL, untimed INTEGER NOT NULL, levels TEXT NOT NULL);
CREATE TABLE keys(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE events(seq INTEGER PRIMARY KEY, file INTEGER NOT NULL DEFAULT 0, line INTEGER NOT NULL, off INTEGER NOT NULL,
    len INTEGER NOT NULL, ts INTEGER, type INTEGER, key INTEGER, level INTEGER,
    flags INTEGER NOT NULL DEFAULT 0, raw BLOB);
CREATE TABLE errors(id INTEGER PRIMARY KEY, file INTEGER NOT NULL, line INTEGER NOT NULL, off INTEGER NOT NULL,
    message TEXT NOT NULL);
CREATE TABLE marks(seq INTEGER PRIMARY KEY, message TEXT NOT NULL);
CREATE TABLE notices(id INTEGER PRIMARY KEY, file INTEGER NOT NULL, line INTEGER NOT NULL, message TEXT NOT NULL);
CREATE TABLE checkpoints(seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, data BLOB NOT NULL);
CREATE VIEW event_view AS SELECT e.seq, e.file, e.line, e.off, e.len, e.ts AS ts_ns, t.name AS type, k.name AS key,
    CASE e.level WHEN 0 THEN 'trace' WHEN 1 THEN 'debug' WHEN 2 THEN 'info' WHEN 3 THEN 'warn' WHEN 4 THEN 'error'
    WHEN 5 THEN 'fatal' END AS level, e.flags
    FROM events e LEFT JOIN types t ON t.id = e.type LEFT JOIN keys k ON k.id = e.key;
";

/// Where the index lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Location {
    /// `$XDG_CACHE_HOME/hindsight/` (or `~/.cache/hindsight/`).
    #[default]
    Cache,
    /// A database file the user chose.
    Path(PathBuf),
    /// A temporary database removed when the source is dropped.
    Temp,
}

/// What the user asked for; anything left `None` is detected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub format: Option<String>,
    pub reducer: Option<String>,
    pub fields: FieldOverrides,
    /// Least replay cost (bytes of records) between checkpoints; `None` for
    /// the default. Tests set it small to exercise checkpoints on tiny logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_spacing: Option<u64>,
}

/// What the index was built with: the detected or chosen format, fields and
/// reducer. Stored in the index so every later read agrees with the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub format: String,
    pub fields: Fields,
    pub reducer: String,
    pub default_year: i32,
    /// Why detection passed over some candidates (shown by `info`).
    pub notes: Vec<String>,
    pub checkpoint_spacing: u64,
    /// The header and delimiter of a CSV source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvDialect>,
    /// Set when each record holds several events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<Explode>,
}

impl Config {
    /// Stands in until the real configuration is loaded or detected.
    fn placeholder() -> Config {
        Config {
            format: String::new(),
            fields: Fields::default(),
            reducer: String::new(),
            default_year: 1970,
            notes: vec![],
            checkpoint_spacing: replay::MIN_SPACING,
            csv: None,
            explode: None,
        }
    }

    /// How records of this source become JSON.
    pub fn decoder(&self) -> Decoder {
        let cx = TimeContext { default_year: self.default_year };
        match Format::from_name(&self.format) {
            Some(Format::Csv) => Decoder::Csv(self.csv.clone().unwrap_or(CsvDialect { delimiter: b',', header: Vec::new() })),
            Some(Format::Logfmt) => Decoder::Logfmt,
            Some(Format::Text(kind)) => Decoder::Text(kind, cx),
            _ => Decoder::Json,
        }
    }

    /// The format as `info` names it: the envelope when records hold
    /// several events.
    pub fn format_label(&self) -> String {
        match self.explode {
            Some(e) => e.name().to_string(),
            None => self.format.clone(),
        }
    }
}

/// Indexing progress, reported about ten times a second and after each
/// commit that another connection can read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// 1 while records are cut and stored, 2 while checkpoints are placed.
    pub pass: u8,
    pub bytes: u64,
    pub total_bytes: u64,
    pub events: u64,
    /// Events 1..=usable are committed and readable through
    /// [`crate::Source::open_building`]; 0 unless the build was asked to share.
    pub usable: u64,
    pub elapsed: f64,
}

/// How a build runs.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Build a new index in WAL mode, committing early and often, so that
    /// [`Index::open_building`] can read the events stored so far while the
    /// rest is indexed.
    pub share: bool,
    /// Set to stop the build; the open then fails with `Error::Cancelled`
    /// and the index is left incomplete (rebuilt when next opened).
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// How an open went: whether the source was (re)parsed, and how long it took.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// `reused`, `built`, `appended` or `rebuilt: <why>`.
    pub action: String,
    pub records_parsed: u64,
    pub seconds: f64,
}

/// An open index with its configuration.
pub struct Index {
    pub conn: Connection,
    pub db_path: PathBuf,
    pub config: Config,
    pub reducer: Reducer,
    /// How records become JSON, from `config`.
    pub decoder: Decoder,
    pub files: Vec<PathBuf>,
    /// Per file: compressed sources cannot be read at an offset, so their
    /// records are stored in the index.
    pub compressed: Vec<bool>,
    /// The bookmark file of these files: beside the index, named from the
    /// files alone, so it survives rebuilds and other settings.
    pub bookmarks_path: PathBuf,
    /// The file locked while the index is planned or built (none for a
    /// temporary index); the text indexer takes it too, one chunk at a time.
    pub lock_path: Option<PathBuf>,
    pub report: OpenReport,
    _temp: Option<tempfile::TempDir>,
}

fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("hindsight");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".cache").join("hindsight");
    }
    std::env::temp_dir().join("hindsight-cache")
}

/// The database name for these files and settings: readable stem + hash.
fn db_name(paths: &[PathBuf], settings: &Settings) -> String {
    let mut h = Sha256::new();
    for p in paths {
        h.update(p.as_os_str().as_encoded_bytes());
        h.update([0]);
    }
    h.update(serde_json::to_vec(settings).unwrap_or_default());
    let digest = h.finalize();
    let hex = crate::report::hex(&digest[..8]);
    let stem: String = paths[0]
        .file_name()
        .map(|n| n.to_string_lossy().chars().filter(|c| c.is_alphanumeric() || "._-".contains(*c)).take(40).collect())
        .unwrap_or_default();
    format!("{stem}-{hex}.hsidx")
}

/// What is recorded of a file to notice later that it changed.
#[derive(Debug, Clone, PartialEq)]
struct Fingerprint {
    size: u64,
    mtime_ns: i64,
    head: Vec<u8>,
    tail: Vec<u8>,
}

const EDGE: u64 = 64 * 1024;

fn hash_range(path: &Path, from: u64, to: u64) -> Result<Vec<u8>> {
    let mut reader = RawReader::open(path)?;
    let bytes = reader.read(from, (to - from) as usize)?;
    Ok(Sha256::digest(bytes).to_vec())
}

fn fingerprint(path: &Path) -> Result<Fingerprint> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let size = meta.len();
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    Ok(Fingerprint {
        size,
        mtime_ns,
        head: hash_range(path, 0, size.min(EDGE))?,
        tail: hash_range(path, size.saturating_sub(EDGE), size)?,
    })
}

fn year_of(mtime_ns: i64) -> i32 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(mtime_ns.div_euclid(1_000_000_000), 0).map_or(1970, |d| d.year())
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::index(path, e)
}

/// Where the index of some files lives, and what is known of the files
/// before anything is read.
struct Located {
    db_path: PathBuf,
    temp: Option<tempfile::TempDir>,
    bookmarks_path: PathBuf,
    canon_paths: Vec<PathBuf>,
    compressed: Vec<bool>,
}

/// The lock file beside an index (none for a temporary one).
fn lock_path_of(db_path: &Path, location: &Location) -> Option<PathBuf> {
    match location {
        Location::Temp => None,
        Location::Cache | Location::Path(_) => {
            let mut name = db_path.as_os_str().to_owned();
            name.push(".lock");
            Some(PathBuf::from(name))
        }
    }
}

/// Checks the files and settings (refusing unusable ones before any index
/// is touched) and names the index and bookmark files.
fn locate(paths: &[PathBuf], settings: &Settings, location: &Location) -> Result<Located> {
    if paths.is_empty() {
        return Err(Error::Query("no file given; give one or more log files".into()));
    }
    let mut compressed = Vec::new();
    for p in paths {
        compressed.push(format::open_reader(p)?.1 != Compression::None);
    }
    if let Some(spec) = &settings.reducer {
        Reducer::parse(spec)?;
    }
    if let Some(name) = &settings.format {
        if Format::from_name(name).is_none() {
            return Err(Error::Query(format!("unknown format `{name}`; choose one of {}", Format::names())));
        }
    }
    let mut canon_paths = Vec::new();
    for p in paths {
        let canonical = std::fs::canonicalize(p).map_err(|e| Error::io(p, e))?;
        if canon_paths.contains(&canonical) {
            return Err(Error::source(p, "is given twice; give each file once"));
        }
        canon_paths.push(canonical);
    }
    let (db_path, temp) = match location {
        Location::Path(p) => (p.clone(), None),
        Location::Cache => {
            let dir = cache_dir();
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            (dir.join(db_name(&canon_paths, settings)), None)
        }
        Location::Temp => {
            let dir = tempfile::Builder::new().prefix("hindsight-").tempdir().map_err(|e| Error::io(&std::env::temp_dir(), e))?;
            (dir.path().join("index.hsidx"), Some(dir))
        }
    };
    let bookmarks_path = match location {
        Location::Path(p) => {
            let mut name = p.as_os_str().to_owned();
            name.push(".bookmarks.json");
            PathBuf::from(name)
        }
        Location::Cache | Location::Temp => {
            let dir = db_path.parent().map(Path::to_path_buf).unwrap_or_default();
            dir.join(db_name(&canon_paths, &Settings::default()).replace(".hsidx", ".bookmarks.json"))
        }
    };
    Ok(Located { db_path, temp, bookmarks_path, canon_paths, compressed })
}

impl Index {
    /// Opens the index of `paths`, building, extending or rebuilding it as
    /// the files require.
    pub fn open(
        paths: &[PathBuf],
        settings: &Settings,
        location: &Location,
        how: &BuildOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Index> {
        let started = Instant::now();
        let located = locate(paths, settings, location)?;
        let db_path = located.db_path.clone();
        let how = BuildOptions { share: how.share && *location != Location::Temp, cancel: how.cancel.clone() };
        // One process at a time plans and builds a given index (the app and
        // the CLI may open the same file together); the others wait, then
        // find it built. A filesystem without locks just goes without.
        let lock_path = lock_path_of(&db_path, location);
        let _building = lock_path.as_deref().and_then(lock_file).filter(|f| f.lock().is_ok());
        let fps = paths.iter().map(|p| fingerprint(p)).collect::<Result<Vec<_>>>()?;
        let mut report = OpenReport::default();
        let plan = if db_path.exists() { plan_reuse(&db_path, paths, &fps) } else { Plan::Build("new".into()) };
        let conn = match &plan {
            Plan::Reuse | Plan::Append { .. } => open_db(&db_path)?,
            Plan::Build(_) => {
                remove_db(&db_path);
                let conn = open_db(&db_path)?;
                conn.execute_batch("PRAGMA page_size = 16384;").map_err(sql(&db_path))?;
                conn.execute_batch(SCHEMA).map_err(sql(&db_path))?;
                conn
            }
        };
        let mut index = Index::unloaded(conn, located, lock_path, OpenReport::default());
        match plan {
            Plan::Reuse => {
                index.load_config()?;
                report.action = "reused".into();
            }
            Plan::Append { from, line } => {
                index.load_config()?;
                report.records_parsed = index.build(paths, settings, &fps, Some((from, line)), &BuildOptions { share: false, ..how }, progress)?;
                report.action = "appended".into();
            }
            Plan::Build(why) => {
                report.records_parsed = index.build(paths, settings, &fps, None, &how, progress)?;
                report.action = if why == "new" { "built".into() } else { format!("rebuilt: {why}") };
            }
        }
        report.seconds = started.elapsed().as_secs_f64();
        index.report = report;
        Ok(index)
    }

    /// Opens, for reading only, the index another thread of this process is
    /// building with `share` (see [`Index::open`]): it holds the events
    /// committed so far. Refused when the build has stored nothing usable yet.
    pub fn open_building(paths: &[PathBuf], settings: &Settings, location: &Location) -> Result<Index> {
        if *location == Location::Temp {
            return Err(Error::Query("a temporary index cannot be read while it is built".into()));
        }
        let located = locate(paths, settings, location)?;
        let db_path = located.db_path.clone();
        let conn = Connection::open_with_flags(&db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(sql(&db_path))?;
        conn.execute_batch("PRAGMA cache_size = -16384;").map_err(sql(&db_path))?;
        conn.busy_timeout(READ_BUSY_TIMEOUT).map_err(sql(&db_path))?;
        let lock_path = lock_path_of(&db_path, location);
        let mut index = Index::unloaded(conn, located, lock_path, OpenReport { action: "building".into(), ..OpenReport::default() });
        index.load_config().map_err(|_| Error::Query("the index is not readable yet; wait for the first events".into()))?;
        Ok(index)
    }

    /// An index over `conn` whose configuration is not loaded yet.
    fn unloaded(conn: Connection, located: Located, lock_path: Option<PathBuf>, report: OpenReport) -> Index {
        let Located { db_path, temp, bookmarks_path, canon_paths, compressed } = located;
        Index {
            conn,
            db_path,
            config: Config::placeholder(),
            reducer: Reducer::MergePatch,
            decoder: Decoder::Json,
            files: canon_paths,
            compressed,
            bookmarks_path,
            lock_path,
            report,
            _temp: temp,
        }
    }

    fn load_config(&mut self) -> Result<()> {
        let json: String = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'config'", [], |r| r.get(0))
            .map_err(sql(&self.db_path))?;
        self.config = serde_json::from_str(&json).map_err(|e| Error::index(&self.db_path, e))?;
        self.reducer = Reducer::parse(&self.config.reducer)?;
        self.decoder = self.config.decoder();
        Ok(())
    }

    /// Indexes the file from scratch, or from `resume` (offset, line) when
    /// it grew. One pass through three threads (see the module docs): this
    /// one stores what the parser and the committer hand it.
    fn build(
        &mut self,
        paths: &[PathBuf],
        settings: &Settings,
        fps: &[Fingerprint],
        resume: Option<(u64, u64)>,
        how: &BuildOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64> {
        let share = how.share;
        let started = Instant::now();
        let db = self.db_path.clone();
        let path = paths[0].as_path();
        let fp = &fps[0];
        // Without a reader to share with, no journal at all: a build that dies
        // leaves `complete` unset and is rebuilt. Sharing needs WAL, where a
        // reader sees the last commit while the next one is written.
        // A grown index keeps its mode (WAL): readers may have it open, and
        // leaving WAL needs them gone.
        let journal = match (resume, share) {
            (Some(_), _) => "",
            (None, true) => "PRAGMA journal_mode = WAL;",
            (None, false) => "PRAGMA journal_mode = OFF;",
        };
        self.conn
            .execute_batch(&format!(
                "{journal} PRAGMA synchronous = OFF; PRAGMA cache_size = -8192; INSERT OR REPLACE INTO meta VALUES ('complete', '0');"
            ))
            .map_err(sql(&db))?;
        let (from, first_line) = resume.unwrap_or((0, 1));
        // What the parser continues from: names, seq and state of the kept events.
        let mut start = Continue::default();
        let mut recheck_keys = Vec::new();
        if resume.is_some() {
            // Records at or after the resume point are read again.
            let keep: i64 = self
                .conn
                .query_row("SELECT coalesce(max(seq), 0) FROM events WHERE off < ?1", [from as i64], |r| r.get(0))
                .map_err(sql(&db))?;
            // The counts lose the dropped rows, and so may the first and last
            // times. Keys keep their ids (the parser numbers
            // new ones after them), so keys left without events are listed.
            let dropped_keys: Vec<i64> = self
                .conn
                .prepare(&format!("SELECT DISTINCT key FROM events WHERE seq > {keep} AND key IS NOT NULL"))
                .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
                .map_err(sql(&db))?;
            recheck_keys = dropped_keys;
            // Events after `keep` are numbered again: the text index no
            // longer covers them (see `search`).
            crate::search::forget_after(&self.conn, keep as u64).map_err(sql(&db))?;
            self.conn
                .execute_batch(&format!(
                    "UPDATE types SET count = count - (SELECT count(*) FROM events WHERE seq > {keep} AND type = types.id)
                         WHERE id IN (SELECT type FROM events WHERE seq > {keep});
                     UPDATE level_counts SET count = count - (SELECT count(*) FROM events WHERE seq > {keep} AND level = level_counts.level)
                         WHERE level IN (SELECT level FROM events WHERE seq > {keep});
                     DELETE FROM events WHERE seq > {keep}; DELETE FROM errors WHERE off >= {from};
                     DELETE FROM blocks WHERE last_seq > {keep};
                     DELETE FROM marks WHERE seq > {keep}; DELETE FROM checkpoints WHERE seq > {keep};
"
                ))
                .map_err(sql(&db))?;
            if !ts_extremes_hold(&self.conn).map_err(sql(&db))? {
                set_ts_extremes(&self.conn).map_err(sql(&db))?;
            }
            start = Continue::load(&self.conn, &db, &self.config, keep as u64, &mut self.open_files()?)?;
        }
        let mut writer = Writer::new(&self.conn, &db, share)?;
        let (reader, _) = format::open_reader(path)?;
        let mut reader = reader;
        if from > 0 {
            std::io::copy(&mut (&mut reader).take(from), &mut std::io::sink()).map_err(|e| Error::io(path, e))?;
        }
        let head = match resume {
            Some(_) => Vec::new(),
            None => format::read_head(path, format::READ_HEAD)?,
        };
        let format = match (&settings.format, resume) {
            (_, Some(_)) => Format::from_name(&self.config.format).unwrap_or(Format::JsonLines),
            (Some(name), None) => {
                Format::from_name(name).ok_or_else(|| Error::Query(format!("unknown format `{name}`; choose one of {}", Format::names())))?
            }
            (None, None) => format::detect(path, &head)?,
        };
        // Merged files share one configuration, so they must share a format.
        let mut readers = vec![reader];
        for other in &paths[1..] {
            if settings.format.is_none() {
                let theirs = format::detect(other, &format::read_head(other, format::READ_HEAD)?)?;
                if theirs != format {
                    return Err(Error::source(
                        other,
                        format!(
                            "is {} but {} is {}; files of different formats cannot be merged yet — open them one at a time",
                            theirs.name(),
                            path.display(),
                            format.name()
                        ),
                    ));
                }
            }
            readers.push(format::open_reader(other)?.0);
        }
        let csv = match (format, resume) {
            (Format::Csv, Some(_)) => self.config.csv.clone(),
            (Format::Csv, None) => Some(format::csv_dialect(&head).unwrap_or_else(|| format::forced_csv_dialect(&head))),
            _ => None,
        };
        let cx = TimeContext { default_year: if resume.is_some() { self.config.default_year } else { year_of(fp.mtime_ns) } };
        let delimiter = csv.as_ref().map_or(b',', |d| d.delimiter);
        let inputs: Vec<RecordReader<_>> =
            readers.into_iter().enumerate().map(|(i, r)| {
                let (base, line) = if i == 0 { (from, first_line) } else { (0, 1) };
                RecordReader::new(r, format, base, line).with_csv(delimiter, base == 0)
            }).collect();
        let known = resume.map(|_| self.config.clone());
        let store_raw = self.compressed.clone();
        let total_bytes: u64 = fps.iter().map(|f| f.size).sum();

        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(32);
        // Emptied batches go back to their sender, so that their memory is
        // reused rather than allocated on one thread and freed on another.
        let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Vec<Item>>();
        let (staged_tx, staged_rx) = std::sync::mpsc::sync_channel::<Vec<Staged>>(8);
        let (restage_tx, restage_rx) = std::sync::mpsc::channel::<Vec<Staged>>();
        let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        writer.spare_records = Some(spare_tx);
        let outcome = std::thread::scope(|scope| -> Result<ParseEnd> {
            let Continue { names, seq, state } = start;
            let parser = scope.spawn(move || parse_all(paths, inputs, (format, csv), known, settings, cx, store_raw, names, (staged_tx, restage_rx)));
            let committer = scope.spawn(move || Committer::new((seq, state), tx, recycle_rx, spare_rx).run(staged_rx, restage_tx));
            let mut last_report = Instant::now();
            let mut reported_usable = 0;
            let mut failure = None;
            for msg in rx.iter() {
                let step = match msg {
                    Msg::Config(config) => {
                        self.config = *config;
                        // Stored now, so that a reader of the shared build can decode rows.
                        serde_json::to_string(&self.config)
                            .map_err(|e| Error::index(&db, e))
                            .and_then(|json| self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('config', ?1)", [json]).map(drop).map_err(sql(&db)))
                    }
                    Msg::Batch(mut items) => {
                        let stored = items.drain(..).try_for_each(|item| writer.item(item));
                        let _ = recycle_tx.send(items);
                        stored
                    }
                };
                if let Err(e) = step {
                    failure = Some(e);
                    break;
                }
                if how.cancel.as_ref().is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed)) {
                    failure = Some(Error::Cancelled);
                    break;
                }
                let newly_usable = writer.committed > reported_usable;
                if newly_usable || last_report.elapsed().as_millis() >= 100 {
                    last_report = Instant::now();
                    reported_usable = writer.committed;
                    progress(Progress {
                        pass: 1,
                        bytes: writer.bytes_read(),
                        total_bytes,
                        events: writer.seq,
                        usable: writer.committed,
                        elapsed: started.elapsed().as_secs_f64(),
                    });
                }
            }
            drop(rx);
            let stopped = || Error::source(path, "the reader stopped unexpectedly; please report this file");
            let end = parser.join().map_err(|_| stopped())?;
            let committed = committer.join().map_err(|_| stopped())?;
            if let Some(e) = failure {
                return Err(e);
            }
            let end = end?;
            committed?;
            Ok(end)
        })?;
        let events = writer.finish()?;
        if events == 0 && resume.is_none() {
            let first: Option<(i64, String)> = self
                .conn
                .query_row("SELECT line, message FROM errors ORDER BY id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(sql(&db))?;
            if let Some((line, msg)) = first {
                return Err(Error::source(path, format!("no record could be read as an event; line {line}: {msg}")));
            }
        }
        if resume.is_some() {
            self.note_orphan_keys(recheck_keys)?;
        }
        self.reducer = Reducer::parse(&self.config.reducer)?;
        self.decoder = self.config.decoder();
        let config_json = serde_json::to_string(&self.config).map_err(|e| Error::index(&db, e))?;
        self.conn
            .execute("INSERT OR REPLACE INTO meta VALUES ('config', ?1)", [config_json])
            .map_err(sql(&db))?;
        for (i, fp) in fps.iter().enumerate() {
            // Only a lone file is resumed when it grows; merged files are
            // indexed again.
            let resumable = paths.len() == 1 && !self.compressed[i] && format.resumable();
            let (safe_offset, safe_line) = if resumable { (outcome.safe_offset, outcome.safe_line) } else { (fp.size, 0) };
            self.conn
                .execute(
                    "INSERT OR REPLACE INTO files(id, path, size, mtime_ns, head_hash, tail_hash, indexed_bytes, next_line, compressed)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        i as i64,
                        self.files[i].to_string_lossy(),
                        fp.size as i64,
                        fp.mtime_ns,
                        fp.head,
                        fp.tail,
                        safe_offset as i64,
                        safe_line as i64,
                        self.compressed[i] as i64
                    ],
                )
                .map_err(sql(&db))?;
        }
        // The final commit is what makes the index trustworthy.
        self.conn
            .execute_batch(&format!(
                "INSERT OR REPLACE INTO meta VALUES ('schema', '{SCHEMA_VERSION}');
                 INSERT OR REPLACE INTO meta VALUES ('complete', '1');
                 PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; {}",
                // A complete index is read in WAL mode: the text indexer then
                // commits beside readers without ever making them fail with
                // "database is locked" (a reader of a shared build is
                // already in it).
                if share || resume.is_some() { "" } else { "PRAGMA journal_mode = WAL;" }
            ))
            .map_err(sql(&db))?;
        Ok(outcome.parsed)
    }

    /// Records in `meta.orphan_keys` the keys that have no event left after
    /// a resumed build dropped some rows: `candidates` (the dropped rows'
    /// keys) and those listed before, which new events may have taken up.
    fn note_orphan_keys(&self, mut candidates: Vec<i64>) -> Result<()> {
        let db = &self.db_path;
        let listed: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'orphan_keys'", [], |r| r.get(0)).optional().map_err(sql(db))?;
        candidates.extend(listed.and_then(|l| serde_json::from_str::<Vec<i64>>(&l).ok()).unwrap_or_default());
        candidates.sort_unstable();
        candidates.dedup();
        let mut orphans = Vec::new();
        for id in candidates {
            let used: bool = self
                .conn
                .query_row("SELECT EXISTS(SELECT 1 FROM events WHERE key = ?1)", [id], |r| r.get(0))
                .map_err(sql(db))?;
            if !used {
                orphans.push(id);
            }
        }
        let json = serde_json::to_string(&orphans).map_err(|e| Error::index(db, e))?;
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('orphan_keys', ?1)", [json]).map_err(sql(db))?;
        Ok(())
    }

    /// Readers for the source files (none for a compressed source, whose
    /// records are stored in the index).
    pub fn open_files(&self) -> Result<Files> {
        let mut readers = Vec::new();
        for (p, compressed) in self.files.iter().zip(&self.compressed) {
            readers.push(if *compressed { None } else { Some(RawReader::open(p)?) });
        }
        Ok(Files { readers })
    }
}

const SAMPLE: usize = 1000;
const BATCH_ITEMS: usize = 2048;

/// What the committer sends the writer: the configuration once (when it
/// was detected), then records in batches.
enum Msg {
    Config(Box<Config>),
    Batch(Vec<Item>),
}

/// A name seen for the first time gets an id and a row.
type NameId = Option<(i64, Option<String>)>;

/// One thing to store, in file order.
enum Item {
    Event { seq: u64, file: u32, off: u64, line: u64, len: usize, flags: i64, ts: Option<i64>, ty: NameId, key: NameId, level: Option<i64>, raw: Option<Box<[u8]>> },
    Error { file: u32, off: u64, line: u64, message: String },
    Notice { file: u32, line: u64, message: String },
    Mark { seq: u64, message: String },
    /// A checkpoint's record, compressed and stored on the writer's thread.
    Checkpoint(replay::Record),
}

struct ParseEnd {
    parsed: u64,
    safe_offset: u64,
    safe_line: u64,
}

/// Where the build continues from when a grown file is resumed.
#[derive(Default)]
struct Continue {
    names: Names,
    seq: u64,
    state: crate::state::State,
}

impl Continue {
    fn load(conn: &Connection, db: &Path, config: &Config, keep: u64, files: &mut Files) -> Result<Continue> {
        let load = |table: &str| -> rusqlite::Result<HashMap<String, i64>> {
            let mut stmt = conn.prepare(&format!("SELECT name, id FROM {table}"))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        let reducer = Reducer::parse(&config.reducer)?;
        let (at, mut state) = replay::load_checkpoint(conn, keep)?;
        let decoder = config.decoder();
        let replayer = replay::Replayer { reducer: &reducer, fields: &config.fields, decoder: &decoder, cx: TimeContext { default_year: config.default_year } };
        replayer.replay(conn, files, at, keep, &mut state, &mut crate::state::Touched::default())?;
        let names = Names { types: load("types").map_err(sql(db))?, keys: load("keys").map_err(sql(db))? };
        Ok(Continue { names, seq: keep, state })
    }
}

/// The ids of type and key names, given in the order events are numbered.
#[derive(Default)]
struct Names {
    types: HashMap<String, i64>,
    keys: HashMap<String, i64>,
}

impl Names {
    fn intern(map: &mut HashMap<String, i64>, name: &str) -> (i64, Option<String>) {
        if let Some(id) = map.get(name) {
            return (*id, None);
        }
        let id = map.len() as i64 + 1;
        map.insert(name.to_string(), id);
        (id, Some(name.to_string()))
    }

    /// Names the event's type and key.
    fn name(&mut self, event: &mut Parsed) {
        event.ty = event.slots.ty.as_deref().map(|t| Self::intern(&mut self.types, t));
        event.key = event.slots.key.as_deref().map(|k| Self::intern(&mut self.keys, k));
    }
}

/// Records held for detection: offset, line, text, byte length, lossy, error.
type Sample = Vec<(u64, u64, String, usize, bool, Option<&'static str>)>;

/// An event read and parsed but not yet numbered: merging several files
/// decides its place by its time first.
struct Parsed {
    file: u32,
    off: u64,
    line: u64,
    len: usize,
    lossy: bool,
    slots: fields::Slots,
    payload: serde_json::Value,
    raw: Option<Box<[u8]>>,
    /// Ids of the type and key, given once the event's place is known.
    ty: NameId,
    key: NameId,
}

/// One file being read: its records, the events parsed ahead, and the time
/// of its last event (which events without a time inherit for merging).
struct Input<R> {
    records: RecordReader<R>,
    ahead: std::collections::VecDeque<Parsed>,
    last_ts: Option<i64>,
    done: bool,
}

/// What the parser hands the committer, in file order.
enum Staged {
    /// The configuration, before anything else; `announce` when it was just
    /// detected (the writer stores it).
    Config(Box<Config>, bool),
    /// Something stored as it is (a parse error, a notice).
    Item(Item),
    /// An event to number and replay.
    Event(Parsed),
}

/// The parser thread: detects the configuration from a sample of the first
/// file (unless it is `known`), then turns every record into events and
/// errors and merges several files by time (SPEC §2.4).
#[allow(clippy::too_many_arguments)]
fn parse_all<R: std::io::Read>(
    paths: &[PathBuf],
    readers: Vec<RecordReader<R>>,
    (format, csv): (Format, Option<CsvDialect>),
    known: Option<Config>,
    settings: &Settings,
    cx: TimeContext,
    store_raw: Vec<bool>,
    mut names: Names,
    (tx, recycled): (std::sync::mpsc::SyncSender<Vec<Staged>>, std::sync::mpsc::Receiver<Vec<Staged>>),
) -> Result<ParseEnd> {
    let mut parser = RecordParser {
        fields: Fields::default(),
        decoder: Decoder::Json,
        explode: None,
        cx,
        store_raw,
        ts_noticed: vec![false; readers.len()],
        out: Batcher::new(tx, recycled, |batch| batch),
    };
    let mut inputs: Vec<Input<R>> =
        readers.into_iter().map(|records| Input { records, ahead: Default::default(), last_ts: None, done: false }).collect();
    let mut parsed = 0u64;
    let read_err = |i: usize| {
        let path = paths[i].clone();
        move |e| Error::io(&path, e)
    };
    match known {
        Some(c) => {
            parser.configure(&c)?;
            parser.stage(Staged::Config(Box::new(c), false));
        }
        None => {
            let mut held: Sample = Vec::new();
            while held.len() < SAMPLE {
                let Some(rec) = inputs[0].records.next_record().map_err(read_err(0))? else { break };
                let (text, lossy) = decode_utf8(rec.bytes);
                held.push((rec.offset, rec.line, text.into_owned(), rec.bytes.len(), lossy, rec.error));
            }
            parsed += held.len() as u64;
            if !parser.start(format, csv, settings, held, &mut inputs[0].ahead)? {
                return Ok(ParseEnd { parsed, safe_offset: 0, safe_line: 0 });
            }
        }
    }
    let mut open = true;
    'merge: while open {
        // Every input with nothing parsed ahead reads until it has an event.
        for (i, input) in inputs.iter_mut().enumerate() {
            while input.ahead.is_empty() && !input.done {
                match input.records.next_record().map_err(read_err(i))? {
                    None => input.done = true,
                    Some(rec) => {
                        parsed += 1;
                        let (text, lossy) = decode_utf8(rec.bytes);
                        if !parser.record(i as u32, rec.offset, rec.line, &text, rec.bytes.len(), lossy, rec.error, &mut input.ahead) {
                            open = false;
                            break 'merge;
                        }
                    }
                }
            }
        }
        // The earliest event next; ties go to the earlier file.
        let next = inputs
            .iter()
            .enumerate()
            .filter_map(|(i, input)| input.ahead.front().map(|p| (p.slots.ts.map(|t| t.nanos).or(input.last_ts), i)))
            .min_by_key(|&(ts, i)| (ts.unwrap_or(i64::MIN), i));
        let Some((_, i)) = next else { break };
        let input = &mut inputs[i];
        let Some(mut event) = input.ahead.pop_front() else { break };
        if let Some(ts) = event.slots.ts {
            input.last_ts = Some(ts.nanos);
        }
        names.name(&mut event);
        open = parser.stage(Staged::Event(event));
    }
    if open {
        parser.out.flush();
    }
    let first = &inputs[0].records;
    Ok(ParseEnd { parsed, safe_offset: first.safe_offset, safe_line: first.safe_line })
}

/// A record's text, and whether invalid UTF-8 had to be replaced.
fn decode_utf8(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    }
}

/// Things sent down a channel to the next stage in batches (wrapped in the
/// channel's message by `wrap`); emptied batches come back for reuse.
struct Batcher<T, M> {
    batch: Vec<T>,
    /// Batches start small and double up to `BATCH_ITEMS`, so that the first
    /// events reach the writer (and a reader of a shared build) at once.
    limit: usize,
    tx: std::sync::mpsc::SyncSender<M>,
    recycled: std::sync::mpsc::Receiver<Vec<T>>,
    wrap: fn(Vec<T>) -> M,
}

impl<T, M> Batcher<T, M> {
    fn new(tx: std::sync::mpsc::SyncSender<M>, recycled: std::sync::mpsc::Receiver<Vec<T>>, wrap: fn(Vec<T>) -> M) -> Self {
        Batcher { batch: Vec::with_capacity(BATCH_ITEMS), limit: 128, tx, recycled, wrap }
    }

    /// Returns false when the next stage has gone.
    fn push(&mut self, one: T) -> bool {
        self.batch.push(one);
        if self.batch.len() >= self.limit {
            self.limit = (self.limit * 2).min(BATCH_ITEMS);
            return self.flush();
        }
        true
    }

    /// Sends what is batched, if anything; false when the next stage has gone.
    fn flush(&mut self) -> bool {
        let fresh = self.recycled.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH_ITEMS));
        let batch = std::mem::replace(&mut self.batch, fresh);
        batch.is_empty() || self.tx.send((self.wrap)(batch)).is_ok()
    }

    /// Sends `message` at once, after what is batched.
    fn send_now(&mut self, message: M) -> bool {
        self.flush() && self.tx.send(message).is_ok()
    }
}

struct RecordParser {
    fields: Fields,
    decoder: Decoder,
    explode: Option<Explode>,
    cx: TimeContext,
    /// Per file.
    store_raw: Vec<bool>,
    ts_noticed: Vec<bool>,
    out: Batcher<Staged, Vec<Staged>>,
}

impl RecordParser {
    fn configure(&mut self, config: &Config) -> Result<()> {
        self.fields = config.fields.clone();
        self.decoder = config.decoder();
        self.explode = config.explode;
        // Checked here so that a bad expression stops the build at once.
        Reducer::parse(&config.reducer)?;
        Ok(())
    }

    /// Detects the configuration from the held sample of the first file,
    /// announces it, and parses the sample into `ahead`. Returns false when
    /// the writer has gone.
    fn start(&mut self, format: Format, csv: Option<CsvDialect>, settings: &Settings, sample: Sample, ahead: &mut std::collections::VecDeque<Parsed>) -> Result<bool> {
        let config = detect_config(format, csv, &sample, settings, self.cx.default_year);
        self.configure(&config)?;
        if !self.stage(Staged::Config(Box::new(config), true)) {
            return Ok(false);
        }
        Ok(sample.iter().all(|(off, line, text, len, lossy, err)| self.record(0, *off, *line, text, *len, *lossy, *err, ahead)))
    }

    fn stage(&mut self, staged: Staged) -> bool {
        self.out.push(staged)
    }

    fn push(&mut self, item: Item) -> bool {
        self.stage(Staged::Item(item))
    }

    /// One record as the reader cut it: decoded to JSON, split into its
    /// inner records when it is an envelope, parsed into `ahead`. Parse
    /// errors are stored at once (they take no `seq`). `len` is the record's
    /// length in the source, which differs from the text's when invalid
    /// UTF-8 was replaced. Returns false when the writer has gone.
    #[allow(clippy::too_many_arguments)]
    fn record(&mut self, file: u32, off: u64, line: u64, text: &str, len: usize, lossy: bool, err: Option<&str>, ahead: &mut std::collections::VecDeque<Parsed>) -> bool {
        if let Some(message) = err {
            return self.push(Item::Error { file, off, line, message: message.to_string() });
        }
        let json = match self.decoder.to_json(text) {
            Ok(json) => json,
            Err(message) => return self.push(Item::Error { file, off, line, message }),
        };
        if let Some(explode) = self.explode {
            if let Some(inner) = serde_json::from_str::<serde_json::Value>(&json).ok().and_then(|v| explode.apply(&v)) {
                return inner.into_iter().all(|record| {
                    let text = record.to_string();
                    let raw = Some(text.as_bytes().into());
                    self.parse_event(file, off, line, &text, len, lossy, raw, ahead)
                });
            }
        }
        let raw = self.store_raw.get(file as usize).copied().unwrap_or(false).then(|| text.as_bytes().into());
        self.parse_event(file, off, line, &json, len, lossy, raw, ahead)
    }

    /// One event's slots and payload from its JSON record text.
    #[allow(clippy::too_many_arguments)]
    fn parse_event(&mut self, file: u32, off: u64, line: u64, text: &str, len: usize, lossy: bool, raw: Option<Box<[u8]>>, ahead: &mut std::collections::VecDeque<Parsed>) -> bool {
        let members = match scan::top_level_members(text) {
            Ok(m) => m,
            Err(e) => return self.push(Item::Error { file, off, line, message: json_error_sentence(&e) }),
        };
        let (slots, payload) = match &members {
            Some(m) => (self.fields.slots(m, &self.cx), replay::payload_from_members(&self.fields, m)),
            None => (fields::Slots::default(), serde_json::from_str(text)),
        };
        let payload = match payload {
            Ok(p) => p,
            Err(e) => return self.push(Item::Error { file, off, line, message: json_error_sentence(&e) }),
        };
        drop(members);
        if slots.ts_unparsed && !self.ts_noticed.get(file as usize).copied().unwrap_or(true) {
            // Reported once per file, not per line (SPEC §2.2).
            self.ts_noticed[file as usize] = true;
            let message = "the time field does not hold a recognisable time here (and maybe elsewhere); such events have no ts".to_string();
            if !self.push(Item::Notice { file, line, message }) {
                return false;
            }
        }
        ahead.push_back(Parsed { file, off, line, len, lossy, slots, payload, raw, ty: None, key: None });
        true
    }
}

/// The committer thread: numbers events, runs the reducer and decides
/// where checkpoints go.
struct Committer {
    seq: u64,
    state: crate::state::State,
    reducer: Reducer,
    checkpoints: Checkpointer,
    /// Record buffers the writer gave back.
    spare: Option<std::sync::mpsc::Receiver<Vec<u8>>>,
    out: Batcher<Item, Msg>,
}

impl Committer {
    fn new((seq, state): (u64, crate::state::State), tx: std::sync::mpsc::SyncSender<Msg>, recycled: std::sync::mpsc::Receiver<Vec<Item>>, spare: std::sync::mpsc::Receiver<Vec<u8>>) -> Committer {
        Committer {
            seq,
            state,
            reducer: Reducer::MergePatch,
            checkpoints: Checkpointer::new(replay::MIN_SPACING),
            spare: Some(spare),
            out: Batcher::new(tx, recycled, Msg::Batch),
        }
    }

    /// Takes what the parser staged until it stops or the writer goes;
    /// emptied batches go back to the parser.
    fn run(mut self, staged: std::sync::mpsc::Receiver<Vec<Staged>>, restage: std::sync::mpsc::Sender<Vec<Staged>>) -> Result<()> {
        for mut batch in staged.iter() {
            for one in batch.drain(..) {
                let open = match one {
                    Staged::Config(config, announce) => {
                        self.reducer = Reducer::parse(&config.reducer)?;
                        self.checkpoints = Checkpointer::new(config.checkpoint_spacing);
                        if let Some(spare) = self.spare.take() {
                            self.checkpoints.reuse_buffers(spare);
                        }
                        !announce || self.out.send_now(Msg::Config(config))
                    }
                    Staged::Item(item) => self.push(item),
                    Staged::Event(event) => self.commit(event),
                };
                if !open {
                    return Ok(());
                }
            }
            let _ = restage.send(batch);
        }
        if self.seq > 0 && self.checkpoints.pending() {
            let record = self.checkpoints.record(self.seq, &mut self.state);
            self.push(Item::Checkpoint(record));
        }
        self.out.flush();
        // Freeing every member takes a while; the build need not wait for it.
        crate::state::drop_later(std::mem::take(&mut self.state));
        Ok(())
    }

    fn push(&mut self, item: Item) -> bool {
        self.out.push(item)
    }

    /// Numbers the next event, stores it, and runs the reducer.
    fn commit(&mut self, event: Parsed) -> bool {
        let Parsed { file, off, line, len, lossy, slots, payload, raw, ty, key } = event;
        self.seq += 1;
        let seq = self.seq;
        let flags = replay::pack_flags(slots.ts.map_or(0, |t| t.frac_digits), lossy);
        let event = Item::Event { seq, file, off, line, len, flags, ts: slots.ts.map(|t| t.nanos), ty, key, level: slots.level.map(|l| l.code()), raw };
        if !self.push(event) {
            return false;
        }
        let view = reducer::EventView { seq, ts: slots.ts, ty: slots.ty.as_deref(), key: slots.key.as_deref(), level: slots.level, payload };
        if let Err(message) = reducer::apply(&self.reducer, &mut self.state, view, self.checkpoints.touched()) {
            if !self.push(Item::Mark { seq, message }) {
                return false;
            }
        }
        if self.checkpoints.due(replay::event_cost(len)) {
            let record = self.checkpoints.record(seq, &mut self.state);
            return self.push(Item::Checkpoint(record));
        }
        true
    }
}

/// Detects fields and reducer from a sample of records, after decoding
/// them and opening envelopes.
fn detect_config(format: Format, csv: Option<CsvDialect>, sample: &Sample, settings: &Settings, default_year: i32) -> Config {
    let cx = TimeContext { default_year };
    let mut config = Config {
        format: format.name().into(),
        fields: Fields::default(),
        reducer: String::new(),
        default_year,
        notes: Vec::new(),
        checkpoint_spacing: settings.checkpoint_spacing.unwrap_or(replay::MIN_SPACING).max(1),
        csv,
        explode: None,
    };
    let decoder = config.decoder();
    let mut records: Vec<String> = sample
        .iter()
        .filter(|s| s.5.is_none())
        .filter_map(|(_, _, text, ..)| decoder.to_json(text).ok().map(std::borrow::Cow::into_owned))
        .collect();
    let values: Vec<serde_json::Value> = records.iter().filter_map(|t| serde_json::from_str(t).ok()).collect();
    let mut overrides = settings.fields.clone();
    if format.is_json() {
        config.explode = Explode::detect(&values);
        if let Some(explode) = config.explode {
            records = values.iter().filter_map(|v| explode.apply(v)).flatten().take(SAMPLE).map(|v| v.to_string()).collect();
            if explode == Explode::Redux && overrides.payload.is_none() {
                // The snapshot reducer takes each action's computed state.
                overrides.payload = Some("state".into());
            }
        }
    }
    let members: Vec<scan::Members<'_>> = records.iter().filter_map(|text| scan::top_level_members(text).ok().flatten()).collect();
    let det = fields::detect(&members, &overrides, &cx);
    // The reducer spec was checked when the index was opened.
    let reducer = match settings.reducer.as_deref().map(Reducer::parse) {
        Some(Ok(r)) => r,
        _ if config.explode == Some(Explode::Redux) => Reducer::Snapshot,
        _ => {
            let whole: Vec<serde_json::Value> = records.iter().filter_map(|t| serde_json::from_str(t).ok()).collect();
            if crate::envelope::looks_like_cdc(&whole) {
                Reducer::Cdc
            } else {
                let payloads: Vec<serde_json::Value> = whole.into_iter().map(|v| det.fields.payload(v)).collect();
                reducer::detect(&payloads, det.fields.key.is_some())
            }
        }
    };
    config.fields = det.fields;
    if matches!(reducer, Reducer::Cdc) && settings.fields.payload.is_none() {
        // The cdc reducer reads the envelope: table, operation, rows.
        config.fields.payload = Some(fields::FieldRef::whole());
    }
    config.notes = det.notes;
    config.reducer = reducer.name();
    config
}

/// `meta.first_ts`/`last_ts` as "nanos digits".
pub(crate) fn read_ts_extreme(conn: &Connection, which: &str) -> rusqlite::Result<Option<(i64, i64)>> {
    let text: Option<String> = conn.query_row("SELECT value FROM meta WHERE key = ?1", [which], |r| r.get(0)).optional()?;
    Ok(text.and_then(|t| {
        let (n, d) = t.split_once(' ')?;
        Some((n.parse().ok()?, d.parse().ok()?))
    }))
}

fn write_ts_extreme(conn: &Connection, which: &str, value: Option<(i64, i64)>) -> rusqlite::Result<()> {
    match value {
        Some((n, d)) => conn.execute("INSERT OR REPLACE INTO meta VALUES (?1, ?2)", params![which, format!("{n} {d}")]),
        None => conn.execute("DELETE FROM meta WHERE key = ?1", [which]),
    }
    .map(drop)
}

/// Whether the stored first and last times are still those of the events.
fn ts_extremes_hold(conn: &Connection) -> rusqlite::Result<bool> {
    let first = read_ts_extreme(conn, "first_ts")?;
    let last = read_ts_extreme(conn, "last_ts")?;
    let exists = |sql: &str, v: i64| conn.query_row(sql, [v], |r| r.get::<_, bool>(0));
    Ok(match (first, last) {
        (Some((f, _)), Some((l, _))) => {
            exists("SELECT EXISTS(SELECT 1 FROM events WHERE ts = ?1)", f)? && exists("SELECT EXISTS(SELECT 1 FROM events WHERE ts = ?1)", l)?
        }
        _ => !conn.query_row("SELECT EXISTS(SELECT 1 FROM events WHERE ts IS NOT NULL)", [], |r| r.get::<_, bool>(0))?,
    })
}

/// Finds the first and last times by reading every event (after a resumed
/// build dropped the rows that held them).
fn set_ts_extremes(conn: &Connection) -> rusqlite::Result<()> {
    for (which, order) in [("first_ts", "ASC"), ("last_ts", "DESC")] {
        let row: Option<(i64, i64)> = conn
            .query_row(&format!("SELECT ts, flags & 15 FROM events WHERE ts IS NOT NULL ORDER BY ts {order} LIMIT 1"), [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        write_ts_extreme(conn, which, row)?;
    }
    Ok(())
}

/// Counts of what was stored since the last commit, written with each
/// commit so that `info` never reads every event.
#[derive(Default)]
struct Stats {
    types: HashMap<i64, i64>,
    levels: [i64; 6],
    first_ts: Option<(i64, i64)>,
    last_ts: Option<(i64, i64)>,
    /// The extremes changed since the last commit.
    ts_moved: bool,
    /// The time summary of the block being filled, and finished ones not
    /// yet stored.
    block: Block,
    blocks: Vec<Block>,
}

/// Events per block of the time summary (table `blocks`).
pub(crate) const BLOCK_EVENTS: u64 = 512;

/// What the histogram needs of `BLOCK_EVENTS` consecutive events: their time
/// range and counts per level (trace … fatal, none), so that a block lying
/// within one bar is added without reading its rows.
#[derive(Default)]
struct Block {
    /// Every event of the block was seen (a resumed build starts mid-block;
    /// that block is left to be read row by row).
    whole: bool,
    first_seq: u64,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
    count: i64,
    untimed: i64,
    levels: [i64; 7],
}

impl Stats {
    fn load(conn: &Connection) -> rusqlite::Result<Stats> {
        Ok(Stats { first_ts: read_ts_extreme(conn, "first_ts")?, last_ts: read_ts_extreme(conn, "last_ts")?, ..Stats::default() })
    }

    fn count(&mut self, seq: u64, ty: Option<i64>, level: Option<i64>, ts: Option<i64>, digits: i64) {
        self.count_block(seq, level, ts);
        if let Some(t) = ty {
            *self.types.entry(t).or_default() += 1;
        }
        if let Some(slot) = level.and_then(|l| self.levels.get_mut(l as usize)) {
            *slot += 1;
        }
        if let Some(t) = ts {
            if self.first_ts.is_none_or(|(f, _)| t < f) {
                self.first_ts = Some((t, digits));
                self.ts_moved = true;
            }
            if self.last_ts.is_none_or(|(l, _)| t > l) {
                self.last_ts = Some((t, digits));
                self.ts_moved = true;
            }
        }
    }

    fn count_block(&mut self, seq: u64, level: Option<i64>, ts: Option<i64>) {
        if seq % BLOCK_EVENTS == 1 {
            self.block = Block { whole: true, first_seq: seq, ..Block::default() };
        }
        let b = &mut self.block;
        b.count += 1;
        b.levels[level.unwrap_or(6).clamp(0, 6) as usize] += 1;
        match ts {
            Some(t) => {
                b.min_ts = Some(b.min_ts.map_or(t, |m| m.min(t)));
                b.max_ts = Some(b.max_ts.map_or(t, |m| m.max(t)));
            }
            None => b.untimed += 1,
        }
        if seq % BLOCK_EVENTS == 0 {
            let done = std::mem::take(&mut self.block);
            if done.whole {
                self.blocks.push(done);
            }
        }
    }

    fn write(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut add_block = conn.prepare_cached(
            "INSERT OR REPLACE INTO blocks(first_seq, last_seq, min_ts, max_ts, count, untimed, levels) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for b in self.blocks.drain(..) {
            let levels = b.levels.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            add_block.execute(params![b.first_seq as i64, (b.first_seq + BLOCK_EVENTS - 1) as i64, b.min_ts, b.max_ts, b.count, b.untimed, levels])?;
        }
        let mut add_type = conn.prepare_cached("UPDATE types SET count = count + ?2 WHERE id = ?1")?;
        for (id, n) in self.types.drain() {
            add_type.execute([id, n])?;
        }
        let mut add_level = conn.prepare_cached(
            "INSERT INTO level_counts(level, count) VALUES (?1, ?2) ON CONFLICT(level) DO UPDATE SET count = count + excluded.count",
        )?;
        for (level, n) in self.levels.iter_mut().enumerate() {
            if *n != 0 {
                add_level.execute([level as i64, *n])?;
                *n = 0;
            }
        }
        if std::mem::take(&mut self.ts_moved) {
            write_ts_extreme(conn, "first_ts", self.first_ts)?;
            write_ts_extreme(conn, "last_ts", self.last_ts)?;
        }
        Ok(())
    }
}

/// Stores items in large transactions with statements prepared once.
struct Writer<'c> {
    conn: &'c Connection,
    db: PathBuf,
    insert_event: rusqlite::Statement<'c>,
    /// The same for `ROWS_PER_INSERT` rows at once.
    insert_events: rusqlite::Statement<'c>,
    /// Event rows waiting for a multi-row insert.
    pending: Vec<EventRow>,
    insert_type: rusqlite::Statement<'c>,
    insert_key: rusqlite::Statement<'c>,
    seq: u64,
    /// Per file, the offset of the last record stored (for progress).
    last_off: Vec<u64>,
    in_batch: u32,
    /// Events in the transaction that, once committed, makes the first
    /// events readable (sharing builds commit early); then `BATCH`.
    commit_after: u32,
    /// Events 1..=committed are committed.
    committed: u64,
    stats: Stats,
    checkpoints: CheckpointStore,
    /// Where stored record buffers go back to the committer.
    spare_records: Option<std::sync::mpsc::Sender<Vec<u8>>>,
}

const BATCH: u32 = 50_000;

/// A shared build commits once this many events are stored, so that a
/// reader has something to show at once.
const FIRST_COMMIT: u32 = 1_000;

/// Event rows go in this many per statement: one statement step for many
/// rows costs less than a step per row (SQLite's limit is 32,766 bound
/// values; 11 columns × 64 rows is 704).
const ROWS_PER_INSERT: usize = 64;
const EVENT_COLUMNS: &str = "seq, file, line, off, len, ts, type, key, level, flags, raw";

/// One row of `events`, in `EVENT_COLUMNS` order.
type EventRow = (i64, u32, i64, i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, i64, Option<Box<[u8]>>);

impl<'c> Writer<'c> {
    fn new(conn: &'c Connection, db: &Path, share: bool) -> Result<Writer<'c>> {
        let stats = Stats::load(conn).map_err(sql(db))?;
        conn.execute_batch("BEGIN").map_err(sql(db))?;
        let prepare = |q: &str| conn.prepare(q).map_err(sql(db));
        Ok(Writer {
            conn,
            db: db.to_path_buf(),
            insert_event: prepare(&format!("INSERT INTO events({EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"))?,
            insert_events: prepare(&format!(
                "INSERT INTO events({EVENT_COLUMNS}) VALUES {}",
                vec!["(?,?,?,?,?,?,?,?,?,?,?)"; ROWS_PER_INSERT].join(",")
            ))?,
            pending: Vec::with_capacity(ROWS_PER_INSERT),
            insert_type: prepare("INSERT INTO types(id, name) VALUES (?1, ?2)")?,
            insert_key: prepare("INSERT INTO keys(id, name) VALUES (?1, ?2)")?,
            seq: 0,
            last_off: Vec::new(),
            in_batch: 0,
            commit_after: if share { FIRST_COMMIT } else { BATCH },
            committed: 0,
            stats,
            checkpoints: CheckpointStore::default(),
            spare_records: None,
        })
    }

    fn item(&mut self, item: Item) -> Result<()> {
        let db = &self.db;
        match item {
            Item::Event { seq, file, off, line, len, flags, ts, ty, key, level, raw } => {
                advance(&mut self.last_off, file, off);
                self.seq = seq;
                if let Some((id, Some(name))) = &ty {
                    self.insert_type.execute(params![id, name]).map_err(sql(db))?;
                }
                if let Some((id, Some(name))) = &key {
                    self.insert_key.execute(params![id, name]).map_err(sql(db))?;
                }
                let ty = ty.map(|t| t.0);
                self.stats.count(seq, ty, level, ts, flags & 15);
                self.pending.push((seq as i64, file, line as i64, off as i64, len as i64, ts, ty, key.map(|k| k.0), level, flags, raw));
                if self.pending.len() == ROWS_PER_INSERT {
                    self.flush_events()?;
                }
                self.in_batch += 1;
                if self.in_batch >= self.commit_after {
                    self.commit()?;
                    self.conn.execute_batch("BEGIN").map_err(sql(&self.db))?;
                    self.in_batch = 0;
                    self.commit_after = BATCH;
                }
            }
            Item::Error { file, off, line, message } => {
                advance(&mut self.last_off, file, off);
                self.conn
                    .prepare_cached("INSERT INTO errors(file, line, off, message) VALUES (?1, ?2, ?3, ?4)")
                    .and_then(|mut s| s.execute(params![file, line as i64, off as i64, message]))
                    .map_err(sql(db))?;
            }
            Item::Notice { file, line, message } => {
                self.conn
                    .prepare_cached("INSERT INTO notices(file, line, message) VALUES (?1, ?2, ?3)")
                    .and_then(|mut s| s.execute(params![file, line as i64, message]))
                    .map_err(sql(db))?;
            }
            Item::Mark { seq, message } => {
                self.conn
                    .prepare_cached("INSERT OR REPLACE INTO marks(seq, message) VALUES (?1, ?2)")
                    .and_then(|mut s| s.execute(params![seq as i64, message]))
                    .map_err(sql(db))?;
            }
            Item::Checkpoint(record) => {
                self.checkpoints.store(self.conn, &record).map_err(sql(db))?;
                if let Some(spare) = &self.spare_records {
                    let _ = spare.send(record.json);
                }
            }
        }
        Ok(())
    }

    /// Bytes of the sources read so far, over all files.
    fn bytes_read(&self) -> u64 {
        self.last_off.iter().sum()
    }

    /// Inserts the pending event rows: all in one statement when there are
    /// `ROWS_PER_INSERT`, else one by one.
    fn flush_events(&mut self) -> Result<()> {
        let mut rows = std::mem::take(&mut self.pending);
        let bind = |stmt: &mut rusqlite::Statement<'_>, at: usize, r: &EventRow| -> rusqlite::Result<()> {
            stmt.raw_bind_parameter(at, r.0)?;
            stmt.raw_bind_parameter(at + 1, r.1)?;
            stmt.raw_bind_parameter(at + 2, r.2)?;
            stmt.raw_bind_parameter(at + 3, r.3)?;
            stmt.raw_bind_parameter(at + 4, r.4)?;
            stmt.raw_bind_parameter(at + 5, r.5)?;
            stmt.raw_bind_parameter(at + 6, r.6)?;
            stmt.raw_bind_parameter(at + 7, r.7)?;
            stmt.raw_bind_parameter(at + 8, r.8)?;
            stmt.raw_bind_parameter(at + 9, r.9)?;
            stmt.raw_bind_parameter(at + 10, r.10.as_deref())
        };
        let stored = if rows.len() == ROWS_PER_INSERT {
            rows.iter().enumerate().try_for_each(|(i, r)| bind(&mut self.insert_events, 1 + i * 11, r)).and_then(|_| self.insert_events.raw_execute().map(drop))
        } else {
            rows.iter().try_for_each(|r| bind(&mut self.insert_event, 1, r).and_then(|_| self.insert_event.raw_execute().map(drop)))
        };
        stored.map_err(sql(&self.db))?;
        rows.clear();
        self.pending = rows;
        Ok(())
    }

    /// Stores what is pending with the counts, and commits.
    fn commit(&mut self) -> Result<()> {
        self.flush_events()?;
        self.stats.write(self.conn).map_err(sql(&self.db))?;
        self.conn.execute_batch("COMMIT").map_err(sql(&self.db))?;
        self.committed = self.seq;
        Ok(())
    }

    /// Commits; returns the number of events.
    fn finish(&mut self) -> Result<u64> {
        self.commit()?;
        Ok(self.seq)
    }
}

/// Records how far file `file` was read.
fn advance(last_off: &mut Vec<u64>, file: u32, off: u64) {
    let file = file as usize;
    if last_off.len() <= file {
        last_off.resize(file + 1, 0);
    }
    last_off[file] = off;
}

/// serde_json's message, rephrased as one sentence with its column.
fn json_error_sentence(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    format!("not valid JSON: {msg} (column {})", e.column())
}

enum Plan {
    Reuse,
    Append { from: u64, line: u64 },
    Build(String),
}

/// How long a read waits for another connection's commit.
pub(crate) const READ_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn open_db(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(sql(path))?;
    conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;")
        .map_err(sql(path))?;
    // The text indexer commits chunks beside readers (in the app, or another
    // process on the same files): a read then waits for the commit instead of
    // failing with "database is locked".
    conn.busy_timeout(READ_BUSY_TIMEOUT).map_err(sql(path))?;
    Ok(conn)
}

/// The lock file beside an index, opened for locking (`None` where the
/// filesystem will not create it: building then goes without the lock).
pub(crate) fn lock_file(path: &Path) -> Option<std::fs::File> {
    std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).ok()
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Decides what an existing index is good for, given the file as it is now.
fn plan_reuse(db: &Path, paths: &[PathBuf], fps: &[Fingerprint]) -> Plan {
    let (path, now) = (paths[0].as_path(), &fps[0]);
    let check = || -> rusqlite::Result<Plan> {
        let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(READ_BUSY_TIMEOUT)?;
        let meta = |k: &str| -> rusqlite::Result<Option<String>> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0)).optional()
        };
        if meta("schema")?.as_deref() != Some(SCHEMA_VERSION) {
            return Ok(Plan::Build("the index was made by another version".into()));
        }
        if meta("complete")?.as_deref() != Some("1") {
            return Ok(Plan::Build("the index was left incomplete".into()));
        }
        if paths.len() > 1 {
            let recorded: Vec<Fingerprint> = conn
                .prepare("SELECT size, mtime_ns, head_hash, tail_hash FROM files ORDER BY id")?
                .query_map([], |r| Ok(Fingerprint { size: r.get::<_, i64>(0)? as u64, mtime_ns: r.get(1)?, head: r.get(2)?, tail: r.get(3)? }))?
                .collect::<rusqlite::Result<_>>()?;
            return Ok(if recorded == fps { Plan::Reuse } else { Plan::Build("one of the files changed".into()) });
        }
        let row: Option<(i64, i64, Vec<u8>, Vec<u8>, i64, i64, i64)> = conn
            .query_row(
                "SELECT size, mtime_ns, head_hash, tail_hash, indexed_bytes, next_line, compressed FROM files WHERE id = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .optional()?;
        let Some((size, mtime, head, tail, indexed, next_line, compressed)) = row else {
            return Ok(Plan::Build("the index has no file record".into()));
        };
        let size = size as u64;
        if now.size == size && now.mtime_ns == mtime && now.head == head && now.tail == tail {
            return Ok(Plan::Reuse);
        }
        if now.size < size {
            return Ok(Plan::Build("the file is shorter than when it was indexed".into()));
        }
        let same_head_region = if size >= EDGE {
            now.head == head
        } else {
            // The old head was the whole old file: compare that prefix.
            hash_range(path, 0, size).ok().as_deref() == Some(&head[..])
        };
        let old_tail = hash_range(path, size.saturating_sub(EDGE), size).ok();
        let format: Option<String> = meta("config")?
            .and_then(|c| serde_json::from_str::<Config>(&c).ok())
            .map(|c| c.format);
        if now.size > size && same_head_region && old_tail.as_deref() == Some(&tail[..]) && compressed == 0 && format.as_deref().and_then(Format::from_name).is_some_and(Format::resumable) && next_line > 0 {
            return Ok(Plan::Append { from: indexed as u64, line: next_line as u64 });
        }
        Ok(Plan::Build("the file was rewritten".into()))
    };
    check().unwrap_or_else(|e| Plan::Build(format!("the index could not be read ({e})")))
}

