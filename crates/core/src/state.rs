//! The application state that replay produces, in a shape that makes the
//! common case cheap: when the state is a JSON object (it almost always is),
//! its members live in a persistent ordered map, each behind its own `Arc`.
//! Cloning a state for a cache costs O(1), an event that touches one entity
//! copies only that entity and the map path to it, and two states of one
//! lineage share every member neither changed.
//!
//! A member restored from a checkpoint stays as its JSON text until
//! something reads into it or changes it: restoring a state of 100,000
//! entities to replay a few events parses only the entities they touch.

use crate::patch;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::{Arc, OnceLock};

/// The state after some event. `Object` is a JSON object split into members;
/// `Other` is any other JSON value at the root (a reducer may produce one).
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Object(Members),
    Other(Value),
}

/// The members of an object state.
pub type Members = imbl::OrdMap<Arc<str>, Arc<Member>>;

/// A member name to look up in [`Members`]: compared eight bytes at a time
/// in line instead of through a `memcmp` call per step of the search, which
/// was the replay's largest single cost with hundreds of thousands of members
/// (a search compares the name some twenty times). Same order as `str`.
#[derive(Debug, Clone, Copy)]
pub struct Name<'a>(pub &'a str);

impl equivalent::Equivalent<Arc<str>> for Name<'_> {
    fn equivalent(&self, key: &Arc<str>) -> bool {
        self.0 == &**key
    }
}

impl equivalent::Comparable<Arc<str>> for Name<'_> {
    fn compare(&self, key: &Arc<str>) -> std::cmp::Ordering {
        compare_bytes(self.0.as_bytes(), key.as_bytes())
    }
}

/// Lexicographic order of byte strings (as `<[u8]>::cmp`), in line.
#[inline]
pub fn compare_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let (mut x, mut y) = (a, b);
    while let (Some((wx, rx)), Some((wy, ry))) = (x.split_first_chunk::<8>(), y.split_first_chunk::<8>()) {
        if wx != wy {
            return u64::from_be_bytes(*wx).cmp(&u64::from_be_bytes(*wy));
        }
        (x, y) = (rx, ry);
    }
    for (bx, by) in x.iter().zip(y) {
        if bx != by {
            return bx.cmp(by);
        }
    }
    x.len().cmp(&y.len())
}

/// One member's value, as a parsed value, as JSON text, or both: each is
/// made from the other on first use and kept, so a member restored from a
/// checkpoint is parsed only when read, and a member written to one
/// checkpoint is serialised again only after it changed.
#[derive(Debug, Clone, Default)]
pub struct Member {
    value: OnceLock<Value>,
    /// Always valid JSON: written by serde_json, or checked when read.
    text: OnceLock<Box<str>>,
}

impl From<Value> for Member {
    fn from(v: Value) -> Member {
        Member { value: OnceLock::from(v), text: OnceLock::new() }
    }
}

impl From<Box<RawValue>> for Member {
    fn from(raw: Box<RawValue>) -> Member {
        Member::from_json_text(raw.get().into())
    }
}

impl Member {
    /// A member from JSON text the engine wrote itself (a checkpoint), so
    /// not validated again: a damaged text reads as `null`.
    pub fn from_json_text(text: Box<str>) -> Member {
        Member { value: OnceLock::new(), text: OnceLock::from(text) }
    }
}

impl PartialEq for Member {
    fn eq(&self, other: &Member) -> bool {
        if let (Some(a), Some(b)) = (self.text.get(), other.text.get()) {
            if a == b {
                return true;
            }
        }
        self.value() == other.value()
    }
}

impl Member {
    /// The parsed value.
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| match self.text.get() {
            Some(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            None => Value::Null,
        })
    }

    /// The value, for changing it; the cached text is dropped.
    pub fn value_mut(&mut self) -> &mut Value {
        self.value();
        self.text = OnceLock::new();
        self.value.get_mut().expect("value() initialised it")
    }

    pub fn into_value(mut self) -> Value {
        self.value();
        self.value.take().unwrap_or(Value::Null)
    }

    /// The JSON text of the value.
    pub fn text(&self) -> &str {
        self.text_via(&mut Vec::new())
    }

    /// The JSON text of the value, written through `scratch` when it is not
    /// cached yet (one allocation of the exact size, instead of a string
    /// grown while writing).
    pub fn text_via(&self, scratch: &mut Vec<u8>) -> &str {
        if let Some(text) = self.text.get() {
            return text;
        }
        scratch.clear();
        let v = self.value.get().unwrap_or(&Value::Null);
        let text: Box<str> = match serde_json::to_writer(&mut *scratch, v).ok().and_then(|_| std::str::from_utf8(scratch).ok()) {
            Some(text) => text.into(),
            None => "null".into(),
        };
        self.text.get_or_init(|| text)
    }

    /// Keeps only the JSON text, when there is one: a member nothing
    /// changed for a while costs a tenth of the memory as text, and is
    /// parsed again if something changes it.
    /// Returns the value it let go of.
    pub fn cool(&mut self) -> Option<Value> {
        self.text.get()?;
        self.value.take()
    }

    /// Whether both hold the same JSON text (cheap; false means "maybe not").
    pub fn same_text(&self, other: &Member) -> bool {
        matches!((self.text.get(), other.text.get()), (Some(a), Some(b)) if a == b)
    }

    pub fn write_json(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(self.text().as_bytes())
    }
}

/// A mutable handle on a member's value, parsing it if needed and copying it
/// first if another state shares it.
pub fn member_mut(m: &mut Arc<Member>) -> &mut Value {
    if Arc::get_mut(m).is_none() {
        // Only the value is copied: the text a checkpoint cached would be
        // dropped by the change at once.
        *m = Arc::new(Member::from(m.value().clone()));
    }
    Arc::make_mut(m).value_mut()
}

impl Default for State {
    fn default() -> Self {
        State::Object(Members::new())
    }
}

impl State {
    pub fn from_value(v: Value) -> State {
        match v {
            Value::Object(map) => State::Object(map.into_iter().map(|(k, v)| (Arc::from(k), Arc::new(Member::from(v)))).collect()),
            other => State::Other(other),
        }
    }

    /// A state from its JSON text, leaving object members unparsed.
    pub fn from_json(text: &str) -> Result<State, serde_json::Error> {
        match crate::scan::top_level_members(text)? {
            Some(members) => Ok(State::Object(
                members.into_iter().map(|(k, raw)| (Arc::from(k.as_ref()), Arc::new(Member::from(raw.to_owned())))).collect(),
            )),
            None => Ok(State::Other(serde_json::from_str(text)?)),
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            State::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.to_string(), v.value().clone())).collect::<Map<_, _>>()),
            State::Other(v) => v.clone(),
        }
    }

    /// The members map, turning a non-object root into an empty object (as
    /// RFC 7386 does when an object is merged into a scalar).
    pub fn members_mut(&mut self) -> &mut Members {
        if let State::Other(_) = self {
            *self = State::default();
        }
        match self {
            State::Object(map) => map,
            State::Other(_) => unreachable!("replaced by an object above"),
        }
    }

    /// Number of top-level members (0 for a non-object root).
    pub fn len(&self) -> usize {
        match self {
            State::Object(map) => map.len(),
            State::Other(_) => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at a JSON Pointer; `Ok(None)` when the path is missing.
    pub fn pointer(&self, ptr: &str) -> Result<Option<Value>, patch::PointerError> {
        let tokens = patch::parse_pointer(ptr)?;
        Ok(self.pointer_tokens(&tokens))
    }

    /// The value at a pointer given as tokens (`[]` is the root).
    pub fn pointer_tokens(&self, tokens: &[String]) -> Option<Value> {
        match self {
            State::Other(v) => walk(v, tokens).cloned(),
            State::Object(map) => match tokens.split_first() {
                None => Some(self.to_value()),
                Some((first, rest)) => walk(map.get(first.as_str())?.value(), rest).cloned(),
            },
        }
    }

    /// Writes the state as compact JSON without building one big `Value`.
    pub fn write_json(&self, w: &mut impl Write) -> io::Result<()> {
        match self {
            State::Other(v) => serde_json::to_writer(&mut *w, v).map_err(io::Error::other),
            State::Object(map) => {
                w.write_all(b"{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        w.write_all(b",")?;
                    }
                    serde_json::to_writer(&mut *w, &**k).map_err(io::Error::other)?;
                    w.write_all(b":")?;
                    v.write_json(w)?;
                }
                w.write_all(b"}")
            }
        }
    }

    /// Approximate serialized size in bytes, for checkpoint placement.
    pub fn approx_size(&self) -> usize {
        let mut counter = CountingWriter(0);
        let _ = self.write_json(&mut counter);
        counter.0
    }
}

fn walk<'a>(mut v: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    for t in tokens {
        v = match v {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(array_index(t)?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// An RFC 6901 array index: digits, no leading zero.
fn array_index(t: &str) -> Option<usize> {
    if t.is_empty() || (t.len() > 1 && t.starts_with('0')) || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

struct CountingWriter(usize);

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Drops a state (or anything else) on a background thread. Freeing a large
/// state that shares nothing with others walks every member; a cache
/// evicting one should not make the caller wait for that.
pub fn drop_later<T: Send + 'static>(state: T) {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::{Mutex, OnceLock};
    type Garbage = Box<dyn Send>;
    static DROPPER: OnceLock<Option<Mutex<Sender<Garbage>>>> = OnceLock::new();
    let sender = DROPPER.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        let spawned = std::thread::Builder::new().name("hindsight-drop".into()).spawn(move || rx.into_iter().for_each(drop));
        spawned.ok().map(|_| Mutex::new(tx))
    });
    if let Some(Ok(tx)) = sender.as_ref().map(Mutex::lock) {
        let _ = tx.send(Box::new(state));
    }
}

/// Which top-level members replay has touched since some point: what a delta
/// checkpoint must store and what a short-range diff must compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    Keys(rustc_hash::FxHashSet<Box<str>>),
    /// The root was replaced or rewritten: compare everything.
    All,
}

impl Default for Touched {
    fn default() -> Self {
        Touched::Keys(Default::default())
    }
}

impl Touched {
    pub fn key(&mut self, k: &str) {
        if let Touched::Keys(set) = self {
            if !set.contains(k) {
                set.insert(k.into());
            }
        }
    }

    pub fn all(&mut self) {
        *self = Touched::All;
    }
}

/// RFC 6902 operations turning `a` into `b`. When `touched` is known (the
/// members that changed between them), only those are compared, so the cost
/// grows with what changed; otherwise unchanged members are skipped by
/// pointer before any deep comparison.
pub fn diff_states(a: &State, b: &State, touched: Option<&Touched>) -> Vec<patch::PatchOp> {
    let mut out = Vec::new();
    match (a, b) {
        (State::Object(ma), State::Object(mb)) => match touched {
            Some(Touched::Keys(keys)) => {
                let mut keys: Vec<&Box<str>> = keys.iter().collect();
                keys.sort_unstable();
                for k in keys {
                    diff_member(k, ma.get(&**k), mb.get(&**k), &mut out);
                }
            }
            _ => {
                let keys: BTreeSet<&Arc<str>> = ma.keys().chain(mb.keys()).collect();
                for k in keys {
                    diff_member(k, ma.get(k), mb.get(k), &mut out);
                }
            }
        },
        _ => patch::diff_into("", &a.to_value(), &b.to_value(), &mut out),
    }
    out
}

fn diff_member(k: &str, a: Option<&Arc<Member>>, b: Option<&Arc<Member>>, out: &mut Vec<patch::PatchOp>) {
    if let (Some(x), Some(y)) = (a, b) {
        if Arc::ptr_eq(x, y) || x.same_text(y) {
            return;
        }
    }
    let prefix = format!("/{}", patch::escape_token(k));
    patch::diff_entry(&prefix, a.map(|v| v.value()), b.map(|v| v.value()), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_state_round_trips_and_writes_compact_json() {
        let v = json!({"b": {"x": [1, 2]}, "a": 1});
        let s = State::from_value(v.clone());
        assert_eq!(s.to_value(), v);
        let mut out = Vec::new();
        s.write_json(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":1,"b":{"x":[1,2]}}"#);
        assert_eq!(s.pointer("/b/x/1").unwrap(), Some(json!(2)));
        assert_eq!(s.pointer("/b/y").unwrap(), None);
        assert_eq!(State::Other(json!(3)).pointer("").unwrap(), Some(json!(3)));
        let raw = State::from_json(r#"{"b": {"x": [1, 2]}, "a": 1}"#).unwrap();
        assert!(matches!(&raw, State::Object(m) if m.get("b").unwrap().value.get().is_none()));
        assert_eq!(raw, s);
        assert_eq!(raw.pointer("/b/x/0").unwrap(), Some(json!(1)));
        let mut out = Vec::new();
        raw.write_json(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":1,"b":{"x": [1, 2]}}"#);
    }

    #[test]
    fn diff_with_and_without_touched_keys_agree() {
        let a = State::from_value(json!({"a": {"n": 1}, "b": 2, "c": [1]}));
        let mut b = a.clone();
        let m = b.members_mut();
        m.insert("a".into(), Arc::new(json!({"n": 2}).into()));
        m.remove("c");
        let mut t = Touched::default();
        t.key("a");
        t.key("c");
        let full = diff_states(&a, &b, None);
        assert_eq!(full, diff_states(&a, &b, Some(&t)));
        assert_eq!(serde_json::to_value(&full).unwrap(), json!([
            {"op": "replace", "path": "/a/n", "value": 2},
            {"op": "remove", "path": "/c"}
        ]));
    }
}
