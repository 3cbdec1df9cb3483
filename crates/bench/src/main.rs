//! `hindsight-bench`: generates logs with a fixed seed, measures the engine
//! on them, prints one table and writes it as JSON to `target/bench.json`.
//!
//! `hindsight-bench run [--events N] [--samples K]` — the benchmark.
//! Text search is measured after the state figures: a page of 100 matches
//! from random points for needles from absent to everywhere, then every
//! match of one needle, with the text index built as the second pass.
//! `hindsight-bench gen-demo [OUT]` — rewrites the bundled demo log.
//! `hindsight-bench gen-orders N OUT` — writes the benchmark log alone.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{bail, Context};
use hindsight_bench::gen;
use hindsight_core::{BuildOptions, EventFilter, Location, OpenOptions, Source};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| -> Option<u64> {
        let i = args.iter().position(|a| a == name)?;
        args.get(i + 1)?.parse().ok()
    };
    match args.first().map(String::as_str) {
        Some("gen-demo") => {
            let out = args.get(1).map_or("demo/shop.jsonl", String::as_str);
            let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
            let facts = gen::write_demo(&mut f)?;
            f.flush()?;
            eprintln!("{out}: {} events; the bug is in {} at seq {}", facts.events, facts.bug_order, facts.bug_seq);
            Ok(())
        }
        Some("gen-orders") => {
            let n: u64 = args.get(1).and_then(|s| s.parse().ok()).context("give the number of events")?;
            let out = args.get(2).context("give the output path")?;
            let stats = write_orders(Path::new(out), n)?;
            eprintln!("{out}: {} events, {} bytes, {} live entities", stats.events, stats.bytes, stats.live_entities_at_end);
            Ok(())
        }
        Some("run") => run(flag("--events").unwrap_or(1_000_000), flag("--samples").unwrap_or(200) as usize),
        _ => bail!("usage: hindsight-bench run [--events N] [--samples K] | gen-demo [OUT] | gen-orders N OUT"),
    }
}

fn write_orders(path: &Path, events: u64) -> anyhow::Result<gen::OrdersStats> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let stats = gen::write_orders(&mut f, &gen::OrdersConfig { events, seed: 42 })?;
    f.flush()?;
    Ok(stats)
}

/// A tiny deterministic generator for sample points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(i).copied().unwrap_or(f64::NAN)
}

/// Peak resident set size of this process so far, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {mem:.0} GiB")
}

fn remove_index(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal", ".lock", ".bookmarks.json"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// Milliseconds from opening a file never indexed until its first 1,000
/// events can be read (listed, and the state after them computed) through
/// a second connection, as the app does; the build is then cancelled.
fn first_events_usable(log: &Path, db: &Path) -> anyhow::Result<f64> {
    remove_index(db);
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = OpenOptions {
        location: Location::Path(db.to_path_buf()),
        build: BuildOptions { share: true, cancel: Some(cancel.clone()) },
        ..OpenOptions::default()
    };
    let started = Instant::now();
    let mut usable = None;
    let mut failure = None;
    let opened = Source::open(&[log.to_path_buf()], &opts, &mut |p| {
        if usable.is_some() || failure.is_some() || p.usable < 1000 {
            return;
        }
        let read = || -> hindsight_core::Result<()> {
            let partial = Source::open_building(&[log.to_path_buf()], &opts)?;
            let mut listed = 0;
            partial.events(&EventFilter { limit: Some(1000), ..EventFilter::default() }, &mut |_| {
                listed += 1;
                true
            })?;
            std::hint::black_box((listed, partial.state(1000)?.len()));
            Ok(())
        };
        match read() {
            Ok(()) => usable = Some(ms(started.elapsed())),
            Err(e) => failure = Some(e),
        }
        cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    remove_index(db);
    if let Some(e) = failure {
        bail!("the first events could not be read while indexing: {e}");
    }
    match (usable, opened) {
        (Some(t), _) => Ok(t),
        // A log too small to commit early is usable when its build ends.
        (None, Ok(_)) => Ok(ms(started.elapsed())),
        (None, Err(e)) => Err(e.into()),
    }
}

/// Seconds lnav takes to load the same file (with a JSON format definition
/// written here) and count its lines through its SQL view; `None` when lnav
/// is not installed.
fn lnav_load(log: &Path, dir: &Path, events: u64) -> anyhow::Result<Option<f64>> {
    if std::process::Command::new("lnav").arg("-V").output().is_err() {
        eprintln!("lnav is not installed: its column is left out");
        return Ok(None);
    }
    let config = dir.join("lnav");
    let formats = config.join("formats").join("installed");
    std::fs::create_dir_all(&formats)?;
    std::fs::create_dir_all(config.join("home"))?;
    let format = json!({
        "$schema": "https://lnav.org/schemas/format-v1.schema.json",
        "hindsight_orders": {
            "title": "Hindsight benchmark orders",
            "description": "JSON Lines written by hindsight-bench",
            "json": true,
            "file-pattern": "orders-.*\\.jsonl$",
            "timestamp-field": "ts",
            "level-field": "level",
            "body-field": "type",
            "value": {
                "type": {"kind": "string", "identifier": true},
                "streamId": {"kind": "string", "identifier": true},
                "level": {"kind": "string"}
            }
        }
    });
    std::fs::write(formats.join("hindsight_orders.json"), serde_json::to_string_pretty(&format)?)?;
    let mut best = f64::INFINITY;
    for _ in 0..2 {
        let t = Instant::now();
        let out = std::process::Command::new("lnav")
            .env("HOME", config.join("home"))
            .args(["-n", "-I"])
            .arg(&config)
            .args(["-c", ";SELECT count(*) AS n FROM hindsight_orders"])
            .arg(log)
            .output()
            .context("lnav")?;
        let took = t.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&out.stdout);
        anyhow::ensure!(out.status.success() && text.contains(&events.to_string()), "lnav did not load the log: {text}");
        best = best.min(took);
    }
    Ok(Some(best))
}

fn run(events: u64, samples: usize) -> anyhow::Result<()> {
    let dir = PathBuf::from("target/bench-data");
    std::fs::create_dir_all(&dir)?;
    let log = dir.join(format!("orders-{events}.jsonl"));
    let db = dir.join(format!("orders-{events}.hsidx"));
    let t = Instant::now();
    let stats = write_orders(&log, events)?;
    eprintln!("generated {} ({} events, {:.1} MB) in {:.1} s", log.display(), stats.events, stats.bytes as f64 / 1e6, t.elapsed().as_secs_f64());
    let mb = stats.bytes as f64 / 1e6;

    // The read floor: wc -l on the same (cached) file.
    let _ = std::process::Command::new("wc").arg("-l").arg(&log).output();
    let t = Instant::now();
    let wc = std::process::Command::new("wc").arg("-l").arg(&log).output().context("wc -l")?;
    let wc_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(wc.status.success(), "wc -l failed");

    let first_usable = first_events_usable(&log, &dir.join(format!("orders-{events}-shared.hsidx")))?;
    let lnav_s = lnav_load(&log, &dir, events)?;

    // The median of three builds: one build's time on a shared machine
    // varies by a tenth either way.
    let opts = OpenOptions { location: Location::Path(db.clone()), ..OpenOptions::default() };
    let mut builds = vec![];
    for _ in 0..3 {
        remove_index(&db);
        let t = Instant::now();
        let src = Source::open(&[log.clone()], &opts, &mut |_| {})?;
        builds.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(src.count() == events, "indexed {} events, expected {events}", src.count());
    }
    builds.sort_by(f64::total_cmp);
    let index_s = builds[1];
    let rss_index = peak_rss_mib();
    let index_bytes = std::fs::metadata(&db)?.len();
    let mut checkpoint_bytes = 0u64;

    let mut reopen = vec![];
    let mut src = None;
    for _ in 0..5 {
        let t = Instant::now();
        let s = Source::open(&[log.clone()], &opts, &mut |_| {})?;
        reopen.push(ms(t.elapsed()));
        anyhow::ensure!(s.report().records_parsed == 0, "reopen parsed the file again");
        src = Some(s);
    }
    let src = src.context("opened")?;
    src.sql("SELECT coalesce(sum(length(data)), 0) AS b FROM checkpoints", &mut |row| {
        checkpoint_bytes = row.get("b").and_then(Value::as_u64).unwrap_or(0);
        true
    })?;

    let mut rng = Rng(7);
    let mut state_ms = vec![];
    for _ in 0..samples {
        let n = 1 + rng.below(events);
        let t = Instant::now();
        let st = src.state(n)?;
        state_ms.push(ms(t.elapsed()));
        std::hint::black_box(st.len());
    }

    // Stepping as the UI does: from a state it holds, the next state and the diff.
    // A drag to the right: jumps of a hundredth of the log, each from the
    // state the last one left.
    let mut forward_ms = vec![];
    let stride = (events / 100).max(1);
    let mut at = 1 + rng.below(events / 4);
    while at + stride <= events && forward_ms.len() < 60 {
        at += stride;
        let t = Instant::now();
        std::hint::black_box(src.state(at)?.len());
        forward_ms.push(ms(t.elapsed()));
    }

    let mut step_ms = vec![];
    let mut adjacent_ms = vec![];
    for _ in 0..samples {
        let n = 1 + rng.below(events - 1);
        src.state(n)?;
        let t = Instant::now();
        let next = src.state(n + 1)?;
        let d = src.diff(n, n + 1)?;
        step_ms.push(ms(t.elapsed()));
        std::hint::black_box((next.len(), d.len()));
        let t = Instant::now();
        std::hint::black_box(src.diff(n, n + 1)?.len());
        adjacent_ms.push(ms(t.elapsed()));
    }

    let mut distant_ms = vec![];
    let gap = events / 2;
    for _ in 0..5 {
        let a = 1 + rng.below(events - gap);
        let fresh = Source::open(&[log.clone()], &opts, &mut |_| {})?;
        let t = Instant::now();
        std::hint::black_box(fresh.diff(a, a + gap)?.len());
        distant_ms.push(ms(t.elapsed()));
    }

    // The timeline's histogram: the whole log, and zoomed to a fiftieth of it.
    let whole = src.histogram(600, None)?;
    let (t0, t1) = (whole.start, whole.end);
    let mut histogram_ms = vec![];
    let mut zoomed_ms = vec![];
    for k in 0..5i64 {
        let t = Instant::now();
        std::hint::black_box(src.histogram(600, None)?.bins.len());
        histogram_ms.push(ms(t.elapsed()));
        let width = (t1 - t0) / 50;
        let from = t0 + (t1 - t0) / 5 * k;
        let t = Instant::now();
        std::hint::black_box(src.histogram(600, Some((from, from + width)))?.bins.len());
        zoomed_ms.push(ms(t.elapsed()));
    }

    // Blame of one entity's field, before the second pass (a scan of every
    // event) and after it (through the key index).
    let blame_keys: Vec<String> = (0..5).map(|_| src.event(1 + rng.below(events)).map(|e| e.key.unwrap_or_default())).collect::<Result<_, _>>()?;
    let blame = |src: &Source| -> anyhow::Result<Vec<f64>> {
        let mut times = vec![];
        for key in &blame_keys {
            let t = Instant::now();
            std::hint::black_box(src.blame(&format!("/{key}/status"))?.len());
            times.push(ms(t.elapsed()));
        }
        Ok(times)
    };
    let mut blame_scan_ms = blame(&src)?;

    // Text search: needles from absent to everywhere, as the UI's list asks
    // (a page of 100 from some point), first by scanning, then through the
    // text index built as the second pass.
    let key = src.event(1 + events / 3)?.key.unwrap_or_default();
    let needles = ["no-such-text".to_string(), format!("{key}\""), "PaymentDeclined".into(), "RefundIssued".into(), "StockAdjusted".into(), "2024-03-04".into()];
    let page = |src: &Source, needle: &str, from: u64| -> anyhow::Result<f64> {
        let filter = EventFilter { search: Some(needle.to_string()), from: Some(from), limit: Some(100), ..EventFilter::default() };
        let t = Instant::now();
        let mut n = 0;
        src.events(&filter, &mut |e| {
            n += std::hint::black_box(e.seq) & 1;
            true
        })?;
        Ok(ms(t.elapsed()))
    };
    let scan_ms = page(&src, &needles[0], 1)?;
    let t = Instant::now();
    src.build_text_index(&mut |_, _| true)?;
    let text_index_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(src.search_ready(), "the text index does not cover every event");
    let text_index_bytes = std::fs::metadata(&db)?.len().saturating_sub(index_bytes);
    let mut search_ms = vec![];
    for needle in &needles {
        for _ in 0..10 {
            search_ms.push(page(&src, needle, 1 + rng.below(events))?);
        }
    }
    let mut blame_ms = blame(&src)?;
    let count_filter = EventFilter { search: Some("RefundIssued".into()), ..EventFilter::default() };
    let t = Instant::now();
    let counted = src.matching(&count_filter)?.map_or(0, |seqs| seqs.len());
    let count_ms = ms(t.elapsed());
    let rss_total = peak_rss_mib();

    let figures = json!({
        "machine": machine(),
        "events": events,
        "source_mb": mb,
        "live_entities": stats.live_entities_at_end,
        "wc_l_seconds": wc_s,
        "index_seconds": index_s,
        "index_runs_seconds": builds,
        "index_mb_per_s": mb / index_s,
        "index_events_per_s": events as f64 / index_s,
        "index_vs_wc_l": index_s / wc_s,
        "reopen_ms_median": percentile(&mut reopen, 0.5),
        "state_ms_p50": percentile(&mut state_ms, 0.5),
        "state_ms_p99": percentile(&mut state_ms, 0.99),
        "step_ms_p50": percentile(&mut step_ms, 0.5),
        "step_ms_p99": percentile(&mut step_ms, 0.99),
        "adjacent_diff_ms_p50": percentile(&mut adjacent_ms, 0.5),
        "adjacent_diff_ms_p99": percentile(&mut adjacent_ms, 0.99),
        "distant_diff_ms_median": percentile(&mut distant_ms, 0.5),
        "distant_diff_gap": gap,
        "forward_jump_ms_p50": percentile(&mut forward_ms, 0.5),
        "forward_jump_ms_p99": percentile(&mut forward_ms, 0.99),
        "histogram_ms_median": percentile(&mut histogram_ms, 0.5),
        "histogram_zoomed_ms_median": percentile(&mut zoomed_ms, 0.5),
        "blame_ms_median": percentile(&mut blame_ms, 0.5),
        "blame_without_key_index_ms_median": percentile(&mut blame_scan_ms, 0.5),
        "first_1000_events_usable_ms": first_usable,
        "lnav_seconds": lnav_s,
        "index_vs_lnav": lnav_s.map(|l| l / index_s),
        "index_mb_on_disk": index_bytes as f64 / 1e6,
        "checkpoints_mb": checkpoint_bytes as f64 / 1e6,
        "text_index_seconds": text_index_s,
        "text_index_mb": text_index_bytes as f64 / 1e6,
        "search_scan_ms": scan_ms,
        "search_ms_p50": percentile(&mut search_ms, 0.5),
        "search_ms_p99": percentile(&mut search_ms, 0.99),
        "search_needles": needles,
        "search_count_ms": count_ms,
        "search_count_matches": counted,
        "peak_rss_mib_indexing": rss_index,
        "peak_rss_mib_total": rss_total,
    });
    let f = |k: &str| figures[k].as_f64().unwrap_or(f64::NAN);
    println!("Hindsight benchmark — {} events, {:.0} MB JSON Lines, {} live entities", events, mb, stats.live_entities_at_end);
    println!("machine: {}", figures["machine"].as_str().unwrap_or(""));
    println!("{:<44} {:>12}", "figure", "measured");
    let lnav_row = match lnav_s {
        Some(l) => format!("{l:.2} s (Hindsight {:.2}× as fast)", l / index_s),
        None => "not installed".to_string(),
    };
    let rows: [(&str, String); 22] = [
        ("wc -l (read floor)", format!("{:.2} s", f("wc_l_seconds"))),
        ("index: time (ratio to wc -l)", format!("{:.2} s ({:.1}×)", f("index_seconds"), f("index_vs_wc_l"))),
        ("index: throughput", format!("{:.0} MB/s, {:.0} ev/s", f("index_mb_per_s"), f("index_events_per_s"))),
        ("lnav: load of the same file", lnav_row),
        ("first 1,000 events usable (shared build)", format!("{:.0} ms", f("first_1000_events_usable_ms"))),
        ("reopen (median of 5)", format!("{:.1} ms", f("reopen_ms_median"))),
        ("state(n) random n, p50 / p99", format!("{:.1} / {:.1} ms", f("state_ms_p50"), f("state_ms_p99"))),
        ("step +1 (state + diff), p50 / p99", format!("{:.2} / {:.2} ms", f("step_ms_p50"), f("step_ms_p99"))),
        ("adjacent diff, p50 / p99", format!("{:.2} / {:.2} ms", f("adjacent_diff_ms_p50"), f("adjacent_diff_ms_p99"))),
        ("distant diff (gap N/2), median", format!("{:.0} ms", f("distant_diff_ms_median"))),
        ("state(n) jumping forward by N/100, p50 / p99", format!("{:.1} / {:.1} ms", f("forward_jump_ms_p50"), f("forward_jump_ms_p99"))),
        ("timeline histogram, 600 bars: whole / a fiftieth", format!("{:.1} / {:.1} ms", f("histogram_ms_median"), f("histogram_zoomed_ms_median"))),
        ("blame /KEY/status, median (key index)", format!("{:.1} ms", f("blame_ms_median"))),
        ("  before the second pass (scan)", format!("{:.1} ms", f("blame_without_key_index_ms_median"))),
        ("index size on disk", format!("{:.0} MB ({:.2}× source)", f("index_mb_on_disk"), f("index_mb_on_disk") / mb)),
        ("  of which checkpoints", format!("{:.0} MB", f("checkpoints_mb"))),
        ("text index: build (second pass), size", format!("{:.1} s, {:.0} MB", f("text_index_seconds"), f("text_index_mb"))),
        ("text search, page of 100, p50 / p99", format!("{:.1} / {:.1} ms", f("search_ms_p50"), f("search_ms_p99"))),
        ("text search, every match of RefundIssued", format!("{:.0} ms ({} matches)", f("search_count_ms"), counted)),
        ("text search without the text index (absent)", format!("{:.0} ms", f("search_scan_ms"))),
        ("peak RSS while indexing", format!("{:.0} MiB", f("peak_rss_mib_indexing"))),
        ("peak RSS overall", format!("{:.0} MiB", f("peak_rss_mib_total"))),
    ];
    for (name, value) in rows {
        println!("{name:<44} {value:>24}");
    }
    std::fs::write("target/bench.json", serde_json::to_string_pretty(&figures)?)?;
    eprintln!("wrote target/bench.json");
    Ok(())
}
