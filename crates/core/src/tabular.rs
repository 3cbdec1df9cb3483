//! Reading tabular and key=value text logs as JSON records: CSV/TSV with a
//! header row (sniffing the dialect, finding record boundaries, turning one
//! record into a JSON object) and logfmt lines (`key=value key2="quoted"`).
//!
//! Everything here works on untrusted input and never panics; malformed input
//! yields `None` (for sniffing) or an `Err` holding one plain English sentence.

use memchr::{memchr, memchr2};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::HashSet;

/// How a CSV-like file is laid out: the byte that separates cells and the
/// column names taken from its header row (trimmed, made unique).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CsvDialect {
    pub delimiter: u8,
    pub header: Vec<String>,
}

/// Delimiters tried by [`sniff_csv`], in order of preference on ties.
const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// A header cell longer than this is a sentence or a log message, not a column name.
const MAX_HEADER_CELL_CHARS: usize = 64;
/// Column names are short; more words than this is prose.
const MAX_HEADER_CELL_WORDS: usize = 8;
/// An unclosed quote swallowing more than this (and more than half the sample)
/// means the quote is not CSV quoting but stray text.
const MAX_TOLERATED_OPEN_QUOTE_BYTES: usize = 4096;
/// f64 keeps any decimal of up to 15 significant digits exactly (DBL_DIG).
const MAX_EXACT_DECIMAL_DIGITS: usize = 15;

/// Sniffs the head of a file (up to 64 KiB, possibly cut mid-record) for
/// CSV/TSV with a header row, and returns its delimiter and column names.
///
/// A delimiter among `,` `;` tab `|` qualifies when every complete non-blank
/// record of the sample has the same number of cells (at least 2, quote-aware)
/// and there is at least a header and one row. A record cut by the end of the
/// sample counts as a row only when its cell count agrees, so a small file
/// whose last line lacks a newline still works. A header-only file is `None`:
/// one line proves nothing. The header row must look like column names (some
/// letter, no numbers, dates or times, no `{}=`, at most 64 chars and 8 words a
/// cell), which keeps text logs that happen to hold one comma per line out.
/// When several delimiters qualify, the one giving most columns wins.
pub fn sniff_csv(head: &str) -> Option<CsvDialect> {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    if head.trim_start().starts_with(['{', '[']) {
        return None;
    }
    let mut best: Option<CsvDialect> = None;
    for delimiter in CANDIDATE_DELIMITERS {
        let Some(header) = consistent_header(head.as_bytes(), delimiter) else {
            continue;
        };
        if best.as_ref().is_none_or(|chosen| header.len() > chosen.header.len()) {
            best = Some(CsvDialect { delimiter, header: unique_column_names(&header) });
        }
    }
    best
}

/// The dialect of a file the user declared CSV that [`sniff_csv`] did not
/// recognise: the candidate delimiter that splits the first record into the
/// most cells (quote-aware), and those cells as column names.
pub fn first_record_dialect(head: &str) -> CsvDialect {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head).as_bytes();
    let header_with = |delimiter: u8| {
        let mut spans = Vec::new();
        walk_record(head, delimiter, |start, end| spans.push((start, end)));
        spans.iter().map(|&(start, end)| decode_cell(head.get(start..end).unwrap_or_default()).trim().to_owned()).collect::<Vec<_>>()
    };
    let (delimiter, header) = CANDIDATE_DELIMITERS
        .iter()
        .map(|&d| (d, header_with(d)))
        .fold((b',', Vec::new()), |best, next| if next.1.len() > best.1.len() { next } else { best });
    CsvDialect { delimiter, header: unique_column_names(&header) }
}

/// Length in bytes of the first record in `buf`, line terminator included,
/// honouring quoted cells (which may hold delimiters, `""` and newlines).
///
/// `None` when the record may continue past `buf` and `at_eof` is false. At
/// EOF the rest of `buf` is the record (an unclosed quote included, which
/// [`csv_record_to_json`] then reports), and an empty `buf` is `None`.
pub fn csv_record_end(buf: &[u8], delimiter: u8, at_eof: bool) -> Option<usize> {
    match walk_record(buf, delimiter, |_, _| {}) {
        RecordEnd::Terminated(length) => Some(length),
        RecordEnd::EndOfBuffer | RecordEnd::UnclosedQuote if at_eof && !buf.is_empty() => Some(buf.len()),
        RecordEnd::EndOfBuffer | RecordEnd::UnclosedQuote => None,
    }
}

/// Turns one CSV record (its line terminator may still be attached) into a
/// JSON object text mapping each header name to [`typed_cell`] of its cell;
/// empty cells are left out. Quoted cells are typed too, since writers often
/// quote every cell. Cells are not trimmed. A blank record, an unclosed quote
/// or a cell count other than the header's is an `Err` sentence.
pub fn csv_record_to_json(dialect: &CsvDialect, record: &str) -> Result<String, String> {
    let record = strip_line_terminator(record);
    if is_blank_record(record.as_bytes(), dialect.delimiter) {
        return Err("this record is blank".to_owned());
    }
    let bytes = record.as_bytes();
    let mut spans = Vec::with_capacity(dialect.header.len());
    match walk_record(bytes, dialect.delimiter, |start, end| spans.push((start, end))) {
        RecordEnd::EndOfBuffer => {}
        RecordEnd::UnclosedQuote => return Err("a quoted cell is not closed before the end of the file".to_owned()),
        RecordEnd::Terminated(_) => {
            return Err("this record holds a line break outside quotes, so it is more than one record".to_owned())
        }
    }
    let expected = dialect.header.len();
    if spans.len() != expected {
        let advice = if spans.len() > expected {
            "fix the row or quote the cell that holds the delimiter"
        } else {
            "add the missing cells or check that every row uses the same delimiter"
        };
        return Err(format!(
            "this row has {} but the header has {}; {advice}",
            count_of(spans.len(), "cell"),
            expected
        ));
    }
    let mut object = Map::new();
    for (name, (start, end)) in dialect.header.iter().zip(spans) {
        let raw = bytes.get(start..end).unwrap_or_default();
        if let Some(value) = typed_cell(&decode_cell(raw)) {
            object.insert(name.clone(), value);
        }
    }
    object_text(object)
}

/// Types one cell's text:
/// - empty → `None` (the field is omitted); whitespace-only stays a string;
/// - exactly `true` / `false` → booleans;
/// - integers `-?(0|[1-9][0-9]*)` that fit i64/u64 → numbers;
/// - decimals `-?(0|[1-9][0-9]*)\.[0-9]+` with at most 15 significant digits
///   (so f64 holds them exactly) and in f64's normal range → numbers;
/// - everything else stays the string, notably leading zeros (`007`, zip
///   codes, ids), negative zero (`-0`, `-0.0`), a leading `+`, exponents
///   (`1e5`), `NaN`/`inf`, surrounding spaces (` 12 `), `12.` and `.5`,
///   integers beyond u64/i64 and decimals needing more than 15 digits.
pub fn typed_cell(cell: &str) -> Option<Value> {
    match cell {
        "" => None,
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => Some(number_from_text(cell).unwrap_or_else(|| Value::String(cell.to_owned()))),
    }
}

/// Whether a line reads as logfmt: at least two `key=value` pairs, and at
/// least 80% of its whitespace-separated tokens are such pairs. Keys start
/// with a letter, `_` or `@` and hold letters, digits and `_ . - / @ :`. A
/// bare value ending in `,` or `;` disqualifies its pair (that is a
/// comma-separated list). JSON, CSV, syslog, access logs and prose fail.
pub fn looks_like_logfmt(line: &str) -> bool {
    let Ok(tokens) = logfmt_tokens(line) else {
        return false;
    };
    let pairs = tokens.iter().filter(|token| is_plausible_logfmt_pair(token)).count();
    pairs >= 2 && pairs * 5 >= tokens.len() * 4
}

/// Turns a logfmt line into a JSON object text. `key=value` values are typed
/// with [`typed_cell`]; `key=` keeps the empty string (writers emit it on
/// purpose); quoted values stay strings, with `\" \\ \n \t \r` unescaped and
/// other escapes kept literally; a bare `flag` becomes `true`; a repeated key
/// keeps its last value. `Err` for an unclosed quote or a line with no
/// `key=value` pair at all.
pub fn logfmt_to_json(line: &str) -> Result<String, String> {
    let tokens = logfmt_tokens(line)?;
    if !tokens.iter().any(|token| matches!(token, LogfmtToken::Pair { .. })) {
        return Err("this line has no key=value pair, so it cannot be read as logfmt".to_owned());
    }
    let mut object = Map::new();
    for token in tokens {
        let (key, value) = match token {
            LogfmtToken::Flag(key) => (key, Value::Bool(true)),
            LogfmtToken::Pair { key, value: LogfmtValue::Quoted(text) } => (key, Value::String(text)),
            LogfmtToken::Pair { key, value: LogfmtValue::Bare(text) } => {
                (key, typed_cell(text).unwrap_or_else(|| Value::String(String::new())))
            }
        };
        object.insert(key.to_owned(), value);
    }
    object_text(object)
}

// ---------------------------------------------------------------------------
// CSV internals

/// Where the walk over one record stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordEnd {
    /// A newline outside quotes ended the record; the record (terminator
    /// included) is this many bytes long.
    Terminated(usize),
    /// The buffer ended with all quotes closed.
    EndOfBuffer,
    /// The buffer ended inside a quoted cell.
    UnclosedQuote,
}

/// Walks the first record of `buf`, calling `on_cell(start, end)` with the raw
/// byte span of each cell (quotes still in, `\r` of a `\r\n` left out).
///
/// Quoting follows RFC 4180 leniently: a `"` opens a quoted cell only as the
/// cell's first byte; inside, `""` is a quote and another `"` closes it; what
/// follows the closing quote up to the delimiter is kept literally. This is
/// the single definition of record structure, shared by sniffing, record
/// boundaries and decoding, so they can never disagree.
fn walk_record(buf: &[u8], delimiter: u8, mut on_cell: impl FnMut(usize, usize)) -> RecordEnd {
    let mut cell_start = 0;
    let mut position = 0;
    loop {
        if buf.get(position) == Some(&b'"') {
            position += 1;
            loop {
                let Some(offset) = buf.get(position..).and_then(|rest| memchr(b'"', rest)) else {
                    return RecordEnd::UnclosedQuote;
                };
                position += offset + 1;
                if buf.get(position) == Some(&b'"') {
                    position += 1;
                } else {
                    break;
                }
            }
        }
        let rest = buf.get(position..).unwrap_or_default();
        let Some(offset) = memchr2(delimiter, b'\n', rest) else {
            on_cell(cell_start, buf.len());
            return RecordEnd::EndOfBuffer;
        };
        let stop = position + offset;
        if buf.get(stop) == Some(&b'\n') {
            let carriage_return = stop > cell_start && buf.get(stop - 1) == Some(&b'\r');
            on_cell(cell_start, if carriage_return { stop - 1 } else { stop });
            return RecordEnd::Terminated(stop + 1);
        }
        on_cell(cell_start, stop);
        position = stop + 1;
        cell_start = position;
    }
}

/// The text of one raw cell: quotes removed and `""` unescaped when quoted.
fn decode_cell(raw: &[u8]) -> Cow<'_, str> {
    let Some(mut rest) = raw.strip_prefix(b"\"") else {
        return String::from_utf8_lossy(raw);
    };
    let mut text = Vec::with_capacity(raw.len());
    loop {
        let Some(quote) = memchr(b'"', rest) else {
            // Unreachable after walk_record accepted the cell; keep the text anyway.
            text.extend_from_slice(rest);
            break;
        };
        text.extend_from_slice(rest.get(..quote).unwrap_or_default());
        let after_quote = rest.get(quote + 1..).unwrap_or_default();
        match after_quote.strip_prefix(b"\"") {
            Some(after_escape) => {
                text.push(b'"');
                rest = after_escape;
            }
            None => {
                text.extend_from_slice(after_quote);
                break;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&text).into_owned())
}

/// Only whitespace, where a tab delimiter still counts as cells, not blank.
fn is_blank_record(record: &[u8], delimiter: u8) -> bool {
    record.iter().all(|&byte| byte.is_ascii_whitespace() && byte != delimiter)
}

fn strip_line_terminator(record: &str) -> &str {
    let record = record.strip_suffix('\n').unwrap_or(record);
    record.strip_suffix('\r').unwrap_or(record)
}

/// The trimmed header cells when `delimiter` splits every record of the
/// sample into the same number (>= 2) of cells and the header looks like one.
fn consistent_header(sample: &[u8], delimiter: u8) -> Option<Vec<String>> {
    let mut header: Option<Vec<String>> = None;
    let mut rows = 0usize;
    // Complete rows whose cell count differs: a few bad rows are parse
    // errors of a CSV file, many mean another delimiter or no CSV at all.
    let mut mismatched = 0usize;
    let mut start = 0;
    while let Some(rest) = sample.get(start..).filter(|rest| !rest.is_empty()) {
        let collecting_header = header.is_none();
        let mut header_spans = Vec::new();
        let mut cell_count = 0usize;
        let ending = walk_record(rest, delimiter, |cell_start, cell_end| {
            cell_count += 1;
            if collecting_header {
                header_spans.push((cell_start, cell_end));
            }
        });
        let (record_length, complete) = match ending {
            RecordEnd::Terminated(length) => (length, true),
            RecordEnd::EndOfBuffer => (rest.len(), false),
            RecordEnd::UnclosedQuote => {
                let stray_quote = rest.len() > MAX_TOLERATED_OPEN_QUOTE_BYTES && rest.len() * 2 > sample.len();
                if stray_quote {
                    return None;
                }
                break;
            }
        };
        let record = rest.get(..record_length).unwrap_or_default();
        if !is_blank_record(record, delimiter) {
            match &header {
                None => {
                    let cells = header_spans
                        .iter()
                        .map(|&(cell_start, cell_end)| {
                            decode_cell(rest.get(cell_start..cell_end).unwrap_or_default()).trim().to_owned()
                        })
                        .collect();
                    header = Some(cells);
                }
                Some(names) if cell_count == names.len() => rows += 1,
                // A record cut by the end of the sample may disagree; only complete ones count against.
                Some(_) if complete => mismatched += 1,
                Some(_) => {}
            }
        }
        if !complete {
            break;
        }
        start += record_length;
    }
    let header = header?;
    (header.len() >= 2 && rows >= 1 && mismatched * 5 <= rows && looks_like_header(&header)).then_some(header)
}

/// Column names are short labels with some letter, not values or messages.
fn looks_like_header(cells: &[String]) -> bool {
    let has_letter = cells.iter().any(|cell| cell.chars().any(char::is_alphabetic));
    has_letter
        && cells.iter().all(|cell| {
            cell.chars().count() <= MAX_HEADER_CELL_CHARS
                && cell.split_whitespace().count() <= MAX_HEADER_CELL_WORDS
                && !cell.contains(['{', '}', '='])
                && !looks_like_value(cell)
        })
}

/// Numbers (also ones typed_cell keeps as text, like `007` or `1e5`),
/// booleans, dates and times: things found in data rows, not in headers.
fn looks_like_value(cell: &str) -> bool {
    let numeric = cell.bytes().any(|byte| byte.is_ascii_digit())
        && cell.bytes().all(|byte| byte.is_ascii_digit() || b"+-.,%_ eE".contains(&byte));
    numeric || matches!(cell, "true" | "false") || contains_date_or_time(cell.as_bytes())
}

/// `1:23` (a time), `2024-01` (an ISO date) or `1/2` (a slashed date).
fn contains_date_or_time(text: &[u8]) -> bool {
    let digit = |index: usize| text.get(index).is_some_and(u8::is_ascii_digit);
    let byte_is = |index: usize, wanted: u8| text.get(index) == Some(&wanted);
    (0..text.len()).any(|at| {
        let time = digit(at) && byte_is(at + 1, b':') && digit(at + 2) && digit(at + 3);
        let iso_date = (at..at + 4).all(digit) && byte_is(at + 4, b'-') && digit(at + 5) && digit(at + 6);
        let slashed_date = digit(at) && byte_is(at + 1, b'/') && digit(at + 2);
        time || iso_date || slashed_date
    })
}

/// Empty names become `column_N` (1-based); repeats get `_2`, `_3`, ...
fn unique_column_names(cells: &[String]) -> Vec<String> {
    let mut taken = HashSet::with_capacity(cells.len());
    let mut names = Vec::with_capacity(cells.len());
    for (index, cell) in cells.iter().enumerate() {
        let base = if cell.is_empty() { format!("column_{}", index + 1) } else { cell.clone() };
        let mut name = base.clone();
        let mut suffix = 2;
        while taken.contains(&name) {
            name = format!("{base}_{suffix}");
            suffix += 1;
        }
        taken.insert(name.clone());
        names.push(name);
    }
    names
}

fn count_of(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

// ---------------------------------------------------------------------------
// Typing

fn number_from_text(text: &str) -> Option<Value> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(unsigned) => (true, unsigned),
        None => (false, text),
    };
    let (integer_digits, fraction_digits) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let is_digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    if !is_digits(integer_digits) || (integer_digits.len() > 1 && integer_digits.starts_with('0')) {
        return None;
    }
    let Some(fraction_digits) = fraction_digits else {
        if negative && integer_digits == "0" {
            return None;
        }
        return match negative {
            true => text.parse::<i64>().ok().map(Value::from),
            false => text.parse::<u64>().ok().map(Value::from),
        };
    };
    if !is_digits(fraction_digits) || significant_digits(integer_digits, fraction_digits) > MAX_EXACT_DECIMAL_DIGITS {
        return None;
    }
    let value = text.parse::<f64>().ok()?;
    // Subnormals lose digits; a negative zero would print as a different text.
    let exact = value.is_normal() || (value == 0.0 && !negative);
    if !exact {
        return None;
    }
    Number::from_f64(value).map(Value::Number)
}

/// Digits between the first and the last non-zero digit, inclusive.
fn significant_digits(integer_digits: &str, fraction_digits: &str) -> usize {
    let digits = || integer_digits.bytes().chain(fraction_digits.bytes());
    let first = digits().position(|digit| digit != b'0');
    let last = digits().enumerate().filter(|&(_, digit)| digit != b'0').map(|(index, _)| index).last();
    match (first, last) {
        (Some(first), Some(last)) => last - first + 1,
        _ => 0,
    }
}

fn object_text(object: Map<String, Value>) -> Result<String, String> {
    serde_json::to_string(&Value::Object(object))
        .map_err(|error| format!("the record could not be written as JSON: {error}"))
}

// ---------------------------------------------------------------------------
// logfmt internals

#[derive(Debug, PartialEq)]
enum LogfmtToken<'a> {
    Pair { key: &'a str, value: LogfmtValue<'a> },
    Flag(&'a str),
}

#[derive(Debug, PartialEq)]
enum LogfmtValue<'a> {
    Bare(&'a str),
    Quoted(String),
}

fn is_logfmt_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// Splits a line into flags and `key=value` pairs. A key runs to the first
/// `=` or whitespace; a bare value runs to whitespace; a quoted value runs to
/// its closing quote (anything glued after it is kept literally).
fn logfmt_tokens(line: &str) -> Result<Vec<LogfmtToken<'_>>, String> {
    let bytes = line.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    loop {
        while bytes.get(position).copied().is_some_and(is_logfmt_space) {
            position += 1;
        }
        if position >= bytes.len() {
            return Ok(tokens);
        }
        let key_start = position;
        while bytes.get(position).is_some_and(|&byte| byte != b'=' && !is_logfmt_space(byte)) {
            position += 1;
        }
        let key = line.get(key_start..position).unwrap_or_default();
        if bytes.get(position) != Some(&b'=') {
            tokens.push(LogfmtToken::Flag(key));
            continue;
        }
        position += 1;
        let value = if bytes.get(position) == Some(&b'"') {
            let (mut text, after_quote) = unescape_quoted(line, position + 1)?;
            position = after_quote;
            let glued_start = position;
            while bytes.get(position).is_some_and(|&byte| !is_logfmt_space(byte)) {
                position += 1;
            }
            text.push_str(line.get(glued_start..position).unwrap_or_default());
            LogfmtValue::Quoted(text)
        } else {
            let value_start = position;
            while bytes.get(position).is_some_and(|&byte| !is_logfmt_space(byte)) {
                position += 1;
            }
            LogfmtValue::Bare(line.get(value_start..position).unwrap_or_default())
        };
        tokens.push(LogfmtToken::Pair { key, value });
    }
}

/// Reads a quoted value starting just after its opening quote; returns the
/// unescaped text and the byte position just after the closing quote.
fn unescape_quoted(line: &str, start: usize) -> Result<(String, usize), String> {
    let unclosed = || "a quoted value is not closed before the end of the line".to_owned();
    let body = line.get(start..).ok_or_else(unclosed)?;
    let mut text = String::new();
    let mut chars = body.char_indices();
    while let Some((offset, character)) = chars.next() {
        match character {
            '"' => return Ok((text, start + offset + 1)),
            '\\' => match chars.next() {
                Some((_, '"')) => text.push('"'),
                Some((_, '\\')) => text.push('\\'),
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, 'r')) => text.push('\r'),
                Some((_, other)) => {
                    text.push('\\');
                    text.push(other);
                }
                None => return Err(unclosed()),
            },
            other => text.push(other),
        }
    }
    Err(unclosed())
}

fn is_plausible_logfmt_pair(token: &LogfmtToken<'_>) -> bool {
    let LogfmtToken::Pair { key, value } = token else {
        return false;
    };
    let list_like = matches!(value, LogfmtValue::Bare(text) if text.ends_with([',', ';']));
    is_logfmt_key(key) && !list_like
}

fn is_logfmt_key(key: &str) -> bool {
    let mut chars = key.chars();
    let starts_well = chars.next().is_some_and(|first| first.is_alphabetic() || first == '_' || first == '@');
    starts_well && chars.all(|character| character.is_alphanumeric() || "_.-/@:".contains(character))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dialect(delimiter: u8, header: &[&str]) -> CsvDialect {
        CsvDialect { delimiter, header: header.iter().map(|name| name.to_string()).collect() }
    }

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).expect("output is valid JSON")
    }

    const LOGFMT_ERROR_LINE: &str = r#"time="2021-09-15T21:17:10.220731Z" level=error msg="error retrieving pod status: pod inc-1-enh-domain-c14-ns-2/hello-inc-1-enh-domain-c14-ns-2-3-d8f465685-k75gp is not found: PodNotFound" namespace=inc-1-enh-domain-c14-ns-2 pod=hello-inc-1-enh-domain-c14-ns-2-3-d8f465685-k75gp reason= status=Pending"#;
    const LOGFMT_WARNING_LINE: &str = r#"time="2021-09-15T21:17:11.674149Z" level=warning msg="Failed to DeletePod in the provider" error="pod inc-1-domain-c14-ns-6/fe-inc-1-domain-c14-ns-6-5-656d9bb695-4584b is not found: PodNotFound" namespace=inc-1-domain-c14-ns-6 pod=fe-inc-1-domain-c14-ns-6-5-656d9bb695-4584b uid=be2def59-3a08-42fd-8f84-6f64cfcefa93"#;

    #[test]
    fn sniff_recognises_csv_dialects() {
        let cases: &[(&str, &str, u8, &[&str])] = &[
            ("comma", "name,age,city\nalice,30,Paris\nbob,41,Lyon\n", b',', &["name", "age", "city"]),
            ("semicolon with decimal commas", "id;amount;note\n1;2,50;x\n2;3,75;y\n", b';', &["id", "amount", "note"]),
            (
                "tab",
                "ts\tlevel\tmsg\n2024-01-01T00:00:00Z\tinfo\tstarted\n2024-01-01T00:00:01Z\twarn\tslow, very\n",
                b'\t',
                &["ts", "level", "msg"],
            ),
            ("pipe", "a|b|c\n1|2|3\n4|5|6\n", b'|', &["a", "b", "c"]),
            (
                "quoted delimiters and embedded newlines",
                "id,comment\n1,\"hello, world\"\n2,\"multi\nline, yes\"\n3,plain\n",
                b',',
                &["id", "comment"],
            ),
            ("quoted header with escaped quote", "\"say \"\"hi\"\"\",b\n1,2\n", b',', &["say \"hi\"", "b"]),
            ("crlf", "a,b\r\n1,2\r\n3,4\r\n", b',', &["a", "b"]),
            ("header cells trimmed", " first name , last name\nAda,Lovelace\n", b',', &["first name", "last name"]),
            ("empty and duplicate names", "a,,a,a\n1,2,3,4\n", b',', &["a", "column_2", "a_2", "a_3"]),
            ("generated name collision", "a,a,a_2\n1,2,3\n", b',', &["a", "a_2", "a_2_2"]),
            ("bom", "\u{feff}a,b\n1,2\n", b',', &["a", "b"]),
            ("last row without newline", "a,b\n1,2", b',', &["a", "b"]),
            ("cut mid-record at the end", "a,b,c\n1,2,3\n4,5", b',', &["a", "b", "c"]),
            ("cut inside a quote at the end", "a,b\n1,2\n3,\"unfinished", b',', &["a", "b"]),
            ("blank lines skipped", "a,b\n\n1,2\n\n", b',', &["a", "b"]),
            ("most columns wins", "a;b,c;d\n1;2,3;4\n", b';', &["a", "b,c", "d"]),
        ];
        for (name, sample, delimiter, header) in cases {
            let expected = dialect(*delimiter, header);
            assert_eq!(sniff_csv(sample), Some(expected), "{name}");
        }
    }

    #[test]
    fn a_declared_csv_takes_its_header_from_the_first_record() {
        let d = first_record_dialect("\u{feff}a;\"b;c\";a;\n1;2;3;4\n");
        assert_eq!(d, CsvDialect { delimiter: b';', header: vec!["a".into(), "b;c".into(), "a_2".into(), "column_4".into()] });
        assert_eq!(first_record_dialect("just one cell").header, vec!["just one cell"]);
    }

    #[test]
    fn sniff_rejects_what_is_not_csv() {
        let long_name = "x".repeat(65);
        let long_header = format!("{long_name},b\n1,2\n");
        let open_quote = format!("a,b\n1,2\n\"{}\n", "stray, text\n".repeat(1000));
        let cases: &[(&str, &str)] = &[
            ("empty", ""),
            ("header only", "a,b,c\n"),
            ("header only without newline", "a,b,c"),
            (
                "syslog",
                "Sep 15 21:17:10 myhost sshd[123]: Accepted publickey for bob, port 22\n\
                 Sep 15 21:17:11 myhost sshd[124]: Accepted publickey for eve, port 22\n\
                 Sep 15 21:17:12 myhost sshd[125]: Disconnected from bob, port 22\n",
            ),
            ("logfmt", &format!("{LOGFMT_ERROR_LINE}\n{LOGFMT_WARNING_LINE}\n")),
            ("json lines", "{\"a\":1,\"b\":2}\n{\"a\":3,\"b\":4}\n"),
            ("json array", "[{\"a\":1,\"b\":2},\n{\"a\":3,\"b\":4}]\n"),
            ("prose", "Hello, world. This is a test, with commas.\nAnother line, here.\nAnd one, two, three.\n"),
            (
                "timestamped log with one comma per line",
                "2024-01-01 10:00:00 INFO starting, version 3\n2024-01-01 10:00:01 INFO ready, port 80\n",
            ),
            ("numeric first row", "1,2\n3,4\n"),
            ("inconsistent rows", "a,b\n1,2\n3,4,5\n"),
            ("single column", "name\nalice\nbob\n"),
            ("header cell too long", &long_header),
            ("logfmt-like header", "a=1,b=2\nc=3,d=4\n"),
            ("stray quote swallowing the sample", &open_quote),
        ];
        for (name, sample) in cases {
            assert_eq!(sniff_csv(sample), None, "{name}");
        }
    }

    #[test]
    fn record_end_finds_complete_records() {
        let cases: &[(&str, &[u8], bool, Option<usize>)] = &[
            ("plain", b"a,b\nc", false, Some(4)),
            ("crlf", b"a,b\r\nc", false, Some(5)),
            ("incomplete", b"a,b", false, None),
            ("incomplete at eof", b"a,b", true, Some(3)),
            ("empty", b"", false, None),
            ("empty at eof", b"", true, None),
            ("blank line", b"\nx", false, Some(1)),
            ("newline in quotes", b"a,\"x\ny\"\nz", false, Some(8)),
            ("open quote", b"a,\"x\ny", false, None),
            ("open quote at eof", b"a,\"x\ny", true, Some(6)),
            ("escaped quote then newline in quotes", b"\"a\"\"\n\"\nrest", false, Some(7)),
            ("quote ends the buffer", b"a,\"x\"", false, None),
            ("quote in the middle of a cell is literal", b"a\"b,c\nd", false, Some(6)),
            ("text after closing quote", b"\"a\"b,c\n", false, Some(7)),
        ];
        for (name, buf, at_eof, expected) in cases {
            assert_eq!(csv_record_end(buf, b',', *at_eof), *expected, "{name}");
        }
    }

    #[test]
    fn record_end_agrees_across_every_buffer_split() {
        let full: &[u8] = b"h1,h2\n\"a\nb\",\"c\"\"d\"\r\nx,y\n\"\"\"\",\"\n\"\nlast,\"row\"";
        let mut expected_records = Vec::new();
        let mut start = 0;
        while let Some(length) = full.get(start..).and_then(|rest| csv_record_end(rest, b',', true)) {
            expected_records.push(full.get(start..start + length).expect("in range"));
            start += length;
        }
        assert_eq!(expected_records.len(), 5);
        for split in 0..=full.len() {
            let mut records = Vec::new();
            let mut start = 0;
            let mut available = split;
            loop {
                let at_eof = available == full.len();
                let window = full.get(start..available).expect("in range");
                match csv_record_end(window, b',', at_eof) {
                    Some(length) => {
                        records.push(full.get(start..start + length).expect("in range"));
                        start += length;
                    }
                    None if at_eof => break,
                    None => available = full.len(),
                }
            }
            assert_eq!(records, expected_records, "split at {split}");
        }
    }

    #[test]
    fn record_to_json_types_cells() {
        let people = dialect(b',', &["name", "age", "score", "active", "note"]);
        let cases: &[(&str, &str, Value)] = &[
            (
                "typed cells, empty omitted",
                "bob,42,3.5,true,\n",
                json!({"name": "bob", "age": 42, "score": 3.5, "active": true}),
            ),
            (
                "quoted cells",
                "\"Smith, J\",007,\"1,5\",false,\"say \"\"hi\"\"\"\r\n",
                json!({"name": "Smith, J", "age": "007", "score": "1,5", "active": false, "note": "say \"hi\""}),
            ),
            (
                "quoted numbers are typed",
                "\"ann\",\"7\",\"-1.25\",\"\",\"multi\nline\"",
                json!({"name": "ann", "age": 7, "score": -1.25, "note": "multi\nline"}),
            ),
            (
                "cells are not trimmed",
                " al , 12 ,x,True,\u{1}",
                json!({"name": " al ", "age": " 12 ", "score": "x", "active": "True", "note": "\u{1}"}),
            ),
            (
                "unicode",
                "zoë,1,2,true,日本 🎉",
                json!({"name": "zoë", "age": 1, "score": 2, "active": true, "note": "日本 🎉"}),
            ),
            ("all empty", ",,,,\n", json!({})),
        ];
        for (name, record, expected) in cases {
            let text = csv_record_to_json(&people, record).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(parsed(&text), *expected, "{name}");
        }
        let tsv = dialect(b'\t', &["a", "b"]);
        assert_eq!(parsed(&csv_record_to_json(&tsv, "x,y\t1\n").expect("tsv")), json!({"a": "x,y", "b": 1}));
    }

    #[test]
    fn record_to_json_reports_bad_records() {
        let abc = dialect(b',', &["a", "b", "c"]);
        let cases: &[(&str, &str, &str)] = &[
            (
                "too many cells",
                "1,2,3,4\n",
                "this row has 4 cells but the header has 3; fix the row or quote the cell that holds the delimiter",
            ),
            (
                "too few cells",
                "1,2\n",
                "this row has 2 cells but the header has 3; add the missing cells or check that every row uses the same delimiter",
            ),
            (
                "one cell",
                "1\n",
                "this row has 1 cell but the header has 3; add the missing cells or check that every row uses the same delimiter",
            ),
            ("unclosed quote", "1,2,\"open\nstill open", "a quoted cell is not closed before the end of the file"),
            ("blank", "\r\n", "this record is blank"),
            ("empty", "", "this record is blank"),
            ("two records", "1,2,3\n4,5,6\n", "this record holds a line break outside quotes, so it is more than one record"),
        ];
        for (name, record, expected) in cases {
            assert_eq!(csv_record_to_json(&abc, record), Err(expected.to_string()), "{name}");
        }
    }

    #[test]
    fn typed_cell_follows_the_rules() {
        let cases: &[(&str, Option<Value>)] = &[
            ("", None),
            ("true", Some(json!(true))),
            ("false", Some(json!(false))),
            ("True", Some(json!("True"))),
            ("0", Some(json!(0))),
            ("42", Some(json!(42))),
            ("-17", Some(json!(-17))),
            ("18446744073709551615", Some(json!(u64::MAX))),
            ("18446744073709551616", Some(json!("18446744073709551616"))),
            ("-9223372036854775808", Some(json!(i64::MIN))),
            ("-9223372036854775809", Some(json!("-9223372036854775809"))),
            ("0.5", Some(json!(0.5))),
            ("2.75", Some(json!(2.75))),
            ("-2.0", Some(json!(-2.0))),
            ("0.0", Some(json!(0.0))),
            ("1.50", Some(json!(1.5))),
            ("123456789012345.0", Some(json!(123456789012345.0))),
            ("0.000000000000000000000012345", Some(json!(1.2345e-23))),
            ("1234567890123456.5", Some(json!("1234567890123456.5"))),
            ("0.1000000000000000055511", Some(json!("0.1000000000000000055511"))),
            ("007", Some(json!("007"))),
            ("00.5", Some(json!("00.5"))),
            ("+5", Some(json!("+5"))),
            ("-0", Some(json!("-0"))),
            ("-0.0", Some(json!("-0.0"))),
            ("1e5", Some(json!("1e5"))),
            ("NaN", Some(json!("NaN"))),
            ("inf", Some(json!("inf"))),
            (" 12 ", Some(json!(" 12 "))),
            (" ", Some(json!(" "))),
            ("12.", Some(json!("12."))),
            (".5", Some(json!(".5"))),
            ("-", Some(json!("-"))),
            ("1.2.3", Some(json!("1.2.3"))),
            ("1,5", Some(json!("1,5"))),
            ("0x10", Some(json!("0x10"))),
            ("١٢", Some(json!("١٢"))),
        ];
        for (cell, expected) in cases {
            assert_eq!(typed_cell(cell), *expected, "{cell:?}");
        }
        let subnormal = format!("0.{}1", "0".repeat(320));
        assert_eq!(typed_cell(&subnormal), Some(Value::String(subnormal.clone())));
        let huge = format!("1{}.0", "0".repeat(400));
        assert_eq!(typed_cell(&huge), Some(Value::String(huge.clone())));
    }

    #[test]
    fn logfmt_parses_values_and_escapes() {
        let cases: &[(&str, &str, Value)] = &[
            (
                "escapes, flags, empty and typed values",
                r#"msg="a \"q\" b\\c\nd\te\r" x=1 flag y= z=2.5 w=true u="\q""#,
                json!({"msg": "a \"q\" b\\c\nd\te\r", "x": 1, "flag": true, "y": "", "z": 2.5, "w": true, "u": "\\q"}),
            ),
            ("quoted values stay strings", r#"n="5" b="true" e="""#, json!({"n": "5", "b": "true", "e": ""})),
            ("last duplicate wins", "a=1 a=2", json!({"a": 2})),
            ("extra whitespace and line terminator", "  a=x\t\tb=007  \r\n", json!({"a": "x", "b": "007"})),
            ("text glued after a quote", r#"a="x"y b=1"#, json!({"a": "xy", "b": 1})),
            ("equals inside a value", "q=a=b", json!({"q": "a=b"})),
            ("unicode", "név=Zoë emoji=\"🎉 ok\"", json!({"név": "Zoë", "emoji": "🎉 ok"})),
            (
                "real error line",
                LOGFMT_ERROR_LINE,
                json!({
                    "time": "2021-09-15T21:17:10.220731Z",
                    "level": "error",
                    "msg": "error retrieving pod status: pod inc-1-enh-domain-c14-ns-2/hello-inc-1-enh-domain-c14-ns-2-3-d8f465685-k75gp is not found: PodNotFound",
                    "namespace": "inc-1-enh-domain-c14-ns-2",
                    "pod": "hello-inc-1-enh-domain-c14-ns-2-3-d8f465685-k75gp",
                    "reason": "",
                    "status": "Pending",
                }),
            ),
            (
                "real warning line",
                LOGFMT_WARNING_LINE,
                json!({
                    "time": "2021-09-15T21:17:11.674149Z",
                    "level": "warning",
                    "msg": "Failed to DeletePod in the provider",
                    "error": "pod inc-1-domain-c14-ns-6/fe-inc-1-domain-c14-ns-6-5-656d9bb695-4584b is not found: PodNotFound",
                    "namespace": "inc-1-domain-c14-ns-6",
                    "pod": "fe-inc-1-domain-c14-ns-6-5-656d9bb695-4584b",
                    "uid": "be2def59-3a08-42fd-8f84-6f64cfcefa93",
                }),
            ),
        ];
        for (name, line, expected) in cases {
            let text = logfmt_to_json(line).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(parsed(&text), *expected, "{name}");
        }
    }

    #[test]
    fn logfmt_reports_bad_lines() {
        let unclosed = "a quoted value is not closed before the end of the line";
        let no_pair = "this line has no key=value pair, so it cannot be read as logfmt";
        let cases: &[(&str, &str)] = &[
            (r#"a=1 msg="never closed"#, unclosed),
            (r#"a=1 msg="ends in a backslash\"#, unclosed),
            ("a=1 msg=\"", unclosed),
            ("just some words", no_pair),
            ("", no_pair),
        ];
        for (line, expected) in cases {
            assert_eq!(logfmt_to_json(line), Err(expected.to_string()), "{line:?}");
        }
    }

    #[test]
    fn looks_like_logfmt_tells_logfmt_apart() {
        let cases: &[(&str, bool)] = &[
            (LOGFMT_ERROR_LINE, true),
            (LOGFMT_WARNING_LINE, true),
            ("a=1 b=2", true),
            ("@timestamp=1 log.level=info http.path=/x", true),
            ("level=info msg=started port=80 addr=x ready", true),
            ("level=info msg=started ready", false),
            ("a=1", false),
            ("", false),
            ("{\"a\":1, \"b\":\"x=y z=w\"}", false),
            ("name,age,city", false),
            ("a=1,b=2", false),
            ("x=1, y=2, z=3", false),
            ("Sep 15 21:17:10 myhost sshd[123]: Accepted publickey for bob from 10.0.0.1 port=22 user=bob", false),
            (r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a?b=1&c=2 HTTP/1.0" 200 2326"#, false),
            ("set x=1 and y=2 then stop", false),
            (r#"msg="unclosed b=2 c=3"#, false),
            ("1=2 3=4", false),
        ];
        for (line, expected) in cases {
            assert_eq!(looks_like_logfmt(line), *expected, "{line:?}");
        }
    }

    /// Every public function on every short string over an alphabet of the
    /// bytes that matter, plus longer pseudo-random ones: no panics, and every
    /// Ok output is a JSON object.
    #[test]
    fn never_panics_on_odd_input() {
        const ALPHABET: [&str; 12] = ["a", ",", "\"", ";", "\n", "\r", "=", "\\", " ", "1", "é", "\t"];
        let odd_dialects = [
            dialect(b',', &["x", "y"]),
            dialect(b'"', &["x", "y"]),
            dialect(b'\n', &["x"]),
            dialect(0xC3, &["x", "y"]),
            dialect(b';', &[]),
        ];
        let check = |text: &str| {
            let _ = sniff_csv(text);
            for delimiter in [b',', b';', b'\t', b'"', b'\n', 0xC3] {
                for at_eof in [false, true] {
                    let bytes = text.as_bytes();
                    if let Some(length) = csv_record_end(bytes, delimiter, at_eof) {
                        assert!(length >= 1 && length <= bytes.len(), "{text:?}");
                    }
                    let mut invalid = bytes.to_vec();
                    invalid.push(0xFF);
                    let _ = csv_record_end(&invalid, delimiter, at_eof);
                }
            }
            for csv in &odd_dialects {
                if let Ok(json) = csv_record_to_json(csv, text) {
                    assert!(parsed(&json).is_object(), "{text:?}");
                }
            }
            let _ = typed_cell(text);
            let _ = looks_like_logfmt(text);
            if let Ok(json) = logfmt_to_json(text) {
                assert!(parsed(&json).is_object(), "{text:?}");
            }
        };
        check("");
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|prefix| ALPHABET.iter().map(move |piece| format!("{prefix}{piece}")))
                .collect();
            longer.iter().for_each(|text| check(text));
            strings = longer;
        }
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            let mut text = String::new();
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            for _ in 0..(seed >> 58) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(ALPHABET.get((seed >> 60) as usize % ALPHABET.len()).unwrap_or(&"a"));
            }
            check(&text);
        }
    }
}
