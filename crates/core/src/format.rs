//! Opening a source file and cutting it into records.
//!
//! Responsibilities: refuse what is not a log (missing, directory, empty,
//! binary) with one sentence; see through gzip and zstd by their magic bytes;
//! detect the format from content, never from the file name; and stream
//! records with their byte offset and 1-based starting line, holding no more
//! than one record (plus a read buffer) in memory.

use crate::error::{Error, Result};
use crate::scan::{self, Scan};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The on-disk shapes of JSON logs the reader understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON value per line (JSON Lines, NDJSON).
    JsonLines,
    /// One JSON document: an array of records, or an object holding one.
    JsonDocument,
    /// Pretty-printed JSON values one after another.
    JsonConcatenated,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::JsonLines, Format::JsonDocument, Format::JsonConcatenated];

    pub fn name(self) -> &'static str {
        match self {
            Format::JsonLines => "json-lines",
            Format::JsonDocument => "json-document",
            Format::JsonConcatenated => "json-concatenated",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "json-lines" | "jsonl" | "ndjson" | "json" => Some(Format::JsonLines),
            "json-document" | "json-array" => Some(Format::JsonDocument),
            "json-concatenated" | "json-pretty" => Some(Format::JsonConcatenated),
            _ => None,
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
        b'[' | b'{' => {
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
        _ => {
            let line = String::from_utf8_lossy(&head[start..start + memchr::memchr(b'\n', &head[start..]).unwrap_or(head.len() - start).min(60)]);
            Err(Error::source(
                path,
                format!(
                    "could not detect the format: line {} is not JSON (it starts `{}`); the formats read so far are {}; pass --format to choose one",
                    1 + memchr::memchr_iter(b'\n', &head[..start]).count(),
                    line.trim_end(),
                    Format::ALL.map(|f| f.name()).join(", ")
                ),
            ))
        }
    }
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
    /// Offset just past the last record that ended with a line break (or the
    /// document's end): where an appended file can be resumed from.
    pub safe_offset: u64,
    pub safe_line: u64,
}

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
            safe_offset: base,
            safe_line: line,
        }
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
        match self.format {
            Format::JsonLines => self.next_line(),
            Format::JsonConcatenated | Format::JsonDocument => self.next_value(),
        }
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
        let err = detect(p, b"Oct 11 22:14:15 host app: hello\n").unwrap_err().to_string();
        assert!(err.contains("line 1 is not JSON"), "{err}");
        assert!(detect(p, b"\x00\x01\x02").unwrap_err().to_string().contains("binary"));
    }
}
