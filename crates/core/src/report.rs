//! The audit report: renders a [`Report`] as one self-contained HTML file,
//! and reads back the facts embedded in it ([`extract_facts`]) so that
//! `hindsight verify` can check them against the sources.
//!
//! Invariants:
//! * every note and every log value (titles, paths, tags, event fields, raw
//!   records, JSON) is HTML-escaped before it reaches the document, so a log
//!   line that contains `<script>` shows as those characters and runs nothing;
//! * the file needs no network and no script to be read or printed: inline
//!   CSS only, no external URL, no image, a CSP that forbids everything else.
//!   The only `<script>` element is the `application/json` facts block, a
//!   data block browsers never execute, escaped so no string can close it.
//!
//! Large values are cut for display (state excerpts, raw records and
//! payloads after [`STATE_TEXT_LIMIT`] bytes, each diff value after
//! [`DIFF_VALUE_TEXT_LIMIT`], at most [`DIFF_OPS_SHOWN`] diff operations)
//! with a visible marker; the facts are never cut.

use std::collections::BTreeMap;
use std::io;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One source file as it was when the report was generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSource {
    pub name: String,
    pub path: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// A bookmark with everything the auditor needs to judge it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportBookmark {
    pub id: i64,
    pub seq: u64,
    pub note: String,
    pub tags: Vec<String>,
    /// RFC 3339.
    pub created: String,
    /// The event as the CLI prints it: `{seq, file?, line, ts?, type?, key?, level?, payload}`.
    pub event: Value,
    /// The record as written in the source.
    pub raw: String,
    /// An excerpt of the state before the event (the members it touched).
    pub state_before: Value,
    /// The same members after it.
    pub state_after: Value,
    /// RFC 6902 array from state(seq-1) to state(seq).
    pub diff: Value,
    /// Hash of the whole state after the event (computed by the caller).
    pub state_sha256: String,
}

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub title: String,
    /// RFC 3339 UTC.
    pub generated: String,
    /// Hindsight version.
    pub version: String,
    pub sources: Vec<ReportSource>,
    pub format: String,
    pub reducer: String,
    /// slot -> field
    pub fields: BTreeMap<String, String>,
    pub events: u64,
    pub errors: u64,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub bookmarks: Vec<ReportBookmark>,
}

/// The facts verify checks, embedded verbatim in the HTML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFacts {
    pub version: String,
    pub generated: String,
    pub sources: Vec<ReportSource>,
    pub reducer: String,
    pub format: String,
    pub fields: BTreeMap<String, String>,
    pub bookmarks: Vec<FactBookmark>,
}

/// The checkable part of a bookmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactBookmark {
    pub id: i64,
    pub seq: u64,
    pub note: String,
    pub state_sha256: String,
}

/// Pretty JSON of a state excerpt, a raw record or a payload is cut after this many bytes.
pub const STATE_TEXT_LIMIT: usize = 200_000;
/// Pretty JSON of one old/new value in the diff is cut after this many bytes.
pub const DIFF_VALUE_TEXT_LIMIT: usize = 20_000;
/// At most this many diff operations are shown per bookmark.
pub const DIFF_OPS_SHOWN: usize = 500;

const FACTS_ID: &str = "hindsight-facts";
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// The facts of a report, in the report's order.
pub fn facts(report: &Report) -> ReportFacts {
    ReportFacts {
        version: report.version.clone(),
        generated: report.generated.clone(),
        sources: report.sources.clone(),
        reducer: report.reducer.clone(),
        format: report.format.clone(),
        fields: report.fields.clone(),
        bookmarks: report
            .bookmarks
            .iter()
            .map(|b| FactBookmark {
                id: b.id,
                seq: b.seq,
                note: b.note.clone(),
                state_sha256: b.state_sha256.clone(),
            })
            .collect(),
    }
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// The whole HTML document.
pub fn render_html(report: &Report) -> String {
    let mut html = String::with_capacity(64 * 1024);
    html.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // CSP is a constant without `"` or `&`, so it is written as is.
    html.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
    html.push_str(CSP);
    html.push_str(
        "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    html.push_str("<meta name=\"generator\" content=\"Hindsight ");
    push_escaped(&mut html, &report.version);
    html.push_str("\">\n<title>");
    push_escaped(&mut html, &report.title);
    html.push_str("</title>\n<style>");
    html.push_str(STYLE);
    html.push_str("</style>\n");
    push_facts_block(&mut html, &facts(report));
    html.push_str("</head>\n<body>\n");

    push_header(&mut html, report);
    html.push_str("<main>\n");
    push_sources(&mut html, &report.sources);
    push_settings(&mut html, report);
    let bookmarks = bookmarks_in_seq_order(&report.bookmarks);
    push_bookmark_index(&mut html, &bookmarks);
    for bookmark in bookmarks {
        push_bookmark(&mut html, bookmark);
    }
    html.push_str("</main>\n");
    push_footer(&mut html);
    html.push_str("</body>\n</html>\n");
    html
}

fn bookmarks_in_seq_order(bookmarks: &[ReportBookmark]) -> Vec<&ReportBookmark> {
    let mut sorted: Vec<&ReportBookmark> = bookmarks.iter().collect();
    sorted.sort_by_key(|b| (b.seq, b.id));
    sorted
}

/// The facts as JSON in a data block. `<`, `>` and `&` only ever occur inside
/// JSON strings, so writing them as `\u003c`… keeps the JSON valid and makes
/// `</script` and `<!--` impossible inside the element.
fn push_facts_block(html: &mut String, facts: &ReportFacts) {
    let json = serde_json::to_string(facts).unwrap_or_default();
    html.push_str("<script type=\"application/json\" id=\"");
    html.push_str(FACTS_ID);
    html.push_str("\">");
    for c in json.chars() {
        match c {
            '<' => html.push_str("\\u003c"),
            '>' => html.push_str("\\u003e"),
            '&' => html.push_str("\\u0026"),
            _ => html.push(c),
        }
    }
    html.push_str("</script>\n");
}

fn push_header(html: &mut String, report: &Report) {
    html.push_str("<header>\n<p class=\"kicker\">Hindsight audit report</p>\n<h1 dir=\"auto\">");
    push_escaped(html, &report.title);
    html.push_str("</h1>\n<p class=\"meta\">Generated <time>");
    push_escaped(html, &report.generated);
    html.push_str("</time> by Hindsight ");
    push_escaped(html, &report.version);
    html.push_str("</p>\n</header>\n");
}

fn push_sources(html: &mut String, sources: &[ReportSource]) {
    html.push_str("<section class=\"block\">\n<h2>Sources</h2>\n");
    if sources.is_empty() {
        html.push_str("<p class=\"muted\">No source files.</p>\n</section>\n");
        return;
    }
    html.push_str(
        "<table class=\"sources\">\n<colgroup><col class=\"c-name\"><col class=\"c-path\">\
         <col class=\"c-size\"><col class=\"c-hash\"></colgroup>\n\
         <thead><tr><th>Name</th><th>Path</th><th class=\"num\">Size (bytes)</th><th>SHA-256</th></tr></thead>\n<tbody>\n",
    );
    for source in sources {
        html.push_str("<tr><td data-label=\"Name\"><bdi>");
        push_escaped(html, &source.name);
        html.push_str("</bdi></td><td class=\"mono\" data-label=\"Path\"><bdi>");
        push_escaped(html, &source.path);
        html.push_str("</bdi></td><td class=\"num\" data-label=\"Size (bytes)\">");
        html.push_str(&group_thousands(source.size));
        html.push_str("</td><td class=\"mono hash\" data-label=\"SHA-256\">");
        push_escaped(html, &source.sha256);
        html.push_str("</td></tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</section>\n");
}

fn push_settings(html: &mut String, report: &Report) {
    html.push_str("<section class=\"block\">\n<h2>Settings</h2>\n<table class=\"kv\">\n<tbody>\n");
    push_kv_row(html, "Format", |h| push_escaped(h, &report.format));
    push_kv_row(html, "Reducer", |h| {
        h.push_str("<code class=\"wrap\">");
        push_escaped(h, &report.reducer);
        h.push_str("</code>");
    });
    push_kv_row(html, "Fields", |h| {
        if report.fields.is_empty() {
            h.push_str("<span class=\"muted\">none set</span>");
            return;
        }
        h.push_str("<ul class=\"fields\">");
        for (slot, field) in &report.fields {
            h.push_str("<li><span class=\"slot\">");
            push_escaped(h, slot);
            h.push_str("</span> → <code><bdi>");
            push_escaped(h, field);
            h.push_str("</bdi></code></li>");
        }
        h.push_str("</ul>");
    });
    push_kv_row(html, "Events", |h| {
        h.push_str(&group_thousands(report.events))
    });
    push_kv_row(html, "Parse errors", |h| {
        h.push_str(&group_thousands(report.errors))
    });
    push_kv_row(html, "Time range", |h| {
        match (&report.first_ts, &report.last_ts) {
            (None, None) => h.push_str("<span class=\"muted\">no timestamps</span>"),
            (first, last) => {
                push_escaped(h, first.as_deref().unwrap_or("?"));
                h.push_str(" – ");
                push_escaped(h, last.as_deref().unwrap_or("?"));
            }
        }
    });
    html.push_str("</tbody>\n</table>\n</section>\n");
}

fn push_kv_row(html: &mut String, label: &str, value: impl FnOnce(&mut String)) {
    html.push_str("<tr><th scope=\"row\">");
    push_escaped(html, label);
    html.push_str("</th><td>");
    value(html);
    html.push_str("</td></tr>\n");
}

/// A short table of contents; in-page links only.
fn push_bookmark_index(html: &mut String, bookmarks: &[&ReportBookmark]) {
    html.push_str("<section class=\"block\">\n<h2>Bookmarks</h2>\n");
    if bookmarks.is_empty() {
        html.push_str("<p class=\"muted\">No bookmarks.</p>\n</section>\n");
        return;
    }
    html.push_str("<ol class=\"toc\">\n");
    for b in bookmarks {
        html.push_str("<li><a href=\"#bookmark-");
        html.push_str(&b.id.to_string());
        html.push_str("\">#");
        html.push_str(&group_thousands(b.seq));
        html.push_str("</a> <bdi>");
        push_escaped(html, &first_line_preview(&b.note, 120));
        html.push_str("</bdi></li>\n");
    }
    html.push_str("</ol>\n</section>\n");
}

fn first_line_preview(note: &str, max_chars: usize) -> String {
    let line = note
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut preview: String = line.chars().take(max_chars).collect();
    if line.chars().nth(max_chars).is_some() {
        preview.push('…');
    }
    preview
}

fn push_bookmark(html: &mut String, b: &ReportBookmark) {
    html.push_str("<section class=\"bookmark\" id=\"bookmark-");
    html.push_str(&b.id.to_string());
    html.push_str("\">\n<h2>Event #");
    html.push_str(&group_thousands(b.seq));
    html.push_str(" <span class=\"muted small\">bookmark ");
    html.push_str(&b.id.to_string());
    html.push_str("</span></h2>\n");

    push_note(html, &b.note);
    html.push_str("<p class=\"meta\">");
    if b.tags.is_empty() {
        html.push_str("<span class=\"muted\">No tags</span>");
    } else {
        html.push_str("Tags:");
        for tag in &b.tags {
            html.push_str(" <span class=\"tag\"><bdi>");
            push_escaped(html, tag);
            html.push_str("</bdi></span>");
        }
    }
    html.push_str(" · Created <time>");
    push_escaped(html, &b.created);
    html.push_str("</time></p>\n");

    html.push_str("<h3>Event</h3>\n");
    push_event_fields(html, &b.event);
    html.push_str("<h4>Raw record</h4>\n");
    push_pre(html, &b.raw, STATE_TEXT_LIMIT);
    if let Some(payload) = b.event.get("payload") {
        html.push_str("<h4>Payload</h4>\n");
        push_json_pre(html, payload, STATE_TEXT_LIMIT);
    } else if !b.event.is_object() {
        // Not the expected shape: show it whole rather than hide it.
        html.push_str("<h4>Event as given</h4>\n");
        push_json_pre(html, &b.event, STATE_TEXT_LIMIT);
    }

    html.push_str("<h3>Change made by this event</h3>\n");
    push_diff(html, &b.diff, &b.state_before);

    html.push_str(
        "<h3>State around the event</h3>\n<div class=\"pair\">\n<div>\n<h4>Before</h4>\n",
    );
    push_json_pre(html, &b.state_before, STATE_TEXT_LIMIT);
    html.push_str("</div>\n<div>\n<h4>After</h4>\n");
    push_json_pre(html, &b.state_after, STATE_TEXT_LIMIT);
    html.push_str("</div>\n</div>\n");

    html.push_str(
        "<p class=\"hashline\">SHA-256 of the whole state after the event: <code class=\"hash\">",
    );
    push_escaped(html, &b.state_sha256);
    html.push_str("</code></p>\n</section>\n");
}

/// Paragraphs are separated by blank lines; single newlines are kept as breaks.
fn push_note(html: &mut String, note: &str) {
    html.push_str("<div class=\"note\">");
    let mut paragraphs = 0;
    let mut open = false;
    for line in note.lines() {
        if line.trim().is_empty() {
            if open {
                html.push_str("</p>");
                open = false;
            }
            continue;
        }
        if open {
            html.push_str("<br>");
        } else {
            // Each paragraph takes its own direction, so an RTL one aligns right.
            html.push_str("<p dir=\"auto\">");
            open = true;
            paragraphs += 1;
        }
        push_escaped(html, line);
    }
    if open {
        html.push_str("</p>");
    }
    if paragraphs == 0 {
        html.push_str("<p class=\"muted\">(no note)</p>");
    }
    html.push_str("</div>\n");
}

fn push_event_fields(html: &mut String, event: &Value) {
    let text = |key: &str| event.get(key).filter(|v| !v.is_null()).map(value_as_text);
    let location = match (text("file"), text("line")) {
        (Some(file), Some(line)) => Some(format!("{file}:{line}")),
        (None, Some(line)) => Some(format!("line {line}")),
        (file, None) => file,
    };
    let rows = [
        ("Sequence", text("seq")),
        ("Time", text("ts")),
        ("Type", text("type")),
        ("Key", text("key")),
        ("Level", text("level")),
        ("Location", location),
    ];
    html.push_str("<table class=\"kv event\">\n<tbody>\n");
    for (label, value) in rows {
        if let Some(value) = value {
            push_kv_row(html, label, |h| {
                h.push_str("<bdi>");
                push_escaped(h, &value);
                h.push_str("</bdi>");
            });
        }
    }
    html.push_str("</tbody>\n</table>\n");
}

fn value_as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn push_diff(html: &mut String, diff: &Value, state_before: &Value) {
    let Some(ops) = diff.as_array() else {
        html.push_str(
            "<p class=\"muted\">The diff is not an RFC 6902 array; shown as given:</p>\n",
        );
        push_json_pre(html, diff, STATE_TEXT_LIMIT);
        return;
    };
    if ops.is_empty() {
        html.push_str("<p class=\"muted\">No change: the state after the event equals the state before it.</p>\n");
        return;
    }
    html.push_str("<ol class=\"diff\">\n");
    for op in ops.iter().take(DIFF_OPS_SHOWN) {
        push_diff_op(html, op, state_before);
    }
    html.push_str("</ol>\n");
    if ops.len() > DIFF_OPS_SHOWN {
        html.push_str("<p class=\"truncated\">(");
        html.push_str(&group_thousands((ops.len() - DIFF_OPS_SHOWN) as u64));
        html.push_str(" more operations not shown)</p>\n");
    }
}

fn push_diff_op(html: &mut String, op: &Value, state_before: &Value) {
    let name = op.get("op").and_then(Value::as_str).unwrap_or("");
    let path = op.get("path").and_then(Value::as_str);
    let from = op.get("from").and_then(Value::as_str);
    let (class, word) = match name {
        "add" => ("add", "Added"),
        "remove" => ("remove", "Removed"),
        "replace" => ("replace", "Replaced"),
        "move" => ("other", "Moved"),
        "copy" => ("other", "Copied"),
        "test" => ("other", "Tested"),
        _ => ("other", "Unknown operation"),
    };
    html.push_str("<li class=\"op op-");
    html.push_str(class);
    html.push_str("\"><span class=\"op-word\">");
    html.push_str(word);
    html.push_str("</span> ");
    if let Some(from) = from {
        html.push_str("from ");
        push_path(html, from);
        html.push_str(" to ");
    }
    match path {
        Some(path) => push_path(html, path),
        None => html.push_str("<span class=\"muted\">(no path)</span>"),
    }
    if class == "other" && word == "Unknown operation" {
        push_json_pre(html, op, DIFF_VALUE_TEXT_LIMIT);
        html.push_str("</li>\n");
        return;
    }
    // RFC 6902 carries no old value; take it from the excerpt before the
    // event, unless the producer added one.
    let old = op.get("old").or_else(|| match name {
        "remove" | "replace" => path.and_then(|p| state_before.pointer(p)),
        _ => None,
    });
    let new = op.get("value");
    if old.is_some() || new.is_some() {
        html.push_str("<div class=\"values\">");
        for (label, value) in [("Old", old), ("New", new)] {
            if let Some(value) = value {
                html.push_str("<div><div class=\"label\">");
                html.push_str(label);
                html.push_str("</div>");
                push_json_pre(html, value, DIFF_VALUE_TEXT_LIMIT);
                html.push_str("</div>");
            }
        }
        html.push_str("</div>");
    }
    html.push_str("</li>\n");
}

fn push_path(html: &mut String, path: &str) {
    if path.is_empty() {
        html.push_str("<span class=\"path\">(the whole state)</span>");
    } else {
        html.push_str("<code class=\"path\">");
        push_escaped(html, path);
        html.push_str("</code>");
    }
}

fn push_json_pre(html: &mut String, value: &Value, limit: usize) {
    let (text, omitted) = pretty_json_limited(value, limit);
    push_pre_parts(html, &text, omitted);
}

fn push_pre(html: &mut String, text: &str, limit: usize) {
    let shown = cut_for_display(text, limit);
    push_pre_parts(html, shown, (text.len() - shown.len()) as u64);
}

fn push_pre_parts(html: &mut String, shown: &str, omitted: u64) {
    html.push_str("<pre>");
    push_escaped(html, shown);
    html.push_str("</pre>\n");
    if omitted > 0 {
        html.push_str("<p class=\"truncated\">(truncated: ");
        html.push_str(&group_thousands(omitted));
        html.push_str(" more bytes)</p>\n");
    }
}

/// Pretty JSON of `value`, keeping at most about `limit` bytes in memory
/// however large the value is; returns the kept text and how many bytes of
/// the full text were left out.
fn pretty_json_limited(value: &Value, limit: usize) -> (String, u64) {
    let mut sink = LimitedSink {
        kept: Vec::new(),
        limit,
        dropped: 0,
    };
    // Writing a Value to this sink cannot fail; an error would only cut the text short.
    let _ = serde_json::to_writer_pretty(&mut sink, value);
    let LimitedSink {
        kept, mut dropped, ..
    } = sink;
    let text = match String::from_utf8(kept) {
        Ok(text) => text,
        Err(err) => {
            // The byte limit fell inside a character: drop its head too.
            let valid = err.utf8_error().valid_up_to();
            let mut bytes = err.into_bytes();
            dropped += (bytes.len() - valid) as u64;
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    };
    if dropped == 0 {
        return (text, 0);
    }
    let shown = cut_for_display(&text, text.len());
    let extra = (text.len() - shown.len()) as u64;
    (shown.to_string(), dropped + extra)
}

struct LimitedSink {
    kept: Vec<u8>,
    limit: usize,
    dropped: u64,
}

impl io::Write for LimitedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.kept.len());
        let take = room.min(buf.len());
        self.kept.extend_from_slice(&buf[..take]);
        self.dropped += (buf.len() - take) as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The longest prefix of `text` within `limit` bytes, on a char boundary,
/// preferring to end after a whole line when one ends in the second half.
fn cut_for_display(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    match head.rfind('\n') {
        Some(newline) if newline >= end / 2 => &head[..=newline],
        _ => head,
    }
}

/// `1234567` → `1,234,567`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    // Digits are ASCII, so every 3-byte chunk is valid UTF-8.
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or(""))
        .collect();
    groups.join(",")
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

fn push_footer(html: &mut String) {
    html.push_str(
        "<footer>\n<h2>How to verify this report</h2>\n\
         <p>Run <code>hindsight verify report.html FILE…</code> with the source files listed above. \
         It recomputes each file's SHA-256 and the state hash at every bookmark, using the reducer and \
         field settings recorded here, and exits with status 0 when all of them still match, or \
         names what differs. The facts it checks are embedded in this file as JSON.</p>\n</footer>\n",
    );
}

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1d232b; --muted: #5d6773; --line: #d5dbe2; --soft: #f5f7f9;
  --add: #1f7a3f; --remove: #b3261e; --replace: #8a5a00; --accent: #2457a6; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 64rem; padding: 2rem 1.5rem 3rem; color: var(--ink); background: #fff;
  font-family: system-ui, "Noto Sans", "Noto Sans CJK SC", "Noto Color Emoji", sans-serif;
  font-size: 15px; line-height: 1.5; overflow-wrap: anywhere; }
code, pre, .mono { font-family: ui-monospace, "Noto Sans Mono", "DejaVu Sans Mono", Menlo, Consolas,
  "Noto Sans Mono CJK SC", "Noto Sans CJK SC", "Noto Color Emoji", monospace; font-size: 0.86em; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0.2rem 0 0.4rem; }
h2 { font-size: 1.25rem; margin: 0 0 0.75rem; padding-bottom: 0.3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.02rem; margin: 1.4rem 0 0.5rem; }
h4 { font-size: 0.8rem; margin: 0.9rem 0 0.3rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
header { padding-bottom: 1rem; margin-bottom: 1.5rem; border-bottom: 3px solid var(--ink); }
.kicker { margin: 0; color: var(--accent); font-weight: 600; font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.08em; }
.meta { margin: 0.3rem 0; color: var(--muted); }
.muted { color: var(--muted); }
.small { font-size: 0.8rem; font-weight: normal; }
.block { margin-bottom: 2rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
thead th { font-size: 0.8rem; color: var(--muted); border-bottom: 2px solid var(--line); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.sources .c-name { width: 16%; } .sources .c-path { width: 29%; } .sources .c-size { width: 15%; } .sources .c-hash { width: 40%; }
@media screen and (max-width: 40rem) {
  /* Too narrow for four columns: one labelled block per source. */
  .sources thead, .sources colgroup { display: none; }
  .sources, .sources tbody, .sources tr, .sources td { display: block; width: auto; }
  .sources tr { padding: 0.4rem 0; border-bottom: 1px solid var(--line); }
  .sources td { border: 0; padding: 0.1rem 0; text-align: left; }
  .sources td::before { content: attr(data-label); display: block; font-size: 0.75rem; color: var(--muted); }
}
.hash { word-break: break-all; }
.kv th { width: 9rem; font-weight: 600; color: var(--muted); }
.kv.event { width: auto; min-width: 50%; max-width: 100%; }
.fields { list-style: none; margin: 0; padding: 0; }
.slot { color: var(--muted); }
code.wrap { white-space: pre-wrap; }
.toc { margin: 0; padding-left: 1.5rem; }
.toc li { margin: 0.15rem 0; }
a { color: var(--accent); }
.bookmark { margin: 2.5rem 0; padding-top: 1.5rem; border-top: 3px solid var(--ink); }
.note { font-size: 1.05rem; border-left: 4px solid var(--accent); padding: 0.1rem 0 0.1rem 0.9rem; margin: 0.5rem 0 0.75rem; }
.note p { margin: 0.35rem 0; }
.tag { display: inline-block; padding: 0 0.45rem; margin: 0.1rem 0; border: 1px solid var(--line); border-radius: 0.7rem; font-size: 0.85rem; color: var(--ink); }
pre { margin: 0; padding: 0.6rem 0.75rem; background: var(--soft); border: 1px solid var(--line); border-radius: 4px;
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word; max-height: 36rem; overflow: auto; line-height: 1.4; }
.truncated { margin: 0.3rem 0 0; color: var(--remove); font-size: 0.85rem; font-style: italic; }
.diff { list-style: none; margin: 0; padding: 0; }
.op { margin: 0 0 0.6rem; padding: 0.4rem 0 0.4rem 0.75rem; border-left: 4px solid var(--line); }
.op-add { border-left-color: var(--add); } .op-remove { border-left-color: var(--remove); } .op-replace { border-left-color: var(--replace); }
.op-word { font-weight: 700; }
.op-add .op-word { color: var(--add); } .op-remove .op-word { color: var(--remove); } .op-replace .op-word { color: var(--replace); }
.path { font-weight: 600; }
.values { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 0.5rem; margin-top: 0.35rem; }
.values > div, .pair > div { min-width: 0; }
.label { font-size: 0.75rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 0.75rem; }
.hashline { margin-top: 1rem; color: var(--muted); }
.hashline code { color: var(--ink); }
footer { margin-top: 3rem; padding-top: 1rem; border-top: 1px solid var(--line); color: var(--muted); font-size: 0.9rem; }
footer h2 { font-size: 1rem; border: 0; color: var(--ink); }
@media print {
  @page { margin: 15mm 14mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  a { color: inherit; text-decoration: none; }
  pre { max-height: none; overflow: visible; background: none; border-color: #bbb; }
  .pair, .values { display: block; }
  .pair > div + div, .values > div + div { margin-top: 0.5rem; }
  .bookmark { break-before: page; page-break-before: always; margin: 0; padding-top: 0; border-top: 0; }
  tr, .op, .note { break-inside: avoid; page-break-inside: avoid; }
  footer { break-before: avoid; }
}
"#;

// ---------------------------------------------------------------------------
// Reading back
// ---------------------------------------------------------------------------

/// Reads the embedded facts back; Err(one plain sentence) when the file is
/// not a Hindsight report or its facts are damaged.
pub fn extract_facts(html: &str) -> Result<ReportFacts, String> {
    if !looks_like_html(html) {
        return Err("The file is not an HTML document, so it is not a Hindsight report.".into());
    }
    let json = facts_block(html)?;
    serde_json::from_str(json)
        .map_err(|err| format!("The report's embedded facts are damaged ({err})."))
}

fn looks_like_html(text: &str) -> bool {
    let start = text.trim_start_matches('\u{feff}').trim_start();
    let head: Vec<u8> = start
        .bytes()
        .take(14)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    head.starts_with(b"<!doctype html") || head.starts_with(b"<html")
}

/// The text of the one `<script … id="hindsight-facts">` element.
fn facts_block(html: &str) -> Result<&str, String> {
    // ASCII lowercasing keeps every byte offset, so positions found in
    // `lower` slice `html` at the same (ASCII) characters.
    let lower = html.to_ascii_lowercase();
    let mut found: Option<usize> = None;
    let mut search_from = 0;
    while let Some(relative) = lower[search_from..].find("<script") {
        let tag_start = search_from + relative;
        let Some(tag_len) = lower[tag_start..].find('>') else {
            break;
        };
        let tag_end = tag_start + tag_len;
        if is_facts_tag(&lower[tag_start..tag_end]) {
            if found.is_some() {
                return Err(
                    "The file has more than one Hindsight facts block, so it has been altered."
                        .into(),
                );
            }
            found = Some(tag_end + 1);
        }
        search_from = tag_end;
    }
    let Some(body_start) = found else {
        return Err(
            "The file has no Hindsight facts block, so it is not a Hindsight report.".into(),
        );
    };
    let Some(body_len) = lower[body_start..].find("</script") else {
        return Err("The report's facts block is never closed, so the file is damaged.".into());
    };
    Ok(&html[body_start..body_start + body_len])
}

fn is_facts_tag(lower_tag: &str) -> bool {
    lower_tag.split_ascii_whitespace().any(|attr| {
        let attr = attr.trim_end_matches('/');
        attr == "id=\"hindsight-facts\""
            || attr == "id='hindsight-facts'"
            || attr == "id=hindsight-facts"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bookmark(id: i64, seq: u64, note: &str) -> ReportBookmark {
        ReportBookmark {
            id,
            seq,
            note: note.into(),
            tags: vec!["checked".into()],
            created: "2024-05-01T10:00:00Z".into(),
            event: json!({"seq": seq, "file": "orders.jsonl", "line": seq + 1, "ts": "2024-04-30T10:42:07.125Z",
                          "type": "OrderShipped", "key": "order-17", "level": "info",
                          "payload": {"order": "order-17", "status": "shipped"}}),
            raw: r#"{"type":"OrderShipped","order":"order-17","status":"shipped"}"#.into(),
            state_before: json!({"order-17": {"status": "paid", "total": 120.5}}),
            state_after: json!({"order-17": {"status": "shipped", "total": 120.5}}),
            diff: json!([{"op": "replace", "path": "/order-17/status", "value": "shipped"}]),
            state_sha256: sha256_hex(format!("state {seq}").as_bytes()),
        }
    }

    fn sample() -> Report {
        let mut multilingual = bookmark(
            1,
            48_213,
            "주문이 배송됨 — 注文が発送された 📦\n\nשלום עולם: الطلب شُحن\nsecond line",
        );
        multilingual.tags = vec!["한국어".into(), "עברית".into(), "🚚".into()];
        multilingual.state_after = json!({"order-17": {"status": "已发货 📦", "note": "مرحبا"}});

        let mut malicious = bookmark(2, 7, "</script><script>alert(1)</script>");
        malicious.raw = r#"{"name":"<img src=x onerror=alert(1)>"}"#.into();
        malicious.tags = vec!["<b>bold</b>".into()];
        malicious.event["payload"] = json!({"name": "<img src=x onerror=alert(1)>"});
        malicious.event["type"] = json!("<img src=x onerror=alert(1)>");
        malicious.state_after = json!({"name": "<img src=x onerror=alert(1)>"});
        malicious.state_before = json!({"name": "\"quoted\" & 'single'"});
        malicious.diff = json!([
            {"op": "replace", "path": "/name", "value": "<img src=x onerror=alert(1)>"},
            {"op": "add", "path": "/new", "value": [1, 2, 3]},
            {"op": "remove", "path": "/gone"},
        ]);

        let mut huge = bookmark(3, 1_000_000, "A huge state.");
        let members: serde_json::Map<String, Value> = (0..40_000)
            .map(|i| {
                (
                    format!("key-{i:06}"),
                    json!({"value": i, "text": "x".repeat(40)}),
                )
            })
            .collect();
        huge.state_after = Value::Object(members);
        huge.diff = json!([{"op": "replace", "path": "", "value": {"x": "y".repeat(50_000)}}]);

        let mut fields = BTreeMap::new();
        fields.insert("time".into(), "ts".into());
        fields.insert("type".into(), "kind".into());
        Report {
            title: "Incident 42 — order-17 <shipped twice>".into(),
            generated: "2024-05-02T08:00:00Z".into(),
            version: "0.4.0".into(),
            sources: vec![
                ReportSource {
                    name: "orders.jsonl".into(),
                    path: "/var/log/app/orders.jsonl".into(),
                    size: 1_234_567_890,
                    sha256: sha256_hex(b"orders"),
                },
                ReportSource {
                    name: "payments & refunds.csv".into(),
                    path: "/var/log/app/very/long/path/".repeat(8) + "payments & refunds.csv",
                    size: 999,
                    sha256: sha256_hex(b"payments"),
                },
            ],
            format: "jsonl".into(),
            reducer: "merge-by-key".into(),
            fields,
            events: 2_000_000,
            errors: 3,
            first_ts: Some("2024-04-30T00:00:00Z".into()),
            last_ts: Some("2024-04-30T23:59:59Z".into()),
            bookmarks: vec![huge, multilingual, malicious],
        }
    }

    #[test]
    fn renders_one_facts_block_that_reads_back_equal() {
        let report = sample();
        let html = render_html(&report);
        assert_eq!(html.matches("<script").count(), 1);
        assert_eq!(html.matches("</script>").count(), 1);
        assert_eq!(html.matches("id=\"hindsight-facts\"").count(), 1);
        assert_eq!(extract_facts(&html), Ok(facts(&report)));
        // Optionally keep the rendered sample to look at it in a browser.
        if let Ok(path) = std::env::var("HINDSIGHT_REPORT_SAMPLE") {
            std::fs::write(path, &html).unwrap();
        }
    }

    #[test]
    fn facts_json_cannot_close_its_element() {
        let html = render_html(&sample());
        let block = facts_block(&html).unwrap();
        assert!(!block.contains(['<', '>', '&']));
        assert!(block.contains("\\u003c/script\\u003e"));
    }

    #[test]
    fn fetches_nothing_and_runs_nothing() {
        let html = render_html(&sample());
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        ));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("<img") && !html.contains("<link") && !html.contains("url("));
        // Text is escaped, so every `<` opens a tag of ours: none may load anything.
        for tag in tags(&html) {
            assert!(!tag.contains("src="), "{tag}");
            assert!(!tag.contains("onerror"), "{tag}");
            if let Some(at) = tag.find("href=\"") {
                assert!(tag[at + 6..].starts_with('#'), "{tag}");
            }
        }
    }

    /// Every `<…>` of the document, outside the facts block.
    fn tags(html: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            let Some(len) = rest[start..].find('>') else {
                break;
            };
            out.push(&rest[start..start + len + 1]);
            rest = &rest[start + len + 1..];
        }
        out
    }

    #[test]
    fn escapes_notes_and_values() {
        let html = render_html(&sample());
        assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"));
        assert!(html.contains("&quot;\\&quot;quoted\\&quot; &amp; &#39;single&#39;&quot;"));
        assert!(html.contains("<title>Incident 42 — order-17 &lt;shipped twice&gt;</title>"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("payments &amp; refunds.csv"));
    }

    #[test]
    fn shows_any_script_as_itself() {
        let html = render_html(&sample());
        for text in [
            "주문이 배송됨 — 注文が発送された 📦",
            "שלום עולם: الطلب شُحن",
            "已发货 📦",
            "한국어",
            "🚚",
        ] {
            assert!(html.contains(text), "{text}");
        }
        assert!(html.contains("font-family: system-ui, \"Noto Sans\", \"Noto Sans CJK SC\", \"Noto Color Emoji\", sans-serif"));
        assert!(html.contains("white-space: pre-wrap; overflow-wrap: anywhere"));
    }

    #[test]
    fn lays_out_sources_settings_and_bookmarks_in_seq_order() {
        let html = render_html(&sample());
        assert!(html.contains(">1,234,567,890</td>"));
        assert!(html.contains("2,000,000"));
        assert!(html.contains("2024-04-30T00:00:00Z – 2024-04-30T23:59:59Z"));
        assert!(html.contains("<span class=\"slot\">type</span> → <code><bdi>kind</bdi></code>"));
        let first = html.find("id=\"bookmark-2\"").unwrap();
        let second = html.find("id=\"bookmark-1\"").unwrap();
        let third = html.find("id=\"bookmark-3\"").unwrap();
        assert!(first < second && second < third);
        assert!(html.contains("<h2>Event #48,213 "));
        assert!(html.contains(
            "<p dir=\"auto\">주문이 배송됨 — 注文が発送された 📦</p><p dir=\"auto\">שלום עולם: الطلب شُحن<br>second line</p>"
        ));
        assert!(html.contains("orders.jsonl:48214"));
        assert!(html.contains("hindsight verify report.html FILE…"));
    }

    #[test]
    fn diff_shows_words_and_old_and_new_values() {
        let html = render_html(&sample());
        let bookmark =
            &html[html.find("id=\"bookmark-1\"").unwrap()..html.find("id=\"bookmark-3\"").unwrap()];
        assert!(bookmark.contains(
            "<span class=\"op-word\">Replaced</span> <code class=\"path\">/order-17/status</code>"
        ));
        assert!(bookmark.contains("Old</div><pre>&quot;paid&quot;</pre>"));
        assert!(bookmark.contains("New</div><pre>&quot;shipped&quot;</pre>"));
        let malicious =
            &html[html.find("id=\"bookmark-2\"").unwrap()..html.find("id=\"bookmark-1\"").unwrap()];
        assert!(malicious.contains(">Added</span>"));
        assert!(malicious.contains(">Removed</span>"));
        let huge = &html[html.find("id=\"bookmark-3\"").unwrap()..];
        assert!(huge.contains("(the whole state)"));
    }

    #[test]
    fn truncates_huge_values_visibly_and_keeps_the_file_small() {
        let report = sample();
        let html = render_html(&report);
        let full = serde_json::to_string_pretty(&report.bookmarks[0].state_after).unwrap();
        assert!(full.len() > 2 * STATE_TEXT_LIMIT);
        assert!(html.contains("(truncated: "));
        assert!(html.contains(" more bytes)</p>"));
        assert!(html.len() < 1_000_000, "{}", html.len());
    }

    #[test]
    fn truncation_counts_bytes_and_respects_characters() {
        let value = json!("한".repeat(1000));
        let (text, omitted) = pretty_json_limited(&value, 100);
        let full = serde_json::to_string_pretty(&value).unwrap();
        assert!(text.len() <= 100);
        assert!(full.starts_with(&text));
        assert_eq!(text.len() as u64 + omitted, full.len() as u64);

        let raw = "ab\n".repeat(100) + &"é".repeat(100);
        let shown = cut_for_display(&raw, 301);
        assert!(shown.ends_with('\n') && shown.len() == 300);
        assert_eq!(cut_for_display("éé", 3), "é");
        assert_eq!(cut_for_display("short", 100), "short");
        assert_eq!(
            pretty_json_limited(&json!({"a": 1}), 100),
            ("{\n  \"a\": 1\n}".to_string(), 0)
        );
    }

    #[test]
    fn many_diff_operations_are_capped() {
        let mut report = sample();
        report.bookmarks.truncate(1);
        report.bookmarks[0].diff = Value::Array(
            (0..DIFF_OPS_SHOWN + 7)
                .map(|i| json!({"op": "add", "path": format!("/k{i}"), "value": i}))
                .collect(),
        );
        let html = render_html(&report);
        assert!(html.contains("(7 more operations not shown)"));
    }

    #[test]
    fn odd_shapes_render_without_panicking() {
        let mut report = sample();
        report.sources.clear();
        report.fields.clear();
        report.first_ts = None;
        report.last_ts = None;
        let mut odd = bookmark(-1, 0, "");
        odd.event = json!("not an object");
        odd.diff = json!({"not": "an array"});
        odd.state_before = Value::Null;
        odd.tags.clear();
        let mut weird_ops = bookmark(5, 1, "\n\n  \n");
        weird_ops.diff = json!([1, {"op": "bogus"}, {"op": "move", "from": "/a", "path": "/b"}, {"op": "replace", "path": "/missing/~2", "value": null}, []]);
        weird_ops.event = json!({"payload": null, "line": 3});
        report.bookmarks = vec![odd, weird_ops];
        let html = render_html(&report);
        assert!(html.contains("No source files."));
        assert!(html.contains("no timestamps"));
        assert!(html.contains("(no note)"));
        assert!(html.contains("Unknown operation"));
        assert!(html.contains(
            ">Moved</span> from <code class=\"path\">/a</code> to <code class=\"path\">/b</code>"
        ));
        assert!(html.contains("line 3"));
        assert_eq!(extract_facts(&html), Ok(facts(&report)));

        let empty = Report {
            bookmarks: vec![],
            ..report
        };
        let html = render_html(&empty);
        assert!(html.contains("No bookmarks."));
        assert_eq!(extract_facts(&html), Ok(facts(&empty)));
    }

    fn assert_one_sentence(message: &str) {
        assert!(
            message.ends_with('.') && !message.contains('\n'),
            "{message}"
        );
        assert!(
            message.starts_with(|c: char| c.is_ascii_uppercase()),
            "{message}"
        );
    }

    #[test]
    fn extract_facts_explains_what_is_wrong() {
        let not_html = extract_facts("{\"version\": \"1\"}").unwrap_err();
        assert!(not_html.contains("not an HTML document"));
        assert_one_sentence(&not_html);
        assert!(extract_facts("").is_err());

        let missing =
            extract_facts("<!doctype html><html><body><p>hello</p></body></html>").unwrap_err();
        assert!(missing.contains("no Hindsight facts block"));
        assert_one_sentence(&missing);

        let html = render_html(&sample());
        let damaged = html.replacen("{\"version\"", "{\"versio", 1);
        let err = extract_facts(&damaged).unwrap_err();
        assert!(
            err.starts_with("The report's embedded facts are damaged"),
            "{err}"
        );
        assert_one_sentence(&err);

        let unclosed = &html[..html.find("</script>").unwrap()];
        assert_one_sentence(&extract_facts(unclosed).unwrap_err());

        let block = &html[html.find("<script").unwrap()..html.find("</script>").unwrap() + 9];
        let doubled = html.replacen("</head>", &format!("{block}</head>"), 1);
        assert_one_sentence(&extract_facts(&doubled).unwrap_err());
    }

    #[test]
    fn extract_facts_tolerates_case_and_a_byte_order_mark() {
        let report = sample();
        let html = format!(
            "\u{feff}\n{}",
            render_html(&report).replace("<!doctype html>", "<!DOCTYPE HTML>")
        );
        assert_eq!(extract_facts(&html), Ok(facts(&report)));
    }

    #[test]
    fn sha256_matches_the_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
