//! Bookmarks: an auditor's notes on events.
//!
//! They live in a small JSON file beside the index, not in it: the index is
//! a cache that is deleted and rebuilt whenever the source changes, and a
//! note must outlive that. Each bookmark also records where its event is
//! (file, line) and a hash of its record, so that after a rebuild it follows
//! its event to a new `seq`, or says that the event is gone.
//!
//! Invariant: a bookmark file that cannot be read is reported, never
//! silently replaced — it holds someone's work.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One bookmark as the CLI lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bookmark {
    pub id: i64,
    pub seq: u64,
    pub note: String,
    pub tags: Vec<String>,
    /// When it was made, RFC 3339 UTC.
    pub created: String,
    /// The bookmarked event is no longer in the source as it was.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
}

/// Where a bookmark's event is, to find it again after a re-index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub file: u32,
    pub line: u64,
    /// SHA-256 of the event's record text, lowercase hex.
    pub record_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    #[serde(flatten)]
    pub mark: Bookmark,
    pub anchor: Anchor,
}

/// The bookmark file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Book {
    pub next_id: i64,
    pub bookmarks: Vec<Stored>,
}

/// Reads the bookmark file; a missing file is an empty book.
pub fn load(path: &Path) -> Result<Book> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::source(path, format!("the bookmark file cannot be read ({e}); move it away to start a new one, or repair it"))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Book { next_id: 1, bookmarks: Vec::new() }),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes the bookmark file whole, through a temporary file and a rename,
/// so that a crash leaves the old or the new file, never half of one.
pub fn save(path: &Path, book: &Book) -> Result<()> {
    let text = serde_json::to_vec_pretty(book).map_err(|e| Error::Query(format!("the bookmarks could not be written: {e}")))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Splits `"a, b,c"` into tags, dropping empty ones and duplicates.
pub fn parse_tags(spec: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for t in spec.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !tags.iter().any(|have| have == t) {
            tags.push(t.to_string());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        assert_eq!(load(&path).unwrap(), Book { next_id: 1, bookmarks: vec![] });
        let book = Book {
            next_id: 2,
            bookmarks: vec![Stored {
                mark: Bookmark { id: 1, seq: 4, note: "refund twice ✓".into(), tags: vec!["bug".into()], created: "2024-01-01T00:00:00Z".into(), stale: false },
                anchor: Anchor { file: 0, line: 9, record_sha256: "ab".into() },
            }],
        };
        save(&path, &book).unwrap();
        assert_eq!(load(&path).unwrap(), book);
        std::fs::write(&path, b"{not json").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("b.json") && err.contains("move it away"), "{err}");
        assert_eq!(parse_tags(" bug, audit,,bug "), vec!["bug", "audit"]);
    }
}
