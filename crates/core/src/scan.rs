//! Byte-level JSON scanning: where does a value end, and what are the members
//! of a top-level object — without building a tree.
//!
//! The reader uses [`value_end`] to cut JSON documents (arrays, wrapper
//! objects, concatenated pretty-printed objects) into records, and the
//! indexer uses [`top_level_members`] to pick the ts/type/key/level fields out
//! of a record without allocating its payload. Neither recurses, so nesting
//! depth costs nothing but a counter.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Outcome of looking for the end of a value that starts at `buf[start]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The value ends just before this index.
    Complete(usize),
    /// The buffer ends inside the value: read more and scan again.
    Incomplete,
}

/// Finds the end of the JSON value starting at `buf[start]` (which must not
/// be whitespace). Strings and nesting are tracked; the value is not
/// validated — the parser that reads the record does that and reports the
/// error at the record's line. A scalar ends at the next delimiter.
pub fn value_end(buf: &[u8], start: usize) -> Scan {
    let Some(&first) = buf.get(start) else { return Scan::Incomplete };
    if first != b'{' && first != b'[' && first != b'"' {
        // A scalar (or garbage): up to the next structural delimiter.
        let rest = &buf[start..];
        return match rest.iter().position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n')) {
            Some(n) => Scan::Complete(start + n.max(1)),
            None => Scan::Incomplete,
        };
    }
    let mut depth: u64 = 0;
    let mut i = start;
    while i < buf.len() {
        match buf[i] {
            b'"' => match string_end(buf, i) {
                Some(end) => {
                    i = end;
                    if depth == 0 {
                        return Scan::Complete(i);
                    }
                    continue;
                }
                None => return Scan::Incomplete,
            },
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Scan::Complete(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Scan::Incomplete
}

/// Index just past the closing quote of the string starting at `buf[start]`.
fn string_end(buf: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        let n = memchr::memchr2(b'"', b'\\', buf.get(i..)?)?;
        i += n;
        if buf[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// Index of the first byte at or after `i` that is not JSON whitespace.
pub fn skip_ws(buf: &[u8], mut i: usize) -> usize {
    while i < buf.len() && matches!(buf[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// Members of a record that is a JSON object, values left unparsed.
pub type Members<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// Parses one record (validating all of it) into its top-level members when
/// it is an object; `Ok(None)` for valid JSON that is not an object.
pub fn top_level_members(text: &str) -> Result<Option<Members<'_>>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let out = (&mut de).deserialize_any(RecordVisitor)?;
    de.end()?;
    Ok(out)
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Option<Members<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(12);
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            members.push((key.0, value));
        }
        Ok(Some(members))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// An object key, borrowed from the record unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(s: &str) -> Scan {
        value_end(s.as_bytes(), 0)
    }

    #[test]
    fn value_end_tracks_strings_and_nesting() {
        assert_eq!(end(r#"{"a":"}"} rest"#), Scan::Complete(9));
        assert_eq!(end(r#"{"a":"\"}"}"#), Scan::Complete(11));
        assert_eq!(end(r#"[1,[2,{"x":[]}]],"#), Scan::Complete(16));
        assert_eq!(end(r#""str\\" x"#), Scan::Complete(7));
        assert_eq!(end("123, 4"), Scan::Complete(3));
        assert_eq!(end(r#"{"a": [1, 2"#), Scan::Incomplete);
        assert_eq!(end(r#""unterminated\""#), Scan::Incomplete);
        assert_eq!(end(""), Scan::Incomplete);
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let deep = "[".repeat(200_000) + &"]".repeat(200_000);
        assert_eq!(end(&deep), Scan::Complete(400_000));
    }

    #[test]
    fn members_borrow_keys_and_keep_raw_values() {
        let m = top_level_members(r#"{"type":"A","da\u0074a":{"x":[1,2]},"n":1}"#).unwrap().unwrap();
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["type", "data", "n"]);
        assert!(matches!(m[0].0, Cow::Borrowed(_)));
        assert!(matches!(m[1].0, Cow::Owned(_)));
        assert_eq!(m[1].1.get(), r#"{"x":[1,2]}"#);
        assert!(top_level_members("[1,2]").unwrap().is_none());
        assert!(top_level_members(r#"{"a":1} x"#).is_err());
        assert!(top_level_members(r#"{"a":tru}"#).is_err());
    }
}
