//! The read-only SQL console over an index (SPEC §5).
//!
//! "Read-only" in the strong sense: the statement runs on a connection opened
//! read-only, with `query_only` set, under an authorizer that allows reading
//! and nothing else. `ATTACH` (which could create a file), `VACUUM INTO`
//! (which writes one), writing pragmas and every write statement are refused
//! before anything runs, with a sentence saying why.

use crate::{Error, Result};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Pragmas that only read; any pragma given a value is refused.
const READ_PRAGMAS: &[&str] = &[
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
    "database_list", "collation_list", "function_list", "pragma_list", "page_count", "page_size", "freelist_count",
    "schema_version", "user_version", "encoding", "compile_options", "integrity_check", "quick_check",
    // FTS5 reads it to notice changes, so querying the text index needs it.
    "data_version",
];

/// Runs `query` on the index at `db` and calls `row` with each result row as
/// a JSON object (column name → value; blobs as hex strings).
pub fn run(db: &Path, query: &str, row: &mut dyn FnMut(Map<String, Value>) -> bool) -> Result<()> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(db, flags).map_err(|e| Error::index(db, e))?;
    conn.busy_timeout(crate::index::READ_BUSY_TIMEOUT).map_err(|e| Error::index(db, e))?;
    conn.execute_batch("PRAGMA query_only = 1").map_err(|e| Error::index(db, e))?;
    let refused: Arc<Mutex<Option<String>>> = Arc::default();
    let sink = refused.clone();
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        match refusal(&ctx.action) {
            None => Authorization::Allow,
            Some(why) => {
                if let Ok(mut slot) = sink.lock() {
                    slot.get_or_insert(why);
                }
                Authorization::Deny
            }
        }
    }));
    let explain = |e: rusqlite::Error| -> Error {
        match refused.lock().ok().and_then(|mut s| s.take()) {
            Some(why) => Error::Sql(format!("the SQL console is read-only: {why} is refused; use SELECT to read the index")),
            None => Error::Sql(format!("the SQL statement failed: {e}")),
        }
    };
    let mut stmt = conn.prepare(query).map_err(explain)?;
    if !stmt.readonly() {
        return Err(Error::Sql("the SQL console is read-only: only statements that read are allowed; use SELECT".into()));
    }
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([]).map_err(explain)?;
    while let Some(r) = rows.next().map_err(explain)? {
        let mut obj = Map::new();
        for (i, name) in names.iter().enumerate() {
            let v = match r.get_ref(i).map_err(explain)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => n.into(),
                ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                ValueRef::Blob(b) => crate::report::hex(b).into(),
            };
            obj.insert(name.clone(), v);
        }
        if !row(obj) {
            break;
        }
    }
    Ok(())
}

/// Why an action is refused, or `None` when it only reads.
fn refusal(action: &AuthAction<'_>) -> Option<String> {
    match action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Function { .. } | AuthAction::Recursive => None,
        AuthAction::Pragma { pragma_name, pragma_value } => {
            let name = pragma_name.to_ascii_lowercase();
            if pragma_value.is_none() && READ_PRAGMAS.contains(&name.as_str()) {
                None
            } else {
                Some(format!("PRAGMA {pragma_name}"))
            }
        }
        AuthAction::Attach { .. } => Some("ATTACH".into()),
        AuthAction::Detach { .. } => Some("DETACH".into()),
        AuthAction::Insert { .. } => Some("INSERT".into()),
        AuthAction::Update { .. } => Some("UPDATE".into()),
        AuthAction::Delete { .. } => Some("DELETE".into()),
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => Some("a transaction statement".into()),
        other => Some(format!("{other:?}").split([' ', '{', '(']).next().unwrap_or("this statement").to_string()),
    }
}
