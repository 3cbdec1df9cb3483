//! jq expressions for `jq:EXPR` reducers and `find` predicates, evaluated with jaq.
//!
//! A [`JqProgram`] is compiled once (with `$event` declared) and evaluated many times, each
//! evaluation under a [`Budget`]; a runaway expression ends in a [`JqError`], never in a hang,
//! a stack overflow or a panic escaping to the caller.
//!
//! # Design
//!
//! jaq has no recursion limit, cannot be interrupted, and its values are `Rc`-based (not
//! `Send`). So every program owns one worker thread with a large stack
//! ([`WORKER_STACK_BYTES`]): it compiles the expression, keeps the compiled filter, converts
//! `serde_json` values to and from jaq's itself, and runs one request at a time.
//!
//! * **Guards.** The parsed expression and jaq's standard definitions are rewritten before
//!   compiling so that a native guard runs on entry to every `def` body (recursion and loops
//!   such as `repeat`, `while`, `until`, `recurse`, `limit`), on every `reduce`/`foreach`
//!   update, and for every number `range` yields. The guard fails when the caller has flagged
//!   the time budget as spent, when the worker's stack use (measured from the address of a
//!   local; no `unsafe`) passes [`STACK_LIMIT_BYTES`], or when the value passing through is
//!   longer than [`MAX_STRING_BYTES`] / [`MAX_COLLECTION_LEN`] or nested deeper than
//!   [`MAX_VALUE_DEPTH`] along a cheap probe of its first and last children (see the known
//!   limits), or, in a path expression, when the path is longer than [`MAX_VALUE_DEPTH`]
//!   steps (jaq drops paths by recursion). A tripped guard
//!   raises jaq's `halt` exception, which `try` and `?` cannot catch, so the evaluation
//!   unwinds at once and ends in [`JqError::Budget`]; the guard also stays tripped until the
//!   evaluation ends.
//! * **Recursion.** A definition that calls itself is guarded more: the guard also probes its
//!   `$` parameters, the arguments of calls to it are guarded (a closure made of closures, as
//!   in `def f(g): f([g])`, is evaluated by recursion without entering a definition), and if
//!   it has a filter parameter, no call to it is a tail call. jaq runs tail calls in constant
//!   stack, so tail calls carrying a closure (`def f(g): f(g)`) or a deepening value would
//!   pile up a chain in the heap that jaq later drops or evaluates by recursion, overflowing
//!   any stack; as ordinary calls they use stack, which the guard measures.
//! * **Replaced built-ins.** `range/3` runs the guard per value; `fromjson` refuses text
//!   nested deeper than [`MAX_VALUE_DEPTH`] (jaq's parser recurses); `*` and `*=` refuse a
//!   string repetition longer than [`MAX_STRING_BYTES`] (a failed allocation would abort).
//! * **Syntax limits.** Expressions longer than [`MAX_EXPR_BYTES`] or whose syntax tree is
//!   deeper than [`MAX_AST_DEPTH`] (measured without recursion) are compile errors, because
//!   jaq compiles and evaluates the tree recursively.
//! * **Deadline.** The caller waits `max_time`, then flags the budget as spent and waits
//!   [`grace_for`] more. A worker that still has not answered is abandoned: the program then
//!   refuses to evaluate, with [`JqError::Budget`], until that worker reports back, so there
//!   is never more than one thread per program. A worker that used more than 16 MiB of stack,
//!   or caught a panic, retires after answering and a new one is compiled on the next call,
//!   which gives the stack memory back.
//! * **Results.** A reducer's output is converted with bounded recursion: nested deeper than
//!   [`MAX_OUTPUT_DEPTH`] or larger than [`MAX_OUTPUT_NODES`] values is an error; integers stay
//!   integers, floats stay floats, NaN and infinities become `null`. jaq values are dropped
//!   iteratively, so a deep result never recurses through `Drop`.
//!
//! # Semantics worth knowing
//!
//! * The first output counts. A reducer with no output is [`JqError::NoOutput`]; a predicate
//!   with no output is false.
//! * Paths on the left of `=`, `|=`, `+=` (etc.) and `//=` create missing objects, as in jq:
//!   `.count += 1` on `null` and `.by_type[$event.type] += 1` on `{}` work (jaq alone fails
//!   with "cannot use null as iterable"). Elsewhere jaq's rules hold: `del(.a.b)` with `.a`
//!   missing and `setpath` through a missing object fail, arrays do not grow on assignment
//!   (`[] | .[0] = 1` fails), `to_entries` on an array gives numeric keys, and `$ENV`,
//!   `input`, `$__loc__` are not defined.
//! * `halt` and `halt_error` are reported as [`JqError::Runtime`]; they never exit the process.
//! * The empty expression is a compile error (jq would read it as `.`).
//! * Recursion through a definition with a filter parameter (`def f(g): … f(…) …`) gets no
//!   tail calls: like any recursion that is not a tail call, it stops with "its recursion
//!   went too deep" after some thousands of levels (around twenty thousand in a release
//!   build, a few thousand in a debug one). Definitions with only `$` parameters keep jaq's
//!   tail calls: `def f($n): if $n > 0 then f($n - 1) end; f(1e6)` runs in constant stack,
//!   and so do the standard loops (`repeat`, `while`, `until`, `recurse`, `range`, `limit`,
//!   `reduce`, `foreach`).
//! * Each live program holds one idle thread; a call costs a thread hand-over of a few
//!   microseconds on top of the evaluation, which [`JqProgram::reduce_all`] pays once per batch.
//!
//! # Known limits
//!
//! * One built-in call is never interrupted: sorting or exploding a huge string or array, or
//!   serialising or comparing a value whose parts are shared exponentially
//!   (`reduce range(40) as $i (0; [., .]) | tojson`), runs to its end on the abandoned worker.
//! * Memory is bounded only through time and the size limits above: collecting with
//!   `[range(1e12)]` can take several hundred megabytes per second of budget, and a built-in
//!   that expands a shared value can exhaust memory (an allocation failure aborts the process).
//! * The depth probe looks at up to four children at each end of every array and object, and
//!   searches every container among them, up to 65 536 containers per guard; past that it
//!   follows a single path (at each level the first container among them, the last child
//!   first). A value deepened only through children in the middle of longer arrays or
//!   objects (`reduce range(1e6) as $i (0; [1, 1, 1, 1, 1, ., 1, 1, 1, 1, 1])`), or hidden
//!   behind that many containers, escapes it, and jaq recurses when it drops, compares or
//!   serialises such a value: a few hundred thousand levels can overflow the worker's stack
//!   and abort the process. Looking at every child on every guard would make loops over
//!   large values quadratic. The search itself takes time in proportion to the containers
//!   searched: a loop deepening a value kept inside another (`.list = {next: .list, item:
//!   {…}}`) slows down quadratically until the depth limit stops it (one carried as `.` or
//!   a `$` parameter is found in a small cache of the values the guard saw last).
//! * A worker reserves [`WORKER_STACK_BYTES`] of address space; under strict overcommit
//!   (`vm.overcommit_memory=2`) that is committed memory.
//! * A panic inside jaq is caught and reported as [`JqError::Runtime`], but the process's panic
//!   hook still runs (by default it prints to stderr).

use std::any::Any;
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jaq_core::box_iter::box_once;
use jaq_core::load::lex::{self, StrPart};
use jaq_core::load::parse::{self, BinaryOp, Def, Pattern, Term};
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{compile, data::JustLut, native, ops, Ctx, Cv, Exn, Native, ValT as _, ValXs, Vars};
use jaq_json::{Num, Val};
use serde_json::Value;

type D = JustLut<Val>;
type Filter = jaq_core::Filter<D>;
type JaqError = jaq_core::Error<Val>;

/// Stack size of a worker thread. Only touched pages use memory.
pub const WORKER_STACK_BYTES: usize = 128 << 20;
/// Stack use at which the guard stops an evaluation ("recursion too deep").
pub const STACK_LIMIT_BYTES: usize = 64 << 20;
/// A worker whose stack use exceeded this retires after answering, releasing that memory.
const RETIRE_STACK_BYTES: usize = 16 << 20;
/// Deepest value the guard lets an evaluation build (and `fromjson` accept).
pub const MAX_VALUE_DEPTH: usize = 10_000;
/// How many children at each end of an array or object the depth probe looks at.
const PROBE_ENDS: usize = 4;
/// How many containers the depth probe searches before following a single path.
const PROBE_BUDGET: usize = 1 << 16;
/// Longest path (as in `path(f)`) the guard lets an evaluation build.
const MAX_PATH_LEN: usize = MAX_VALUE_DEPTH;
/// Deepest reducer result accepted (containers nested inside each other).
pub const MAX_OUTPUT_DEPTH: usize = 256;
/// Largest reducer result accepted, counted in JSON values.
pub const MAX_OUTPUT_NODES: usize = 2_000_000;
/// Longest string a guard lets through, and that `"text" * n` may build.
pub const MAX_STRING_BYTES: usize = 64 << 20;
/// Most elements of an array or object a guard lets through.
pub const MAX_COLLECTION_LEN: usize = 16 << 20;
/// Deepest syntax tree accepted (jaq compiles and evaluates it recursively).
pub const MAX_AST_DEPTH: usize = 2000;
/// Longest expression accepted: jaq parses recursively, up to about 2 KiB of stack per byte
/// (`- - - … 1` in a debug build), so this keeps parsing well inside the worker stack.
pub const MAX_EXPR_BYTES: usize = 16 << 10;
/// How long `compile` waits for the worker to compile the expression.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a thread waiting for a request or a reply spins before parking.
const SPIN_TIME: Duration = Duration::from_micros(50);
/// Name of the definition holding the user's expression (not callable by accident).
const MAIN_DEF: &str = "__hindsight_main__";
/// Names of injected natives; the jq lexer cannot produce them, so users cannot shadow them.
const GUARD: &str = "!hindsight_guard";
const MUL: &str = "!hindsight_mul";
const MUL_VAR: &str = "$!hindsight_mul";
const VIVIFY: &str = "!hindsight_vivify";
/// Exit code of the `halt` a tripped guard raises (never reported: the trip is).
const HALT_ON_TRIP: i32 = 124;

/// Everything that can go wrong compiling or evaluating a jq expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JqError {
    /// The expression is not valid jq, or refers to something undefined.
    #[error("the jq expression does not compile: {0}")]
    Compile(String),
    /// Evaluation raised an error (`error(...)`, a type error, ...).
    #[error("the jq expression failed: {0}")]
    Runtime(String),
    /// A reducer produced no output.
    #[error("the jq expression produced no output")]
    NoOutput,
    /// A time, recursion or size limit was exceeded.
    #[error("the jq expression exceeded its budget: {0}")]
    Budget(String),
}

/// Limits for one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Wall-clock time one evaluation may take before it is stopped.
    pub max_time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_time: Duration::from_secs(2),
        }
    }
}

/// Extra time the caller waits after `max_time` for the worker to stop by itself.
pub fn grace_for(max_time: Duration) -> Duration {
    (max_time / 2).clamp(Duration::from_millis(250), Duration::from_secs(5))
}

/// A compiled jq expression with `$event` declared; evaluated on its own worker thread.
///
/// `JqProgram` is `Send + Sync`; evaluations of one program are serialised.
pub struct JqProgram {
    expr: String,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for JqProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JqProgram")
            .field("expr", &self.expr)
            .finish_non_exhaustive()
    }
}

struct Inner {
    worker: Option<WorkerHandle>,
    next_id: u64,
}

struct WorkerHandle {
    requests: mpsc::Sender<Request>,
    replies: mpsc::Receiver<Reply>,
    /// Set by the caller when the time budget of the running evaluation is over.
    expired: Arc<AtomicBool>,
    /// Number of events the worker has finished; lets a batch run longer than one budget.
    progress: Arc<AtomicUsize>,
    /// Id of an abandoned request the worker may still be running.
    abandoned: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Reduce,
    Test,
}

struct Request {
    id: u64,
    mode: Mode,
    state: Value,
    events: Vec<Value>,
    max_time: Duration,
}

enum Outcome {
    State(Value),
    Truth(bool),
}

/// An error together with the index of the event that caused it.
type IndexedError = (usize, JqError);

enum Reply {
    Compiled(Result<(), JqError>),
    Done {
        id: u64,
        result: Result<Outcome, IndexedError>,
        retiring: bool,
    },
}

impl JqProgram {
    /// Compile `expr`; `$event` is always declared. Starts the program's worker thread.
    pub fn compile(expr: &str) -> Result<JqProgram, JqError> {
        if expr.len() > MAX_EXPR_BYTES {
            return Err(JqError::Compile(format!(
                "it is {} bytes long, more than the limit of {MAX_EXPR_BYTES}",
                expr.len()
            )));
        }
        let worker = spawn_worker(expr)?;
        let inner = Inner {
            worker: Some(worker),
            next_id: 0,
        };
        Ok(JqProgram {
            expr: expr.to_owned(),
            inner: Mutex::new(inner),
        })
    }

    /// The source text of the expression.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// Run as a reducer: `.` is `state`, `$event` is `event`; the first output is the new state.
    pub fn reduce(&self, state: &Value, event: &Value, budget: &Budget) -> Result<Value, JqError> {
        let events = vec![event.clone()];
        match self
            .evaluate(Mode::Reduce, state, events, budget)
            .map_err(|(_, e)| e)?
        {
            Outcome::State(v) => Ok(v),
            Outcome::Truth(_) => Err(internal(
                "the worker answered a reduction with a truth value",
            )),
        }
    }

    /// Run the reducer over `events` in order, starting from `state`, and return the final state.
    ///
    /// Equivalent to calling [`JqProgram::reduce`] once per event, with `budget` applying to
    /// each event, but with one hand-over to the worker thread for the whole batch (a
    /// hand-over costs a few microseconds, often more than a small reducer itself). On error,
    /// returns the index in `events` of the event that failed.
    pub fn reduce_all(
        &self,
        state: &Value,
        events: &[Value],
        budget: &Budget,
    ) -> Result<Value, (usize, JqError)> {
        if events.is_empty() {
            return Ok(state.clone());
        }
        match self.evaluate(Mode::Reduce, state, events.to_vec(), budget)? {
            Outcome::State(v) => Ok(v),
            Outcome::Truth(_) => Err((
                0,
                internal("the worker answered a reduction with a truth value"),
            )),
        }
    }

    /// Run as a predicate: the truthiness of the first output (no output counts as false).
    pub fn test(&self, state: &Value, event: &Value, budget: &Budget) -> Result<bool, JqError> {
        let events = vec![event.clone()];
        match self
            .evaluate(Mode::Test, state, events, budget)
            .map_err(|(_, e)| e)?
        {
            Outcome::Truth(b) => Ok(b),
            Outcome::State(_) => Err(internal("the worker answered a test with a state")),
        }
    }

    fn evaluate(
        &self,
        mode: Mode,
        state: &Value,
        events: Vec<Value>,
        budget: &Budget,
    ) -> Result<Outcome, IndexedError> {
        let mut locked = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let inner = &mut *locked;
        if let Some(worker) = &mut inner.worker {
            if let Some(stuck) = worker.abandoned {
                match drain_abandoned(worker, stuck) {
                    Drain::Idle => worker.abandoned = None,
                    Drain::Gone => inner.worker = None,
                    Drain::StillRunning => {
                        return Err((
                            0,
                            JqError::Budget(
                                "an earlier evaluation of this expression overran its time \
                                 budget and is still running, so it cannot run again yet"
                                    .into(),
                            ),
                        ))
                    }
                }
            }
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let mut request = Request {
            id,
            mode,
            state: state.clone(),
            events,
            max_time: budget.max_time,
        };
        // A worker that retired or died is replaced; one that is running is never replaced.
        for attempt in 0..2 {
            let worker = match &mut inner.worker {
                Some(worker) => worker,
                None => inner
                    .worker
                    .insert(spawn_worker(&self.expr).map_err(|e| (0, e))?),
            };
            worker.expired.store(false, Ordering::SeqCst);
            worker.progress.store(0, Ordering::SeqCst);
            match worker.requests.send(request) {
                Ok(()) => break,
                Err(mpsc::SendError(back)) => {
                    inner.worker = None;
                    if attempt == 1 {
                        return Err((0, internal("the evaluation thread stopped unexpectedly")));
                    }
                    request = back;
                }
            }
        }
        let worker = inner
            .worker
            .as_mut()
            .expect("a worker accepted the request");
        match wait_for_reply(worker, budget.max_time) {
            Ok(Reply::Done {
                id: got,
                result,
                retiring,
            }) if got == id => {
                if retiring {
                    inner.worker = None;
                }
                result
            }
            Ok(_) => {
                inner.worker = None;
                Err((0, internal("the evaluation thread answered out of turn")))
            }
            Err(RecvTimeoutError::Timeout) => {
                worker.abandoned = Some(id);
                let index = worker.progress.load(Ordering::SeqCst);
                Err((
                    index,
                    JqError::Budget(format!(
                        "it ran longer than its time budget of {} and did not stop when asked, \
                         so it was abandoned",
                        fmt_duration(budget.max_time)
                    )),
                ))
            }
            Err(RecvTimeoutError::Disconnected) => {
                inner.worker = None;
                Err((0, internal("the evaluation thread stopped unexpectedly")))
            }
        }
    }
}

/// Wait for the worker's reply. Each event gets `max_time`; once an event overruns it, ask the
/// worker to stop and give it a grace period.
fn wait_for_reply(worker: &WorkerHandle, max_time: Duration) -> Result<Reply, RecvTimeoutError> {
    let tick = (max_time / 8).max(Duration::from_millis(1));
    let mut seen = 0;
    let mut since = Instant::now();
    let mut spin = true;
    loop {
        let left = max_time.saturating_sub(since.elapsed());
        if left.is_zero() {
            worker.expired.store(true, Ordering::SeqCst);
            return worker.replies.recv_timeout(grace_for(max_time));
        }
        let received = if spin {
            spin = false;
            recv_spinning(&worker.replies, left.min(tick))
        } else {
            worker.replies.recv_timeout(left.min(tick))
        };
        match received {
            Err(RecvTimeoutError::Timeout) => {
                let done = worker.progress.load(Ordering::SeqCst);
                if done != seen {
                    seen = done;
                    since = Instant::now();
                }
            }
            other => return other,
        }
    }
}

/// Receive, spinning briefly first: a small evaluation takes a few microseconds, less than
/// parking and waking a thread.
fn recv_spinning<M>(rx: &mpsc::Receiver<M>, timeout: Duration) -> Result<M, RecvTimeoutError> {
    let start = Instant::now();
    let mut spins = 0u32;
    loop {
        match rx.try_recv() {
            Ok(m) => return Ok(m),
            Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => {
                spins += 1;
                if spins % 16 == 0 {
                    if start.elapsed() >= SPIN_TIME.min(timeout) {
                        break;
                    }
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
    rx.recv_timeout(timeout.saturating_sub(start.elapsed()))
}

enum Drain {
    Idle,
    Gone,
    StillRunning,
}

fn drain_abandoned(worker: &WorkerHandle, stuck: u64) -> Drain {
    loop {
        match worker.replies.try_recv() {
            Ok(Reply::Done { id, retiring, .. }) if id == stuck => {
                return if retiring { Drain::Gone } else { Drain::Idle };
            }
            Ok(_) => continue,
            Err(TryRecvError::Empty) => return Drain::StillRunning,
            Err(TryRecvError::Disconnected) => return Drain::Gone,
        }
    }
}

fn internal(msg: &str) -> JqError {
    JqError::Runtime(format!("internal error: {msg}"))
}

fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        format!("{} µs", d.as_micros())
    } else if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

fn spawn_worker(expr: &str) -> Result<WorkerHandle, JqError> {
    let (req_tx, req_rx) = mpsc::channel::<Request>();
    let (rep_tx, rep_rx) = mpsc::channel::<Reply>();
    let expired = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicUsize::new(0));
    let code = expr.to_owned();
    let (flag, done) = (Arc::clone(&expired), Arc::clone(&progress));
    std::thread::Builder::new()
        .name("hindsight-jq".into())
        .stack_size(WORKER_STACK_BYTES)
        .spawn(move || worker_main(&code, flag, done, req_rx, rep_tx))
        .map_err(|e| JqError::Runtime(format!("could not start an evaluation thread: {e}")))?;
    match rep_rx.recv_timeout(COMPILE_TIMEOUT) {
        Ok(Reply::Compiled(Ok(()))) => Ok(WorkerHandle {
            requests: req_tx,
            replies: rep_rx,
            expired,
            progress,
            abandoned: None,
        }),
        Ok(Reply::Compiled(Err(e))) => Err(e),
        Ok(Reply::Done { .. }) => Err(internal("the evaluation thread answered out of turn")),
        Err(RecvTimeoutError::Timeout) => Err(JqError::Budget(format!(
            "compiling it took longer than {}",
            fmt_duration(COMPILE_TIMEOUT)
        ))),
        Err(RecvTimeoutError::Disconnected) => {
            Err(internal("the evaluation thread stopped while compiling"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------

fn worker_main(
    code: &str,
    expired: Arc<AtomicBool>,
    progress: Arc<AtomicUsize>,
    requests: mpsc::Receiver<Request>,
    replies: mpsc::Sender<Reply>,
) {
    GUARD_STATE.with(|g| {
        g.base.set(stack_addr());
        let _ = g.expired.set(expired);
    });
    let compiled = catch_unwind(AssertUnwindSafe(|| compile_filter(code))).unwrap_or_else(|p| {
        Err(JqError::Compile(format!(
            "the compiler panicked: {}",
            panic_msg(&*p)
        )))
    });
    let filter = match compiled {
        Ok(filter) => filter,
        Err(e) => {
            let _ = replies.send(Reply::Compiled(Err(e)));
            return;
        }
    };
    if replies.send(Reply::Compiled(Ok(()))).is_err() {
        return;
    }
    while let Ok(request) = recv_spinning(&requests, Duration::MAX) {
        GUARD_STATE.with(|g| g.peak.set(0));
        let Request {
            id,
            mode,
            state,
            events,
            max_time,
        } = request;
        let header = Header { mode, max_time };
        let result = catch_unwind(AssertUnwindSafe(|| {
            run_request(&filter, header, &progress, state, events)
        }));
        let panicked = result.is_err();
        let result = result.unwrap_or_else(|p| {
            let msg = format!("jq evaluation panicked: {}", panic_msg(&*p));
            Err((progress.load(Ordering::SeqCst), JqError::Runtime(msg)))
        });
        let retiring = panicked || GUARD_STATE.with(|g| g.peak.get()) > RETIRE_STACK_BYTES;
        let reply = Reply::Done {
            id,
            result,
            retiring,
        };
        if replies.send(reply).is_err() || retiring {
            return;
        }
    }
}

fn panic_msg(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// What an evaluation needs besides its values.
#[derive(Clone, Copy)]
struct Header {
    mode: Mode,
    max_time: Duration,
}

fn run_request(
    filter: &Filter,
    header: Header,
    progress: &AtomicUsize,
    mut state: Value,
    events: Vec<Value>,
) -> Result<Outcome, IndexedError> {
    let mut truth = false;
    for (index, event) in events.iter().enumerate() {
        match run_one(filter, header, &state, event).map_err(|e| (index, e))? {
            Outcome::State(v) => state = v,
            Outcome::Truth(b) => truth = b,
        }
        progress.fetch_add(1, Ordering::SeqCst);
    }
    Ok(match header.mode {
        Mode::Reduce => Outcome::State(state),
        Mode::Test => Outcome::Truth(truth),
    })
}

fn run_one(
    filter: &Filter,
    header: Header,
    state: &Value,
    event: &Value,
) -> Result<Outcome, JqError> {
    GUARD_STATE.with(|g| {
        g.tripped.set(None);
        g.probed.borrow_mut().clear();
    });
    let state = json_to_val(state);
    let event = json_to_val(event);
    let ctx = Ctx::<D>::new(&filter.lut, Vars::new([event]));
    let mut outputs = filter.id.run((ctx, state));
    let first = outputs.next();
    drop(outputs);
    match (tripped(), first) {
        (Some(trip), first) => {
            if let Some(Ok(v)) = first {
                drop_val(v);
            }
            Err(trip.to_error(header.max_time))
        }
        (None, None) => match header.mode {
            Mode::Reduce => Err(JqError::NoOutput),
            Mode::Test => Ok(Outcome::Truth(false)),
        },
        (None, Some(Err(exn))) => Err(exception_to_error(exn)),
        (None, Some(Ok(v))) => {
            let outcome = match header.mode {
                Mode::Test => Ok(Outcome::Truth(v.as_bool())),
                Mode::Reduce => val_to_json(&v).map(Outcome::State).map_err(|e| match e {
                    OutError::Budget(trip) => trip.to_error(header.max_time),
                    OutError::Other(msg) => JqError::Runtime(msg),
                }),
            };
            drop_val(v);
            outcome
        }
    }
}

fn exception_to_error(exn: Exn<'_, Val>) -> JqError {
    match exn.get_err() {
        Ok(err) => JqError::Runtime(error_message(err)),
        Err(exn) => match exn.get_halt() {
            Ok(code) => JqError::Runtime(format!("it called halt (exit code {code})")),
            Err(_) => internal("an internal jaq exception escaped"),
        },
    }
}

/// The message of a jq error: a string error value as is, any other value as JSON.
fn error_message(err: JaqError) -> String {
    let msg = match err.into_val() {
        Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(&s).into_owned(),
        other => other.to_string(),
    };
    one_line(&msg, 300)
}

/// Make `s` a single line of at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trip {
    Time,
    Stack,
    Depth,
    String(usize),
    Collection(usize),
    Path,
    OutputNodes,
}

impl Trip {
    fn to_error(self, max_time: Duration) -> JqError {
        JqError::Budget(match self {
            Trip::Time => format!(
                "it ran longer than its time budget of {}",
                fmt_duration(max_time)
            ),
            Trip::Stack => "its recursion went too deep".into(),
            Trip::Depth => {
                format!("it built a value nested more than {MAX_VALUE_DEPTH} levels deep")
            }
            Trip::String(n) => {
                format!("it built a string of {n} bytes, more than the limit of {MAX_STRING_BYTES}")
            }
            Trip::Collection(n) => format!(
                "it built an array or object of {n} elements, more than the limit of \
                 {MAX_COLLECTION_LEN}"
            ),
            Trip::Path => format!("it built a path longer than {MAX_PATH_LEN} steps"),
            Trip::OutputNodes => format!("its result has more than {MAX_OUTPUT_NODES} values"),
        })
    }
}

struct GuardState {
    /// Approximate stack address at the top of the worker thread.
    base: Cell<usize>,
    /// Highest stack use seen by the guard during the current evaluation.
    peak: Cell<usize>,
    /// Set once a limit is exceeded; every later guard call fails too.
    tripped: Cell<Option<Trip>>,
    /// Set by the waiting caller when the time budget is over.
    expired: OnceCell<Arc<AtomicBool>>,
    /// Values the depth probe searched during the current evaluation.
    probed: RefCell<ProbeCache>,
}

thread_local! {
    static GUARD_STATE: GuardState = const {
        GuardState {
            base: Cell::new(0),
            peak: Cell::new(0),
            tripped: Cell::new(None),
            expired: OnceCell::new(),
            probed: RefCell::new(ProbeCache::new()),
        }
    };
}

#[inline(never)]
fn stack_addr() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

fn tripped() -> Option<Trip> {
    GUARD_STATE.with(|g| g.tripped.get())
}

/// Record that a limit was exceeded and return the exception that aborts the evaluation.
fn trip<'a>(t: Trip) -> Exn<'a, Val> {
    GUARD_STATE.with(|g| {
        if g.tripped.get().is_none() {
            g.tripped.set(Some(t));
        }
    });
    abort()
}

/// The exception a tripped guard raises: jq's `halt`, which `try` and `?` cannot catch, so
/// the whole evaluation unwinds at once. [`run_one`] reports it as the trip that caused it.
fn abort<'a>() -> Exn<'a, Val> {
    Exn::halt(HALT_ON_TRIP)
}

fn expired() -> bool {
    GUARD_STATE.with(|g| g.expired.get().is_some_and(|e| e.load(Ordering::Relaxed)))
}

/// The guard: fails once a limit is exceeded. `input` is probed for excessive nesting.
fn guard<'a>(input: Option<&Val>) -> Result<(), Exn<'a, Val>> {
    let found = GUARD_STATE.with(|g| {
        if let Some(t) = g.tripped.get() {
            return Some(t);
        }
        if g.expired.get().is_some_and(|e| e.load(Ordering::Relaxed)) {
            return Some(Trip::Time);
        }
        let base = g.base.get();
        if base != 0 {
            let used = base.abs_diff(stack_addr());
            if used > g.peak.get() {
                g.peak.set(used);
            }
            if used > STACK_LIMIT_BYTES {
                return Some(Trip::Stack);
            }
        }
        None
    });
    if let Some(t) = found {
        return Err(trip(t));
    }
    if let Some(v) = input {
        let too_big = match v {
            Val::TStr(s) | Val::BStr(s) if s.len() > MAX_STRING_BYTES => {
                Some(Trip::String(s.len()))
            }
            Val::Arr(a) if a.len() > MAX_COLLECTION_LEN => Some(Trip::Collection(a.len())),
            Val::Obj(o) if o.len() > MAX_COLLECTION_LEN => Some(Trip::Collection(o.len())),
            _ if GUARD_STATE
                .with(|g| deeper_than(v, MAX_VALUE_DEPTH, &mut g.probed.borrow_mut())) =>
            {
                Some(Trip::Depth)
            }
            _ => None,
        };
        if let Some(t) = too_big {
            return Err(trip(t));
        }
    }
    Ok(())
}

/// Whether `v` is nested deeper than `limit` along the children the probe looks at: up to
/// [`PROBE_ENDS`] at each end of every array and object. Every container among them is
/// followed, within [`PROBE_BUDGET`] containers; past that, only the one
/// [`spine_deeper_than`] picks at each level.
fn deeper_than(v: &Val, limit: usize, cache: &mut ProbeCache) -> bool {
    probe_deeper_than(v, limit, PROBE_BUDGET, cache).unwrap_or_else(|| spine_deeper_than(v, limit))
}

/// Containers the depth probe searched completely, with their height, so that a loop that
/// wraps the value the guard saw last (`reduce … (.; [1, ., {}])`) does not search it again:
/// without this, each guard would search the whole value, and the loop would be quadratic.
///
/// An entry keeps its container's allocation with a weak reference, so the address cannot be
/// reused, and the contents cannot change: jaq mutates a value in place only through its only
/// reference, and with a weak one around it moves the value to a new allocation instead. So
/// a container at a cached address is the one that was searched.
struct ProbeCache {
    entries: Vec<Probed>,
    next: usize,
}

struct Probed {
    addr: *const (),
    height: usize,
    _pin: std::rc::Weak<dyn Any>,
}

impl ProbeCache {
    const SIZE: usize = 8;

    const fn new() -> Self {
        ProbeCache {
            entries: Vec::new(),
            next: 0,
        }
    }

    fn height(&self, addr: *const ()) -> Option<usize> {
        self.entries
            .iter()
            .find(|e| e.addr == addr)
            .map(|e| e.height)
    }

    fn insert(&mut self, v: &Val, height: usize) {
        let (addr, pin): (*const (), std::rc::Weak<dyn Any>) = match v {
            Val::Arr(a) => (
                jaq_json::Rc::as_ptr(a).cast(),
                jaq_json::Rc::downgrade(a) as std::rc::Weak<dyn Any>,
            ),
            Val::Obj(o) => (
                jaq_json::Rc::as_ptr(o).cast(),
                jaq_json::Rc::downgrade(o) as std::rc::Weak<dyn Any>,
            ),
            _ => return,
        };
        let probed = Probed {
            addr,
            height,
            _pin: pin,
        };
        if let Some(e) = self.entries.iter_mut().find(|e| e.addr == addr) {
            *e = probed;
        } else if self.entries.len() < Self::SIZE {
            self.entries.push(probed);
        } else {
            self.entries[self.next] = probed;
            self.next = (self.next + 1) % Self::SIZE;
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.next = 0;
    }
}

/// Depth-first search through the containers the probe looks at, the ones
/// [`spine_deeper_than`] prefers first; `None` once more than `budget` were visited (as a
/// value sharing its parts exponentially, `reduce range(40) as $i (0; [., .])`, soon does
/// unless each level was seen by a guard). A value searched completely is cached.
fn probe_deeper_than(v: &Val, limit: usize, budget: usize, cache: &mut ProbeCache) -> Option<bool> {
    let mut pending: Vec<(&Val, usize)> = Vec::new();
    let mut visits = 0usize;
    let mut height = 0usize;
    let mut next = Some((v, 1usize));
    while let Some((cur, depth)) = next.take().or_else(|| pending.pop()) {
        let (addr, len) = match cur {
            Val::Arr(a) => (jaq_json::Rc::as_ptr(a).cast::<()>(), a.len()),
            Val::Obj(o) => (jaq_json::Rc::as_ptr(o).cast::<()>(), o.len()),
            _ => continue,
        };
        let cached = cache.height(addr);
        let reach = cached.map_or(depth, |h| depth - 1 + h);
        if reach > limit {
            return Some(true);
        }
        height = height.max(reach);
        if cached.is_some() {
            continue;
        }
        visits += 1;
        if visits > budget {
            return None;
        }
        // Indices in order of preference: last, first, second to last, second, ...
        let mut order = [0usize; 2 * PROBE_ENDS];
        let mut n = 0;
        for k in 0..PROBE_ENDS.min(len) {
            for i in [len - 1 - k, k] {
                if !order[..n].contains(&i) {
                    order[n] = i;
                    n += 1;
                }
            }
        }
        // Go on with the preferred container child; search the others later.
        for &i in order[..n].iter().rev() {
            let kid = match cur {
                Val::Arr(a) => &a[i],
                Val::Obj(o) => &o[i],
                _ => unreachable!("only containers have children"),
            };
            if probed_container(kid) {
                if let Some(later) = next.replace((kid, depth + 1)) {
                    pending.push(later);
                }
            }
        }
    }
    cache.insert(v, height);
    Some(false)
}

/// A non-empty array or object: one the depth probe descends into.
fn probed_container(v: &Val) -> bool {
    match v {
        Val::Arr(a) => !a.is_empty(),
        Val::Obj(o) => !o.is_empty(),
        _ => false,
    }
}

/// Probe nesting along a single path: at each level, the first non-empty container among a
/// few children (the last and first ones first).
fn spine_deeper_than(v: &Val, limit: usize) -> bool {
    fn pick<'v>(len: usize, get: impl Fn(usize) -> &'v Val) -> Option<&'v Val> {
        for k in 0..PROBE_ENDS.min(len) {
            let back = get(len - 1 - k);
            if probed_container(back) {
                return Some(back);
            }
            let front = get(k);
            if probed_container(front) {
                return Some(front);
            }
        }
        None
    }
    let mut cur = v;
    let mut depth = 0;
    loop {
        let next = match cur {
            Val::Arr(a) => pick(a.len(), |i| &a[i]),
            Val::Obj(o) => pick(o.len(), |i| &o[i]),
            _ => return false,
        };
        depth += 1;
        if depth > limit {
            return true;
        }
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
}

fn guard_run(cv: Cv<'_, D>) -> ValXs<'_, Val> {
    match guard(Some(&cv.1)) {
        Ok(()) => box_once(Ok(cv.1)),
        Err(e) => box_once(Err(e)),
    }
}

/// `range($from; $upto; $by)` as in jaq, with the guard run for every value.
fn range_run(mut cv: Cv<'_, D>) -> ValXs<'_, Val> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let by = cv.0.pop_var();
    let to = cv.0.pop_var();
    let from = cv.0.pop_var();
    let dir = by.partial_cmp(&Val::from(0isize)).unwrap_or(Equal);
    let mut next: Option<Result<Val, JaqError>> = Some(Ok(from));
    Box::new(std::iter::from_fn(move || {
        let x = match next.take()? {
            Ok(x) => x,
            Err(e) => return Some(Err(Exn::from(e))),
        };
        let go_on = match dir {
            Greater => x < to,
            Less => x > to,
            Equal => x != to,
        };
        if !go_on {
            return None;
        }
        if let Err(e) = guard(None) {
            return Some(Err(e));
        }
        next = Some(x.clone() + by.clone());
        Some(Ok(x))
    }))
}

/// `l * r`, refusing string repetitions that would allocate more than [`MAX_STRING_BYTES`].
fn mul_run(mut cv: Cv<'_, D>) -> ValXs<'_, Val> {
    let r = cv.0.pop_var();
    let l = cv.0.pop_var();
    let repeat = match (&l, &r) {
        (Val::TStr(s) | Val::BStr(s), Val::Num(n)) | (Val::Num(n), Val::TStr(s) | Val::BStr(s)) => {
            Some((s.len(), n))
        }
        _ => None,
    };
    if let Some((len, n)) = repeat {
        let times = match n {
            Num::Int(i) => usize::try_from(*i).unwrap_or(0),
            Num::BigInt(b) if b.to_string().starts_with('-') => 0,
            Num::BigInt(_) => usize::MAX,
            _ => 0,
        };
        let bytes = len.saturating_mul(times);
        if bytes > MAX_STRING_BYTES {
            return box_once(Err(trip(Trip::String(bytes))));
        }
    }
    box_once((l * r).map_err(Exn::from))
}

/// `fromjson`, refusing texts nested deeper than [`MAX_VALUE_DEPTH`] (jaq's parser recurses).
fn fromjson_run(cv: Cv<'_, D>) -> ValXs<'_, Val> {
    let input = cv.1;
    let bytes = match input.try_as_utf8_bytes_owned() {
        Ok(b) => b,
        Err(e) => return box_once(Err(Exn::from(e))),
    };
    if json_nesting_exceeds(&bytes, MAX_VALUE_DEPTH) {
        let msg = format!("cannot parse JSON nested more than {MAX_VALUE_DEPTH} levels deep");
        return box_once(Err(Exn::from(JaqError::str(msg))));
    }
    let fail = move |r: Result<Val, jaq_json::read::Error>| {
        r.map_err(|e| JaqError::str(format_args!("cannot parse {input} as JSON: {e}")))
    };
    let values =
        jaq_json::bytes_valrs(bytes, |s| Box::new(jaq_json::read::parse_many(s).map(fail)));
    Box::new(values.map(|r| r.map_err(Exn::from)))
}

/// Whether brackets in a JSON text (outside strings and `#` comments) nest deeper than `limit`.
fn json_nesting_exceeds(text: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_str, mut escaped, mut in_comment) = (0usize, false, false, false);
    for &b in text {
        if in_comment {
            in_comment = b != b'\n';
        } else if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'#' => in_comment = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    false
}

fn natives() -> Vec<native::Fun<D>> {
    let replaced = |name: &str, arity: usize| {
        (name == "range" && arity == 3) || (name == "fromjson" && arity == 0)
    };
    let guard_input = Native::<D>::new(guard_run)
        .with_paths(|cv| {
            // jaq keeps paths as linked lists and drops them recursively.
            let checked = guard(Some(&cv.1 .0)).and_then(|()| {
                if cv.1 .1.get(MAX_PATH_LEN).is_some() {
                    Err(trip(Trip::Path))
                } else {
                    Ok(())
                }
            });
            match checked {
                Ok(()) => box_once(Ok(cv.1)),
                Err(e) => box_once(Err(e)),
            }
        })
        .with_update(|cv, f| match guard(Some(&cv.1)) {
            Ok(()) => f(cv.1),
            Err(e) => box_once(Err(e)),
        });
    // `!hindsight_guard($x)`: the guard, probing the value of a `$` parameter instead of `.`.
    let guard_param = Native::<D>::new(|mut cv| {
        let param = cv.0.pop_var();
        match guard(Some(&param)) {
            Ok(()) => box_once(Ok(cv.1)),
            Err(e) => box_once(Err(e)),
        }
    })
    .with_paths(|mut cv| {
        let param = cv.0.pop_var();
        match guard(Some(&param)) {
            Ok(()) => box_once(Ok(cv.1)),
            Err(e) => box_once(Err(e)),
        }
    })
    .with_update(|mut cv, f| {
        let param = cv.0.pop_var();
        match guard(Some(&param)) {
            Ok(()) => f(cv.1),
            Err(e) => box_once(Err(e)),
        }
    });
    let vivify = Native::<D>::new(|cv| box_once(Ok(cv.1)))
        .with_paths(|cv| box_once(Ok(cv.1)))
        .with_update(|cv, f| match cv.1 {
            Val::Null => f(Val::obj(Default::default())),
            v => f(v),
        });
    let own: [native::Fun<D>; 6] = [
        (GUARD, native::v(0), guard_input),
        (GUARD, native::v(1), guard_param),
        (VIVIFY, native::v(0), vivify),
        (MUL, native::v(2), Native::<D>::new(mul_run)),
        ("range", native::v(3), Native::<D>::new(range_run)),
        ("fromjson", native::v(0), Native::<D>::new(fromjson_run)),
    ];
    jaq_core::funs::<D>()
        .chain(jaq_std::funs::<D>())
        .chain(jaq_json::funs::<D>())
        .filter(|(name, args, _)| !replaced(name, args.len()))
        .chain(own)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Compilation and instrumentation
// ---------------------------------------------------------------------------------------------

fn compile_filter<'s>(code: &'s str) -> Result<Filter, JqError> {
    let tokens = lex::Lexer::new(code)
        .lex()
        .map_err(|errs| lex_error(code, &errs))?;
    if tokens.is_empty() {
        return Err(JqError::Compile(
            "the expression is empty (write `.` to keep the input unchanged)".into(),
        ));
    }
    let term = parse::Parser::new(&tokens)
        .parse(|p| p.term())
        .map_err(|errs| parse_error(code, &errs))?;
    if ast_deeper_than(&term, MAX_AST_DEPTH) {
        return Err(JqError::Compile(format!(
            "its syntax is nested more than {MAX_AST_DEPTH} levels deep (long chains of `,`, `|` or operators count as nesting)"
        )));
    }
    let std_defs: Vec<Def<&'s str>> = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .collect();
    let instrument = Instrument {
        recursive: recursive_defs(&std_defs, &term),
    };
    let main = Def {
        name: MAIN_DEF,
        args: Vec::new(),
        body: guarded(instrument.term(term)),
    };
    let mut prelude: Vec<Def<&'s str>> = std_defs.into_iter().map(|d| instrument.def(d)).collect();
    prelude.push(main);
    let arena = Arena::default();
    let modules = Loader::new(prelude)
        .load(
            &arena,
            File {
                code: MAIN_DEF,
                path: (),
            },
        )
        .map_err(|_| internal("the jq prelude does not load"))?;
    jaq_core::Compiler::default()
        .with_funs(natives())
        .with_global_vars(["$event"])
        .compile(modules)
        .map_err(|errs| undefined_error(code, errs))
}

fn position(code: &str, part: &str) -> String {
    let base = code.as_ptr() as usize;
    let start = part.as_ptr() as usize;
    if start < base || start > base + code.len() {
        return String::new();
    }
    let offset = start - base;
    let before = &code[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    if code.contains('\n') {
        format!(" (line {line}, column {column})")
    } else {
        format!(" (column {column})")
    }
}

fn snippet(s: &str) -> String {
    let s: String = s.chars().take(20).collect();
    one_line(&s, 20)
}

fn lex_error(code: &str, errs: &[lex::Error<&str>]) -> JqError {
    let Some((expect, rest)) = errs.first() else {
        return JqError::Compile("it cannot be tokenised".into());
    };
    let at = position(code, rest);
    JqError::Compile(match expect {
        lex::Expect::Delim(open) => {
            let what = match *open {
                "(" => "closing parenthesis",
                "[" => "closing bracket",
                "{" => "closing brace",
                _ => "closing quote",
            };
            format!("a {what} is missing{at}")
        }
        lex::Expect::Token => {
            let c = rest
                .chars()
                .next()
                .map(|c| c.to_string())
                .unwrap_or_default();
            format!("unexpected character `{}`{at}", snippet(&c))
        }
        other => format!("expected {}{at}", other.as_str()),
    })
}

fn parse_error(code: &str, errs: &[parse::TError<'_, &str>]) -> JqError {
    let Some((expect, found)) = errs.first() else {
        return JqError::Compile("it cannot be parsed".into());
    };
    let expected = expect.as_str();
    JqError::Compile(match found {
        Some(token) => {
            let s = token.as_str();
            let shown = if s.chars().count() > 20 {
                format!("{}…", snippet(s))
            } else {
                snippet(s)
            };
            format!(
                "expected {expected} but found `{shown}`{}",
                position(code, s)
            )
        }
        None => format!("expected {expected} but the expression ended"),
    })
}

fn undefined_error<P>(code: &str, errs: compile::Errors<&str, P>) -> JqError {
    let first = errs.into_iter().flat_map(|(_file, errs)| errs).next();
    let Some((name, undefined)) = first else {
        return JqError::Compile("it refers to something undefined".into());
    };
    let what = match undefined {
        compile::Undefined::Filter(arity) => format!("function `{name}/{arity}`"),
        other => format!("{} `{name}`", other.as_str()),
    };
    JqError::Compile(format!("undefined {what}{}", position(code, name)))
}

type T<'s> = Term<&'s str>;

/// Whether the syntax tree is deeper than `limit`, measured without recursion. Children of
/// sequences (object entries, `elif`s, path parts, ...) count as nested one inside the next,
/// as jaq evaluates them that way.
fn ast_deeper_than(root: &T<'_>, limit: usize) -> bool {
    use jaq_core::path::Part;
    enum Node<'a, 's> {
        Term(&'a T<'s>),
        Pat(&'a Pattern<&'s str>),
    }
    let mut stack = vec![(Node::Term(root), 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > limit {
            return true;
        }
        let mut seq = depth;
        let mut push_seq = |n| {
            seq += 1;
            stack.push((n, seq));
        };
        let t = match node {
            Node::Term(t) => t,
            Node::Pat(Pattern::Var(_)) => continue,
            Node::Pat(Pattern::Arr(ps)) => {
                ps.iter().for_each(|p| push_seq(Node::Pat(p)));
                continue;
            }
            Node::Pat(Pattern::Obj(kps)) => {
                for (k, p) in kps {
                    push_seq(Node::Term(k));
                    push_seq(Node::Pat(p));
                }
                continue;
            }
        };
        match t {
            T::Id | T::Recurse | T::Num(_) | T::Break(_) | T::Var(_) => {}
            T::Str(_, parts) => parts.iter().for_each(|p| {
                if let StrPart::Term(t) = p {
                    push_seq(Node::Term(t))
                }
            }),
            T::Arr(a) => a.iter().for_each(|t| push_seq(Node::Term(t))),
            T::Obj(kvs) => kvs.iter().for_each(|(k, v)| {
                push_seq(Node::Term(k));
                v.iter().for_each(|v| push_seq(Node::Term(v)));
            }),
            T::Neg(t) | T::Label(_, t) => push_seq(Node::Term(t)),
            T::BinOp(l, op, r) => {
                stack.push((Node::Term(l), depth + 1));
                stack.push((Node::Term(r), depth + 1));
                if let BinaryOp::Pipe(Some(p)) = op {
                    stack.push((Node::Pat(p), depth + 1));
                }
            }
            T::Fold(_, xs, pat, args) => {
                push_seq(Node::Term(xs));
                push_seq(Node::Pat(pat));
                args.iter().for_each(|a| push_seq(Node::Term(a)));
            }
            T::TryCatch(t, c) => {
                push_seq(Node::Term(t));
                c.iter().for_each(|c| push_seq(Node::Term(c)));
            }
            T::IfThenElse(ifs, els) => {
                for (i, t) in ifs {
                    push_seq(Node::Term(i));
                    push_seq(Node::Term(t));
                }
                els.iter().for_each(|e| push_seq(Node::Term(e)));
            }
            T::Def(defs, t) => {
                defs.iter().for_each(|d| push_seq(Node::Term(&d.body)));
                push_seq(Node::Term(t));
            }
            T::Call(_, args) => args.iter().for_each(|a| push_seq(Node::Term(a))),
            T::Path(t, path) => {
                push_seq(Node::Term(t));
                for (part, _) in &path.0 {
                    match part {
                        Part::Index(i) => push_seq(Node::Term(i)),
                        Part::Range(a, b) => a
                            .iter()
                            .chain(b.iter())
                            .for_each(|x| push_seq(Node::Term(x))),
                    }
                }
            }
        }
    }
    false
}

fn guarded(body: T<'_>) -> T<'_> {
    T::BinOp(
        Box::new(T::Call(GUARD, Vec::new())),
        BinaryOp::Pipe(None),
        Box::new(body),
    )
}

/// Push the terms directly inside `t`, including definition bodies and pattern keys.
fn subterms<'a, 's>(t: &'a T<'s>, out: &mut Vec<&'a T<'s>>) {
    use jaq_core::path::Part;
    fn pattern_terms<'a, 's>(p: &'a Pattern<&'s str>, out: &mut Vec<&'a T<'s>>) {
        let mut pats = vec![p];
        while let Some(p) = pats.pop() {
            match p {
                Pattern::Var(_) => {}
                Pattern::Arr(ps) => pats.extend(ps),
                Pattern::Obj(kps) => {
                    for (k, p) in kps {
                        out.push(k);
                        pats.push(p);
                    }
                }
            }
        }
    }
    match t {
        T::Id | T::Recurse | T::Num(_) | T::Break(_) | T::Var(_) => {}
        T::Str(_, parts) => out.extend(parts.iter().filter_map(|p| match p {
            StrPart::Term(t) => Some(t),
            _ => None,
        })),
        T::Arr(a) => out.extend(a.as_deref()),
        T::Obj(kvs) => {
            for (k, v) in kvs {
                out.push(k);
                out.extend(v);
            }
        }
        T::Neg(t) | T::Label(_, t) => out.push(t),
        T::BinOp(l, op, r) => {
            out.push(l);
            out.push(r);
            if let BinaryOp::Pipe(Some(p)) = op {
                pattern_terms(p, out);
            }
        }
        T::Fold(_, xs, pat, args) => {
            out.push(xs);
            pattern_terms(pat, out);
            out.extend(args);
        }
        T::TryCatch(t, c) => {
            out.push(t);
            out.extend(c.as_deref());
        }
        T::IfThenElse(ifs, els) => {
            for (i, t) in ifs {
                out.push(i);
                out.push(t);
            }
            out.extend(els.as_deref());
        }
        T::Def(defs, t) => {
            out.extend(defs.iter().map(|d| &d.body));
            out.push(t);
        }
        T::Call(_, args) => out.extend(args),
        T::Path(t, path) => {
            out.push(t);
            for (part, _) in &path.0 {
                match part {
                    Part::Index(i) => out.push(i),
                    Part::Range(a, b) => out.extend(a.iter().chain(b.iter())),
                }
            }
        }
    }
}

/// Name and arity of a definition or call.
type Sig<'s> = (&'s str, usize);

/// The definitions (by name and arity) that call themselves: a call to a definition of the
/// same name and arity occurs in their body, possibly inside definitions nested in it. Only
/// such a definition can be the target of a recursive call, tail call or not. Found without
/// recursion; a name shadowed by a nested definition can only add false positives.
fn recursive_defs<'s>(prelude: &[Def<&'s str>], main: &T<'s>) -> HashSet<Sig<'s>> {
    enum Item<'a, 's> {
        Term(&'a T<'s>),
        Enter(&'a Def<&'s str>),
        Leave(Sig<'s>),
    }
    let mut open: HashMap<Sig<'s>, usize> = HashMap::new();
    let mut found = HashSet::new();
    let mut stack: Vec<Item<'_, 's>> = prelude.iter().map(Item::Enter).collect();
    stack.push(Item::Term(main));
    let mut children = Vec::new();
    while let Some(item) = stack.pop() {
        match item {
            Item::Enter(d) => {
                let sig = (d.name, d.args.len());
                *open.entry(sig).or_default() += 1;
                stack.push(Item::Leave(sig));
                stack.push(Item::Term(&d.body));
            }
            Item::Leave(sig) => {
                if let Some(n) = open.get_mut(&sig) {
                    *n -= 1;
                }
            }
            Item::Term(T::Def(defs, rest)) => {
                stack.push(Item::Term(rest));
                stack.extend(defs.iter().map(Item::Enter));
            }
            Item::Term(t) => {
                if let T::Call(name, args) = t {
                    let sig = (*name, args.len());
                    if open.get(&sig).is_some_and(|&n| n > 0) {
                        found.insert(sig);
                    }
                }
                subterms(t, &mut children);
                stack.extend(children.drain(..).map(Item::Term));
            }
        }
    }
    found
}

/// Rewrites syntax trees to insert the guards (see the module documentation).
///
/// Recursion is what lets an evaluation grow without bound while it uses little stack: jaq
/// runs a tail call in constant stack, and values, closures and paths then pile up in the
/// heap, in linked structures that jaq drops (or evaluates) by recursion once they are long
/// enough to overflow any stack. So a definition that calls itself (see [`recursive_defs`])
/// gets more instrumentation than one that does not:
///
/// * the guard also probes its `$` parameters, which a tail call can carry from one
///   iteration to the next like `.` (`def f($x): f([$x])`);
/// * if it has a filter parameter, its body becomes `(body | .)`, so no call to it is ever a
///   tail call. A call passing a filter argument binds a closure that captures the caller's
///   variables, so tail calls such as `def f(g): f(g)` chain closures without end; as
///   ordinary calls they use stack, which the guard measures;
/// * the arguments of calls to it are guarded, because evaluating a closure made of closures
///   (`def f(g): f([g])`) recurses without entering a definition.
struct Instrument<'s> {
    recursive: HashSet<Sig<'s>>,
}

impl<'s> Instrument<'s> {
    fn def(&self, d: Def<&'s str>) -> Def<&'s str> {
        let pipe = |l: T<'s>, r: T<'s>| T::BinOp(Box::new(l), BinaryOp::Pipe(None), Box::new(r));
        let mut body = self.term(d.body);
        if self.recursive.contains(&(d.name, d.args.len())) {
            if d.args.iter().any(|a| !a.starts_with('$')) {
                body = pipe(body, T::Id);
            }
            for param in d.args.iter().rev().filter(|a| a.starts_with('$')) {
                body = pipe(T::Call(GUARD, vec![T::Var(*param)]), body);
            }
        }
        Def {
            name: d.name,
            args: d.args,
            body: guarded(body),
        }
    }

    fn pattern(&self, p: Pattern<&'s str>) -> Pattern<&'s str> {
        match p {
            Pattern::Var(x) => Pattern::Var(x),
            Pattern::Arr(ps) => Pattern::Arr(ps.into_iter().map(|p| self.pattern(p)).collect()),
            Pattern::Obj(kps) => Pattern::Obj(
                kps.into_iter()
                    .map(|(k, p)| (self.term(k), self.pattern(p)))
                    .collect(),
            ),
        }
    }

    fn boxed(&self, mut t: Box<T<'s>>) -> Box<T<'s>> {
        *t = self.term(std::mem::take(&mut *t));
        t
    }

    /// Insert guards into definitions and folds, and route `*` through the checked native.
    fn term(&self, t: T<'s>) -> T<'s> {
        use jaq_core::path::{Part, Path};
        match t {
            T::Id | T::Recurse | T::Num(_) | T::Break(_) | T::Var(_) => t,
            T::Str(fmt, parts) => T::Str(
                fmt,
                parts
                    .into_iter()
                    .map(|p| match p {
                        StrPart::Term(t) => StrPart::Term(self.term(t)),
                        StrPart::Str(s) => StrPart::Str(s),
                        StrPart::Char(c) => StrPart::Char(c),
                    })
                    .collect(),
            ),
            T::Arr(a) => T::Arr(a.map(|a| self.boxed(a))),
            T::Obj(kvs) => T::Obj(
                kvs.into_iter()
                    .map(|(k, v)| (self.term(k), v.map(|v| self.term(v))))
                    .collect(),
            ),
            T::Neg(t) => T::Neg(self.boxed(t)),
            T::BinOp(l, BinaryOp::Math(ops::Math::Mul), r) => {
                T::Call(MUL, vec![self.term(*l), self.term(*r)])
            }
            T::BinOp(l, BinaryOp::UpdateMath(ops::Math::Mul), r) => {
                // `l *= r` is `r as $x | l |= . * $x`
                let update = T::BinOp(
                    Box::new(vivify(self.term(*l))),
                    BinaryOp::Update,
                    Box::new(T::Call(MUL, vec![T::Id, T::Var(MUL_VAR)])),
                );
                T::BinOp(
                    self.boxed(r),
                    BinaryOp::Pipe(Some(Pattern::Var(MUL_VAR))),
                    Box::new(update),
                )
            }
            T::BinOp(l, op, r) => {
                let l = match op {
                    BinaryOp::Assign
                    | BinaryOp::Update
                    | BinaryOp::UpdateMath(_)
                    | BinaryOp::UpdateAlt => vivify(self.term(*l)),
                    _ => self.term(*l),
                };
                let op = match op {
                    BinaryOp::Pipe(Some(p)) => BinaryOp::Pipe(Some(self.pattern(p))),
                    op => op,
                };
                T::BinOp(Box::new(l), op, self.boxed(r))
            }
            T::Label(x, t) => T::Label(x, self.boxed(t)),
            T::Fold(name, xs, pat, args) => {
                let args = args
                    .into_iter()
                    .enumerate()
                    .map(|(i, a)| {
                        if i == 1 {
                            guarded(self.term(a))
                        } else {
                            self.term(a)
                        }
                    })
                    .collect();
                T::Fold(name, self.boxed(xs), self.pattern(pat), args)
            }
            T::TryCatch(t, c) => T::TryCatch(self.boxed(t), c.map(|c| self.boxed(c))),
            T::IfThenElse(ifs, els) => T::IfThenElse(
                ifs.into_iter()
                    .map(|(i, t)| (self.term(i), self.term(t)))
                    .collect(),
                els.map(|e| self.boxed(e)),
            ),
            T::Def(defs, t) => T::Def(
                defs.into_iter().map(|d| self.def(d)).collect(),
                self.boxed(t),
            ),
            T::Call(name, args) => {
                let guard_args = self.recursive.contains(&(name, args.len()));
                let args = args.into_iter().map(|a| {
                    let a = self.term(a);
                    if guard_args {
                        guarded(a)
                    } else {
                        a
                    }
                });
                T::Call(name, args.collect())
            }
            T::Path(t, Path(parts)) => {
                let parts = parts
                    .into_iter()
                    .map(|(part, opt)| {
                        let part = match part {
                            Part::Index(i) => Part::Index(self.term(i)),
                            Part::Range(a, b) => {
                                Part::Range(a.map(|a| self.term(a)), b.map(|b| self.term(b)))
                            }
                        };
                        (part, opt)
                    })
                    .collect();
                T::Path(self.boxed(t), Path(parts))
            }
        }
    }
}

/// Rewrite the paths of an assignment's left-hand side so that a `null` met on the way to an
/// object key becomes `{}` when updating, as jq does (`null | .a.b = 1` is `{"a":{"b":1}}`;
/// jaq alone fails with "cannot use null as iterable"). `t[k1][k2]` becomes
/// `((t | viv)[k1] | viv)[k2]`: the index terms still run on the original input, and `viv` is
/// the identity when reading, so only updates change. Numeric keys are left alone: jaq cannot
/// grow arrays on assignment anyway.
fn vivify<'s>(t: T<'s>) -> T<'s> {
    use jaq_core::path::{Part, Path};
    let viv = |t: T<'s>| -> T<'s> {
        T::BinOp(
            Box::new(t),
            BinaryOp::Pipe(None),
            Box::new(T::Call(VIVIFY, Vec::new())),
        )
    };
    let numeric = |k: &T<'s>| match k {
        T::Num(_) => true,
        T::Neg(n) => matches!(**n, T::Num(_)),
        _ => false,
    };
    match t {
        T::Path(base, Path(parts)) => {
            let mut acc = vivify(*base);
            for (part, opt) in parts {
                if matches!(&part, Part::Index(k) if !numeric(k)) {
                    acc = viv(acc);
                }
                acc = T::Path(Box::new(acc), Path(vec![(part, opt)]));
            }
            acc
        }
        T::BinOp(l, op @ (BinaryOp::Pipe(_) | BinaryOp::Comma | BinaryOp::Alt), r) => {
            T::BinOp(Box::new(vivify(*l)), op, Box::new(vivify(*r)))
        }
        T::IfThenElse(ifs, els) => T::IfThenElse(
            ifs.into_iter().map(|(i, t)| (i, vivify(t))).collect(),
            els.map(|e| Box::new(vivify(*e))),
        ),
        T::Def(defs, t) => T::Def(defs, Box::new(vivify(*t))),
        T::Label(x, t) => T::Label(x, Box::new(vivify(*t))),
        T::Call(name, args) => T::Call(name, args.into_iter().map(vivify).collect()),
        t => t,
    }
}

// ---------------------------------------------------------------------------------------------
// Value conversion
// ---------------------------------------------------------------------------------------------

fn json_to_val(v: &Value) -> Val {
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => Val::Num(if let Some(i) = n.as_i64() {
            Num::from_integral(i)
        } else if let Some(u) = n.as_u64() {
            Num::from_integral(u)
        } else {
            Num::Float(n.as_f64().unwrap_or(f64::NAN))
        }),
        Value::String(s) => Val::from(s.clone()),
        Value::Array(a) => a.iter().map(json_to_val).collect(),
        Value::Object(o) => Val::obj(
            o.iter()
                .map(|(k, v)| (Val::from(k.clone()), json_to_val(v)))
                .collect(),
        ),
    }
}

enum OutError {
    Budget(Trip),
    Other(String),
}

fn val_to_json(v: &Val) -> Result<Value, OutError> {
    fn go(v: &Val, depth: usize, nodes: &mut usize) -> Result<Value, OutError> {
        *nodes += 1;
        if *nodes > MAX_OUTPUT_NODES {
            return Err(OutError::Budget(Trip::OutputNodes));
        }
        if *nodes % 4096 == 0 && expired() {
            return Err(OutError::Budget(Trip::Time));
        }
        let too_deep = || {
            OutError::Other(format!(
                "its result is nested more than {MAX_OUTPUT_DEPTH} levels deep"
            ))
        };
        Ok(match v {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => num_to_json(n),
            Val::TStr(s) | Val::BStr(s) => Value::String(String::from_utf8_lossy(s).into_owned()),
            Val::Arr(a) => {
                if depth >= MAX_OUTPUT_DEPTH {
                    return Err(too_deep());
                }
                let items = a.iter().map(|x| go(x, depth + 1, nodes));
                Value::Array(items.collect::<Result<_, _>>()?)
            }
            Val::Obj(o) => {
                if depth >= MAX_OUTPUT_DEPTH {
                    return Err(too_deep());
                }
                let mut map = serde_json::Map::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(s).into_owned(),
                        other => {
                            return Err(OutError::Other(format!(
                                "its result has an object key that is not a string: {}",
                                one_line(&other.to_string(), 60)
                            )))
                        }
                    };
                    map.insert(key, go(v, depth + 1, nodes)?);
                }
                Value::Object(map)
            }
        })
    }
    go(v, 0, &mut 0)
}

fn num_to_json(n: &Num) -> Value {
    let float = |f: f64| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number);
    match n {
        Num::Int(i) => Value::from(*i as i64),
        Num::BigInt(b) => {
            let s = b.to_string();
            if let Ok(i) = s.parse::<i64>() {
                Value::from(i)
            } else if let Ok(u) = s.parse::<u64>() {
                Value::from(u)
            } else {
                float(s.parse::<f64>().unwrap_or(f64::NAN))
            }
        }
        Num::Float(f) => float(*f),
        Num::Dec(s) => float(s.parse::<f64>().unwrap_or(f64::NAN)),
    }
}

/// Drop a jaq value without recursion (jaq's own drop recurses once per nesting level).
fn drop_val(v: Val) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Val::Arr(a) => {
                if let Ok(items) = jaq_json::Rc::try_unwrap(a) {
                    stack.extend(items);
                }
            }
            Val::Obj(o) => {
                if let Ok(map) = jaq_json::Rc::try_unwrap(o) {
                    for (k, v) in map {
                        stack.push(k);
                        stack.push(v);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Instant;

    fn prog(expr: &str) -> JqProgram {
        JqProgram::compile(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    fn one_sec() -> Budget {
        Budget {
            max_time: Duration::from_secs(1),
        }
    }

    fn event() -> Value {
        json!({
            "seq": 7,
            "ts": "2024-05-01T12:00:00Z",
            "type": "order.created",
            "key": "order-42",
            "level": "info",
            "payload": {"amount": 12.5, "items": [1, 2, 3], "user": {"id": 9}}
        })
    }

    fn reduce(expr: &str, state: Value) -> Result<Value, JqError> {
        prog(expr).reduce(&state, &event(), &Budget::default())
    }

    fn test_(expr: &str, state: Value, event: Value) -> Result<bool, JqError> {
        prog(expr).test(&state, &event, &Budget::default())
    }

    fn compile_err(expr: &str) -> String {
        match JqProgram::compile(expr) {
            Err(e @ JqError::Compile(_)) => e.to_string(),
            Err(e) => panic!("{expr}: expected a compile error, got {e:?}"),
            Ok(_) => panic!("{expr}: expected a compile error, but it compiled"),
        }
    }

    /// One line, one sentence: no line breaks, no sentence-ending full stop.
    fn assert_one_sentence(msg: &str) {
        assert!(
            !msg.contains('\n') && !msg.contains('\r'),
            "multi-line: {msg:?}"
        );
        assert!(!msg.ends_with('.'), "ends with a full stop: {msg:?}");
        assert!(!msg.contains(". "), "several sentences: {msg:?}");
        assert!(msg.starts_with("the jq expression "), "{msg:?}");
    }

    #[test]
    fn program_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<JqProgram>();
        check::<JqError>();
    }

    #[test]
    fn budget_default_is_two_seconds() {
        assert_eq!(Budget::default().max_time, Duration::from_secs(2));
    }

    #[test]
    fn counts() {
        let p = prog(".count += 1");
        let mut state = json!({});
        for _ in 0..3 {
            state = p.reduce(&state, &event(), &Budget::default()).unwrap();
        }
        assert_eq!(state, json!({"count": 3}));
    }

    #[test]
    fn reads_the_event() {
        let expr = ".total += $event.payload.amount | .by_type[$event.type] += 1 \
                    | .last = {seq: $event.seq, key: $event.key, level: $event.level, ts: $event.ts} \
                    | .items = ($event.payload.items | map(. * 10))";
        let out = reduce(expr, json!({"total": 1})).unwrap();
        assert_eq!(
            out,
            json!({
                "total": 13.5,
                "by_type": {"order.created": 1},
                "last": {"seq": 7, "key": "order-42", "level": "info", "ts": "2024-05-01T12:00:00Z"},
                "items": [10, 20, 30]
            })
        );
    }

    #[test]
    fn event_may_be_null() {
        let p = prog("$event");
        assert_eq!(
            p.reduce(&json!(1), &Value::Null, &one_sec()).unwrap(),
            Value::Null
        );
        assert!(!p.test(&json!(1), &Value::Null, &one_sec()).unwrap());
    }

    #[test]
    fn setpath_del_and_paths() {
        let state = json!({"a": {"b": 1, "c": [1, 2, 3]}, "x": true});
        assert_eq!(
            reduce(r#"setpath(["a", "d"]; $event.seq)"#, state.clone()).unwrap(),
            json!({"a": {"b": 1, "c": [1, 2, 3], "d": 7}, "x": true})
        );
        assert_eq!(
            reduce("del(.x)", state.clone()).unwrap(),
            json!({"a": {"b": 1, "c": [1, 2, 3]}})
        );
        assert_eq!(
            reduce("del(.a.c[] | select(. == 2))", state.clone()).unwrap(),
            json!({"a": {"b": 1, "c": [1, 3]}, "x": true})
        );
        assert_eq!(
            reduce(r#"delpaths([["a"], ["x"]])"#, state.clone()).unwrap(),
            json!({})
        );
        // Updates through guarded definitions (select, getpath, recurse).
        assert_eq!(
            reduce(
                "(.a.c[] | select(. > 1)) |= . * 100 | .a.b = 5",
                state.clone()
            )
            .unwrap(),
            json!({"a": {"b": 5, "c": [1, 200, 300]}, "x": true})
        );
        assert_eq!(
            reduce(
                r#"getpath(["a", "b"]) += 1 | (.. | numbers) |= -."#,
                state.clone()
            )
            .unwrap(),
            json!({"a": {"b": -2, "c": [-1, -2, -3]}, "x": true})
        );
        assert_eq!(
            reduce("[paths]", json!({"a": [1]})).unwrap(),
            json!([["a"], ["a", 0]])
        );
        assert_eq!(
            reduce("[path(..)] | length", json!({"a": [1, 2]})).unwrap(),
            json!(4)
        );
    }

    #[test]
    fn assignments_create_missing_objects_like_jq() {
        assert_eq!(
            reduce(".count += 1", Value::Null).unwrap(),
            json!({"count": 1})
        );
        assert_eq!(
            reduce(".by_type[$event.type] += 1", json!({})).unwrap(),
            json!({"by_type": {"order.created": 1}})
        );
        assert_eq!(
            reduce(
                ".by_type[$event.type] += 1",
                json!({"by_type": {"order.created": 2}})
            )
            .unwrap(),
            json!({"by_type": {"order.created": 3}})
        );
        assert_eq!(
            reduce(".a.b.c = 1", Value::Null).unwrap(),
            json!({"a": {"b": {"c": 1}}})
        );
        assert_eq!(
            reduce(
                ".a[\"x\"].y |= (. // 0) + 2 | .a.z //= 5",
                json!({"a": null})
            )
            .unwrap(),
            json!({"a": {"x": {"y": 2}, "z": 5}})
        );
        assert_eq!(
            reduce(".users[$event.key] = $event.payload.user", json!({})).unwrap(),
            json!({"users": {"order-42": {"id": 9}}})
        );
        assert_eq!(
            reduce("(.a, .b.c) = 1", Value::Null).unwrap(),
            json!({"a": 1, "b": {"c": 1}})
        );
        assert_eq!(
            reduce(".a.b *= 2", json!({"a": {"b": 3}})).unwrap(),
            json!({"a": {"b": 6}})
        );
        // Index expressions still see the original input.
        assert_eq!(
            reduce(".m[.k] = 1", json!({"k": "key"})).unwrap(),
            json!({"k": "key", "m": {"key": 1}})
        );
        // Reading is unaffected.
        assert_eq!(
            reduce("[.a.b, .a[0]?]", Value::Null).unwrap(),
            json!([null, null])
        );
        assert_eq!(
            reduce("[path(.a.b)]", Value::Null).unwrap(),
            json!([["a", "b"]])
        );
        // jaq cannot grow arrays on assignment, and only assignments create objects.
        assert!(matches!(
            reduce(".a[0] = 1", json!({})),
            Err(JqError::Runtime(_))
        ));
        assert!(matches!(
            reduce("[] | .[0] = 1", json!({})),
            Err(JqError::Runtime(_))
        ));
        assert!(matches!(
            reduce("del(.a.b)", json!({})),
            Err(JqError::Runtime(_))
        ));
        // A non-object, non-null value in the way is still an error.
        assert!(matches!(
            reduce(".a.b = 1", json!({"a": 5})),
            Err(JqError::Runtime(_))
        ));
    }

    #[test]
    fn standard_library_still_works() {
        let cases = [
            ("[range(5)]", json!([0, 1, 2, 3, 4])),
            ("[range(2; 10; 3)]", json!([2, 5, 8])),
            ("[range(5; 0; -2)]", json!([5, 3, 1])),
            ("[range(0; 1; 0.5)]", json!([0, 0.5])),
            ("[range(3; 1)]", json!([])),
            ("[limit(3; repeat(1))]", json!([1, 1, 1])),
            ("[.[] | select(. > 1)] | map(. * 2) | add", json!(10)),
            ("to_entries | map(.key)", json!([0, 1, 2])),
            ("[recurse(if . < 3 then . + 1 else empty end)]", json!(null)),
            ("[first(range(10; 0; -1))]", json!([10])),
            ("[.[] | tostring] | join(\"-\")", json!("1-2-3")),
            ("map(tojson) | map(fromjson)", json!([1, 2, 3])),
            ("\"a,b\" | split(\",\")", json!(["a", "b"])),
            ("\"abc\" | test(\"b\")", json!(true)),
            ("\"aXbX\" | gsub(\"X\"; \"-\")", json!("a-b-")),
            ("\"ab\" * 3", json!("ababab")),
            ("\"ab\" * 0", json!(null)),
            ("6 * 7", json!(42)),
            ("{a: 1} * {b: {c: 2}}", json!({"a": 1, "b": {"c": 2}})),
            ("{x: 3} | .x *= 2", json!({"x": 6})),
            ("[group_by(. % 2)[] | length]", json!([1, 2])),
            ("[until(. > 100; . * 2)] | length", json!(null)),
            ("walk(if type == \"number\" then . + 1 else . end)", json!([2, 3, 4])),
            (". as [$a, $b] | $a + $b", json!(3)),
            ("reduce .[] as $x (0; . + $x)", json!(6)),
            ("[foreach .[] as $x (0; . + $x)]", json!([1, 3, 6])),
            ("label $out | foreach .[] as $x (0; . + $x; if . > 2 then ., break $out else . end)", json!(1)),
            ("try error(\"x\") catch .", json!("x")),
            ("[.[] | tostring | ascii_downcase | @base64 | @base64d]", json!(["1", "2", "3"])),
            ("\"x\\(.[0] + 1)y\"", json!("x2y")),
            ("any(. > 2)", json!(true)),
            ("[.[] | {v: .}] | unique_by(.v) | length", json!(3)),
            ("now | type", json!("number")),
        ];
        for (expr, expected) in cases {
            let out = prog(expr).reduce(&json!([1, 2, 3]), &event(), &one_sec());
            match expected {
                // `null` in the table means "any successful result" for inputs that differ.
                Value::Null => assert!(out.is_ok(), "{expr}: {out:?}"),
                _ => assert_eq!(out, Ok(expected), "{expr}"),
            }
        }
        assert_eq!(
            reduce("[recurse(if . < 3 then . + 1 else empty end)]", json!(0)).unwrap(),
            json!([0, 1, 2, 3])
        );
        assert_eq!(
            reduce("[until(. > 100; . * 2)]", json!(3)).unwrap(),
            json!([192])
        );
    }

    #[test]
    fn first_output_wins_and_later_ones_are_not_evaluated() {
        assert_eq!(
            reduce(".a = 1, .a = 2", json!({})).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            reduce(".a = 1, error(\"boom\")", json!({})).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            reduce(".a = 1, last(repeat(1))", json!({})).unwrap(),
            json!({"a": 1})
        );
    }

    #[test]
    fn no_output_is_an_error_for_reducers() {
        assert_eq!(reduce("empty", json!({})), Err(JqError::NoOutput));
        assert_eq!(reduce("select(.x)", json!({})), Err(JqError::NoOutput));
        assert_one_sentence(&JqError::NoOutput.to_string());
    }

    #[test]
    fn runtime_errors() {
        let e = reduce("error(\"custom failure\")", json!({})).unwrap_err();
        assert_eq!(e, JqError::Runtime("custom failure".into()));
        assert_one_sentence(&e.to_string());

        let e = reduce(".a.b", json!({"a": 5})).unwrap_err();
        let JqError::Runtime(msg) = &e else {
            panic!("{e:?}")
        };
        assert!(msg.contains("cannot index 5"), "{msg}");
        assert_one_sentence(&e.to_string());

        let e = reduce("error({code: 1, why: \"multi\\nline\"})", json!({})).unwrap_err();
        let JqError::Runtime(msg) = &e else {
            panic!("{e:?}")
        };
        assert!(msg.contains("\"code\"") && !msg.contains('\n'), "{msg}");

        let e = reduce("error(\"a\\nb\")", json!({})).unwrap_err();
        assert_eq!(e, JqError::Runtime("a b".into()));

        let e = reduce("error(\"x\" * 5000)", json!({})).unwrap_err();
        let JqError::Runtime(msg) = &e else {
            panic!("{e:?}")
        };
        assert!(msg.chars().count() <= 301, "{}", msg.len());

        assert!(matches!(
            reduce("[] | .[\"a\"]", json!(null)),
            Err(JqError::Runtime(_))
        ));
        assert!(matches!(
            reduce("$event.payload.amount | keys", json!(null)),
            Err(JqError::Runtime(_))
        ));
    }

    #[test]
    fn halt_is_an_error_not_an_exit() {
        assert!(matches!(reduce("halt", json!(1)), Err(JqError::Runtime(m)) if m.contains("halt")));
        assert!(matches!(
            reduce("\"bye\" | halt_error", json!(1)),
            Err(JqError::Runtime(_))
        ));
    }

    #[test]
    fn predicates() {
        let ev = event();
        assert_eq!(test_(".n > 1", json!({"n": 2}), ev.clone()), Ok(true));
        assert_eq!(test_(".n > 1", json!({"n": 0}), ev.clone()), Ok(false));
        assert_eq!(test_("null", json!({}), ev.clone()), Ok(false));
        assert_eq!(test_("false", json!({}), ev.clone()), Ok(false));
        assert_eq!(test_(".missing", json!({}), ev.clone()), Ok(false));
        assert_eq!(
            test_("0, false", json!({}), ev.clone()),
            Ok(true),
            "0 is truthy"
        );
        assert_eq!(test_("\"\"", json!({}), ev.clone()), Ok(true));
        assert_eq!(test_("empty", json!({}), ev.clone()), Ok(false));
        assert_eq!(
            test_("$event.type == \"order.created\"", json!({}), ev.clone()),
            Ok(true)
        );
        assert_eq!(
            test_("$event.type == \"order.created\"", json!({}), Value::Null),
            Ok(false)
        );
        assert_eq!(
            test_("true, error(\"later\")", json!({}), ev.clone()),
            Ok(true)
        );
        let e = test_("error(\"bad\")", json!({}), ev.clone()).unwrap_err();
        assert_eq!(e, JqError::Runtime("bad".into()));
        assert!(matches!(
            test_(".a.b", json!({"a": "s"}), ev),
            Err(JqError::Runtime(_))
        ));
    }

    #[test]
    fn compile_errors_are_one_sentence_with_a_position() {
        let msg = compile_err(".[");
        assert_one_sentence(&msg);
        assert!(
            msg.starts_with("the jq expression does not compile: "),
            "{msg}"
        );
        assert!(msg.contains("column"), "{msg}");

        let msg = compile_err(".a | ]");
        assert_one_sentence(&msg);
        assert!(msg.contains("column"), "{msg}");

        let msg = compile_err("1 +");
        assert_one_sentence(&msg);

        let msg = compile_err("if . then 1");
        assert_one_sentence(&msg);

        let msg = compile_err(".a |\n  map(.b) | $nope");
        assert_one_sentence(&msg);
        assert!(
            msg.contains("undefined variable `$nope` (line 2, column 13)"),
            "{msg}"
        );

        let msg = compile_err("frobnicate(1)");
        assert!(
            msg.contains("undefined function `frobnicate/1` (column 1)"),
            "{msg}"
        );

        let msg = compile_err("\"unterminated");
        assert_one_sentence(&msg);

        let msg = compile_err("1 & 2");
        assert_one_sentence(&msg);
        assert!(msg.contains("column 3"), "{msg}");

        for internal_name in ["!hindsight_guard", "$!hindsight_mul", "input", "$ENV"] {
            assert_one_sentence(&compile_err(internal_name));
        }
    }

    #[test]
    fn empty_program_is_rejected() {
        for expr in ["", "   ", "# only a comment\n"] {
            let msg = compile_err(expr);
            assert_one_sentence(&msg);
            assert!(msg.contains("empty"), "{msg}");
        }
    }

    #[test]
    fn oversized_and_overnested_expressions_are_rejected_without_crashing() {
        let long = ".".repeat(MAX_EXPR_BYTES + 1);
        assert_one_sentence(&compile_err(&long));
        // The worst nesting that fits in the length limit parses without exhausting the stack.
        let nested = format!("{}1{}", "[".repeat(8_000), "]".repeat(8_000));
        assert!(compile_err(&nested).contains("nested"));
        let chain = format!("1{}", " + 1".repeat(3_000));
        assert!(compile_err(&chain).contains("nested"));
        let negs = format!("{}1", "-".repeat(MAX_EXPR_BYTES - 1));
        assert!(compile_err(&negs).contains("nested"));
        let list = format!("[{}1]", "1,".repeat(2_500));
        assert_one_sentence(&compile_err(&list));
        // Parentheses do not nest the syntax tree; 8 000 of them compile and run.
        let parens = format!("{}1{}", "(".repeat(8_000), ")".repeat(8_000));
        assert_eq!(
            prog(&parens).reduce(&json!(0), &event(), &one_sec()),
            Ok(json!(1))
        );
        // A moderately deep expression is fine.
        let ok = format!("{}.{}", "[".repeat(200), "]".repeat(200));
        assert!(prog(&ok).test(&json!(0), &event(), &one_sec()).unwrap());
        let list = format!("[{}1] | length", "1,".repeat(1_500));
        assert_eq!(
            prog(&list).reduce(&json!(0), &event(), &one_sec()),
            Ok(json!(1_501))
        );
    }

    fn assert_stopped(expr: &str) {
        let p = prog(expr);
        let start = Instant::now();
        let out = p.reduce(&json!({"a": 1}), &event(), &one_sec());
        let took = start.elapsed();
        assert!(
            matches!(out, Err(JqError::Budget(_) | JqError::Runtime(_))),
            "{expr}: {out:?}"
        );
        if let Err(e) = &out {
            assert_one_sentence(&e.to_string());
            // The guards, not the caller's last resort, must have stopped it.
            assert!(!e.to_string().contains("abandoned"), "{expr}: {e}");
        }
        assert!(took < Duration::from_secs(5), "{expr} took {took:?}");
    }

    #[test]
    fn runaway_tail_recursion() {
        assert_stopped("def f: f; f");
    }

    #[test]
    fn runaway_deep_recursion() {
        assert_stopped("def f: 1 + f; f");
        assert_stopped("def f: [f]; f");
        assert_stopped("def f(g): f(g | g); f(.)");
        // Stopped by the stack guard, not by the deadline (see the next test).
        let out = prog("def f(g): f(g | g); f(.)").reduce(&json!(0), &event(), &one_sec());
        assert!(
            matches!(&out, Err(JqError::Budget(m)) if m.contains("recursion")),
            "{out:?}"
        );
    }

    /// Run `expr` with a generous budget, so that only a guard (never the deadline) stops it.
    /// Each expression given terminates by itself after a few million steps (seconds) if
    /// nothing stops it, and all did abort the process before the guards covered them.
    fn stopped_by_a_guard(expr: &str, input: Value) -> String {
        let budget = Budget {
            max_time: Duration::from_secs(120),
        };
        let start = Instant::now();
        let out = prog(expr).reduce(&input, &event(), &budget);
        let Err(JqError::Budget(msg)) = &out else {
            panic!("{expr}: {out:?}")
        };
        assert!(!msg.contains("time budget"), "{expr}: {msg}");
        assert!(start.elapsed() < Duration::from_secs(30), "{expr}");
        msg.clone()
    }

    #[test]
    fn recursion_through_closures_cannot_overflow_the_stack() {
        // jaq runs tail calls in constant stack, and a call passing a filter argument binds a
        // closure capturing the caller's variables: `f(g)` in tail position chained closures in
        // the heap, millions per second, and jaq then dropped or evaluated the chain by
        // recursion and overflowed the worker's stack, aborting the process (once the deadline
        // stopped `def f(g): f(g | g); f(.)` in `runaway_deep_recursion`, if the machine was
        // fast enough; at the end of the evaluation; or while evaluating `g`). Now each level
        // uses stack, and the stack guard stops it quickly.
        for expr in [
            "def f(g; $n): if $n > 0 then f(g | g; $n - 1) else 0 end; f(.; 5000000)",
            "def f(g; $n): if $n > 0 then f(g; $n - 1) else 0 end; f(.; 5000000)",
            "def f(g; $n): if $n > 0 then f([g]; $n - 1) else g end; f(.; 1000000)",
            "def f(g; $n): def h: f(g | [.]; $n - 1); if $n > 0 then h else g end; f(.; 1000000)",
        ] {
            let msg = stopped_by_a_guard(expr, json!(0));
            assert!(msg.contains("recursion"), "{expr}: {msg}");
        }
        // Recursion through filter arguments still works to a depth of thousands...
        let walk = "def w(f): if type == \"array\" then map(w(f)) | f else f end; \
                    w(if type == \"number\" then . + 1 else length end)";
        assert_eq!(reduce(walk, json!([1, [2, 3], []])), Ok(json!(3)));
        let deep = "def f(g; $n): if $n > 0 then f(g + 1; $n - 1) else g end; f(.; 1000)";
        assert_eq!(reduce(deep, json!(0)), Ok(json!(1000)));
        // Guarded definitions still work in paths and updates.
        let down = "def f(g; $n): if $n > 0 then g | f(g; $n - 1) else . end;";
        assert_eq!(
            reduce(&format!("{down} [path(f(.a; 2))]"), json!(null)),
            Ok(json!([["a", "a"]]))
        );
        assert_eq!(
            reduce(&format!("{down} f(.a; 2) |= 7"), json!({"a": {"a": 1}})),
            Ok(json!({"a": {"a": 7}}))
        );
        let down = "def f($n): if $n > 0 then .[0] | f($n - 1) else . end;";
        assert_eq!(
            reduce(&format!("{down} [path(f(3))]"), json!(null)),
            Ok(json!([[0, 0, 0]]))
        );
        assert_eq!(
            reduce(&format!("{down} f(2) |= 7"), json!([[1], 2])),
            Ok(json!([[7], 2]))
        );
        // ...and tail calls with only `$` parameters still run in constant stack.
        let tail = "def f($n): if $n > 0 then f($n - 1) else \"done\" end; f(200000)";
        assert_eq!(reduce(tail, json!(0)), Ok(json!("done")));
    }

    #[test]
    fn values_carried_by_parameters_and_paths_are_guarded() {
        // A tail call carried a deepening value in a `$` parameter, which the guard did not
        // probe, and a path expression grew a path without limit; jaq drops both by recursion.
        let msg = stopped_by_a_guard(
            "def f($x; $n): if $n > 0 then f([$x]; $n - 1) else $x | length end; f(0; 5000000)",
            json!(0),
        );
        assert!(msg.contains("nested"), "{msg}");
        let msg = stopped_by_a_guard(
            "path(reduce range(5000000) as $i (.; .a?)) | length",
            Value::Null,
        );
        assert!(msg.contains("path longer"), "{msg}");
        let msg = stopped_by_a_guard(
            "path(def f($n): if $n > 0 then .a? | f($n - 1) else . end; f(5000000)) | length",
            Value::Null,
        );
        assert!(msg.contains("path longer"), "{msg}");
        assert_eq!(
            reduce("[paths] | length", json!({"a": [{"b": 1}]})),
            Ok(json!(3))
        );
        // A container beside the deep child hid it from the depth probe, which followed only
        // the first container it found (and `tojson` recurses through the value).
        for expr in [
            "reduce range(1000000) as $i (0; [., [0]]) | tojson | length",
            "reduce range(1000000) as $i (null; {next: ., item: {a: [1]}}) | tojson | length",
        ] {
            let msg = stopped_by_a_guard(expr, Value::Null);
            assert!(msg.contains("nested"), "{expr}: {msg}");
        }
    }

    #[test]
    fn recursive_definitions_are_recognised() {
        let code = "def f(g): def h: f(g); h; def k($x): $x; def r: 1, r; k(1) | f(.) | r";
        let tokens = lex::Lexer::new(code).lex().unwrap();
        let term = parse::Parser::new(&tokens).parse(|p| p.term()).unwrap();
        let found = recursive_defs(&[], &term);
        let mut found: Vec<_> = found.into_iter().collect();
        found.sort();
        assert_eq!(found, [("f", 1), ("r", 0)]);
        let std_defs: Vec<_> = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .collect();
        assert!(recursive_defs(&std_defs, &T::Id).contains(&("rec", 0)));
    }

    #[test]
    fn runaway_repeat() {
        assert_stopped("last(repeat(1))");
        assert_stopped("[repeat(1)] | length");
    }

    #[test]
    fn runaway_collect() {
        assert_stopped("[range(1e12)]");
    }

    #[test]
    fn runaway_reduce() {
        assert_stopped("reduce range(1e9) as $i (0; .+1)");
        assert_stopped("[foreach range(1e9) as $i (0; .+1)] | length");
    }

    #[test]
    fn runaway_deep_value() {
        assert_stopped("{a: .} as $x | reduce range(1000000) as $i ($x; {a: .})");
        assert_stopped("reduce range(1000000) as $i (null; [1, ., 2]) | length");
        assert_stopped("def f: [.] | f; f");
        assert_stopped("setpath([range(1000000) | \"a\"]; 1)");
        assert_stopped("[range(1000000) | \"a\"] as $p | null | getpath($p) = 1");
    }

    #[test]
    fn runaway_other_loops() {
        assert_stopped("until(false; .)");
        assert_stopped("[while(true; .)] | length");
        assert_stopped("[recurse(.)] | length");
        assert_stopped("[label $x | repeat(.)] | length");
        assert_stopped("[limit(1e15; repeat(1))] | length");
        assert_stopped("def f: (try f catch 0), (try f catch 0); [f] | length");
    }

    #[test]
    fn runaway_cannot_be_swallowed_by_try() {
        let p = prog("try (def f: f; f) catch \"caught\"");
        let out = p.reduce(&json!(0), &event(), &one_sec());
        assert!(matches!(out, Err(JqError::Budget(_))), "{out:?}");
        let p = prog("[.[]? // 1] | first(repeat(try last(repeat(1)) catch 2))");
        assert!(matches!(
            p.reduce(&json!(0), &event(), &one_sec()),
            Err(JqError::Budget(_))
        ));
    }

    #[test]
    fn huge_strings_are_refused() {
        let out = reduce("\"x\" * 1000000000000", json!(0));
        assert!(matches!(out, Err(JqError::Budget(_))), "{out:?}");
        let out = reduce(".s = \"xy\" | .s *= 1000000000000", json!({}));
        assert!(matches!(out, Err(JqError::Budget(_))), "{out:?}");
        let start = Instant::now();
        let out =
            prog("reduce range(64) as $i (\"x\"; . + .)").reduce(&json!(0), &event(), &one_sec());
        assert!(matches!(out, Err(JqError::Budget(_))), "{out:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn fromjson_refuses_deep_text() {
        let out = reduce("\"[\" * 100000 | fromjson", json!(0));
        assert!(
            matches!(out, Err(JqError::Runtime(ref m)) if m.contains("nested")),
            "{out:?}"
        );
        let out = reduce(
            "\"# [[[ \\n [1, \\\"[[\\\\\\\"\\\", {\\\"a\\\": [2]}]\" | fromjson",
            json!(0),
        );
        assert_eq!(out, Ok(json!([1, "[[\"", {"a": [2]}])));
        assert!(!json_nesting_exceeds(b"[[[]]]", 3));
        assert!(json_nesting_exceeds(b"[[[[]]]]", 3));
        assert!(!json_nesting_exceeds(b"[\"[[[[\"]", 3));
        assert!(!json_nesting_exceeds(b"#[[[[\n[]", 3));
    }

    #[test]
    fn program_recovers_after_a_stopped_evaluation() {
        let p = prog("if $event == \"loop\" then last(repeat(1)) else .n += 1 end");
        let out = p.reduce(&json!({"n": 0}), &json!("loop"), &one_sec());
        assert!(matches!(out, Err(JqError::Budget(_))), "{out:?}");
        assert_eq!(
            p.reduce(&json!({"n": 0}), &json!("go"), &one_sec()),
            Ok(json!({"n": 1}))
        );
        // Deep recursion retires the worker; a new one takes over transparently.
        let p = prog("if $event == \"deep\" then def f: 1 + f; f else .n += 1 end");
        let out = p.reduce(&json!({"n": 0}), &json!("deep"), &one_sec());
        assert!(matches!(out, Err(JqError::Budget(_))), "{out:?}");
        assert_eq!(
            p.reduce(&json!({"n": 0}), &json!("go"), &one_sec()),
            Ok(json!({"n": 1}))
        );
    }

    #[test]
    fn abandoned_worker_blocks_the_program_until_it_finishes() {
        // Comparing a structure that shares itself 2^29 times is one uninterruptible native
        // call: the worker cannot notice the deadline and must be abandoned.
        let p = prog(
            "if $event == \"slow\" then (reduce range(29) as $i (0; [., .]) | . < .) \
             else .n + 1 end",
        );
        let budget = Budget {
            max_time: Duration::from_millis(100),
        };
        let start = Instant::now();
        let out = p.reduce(&json!({"n": 1}), &json!("slow"), &budget);
        let took = start.elapsed();
        // 2^29 comparisons take seconds, far more than budget and grace (0.35 s) together.
        let Err(JqError::Budget(msg)) = &out else {
            panic!("{out:?}")
        };
        assert!(msg.contains("abandoned"), "{msg}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        let out = p.reduce(&json!({"n": 1}), &json!("fast"), &budget);
        let Err(JqError::Budget(msg)) = &out else {
            panic!("{out:?}")
        };
        assert!(msg.contains("still running"), "{msg}");
        assert_one_sentence(&out.unwrap_err().to_string());
        // Once the abandoned evaluation finishes, the same worker serves again.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            match p.reduce(&json!({"n": 1}), &json!("fast"), &budget) {
                Ok(v) => {
                    assert_eq!(v, json!(2));
                    break;
                }
                Err(JqError::Budget(m)) if m.contains("still running") => {
                    assert!(
                        Instant::now() < deadline,
                        "the abandoned worker never finished"
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    }

    #[test]
    fn deep_outputs_are_rejected() {
        let ok = reduce("reduce range(255) as $i (0; [.])", json!(null)).unwrap();
        let mut depth = 0;
        let mut cur = &ok;
        while let Value::Array(a) = cur {
            depth += 1;
            cur = &a[0];
        }
        assert_eq!(depth, 255);
        assert!(reduce("reduce range(256) as $i (0; [.])", json!(null)).is_ok());
        for expr in [
            "reduce range(257) as $i (0; [.])",
            "reduce range(300) as $i (0; {a: .})",
            "reduce range(5000) as $i (0; [1, ., {b: 2}])",
        ] {
            let out = reduce(expr, json!(null));
            assert!(
                matches!(&out, Err(JqError::Runtime(m)) if m.contains("nested more than 256")),
                "{expr}: {out:?}"
            );
        }
        // Deep values inside the evaluation are fine as long as the result is shallow.
        assert_eq!(
            reduce("reduce range(3000) as $i (0; [.]) | length", json!(null)),
            Ok(json!(1))
        );
        // Predicates do not convert their output.
        assert_eq!(
            test_("reduce range(3000) as $i (0; [.])", json!(0), Value::Null),
            Ok(true)
        );
    }

    #[test]
    fn deep_values_inside_evaluation_are_stopped() {
        let p = prog("reduce range(100000) as $i (0; [.]) | length");
        let out = p.reduce(&json!(null), &event(), &Budget::default());
        assert!(matches!(out, Err(JqError::Budget(_))), "{out:?}");
    }

    #[test]
    fn shared_structure_is_not_expanded_without_limit() {
        let start = Instant::now();
        let out = reduce("reduce range(40) as $i (0; [., .])", json!(null));
        assert!(matches!(out, Err(JqError::Budget(_))), "{out:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn non_string_keys_are_an_error() {
        let out = reduce("{(1): 2}", json!(null));
        assert!(
            matches!(&out, Err(JqError::Runtime(m)) if m.contains("not a string")),
            "{out:?}"
        );
    }

    #[test]
    fn numbers_round_trip() {
        let state = json!({
            "zero": 0, "neg": -1, "max": i64::MAX, "min": i64::MIN, "umax": u64::MAX,
            "half": 1.5, "one_float": 1.0, "tiny": 2.5e-8, "huge": 1e300, "negf": -0.25,
            "list": [1, 2.0, -3, 4.5]
        });
        let out = reduce(".", state.clone()).unwrap();
        assert_eq!(out, state);
        // serde_json distinguishes 1 from 1.0; check the representation explicitly.
        assert!(out["one_float"].is_f64());
        assert!(out["max"].is_i64());
        assert!(out["umax"].is_u64());
        assert_eq!(out.to_string(), state.to_string());

        let calc = |expr: &str| reduce(expr, json!({"i": 3, "f": 1.5}));
        assert_eq!(calc(".i + 1").unwrap(), json!(4));
        assert!(calc(".i + 1").unwrap().is_i64());
        assert_eq!(calc(".i * .f").unwrap(), json!(4.5));
        assert_eq!(calc(".i / 2").unwrap(), json!(1.5));
        assert_eq!(calc("1.0").unwrap(), json!(1.0));
        assert!(calc("1.0").unwrap().is_f64());
        assert_eq!(
            calc("9223372036854775807 + 1").unwrap(),
            json!(9223372036854775808u64)
        );
        assert_eq!(calc("nan").unwrap(), Value::Null);
        assert_eq!(calc("infinite").unwrap(), Value::Null);
        assert_eq!(calc("[-infinite]").unwrap(), json!([null]));
        assert_eq!(calc("1e1000").unwrap(), Value::Null);
        assert_eq!(calc("[.i, .f] | tojson").unwrap(), json!("[3,1.5]"));
    }

    #[test]
    fn strings_round_trip() {
        let state =
            json!({"s": "héllo \u{1F600} \"quoted\" \\ \n\t\u{0001}", "keys": {"ключ": "ü"}});
        assert_eq!(reduce(".", state.clone()).unwrap(), state);
        assert_eq!(reduce(".s | length", state).unwrap(), json!(22));
    }

    #[test]
    fn reduce_all_folds_and_reports_the_failing_index() {
        let p =
            prog("if $event.fail then error(\"failed at \\($event.n)\") else .sum += $event.n end");
        let events: Vec<Value> = (1..=5).map(|n| json!({"n": n})).collect();
        assert_eq!(
            p.reduce_all(&json!({}), &events, &one_sec()),
            Ok(json!({"sum": 15}))
        );
        assert_eq!(
            p.reduce_all(&json!({"sum": 1}), &[], &one_sec()),
            Ok(json!({"sum": 1}))
        );
        let mut bad = events.clone();
        bad[3] = json!({"n": 4, "fail": true});
        assert_eq!(
            p.reduce_all(&json!({}), &bad, &one_sec()),
            Err((3, JqError::Runtime("failed at 4".into())))
        );
        // The budget applies per event, so a batch of quick events may take longer than it
        // (20 000 events of 40-160 µs each here)...
        let many: Vec<Value> = (0..20_000).map(|n| json!({"n": n})).collect();
        let slow = prog("reduce range(200) as $i (.; .) | .sum += $event.n");
        let budget = Budget {
            max_time: Duration::from_millis(300),
        };
        assert_eq!(
            slow.reduce_all(&json!({"sum": 0}), &many, &budget),
            Ok(json!({"sum": 199_990_000}))
        );
        // ...but one runaway event stops the batch with its index.
        let p = prog("if $event.n == 3 then last(repeat(1)) else .sum += $event.n end");
        let out = p.reduce_all(&json!({}), &events, &budget);
        assert!(matches!(out, Err((2, JqError::Budget(_)))), "{out:?}");
        assert_eq!(
            p.reduce_all(&json!({}), &events[..2], &budget),
            Ok(json!({"sum": 3}))
        );
    }

    #[test]
    fn concurrent_use_is_serialised() {
        let p = Arc::new(prog(".n += $event"));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let p = Arc::clone(&p);
                std::thread::spawn(move || {
                    (0..200)
                        .map(|_| {
                            p.reduce(&json!({"n": i}), &json!(1), &Budget::default())
                                .unwrap()
                        })
                        .all(|v| v == json!({"n": i + 1}))
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap());
        }
    }

    fn addr_of(v: &Val) -> *const () {
        match v {
            Val::Arr(a) => jaq_json::Rc::as_ptr(a).cast(),
            Val::Obj(o) => jaq_json::Rc::as_ptr(o).cast(),
            _ => std::ptr::null(),
        }
    }

    #[test]
    fn spine_probe_and_iterative_drop() {
        let mut v = Val::Null;
        for _ in 0..50 {
            v = [Val::from(1isize), v, Val::from(2isize)]
                .into_iter()
                .collect();
        }
        assert!(spine_deeper_than(&v, 49));
        assert!(!spine_deeper_than(&v, 50));
        assert!(!spine_deeper_than(&Val::Null, 0));
        let empty: Val = std::iter::empty().collect();
        assert!(spine_deeper_than(&empty, 0));
        assert!(!spine_deeper_than(&empty, 1));
        let probe =
            |v: &Val, limit, budget| probe_deeper_than(v, limit, budget, &mut ProbeCache::new());
        for limit in [0, 1, 49, 50] {
            assert_eq!(
                probe(&v, limit, PROBE_BUDGET),
                Some(spine_deeper_than(&v, limit))
            );
            assert_eq!(
                probe(&empty, limit, PROBE_BUDGET),
                Some(spine_deeper_than(&empty, limit))
            );
        }
        assert_eq!(probe(&Val::Null, 0, PROBE_BUDGET), Some(false));
        // A container next to the deep child hides it from a single path, not from the search.
        let mut decoyed = Val::Null;
        for _ in 0..50 {
            let decoy: Val = [Val::from(0isize)].into_iter().collect();
            decoyed = [decoyed, decoy].into_iter().collect();
        }
        assert!(!spine_deeper_than(&decoyed, 2));
        assert_eq!(probe(&decoyed, 50, PROBE_BUDGET), Some(true));
        assert_eq!(probe(&decoyed, 51, PROBE_BUDGET), Some(false));
        assert_eq!(probe(&decoyed, 50, 10), None);
        assert!(deeper_than(&decoyed, 50, &mut ProbeCache::new()));
        // A value sharing its parts exponentially exhausts the search, not the probe...
        let mut shared = Val::Null;
        for _ in 0..60 {
            shared = [shared.clone(), shared].into_iter().collect();
        }
        assert_eq!(probe(&shared, 60, 1000), None);
        assert!(deeper_than(&shared, 59, &mut ProbeCache::new()));
        assert!(!deeper_than(&shared, 60, &mut ProbeCache::new()));
        // ...unless it was searched as it grew: then each level is found in the cache.
        let mut cache = ProbeCache::new();
        let mut grown = Val::Null;
        for depth in 1..=60 {
            grown = [grown.clone(), grown].into_iter().collect();
            assert_eq!(probe_deeper_than(&grown, 60, 10, &mut cache), Some(false));
            assert_eq!(cache.height(addr_of(&grown)), Some(depth));
        }
        assert_eq!(probe_deeper_than(&grown, 59, 10, &mut cache), Some(true));
        let wrapped: Val = [Val::Null, grown.clone(), Val::Null].into_iter().collect();
        assert_eq!(probe_deeper_than(&wrapped, 60, 10, &mut cache), Some(true));
        assert_eq!(probe_deeper_than(&wrapped, 61, 10, &mut cache), Some(false));
        // Dropping a value far deeper than any stack could recurse through.
        let mut deep = Val::Null;
        for _ in 0..1_000_000 {
            deep = [deep].into_iter().collect();
        }
        drop_val(deep);
    }

    #[test]
    fn errors_display_as_one_sentence() {
        for e in [
            JqError::Compile("x".into()),
            JqError::Runtime("x".into()),
            JqError::NoOutput,
            JqError::Budget("x".into()),
        ] {
            assert_one_sentence(&e.to_string());
        }
        assert_eq!(one_line("a\nb\u{7}c", 10), "a b\\u{0007}c");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1500 ms");
        assert_eq!(fmt_duration(Duration::from_secs(2)), "2 s");
        assert_eq!(fmt_duration(Duration::from_micros(300)), "300 µs");
    }
}
