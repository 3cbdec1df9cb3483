//! Line-oriented text logs: deciding which well-known text format a file is
//! written in ([`detect`]), telling which lines begin a record so that stack
//! traces, tracebacks and wrapped messages stay with the line above
//! ([`starts_record`]), and turning one record into a JSON object that the
//! rest of the engine treats like any JSON event ([`parse_record`]).
//!
//! # Formats
//!
//! | kind | variant | example first line |
//! |------|---------|--------------------|
//! | [`TextKind::Syslog`] | RFC 3164 | `<34>Oct 11 22:14:15 mymachine su[42]: 'su root' failed` |
//! | | RFC 3164 without PRI | `Nov  3 09:23:38 veridian automount[7998]: lookup failed` |
//! | | rsyslog high precision | `2022-08-27T14:22:01.613Z host app[1]: msg` |
//! | | RFC 5424 | `<165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [ex@32473 iut="3"] msg` |
//! | | RFC 5424 without PRI | `2022-08-27T14:22:01.613Z host NSX 3106 - [abc@6876 level="INFO"] msg` |
//! | [`TextKind::AccessLog`] | common | `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326` |
//! | | combined (+ extra quoted fields) | `… 200 2326 "http://ref/" "Mozilla/5.0" "10.0.0.1"` |
//! | [`TextKind::Glog`] | glog / klog | `E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] message` |
//! | [`TextKind::Generic`] | Python logging | `2024-02-03 10:11:12,345 ERROR something`, `2024-02-03 10:11:12,345 - name - ERROR - msg` |
//! | | colon separated | `2012-07-02 10:22:40,672:DEBUG:foo bar baz` |
//! | | log4j / logback / Spring | `2025-01-24T07:00:30,139 INFO [main   ] FarmApplication   : Starting`, `2024-01-05 10:00:00.123 [main] WARN  com.example.Foo - msg` |
//! | | bracketed time or level | `[2024-01-05 10:00:00] ERROR msg`, `2024-01-05T10:00:00Z [error] msg`, `… <W> msg` |
//! | | level first | `INFO 2024-01-05 10:00:00 msg`, `[WARN] 2024-01-05T10:00:00Z msg` |
//! | | epoch number (≥ 9 digits) | `1428634687123 Hello, World!` |
//! | | TAI64N | `@40000000433225833b6e1a8c tcpserver: status: 5/30` |
//! | | syslog, ctime or Apache date | `Oct 11 22:14:15 msg`, `[Wed Oct 11 14:32:52 2000] [error] msg`, `[10/Oct/2000:13:55:36 -0700] msg` |
//! | | time of day only | `08:09:33.814936 execve("/bin/ls", ["ls"], …) = 0` |
//!
//! # Members of a parsed record
//!
//! Every record has `message` (the first line's message, then each
//! continuation line after a `\n`), `timestamp` (RFC 3339 UTC with the
//! fraction as written, see [`Timestamp::to_rfc3339`]) when the line has a
//! full date, and `level` (`trace` … `fatal`) when the format gives one.
//!
//! * Syslog: `host`, `app`, `pid` (number; `procid` string when not
//!   numeric), `msgid`, `structured_data` (`{sd-id: {param: value}}`),
//!   `facility` and the level from the severity when `<PRI>` is present;
//!   RFC 5424 nil values (`-`) are omitted. Without PRI, a `level` or
//!   `severity` parameter of the structured data gives the level.
//! * AccessLog: `client`, `ident`, `user`, `method`, `path`, `protocol` (or
//!   `request` when the request line is not `METHOD PATH HTTP/x`), `status`,
//!   `bytes`, `referer`, `user_agent` (`-` values omitted; quoted fields
//!   after the user agent are ignored); the level is `error` for 5xx, `warn`
//!   for 4xx, else `info`; the message is the request line.
//! * Glog: `thread` (number), `source` (`file.cc:253`).
//! * Generic: `logger`, `thread`, `pid` when the layout shows them; `time`
//!   (`08:09:33.814936`) instead of `timestamp` for time-of-day-only lines.
//!
//! # Choices
//!
//! * **ANSI colour codes** (`\x1b[31mERROR\x1b[0m`) are removed from the
//!   whole record before anything else, so levels are found through them and
//!   messages hold the text without the codes.
//! * **Syslog years** are `cx.default_year` ([`time::parse_syslog_prefix`]);
//!   `Feb 29` in a non-leap year and other impossible dates are errors.
//! * **TAI64N** labels are read as lnav does: the first 16 hex digits minus
//!   2^62 are seconds since 1970 (the TAI−UTC offset of 10 s and the leap
//!   seconds are *not* subtracted), the last 8 are nanoseconds.
//! * **Epoch prefixes** need at least 9 integer digits so that an ordinary
//!   number opening a message is not taken for a time; the unit follows the
//!   magnitude as in [`time::parse_str`].
//! * **Trailing blank lines** of a record are dropped from the message.
//! * Syslog lines that start with an ISO time and no `<PRI>` are only taken
//!   as syslog when they clearly are (`host app[pid]:` or the RFC 5424
//!   shape), so that ISO-stamped application logs stay [`TextKind::Generic`].
//!
//! Every scanner works on bytes, only stops on ASCII bytes (so every slice
//! lands on a char boundary) and reads through `get`; nothing here panics.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::time::{self, Level, TimeContext, Timestamp};

// ---------------------------------------------------------------------------
// Kinds
// ---------------------------------------------------------------------------

/// A family of line-oriented text log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextKind {
    Syslog,
    AccessLog,
    Glog,
    Generic,
}

impl TextKind {
    /// All kinds, most specific first (the order [`detect`] breaks ties in).
    pub const ALL: [TextKind; 4] = [
        TextKind::Syslog,
        TextKind::AccessLog,
        TextKind::Glog,
        TextKind::Generic,
    ];

    /// `"syslog"`, `"access-log"`, `"glog"` or `"text"`.
    pub fn name(self) -> &'static str {
        match self {
            TextKind::Syslog => "syslog",
            TextKind::AccessLog => "access-log",
            TextKind::Glog => "glog",
            TextKind::Generic => "text",
        }
    }

    /// The inverse of [`TextKind::name`], ignoring ASCII case, also accepting
    /// `rfc3164`, `rfc5424`, `nginx`, `apache`, `access_log` and `generic`.
    pub fn from_name(name: &str) -> Option<TextKind> {
        let n = name.trim().to_ascii_lowercase();
        Some(match n.as_str() {
            "syslog" | "rfc3164" | "rfc5424" => TextKind::Syslog,
            "access-log" | "access_log" | "accesslog" | "nginx" | "apache" => TextKind::AccessLog,
            "glog" => TextKind::Glog,
            "text" | "generic" => TextKind::Generic,
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------

/// Whether `line` (without its line terminator; a trailing '\r' is
/// ignored) begins a new record of this kind. A line that does not continues
/// the record above (stack traces, tracebacks, wrapped messages). Only the
/// layout is checked, so a line with an impossible date (`Feb 30 …`) still
/// starts a record, which [`parse_record`] then rejects.
pub fn starts_record(kind: TextKind, line: &str) -> bool {
    // Same order as parse_record: colour codes first, then the '\r'.
    let cleaned = strip_ansi(line);
    let line = cleaned.strip_suffix('\r').unwrap_or(&cleaned);
    match kind {
        TextKind::Syslog => split_syslog(line).is_some(),
        TextKind::AccessLog => split_access(line).is_some(),
        TextKind::Glog => split_glog(line).is_some(),
        TextKind::Generic => generic_head(line).is_some(),
    }
}

/// Parses one record: its first line plus any continuation lines, joined by
/// '\n' (a trailing '\r' on each line is ignored), into a JSON object as
/// described in the module docs. `Err` holds one plain sentence saying why
/// the first line is not a record of this kind or why its date is invalid.
pub fn parse_record(
    kind: TextKind,
    record: &str,
    cx: &TimeContext,
) -> Result<Map<String, Value>, String> {
    let record = strip_ansi(record);
    let mut lines = record
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let (mut map, mut message) = match kind {
        TextKind::Syslog => parse_syslog_line(first, cx)?,
        TextKind::AccessLog => parse_access_line(first)?,
        TextKind::Glog => parse_glog_line(first, cx)?,
        TextKind::Generic => parse_generic_line(first, cx)?,
    };
    let continuation: Vec<&str> = lines.collect();
    let kept = continuation
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |last| last + 1);
    for line in continuation.iter().take(kept) {
        message.push('\n');
        message.push_str(line);
    }
    map.insert("message".into(), Value::String(message));
    Ok(map)
}

/// Chooses the kind that best fits sample lines from the head of a file
/// (non-blank lines, in order, at most ~1000; blank ones are skipped): the
/// kind for which the most lines start a record and parse on their own.
/// Ties go to the more specific kind ([`TextKind::ALL`] order). Returns the
/// kind and how many lines started a record that parsed, or `None` when no
/// kind fits.
///
/// A kind fits when the first line starts a record and at least half of the
/// lines either start a record or clearly continue one (indented, or a stack
/// trace / traceback line such as `Caused by: …`,
/// `java.lang.IllegalStateException: …`, `ValueError: bad`). Counting those
/// continuation lines lets a log dominated by one long stack trace qualify,
/// while a timestamped line followed by prose does not.
pub fn detect(lines: &[&str], cx: &TimeContext) -> Option<(TextKind, usize)> {
    let sample: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let first = *sample.first()?;
    let continuation_like = sample.iter().filter(|l| looks_like_continuation(l)).count();
    let mut best: Option<(TextKind, usize)> = None;
    for kind in TextKind::ALL {
        if !starts_record(kind, first) {
            continue;
        }
        let mut starts = 0usize;
        let mut starts_continuation_like = 0usize;
        let mut parsed = 0usize;
        for line in &sample {
            if starts_record(kind, line) {
                starts += 1;
                starts_continuation_like += usize::from(looks_like_continuation(line));
                if parse_record(kind, line, cx).is_ok() {
                    parsed += 1;
                }
            }
        }
        let covered = starts + continuation_like - starts_continuation_like;
        if parsed == 0 || covered * 2 < sample.len() {
            continue;
        }
        if best.is_none_or(|(_, n)| parsed > n) {
            best = Some((kind, parsed));
        }
    }
    best
}

/// Whether a line plainly continues a record: indented, or the head or tail
/// of a Java stack trace or Python traceback.
fn looks_like_continuation(line: &str) -> bool {
    const PREFIXES: [&str; 5] = [
        "Caused by: ",
        "Suppressed: ",
        "Traceback (most recent call last)",
        "During handling of the above exception",
        "The above exception was the direct cause",
    ];
    if line.starts_with([' ', '\t']) || PREFIXES.iter().any(|p| line.starts_with(p)) {
        return true;
    }
    // `java.lang.IllegalStateException: x`, `ValueError: bad`, `KeyboardInterrupt`
    let name = line
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    let identifier = !name.is_empty()
        && name.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'$'));
    const SUFFIXES: [&str; 6] = [
        "Error",
        "Exception",
        "Throwable",
        "Interrupt",
        "Exit",
        "Warning",
    ];
    identifier && SUFFIXES.iter().any(|s| name.ends_with(s))
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

const NOT_SYSLOG: &str = "this line is not a syslog record (it should start with a date like `Oct 11 22:14:15` or `<34>1 2003-10-11T22:14:15Z`)";
const NOT_ACCESS: &str = "this line is not an access-log record (it should look like `127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326`)";
const NOT_GLOG: &str = "this line is not a glog record (it should start like `I0102 15:04:05.123456 1234 file.cc:12] `)";
const NOT_GENERIC: &str = "this line does not start with a timestamp (such as `2024-01-05 10:00:00`, `Oct 11 22:14:15`, `10:00:00.123` or an epoch number)";

fn no_such_date(text: &str) -> String {
    format!("the date `{text}` does not exist")
}

// ---------------------------------------------------------------------------
// Byte scanning helpers
// ---------------------------------------------------------------------------

#[inline]
fn at(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

#[inline]
fn is(b: &[u8], i: usize, c: u8) -> bool {
    b.get(i) == Some(&c)
}

#[inline]
fn digit_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// `n` digits starting at `i`.
fn digits_at(b: &[u8], i: usize, n: usize) -> bool {
    (i..i + n).all(|k| digit_at(b, k))
}

/// The end of the run of digits starting at `i`.
fn digit_run(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while digit_at(b, j) {
        j += 1;
    }
    j
}

fn skip_spaces(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while is(b, j, b' ') {
        j += 1;
    }
    j
}

/// The space-delimited token starting at `i` and where it ends.
fn token(s: &str, i: usize) -> (&str, usize) {
    let rest = s.as_bytes().get(i..).unwrap_or_default();
    let end = memchr::memchr(b' ', rest).map_or(s.len(), |k| i + k);
    (s.get(i..end).unwrap_or_default(), end)
}

/// The value of an all-digit string, if it is one and fits.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Removes ANSI escape sequences: CSI (`ESC [ params final`), two-byte
/// escapes, and lone ESC bytes. Borrowed when there are none (the usual case).
fn strip_ansi(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if memchr::memchr(0x1b, b).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    while let Some(off) = memchr::memchr(0x1b, b.get(copied..).unwrap_or_default()) {
        let esc = copied + off;
        out.push_str(s.get(copied..esc).unwrap_or_default());
        copied = ansi_end(b, esc);
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

/// The end of the escape sequence whose ESC is at `esc`; only ASCII bytes
/// are consumed, so the end is a char boundary.
fn ansi_end(b: &[u8], esc: usize) -> usize {
    match at(b, esc + 1) {
        Some(b'[') => {
            let mut j = esc + 2;
            while matches!(at(b, j), Some(0x30..=0x3f)) {
                j += 1;
            }
            while matches!(at(b, j), Some(0x20..=0x2f)) {
                j += 1;
            }
            if matches!(at(b, j), Some(0x40..=0x7e)) {
                j + 1
            } else {
                j
            }
        }
        Some(0x40..=0x5f) => esc + 2,
        _ => esc + 1,
    }
}

// ---------------------------------------------------------------------------
// Levels
// ---------------------------------------------------------------------------

/// A level written as a word, any case: TRACE, DEBUG, INFO, NOTICE, WARN,
/// WARNING, ERROR, ERR, SEVERE, CRITICAL, CRIT, FATAL, EMERG, EMERGENCY,
/// ALERT. Single letters and numbers are deliberately not words (too common
/// at the start of a message).
fn level_word(w: &str) -> Option<Level> {
    let b = w.as_bytes();
    let mut buf = [0u8; 9];
    if b.is_empty() || b.len() > buf.len() {
        return None;
    }
    for (dst, src) in buf.iter_mut().zip(b) {
        *dst = src.to_ascii_lowercase();
    }
    Some(match buf.get(..b.len())? {
        b"trace" => Level::Trace,
        b"debug" => Level::Debug,
        b"info" | b"notice" => Level::Info,
        b"warn" | b"warning" => Level::Warn,
        b"error" | b"err" | b"severe" => Level::Error,
        b"critical" | b"crit" | b"fatal" | b"emerg" | b"emergency" | b"alert" => Level::Fatal,
        _ => return None,
    })
}

/// A level inside `[...]` or `<...>`: a level word, a single letter
/// `T D I W E F`, or a word after the last `:` (Apache's `[core:error]`).
fn bracket_level(inner: &str) -> Option<Level> {
    let t = inner.trim();
    if let [c] = t.as_bytes() {
        return match c.to_ascii_uppercase() {
            b'T' => Some(Level::Trace),
            b'D' => Some(Level::Debug),
            b'I' => Some(Level::Info),
            b'W' => Some(Level::Warn),
            b'E' => Some(Level::Error),
            b'F' => Some(Level::Fatal),
            _ => None,
        };
    }
    level_word(t).or_else(|| t.rsplit_once(':').and_then(|(_, w)| level_word(w)))
}

// ---------------------------------------------------------------------------
// Timestamp shapes
//
// Each `*_shape` checks only the layout of a timestamp at `i` and returns
// where it ends; the value is computed afterwards by `stamp_value`, so a
// well-shaped but impossible date (`Feb 30`) still starts a record and gets
// a precise error.
// ---------------------------------------------------------------------------

/// The forms a timestamp at the start of a line can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// `2024-01-05T10:00:00.123+02:00` (or with `/` between date parts)
    Iso,
    /// `Oct 11 22:14:15` (year from the context)
    Bsd,
    /// `Wed Oct 11 14:32:52 2000`
    Ctime,
    /// `10/Oct/2000:13:55:36 -0700`
    Apache,
    /// `1428634687123`
    Epoch,
    /// `@40000000433225833b6e1a8c`
    Tai64n,
    /// `08:09:33.814936` (no date)
    TimeOfDay,
}

/// What an ISO shape contained.
#[derive(Debug, Clone, Copy)]
struct IsoShape {
    end: usize,
    t_separator: bool,
    zone: bool,
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.,frac]][zone]` (also `YYYY/MM/DD`).
fn iso_shape(b: &[u8], i: usize) -> Option<IsoShape> {
    let sep = at(b, i + 4)?;
    if !digits_at(b, i, 4)
        || !matches!(sep, b'-' | b'/')
        || !digits_at(b, i + 5, 2)
        || !is(b, i + 7, sep)
        || !digits_at(b, i + 8, 2)
    {
        return None;
    }
    let t = at(b, i + 10)?;
    if !matches!(t, b'T' | b't' | b' ') || !digits_at(b, i + 11, 2) || !is(b, i + 13, b':') {
        return None;
    }
    if !digits_at(b, i + 14, 2) {
        return None;
    }
    let mut j = i + 16;
    if is(b, j, b':') && digits_at(b, j + 1, 2) {
        j = frac_shape(b, j + 3, true);
    }
    if digit_at(b, j) {
        return None;
    }
    let zone_end = zone_shape(b, j);
    Some(IsoShape {
        end: zone_end.unwrap_or(j),
        t_separator: t != b' ',
        zone: zone_end.is_some(),
    })
}

/// An optional fraction (`.` or, with `comma`, `,` then digits).
fn frac_shape(b: &[u8], i: usize, comma: bool) -> usize {
    let sep_ok = match at(b, i) {
        Some(b'.') => true,
        Some(b',') => comma,
        _ => false,
    };
    if sep_ok && digit_at(b, i + 1) {
        digit_run(b, i + 1)
    } else {
        i
    }
}

/// A zone at `i`, optionally after one space: `Z`, `±HH`, `±HHMM`,
/// `±HH:MM`, `UTC`, `GMT`; it must not run into a word or number.
fn zone_shape(b: &[u8], i: usize) -> Option<usize> {
    let j = if is(b, i, b' ') { i + 1 } else { i };
    let end = match at(b, j)? {
        b'Z' | b'z' => j + 1,
        b'+' | b'-' => {
            if !digits_at(b, j + 1, 2) {
                return None;
            }
            let k = j + 3;
            if is(b, k, b':') && digits_at(b, k + 1, 2) {
                k + 3
            } else if digits_at(b, k, 2) {
                k + 2
            } else {
                k
            }
        }
        b'U' | b'u' | b'G' | b'g' => {
            let w = b.get(j..j + 3)?;
            if !w.eq_ignore_ascii_case(b"UTC") && !w.eq_ignore_ascii_case(b"GMT") {
                return None;
            }
            j + 3
        }
        _ => return None,
    };
    if at(b, end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(end)
}

/// `HH:MM:SS` digits (ranges are checked when the value is computed).
fn hms_shape(b: &[u8], i: usize) -> Option<usize> {
    let ok = digits_at(b, i, 2)
        && is(b, i + 2, b':')
        && digits_at(b, i + 3, 2)
        && is(b, i + 5, b':')
        && digits_at(b, i + 6, 2);
    ok.then_some(i + 8)
}

fn weekday_at(b: &[u8], i: usize) -> bool {
    const DAYS: [&[u8; 3]; 7] = [b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"];
    b.get(i..i + 3)
        .is_some_and(|w| DAYS.iter().any(|d| w.eq_ignore_ascii_case(*d)))
}

/// A day of month written `dd`, ` d` or `d`, then a space: (day, end after
/// the space).
fn day_shape(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let d = |k: usize| at(b, k).map(|c| u32::from(c.wrapping_sub(b'0')));
    let (day, end) = if is(b, i, b' ') && digit_at(b, i + 1) {
        (d(i + 1)?, i + 2)
    } else if digits_at(b, i, 2) {
        (d(i)? * 10 + d(i + 1)?, i + 2)
    } else if digit_at(b, i) {
        (d(i)?, i + 1)
    } else {
        return None;
    };
    is(b, end, b' ').then_some((day, end + 1))
}

/// `Mmm dd HH:MM:SS[.frac]`.
fn bsd_shape(b: &[u8], i: usize) -> Option<usize> {
    time::month_abbr(b, i)?;
    if !is(b, i + 3, b' ') {
        return None;
    }
    let (_, j) = day_shape(b, i + 4)?;
    let end = frac_shape(b, hms_shape(b, j)?, false);
    (!digit_at(b, end)).then_some(end)
}

/// `Www Mmm dd HH:MM:SS[.frac] YYYY`.
fn ctime_shape(b: &[u8], i: usize) -> Option<usize> {
    if !weekday_at(b, i) || !is(b, i + 3, b' ') {
        return None;
    }
    let end = bsd_shape(b, i + 4)?;
    let ok = is(b, end, b' ') && digits_at(b, end + 1, 4) && !digit_at(b, end + 5);
    ok.then_some(end + 5)
}

/// `dd/Mon/yyyy:HH:MM:SS[.frac][ zone]`.
fn apache_shape(b: &[u8], i: usize) -> Option<usize> {
    let j = if digit_at(b, i + 1) { i + 2 } else { i + 1 };
    if !digit_at(b, i) || !is(b, j, b'/') {
        return None;
    }
    time::month_abbr(b, j + 1)?;
    if !is(b, j + 4, b'/') || !digits_at(b, j + 5, 4) || !is(b, j + 9, b':') {
        return None;
    }
    let end = frac_shape(b, hms_shape(b, j + 10)?, false);
    let end = zone_shape(b, end).unwrap_or(end);
    (!digit_at(b, end)).then_some(end)
}

/// At least 9 (at most 19) integer digits, an optional fraction, then the
/// end, white space or a separator.
fn epoch_shape(b: &[u8], i: usize) -> Option<usize> {
    let int_end = digit_run(b, i);
    if !(9..=19).contains(&(int_end - i)) {
        return None;
    }
    let end = frac_shape(b, int_end, false);
    match at(b, end) {
        None | Some(b' ' | b'\t' | b']' | b'|' | b',' | b';' | b':') => Some(end),
        _ => None,
    }
}

/// `@` and 24 hex digits, then the end or white space.
fn tai64n_shape(b: &[u8], i: usize) -> Option<usize> {
    let hex = b.get(i + 1..i + 25)?;
    let ok = is(b, i, b'@')
        && hex.iter().all(u8::is_ascii_hexdigit)
        && matches!(at(b, i + 25), None | Some(b' ' | b'\t'));
    ok.then_some(i + 25)
}

/// `HH:MM:SS[.,frac]` not followed by more digits or colons.
fn time_of_day_shape(b: &[u8], i: usize) -> Option<usize> {
    let end = frac_shape(b, hms_shape(b, i)?, true);
    (!digit_at(b, end) && !is(b, end, b':')).then_some(end)
}

/// Any timestamp form a generic line may start with.
fn generic_stamp(b: &[u8], i: usize) -> Option<(Stamp, usize)> {
    let c = at(b, i)?;
    if c.is_ascii_digit() {
        if digits_at(b, i, 4) && matches!(at(b, i + 4), Some(b'-' | b'/')) {
            return iso_shape(b, i).map(|s| (Stamp::Iso, s.end));
        }
        if is(b, i + 2, b':') {
            return time_of_day_shape(b, i).map(|e| (Stamp::TimeOfDay, e));
        }
        if is(b, i + 1, b'/') || is(b, i + 2, b'/') {
            return apache_shape(b, i).map(|e| (Stamp::Apache, e));
        }
        return epoch_shape(b, i).map(|e| (Stamp::Epoch, e));
    }
    if c == b'@' {
        return tai64n_shape(b, i).map(|e| (Stamp::Tai64n, e));
    }
    if c.is_ascii_alphabetic() {
        if let Some(e) = bsd_shape(b, i) {
            return Some((Stamp::Bsd, e));
        }
        return ctime_shape(b, i).map(|e| (Stamp::Ctime, e));
    }
    None
}

/// The instant of a timestamp whose shape matched: `Ok(None)` for a time of
/// day, `Err` when the date does not exist or is out of range.
fn stamp_value(form: Stamp, text: &str, cx: &TimeContext) -> Result<Option<Timestamp>, String> {
    let value = match form {
        Stamp::TimeOfDay => return Ok(None),
        Stamp::Iso => {
            if text.as_bytes().get(4) == Some(&b'/') {
                time::parse_str(&text.replacen('/', "-", 2), cx)
            } else {
                time::parse_str(text, cx)
            }
        }
        Stamp::Bsd => time::parse_syslog_prefix(text, cx)
            .filter(|&(_, n)| n == text.len())
            .map(|(t, _)| t),
        Stamp::Ctime => ctime_value(text, cx),
        Stamp::Apache => time::parse_apache(text),
        Stamp::Epoch => time::parse_str(text, cx),
        Stamp::Tai64n => tai64n_value(text),
    };
    value.map(Some).ok_or_else(|| no_such_date(text))
}

/// `Www Mmm dd HH:MM:SS[.frac] YYYY`, rewritten as ISO for the parser.
fn ctime_value(text: &str, cx: &TimeContext) -> Option<Timestamp> {
    let b = text.as_bytes();
    let month = time::month_abbr(b, 4)?;
    let (day, time_start) = day_shape(b, 8)?;
    let year_start = text.len().checked_sub(4)?;
    let clock = text.get(time_start..year_start.checked_sub(1)?)?;
    let year = text.get(year_start..)?;
    time::parse_str(&format!("{year}-{month:02}-{day:02}T{clock}"), cx)
}

/// lnav's reading of a TAI64N label (see the module docs).
fn tai64n_value(text: &str) -> Option<Timestamp> {
    const TAI64_BASE: u64 = 1 << 62;
    let label = u64::from_str_radix(text.get(1..17)?, 16).ok()?;
    let nanos = u32::from_str_radix(text.get(17..25)?, 16).ok()?;
    if nanos >= 1_000_000_000 {
        return None;
    }
    let secs = i64::try_from(label.checked_sub(TAI64_BASE)?).ok()?;
    let total = secs
        .checked_mul(1_000_000_000)?
        .checked_add(i64::from(nanos))?;
    Some(Timestamp::from_nanos(total, 9))
}

fn insert_str(map: &mut Map<String, Value>, key: &str, value: &str) {
    map.insert(key.into(), Value::String(value.into()));
}

fn insert_level(map: &mut Map<String, Value>, level: Option<Level>) {
    if let Some(l) = level {
        insert_str(map, "level", l.as_str());
    }
}

/// `pid` as a number when numeric, else the text as `procid`.
fn insert_pid(map: &mut Map<String, Value>, procid: &str) {
    match number(procid) {
        Some(n) => {
            map.insert("pid".into(), Value::from(n));
        }
        None => insert_str(map, "procid", procid),
    }
}

// ---------------------------------------------------------------------------
// Syslog
// ---------------------------------------------------------------------------

/// The pieces of a syslog line, borrowed from it.
#[derive(Debug, Default)]
struct SyslogParts<'a> {
    pri: Option<u8>,
    stamp: Option<(Stamp, &'a str)>,
    host: Option<&'a str>,
    app: Option<&'a str>,
    procid: Option<&'a str>,
    msgid: Option<&'a str>,
    /// Raw RFC 5424 structured data, brackets included.
    structured: Option<&'a str>,
    message: &'a str,
}

/// `<PRI>` with PRI in 0..=191: (PRI, end).
fn syslog_pri(b: &[u8]) -> Option<(u8, usize)> {
    if !is(b, 0, b'<') {
        return None;
    }
    let end = digit_run(b, 1);
    if !(2..=4).contains(&end) || !is(b, end, b'>') {
        return None;
    }
    let pri: u8 = std::str::from_utf8(b.get(1..end)?).ok()?.parse().ok()?;
    (pri <= 191).then_some((pri, end + 1))
}

fn split_syslog(s: &str) -> Option<SyslogParts<'_>> {
    let b = s.as_bytes();
    let (pri, i) = match syslog_pri(b) {
        Some((p, end)) => (Some(p), end),
        None => (None, 0),
    };
    if pri.is_some() && is(b, i, b'1') && is(b, i + 1, b' ') {
        return split_5424(s, i + 2, pri);
    }
    let first = at(b, i)?;
    if first.is_ascii_alphabetic() {
        let end = bsd_shape(b, i)?;
        return split_3164(s, (Stamp::Bsd, i, end), pri, false);
    }
    if first.is_ascii_digit() {
        let iso = iso_shape(b, i)?;
        if !iso.t_separator || is(b, i + 4, b'/') {
            return None;
        }
        if pri.is_some() {
            return split_3164(s, (Stamp::Iso, i, iso.end), pri, false);
        }
        // Without PRI an ISO line is syslog only when it clearly is one.
        if !iso.zone {
            return None;
        }
        return split_5424(s, i, None)
            .or_else(|| split_3164(s, (Stamp::Iso, i, iso.end), None, true));
    }
    None
}

/// RFC 3164 after its timestamp: `host tag: message`. With `strict` (an ISO
/// time without PRI) both the host and the tag are required.
fn split_3164(
    s: &str,
    (form, start, end): (Stamp, usize, usize),
    pri: Option<u8>,
    strict: bool,
) -> Option<SyslogParts<'_>> {
    let b = s.as_bytes();
    if !is(b, end, b' ') {
        return None;
    }
    let i = skip_spaces(b, end);
    let (first, after_first) = token(s, i);
    if first.is_empty() {
        return None;
    }
    // `Oct 11 22:14:15 su: msg` has no host.
    let (host, tag_start) = if first.ends_with(':') && !strict {
        (None, i)
    } else {
        if first.starts_with('[') || first.ends_with(':') || level_word(first).is_some() {
            return None;
        }
        (Some(first), skip_spaces(b, after_first))
    };
    let (tag, after_tag) = token(s, tag_start);
    let (app, procid, message_start) = match split_tag(tag) {
        Some((app, procid)) => (Some(app), procid, after_tag),
        None if strict || host.is_none() => return None,
        None => (None, None, tag_start),
    };
    let message = s.get(message_start..).unwrap_or_default();
    Some(SyslogParts {
        pri,
        stamp: Some((form, s.get(start..end)?)),
        host,
        app,
        procid,
        message: message.strip_prefix(' ').unwrap_or(message),
        ..SyslogParts::default()
    })
}

/// `app:` or `app[procid]:`.
fn split_tag(tag: &str) -> Option<(&str, Option<&str>)> {
    let t = tag.strip_suffix(':')?;
    if t.is_empty() {
        return None;
    }
    match t.find('[') {
        Some(open) => {
            let app = t.get(..open)?;
            let procid = t.get(open + 1..)?.strip_suffix(']')?;
            (!app.is_empty()).then_some((app, Some(procid)))
        }
        None => Some((t, None)),
    }
}

/// One space and a non-empty token at `i`.
fn field(s: &str, i: usize) -> Option<(&str, usize)> {
    if !is(s.as_bytes(), i, b' ') {
        return None;
    }
    let (t, end) = token(s, i + 1);
    (!t.is_empty()).then_some((t, end))
}

/// RFC 5424 from its timestamp on: `TIMESTAMP HOST APP PROCID MSGID SD MSG`.
/// Without PRI (`pri` is `None`) the shape must be unmistakable: an ISO
/// timestamp, a numeric or nil PROCID and well-formed (or nil) SD.
fn split_5424(s: &str, i: usize, pri: Option<u8>) -> Option<SyslogParts<'_>> {
    let b = s.as_bytes();
    let strict = pri.is_none();
    let (ts, j) = token(s, i);
    let stamp = if ts == "-" && !strict {
        None
    } else {
        let iso = iso_shape(ts.as_bytes(), 0)?;
        if iso.end != ts.len() || !iso.t_separator || ts.as_bytes().get(4) == Some(&b'/') {
            return None;
        }
        Some((Stamp::Iso, ts))
    };
    let (host, j) = field(s, j)?;
    let (app, j) = field(s, j)?;
    let (procid, j) = field(s, j)?;
    let (msgid, j) = field(s, j)?;
    if strict && procid != "-" && number(procid).is_none() {
        return None;
    }
    let k = j + 1;
    let (structured, message_start) = if j >= s.len() && !strict {
        (None, j)
    } else if !is(b, j, b' ') {
        return None;
    } else if is(b, k, b'-') && matches!(at(b, k + 1), None | Some(b' ')) {
        (None, k + 1)
    } else if is(b, k, b'[') {
        match scan_structured_data(s, k, None) {
            Some(end) => (Some(s.get(k..end)?), end),
            None if strict => return None,
            None => (None, k),
        }
    } else if strict {
        return None;
    } else {
        (None, k)
    };
    let message = s.get(message_start..).unwrap_or_default();
    let message = message.strip_prefix(' ').unwrap_or(message);
    let present = |v: &str| v != "-";
    Some(SyslogParts {
        pri,
        stamp,
        host: Some(host).filter(|v| present(v)),
        app: Some(app).filter(|v| present(v)),
        procid: Some(procid).filter(|v| present(v)),
        msgid: Some(msgid).filter(|v| present(v)),
        structured,
        message: message.strip_prefix('\u{feff}').unwrap_or(message),
    })
}

/// Scans RFC 5424 SD-ELEMENTs starting at `i` (`[id name="value" ...]...`),
/// returning where they end; when `out` is given, collects
/// `{id: {name: value}}` into it (values unescaped: `\"` `\\` `\]`).
fn scan_structured_data(
    s: &str,
    i: usize,
    mut out: Option<&mut Map<String, Value>>,
) -> Option<usize> {
    let b = s.as_bytes();
    let is_name_byte = |c: u8| c > b' ' && !matches!(c, b'=' | b']' | b'"');
    let mut j = i;
    while is(b, j, b'[') {
        let id_start = j + 1;
        j = id_start;
        while at(b, j).is_some_and(is_name_byte) {
            j += 1;
        }
        let id = s.get(id_start..j)?;
        if id.is_empty() {
            return None;
        }
        let mut params = Map::new();
        while is(b, j, b' ') {
            let name_start = j + 1;
            j = name_start;
            while at(b, j).is_some_and(is_name_byte) {
                j += 1;
            }
            let name = s.get(name_start..j)?;
            if name.is_empty() || !is(b, j, b'=') || !is(b, j + 1, b'"') {
                return None;
            }
            let value_start = j + 2;
            j = value_start;
            loop {
                match at(b, j)? {
                    b'\\' => j += 2,
                    b'"' => break,
                    _ => j += 1,
                }
            }
            if out.is_some() {
                let raw = s.get(value_start..j)?;
                params.insert(name.into(), Value::String(unescape_sd(raw)));
            }
            j += 1;
        }
        if !is(b, j, b']') {
            return None;
        }
        j += 1;
        if let Some(map) = out.as_deref_mut() {
            match map.get_mut(id) {
                Some(Value::Object(existing)) => existing.extend(params),
                _ => {
                    map.insert(id.into(), Value::Object(params));
                }
            }
        }
    }
    (j > i).then_some(j)
}

/// RFC 5424 PARAM-VALUE escapes: `\"`, `\\`, `\]`; any other backslash is
/// kept as written.
fn unescape_sd(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next @ ('"' | '\\' | ']')) = chars.peek() {
                out.push(next);
                chars.next();
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn parse_syslog_line(line: &str, cx: &TimeContext) -> Result<(Map<String, Value>, String), String> {
    let parts = split_syslog(line).ok_or(NOT_SYSLOG)?;
    let mut map = Map::new();
    if let Some((form, text)) = parts.stamp {
        if let Some(ts) = stamp_value(form, text, cx)? {
            insert_str(&mut map, "timestamp", &ts.to_rfc3339());
        }
    }
    for (key, value) in [
        ("host", parts.host),
        ("app", parts.app),
        ("msgid", parts.msgid),
    ] {
        if let Some(v) = value {
            insert_str(&mut map, key, v);
        }
    }
    if let Some(p) = parts.procid {
        insert_pid(&mut map, p);
    }
    let mut level = None;
    if let Some(raw) = parts.structured {
        let mut sd = Map::new();
        if scan_structured_data(raw, 0, Some(&mut sd)).is_some() {
            level = structured_level(&sd);
            map.insert("structured_data".into(), Value::Object(sd));
        }
    }
    if let Some(pri) = parts.pri {
        map.insert("facility".into(), Value::from(pri >> 3));
        level = Level::from_syslog_severity(i64::from(pri & 7));
    }
    insert_level(&mut map, level);
    Ok((map, parts.message.to_string()))
}

/// A `level` or `severity` parameter of any SD element.
fn structured_level(sd: &Map<String, Value>) -> Option<Level> {
    sd.values()
        .filter_map(Value::as_object)
        .flat_map(|params| params.iter())
        .filter(|(name, _)| {
            name.eq_ignore_ascii_case("level") || name.eq_ignore_ascii_case("severity")
        })
        .find_map(|(_, v)| v.as_str().and_then(time::normalize_level_str))
}

// ---------------------------------------------------------------------------
// Access logs
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct AccessParts<'a> {
    client: &'a str,
    ident: &'a str,
    user: &'a str,
    stamp: &'a str,
    request: &'a str,
    status: &'a str,
    bytes: &'a str,
    referer: Option<&'a str>,
    user_agent: Option<&'a str>,
}

/// A `"..."` field at `i` with backslash escapes: (raw inside, end after the
/// closing quote).
fn quoted(s: &str, i: usize) -> Option<(&str, usize)> {
    let b = s.as_bytes();
    if !is(b, i, b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match at(b, j)? {
            b'\\' => j += 2,
            b'"' => break,
            _ => j += 1,
        }
    }
    Some((s.get(i + 1..j)?, j + 1))
}

/// Apache's escapes in quoted fields: `\"` and `\\` (others such as `\x0a`
/// are kept as written).
fn unescape_access(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next @ ('"' | '\\')) = chars.peek() {
                out.push(next);
                chars.next();
                continue;
            }
        }
        out.push(c);
    }
    Cow::Owned(out)
}

fn split_access(s: &str) -> Option<AccessParts<'_>> {
    let b = s.as_bytes();
    let (client, i) = token(s, 0);
    if client.is_empty() || client.contains(['"', '[']) {
        return None;
    }
    let (ident, i) = field(s, i)?;
    let (user, i) = field(s, i)?;
    if !is(b, i, b' ') || !is(b, i + 1, b'[') {
        return None;
    }
    let stamp_end = apache_shape(b, i + 2)?;
    if !is(b, stamp_end, b']') || !is(b, stamp_end + 1, b' ') {
        return None;
    }
    let (request, j) = quoted(s, stamp_end + 2)?;
    let (status, j) = field(s, j)?;
    if status.len() != 3 || number(status).is_none() {
        return None;
    }
    let (bytes, j) = field(s, j)?;
    if bytes != "-" && number(bytes).is_none() {
        return None;
    }
    let mut referer = None;
    let mut user_agent = None;
    if is(b, j, b' ') {
        if let Some((r, k)) = quoted(s, j + 1) {
            referer = Some(r);
            if is(b, k, b' ') {
                user_agent = quoted(s, k + 1).map(|(a, _)| a);
            }
        }
    }
    Some(AccessParts {
        client,
        ident,
        user,
        stamp: s.get(i + 2..stamp_end)?,
        request,
        status,
        bytes,
        referer,
        user_agent,
    })
}

/// `METHOD PATH PROTOCOL` with an upper-case method and an `HTTP/` protocol.
fn split_request(request: &str) -> Option<(&str, &str, &str)> {
    let (method, rest) = request.split_once(' ')?;
    let (path, protocol) = rest.rsplit_once(' ')?;
    let ok = !method.is_empty()
        && method.bytes().all(|c| c.is_ascii_uppercase())
        && !path.is_empty()
        && protocol.starts_with("HTTP/");
    ok.then_some((method, path, protocol))
}

fn parse_access_line(line: &str) -> Result<(Map<String, Value>, String), String> {
    let parts = split_access(line).ok_or(NOT_ACCESS)?;
    let mut map = Map::new();
    let ts = time::parse_apache(parts.stamp).ok_or_else(|| no_such_date(parts.stamp))?;
    insert_str(&mut map, "timestamp", &ts.to_rfc3339());
    insert_str(&mut map, "client", parts.client);
    let optional = [
        ("ident", Some(parts.ident)),
        ("user", Some(parts.user)),
        ("referer", parts.referer),
        ("user_agent", parts.user_agent),
    ];
    for (key, value) in optional {
        if let Some(v) = value.filter(|v| *v != "-") {
            insert_str(&mut map, key, &unescape_access(v));
        }
    }
    let request = unescape_access(parts.request);
    match split_request(&request) {
        Some((method, path, protocol)) => {
            insert_str(&mut map, "method", method);
            insert_str(&mut map, "path", path);
            insert_str(&mut map, "protocol", protocol);
        }
        None => insert_str(&mut map, "request", &request),
    }
    let status = number(parts.status).unwrap_or(0);
    map.insert("status".into(), Value::from(status));
    if let Some(n) = number(parts.bytes) {
        map.insert("bytes".into(), Value::from(n));
    }
    let level = match status {
        500..=599 => Level::Error,
        400..=499 => Level::Warn,
        _ => Level::Info,
    };
    insert_level(&mut map, Some(level));
    Ok((map, request.into_owned()))
}

// ---------------------------------------------------------------------------
// Glog
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct GlogParts<'a> {
    header: &'a str,
    thread: Option<&'a str>,
    source: &'a str,
    message: &'a str,
}

/// `Lmmdd HH:MM:SS.ffffff THREAD file:line] message`.
fn split_glog(s: &str) -> Option<GlogParts<'_>> {
    let b = s.as_bytes();
    if !matches!(at(b, 0), Some(b'I' | b'W' | b'E' | b'F'))
        || !digits_at(b, 1, 4)
        || !is(b, 5, b' ')
    {
        return None;
    }
    let header_end = frac_shape(b, hms_shape(b, 6)?, false);
    if !is(b, header_end, b' ') {
        return None;
    }
    let i = skip_spaces(b, header_end);
    let thread_end = digit_run(b, i);
    let (thread, source_start) = if thread_end > i && is(b, thread_end, b' ') {
        (s.get(i..thread_end), skip_spaces(b, thread_end))
    } else {
        (None, i)
    };
    let mut j = source_start;
    while at(b, j).is_some_and(|c| c != b']' && c != b' ') {
        j += 1;
    }
    if j == source_start || !is(b, j, b']') {
        return None;
    }
    let message = s.get(j + 1..).unwrap_or_default();
    Some(GlogParts {
        header: s.get(..header_end)?,
        thread,
        source: s.get(source_start..j)?,
        message: message.strip_prefix(' ').unwrap_or(message),
    })
}

fn parse_glog_line(line: &str, cx: &TimeContext) -> Result<(Map<String, Value>, String), String> {
    let parts = split_glog(line).ok_or(NOT_GLOG)?;
    let (level, ts, _) =
        time::parse_glog_prefix(parts.header, cx).ok_or_else(|| no_such_date(parts.header))?;
    let mut map = Map::new();
    insert_str(&mut map, "timestamp", &ts.to_rfc3339());
    insert_level(&mut map, Some(level));
    if let Some(n) = parts.thread.and_then(number) {
        map.insert("thread".into(), Value::from(n));
    }
    insert_str(&mut map, "source", parts.source);
    Ok((map, parts.message.to_string()))
}

// ---------------------------------------------------------------------------
// Generic timestamped lines
// ---------------------------------------------------------------------------

/// Where a generic line's timestamp is and what precedes and follows it.
#[derive(Debug, Clone, Copy)]
struct GenericHead {
    /// A level written before the timestamp (`INFO 2024-01-05 …`).
    level: Option<Level>,
    form: Stamp,
    stamp_start: usize,
    stamp_end: usize,
    /// Start of everything after the timestamp (and its closing bracket).
    rest: usize,
}

fn generic_head(s: &str) -> Option<GenericHead> {
    let b = s.as_bytes();
    if let Some(head) = stamp_at(b, 0) {
        return Some(head);
    }
    let (level, i) = leading_level(s)?;
    stamp_at(b, i).map(|head| GenericHead {
        level: Some(level),
        ..head
    })
}

/// A timestamp at `i`, optionally inside `[...]`.
fn stamp_at(b: &[u8], i: usize) -> Option<GenericHead> {
    let bracketed = is(b, i, b'[');
    let start = i + usize::from(bracketed);
    let (form, end) = generic_stamp(b, start)?;
    let rest = if bracketed {
        if !is(b, end, b']') {
            return None;
        }
        end + 1
    } else {
        end
    };
    Some(GenericHead {
        level: None,
        form,
        stamp_start: start,
        stamp_end: end,
        rest,
    })
}

/// A level word (or `[LEVEL]`) then an optional `:` and spaces, in front of
/// a timestamp: (level, start of the timestamp).
fn leading_level(s: &str) -> Option<(Level, usize)> {
    let b = s.as_bytes();
    let (level, mut i) = if is(b, 0, b'[') {
        let close = memchr::memchr(b']', b.get(..16.min(b.len()))?)?;
        (bracket_level(s.get(1..close)?)?, close + 1)
    } else {
        let end = b
            .iter()
            .position(|c| !c.is_ascii_alphabetic())
            .unwrap_or(b.len());
        (level_word(s.get(..end)?)?, end)
    };
    if is(b, i, b':') {
        i += 1;
    }
    let j = skip_spaces(b, i);
    (j > i).then_some((level, j))
}

/// What the text after a generic timestamp holds.
#[derive(Debug, Default)]
struct TailFields<'a> {
    level: Option<Level>,
    logger: Option<&'a str>,
    thread: Option<&'a str>,
    pid: Option<u64>,
    message: &'a str,
}

/// Splits the text after the timestamp into level, thread, logger, pid and
/// message, for the common layouts listed in the module docs.
fn split_generic_tail(tail: &str, level: Option<Level>) -> TailFields<'_> {
    let mut f = TailFields {
        level,
        ..TailFields::default()
    };
    // `2012-07-02 10:22:40,672:DEBUG:foo bar baz`
    if let Some(after) = tail.strip_prefix(':') {
        let after = after.trim_start_matches(' ');
        let word_end = after.find([':', ' ']).unwrap_or(after.len());
        let word_level = after.get(..word_end).and_then(level_word);
        if let (None, Some(l)) = (f.level, word_level) {
            f.level = Some(l);
            let rest = after.get(word_end..).unwrap_or_default();
            let rest = rest.strip_prefix(':').unwrap_or(rest);
            f.message = rest.strip_prefix(' ').unwrap_or(rest);
        } else {
            f.message = after;
        }
        return f;
    }
    let mut rest = tail.trim_start_matches([' ', '\t']);
    // Python's `%(asctime)s - %(name)s - %(levelname)s - %(message)s`
    if let Some(after) = rest.strip_prefix("- ") {
        return split_dashed(after, f);
    }
    for _ in 0..5 {
        if let Some(r) = rest.strip_prefix('|') {
            rest = r.trim_start_matches([' ', '\t']);
            continue;
        }
        if let Some((inner, after)) = enclosed(rest, b'[', b']', 64) {
            if f.level.is_none() {
                if let Some(l) = bracket_level(inner) {
                    f.level = Some(l);
                    rest = after;
                    continue;
                }
            }
            // Thread names have no inner spaces; `[client 1.2.3.4]` is text.
            let inner = inner.trim();
            if f.thread.is_none() && !inner.is_empty() && !inner.contains([' ', '\t']) {
                f.thread = Some(inner);
                rest = after;
                continue;
            }
            break;
        }
        if f.level.is_none() {
            if let Some((inner, after)) = enclosed(rest, b'<', b'>', 12) {
                if let Some(l) = bracket_level(inner) {
                    f.level = Some(l);
                    rest = after;
                    continue;
                }
                break;
            }
            let word_end = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let next = rest.as_bytes().get(word_end).copied();
            if matches!(next, None | Some(b' ' | b'\t' | b':')) {
                if let Some(l) = rest.get(..word_end).and_then(level_word) {
                    f.level = Some(l);
                    let after = rest.get(word_end..).unwrap_or_default();
                    let after = after.strip_prefix(':').unwrap_or(after);
                    rest = after.trim_start_matches([' ', '\t']);
                    continue;
                }
            }
            break;
        }
        // Spring Boot: `INFO 12345 --- [main] logger : message`
        if f.pid.is_none() {
            let digits_end = rest.bytes().take_while(u8::is_ascii_digit).count();
            let after = rest.get(digits_end..).unwrap_or_default();
            if let (Some(pid), Some(after)) = (
                rest.get(..digits_end).and_then(number),
                after.strip_prefix(" --- "),
            ) {
                f.pid = Some(pid);
                rest = after.trim_start_matches(' ');
                continue;
            }
        }
        break;
    }
    if f.level.is_some() || f.thread.is_some() {
        if let Some((logger, message)) = split_logger(rest, f.thread.is_some()) {
            f.logger = Some(logger);
            rest = message;
        }
    }
    f.message = rest;
    f
}

/// `open inner close` at the start of `s` with `inner` at most `max` bytes:
/// (inner, text after the closing byte with leading spaces removed).
fn enclosed(s: &str, open: u8, close: u8, max: usize) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    if !is(b, 0, open) {
        return None;
    }
    let window = b.get(1..b.len().min(max + 2))?;
    let end = 1 + memchr::memchr(close, window)?;
    let after = s.get(end + 1..)?;
    Some((s.get(1..end)?, after.trim_start_matches([' ', '\t'])))
}

/// `name - LEVEL - message` or `LEVEL - message` after Python's first ` - `.
fn split_dashed<'a>(after: &'a str, mut f: TailFields<'a>) -> TailFields<'a> {
    let (first, remainder) = after.split_once(" - ").unwrap_or((after, ""));
    if let (None, Some(l)) = (f.level, level_word(first.trim())) {
        f.level = Some(l);
        f.message = remainder;
        return f;
    }
    if let Some((second, message)) = remainder.split_once(" - ") {
        if let (None, Some(l)) = (f.level, level_word(second.trim())) {
            f.level = Some(l);
            f.logger = Some(first.trim());
            f.message = message;
            return f;
        }
    }
    f.message = after;
    f
}

/// `Logger   : message` or `com.example.Foo - message`: a name, white space,
/// then `:` or `-` and a space. Without a thread the name must contain a
/// dot, so `ERROR Connection - lost` keeps its message.
fn split_logger(rest: &str, thread_seen: bool) -> Option<(&str, &str)> {
    let name_end = rest.find([' ', '\t'])?;
    let name = rest.get(..name_end)?;
    let name_ok = name.bytes().any(|c| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'$' | b'/' | b'-'))
        && (thread_seen || name.contains('.'));
    if !name_ok {
        return None;
    }
    let after = rest.get(name_end..)?.trim_start_matches([' ', '\t']);
    let after = after
        .strip_prefix(':')
        .or_else(|| after.strip_prefix('-'))?;
    if after.is_empty() {
        return Some((name, after));
    }
    after.strip_prefix(' ').map(|message| (name, message))
}

fn parse_generic_line(
    line: &str,
    cx: &TimeContext,
) -> Result<(Map<String, Value>, String), String> {
    let head = generic_head(line).ok_or(NOT_GENERIC)?;
    let text = line
        .get(head.stamp_start..head.stamp_end)
        .unwrap_or_default();
    let mut map = Map::new();
    match stamp_value(head.form, text, cx)? {
        Some(ts) => insert_str(&mut map, "timestamp", &ts.to_rfc3339()),
        None => insert_str(&mut map, "time", text),
    }
    let tail = line.get(head.rest..).unwrap_or_default();
    let f = split_generic_tail(tail, head.level);
    insert_level(&mut map, f.level);
    if let Some(logger) = f.logger {
        insert_str(&mut map, "logger", logger);
    }
    if let Some(thread) = f.thread {
        insert_str(&mut map, "thread", thread);
    }
    if let Some(pid) = f.pid {
        map.insert("pid".into(), Value::from(pid));
    }
    Ok((map, f.message.to_string()))
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CX: TimeContext = TimeContext { default_year: 2024 };

    fn parsed(kind: TextKind, record: &str) -> Result<Value, String> {
        parse_record(kind, record, &CX).map(Value::Object)
    }

    /// Runs a table of (kind, record, expected object) and reports every
    /// mismatch at once; each record's first line must also start a record.
    fn check_table(table: &[(TextKind, &str, Value)]) {
        let mut failures = Vec::new();
        for (kind, record, want) in table {
            let first = record.split('\n').next().unwrap_or_default();
            if !starts_record(*kind, first) {
                failures.push(format!("{kind:?} {record:?}: does not start a record"));
            }
            match parsed(*kind, record) {
                Ok(got) if got == *want => {}
                Ok(got) => {
                    failures.push(format!("{kind:?} {record:?}:\n   got {got}\n  want {want}"))
                }
                Err(e) => failures.push(format!("{kind:?} {record:?}: error {e}")),
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn kind_names() {
        for kind in TextKind::ALL {
            assert_eq!(TextKind::from_name(kind.name()), Some(kind));
            let serialized = serde_json::to_value(kind).expect("serializes");
            let back: TextKind = serde_json::from_value(serialized.clone()).expect("deserializes");
            assert_eq!(back, kind);
            let text = serialized.as_str().expect("a string");
            assert_eq!(TextKind::from_name(text), Some(kind));
        }
        let aliases = [
            ("rfc3164", TextKind::Syslog),
            ("RFC5424", TextKind::Syslog),
            ("nginx", TextKind::AccessLog),
            ("apache", TextKind::AccessLog),
            ("generic", TextKind::Generic),
            ("text", TextKind::Generic),
        ];
        for (name, kind) in aliases {
            assert_eq!(TextKind::from_name(name), Some(kind), "{name}");
        }
        assert_eq!(TextKind::from_name("json"), None);
        assert_eq!(TextKind::AccessLog.name(), "access-log");
        assert_eq!(TextKind::Generic.name(), "text");
    }

    #[test]
    fn syslog_records() {
        use TextKind::Syslog as S;
        let table = [
            (
                S,
                "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
                json!({"timestamp": "2024-10-11T22:14:15Z", "host": "mymachine", "app": "su",
                       "facility": 4, "level": "fatal",
                       "message": "'su root' failed for lonvick on /dev/pts/8"}),
            ),
            (
                S,
                "Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed",
                json!({"timestamp": "2024-11-03T09:23:38Z", "host": "veridian", "app": "automount",
                       "pid": 7998, "message": "lookup(file): lookup for foobar failed"}),
            ),
            (
                S,
                "Nov  3 09:47:02 veridian sudo: timstack : TTY=pts/6 ; USER=root",
                json!({"timestamp": "2024-11-03T09:47:02Z", "host": "veridian", "app": "sudo",
                       "message": "timstack : TTY=pts/6 ; USER=root"}),
            ),
            (
                S,
                "Oct 11 22:14:15.25 su: no host here",
                json!({"timestamp": "2024-10-11T22:14:15.25Z", "app": "su", "message": "no host here"}),
            ),
            (
                S,
                "Jan  5 10:00:00 host last message repeated 2 times",
                json!({"timestamp": "2024-01-05T10:00:00Z", "host": "host",
                       "message": "last message repeated 2 times"}),
            ),
            (
                S,
                "Jan  5 10:00:00 host app[worker]: odd procid",
                json!({"timestamp": "2024-01-05T10:00:00Z", "host": "host", "app": "app",
                       "procid": "worker", "message": "odd procid"}),
            ),
            // rsyslog's high-precision format, with and without PRI
            (
                S,
                "2022-08-27T14:22:01.613Z host app[1]: msg",
                json!({"timestamp": "2022-08-27T14:22:01.613Z", "host": "host", "app": "app",
                       "pid": 1, "message": "msg"}),
            ),
            (
                S,
                "<14>2022-08-27T16:22:01.613+02:00 host kernel: [ 1.0] usb",
                json!({"timestamp": "2022-08-27T14:22:01.613Z", "host": "host", "app": "kernel",
                       "facility": 1, "level": "info", "message": "[ 1.0] usb"}),
            ),
            // RFC 5424 examples
            (
                S,
                "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed",
                json!({"timestamp": "2003-10-11T22:14:15.003Z", "host": "mymachine.example.com",
                       "app": "su", "msgid": "ID47", "facility": 4, "level": "fatal",
                       "message": "'su root' failed"}),
            ),
            (
                S,
                "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"] An application event",
                json!({"timestamp": "2003-10-11T22:14:15.003Z", "host": "mymachine.example.com",
                       "app": "evntslog", "msgid": "ID47", "facility": 20, "level": "info",
                       "structured_data": {
                           "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                           "examplePriority@32473": {"class": "high"}},
                       "message": "An application event"}),
            ),
            (
                S,
                "<13>1 2024-01-05T10:00:00Z h a worker-1 - [x@1 q=\"a\\\"b\\\\c\\]d\" w=\"\\n\"]",
                json!({"timestamp": "2024-01-05T10:00:00Z", "host": "h", "app": "a",
                       "procid": "worker-1", "facility": 1, "level": "info",
                       "structured_data": {"x@1": {"q": "a\"b\\c]d", "w": "\\n"}},
                       "message": ""}),
            ),
            (
                S,
                "<191>1 - - - - - - nil everything",
                json!({"facility": 23, "level": "debug", "message": "nil everything"}),
            ),
            // RFC 5424 without PRI, as written by some appliances
            (
                S,
                "2022-08-27T14:22:01.613Z space01.global-acme.entp NSX 3106 - [abc@6876 comp=\"abc-edge\" subcomp=\"abc-sha\" username=\"root\" level=\"INFO\" s2comp=\"fork-monitor\"] keep-alive check received resp {'seq': 1017}",
                json!({"timestamp": "2022-08-27T14:22:01.613Z", "host": "space01.global-acme.entp",
                       "app": "NSX", "pid": 3106, "level": "info",
                       "structured_data": {"abc@6876": {"comp": "abc-edge", "subcomp": "abc-sha",
                           "username": "root", "level": "INFO", "s2comp": "fork-monitor"}},
                       "message": "keep-alive check received resp {'seq': 1017}"}),
            ),
            (
                S,
                "2022-08-27T17:22:01.694554+03:00 space01.global-acme.entp CRON 20856 - -  (root) CMD (   /usr/bin/nice)",
                json!({"timestamp": "2022-08-27T14:22:01.694554Z", "host": "space01.global-acme.entp",
                       "app": "CRON", "pid": 20856, "message": " (root) CMD (   /usr/bin/nice)"}),
            ),
            (
                S,
                "2022-08-27T14:22:01.888Z h NSX 4828 SWITCHING [abc@6876 severity=\"warning\"] arp",
                json!({"timestamp": "2022-08-27T14:22:01.888Z", "host": "h", "app": "NSX", "pid": 4828,
                       "msgid": "SWITCHING", "level": "warn",
                       "structured_data": {"abc@6876": {"severity": "warning"}}, "message": "arp"}),
            ),
            // continuation lines and CRLF
            (
                S,
                "Nov  3 09:23:38 veridian app[1]: first\r\n  second\r\n\r\n",
                json!({"timestamp": "2024-11-03T09:23:38Z", "host": "veridian", "app": "app",
                       "pid": 1, "message": "first\n  second"}),
            ),
        ];
        check_table(&table);
    }

    #[test]
    fn access_log_records() {
        use TextKind::AccessLog as A;
        let table = [
            (
                A,
                "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"",
                json!({"timestamp": "2000-10-10T20:55:36Z", "client": "127.0.0.1", "user": "frank",
                       "method": "GET", "path": "/apache_pb.gif", "protocol": "HTTP/1.0",
                       "status": 200, "bytes": 2326, "referer": "http://www.example.com/start.html",
                       "user_agent": "Mozilla/4.08 [en] (Win98; I ;Nav)", "level": "info",
                       "message": "GET /apache_pb.gif HTTP/1.0"}),
            ),
            (
                A,
                "192.168.202.254 - - [20/Jul/2009:22:59:29 +0000] \"GET /vmw/vmkboot.gz HTTP/1.0\" 404 -",
                json!({"timestamp": "2009-07-20T22:59:29Z", "client": "192.168.202.254",
                       "method": "GET", "path": "/vmw/vmkboot.gz", "protocol": "HTTP/1.0",
                       "status": 404, "level": "warn", "message": "GET /vmw/vmkboot.gz HTTP/1.0"}),
            ),
            (
                A,
                "10.0.0.1 - - [20/Jul/2009:22:59:29 +0000] \"-\" 400 0 \"-\" \"-\"",
                json!({"timestamp": "2009-07-20T22:59:29Z", "client": "10.0.0.1", "request": "-",
                       "status": 400, "bytes": 0, "level": "warn", "message": "-"}),
            ),
            (
                A,
                "::1 id bob [05/Jan/2024:10:00:00.5 +0100] \"POST /api?q=\\\"x\\\" HTTP/2.0\" 502 157 \"-\" \"curl \\\"8\\\"\" \"10.1.1.1\" 0.005",
                json!({"timestamp": "2024-01-05T09:00:00.5Z", "client": "::1", "ident": "id",
                       "user": "bob", "method": "POST", "path": "/api?q=\"x\"", "protocol": "HTTP/2.0",
                       "status": 502, "bytes": 157, "user_agent": "curl \"8\"", "level": "error",
                       "message": "POST /api?q=\"x\" HTTP/2.0"}),
            ),
            (
                A,
                "1.2.3.4 - - [05/Jan/2024:10:00:00 +0000] \"\\x16\\x03\\x01\" 400 157\r",
                json!({"timestamp": "2024-01-05T10:00:00Z", "client": "1.2.3.4",
                       "request": "\\x16\\x03\\x01", "status": 400, "bytes": 157, "level": "warn",
                       "message": "\\x16\\x03\\x01"}),
            ),
        ];
        check_table(&table);
    }

    #[test]
    fn glog_records() {
        use TextKind::Glog as G;
        let table = [
            (
                G,
                "E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] Log every 3, iteration 19",
                json!({"timestamp": "2024-05-17T15:04:22.619632Z", "level": "error",
                       "thread": 1952452992u64, "source": "logging_unittest.cc:253",
                       "message": "Log every 3, iteration 19"}),
            ),
            (
                G,
                "I0517 15:04:22.619642   52452992 logging_unittest.cc:259] Log if every 1",
                json!({"timestamp": "2024-05-17T15:04:22.619642Z", "level": "info",
                       "thread": 52452992, "source": "logging_unittest.cc:259",
                       "message": "Log if every 1"}),
            ),
            (
                G,
                "W0102 15:04:05 main.go:12] no fraction, no thread\ngoroutine 1 [running]:",
                json!({"timestamp": "2024-01-02T15:04:05Z", "level": "warn", "source": "main.go:12",
                       "message": "no fraction, no thread\ngoroutine 1 [running]:"}),
            ),
            (
                G,
                "F0102 15:04:05.1 7 x.cc:1]",
                json!({"timestamp": "2024-01-02T15:04:05.1Z", "level": "fatal", "thread": 7,
                       "source": "x.cc:1", "message": ""}),
            ),
        ];
        check_table(&table);
    }

    #[test]
    fn generic_records() {
        use TextKind::Generic as T;
        let table = [
            (
                T,
                "2024-02-03 10:11:12,345 ERROR something",
                json!({"timestamp": "2024-02-03T10:11:12.345Z", "level": "error", "message": "something"}),
            ),
            (
                T,
                "2024-02-03 10:11:12,345 - name - ERROR - msg - with dashes",
                json!({"timestamp": "2024-02-03T10:11:12.345Z", "level": "error", "logger": "name",
                       "message": "msg - with dashes"}),
            ),
            (
                T,
                "2012-07-02 10:22:40,672:DEBUG:foo bar baz",
                json!({"timestamp": "2012-07-02T10:22:40.672Z", "level": "debug", "message": "foo bar baz"}),
            ),
            (
                T,
                "2015-03-12T23:16:52.071:INFO:com.root:Response :",
                json!({"timestamp": "2015-03-12T23:16:52.071Z", "level": "info",
                       "message": "com.root:Response :"}),
            ),
            (
                T,
                "2025-01-24T07:00:30,227 INFO [main                     ] FarmApplication          : Starting FarmApplication v3.0.7",
                json!({"timestamp": "2025-01-24T07:00:30.227Z", "level": "info", "thread": "main",
                       "logger": "FarmApplication", "message": "Starting FarmApplication v3.0.7"}),
            ),
            (
                T,
                "2025-01-24T07:00:40,686 INFO [main                     ] RSAKeyLoaderService      : - JwksStrategy - [+] A key",
                json!({"timestamp": "2025-01-24T07:00:40.686Z", "level": "info", "thread": "main",
                       "logger": "RSAKeyLoaderService", "message": "- JwksStrategy - [+] A key"}),
            ),
            (
                T,
                "2024-01-05 10:00:00.123 [main] WARN  com.example.Foo - message",
                json!({"timestamp": "2024-01-05T10:00:00.123Z", "level": "warn", "thread": "main",
                       "logger": "com.example.Foo", "message": "message"}),
            ),
            (
                T,
                "2024-01-05 10:00:00.123  INFO 12345 --- [           main] o.s.b.StartupInfoLogger   : Starting",
                json!({"timestamp": "2024-01-05T10:00:00.123Z", "level": "info", "pid": 12345,
                       "thread": "main", "logger": "o.s.b.StartupInfoLogger", "message": "Starting"}),
            ),
            (
                T,
                "[2024-01-05 10:00:00] ERROR msg",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "error", "message": "msg"}),
            ),
            (
                T,
                "2024-01-05T10:00:00Z [error] msg",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "error", "message": "msg"}),
            ),
            (
                T,
                "2024-01-05T10:00:00Z <W> msg",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "warn", "message": "msg"}),
            ),
            (
                T,
                "2024-01-05 10:00:00 | NOTICE | msg",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "info", "message": "msg"}),
            ),
            (
                T,
                "2024-01-05 10:00:00 severe: disk full",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "error", "message": "disk full"}),
            ),
            (
                T,
                "2024-01-05 10:00:00 UTC CRIT x",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "fatal", "message": "x"}),
            ),
            (
                T,
                "2024-01-05 11:00:00 +0100 Connection - lost",
                json!({"timestamp": "2024-01-05T10:00:00Z", "message": "Connection - lost"}),
            ),
            (
                T,
                "2009/11/10 23:00:00 Hello from Go",
                json!({"timestamp": "2009-11-10T23:00:00Z", "message": "Hello from Go"}),
            ),
            (
                T,
                "INFO 2024-01-05 10:00:00 level first",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "info", "message": "level first"}),
            ),
            (
                T,
                "[WARN] 2024-01-05T10:00:00+01:00 bracketed level first",
                json!({"timestamp": "2024-01-05T09:00:00Z", "level": "warn",
                       "message": "bracketed level first"}),
            ),
            (
                T,
                "1428634687123 Hello, World!",
                json!({"timestamp": "2015-04-10T02:58:07.123Z", "message": "Hello, World!"}),
            ),
            (
                T,
                "1704448800 started",
                json!({"timestamp": "2024-01-05T10:00:00Z", "message": "started"}),
            ),
            (
                T,
                "@40000000433225833b6e1a8c tcpserver: status: 5/30",
                json!({"timestamp": "2005-09-22T03:31:15.997071500Z",
                       "message": "tcpserver: status: 5/30"}),
            ),
            (
                T,
                "08:09:33.814936 execve(\"/bin/ls\", [\"ls\"], [/* 38 vars */]) = 0 <0.000264>",
                json!({"time": "08:09:33.814936",
                       "message": "execve(\"/bin/ls\", [\"ls\"], [/* 38 vars */]) = 0 <0.000264>"}),
            ),
            (
                T,
                "Jan 05 10:00:00 ERROR syslog-style date",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "error",
                       "message": "syslog-style date"}),
            ),
            (
                T,
                "[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied",
                json!({"timestamp": "2000-10-11T14:32:52Z", "level": "error",
                       "message": "[client 127.0.0.1] client denied"}),
            ),
            (
                T,
                "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] File does not exist",
                json!({"timestamp": "2011-09-09T10:42:29.902022Z", "level": "error",
                       "message": "[pid 35708:tid 4328636416] File does not exist"}),
            ),
            (
                T,
                "[10/Oct/2000:13:55:36 -0700] apache-style date",
                json!({"timestamp": "2000-10-10T20:55:36Z", "message": "apache-style date"}),
            ),
            // ANSI colour codes are removed everywhere
            (
                T,
                "2024-01-05 10:00:00 \u{1b}[31mERROR\u{1b}[0m disk \u{1b}[1mfull\u{1b}[0m",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "error", "message": "disk full"}),
            ),
            (
                T,
                "\u{1b}[2m2024-01-05 10:00:00\u{1b}[0m \u{1b}[33mWARN\u{1b}[0m x",
                json!({"timestamp": "2024-01-05T10:00:00Z", "level": "warn", "message": "x"}),
            ),
            // multi-line records
            (
                T,
                "2009-07-20 22:59:27,672:DEBUG:Hello, World!\n  How are you today?",
                json!({"timestamp": "2009-07-20T22:59:27.672Z", "level": "debug",
                       "message": "Hello, World!\n  How are you today?"}),
            ),
            (
                T,
                "2024-02-03 10:11:12,345 ERROR boom\r\nTraceback (most recent call last):\r\n  File \"x.py\", line 3, in <module>\r\nValueError: bad\r\n",
                json!({"timestamp": "2024-02-03T10:11:12.345Z", "level": "error",
                       "message": "boom\nTraceback (most recent call last):\n  File \"x.py\", line 3, in <module>\nValueError: bad"}),
            ),
            (
                T,
                "2024-01-05 10:00:00.123 [main] ERROR c.e.App - failed\njava.lang.IllegalStateException: x\n\tat com.foo.Bar.baz(Bar.java:10)\nCaused by: java.io.IOException: y\n\t... 3 more",
                json!({"timestamp": "2024-01-05T10:00:00.123Z", "level": "error", "thread": "main",
                       "logger": "c.e.App",
                       "message": "failed\njava.lang.IllegalStateException: x\n\tat com.foo.Bar.baz(Bar.java:10)\nCaused by: java.io.IOException: y\n\t... 3 more"}),
            ),
            (
                T,
                "2012-07-02 10:22:40,672:DEBUG:foo bar baz\r",
                json!({"timestamp": "2012-07-02T10:22:40.672Z", "level": "debug", "message": "foo bar baz"}),
            ),
        ];
        check_table(&table);
    }

    #[test]
    fn errors_are_sentences() {
        let cases = [
            (
                TextKind::Syslog,
                "Feb 30 10:00:00 host app: x",
                "the date `Feb 30 10:00:00` does not exist",
            ),
            (
                TextKind::Syslog,
                "Apr 31 10:00:00 host app: x\r",
                "the date `Apr 31 10:00:00` does not exist",
            ),
            (TextKind::Syslog, "hello", NOT_SYSLOG),
            (
                TextKind::Generic,
                "2024-02-30 10:00:00 x",
                "the date `2024-02-30 10:00:00` does not exist",
            ),
            (
                TextKind::Generic,
                "2024-01-05 25:00:00 x",
                "the date `2024-01-05 25:00:00` does not exist",
            ),
            (TextKind::Generic, "12345678 not a time", NOT_GENERIC),
            (TextKind::Generic, "", NOT_GENERIC),
            (
                TextKind::Glog,
                "E0230 10:00:00.1 1 a.cc:1] x",
                "the date `E0230 10:00:00.1` does not exist",
            ),
            (TextKind::Glog, "Exxxx", NOT_GLOG),
            (
                TextKind::AccessLog,
                "1.2.3.4 - - [31/Apr/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1",
                "the date `31/Apr/2024:10:00:00 +0000` does not exist",
            ),
            (
                TextKind::AccessLog,
                "1.2.3.4 - - \"GET / HTTP/1.1\" 200 1",
                NOT_ACCESS,
            ),
        ];
        for (kind, line, want) in cases {
            assert_eq!(
                parse_record(kind, line, &CX),
                Err(want.to_string()),
                "{kind:?} {line:?}"
            );
        }
        // 2024 is a leap year
        let leap = TimeContext { default_year: 2024 };
        assert!(parse_record(TextKind::Syslog, "Feb 29 10:00:00 host app: x", &leap).is_ok());
        let plain = TimeContext { default_year: 2023 };
        assert!(parse_record(TextKind::Syslog, "Feb 29 10:00:00 host app: x", &plain).is_err());
    }

    #[test]
    fn continuation_lines_do_not_start_records() {
        let continuations = [
            "\tat com.foo.Bar.baz(Bar.java:10)",
            "    at com.foo.Bar.baz(Bar.java:10)",
            "Caused by: java.io.IOException: y",
            "\t... 3 more",
            "java.lang.IllegalStateException: x",
            "Traceback (most recent call last):",
            "  File \"x.py\", line 3, in <module>",
            "    raise ValueError(\"bad\")",
            "ValueError: bad",
            "  How are you today?",
            "goroutine 1 [running]:",
            "<tiptop>\r",
            "\t<sample>\r",
            "",
            "\r",
            "   ",
            "12345678 bytes copied",
            "1234567890123456789012 too long for a time",
            "Error: something 2024",
        ];
        for line in continuations {
            for kind in TextKind::ALL {
                assert!(!starts_record(kind, line), "{kind:?} {line:?}");
            }
        }
        let starts = [
            (TextKind::Generic, "2024-01-05 10:00:00 x\r"),
            (TextKind::Generic, "08:09:33 x"),
            (
                TextKind::Generic,
                "2024-02-30 10:00:00 impossible but shaped",
            ),
            (
                TextKind::Syslog,
                "Feb 30 10:00:00 host app: impossible but shaped",
            ),
            (TextKind::Syslog, "<34>1 - - - - - -"),
            (TextKind::Glog, "I0102 15:04:05.123456 1 f.cc:1] x\r"),
        ];
        for (kind, line) in starts {
            assert!(starts_record(kind, line), "{kind:?} {line:?}");
        }
        for line in [
            "\tat com.foo.Bar.baz(Bar.java:10)",
            "Caused by: java.io.IOException: y",
            "java.lang.IllegalStateException: x",
            "Traceback (most recent call last):",
            "ValueError: bad\r",
            "KeyboardInterrupt",
            "  indented",
        ] {
            assert!(looks_like_continuation(line), "{line:?}");
        }
        for line in [
            "followed by",
            "Errors: many",
            "<tiptop>",
            "é",
            "2024-01-05 x",
            "",
        ] {
            assert!(!looks_like_continuation(line), "{line:?}");
        }
        // ISO-stamped application lines are not syslog
        let not_syslog = [
            "2024-01-05T10:00:00Z ERROR main: x",
            "2024-01-05T10:00:00Z [main] app: x",
            "2024-01-05T10:00:00Z something happened",
            "2024-01-05 10:00:00 host app: no T, no zone",
            "2024-01-05T10:00:00 host app: no zone",
            "Jan 05 10:00:00 ERROR level where the host would be",
            "<999>Oct 11 22:14:15 host app: bad PRI",
        ];
        for line in not_syslog {
            assert!(!starts_record(TextKind::Syslog, line), "{line:?}");
        }
    }

    #[test]
    fn detection() {
        let syslog = [
            "Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed",
            "Nov  3 09:23:38 veridian automount[16442]: attempting to mount entry /auto/opt",
            "Nov  3 09:47:02 veridian sudo: timstack : TTY=pts/6 ; USER=root",
        ];
        let access = [
            "192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] \"GET /vmw/cgi/tramp HTTP/1.0\" 200 134 \"-\" \"gPXE/0.9.7\"",
            "192.168.202.254 - - [20/Jul/2009:22:59:29 +0000] \"GET /vmw/vmkboot.gz HTTP/1.0\" 404 46210 \"-\" \"gPXE/0.9.7\"",
        ];
        let glog = [
            "E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] Log every 3, iteration 19",
            "I0517 15:04:22.619642  952452992 logging_unittest.cc:259] Log if every 1, iteration 19",
        ];
        let zones = [
            "2022-08-27T14:22:01.613Z h NSX 3106 - [abc@6876 level=\"INFO\"] keep-alive",
            "2022-08-27T17:22:01.694554+03:00 h CRON 20856 - -  (root) CMD (x)",
        ];
        let java = [
            "2024-01-05 10:00:00.123 [main] ERROR c.e.App - failed",
            "java.lang.IllegalStateException: x",
            "\tat com.foo.Bar.baz(Bar.java:10)",
            "2024-01-05 10:00:01.000 [main] INFO  c.e.App - recovered",
        ];
        let long_trace = [
            "2025-01-24T07:00:30,139 INFO [main    ] FarmApplication          : Starting",
            "2025-01-24T07:00:36,200 ERROR [pool-1  ] ZookeeperConfig          : Connection lost",
            "java.lang.IllegalStateException: zookeeper unreachable",
            "\tat com.example.farm.ZookeeperConfig.connect(ZookeeperConfig.java:88)",
            "\tat com.example.farm.FarmApplication.main(FarmApplication.java:21)",
            "Caused by: java.net.ConnectException: Connection refused",
            "\t... 2 more",
            "2024-01-05 10:00:00.123 [main] WARN  com.example.Foo - cache miss ratio 0.4",
        ];
        let traceback = [
            "2024-02-03 10:11:14,500 ERROR charge failed",
            "Traceback (most recent call last):",
            "  File \"gateway.py\", line 42, in charge",
            "    resp = client.post(url)",
            "TimeoutError: timed out",
        ];
        let mixed_iso = [
            "2024-01-05T10:00:00Z host app: looks like syslog",
            "2024-01-05T10:00:01Z but this one does not",
        ];
        let positive: [(&[&str], TextKind, usize); 8] = [
            (&long_trace, TextKind::Generic, 3),
            (&traceback, TextKind::Generic, 1),
            (&syslog, TextKind::Syslog, 3),
            (&access, TextKind::AccessLog, 2),
            (&glog, TextKind::Glog, 2),
            (&zones, TextKind::Syslog, 2),
            (&java, TextKind::Generic, 2),
            (&mixed_iso, TextKind::Generic, 2),
        ];
        for (lines, kind, n) in positive {
            assert_eq!(detect(lines, &CX), Some((kind, n)), "{lines:?}");
        }

        let json_lines = [
            "{\"ts\": \"2013-09-06T20:00:48.124817Z\", \"lvl\": \"TRACE\", \"msg\": \"trace test\"}",
            "{\"ts\": \"2013-09-06T20:00:49.124817Z\", \"lvl\": \"INFO\", \"msg\": \"Starting up\"}",
        ];
        let csv = [
            "time,level,message",
            "2024-01-05T10:00:00Z,info,hello",
            "2024-01-05T10:00:01Z,warn,world",
        ];
        let logfmt = [
            "time=\"2021-09-15T21:17:10.220731Z\" level=error msg=\"error retrieving pod status\"",
            "time=\"2021-09-15T21:17:11.674149Z\" level=warning msg=\"Failed to DeletePod\"",
        ];
        let prose = [
            "The quick brown fox jumps over the lazy dog.",
            "On 2024-01-05 10:00:00 nothing happened.",
            "Error: this is not a log",
        ];
        let mostly_continuation = [
            "2024-01-05 10:00:00 one record",
            "followed by",
            "a lot of",
            "free text",
            "  and one indented line",
        ];
        let negative: [&[&str]; 6] = [
            &json_lines,
            &csv,
            &logfmt,
            &prose,
            &mostly_continuation,
            &[],
        ];
        for lines in negative {
            assert_eq!(detect(lines, &CX), None, "{lines:?}");
        }
        // blank lines are ignored, and the sample's first line must start a record
        assert_eq!(
            detect(&["", "  ", syslog[0], ""], &CX),
            Some((TextKind::Syslog, 1))
        );
        assert_eq!(detect(&["  continuation", syslog[0], syslog[1]], &CX), None);
        // lines that start a record but fail to parse do not count
        assert_eq!(
            detect(
                &["Feb 29 10:00:00 h a: x", "Mar  1 10:00:00 h a: y"],
                &TimeContext { default_year: 2023 }
            ),
            Some((TextKind::Syslog, 1))
        );
    }

    // -----------------------------------------------------------------------
    // The lnav test corpus, when present on this machine
    // -----------------------------------------------------------------------

    /// The file's text (invalid UTF-8 replaced), or `None` when absent.
    fn corpus_file(name: &str) -> Option<String> {
        let bytes = std::fs::read(crate::corpus_dir().join("lnav").join(name)).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A corpus file, the detection it should get, and its first record.
    type Expectation = (&'static str, Option<(TextKind, usize)>, Option<Value>);

    /// Groups the lines of `text` into records of `kind` (lines before the
    /// first record are dropped, like a file's preamble).
    fn records(kind: TextKind, text: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in text.lines() {
            if starts_record(kind, line) {
                out.push(line.to_string());
            } else if let Some(last) = out.last_mut() {
                last.push('\n');
                last.push_str(line);
            }
        }
        out
    }

    #[test]
    fn lnav_corpus() {
        let cx = TimeContext { default_year: 2024 };
        let expectations: [Expectation; 14] = [
            (
                "logfile_syslog.0",
                Some((TextKind::Syslog, 4)),
                Some(json!({
                "timestamp": "2024-11-03T09:23:38Z", "host": "veridian", "app": "automount",
                "pid": 7998, "message": "lookup(file): lookup for foobar failed"})),
            ),
            ("logfile_syslog.1", Some((TextKind::Syslog, 4)), None),
            (
                "logfile_access_log.0",
                Some((TextKind::AccessLog, 3)),
                Some(json!({
                "timestamp": "2009-07-20T22:59:26Z", "client": "192.168.202.254", "method": "GET",
                "path": "/vmw/cgi/tramp", "protocol": "HTTP/1.0", "status": 200, "bytes": 134,
                "user_agent": "gPXE/0.9.7", "level": "info", "message": "GET /vmw/cgi/tramp HTTP/1.0"})),
            ),
            ("logfile_glog.0", Some((TextKind::Glog, 7)), None),
            ("logfile_generic.0", Some((TextKind::Generic, 2)), None),
            (
                "logfile_multiline.0",
                Some((TextKind::Generic, 2)),
                Some(json!({
                "timestamp": "2009-07-20T22:59:27.672Z", "level": "debug",
                "message": "Hello, World!\n  How are you today?"})),
            ),
            ("logfile_java.0", Some((TextKind::Generic, 20)), None),
            ("logfile_with_zones.0", Some((TextKind::Syslog, 3)), None),
            (
                "logfile_tai64n.0",
                Some((TextKind::Generic, 10)),
                Some(json!({
                "timestamp": "2005-09-22T03:31:15.997071500Z", "message": "tcpserver: status: 5/30"})),
            ),
            (
                "logfile_epoch.0",
                Some((TextKind::Generic, 2)),
                Some(json!({
                "timestamp": "2015-04-10T02:58:07.123Z", "message": "Hello, World!"})),
            ),
            ("logfile_strace_log.0", Some((TextKind::Generic, 9)), None),
            ("logfile_haproxy.0", Some((TextKind::Syslog, 17)), None),
            (
                "logfile_crlf.0",
                Some((TextKind::Generic, 2)),
                Some(json!({
                "timestamp": "2012-07-02T10:22:40.672Z", "level": "debug", "message": "foo bar baz"})),
            ),
            // one record followed by five lines of XML, three of them indented
            ("logfile_invalid_utf8.0", Some((TextKind::Generic, 1)), None),
        ];
        for (name, want, first_record) in expectations {
            let Some(text) = corpus_file(name) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            let got = detect(&lines, &cx);
            assert_eq!(got, want, "{name}");
            let Some((kind, n)) = got else { continue };
            let recs = records(kind, &text);
            assert_eq!(recs.len(), n, "{name}");
            for rec in &recs {
                let obj = parse_record(kind, rec, &cx);
                assert!(obj.is_ok(), "{name}: {rec:?}: {obj:?}");
            }
            if let (Some(want), Some(first)) = (first_record, recs.first()) {
                assert_eq!(parsed(kind, first), Ok(want), "{name}");
            }
        }
        // The XML file still parses as one Generic record when asked to.
        if let Some(text) = corpus_file("logfile_invalid_utf8.0") {
            let recs = records(TextKind::Generic, &text);
            assert_eq!(recs.len(), 1);
            let obj = parsed(TextKind::Generic, &recs[0]).expect("parses");
            assert_eq!(obj["timestamp"], "2015-03-12T23:16:52.071Z");
            assert_eq!(obj["level"], "info");
            let message = obj["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("com.root:Response :\n<tiptop>\n\t<sample>"),
                "{message:?}"
            );
            assert!(!message.contains('\r'));
        }
        // Every level lnav's with_zones file shows comes from its SD `level`.
        if let Some(text) = corpus_file("logfile_with_zones.0") {
            let levels: Vec<Value> = records(TextKind::Syslog, &text)
                .iter()
                .map(|r| parsed(TextKind::Syslog, r).map(|o| o["level"].clone()))
                .collect::<Result<_, _>>()
                .expect("parses");
            assert_eq!(levels, [json!("info"), Value::Null, json!("info")]);
        }
    }

    // -----------------------------------------------------------------------
    // No panics, and starts_record agrees with parse_record
    // -----------------------------------------------------------------------

    /// Every public function on `line`, checking that a parsed record's first
    /// line starts a record, and that a record start fails only on its date.
    fn exercise(line: &str) {
        // A '\n' makes `line` a record of several lines, not a line.
        let single_line = !line.contains('\n');
        let cx_bounds = [
            TimeContext::new(2024),
            TimeContext::new(i32::MIN),
            TimeContext::new(i32::MAX),
        ];
        for kind in TextKind::ALL {
            let starts = starts_record(kind, line);
            for cx in &cx_bounds {
                let result = parse_record(kind, line, cx);
                match &result {
                    Ok(obj) => {
                        assert!(
                            starts || !single_line,
                            "{kind:?} {line:?} parses but does not start a record"
                        );
                        for reserved in ["type", "event", "name", "line", "data", "id", "key"] {
                            assert!(!obj.contains_key(reserved), "{kind:?} {line:?}: {reserved}");
                        }
                        assert!(obj.get("message").is_some_and(Value::is_string));
                    }
                    Err(e) => assert!(
                        !starts || !single_line || e.starts_with("the date `"),
                        "{kind:?} {line:?} starts a record but fails with {e}"
                    ),
                }
            }
            let _ = parse_record(kind, &format!("{line}\n{line}\r\n"), &CX);
        }
        let _ = detect(&[line], &CX);
        let _ = detect(&[line, line, "x"], &CX);
    }

    fn example_lines() -> Vec<&'static str> {
        vec![
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][examplePriority@32473 class=\"high\"] An application event",
            "<13>1 2024-01-05T10:00:00Z h a worker-1 - [x@1 q=\"a\\\"b\\\\c\\]d\" w=\"\\n\"] é",
            "2022-08-27T14:22:01.613Z space01.global-acme.entp NSX 3106 - [abc@6876 comp=\"abc-edge\" level=\"INFO\"] keep-alive",
            "2022-08-27T17:22:01.694554+03:00 space01.global-acme.entp CRON 20856 - -  (root) CMD",
            "2022-08-27T14:22:01.613Z host app[1]: msg",
            "Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed",
            "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"",
            "::1 id bob [05/Jan/2024:10:00:00.5 +0100] \"POST /api?q=\\\"x\\\" HTTP/2.0\" 502 157 \"-\" \"curl \\\"é\\\"\" \"10.1.1.1\"",
            "E0517 15:04:22.619632 1952452992 logging_unittest.cc:253] Log every 3, iteration 19",
            "2024-02-03 10:11:12,345 - name - ERROR - msg",
            "2012-07-02 10:22:40,672:DEBUG:foo bar baz",
            "2015-03-12T23:16:52.071:INFO:com.root:Response :",
            "2025-01-24T07:00:30,139 INFO [background-preinit       ] Version                  : HV000001: Hibernate",
            "2024-01-05 10:00:00.123  INFO 12345 --- [           main] o.s.b.StartupInfoLogger   : Starting",
            "[2024-01-05 10:00:00] ERROR msg",
            "2024-01-05T10:00:00Z <W> msg",
            "[WARN] 2024-01-05T10:00:00+01:00 bracketed level first",
            "1428634687123 Hello, World!",
            "@40000000433225833b6e1a8c tcpserver: status: 5/30",
            "08:09:33.814936 execve(\"/bin/ls\", [\"ls\"], [/* 38 vars */]) = 0 <0.000264>",
            "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] File",
            "[10/Oct/2000:13:55:36 -0700] apache-style date",
            "\u{1b}[2m2024-01-05 10:00:00\u{1b}[0m \u{1b}[33mWARN\u{1b}[0m é",
            "2009/11/10 23:00:00 Hello from Go\r",
        ]
    }

    #[test]
    fn never_panics_on_short_strings() {
        let alphabet = [
            "<", ">", "1", " ", "2", "-", ":", "T", ".", "[", "]", "@", "\"", "\\", "é", "\r",
            "\u{1b}",
        ];
        exercise("");
        for a in alphabet {
            exercise(a);
            for b in alphabet {
                exercise(&format!("{a}{b}"));
                for c in alphabet {
                    exercise(&format!("{a}{b}{c}"));
                }
            }
        }
    }

    #[test]
    fn never_panics_on_truncations_and_insertions() {
        let inserts = ["é", "\"", "\\", "]", " ", "\u{1b}", "\r", "\n", "0", "€"];
        for line in example_lines() {
            exercise(line);
            for (cut, _) in line.char_indices().chain([(line.len(), ' ')]) {
                let (head, tail) = line.split_at(cut);
                exercise(head);
                exercise(tail);
                for ins in inserts {
                    exercise(&format!("{head}{ins}{tail}"));
                }
            }
        }
    }
}
