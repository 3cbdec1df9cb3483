//! Fuzz target `index`: the whole open path of hindsight-core (detection,
//! indexing into a temporary database, checkpoints) over a file holding the
//! input, then a few reads of the result. Errors are fine; panics are not.
//!
//! An input starting with a byte 0x01..=0x08 uses its second byte as options
//! (both bytes are left out of the file): `b % 10` forces a format
//! (`Format::ALL[b % 10]`, 9 = detect), `(b / 10) % 6` a reducer (entity,
//! merge-patch, json-patch, snapshot, cdc; 5 = detect). Other inputs are the
//! file as is, everything detected.
#![no_main]

use hindsight_core::format::Format;
use hindsight_core::{EventFilter, Location, OpenOptions, Settings, Source};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

const REDUCERS: [&str; 5] = ["entity", "merge-patch", "json-patch", "snapshot", "cdc"];

fn settings_and_content(data: &[u8]) -> (Settings, &[u8]) {
    let mut settings = Settings {
        // Small, so that checkpoints are placed and restored on tiny inputs.
        checkpoint_spacing: Some(256),
        ..Settings::default()
    };
    match data {
        [1..=8, options, rest @ ..] => {
            let f = (*options % 10) as usize;
            if f < Format::ALL.len() {
                settings.format = Some(Format::ALL[f].name().to_string());
            }
            let r = ((*options / 10) % 6) as usize;
            if r < REDUCERS.len() {
                settings.reducer = Some(REDUCERS[r].to_string());
            }
            (settings, rest)
        }
        _ => (settings, data),
    }
}

fuzz_target!(|data: &[u8]| {
    let (settings, content) = settings_and_content(data);
    let dir = tempfile::Builder::new().prefix("hindsight-fuzz-").tempdir().expect("temporary directory");
    let path: PathBuf = dir.path().join("input.log");
    std::fs::write(&path, content).expect("write the input");

    let opts = OpenOptions { settings, location: Location::Temp, ..OpenOptions::default() };
    let Ok(source) = Source::open(&[path], &opts, &mut |_| {}) else { return };

    let count = source.count();
    let _ = source.summary();
    let _ = source.info();
    let _ = source.errors();
    let _ = source.marks();
    let _ = source.state(count);
    let _ = source.state(count / 2);
    let _ = source.state(0);
    let _ = source.diff(0, count);
    if count > 0 {
        let _ = source.event(1);
        let _ = source.event(count);
    }
    let mut seen = 0;
    let _ = source.events(&EventFilter { limit: Some(50), ..EventFilter::default() }, &mut |_| {
        seen += 1;
        true
    });
});
