//! The audit report of a source and its verification (SPEC §6): what the
//! report says is gathered here from the engine's answers; `report.rs`
//! renders it. Verification recomputes the file hashes and the state after
//! every bookmarked event, and names each difference.

use crate::report::{self, FactBookmark, Report, ReportBookmark, ReportFacts, ReportSource};
use crate::source::Source;
use crate::{Error, Result, Settings};
use serde_json::{Map, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The SHA-256 of a whole file as it is on disk, read in chunks.
pub fn file_sha256(path: &Path) -> Result<(u64, String)> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, report::hex(&hasher.finalize())))
}

/// The hash of the whole state after event `seq`, as its canonical JSON text.
pub fn state_sha256(src: &Source, seq: u64) -> Result<String> {
    let mut text = Vec::new();
    src.state(seq)?.write_json(&mut text).map_err(|e| Error::Query(format!("the state could not be written: {e}")))?;
    Ok(report::sha256_hex(&text))
}

/// Everything the report shows, for the bookmarks of `src`.
pub fn build(src: &Source, title: &str, version: &str) -> Result<Report> {
    let info = src.info()?;
    let mut sources = Vec::new();
    for path in src.files() {
        let (size, sha256) = file_sha256(path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        sources.push(ReportSource { name, path: path.display().to_string(), size, sha256 });
    }
    let mut bookmarks = Vec::new();
    for mark in src.bookmarks()? {
        if mark.stale {
            return Err(Error::Query(format!(
                "bookmark {} no longer finds its event in the source; remove it or bookmark the event again before reporting",
                mark.id
            )));
        }
        let event = src.event(mark.seq)?;
        let diff = src.diff(mark.seq - 1, mark.seq)?;
        // The members the event touched, before and after it.
        let mut members: Vec<String> = diff.iter().filter_map(|op| first_token(&op.path)).collect();
        members.dedup();
        let before = src.state(mark.seq - 1)?;
        let after = src.state(mark.seq)?;
        let excerpt = |state: &crate::State| -> Value {
            if members.is_empty() || diff.iter().any(|op| op.path.is_empty()) {
                return state.to_value();
            }
            let mut out = Map::new();
            for m in &members {
                if let Some(v) = state.pointer_tokens(std::slice::from_ref(m)) {
                    out.insert(m.clone(), v);
                }
            }
            Value::Object(out)
        };
        bookmarks.push(ReportBookmark {
            id: mark.id,
            seq: mark.seq,
            note: mark.note,
            tags: mark.tags,
            created: mark.created,
            raw: event.raw.clone(),
            event: serde_json::to_value(&event).unwrap_or(Value::Null),
            state_before: excerpt(&before),
            state_after: excerpt(&after),
            diff: serde_json::to_value(&diff).unwrap_or(Value::Null),
            state_sha256: state_sha256(src, mark.seq)?,
        });
    }
    Ok(Report {
        title: title.to_string(),
        generated: crate::time::Timestamp::now().to_rfc3339(),
        version: version.to_string(),
        sources,
        format: src.config().format.clone(),
        reducer: info.summary.reducer.clone(),
        fields: info.fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        events: info.summary.events,
        errors: info.summary.errors,
        first_ts: info.summary.first_ts,
        last_ts: info.summary.last_ts,
        bookmarks,
    })
}

/// The first token of a JSON Pointer, unescaped.
fn first_token(ptr: &str) -> Option<String> {
    crate::patch::parse_pointer(ptr).ok()?.into_iter().next()
}

/// The settings a report was made with, to open its files the same way.
pub fn settings_of(facts: &ReportFacts) -> Settings {
    let mut s = Settings { format: Some(facts.format.clone()), reducer: Some(facts.reducer.clone()), ..Settings::default() };
    let field = |slot: &str| -> Option<String> {
        match facts.fields.get(slot) {
            Some(name) if name == "(the whole record)" => None,
            Some(name) => Some(name.clone()),
            // The report had no such slot: keep it empty now too.
            None => Some(String::new()),
        }
    };
    s.fields.ts = field("ts");
    s.fields.ty = field("type");
    s.fields.key = field("key");
    s.fields.level = field("level");
    s.fields.payload = match facts.fields.get("payload") {
        Some(name) if name == "(the whole record)" => None,
        Some(name) => Some(name.clone()),
        None => None,
    };
    s
}

/// Checks the files against the report's facts: same files, same bytes.
/// Returns one sentence per difference.
pub fn check_files(facts: &ReportFacts, files: &[PathBuf]) -> Result<Vec<String>> {
    let mut differences = Vec::new();
    if files.len() != facts.sources.len() {
        differences.push(format!("the report was made from {} file(s) but {} were given", facts.sources.len(), files.len()));
    }
    for (i, path) in files.iter().enumerate() {
        let Some(expected) = facts.sources.get(i) else { break };
        let (size, sha256) = file_sha256(path)?;
        if sha256 != expected.sha256 {
            differences.push(format!(
                "{}: its SHA-256 is {sha256} ({size} bytes) but the report recorded {} ({} bytes) for {}",
                path.display(),
                expected.sha256,
                expected.size,
                expected.name
            ));
        }
    }
    Ok(differences)
}

/// Checks every bookmarked state against the report. Returns one sentence
/// per difference.
pub fn check_states(facts: &ReportFacts, src: &Source) -> Result<Vec<String>> {
    let mut differences = Vec::new();
    for FactBookmark { id, seq, state_sha256: expected, .. } in &facts.bookmarks {
        if *seq == 0 || *seq > src.count() {
            differences.push(format!("bookmark {id}: event {seq} does not exist in the files (they hold {} events)", src.count()));
            continue;
        }
        let now = state_sha256(src, *seq)?;
        if &now != expected {
            differences.push(format!("bookmark {id}: the state after event {seq} differs from the one in the report"));
        }
    }
    Ok(differences)
}
