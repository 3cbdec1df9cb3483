//! Index lifecycle: reuse without re-parsing, appends, truncation, rewrites,
//! and indexes left incomplete. `OpenReport::records_parsed` counts the
//! records read from the source on each open, so "not re-parsed" is proved
//! by a counter, not by timing.

use hindsight_core::{BuildOptions, Location, OpenOptions, Settings, Source};
use std::io::Write;
use std::path::{Path, PathBuf};

fn line(i: u64) -> String {
    format!(
        r#"{{"ts":"2024-01-05T10:{:02}:{:02}Z","type":"Set","streamId":"k{}","data":{{"n":{i}}}}}"#,
        i / 60 % 60,
        i % 60,
        i % 7
    )
}

fn write_lines(path: &Path, range: std::ops::Range<u64>, append: bool) {
    let mut f = std::fs::OpenOptions::new().create(true).append(append).write(true).truncate(!append).open(path).unwrap();
    for i in range {
        writeln!(f, "{}", line(i)).unwrap();
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    log: PathBuf,
    db: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let db = dir.path().join("events.hsidx");
    Fixture { log, db, _dir: dir }
}

fn open(f: &Fixture) -> Source {
    let opts = OpenOptions { settings: Settings { checkpoint_spacing: Some(2000), ..Settings::default() }, location: Location::Path(f.db.clone()), ..OpenOptions::default() };
    Source::open(&[f.log.clone()], &opts, &mut |_| {}).unwrap()
}

/// Everything an index answers about the log, to compare two indexes.
fn answers(src: &Source) -> String {
    let mut out = String::new();
    out += &serde_json::to_string(&src.summary().unwrap().events).unwrap();
    for n in [0, src.count() / 2, src.count()] {
        out += &serde_json::to_string(&src.state(n).unwrap().to_value()).unwrap();
    }
    out += &serde_json::to_string(&src.blame("/k3/n").unwrap()).unwrap();
    out += &serde_json::to_string(&src.errors().unwrap()).unwrap();
    out
}

fn fresh_answers(f: &Fixture) -> String {
    let opts = OpenOptions { settings: Settings { checkpoint_spacing: Some(2000), ..Settings::default() }, location: Location::Temp, ..OpenOptions::default() };
    answers(&Source::open(&[f.log.clone()], &opts, &mut |_| {}).unwrap())
}

#[test]
fn reopening_an_unchanged_file_parses_nothing() {
    let f = fixture();
    write_lines(&f.log, 0..500, false);
    let first = open(&f);
    assert_eq!((first.report().action.as_str(), first.report().records_parsed), ("built", 500));
    let a = answers(&first);
    drop(first);
    let again = open(&f);
    assert_eq!((again.report().action.as_str(), again.report().records_parsed), ("reused", 0));
    assert_eq!(answers(&again), a);
}

#[test]
fn a_grown_file_is_indexed_from_where_it_ended() {
    let f = fixture();
    write_lines(&f.log, 0..300, false);
    drop(open(&f));
    write_lines(&f.log, 300..450, true);
    let src = open(&f);
    assert_eq!(src.report().action, "appended");
    assert_eq!(src.report().records_parsed, 150);
    assert_eq!(src.count(), 450);
    assert_eq!(answers(&src), fresh_answers(&f));
}

#[test]
fn an_unterminated_last_line_is_read_again_when_the_file_grows() {
    let f = fixture();
    write_lines(&f.log, 0..10, false);
    // A writer caught mid-line: the tail is not yet valid JSON.
    let mut file = std::fs::OpenOptions::new().append(true).open(&f.log).unwrap();
    let partial = line(10);
    file.write_all(&partial.as_bytes()[..20]).unwrap();
    drop(file);
    let src = open(&f);
    assert_eq!(src.count(), 10);
    assert_eq!(src.errors().unwrap().len(), 1);
    drop(src);
    let mut file = std::fs::OpenOptions::new().append(true).open(&f.log).unwrap();
    writeln!(file, "{}", &partial[20..]).unwrap();
    drop(file);
    let src = open(&f);
    assert_eq!(src.report().action, "appended");
    assert_eq!(src.report().records_parsed, 1);
    assert_eq!(src.count(), 11);
    assert!(src.errors().unwrap().is_empty(), "{:?}", src.errors().unwrap());
    assert_eq!(answers(&src), fresh_answers(&f));
}

#[test]
fn a_truncated_or_rewritten_file_is_reindexed() {
    let f = fixture();
    write_lines(&f.log, 0..200, false);
    drop(open(&f));
    write_lines(&f.log, 0..120, false);
    let src = open(&f);
    assert!(src.report().action.starts_with("rebuilt"), "{}", src.report().action);
    assert_eq!(src.count(), 120);
    assert_eq!(answers(&src), fresh_answers(&f));
    drop(src);
    // Same size, different content in the middle: the modification time
    // changes, so the index is not trusted.
    let text = std::fs::read_to_string(&f.log).unwrap().replace(r#""n":60}"#, r#""n":99}"#);
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&f.log, text).unwrap();
    let src = open(&f);
    assert!(src.report().action.starts_with("rebuilt"), "{}", src.report().action);
    assert_eq!(answers(&src), fresh_answers(&f));
}

#[test]
fn an_incomplete_index_is_never_trusted() {
    let f = fixture();
    write_lines(&f.log, 0..300, false);
    drop(open(&f));
    // What a kill in the middle of indexing leaves: the completion flag unset.
    let conn = rusqlite::Connection::open(&f.db).unwrap();
    conn.execute_batch("UPDATE meta SET value = '0' WHERE key = 'complete'; DELETE FROM events WHERE seq > 100;").unwrap();
    drop(conn);
    let src = open(&f);
    assert_eq!(src.report().action, "rebuilt: the index was left incomplete");
    assert_eq!(src.count(), 300);
    assert_eq!(answers(&src), fresh_answers(&f));
}

#[test]
fn a_damaged_index_file_is_rebuilt() {
    let f = fixture();
    write_lines(&f.log, 0..50, false);
    drop(open(&f));
    std::fs::write(&f.db, b"this is not a database").unwrap();
    let src = open(&f);
    assert!(src.report().action.starts_with("rebuilt"), "{}", src.report().action);
    assert_eq!(src.count(), 50);
}

#[test]
fn the_cache_directory_follows_xdg_cache_home() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("x.jsonl");
    write_lines(&log, 0..5, false);
    // Only this test sets the variable; others choose their location.
    std::env::set_var("XDG_CACHE_HOME", dir.path().join("cache"));
    let src = Source::open(&[log.clone()], &OpenOptions::default(), &mut |_| {}).unwrap();
    assert!(src.index_path().starts_with(dir.path().join("cache").join("hindsight")), "{}", src.index_path().display());
}

/// Every event of `src` as JSON Lines, to compare two indexes of a log.
fn all_events(src: &Source) -> String {
    let mut out = String::new();
    src.events(&hindsight_core::EventFilter::default(), &mut |e| {
        out += &serde_json::to_string(&e).unwrap();
        out.push('\n');
        true
    })
    .unwrap();
    out
}

#[test]
fn grown_text_and_csv_logs_are_indexed_from_their_last_record() {
    let cases = [
        // The appended lines first continue the last record (a traceback).
        ("app.log", "2024-01-05 10:00:00 INFO start\n2024-01-05 10:00:01 ERROR boom\nTraceback:\n", "  File x\n2024-01-05 10:00:02 INFO ok\n", 2),
        ("orders.csv", "ts,id,n\n2024-01-05T10:00:00Z,a,1\n2024-01-05T10:00:01Z,b,2\n", "2024-01-05T10:00:02Z,a,3\n", 1),
        ("svc.logfmt", "ts=2024-01-05T10:00:00Z level=info msg=a\nts=2024-01-05T10:00:01Z level=warn msg=b\n", "ts=2024-01-05T10:00:02Z level=error msg=c\n", 1),
    ];
    for (name, first, more, reparsed) in cases {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(name);
        std::fs::write(&log, first).unwrap();
        let opts = OpenOptions { settings: Settings::default(), location: Location::Path(dir.path().join("index.hsidx")), ..OpenOptions::default() };
        let built = Source::open(&[log.clone()], &opts, &mut |_| {}).unwrap();
        assert_eq!(built.report().action, "built", "{name}");
        drop(built);
        std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(more.as_bytes()).unwrap();
        let grown = Source::open(&[log.clone()], &opts, &mut |_| {}).unwrap();
        assert_eq!((grown.report().action.as_str(), grown.report().records_parsed), ("appended", reparsed), "{name}");
        let fresh = Source::open(&[log.clone()], &OpenOptions { settings: Settings::default(), location: Location::Temp, ..OpenOptions::default() }, &mut |_| {}).unwrap();
        assert_eq!(all_events(&grown), all_events(&fresh), "{name}");
        assert_eq!(grown.state(grown.count()).unwrap().to_value(), fresh.state(fresh.count()).unwrap().to_value(), "{name}");
        assert_eq!(counted(&grown), counted(&fresh), "{name}");
        assert_eq!(counted(&grown), counted_by_scan(&grown), "{name}");
    }
}

/// What `info` says of the events' types, levels, keys and times.
fn counted(src: &Source) -> String {
    let info = src.info().unwrap();
    format!("{:?} {:?} {} {:?} {:?}", info.types, info.levels, info.keys, info.summary.first_ts, info.summary.last_ts)
}

/// The same, by reading every event.
fn counted_by_scan(src: &Source) -> String {
    let mut types = std::collections::BTreeMap::<String, u64>::new();
    let mut levels = std::collections::BTreeMap::<String, u64>::new();
    let mut keys = std::collections::BTreeSet::new();
    let mut times = vec![];
    src.events(&hindsight_core::EventFilter::default(), &mut |e| {
        *types.entry(e.ty.clone().unwrap_or_default()).or_default() += e.ty.is_some() as u64;
        if let Some(l) = e.level {
            *levels.entry(l.to_string()).or_default() += 1;
        }
        keys.extend(e.key.clone());
        times.extend(e.ts.clone());
        true
    })
    .unwrap();
    types.retain(|_, n| *n > 0);
    // RFC 3339 UTC texts of one source sort as their instants when their fractions agree.
    let by_instant = |t: &String| hindsight_core::time::parse_user_time(t).map(|t| t.nanos);
    let first = times.iter().min_by_key(|t| by_instant(t)).cloned();
    let last = times.iter().max_by_key(|t| by_instant(t)).cloned();
    format!("{types:?} {levels:?} {} {first:?} {last:?}", keys.len())
}

#[test]
fn a_shared_build_can_be_read_while_it_runs() {
    let f = fixture();
    write_lines(&f.log, 0..5000, false);
    let opts = OpenOptions {
        settings: Settings { checkpoint_spacing: Some(2000), ..Settings::default() },
        location: Location::Path(f.db.clone()),
        build: BuildOptions { share: true, cancel: None },
    };
    let fresh = {
        let temp = OpenOptions { location: Location::Temp, build: BuildOptions::default(), ..opts.clone() };
        Source::open(&[f.log.clone()], &temp, &mut |_| {}).unwrap()
    };
    assert!(Source::open_building(&[f.log.clone()], &opts).is_err(), "nothing is readable before the build starts");
    let mut seen = vec![];
    let built = Source::open(&[f.log.clone()], &opts, &mut |p| {
        if p.usable == 0 || seen.last() == Some(&p.usable) {
            return;
        }
        // Read through another connection while the build goes on.
        let partial = Source::open_building(&[f.log.clone()], &opts).unwrap();
        assert!(partial.building());
        assert_eq!(partial.count(), p.usable);
        let n = partial.count();
        assert_eq!(partial.state(n).unwrap().to_value(), fresh.state(n).unwrap().to_value(), "state({n})");
        assert_eq!(partial.diff(n / 2, n).unwrap(), fresh.diff(n / 2, n).unwrap());
        assert_eq!(partial.info().unwrap().summary.events, n);
        assert_eq!(counted(&partial), counted_by_scan(&partial));
        seen.push(n);
    })
    .unwrap();
    assert_eq!(seen.first(), Some(&1000), "the first commit comes after 1,000 events: {seen:?}");
    assert!(!built.building());
    assert_eq!(answers(&built), answers(&fresh));
    assert_eq!(counted(&built), counted(&fresh));
    // The finished index is reused as usual, by a reader that did not share.
    let again = Source::open(&[f.log.clone()], &OpenOptions { build: BuildOptions::default(), ..opts }, &mut |_| {}).unwrap();
    assert_eq!(again.report().action, "reused");
}

#[test]
fn several_files_merge_by_time_and_are_reused_together() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jsonl");
    let b = dir.path().join("b.jsonl");
    std::fs::write(&a, concat!(
        r#"{"ts":"2024-01-01T10:00:00Z","type":"Set","streamId":"k1","data":{"v":1}}"#, "\n",
        r#"{"ts":"2024-01-01T10:00:02Z","type":"Set","streamId":"k1","data":{"v":3}}"#, "\n",
        r#"{"type":"Note","streamId":"k1","data":{"after":3}}"#, "\n",
    )).unwrap();
    std::fs::write(&b, concat!(
        r#"{"ts":"2024-01-01T10:00:01Z","type":"Set","streamId":"k2","data":{"v":2}}"#, "\n",
        r#"{"ts":"2024-01-01T10:00:02Z","type":"Set","streamId":"k2","data":{"v":4}}"#, "\n",
        "not json\n",
    )).unwrap();
    let paths = [a.clone(), b.clone()];
    let opts = OpenOptions { settings: Settings::default(), location: Location::Path(dir.path().join("index.hsidx")), ..OpenOptions::default() };
    let src = Source::open(&paths, &opts, &mut |_| {}).unwrap();
    // By time; a tie keeps file order; an event without a time follows its
    // predecessor in its own file.
    let order: Vec<(u64, String, u64)> = {
        let mut v = vec![];
        src.events(&hindsight_core::EventFilter::default(), &mut |e| {
            v.push((e.seq, e.file.clone().unwrap(), e.line));
            true
        })
        .unwrap();
        v
    };
    let name = |p: &Path| p.display().to_string();
    assert_eq!(order, vec![(1, name(&a), 1), (2, name(&b), 1), (3, name(&a), 2), (4, name(&a), 3), (5, name(&b), 2)]);
    let errors = src.errors().unwrap();
    assert_eq!((errors.len(), errors[0].file.clone(), errors[0].line), (1, Some(name(&b)), 3));
    assert_eq!(src.state(5).unwrap().to_value(), serde_json::json!({"k1": {"v": 3, "after": 3}, "k2": {"v": 4}}));
    drop(src);
    let again = Source::open(&paths, &opts, &mut |_| {}).unwrap();
    assert_eq!((again.report().action.as_str(), again.report().records_parsed), ("reused", 0));
    drop(again);
    std::fs::OpenOptions::new().append(true).open(&b).unwrap().write_all(b"{\"ts\":\"2024-01-01T10:00:03Z\",\"type\":\"Set\",\"streamId\":\"k2\",\"data\":{\"v\":5}}\n").unwrap();
    let grown = Source::open(&paths, &opts, &mut |_| {}).unwrap();
    assert!(grown.report().action.starts_with("rebuilt"), "{}", grown.report().action);
    assert_eq!(grown.count(), 6);
    // Files of different formats are refused with a sentence naming both.
    let text = dir.path().join("c.log");
    std::fs::write(&text, "Oct 11 22:14:15 host app: hello\n").unwrap();
    let err = Source::open(&[a.clone(), text], &opts, &mut |_| {}).err().unwrap().to_string();
    assert!(err.contains("c.log") && err.contains("is syslog but") && err.contains("cannot be merged"), "{err}");
}

#[test]
fn bookmarks_survive_a_reindex_and_follow_their_event() {
    let f = fixture();
    write_lines(&f.log, 0..50, false);
    let src = open(&f);
    let a = src.add_bookmark(10, "total looks wrong", vec!["bug".into()]).unwrap();
    let b = src.add_bookmark(20, "第二 note 🚩", vec![]).unwrap();
    assert_eq!((a.id, b.id), (1, 2));
    assert!(src.add_bookmark(51, "x", vec![]).is_err());
    assert!(src.add_bookmark(0, "x", vec![]).is_err());
    drop(src);
    // A line is inserted at the top: the file is rewritten and re-indexed.
    let text = std::fs::read_to_string(&f.log).unwrap();
    std::fs::write(&f.log, format!("{}\n{text}", line(999))).unwrap();
    let src = open(&f);
    assert!(src.report().action.starts_with("rebuilt"), "{}", src.report().action);
    let list = src.bookmarks().unwrap();
    assert_eq!(list.iter().map(|b| (b.id, b.seq, b.stale)).collect::<Vec<_>>(), vec![(1, 11, false), (2, 21, false)]);
    assert_eq!(list[1].note, "第二 note 🚩");
    assert_eq!(src.remove_bookmark(2).unwrap().id, 2);
    assert!(src.remove_bookmark(2).unwrap_err().to_string().contains("no bookmark 2"));
    drop(src);
    // The bookmarked event itself is removed: the bookmark says so.
    let kept: Vec<String> = std::fs::read_to_string(&f.log).unwrap().lines().filter(|l| *l != line(9)).map(String::from).collect();
    std::fs::write(&f.log, kept.join("\n") + "\n").unwrap();
    let list = open(&f).bookmarks().unwrap();
    assert_eq!(list.iter().map(|b| (b.id, b.stale)).collect::<Vec<_>>(), vec![(1, true)]);
}

#[test]
fn a_cancelled_build_fails_and_is_not_trusted() {
    let f = fixture();
    write_lines(&f.log, 0..120_000, false);
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = OpenOptions {
        location: Location::Path(f.db.clone()),
        build: BuildOptions { share: true, cancel: Some(cancel.clone()) },
        ..OpenOptions::default()
    };
    let stopped = Source::open(&[f.log.clone()], &opts, &mut |p| {
        if p.usable > 0 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(matches!(stopped, Err(hindsight_core::Error::Cancelled)), "{:?}", stopped.err());
    let again = Source::open(&[f.log.clone()], &OpenOptions { build: BuildOptions::default(), ..opts }, &mut |_| {}).unwrap();
    assert!(again.report().action.starts_with("rebuilt"), "{}", again.report().action);
    assert_eq!(again.count(), 120_000);
}

#[test]
fn the_state_before_a_jump_is_kept_and_is_the_state_before() {
    let f = fixture();
    write_lines(&f.log, 0..3000, false);
    let src = open(&f);
    let fresh = |n: u64| {
        let opts = OpenOptions { settings: Settings { checkpoint_spacing: Some(2000), ..Settings::default() }, location: Location::Temp, ..OpenOptions::default() };
        Source::open(&[f.log.clone()], &opts, &mut |_| {}).unwrap().state(n).unwrap().to_value()
    };
    // Jumps as a scrubber makes them, each followed by what the window asks next.
    for n in [2500, 17, 1999, 2, 1] {
        let at = src.state(n).unwrap().to_value();
        let before = src.state(n - 1).unwrap().to_value();
        assert_eq!(at, fresh(n), "state({n})");
        assert_eq!(before, fresh(n - 1), "state({}) after state({n})", n - 1);
        let ops = src.diff(n - 1, n).unwrap();
        let mut applied = before.clone();
        hindsight_core::patch::apply_ops(&mut applied, &ops).unwrap();
        assert_eq!(applied, at, "diff({}, {n})", n - 1);
    }
}
