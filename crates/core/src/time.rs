//! Time and level normalisation: turning whatever an event log wrote into one
//! [`Timestamp`] (nanoseconds since the Unix epoch, UTC, plus how many
//! fraction digits the source gave) and one [`Level`].
//!
//! This module owns the `ts` contract of the product spec: every instant is
//! shown as RFC 3339 in UTC with the fraction *as given*
//! (`2024-01-05T10:00:00.250Z` when the source wrote three digits,
//! `2024-01-05T10:00:00Z` when it wrote none).
//!
//! # Recognised forms
//!
//! | form | example | notes |
//! |------|---------|-------|
//! | RFC 3339 / ISO 8601 | `2024-01-05T10:00:00.25+02:00` | `T`, `t` or space; seconds optional (`10:00`); fraction after `.` or `,`, 1–9 digits kept, more truncated |
//! | zone | `Z` `z` `+02:00` `+0200` `-07` `UTC` `GMT` | optionally after one space; no zone means UTC |
//! | date alone | `2024-01-05` | midnight UTC |
//! | epoch number | `1704448800`, `1704448800.25`, `1.7e9` | unit by magnitude, see [`parse_number`] |
//! | syslog (RFC 3164) | `Oct 11 22:14:15`, `Oct  1 22:14:15` | year from the caller |
//! | glog / klog | `I0102 15:04:05.123456` | level letter `IWEF`, year from the caller |
//! | Apache / Nginx | `10/Oct/2000:13:55:36 -0700` | optionally in `[...]` |
//!
//! # Rules where the formats are ambiguous
//!
//! * **Range.** A [`Timestamp`] is an `i64` of nanoseconds, so only instants
//!   from `1677-09-21T00:12:43.145224192Z` to `2262-04-11T23:47:16.854775807Z`
//!   exist; anything outside (including much of chrono's wider range) is
//!   rejected with `None`, never wrapped or clamped.
//! * **Epoch unit** is chosen by the magnitude of the integer part:
//!   `|v| < 1e11` seconds, `< 1e14` milliseconds, `< 1e17` microseconds,
//!   otherwise nanoseconds. Zero is the epoch itself; negative values are
//!   instants before 1970 (the unit is chosen by `|v|`). Fraction digits:
//!   seconds keep the digits written (at most 9), milliseconds give 3 plus
//!   any written fraction digits, microseconds 6 plus, nanoseconds 9.
//! * **JSON floats** (`serde_json::Number` holding an `f64`) no longer know
//!   their source text: their fraction digits are those of the shortest
//!   decimal that round-trips the `f64`, so `1704448800.250` counts as two
//!   digits and `1704448800.0` as none; an `f64` holds only ~16 significant
//!   digits. Numeric *strings* keep their digits exactly.
//! * **Leap seconds** (`23:59:60`) are accepted and read as the first second
//!   of the next minute, since an epoch count cannot name them.
//! * **Years for syslog and glog.** With a [`TimeContext`] the year is exactly
//!   `default_year` (so `Feb 29` in a non-leap year is `None`). With a file
//!   modification time ([`parse_syslog_prefix_mtime`],
//!   [`parse_glog_prefix_mtime`], and [`parse_user_time`] with "now"), the
//!   year is the latest one, starting from the reference's year, for which
//!   the date exists and is not more than 24 hours after the reference: a
//!   file written on 2 January holding `Dec 31` lines gets the previous year,
//!   and `Feb 29` goes back to the latest leap year.
//! * **Prefix parsers** (syslog, glog, Apache) stop after the timestamp and
//!   return the bytes consumed; the next byte must not be a digit.
//!
//! Everything here works on bytes without allocating (except
//! [`Timestamp::to_rfc3339`], which returns a `String`) and never panics:
//! all indexing is bounds-checked and all arithmetic that depends on the
//! input is checked or done in `i128`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Number, Value};

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;
/// How far after the reference time (file mtime, or now) a year-less date may
/// fall before it is moved to an earlier year.
const FUTURE_SLACK_NANOS: i64 = SECS_PER_DAY * NANOS_PER_SEC;
const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

// ---------------------------------------------------------------------------
// Timestamp
// ---------------------------------------------------------------------------

/// A UTC instant: nanoseconds since 1970-01-01T00:00:00Z, and how many
/// fraction digits (0..=9) the source wrote, which [`Timestamp::to_rfc3339`]
/// reproduces. Ordering is by `nanos`, then `frac_digits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub nanos: i64,
    pub frac_digits: u8,
}

impl Timestamp {
    /// Builds a timestamp; `frac_digits` above 9 is clamped to 9.
    pub const fn from_nanos(nanos: i64, frac_digits: u8) -> Timestamp {
        let frac_digits = if frac_digits > 9 { 9 } else { frac_digits };
        Timestamp { nanos, frac_digits }
    }

    /// The current time, with 9 fraction digits.
    pub fn now() -> Timestamp {
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        Timestamp::from_nanos(nanos, 9)
    }

    /// Converts a [`SystemTime`] (e.g. a file's mtime), with 9 fraction
    /// digits; `None` outside the representable range.
    pub fn from_system_time(t: SystemTime) -> Option<Timestamp> {
        let nanos = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_nanos()).ok()?,
            Err(e) => i64::try_from(e.duration().as_nanos()).ok()?.checked_neg()?,
        };
        Some(Timestamp::from_nanos(nanos, 9))
    }

    /// The same instant as a chrono value.
    pub fn to_datetime(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_nanos(self.nanos)
    }

    /// RFC 3339 in UTC with exactly `frac_digits` fraction digits (the
    /// nanoseconds are truncated to that many), e.g.
    /// `2024-01-05T10:00:00.250Z`.
    pub fn to_rfc3339(&self) -> String {
        let mut buf = [0u8; 32];
        let n = self.format_into(&mut buf);
        buf.get(..n)
            .unwrap_or_default()
            .iter()
            .map(|&b| char::from(b))
            .collect()
    }

    /// Writes [`Timestamp::to_rfc3339`]'s text without allocating.
    pub fn write_rfc3339<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        let mut buf = [0u8; 32];
        let n = self.format_into(&mut buf);
        let text = buf.get(..n).ok_or(fmt::Error)?;
        out.write_str(std::str::from_utf8(text).map_err(|_| fmt::Error)?)
    }

    /// Formats into `buf` (ASCII only), returning the length (at most 30).
    fn format_into(&self, buf: &mut [u8; 32]) -> usize {
        let secs = self.nanos.div_euclid(NANOS_PER_SEC);
        let sub = self.nanos.rem_euclid(NANOS_PER_SEC) as u32;
        let days = secs.div_euclid(SECS_PER_DAY);
        let sod = secs.rem_euclid(SECS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        // The i64 range keeps years in 1677..=2262; rem_euclid only guards
        // the formatting against the impossible.
        let year = year.rem_euclid(10_000) as u32;
        let mut w = ByteWriter { buf, len: 0 };
        w.digits(year, 4);
        w.byte(b'-');
        w.digits(month, 2);
        w.byte(b'-');
        w.digits(day, 2);
        w.byte(b'T');
        w.digits(sod / 3600, 2);
        w.byte(b':');
        w.digits(sod / 60 % 60, 2);
        w.byte(b':');
        w.digits(sod % 60, 2);
        let fd = u32::from(self.frac_digits.min(9));
        if fd > 0 {
            w.byte(b'.');
            let shift = POW10.get((9 - fd) as usize).copied().unwrap_or(1);
            w.digits(sub / shift, fd);
        }
        w.byte(b'Z');
        w.len
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_rfc3339(f)
    }
}

/// A tiny bounds-checked writer over a fixed buffer (writes past the end are
/// dropped; the callers never need more than 30 bytes).
struct ByteWriter<'a> {
    buf: &'a mut [u8; 32],
    len: usize,
}

impl ByteWriter<'_> {
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// Writes the low `width` decimal digits of `v`, zero-padded.
    fn digits(&mut self, v: u32, width: u32) {
        let mut i = width;
        while i > 0 {
            i -= 1;
            let p = POW10.get(i as usize).copied().unwrap_or(1);
            self.byte(b'0' + (v / p % 10) as u8);
        }
    }
}

/// A stack buffer implementing `fmt::Write`, used to read a float's decimal
/// text without allocating; fails (instead of growing) when full.
struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl StackText {
    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms)
// ---------------------------------------------------------------------------

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a valid date. `y` must be within ±2^40 or so
/// (callers pass at most an `i32`), which keeps everything far from overflow.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01. `z` must be within
/// the range produced by `i64` nanoseconds (about ±1.1e5 days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since the epoch of `y-m-d`, or `None` if that date does not exist.
fn date_days(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn year_of(nanos: i64) -> i64 {
    civil_from_days(nanos.div_euclid(NANOS_PER_SEC).div_euclid(SECS_PER_DAY)).0
}

/// Puts the pieces together; `None` if the instant does not fit in `i64`.
fn assemble(
    days: i64,
    sod: u32,
    nanos: u32,
    frac_digits: u8,
    offset_secs: i64,
) -> Option<Timestamp> {
    let secs =
        i128::from(days) * i128::from(SECS_PER_DAY) + i128::from(sod) - i128::from(offset_secs);
    let total = secs * i128::from(NANOS_PER_SEC) + i128::from(nanos);
    let nanos = i64::try_from(total).ok()?;
    Some(Timestamp::from_nanos(nanos, frac_digits))
}

// ---------------------------------------------------------------------------
// Byte-level scanning helpers
// ---------------------------------------------------------------------------

#[inline]
fn dig(b: &[u8], i: usize) -> Option<u32> {
    match b.get(i) {
        Some(&c) if c.is_ascii_digit() => Some(u32::from(c - b'0')),
        _ => None,
    }
}

#[inline]
fn num2(b: &[u8], i: usize) -> Option<u32> {
    Some(dig(b, i)? * 10 + dig(b, i + 1)?)
}

#[inline]
fn num4(b: &[u8], i: usize) -> Option<u32> {
    Some(num2(b, i)? * 100 + num2(b, i + 2)?)
}

#[inline]
fn expect(b: &[u8], i: usize, c: u8) -> Option<()> {
    (b.get(i) == Some(&c)).then_some(())
}

/// A prefix must not stop in the middle of a number.
#[inline]
fn boundary(b: &[u8], i: usize) -> Option<()> {
    match b.get(i) {
        Some(c) if c.is_ascii_digit() => None,
        _ => Some(()),
    }
}

/// `HH:MM[:SS]` at `i`: (seconds of day, seconds were present, end).
/// Accepts second 60 (leap second, see the module docs).
fn hms(b: &[u8], i: usize) -> Option<(u32, bool, usize)> {
    let h = num2(b, i)?;
    expect(b, i + 2, b':')?;
    let m = num2(b, i + 3)?;
    if h > 23 || m > 59 {
        return None;
    }
    if b.get(i + 5) == Some(&b':') {
        let s = num2(b, i + 6)?;
        if s > 60 {
            return None;
        }
        Some((h * 3600 + m * 60 + s, true, i + 8))
    } else {
        Some((h * 3600 + m * 60, false, i + 5))
    }
}

/// `HH:MM:SS` (seconds required) at `i`.
fn hms_full(b: &[u8], i: usize) -> Option<(u32, usize)> {
    match hms(b, i)? {
        (sod, true, end) => Some((sod, end)),
        _ => None,
    }
}

/// An optional fraction at `i`: `.` (or `,` when `comma`) followed by at
/// least one digit. Returns (nanoseconds, digits kept, end). Digits past the
/// ninth are consumed and dropped.
fn opt_frac(b: &[u8], i: usize, comma: bool) -> (u32, u8, usize) {
    let sep = match b.get(i) {
        Some(b'.') => true,
        Some(b',') => comma,
        _ => false,
    };
    if !sep || dig(b, i + 1).is_none() {
        return (0, 0, i);
    }
    let mut j = i + 1;
    let mut v: u32 = 0;
    let mut nd: u8 = 0;
    while let Some(d) = dig(b, j) {
        if nd < 9 {
            v = v * 10 + d;
            nd += 1;
        }
        j += 1;
    }
    let scale = POW10.get(usize::from(9 - nd)).copied().unwrap_or(1);
    (v * scale, nd, j)
}

/// An optional zone at `i`, optionally after one space: `Z`, `z`, `UTC`,
/// `GMT` (any case), `±HH`, `±HHMM`, `±HH:MM`. Returns (offset east of UTC
/// in seconds, end); (0, i) when there is none; `None` for a malformed one.
fn zone(b: &[u8], i: usize) -> Option<(i64, usize)> {
    let j = if b.get(i) == Some(&b' ') { i + 1 } else { i };
    match b.get(j) {
        None => Some((0, i)),
        Some(b'Z' | b'z') => Some((0, j + 1)),
        Some(&sign @ (b'+' | b'-')) => {
            let hh = num2(b, j + 1)?;
            let mut k = j + 3;
            let mut mm = 0;
            if b.get(k) == Some(&b':') {
                mm = num2(b, k + 1)?;
                k += 3;
            } else if let Some(v) = num2(b, k) {
                mm = v;
                k += 2;
            }
            if hh > 23 || mm > 59 {
                return None;
            }
            let off = i64::from(hh * 3600 + mm * 60);
            Some((if sign == b'-' { -off } else { off }, k))
        }
        Some(_) => {
            let w = b.get(j..j + 3)?;
            if w.eq_ignore_ascii_case(b"UTC") || w.eq_ignore_ascii_case(b"GMT") {
                Some((0, j + 3))
            } else {
                None
            }
        }
    }
}

/// A three-letter English month abbreviation at `i`, any case (1..=12).
pub(crate) fn month_abbr(b: &[u8], i: usize) -> Option<u32> {
    let w = b.get(i..i + 3)?;
    let l = [
        w.first()?.to_ascii_lowercase(),
        w.get(1)?.to_ascii_lowercase(),
        w.get(2)?.to_ascii_lowercase(),
    ];
    Some(match &l {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Year-less dates (syslog, glog)
// ---------------------------------------------------------------------------

/// A date and time whose year is still to be chosen.
#[derive(Debug, Clone, Copy)]
struct Yearless {
    month: u32,
    day: u32,
    sod: u32,
    nanos: u32,
    frac_digits: u8,
}

/// How to choose the year of a [`Yearless`] date.
#[derive(Debug, Clone, Copy)]
enum YearRule {
    /// Exactly this year.
    Fixed(i32),
    /// The latest year (from the reference's year back) for which the date
    /// exists and is not more than [`FUTURE_SLACK_NANOS`] after the
    /// reference (nanoseconds since the epoch).
    NotAfter(i64),
}

impl Yearless {
    fn at_year(&self, year: i64) -> Option<Timestamp> {
        let days = date_days(year, self.month, self.day)?;
        assemble(days, self.sod, self.nanos, self.frac_digits, 0)
    }

    fn resolve(&self, rule: YearRule) -> Option<Timestamp> {
        match rule {
            YearRule::Fixed(year) => self.at_year(i64::from(year)),
            YearRule::NotAfter(reference) => {
                let limit = reference.saturating_add(FUTURE_SLACK_NANOS);
                let year = year_of(reference);
                // Eight years back always reaches a leap year (for Feb 29).
                (0..=8).find_map(|back| self.at_year(year - back).filter(|t| t.nanos <= limit))
            }
        }
    }
}

/// `Mmm dd HH:MM:SS[.f]` with day `dd`, ` d` or `d`.
fn syslog_fields(b: &[u8]) -> Option<(Yearless, usize)> {
    let month = month_abbr(b, 0)?;
    expect(b, 3, b' ')?;
    let (day, i) = if b.get(4) == Some(&b' ') {
        (dig(b, 5)?, 6)
    } else {
        let d1 = dig(b, 4)?;
        match dig(b, 5) {
            Some(d2) => (d1 * 10 + d2, 6),
            None => (d1, 5),
        }
    };
    expect(b, i, b' ')?;
    let (sod, j) = hms_full(b, i + 1)?;
    let (nanos, frac_digits, j) = opt_frac(b, j, false);
    boundary(b, j)?;
    Some((
        Yearless {
            month,
            day,
            sod,
            nanos,
            frac_digits,
        },
        j,
    ))
}

/// `Lmmdd HH:MM:SS[.f]` with `L` one of `I W E F`.
fn glog_fields(b: &[u8]) -> Option<(Level, Yearless, usize)> {
    let level = match b.first()? {
        b'I' => Level::Info,
        b'W' => Level::Warn,
        b'E' => Level::Error,
        b'F' => Level::Fatal,
        _ => return None,
    };
    let month = num2(b, 1)?;
    let day = num2(b, 3)?;
    expect(b, 5, b' ')?;
    let (sod, j) = hms_full(b, 6)?;
    let (nanos, frac_digits, j) = opt_frac(b, j, false);
    boundary(b, j)?;
    Some((
        level,
        Yearless {
            month,
            day,
            sod,
            nanos,
            frac_digits,
        },
        j,
    ))
}

// ---------------------------------------------------------------------------
// Full-string forms
// ---------------------------------------------------------------------------

/// `YYYY-MM-DD` alone, or followed by `T`/`t`/space, a time, an optional
/// fraction and an optional zone; the whole input must match.
fn parse_iso(b: &[u8]) -> Option<Timestamp> {
    let y = num4(b, 0)?;
    expect(b, 4, b'-')?;
    let m = num2(b, 5)?;
    expect(b, 7, b'-')?;
    let d = num2(b, 8)?;
    let days = date_days(i64::from(y), m, d)?;
    if b.len() == 10 {
        return assemble(days, 0, 0, 0, 0);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (sod, has_secs, i) = hms(b, 11)?;
    let (nanos, frac_digits, i) = if has_secs {
        opt_frac(b, i, true)
    } else {
        (0, 0, i)
    };
    let (offset, i) = zone(b, i)?;
    if i != b.len() {
        return None;
    }
    assemble(days, sod, nanos, frac_digits, offset)
}

/// `[dd/Mon/yyyy:HH:MM:SS zone]` (brackets and zone optional); returns the
/// timestamp and the end of what was recognised.
fn apache_fields(b: &[u8]) -> Option<(Timestamp, usize)> {
    let open = b.first() == Some(&b'[');
    let s = usize::from(open);
    let (day, i) = match (dig(b, s), dig(b, s + 1)) {
        (Some(d1), Some(d2)) => (d1 * 10 + d2, s + 2),
        (Some(d1), None) => (d1, s + 1),
        _ => return None,
    };
    expect(b, i, b'/')?;
    let month = month_abbr(b, i + 1)?;
    expect(b, i + 4, b'/')?;
    let year = num4(b, i + 5)?;
    expect(b, i + 9, b':')?;
    let (sod, j) = hms_full(b, i + 10)?;
    let (nanos, frac_digits, j) = opt_frac(b, j, false);
    let (offset, j) = zone(b, j).unwrap_or((0, j));
    let j = if open && b.get(j) == Some(&b']') {
        j + 1
    } else {
        j
    };
    boundary(b, j)?;
    let days = date_days(i64::from(year), month, day)?;
    Some((assemble(days, sod, nanos, frac_digits, offset)?, j))
}

/// The shared dispatcher of [`parse_str`] and [`parse_user_time`]: looks at
/// the first bytes to try the likely shape first. `b` is already trimmed.
fn parse_bytes(b: &[u8], rule: YearRule) -> Option<Timestamp> {
    let first = *b.first()?;
    if first.is_ascii_digit() {
        if b.get(4) == Some(&b'-') {
            return parse_iso(b);
        }
        if b.get(1) == Some(&b'/') || b.get(2) == Some(&b'/') {
            return full(apache_fields(b), b);
        }
        return parse_epoch_decimal(b, false);
    }
    match first {
        b'-' | b'+' => parse_epoch_decimal(b, false),
        b'[' => full(apache_fields(b), b),
        b'I' | b'W' | b'E' | b'F' if b.get(1).is_some_and(u8::is_ascii_digit) => {
            let (_, yl, end) = glog_fields(b)?;
            if end != b.len() {
                return None;
            }
            yl.resolve(rule)
        }
        c if c.is_ascii_alphabetic() => {
            let (yl, end) = syslog_fields(b)?;
            if end != b.len() {
                return None;
            }
            yl.resolve(rule)
        }
        _ => None,
    }
}

fn full(r: Option<(Timestamp, usize)>, b: &[u8]) -> Option<Timestamp> {
    r.filter(|&(_, end)| end == b.len()).map(|(t, _)| t)
}

// ---------------------------------------------------------------------------
// Epoch numbers
// ---------------------------------------------------------------------------

/// Turns an epoch value into a timestamp, choosing the unit by magnitude.
/// The value is given as its sign, the integer part of its magnitude, its
/// first nine fraction digits as an integer (`0.25` → `250_000_000`) and the
/// number of fraction digits the source wrote.
fn epoch_from_parts(neg: bool, int: u64, frac9: u32, given_frac: u64) -> Option<Timestamp> {
    // (nanoseconds per unit, fraction digits of the unit, divisor of frac9)
    let (unit, base, div): (i128, u64, u32) = if int < 100_000_000_000 {
        (1_000_000_000, 0, 1)
    } else if int < 100_000_000_000_000 {
        (1_000_000, 3, 1_000)
    } else if int < 100_000_000_000_000_000 {
        (1_000, 6, 1_000_000)
    } else {
        (1, 9, 1_000_000_000)
    };
    let abs = i128::from(int) * unit + i128::from(frac9 / div);
    let nanos = i64::try_from(if neg { -abs } else { abs }).ok()?;
    let fd = base.saturating_add(given_frac).min(9) as u8;
    Some(Timestamp::from_nanos(nanos, fd))
}

/// A decimal number `[+-]digits[.digits][(e|E)[+-]digits]` as an epoch
/// value, read exactly (no float rounding). With `float_repr`, trailing
/// zeros of the fraction do not count as given digits (used for `f64`s).
fn parse_epoch_decimal(b: &[u8], float_repr: bool) -> Option<Timestamp> {
    let (neg, mut i) = match b.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let int_start = i;
    while dig(b, i).is_some() {
        i += 1;
    }
    let int_end = i;
    if int_end == int_start {
        return None;
    }
    let (frac_start, frac_end) = if b.get(i) == Some(&b'.') {
        i += 1;
        let s = i;
        while dig(b, i).is_some() {
            i += 1;
        }
        if i == s {
            return None;
        }
        (s, i)
    } else {
        (i, i)
    };
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let eneg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let s = i;
        while let Some(d) = dig(b, i) {
            // Saturate: anything this large is out of range (or zero) anyway.
            exp = (exp * 10 + i64::from(d)).min(1_000_000);
            i += 1;
        }
        if i == s {
            return None;
        }
        if eneg {
            exp = -exp;
        }
    }
    if i != b.len() {
        return None;
    }
    let int_digits = b.get(int_start..int_end)?;
    let frac_digits = b.get(frac_start..frac_end)?;
    // The mantissa is int_digits ++ frac_digits; the decimal point sits
    // after `point` of its digits (possibly outside it).
    let digit_at = |k: i64| -> u32 {
        let Ok(k) = usize::try_from(k) else { return 0 };
        let c = if k < int_digits.len() {
            int_digits.get(k)
        } else {
            frac_digits.get(k - int_digits.len())
        };
        c.map_or(0, |&c| u32::from(c.wrapping_sub(b'0')))
    };
    let mlen = (int_digits.len() + frac_digits.len()) as i64;
    let point = int_digits.len() as i64 + exp;
    let mut significant = mlen;
    if float_repr {
        while significant > 0 && digit_at(significant - 1) == 0 {
            significant -= 1;
        }
    }
    let given_frac = u64::try_from(significant - point).unwrap_or(0);

    let mut int: u64 = 0;
    for k in 0..point.clamp(0, mlen) {
        int = int.checked_mul(10)?.checked_add(u64::from(digit_at(k)))?;
    }
    if int != 0 {
        for _ in mlen..point {
            int = int.checked_mul(10)?;
        }
    }
    let mut frac9: u32 = 0;
    for f in 0..9 {
        frac9 = frac9 * 10 + digit_at(point + f);
    }
    epoch_from_parts(neg, int, frac9, given_frac)
}

// ---------------------------------------------------------------------------
// Public parsing API
// ---------------------------------------------------------------------------

/// Where the year comes from for formats that do not write one (syslog,
/// glog): exactly `default_year`. For the "previous year if in the future"
/// rule use [`TimeContext::from_mtime`] with the `*_mtime` parsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeContext {
    pub default_year: i32,
}

impl TimeContext {
    pub const fn new(default_year: i32) -> TimeContext {
        TimeContext { default_year }
    }

    /// The current UTC year.
    pub fn current() -> TimeContext {
        TimeContext::from_mtime(Timestamp::now())
    }

    /// The UTC year of a file's modification time.
    pub fn from_mtime(mtime: Timestamp) -> TimeContext {
        let y = year_of(mtime.nanos);
        TimeContext {
            default_year: i32::try_from(y).unwrap_or(1970),
        }
    }
}

/// Parses any string form listed in the module docs (ISO/RFC 3339, date
/// alone, numeric epoch strings, syslog, glog, Apache); surrounding ASCII
/// whitespace is ignored, anything else must be part of the timestamp.
pub fn parse_str(s: &str, cx: &TimeContext) -> Option<Timestamp> {
    parse_bytes(s.trim_ascii().as_bytes(), YearRule::Fixed(cx.default_year))
}

/// An epoch number in seconds, milliseconds, microseconds or nanoseconds,
/// chosen by magnitude (see the module docs). Integers are exact; floats use
/// their shortest round-trip decimal text.
pub fn parse_number(n: &Number) -> Option<Timestamp> {
    if let Some(u) = n.as_u64() {
        return epoch_from_parts(false, u, 0, 0);
    }
    if let Some(i) = n.as_i64() {
        return epoch_from_parts(i < 0, i.unsigned_abs(), 0, 0);
    }
    let f = n.as_f64()?;
    if !f.is_finite() {
        return None;
    }
    use fmt::Write as _;
    let mut text = StackText {
        buf: [0; 64],
        len: 0,
    };
    if write!(text, "{n}").is_err() {
        // Longer than the buffer (only with serde_json's arbitrary_precision):
        // fall back to the f64's shortest scientific form, which is short.
        text.len = 0;
        write!(text, "{f:e}").ok()?;
    }
    parse_epoch_decimal(text.bytes(), true)
}

/// A JSON string ([`parse_str`]) or number ([`parse_number`]), or log4j2's
/// JSON layout instant `{"epochSecond": s, "nanoOfSecond": ns}`; other
/// values are `None`.
pub fn parse_value(v: &Value, cx: &TimeContext) -> Option<Timestamp> {
    match v {
        Value::String(s) => parse_str(s, cx),
        Value::Number(n) => parse_number(n),
        Value::Object(m) => {
            let seconds = m.get("epochSecond")?.as_i64()?;
            let nanos = m.get("nanoOfSecond").map_or(Some(0), Value::as_i64)?;
            if !(0..1_000_000_000).contains(&nanos) {
                return None;
            }
            let total = seconds.checked_mul(1_000_000_000)?.checked_add(nanos)?;
            Some(Timestamp::from_nanos(total, if m.contains_key("nanoOfSecond") { 9 } else { 0 }))
        }
        _ => None,
    }
}

/// For the CLI (`--since`, `--until`, `--at-time`): the forms of
/// [`parse_str`]. Year-less forms take the current year, or the previous one
/// if that would put them more than a day in the future.
pub fn parse_user_time(s: &str) -> Option<Timestamp> {
    let now = Timestamp::now();
    parse_bytes(s.trim_ascii().as_bytes(), YearRule::NotAfter(now.nanos))
}

/// An RFC 3164 syslog date at the start of `s` (`Oct 11 22:14:15`,
/// `Oct  1 22:14:15`, optionally with a fraction) in year
/// `cx.default_year`, and the number of bytes it took.
pub fn parse_syslog_prefix(s: &str, cx: &TimeContext) -> Option<(Timestamp, usize)> {
    let (yl, end) = syslog_fields(s.as_bytes())?;
    Some((yl.resolve(YearRule::Fixed(cx.default_year))?, end))
}

/// Like [`parse_syslog_prefix`], choosing the year from the file's
/// modification time: the mtime's year, or an earlier one if the date would
/// be more than 24 hours after the mtime (or does not exist, like Feb 29).
pub fn parse_syslog_prefix_mtime(s: &str, mtime: Timestamp) -> Option<(Timestamp, usize)> {
    let (yl, end) = syslog_fields(s.as_bytes())?;
    Some((yl.resolve(YearRule::NotAfter(mtime.nanos))?, end))
}

/// A glog/klog header at the start of `s` (`I0102 15:04:05.123456`): the
/// level letter (`I` info, `W` warn, `E` error, `F` fatal), the timestamp in
/// year `cx.default_year`, and the number of bytes taken (up to the end of
/// the time).
pub fn parse_glog_prefix(s: &str, cx: &TimeContext) -> Option<(Level, Timestamp, usize)> {
    let (level, yl, end) = glog_fields(s.as_bytes())?;
    Some((level, yl.resolve(YearRule::Fixed(cx.default_year))?, end))
}

/// Like [`parse_glog_prefix`], choosing the year from the file's
/// modification time as [`parse_syslog_prefix_mtime`] does.
pub fn parse_glog_prefix_mtime(s: &str, mtime: Timestamp) -> Option<(Level, Timestamp, usize)> {
    let (level, yl, end) = glog_fields(s.as_bytes())?;
    Some((level, yl.resolve(YearRule::NotAfter(mtime.nanos))?, end))
}

/// An Apache/Nginx access-log time, `10/Oct/2000:13:55:36 -0700`, optionally
/// in brackets, as the whole of `s` (surrounding whitespace ignored). A
/// missing zone means UTC.
pub fn parse_apache(s: &str) -> Option<Timestamp> {
    let b = s.trim_ascii().as_bytes();
    full(apache_fields(b), b)
}

/// An Apache/Nginx time at the start of `s` (brackets included if present),
/// and the number of bytes it took.
pub fn parse_apache_prefix(s: &str) -> Option<(Timestamp, usize)> {
    apache_fields(s.as_bytes())
}

// ---------------------------------------------------------------------------
// Levels
// ---------------------------------------------------------------------------

/// A normalised severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// `"trace"`, `"debug"`, `"info"`, `"warn"`, `"error"` or `"fatal"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// The storage code, 0 (trace) ..= 5 (fatal).
    pub fn code(&self) -> i64 {
        match self {
            Level::Trace => 0,
            Level::Debug => 1,
            Level::Info => 2,
            Level::Warn => 3,
            Level::Error => 4,
            Level::Fatal => 5,
        }
    }

    /// Inverse of [`Level::code`].
    pub fn from_code(code: i64) -> Option<Level> {
        Some(match code {
            0 => Level::Trace,
            1 => Level::Debug,
            2 => Level::Info,
            3 => Level::Warn,
            4 => Level::Error,
            5 => Level::Fatal,
            _ => return None,
        })
    }

    /// A syslog severity: 0–2 fatal, 3 error, 4 warn, 5–6 info, 7 debug.
    pub fn from_syslog_severity(sev: i64) -> Option<Level> {
        Some(match sev {
            0..=2 => Level::Fatal,
            3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            7 => Level::Debug,
            _ => return None,
        })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Numeric levels: 0..=7 are syslog severities; with `priority` (a journald
/// `PRIORITY` field) nothing else is; otherwise bunyan/pino buckets, each
/// value going to the nearest bucket at or below it (10 trace, 20 debug,
/// 30 info, 40 warn, 50 error, 60 and above fatal); 8, 9 and negatives are
/// `None`.
fn level_from_int(i: i64, priority: bool) -> Option<Level> {
    if (0..=7).contains(&i) {
        return Level::from_syslog_severity(i);
    }
    if priority {
        return None;
    }
    Some(match i {
        10..=19 => Level::Trace,
        20..=29 => Level::Debug,
        30..=39 => Level::Info,
        40..=49 => Level::Warn,
        50..=59 => Level::Error,
        60.. => Level::Fatal,
        _ => return None,
    })
}

/// Floats count only when integral (`30.0`).
fn level_from_f64(f: f64, priority: bool) -> Option<Level> {
    if !f.is_finite() || f.fract() != 0.0 || f < 0.0 {
        return None;
    }
    let i = if f >= 9.0e18 { i64::MAX } else { f as i64 };
    level_from_int(i, priority)
}

fn level_from_str(s: &str, priority: bool) -> Option<Level> {
    let t = s.trim_ascii();
    let b = t.as_bytes();
    let first = *b.first()?;
    if first.is_ascii_digit() || first == b'-' || first == b'+' {
        if let Ok(i) = t.parse::<i64>() {
            return level_from_int(i, priority);
        }
        if b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
        {
            if let Ok(f) = t.parse::<f64>() {
                return level_from_f64(f, priority);
            }
        }
        return None;
    }
    let mut buf = [0u8; 13];
    if b.len() > buf.len() {
        return None;
    }
    for (dst, src) in buf.iter_mut().zip(b) {
        *dst = src.to_ascii_lowercase();
    }
    Some(match buf.get(..b.len())? {
        b"trace" | b"trc" | b"verbose" | b"v" | b"finer" | b"finest" => Level::Trace,
        b"debug" | b"dbg" | b"fine" | b"d" => Level::Debug,
        b"info" | b"inf" | b"information" | b"informational" | b"notice" | b"i" => Level::Info,
        b"warn" | b"warning" | b"wrn" | b"w" => Level::Warn,
        b"error" | b"err" | b"e" | b"severe" => Level::Error,
        b"fatal" | b"ftl" | b"critical" | b"crit" | b"alert" | b"emerg" | b"emergency"
        | b"panic" | b"pnc" | b"f" => Level::Fatal,
        _ => return None,
    })
}

/// Normalises a level field's value. `field_name` matters for numbers: a
/// field named `PRIORITY` (any case; journald) holds only syslog severities.
/// Strings go through [`normalize_level_str`]'s rules (numeric strings count
/// as numbers); other JSON values are `None`.
pub fn normalize_level(v: &Value, field_name: &str) -> Option<Level> {
    let priority = field_name.eq_ignore_ascii_case("priority");
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                level_from_int(i, priority)
            } else if n.as_u64().is_some() {
                level_from_int(i64::MAX, priority)
            } else {
                level_from_f64(n.as_f64()?, priority)
            }
        }
        Value::String(s) => level_from_str(s, priority),
        _ => None,
    }
}

/// Normalises a level name, alias or number written as text, ignoring case
/// and surrounding whitespace:
///
/// * trace: `trace trc verbose v finer finest`
/// * debug: `debug dbg fine d`
/// * info: `info inf information informational notice i`
/// * warn: `warn warning wrn w`
/// * error: `error err e severe`
/// * fatal: `fatal ftl critical crit alert emerg emergency panic pnc f`
/// * numbers: 0..=7 syslog severities, 10..60+ bunyan/pino buckets (an
///   integral float such as `30.0` counts).
pub fn normalize_level_str(s: &str) -> Option<Level> {
    level_from_str(s, false)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CX: TimeContext = TimeContext { default_year: 2024 };

    fn show(t: Option<Timestamp>) -> Option<String> {
        t.map(|t| t.to_rfc3339())
    }

    fn check_table(
        name: &str,
        table: &[(&str, Option<&str>)],
        f: impl Fn(&str) -> Option<Timestamp>,
    ) {
        let mut failures = Vec::new();
        for &(input, want) in table {
            let got = show(f(input));
            if got.as_deref() != want {
                failures.push(format!("{input:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
    }

    #[test]
    fn iso_and_space_forms() {
        let table: &[(&str, Option<&str>)] = &[
            ("2024-01-05T10:00:00Z", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05T10:00:00.250Z", Some("2024-01-05T10:00:00.250Z")),
            ("2024-01-05T10:00:00.2Z", Some("2024-01-05T10:00:00.2Z")),
            ("2024-01-05T10:00:00.000Z", Some("2024-01-05T10:00:00.000Z")),
            ("2024-01-05t10:00:00z", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05T10:00:00", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05T12:00:00+02:00", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05T12:00:00+0200", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05T03:00:00-07", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05T10:00:00-00:00", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05T15:30:00+05:30", Some("2024-01-05T10:00:00Z")),
            (
                "2024-01-05T10:00:00.5+01:00",
                Some("2024-01-05T09:00:00.5Z"),
            ),
            // offsets crossing midnight, year end and Feb 29
            ("2024-01-05T23:30:00-01:00", Some("2024-01-06T00:30:00Z")),
            ("2024-01-01T01:00:00+02:00", Some("2023-12-31T23:00:00Z")),
            ("2023-12-31T23:00:00-02:00", Some("2024-01-01T01:00:00Z")),
            ("2024-03-01T00:30:00+01:00", Some("2024-02-29T23:30:00Z")),
            ("2024-02-28T23:30:00-01:00", Some("2024-02-29T00:30:00Z")),
            // fractions: 9 kept, more truncated
            (
                "2024-01-05T10:00:00.123456789Z",
                Some("2024-01-05T10:00:00.123456789Z"),
            ),
            (
                "2024-01-05T10:00:00.1234567891234Z",
                Some("2024-01-05T10:00:00.123456789Z"),
            ),
            (
                "2024-01-05T10:00:00.999999999999+00:00",
                Some("2024-01-05T10:00:00.999999999Z"),
            ),
            ("2024-01-05T10:00:00,5Z", Some("2024-01-05T10:00:00.5Z")),
            ("2024-01-05T10:00:00.Z", None),
            ("2024-01-05T10:00:00.", None),
            // space separator, Python logging, zones after a space
            ("2024-01-05 10:00:00", Some("2024-01-05T10:00:00Z")),
            ("2024-02-03 10:11:12,345", Some("2024-02-03T10:11:12.345Z")),
            (
                "2024-02-03 10:11:12.345 UTC",
                Some("2024-02-03T10:11:12.345Z"),
            ),
            ("2024-02-03 10:11:12 utc", Some("2024-02-03T10:11:12Z")),
            ("2024-02-03 10:11:12UTC", Some("2024-02-03T10:11:12Z")),
            ("2024-02-03 10:11:12 GMT", Some("2024-02-03T10:11:12Z")),
            ("2024-02-03 10:11:12 +0100", Some("2024-02-03T09:11:12Z")),
            ("2024-02-03 10:11:12+01:00", Some("2024-02-03T09:11:12Z")),
            ("2024-02-03 10:11:12Z", Some("2024-02-03T10:11:12Z")),
            ("2024-02-03 10:11:12  UTC", None),
            ("2024-02-03 10:11:12 EST", None),
            // minutes only, date only
            ("2024-01-05T10:00Z", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05 10:00", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05T10:00.5Z", None),
            ("2024-01-05", Some("2024-01-05T00:00:00Z")),
            ("2024-01-05Z", None),
            ("2024-01-05T", None),
            ("  2024-01-05T10:00:00Z\n", Some("2024-01-05T10:00:00Z")),
            // invalid dates and times
            ("2024-02-29T12:00:00Z", Some("2024-02-29T12:00:00Z")),
            ("2000-02-29", Some("2000-02-29T00:00:00Z")),
            ("2023-02-29T12:00:00Z", None),
            ("1900-02-29", None),
            ("2024-02-30", None),
            ("2024-04-31", None),
            ("2024-13-01", None),
            ("2024-13-01T00:00:00Z", None),
            ("2024-00-10", None),
            ("2024-01-00", None),
            ("2024-01-32", None),
            ("2024-1-5", None),
            ("2024-01-05T24:00:00Z", None),
            ("2024-01-05T10:60:00Z", None),
            ("2024-01-05T10:00:61Z", None),
            ("2024-01-05T1:00:00Z", None),
            ("2016-12-31T23:59:60Z", Some("2017-01-01T00:00:00Z")),
            // bad zones and trailing junk
            ("2024-01-05T10:00:00Zjunk", None),
            ("2024-01-05T10:00:00+25:00", None),
            ("2024-01-05T10:00:00+02:60", None),
            ("2024-01-05T10:00:00+02:", None),
            ("2024-01-05T10:00:00+2", None),
            ("2024-01-05T10:00:00+020", None),
            ("2024-01-05T10:00:00 ", Some("2024-01-05T10:00:00Z")),
            ("2024-01-05X10:00:00", None),
            // range of i64 nanoseconds
            (
                "1677-09-21T00:12:43.145224192Z",
                Some("1677-09-21T00:12:43.145224192Z"),
            ),
            ("1677-09-21T00:12:43.145224191Z", None),
            (
                "2262-04-11T23:47:16.854775807Z",
                Some("2262-04-11T23:47:16.854775807Z"),
            ),
            ("2262-04-11T23:47:16.854775808Z", None),
            ("2262-04-12T01:47:16+02:00", Some("2262-04-11T23:47:16Z")),
            ("9999-12-31T23:59:59Z", None),
            ("0000-01-01", None),
            ("1969-12-31T23:59:59.5Z", Some("1969-12-31T23:59:59.5Z")),
            ("1970-01-01T00:00:00Z", Some("1970-01-01T00:00:00Z")),
        ];
        check_table("iso", table, |s| parse_str(s, &CX));
    }

    #[test]
    fn epoch_strings() {
        let table: &[(&str, Option<&str>)] = &[
            ("1704448800", Some("2024-01-05T10:00:00Z")),
            ("1704448800.25", Some("2024-01-05T10:00:00.25Z")),
            ("1704448800.250", Some("2024-01-05T10:00:00.250Z")),
            ("1704448800.0", Some("2024-01-05T10:00:00.0Z")),
            (
                "1704448800.1234567891",
                Some("2024-01-05T10:00:00.123456789Z"),
            ),
            ("1704448800250", Some("2024-01-05T10:00:00.250Z")),
            ("1704448800250.5", Some("2024-01-05T10:00:00.2505Z")),
            ("1704448800250000", Some("2024-01-05T10:00:00.250000Z")),
            (
                "1704448800250000000",
                Some("2024-01-05T10:00:00.250000000Z"),
            ),
            (" 1704448800 ", Some("2024-01-05T10:00:00Z")),
            ("+1704448800", Some("2024-01-05T10:00:00Z")),
            ("0", Some("1970-01-01T00:00:00Z")),
            ("-0", Some("1970-01-01T00:00:00Z")),
            ("0.5", Some("1970-01-01T00:00:00.5Z")),
            ("-1", Some("1969-12-31T23:59:59Z")),
            ("-1.5", Some("1969-12-31T23:59:58.5Z")),
            ("-1704448800000", Some("1915-12-28T14:00:00.000Z")),
            // unit boundaries
            ("9223372036", Some("2262-04-11T23:47:16Z")),
            ("9223372037", None),
            ("99999999999", None),
            ("100000000000", Some("1973-03-03T09:46:40.000Z")),
            ("99999999999999", None),
            ("100000000000000", Some("1973-03-03T09:46:40.000000Z")),
            ("100000000000000000", Some("1973-03-03T09:46:40.000000000Z")),
            (
                "9223372036.854775807",
                Some("2262-04-11T23:47:16.854775807Z"),
            ),
            ("9223372036.854775808", None),
            (
                "9223372036854775807",
                Some("2262-04-11T23:47:16.854775807Z"),
            ),
            ("9223372036854775808", None),
            (
                "-9223372036854775808",
                Some("1677-09-21T00:12:43.145224192Z"),
            ),
            ("-9223372036854775809", None),
            ("99999999999999999999999", None),
            (
                "0000000000000000000000001704448800",
                Some("2024-01-05T10:00:00Z"),
            ),
            // exponents
            ("1e9", Some("2001-09-09T01:46:40Z")),
            ("1.70444880025e9", Some("2024-01-05T10:00:00.25Z")),
            ("1704448800250e-3", Some("2024-01-05T10:00:00.250Z")),
            ("1E9", Some("2001-09-09T01:46:40Z")),
            ("1e400", None),
            ("1e99999999999999999999", None),
            ("0e99999999999999999999", Some("1970-01-01T00:00:00Z")),
            ("5e-1", Some("1970-01-01T00:00:00.5Z")),
            ("1e-400", Some("1970-01-01T00:00:00.000000000Z")),
            // not numbers
            ("", None),
            ("   ", None),
            ("-", None),
            ("+", None),
            ("--1", None),
            ("1-2", None),
            (".", None),
            ("1.", None),
            (".5", None),
            ("1e", None),
            ("1e+", None),
            ("1.e5", None),
            ("NaN", None),
            ("nan", None),
            ("inf", None),
            ("-inf", None),
            ("+Infinity", None),
            ("0x10", None),
            ("1_000", None),
            ("1,5", None),
            ("1704448800 1", None),
        ];
        check_table("epoch strings", table, |s| parse_str(s, &CX));
    }

    #[test]
    fn epoch_numbers() {
        let table: &[(&str, Option<&str>)] = &[
            ("1704448800", Some("2024-01-05T10:00:00Z")),
            ("1704448800.25", Some("2024-01-05T10:00:00.25Z")),
            // f64: trailing zeros are not known, ~16 significant digits
            ("1704448800.250", Some("2024-01-05T10:00:00.25Z")),
            ("1704448800.0", Some("2024-01-05T10:00:00Z")),
            ("1704448800.123456789", Some("2024-01-05T10:00:00.1234567Z")),
            ("1704448800250", Some("2024-01-05T10:00:00.250Z")),
            ("1704448800250.0", Some("2024-01-05T10:00:00.250Z")),
            ("1704448800250000", Some("2024-01-05T10:00:00.250000Z")),
            (
                "1704448800250000000",
                Some("2024-01-05T10:00:00.250000000Z"),
            ),
            ("0", Some("1970-01-01T00:00:00Z")),
            ("-0.0", Some("1970-01-01T00:00:00Z")),
            ("-1", Some("1969-12-31T23:59:59Z")),
            ("-1.5", Some("1969-12-31T23:59:58.5Z")),
            ("1e9", Some("2001-09-09T01:46:40Z")),
            ("1.5e9", Some("2017-07-14T02:40:00Z")),
            ("1.7044488e12", Some("2024-01-05T10:00:00.000Z")),
            ("1e-7", Some("1970-01-01T00:00:00.0000001Z")),
            (
                "9223372036854775807",
                Some("2262-04-11T23:47:16.854775807Z"),
            ),
            (
                "-9223372036854775808",
                Some("1677-09-21T00:12:43.145224192Z"),
            ),
            ("18446744073709551615", None),
            ("99999999999", None),
            ("1e300", None),
            ("-1e300", None),
            ("1.7976931348623157e308", None),
            ("5e-324", Some("1970-01-01T00:00:00.000000000Z")),
        ];
        check_table("epoch numbers", table, |s| {
            let v: Value = serde_json::from_str(s).expect("test input is JSON");
            match &v {
                Value::Number(n) => parse_number(n),
                _ => panic!("not a number: {s}"),
            }
        });
    }

    #[test]
    fn values() {
        let cases: &[(Value, Option<&str>)] = &[
            (
                serde_json::json!("2024-01-05T10:00:00Z"),
                Some("2024-01-05T10:00:00Z"),
            ),
            (serde_json::json!(1704448800), Some("2024-01-05T10:00:00Z")),
            (
                serde_json::json!("1704448800"),
                Some("2024-01-05T10:00:00Z"),
            ),
            (
                serde_json::json!(1704448800.5),
                Some("2024-01-05T10:00:00.5Z"),
            ),
            (
                serde_json::json!("Oct 11 22:14:15"),
                Some("2024-10-11T22:14:15Z"),
            ),
            (serde_json::json!(null), None),
            (serde_json::json!(true), None),
            (serde_json::json!([1704448800]), None),
            (serde_json::json!({"ts": 1704448800}), None),
            (serde_json::json!(""), None),
        ];
        for (v, want) in cases {
            assert_eq!(show(parse_value(v, &CX)).as_deref(), *want, "{v}");
        }
    }

    #[test]
    fn syslog() {
        let table: &[(&str, Option<&str>)] = &[
            ("Oct 11 22:14:15", Some("2024-10-11T22:14:15Z")),
            ("Oct  1 22:14:15", Some("2024-10-01T22:14:15Z")),
            ("Oct 1 22:14:15", Some("2024-10-01T22:14:15Z")),
            ("oct 11 22:14:15", Some("2024-10-11T22:14:15Z")),
            ("OCT 11 22:14:15", Some("2024-10-11T22:14:15Z")),
            ("Jan 01 00:00:00", Some("2024-01-01T00:00:00Z")),
            (
                "Oct 11 22:14:15.123456",
                Some("2024-10-11T22:14:15.123456Z"),
            ),
            ("Feb 29 12:00:00", Some("2024-02-29T12:00:00Z")),
            ("Feb 30 12:00:00", None),
            ("Apr 31 12:00:00", None),
            ("Oct 32 22:14:15", None),
            ("Oct 00 22:14:15", None),
            ("Oct  0 22:14:15", None),
            ("Foo 11 22:14:15", None),
            ("October 11 22:14:15", None),
            ("Oct 11 22:14", None),
            ("Oct 11 24:14:15", None),
            ("Oct 111 22:14:15", None),
            ("Oct   1 22:14:15", None),
            ("Oct 11 22:14:15 host", None),
        ];
        check_table("syslog", table, |s| parse_str(s, &CX));
        let cx23 = TimeContext::new(2023);
        assert_eq!(parse_str("Feb 29 12:00:00", &cx23), None);
        assert_eq!(
            show(parse_str("Feb 28 12:00:00", &cx23)).as_deref(),
            Some("2023-02-28T12:00:00Z")
        );
    }

    #[test]
    fn syslog_prefix() {
        let cases: &[(&str, Option<(&str, usize)>)] = &[
            (
                "Oct 11 22:14:15 mymachine su: 'su root' failed",
                Some(("2024-10-11T22:14:15Z", 15)),
            ),
            ("Oct  1 22:14:15 host", Some(("2024-10-01T22:14:15Z", 15))),
            ("Oct 1 22:14:15 host", Some(("2024-10-01T22:14:15Z", 14))),
            ("Oct 11 22:14:15", Some(("2024-10-11T22:14:15Z", 15))),
            ("Oct 11 22:14:15.5 x", Some(("2024-10-11T22:14:15.5Z", 17))),
            ("Oct 11 22:14:15. x", Some(("2024-10-11T22:14:15Z", 15))),
            ("Oct 11 22:14:15€", Some(("2024-10-11T22:14:15Z", 15))),
            ("Oct 11 22:14:155", None),
            (" Oct 11 22:14:15", None),
            ("<34>Oct 11 22:14:15", None),
            ("Oct 11 22:14:1", None),
            ("", None),
        ];
        for &(input, want) in cases {
            let got = parse_syslog_prefix(input, &CX).map(|(t, n)| (t.to_rfc3339(), n));
            assert_eq!(
                got.as_ref().map(|(s, n)| (s.as_str(), *n)),
                want,
                "{input:?}"
            );
            if let Some((_, n)) = got {
                assert!(input.is_char_boundary(n));
            }
        }
    }

    fn ts(s: &str) -> Timestamp {
        parse_str(s, &CX).expect("valid test timestamp")
    }

    #[test]
    fn year_from_mtime() {
        let mtime = ts("2025-01-02T00:00:00Z");
        let cases: &[(&str, Option<&str>)] = &[
            ("Dec 31 23:00:00", Some("2024-12-31T23:00:00Z")),
            ("Jan  1 12:00:00", Some("2025-01-01T12:00:00Z")),
            // within a day after the mtime: same year
            ("Jan  2 23:59:59", Some("2025-01-02T23:59:59Z")),
            ("Jan  3 00:00:00", Some("2025-01-03T00:00:00Z")),
            // more than a day after: previous year
            ("Jan  3 00:00:01", Some("2024-01-03T00:00:01Z")),
            // Feb 29 goes back to the latest leap year
            ("Feb 29 10:00:00", Some("2024-02-29T10:00:00Z")),
        ];
        for &(input, want) in cases {
            let got = parse_syslog_prefix_mtime(input, mtime).map(|(t, _)| t.to_rfc3339());
            assert_eq!(got.as_deref(), want, "{input:?}");
        }
        let later = ts("2027-06-01T00:00:00Z");
        let got = parse_syslog_prefix_mtime("Feb 29 10:00:00", later).map(|(t, _)| t.to_rfc3339());
        assert_eq!(got.as_deref(), Some("2024-02-29T10:00:00Z"));
        let got = parse_glog_prefix_mtime("E1231 23:59:59.000001 1 a.cc:1] x", mtime)
            .map(|(l, t, n)| (l, t.to_rfc3339(), n));
        assert_eq!(
            got,
            Some((Level::Error, "2024-12-31T23:59:59.000001Z".to_string(), 21))
        );
        assert_eq!(TimeContext::from_mtime(mtime), TimeContext::new(2025));
        // near the edges of the representable range: no panic, just None
        assert_eq!(
            parse_syslog_prefix_mtime("Dec 31 23:00:00", Timestamp::from_nanos(i64::MIN, 0)),
            None
        );
        assert!(
            parse_syslog_prefix_mtime("Jan  1 00:00:00", Timestamp::from_nanos(i64::MAX, 0))
                .is_some()
        );
    }

    type GlogCase<'a> = (&'a str, Option<(Level, &'a str, usize)>);

    #[test]
    fn glog() {
        let cases: &[GlogCase] = &[
            (
                "I0102 15:04:05.123456",
                Some((Level::Info, "2024-01-02T15:04:05.123456Z", 21)),
            ),
            (
                "I0102 15:04:05.123456   12345 main.go:42] hello",
                Some((Level::Info, "2024-01-02T15:04:05.123456Z", 21)),
            ),
            (
                "W0229 00:00:00.000001 1 x] y",
                Some((Level::Warn, "2024-02-29T00:00:00.000001Z", 21)),
            ),
            (
                "E1231 23:59:59.999999",
                Some((Level::Error, "2024-12-31T23:59:59.999999Z", 21)),
            ),
            (
                "F0101 00:00:00",
                Some((Level::Fatal, "2024-01-01T00:00:00Z", 14)),
            ),
            ("X0102 15:04:05.123456", None),
            ("i0102 15:04:05.123456", None),
            ("I1302 15:04:05.123456", None),
            ("I0230 15:04:05.123456", None),
            ("I0100 15:04:05.123456", None),
            ("I0102 25:04:05.123456", None),
            ("I0102 15:04", None),
            ("I0102  15:04:05", None),
            ("I010215:04:05", None),
            (
                "I0102 15:04:05.12€",
                Some((Level::Info, "2024-01-02T15:04:05.12Z", 17)),
            ),
            ("I", None),
            ("", None),
        ];
        for &(input, want) in cases {
            let got = parse_glog_prefix(input, &CX).map(|(l, t, n)| (l, t.to_rfc3339(), n));
            assert_eq!(
                got.as_ref().map(|(l, s, n)| (*l, s.as_str(), *n)),
                want,
                "{input:?}"
            );
        }
        assert_eq!(
            parse_glog_prefix("W0229 00:00:00", &TimeContext::new(2023)),
            None
        );
        let table: &[(&str, Option<&str>)] = &[
            ("I0102 15:04:05.123456", Some("2024-01-02T15:04:05.123456Z")),
            ("E0102 15:04:05", Some("2024-01-02T15:04:05Z")),
            ("I0102 15:04:05.123456 1 a.go:1] x", None),
        ];
        check_table("glog via parse_str", table, |s| parse_str(s, &CX));
    }

    #[test]
    fn apache() {
        let table: &[(&str, Option<&str>)] = &[
            ("10/Oct/2000:13:55:36 -0700", Some("2000-10-10T20:55:36Z")),
            ("[10/Oct/2000:13:55:36 -0700]", Some("2000-10-10T20:55:36Z")),
            ("10/Oct/2000:13:55:36 +0000", Some("2000-10-10T13:55:36Z")),
            ("10/Oct/2000:23:55:36 -0700", Some("2000-10-11T06:55:36Z")),
            ("01/Jan/2024:00:30:00 +0100", Some("2023-12-31T23:30:00Z")),
            ("10/Oct/2000:13:55:36", Some("2000-10-10T13:55:36Z")),
            ("1/Oct/2000:13:55:36 +0000", Some("2000-10-01T13:55:36Z")),
            ("10/oct/2000:13:55:36 +0000", Some("2000-10-10T13:55:36Z")),
            ("29/Feb/2024:00:00:00 +0000", Some("2024-02-29T00:00:00Z")),
            ("29/Feb/2023:00:00:00 +0000", None),
            ("10/Foo/2000:13:55:36 -0700", None),
            ("10/Oct/2000 13:55:36 -0700", None),
            ("10/Oct/2000:13:55 -0700", None),
            ("10/Oct/2000:13:55:36 -0760", None),
            ("10/Oct/2000:13:55:36 -0700 x", None),
            ("10/Oct/2000:13:55:36 -07€", None),
            ("[10/Oct/2000:13:55:36 -0700", Some("2000-10-10T20:55:36Z")),
            ("", None),
            ("[", None),
        ];
        check_table("apache", table, parse_apache);
        check_table("apache via parse_str", table, |s| parse_str(s, &CX));
        let line = "[10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200";
        let (t, n) = parse_apache_prefix(line).expect("prefix");
        assert_eq!(t.to_rfc3339(), "2000-10-10T20:55:36Z");
        assert_eq!(line.get(n..), Some(" \"GET /apache_pb.gif HTTP/1.0\" 200"));
    }

    #[test]
    fn garbage_and_non_ascii() {
        let inputs = [
            "",
            " ",
            "\t\n",
            "hello",
            "null",
            "true",
            "T",
            "Z",
            "[]",
            "{}",
            "é",
            "€",
            "😀",
            "😀😀😀😀😀😀😀😀😀😀😀😀",
            "2024😀",
            "é2024-01-05",
            "２０２４-01-05",
            "2024-01-05T10:00:00é",
            "2024-01-05T10:00:0é",
            "2024-01-0é",
            "2024-0é-05",
            "202é-01-05",
            "2024-01-05T10:00:00.25€Z",
            "2024-01-05T10:00:00+0€",
            "2024-01-05 10:00:00 U€C",
            "Oct 11 22:14:1€",
            "Oc€ 11 22:14:15",
            "Oct €1 22:14:15",
            "I0102 15:04:05.€",
            "I01€2 15:04:05",
            "10/Oct/2000:13:55:36 -07€",
            "10/O€t/2000:13:55:36",
            "1€/Oct/2000",
            "1704448800€",
            "17044€48800",
            "-€",
            "1e€",
            "1.€",
            "[€",
            "\u{0}",
            "\u{feff}2024-01-05",
            "2024-01-05\u{a0}",
            "I\u{300}",
            "Oct\u{300}11",
        ];
        for s in inputs {
            assert_eq!(parse_str(s, &CX), None, "{s:?}");
            let _ = parse_user_time(s);
            let _ = parse_syslog_prefix(s, &CX);
            let _ = parse_glog_prefix(s, &CX);
            let _ = parse_apache(s);
            let _ = parse_apache_prefix(s);
            assert_eq!(normalize_level_str(s), None, "{s:?}");
        }
    }

    #[test]
    fn user_time() {
        assert_eq!(
            show(parse_user_time("2024-01-05")).as_deref(),
            Some("2024-01-05T00:00:00Z")
        );
        assert_eq!(
            show(parse_user_time(" 2024-01-05T10:00:00.5+01:00 ")).as_deref(),
            Some("2024-01-05T09:00:00.5Z")
        );
        assert_eq!(
            show(parse_user_time("1704448800")).as_deref(),
            Some("2024-01-05T10:00:00Z")
        );
        assert_eq!(parse_user_time("yesterday"), None);
        // year-less input lands in the current year or the one before, and
        // never more than a day in the future
        let now = Timestamp::now();
        let t = parse_user_time("Jan  1 00:00:00").expect("syslog form");
        assert!(t.nanos <= now.nanos + FUTURE_SLACK_NANOS);
        let this_year = TimeContext::current().default_year;
        let y = year_of(t.nanos);
        assert!(y == i64::from(this_year) || y == i64::from(this_year) - 1);
    }

    #[test]
    fn formatting() {
        let cases = [
            (Timestamp::from_nanos(0, 0), "1970-01-01T00:00:00Z"),
            (Timestamp::from_nanos(0, 3), "1970-01-01T00:00:00.000Z"),
            (
                Timestamp::from_nanos(-1, 9),
                "1969-12-31T23:59:59.999999999Z",
            ),
            (Timestamp::from_nanos(-1, 0), "1969-12-31T23:59:59Z"),
            (
                Timestamp::from_nanos(1_704_448_800_123_456_789, 3),
                "2024-01-05T10:00:00.123Z",
            ),
            (
                Timestamp::from_nanos(1_704_448_800_123_456_789, 200),
                "2024-01-05T10:00:00.123456789Z",
            ),
            (
                Timestamp {
                    nanos: 0,
                    frac_digits: 200,
                },
                "1970-01-01T00:00:00.000000000Z",
            ),
            (
                Timestamp::from_nanos(i64::MIN, 9),
                "1677-09-21T00:12:43.145224192Z",
            ),
            (
                Timestamp::from_nanos(i64::MAX, 9),
                "2262-04-11T23:47:16.854775807Z",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(t.to_rfc3339(), want);
            assert_eq!(t.to_string(), want);
            assert!(t.frac_digits <= 9 || t.nanos == 0);
        }
        assert_eq!(Timestamp::from_nanos(5, 12).frac_digits, 9);
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH + std::time::Duration::from_millis(1500)),
            Some(Timestamp::from_nanos(1_500_000_000, 9))
        );
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH - std::time::Duration::from_secs(1)),
            Some(Timestamp::from_nanos(-1_000_000_000, 9))
        );
        let t = ts("2024-01-05T10:00:00.25Z");
        assert_eq!(
            t.to_datetime().to_rfc3339(),
            "2024-01-05T10:00:00.250+00:00"
        );
        // ordering: by instant first
        assert!(ts("2024-01-05T10:00:00Z") < ts("2024-01-05T10:00:00.001Z"));
        assert!(ts("2024-01-05T10:00:00.5Z") < ts("2024-01-05T10:00:00.500Z"));
    }

    #[test]
    fn levels() {
        let table: &[(&str, Option<Level>)] = &[
            ("trace", Some(Level::Trace)),
            ("TRACE", Some(Level::Trace)),
            ("trc", Some(Level::Trace)),
            ("Verbose", Some(Level::Trace)),
            ("v", Some(Level::Trace)),
            ("finest", Some(Level::Trace)),
            ("debug", Some(Level::Debug)),
            ("DBG", Some(Level::Debug)),
            ("fine", Some(Level::Debug)),
            ("D", Some(Level::Debug)),
            ("info", Some(Level::Info)),
            (" INFO ", Some(Level::Info)),
            ("Information", Some(Level::Info)),
            ("informational", Some(Level::Info)),
            ("notice", Some(Level::Info)),
            ("I", Some(Level::Info)),
            ("INF", Some(Level::Info)),
            ("warn", Some(Level::Warn)),
            ("WARNING", Some(Level::Warn)),
            ("wrn", Some(Level::Warn)),
            ("W", Some(Level::Warn)),
            ("error", Some(Level::Error)),
            ("ERR", Some(Level::Error)),
            ("e", Some(Level::Error)),
            ("SEVERE", Some(Level::Error)),
            ("fatal", Some(Level::Fatal)),
            ("critical", Some(Level::Fatal)),
            ("CRIT", Some(Level::Fatal)),
            ("alert", Some(Level::Fatal)),
            ("emerg", Some(Level::Fatal)),
            ("Emergency", Some(Level::Fatal)),
            ("panic", Some(Level::Fatal)),
            ("F", Some(Level::Fatal)),
            ("FTL", Some(Level::Fatal)),
            // numbers as text
            ("0", Some(Level::Fatal)),
            ("2", Some(Level::Fatal)),
            ("3", Some(Level::Error)),
            ("4", Some(Level::Warn)),
            ("5", Some(Level::Info)),
            ("6", Some(Level::Info)),
            ("7", Some(Level::Debug)),
            ("8", None),
            ("9", None),
            ("10", Some(Level::Trace)),
            ("20", Some(Level::Debug)),
            ("30", Some(Level::Info)),
            ("35", Some(Level::Info)),
            ("40", Some(Level::Warn)),
            ("49", Some(Level::Warn)),
            ("50", Some(Level::Error)),
            ("60", Some(Level::Fatal)),
            ("70", Some(Level::Fatal)),
            ("30.0", Some(Level::Info)),
            ("30.5", None),
            ("-1", None),
            ("+30", Some(Level::Info)),
            ("99999999999999999999999", Some(Level::Fatal)),
            ("1e400", None),
            // anything else
            ("", None),
            ("  ", None),
            ("information!", None),
            ("informationalx", None),
            ("warnings", None),
            ("[INFO]", None),
            ("inf.", None),
            ("nan", None),
            ("-inf", None),
            ("infinity", None),
            ("ｉｎｆｏ", None),
            ("İNFO", None),
            ("info\u{0}", None),
        ];
        let mut failures = Vec::new();
        for &(input, want) in table {
            let got = normalize_level_str(input);
            if got != want {
                failures.push(format!("{input:?}: got {got:?}, want {want:?}"));
            }
            let got = normalize_level(&Value::String(input.to_string()), "level");
            if got != want {
                failures.push(format!("value {input:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn levels_from_values() {
        use serde_json::json;
        let cases: &[(Value, &str, Option<Level>)] = &[
            (json!(30), "level", Some(Level::Info)),
            (json!(50), "level", Some(Level::Error)),
            (json!(55), "level", Some(Level::Error)),
            (json!(6), "level", Some(Level::Info)),
            (json!(30.0), "level", Some(Level::Info)),
            (json!(30.5), "level", None),
            (json!(-5), "level", None),
            (json!(u64::MAX), "level", Some(Level::Fatal)),
            (json!(1e300), "level", Some(Level::Fatal)),
            // journald PRIORITY: syslog severities only, often as strings
            (json!("6"), "PRIORITY", Some(Level::Info)),
            (json!(3), "PRIORITY", Some(Level::Error)),
            (json!("0"), "priority", Some(Level::Fatal)),
            (json!(30), "PRIORITY", None),
            (json!("30"), "PRIORITY", None),
            (json!(u64::MAX), "PRIORITY", None),
            (json!("warning"), "PRIORITY", Some(Level::Warn)),
            (json!(null), "level", None),
            (json!(true), "level", None),
            (json!(["info"]), "level", None),
            (json!({"name": "info"}), "level", None),
        ];
        for (v, field, want) in cases {
            assert_eq!(normalize_level(v, field), *want, "{v} in {field}");
        }
    }

    #[test]
    fn level_codes() {
        for (i, l) in Level::ALL.iter().enumerate() {
            assert_eq!(l.code(), i as i64);
            assert_eq!(Level::from_code(l.code()), Some(*l));
            assert_eq!(normalize_level_str(l.as_str()), Some(*l));
            assert_eq!(l.to_string(), l.as_str());
        }
        assert_eq!(Level::from_code(-1), None);
        assert_eq!(Level::from_code(6), None);
        assert!(Level::Trace < Level::Fatal);
    }

    #[test]
    fn calendar_matches_chrono() {
        use chrono::{Datelike, NaiveDate};
        // Every day of the representable range.
        let mut day = NaiveDate::from_ymd_opt(1677, 9, 21).expect("date");
        let end = NaiveDate::from_ymd_opt(2262, 4, 12).expect("date");
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("date");
        while day <= end {
            let n = (day - epoch).num_days();
            let (y, m, d) = (i64::from(day.year()), day.month(), day.day());
            assert_eq!(civil_from_days(n), (y, m, d));
            assert_eq!(date_days(y, m, d), Some(n));
            day = day.succ_opt().expect("date");
        }
        // Validity of every (year, month, day) triple, including bad ones.
        for y in 1596..=2404 {
            for m in 0..=13 {
                for d in 0..=32 {
                    let want = NaiveDate::from_ymd_opt(y, m, d).map(|nd| (nd - epoch).num_days());
                    assert_eq!(date_days(i64::from(y), m, d), want, "{y}-{m}-{d}");
                }
            }
        }
    }

    fn aligned(nanos: i64, fd: u8) -> Option<Timestamp> {
        let step = i64::from(POW10[usize::from(9 - fd)]);
        let n = nanos.div_euclid(step).checked_mul(step)?;
        Some(Timestamp::from_nanos(n, fd))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = parse_str(&s, &CX);
            let _ = parse_user_time(&s);
            let _ = parse_syslog_prefix(&s, &CX);
            let _ = parse_glog_prefix(&s, &CX);
            let _ = parse_apache(&s);
            let _ = parse_apache_prefix(&s);
            let _ = normalize_level_str(&s);
        }

        #[test]
        fn never_panics_on_timestamp_like(s in "[0-9TtZz:+\\-., /\\[\\]eEIWFOctJanFebDecUTC\u{e9}\u{20ac}\u{1f600}]{0,40}") {
            let _ = parse_str(&s, &CX);
            let _ = parse_user_time(&s);
            if let Some((_, n)) = parse_syslog_prefix(&s, &CX) {
                prop_assert!(s.is_char_boundary(n));
            }
            if let Some((_, _, n)) = parse_glog_prefix(&s, &CX) {
                prop_assert!(s.is_char_boundary(n));
            }
            if let Some((_, n)) = parse_apache_prefix(&s) {
                prop_assert!(s.is_char_boundary(n));
            }
            let _ = normalize_level_str(&s);
        }

        #[test]
        fn mutated_valid_inputs_never_panic(
            base in prop::sample::select(vec![
                "2024-01-05T10:00:00.250+02:00", "2024-02-03 10:11:12,345 UTC",
                "Oct  1 22:14:15.5", "I0102 15:04:05.123456", "[10/Oct/2000:13:55:36 -0700]",
                "1704448800.25", "-1.70444880025e9",
            ]),
            cut in 0usize..40,
            insert in any::<char>(),
        ) {
            let mut s: String = base.chars().take(cut).collect();
            s.push(insert);
            s.extend(base.chars().skip(cut));
            let _ = parse_str(&s, &CX);
            let _ = parse_glog_prefix(&s, &CX);
            let _ = parse_syslog_prefix(&s, &CX);
            let _ = parse_apache_prefix(&s);
            let truncated: String = base.chars().take(cut).collect();
            let _ = parse_str(&truncated, &CX);
        }

        #[test]
        fn rfc3339_round_trips(nanos in any::<i64>(), fd in 0u8..=9) {
            if let Some(t) = aligned(nanos, fd) {
                let text = t.to_rfc3339();
                prop_assert_eq!(parse_str(&text, &CX), Some(t), "{}", text);
                prop_assert_eq!(parse_user_time(&text), Some(t));
            }
        }

        #[test]
        fn formatting_matches_chrono(nanos in any::<i64>()) {
            let t = Timestamp::from_nanos(nanos, 9);
            let want = t.to_datetime().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            prop_assert_eq!(t.to_rfc3339(), want);
        }

        #[test]
        fn offsets_match_chrono(
            secs in -9_000_000_000i64..9_000_000_000,
            sub in 0u32..1_000_000_000,
            off_min in -(23 * 60 + 59)..=(23 * 60 + 59i32),
            compact in any::<bool>(),
        ) {
            let utc = chrono::DateTime::from_timestamp(secs, sub).expect("in range");
            let zone = chrono::FixedOffset::east_opt(off_min * 60).expect("offset");
            let local = utc.with_timezone(&zone);
            let text = if compact {
                local.format("%Y-%m-%d %H:%M:%S,%f%z").to_string()
            } else {
                local.format("%Y-%m-%dT%H:%M:%S%.9f%:z").to_string()
            };
            let want = Timestamp::from_nanos(secs * NANOS_PER_SEC + i64::from(sub), 9);
            prop_assert_eq!(parse_str(&text, &CX), Some(want), "{}", text);
        }

        #[test]
        fn epoch_seconds_strings(secs in -9_223_372_036i64..=9_223_372_036, frac in 0u32..1000) {
            let want = Timestamp::from_nanos(secs * NANOS_PER_SEC, 0);
            prop_assert_eq!(parse_str(&secs.to_string(), &CX), Some(want));
            let n = serde_json::Number::from(secs);
            prop_assert_eq!(parse_number(&n), Some(want));
            // a three-digit fraction, exactly
            if secs.abs() < 9_223_372_035 {
                let text = format!("{secs}.{frac:03}");
                let delta = i64::from(frac) * 1_000_000;
                let nanos = if text.starts_with('-') { secs * NANOS_PER_SEC - delta } else { secs * NANOS_PER_SEC + delta };
                prop_assert_eq!(parse_str(&text, &CX), Some(Timestamp::from_nanos(nanos, 3)));
            }
        }

        #[test]
        fn json_floats_match_f64(v in -9.0e9f64..9.0e9) {
            if let Some(n) = serde_json::Number::from_f64(v) {
                if let Some(t) = parse_number(&n) {
                    let err = (t.nanos as f64 - v * 1e9).abs();
                    // within the f64's own precision (plus the truncation to 1 ns)
                    prop_assert!(err <= v.abs() * 1e9 * 4.0 * f64::EPSILON + 1.0, "{} -> {:?}", v, t);
                } else {
                    prop_assert!(false, "{} rejected", v);
                }
            }
        }
    }
}
