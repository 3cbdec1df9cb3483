//! hindsight-app: the desktop shell. A thin layer of Tauri commands over
//! hindsight-core (see `commands`), the types that cross into the UI
//! (`ipc`, mirrored into TypeScript), and what the app remembers
//! (`settings`). No engine logic lives here.

pub mod commands;
pub mod ipc;
pub mod settings;
pub mod watch;

use commands::AppState;
use tauri::Manager;

/// Registers every command; shared by `run` and the tests.
pub fn builder<R: tauri::Runtime>() -> tauri::Builder<R> {
    builder_from(tauri::Builder::<R>::new())
}

/// Registers every command on a given builder (the tests pass Tauri's mock one).
pub fn builder_from<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::open,
        commands::source_info_now,
        commands::initial_files,
        commands::recent_files,
        commands::check_reducer,
        commands::list,
        commands::list_index,
        commands::position,
        commands::tree_node,
        commands::diff,
        commands::blame,
        commands::entity_history,
        commands::find,
        commands::histogram,
        commands::markers,
        commands::neighbor,
        commands::next_change,
        commands::seq_at_time,
        commands::bookmarks,
        commands::add_bookmark,
        commands::remove_bookmark,
        commands::export_report,
        commands::refresh,
        commands::save_session,
    ])
}

/// Starts the app on the files given on the command line.
pub fn run() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| std::fs::canonicalize(&a).map(|p| p.to_string_lossy().into_owned()).unwrap_or(a))
        .collect();
    let result = builder::<tauri::Wry>()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(move |app| {
            let state = AppState::default();
            if let Ok(mut initial) = state.initial.lock() {
                *initial = files.clone();
            }
            if let Ok(mut r) = state.remembered.lock() {
                *r = settings::Remembered::load(app.handle());
            }
            app.manage(state);
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("hindsight-app: the window could not be opened: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed TypeScript mirror of the IPC types must match the Rust
    /// types; `UPDATE_BINDINGS=1` rewrites it.
    #[test]
    fn bindings() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/ipc-types.ts");
        let generated = ipc::typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == generated, "ui/src/lib/ipc-types.ts is out of date; run `UPDATE_BINDINGS=1 cargo test -p hindsight-app bindings`");
    }
}
