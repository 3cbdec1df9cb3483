//! Runs the built `hindsight` binary as a user would and checks its JSON,
//! its exit codes and its error sentences.

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

/// Runs `hindsight ARGS` with a private cache directory.
fn run(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hindsight"))
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("the hindsight binary runs")
}

fn ok_json(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}, stderr: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn ok_lines(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "exit {:?}, stderr: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Asserts a failure with exit code 1 and one plain sentence on stderr.
fn fails_with(out: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
    assert!(out.stdout.is_empty());
    err
}

struct Tmp(tempfile::TempDir);

impl Tmp {
    fn new() -> Tmp {
        Tmp(tempfile::tempdir().unwrap())
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    fn cache(&self) -> PathBuf {
        self.path("cache")
    }
    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    }
}

fn entity_log() -> String {
    fixture("golden/entity.jsonl").to_string_lossy().into_owned()
}

#[test]
fn index_and_info_print_the_documented_fields() {
    let t = Tmp::new();
    let log = entity_log();
    let index = ok_json(&run(&t.cache(), &["index", &log, "--no-text-index"]));
    let keys: Vec<&str> = index.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["errors", "events", "first_ts", "format", "last_ts", "reducer", "seconds"]);
    assert_eq!((index["events"].clone(), index["errors"].clone(), index["reducer"].clone()), (json!(8), json!(1), json!("entity")));
    // With the text index (the default), one more key says how long it took.
    let index = ok_json(&run(&t.cache(), &["index", &log]));
    let keys: Vec<&str> = index.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["errors", "events", "first_ts", "format", "last_ts", "reducer", "seconds", "text_index_seconds"]);
    let info = ok_json(&run(&t.cache(), &["info", &log]));
    assert_eq!(info["types"]["OrderPlaced"], json!(3));
    assert_eq!(info["keys"], json!(2));
    assert_eq!(info["levels"], json!({"error": 1, "info": 5, "warn": 2}));
    assert_eq!(info["fields"]["key"], json!("streamId"));
    // The index went to $XDG_CACHE_HOME/hindsight.
    assert!(std::fs::read_dir(t.cache().join("hindsight")).unwrap().count() >= 1);
    // --pretty indents; the default is compact.
    let pretty = run(&t.cache(), &["info", &log, "--pretty"]);
    assert!(String::from_utf8_lossy(&pretty.stdout).contains("\n  \"events\": 8"));
}

#[test]
fn events_filters() {
    let t = Tmp::new();
    let log = entity_log();
    let seqs = |args: &[&str]| -> Vec<u64> {
        let mut all = vec!["events", log.as_str()];
        all.extend_from_slice(args);
        ok_lines(&run(&t.cache(), &all)).iter().map(|e| e["seq"].as_u64().unwrap()).collect()
    };
    assert_eq!(seqs(&[]), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(seqs(&["--from", "3", "--limit", "2"]), [3, 4]);
    assert_eq!(seqs(&["--type", "OrderPlaced"]), [1, 2, 8]);
    assert_eq!(seqs(&["--key", "order-2"]), [2, 7, 8]);
    assert_eq!(seqs(&["--level", "WARNING"]), [5, 6]);
    assert_eq!(seqs(&["--search", "CARD"]), [4]);
    assert_eq!(seqs(&["--since", "2024-01-05T10:00:02Z", "--until", "2024-01-05T10:00:04Z"]), [4, 5, 6]);
    let first = &ok_lines(&run(&t.cache(), &["events", &log, "--limit", "1"]))[0];
    assert_eq!(
        first,
        &json!({"seq": 1, "line": 1, "ts": "2024-01-05T10:00:00.250Z", "type": "OrderPlaced", "key": "order-1", "level": "info",
                "payload": {"total": 100, "items": [{"sku": "A-1", "qty": 2}], "customer": "c-1"}})
    );
    // Absent fields are left out, not null.
    let config = &ok_lines(&run(&t.cache(), &["events", &log, "--type", "ConfigChanged"]))[0];
    assert!(config.get("key").is_none());
}

#[test]
fn state_diff_blame_find() {
    let t = Tmp::new();
    let log = entity_log();
    assert_eq!(ok_json(&run(&t.cache(), &["state", &log, "--at", "0"])), json!({}));
    assert_eq!(ok_json(&run(&t.cache(), &["state", &log, "--at", "6", "--path", "/order-1/total"])), json!(-30));
    assert_eq!(ok_json(&run(&t.cache(), &["state", &log, "--at-time", "2024-01-05T10:00:01.7Z", "--path", "/order-1/total"])), json!(130));
    assert_eq!(
        ok_json(&run(&t.cache(), &["diff", &log, "--from", "5", "--to", "6"])),
        json!([
            {"op": "remove", "path": "/order-1/payment/last4"},
            {"op": "add", "path": "/order-1/refunded", "value": 160},
            {"op": "replace", "path": "/order-1/total", "value": -30}
        ])
    );
    assert_eq!(ok_json(&run(&t.cache(), &["diff", &log, "--from", "4", "--to", "4"])), json!([]));
    let blame = ok_lines(&run(&t.cache(), &["blame", &log, "--path", "/order-1/total"]));
    assert_eq!(blame.iter().map(|b| b["seq"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 3, 6]);
    assert_eq!(blame[0], json!({"seq": 1, "ts": "2024-01-05T10:00:00.250Z", "type": "OrderPlaced", "new": 100}));
    assert_eq!(blame[2]["old"], json!(130));
    let found = ok_lines(&run(&t.cache(), &["find", &log, "--where", "any(.[]; (.total? // 0) < 0)"]));
    assert_eq!(found, [json!({"seq": 6, "ts": "2024-01-05T10:00:04Z", "type": "RefundIssued"})]);
    let all = ok_lines(&run(&t.cache(), &["find", &log, "--where", "has(\"order-2\")", "--all"]));
    assert_eq!(all.iter().map(|h| h["seq"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 8]);
    // order-2 is deleted at 7 and placed again at 8: two lifetimes.
    let entity = ok_json(&run(&t.cache(), &["entity", &log, "--key", "order-2"]));
    assert_eq!(entity["lifetimes"], json!([{"created": 2, "deleted": 7}, {"created": 8, "deleted": null}]));
    let steps: Vec<(u64, &str)> = entity["steps"].as_array().unwrap().iter().map(|s| (s["seq"].as_u64().unwrap(), s["change"].as_str().unwrap())).collect();
    assert_eq!(steps, [(2, "created"), (7, "deleted"), (8, "created")]);
    assert_eq!(entity["steps"][2]["value"], json!({"total": 75}));
    fails_with(&run(&t.cache(), &["entity", &log, "--key", "order-9"]), &["order-9"]);
}

#[test]
fn sql_reads_and_refuses_every_write() {
    let t = Tmp::new();
    let log = entity_log();
    let rows = ok_lines(&run(&t.cache(), &["sql", &log, "SELECT type, count(*) AS n FROM event_view GROUP BY type ORDER BY n DESC, type LIMIT 2"]));
    assert_eq!(rows, [json!({"type": "OrderPlaced", "n": 3}), json!({"type": "ConfigChanged", "n": 1})]);
    let dir = t.cache().join("hindsight");
    let snapshot = || -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).map(|p| { let b = std::fs::read(&p).unwrap(); (p, b) }).collect();
        files.sort();
        files
    };
    let before = snapshot();
    let outside = t.path("copy.db");
    for stmt in [
        "DELETE FROM events".to_string(),
        "INSERT INTO marks VALUES (1, 'x')".into(),
        "UPDATE meta SET value = 'x'".into(),
        "DROP TABLE events".into(),
        "CREATE TABLE x(a)".into(),
        format!("ATTACH '{}' AS x", outside.display()),
        format!("VACUUM INTO '{}'", outside.display()),
        "PRAGMA journal_mode = WAL".into(),
        "PRAGMA user_version = 7".into(),
        "BEGIN IMMEDIATE".into(),
        "WITH x AS (SELECT 1) DELETE FROM events".into(),
    ] {
        fails_with(&run(&t.cache(), &["sql", &log, &stmt]), &["read-only"]);
    }
    assert_eq!(before, snapshot(), "the index must not change");
    assert!(!outside.exists(), "no file may be created");
}

#[test]
fn searches_answer_the_same_with_and_without_the_text_index() {
    let t = Tmp::new();
    let mut text = String::new();
    let words = ["Hello World", "日本語のテキスト", "emoji 🙂🎉 party", "ΟΔΟΣ", "MiXeD needle"];
    for i in 0..40 {
        text += &format!("{{\"type\":\"T{}\",\"streamId\":\"k{}\",\"data\":{{\"text\":\"{} #{i}\"}}}}\n", i % 2, i % 3, words[i % words.len()]);
    }
    let log = t.write("texts.jsonl", text.as_bytes());
    let needles = ["world", "日本語", "本", "🙂🎉", "οδος", "NEEDLE #1", "e", "#3", "absent"];
    let answers = |extra: &[&str]| -> Vec<Vec<u64>> {
        needles
            .iter()
            .map(|n| {
                let mut args = vec!["events", log.as_str(), "--search", n];
                args.extend_from_slice(extra);
                ok_lines(&run(&t.cache(), &args)).iter().map(|e| e["seq"].as_u64().unwrap()).collect()
            })
            .collect()
    };
    let covered = || ok_lines(&run(&t.cache(), &["sql", &log, "SELECT count(*) AS n FROM meta WHERE key = 'search_upto' AND value = '40'"]))[0]["n"].clone();
    let scanned = answers(&[]);
    assert_eq!(scanned[1], [2, 7, 12, 17, 22, 27, 32, 37]);
    assert_eq!(scanned[5], [15, 20]);
    assert_eq!(scanned[8], Vec::<u64>::new());
    // No command but `index` builds the text index.
    assert_eq!(covered(), json!(0));
    ok_json(&run(&t.cache(), &["index", &log, "--no-text-index"]));
    assert_eq!(covered(), json!(0));
    let index = ok_json(&run(&t.cache(), &["index", &log]));
    assert!(index["text_index_seconds"].as_f64().is_some());
    assert_eq!(covered(), json!(1));
    assert_eq!(answers(&[]), scanned);
    let paged: Vec<Vec<u64>> = scanned.iter().map(|s| s.iter().copied().filter(|&n| n >= 12).take(2).collect()).collect();
    assert_eq!(answers(&["--from", "12", "--limit", "2"]), paged);
    // The SQL console reads the text index and refuses to change it.
    let rows = ok_lines(&run(&t.cache(), &["sql", &log, "SELECT rowid FROM search WHERE search MATCH '\"日本語\"' ORDER BY rowid LIMIT 2"]));
    assert_eq!(rows, [json!({"rowid": 2}), json!({"rowid": 7})]);
    for stmt in ["INSERT INTO search(search) VALUES ('optimize')", "DELETE FROM search WHERE rowid = 1", "DROP TABLE search"] {
        fails_with(&run(&t.cache(), &["sql", &log, stmt]), &["read-only"]);
    }
    assert_eq!(answers(&[]), scanned);
}

#[test]
fn usage_errors_exit_2() {
    let t = Tmp::new();
    assert_eq!(run(&t.cache(), &["state", &entity_log()]).status.code(), Some(2));
    assert_eq!(run(&t.cache(), &["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&t.cache(), &["diff", &entity_log(), "--from", "x", "--to", "1"]).status.code(), Some(2));
}

#[test]
fn bad_files_get_one_sentence() {
    let t = Tmp::new();
    let c = t.cache();
    let missing = t.path("nope.jsonl");
    fails_with(&run(&c, &["index", missing.to_str().unwrap()]), &["nope.jsonl", "no such file"]);
    fails_with(&run(&c, &["index", t.0.path().to_str().unwrap()]), &["is a directory"]);
    fails_with(&run(&c, &["index", &t.write("empty.jsonl", b"")]), &["empty.jsonl", "empty"]);
    fails_with(&run(&c, &["index", &t.write("blank.jsonl", b"\n\n  \n")]), &["blank lines"]);
    fails_with(&run(&c, &["index", &t.write("bin.dat", &[0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 0, 0])]), &["bin.dat", "binary"]);
    fails_with(
        &run(&c, &["index", &t.write("prose.txt", b"Dear diary,\ntoday nothing happened.\n")]),
        &["prose.txt", "could not detect the format: line 1", "--format"],
    );
    fails_with(&run(&c, &["index", &t.write("x.log", b"{}\n"), "--format", "yaml"]), &["unknown format `yaml`", "logfmt"]);
    let deep = "[".repeat(100_000) + &"]".repeat(100_000) + "\n";
    fails_with(&run(&c, &["index", &t.write("deep.jsonl", deep.as_bytes())]), &["deep.jsonl", "line 1", "recursion limit"]);
    // A truncated document keeps what was complete and reports the rest.
    let trunc = t.write("trunc.json", b"[{\"a\":1},\n{\"b\":");
    let index = ok_json(&run(&c, &["index", &trunc]));
    assert_eq!((index["events"].clone(), index["errors"].clone()), (json!(1), json!(1)));
    let errors = ok_lines(&run(&c, &["errors", &trunc]));
    assert_eq!(errors[0]["line"], json!(2));
    assert!(errors[0]["message"].as_str().unwrap().contains("truncated"));
}

#[test]
fn bad_lines_are_parse_errors_and_the_rest_is_kept() {
    let t = Tmp::new();
    let c = t.cache();
    let mut log = Vec::new();
    log.extend_from_slice(b"{\"type\":\"A\",\"data\":{\"v\":1}}\n");
    log.extend_from_slice(&("[".repeat(100_000) + "\n").into_bytes());
    log.extend_from_slice(b"{\"type\":\"B\",\"data\":{\"v\":\"caf\xe9\"}}\n");
    log.extend_from_slice(b"{\"type\":\"C\",\"data\":{\"v\":3}\n");
    let path = t.write("mixed.jsonl", &log);
    let before = std::fs::read(&path).unwrap();
    let index = ok_json(&run(&c, &["index", &path]));
    assert_eq!((index["events"].clone(), index["errors"].clone()), (json!(2), json!(2)));
    let errors = ok_lines(&run(&c, &["errors", &path]));
    assert_eq!(errors.iter().map(|e| e["line"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 4]);
    // Invalid UTF-8 is decoded lossily, not dropped.
    let events = ok_lines(&run(&c, &["events", &path]));
    assert_eq!(events[1]["payload"]["v"], json!("caf\u{fffd}"));
    assert_eq!(before, std::fs::read(&path).unwrap(), "the source must never change");
}

#[test]
fn questions_without_answers_get_one_sentence() {
    let t = Tmp::new();
    let c = t.cache();
    let log = entity_log();
    fails_with(&run(&c, &["state", &log, "--at", "99"]), &["event 99 does not exist", "8 events"]);
    fails_with(&run(&c, &["diff", &log, "--from", "1", "--to", "99"]), &["event 99 does not exist"]);
    fails_with(&run(&c, &["state", &log, "--at", "3", "--path", "/order-9/total"]), &["/order-9/total does not exist"]);
    fails_with(&run(&c, &["state", &log, "--at", "3", "--path", "no-slash"]), &["JSON Pointer"]);
    fails_with(&run(&c, &["find", &log, "--where", "any(.[]; .total <"]), &["jq"]);
    fails_with(&run(&c, &["find", &log, "--where", "$nope"]), &["jq"]);
    fails_with(&run(&c, &["state", &log, "--at-time", "not a time"]), &["not a time"]);
    fails_with(&run(&c, &["events", &log, "--level", "loud"]), &["unknown level"]);
    fails_with(&run(&c, &["index", &log, "--reducer", "magic"]), &["unknown reducer"]);
    fails_with(&run(&c, &["index", &log, "--format", "xml"]), &["unknown format"]);
}

#[test]
fn a_jq_expression_that_never_ends_is_stopped() {
    let t = Tmp::new();
    let started = std::time::Instant::now();
    fails_with(&run(&t.cache(), &["find", &entity_log(), "--where", "def f: f; f"]), &["jq"]);
    fails_with(&run(&t.cache(), &["find", &entity_log(), "--where", "last(repeat(1))"]), &["jq"]);
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn a_200_mb_line_is_handled() {
    let t = Tmp::new();
    let path = t.path("huge.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"{\"type\":\"small\",\"data\":{\"n\":1}}\n{\"type\":\"huge\",\"data\":{\"blob\":\"").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..200 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\"}}\n{\"type\":\"small\",\"data\":{\"n\":3}}\n").unwrap();
    }
    let path = path.to_string_lossy().into_owned();
    let index = ok_json(&run(&t.cache(), &["index", &path]));
    assert_eq!((index["events"].clone(), index["errors"].clone()), (json!(3), json!(0)));
    assert_eq!(ok_json(&run(&t.cache(), &["state", &path, "--at", "3", "--path", "/n"])), json!(3));
    let types: Vec<Value> = ok_lines(&run(&t.cache(), &["events", &path, "--from", "3"])).iter().map(|e| e["type"].clone()).collect();
    assert_eq!(types, [json!("small")]);
}

#[test]
fn a_kill_in_the_middle_of_indexing_is_never_trusted() {
    let t = Tmp::new();
    let path = t.path("big.jsonl");
    let total = 400_000u64;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for i in 0..total {
            writeln!(f, r#"{{"ts":{},"type":"Tick","streamId":"s{}","data":{{"i":{i},"pad":"{}"}}}}"#, 1_700_000_000_000u64 + i, i % 1000, "p".repeat(40)).unwrap();
        }
    }
    let db = t.path("big.hsidx");
    let (p, d) = (path.to_str().unwrap(), db.to_str().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_hindsight")).args(["index", p, "--index", d]).spawn().unwrap();
    // Kill as soon as the index has started to fill.
    let started = std::time::Instant::now();
    while std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) < 1 << 20 && started.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let info = ok_json(&run(&t.cache(), &["info", p, "--index", d]));
    assert_eq!(info["events"], json!(total));
    assert_eq!(ok_json(&run(&t.cache(), &["state", p, "--index", d, "--at", &total.to_string(), "--path", "/s999/i"])), json!(total - 1));
}

#[test]
fn bookmarks_add_list_remove() {
    let t = Tmp::new();
    let log = entity_log();
    let c = t.cache();
    let added = ok_lines(&run(&c, &["bookmarks", &log, "add", "4", "card declined <b>twice</b>", "--tags", "bug, audit"]));
    assert_eq!((added[0]["id"].clone(), added[0]["seq"].clone(), added[0]["tags"].clone()), (json!(1), json!(4), json!(["bug", "audit"])));
    // Options may sit between the files and the action.
    ok_lines(&run(&c, &["bookmarks", &log, "--tags", "later", "add", "2", "second"]));
    let list = ok_lines(&run(&c, &["bookmarks", &log, "list"]));
    let keys: Vec<&str> = list[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["created", "id", "note", "seq", "tags"]);
    assert_eq!(list.iter().map(|b| b["seq"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 4]);
    assert_eq!(list[1]["note"], json!("card declined <b>twice</b>"));
    ok_lines(&run(&c, &["bookmarks", &log, "remove", "1"]));
    assert_eq!(ok_lines(&run(&c, &["bookmarks", &log, "list"])).len(), 1);
    fails_with(&run(&c, &["bookmarks", &log, "remove", "1"]), &["no bookmark 1"]);
    fails_with(&run(&c, &["bookmarks", &log, "add", "99", "x"]), &["event 99 does not exist"]);
    fails_with(&run(&c, &["bookmarks", &log, "frobnicate"]), &["add SEQ NOTE", "list", "remove ID"]);
    fails_with(&run(&c, &["bookmarks", "list"]), &["give the log files before the action"]);
}

#[test]
fn report_then_verify_names_what_differs() {
    let t = Tmp::new();
    let c = t.cache();
    let log = t.path("shop.jsonl");
    std::fs::copy(fixture("golden/entity.jsonl"), &log).unwrap();
    let log = log.to_string_lossy().into_owned();
    ok_lines(&run(&c, &["bookmarks", &log, "add", "4", "<img src=x onerror=alert(1)> declined"]));
    ok_lines(&run(&c, &["bookmarks", &log, "add", "7", "second look"]));
    let out = t.path("report.html");
    let printed = ok_json(&run(&c, &["report", &log, "--out", &out.to_string_lossy()]));
    assert_eq!(printed, json!(out.to_string_lossy()));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; declined") && !html.contains("<img"), "notes are escaped");
    assert_eq!(html.matches("<script").count(), 1, "only the inert facts block");
    let verdict = ok_json(&run(&c, &["verify", &out.to_string_lossy(), &log]));
    assert_eq!((verdict["ok"].clone(), verdict["bookmarks"].clone()), (json!(true), json!(2)));
    // A report whose recorded state is not what the files give.
    let tampered = t.path("tampered.html");
    let at = html.find("\"state_sha256\":\"").unwrap() + "\"state_sha256\":\"".len();
    std::fs::write(&tampered, format!("{}{}{}", &html[..at], "0".repeat(64), &html[at + 64..])).unwrap();
    let failed = run(&c, &["verify", &tampered.to_string_lossy(), &log]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("the state after event 4 differs"));
    // One byte of the source changes: verify names the file.
    let mut bytes = std::fs::read(&log).unwrap();
    let at = bytes.iter().position(|b| *b == b'7').unwrap();
    bytes[at] = b'8';
    std::fs::write(&log, bytes).unwrap();
    let failed = run(&c, &["verify", &out.to_string_lossy(), &log]);
    assert_eq!(failed.status.code(), Some(1));
    let verdict: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(verdict["ok"], json!(false));
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("shop.jsonl: its SHA-256 is") && err.lines().count() == 1, "{err}");
    // Not a report at all.
    fails_with(&run(&c, &["verify", &log, &log]), &["shop.jsonl"]);
}

#[test]
fn events_follow_streams_appends_and_survives_rotation() {
    use std::io::{BufRead, Write};
    let t = Tmp::new();
    let log = t.path("live.jsonl");
    let line = |i: u32| format!("{{\"ts\":\"2024-01-01T10:00:{i:02}Z\",\"type\":\"Tick\",\"streamId\":\"k\",\"data\":{{\"n\":{i}}}}}\n");
    std::fs::write(&log, line(1)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hindsight"))
        .args(["events", &log.to_string_lossy(), "--follow"])
        .env("XDG_CACHE_HOME", t.cache())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str::<Value>(&l).unwrap());
        }
    });
    let next = || rx.recv_timeout(std::time::Duration::from_secs(10)).expect("an event within 10 s");
    let n = |e: Value| (e["seq"].as_u64().unwrap(), e["payload"]["n"].as_u64().unwrap());
    assert_eq!(n(next()), (1, 1));
    std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all((line(2) + &line(3)).as_bytes()).unwrap();
    assert_eq!((n(next()), n(next())), ((2, 2), (3, 3)));
    // Rotation: the file is replaced by a new, shorter one.
    let fresh = t.path("live.jsonl.new");
    std::fs::write(&fresh, line(7)).unwrap();
    std::fs::rename(&fresh, &log).unwrap();
    assert_eq!(n(next()), (1, 7));
    std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(line(8).as_bytes()).unwrap();
    assert_eq!(n(next()), (2, 8));
    child.kill().unwrap();
    let _ = child.wait();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("following it from its first event"), "{err}");
    assert!(rx.try_recv().is_err(), "nothing is printed twice");
}

#[test]
fn processes_opening_one_file_together_share_one_index() {
    let t = Tmp::new();
    let log = t.path("shop.jsonl");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/shop.jsonl"), &log).unwrap();
    let log = log.to_string_lossy().into_owned();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_hindsight"))
                .args(["index", &log])
                .env("XDG_CACHE_HOME", t.cache())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(ok_json(&out)["events"], json!(3502));
    }
}
