//! Fuzz target `parse`: format detection and every record parser of
//! hindsight-core over arbitrary bytes. Nothing here may panic; errors are
//! expected and ignored.
//!
//! With `HINDSIGHT_FUZZ_INVARIANTS=1` it also checks that a non-JSON decoder
//! (CSV, logfmt, text logs) that accepts a record returns a JSON object text.
#![no_main]

use hindsight_core::envelope;
use hindsight_core::format::{self, Decoder, Explode, Format, RecordReader};
use hindsight_core::scan;
use hindsight_core::tabular::{self, CsvDialect};
use hindsight_core::textlog::{self, TextKind};
use hindsight_core::time::{self, TimeContext};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

/// JSON values kept per format for the envelope and CDC sniffers.
const SAMPLE: usize = 32;

fn invariants() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("HINDSIGHT_FUZZ_INVARIANTS").is_some_and(|v| v != "0"))
}

/// Hands out the input at most `chunk` bytes per `read`, so that the record
/// reader's refill paths (a record or line split across reads) are run too.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn chunk_size(data: &[u8]) -> usize {
    // Even lengths are read whole; odd ones in small pieces.
    if data.len() % 2 == 0 {
        usize::MAX
    } else {
        1 + data.len() % 61
    }
}

fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Runs the engine's handling of one record's JSON text: members, times,
/// levels, and keeps the parsed value for the envelope sniffers.
fn consume_json(json: &str, cx: &TimeContext, strict: bool, sample: &mut Vec<Value>) {
    match scan::top_level_members(json) {
        Ok(Some(members)) => {
            for (key, raw) in &members {
                if let Ok(v) = serde_json::from_str::<Value>(raw.get()) {
                    let _ = time::parse_value(&v, cx);
                    let _ = time::normalize_level(&v, key.as_ref());
                }
            }
        }
        Ok(None) => assert!(!strict, "decoder returned JSON that is not an object: {json:?}"),
        Err(e) => assert!(!strict, "decoder returned invalid JSON ({e}): {json:?}"),
    }
    if sample.len() < SAMPLE {
        if let Ok(v) = serde_json::from_str::<Value>(json) {
            sample.push(v);
        }
    }
}

fn read_all<R: Read>(mut reader: RecordReader<R>, decoders: &[Decoder], cx: &TimeContext) -> Vec<Value> {
    let mut sample = Vec::new();
    let strict_ok = invariants();
    loop {
        let rec = match reader.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) | Err(_) => break,
        };
        let _ = (rec.offset, rec.line, rec.error);
        let text = text_of(rec.bytes);
        for decoder in decoders {
            if let Ok(json) = decoder.to_json(&text) {
                let strict = strict_ok && rec.error.is_none() && !matches!(decoder, Decoder::Json);
                consume_json(&json, cx, strict, &mut sample);
            }
        }
    }
    let _ = (reader.offset(), reader.safe_offset, reader.safe_line);
    sample
}

fn envelopes(sample: &[Value]) {
    for v in sample {
        let _ = envelope::explode_otlp(v);
        let _ = envelope::explode_redux(v);
        let _ = envelope::cdc_changes(v, None);
        let _ = envelope::cdc_changes(v, Some("id"));
        for e in [Explode::Otlp, Explode::Redux] {
            let _ = e.apply(v);
        }
    }
    let _ = envelope::looks_like_cdc(sample);
    let _ = Explode::detect(sample);
}

fn csv_readers(data: &[u8], cx: &TimeContext) {
    let sniffed = format::csv_dialect(data);
    let forced = format::forced_csv_dialect(data);
    let mut delimiters: Vec<u8> = Vec::new();
    for d in sniffed.iter().map(|s| s.delimiter).chain([forced.delimiter, b',', b';', b'\t']) {
        if !delimiters.contains(&d) {
            delimiters.push(d);
        }
    }
    for d in delimiters {
        let mut dialects: Vec<CsvDialect> = Vec::new();
        if let Some(s) = sniffed.as_ref().filter(|s| s.delimiter == d) {
            dialects.push(s.clone());
        }
        dialects.push(CsvDialect { delimiter: d, header: forced.header.clone() });
        // What the index falls back to when a config holds no dialect.
        dialects.push(CsvDialect { delimiter: d, header: Vec::new() });
        let decoders: Vec<Decoder> = dialects.into_iter().map(Decoder::Csv).collect();
        for skip_header in [true, false] {
            let reader = RecordReader::new(Chunked { data, chunk: chunk_size(data) }, Format::Csv, 0, 1).with_csv(d, skip_header);
            let sample = read_all(reader, &decoders, cx);
            envelopes(&sample);
        }
    }
}

fn text_functions(data: &[u8], cx: &TimeContext) {
    let text = text_of(data);
    let _ = tabular::sniff_csv(&text);
    let lines: Vec<&str> = text.split('\n').take(1000).collect();
    let _ = textlog::detect(&lines, cx);
    for line in lines.iter().take(64) {
        let _ = tabular::looks_like_logfmt(line);
        let _ = tabular::logfmt_to_json(line);
        for kind in TextKind::ALL {
            let _ = textlog::starts_record(kind, line);
        }
        let _ = time::parse_str(line, cx);
        let _ = time::parse_user_time(line);
        let _ = time::parse_syslog_prefix(line, cx);
        let _ = time::parse_glog_prefix(line, cx);
        let _ = time::parse_apache(line);
        let _ = time::parse_apache_prefix(line);
        let _ = time::normalize_level_str(line);
        for cell in line.split([',', ';', '\t', '|', ' ']).take(64) {
            let _ = tabular::typed_cell(cell);
            let _ = time::parse_str(cell, cx);
        }
    }
    for kind in TextKind::ALL {
        let _ = textlog::parse_record(kind, &text, cx);
    }
    let _ = tabular::typed_cell(&text);
    let _ = time::parse_str(&text, cx);
    let _ = time::parse_user_time(&text);
    for d in [b',', b';', b'\t', b'|'] {
        let _ = tabular::csv_record_end(data, d, true);
        let _ = tabular::csv_record_end(data, d, false);
    }
}

fuzz_target!(|data: &[u8]| {
    let cx = TimeContext::new(2024);
    let _ = format::detect(Path::new("fuzz"), data);

    for fmt in Format::ALL {
        match fmt {
            Format::Csv => csv_readers(data, &cx),
            _ => {
                let decoder = match fmt {
                    Format::JsonLines | Format::JsonDocument | Format::JsonConcatenated => Decoder::Json,
                    Format::Logfmt => Decoder::Logfmt,
                    Format::Text(kind) => Decoder::Text(kind, cx),
                    Format::Csv => unreachable!(),
                };
                let reader = RecordReader::new(Chunked { data, chunk: chunk_size(data) }, fmt, 0, 1);
                let sample = read_all(reader, &[decoder], &cx);
                envelopes(&sample);
            }
        }
    }

    text_functions(data, &cx);

    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        envelopes(std::slice::from_ref(&v));
        if let Value::Array(items) = &v {
            envelopes(items);
        }
    }
});
