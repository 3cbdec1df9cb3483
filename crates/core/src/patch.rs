//! JSON Pointer (RFC 6901), JSON Merge Patch (RFC 7386), JSON Patch
//! (RFC 6902) and a structural diff that produces RFC 6902 patches.
//!
//! * [`pointer_get`], [`pointer_get_mut`], [`parse_pointer`],
//!   [`escape_token`] and [`push_token`] read and build JSON Pointers.
//!   A malformed pointer (one that is neither empty nor starts with `/`, or
//!   that has a `~` not followed by `0` or `1`) is an error; a well-formed
//!   pointer that names nothing is simply missing (`Ok(None)`). Array indices
//!   are `0` or digits without a leading zero; `-` never names an existing
//!   element (it only means "append" for an `add`).
//! * [`merge_patch`] applies an RFC 7386 merge patch in place.
//! * [`apply_patch`] applies an RFC 6902 patch (given as JSON) atomically:
//!   if any operation fails, the target is restored exactly and the error
//!   names the failing operation (0-based index into the patch array) and
//!   why. [`apply_ops`] does the same for already-typed [`PatchOp`]s.
//!   Atomicity is cheap: every mutation records its inverse in an undo log
//!   (removed/overwritten values are moved into it, never cloned), which is
//!   replayed backwards on failure. The last operation of a patch needs no
//!   undo record, so a one-operation patch allocates no log at all.
//! * [`diff`], [`diff_into`] and [`diff_entry`] compute `add`/`remove`/
//!   `replace` operations turning one value into another, in a deterministic
//!   order (see [`diff`]).
//!
//! Object iteration order matters to [`diff`]: this module relies on
//! `serde_json` being built *without* `preserve_order`, so that
//! `serde_json::Map` is a `BTreeMap` iterated in sorted key order (a unit
//! test checks this).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Number, Value};

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A malformed JSON Pointer. Displays as one plain sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerError(String);

impl PointerError {
    /// The message (one sentence, no trailing period).
    pub fn message(&self) -> &str {
        &self.0
    }

    fn new(ptr: &str, reason: &str) -> Self {
        PointerError(format!(
            "{ptr:?} is not a valid JSON Pointer because {reason}"
        ))
    }
}

impl fmt::Display for PointerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PointerError {}

/// A JSON Patch that could not be applied (the target is left unchanged).
/// Displays as one plain sentence, e.g.
/// `operation 2 (remove /items/5): the path does not exist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError(String);

impl PatchError {
    /// The message (one sentence, no trailing period).
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatchError {}

// ---------------------------------------------------------------------------
// JSON Pointer (RFC 6901)
// ---------------------------------------------------------------------------

/// Checks the syntax of a pointer; on failure returns the reason as the end
/// of a sentence ("... because {reason}").
fn check_pointer(ptr: &str) -> Result<(), &'static str> {
    if ptr.is_empty() {
        return Ok(());
    }
    let Some(mut rest) = ptr.strip_prefix('/') else {
        return Err("it is not empty and does not start with '/'");
    };
    while let Some(p) = rest.find('~') {
        match rest.as_bytes().get(p + 1) {
            // `~` and the digit are ASCII, so `p + 2` is a char boundary.
            Some(b'0' | b'1') => rest = &rest[p + 2..],
            _ => return Err("it has a '~' that is not followed by '0' or '1'"),
        }
    }
    Ok(())
}

/// Raw (still escaped) reference tokens of a syntactically valid pointer.
fn raw_tokens(ptr: &str) -> impl Iterator<Item = &str> {
    // "" -> [""] -> nothing; "/a/b" -> ["", "a", "b"] -> a, b; "/" -> [""].
    ptr.split('/').skip(1)
}

/// Unescapes one reference token (`~1` -> `/`, `~0` -> `~`). Borrows when
/// there is nothing to unescape. Lenient with invalid escapes (keeps them).
fn unescape(tok: &str) -> Cow<'_, str> {
    if !tok.contains('~') {
        return Cow::Borrowed(tok);
    }
    let mut s = String::with_capacity(tok.len());
    let mut chars = tok.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            s.push(c);
            continue;
        }
        match chars.next() {
            Some('1') => s.push('/'),
            Some('0') => s.push('~'),
            Some(other) => {
                s.push('~');
                s.push(other);
            }
            None => s.push('~'),
        }
    }
    Cow::Owned(s)
}

/// Parses an array index token: `0` or digits without a leading zero.
/// `-`, signs, leading zeros and out-of-range numbers give `None`.
fn parse_index(tok: &str) -> Option<usize> {
    let b = tok.as_bytes();
    if b.is_empty() || (b[0] == b'0' && b.len() > 1) || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    tok.parse().ok()
}

/// Splits a non-empty pointer into its parent pointer and its last raw token.
fn split_last(ptr: &str) -> Option<(&str, &str)> {
    let pos = ptr.rfind('/')?;
    Some((&ptr[..pos], &ptr[pos + 1..]))
}

fn step<'v>(v: &'v Value, raw: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => m.get(&*unescape(raw)),
        Value::Array(a) => a.get(parse_index(raw)?),
        _ => None,
    }
}

fn step_mut<'v>(v: &'v mut Value, raw: &str) -> Option<&'v mut Value> {
    match v {
        Value::Object(m) => m.get_mut(&*unescape(raw)),
        Value::Array(a) => a.get_mut(parse_index(raw)?),
        _ => None,
    }
}

/// Resolves a pointer already known to be well-formed.
fn resolve<'v>(v: &'v Value, ptr: &str) -> Option<&'v Value> {
    raw_tokens(ptr).try_fold(v, step)
}

/// Resolves a pointer already known to be well-formed, mutably.
fn resolve_mut<'v>(v: &'v mut Value, ptr: &str) -> Option<&'v mut Value> {
    raw_tokens(ptr).try_fold(v, step_mut)
}

/// Looks up the value a JSON Pointer names.
///
/// `Err` only when `ptr` is malformed; `Ok(None)` when it names nothing
/// (missing member, index out of range or not a valid index such as `01` or
/// `-`, or a step into a scalar).
pub fn pointer_get<'a>(v: &'a Value, ptr: &str) -> Result<Option<&'a Value>, PointerError> {
    check_pointer(ptr).map_err(|r| PointerError::new(ptr, r))?;
    Ok(resolve(v, ptr))
}

/// Mutable counterpart of [`pointer_get`].
pub fn pointer_get_mut<'a>(
    v: &'a mut Value,
    ptr: &str,
) -> Result<Option<&'a mut Value>, PointerError> {
    check_pointer(ptr).map_err(|r| PointerError::new(ptr, r))?;
    Ok(resolve_mut(v, ptr))
}

/// Parses a JSON Pointer into its unescaped reference tokens
/// (`""` -> `[]`, `"/"` -> `[""]`, `"/a~1b/~0c"` -> `["a/b", "~c"]`).
pub fn parse_pointer(ptr: &str) -> Result<Vec<String>, PointerError> {
    check_pointer(ptr).map_err(|r| PointerError::new(ptr, r))?;
    Ok(raw_tokens(ptr).map(|t| unescape(t).into_owned()).collect())
}

/// Escapes an object key for use as a reference token (`~` -> `~0`,
/// `/` -> `~1`). Borrows when nothing needs escaping.
pub fn escape_token(key: &str) -> Cow<'_, str> {
    if !key.contains(['~', '/']) {
        return Cow::Borrowed(key);
    }
    let mut s = String::with_capacity(key.len() + 2);
    push_escaped(&mut s, key);
    Cow::Owned(s)
}

fn push_escaped(out: &mut String, key: &str) {
    let mut rest = key;
    while let Some(p) = rest.find(['~', '/']) {
        out.push_str(&rest[..p]);
        out.push_str(if rest.as_bytes()[p] == b'~' {
            "~0"
        } else {
            "~1"
        });
        rest = &rest[p + 1..];
    }
    out.push_str(rest);
}

/// Appends `/` and the escaped `key` to a pointer being built.
pub fn push_token(path: &mut String, key: &str) {
    path.push('/');
    push_escaped(path, key);
}

/// Appends `/` and an array index to a pointer being built.
pub fn push_index(path: &mut String, index: usize) {
    path.push('/');
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = index;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &buf[i..] {
        path.push(d as char);
    }
}

// ---------------------------------------------------------------------------
// JSON Merge Patch (RFC 7386)
// ---------------------------------------------------------------------------

/// Applies an RFC 7386 merge patch to `target` in place.
///
/// An object patch merges member by member (a `null` member removes, any
/// other member is merged recursively, a non-object target is first replaced
/// by `{}`); any other patch replaces the target.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(pm) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(tm) = target else {
        return;
    };
    for (k, pv) in pm {
        if pv.is_null() {
            tm.remove(k);
        } else if let Some(tv) = tm.get_mut(k) {
            merge_patch(tv, pv);
        } else {
            tm.insert(k.clone(), merge_fresh(pv));
        }
    }
}

/// `MergePatch(absent, patch)`: the patch with null members stripped.
fn merge_fresh(patch: &Value) -> Value {
    match patch {
        Value::Object(pm) => Value::Object(
            pm.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), merge_fresh(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// [`merge_patch`] taking the patch by value, so that what it adds is moved
/// into the target rather than copied (replay's hot path).
pub fn merge_patch_owned(target: &mut Value, patch: Value) {
    let Value::Object(pm) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(tm) = target else {
        return;
    };
    for (k, pv) in pm {
        if pv.is_null() {
            tm.remove(&k);
        } else if let Some(tv) = tm.get_mut(&k) {
            merge_patch_owned(tv, pv);
        } else {
            let mut fresh = Value::Null;
            merge_patch_owned(&mut fresh, pv);
            tm.insert(k, fresh);
        }
    }
}

// ---------------------------------------------------------------------------
// JSON Patch operations (typed)
// ---------------------------------------------------------------------------

/// The operations [`diff`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

/// One RFC 6902 operation restricted to `add`/`remove`/`replace`.
/// Serialises exactly as RFC 6902: `{"op":"replace","path":"/a","value":1}`,
/// `{"op":"remove","path":"/a"}`. A `"value": null` deserialises as
/// `Some(Value::Null)` (not as a missing value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: String,
    #[serde(
        default,
        deserialize_with = "deserialize_present",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
}

fn deserialize_present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl PatchOp {
    pub fn add(path: impl Into<String>, value: Value) -> Self {
        PatchOp {
            op: OpKind::Add,
            path: path.into(),
            value: Some(value),
        }
    }

    pub fn remove(path: impl Into<String>) -> Self {
        PatchOp {
            op: OpKind::Remove,
            path: path.into(),
            value: None,
        }
    }

    pub fn replace(path: impl Into<String>, value: Value) -> Self {
        PatchOp {
            op: OpKind::Replace,
            path: path.into(),
            value: Some(value),
        }
    }
}

// ---------------------------------------------------------------------------
// JSON Patch application (RFC 6902)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Add => "add",
            Kind::Remove => "remove",
            Kind::Replace => "replace",
            Kind::Move => "move",
            Kind::Copy => "copy",
            Kind::Test => "test",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "add" => Kind::Add,
            "remove" => Kind::Remove,
            "replace" => Kind::Replace,
            "move" => Kind::Move,
            "copy" => Kind::Copy,
            "test" => Kind::Test,
            _ => return None,
        })
    }

    fn needs_value(self) -> bool {
        matches!(self, Kind::Add | Kind::Replace | Kind::Test)
    }

    fn needs_from(self) -> bool {
        matches!(self, Kind::Move | Kind::Copy)
    }
}

/// A validated operation borrowing from the patch.
struct Op<'p> {
    kind: Kind,
    path: &'p str,
    /// `""` when the operation has no `from`.
    from: &'p str,
    value: Option<&'p Value>,
}

fn show(ptr: &str) -> &str {
    if ptr.is_empty() {
        "\"\""
    } else {
        ptr
    }
}

/// "add /a", "move from /a to /b".
fn describe(kind: Kind, path: &str, from: Option<&str>) -> String {
    match from {
        Some(f) => format!("{} from {} to {}", kind.name(), show(f), show(path)),
        None => format!("{} {}", kind.name(), show(path)),
    }
}

fn op_error(i: usize, kind: Kind, path: &str, from: Option<&str>, reason: &str) -> PatchError {
    PatchError(format!(
        "operation {i} ({}): {reason}",
        describe(kind, path, from)
    ))
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Validates the shape of a JSON Patch document (no mutation happens here).
fn parse_ops(patch: &Value) -> Result<Vec<Op<'_>>, PatchError> {
    let Value::Array(items) = patch else {
        return Err(PatchError(format!(
            "a JSON Patch must be an array of operations, but this one is {}",
            kind_name(patch)
        )));
    };
    let mut ops = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(m) = item else {
            return Err(PatchError(format!(
                "operation {i} must be an object, but it is {}",
                kind_name(item)
            )));
        };
        let kind = match m.get("op") {
            None => return Err(PatchError(format!("operation {i} has no \"op\" member"))),
            Some(Value::String(s)) => Kind::parse(s).ok_or_else(|| {
                PatchError(format!(
                    "operation {i} has the unknown \"op\" {s:?} (expected add, remove, replace, move, copy or test)"
                ))
            })?,
            Some(v) => {
                return Err(PatchError(format!(
                    "operation {i} has an \"op\" member that is {}, not a string",
                    kind_name(v)
                )))
            }
        };
        let path = match m.get("path") {
            Some(Value::String(s)) => s.as_str(),
            None => {
                return Err(PatchError(format!(
                    "operation {i} ({}) has no \"path\" member",
                    kind.name()
                )))
            }
            Some(v) => {
                return Err(PatchError(format!(
                    "operation {i} ({}) has a \"path\" member that is {}, not a string",
                    kind.name(),
                    kind_name(v)
                )))
            }
        };
        let from = if kind.needs_from() {
            match m.get("from") {
                Some(Value::String(s)) => s.as_str(),
                None => {
                    return Err(op_error(
                        i,
                        kind,
                        path,
                        None,
                        "the \"from\" member is missing",
                    ))
                }
                Some(v) => {
                    let reason = format!("the \"from\" member is {}, not a string", kind_name(v));
                    return Err(op_error(i, kind, path, None, &reason));
                }
            }
        } else {
            ""
        };
        let value = if kind.needs_value() {
            match m.get("value") {
                Some(v) => Some(v),
                None => {
                    return Err(op_error(
                        i,
                        kind,
                        path,
                        None,
                        "the \"value\" member is missing",
                    ))
                }
            }
        } else {
            None
        };
        let op = Op {
            kind,
            path,
            from,
            value,
        };
        validate_op(i, &op)?;
        ops.push(op);
    }
    Ok(ops)
}

/// Checks pointer syntax of an operation.
fn validate_op(i: usize, op: &Op<'_>) -> Result<(), PatchError> {
    let from = op.kind.needs_from().then_some(op.from);
    if let Err(r) = check_pointer(op.path) {
        let reason = format!("the path is not a valid JSON Pointer because {r}");
        return Err(op_error(i, op.kind, op.path, from, &reason));
    }
    if let Some(f) = from {
        if let Err(r) = check_pointer(f) {
            let reason = format!("the \"from\" path is not a valid JSON Pointer because {r}");
            return Err(op_error(i, op.kind, op.path, from, &reason));
        }
    }
    Ok(())
}

/// Applies an RFC 6902 JSON Patch (a JSON array of operations) atomically.
///
/// On error the target is exactly as before and the message names the
/// failing operation by its 0-based index, e.g.
/// `operation 2 (remove /items/5): the path does not exist`.
/// Unknown members of operation objects are ignored (RFC 6902 §4).
/// Decisions where the RFC is silent: removing the root (`""`) is an error;
/// `add`/`replace` at `""` replace the whole document; a `move` whose `from`
/// equals its `path` is a no-op (once the location is known to exist);
/// `test` compares numbers numerically (`1` equals `1.0`).
pub fn apply_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let ops = parse_ops(patch)?;
    run_ops(target, &ops)
}

/// Applies typed operations atomically, with the same semantics and messages
/// as [`apply_patch`]. `add`/`replace` without a value are rejected.
pub fn apply_ops(target: &mut Value, ops: &[PatchOp]) -> Result<(), PatchError> {
    let mut parsed = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let kind = match op.op {
            OpKind::Add => Kind::Add,
            OpKind::Remove => Kind::Remove,
            OpKind::Replace => Kind::Replace,
        };
        let value = match (&op.value, kind.needs_value()) {
            (None, true) => {
                return Err(op_error(
                    i,
                    kind,
                    &op.path,
                    None,
                    "the \"value\" member is missing",
                ))
            }
            (v, true) => v.as_ref(),
            (_, false) => None,
        };
        let parsed_op = Op {
            kind,
            path: &op.path,
            from: "",
            value,
        };
        validate_op(i, &parsed_op)?;
        parsed.push(parsed_op);
    }
    run_ops(target, &parsed)
}

/// Where a value sits inside its parent.
enum Slot<'p> {
    Key(Cow<'p, str>),
    Index(usize),
}

/// One inverse action. Each step of a rollback may yield a value (the one it
/// took out of the document) which the next step can put back: that is how
/// a `move` is undone without ever cloning the moved value.
enum Undo<'p> {
    /// Restore the whole document; yields the current one.
    Root(Value),
    /// Remove what an `add` inserted; yields it.
    Take { parent: &'p str, slot: Slot<'p> },
    /// Overwrite an existing value (undo of replace / add over a member);
    /// yields the overwritten value.
    Set {
        parent: &'p str,
        slot: Slot<'p>,
        value: Value,
    },
    /// Re-insert a removed value (`None`: the value yielded by the previous
    /// rollback step, for `move`).
    Insert {
        parent: &'p str,
        slot: Slot<'p>,
        value: Option<Value>,
    },
}

struct Log<'p> {
    entries: Vec<Undo<'p>>,
    record: bool,
}

impl<'p> Log<'p> {
    fn push(&mut self, u: Undo<'p>) {
        if self.record {
            self.entries.push(u);
        }
    }
}

fn run_ops<'p>(target: &mut Value, ops: &[Op<'p>]) -> Result<(), PatchError> {
    let mut log = Log {
        entries: Vec::new(),
        record: false,
    };
    for (i, op) in ops.iter().enumerate() {
        // An operation either fails before mutating anything or succeeds,
        // except `move` (remove, then add), which must always be recorded.
        // The last operation needs no record otherwise: nothing can fail
        // after it.
        log.record = i + 1 < ops.len() || op.kind == Kind::Move;
        if let Err(reason) = apply_one(target, op, &mut log) {
            rollback(target, std::mem::take(&mut log.entries));
            let from = op.kind.needs_from().then_some(op.from);
            return Err(op_error(i, op.kind, op.path, from, &reason));
        }
    }
    Ok(())
}

const NOT_FOUND: &str = "the path does not exist";
const FROM_NOT_FOUND: &str = "the \"from\" path does not exist";

fn apply_one<'p>(doc: &mut Value, op: &Op<'p>, log: &mut Log<'p>) -> Result<(), String> {
    match op.kind {
        Kind::Add => {
            let value = op.value.cloned().unwrap_or(Value::Null);
            add(doc, op.path, value, log).map_err(|(reason, _)| reason)
        }
        Kind::Remove => {
            let (parent, slot, old) = remove(doc, op.path)?;
            log.push(Undo::Insert {
                parent,
                slot,
                value: Some(old),
            });
            Ok(())
        }
        Kind::Replace => {
            let value = op.value.cloned().unwrap_or(Value::Null);
            replace(doc, op.path, value, log)
        }
        Kind::Move => {
            if op.from == op.path {
                return match resolve(doc, op.from) {
                    Some(_) => Ok(()),
                    None => Err(FROM_NOT_FOUND.into()),
                };
            }
            let f = op.from;
            if op.path.len() > f.len()
                && op.path.starts_with(f)
                && op.path.as_bytes()[f.len()] == b'/'
            {
                return Err("a value cannot be moved into one of its own descendants".into());
            }
            let (parent, slot, v) = remove(doc, op.from).map_err(|_| FROM_NOT_FOUND)?;
            let mark = log.entries.len();
            log.push(Undo::Insert {
                parent,
                slot,
                value: None,
            });
            if let Err((reason, v)) = add(doc, op.path, v, log) {
                // Hand the moved value to the pending re-insert.
                if log.entries.len() > mark {
                    if let Some(Undo::Insert { value, .. }) = log.entries.last_mut() {
                        *value = Some(v);
                    }
                }
                return Err(reason);
            }
            Ok(())
        }
        Kind::Copy => {
            let v = resolve(doc, op.from).ok_or(FROM_NOT_FOUND)?.clone();
            add(doc, op.path, v, log).map_err(|(reason, _)| reason)
        }
        Kind::Test => {
            let actual = resolve(doc, op.path).ok_or(NOT_FOUND)?;
            let expected = op.value.unwrap_or(&Value::Null);
            if json_eq(actual, expected) {
                Ok(())
            } else {
                Err("the value at the path is not equal to the expected value".into())
            }
        }
    }
}

/// RFC 6902 `add`. On failure nothing has changed and the value is handed
/// back.
fn add<'p>(
    doc: &mut Value,
    path: &'p str,
    value: Value,
    log: &mut Log<'p>,
) -> Result<(), (String, Value)> {
    let Some((pp, last)) = split_last(path) else {
        let old = std::mem::replace(doc, value);
        log.push(Undo::Root(old));
        return Ok(());
    };
    let Some(parent) = resolve_mut(doc, pp) else {
        return Err(("the parent of the path does not exist".into(), value));
    };
    match parent {
        Value::Object(m) => {
            let key = unescape(last);
            if let Some(slot) = m.get_mut(&*key) {
                let old = std::mem::replace(slot, value);
                log.push(Undo::Set {
                    parent: pp,
                    slot: Slot::Key(key),
                    value: old,
                });
            } else {
                m.insert(key.to_string(), value);
                log.push(Undo::Take {
                    parent: pp,
                    slot: Slot::Key(key),
                });
            }
            Ok(())
        }
        Value::Array(a) => {
            let idx = if last == "-" {
                a.len()
            } else {
                match parse_index(last) {
                    Some(i) if i <= a.len() => i,
                    Some(i) => {
                        let reason = format!(
                            "index {i} is out of bounds for an array of length {}",
                            a.len()
                        );
                        return Err((reason, value));
                    }
                    None => {
                        return Err((format!("{last:?} is not a valid array index"), value));
                    }
                }
            };
            a.insert(idx, value);
            log.push(Undo::Take {
                parent: pp,
                slot: Slot::Index(idx),
            });
            Ok(())
        }
        other => {
            let reason = format!(
                "the parent of the path is {}, not an object or array",
                kind_name(other)
            );
            Err((reason, value))
        }
    }
}

/// RFC 6902 `remove`: returns where the value was and the value.
fn remove<'p>(doc: &mut Value, path: &'p str) -> Result<(&'p str, Slot<'p>, Value), String> {
    let Some((pp, last)) = split_last(path) else {
        return Err("the root cannot be removed".into());
    };
    match resolve_mut(doc, pp) {
        Some(Value::Object(m)) => {
            let key = unescape(last);
            let old = m.remove(&*key).ok_or(NOT_FOUND)?;
            Ok((pp, Slot::Key(key), old))
        }
        Some(Value::Array(a)) => {
            let i = parse_index(last)
                .filter(|&i| i < a.len())
                .ok_or(NOT_FOUND)?;
            Ok((pp, Slot::Index(i), a.remove(i)))
        }
        _ => Err(NOT_FOUND.into()),
    }
}

/// RFC 6902 `replace`.
fn replace<'p>(
    doc: &mut Value,
    path: &'p str,
    value: Value,
    log: &mut Log<'p>,
) -> Result<(), String> {
    let Some((pp, last)) = split_last(path) else {
        let old = std::mem::replace(doc, value);
        log.push(Undo::Root(old));
        return Ok(());
    };
    let found = match resolve_mut(doc, pp) {
        Some(Value::Object(m)) => {
            let key = unescape(last);
            m.get_mut(&*key).map(|s| (s, Slot::Key(key)))
        }
        Some(Value::Array(a)) => {
            parse_index(last).and_then(|i| a.get_mut(i).map(|s| (s, Slot::Index(i))))
        }
        _ => None,
    };
    let (slot_ref, slot) = found.ok_or(NOT_FOUND)?;
    let old = std::mem::replace(slot_ref, value);
    log.push(Undo::Set {
        parent: pp,
        slot,
        value: old,
    });
    Ok(())
}

fn slot_mut<'v>(parent: &'v mut Value, slot: &Slot<'_>) -> Option<&'v mut Value> {
    match (parent, slot) {
        (Value::Object(m), Slot::Key(k)) => m.get_mut(&**k),
        (Value::Array(a), Slot::Index(i)) => a.get_mut(*i),
        _ => None,
    }
}

/// Replays the undo log backwards. Every step is defensive (no panics even
/// if the log and the document somehow disagree).
fn rollback(doc: &mut Value, entries: Vec<Undo<'_>>) {
    let mut carry: Option<Value> = None;
    for u in entries.into_iter().rev() {
        carry = match u {
            Undo::Root(old) => Some(std::mem::replace(doc, old)),
            Undo::Take { parent, slot } => match (resolve_mut(doc, parent), slot) {
                (Some(Value::Object(m)), Slot::Key(k)) => m.remove(&*k),
                (Some(Value::Array(a)), Slot::Index(i)) if i < a.len() => Some(a.remove(i)),
                _ => None,
            },
            Undo::Set {
                parent,
                slot,
                value,
            } => resolve_mut(doc, parent)
                .and_then(|p| slot_mut(p, &slot))
                .map(|s| std::mem::replace(s, value)),
            Undo::Insert {
                parent,
                slot,
                value,
            } => {
                if let Some(v) = value.or_else(|| carry.take()) {
                    match (resolve_mut(doc, parent), slot) {
                        (Some(Value::Object(m)), Slot::Key(k)) => {
                            m.insert(k.into_owned(), v);
                        }
                        (Some(Value::Array(a)), Slot::Index(i)) if i <= a.len() => a.insert(i, v),
                        _ => {}
                    }
                }
                None
            }
        };
    }
}

/// Equality as RFC 6902 `test` defines it: like `==`, except that numbers
/// are equal when numerically equal (`1` == `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_eq(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn num_eq(x: &Number, y: &Number) -> bool {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return a == b;
    }
    if x.is_f64() || y.is_f64() {
        return x.as_f64() == y.as_f64();
    }
    false // one negative integer, one integer above i64::MAX
}

// ---------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------

/// The operations (`add`, `remove`, `replace`) that turn `a` into `b` when
/// applied in order; empty when `a == b`.
///
/// Objects are compared member by member, recursing into members present on
/// both sides; arrays are compared by index (recursing into common indices,
/// then `add`ing extra elements of `b` in ascending index order, then
/// `remove`ing extra elements of `a` from the highest index down); values of
/// different kinds or different scalars (by `==`, so `1` and `1.0` differ)
/// are a `replace`. Output is ordered by path (object keys as strings, array
/// indices as numbers), except for an array's removals, which come after its
/// common-index operations from the highest index down. Every operation's
/// path holds different values (or presence) in `a` and `b`.
pub fn diff(a: &Value, b: &Value) -> Vec<PatchOp> {
    let mut out = Vec::new();
    diff_into("", a, b, &mut out);
    out
}

/// Like [`diff`], appending to `out` with every path prefixed by `prefix`
/// (an already-escaped JSON Pointer naming where `a`/`b` sit in a larger
/// document; `""` for the root).
pub fn diff_into(prefix: &str, a: &Value, b: &Value, out: &mut Vec<PatchOp>) {
    let mut path = String::with_capacity(prefix.len() + 32);
    path.push_str(prefix);
    diff_rec(&mut path, a, b, out);
}

/// Diff of one member (`prefix` is its full, escaped pointer) where `None`
/// means absent: absent -> present is an `add`, present -> absent a
/// `remove`, present on both sides is [`diff_into`], absent on both nothing.
pub fn diff_entry(prefix: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<PatchOp>) {
    match (a, b) {
        (None, None) => {}
        (None, Some(b)) => out.push(PatchOp::add(prefix, b.clone())),
        (Some(_), None) => out.push(PatchOp::remove(prefix)),
        (Some(a), Some(b)) => diff_into(prefix, a, b, out),
    }
}

fn diff_rec(path: &mut String, a: &Value, b: &Value, out: &mut Vec<PatchOp>) {
    if std::ptr::eq(a, b) {
        return;
    }
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => diff_objects(path, ma, mb, out),
        (Value::Array(va), Value::Array(vb)) => diff_arrays(path, va, vb, out),
        _ => {
            if a != b {
                out.push(PatchOp::replace(path.clone(), b.clone()));
            }
        }
    }
}

/// Merge walk over both maps in (sorted) key order.
fn diff_objects(
    path: &mut String,
    ma: &Map<String, Value>,
    mb: &Map<String, Value>,
    out: &mut Vec<PatchOp>,
) {
    let base = path.len();
    let mut ia = ma.iter();
    let mut ib = mb.iter();
    let mut na = ia.next();
    let mut nb = ib.next();
    loop {
        match (na, nb) {
            (None, None) => break,
            (Some((ka, _)), None) => {
                diff_removed(path, ka, out);
                na = ia.next();
            }
            (None, Some((kb, vb))) => {
                diff_added(path, kb, vb, out);
                nb = ib.next();
            }
            (Some((ka, va)), Some((kb, vb))) => match ka.cmp(kb) {
                Ordering::Less => {
                    diff_removed(path, ka, out);
                    na = ia.next();
                }
                Ordering::Greater => {
                    diff_added(path, kb, vb, out);
                    nb = ib.next();
                }
                Ordering::Equal => {
                    push_token(path, ka);
                    diff_rec(path, va, vb, out);
                    na = ia.next();
                    nb = ib.next();
                }
            },
        }
        path.truncate(base);
    }
}

fn diff_removed(path: &mut String, key: &str, out: &mut Vec<PatchOp>) {
    push_token(path, key);
    out.push(PatchOp::remove(path.clone()));
}

fn diff_added(path: &mut String, key: &str, value: &Value, out: &mut Vec<PatchOp>) {
    push_token(path, key);
    out.push(PatchOp::add(path.clone(), value.clone()));
}

fn diff_arrays(path: &mut String, va: &[Value], vb: &[Value], out: &mut Vec<PatchOp>) {
    let base = path.len();
    let common = va.len().min(vb.len());
    for (i, (x, y)) in va.iter().zip(vb).enumerate() {
        push_index(path, i);
        diff_rec(path, x, y, out);
        path.truncate(base);
    }
    for (i, y) in vb.iter().enumerate().skip(common) {
        push_index(path, i);
        out.push(PatchOp::add(path.clone(), y.clone()));
        path.truncate(base);
    }
    for i in (common..va.len()).rev() {
        push_index(path, i);
        out.push(PatchOp::remove(path.clone()));
        path.truncate(base);
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    #[test]
    fn merge_patch_owned_agrees_with_merge_patch() {
        use serde_json::json;
        let cases = [
            (json!({"a": {"b": 1, "c": [1]}, "d": 2}), json!({"a": {"b": null, "c": {"x": null, "y": 2}}, "d": null, "e": {"f": null}})),
            (json!(1), json!({"a": {"b": null}})),
            (json!({"a": 1}), json!([1, {"b": null}])),
        ];
        for (target, patch) in cases {
            let (mut x, mut y) = (target.clone(), target);
            super::merge_patch(&mut x, &patch);
            super::merge_patch_owned(&mut y, patch);
            assert_eq!(x, y);
        }
    }

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    // ----- pointers -----

    #[test]
    fn rfc6901_examples() {
        let doc = json!({
            "foo": ["bar", "baz"],
            "": 0,
            "a/b": 1,
            "c%d": 2,
            "e^f": 3,
            "g|h": 4,
            "i\\j": 5,
            "k\"l": 6,
            " ": 7,
            "m~n": 8
        });
        let cases: &[(&str, Value)] = &[
            ("", doc.clone()),
            ("/foo", json!(["bar", "baz"])),
            ("/foo/0", json!("bar")),
            ("/", json!(0)),
            ("/a~1b", json!(1)),
            ("/c%d", json!(2)),
            ("/e^f", json!(3)),
            ("/g|h", json!(4)),
            ("/i\\j", json!(5)),
            ("/k\"l", json!(6)),
            ("/ ", json!(7)),
            ("/m~0n", json!(8)),
        ];
        for (ptr, want) in cases {
            assert_eq!(pointer_get(&doc, ptr), Ok(Some(want)), "pointer {ptr:?}");
        }
    }

    #[test]
    fn pointer_missing_and_malformed() {
        let doc = json!({"foo": ["bar", "baz"], "o": {"-": 1, "01": 2}, "s": "str"});
        for ptr in [
            "/foo/2",
            "/foo/01",
            "/foo/-",
            "/foo/+1",
            "/foo/-1",
            "/foo/ 1",
            "/x",
            "/foo/0/x",
            "/s/0",
            "/foo/99999999999999999999999",
            "/o/x/y",
            "/foo/",
        ] {
            assert_eq!(pointer_get(&doc, ptr), Ok(None), "pointer {ptr:?}");
        }
        // In objects, "-" and "01" are plain keys.
        assert_eq!(pointer_get(&doc, "/o/-"), Ok(Some(&json!(1))));
        assert_eq!(pointer_get(&doc, "/o/01"), Ok(Some(&json!(2))));
        for ptr in ["foo", "a/b", "/~2", "/a~", "/~", "/a/b~x/c", "#/foo"] {
            let err = pointer_get(&doc, ptr).unwrap_err();
            assert!(
                err.to_string()
                    .contains("is not a valid JSON Pointer because"),
                "{err}"
            );
            assert!(parse_pointer(ptr).is_err());
        }
        assert_eq!(
            parse_pointer("foo").unwrap_err().to_string(),
            "\"foo\" is not a valid JSON Pointer because it is not empty and does not start with '/'"
        );
        assert_eq!(
            parse_pointer("/a~2").unwrap_err().to_string(),
            "\"/a~2\" is not a valid JSON Pointer because it has a '~' that is not followed by '0' or '1'"
        );
    }

    #[test]
    fn parse_and_escape() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("/", &[""]),
            ("//", &["", ""]),
            ("/a/b", &["a", "b"]),
            ("/a~1b/~0c", &["a/b", "~c"]),
            ("/~01", &["~1"]),
            ("/~10", &["/0"]),
            ("/0/-", &["0", "-"]),
            ("/é/ü", &["é", "ü"]),
        ];
        for (ptr, want) in cases {
            assert_eq!(parse_pointer(ptr).unwrap(), *want, "pointer {ptr:?}");
        }
        assert!(matches!(escape_token("plain"), Cow::Borrowed("plain")));
        assert_eq!(escape_token("a/b"), "a~1b");
        assert_eq!(escape_token("m~n"), "m~0n");
        assert_eq!(escape_token("~1"), "~01");
        assert_eq!(escape_token("/~/"), "~1~0~1");
        assert_eq!(escape_token(""), "");
        let mut p = String::new();
        push_token(&mut p, "a/b");
        push_index(&mut p, 0);
        push_index(&mut p, 1234567);
        push_token(&mut p, "~");
        assert_eq!(p, "/a~1b/0/1234567/~0");
        assert_eq!(parse_pointer(&p).unwrap(), ["a/b", "0", "1234567", "~"]);
        let mut p = String::new();
        push_index(&mut p, usize::MAX);
        assert_eq!(p, format!("/{}", usize::MAX));
    }

    #[test]
    fn pointer_get_mut_works() {
        let mut doc = json!({"a": [1, {"b": 2}]});
        *pointer_get_mut(&mut doc, "/a/1/b").unwrap().unwrap() = json!(3);
        assert_eq!(doc, json!({"a": [1, {"b": 3}]}));
        assert!(pointer_get_mut(&mut doc, "/a/2").unwrap().is_none());
        assert!(pointer_get_mut(&mut doc, "a").is_err());
    }

    // ----- merge patch -----

    #[test]
    fn rfc7386_appendix_a() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, want) in cases {
            let mut t = target.clone();
            merge_patch(&mut t, &patch);
            assert_eq!(t, want, "target {target} patch {patch}");
        }
    }

    #[test]
    fn rfc7386_section3_example() {
        let mut target = json!({
            "title": "Goodbye!",
            "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"],
            "content": "This will be unchanged"
        });
        let patch = json!({
            "title": "Hello!",
            "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": null},
            "tags": ["example"]
        });
        merge_patch(&mut target, &patch);
        assert_eq!(
            target,
            json!({
                "title": "Hello!",
                "author": {"givenName": "John"},
                "tags": ["example"],
                "content": "This will be unchanged",
                "phoneNumber": "+01-123-456-7890"
            })
        );
    }

    // ----- apply patch -----

    fn apply_ok(target: Value, patch: Value, want: Value) {
        let mut t = target.clone();
        if let Err(e) = apply_patch(&mut t, &patch) {
            panic!("patch {patch} on {target} failed: {e}");
        }
        assert_eq!(t, want, "patch {patch} on {target}");
    }

    fn apply_err(target: Value, patch: Value, msg: &str) {
        let mut t = target.clone();
        let err = apply_patch(&mut t, &patch).expect_err("patch should fail");
        assert_eq!(err.to_string(), msg, "patch {patch} on {target}");
        assert_eq!(t, target, "target must be unchanged after {patch}");
    }

    #[test]
    fn rfc6902_appendix_a() {
        // A.1
        apply_ok(
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/baz","value":"qux"}]),
            json!({"baz":"qux","foo":"bar"}),
        );
        // A.2
        apply_ok(
            json!({"foo":["bar","baz"]}),
            json!([{"op":"add","path":"/foo/1","value":"qux"}]),
            json!({"foo":["bar","qux","baz"]}),
        );
        // A.3
        apply_ok(
            json!({"baz":"qux","foo":"bar"}),
            json!([{"op":"remove","path":"/baz"}]),
            json!({"foo":"bar"}),
        );
        // A.4
        apply_ok(
            json!({"foo":["bar","qux","baz"]}),
            json!([{"op":"remove","path":"/foo/1"}]),
            json!({"foo":["bar","baz"]}),
        );
        // A.5
        apply_ok(
            json!({"baz":"qux","foo":"bar"}),
            json!([{"op":"replace","path":"/baz","value":"boo"}]),
            json!({"baz":"boo","foo":"bar"}),
        );
        // A.6
        apply_ok(
            json!({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}),
            json!([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]),
            json!({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}),
        );
        // A.7
        apply_ok(
            json!({"foo":["all","grass","cows","eat"]}),
            json!([{"op":"move","from":"/foo/1","path":"/foo/3"}]),
            json!({"foo":["all","cows","eat","grass"]}),
        );
        // A.8
        apply_ok(
            json!({"baz":"qux","foo":["a",2,"c"]}),
            json!([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]),
            json!({"baz":"qux","foo":["a",2,"c"]}),
        );
        // A.9
        apply_err(
            json!({"baz":"qux"}),
            json!([{"op":"test","path":"/baz","value":"bar"}]),
            "operation 0 (test /baz): the value at the path is not equal to the expected value",
        );
        // A.10
        apply_ok(
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/child","value":{"grandchild":{}}}]),
            json!({"foo":"bar","child":{"grandchild":{}}}),
        );
        // A.11
        apply_ok(
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/baz","value":"qux","xyz":123}]),
            json!({"foo":"bar","baz":"qux"}),
        );
        // A.12
        apply_err(
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/baz/bat","value":"qux"}]),
            "operation 0 (add /baz/bat): the parent of the path does not exist",
        );
        // A.13: duplicate "op"; serde_json keeps the last one ("remove").
        let patch: Value =
            serde_json::from_str(r#"[{"op":"add","path":"/baz","value":"qux","op":"remove"}]"#)
                .unwrap();
        apply_err(
            json!({"foo":"bar"}),
            patch,
            "operation 0 (remove /baz): the path does not exist",
        );
        // A.14
        apply_ok(
            json!({"/":9,"~1":10}),
            json!([{"op":"test","path":"/~01","value":10}]),
            json!({"/":9,"~1":10}),
        );
        // A.15
        apply_err(
            json!({"/":9,"~1":10}),
            json!([{"op":"test","path":"/~01","value":"10"}]),
            "operation 0 (test /~01): the value at the path is not equal to the expected value",
        );
        // A.16
        apply_ok(
            json!({"foo":["bar"]}),
            json!([{"op":"add","path":"/foo/-","value":["abc","def"]}]),
            json!({"foo":["bar",["abc","def"]]}),
        );
    }

    #[test]
    fn apply_more_semantics() {
        // copy, including into a descendant of the source
        apply_ok(
            json!({"a":{"b":1}}),
            json!([{"op":"copy","from":"/a","path":"/a/c"}]),
            json!({"a":{"b":1,"c":{"b":1}}}),
        );
        // add over an existing member replaces it
        apply_ok(
            json!({"a":1}),
            json!([{"op":"add","path":"/a","value":2}]),
            json!({"a":2}),
        );
        // root operations
        apply_ok(
            json!({"a":1}),
            json!([{"op":"add","path":"","value":[1]}]),
            json!([1]),
        );
        apply_ok(
            json!({"a":1}),
            json!([{"op":"replace","path":"","value":null}]),
            json!(null),
        );
        apply_ok(
            json!({"a":{"b":1}}),
            json!([{"op":"move","from":"/a","path":""}]),
            json!({"b":1}),
        );
        apply_ok(
            json!({"a":1}),
            json!([{"op":"test","path":"","value":{"a":1.0}}]),
            json!({"a":1}),
        );
        // move to itself is a no-op; moving a child up over its parent works
        apply_ok(
            json!({"a":1}),
            json!([{"op":"move","from":"/a","path":"/a"}]),
            json!({"a":1}),
        );
        apply_ok(
            json!({"a":{"b":{"c":1}}}),
            json!([{"op":"move","from":"/a/b","path":"/a"}]),
            json!({"a":{"c":1}}),
        );
        // test compares numbers numerically, and deeply
        apply_ok(
            json!({"a":[1,{"b":2.0}]}),
            json!([{"op":"test","path":"/a","value":[1.0,{"b":2}]}]),
            json!({"a":[1,{"b":2.0}]}),
        );
        // escaped keys; "-" and "01" are object keys
        apply_ok(
            json!({}),
            json!([{"op":"add","path":"/a~1b~0","value":1},{"op":"add","path":"/-","value":2},
            {"op":"add","path":"/01","value":3}]),
            json!({"a/b~":1,"-":2,"01":3}),
        );
        // empty patch
        apply_ok(json!({"a":1}), json!([]), json!({"a":1}));
        // null value is a value
        apply_ok(
            json!({}),
            json!([{"op":"add","path":"/a","value":null}]),
            json!({"a":null}),
        );
    }

    #[test]
    fn apply_errors() {
        let t = json!({"items":[1,2,3],"s":"x","o":{"k":1}});
        apply_err(
            t.clone(),
            json!([{"op":"remove","path":"/items/5"}]),
            "operation 0 (remove /items/5): the path does not exist",
        );
        apply_err(
            t.clone(),
            json!([{"op":"remove","path":"/items/-"}]),
            "operation 0 (remove /items/-): the path does not exist",
        );
        apply_err(
            t.clone(),
            json!([{"op":"replace","path":"/items/01","value":0}]),
            "operation 0 (replace /items/01): the path does not exist",
        );
        apply_err(
            t.clone(),
            json!([{"op":"replace","path":"/nope","value":0}]),
            "operation 0 (replace /nope): the path does not exist",
        );
        apply_err(
            t.clone(),
            json!([{"op":"add","path":"/items/4","value":0}]),
            "operation 0 (add /items/4): index 4 is out of bounds for an array of length 3",
        );
        apply_err(
            t.clone(),
            json!([{"op":"add","path":"/items/01","value":0}]),
            "operation 0 (add /items/01): \"01\" is not a valid array index",
        );
        apply_err(
            t.clone(),
            json!([{"op":"add","path":"/s/a","value":0}]),
            "operation 0 (add /s/a): the parent of the path is a string, not an object or array",
        );
        apply_err(
            t.clone(),
            json!([{"op":"remove","path":""}]),
            "operation 0 (remove \"\"): the root cannot be removed",
        );
        apply_err(t.clone(), json!([{"op":"move","from":"/o","path":"/o/k/x"}]),
            "operation 0 (move from /o to /o/k/x): a value cannot be moved into one of its own descendants");
        apply_err(t.clone(), json!([{"op":"move","from":"","path":"/x"}]),
            "operation 0 (move from \"\" to /x): a value cannot be moved into one of its own descendants");
        apply_err(
            t.clone(),
            json!([{"op":"move","from":"/nope","path":"/x"}]),
            "operation 0 (move from /nope to /x): the \"from\" path does not exist",
        );
        apply_err(
            t.clone(),
            json!([{"op":"copy","from":"/nope","path":"/x"}]),
            "operation 0 (copy from /nope to /x): the \"from\" path does not exist",
        );
        apply_err(
            t.clone(),
            json!([{"op":"test","path":"/nope","value":1}]),
            "operation 0 (test /nope): the path does not exist",
        );
        apply_err(
            t.clone(),
            json!([{"op":"test","path":"/items","value":[1,2]}]),
            "operation 0 (test /items): the value at the path is not equal to the expected value",
        );
        // a move whose add fails (single op: the remove must still be undone)
        apply_err(
            t.clone(),
            json!([{"op":"move","from":"/items/0","path":"/missing/x"}]),
            "operation 0 (move from /items/0 to /missing/x): the parent of the path does not exist",
        );
        apply_err(t.clone(), json!([{"op":"move","from":"/items/0","path":"/items/3"}]),
            "operation 0 (move from /items/0 to /items/3): index 3 is out of bounds for an array of length 2");
        apply_err(t.clone(), json!([{"op":"move","from":"/o/k","path":"/o/k/x"}]),
            "operation 0 (move from /o/k to /o/k/x): a value cannot be moved into one of its own descendants");
    }

    #[test]
    fn apply_malformed_payloads() {
        let t = json!({"a":1});
        apply_err(
            t.clone(),
            json!({"op":"add"}),
            "a JSON Patch must be an array of operations, but this one is an object",
        );
        apply_err(
            t.clone(),
            json!(null),
            "a JSON Patch must be an array of operations, but this one is null",
        );
        apply_err(
            t.clone(),
            json!([{"op":"remove","path":"/a"}, 3]),
            "operation 1 must be an object, but it is a number",
        );
        apply_err(
            t.clone(),
            json!([{"path":"/a"}]),
            "operation 0 has no \"op\" member",
        );
        apply_err(
            t.clone(),
            json!([{"op":1,"path":"/a"}]),
            "operation 0 has an \"op\" member that is a number, not a string",
        );
        apply_err(t.clone(), json!([{"op":"frobnicate","path":"/a"}]),
            "operation 0 has the unknown \"op\" \"frobnicate\" (expected add, remove, replace, move, copy or test)");
        apply_err(
            t.clone(),
            json!([{"op":"add","value":1}]),
            "operation 0 (add) has no \"path\" member",
        );
        apply_err(
            t.clone(),
            json!([{"op":"add","path":["a"],"value":1}]),
            "operation 0 (add) has a \"path\" member that is an array, not a string",
        );
        apply_err(
            t.clone(),
            json!([{"op":"add","path":"/b"}]),
            "operation 0 (add /b): the \"value\" member is missing",
        );
        apply_err(
            t.clone(),
            json!([{"op":"test","path":"/a"}]),
            "operation 0 (test /a): the \"value\" member is missing",
        );
        apply_err(
            t.clone(),
            json!([{"op":"move","path":"/b"}]),
            "operation 0 (move /b): the \"from\" member is missing",
        );
        apply_err(
            t.clone(),
            json!([{"op":"copy","path":"/b","from":false}]),
            "operation 0 (copy /b): the \"from\" member is a boolean, not a string",
        );
        apply_err(t.clone(), json!([{"op":"add","path":"b","value":1}]),
            "operation 0 (add b): the path is not a valid JSON Pointer because it is not empty and does not start with '/'");
        apply_err(t.clone(), json!([{"op":"copy","path":"/b","from":"/~x"}]),
            "operation 0 (copy from /~x to /b): the \"from\" path is not a valid JSON Pointer because it has a '~' that is not followed by '0' or '1'");
        // shape errors are found before anything is applied
        apply_err(t.clone(), json!([{"op":"remove","path":"/a"},{"op":"nope","path":"/a"}]),
            "operation 1 has the unknown \"op\" \"nope\" (expected add, remove, replace, move, copy or test)");
    }

    #[test]
    fn atomicity() {
        let target = json!({"items":[1,2,3],"name":"x","o":{"a":1}});
        apply_err(
            target.clone(),
            json!([
                {"op":"replace","path":"/name","value":"y"},
                {"op":"add","path":"/items/-","value":4},
                {"op":"remove","path":"/items/5"}
            ]),
            "operation 2 (remove /items/5): the path does not exist",
        );
        // every kind of mutation before a failing op
        apply_err(
            target.clone(),
            json!([
                {"op":"add","path":"","value":{"items":[9],"o":{"a":1}}},
                {"op":"add","path":"/new","value":1},
                {"op":"add","path":"/o/a","value":2},
                {"op":"add","path":"/items/0","value":0},
                {"op":"remove","path":"/items/1"},
                {"op":"remove","path":"/o/a"},
                {"op":"replace","path":"/new","value":[1]},
                {"op":"replace","path":"/new/0","value":[2]},
                {"op":"move","from":"/new","path":"/o/moved"},
                {"op":"move","from":"/o/moved/0","path":"/items/0"},
                {"op":"copy","from":"/items","path":"/o/a~1b"},
                {"op":"move","from":"/o","path":""},
                {"op":"replace","path":"","value":7},
                {"op":"test","path":"","value":8}
            ]),
            "operation 13 (test \"\"): the value at the path is not equal to the expected value",
        );
        // a move that fails half way through, not as the first op
        apply_err(target.clone(),
            json!([
                {"op":"remove","path":"/name"},
                {"op":"move","from":"/items/2","path":"/o/a/x"}
            ]),
            "operation 1 (move from /items/2 to /o/a/x): the parent of the path is a number, not an object or array");
        apply_err(
            target,
            json!([
                {"op":"move","from":"/o","path":"/p"},
                {"op":"move","from":"/items/1","path":"/items/2"},
                {"op":"move","from":"/items/0","path":"/zz/0"}
            ]),
            "operation 2 (move from /items/0 to /zz/0): the parent of the path does not exist",
        );
    }

    #[test]
    fn apply_typed_ops() {
        let mut t = json!({"a":1,"b":[1,2]});
        apply_ops(
            &mut t,
            &[
                PatchOp::replace("/a", json!(2)),
                PatchOp::add("/b/-", json!(3)),
                PatchOp::remove("/b/0"),
            ],
        )
        .unwrap();
        assert_eq!(t, json!({"a":2,"b":[2,3]}));
        let before = t.clone();
        let err = apply_ops(
            &mut t,
            &[
                PatchOp::remove("/a"),
                PatchOp {
                    op: OpKind::Add,
                    path: "/c".into(),
                    value: None,
                },
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation 1 (add /c): the \"value\" member is missing"
        );
        assert_eq!(t, before);
        let err = apply_ops(&mut t, &[PatchOp::remove("/a"), PatchOp::remove("/a")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation 1 (remove /a): the path does not exist"
        );
        assert_eq!(t, before);
    }

    // ----- serialisation -----

    #[test]
    fn patch_op_serialisation() {
        assert_eq!(
            serde_json::to_string(&PatchOp::replace("/a", json!(1))).unwrap(),
            r#"{"op":"replace","path":"/a","value":1}"#
        );
        assert_eq!(
            serde_json::to_string(&PatchOp::remove("/a")).unwrap(),
            r#"{"op":"remove","path":"/a"}"#
        );
        assert_eq!(
            serde_json::to_string(&PatchOp::add("/a", json!(null))).unwrap(),
            r#"{"op":"add","path":"/a","value":null}"#
        );
        let back: PatchOp =
            serde_json::from_str(r#"{"op":"add","path":"/a","value":null}"#).unwrap();
        assert_eq!(back, PatchOp::add("/a", Value::Null));
        let back: PatchOp = serde_json::from_str(r#"{"op":"remove","path":"/a"}"#).unwrap();
        assert_eq!(back, PatchOp::remove("/a"));
        assert!(
            serde_json::from_str::<PatchOp>(r#"{"op":"move","path":"/a","from":"/b"}"#).is_err()
        );
    }

    // ----- diff -----

    fn check_diff(a: Value, b: Value, want: Value) {
        let got = diff(&a, &b);
        assert_eq!(serde_json::to_value(&got).unwrap(), want, "diff {a} -> {b}");
        let mut t = a.clone();
        apply_ops(&mut t, &got).unwrap();
        assert_eq!(t, b);
    }

    #[test]
    fn diff_cases() {
        check_diff(
            json!({"a":[1,{"b":2}]}),
            json!({"a":[1,{"b":2}]}),
            json!([]),
        );
        check_diff(json!(null), json!(null), json!([]));
        check_diff(
            json!({}),
            json!([]),
            json!([{"op":"replace","path":"","value":[]}]),
        );
        check_diff(
            json!(1),
            json!(2),
            json!([{"op":"replace","path":"","value":2}]),
        );
        check_diff(
            json!(1),
            json!(1.0),
            json!([{"op":"replace","path":"","value":1.0}]),
        );
        check_diff(
            json!({"a":{"x":1,"y":2},"b":1,"c":3}),
            json!({"a":{"x":1,"y":3,"z":0},"c":3,"d":4}),
            json!([
                {"op":"replace","path":"/a/y","value":3},
                {"op":"add","path":"/a/z","value":0},
                {"op":"remove","path":"/b"},
                {"op":"add","path":"/d","value":4}
            ]),
        );
        // arrays growing
        check_diff(
            json!([1, 2]),
            json!([1, 3, 4, 5]),
            json!([
                {"op":"replace","path":"/1","value":3},
                {"op":"add","path":"/2","value":4},
                {"op":"add","path":"/3","value":5}
            ]),
        );
        // arrays shrinking: removals from the highest index down, after common ops
        check_diff(
            json!([1, 2, 3, 4]),
            json!([0, 2]),
            json!([
                {"op":"replace","path":"/0","value":0},
                {"op":"remove","path":"/3"},
                {"op":"remove","path":"/2"}
            ]),
        );
        check_diff(
            json!({"a":[1,2,3],"b":1}),
            json!({"a":[1],"b":2}),
            json!([
                {"op":"remove","path":"/a/2"},
                {"op":"remove","path":"/a/1"},
                {"op":"replace","path":"/b","value":2}
            ]),
        );
        check_diff(
            json!({"a":[]}),
            json!({"a":[[1]]}),
            json!([{"op":"add","path":"/a/0","value":[1]}]),
        );
        // indices compare as numbers
        let a: Value = (0..12).collect();
        let mut b = a.clone();
        b[2] = json!("two");
        b[10] = json!("ten");
        check_diff(
            a,
            b,
            json!([
                {"op":"replace","path":"/2","value":"two"},
                {"op":"replace","path":"/10","value":"ten"}
            ]),
        );
        // kinds changing
        check_diff(
            json!({"a":1,"b":{},"c":[1],"d":null,"e":"s","f":true}),
            json!({"a":"1","b":[],"c":{"0":1},"d":false,"e":["s"],"f":1}),
            json!([
                {"op":"replace","path":"/a","value":"1"},
                {"op":"replace","path":"/b","value":[]},
                {"op":"replace","path":"/c","value":{"0":1}},
                {"op":"replace","path":"/d","value":false},
                {"op":"replace","path":"/e","value":["s"]},
                {"op":"replace","path":"/f","value":1}
            ]),
        );
        // keys needing escapes; keys ordered as strings
        check_diff(
            json!({"a/b":1,"m~n":{"x":1},"~1":1}),
            json!({"a/b":2,"m~n":{"x":2},"/":0}),
            json!([
                {"op":"add","path":"/~1","value":0},
                {"op":"replace","path":"/a~1b","value":2},
                {"op":"replace","path":"/m~0n/x","value":2},
                {"op":"remove","path":"/~01"}
            ]),
        );
        // nested arrays in arrays
        check_diff(
            json!([[1, 2], [3]]),
            json!([[1], [3, 4]]),
            json!([
                {"op":"remove","path":"/0/1"},
                {"op":"add","path":"/1/1","value":4}
            ]),
        );
    }

    #[test]
    fn diff_into_and_entry() {
        let mut out = Vec::new();
        diff_into(
            "/state/u~1x",
            &json!({"a":1}),
            &json!({"a":2,"b":[]}),
            &mut out,
        );
        diff_entry("/gone", Some(&json!(1)), None, &mut out);
        diff_entry("/new", None, Some(&json!({"k":1})), &mut out);
        diff_entry("/none", None, None, &mut out);
        diff_entry("/same", Some(&json!([1])), Some(&json!([1])), &mut out);
        diff_entry("/both", Some(&json!([1])), Some(&json!([2])), &mut out);
        assert_eq!(
            serde_json::to_value(&out).unwrap(),
            json!([
                {"op":"replace","path":"/state/u~1x/a","value":2},
                {"op":"add","path":"/state/u~1x/b","value":[]},
                {"op":"remove","path":"/gone"},
                {"op":"add","path":"/new","value":{"k":1}},
                {"op":"replace","path":"/both/0","value":2}
            ])
        );
        let mut out = Vec::new();
        diff_into("/x", &json!(1), &json!("1"), &mut out);
        assert_eq!(out, vec![PatchOp::replace("/x", json!("1"))]);
    }

    /// The merge walk in `diff_objects` needs sorted iteration (no
    /// `preserve_order`).
    #[test]
    fn map_iteration_is_sorted() {
        let m: Value = serde_json::from_str(r#"{"b":1,"a":2,"c":3,"B":4}"#).unwrap();
        let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["B", "a", "b", "c"],
            "serde_json must not use preserve_order"
        );
    }

    // ----- property tests -----

    fn arb_key() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["a", "b", "c", "a/b", "m~n", "~1", "", "-", "0", "10"])
            .prop_map(String::from)
    }

    fn arb_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-3i64..4).prop_map(Value::from),
            prop::sample::select(vec![0.5f64, 1.0, -2.25, 1e300]).prop_map(Value::from),
            "[ab~/]{0,3}".prop_map(Value::String),
        ]
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        arb_leaf().prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(arb_key(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn strip_nulls(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip_nulls(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
            other => other.clone(),
        }
    }

    fn all_paths(v: &Value, path: &mut String, out: &mut Vec<String>) {
        out.push(path.clone());
        let base = path.len();
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    push_token(path, k);
                    all_paths(c, path, out);
                    path.truncate(base);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    push_index(path, i);
                    all_paths(c, path, out);
                    path.truncate(base);
                }
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn diff_roundtrip(a in arb_value(), b in arb_value()) {
            let d = diff(&a, &b);
            let mut t = a.clone();
            apply_ops(&mut t, &d).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&t, &b);
            // through JSON, via apply_patch
            let mut t = a.clone();
            apply_patch(&mut t, &serde_json::to_value(&d).unwrap()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&t, &b);
            prop_assert_eq!(d.is_empty(), a == b);
            for op in &d {
                let before = pointer_get(&a, &op.path).unwrap();
                let after = pointer_get(&b, &op.path).unwrap();
                prop_assert_ne!(before, after, "op {:?}", op);
                match op.op {
                    OpKind::Add => prop_assert!(before.is_none() && op.value.as_ref() == after),
                    OpKind::Remove => prop_assert!(after.is_none() && op.value.is_none()),
                    OpKind::Replace => prop_assert!(before.is_some() && op.value.as_ref() == after),
                }
            }
        }

        #[test]
        fn diff_self_is_empty(a in arb_value()) {
            prop_assert!(diff(&a, &a).is_empty());
            let c = a.clone();
            prop_assert!(diff(&a, &c).is_empty());
        }

        #[test]
        fn diff_of_sub_values(a in arb_value(), b in arb_value()) {
            // diff_into with a prefix patches the sub-value of a larger document
            let mut doc = json!({"s": {"x/y": a.clone()}});
            let mut out = Vec::new();
            diff_into("/s/x~1y", &a, &b, &mut out);
            apply_ops(&mut doc, &out).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(doc, json!({"s": {"x/y": b}}));
        }

        #[test]
        fn merge_patch_laws(a in arb_value(), p in arb_value(), k in arb_key()) {
            // idempotent, with or without nulls
            for patch in [p.clone(), strip_nulls(&p)] {
                let mut once = a.clone();
                merge_patch(&mut once, &patch);
                let mut twice = once.clone();
                merge_patch(&mut twice, &patch);
                prop_assert_eq!(&once, &twice);
            }
            // a patch equal to a null-free target yields it
            let t = strip_nulls(&a);
            let mut m = t.clone();
            merge_patch(&mut m, &t);
            prop_assert_eq!(&m, &t);
            let mut m = Value::Null;
            merge_patch(&mut m, &t);
            prop_assert_eq!(&m, &t);
            if let Value::Object(obj) = &a {
                // {} leaves an object unchanged
                let mut m = a.clone();
                merge_patch(&mut m, &json!({}));
                prop_assert_eq!(&m, &a);
                // a null member removes (only) that member
                let mut m = a.clone();
                merge_patch(&mut m, &json!({ k.clone(): null }));
                let mut want = obj.clone();
                want.remove(&k);
                prop_assert_eq!(m, Value::Object(want));
            } else {
                // any non-object patch replaces; an object patch makes an object
                let mut m = a.clone();
                merge_patch(&mut m, &p);
                prop_assert_eq!(m.is_object(), p.is_object());
            }
        }

        #[test]
        fn atomic_equals_sequential(
            a in prop::collection::btree_map(arb_key(), arb_value(), 1..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            raw in prop::collection::vec(
                (
                    0u8..6,
                    (0u8..4, any::<prop::sample::Index>()),
                    (0u8..4, any::<prop::sample::Index>()),
                    arb_value(),
                    any::<bool>(),
                ),
                1..7,
            ),
        ) {
            // Mostly paths that exist in `a`, sometimes ones that may not.
            let mut existing = Vec::new();
            all_paths(&a, &mut String::new(), &mut existing);
            existing.retain(|p| !p.is_empty()); // root ops would wipe everything
            let mut extra = vec![String::new()];
            for p in &existing {
                for tail in ["/-", "/zz", "/0", "/9"] {
                    extra.push(format!("{p}{tail}"));
                }
            }
            let pick = |(sel, idx): &(u8, prop::sample::Index)| {
                if *sel == 0 { idx.get(&extra).clone() } else { idx.get(&existing).clone() }
            };
            let names = ["add", "remove", "replace", "move", "copy", "test"];
            let ops: Vec<Value> = raw
                .iter()
                .map(|(k, p, f, v, use_actual)| {
                    let path = pick(p);
                    let value = match pointer_get(&a, &path).unwrap() {
                        Some(actual) if *use_actual && *k == 5 => actual.clone(),
                        _ => v.clone(),
                    };
                    json!({"op": names[*k as usize], "path": path, "from": pick(f), "value": value})
                })
                .collect();
            let mut multi = a.clone();
            let res = apply_patch(&mut multi, &Value::Array(ops.clone()));
            let mut seq = a.clone();
            let mut seq_err = None;
            for (i, op) in ops.iter().enumerate() {
                if let Err(e) = apply_patch(&mut seq, &json!([op])) {
                    seq_err = Some((i, e));
                    break;
                }
            }
            match res {
                Ok(()) => {
                    prop_assert!(seq_err.is_none());
                    prop_assert_eq!(multi, seq);
                }
                Err(e) => {
                    prop_assert_eq!(&multi, &a, "target changed after {}", e);
                    let (i, se) = seq_err.expect("sequential application fails too");
                    let want = se.to_string().replacen("operation 0", &format!("operation {i}"), 1);
                    prop_assert_eq!(e.to_string(), want);
                }
            }
        }
    }
}
