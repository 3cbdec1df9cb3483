//! Which field of a record fills each event slot (ts, type, key, level,
//! payload), and pulling those slots out of one record.
//!
//! Detection looks at a sample of records and takes, for each slot, the first
//! candidate of SPEC §2.2 that the records carry (case-insensitive, also one
//! level down in `metadata`/`meta`/`headers`). User overrides win. The chosen
//! fields are stored with the index, so every later read extracts the same way.

use crate::scan::Members;
use crate::time::{self, Level, TimeContext, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

pub const TS_CANDIDATES: &[&str] = &[
    "timestamp", "@timestamp", "ts", "time", "eventTime", "event_time", "occurredAt", "occurred_at", "createdAt",
    "created_at", "date", "datetime", "__REALTIME_TIMESTAMP", "ts_ms", "timeUnixNano",
];
pub const TYPE_CANDIDATES: &[&str] =
    &["type", "eventType", "event_type", "event", "eventName", "action", "kind", "name", "op", "operation", "methodName"];
pub const KEY_CANDIDATES: &[&str] = &[
    "streamId", "stream_id", "stream", "aggregateId", "aggregate_id", "entityId", "entity_id", "subject", "resourceId",
    "key", "id",
];
pub const LEVEL_CANDIDATES: &[&str] = &["level", "lvl", "severity", "loglevel", "log.level", "PRIORITY"];
pub const PAYLOAD_CANDIDATES: &[&str] = &["data", "payload", "body", "detail", "attributes"];
const NESTS: &[&str] = &["metadata", "meta", "headers"];

/// A field of a record: a top-level member, or a path into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRef {
    /// Object members from the record's root, e.g. `["metadata", "ts"]`.
    pub path: Vec<String>,
}

impl FieldRef {
    pub fn top(name: &str) -> FieldRef {
        FieldRef { path: vec![name.to_string()] }
    }

    /// Parses a user's `--x-field`: a member name, or a JSON Pointer.
    pub fn parse(spec: &str) -> Option<FieldRef> {
        if spec.is_empty() {
            return None;
        }
        if spec.starts_with('/') {
            let path = crate::patch::parse_pointer(spec).ok()?;
            return (!path.is_empty()).then_some(FieldRef { path });
        }
        Some(FieldRef::top(spec))
    }

    /// The record itself, as a payload (change-data-capture envelopes,
    /// whose reducer needs every member).
    pub fn whole() -> FieldRef {
        FieldRef { path: Vec::new() }
    }

    /// How the field is shown: its name, or a JSON Pointer when nested.
    pub fn display(&self) -> String {
        if self.path.is_empty() {
            "(the whole record)".into()
        } else if self.path.len() == 1 {
            self.path[0].clone()
        } else {
            self.path.iter().map(|t| format!("/{}", crate::patch::escape_token(t))).collect()
        }
    }

    fn lookup<'a>(&self, members: &Members<'a>) -> Option<Value> {
        let (first, rest) = self.path.split_first()?;
        let raw = members.iter().find(|(k, _)| k == first)?.1;
        if rest.is_empty() {
            return serde_json::from_str(raw.get()).ok();
        }
        let mut v: Value = serde_json::from_str(raw.get()).ok()?;
        for token in rest {
            v = match v {
                Value::Object(mut m) => m.remove(token)?,
                _ => return None,
            };
        }
        Some(v)
    }

    fn lookup_raw<'a>(&self, members: &Members<'a>) -> Option<&'a RawValue> {
        match self.path.as_slice() {
            [only] => members.iter().find(|(k, _)| k == only).map(|(_, v)| *v),
            _ => None,
        }
    }
}

/// The field chosen for each slot. `None` means the slot stays empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    pub ts: Option<FieldRef>,
    #[serde(rename = "type")]
    pub ty: Option<FieldRef>,
    pub key: Option<FieldRef>,
    pub level: Option<FieldRef>,
    /// `None`: the payload is the record without the fields used above.
    pub payload: Option<FieldRef>,
}

/// User overrides, as given on the command line or in the app. `Some("")`
/// clears a slot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOverrides {
    pub ts: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub key: Option<String>,
    pub level: Option<String>,
    pub payload: Option<String>,
}

/// The slots of one record, without its payload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slots {
    pub ts: Option<Timestamp>,
    pub ty: Option<String>,
    pub key: Option<String>,
    pub level: Option<Level>,
    /// The ts field was present but did not parse as a time.
    pub ts_unparsed: bool,
}

/// Turns a slot value into the text stored for type and key: strings as
/// they are, numbers in decimal, anything else as compact JSON.
fn slot_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn raw_slot_text(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    if text.starts_with('"') && !text.contains('\\') {
        return Some(text[1..text.len() - 1].to_string());
    }
    slot_text(&serde_json::from_str(text).ok()?)
}

impl Fields {
    /// Extracts the slots of one record (given as its top-level members).
    pub fn slots(&self, members: &Members<'_>, cx: &TimeContext) -> Slots {
        let mut out = Slots::default();
        if let Some(f) = &self.ts {
            if let Some(v) = f.lookup(members) {
                out.ts = time::parse_value(&v, cx);
                out.ts_unparsed = out.ts.is_none() && !v.is_null();
            }
        }
        if let Some(f) = &self.ty {
            out.ty = match f.lookup_raw(members) {
                Some(raw) => raw_slot_text(raw),
                None => f.lookup(members).as_ref().and_then(slot_text),
            };
        }
        if let Some(f) = &self.key {
            out.key = match f.lookup_raw(members) {
                Some(raw) => raw_slot_text(raw),
                None => f.lookup(members).as_ref().and_then(slot_text),
            };
        }
        if let Some(f) = &self.level {
            let name = f.path.last().map(String::as_str).unwrap_or("");
            out.level = f.lookup(members).and_then(|v| time::normalize_level(&v, name));
        }
        out
    }

    /// The payload of a record: the payload field, or the record without the
    /// top-level fields used for the other slots. A record that is not an
    /// object is its own payload.
    pub fn payload(&self, record: Value) -> Value {
        let Value::Object(mut map) = record else { return record };
        if let Some(f) = &self.payload {
            if f.path.is_empty() {
                return Value::Object(map);
            }
            return take_path(&mut map, &f.path).unwrap_or(Value::Null);
        }
        for f in [&self.ts, &self.ty, &self.key, &self.level].into_iter().flatten() {
            if let [only] = f.path.as_slice() {
                map.remove(only);
            }
        }
        Value::Object(map)
    }

    /// The slot → field names map that `info` prints.
    pub fn describe(&self) -> BTreeMap<&'static str, String> {
        let mut out = BTreeMap::new();
        for (slot, f) in [("ts", &self.ts), ("type", &self.ty), ("key", &self.key), ("level", &self.level), ("payload", &self.payload)] {
            if let Some(f) = f {
                out.insert(slot, f.display());
            }
        }
        out
    }
}

fn take_path(map: &mut Map<String, Value>, path: &[String]) -> Option<Value> {
    let (first, rest) = path.split_first()?;
    let v = map.remove(first)?;
    if rest.is_empty() {
        return Some(v);
    }
    let Value::Object(mut inner) = v else { return None };
    take_path(&mut inner, rest)
}

/// What detection chose, and why it passed over other candidates.
#[derive(Debug, Clone, Default)]
pub struct Detection {
    pub fields: Fields,
    pub notes: Vec<String>,
}

/// A case-insensitive key match at the top level or one nest down.
fn find_candidate(members: &Members<'_>, nested: &[(String, Map<String, Value>)], cand: &str) -> Option<(FieldRef, Value)> {
    for (k, raw) in members {
        if k.eq_ignore_ascii_case(cand) {
            let v = serde_json::from_str(raw.get()).ok()?;
            return Some((FieldRef::top(k), v));
        }
    }
    for (nest, map) in nested {
        for (k, v) in map {
            if k.eq_ignore_ascii_case(cand) {
                return Some((FieldRef { path: vec![nest.clone(), k.clone()] }, v.clone()));
            }
        }
    }
    None
}

/// Tallies, per candidate field, in how many sampled records it appears and
/// with which values.
#[derive(Default)]
struct Tally {
    field: Option<FieldRef>,
    present: usize,
    values: Vec<Value>,
}

/// Chooses fields from a sample of records (their top-level members).
pub fn detect(sample: &[Members<'_>], overrides: &FieldOverrides, cx: &TimeContext) -> Detection {
    let mut det = Detection::default();
    let nested: Vec<Vec<(String, Map<String, Value>)>> = sample
        .iter()
        .map(|members| {
            members
                .iter()
                .filter(|(k, _)| NESTS.iter().any(|n| k.eq_ignore_ascii_case(n)))
                .filter_map(|(k, raw)| match serde_json::from_str(raw.get()) {
                    Ok(Value::Object(m)) => Some((k.to_string(), m)),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let tally = |cand: &str| -> Tally {
        let mut t = Tally::default();
        for (members, nested) in sample.iter().zip(&nested) {
            if let Some((field, v)) = find_candidate(members, nested, cand) {
                t.field.get_or_insert(field);
                t.present += 1;
                t.values.push(v);
            }
        }
        t
    };
    let enough = |t: &Tally| t.present > 0 && t.present * 2 >= sample.len().max(1);

    let holds_times = |t: &Tally| {
        let parsed = t.values.iter().filter(|v| time::parse_value(v, cx).is_some()).count();
        enough(t) && parsed * 2 >= t.values.len()
    };
    det.fields.ts = pick(&overrides.ts, || {
        TS_CANDIDATES.iter().map(|c| tally(c)).find(holds_times).or_else(|| {
            // Beyond the usual names: a top-level member named like a time
            // (`requestReceivedTimestamp`, `instant`) that holds times.
            let names: Vec<&str> = sample.first().map(|m| m.iter().map(|(k, _)| k.as_ref()).collect()).unwrap_or_default();
            names
                .into_iter()
                .filter(|k| {
                    let k = k.to_ascii_lowercase();
                    k.ends_with("timestamp") || k.ends_with("time") || k == "instant"
                })
                .map(|k| tally(k))
                .find(holds_times)
        })
    });
    det.fields.ty = pick(&overrides.ty, || {
        TYPE_CANDIDATES.iter().map(|c| tally(c)).find(|t| enough(t) && t.values.iter().all(|v| v.is_string() || v.is_number()))
    });
    det.fields.level = pick(&overrides.level, || {
        LEVEL_CANDIDATES.iter().map(|c| tally(c)).find(|t| {
            let name = t.field.as_ref().and_then(|f| f.path.last().cloned()).unwrap_or_default();
            enough(t) && t.values.iter().filter(|v| time::normalize_level(v, &name).is_some()).count() * 2 >= t.values.len()
        })
    });
    let used: Vec<FieldRef> = [&det.fields.ts, &det.fields.ty, &det.fields.level].into_iter().flatten().cloned().collect();
    det.fields.key = match &overrides.key {
        Some(spec) => FieldRef::parse(spec),
        None => {
            let mut chosen = None;
            for cand in KEY_CANDIDATES {
                let t = tally(cand);
                let Some(field) = t.field.clone() else { continue };
                if used.contains(&field) || !enough(&t) || !t.values.iter().all(|v| v.is_string() || v.is_number()) {
                    continue;
                }
                // Only the generic names can be event ids; a stream, aggregate
                // or entity field names entities even when a sample happens to
                // touch each entity once.
                let generic = ["subject", "resourceId", "key", "id"].iter().any(|g| g.eq_ignore_ascii_case(cand));
                let distinct: HashSet<String> = t.values.iter().filter_map(slot_text).collect();
                if generic && t.values.len() >= 20 && distinct.len() * 100 >= t.values.len() * 95 {
                    det.notes.push(format!(
                        "key: `{}` passed over: {} of {} sampled values are distinct, so it names events, not entities",
                        field.display(),
                        distinct.len(),
                        t.values.len()
                    ));
                    continue;
                }
                chosen = Some(field);
                break;
            }
            chosen
        }
    };
    det.fields.payload = pick(&overrides.payload, || {
        PAYLOAD_CANDIDATES
            .iter()
            .map(|c| tally(c))
            .find(|t| enough(t) && t.field.as_ref().is_some_and(|f| f.path.len() == 1))
    });
    det
}

fn pick(over: &Option<String>, auto: impl FnOnce() -> Option<Tally>) -> Option<FieldRef> {
    match over {
        Some(spec) => FieldRef::parse(spec),
        None => auto().and_then(|t| t.field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::top_level_members;

    fn sample(lines: &[&str]) -> Detection {
        let members: Vec<_> = lines.iter().map(|l| top_level_members(l).unwrap().unwrap()).collect();
        detect(&members, &FieldOverrides::default(), &TimeContext { default_year: 2024 })
    }

    #[test]
    fn picks_first_candidate_case_insensitively() {
        let d = sample(&[
            r#"{"Timestamp":"2024-01-05T10:00:00Z","eventType":"A","name":"n","streamId":"s-1","Level":"WARN","data":{"x":1}}"#,
            r#"{"Timestamp":"2024-01-05T10:00:01Z","eventType":"B","name":"n","streamId":"s-1","Level":"info","data":{"x":2}}"#,
        ]);
        expect_test::expect![[r#"
            {
                "key": "streamId",
                "level": "Level",
                "payload": "data",
                "ts": "Timestamp",
                "type": "eventType",
            }
        "#]]
        .assert_debug_eq(&d.fields.describe());
    }

    #[test]
    fn nested_metadata_and_unique_ids_passed_over() {
        let lines: Vec<String> = (0..30)
            .map(|i| format!(r#"{{"id":"evt-{i}","metadata":{{"ts":{}}},"type":"T","entityId":"e-{}"}}"#, 1_700_000_000_000i64 + i, i % 3))
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let d = sample(&refs);
        assert_eq!(d.fields.ts.as_ref().unwrap().display(), "/metadata/ts");
        assert_eq!(d.fields.key.as_ref().unwrap().display(), "entityId");
        let lines: Vec<String> = (0..30).map(|i| format!(r#"{{"id":"evt-{i}","type":"T"}}"#)).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let d = sample(&refs);
        assert_eq!(d.fields.key, None);
        assert!(d.notes[0].contains("`id` passed over: 30 of 30"), "{:?}", d.notes);
    }

    #[test]
    fn slots_and_payload() {
        let d = sample(&[r#"{"ts":1704448800250,"type":"OrderPlaced","id":17,"x":{"a":1}}"#]);
        let rec = r#"{"ts":1704448800250,"type":"OrderPlaced","id":17,"x":{"a":1}}"#;
        let m = top_level_members(rec).unwrap().unwrap();
        let s = d.fields.slots(&m, &TimeContext { default_year: 2024 });
        assert_eq!(s.ts.unwrap().to_rfc3339(), "2024-01-05T10:00:00.250Z");
        assert_eq!(s.key.as_deref(), Some("17"));
        assert_eq!(s.ty.as_deref(), Some("OrderPlaced"));
        assert_eq!(d.fields.payload(serde_json::from_str(rec).unwrap()), serde_json::json!({"x": {"a": 1}}));
    }
}
