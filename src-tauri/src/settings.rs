//! What the app remembers between runs: recent files, and the reducer and
//! field choices made for each file. Kept as JSON in the app's config folder;
//! a missing or unreadable file is simply an empty memory.

use crate::ipc::FieldChoice;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tauri::Manager;

const RECENT: usize = 12;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub reducer: Option<String>,
    pub fields: Option<FieldChoice>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Remembered {
    pub recent: Vec<String>,
    /// Keyed by the files' paths joined with newlines.
    pub choices: BTreeMap<String, Choice>,
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

fn key(paths: &[String]) -> String {
    paths.join("\n")
}

impl Remembered {
    pub fn load<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> Remembered {
        let path = app.path().app_config_dir().ok().map(|d| d.join("settings.json"));
        let mut r: Remembered = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        r.path = path;
        r
    }

    pub fn save(&self) {
        let Some(path) = &self.path else { return };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(bytes) = serde_json::to_vec_pretty(self) {
            // Write then rename, so a crash never leaves half a file.
            let tmp = path.with_extension("json.tmp");
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, path);
            }
        }
    }

    pub fn choice_for(&self, paths: &[String]) -> Choice {
        self.choices.get(&key(paths)).cloned().unwrap_or_default()
    }

    /// Records an open: the files move to the top of the recent list, and
    /// the choices made for them are kept.
    pub fn opened(&mut self, paths: &[String], reducer: Option<String>, fields: Option<FieldChoice>) {
        for p in paths.iter().rev() {
            self.recent.retain(|r| r != p);
            self.recent.insert(0, p.clone());
        }
        self.recent.truncate(RECENT);
        let choice = Choice { reducer, fields };
        if choice == Choice::default() {
            self.choices.remove(&key(paths));
        } else {
            self.choices.insert(key(paths), choice);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_files_move_to_the_top_and_choices_are_kept() {
        let mut r = Remembered::default();
        r.opened(&["a".into()], None, None);
        r.opened(&["b".into()], Some("jq:.".into()), None);
        r.opened(&["a".into()], None, None);
        assert_eq!(r.recent, ["a", "b"]);
        assert_eq!(r.choice_for(&["b".into()]).reducer.as_deref(), Some("jq:."));
        assert_eq!(r.choice_for(&["a".into()]), Choice::default());
    }
}
