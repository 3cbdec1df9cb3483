//! One entity's own timeline: the events that carry its key and every event
//! that changed the top-level member of that name, each with what it did
//! (created, updated, deleted, unchanged) and the entity's value after it.
//!
//! It is one query over the log — the blame walk of `/KEY` — never a replay
//! of the whole state per step: with the entity reducer only the entity's
//! own events and keyless ones are read.

use crate::patch;
use crate::source::{Seen, Source};
use crate::{Error, Result};
use serde::Serialize;
use serde_json::Value;

/// What one event did to the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// It did not exist before and does after.
    Created,
    /// It existed before and after, with another value.
    Updated,
    /// It existed before and does not after.
    Deleted,
    /// The event carries the entity's key but left its value as it was.
    Unchanged,
}

impl ChangeKind {
    fn of(before: bool, after: bool) -> ChangeKind {
        match (before, after) {
            (false, true) => ChangeKind::Created,
            (true, false) => ChangeKind::Deleted,
            _ => ChangeKind::Updated,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
            ChangeKind::Unchanged => "unchanged",
        }
    }
}

/// One step of an entity's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityStep {
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Whether the event carries the entity's key (a keyless event, or one
    /// of another key, can change it too under some reducers).
    pub keyed: bool,
    pub change: ChangeKind,
    /// The entity after the event; left out when it does not exist then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// One stretch of the log during which the entity exists: from the event
/// that created it to the one that deleted it (`None`: it still exists at
/// the end of the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lifetime {
    pub created: u64,
    pub deleted: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityHistory {
    pub key: String,
    /// The JSON Pointer of the entity in the state (`/` + the escaped key).
    pub pointer: String,
    /// Every lifetime, in order: an entity can be created again after it
    /// was deleted.
    pub lifetimes: Vec<Lifetime>,
    pub steps: Vec<EntityStep>,
}

impl EntityHistory {
    /// The lifetimes the steps describe.
    fn lifetimes_of(steps: &[EntityStep]) -> Vec<Lifetime> {
        let mut out: Vec<Lifetime> = Vec::new();
        for s in steps {
            match s.change {
                ChangeKind::Created => out.push(Lifetime { created: s.seq, deleted: None }),
                ChangeKind::Deleted => {
                    if let Some(open) = out.last_mut().filter(|l| l.deleted.is_none()) {
                        open.deleted = Some(s.seq);
                    }
                }
                ChangeKind::Updated | ChangeKind::Unchanged => {}
            }
        }
        out
    }
}

impl Source {
    /// The timeline of the entity `key`: the events whose key is `key` and
    /// every event that changed the state's member `key`, in seq order, each
    /// with its change kind and the entity's value after it.
    pub fn entity_history(&self, key: &str) -> Result<EntityHistory> {
        let pointer = format!("/{}", patch::escape_token(key));
        let mut steps = Vec::new();
        self.walk_value(&pointer, &mut |row, seen| {
            let keyed = row.key.as_deref() == Some(key);
            let (change, value) = match seen {
                Seen::Changed { old, new } => (ChangeKind::of(old.is_some(), new.is_some()), new),
                Seen::Same(value) if keyed => (ChangeKind::Unchanged, value),
                Seen::Same(_) => return,
            };
            steps.push(EntityStep {
                seq: row.seq,
                ts: row.ts.map(|t| t.to_rfc3339()),
                ty: row.ty.clone(),
                keyed,
                change,
                value: value.clone(),
            });
        })?;
        if steps.is_empty() {
            return Err(Error::Query(format!(
                "there is no entity `{key}`: no event has that key and the state never has a member of that name"
            )));
        }
        Ok(EntityHistory { key: key.to_string(), pointer, lifetimes: EntityHistory::lifetimes_of(&steps), steps })
    }
}

#[cfg(test)]
mod tests {
    use super::{ChangeKind, EntityHistory, Lifetime};
    use crate::{Location, OpenOptions, Settings, Source};
    use serde_json::{json, Value};
    use std::io::Write;

    fn open(lines: &[Value], reducer: Option<&str>) -> (tempfile::TempDir, Source) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let mut f = std::fs::File::create(&path).unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
        let settings = Settings { reducer: reducer.map(str::to_string), ..Settings::default() };
        let src = Source::open(&[path], &OpenOptions { settings, location: Location::Temp, ..OpenOptions::default() }, &mut |_| {}).unwrap();
        (dir, src)
    }

    fn ev(ty: &str, key: Option<&str>, data: Value) -> Value {
        match key {
            Some(k) => json!({"type": ty, "streamId": k, "data": data}),
            None => json!({"type": ty, "data": data}),
        }
    }

    /// (seq, change) of each step.
    fn kinds(h: &EntityHistory) -> Vec<(u64, &'static str)> {
        h.steps.iter().map(|s| (s.seq, s.change.as_str())).collect()
    }

    /// The value each step reports equals the value at the entity's pointer
    /// in the state the engine restores for that seq (the slow way).
    fn check_values_against_state(src: &Source, h: &EntityHistory) {
        for s in &h.steps {
            let tokens = crate::patch::parse_pointer(&h.pointer).unwrap();
            let expected = src.state(s.seq).unwrap().pointer_tokens(&tokens);
            assert_eq!(s.value, expected, "value after #{} of {}", s.seq, h.key);
        }
    }

    #[test]
    fn created_updated_unchanged_deleted_and_created_again() {
        let (_d, src) = open(
            &[
                ev("Opened", Some("acct"), json!({"balance": 10})),
                ev("Opened", Some("other"), json!({"balance": 1})),
                ev("Deposited", Some("acct"), json!({"balance": 15})),
                ev("Viewed", Some("acct"), json!({"balance": 15})),
                ev("AccountDeleted", Some("acct"), json!({})),
                ev("Viewed", Some("acct"), json!({})),
                ev("Opened", Some("acct"), json!({"balance": 0})),
            ],
            None,
        );
        let h = src.entity_history("acct").unwrap();
        // #6 is an event of the key after the deletion: the entity comes
        // back (the entity reducer merges into a fresh object).
        assert_eq!(
            kinds(&h),
            [(1, "created"), (3, "updated"), (4, "unchanged"), (5, "deleted"), (6, "created"), (7, "updated")]
        );
        assert_eq!(h.lifetimes, [Lifetime { created: 1, deleted: Some(5) }, Lifetime { created: 6, deleted: None }]);
        assert_eq!(h.steps[3].value, None, "a deleted entity has no value");
        assert_eq!(h.steps[2].value, Some(json!({"balance": 15})), "an unchanged step shows the value it kept");
        assert!(h.steps.iter().all(|s| s.keyed));
        check_values_against_state(&src, &h);
        // Serialised, an absent value is left out rather than written as null.
        let deleted = serde_json::to_value(&h.steps[3]).unwrap();
        assert_eq!(deleted, json!({"seq": 5, "type": "AccountDeleted", "keyed": true, "change": "deleted"}));
    }

    #[test]
    fn keys_that_need_pointer_escaping() {
        // Each key is an entity of its own; `a/b` must not be read as /a/b,
        // nor `m~1n` as `m/n`.
        let keys = ["a/b", "a", "m~1n", "m/n", "~", "", "ключ 🔑"];
        let lines: Vec<Value> = keys.iter().enumerate().map(|(i, k)| ev("Set", Some(k), json!({"n": i}))).collect();
        let (_d, src) = open(&lines, None);
        for (i, k) in keys.iter().enumerate() {
            let h = src.entity_history(k).unwrap();
            assert_eq!(kinds(&h), [(i as u64 + 1, "created")], "key {k:?}");
            assert_eq!(h.steps[0].value, Some(json!({"n": i})), "key {k:?}");
            assert_eq!(h.key, *k);
            check_values_against_state(&src, &h);
        }
        assert_eq!(src.entity_history("a/b").unwrap().pointer, "/a~1b");
        assert_eq!(src.entity_history("m~1n").unwrap().pointer, "/m~01n");
    }

    #[test]
    fn an_unknown_key_is_one_sentence() {
        let (_d, src) = open(&[ev("Set", Some("a"), json!({"n": 1}))], None);
        for key in ["b", "a/n", "A", ""] {
            let err = src.entity_history(key).unwrap_err();
            assert!(matches!(err, crate::Error::Query(_)), "{key:?}: {err:?}");
            let text = err.to_string();
            assert!(text.contains(&format!("`{key}`")) && !text.contains('\n'), "{text}");
        }
    }

    #[test]
    fn keyless_and_foreign_events_that_change_the_entity() {
        // Data-driven over reducers: (reducer, log, key, expected steps as
        // (seq, change, keyed)).
        type Case = (Option<&'static str>, Vec<Value>, &'static str, Vec<(u64, &'static str, bool)>);
        let cases: Vec<Case> = vec![
            // A keyless event merges at the root: it can create, change and
            // remove the member of that name.
            (
                None,
                vec![
                    ev("Config", None, json!({"shop": {"open": true}})),
                    ev("Renamed", Some("shop"), json!({"name": "S"})),
                    ev("Other", Some("else"), json!({"x": 1})),
                    ev("Config", None, json!({"shop": null})),
                ],
                "shop",
                vec![(1, "created", false), (2, "updated", true), (4, "deleted", false)],
            ),
            // Merge patch: keys name events, the payload says what changes.
            (
                Some("merge-patch"),
                vec![
                    ev("Set", Some("k"), json!({"k": {"v": 1}})),
                    ev("Touch", Some("k"), json!({"other": 2})),
                    ev("Set", Some("x"), json!({"k": {"v": 2}})),
                    ev("Drop", Some("k"), json!({"k": null})),
                ],
                "k",
                vec![(1, "created", true), (2, "unchanged", true), (3, "updated", false), (4, "deleted", true)],
            ),
            // JSON Patch: a whole-document stream; the member comes and goes.
            (
                Some("json-patch"),
                vec![
                    json!({"type": "p", "data": [{"op": "add", "path": "/cart", "value": {"items": []}}]}),
                    json!({"type": "p", "data": [{"op": "add", "path": "/cart/items/-", "value": "fig"}]}),
                    json!({"type": "p", "data": [{"op": "add", "path": "/other", "value": 1}]}),
                    json!({"type": "p", "data": [{"op": "remove", "path": "/cart"}]}),
                    json!({"type": "p", "data": [{"op": "add", "path": "/cart", "value": null}]}),
                ],
                "cart",
                vec![(1, "created", false), (2, "updated", false), (4, "deleted", false), (5, "created", false)],
            ),
        ];
        for (reducer, log, key, want) in cases {
            let (_d, src) = open(&log, reducer);
            let h = src.entity_history(key).unwrap();
            let got: Vec<(u64, &str, bool)> = h.steps.iter().map(|s| (s.seq, s.change.as_str(), s.keyed)).collect();
            assert_eq!(got, want, "reducer {reducer:?}");
            check_values_against_state(&src, &h);
        }
    }

    #[test]
    fn a_null_entity_exists() {
        // `null` is a value: present, and serialised as null, unlike absence.
        let (_d, src) = open(&[json!({"type": "s", "data": {"k": null}})], Some("snapshot"));
        let h = src.entity_history("k").unwrap();
        assert_eq!(kinds(&h), [(1, "created")]);
        assert_eq!(serde_json::to_value(&h.steps[0]).unwrap()["value"], Value::Null);
        assert!(serde_json::to_value(&h.steps[0]).unwrap().as_object().unwrap().contains_key("value"));
    }

    #[test]
    fn lifetimes_follow_creations_and_deletions() {
        let step = |seq, change| super::EntityStep { seq, ts: None, ty: None, keyed: true, change, value: None };
        use ChangeKind::*;
        let cases: Vec<(Vec<super::EntityStep>, Vec<Lifetime>)> = vec![
            (vec![], vec![]),
            (vec![step(1, Created), step(2, Updated)], vec![Lifetime { created: 1, deleted: None }]),
            (
                vec![step(1, Created), step(3, Deleted), step(4, Unchanged), step(9, Created), step(10, Deleted)],
                vec![Lifetime { created: 1, deleted: Some(3) }, Lifetime { created: 9, deleted: Some(10) }],
            ),
        ];
        for (steps, want) in cases {
            assert_eq!(EntityHistory::lifetimes_of(&steps), want);
        }
    }
}
