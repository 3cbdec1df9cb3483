//! Tauri commands: plain functions over hindsight-core. Each one takes the
//! open source from the app state, asks the engine, and maps the answer (or
//! the error) into the IPC types. Work runs off the UI thread.

use crate::ipc::*;
use crate::settings::Remembered;
use hindsight_core::browse;
use hindsight_core::{time, EventFilter, Location, OpenOptions, Settings, Source};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tauri::ipc::Channel;

/// What the window has open.
#[derive(Default)]
pub struct AppState {
    pub source: Mutex<Option<Opened>>,
    /// Files given on the command line, opened when the window starts.
    pub initial: Mutex<Vec<String>>,
    pub remembered: Mutex<Remembered>,
    /// Watches the open files for live tail; replaced on each open.
    pub watcher: Mutex<Option<crate::watch::Watcher>>,
    /// Stops the indexing run of the last open, when another open starts.
    pub cancel_build: Mutex<Option<Arc<AtomicBool>>>,
    /// Stops the text index being built in the background.
    pub stop_text_index: Mutex<Option<Arc<AtomicBool>>>,
}

/// The event that says how far the text index is built.
pub const TEXT_INDEX: &str = "text-index";

/// Stops the text index being built, if one is (before the index is
/// extended or another file set is opened).
fn stop_text_index(state: &AppState) {
    if let Some(stop) = state.stop_text_index.lock().ok().and_then(|mut s| s.take()) {
        stop.store(true, Ordering::Relaxed);
    }
}

/// Builds the text index of the open (complete) source on a thread of low
/// priority, after the main index: searches are exact without it, only
/// slower. The window hears how far it got as `text-index`.
fn start_text_index<R: tauri::Runtime>(app: &tauri::AppHandle<R>, o: &Opened) {
    use tauri::{Emitter, Manager};
    let state = app.state::<AppState>();
    stop_text_index(&state);
    let stop = Arc::new(AtomicBool::new(false));
    if let Ok(mut s) = state.stop_text_index.lock() {
        *s = Some(stop.clone());
    }
    let Ok(Ok(mut indexer)) = o.source.lock().map(|src| hindsight_core::TextIndexer::new(&src)) else {
        return;
    };
    let (app, files) = (app.clone(), o.paths.clone());
    std::thread::spawn(move || {
        yield_to_the_window();
        let emit = |covered: u64, total: u64| {
            let _ = app.emit(TEXT_INDEX, TextIndexProgress { files: files.clone(), covered, total });
        };
        // A failure (the index was replaced by a rebuild) leaves searches scanning; the next open starts again.
        if let Ok(status) = indexer.run(&mut |covered, total| {
            emit(covered, total);
            !stop.load(Ordering::Relaxed)
        }) {
            emit(status.covered, status.total);
        }
    });
}

#[derive(Clone)]
pub struct Opened {
    pub source: Arc<Mutex<Source>>,
    pub paths: Vec<String>,
    /// The last list filter and the seqs passing it (`None`: all events).
    pub filtered: Arc<Mutex<Option<(ListFilter, Option<Vec<u64>>)>>>,
    /// What the files were opened with, to open them again as they grow.
    pub settings: Settings,
    /// True while the index is still being built: `source` then reads the
    /// events committed so far and is replaced as more are.
    pub building: Arc<AtomicBool>,
}

type Res<T> = Result<T, IpcError>;

fn opened(state: &AppState) -> Res<Opened> {
    state
        .source
        .lock()
        .map_err(|_| IpcError::new("state", "the app's state is unavailable; reopen the file"))?
        .clone()
        .ok_or_else(|| IpcError::new("no-source", "no log is open; drop a file on the window or press Ctrl+O"))
}

/// Runs engine work on a blocking thread with the source locked.
async fn with_source<T: Send + 'static>(opened: Opened, f: impl FnOnce(&Source) -> Res<T> + Send + 'static) -> Res<T> {
    tauri::async_runtime::spawn_blocking(move || {
        let source = opened.source.lock().map_err(|_| IpcError::new("state", "an earlier request failed; reopen the file"))?;
        f(&source)
    })
    .await
    .map_err(|e| IpcError::new("internal", format!("the request stopped unexpectedly ({e})")))?
}

fn n(v: u64) -> u64 {
    v
}

fn seq_arg(v: f64) -> Res<u64> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 {
        Ok(v as u64)
    } else {
        Err(IpcError::new("query", format!("{v} is not an event number")))
    }
}

fn to_filter(f: &ListFilter) -> Res<EventFilter> {
    let time_of = |s: &Option<String>| -> Res<Option<time::Timestamp>> {
        match s.as_deref().filter(|s| !s.trim().is_empty()) {
            None => Ok(None),
            Some(text) => time::parse_user_time(text)
                .map(Some)
                .ok_or_else(|| IpcError::new("query", format!("`{text}` is not a time; use a form like 2024-01-05T10:00:00Z"))),
        }
    };
    let text = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    Ok(EventFilter {
        ty: text(&f.ty),
        key: text(&f.key),
        level: text(&f.level),
        search: text(&f.text),
        since: time_of(&f.since)?,
        until: time_of(&f.until)?,
        ..EventFilter::default()
    })
}

fn source_info(src: &Source, paths: &[String]) -> Res<SourceInfo> {
    let info = src.info()?;
    let fields = &src.config().fields;
    let shown = |f: &Option<hindsight_core::fields::FieldRef>| f.as_ref().map(|f| f.display());
    Ok(SourceInfo {
        files: paths.to_vec(),
        format: info.summary.format,
        reducer: info.summary.reducer,
        events: n(info.summary.events),
        errors: n(info.summary.errors),
        marked: n(info.marked),
        first_ts: info.summary.first_ts,
        last_ts: info.summary.last_ts,
        fields: FieldChoice {
            ts: shown(&fields.ts),
            ty: shown(&fields.ty),
            key: shown(&fields.key),
            level: shown(&fields.level),
            payload: shown(&fields.payload),
        },
        types: info.types.into_iter().map(|(name, c)| NameCount { name, count: n(c) }).collect(),
        levels: info.levels.into_iter().map(|(name, c)| NameCount { name, count: n(c) }).collect(),
        keys: n(info.keys),
        index_seconds: info.summary.seconds,
        notes: info.field_notes,
        session: None,
        indexing: src.building(),
    })
}

fn detail(e: hindsight_core::Event) -> EventDetail {
    EventDetail {
        seq: n(e.seq),
        line: n(e.line),
        ts: e.ts,
        ty: e.ty,
        key: e.key,
        level: e.level.map(str::to_string),
        payload: e.payload,
        raw: e.raw,
        mark: e.mark,
        lossy: e.lossy,
    }
}

fn tree(t: browse::TreeNode) -> TreeNode {
    TreeNode {
        path: t.path,
        kind: t.kind.to_string(),
        size: n(t.size),
        offset: n(t.offset),
        children: t
            .children
            .into_iter()
            .map(|c| TreeChild { key: c.key, path: c.path, kind: c.kind.to_string(), size: n(c.size), preview: c.preview })
            .collect(),
    }
}

fn changes(list: Vec<browse::Change>) -> Vec<Change> {
    list.into_iter().map(|c| Change { op: c.op.to_string(), path: c.path, old: c.old, new: c.new }).collect()
}

/// How often a build being read is looked at again for the events it
/// committed since.
const SWAP_EVERY: std::time::Duration = std::time::Duration::from_millis(300);

/// Files smaller than this are indexed before they are shown (in well under
/// a second): showing them early would only make the counts flicker.
const SHOW_EARLY_ABOVE_BYTES: u64 = 8 << 20;

/// What the indexing thread hands to `open`: the source to show first.
type FirstShown = Res<(Opened, SourceInfo)>;

/// Opens files (indexing them as needed), streaming progress, and makes
/// them the window's source. A large file is shown as soon as its first
/// events are committed: `open` answers then (`indexing: true`), the
/// shown source is replaced as more events are committed, and the last
/// progress message (`done`) says when the index is complete.
#[tauri::command]
pub async fn open<R: tauri::Runtime>(
    request: OpenRequest,
    on_progress: Channel<IndexProgress>,
    state: tauri::State<'_, AppState>,
    app: tauri::AppHandle<R>,
) -> Res<SourceInfo> {
    if request.paths.is_empty() {
        return Err(IpcError::new("usage", "no file was given; drop a log file on the window"));
    }
    // Choices the user made for this file before, unless new ones are given.
    let remembered = state.remembered.lock().map(|r| r.choice_for(&request.paths)).unwrap_or_default();
    let session = remembered.session.clone();
    let reducer = request.reducer.clone().or(remembered.reducer);
    let fields = request.fields.clone().or(remembered.fields).unwrap_or_default();
    let mut settings = Settings { reducer: reducer.clone().filter(|r| !r.is_empty()), ..Settings::default() };
    settings.fields.ts = fields.ts.clone();
    settings.fields.ty = fields.ty.clone();
    settings.fields.key = fields.key.clone();
    settings.fields.level = fields.level.clone();
    settings.fields.payload = fields.payload.clone();
    // A newer open supersedes an indexing run still going.
    stop_text_index(&state);
    let cancel = Arc::new(AtomicBool::new(false));
    if let Ok(mut c) = state.cancel_build.lock() {
        if let Some(old) = c.replace(cancel.clone()) {
            old.store(true, Ordering::Relaxed);
        }
    }
    let (first_tx, first_rx) = std::sync::mpsc::sync_channel::<FirstShown>(1);
    let shown_paths = request.paths.clone();
    let kept = settings.clone();
    let handle = app.clone();
    std::thread::spawn(move || index_in_background(handle, shown_paths, kept, cancel, on_progress, first_tx));
    let (opened, mut info) = tauri::async_runtime::spawn_blocking(move || first_rx.recv())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| IpcError::new("internal", "indexing stopped unexpectedly; open the file again"))??;
    info.session = session;
    if let Ok(mut r) = state.remembered.lock() {
        r.opened(&request.paths, reducer, request.fields.clone().or(Some(fields)).filter(|f| *f != FieldChoice::default()));
        r.save();
    }
    if !info.indexing {
        start_text_index(&app, &opened);
    }
    let watcher = crate::watch::Watcher::start(app, &request.paths);
    *state.source.lock().map_err(|_| IpcError::new("state", "the app's state is unavailable"))? = Some(opened);
    if let Ok(mut w) = state.watcher.lock() {
        *w = watcher;
    }
    Ok(info)
}

/// Lowers this thread's priority (and that of the threads it starts, which
/// inherit it): indexing takes every core it is given, and the window must
/// stay responsive on what is already indexed.
fn yield_to_the_window() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread; a failure leaves the priority as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Indexes the files on this thread. The first usable events (or the whole
/// index, when it is built before any commit is shared) go to `first`;
/// after that the shown source is replaced as the build commits more, and
/// then by the finished one.
fn index_in_background<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    paths: Vec<String>,
    settings: Settings,
    cancel: Arc<AtomicBool>,
    on_progress: Channel<IndexProgress>,
    first: std::sync::mpsc::SyncSender<FirstShown>,
) {
    yield_to_the_window();
    let files: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let total: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let opts = OpenOptions {
        settings: settings.clone(),
        location: Location::Cache,
        build: hindsight_core::BuildOptions { share: total > SHOW_EARLY_ABOVE_BYTES, cancel: Some(cancel.clone()) },
    };
    let started = Instant::now();
    let mut first = Some(first);
    // The source the window shows while indexing, once there is one.
    let mut shown: Option<Opened> = None;
    let mut last_swap = Instant::now();
    let mut shown_events = 0;
    let message = |p: &hindsight_core::Progress, done: bool, error: Option<String>| {
        let elapsed = started.elapsed().as_secs_f64().max(1e-3);
        let fraction = if p.total_bytes > 0 { p.bytes as f64 / p.total_bytes as f64 } else { 0.0 };
        IndexProgress {
            bytes: p.bytes as f64,
            total_bytes: p.total_bytes as f64,
            events: n(p.events),
            events_per_second: p.events as f64 / elapsed,
            eta_seconds: (fraction > 0.0).then(|| elapsed * (1.0 - fraction) / fraction),
            usable: n(p.usable),
            done,
            error,
        }
    };
    let mut last = hindsight_core::Progress { pass: 1, bytes: 0, total_bytes: 0, events: 0, usable: 0, elapsed: 0.0 };
    let result = Source::open(&files, &opts, &mut |p| {
        last = p;
        let mut usable = shown_events;
        if p.usable > shown_events && (shown.is_none() || last_swap.elapsed() >= SWAP_EVERY) {
            if let Ok(partial) = Source::open_building(&files, &opts) {
                match &shown {
                    None => {
                        if let Ok(info) = source_info(&partial, &paths) {
                            let opened = Opened {
                                source: Arc::new(Mutex::new(partial)),
                                paths: paths.clone(),
                                filtered: Arc::default(),
                                settings: settings.clone(),
                                building: Arc::new(AtomicBool::new(true)),
                            };
                            usable = info.events;
                            if first.take().is_some_and(|tx| tx.send(Ok((opened.clone(), info))).is_ok()) {
                                shown = Some(opened);
                            }
                        }
                    }
                    // Skipped when a request holds the source: the next tick tries again.
                    Some(o) => {
                        if let Ok(mut current) = o.source.try_lock() {
                            usable = partial.count();
                            *current = partial;
                            if let Ok(mut f) = o.filtered.lock() {
                                *f = None;
                            }
                        }
                    }
                }
                shown_events = usable;
                last_swap = Instant::now();
            }
        }
        let _ = on_progress.send(IndexProgress { usable: n(shown_events), ..message(&p, false, None) });
    });
    match (result, shown) {
        (Ok(source), None) => {
            let answer = source_info(&source, &paths).map(|info| {
                let opened = Opened { source: Arc::new(Mutex::new(source)), paths, filtered: Arc::default(), settings, building: Arc::default() };
                (opened, info)
            });
            if let Some(tx) = first {
                let _ = tx.send(answer);
            }
        }
        (Ok(source), Some(o)) => {
            let count = source.count();
            if let Ok(mut current) = o.source.lock() {
                *current = source;
            }
            if let Ok(mut f) = o.filtered.lock() {
                *f = None;
            }
            o.building.store(false, Ordering::Relaxed);
            let _ = on_progress.send(IndexProgress { usable: count, ..message(&last, true, None) });
            if !cancel.load(Ordering::Relaxed) {
                start_text_index(&app, &o);
            }
        }
        (Err(e), None) => {
            if let Some(tx) = first {
                let _ = tx.send(Err(e.into()));
            }
        }
        (Err(e), Some(o)) => {
            // What was shown stays readable; a superseded run says nothing.
            o.building.store(false, Ordering::Relaxed);
            let error = (!matches!(e, hindsight_core::Error::Cancelled)).then(|| e.to_string());
            let _ = on_progress.send(IndexProgress { usable: shown_events, ..message(&last, true, error) });
        }
    }
}

/// What is open now (the count grows while the index is built).
#[tauri::command]
pub async fn source_info_now(state: tauri::State<'_, AppState>) -> Res<SourceInfo> {
    let o = opened(&state)?;
    let shown = o.paths.clone();
    with_source(o, move |src| source_info(src, &shown)).await
}

/// Remembers where the user is in these files (scrubber, filter, pin, open
/// tree nodes), to be restored when they are opened again.
#[tauri::command]
pub async fn save_session(paths: Vec<String>, session: Session, state: tauri::State<'_, AppState>) -> Res<()> {
    if paths.is_empty() {
        return Err(IpcError::new("usage", "no file was given for the session"));
    }
    let mut r = state.remembered.lock().map_err(|_| IpcError::new("state", "the app's settings are unavailable"))?;
    r.save_session(&paths, session.bounded());
    r.save();
    Ok(())
}

/// Files given on the command line (taken once).
#[tauri::command]
pub fn initial_files(state: tauri::State<'_, AppState>) -> Vec<String> {
    state.initial.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
}

/// Recently opened files, newest first.
#[tauri::command]
pub fn recent_files(state: tauri::State<'_, AppState>) -> Vec<String> {
    state.remembered.lock().map(|r| r.recent.clone()).unwrap_or_default()
}

/// Checks a reducer spec (e.g. a jq expression) without opening anything;
/// returns the error sentence, or null when it is valid.
#[tauri::command]
pub fn check_reducer(spec: String) -> Option<String> {
    hindsight_core::reducer::Reducer::parse(&spec).err().map(|e| e.to_string())
}

/// A page of the event list under a filter.
#[tauri::command]
pub async fn list(filter: ListFilter, offset: f64, limit: f64, state: tauri::State<'_, AppState>) -> Res<ListPage> {
    let o = opened(&state)?;
    let filtered = o.filtered.clone();
    with_source(o, move |src| {
        let seqs = matching(src, &filtered, &filter)?;
        let offset = seq_arg(offset)?;
        let limit = seq_arg(limit)?.min(1000);
        let (total, page): (u64, Vec<u64>) = match &seqs {
            None => (src.count(), (offset + 1..=(offset + limit).min(src.count())).collect()),
            Some(s) => (s.len() as u64, s.iter().skip(offset as usize).take(limit as usize).copied().collect()),
        };
        let rows = src
            .rows(&page)?
            .into_iter()
            .map(|r| EventRow { seq: n(r.seq), line: n(r.line), ts: r.ts, ty: r.ty, key: r.key, level: r.level.map(str::to_string), marked: r.marked })
            .collect();
        Ok(ListPage { total: n(total), offset: n(offset), rows })
    })
    .await
}

/// The row index, under a filter, of the first event at or after `seq`.
#[tauri::command]
pub async fn list_index(filter: ListFilter, seq: f64, state: tauri::State<'_, AppState>) -> Res<u64> {
    let o = opened(&state)?;
    let filtered = o.filtered.clone();
    let seq = seq_arg(seq)?;
    with_source(o, move |src| {
        Ok(match matching(src, &filtered, &filter)? {
            None => n(seq.saturating_sub(1)),
            Some(s) => n(s.partition_point(|x| *x < seq) as u64),
        })
    })
    .await
}

fn matching(src: &Source, cache: &Mutex<Option<(ListFilter, Option<Vec<u64>>)>>, filter: &ListFilter) -> Res<Option<Vec<u64>>> {
    let mut cache = cache.lock().map_err(|_| IpcError::new("state", "the list is unavailable; reopen the file"))?;
    if let Some((f, seqs)) = cache.as_ref() {
        if f == filter {
            return Ok(seqs.clone());
        }
    }
    let seqs = src.matching(&to_filter(filter)?)?;
    *cache = Some((filter.clone(), seqs.clone()));
    Ok(seqs)
}

/// Everything shown at one scrubber position: the event, the top of the
/// state tree, and the changes against the previous event or the pin.
#[tauri::command]
pub async fn position(seq: f64, pin: Option<f64>, tree_limit: f64, state: tauri::State<'_, AppState>) -> Res<Position> {
    let o = opened(&state)?;
    let seq = seq_arg(seq)?;
    let pin = pin.map(seq_arg).transpose()?;
    let tree_limit = seq_arg(tree_limit)?;
    with_source(o, move |src| {
        let base = pin.unwrap_or(seq.saturating_sub(1));
        let event = if seq == 0 { None } else { Some(detail(src.event(seq)?)) };
        let root = src.tree(seq, "", 0, tree_limit)?;
        let changed = src.changes(base, seq)?;
        // A member that cannot be listed is left out, as the window would.
        let outside =
            outside_changed(&root, &changed).iter().filter_map(|path| src.tree(seq, path, 0, OUTSIDE_PAGE).ok()).map(tree).collect();
        Ok(Position { seq: n(seq), base: n(base), event, tree: tree(root), changes: changes(changed), outside })
    })
    .await
}

/// Children sent of each changed member beyond the root page.
const OUTSIDE_PAGE: u64 = 200;

/// The top-level members (`/key`) the changes touch that the root page does
/// not list, in the changes' order, at most ten; a removed member is not
/// listed (there is nothing left to show).
fn outside_changed(root: &browse::TreeNode, changes: &[browse::Change]) -> Vec<String> {
    if root.children.len() as u64 >= root.size {
        return vec![];
    }
    let shown: std::collections::HashSet<&str> = root.children.iter().map(|c| c.path.as_str()).collect();
    let mut out: Vec<String> = vec![];
    for c in changes {
        let top = match c.path.get(1..).and_then(|rest| rest.find('/')) {
            Some(i) => &c.path[..i + 1],
            None => c.path.as_str(),
        };
        if top.is_empty() || shown.contains(top) || out.iter().any(|o| o == top) || (c.op == "remove" && c.path == top) {
            continue;
        }
        out.push(top.to_string());
        if out.len() >= 10 {
            break;
        }
    }
    out
}

/// One level of the state tree after event `seq` under `path`.
#[tauri::command]
pub async fn tree_node(seq: f64, path: String, offset: f64, limit: f64, state: tauri::State<'_, AppState>) -> Res<TreeNode> {
    let o = opened(&state)?;
    let (seq, offset, limit) = (seq_arg(seq)?, seq_arg(offset)?, seq_arg(limit)?);
    with_source(o, move |src| Ok(tree(src.tree(seq, &path, offset, limit)?))).await
}

/// The changes turning the state after `a` into the state after `b`.
#[tauri::command]
pub async fn diff(a: f64, b: f64, state: tauri::State<'_, AppState>) -> Res<Vec<Change>> {
    let o = opened(&state)?;
    let (a, b) = (seq_arg(a)?, seq_arg(b)?);
    with_source(o, move |src| Ok(changes(src.changes(a, b)?))).await
}

/// Every event that changed the value at `path`.
#[tauri::command]
pub async fn blame(path: String, state: tauri::State<'_, AppState>) -> Res<Vec<BlameRow>> {
    let o = opened(&state)?;
    with_source(o, move |src| {
        Ok(src.blame(&path)?.into_iter().map(|b| BlameRow { seq: n(b.seq), ts: b.ts, ty: b.ty, old: b.old, new: b.new }).collect())
    })
    .await
}

/// The timeline of the entity `key`: its events and every event that
/// changed it, each with the entity after it.
#[tauri::command]
pub async fn entity_history(key: String, state: tauri::State<'_, AppState>) -> Res<EntityHistory> {
    let o = opened(&state)?;
    with_source(o, move |src| {
        let h = src.entity_history(&key)?;
        Ok(EntityHistory {
            key: h.key,
            path: h.pointer,
            lifetimes: h.lifetimes.into_iter().map(|l| Lifetime { created: n(l.created), deleted: l.deleted.map(n) }).collect(),
            steps: h
                .steps
                .into_iter()
                .map(|s| EntityStep { seq: n(s.seq), ts: s.ts, ty: s.ty, keyed: s.keyed, change: s.change.as_str().to_string(), value: s.value })
                .collect(),
        })
    })
    .await
}

/// Events at which a jq predicate over the state turns true.
#[tauri::command]
pub async fn find(expr: String, all: bool, state: tauri::State<'_, AppState>) -> Res<Vec<Hit>> {
    let o = opened(&state)?;
    with_source(o, move |src| Ok(src.find(&expr, all)?.into_iter().map(|h| Hit { seq: n(h.seq), ts: h.ts, ty: h.ty }).collect()))
        .await
}

/// Event density for the timeline.
#[tauri::command]
pub async fn histogram(bins: f64, start: Option<f64>, end: Option<f64>, state: tauri::State<'_, AppState>) -> Res<Histogram> {
    let o = opened(&state)?;
    let bins = seq_arg(bins)? as usize;
    with_source(o, move |src| {
        let has_time = src.summary()?.first_ts.is_some();
        // The UI speaks milliseconds for time; the engine nanoseconds.
        let scale = if has_time { 1_000_000.0 } else { 1.0 };
        let range = match (start, end) {
            (Some(a), Some(b)) => Some(((a * scale) as i64, (b * scale) as i64)),
            _ => None,
        };
        let h = src.histogram(bins, range)?;
        let scale = if h.axis == "time" { 1_000_000.0 } else { 1.0 };
        Ok(Histogram {
            axis: h.axis.to_string(),
            start: h.start as f64 / scale,
            end: h.end as f64 / scale,
            bins: h
                .bins
                .into_iter()
                .map(|b| Bin { count: n(b.count), levels: b.levels.to_vec(), first_seq: n(b.first_seq) })
                .collect(),
        })
    })
    .await
}

#[tauri::command]
pub async fn markers(state: tauri::State<'_, AppState>) -> Res<Markers> {
    let o = opened(&state)?;
    with_source(o, move |src| {
        let (marked, errors) = src.markers()?;
        let bookmarks = src.bookmarks()?.into_iter().map(|b| b.seq).collect();
        Ok(Markers { marked: marked.into_iter().map(n).collect(), errors: errors.into_iter().map(n).collect(), bookmarks })
    })
    .await
}

fn bookmark_row(b: hindsight_core::bookmarks::Bookmark) -> BookmarkRow {
    BookmarkRow { id: b.id, seq: b.seq, note: b.note, tags: b.tags, created: b.created, stale: b.stale }
}

/// Every bookmark, in event order.
#[tauri::command]
pub async fn bookmarks(state: tauri::State<'_, AppState>) -> Res<Vec<BookmarkRow>> {
    let o = opened(&state)?;
    with_source(o, move |src| Ok(src.bookmarks()?.into_iter().map(bookmark_row).collect())).await
}

/// Bookmarks event `seq` with a note and tags.
#[tauri::command]
pub async fn add_bookmark(seq: f64, note: String, tags: Vec<String>, state: tauri::State<'_, AppState>) -> Res<BookmarkRow> {
    let o = opened(&state)?;
    let seq = seq_arg(seq)?;
    let tags = hindsight_core::bookmarks::parse_tags(&tags.join(","));
    with_source(o, move |src| Ok(bookmark_row(src.add_bookmark(seq, &note, tags)?))).await
}

/// Removes bookmark `id`.
#[tauri::command]
pub async fn remove_bookmark(id: f64, state: tauri::State<'_, AppState>) -> Res<()> {
    let o = opened(&state)?;
    if !(id.is_finite() && id.fract() == 0.0) {
        return Err(IpcError::new("query", format!("{id} is not a bookmark id")));
    }
    with_source(o, move |src| {
        src.remove_bookmark(id as i64)?;
        Ok(())
    })
    .await
}

/// The next or previous event with the same type (or key) as `seq`.
#[tauri::command]
pub async fn neighbor(seq: f64, by_key: bool, forward: bool, state: tauri::State<'_, AppState>) -> Res<Option<u64>> {
    let o = opened(&state)?;
    let seq = seq_arg(seq)?;
    with_source(o, move |src| Ok(src.neighbor(seq, by_key, forward)?.map(n))).await
}

/// The first event after `seq` that changes the value at `path`.
#[tauri::command]
pub async fn next_change(path: String, seq: f64, state: tauri::State<'_, AppState>) -> Res<Option<u64>> {
    let o = opened(&state)?;
    let seq = seq_arg(seq)?;
    with_source(o, move |src| Ok(src.next_change(&path, seq)?.map(n))).await
}

/// The last event at or before a time (ms since the epoch).
#[tauri::command]
pub async fn seq_at_time(ms: f64, state: tauri::State<'_, AppState>) -> Res<u64> {
    let o = opened(&state)?;
    let t = time::Timestamp::from_nanos((ms * 1_000_000.0) as i64, 3);
    with_source(o, move |src| Ok(n(src.seq_at(t)?))).await
}

/// Writes the audit report of the open source and its bookmarks to `path`;
/// returns the path written.
#[tauri::command]
pub async fn export_report(path: String, state: tauri::State<'_, AppState>) -> Res<String> {
    let o = opened(&state)?;
    let names: Vec<String> = o
        .paths
        .iter()
        .map(|p| std::path::Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
        .collect();
    with_source(o, move |src| {
        let title = format!("Hindsight audit report: {}", names.join(", "));
        let report = hindsight_core::audit::build(src, &title, env!("CARGO_PKG_VERSION"))?;
        let html = hindsight_core::report::render_html(&report);
        std::fs::write(&path, html)
            .map_err(|e| IpcError::new("io", format!("{path}: the report could not be written ({e}); choose another folder")))?;
        Ok(path)
    })
    .await
}

/// Looks at the open files again (live tail): indexes what was appended, or
/// the whole file when it was truncated or replaced.
#[tauri::command]
pub async fn refresh<R: tauri::Runtime>(state: tauri::State<'_, AppState>, app: tauri::AppHandle<R>) -> Res<Refreshed> {
    let o = opened(&state)?;
    if o.building.load(Ordering::Relaxed) {
        // The build reads the files to their end anyway; growth is looked at once it is done.
        let shown = o.paths.clone();
        return with_source(o, move |src| Ok(Refreshed { action: "reused".into(), info: source_info(src, &shown)?, notice: None })).await;
    }
    let paths: Vec<PathBuf> = o.paths.iter().map(PathBuf::from).collect();
    let settings = o.settings.clone();
    let shown = o.paths.clone();
    let filtered = o.filtered.clone();
    let source = o.clone();
    let refreshed = tauri::async_runtime::spawn_blocking(move || {
        // The open source stays locked while its index grows: nothing may
        // read the index half-written.
        let mut current = o.source.lock().map_err(|_| IpcError::new("state", "an earlier request failed; reopen the file"))?;
        let fresh = Source::open(&paths, &OpenOptions { settings, location: Location::Cache, ..OpenOptions::default() }, &mut |_| {})?;
        let action = fresh.report().action.clone();
        let info = source_info(&fresh, &shown)?;
        if action != "reused" {
            // Swap in the grown source; the list's filter cache is stale.
            *current = fresh;
            if let Ok(mut f) = filtered.lock() {
                *f = None;
            }
        }
        let notice = action.starts_with("rebuilt").then(|| {
            let names: Vec<String> = shown
                .iter()
                .map(|p| std::path::Path::new(p).file_name().map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned()))
                .collect();
            format!("{} was truncated or replaced, so it was indexed again from its start.", names.join(", "))
        });
        Ok::<_, IpcError>(Refreshed { action, info, notice })
    })
    .await
    .map_err(|e| IpcError::new("internal", format!("the refresh stopped unexpectedly ({e})")))??;
    if refreshed.action != "reused" {
        // The text index covers what it covered; it goes on with the new events.
        start_text_index(&app, &source);
    }
    Ok(refreshed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(size: u64, shown: &[&str]) -> browse::TreeNode {
        browse::TreeNode {
            path: String::new(),
            kind: "object",
            size,
            offset: 0,
            children: shown
                .iter()
                .map(|p| browse::TreeChild { key: p[1..].into(), path: (*p).into(), kind: "object", size: 1, preview: String::new() })
                .collect(),
        }
    }

    fn change(op: &'static str, path: &str) -> browse::Change {
        browse::Change { op, path: path.into(), old: None, new: None }
    }

    #[test]
    fn changed_members_beyond_the_root_page_are_listed_once_in_order() {
        let changes = [
            change("replace", "/b/x"),
            change("add", "/z/total"),
            change("replace", "/z/status"),
            change("remove", "/gone"),
            change("remove", "/y/field"),
            change("replace", ""),
        ];
        assert_eq!(outside_changed(&page(10, &["/a", "/b"]), &changes), ["/z", "/y"]);
        // Everything is shown: nothing to send along.
        assert!(outside_changed(&page(2, &["/a", "/b"]), &changes).is_empty());
        let many: Vec<browse::Change> = (0..20).map(|i| change("add", &format!("/k{i}/v"))).collect();
        assert_eq!(outside_changed(&page(100, &[]), &many).len(), 10);
    }
}
