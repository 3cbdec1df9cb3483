//! hindsight-core: the engine of Hindsight, a time-travel debugger for
//! event logs.
//!
//! A log file is cut into records ([`format`]), each record's slots are
//! found ([`fields`], [`time`]), and the events are indexed into SQLite
//! ([`index`]). A [`reducer`] folds events into the application [`state`];
//! [`replay`] restores the state after any event from checkpoints, and
//! [`source::Source`] answers every question of the product: events, state,
//! diff, blame, find, SQL, and one entity's timeline ([`entity`]).
//!
//! Architecture invariants: this crate never panics on input, never prints,
//! and never writes, locks or moves a source file. It knows nothing of the
//! CLI or the desktop app.

pub mod audit;
pub mod bookmarks;
pub mod browse;
pub mod entity;
pub mod envelope;
pub mod error;
pub mod fields;
pub mod format;
pub mod index;
pub mod jq;
pub mod patch;
pub mod reducer;
pub mod replay;
pub mod report;
pub mod scan;
pub mod search;
pub mod source;
pub mod sql;
pub mod tabular;
pub mod textlog;
pub mod state;
pub mod time;

pub use error::{Error, Result};
pub use index::{BuildOptions, Location, Progress, Settings};
pub use search::{TextIndexStatus, TextIndexer};
pub use source::{BlameEntry, Event, EventFilter, Hit, Info, OpenOptions, ParseError, Source, Summary};
pub use state::State;

/// Real logs of other projects, when they sit beside the checkout
/// (`../shared/corpus`); unit tests that read them skip when absent.
#[cfg(test)]
pub(crate) fn corpus_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}
