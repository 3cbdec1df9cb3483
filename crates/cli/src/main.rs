//! `hindsight`: every answer of the engine as JSON, for people and scripts.
//!
//! Glue only: parse arguments, open the source through hindsight-core, print
//! what it returns. Output is compact JSON Lines for streams and one JSON
//! value otherwise (`--pretty` indents); errors are one sentence on stderr;
//! exit codes are 0 (success), 1 (failure) and 2 (usage).

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use hindsight_core::index::Progress;
use hindsight_core::{time, EventFilter, Location, OpenOptions, Settings, Source};
use serde::Serialize;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "hindsight", version, about = "Time-travel debugger for event logs: state at any point, diffs, blame and find, as JSON.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Index the files (or reuse their index) and summarise them; then build
    /// the second pass: the text index that makes `events --search` fast and
    /// the index by key that blame and `entity` read.
    Index {
        #[command(flatten)]
        common: Common,
        /// Skip the second pass: searches then read every record, and an
        /// entity's blame scans every event.
        #[arg(long)]
        no_text_index: bool,
    },
    /// The summary plus types, keys, levels and the fields chosen for each slot.
    Info(Common),
    /// Events as JSON Lines, optionally filtered.
    Events {
        #[command(flatten)]
        common: Common,
        /// First seq to print.
        #[arg(long)]
        from: Option<u64>,
        /// Print at most this many events.
        #[arg(long)]
        limit: Option<u64>,
        /// Only events of this type.
        #[arg(long = "type")]
        ty: Option<String>,
        /// Only events of this key (entity).
        #[arg(long)]
        key: Option<String>,
        /// Only events of this level (trace, debug, info, warn, error, fatal).
        #[arg(long)]
        level: Option<String>,
        /// Only events whose record contains this text (case-insensitive).
        #[arg(long)]
        search: Option<String>,
        /// Only events at or after this time.
        #[arg(long)]
        since: Option<String>,
        /// Only events at or before this time.
        #[arg(long)]
        until: Option<String>,
        /// Keep printing events as the file grows, until interrupted. A file
        /// that is truncated or replaced (log rotation) is read again from its
        /// start, with a notice on stderr.
        #[arg(long, conflicts_with = "limit")]
        follow: bool,
    },
    /// Parse errors as JSON Lines.
    Errors(Common),
    /// The state after an event (or at a time), or the value at a path in it.
    State {
        #[command(flatten)]
        common: Common,
        /// The state after event N (0: before the first event).
        #[arg(long, conflicts_with = "at_time", required_unless_present = "at_time")]
        at: Option<u64>,
        /// The state after the last event at or before this time.
        #[arg(long = "at-time")]
        at_time: Option<String>,
        /// A JSON Pointer into the state.
        #[arg(long)]
        path: Option<String>,
    },
    /// RFC 6902 operations turning the state after A into the state after B.
    Diff {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: u64,
    },
    /// Every event that changed the value at a JSON Pointer, with old and new values.
    Blame {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        path: String,
    },
    /// One entity's timeline: its events and every event that changed it,
    /// each with the change (created, updated, deleted, unchanged) and the
    /// entity after it, and its lifetimes.
    Entity {
        #[command(flatten)]
        common: Common,
        /// The entity's key (its name in the state).
        #[arg(long)]
        key: String,
    },
    /// The first event at which a jq predicate over the state turns true.
    Find {
        #[command(flatten)]
        common: Common,
        /// A jq expression over the state (`.`); `$event` is the event.
        #[arg(long = "where")]
        expr: String,
        /// Every event at which it turns true, not only the first.
        #[arg(long)]
        all: bool,
    },
    /// Bookmarks with notes: `bookmarks FILE… add SEQ NOTE [--tags a,b]`, `bookmarks FILE… list`,
    /// `bookmarks FILE… remove ID`.
    Bookmarks {
        #[command(flatten)]
        opts: Overrides,
        /// Comma-separated tags for `add`.
        #[arg(long)]
        tags: Option<String>,
        /// The files, then the action and its arguments.
        #[arg(required = true, num_args = 1.., value_name = "FILE… ACTION")]
        args: Vec<String>,
    },
    /// Write the audit report (one self-contained HTML file) of the files and their bookmarks; prints its path.
    Report {
        #[command(flatten)]
        common: Common,
        /// Where to write the report.
        #[arg(long, value_name = "REPORT.html")]
        out: PathBuf,
        /// The report's title.
        #[arg(long)]
        title: Option<String>,
    },
    /// Check a report against the files: exit 0 when their hashes and every bookmarked state still match.
    Verify {
        /// The report written by `hindsight report`.
        #[arg(value_name = "REPORT.html")]
        report: PathBuf,
        /// The files it was made from.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Where to keep the index (default: the user's cache directory).
        #[arg(long, value_name = "PATH")]
        index: Option<PathBuf>,
        /// Use a temporary index, removed on exit.
        #[arg(long, conflicts_with = "index")]
        no_cache: bool,
    },
    /// Open the desktop app on the files.
    App {
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Run a read-only SQL query over the index: `hindsight sql FILE "SELECT …"`.
    Sql {
        #[command(flatten)]
        opts: Overrides,
        /// The files, then the query.
        #[arg(required = true, num_args = 2.., value_name = "FILE… QUERY")]
        args: Vec<String>,
    },
}

#[derive(Args)]
struct Common {
    /// The log files; several are merged into one timeline by time.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    opts: Overrides,
}

#[derive(Args, Clone)]
struct Overrides {
    /// Where to keep the index (default: the user's cache directory).
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    /// Use a temporary index, removed on exit.
    #[arg(long, conflicts_with = "index")]
    no_cache: bool,
    /// Indent JSON output.
    #[arg(long)]
    pretty: bool,
    /// The format instead of detecting it: json-lines, json-document, json-concatenated, csv (or tsv),
    /// logfmt, syslog, access-log, glog, or text (`TIMESTAMP LEVEL message` lines).
    #[arg(long)]
    format: Option<String>,
    /// The reducer: entity, merge-patch, json-patch, snapshot, cdc or jq:EXPR.
    #[arg(long)]
    reducer: Option<String>,
    /// Field (name or JSON Pointer) holding the time; "" for none.
    #[arg(long)]
    time_field: Option<String>,
    /// Field holding the event type; "" for none.
    #[arg(long)]
    type_field: Option<String>,
    /// Field holding the entity key; "" for none.
    #[arg(long)]
    key_field: Option<String>,
    /// Field holding the payload; "" for the record without the other fields.
    #[arg(long)]
    payload_field: Option<String>,
    /// Field holding the level; "" for none.
    #[arg(long)]
    level_field: Option<String>,
}

impl Overrides {
    fn open(&self, files: &[PathBuf]) -> anyhow::Result<Source> {
        self.open_at(files, None)
    }

    /// Opens with the index at `place` instead of where the flags say.
    fn open_at(&self, files: &[PathBuf], place: Option<&std::path::Path>) -> anyhow::Result<Source> {
        let mut settings = Settings { format: self.format.clone(), reducer: self.reducer.clone(), ..Settings::default() };
        settings.fields.ts = self.time_field.clone();
        settings.fields.ty = self.type_field.clone();
        settings.fields.key = self.key_field.clone();
        settings.fields.payload = self.payload_field.clone();
        settings.fields.level = self.level_field.clone();
        let location = match (place, &self.index, self.no_cache) {
            (Some(p), ..) => Location::Path(p.to_path_buf()),
            (None, Some(p), _) => Location::Path(p.clone()),
            (None, None, true) => Location::Temp,
            (None, None, false) => Location::Cache,
        };
        let opts = OpenOptions { settings, location, ..OpenOptions::default() };
        let mut bar = ProgressBar::new();
        let source = Source::open(files, &opts, &mut |p| bar.show(p));
        bar.clear();
        Ok(source?)
    }
}

/// A one-line progress display on stderr, drawn only when it is a terminal.
struct ProgressBar {
    on: bool,
    drawn: bool,
}

impl ProgressBar {
    fn new() -> Self {
        ProgressBar { on: io::stderr().is_terminal(), drawn: false }
    }

    fn show(&mut self, p: Progress) {
        if !self.on {
            return;
        }
        let pct = if p.total_bytes > 0 { p.bytes as f64 * 100.0 / p.total_bytes as f64 } else { 0.0 };
        let rate = if p.elapsed > 0.0 { p.events as f64 / p.elapsed } else { 0.0 };
        let what = if p.pass == 1 { "indexing" } else { "placing checkpoints" };
        let eta = if pct > 0.0 && p.pass == 1 { format!(", about {:.0} s left", p.elapsed * (100.0 - pct) / pct) } else { String::new() };
        eprint!("\r\x1b[2K{what}: {pct:5.1}% · {} events · {rate:.0} events/s{eta}", p.events);
        self.drawn = true;
    }

    fn show_text_index(&mut self, done: u64, total: u64, elapsed: f64) {
        if !self.on {
            return;
        }
        let pct = if total > 0 { done as f64 * 100.0 / total as f64 } else { 100.0 };
        eprint!("\r\x1b[2Ktext index: {pct:5.1}% · {done} of {total} events · {elapsed:.0} s");
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
        }
    }
}

struct Out {
    w: io::BufWriter<io::StdoutLock<'static>>,
    pretty: bool,
}

impl Out {
    fn value<T: Serialize>(&mut self, v: &T) -> io::Result<()> {
        if self.pretty {
            serde_json::to_writer_pretty(&mut self.w, v)?;
        } else {
            serde_json::to_writer(&mut self.w, v)?;
        }
        self.w.write_all(b"\n")
    }

    /// One line of a JSON Lines stream (always compact).
    fn line<T: Serialize>(&mut self, v: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, v)?;
        self.w.write_all(b"\n")
    }
}

fn parse_time(s: &str) -> anyhow::Result<time::Timestamp> {
    time::parse_user_time(s).with_context(|| format!("`{s}` is not a time; use RFC 3339 like 2024-01-05T10:00:00Z, a date, or epoch seconds"))
}

/// How often `events --follow` looks at the files.
const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// Prints the events that arrive after `src`'s last one, for ever: each
/// look reopens the index, which reads only what was appended (or the whole
/// file again when it was truncated or replaced).
fn follow_events(common: &Common, place: Option<&std::path::Path>, mut src: Source, filter: &mut EventFilter, out: &mut Out) -> anyhow::Result<()> {
    let asked_from = filter.from.unwrap_or(1);
    loop {
        std::thread::sleep(FOLLOW_POLL);
        let before = src.count();
        drop(src);
        src = common.opts.open_at(&common.files, place)?;
        let action = src.report().action.clone();
        let first_new = if action == "reused" {
            continue;
        } else if action == "appended" && src.count() >= before {
            before + 1
        } else {
            let _ = writeln!(io::stderr(), "hindsight: {}: {action}; following it from its first event", common.files[0].display());
            1
        };
        filter.from = Some(first_new.max(asked_from));
        let mut written: io::Result<()> = Ok(());
        src.events(filter, &mut |e| {
            written = out.line(&e);
            written.is_ok()
        })?;
        written?;
        out.w.flush()?;
    }
}

enum BookmarkAction {
    List,
    Add { seq: u64, note: String },
    Remove { id: i64 },
}

/// Takes the action off the end of `FILE… ACTION ARGS…`, leaving the files.
fn bookmark_action(args: &mut Vec<String>) -> anyhow::Result<BookmarkAction> {
    let n = args.len();
    let word = |back: usize| if n > back { args.get(n - 1 - back).map(String::as_str) } else { None };
    let action = if word(0) == Some("list") {
        args.truncate(n - 1);
        BookmarkAction::List
    } else if word(1) == Some("remove") {
        let id = args[n - 1].parse().with_context(|| format!("`{}` is not a bookmark id; `list` shows the ids", args[n - 1]))?;
        args.truncate(n - 2);
        BookmarkAction::Remove { id }
    } else if word(2) == Some("add") {
        let seq = args[n - 2].parse().with_context(|| format!("`{}` is not an event number (seq)", args[n - 2]))?;
        let note = args[n - 1].clone();
        args.truncate(n - 3);
        BookmarkAction::Add { seq, note }
    } else {
        bail!("give an action after the files: `add SEQ NOTE`, `list` or `remove ID`");
    };
    if args.is_empty() {
        bail!("give the log files before the action");
    }
    Ok(action)
}

/// `hindsight-app` beside this executable, else on PATH.
fn app_binary() -> Option<PathBuf> {
    let name = format!("hindsight-app{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe().ok()?.with_file_name(&name);
    if beside.is_file() {
        return Some(beside);
    }
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(&name)).find(|p| p.is_file()))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut out = Out { w: io::BufWriter::new(io::stdout().lock()), pretty: false };
    let mut io_result: io::Result<()> = Ok(());
    match cli.command {
        Command::Index { common: c, no_text_index } => {
            out.pretty = c.opts.pretty;
            let src = c.opts.open(&c.files)?;
            let summary = src.summary()?;
            if no_text_index {
                out.value(&summary)?;
            } else {
                let started = std::time::Instant::now();
                let mut bar = ProgressBar::new();
                let built = src.build_text_index(&mut |done, total| {
                    bar.show_text_index(done, total, started.elapsed().as_secs_f64());
                    true
                });
                bar.clear();
                built?;
                let mut value = serde_json::to_value(&summary)?;
                if let Some(obj) = value.as_object_mut() {
                    let seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
                    obj.insert("text_index_seconds".into(), seconds.into());
                }
                out.value(&value)?;
            }
        }
        Command::Info(c) => {
            out.pretty = c.opts.pretty;
            let src = c.opts.open(&c.files)?;
            out.value(&src.info()?)?;
        }
        Command::Events { common, from, limit, ty, key, level, search, since, until, follow } => {
            // Following needs an index that lasts between looks, even with
            // --no-cache: a temporary folder kept until the command ends.
            let kept = if follow && common.opts.no_cache { Some(tempfile::tempdir()?) } else { None };
            let place = kept.as_ref().map(|d| d.path().join("index.hsidx"));
            let src = common.opts.open_at(&common.files, place.as_deref())?;
            let mut filter = EventFilter {
                from,
                limit,
                ty,
                key,
                level,
                search,
                since: since.as_deref().map(parse_time).transpose()?,
                until: until.as_deref().map(parse_time).transpose()?,
            };
            src.events(&filter, &mut |e| {
                io_result = out.line(&e);
                io_result.is_ok()
            })?;
            if follow {
                std::mem::replace(&mut io_result, Ok(()))?;
                out.w.flush()?;
                follow_events(&common, place.as_deref(), src, &mut filter, &mut out)?;
            }
        }
        Command::Errors(c) => {
            let src = c.opts.open(&c.files)?;
            for e in src.errors()? {
                out.line(&e)?;
            }
        }
        Command::State { common, at, at_time, path } => {
            out.pretty = common.opts.pretty;
            let src = common.opts.open(&common.files)?;
            let n = match (at, at_time) {
                (Some(n), _) => n,
                (None, Some(t)) => src.state_at(parse_time(&t)?)?.0,
                (None, None) => bail!("give --at N or --at-time TS"),
            };
            match path {
                Some(p) => out.value(&src.value_at(n, &p)?)?,
                None if out.pretty => out.value(&src.state(n)?.to_value())?,
                None => {
                    src.state(n)?.write_json(&mut out.w)?;
                    out.w.write_all(b"\n")?;
                }
            }
        }
        Command::Diff { common, from, to } => {
            out.pretty = common.opts.pretty;
            let src = common.opts.open(&common.files)?;
            out.value(&src.diff(from, to)?)?;
        }
        Command::Blame { common, path } => {
            let src = common.opts.open(&common.files)?;
            for entry in src.blame(&path)? {
                out.line(&entry)?;
            }
        }
        Command::Entity { common, key } => {
            let src = common.opts.open(&common.files)?;
            out.value(&src.entity_history(&key)?)?;
        }
        Command::Find { common, expr, all } => {
            let src = common.opts.open(&common.files)?;
            for hit in src.find(&expr, all)? {
                out.line(&hit)?;
            }
        }
        Command::Bookmarks { opts, tags, mut args } => {
            let action = bookmark_action(&mut args)?;
            let files: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
            let src = opts.open(&files)?;
            match action {
                BookmarkAction::List => {
                    for b in src.bookmarks()? {
                        out.line(&b)?;
                    }
                }
                BookmarkAction::Add { seq, note } => {
                    let tags = tags.as_deref().map(hindsight_core::bookmarks::parse_tags).unwrap_or_default();
                    out.line(&src.add_bookmark(seq, &note, tags)?)?;
                }
                BookmarkAction::Remove { id } => {
                    out.line(&src.remove_bookmark(id)?)?;
                }
            }
        }
        Command::Report { common, out: path, title } => {
            let src = common.opts.open(&common.files)?;
            let names: Vec<String> =
                common.files.iter().map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect();
            let title = title.unwrap_or_else(|| format!("Hindsight audit report: {}", names.join(", ")));
            let report = hindsight_core::audit::build(&src, &title, env!("CARGO_PKG_VERSION"))?;
            let html = hindsight_core::report::render_html(&report);
            std::fs::write(&path, html).with_context(|| format!("{}: the report could not be written", path.display()))?;
            out.value(&path.display().to_string())?;
        }
        Command::Verify { report, files, index, no_cache } => {
            let html = std::fs::read(&report).with_context(|| format!("{}: the report could not be read", report.display()))?;
            let facts = hindsight_core::report::extract_facts(&String::from_utf8_lossy(&html))
                .map_err(|e| anyhow::anyhow!("{}: {e}", report.display()))?;
            let mut differences = hindsight_core::audit::check_files(&facts, &files)?;
            if differences.is_empty() {
                let location = match (index, no_cache) {
                    (Some(p), _) => Location::Path(p),
                    (None, true) => Location::Temp,
                    (None, false) => Location::Cache,
                };
                let opts = OpenOptions { settings: hindsight_core::audit::settings_of(&facts), location, ..OpenOptions::default() };
                let src = Source::open(&files, &opts, &mut |_| {})?;
                differences.extend(hindsight_core::audit::check_states(&facts, &src)?);
            }
            let verdict = serde_json::json!({
                "ok": differences.is_empty(),
                "report": report.display().to_string(),
                "generated": facts.generated,
                "files": facts.sources.len(),
                "bookmarks": facts.bookmarks.len(),
                "differences": differences,
            });
            out.value(&verdict)?;
            if !differences.is_empty() {
                out.w.flush()?;
                bail!("{}: the report no longer matches: {}", report.display(), differences.join("; "));
            }
        }
        Command::App { files } => {
            for f in &files {
                if !f.exists() {
                    bail!("{}: no such file; check the path", f.display());
                }
            }
            let app = app_binary().context("the desktop app `hindsight-app` was not found next to `hindsight` or on PATH; build it with `make app`")?;
            std::process::Command::new(&app)
                .args(&files)
                .spawn()
                .with_context(|| format!("{} could not be started", app.display()))?;
        }
        Command::Sql { opts, mut args } => {
            let query = args.pop().unwrap_or_default();
            let files: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
            let src = opts.open(&files)?;
            src.sql(&query, &mut |row| {
                io_result = out.line(&row);
                io_result.is_ok()
            })?;
        }
    }
    io_result?;
    out.w.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`hindsight events … | head`) is not a failure.
            if e.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(io::stderr(), "hindsight: {e}");
            ExitCode::from(1)
        }
    }
}
