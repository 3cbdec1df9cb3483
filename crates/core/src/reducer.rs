//! Reducers: how one event changes the state (SPEC §2.3), and which reducer
//! a log gets when the user does not choose one.
//!
//! A reducer never fails the replay: an event it cannot apply leaves the
//! state unchanged and is *marked* with a one-sentence reason, which the
//! index stores and the timeline shows.

use crate::jq::{Budget, JqProgram};
use crate::patch;
use crate::state::{member_mut, Member, Name, State, Touched};
use crate::time::{Level, Timestamp};
use serde_json::{Map, Value};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Reducer {
    Entity,
    MergePatch,
    JsonPatch,
    Snapshot,
    /// Change-data-capture envelopes (Debezium, Maxwell, Canal).
    Cdc,
    Jq { expr: String, program: Arc<JqProgram> },
}

impl Reducer {
    /// Parses `entity`, `merge-patch`, `json-patch`, `snapshot` or `jq:EXPR`.
    pub fn parse(spec: &str) -> Result<Reducer, crate::Error> {
        Ok(match spec {
            "entity" => Reducer::Entity,
            "merge-patch" => Reducer::MergePatch,
            "json-patch" => Reducer::JsonPatch,
            "snapshot" => Reducer::Snapshot,
            "cdc" => Reducer::Cdc,
            _ => match spec.strip_prefix("jq:") {
                Some(expr) => Reducer::Jq { expr: expr.to_string(), program: Arc::new(JqProgram::compile(expr)?) },
                None => {
                    return Err(crate::Error::Query(format!(
                        "unknown reducer `{spec}`; choose entity, merge-patch, json-patch, snapshot, cdc or jq:EXPR"
                    )))
                }
            },
        })
    }

    pub fn name(&self) -> String {
        match self {
            Reducer::Entity => "entity".into(),
            Reducer::MergePatch => "merge-patch".into(),
            Reducer::JsonPatch => "json-patch".into(),
            Reducer::Snapshot => "snapshot".into(),
            Reducer::Cdc => "cdc".into(),
            Reducer::Jq { expr, .. } => format!("jq:{expr}"),
        }
    }
}

/// What a reducer sees of an event.
pub struct EventView<'a> {
    pub seq: u64,
    pub ts: Option<Timestamp>,
    pub ty: Option<&'a str>,
    pub key: Option<&'a str>,
    pub level: Option<Level>,
    pub payload: Value,
}

impl EventView<'_> {
    /// The `$event` object given to jq: `{seq, ts, type, key, level, payload}`.
    pub fn to_jq_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("seq".into(), self.seq.into());
        m.insert("ts".into(), self.ts.map_or(Value::Null, |t| t.to_rfc3339().into()));
        m.insert("type".into(), self.ty.map_or(Value::Null, Into::into));
        m.insert("key".into(), self.key.map_or(Value::Null, Into::into));
        m.insert("level".into(), self.level.map_or(Value::Null, |l| l.as_str().into()));
        m.insert("payload".into(), self.payload.clone());
        Value::Object(m)
    }
}

/// A type whose letters end in deleted/removed/destroyed/purged.
pub fn is_deletion(ty: &str) -> bool {
    const SUFFIXES: [&[u8]; 4] = [b"deleted", b"removed", b"destroyed", b"purged"];
    if ty.is_ascii() {
        // The common case, without allocating: letters from the end.
        let mut tail = [0u8; 9];
        let mut n = 0;
        for b in ty.bytes().rev().filter(u8::is_ascii_alphabetic) {
            if n == tail.len() {
                break;
            }
            tail[tail.len() - 1 - n] = b.to_ascii_lowercase();
            n += 1;
        }
        let letters = &tail[tail.len() - n..];
        return SUFFIXES.iter().any(|s| letters.ends_with(s));
    }
    let letters: String = ty.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect();
    SUFFIXES.iter().any(|s| letters.as_bytes().ends_with(s))
}

/// Applies one event. On `Err` (the mark's message) the state is unchanged.
pub fn apply(reducer: &Reducer, state: &mut State, ev: EventView<'_>, touched: &mut Touched) -> Result<(), String> {
    match reducer {
        Reducer::Entity => match ev.key {
            Some(key) => {
                touched.key(key);
                let members = state.members_mut();
                if ev.ty.is_some_and(is_deletion) {
                    members.remove(&Name(key));
                } else {
                    match members.get_mut(&Name(key)) {
                        Some(entry) => patch::merge_patch_owned(member_mut(entry), ev.payload),
                        None => {
                            let mut fresh = Value::Object(Map::new());
                            patch::merge_patch_owned(&mut fresh, ev.payload);
                            members.insert(Arc::from(key), Arc::new(Member::from(fresh)));
                        }
                    }
                }
                Ok(())
            }
            None => {
                merge_root(state, ev.payload, touched);
                Ok(())
            }
        },
        Reducer::MergePatch => {
            merge_root(state, ev.payload, touched);
            Ok(())
        }
        Reducer::JsonPatch => json_patch(state, &ev.payload, touched),
        Reducer::Snapshot => {
            *state = State::from_value(ev.payload);
            touched.all();
            Ok(())
        }
        Reducer::Cdc => cdc(state, ev, touched),
        Reducer::Jq { program, .. } => {
            let input = state.to_value();
            let event = ev.to_jq_value();
            let out = program.reduce(&input, &event, &Budget::default()).map_err(|e| e.to_string())?;
            *state = State::from_value(out);
            touched.all();
            Ok(())
        }
    }
}

/// `state[table][id] = after`, or removes the row; the table stays an
/// object even when its last row goes.
fn cdc(state: &mut State, ev: EventView<'_>, touched: &mut Touched) -> Result<(), String> {
    let changes = crate::envelope::cdc_changes(&ev.payload, ev.key)?;
    let members = state.members_mut();
    for change in changes {
        touched.key(&change.table);
        let table = members.entry(Arc::from(change.table.as_str())).or_insert_with(|| Arc::new(Member::from(Value::Object(Map::new()))));
        let rows = member_mut(table);
        if !rows.is_object() {
            *rows = Value::Object(Map::new());
        }
        let Value::Object(rows) = rows else { continue };
        match change.after {
            Some(after) => {
                rows.insert(change.id, after);
            }
            None => {
                rows.remove(&change.id);
            }
        }
    }
    Ok(())
}

/// RFC 7386 at the root, member by member so untouched members stay shared.
fn merge_root(state: &mut State, payload: Value, touched: &mut Touched) {
    let Value::Object(patch_members) = payload else {
        *state = State::from_value(payload);
        touched.all();
        return;
    };
    let members = state.members_mut();
    for (k, v) in patch_members {
        touched.key(&k);
        if v.is_null() {
            members.remove(k.as_str());
        } else {
            match members.get_mut(k.as_str()) {
                Some(entry) => patch::merge_patch_owned(member_mut(entry), v),
                None => {
                    let mut fresh = Value::Null;
                    patch::merge_patch_owned(&mut fresh, v);
                    members.insert(Arc::from(k.as_str()), Arc::new(Member::from(fresh)));
                }
            }
        }
    }
}

/// The operations of a JSON Patch event: the payload itself, or its `patch`
/// / `ops` / `operations` member.
fn patch_ops(payload: &Value) -> Option<&Value> {
    match payload {
        Value::Array(_) => Some(payload),
        Value::Object(m) => ["patch", "ops", "operations"].iter().find_map(|k| m.get(*k).filter(|v| v.is_array())),
        _ => None,
    }
}

/// RFC 6902, atomically. Only the members the operations name are copied.
fn json_patch(state: &mut State, payload: &Value, touched: &mut Touched) -> Result<(), String> {
    let ops = patch_ops(payload).ok_or("the payload is not a JSON Patch (an array of operations)")?;
    let Value::Array(list) = ops else { unreachable!("patch_ops returns arrays") };
    let mut firsts: Vec<String> = Vec::new();
    let mut whole = matches!(state, State::Other(_));
    for op in list {
        for field in ["path", "from"] {
            if let Some(p) = op.get(field).and_then(Value::as_str) {
                match patch::parse_pointer(p) {
                    Ok(tokens) => match tokens.into_iter().next() {
                        Some(first) => firsts.push(first),
                        None => whole = true,
                    },
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
    }
    firsts.sort_unstable();
    firsts.dedup();
    if whole {
        let mut v = state.to_value();
        patch::apply_patch(&mut v, ops).map_err(|e| e.to_string())?;
        *state = State::from_value(v);
        touched.all();
        return Ok(());
    }
    let members = state.members_mut();
    let mut scratch = Map::new();
    for k in &firsts {
        if let Some(v) = members.get(k.as_str()) {
            scratch.insert(k.clone(), v.value().clone());
        }
    }
    let mut scratch = Value::Object(scratch);
    patch::apply_patch(&mut scratch, ops).map_err(|e| e.to_string())?;
    let Value::Object(mut scratch) = scratch else { unreachable!("patches below the root keep an object root") };
    for k in firsts {
        touched.key(&k);
        match scratch.remove(&k) {
            Some(v) => {
                members.insert(Arc::from(k), Arc::new(Member::from(v)));
            }
            None => {
                members.remove(k.as_str());
            }
        }
    }
    Ok(())
}

/// Chooses a reducer from a sample of payloads and whether keys were found:
/// json-patch for patch streams, entity when events have keys, else
/// merge-patch.
pub fn detect(payloads: &[Value], has_key: bool) -> Reducer {
    let is_op = |v: &Value| v.get("op").is_some_and(Value::is_string) && v.get("path").is_some_and(Value::is_string);
    let patches = payloads
        .iter()
        .filter(|p| matches!(patch_ops(p), Some(Value::Array(ops)) if !ops.is_empty() && ops.iter().all(is_op)))
        .count();
    if !payloads.is_empty() && patches * 10 >= payloads.len() * 9 {
        Reducer::JsonPatch
    } else if has_key {
        Reducer::Entity
    } else {
        Reducer::MergePatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev<'a>(ty: Option<&'a str>, key: Option<&'a str>, payload: Value) -> EventView<'a> {
        EventView { seq: 1, ts: None, ty, key, level: None, payload }
    }

    fn run(reducer: &Reducer, events: Vec<EventView<'_>>) -> (Value, Vec<Result<(), String>>) {
        let mut s = State::default();
        let mut t = Touched::default();
        let results = events.into_iter().map(|e| apply(reducer, &mut s, e, &mut t)).collect();
        (s.to_value(), results)
    }

    #[test]
    fn entity_merges_per_key_and_deletes() {
        let (s, _) = run(
            &Reducer::Entity,
            vec![
                ev(Some("Created"), Some("a"), json!({"n": 1, "tags": {"x": 1}})),
                ev(Some("Changed"), Some("a"), json!({"tags": {"x": null, "y": 2}})),
                ev(Some("Created"), Some("b"), json!({"n": 2})),
                ev(Some("Item_Deleted!"), Some("b"), json!({})),
                ev(None, None, json!({"global": true})),
            ],
        );
        assert_eq!(s, json!({"a": {"n": 1, "tags": {"y": 2}}, "global": true}));
        assert!(is_deletion("order.purged") && is_deletion("CartRemoved") && !is_deletion("Removal"));
    }

    #[test]
    fn json_patch_is_atomic_and_marks() {
        let (s, r) = run(
            &Reducer::JsonPatch,
            vec![
                ev(None, None, json!([{"op": "add", "path": "/a", "value": {"n": 1}}])),
                ev(None, None, json!([{"op": "replace", "path": "/a/n", "value": 2}, {"op": "remove", "path": "/zz"}])),
                ev(None, None, json!({"x": 1})),
                ev(None, None, json!({"patch": [{"op": "move", "from": "/a", "path": "/b"}]})),
                ev(None, None, json!([{"op": "add", "path": "/b/m", "value": 1}, {"op": "add", "path": "/b/k", "value": 2}])),
            ],
        );
        assert_eq!(s, json!({"b": {"n": 1, "m": 1, "k": 2}}));
        assert!(r[0].is_ok() && r[1].is_err() && r[2].is_err() && r[3].is_ok() && r[4].is_ok());
    }

    #[test]
    fn snapshot_and_merge_patch_and_jq() {
        let (s, _) = run(&Reducer::Snapshot, vec![ev(None, None, json!({"a": 1})), ev(None, None, json!([1, 2]))]);
        assert_eq!(s, json!([1, 2]));
        let (s, _) = run(&Reducer::MergePatch, vec![ev(None, None, json!({"a": {"b": 1}})), ev(None, None, json!({"a": {"c": 2}}))]);
        assert_eq!(s, json!({"a": {"b": 1, "c": 2}}));
        let jq = Reducer::parse("jq:.count += 1 | .last = $event.payload.v").unwrap();
        let (s, r) = run(&jq, vec![ev(None, None, json!({"v": "x"})), ev(None, None, json!({"v": "y"}))]);
        assert_eq!(s, json!({"count": 2, "last": "y"}));
        assert!(r.iter().all(Result::is_ok));
        let failing = Reducer::parse("jq:error(\"boom\")").unwrap();
        let (s, r) = run(&failing, vec![ev(None, None, json!({}))]);
        assert_eq!(s, json!({}));
        assert!(r[0].as_ref().unwrap_err().contains("boom"));
    }

    #[test]
    fn detection() {
        let patches = vec![json!([{"op": "add", "path": "/a", "value": 1}]); 10];
        assert!(matches!(detect(&patches, true), Reducer::JsonPatch));
        assert!(matches!(detect(&[json!({"a": 1})], true), Reducer::Entity));
        assert!(matches!(detect(&[json!({"a": 1})], false), Reducer::MergePatch));
        assert!(Reducer::parse("bogus").is_err());
    }
}
