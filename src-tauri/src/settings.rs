//! What the app remembers between runs: recent files, and for each file
//! set the reducer and field choices made and the session (where the user
//! was). Kept as JSON in the app's config folder; a missing or unreadable
//! file is simply an empty memory.

use crate::ipc::{FieldChoice, Session};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tauri::Manager;

const RECENT: usize = 12;
/// File sets whose sessions are kept (the most recently saved).
const SESSIONS: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub reducer: Option<String>,
    pub fields: Option<FieldChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Remembered {
    pub recent: Vec<String>,
    /// Keyed by the files' paths joined with newlines.
    pub choices: BTreeMap<String, Choice>,
    /// Keys of `choices` with a session, most recently saved first.
    #[serde(default)]
    pub sessions: Vec<String>,
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
        let session = self.choices.get(&key(paths)).and_then(|c| c.session.clone());
        self.put(key(paths), Choice { reducer, fields, session });
    }

    /// Keeps where the user is in these files; only the last `SESSIONS`
    /// file sets saved keep theirs.
    pub fn save_session(&mut self, paths: &[String], session: Session) {
        let k = key(paths);
        let mut choice = self.choices.get(&k).cloned().unwrap_or_default();
        choice.session = Some(session);
        self.put(k.clone(), choice);
        self.sessions.retain(|s| *s != k);
        self.sessions.insert(0, k);
        for old in self.sessions.split_off(self.sessions.len().min(SESSIONS)) {
            if let Some(mut c) = self.choices.get(&old).cloned() {
                c.session = None;
                self.put(old, c);
            }
        }
    }

    fn put(&mut self, k: String, choice: Choice) {
        if choice == Choice::default() {
            self.choices.remove(&k);
        } else {
            self.choices.insert(k, choice);
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

    #[test]
    fn sessions_outlive_opens_and_only_the_latest_are_kept() {
        let mut r = Remembered::default();
        let at = |seq| Session { seq, pin: Some(3), open: vec!["/a".into()], ..Session::default() };
        r.save_session(&["a".into()], at(7));
        r.opened(&["a".into()], Some("jq:.".into()), None);
        let c = r.choice_for(&["a".into()]);
        assert_eq!((c.reducer.as_deref(), c.session), (Some("jq:."), Some(at(7))));
        r.opened(&["a".into()], None, None);
        assert_eq!(r.choice_for(&["a".into()]).session, Some(at(7)));
        // Saved again: replaced, not duplicated.
        r.save_session(&["a".into()], at(9));
        assert_eq!(r.sessions, ["a"]);
        for i in 0..SESSIONS {
            r.save_session(&[format!("f{i}")], at(i as u64));
        }
        assert_eq!(r.sessions.len(), SESSIONS);
        assert_eq!(r.choice_for(&["a".into()]).session, None);
        assert!(!r.choices.contains_key("a"), "an empty choice is dropped");
        assert_eq!(r.choice_for(&["f0".into()]).session, Some(at(0)));
        // Written and read back.
        let back: Remembered = serde_json::from_slice(&serde_json::to_vec(&r).unwrap()).unwrap();
        assert_eq!(back.choice_for(&["f3".into()]).session, Some(at(3)));
    }

    #[test]
    fn a_session_is_stored_bounded() {
        let mut open: Vec<String> = (0..300).map(|i| format!("/k{i}")).collect();
        open.insert(1, "/k0".into());
        open.insert(2, format!("/{}", "x".repeat(Session::MAX_PATH)));
        let filter = crate::ipc::ListFilter { ty: Some("A".into()), text: Some(String::new()), ..Default::default() };
        let s = Session { seq: 1, filter, pin: None, open }.bounded();
        assert_eq!(s.open.len(), Session::MAX_OPEN);
        assert_eq!(&s.open[..3], ["/k0", "/k1", "/k2"]);
        assert_eq!((s.filter.ty.as_deref(), s.filter.text), (Some("A"), None));
    }
}
