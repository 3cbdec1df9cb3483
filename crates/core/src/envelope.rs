//! Envelopes: JSON records that hold events or row changes instead of being
//! one event themselves (SPEC §2.1, §2.3).
//!
//! * OTLP/JSON logs ([`explode_otlp`]) and Redux DevTools exports
//!   ([`explode_redux`]) are *exploded*: one record becomes a list of flat
//!   event records.
//! * Change-data-capture envelopes (Debezium, Maxwell, Canal) become
//!   [`RowChange`]s for the `cdc` reducer ([`cdc_changes`]).
//! * [`looks_like_cdc`] judges a sample of records for reducer detection
//!   (JSON Patch streams are recognised by `reducer::detect`).
//!
//! Everything is a pure function of borrowed values: nothing panics, prints or
//! fails on odd input. Only the fixed envelope structure is walked; the
//! payloads copied into results (states, rows, log bodies) are copied with an
//! explicit stack, so values nested 100,000 levels deep never overflow the
//! call stack. Results can be as deep as their input; dropping them is the
//! caller's business, as for any parsed value.

use serde_json::{Map, Number, Value};

// ---------------------------------------------------------------- OTLP logs

/// OTLP/JSON logs: a record with `resourceLogs` → one flat event record per log record, in order:
///   resourceLogs[].resource.attributes + scopeLogs[].scope.{name,version} + scopeLogs[].logRecords[].
///
/// Each output is an object with, when present: `timeUnixNano` (as given;
/// `observedTimeUnixNano` when the time is absent or `0`, which OTLP uses for
/// "unknown"), `level` (`severityText`, else derived from `severityNumber`:
/// 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal),
/// `severityNumber` (a number; enum names such as `SEVERITY_NUMBER_WARN2`
/// are resolved), `message` (the body unwrapped from its AnyValue),
/// `log_attributes` (the record's attributes as a plain object — not
/// `attributes`, which is a payload slot name), `resource` (resource
/// attributes as a plain object), `scope` (scope name), `scopeVersion`,
/// `traceId`, `spanId`, `eventName` and `flags`. Pre-1.0 files
/// (`instrumentationLibraryLogs`) are read the same way.
///
/// `None` when the value has no `resourceLogs` array; `Some(vec![])` when it
/// has one without log records.
pub fn explode_otlp(record: &Value) -> Option<Vec<Value>> {
    let resource_logs = record.get("resourceLogs")?.as_array()?;
    let mut events = Vec::new();
    for resource_log in resource_logs {
        // Flattened anew for each record rather than flattened once and
        // cloned: a deep copy left over would be dropped recursively.
        let resource = resource_log.get("resource").and_then(|r| r.get("attributes"));
        for scope_log in first_array(resource_log, &["scopeLogs", "instrumentationLibraryLogs"]) {
            let scope = first_member(scope_log, &["scope", "instrumentationLibrary"]);
            let scope = Scope {
                name: scope.and_then(|s| s.get("name")).and_then(non_empty_str),
                version: scope.and_then(|s| s.get("version")).and_then(non_empty_str),
            };
            for log_record in first_array(scope_log, &["logRecords"]) {
                events.push(otlp_event(log_record, resource, &scope));
            }
        }
    }
    Some(events)
}

/// The instrumentation scope every record of a `scopeLogs` entry shares.
struct Scope<'a> {
    name: Option<&'a str>,
    version: Option<&'a str>,
}

/// One log record as a flat event; `resource` is the resource's OTLP attributes.
fn otlp_event(log_record: &Value, resource: Option<&Value>, scope: &Scope<'_>) -> Value {
    let mut event = Map::new();
    let time =
        ["timeUnixNano", "observedTimeUnixNano"].iter().filter_map(|k| log_record.get(*k)).find(|t| is_known_time(t));
    if let Some(time) = time {
        event.insert("timeUnixNano".into(), time.clone());
    }
    let given_number = log_record.get("severityNumber");
    let number = given_number.and_then(severity_number);
    let level = log_record.get("severityText").and_then(non_empty_str).or_else(|| number.and_then(level_of_severity));
    if let Some(level) = level {
        event.insert("level".into(), level.into());
    }
    match (number, given_number) {
        (Some(n), _) => {
            event.insert("severityNumber".into(), n.into());
        }
        // An unknown enum name is still worth showing as written.
        (None, Some(Value::String(s))) => {
            event.insert("severityNumber".into(), s.as_str().into());
        }
        (None, _) => {}
    }
    if let Some(body) = log_record.get("body") {
        event.insert("message".into(), plain_from_any_value(body));
    }
    if let Some(attributes) = log_record.get("attributes").and_then(plain_from_attributes).filter(is_non_empty_object) {
        event.insert("log_attributes".into(), attributes);
    }
    if let Some(resource) = resource.and_then(plain_from_attributes).filter(is_non_empty_object) {
        event.insert("resource".into(), resource);
    }
    if let Some(name) = scope.name {
        event.insert("scope".into(), name.into());
    }
    if let Some(version) = scope.version {
        event.insert("scopeVersion".into(), version.into());
    }
    for field in ["traceId", "spanId", "eventName"] {
        if let Some(text) = log_record.get(field).and_then(non_empty_str) {
            event.insert(field.into(), text.into());
        }
    }
    if let Some(flags) = log_record.get("flags").filter(|f| f.is_number()) {
        event.insert("flags".into(), flags.clone());
    }
    Value::Object(event)
}

/// A time that is a number or numeric text other than OTLP's "unknown" `0`.
fn is_known_time(time: &Value) -> bool {
    match time {
        Value::String(s) => !s.is_empty() && s.bytes().any(|b| b != b'0'),
        Value::Number(n) => n.as_u64() != Some(0),
        _ => false,
    }
}

/// `severityNumber` as 0-24: a number, numeric text, or the proto enum name
/// (`SEVERITY_NUMBER_INFO`, `SEVERITY_NUMBER_ERROR3`, ...).
fn severity_number(given: &Value) -> Option<u64> {
    let number = match given {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => match s.parse::<u64>() {
            Ok(n) => n,
            Err(_) => severity_from_enum_name(s)?,
        },
        _ => return None,
    };
    (number <= 24).then_some(number)
}

fn severity_from_enum_name(name: &str) -> Option<u64> {
    let name = name.strip_prefix("SEVERITY_NUMBER_")?;
    if name == "UNSPECIFIED" {
        return Some(0);
    }
    let (base, step) = match name.strip_suffix(['2', '3', '4']) {
        Some(base) => (base, name.bytes().last().map_or(0, |d| u64::from(d.saturating_sub(b'1')))),
        None => (name, 0),
    };
    let first = match base {
        "TRACE" => 1,
        "DEBUG" => 5,
        "INFO" => 9,
        "WARN" => 13,
        "ERROR" => 17,
        "FATAL" => 21,
        _ => return None,
    };
    Some(first + step)
}

fn level_of_severity(number: u64) -> Option<&'static str> {
    Some(match number {
        1..=4 => "trace",
        5..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        21..=24 => "fatal",
        _ => return None,
    })
}

/// An OTLP `attributes` member as a plain object: a KeyValue list is
/// flattened; an object (some producers write attributes already flat) is
/// kept as it is.
fn plain_from_attributes(attributes: &Value) -> Option<Value> {
    match attributes {
        Value::Array(key_values) => Some(plain_from_shape(AnyShape::KeyValues(key_values))),
        Value::Object(_) => Some(clone_value(attributes)),
        _ => None,
    }
}

/// An OTLP AnyValue as the plain JSON it stands for.
fn plain_from_any_value(any: &Value) -> Value {
    plain_from_shape(any_shape(any))
}

/// What one OTLP AnyValue holds: a finished plain value, or a list whose
/// items are AnyValues (`arrayValue`) or KeyValues (`kvlistValue`).
enum AnyShape<'a> {
    Plain(Value),
    Array(&'a [Value]),
    KeyValues(&'a [Value]),
}

fn any_shape(any: &Value) -> AnyShape<'_> {
    let Value::Object(members) = any else {
        // Not an AnyValue (a producer wrote the plain value): keep it.
        return AnyShape::Plain(clone_value(any));
    };
    let mut only = members.iter();
    let (kind, inner) = match (only.next(), only.next()) {
        (None, _) => return AnyShape::Plain(Value::Null), // the empty AnyValue
        (Some(kind_and_inner), None) => kind_and_inner,
        (Some(_), Some(_)) => return AnyShape::Plain(clone_value(any)),
    };
    match kind.as_str() {
        "stringValue" | "boolValue" | "bytesValue" => AnyShape::Plain(clone_value(inner)),
        "intValue" => AnyShape::Plain(int_value(inner)),
        "doubleValue" => AnyShape::Plain(double_value(inner)),
        // Empty lists are often written `{}`, without `values`.
        "arrayValue" => AnyShape::Array(values_of(inner)),
        "kvlistValue" => AnyShape::KeyValues(values_of(inner)),
        _ => AnyShape::Plain(clone_value(any)),
    }
}

fn values_of(list: &Value) -> &[Value] {
    list.get("values").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// OTLP/JSON writes int64 as text; numbers are accepted too.
fn int_value(given: &Value) -> Value {
    match given {
        Value::String(s) => match (s.parse::<i64>(), s.parse::<u64>()) {
            (Ok(n), _) => n.into(),
            (_, Ok(n)) => n.into(),
            _ => given.clone(),
        },
        other => clone_value(other),
    }
}

/// Doubles are numbers, or text for values JSON cannot hold (`NaN`, `Infinity`), which stay text.
fn double_value(given: &Value) -> Value {
    match given {
        Value::String(s) => {
            s.parse::<f64>().ok().and_then(Number::from_f64).map_or_else(|| given.clone(), Value::Number)
        }
        other => clone_value(other),
    }
}

/// Converts nested AnyValues with an explicit stack: `arrayValue` and
/// `kvlistValue` nest without limit.
fn plain_from_shape(shape: AnyShape<'_>) -> Value {
    enum Building<'a> {
        Array { rest: std::slice::Iter<'a, Value>, done: Vec<Value> },
        Object { rest: std::slice::Iter<'a, Value>, done: Map<String, Value>, key: String },
    }
    let mut stack: Vec<Building<'_>> = Vec::new();
    let mut shape = shape;
    loop {
        let mut finished = match shape {
            AnyShape::Plain(value) => Some(value),
            AnyShape::Array(items) => {
                stack.push(Building::Array { rest: items.iter(), done: Vec::with_capacity(items.len()) });
                None
            }
            AnyShape::KeyValues(items) => {
                stack.push(Building::Object { rest: items.iter(), done: Map::new(), key: String::new() });
                None
            }
        };
        // Hand finished values up until some list has an item left to convert.
        shape = loop {
            let Some(top) = stack.last_mut() else { return finished.unwrap_or(Value::Null) };
            let next = match top {
                Building::Array { rest, done } => {
                    done.extend(finished.take());
                    rest.next().map(any_shape)
                }
                Building::Object { rest, done, key } => {
                    if let Some(value) = finished.take() {
                        done.insert(std::mem::take(key), value);
                    }
                    // KeyValues without a text key cannot be placed; skip them.
                    rest.find_map(|kv| Some((kv.get("key")?.as_str()?, kv))).map(|(name, kv)| {
                        name.clone_into(key);
                        kv.get("value").map_or(AnyShape::Plain(Value::Null), any_shape)
                    })
                }
            };
            if let Some(next) = next {
                break next;
            }
            finished = stack.pop().map(|built| match built {
                Building::Array { done, .. } => Value::Array(done),
                Building::Object { done, .. } => Value::Object(done),
            });
        };
    }
}

// ---------------------------------------------------------- Redux DevTools

/// Redux DevTools export → one event per staged action.
///
/// Accepts the lifted state itself (`actionsById`, `computedStates`,
/// `stagedActionIds`) and the file the DevTools "export" button writes,
/// `{"payload": "<lifted state as JSON text>", "preloadedState": "..."}`,
/// with `payload` as text (as written) or as an object.
///
/// Event n (1-based) is the action `actionsById[stagedActionIds[n-1]]`
/// (`@@INIT` included) and its state is `computedStates[n-1].state`. Each
/// output is `{"type": action.action.type, "timestamp": action.timestamp,
/// "action": action.action, "state": ..., "error": ...}` with the members
/// that are present: events past the end of `computedStates` have no
/// `state`, and an `error` of the computed state gives `error` as text.
///
/// `None` when it is not a Redux export (also when `payload` text is not
/// JSON or nests deeper than serde_json's parse limit of 128).
pub fn explode_redux(doc: &Value) -> Option<Vec<Value>> {
    let parsed_payload;
    let lifted = if is_lifted_state(doc) {
        doc
    } else {
        match doc.get("payload")? {
            Value::String(text) => {
                parsed_payload = serde_json::from_str::<Value>(text).ok()?;
                &parsed_payload
            }
            payload => payload,
        }
    };
    let actions = lifted.get("actionsById")?.as_object()?;
    let staged = lifted.get("stagedActionIds")?.as_array()?;
    let computed = lifted.get("computedStates")?.as_array()?;
    Some(staged.iter().enumerate().map(|(i, id)| redux_event(actions, id, computed.get(i))).collect())
}

fn is_lifted_state(doc: &Value) -> bool {
    doc.get("actionsById").is_some_and(Value::is_object)
        && doc.get("stagedActionIds").is_some_and(Value::is_array)
        && doc.get("computedStates").is_some_and(Value::is_array)
}

fn redux_event(actions: &Map<String, Value>, id: &Value, computed: Option<&Value>) -> Value {
    let mut event = Map::new();
    // `actionsById` keys are the staged ids as text.
    if let Some(lifted_action) = id_text(id).and_then(|id| actions.get(&id)) {
        let action = lifted_action.get("action");
        if let Some(ty) = action.and_then(|a| a.get("type")).filter(|t| t.is_string()) {
            event.insert("type".into(), ty.clone());
        }
        if let Some(timestamp) = lifted_action.get("timestamp").filter(|t| t.is_number()) {
            event.insert("timestamp".into(), timestamp.clone());
        }
        if let Some(action) = action {
            event.insert("action".into(), clone_value(action));
        }
    }
    if let Some(computed) = computed {
        if let Some(state) = computed.get("state") {
            event.insert("state".into(), clone_value(state));
        }
        if let Some(error) = computed.get("error").and_then(error_text) {
            event.insert("error".into(), error.into());
        }
    }
    Value::Object(event)
}

/// DevTools store errors as text; tolerate `{message}` objects and flags.
fn error_text(error: &Value) -> Option<String> {
    match error {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.get("message").and_then(non_empty_str).unwrap_or("the reducer failed").to_string()),
    }
}

// ------------------------------------------------------ change data capture

/// One row change for the `cdc` reducer: `state[table][id] = after`, or,
/// when `after` is `None`, the row is removed.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    pub table: String,
    pub id: String,
    /// `None` = delete.
    pub after: Option<Value>,
}

/// Change-data-capture: normalises one record into row changes, for the
/// `cdc` reducer. Give it the whole record (the `data` payload slot of
/// Maxwell and Canal lacks the table).
///
/// * Debezium `{op, before, after, source}`, also inside a
///   `{schema, payload}` wrapper: `c`/`r`/`u` set the row to `after`, `d`
///   removes it. `t` (truncate) and `m` (message) give no changes: the rows a
///   truncate removes are not named. Without `op` (the engine's type slot may
///   have taken it) the operation follows from `after`/`before`. Table is
///   `source.table` (MongoDB: `source.collection`), without schema or
///   database, so same-named tables of two databases share rows. Id is
///   `key`, else `after.id`, else `before.id`.
/// * Maxwell `{database, table, type, data, old}`: `insert`,
///   `bootstrap-insert`, `update` set the row, `delete` removes it, other
///   types (DDL, bootstrap markers) give no changes. Id is the
///   `primary_key_columns` values of `data` joined with `,`, else `data.id`,
///   else `key`.
/// * Canal `{data: [rows], old, type, table, pkNames, isDdl}`: one change per
///   row of `INSERT`/`UPDATE`/`DELETE`; DDL and other types give none. Id is
///   the `pkNames` values joined with `,`, else the row's `id`; `key` is not
///   used (a Canal record's own `id` numbers the batch, not a row).
///
/// An update that changes a Maxwell/Canal primary key (the key column is in
/// `old`) first removes the row under its old id. Number ids are their
/// decimal text. A `null` record (a Kafka tombstone) gives no changes.
///
/// `Err` (one sentence) when the record is not CDC, or looks like CDC but a
/// change cannot be placed (no table, no id, no row).
pub fn cdc_changes(payload: &Value, key: Option<&str>) -> Result<Vec<RowChange>, String> {
    match cdc_envelope(payload) {
        Some(Cdc::Debezium(envelope)) => debezium_changes(envelope, key),
        Some(Cdc::Maxwell(record)) => maxwell_changes(record, key),
        Some(Cdc::Canal(record)) => canal_changes(record),
        None if payload.is_null() => Ok(Vec::new()),
        None => Err("the record is not a change-data-capture envelope (Debezium, Maxwell or Canal)".into()),
    }
}

/// Whether a sample of record payloads is CDC: at least four in five of
/// them (not counting `null` tombstones) are Debezium, Maxwell or Canal
/// envelopes as [`cdc_changes`] reads them.
pub fn looks_like_cdc(payloads: &[Value]) -> bool {
    let records = payloads.iter().filter(|p| !p.is_null());
    let (total, cdc) =
        records.fold((0usize, 0usize), |(total, cdc), p| (total + 1, cdc + usize::from(cdc_envelope(p).is_some())));
    total > 0 && cdc * 5 >= total * 4
}

enum Cdc<'a> {
    Debezium(&'a Map<String, Value>),
    Maxwell(&'a Map<String, Value>),
    Canal(&'a Map<String, Value>),
}

const DEBEZIUM_OPS: [&str; 6] = ["c", "r", "u", "d", "t", "m"];

/// Which CDC envelope a record is. The table is not required here, so that
/// a record without one is reported rather than taken for a plain event.
fn cdc_envelope(record: &Value) -> Option<Cdc<'_>> {
    let record = record.as_object()?;
    if is_debezium(record) {
        return Some(Cdc::Debezium(record));
    }
    if let Some(inner) = record.get("payload").and_then(Value::as_object).filter(|p| is_debezium(p)) {
        return Some(Cdc::Debezium(inner));
    }
    let has_type = record.get("type").is_some_and(Value::is_string);
    if has_type && record.get("isDdl").is_some_and(Value::is_boolean) && record.contains_key("data") {
        return Some(Cdc::Canal(record));
    }
    let maxwell_row_or_table =
        record.get("data").is_some_and(Value::is_object) || record.get("table").is_some_and(Value::is_string);
    if has_type && record.get("database").is_some_and(Value::is_string) && maxwell_row_or_table {
        return Some(Cdc::Maxwell(record));
    }
    None
}

fn is_debezium(record: &Map<String, Value>) -> bool {
    let has_row = record.contains_key("before") || record.contains_key("after");
    let has_source = record.get("source").is_some_and(Value::is_object);
    let has_op = record.get("op").and_then(Value::as_str).is_some_and(|op| DEBEZIUM_OPS.contains(&op));
    (has_row && (has_source || has_op)) || (has_source && has_op)
}

fn debezium_changes(envelope: &Map<String, Value>, key: Option<&str>) -> Result<Vec<RowChange>, String> {
    let before = envelope.get("before").filter(|v| !v.is_null());
    let after = envelope.get("after").filter(|v| !v.is_null());
    let deleting = match envelope.get("op").and_then(Value::as_str) {
        Some("c" | "r" | "u") => false,
        Some("d") => true,
        Some("t" | "m") => return Ok(Vec::new()),
        Some(op) => return Err(format!("unknown Debezium operation {}: expected c, r, u, d or t", shown(op))),
        None if after.is_some() => false,
        None if before.is_some() => true,
        None => return Ok(Vec::new()),
    };
    let table = envelope
        .get("source")
        .and_then(|s| s.get("table").or_else(|| s.get("collection")))
        .and_then(non_empty_str)
        .ok_or("the change has no table: the Debezium envelope lacks `source.table`")?;
    if !deleting && after.is_none() {
        return Err("the change has no row: a Debezium create, read or update needs `after`".into());
    }
    let id = key
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .or_else(|| after.and_then(|a| a.get("id")).and_then(id_text))
        .or_else(|| before.and_then(|b| b.get("id")).and_then(id_text))
        .ok_or("the change has no row id: give --key-field or include `id` in before/after")?;
    let after = if deleting { None } else { after.map(clone_value) };
    Ok(vec![RowChange { table: table.to_string(), id, after }])
}

fn maxwell_changes(record: &Map<String, Value>, key: Option<&str>) -> Result<Vec<RowChange>, String> {
    let deleting = match record.get("type").and_then(Value::as_str) {
        Some("insert" | "bootstrap-insert" | "update") => false,
        Some("delete") => true,
        _ => return Ok(Vec::new()),
    };
    let table = table_of(record)?;
    let Some(data @ Value::Object(row)) = record.get("data") else {
        return Err("the change has no row: a Maxwell insert, update or delete needs a `data` object".into());
    };
    let key_columns = record.get("primary_key_columns").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let id = row_id(row, key_columns, None).or_else(|| key.filter(|k| !k.is_empty()).map(str::to_string)).ok_or(
        "the change has no row id: include `primary_key_columns` or an `id` column in `data`, or give --key-field",
    )?;
    let old = record.get("old").and_then(Value::as_object);
    let mut changes = Vec::with_capacity(2);
    if !deleting {
        changes.extend(moved_row(&table, row, key_columns, old, &id));
    }
    changes.push(RowChange { table, id, after: (!deleting).then(|| clone_value(data)) });
    Ok(changes)
}

fn canal_changes(record: &Map<String, Value>) -> Result<Vec<RowChange>, String> {
    if record.get("isDdl").and_then(Value::as_bool) == Some(true) {
        return Ok(Vec::new());
    }
    let kind = record.get("type").and_then(Value::as_str).unwrap_or("");
    let deleting = if kind.eq_ignore_ascii_case("INSERT") || kind.eq_ignore_ascii_case("UPDATE") {
        false
    } else if kind.eq_ignore_ascii_case("DELETE") {
        true
    } else {
        return Ok(Vec::new());
    };
    let table = table_of(record)?;
    let rows = match record.get("data") {
        Some(Value::Array(rows)) => rows.as_slice(),
        Some(row @ Value::Object(_)) => std::slice::from_ref(row),
        _ => &[],
    };
    let olds = record.get("old").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let key_columns = record.get("pkNames").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    // Every row is placed before any is copied, so that an error drops no
    // copies (a deep one would be dropped recursively).
    let mut placed = Vec::with_capacity(rows.len());
    for (i, data) in rows.iter().enumerate() {
        let row = data.as_object().ok_or_else(|| format!("row {} of the change is not an object", i + 1))?;
        let id = row_id(row, key_columns, None).ok_or_else(|| {
            format!("row {} of the change has no id: include `pkNames` or an `id` column in each row of `data`", i + 1)
        })?;
        placed.push((i, data, row, id));
    }
    let mut changes = Vec::with_capacity(rows.len());
    for (i, data, row, id) in placed {
        if !deleting {
            // `old[i]` holds the previous values of the columns row i changed.
            changes.extend(moved_row(&table, row, key_columns, olds.get(i).and_then(Value::as_object), &id));
        }
        changes.push(RowChange { table: table.clone(), id, after: (!deleting).then(|| clone_value(data)) });
    }
    Ok(changes)
}

fn table_of(record: &Map<String, Value>) -> Result<String, String> {
    record
        .get("table")
        .and_then(non_empty_str)
        .map(str::to_string)
        .ok_or_else(|| "the change has no table: the record lacks a `table` name".into())
}

/// A row's id: its key columns' values joined with `,` when all are there,
/// else its `id` column.
fn row_id(row: &Map<String, Value>, key_columns: &[Value], old: Option<&Map<String, Value>>) -> Option<String> {
    let column = |name: &str| old.and_then(|o| o.get(name)).or_else(|| row.get(name)).and_then(id_text);
    let joined = if key_columns.is_empty() {
        None
    } else {
        key_columns
            .iter()
            .map(|c| c.as_str().and_then(column))
            .collect::<Option<Vec<String>>>()
            .map(|ids| ids.join(","))
    };
    joined.or_else(|| column("id"))
}

/// The removal of a row's old id when an update changed its key: the key
/// column's previous value is in `old`.
fn moved_row(
    table: &str,
    row: &Map<String, Value>,
    key_columns: &[Value],
    old: Option<&Map<String, Value>>,
    id: &str,
) -> Option<RowChange> {
    let old = old?;
    let key_changed = if key_columns.is_empty() {
        old.contains_key("id")
    } else {
        key_columns.iter().any(|c| c.as_str().is_some_and(|c| old.contains_key(c)))
    };
    let old_id = row_id(row, key_columns, Some(old)).filter(|old_id| key_changed && old_id != id)?;
    Some(RowChange { table: table.to_string(), id: old_id, after: None })
}

// ------------------------------------------------------------------ helpers

/// The first of `names` that is an array member, as a slice (empty if none).
fn first_array<'a>(value: &'a Value, names: &[&str]) -> &'a [Value] {
    names.iter().find_map(|n| value.get(*n)?.as_array()).map_or(&[], Vec::as_slice)
}

fn first_member<'a>(value: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| value.get(*n))
}

fn non_empty_str(value: &Value) -> Option<&str> {
    value.as_str().filter(|s| !s.is_empty())
}

fn is_non_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(|m| !m.is_empty())
}

/// An id as text: strings as they are, numbers in decimal; nothing else
/// names a row.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A value from the input quoted in a message, unless it is too long to.
fn shown(text: &str) -> String {
    if text.chars().count() <= 40 {
        format!("`{text}`")
    } else {
        "(a long text)".to_string()
    }
}

/// `Value::clone` without recursion: the derived clone recurses once per
/// level and would overflow the stack on deeply nested input.
fn clone_value(root: &Value) -> Value {
    enum Copying<'a> {
        Array(std::slice::Iter<'a, Value>, Vec<Value>),
        Object(serde_json::map::Iter<'a>, Map<String, Value>, String),
    }
    let mut stack: Vec<Copying<'_>> = Vec::new();
    let mut next = root;
    loop {
        let mut finished = match next {
            Value::Array(items) => {
                stack.push(Copying::Array(items.iter(), Vec::with_capacity(items.len())));
                None
            }
            Value::Object(members) => {
                stack.push(Copying::Object(members.iter(), Map::new(), String::new()));
                None
            }
            scalar => Some(scalar.clone()),
        };
        // Hand finished copies up until some container has a child left.
        next = loop {
            let Some(top) = stack.last_mut() else { return finished.unwrap_or(Value::Null) };
            let child = match top {
                Copying::Array(rest, done) => {
                    done.extend(finished.take());
                    rest.next()
                }
                Copying::Object(rest, done, key) => {
                    if let Some(value) = finished.take() {
                        done.insert(std::mem::take(key), value);
                    }
                    rest.next().map(|(name, child)| {
                        name.clone_into(key);
                        child
                    })
                }
            };
            if let Some(child) = child {
                break child;
            }
            finished = stack.pop().map(|copied| match copied {
                Copying::Array(_, done) => Value::Array(done),
                Copying::Object(_, done, _) => Value::Object(done),
            });
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(table: &str, id: &str, after: Option<Value>) -> RowChange {
        RowChange { table: table.into(), id: id.into(), after }
    }

    #[test]
    fn otlp_flattens_resources_scopes_records_and_every_any_value() {
        let record = json!({"resourceLogs": [
            {
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": "checkout"}},
                    {"key": "pid", "value": {"intValue": "4242"}}
                ]},
                "scopeLogs": [
                    {
                        "scope": {"name": "app.http", "version": "1.2.0"},
                        "logRecords": [
                            {
                                "timeUnixNano": "1700000000000000001",
                                "observedTimeUnixNano": "1700000000000000009",
                                "severityNumber": 9,
                                "severityText": "Information",
                                "body": {"stringValue": "hello"},
                                "attributes": [
                                    {"key": "s", "value": {"stringValue": "x"}},
                                    {"key": "i", "value": {"intValue": "-7"}},
                                    {"key": "n", "value": {"intValue": 8}},
                                    {"key": "d", "value": {"doubleValue": 1.5}},
                                    {"key": "nan", "value": {"doubleValue": "NaN"}},
                                    {"key": "b", "value": {"boolValue": true}},
                                    {"key": "bytes", "value": {"bytesValue": "AAE="}},
                                    {"key": "a", "value": {"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "two"}]}}},
                                    {"key": "empty_array", "value": {"arrayValue": {}}},
                                    {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "inner", "value": {"boolValue": false}}]}}},
                                    {"key": "unset", "value": {}},
                                    {"key": "no_value"},
                                    {"value": {"stringValue": "a KeyValue without key is skipped"}}
                                ],
                                "traceId": "5b8aa5a2d2c872e8321cf37308d69df2",
                                "spanId": "051581bf3cb55c13",
                                "flags": 1,
                                "eventName": "http.request"
                            },
                            {
                                "observedTimeUnixNano": "1700000000000000002",
                                "severityNumber": 17,
                                "body": {"kvlistValue": {"values": [
                                    {"key": "list", "value": {"arrayValue": {"values": [
                                        {"intValue": 3}, {"doubleValue": 2.5}, {"boolValue": true}, {"bytesValue": "AAE="},
                                        {"kvlistValue": {"values": []}}, {}
                                    ]}}}
                                ]}},
                                "traceId": "",
                                "spanId": ""
                            }
                        ]
                    },
                    {
                        "scope": {"name": "app.db"},
                        "logRecords": [
                            {
                                "timeUnixNano": "0",
                                "observedTimeUnixNano": "1700000000000000003",
                                "severityNumber": "SEVERITY_NUMBER_WARN2",
                                "body": {"intValue": "-7"}
                            }
                        ]
                    }
                ]
            },
            {
                "resource": {"attributes": [
                    {"key": "nested", "value": {"kvlistValue": {"values": [
                        {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "x"}]}}}
                    ]}}}
                ]},
                "scopeLogs": [{"scope": {}, "logRecords": [
                    {"timeUnixNano": "1700000000000000004", "body": {"doubleValue": 0.25}},
                    {"timeUnixNano": 1700000000000000005u64, "severityNumber": 23, "body": {"boolValue": false}},
                    {"severityNumber": "SEVERITY_NUMBER_SHOUTING", "body": "plain text body"},
                    {"body": {"arrayValue": {"values": [{"bytesValue": "/w=="}]}}, "attributes": []}
                ]}]
            },
            {"resource": {"attributes": []}, "scopeLogs": [{"logRecords": []}]}
        ]});
        let first_resource = json!({"service.name": "checkout", "pid": 4242});
        let second_resource = json!({"nested": {"a": ["x"]}});
        let expected = vec![
            json!({
                "timeUnixNano": "1700000000000000001",
                "level": "Information",
                "severityNumber": 9,
                "message": "hello",
                "log_attributes": {
                    "s": "x", "i": -7, "n": 8, "d": 1.5, "nan": "NaN", "b": true, "bytes": "AAE=",
                    "a": [1, "two"], "empty_array": [], "kv": {"inner": false}, "unset": null, "no_value": null
                },
                "resource": first_resource,
                "scope": "app.http",
                "scopeVersion": "1.2.0",
                "traceId": "5b8aa5a2d2c872e8321cf37308d69df2",
                "spanId": "051581bf3cb55c13",
                "flags": 1,
                "eventName": "http.request"
            }),
            json!({
                "timeUnixNano": "1700000000000000002",
                "level": "error",
                "severityNumber": 17,
                "message": {"list": [3, 2.5, true, "AAE=", {}, null]},
                "resource": first_resource,
                "scope": "app.http",
                "scopeVersion": "1.2.0"
            }),
            json!({
                "timeUnixNano": "1700000000000000003",
                "level": "warn",
                "severityNumber": 14,
                "message": -7,
                "resource": first_resource,
                "scope": "app.db"
            }),
            json!({"timeUnixNano": "1700000000000000004", "message": 0.25, "resource": second_resource}),
            json!({
                "timeUnixNano": 1700000000000000005u64,
                "level": "fatal",
                "severityNumber": 23,
                "message": false,
                "resource": second_resource
            }),
            json!({"severityNumber": "SEVERITY_NUMBER_SHOUTING", "message": "plain text body", "resource": second_resource}),
            json!({"message": ["/w=="], "resource": second_resource}),
        ];
        assert_eq!(explode_otlp(&record), Some(expected));
    }

    #[test]
    fn otlp_recognition() {
        let cases = [
            (json!({"resourceLogs": []}), Some(vec![])),
            (json!({"resourceLogs": [{"scopeLogs": [{"logRecords": []}]}]}), Some(vec![])),
            (json!({"resourceLogs": {}}), None),
            (json!({"message": "plain event"}), None),
            (json!([1, 2, 3]), None),
            (
                json!({"resourceLogs": [{"instrumentationLibraryLogs": [
                    {"instrumentationLibrary": {"name": "old"}, "logRecords": [{"severityNumber": 5}]}
                ]}]}),
                Some(vec![json!({"level": "debug", "severityNumber": 5, "scope": "old"})]),
            ),
        ];
        for (record, expected) in cases {
            assert_eq!(explode_otlp(&record), expected, "{record}");
        }
    }

    fn lifted_state() -> Value {
        json!({
            "actionsById": {
                "0": {"type": "PERFORM_ACTION", "action": {"type": "@@INIT"}, "timestamp": 1700000000000u64},
                "1": {"type": "PERFORM_ACTION", "action": {"type": "todos/add", "text": "milk"}, "timestamp": 1700000000100u64},
                "2": {"type": "PERFORM_ACTION", "action": {"type": "todos/toggle", "id": 0}, "timestamp": 1700000000200u64}
            },
            "computedStates": [
                {"state": {"todos": []}},
                {"state": {"todos": [{"text": "milk", "done": false}]}, "error": "TypeError: done is undefined"}
            ],
            "stagedActionIds": [0, 1, 2],
            "skippedActionIds": [],
            "committedState": {"todos": []},
            "currentStateIndex": 2,
            "nextActionId": 3,
            "isLocked": false,
            "isPaused": false
        })
    }

    #[test]
    fn redux_exports_in_every_shape() {
        let expected = vec![
            json!({"type": "@@INIT", "timestamp": 1700000000000u64, "action": {"type": "@@INIT"}, "state": {"todos": []}}),
            json!({
                "type": "todos/add",
                "timestamp": 1700000000100u64,
                "action": {"type": "todos/add", "text": "milk"},
                "state": {"todos": [{"text": "milk", "done": false}]},
                "error": "TypeError: done is undefined"
            }),
            // computedStates is shorter than stagedActionIds: no state.
            json!({"type": "todos/toggle", "timestamp": 1700000000200u64, "action": {"type": "todos/toggle", "id": 0}}),
        ];
        let lifted = lifted_state();
        let shapes = [
            lifted.clone(),
            json!({"payload": lifted.to_string(), "preloadedState": "{\"todos\":[]}"}),
            json!({"payload": lifted.clone()}),
        ];
        for doc in shapes {
            assert_eq!(explode_redux(&doc), Some(expected.clone()), "{doc}");
        }
    }

    #[test]
    fn redux_edge_cases_and_negatives() {
        let unknown_action = json!({
            "actionsById": {"0": {"action": {"type": "@@INIT"}}},
            "computedStates": [{"state": 1}, {"state": 2, "error": {"message": "boom"}}],
            "stagedActionIds": ["0", 7]
        });
        assert_eq!(
            explode_redux(&unknown_action),
            Some(vec![
                json!({"type": "@@INIT", "action": {"type": "@@INIT"}, "state": 1}),
                json!({"state": 2, "error": "boom"}),
            ])
        );
        let negatives = [
            json!({"payload": "not json"}),
            json!({"payload": "{\"a\": 1}"}),
            json!({"payload": {"a": 1}}),
            json!({"actionsById": {}, "stagedActionIds": []}),
            json!({"actionsById": [], "stagedActionIds": [], "computedStates": []}),
            json!({"type": "todos/add"}),
            json!([1, 2]),
            json!("payload"),
        ];
        for doc in negatives {
            assert_eq!(explode_redux(&doc), None, "{doc}");
        }
    }

    #[test]
    fn debezium_changes() {
        let source = json!({"connector": "postgresql", "db": "postgres", "schema": "inventory", "table": "products"});
        let row = json!({"id": 101, "name": "scooter"});
        let row2 = json!({"id": 101, "name": "scooter", "weight": 3});
        let cases: Vec<(Value, Option<&str>, Vec<RowChange>)> = vec![
            (
                json!({"op": "c", "before": null, "after": row, "source": source}),
                None,
                vec![change("products", "101", Some(row.clone()))],
            ),
            (
                json!({"op": "r", "before": null, "after": row, "source": source}),
                None,
                vec![change("products", "101", Some(row.clone()))],
            ),
            (
                json!({"op": "u", "before": row, "after": row2, "source": source}),
                None,
                vec![change("products", "101", Some(row2.clone()))],
            ),
            (
                json!({"op": "d", "before": row, "after": null, "source": source}),
                None,
                vec![change("products", "101", None)],
            ),
            // The schema wrapper of the JSON converter with schemas enabled.
            (
                json!({"schema": {"type": "struct"}, "payload": {"op": "u", "before": null, "after": row2, "source": source}}),
                None,
                vec![change("products", "101", Some(row2.clone()))],
            ),
            (
                json!({"schema": {"type": "struct"}, "payload": {"op": "d", "before": row, "after": null, "source": source}}),
                None,
                vec![change("products", "101", None)],
            ),
            // The key slot wins over the row's id.
            (
                json!({"op": "u", "after": row2, "source": source}),
                Some("sku-1"),
                vec![change("products", "sku-1", Some(row2.clone()))],
            ),
            // after.id, else before.id; text ids stay text.
            (
                json!({"op": "u", "before": {"id": "a-7"}, "after": {"name": "x"}, "source": source}),
                None,
                vec![change("products", "a-7", Some(json!({"name": "x"})))],
            ),
            // Without `op` (taken by the type slot) the rows tell the operation.
            (
                json!({"before": null, "after": row, "source": source}),
                None,
                vec![change("products", "101", Some(row.clone()))],
            ),
            (json!({"before": row, "after": null, "source": source}), None, vec![change("products", "101", None)]),
            // Truncate and message events name no rows; a tombstone is empty.
            (json!({"op": "t", "before": null, "after": null, "source": source}), None, vec![]),
            (json!({"op": "m", "source": source, "message": {"prefix": "p"}}), None, vec![]),
            (Value::Null, None, vec![]),
            // MongoDB names collections.
            (
                json!({"op": "c", "after": {"id": 1}, "source": {"collection": "users"}}),
                None,
                vec![change("users", "1", Some(json!({"id": 1})))],
            ),
        ];
        for (payload, key, expected) in cases {
            assert_eq!(cdc_changes(&payload, key), Ok(expected), "{payload}");
        }
    }

    #[test]
    fn maxwell_changes() {
        let row = json!({"id": 101, "name": "scooter", "weight": 5.17});
        let cases: Vec<(Value, Option<&str>, Vec<RowChange>)> = vec![
            (
                json!({"database": "test", "table": "product", "type": "insert", "data": row, "primary_key_columns": ["id"]}),
                None,
                vec![change("product", "101", Some(row.clone()))],
            ),
            (
                json!({
                    "database": "test", "table": "product", "type": "update",
                    "data": row, "old": {"weight": 3.25}, "primary_key_columns": ["id"]
                }),
                None,
                vec![change("product", "101", Some(row.clone()))],
            ),
            (
                json!({"database": "test", "table": "product", "type": "delete", "data": row, "primary_key_columns": ["id"]}),
                None,
                vec![change("product", "101", None)],
            ),
            // Composite keys join with `,`; without primary_key_columns, data.id.
            (
                json!({
                    "database": "d", "table": "line", "type": "insert",
                    "data": {"order": 7, "n": 2}, "primary_key_columns": ["order", "n"]
                }),
                None,
                vec![change("line", "7,2", Some(json!({"order": 7, "n": 2})))],
            ),
            (
                json!({"database": "d", "table": "t", "type": "bootstrap-insert", "data": {"id": "x"}}),
                None,
                vec![change("t", "x", Some(json!({"id": "x"})))],
            ),
            // An update of the key removes the row under its old id first.
            (
                json!({
                    "database": "d", "table": "t", "type": "update",
                    "data": {"id": 2, "v": 1}, "old": {"id": 1}, "primary_key_columns": ["id"]
                }),
                None,
                vec![change("t", "1", None), change("t", "2", Some(json!({"id": 2, "v": 1})))],
            ),
            // The key slot is the last resort.
            (
                json!({"database": "d", "table": "t", "type": "insert", "data": {"v": 1}}),
                Some("k"),
                vec![change("t", "k", Some(json!({"v": 1})))],
            ),
            // DDL and bootstrap markers change no rows.
            (
                json!({"database": "d", "table": "t", "type": "table-create", "def": {}, "sql": "CREATE TABLE t (id int)"}),
                None,
                vec![],
            ),
            (json!({"database": "d", "table": "t", "type": "bootstrap-start", "data": {}}), None, vec![]),
        ];
        for (payload, key, expected) in cases {
            assert_eq!(cdc_changes(&payload, key), Ok(expected), "{payload}");
        }
    }

    #[test]
    fn canal_changes() {
        let a = json!({"id": "101", "name": "scooter"});
        let b = json!({"id": "102", "name": "battery"});
        let cases: Vec<(Value, Vec<RowChange>)> = vec![
            (
                json!({
                    "data": [a, b], "database": "inventory", "table": "products", "type": "INSERT",
                    "isDdl": false, "old": null, "pkNames": ["id"], "id": 3
                }),
                vec![change("products", "101", Some(a.clone())), change("products", "102", Some(b.clone()))],
            ),
            (
                json!({
                    "data": [a, b], "table": "products", "type": "UPDATE", "isDdl": false,
                    "old": [{"name": "x"}, {"name": "y"}], "pkNames": ["id"]
                }),
                vec![change("products", "101", Some(a.clone())), change("products", "102", Some(b.clone()))],
            ),
            (
                json!({"data": [a, b], "table": "products", "type": "DELETE", "isDdl": false, "pkNames": ["id"]}),
                vec![change("products", "101", None), change("products", "102", None)],
            ),
            // A key update, and rows found by `id` without pkNames.
            (
                json!({"data": [{"id": "9"}], "table": "t", "type": "UPDATE", "isDdl": false, "old": [{"id": "8"}], "pkNames": null}),
                vec![change("t", "8", None), change("t", "9", Some(json!({"id": "9"})))],
            ),
            (
                json!({"data": [{"a": "1", "b": "2"}], "table": "t", "type": "INSERT", "isDdl": false, "pkNames": ["a", "b"]}),
                vec![change("t", "1,2", Some(json!({"a": "1", "b": "2"})))],
            ),
            // DDL, other types and empty batches change no rows.
            (
                json!({"data": null, "table": "user02", "type": "CREATE", "isDdl": true, "sql": "CREATE TABLE ..."}),
                vec![],
            ),
            (json!({"data": null, "table": "t", "type": "TRUNCATE", "isDdl": false}), vec![]),
            (json!({"data": [], "table": "t", "type": "INSERT", "isDdl": false}), vec![]),
        ];
        for (payload, expected) in cases {
            // Canal's own `id` numbers batches, so a key slot is not used.
            assert_eq!(cdc_changes(&payload, Some("3")), Ok(expected), "{payload}");
        }
    }

    #[test]
    fn cdc_errors_are_sentences() {
        let cases = [
            (json!({"message": "plain"}), "the record is not a change-data-capture envelope (Debezium, Maxwell or Canal)"),
            (json!([1, 2]), "the record is not a change-data-capture envelope (Debezium, Maxwell or Canal)"),
            (
                json!({"op": "c", "after": {"name": "x"}, "source": {"table": "t"}}),
                "the change has no row id: give --key-field or include `id` in before/after",
            ),
            (
                json!({"op": "c", "after": {"id": 1}, "source": {"db": "d"}}),
                "the change has no table: the Debezium envelope lacks `source.table`",
            ),
            (
                json!({"op": "u", "after": null, "source": {"table": "t"}}),
                "the change has no row: a Debezium create, read or update needs `after`",
            ),
            (json!({"op": "x", "after": {"id": 1}, "source": {"table": "t"}}), "unknown Debezium operation `x`: expected c, r, u, d or t"),
            (
                json!({"database": "d", "table": "t", "type": "insert", "data": {"v": 1}}),
                "the change has no row id: include `primary_key_columns` or an `id` column in `data`, or give --key-field",
            ),
            (json!({"database": "d", "type": "insert", "data": {"id": 1}}), "the change has no table: the record lacks a `table` name"),
            (
                json!({"database": "d", "table": "t", "type": "update"}),
                "the change has no row: a Maxwell insert, update or delete needs a `data` object",
            ),
            (
                json!({"data": [{"id": "1"}, {"v": "2"}], "table": "t", "type": "INSERT", "isDdl": false, "pkNames": ["id"]}),
                "row 2 of the change has no id: include `pkNames` or an `id` column in each row of `data`",
            ),
            (json!({"data": [3], "table": "t", "type": "INSERT", "isDdl": false}), "row 1 of the change is not an object"),
            (json!({"data": [{"id": "1"}], "type": "DELETE", "isDdl": false}), "the change has no table: the record lacks a `table` name"),
        ];
        for (payload, message) in cases {
            assert_eq!(cdc_changes(&payload, None), Err(message.to_string()), "{payload}");
        }
    }

    #[test]
    fn cdc_detection() {
        let debezium = json!({"op": "c", "before": null, "after": {"id": 1}, "source": {"table": "t"}, "ts_ms": 1});
        let wrapped = json!({"schema": {}, "payload": debezium});
        let maxwell = json!({"database": "d", "table": "t", "type": "insert", "data": {"id": 1}});
        let canal = json!({"data": [{"id": "1"}], "table": "t", "type": "INSERT", "isDdl": false, "pkNames": ["id"]});
        let plain = json!({"type": "OrderPlaced", "id": 1, "data": {"total": 3}});
        let audit = json!({"action": "update", "before": {"a": 1}, "after": {"a": 2}});
        assert!(looks_like_cdc(&[debezium.clone(), Value::Null, debezium.clone(), wrapped.clone()]));
        assert!(looks_like_cdc(&[maxwell.clone(), maxwell.clone()]));
        assert!(looks_like_cdc(std::slice::from_ref(&canal)));
        assert!(looks_like_cdc(&[
            debezium.clone(),
            debezium.clone(),
            debezium.clone(),
            debezium.clone(),
            plain.clone()
        ]));
        assert!(!looks_like_cdc(&[debezium.clone(), plain.clone()]));
        assert!(!looks_like_cdc(&[plain.clone(), plain]));
        assert!(!looks_like_cdc(&[audit]));
        assert!(!looks_like_cdc(&[json!([1, 2, 3]), json!([4])]));
        assert!(!looks_like_cdc(&[Value::Null]));
        assert!(!looks_like_cdc(&[]));
    }

    fn corpus_lines(path: &std::path::Path) -> Vec<Value> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    #[test]
    fn real_examples_from_the_corpus() {
        let corpus = crate::corpus_dir();
        let flink = corpus.join("flink");
        if flink.is_dir() {
            for (file, table) in [
                ("canal-data.txt", "products2"),
                ("debezium-postgres-data-schema-exclude.txt", "products"),
                ("maxwell-data.txt", "product"),
            ] {
                let records = corpus_lines(&flink.join(file));
                assert!(!records.is_empty(), "{file}");
                assert!(looks_like_cdc(&records), "{file}");
                for record in &records {
                    let changes = cdc_changes(record, None).unwrap_or_else(|e| panic!("{file}: {e}: {record}"));
                    if record.get("isDdl") == Some(&Value::Bool(true)) {
                        assert!(changes.is_empty(), "{file}: {record}");
                        continue;
                    }
                    assert!(!changes.is_empty(), "{file}: {record}");
                    for c in changes {
                        assert_eq!(c.table, table, "{file}");
                        assert!(c.id.parse::<u32>().is_ok_and(|id| (101..=111).contains(&id)), "{file}: id {}", c.id);
                        if let Some(after) = c.after {
                            assert_eq!(after.get("id").and_then(id_text).as_deref(), Some(c.id.as_str()), "{file}");
                        }
                    }
                }
            }
        }
        let otel = corpus.join("lnav/logfile_otel_collector.jsonl");
        if otel.is_file() {
            let records = corpus_lines(&otel);
            assert!(!records.is_empty());
            for record in &records {
                let events = explode_otlp(record).unwrap_or_default();
                assert!(!events.is_empty(), "{record}");
                for event in events {
                    assert!(
                        event.get("timeUnixNano").and_then(Value::as_str).is_some_and(|t| t.starts_with("17")),
                        "{event}"
                    );
                    assert!(event.get("message").is_some_and(Value::is_string), "{event}");
                }
            }
            assert!(!looks_like_cdc(&records));
            assert_eq!(explode_redux(&records[0]), None);
        }
    }

    // `json!` copies interpolated values through `to_value`, which recurses:
    // deep inputs are assembled with these instead.
    fn obj<const N: usize>(members: [(&str, Value); N]) -> Value {
        Value::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn arr<const N: usize>(items: [Value; N]) -> Value {
        Value::Array(items.into())
    }

    /// 100,000 levels of `[[...]]`, built without recursion.
    fn deep_array() -> Value {
        let mut value = json!(1);
        for _ in 0..100_000 {
            value = arr([value]);
        }
        value
    }

    /// 100,000 levels of OTLP AnyValues: arrayValue and kvlistValue in turn.
    fn deep_any_value() -> Value {
        let mut value = json!({"stringValue": "bottom"});
        for level in 0..100_000 {
            value = if level % 2 == 0 {
                obj([("arrayValue", obj([("values", arr([value]))]))])
            } else {
                obj([("kvlistValue", obj([("values", arr([obj([("key", json!("k")), ("value", value)])]))]))])
            };
        }
        value
    }

    /// Drops a value without recursion (the derived drop recurses per level).
    fn dismantle(value: Value) {
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            match value {
                Value::Array(items) => pending.extend(items),
                Value::Object(members) => pending.extend(members.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }

    fn dismantle_all(values: impl IntoIterator<Item = Value>) {
        values.into_iter().for_each(dismantle);
    }

    fn dismantle_changes(result: Result<Vec<RowChange>, String>) -> usize {
        let changes = result.unwrap_or_default();
        let n = changes.len();
        dismantle_all(changes.into_iter().filter_map(|c| c.after));
        n
    }

    #[test]
    fn deep_values_do_not_overflow_the_stack() {
        // OTLP: the record itself, resourceLogs, bodies, attributes, resource attributes.
        let whole = deep_array();
        assert!(explode_otlp(&whole).is_none());
        let record = obj([("resourceLogs", whole)]);
        assert!(explode_otlp(&record).is_some_and(|events| events.is_empty()));
        dismantle(record);
        let record = obj([(
            "resourceLogs",
            arr([obj([
                ("resource", obj([("attributes", arr([obj([("key", json!("deep")), ("value", deep_any_value())])]))])),
                (
                    "scopeLogs",
                    arr([obj([
                        ("scope", obj([("name", deep_array())])),
                        (
                            "logRecords",
                            arr([
                                obj([
                                    ("body", deep_array()),
                                    ("attributes", arr([obj([("key", json!("deep")), ("value", deep_any_value())])])),
                                    ("severityNumber", deep_array()),
                                ]),
                                obj([
                                    ("body", deep_any_value()),
                                    ("attributes", obj([("flat", deep_array())])),
                                    ("timeUnixNano", deep_array()),
                                ]),
                                deep_array(),
                            ]),
                        ),
                    ])]),
                ),
            ])]),
        )]);
        let events = explode_otlp(&record).unwrap_or_default();
        assert_eq!(events.len(), 3);
        dismantle_all(events);
        dismantle(record);

        // Redux: the document, the payload text, actions, states, ids.
        let doc = deep_array();
        assert!(explode_redux(&doc).is_none());
        dismantle(doc);
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(explode_redux(&obj([("payload", Value::String(text))])).is_none());
        let doc = obj([
            (
                "actionsById",
                obj([("0", obj([("action", deep_array()), ("timestamp", deep_array())])), ("1", deep_array())]),
            ),
            ("computedStates", arr([obj([("state", deep_array()), ("error", deep_array())]), deep_array()])),
            ("stagedActionIds", arr([json!(0), json!(1), deep_array()])),
        ]);
        let events = explode_redux(&doc).unwrap_or_default();
        assert_eq!(events.len(), 3);
        dismantle_all(events);
        dismantle(doc);

        // CDC: the record, rows, sources, key columns.
        let table = || obj([("table", json!("t"))]);
        let payloads = vec![
            deep_array(),
            obj([("op", json!("c")), ("after", obj([("id", json!(1)), ("deep", deep_array())])), ("source", table())]),
            obj([
                ("op", json!("d")),
                ("before", obj([("id", deep_array())])),
                ("source", obj([("table", deep_array())])),
            ]),
            obj([
                ("schema", deep_array()),
                (
                    "payload",
                    obj([
                        ("op", json!("u")),
                        ("after", obj([("id", json!(2)), ("deep", deep_array())])),
                        ("source", table()),
                    ]),
                ),
            ]),
            obj([
                ("database", json!("d")),
                ("table", json!("t")),
                ("type", json!("update")),
                ("data", obj([("id", json!(3)), ("deep", deep_array())])),
                ("old", obj([("id", deep_array())])),
                ("primary_key_columns", deep_array()),
            ]),
            obj([
                ("data", arr([obj([("id", json!("4")), ("deep", deep_array())]), deep_array()])),
                ("table", json!("t")),
                ("type", json!("INSERT")),
                ("isDdl", json!(false)),
                ("old", deep_array()),
            ]),
            obj([
                ("data", arr([obj([("id", json!("5")), ("deep", deep_array())])])),
                ("table", json!("t")),
                ("type", json!("UPDATE")),
                ("isDdl", json!(false)),
                ("pkNames", arr([deep_array()])),
            ]),
        ];
        let counts: Vec<usize> = payloads.iter().map(|p| dismantle_changes(cdc_changes(p, None))).collect();
        assert_eq!(counts, [0, 1, 0, 1, 1, 0, 1]);
        assert!(!looks_like_cdc(&payloads[..1]));
        assert!(looks_like_cdc(&payloads[1..]));
        dismantle_all(payloads);
    }
}
