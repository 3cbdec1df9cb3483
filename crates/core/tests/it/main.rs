//! Integration tests of hindsight-core, one binary with modules by area.

mod golden;
mod lifecycle;
mod props;

use hindsight_core::{Location, OpenOptions, Settings, Source};
use std::path::{Path, PathBuf};

/// The repository's `tests/fixtures` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Opens `path` with a temporary index.
pub fn open_temp(path: &Path, settings: Settings) -> Source {
    let opts = OpenOptions { settings, location: Location::Temp, ..OpenOptions::default() };
    Source::open(&[path.to_path_buf()], &opts, &mut |_| {}).unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}
