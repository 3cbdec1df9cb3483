//! Data-driven golden tests: for each `tests/fixtures/golden/NAME.queries`,
//! run every query against the log `NAME.*` and compare the answers with
//! `NAME.out`. Run with `UPDATE_EXPECT=1` to rewrite the `.out` files, then
//! read the diff: the files are the specification of these answers.

use crate::{fixtures, open_temp};
use hindsight_core::{time, EventFilter, Settings, Source};
use std::fmt::Write;

fn log_of(name: &str) -> std::path::PathBuf {
    let dir = fixtures().join("golden");
    std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_stem().is_some_and(|s| s == name)
                && !matches!(p.extension().and_then(|e| e.to_str()), Some("queries" | "out"))
        })
        .unwrap_or_else(|| panic!("no log for fixture {name}"))
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap()
}

/// Runs one query line, appending its answer (or its error) to `out`.
fn run_query(src: &Source, query: &str, out: &mut String) {
    let (cmd, arg) = query.split_once(' ').unwrap_or((query, ""));
    let result: Result<String, hindsight_core::Error> = (|| {
        Ok(match cmd {
            "info" => {
                let mut info = src.info()?;
                info.summary.seconds = 0.0;
                info.index = String::new();
                serde_json::to_string_pretty(&info).unwrap()
            }
            "state" => json(&src.state(arg.parse().unwrap())?.to_value()),
            "state-at" => {
                let (seq, st) = src.state_at(time::parse_user_time(arg).unwrap())?;
                format!("after #{seq}: {}", json(&st.to_value()))
            }
            "state-path" => {
                let (n, p) = arg.split_once(' ').unwrap();
                json(&src.value_at(n.parse().unwrap(), p)?)
            }
            "diff" => {
                let (a, b) = arg.split_once(' ').unwrap();
                json(&src.diff(a.parse().unwrap(), b.parse().unwrap())?)
            }
            "blame" => src.blame(arg)?.iter().map(json).collect::<Vec<_>>().join("\n"),
            "entity" => {
                let h = src.entity_history(arg)?;
                let mut lines = vec![format!("{} lifetimes {}", h.pointer, json(&h.lifetimes))];
                lines.extend(h.steps.iter().map(json));
                lines.join("\n")
            }
            "find" => src.find(arg, false)?.iter().map(json).collect::<Vec<_>>().join("\n"),
            "find-all" => src.find(arg, true)?.iter().map(json).collect::<Vec<_>>().join("\n"),
            "errors" => src.errors()?.iter().map(json).collect::<Vec<_>>().join("\n"),
            "marks" => src.marks()?.iter().map(|(s, m)| format!("#{s}: {m}")).collect::<Vec<_>>().join("\n"),
            "events" => {
                let mut filter = EventFilter::default();
                let mut words = shell_words(arg).into_iter();
                while let Some(flag) = words.next() {
                    let v = words.next().unwrap_or_default();
                    match flag.as_str() {
                        "--type" => filter.ty = Some(v),
                        "--key" => filter.key = Some(v),
                        "--level" => filter.level = Some(v),
                        "--search" => filter.search = Some(v),
                        "--since" => filter.since = time::parse_user_time(&v),
                        "--from" => filter.from = v.parse().ok(),
                        "--limit" => filter.limit = v.parse().ok(),
                        other => panic!("unknown events flag {other}"),
                    }
                }
                let mut lines = vec![];
                src.events(&filter, &mut |e| {
                    lines.push(json(&e));
                    true
                })?;
                lines.join("\n")
            }
            other => panic!("unknown query {other}"),
        })
    })();
    match result {
        Ok(text) => writeln!(out, "{text}").unwrap(),
        Err(e) => writeln!(out, "error: {e}").unwrap(),
    }
}

fn shell_words(s: &str) -> Vec<String> {
    let mut words = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Every event of `src`, as JSON Lines.
fn all_events(src: &Source) -> String {
    let mut lines = vec![];
    src.events(&EventFilter::default(), &mut |e| {
        lines.push(json(&e));
        true
    })
    .unwrap();
    lines.join("\n")
}

fn check(name: &str) {
    let dir = fixtures().join("golden");
    let original = log_of(name);
    // A copy with a fixed modification time: formats without a year
    // (syslog, glog) take it from there.
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join(original.file_name().unwrap());
    std::fs::copy(&original, &log).unwrap();
    let june_2024 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_717_200_000);
    std::fs::File::options().write(true).open(&log).unwrap().set_modified(june_2024).unwrap();
    let before = std::fs::read(&log).unwrap();
    let queries = std::fs::read_to_string(dir.join(format!("{name}.queries"))).unwrap();
    let mut src = open_temp(&log, Settings::default());
    let mut out = String::new();
    for q in queries.lines().filter(|l| !l.trim().is_empty()) {
        writeln!(out, "> {q}").unwrap();
        if let Some(spec) = q.strip_prefix("reducer ") {
            src = open_temp(&log, Settings { reducer: Some(spec.to_string()), ..Settings::default() });
            continue;
        }
        run_query(&src, q, &mut out);
    }
    expect_test::expect_file![dir.join(format!("{name}.out"))].assert_eq(&out);
    assert_eq!(before, std::fs::read(&log).unwrap(), "the source file must never change");

    // The same log compressed reads as the same events.
    let plain = all_events(&open_temp(&log, Settings::default()));
    let gz = tmp.path().join(format!("{name}.gz"));
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &before).unwrap();
    enc.finish().unwrap();
    std::fs::File::options().write(true).open(&gz).unwrap().set_modified(june_2024).unwrap();
    assert_eq!(plain, all_events(&open_temp(&gz, Settings::default())), "{name} read through gzip");
}

#[test]
fn entity() {
    check("entity");
}

#[test]
fn cloudtrail() {
    check("cloudtrail");
}

#[test]
fn patches() {
    check("patches");
}

#[test]
fn pretty() {
    check("pretty");
}

#[test]
fn times() {
    check("times");
}

#[test]
fn orders() {
    check("orders");
}

#[test]
fn services() {
    check("services");
}

#[test]
fn kube() {
    check("kube");
}

#[test]
fn syslog() {
    check("syslog");
}

#[test]
fn access() {
    check("access");
}

#[test]
fn glog() {
    check("glog");
}

#[test]
fn python() {
    check("python");
}

#[test]
fn java() {
    check("java");
}

#[test]
fn journald() {
    check("journald");
}

#[test]
fn otlp() {
    check("otlp");
}

#[test]
fn redux() {
    check("redux");
}

#[test]
fn debezium() {
    check("debezium");
}

#[test]
fn maxwell() {
    check("maxwell");
}

#[test]
fn canal() {
    check("canal");
}
