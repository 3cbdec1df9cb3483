//! Reading events back from the index and the source, and replaying them:
//! restoring state(n) from the nearest checkpoint, and placing checkpoints
//! by replay cost while an index is built.
//!
//! Architecture invariant: the index stores where a record is (file, byte
//! offset, length), not the record; `raw` and `payload` are always re-read
//! from the source (or from the stored record when the source is compressed
//! and cannot be read at an offset).

use crate::fields::{Fields, Slots};
use crate::format::Decoder;
use crate::reducer::{self, EventView, Reducer};
use crate::scan;
use crate::state::{Member, Name, State, Touched};
use crate::time::{Level, TimeContext, Timestamp};
use crate::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads byte ranges of one source file through a window, so that reading
/// events in order costs one `read` per window rather than one per event.
pub struct RawReader {
    path: PathBuf,
    file: File,
    window: Vec<u8>,
    window_start: u64,
}

const WINDOW: usize = 1 << 20;

impl RawReader {
    pub fn open(path: &Path) -> Result<RawReader> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(RawReader { path: path.to_path_buf(), file, window: Vec::new(), window_start: 0 })
    }

    pub fn read(&mut self, off: u64, len: usize) -> Result<&[u8]> {
        let end = off + len as u64;
        let have = self.window_start..self.window_start + self.window.len() as u64;
        if !(have.contains(&off) && end <= have.end) {
            let size = len.max(WINDOW);
            self.window.resize(size, 0);
            let n = read_at(&self.file, &mut self.window, off).map_err(|e| Error::io(&self.path, e))?;
            self.window.truncate(n);
            self.window_start = off;
            if n < len {
                return Err(Error::source(
                    &self.path,
                    "the file is shorter than when it was indexed; it changed while open — reopen it to re-index",
                ));
            }
        }
        let start = (off - self.window_start) as usize;
        Ok(&self.window[start..start + len])
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], off + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(off))?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// One row of the `events` table, with names resolved.
#[derive(Debug, Clone)]
pub struct Row {
    pub seq: u64,
    pub file: u32,
    pub line: u64,
    pub off: u64,
    pub len: usize,
    pub ts: Option<Timestamp>,
    pub ty: Option<String>,
    pub key: Option<String>,
    pub level: Option<Level>,
    pub flags: i64,
    pub raw: Option<Vec<u8>>,
}

/// Event flags stored with each row: bits 0–3 hold how many fraction digits
/// the time was written with; the bits above are flags.
pub const FLAG_LOSSY_UTF8: i64 = 1 << 4;

pub fn pack_flags(frac_digits: u8, lossy: bool) -> i64 {
    (frac_digits.min(9) as i64) | if lossy { FLAG_LOSSY_UTF8 } else { 0 }
}

pub const ROW_COLUMNS: &str = "e.seq, e.file, e.line, e.off, e.len, e.ts, e.flags & 15, t.name, k.name, e.level, e.flags, e.raw";
pub const ROW_FROM: &str = "events e LEFT JOIN types t ON t.id = e.type LEFT JOIN keys k ON k.id = e.key";

pub fn row_from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let ts: Option<i64> = r.get(5)?;
    let tsd: Option<i64> = r.get(6)?;
    let level: Option<i64> = r.get(9)?;
    Ok(Row {
        seq: r.get::<_, i64>(0)? as u64,
        file: r.get::<_, i64>(1)? as u32,
        line: r.get::<_, i64>(2)? as u64,
        off: r.get::<_, i64>(3)? as u64,
        len: r.get::<_, i64>(4)? as usize,
        ts: ts.map(|n| Timestamp::from_nanos(n, tsd.unwrap_or(0).clamp(0, 9) as u8)),
        ty: r.get(7)?,
        key: r.get(8)?,
        level: level.and_then(Level::from_code),
        flags: r.get(10)?,
        raw: r.get(11)?,
    })
}

/// The readers of a source's files, by file id.
pub struct Files {
    pub readers: Vec<Option<RawReader>>,
}

impl Files {
    /// The record text of a row: from the stored record, else the source.
    pub fn record_text(&mut self, row: &Row) -> Result<String> {
        Ok(self.text_at(row.file as usize, row.off, row.len, row.raw.as_deref(), row.seq)?.into_owned())
    }

    /// The text of the record at `off..off+len` of file `file`, or of the
    /// `stored` record when the source cannot be read at an offset.
    pub fn text_at<'s>(&'s mut self, file: usize, off: u64, len: usize, stored: Option<&'s [u8]>, seq: u64) -> Result<std::borrow::Cow<'s, str>> {
        let bytes: &[u8] = match stored {
            Some(raw) => raw,
            None => match self.readers.get_mut(file).and_then(Option::as_mut) {
                Some(reader) => reader.read(off, len)?,
                None => return Err(Error::Query(format!("event {seq} belongs to a file that is not open"))),
            },
        };
        Ok(String::from_utf8_lossy(bytes))
    }
}

/// The payload of a record under the index's field choice. Records read
/// back were parsed when indexed, so they parse again.
pub fn payload_of(fields: &Fields, decoder: &Decoder, text: &str) -> Value {
    let Ok(text) = decoder.to_json(text) else { return Value::Null };
    let text = text.as_ref();
    let parsed = match scan::top_level_members(text) {
        Ok(Some(members)) => payload_from_members(fields, &members),
        Ok(None) => serde_json::from_str(text),
        Err(e) => Err(e),
    };
    parsed.unwrap_or(Value::Null)
}

/// Builds the payload from already-scanned members, parsing only what it
/// keeps. Fails when a kept value cannot be parsed (nesting too deep).
pub fn payload_from_members(fields: &Fields, members: &scan::Members<'_>) -> Result<Value, serde_json::Error> {
    if let Some(f) = &fields.payload {
        let Some((first, rest)) = f.path.split_first() else {
            let mut map = Map::new();
            for (k, raw) in members {
                map.insert(k.to_string(), serde_json::from_str(raw.get())?);
            }
            return Ok(Value::Object(map));
        };
        let Some((_, raw)) = members.iter().find(|(k, _)| k == first) else { return Ok(Value::Null) };
        let mut v: Value = serde_json::from_str(raw.get())?;
        for t in rest {
            v = match v {
                Value::Object(mut m) => m.remove(t).unwrap_or(Value::Null),
                _ => Value::Null,
            };
        }
        return Ok(v);
    }
    let used: Vec<&str> = [&fields.ts, &fields.ty, &fields.key, &fields.level]
        .into_iter()
        .flatten()
        .filter_map(|f| match f.path.as_slice() {
            [only] => Some(only.as_str()),
            _ => None,
        })
        .collect();
    let mut map = Map::new();
    for (k, raw) in members {
        if used.contains(&k.as_ref()) {
            continue;
        }
        map.insert(k.to_string(), serde_json::from_str(raw.get())?);
    }
    Ok(Value::Object(map))
}

/// What replay needs to turn a stored record into a reduced event.
pub struct Replayer<'a> {
    pub reducer: &'a Reducer,
    pub fields: &'a Fields,
    pub decoder: &'a Decoder,
    pub cx: TimeContext,
}

/// The columns replay reads: where the record is, nothing else. Slots are
/// taken from the record itself, which replay parses anyway.
const LEAN_COLUMNS: &str = "seq, file, off, len, raw";

impl Replayer<'_> {
    /// Applies the event `seq` whose record is `text`; returns the mark on
    /// failure.
    pub fn apply_text(&self, seq: u64, text: &str, state: &mut State, touched: &mut Touched) -> Option<String> {
        let text = match self.decoder.to_json(text) {
            Ok(json) => json,
            Err(message) => return Some(message),
        };
        let text = text.as_ref();
        let (slots, payload) = match scan::top_level_members(text) {
            Ok(Some(members)) => {
                (self.fields.slots(&members, &self.cx), payload_from_members(self.fields, &members).unwrap_or(Value::Null))
            }
            _ => (Slots::default(), serde_json::from_str(text).unwrap_or(Value::Null)),
        };
        let view = EventView { seq, ts: slots.ts, ty: slots.ty.as_deref(), key: slots.key.as_deref(), level: slots.level, payload };
        reducer::apply(self.reducer, state, view, touched).err()
    }

    /// Replays the events (from, to] onto `state`, recording touched members.
    pub fn replay(&self, conn: &Connection, files: &mut Files, from: u64, to: u64, state: &mut State, touched: &mut Touched) -> Result<()> {
        if to <= from {
            return Ok(());
        }
        let sql_err = |e: rusqlite::Error| Error::Query(format!("the index could not be read: {e}"));
        let mut stmt = conn
            .prepare_cached(&format!("SELECT {LEAN_COLUMNS} FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq"))
            .map_err(sql_err)?;
        let mut rows = stmt.query([from as i64, to as i64]).map_err(sql_err)?;
        while let Some(r) = rows.next().map_err(sql_err)? {
            let seq = r.get::<_, i64>(0).map_err(sql_err)? as u64;
            let file = r.get::<_, i64>(1).map_err(sql_err)? as usize;
            let off = r.get::<_, i64>(2).map_err(sql_err)? as u64;
            let len = r.get::<_, i64>(3).map_err(sql_err)? as usize;
            let stored = r.get_ref(4).map_err(sql_err)?.as_blob_or_null().map_err(|e| Error::Query(e.to_string()))?;
            let text = files.text_at(file, off, len, stored, seq)?;
            self.apply_text(seq, &text, state, touched);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- checkpoints

/// Checkpoint kinds in the `checkpoints` table. Blobs are zstd-compressed
/// records, cheap to cut apart (no JSON scanning when loading):
/// FULL is `(key, member JSON)*` of an object state; DELTA is
/// `(1, key, member JSON | 0, key)*` — members set or removed since the
/// previous checkpoint; FULL_VALUE is the JSON text of a non-object state.
/// Strings are written as a LEB128 length and the UTF-8 bytes.
const FULL: i64 = 0;
const DELTA: i64 = 1;
const FULL_VALUE: i64 = 2;

fn put_str(out: &mut Vec<u8>, s: &str) {
    let mut n = s.len();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(s.as_bytes());
}

/// Reads the records of a checkpoint blob; `None` marks damage.
struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Records<'a> {
    fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn string(&mut self) -> Option<&'a str> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= ((b & 0x7f) as usize).checked_shl(shift)?;
            if b & 0x80 == 0 {
                let s = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
                self.pos += n;
                return std::str::from_utf8(s).ok();
            }
        }
        None
    }
}

/// Replay cost of one event, in bytes-equivalent: its record plus a fixed
/// overhead for the reducer and the row lookup.
pub fn event_cost(len: usize) -> u64 {
    len as u64 + 96
}

/// The least replay cost between checkpoints (≈ a few tens of ms of replay).
pub const MIN_SPACING: u64 = 3 << 20;
/// A delta chain longer than this gets a new full checkpoint.
const MAX_CHAIN: u32 = 24;

/// Decides where checkpoints go while replaying forward, and writes their
/// records. It works on the live state, so that a checkpoint never shares
/// members with it: a shared member would be copied whole by the next event
/// that touches it, which on a build is most members every interval.
pub struct Checkpointer {
    min_spacing: u64,
    cost_since: u64,
    touched: Touched,
    chain_len: u32,
    chain_bytes: u64,
    full_bytes: u64,
    /// Record buffers the store gave back, reused: fresh memory is zeroed by
    /// the kernel on first touch, which costs as much as writing the record.
    spare: Option<std::sync::mpsc::Receiver<Vec<u8>>>,
    pool: Vec<Vec<u8>>,
    /// Where member texts are written before they are cached.
    scratch: Vec<u8>,
    last_delta_bytes: usize,
    /// The members touched in the interval before the last checkpoint.
    warm: Touched,
}

impl Checkpointer {
    pub fn new(min_spacing: u64) -> Checkpointer {
        Checkpointer { min_spacing, cost_since: 0, touched: Touched::default(), chain_len: 0, chain_bytes: 0, full_bytes: 0, spare: None, pool: Vec::new(), scratch: Vec::new(), last_delta_bytes: 0, warm: Touched::default() }
    }

    /// The largest buffer given back, emptied: a record grown into a smaller
    /// one would be copied into fresh memory.
    fn buffer(&mut self) -> Vec<u8> {
        if let Some(spare) = &self.spare {
            self.pool.extend(spare.try_iter());
        }
        self.pool.sort_by_key(Vec::capacity);
        // Two or three are in flight at a time; more are memory for nothing.
        if self.pool.len() > 3 {
            self.pool.drain(..self.pool.len() - 3);
        }
        let mut json = self.pool.pop().unwrap_or_default();
        json.clear();
        json
    }

    /// Reuses the buffers of stored records sent back on `spare`.
    pub fn reuse_buffers(&mut self, spare: std::sync::mpsc::Receiver<Vec<u8>>) {
        self.spare = Some(spare);
    }

    /// Whether events were replayed since the last checkpoint.
    pub fn pending(&self) -> bool {
        self.cost_since > 0
    }

    pub fn touched(&mut self) -> &mut Touched {
        &mut self.touched
    }

    /// Adds an event's cost; true when a checkpoint is due: once replay from
    /// the last one would cost more than loading a new one. The spacing grows
    /// with the state's size so that checkpoints stay a small part of the index.
    pub fn due(&mut self, cost: u64) -> bool {
        self.cost_since += cost;
        self.cost_since >= self.min_spacing.max(self.full_bytes / 3)
    }

    /// The checkpoint record of `state` after event `seq`: a delta of the
    /// members touched since the last one when that is cheap, else full.
    /// Member texts are cached in the state, so a member is written as JSON
    /// once per change however many checkpoints hold it; members touched in
    /// the interval before but not in this one keep only their text (most
    /// entities of a long log are done with: parsed, they would hold most of
    /// the build's memory).
    pub fn record(&mut self, seq: u64, state: &mut State) -> Record {
        let delta_ok = self.full_bytes > 0 && self.chain_len < MAX_CHAIN && self.chain_bytes < self.full_bytes;
        let mut json = self.buffer();
        let touched = std::mem::take(&mut self.touched);
        let kind = match (&touched, &*state, delta_ok) {
            (Touched::Keys(keys), State::Object(members), true) => {
                // Sized once rather than doubled (a copy into fresh memory).
                json.reserve(self.last_delta_bytes + self.last_delta_bytes / 4);
                for k in keys {
                    match members.get(&Name(k)) {
                        Some(v) => {
                            json.push(1);
                            put_str(&mut json, k);
                            put_str(&mut json, v.text_via(&mut self.scratch));
                        }
                        None => {
                            json.push(0);
                            put_str(&mut json, k);
                        }
                    }
                }
                DELTA
            }
            (_, State::Object(members), _) => {
                json.reserve(self.full_bytes as usize + self.full_bytes as usize / 4);
                for (k, v) in members {
                    put_str(&mut json, k);
                    put_str(&mut json, v.text_via(&mut self.scratch));
                }
                FULL
            }
            (_, State::Other(v), _) => {
                let _ = serde_json::to_writer(&mut json, v);
                FULL_VALUE
            }
        };
        if kind != DELTA {
            self.full_bytes = json.len() as u64;
            self.chain_len = 0;
            self.chain_bytes = 0;
        } else {
            self.chain_len += 1;
            self.chain_bytes += json.len() as u64;
            self.last_delta_bytes = json.len();
        }
        self.cost_since = 0;
        if let (Touched::Keys(warm), Touched::Keys(now), State::Object(members)) = (&self.warm, &touched, &mut *state) {
            let cooled: Vec<Value> = warm
                .iter()
                .filter(|k| !now.contains(*k))
                .filter_map(|key| members.get_mut(&Name(key)).and_then(Arc::get_mut).and_then(Member::cool))
                .collect();
            // Freed on another thread: this one has the next events to replay.
            crate::state::drop_later(cooled);
        }
        // The interval before's set, emptied, collects the next one: sized by
        // an interval's members, it does not grow (and rehash into fresh
        // memory) again.
        self.touched = match std::mem::replace(&mut self.warm, touched) {
            Touched::Keys(mut set) => {
                set.clear();
                Touched::Keys(set)
            }
            Touched::All => Touched::default(),
        };
        Record { seq, kind, json }
    }
}

/// A checkpoint's record, not yet compressed.
pub struct Record {
    pub seq: u64,
    pub kind: i64,
    pub json: Vec<u8>,
}

/// zstd's fast levels: checkpoints are written once per build and read at
/// random, so compression speed matters more than the last few percent of
/// size (decompression is as fast as at level 1).
const CHECKPOINT_LEVEL: i32 = -3;

/// Compresses and stores checkpoint records.
#[derive(Default)]
pub struct CheckpointStore {
    /// Kept across checkpoints: a fresh compression context for each one
    /// costs as much as the compression itself.
    compressor: Option<zstd::bulk::Compressor<'static>>,
    blob: Vec<u8>,
}

impl CheckpointStore {
    pub fn store(&mut self, conn: &Connection, record: &Record) -> rusqlite::Result<()> {
        let compressor = self.compressor.get_or_insert_with(|| {
            zstd::bulk::Compressor::new(CHECKPOINT_LEVEL).unwrap_or_else(|_| zstd::bulk::Compressor::default())
        });
        self.blob.clear();
        self.blob.reserve(zstd::zstd_safe::compress_bound(record.json.len()));
        // A checkpoint left out would break the chain of deltas after it.
        compressor.compress_to_buffer(&record.json, &mut self.blob).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        conn.prepare_cached("INSERT OR REPLACE INTO checkpoints(seq, kind, data) VALUES (?1, ?2, ?3)")?
            .execute(params![record.seq as i64, record.kind, self.blob])?;
        Ok(())
    }
}

/// Moves a state that holds after some event in the interval that starts
/// at checkpoint `from` to the state at checkpoint `to`, by applying the
/// deltas in (from, to]: each lists every member touched since the one
/// before, with its value at its own seq, so members the state saw change
/// after `from` are set again and the rest were already right. `None` when
/// a full checkpoint lies in between (loading it is as cheap).
pub fn advance_to_checkpoint(conn: &Connection, mut state: State, from: u64, to: u64) -> Result<Option<State>> {
    let sql_err = |e: rusqlite::Error| Error::Query(format!("the index could not be read: {e}"));
    let mut stmt = conn
        .prepare_cached("SELECT kind, data FROM checkpoints WHERE seq > ?1 AND seq <= ?2 ORDER BY seq")
        .map_err(sql_err)?;
    let mut rows = stmt.query(params![from as i64, to as i64]).map_err(sql_err)?;
    let mut deltas = Vec::new();
    while let Some(r) = rows.next().map_err(sql_err)? {
        if r.get::<_, i64>(0).map_err(sql_err)? != DELTA {
            return Ok(None);
        }
        let blob = r.get_ref(1).map_err(sql_err)?.as_blob().map_err(damaged)?;
        deltas.push(decompress(blob).map_err(damaged)?);
    }
    apply_changes(&mut state, merge_deltas(&deltas)?);
    Ok(Some(state))
}

/// Members set (to their JSON text) or removed (`None`) by a run of delta
/// records, the latest winning.
type Changes<'a> = rustc_hash::FxHashMap<&'a str, Option<&'a str>>;

fn merge_deltas(deltas: &[Vec<u8>]) -> Result<Changes<'_>> {
    let broken = || damaged("a checkpoint record is cut short");
    let mut changes = Changes::default();
    for bytes in deltas {
        let mut records = Records { bytes, pos: 0 };
        while !records.done() {
            let set = records.byte().ok_or_else(broken)? == 1;
            let key = records.string().ok_or_else(broken)?;
            let value = if set { Some(records.string().ok_or_else(broken)?) } else { None };
            changes.insert(key, value);
        }
    }
    Ok(changes)
}

fn apply_changes(state: &mut State, changes: Changes<'_>) {
    if changes.is_empty() {
        return;
    }
    let members = state.members_mut();
    for (key, value) in changes {
        match value {
            Some(text) => {
                members.insert(Arc::from(key), Arc::new(Member::from_json_text(text.into())));
            }
            None => {
                members.remove(&Name(key));
            }
        }
    }
}

/// A checkpoint's record, decompressed into a buffer of the size its frame
/// states (a buffer grown while decoding was copied at every doubling).
fn decompress(blob: &[u8]) -> std::io::Result<Vec<u8>> {
    // A damaged frame must not make us allocate whatever it claims.
    const MOST: u64 = 1 << 31;
    match zstd::zstd_safe::get_frame_content_size(blob) {
        Ok(Some(n)) if n <= MOST => zstd::bulk::decompress(blob, n as usize),
        _ => zstd::stream::decode_all(blob),
    }
}

fn damaged(e: impl std::fmt::Display) -> Error {
    Error::Query(format!("a checkpoint in the index is damaged ({e}); delete the index to rebuild it"))
}

/// A delta checkpoint: members set (left as JSON text) and members removed.
/// The state at the latest checkpoint at or before `n`, and its seq
/// (`(0, {})` when there is none): the full checkpoint before it, then each
/// delta after that full one, in order.
pub fn load_checkpoint(conn: &Connection, n: u64) -> Result<(u64, State)> {
    let sql_err = |e: rusqlite::Error| Error::Query(format!("the index could not be read: {e}"));
    let full: Option<i64> = conn
        .prepare_cached("SELECT seq FROM checkpoints WHERE seq <= ?1 AND kind IN (0, 2) ORDER BY seq DESC LIMIT 1")
        .map_err(sql_err)?
        .query_row([n as i64], |r| r.get(0))
        .optional()
        .map_err(sql_err)?;
    let Some(full) = full else { return Ok((0, State::default())) };
    let mut stmt = conn
        .prepare_cached("SELECT seq, kind, data FROM checkpoints WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq")
        .map_err(sql_err)?;
    let mut rows = stmt.query(params![full, n as i64]).map_err(sql_err)?;
    let broken = || damaged("a checkpoint record is cut short");
    // The full checkpoint's blob, then every delta's: deltas are merged
    // (the latest wins) before the map is built once, so a member changed
    // in several deltas is allocated and inserted once.
    let mut base: Option<(i64, Vec<u8>)> = None;
    let mut deltas: Vec<Vec<u8>> = Vec::new();
    let mut at = 0;
    while let Some(r) = rows.next().map_err(sql_err)? {
        let seq: i64 = r.get(0).map_err(sql_err)?;
        let kind: i64 = r.get(1).map_err(sql_err)?;
        let blob = r.get_ref(2).map_err(sql_err)?.as_blob().map_err(damaged)?;
        let bytes = decompress(blob).map_err(damaged)?;
        if kind == DELTA {
            deltas.push(bytes);
        } else {
            base = Some((kind, bytes));
            deltas.clear();
        }
        at = seq as u64;
    }
    let mut changes = merge_deltas(&deltas)?;
    let member = |text: &str| Arc::new(Member::from_json_text(text.into()));
    let mut state = match base {
        Some((FULL_VALUE, bytes)) => State::from_value(serde_json::from_slice(&bytes).map_err(damaged)?),
        Some((_, bytes)) => {
            let mut members: Vec<(Arc<str>, Arc<Member>)> = Vec::new();
            let mut records = Records { bytes: &bytes, pos: 0 };
            while !records.done() {
                let key = records.string().ok_or_else(broken)?;
                let value = records.string().ok_or_else(broken)?;
                match changes.remove(key) {
                    Some(Some(newer)) => members.push((Arc::from(key), member(newer))),
                    Some(None) => {}
                    None => members.push((Arc::from(key), member(value))),
                }
            }
            State::Object(members.into_iter().collect())
        }
        None => State::default(),
    };
    apply_changes(&mut state, changes);
    Ok((at, state))
}
