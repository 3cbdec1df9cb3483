//! The engine's one error type. Every variant displays as one plain sentence
//! that names the file (and line) where one applies and, where it helps, what
//! to do next. Callers map [`Error::code`] to exit codes or IPC error codes.

use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A source file cannot be read as a log at all (missing, a directory,
    /// binary, empty, a format nobody recognises).
    #[error("{}: {message}", path.display())]
    Source { path: PathBuf, message: String },

    /// An I/O failure while reading a source or writing the index.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    /// The index database could not be created or used.
    #[error("the index at {} could not be used: {message}; delete it or pass --no-cache", path.display())]
    Index { path: PathBuf, message: String },

    /// A question about the log that has no answer (an event that does not
    /// exist, a path that is missing, a bad argument).
    #[error("{0}")]
    Query(String),

    /// A jq expression failed to compile, errored or ran over its budget.
    #[error("{0}")]
    Jq(#[from] crate::jq::JqError),

    /// A statement given to the SQL console was refused or failed.
    #[error("{0}")]
    Sql(String),

    /// The caller stopped an indexing run (another file was opened).
    #[error("indexing was stopped before it ended; open the file again to index it")]
    Cancelled,
}

impl Error {
    /// A stable machine-readable code, for IPC and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Source { .. } => "source",
            Error::Io { .. } => "io",
            Error::Index { .. } => "index",
            Error::Query(_) => "query",
            Error::Jq(_) => "jq",
            Error::Sql(_) => "sql",
            Error::Cancelled => "cancelled",
        }
    }

    pub(crate) fn source(path: &Path, message: impl Into<String>) -> Error {
        Error::Source { path: path.to_path_buf(), message: message.into() }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn index(path: &Path, err: impl std::fmt::Display) -> Error {
        Error::Index { path: path.to_path_buf(), message: err.to_string() }
    }
}
