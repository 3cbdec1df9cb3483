//! Live tail: watches the folders of the open files (not the files, so that
//! a file replaced by log rotation is still seen) and tells the window
//! `files-changed` when one of them changes; the window then asks for
//! `refresh`, which indexes only what was appended.

use std::path::PathBuf;
use tauri::Emitter;

/// The event the window listens to.
pub const FILES_CHANGED: &str = "files-changed";

/// Keeps watching while it lives.
pub struct Watcher {
    _inner: notify::RecommendedWatcher,
}

impl Watcher {
    /// Starts watching `paths`; `None` when the system cannot watch them
    /// (the app then simply does not follow the files).
    pub fn start<R: tauri::Runtime>(app: tauri::AppHandle<R>, paths: &[String]) -> Option<Watcher> {
        let files: Vec<PathBuf> = paths.iter().filter_map(|p| std::fs::canonicalize(p).ok()).collect();
        let watched = files.clone();
        let mut inner = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if event.kind.is_access() {
                return;
            }
            if event.paths.iter().any(|p| watched.contains(p)) {
                let _ = app.emit(FILES_CHANGED, ());
            }
        })
        .ok()?;
        let mut dirs: Vec<PathBuf> = files.iter().filter_map(|f| f.parent().map(PathBuf::from)).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            notify::Watcher::watch(&mut inner, &dir, notify::RecursiveMode::NonRecursive).ok()?;
        }
        Some(Watcher { _inner: inner })
    }
}
