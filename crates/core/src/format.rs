//! Opening a source file and cutting it into records.
//!
//! Responsibilities: refuse what is not a log (missing, directory, empty,
//! binary) with one sentence; see through gzip and zstd by their magic bytes;
//! detect the format from content, never from the file name; and stream
//! records with their byte offset and 1-based starting line, holding no more
//! than one record (plus a read buffer) in memory.

use crate::error::{Error, Result};
use crate::scan::{self, Scan};
use crate::tabular::{self, CsvDialect};
use crate::textlog::{self, TextKind};
use crate::time::TimeContext;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The on-disk shapes of logs the reader understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON value per line (JSON Lines, NDJSON).
    JsonLines,
    /// One JSON document: an array of records, or an object holding one.
    JsonDocument,
    /// Pretty-printed JSON values one after another.
    JsonConcatenated,
    /// CSV/TSV with a header row; the dialect is kept in the index config.
    Csv,
    /// `key=value key2="quoted value"` lines.
    Logfmt,
    /// A line-oriented text log; continuation lines join the record above.
    Text(TextKind),
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::JsonLines,
        Format::JsonDocument,
        Format::JsonConcatenated,
        Format::Csv,
        Format::Logfmt,
        Format::Text(TextKind::Syslog),
        Format::Text(TextKind::AccessLog),
        Format::Text(TextKind::Glog),
        Format::Text(TextKind::Generic),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::JsonLines => "json-lines",
            Format::JsonDocument => "json-document",
            Format::JsonConcatenated => "json-concatenated",
            Format::Csv => "csv",
            Format::Logfmt => "logfmt",
            Format::Text(kind) => kind.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "json-lines" | "jsonl" | "ndjson" | "json" => Some(Format::JsonLines),
            "json-document" | "json-array" => Some(Format::JsonDocument),
            "json-concatenated" | "json-pretty" => Some(Format::JsonConcatenated),
            "csv" | "tsv" => Some(Format::Csv),
            "logfmt" => Some(Format::Logfmt),
            other => TextKind::from_name(other).map(Format::Text),
        }
    }

    /// Every accepted `--format` name, for messages.
    pub fn names() -> String {
        Format::ALL.map(|f| f.name()).join(", ")
    }

    /// Whether a grown file can be indexed from where it ended: formats cut
    /// into lines, not one document.
    pub fn resumable(self) -> bool {
        !matches!(self, Format::JsonDocument | Format::JsonConcatenated)
    }

    /// Whether records are JSON as written (no decoding before parsing).
    pub fn is_json(self) -> bool {
        matches!(self, Format::JsonLines | Format::JsonDocument | Format::JsonConcatenated)
    }
}

/// JSON records that each hold several events (OTLP's `resourceLogs`, a
/// Redux DevTools export): every inner record becomes an event, and since
/// it cannot be read back at an offset, the index stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Explode {
    Otlp,
    Redux,
}

impl Explode {
    pub fn name(self) -> &'static str {
        match self {
            Explode::Otlp => "otlp-json",
            Explode::Redux => "redux-devtools",
        }
    }

    /// The inner records, or `None` when `record` is not such an envelope.
    pub fn apply(self, record: &serde_json::Value) -> Option<Vec<serde_json::Value>> {
        match self {
            Explode::Otlp => crate::envelope::explode_otlp(record),
            Explode::Redux => crate::envelope::explode_redux(record),
        }
    }

    /// Recognises envelopes in a sample of records: OTLP when one holds
    /// `resourceLogs`, Redux when the whole file is one export.
    pub fn detect(records: &[serde_json::Value]) -> Option<Explode> {
        if records.iter().any(|r| r.get("resourceLogs").is_some_and(serde_json::Value::is_array)) {
            Some(Explode::Otlp)
        } else if let [only] = records {
            crate::envelope::explode_redux(only).map(|_| Explode::Redux)
        } else {
            None
        }
    }
}

/// How a record's text becomes the JSON object the engine reads: the
/// identity for JSON formats, a conversion for the others. Replay decodes
/// records read back from the source the same way the index did.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoder {
    Json,
    Csv(CsvDialect),
    Logfmt,
    Text(TextKind, TimeContext),
}

impl Decoder {
    /// The record as JSON text, or one sentence saying why it is not a
    /// record of this format.
    pub fn to_json<'a>(&self, text: &'a str) -> Result<std::borrow::Cow<'a, str>, String> {
        use std::borrow::Cow;
        match self {
            Decoder::Json => Ok(Cow::Borrowed(text)),
            Decoder::Csv(dialect) => tabular::csv_record_to_json(dialect, text).map(Cow::Owned),
            Decoder::Logfmt => tabular::logfmt_to_json(text).map(Cow::Owned),
            Decoder::Text(kind, cx) => {
                let map = textlog::parse_record(*kind, text, cx)?;
                serde_json::to_string(&map).map(Cow::Owned).map_err(|e| e.to_string())
            }
        }
    }
}

/// Members of a wrapper object whose array holds the records (CloudTrail's
/// `Records`, and the usual names).
pub const CONTAINER_KEYS: [&str; 6] = ["Records", "events", "items", "entries", "logs", "data"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Opens `path` for reading records: checks that it is a non-empty regular
/// file and not binary, and undoes gzip/zstd compression.
pub fn open_reader(path: &Path) -> Result<(Box<dyn Read + Send>, Compression)> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::source(path, "no such file; check the path"),
        io::ErrorKind::PermissionDenied => Error::source(path, "permission denied; check the file's permissions"),
        _ => Error::io(path, e),
    })?;
    if meta.is_dir() {
        return Err(Error::source(path, "is a directory; give a log file inside it"));
    }
    if meta.len() == 0 {
        return Err(Error::source(path, "the file is empty; there are no events to index"));
    }
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 4];
    let n = read_full(&mut file, &mut magic).map_err(|e| Error::io(path, e))?;
    let compression = match &magic[..n] {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
        _ => Compression::None,
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 16, file))),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(file).map_err(|e| Error::io(path, e))?),
    };
    Ok((reader, compression))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads the start of the (decompressed) content: at most `limit` bytes.
pub fn read_head(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let (mut r, _) = open_reader(path)?;
    let mut head = vec![0u8; limit];
    let n = read_full(&mut r, &mut head).map_err(|e| Error::io(path, annotate_decompress(e)))?;
    head.truncate(n);
    Ok(head)
}

fn annotate_decompress(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::InvalidInput {
        io::Error::new(e.kind(), format!("the compressed data is damaged ({e})"))
    } else {
        e
    }
}

/// Detects the format from the first bytes of the content.
pub fn detect(path: &Path, head: &[u8]) -> Result<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let sample = &head[..head.len().min(8192)];
    if sample.contains(&0) {
        return Err(Error::source(path, "looks like a binary file, not a text log; give a JSON log (JSON Lines or a JSON document)"));
    }
    let start = scan::skip_ws(head, 0);
    let Some(&first) = head.get(start) else {
        return Err(Error::source(path, "the file holds only blank lines; there are no events to index"));
    };
    match first {
        b'[' | b'{' if is_json_value(head, start) => {
            let line_end = memchr::memchr(b'\n', &head[start..]).map(|n| start + n).unwrap_or(head.len());
            match scan::value_end(head, start) {
                Scan::Complete(end) => {
                    let whole_file = scan::skip_ws(head, end) == head.len() && head.len() < READ_HEAD;
                    if first == b'[' && (whole_file || end > line_end) {
                        Ok(Format::JsonDocument)
                    } else if whole_file && is_wrapper(&head[start..end]) {
                        Ok(Format::JsonDocument)
                    } else if end <= line_end {
                        Ok(Format::JsonLines)
                    } else {
                        Ok(Format::JsonConcatenated)
                    }
                }
                // The first record is longer than the sample: a record that
                // already spans several lines is pretty-printed.
                Scan::Incomplete if first == b'[' => Ok(Format::JsonDocument),
                Scan::Incomplete if line_end < head.len() => Ok(Format::JsonConcatenated),
                Scan::Incomplete => Ok(Format::JsonLines),
            }
        }
        _ => detect_text(path, head, start),
    }
}

/// Whether the JSON-looking value at `head[start]` really is JSON (a text
/// log may start with `[2024-01-05 10:00:00]` or `{main}`). A value longer
/// than the head is taken as JSON.
fn is_json_value(head: &[u8], start: usize) -> bool {
    match scan::value_end(head, start) {
        Scan::Complete(end) => serde_json::from_slice::<serde::de::IgnoredAny>(&head[start..end]).is_ok(),
        Scan::Incomplete => true,
    }
}

/// Up to 1000 non-blank lines of the head, without a last line that the
/// head cut short.
fn head_lines(head: &[u8]) -> Vec<std::borrow::Cow<'_, str>> {
    let complete = if head.len() >= READ_HEAD { memchr::memrchr(b'\n', head).map_or(head, |n| &head[..n]) } else { head };
    complete
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(1000)
        .map(String::from_utf8_lossy)
        .collect()
}

/// Detects a text format: a known text log, logfmt, or CSV with a header.
fn detect_text(path: &Path, head: &[u8], start: usize) -> Result<Format> {
    let lines = head_lines(head);
    let refs: Vec<&str> = lines.iter().map(|l| l.as_ref()).collect();
    let cx = TimeContext::current();
    if let Some((kind, _)) = textlog::detect(&refs, &cx) {
        return Ok(Format::Text(kind));
    }
    let logfmt = refs.iter().filter(|l| tabular::looks_like_logfmt(l)).count();
    if logfmt > 0 && logfmt * 3 >= refs.len() * 2 {
        return Ok(Format::Logfmt);
    }
    if csv_dialect(head).is_some() {
        return Ok(Format::Csv);
    }
    let first = refs.first().copied().unwrap_or("");
    let shown: String = first.chars().take(60).collect();
    Err(Error::source(
        path,
        format!(
            "could not detect the format: line {} (`{}`) is not JSON, CSV with a header, logfmt, syslog, an access log, glog, or a `TIMESTAMP LEVEL message` line; pass --format with one of {}",
            1 + memchr::memchr_iter(b'\n', &head[..start]).count(),
            shown.trim_end(),
            Format::names()
        ),
    ))
}

/// The CSV dialect (delimiter and header) sniffed from the head.
pub fn csv_dialect(head: &[u8]) -> Option<CsvDialect> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    tabular::sniff_csv(&String::from_utf8_lossy(&head[..head.len().min(64 << 10)]))
}

/// The dialect for a file forced to `--format csv` that sniffing did not
/// recognise.
pub fn forced_csv_dialect(head: &[u8]) -> CsvDialect {
    tabular::first_record_dialect(&String::from_utf8_lossy(&head[..head.len().min(64 << 10)]))
}

/// How many bytes of content [`detect`] looks at.
pub const READ_HEAD: usize = 1 << 20;

fn is_wrapper(object: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(object) else { return false };
    match scan::top_level_members(text) {
        Ok(Some(members)) => {
            // A lone event may carry an array of objects too; a wrapper
            // holds records and says nothing of its own time or type.
            let event_like = members.iter().any(|(k, _)| {
                crate::fields::TS_CANDIDATES.iter().chain(crate::fields::TYPE_CANDIDATES).any(|c| c.eq_ignore_ascii_case(k))
            });
            !event_like
                && members.iter().any(|(k, v)| {
                    CONTAINER_KEYS.contains(&k.as_ref())
                        && matches!(serde_json::from_str::<Vec<&serde_json::value::RawValue>>(v.get()),
                            Ok(items) if !items.is_empty() && items.iter().all(|i| i.get().starts_with('{')))
                })
        }
        _ => false,
    }
}

/// One record cut from the content: its bytes, where they start, and the
/// 1-based line of the first byte. `error` is set when the reader itself
/// could not delimit it (a truncated document); the bytes are then what was
/// left.
pub struct Record<'a> {
    pub offset: u64,
    pub line: u64,
    pub bytes: &'a [u8],
    pub error: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocState {
    /// Before the document's first byte.
    Start,
    /// Inside the records array, expecting a value, `,` or `]`.
    InArray,
    /// Inside a wrapper object, expecting a member, `,` or `}`.
    InObject,
    /// The records array is closed; anything else is ignored.
    Done,
}

/// Streams records out of a reader, starting at content offset `base` (used
/// when an index resumes a grown file) and line `line`.
pub struct RecordReader<R> {
    inner: R,
    format: Format,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
    /// Content offset of `buf[0]`.
    base: u64,
    /// Line number at `buf[pos]`.
    line: u64,
    eof: bool,
    doc: DocState,
    /// CSV: the delimiter, and whether the next record is the header row
    /// (read from the dialect, so skipped here).
    csv_delimiter: u8,
    skip_header: bool,
    /// Offset just past the last record that ended with a line break (or the
    /// document's end; for text logs, the start of the last record, which
    /// may still grow continuation lines): where an appended file can be
    /// resumed from.
    pub safe_offset: u64,
    pub safe_line: u64,
}

/// A text record stops gathering continuation lines at these bounds, so
/// that a file whose lines stop matching cannot become one giant record.
const MAX_CONTINUATION_LINES: usize = 10_000;
const MAX_RECORD_BYTES: usize = 16 << 20;

const CHUNK: usize = 1 << 20;

impl<R: Read> RecordReader<R> {
    pub fn new(inner: R, format: Format, base: u64, line: u64) -> Self {
        RecordReader {
            inner,
            format,
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            base,
            line,
            eof: false,
            doc: DocState::Start,
            csv_delimiter: b',',
            skip_header: false,
            safe_offset: base,
            safe_line: line,
        }
    }

    /// Reads CSV records with `delimiter`; `skip_header` when reading from
    /// the start of the file, whose first record is the header row.
    pub fn with_csv(mut self, delimiter: u8, skip_header: bool) -> Self {
        self.csv_delimiter = delimiter;
        self.skip_header = skip_header;
        self
    }

    /// Content offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Reads more content, keeping `buf[keep..len]`. Returns false at EOF.
    fn fill(&mut self, keep: usize) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if keep > 0 {
            self.buf.copy_within(keep..self.len, 0);
            self.base += keep as u64;
            self.len -= keep;
            self.pos -= keep;
        }
        if self.len == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(annotate_decompress(e)),
            }
        }
    }

    /// The next record, or `None` at the end of the content.
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        if self.base == 0 && self.pos == 0 {
            self.skip_bom()?;
        }
        match self.format {
            Format::JsonLines | Format::Logfmt | Format::Text(TextKind::AccessLog) => self.next_line(),
            Format::JsonConcatenated | Format::JsonDocument => self.next_value(),
            Format::Csv => self.next_csv(),
            Format::Text(kind) => self.next_text(kind),
        }
    }

    /// A UTF-8 byte-order mark is not part of the first record.
    fn skip_bom(&mut self) -> io::Result<()> {
        while self.len < 3 && !self.eof {
            self.fill(0)?;
        }
        if self.buf[..self.len].starts_with(b"\xEF\xBB\xBF") {
            self.pos = 3;
        }
        Ok(())
    }

    /// The end (relative to `pos`) of the line starting at `pos + rel`, and
    /// whether a line break ends it; `None` when nothing is left there.
    /// Refilling keeps everything from `pos` on.
    fn find_line(&mut self, rel: usize) -> io::Result<Option<(usize, bool)>> {
        let mut scanned = 0;
        loop {
            let from = self.pos + rel + scanned;
            if let Some(n) = memchr::memchr(b'\n', &self.buf[from..self.len]) {
                return Ok(Some((from + n - self.pos, true)));
            }
            scanned = self.len - self.pos - rel;
            let consumed = self.pos;
            if !self.fill(consumed)? {
                let end = self.len - self.pos;
                return Ok(if end == rel { None } else { Some((end, false)) });
            }
        }
    }

    fn next_csv(&mut self) -> io::Result<Option<Record<'_>>> {
        loop {
            let size = loop {
                if let Some(n) = tabular::csv_record_end(&self.buf[self.pos..self.len], self.csv_delimiter, self.eof) {
                    break Some(n);
                }
                if self.eof {
                    break None;
                }
                let consumed = self.pos;
                self.fill(consumed)?;
            };
            let Some(size) = size else { return Ok(None) };
            let start = self.pos;
            let end = (start + size).min(self.len);
            let line = self.line;
            self.line += memchr::memchr_iter(b'\n', &self.buf[start..end]).count() as u64;
            self.pos = end;
            let mut content = end;
            if self.buf[start..content].ends_with(b"\n") {
                content -= 1;
                self.safe_offset = self.base + end as u64;
                self.safe_line = self.line;
            }
            if self.buf[start..content].ends_with(b"\r") {
                content -= 1;
            }
            if std::mem::take(&mut self.skip_header) || self.buf[start..content].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(Record { offset: self.base + start as u64, line, bytes: &self.buf[start..content], error: None }));
        }
    }

    /// A text record: a line that starts one, plus the lines after it that
    /// do not (stack traces); blank lines at its end are left out.
    fn next_text(&mut self, kind: TextKind) -> io::Result<Option<Record<'_>>> {
        // Skip blank lines before the record.
        let (first_end, first_nl) = loop {
            let Some((end, nl)) = self.find_line(0)? else { return Ok(None) };
            if !self.buf[self.pos..self.pos + end].iter().all(u8::is_ascii_whitespace) {
                break (end, nl);
            }
            self.pos += end + nl as usize;
            self.line += nl as u64;
            if !nl {
                return Ok(None);
            }
        };
        let mut content_end = first_end;
        let mut next = first_end + first_nl as usize;
        let mut gathered = 0;
        if first_nl {
            while let Some((end, nl)) = self.find_line(next)? {
                let line = &self.buf[self.pos + next..self.pos + end];
                let blank = line.iter().all(u8::is_ascii_whitespace);
                if !blank {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let text = String::from_utf8_lossy(line);
                    gathered += 1;
                    if textlog::starts_record(kind, &text) || gathered > MAX_CONTINUATION_LINES || end > MAX_RECORD_BYTES {
                        break;
                    }
                    content_end = end;
                }
                next = end + nl as usize;
                if !nl {
                    break;
                }
            }
        }
        let start = self.pos;
        let line = self.line;
        self.safe_offset = self.base + start as u64;
        self.safe_line = line;
        self.line += memchr::memchr_iter(b'\n', &self.buf[start..start + next]).count() as u64;
        self.pos = start + next;
        let mut end = start + content_end;
        if self.buf[start..end].ends_with(b"\r") {
            end -= 1;
        }
        Ok(Some(Record { offset: self.base + start as u64, line, bytes: &self.buf[start..end], error: None }))
    }

    fn next_line(&mut self) -> io::Result<Option<Record<'_>>> {
        loop {
            // Find a complete line in the buffer, refilling as needed.
            let mut search_from = self.pos;
            let nl = loop {
                if let Some(n) = memchr::memchr(b'\n', &self.buf[search_from..self.len]) {
                    break Some(search_from + n);
                }
                let consumed = self.pos;
                let scanned = self.len - self.pos;
                if !self.fill(consumed)? {
                    break None;
                }
                search_from = self.pos + scanned;
            };
            let start = self.pos;
            let end = nl.unwrap_or(self.len);
            if start == end && nl.is_none() {
                return Ok(None);
            }
            let line = self.line;
            self.line += 1;
            self.pos = nl.map_or(end, |n| n + 1);
            if nl.is_some() {
                self.safe_offset = self.base + self.pos as u64;
                self.safe_line = self.line;
            }
            let mut end = end;
            if end > start && self.buf[end - 1] == b'\r' {
                end -= 1;
            }
            if self.buf[start..end].iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return Ok(Some(Record { offset: self.base + start as u64, line, bytes: &self.buf[start..end], error: None }));
        }
    }

    /// Skips whitespace (counting lines) and returns the next byte, refilling.
    fn peek_token(&mut self) -> io::Result<Option<u8>> {
        loop {
            let i = scan::skip_ws(&self.buf[..self.len], self.pos);
            self.line += memchr::memchr_iter(b'\n', &self.buf[self.pos..i]).count() as u64;
            self.pos = i;
            if i < self.len {
                return Ok(Some(self.buf[i]));
            }
            let consumed = self.pos;
            if !self.fill(consumed)? {
                return Ok(None);
            }
        }
    }

    /// Extent of the value at `pos`, refilling until it is complete.
    fn value_extent(&mut self) -> io::Result<Option<usize>> {
        loop {
            if let Scan::Complete(end) = scan::value_end(&self.buf[..self.len], self.pos) {
                return Ok(Some(end));
            }
            let consumed = self.pos;
            if !self.fill(consumed)? {
                return Ok(None);
            }
        }
    }

    fn take(&mut self, end: usize, error: Option<&'static str>) -> Record<'_> {
        let start = self.pos;
        let line = self.line;
        self.line += memchr::memchr_iter(b'\n', &self.buf[start..end]).count() as u64;
        self.pos = end;
        Record { offset: self.base + start as u64, line, bytes: &self.buf[start..end], error }
    }

    fn take_rest(&mut self, error: &'static str) -> Option<Record<'_>> {
        self.doc = DocState::Done;
        let end = self.len;
        Some(self.take(end, Some(error)))
    }

    fn next_value(&mut self) -> io::Result<Option<Record<'_>>> {
        loop {
            let Some(tok) = self.peek_token()? else {
                return Ok(match self.doc {
                    DocState::InArray | DocState::InObject => {
                        self.doc = DocState::Done;
                        let line = self.line;
                        Some(Record { offset: self.offset(), line, bytes: b"", error: Some("the JSON document ends before its closing bracket; the file may be truncated") })
                    }
                    _ => None,
                });
            };
            if self.format == Format::JsonConcatenated {
                return match self.value_extent()? {
                    Some(end) => {
                        self.safe_offset = self.base + end as u64;
                        Ok(Some(self.take(end, None)))
                    }
                    None => Ok(self.take_rest("the JSON value is not closed before the end of the file; the file may be truncated")),
                };
            }
            match (self.doc, tok) {
                (DocState::Start, b'[') => {
                    self.pos += 1;
                    self.doc = DocState::InArray;
                }
                (DocState::Start, b'{') => {
                    self.pos += 1;
                    self.doc = DocState::InObject;
                }
                (DocState::Start, _) => {
                    let end = self.value_extent()?.unwrap_or(self.len);
                    self.doc = DocState::Done;
                    return Ok(Some(self.take(end, Some("the JSON document is neither an array of records nor an object holding one"))));
                }
                (DocState::InArray, b',') => self.pos += 1,
                (DocState::InArray, b']') => {
                    self.pos += 1;
                    self.doc = DocState::Done;
                    self.safe_offset = self.offset();
                }
                (DocState::InArray, _) => {
                    return match self.value_extent()? {
                        Some(end) => Ok(Some(self.take(end, None))),
                        None => Ok(self.take_rest("the record is not closed before the end of the file; the file may be truncated")),
                    };
                }
                (DocState::InObject, b',') => self.pos += 1,
                (DocState::InObject, b'}') => {
                    self.pos += 1;
                    self.doc = DocState::Done;
                }
                (DocState::InObject, b'"') => {
                    // A member: its key, a colon, and a value we either enter
                    // (the records array) or skip.
                    let Some(key_end) = self.value_extent()? else {
                        return Ok(self.take_rest("the JSON document ends inside a member name; the file may be truncated"));
                    };
                    let key: Option<String> = serde_json::from_slice(&self.buf[self.pos..key_end]).ok();
                    let key_line = self.line;
                    self.pos = key_end;
                    if self.peek_token()? != Some(b':') {
                        self.line = key_line;
                        return Ok(self.take_rest("the JSON document has a member without a `:`"));
                    }
                    self.pos += 1;
                    let value_start = self.peek_token()?;
                    if value_start == Some(b'[') && key.as_deref().is_some_and(|k| CONTAINER_KEYS.contains(&k)) {
                        self.pos += 1;
                        self.doc = DocState::InArray;
                    } else {
                        match self.value_extent()? {
                            Some(end) => {
                                self.take(end, None);
                            }
                            None => return Ok(self.take_rest("the JSON document is not closed before the end of the file; the file may be truncated")),
                        }
                    }
                }
                (DocState::InObject, _) => {
                    return Ok(self.take_rest("the JSON document has something other than a member where a member belongs"));
                }
                (DocState::Done, _) => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(format: Format, text: &str) -> Vec<(u64, u64, String, bool)> {
        let mut r = RecordReader::new(text.as_bytes(), format, 0, 1);
        r.buf = vec![0; 7]; // force many refills
        let mut out = vec![];
        while let Some(rec) = r.next_record().unwrap() {
            out.push((rec.offset, rec.line, String::from_utf8_lossy(rec.bytes).into_owned(), rec.error.is_some()));
        }
        out
    }

    #[test]
    fn json_lines_skip_blank_lines_and_strip_cr() {
        let got = records(Format::JsonLines, "{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}");
        assert_eq!(
            got,
            vec![
                (0, 1, "{\"a\":1}".into(), false),
                (13, 4, "{\"b\":2}".into(), false),
                (21, 5, "{\"c\":3}".into(), false)
            ]
        );
    }

    #[test]
    fn documents_yield_array_elements_with_lines() {
        let got = records(Format::JsonDocument, "[\n {\"a\":1},\n {\"b\":\n 2}\n]\n");
        assert_eq!(got, vec![(3, 2, "{\"a\":1}".into(), false), (13, 3, "{\"b\":\n 2}".into(), false)]);
        let wrapped = records(Format::JsonDocument, "{\"meta\":{\"x\":[1]},\n\"Records\":[{\"a\":1}, {\"a\":2}]}");
        assert_eq!(wrapped.iter().map(|r| (r.1, r.2.as_str())).collect::<Vec<_>>(), vec![(2, "{\"a\":1}"), (2, "{\"a\":2}")]);
    }

    #[test]
    fn truncated_document_is_an_error_record() {
        let got = records(Format::JsonDocument, "[{\"a\":1},\n{\"b\":");
        assert_eq!(got.len(), 2);
        assert!(!got[0].3);
        assert_eq!((got[1].1, got[1].3), (2, true));
    }

    #[test]
    fn concatenated_values() {
        let got = records(Format::JsonConcatenated, "{\n \"a\": 1\n}\n{\n \"b\": \"}\"\n}\n");
        assert_eq!(got.iter().map(|r| r.1).collect::<Vec<_>>(), vec![1, 4]);
    }

    #[test]
    fn detection() {
        let p = Path::new("x");
        assert_eq!(detect(p, b"{\"a\":1}\n{\"a\":2}\n").unwrap(), Format::JsonLines);
        assert_eq!(detect(p, b"\xEF\xBB\xBF {\"a\":1}").unwrap(), Format::JsonLines);
        assert_eq!(detect(p, b"[{\"a\":1}]").unwrap(), Format::JsonDocument);
        assert_eq!(detect(p, b"[\n{\"a\":1}]").unwrap(), Format::JsonDocument);
        assert_eq!(detect(p, b"[{\"op\":1}]\n[{\"op\":2}]\n").unwrap(), Format::JsonLines);
        assert_eq!(detect(p, b"{\"Records\":[{\"a\":1}]}\n").unwrap(), Format::JsonDocument);
        assert_eq!(detect(p, b"{\"type\":\"x\",\"data\":[{\"a\":1}]}\n").unwrap(), Format::JsonLines);
        assert_eq!(detect(p, b"{\"data\":[]}").unwrap(), Format::JsonLines);
        assert_eq!(detect(p, b"{\n \"a\": 1\n}\n{\n \"a\": 2\n}").unwrap(), Format::JsonConcatenated);
        assert_eq!(detect(p, b"Oct 11 22:14:15 host app: hello\n").unwrap(), Format::Text(TextKind::Syslog));
        assert_eq!(detect(p, b"[2024-01-05 10:00:00] ERROR boom\n[2024-01-05 10:00:01] INFO ok\n").unwrap(), Format::Text(TextKind::Generic));
        assert_eq!(detect(p, b"a,b,c\n1,2,3\n4,5,6\n").unwrap(), Format::Csv);
        assert_eq!(detect(p, b"\xEF\xBB\xBFid;name\n1;x\n").unwrap(), Format::Csv);
        assert_eq!(detect(p, b"ts=1 level=info msg=\"a b\"\nts=2 level=warn msg=c\n").unwrap(), Format::Logfmt);
        let err = detect(p, b"Dear diary,\ntoday nothing happened.\n").unwrap_err().to_string();
        assert!(err.contains("could not detect the format: line 1 (`Dear diary,`)") && err.contains("--format"), "{err}");
        assert!(detect(p, b"\x00\x01\x02").unwrap_err().to_string().contains("binary"));
    }

    #[test]
    fn csv_records_skip_the_header_and_keep_quoted_newlines() {
        let text = "a,b\r\n1,\"x\ny\"\r\n\r\n2,z";
        let mut r = RecordReader::new(text.as_bytes(), Format::Csv, 0, 1).with_csv(b',', true);
        r.buf = vec![0; 5];
        let mut got = vec![];
        while let Some(rec) = r.next_record().unwrap() {
            got.push((rec.offset, rec.line, String::from_utf8_lossy(rec.bytes).into_owned()));
        }
        assert_eq!(got, vec![(5, 2, "1,\"x\ny\"".into()), (16, 5, "2,z".into())]);
    }

    #[test]
    fn text_records_gather_continuation_lines() {
        let text = "\n2024-01-05 10:00:00 ERROR boom\nTraceback:\n  File x\n\n2024-01-05 10:00:01 INFO ok\r\n\n";
        let mut r = RecordReader::new(text.as_bytes(), Format::Text(TextKind::Generic), 0, 1);
        r.buf = vec![0; 7];
        let mut got = vec![];
        while let Some(rec) = r.next_record().unwrap() {
            got.push((rec.offset, rec.line, String::from_utf8_lossy(rec.bytes).into_owned()));
        }
        assert_eq!(
            got,
            vec![
                (1, 2, "2024-01-05 10:00:00 ERROR boom\nTraceback:\n  File x".into()),
                (53, 6, "2024-01-05 10:00:01 INFO ok".into())
            ]
        );
        // The last record may still grow continuation lines: resume there.
        assert_eq!((r.safe_offset, r.safe_line), (53, 6));
    }
}
