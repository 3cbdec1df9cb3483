//! The shell's commands through Tauri's mock runtime: the same IPC path the
//! window uses, without a window.

use hindsight_app::commands::AppState;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

/// One private cache for this test binary: the variable is process-wide, so
/// tests running in parallel must agree on it.
fn private_cache() {
    static CACHE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = CACHE.get_or_init(|| tempfile::tempdir().unwrap());
    std::env::set_var("XDG_CACHE_HOME", dir.path());
}

fn window() -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    private_cache();
    let app = hindsight_app::builder_from(mock_builder()).manage(AppState::default()).build(mock_context(noop_assets())).unwrap();
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    (app, w)
}

fn call(w: &WebviewWindow<MockRuntime>, cmd: &str, body: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(w, request).map(|b| b.deserialize::<Value>().unwrap())
}

fn demo() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/shop.jsonl").canonicalize().unwrap().to_string_lossy().into_owned()
}

fn open(w: &WebviewWindow<MockRuntime>, paths: &[String]) -> Result<Value, Value> {
    call(w, "open", json!({"request": {"paths": paths, "reducer": null, "fields": null}, "onProgress": "__CHANNEL__:1"}))
}

#[test]
fn opening_the_demo_and_asking_what_the_window_asks() {
    let (_app, w) = window();
    // Nothing open yet: a readable error, not a crash.
    let err = call(&w, "position", json!({"seq": 1, "pin": null, "treeLimit": 10})).unwrap_err();
    assert_eq!(err["code"], json!("no-source"));

    let info = open(&w, &[demo()]).unwrap();
    assert_eq!(info["events"], json!(3502));
    assert_eq!(info["reducer"], json!("entity"));
    assert_eq!(info["fields"]["key"], json!("streamId"));

    let pos = call(&w, "position", json!({"seq": 2740, "pin": null, "treeLimit": 5})).unwrap();
    assert_eq!(pos["base"], json!(2739));
    assert_eq!(pos["event"]["type"], json!("RefundIssued"));
    assert_eq!(pos["tree"]["children"].as_array().unwrap().len(), 5);
    let total = pos["changes"].as_array().unwrap().iter().find(|c| c["path"] == json!("/order-1137/total")).unwrap();
    assert_eq!((total["op"].clone(), total["old"].clone(), total["new"].clone()), (json!("replace"), json!(0.0), json!(-338.96)));

    let pinned = call(&w, "position", json!({"seq": 2740, "pin": 1452, "treeLimit": 5})).unwrap();
    assert_eq!(pinned["base"], json!(1452));

    let node = call(&w, "tree_node", json!({"seq": 2740, "path": "/order-1137", "offset": 0, "limit": 100})).unwrap();
    assert!(node["children"].as_array().unwrap().iter().any(|c| c["key"] == json!("total") && c["preview"] == json!("-338.96")));

    let blame = call(&w, "blame", json!({"path": "/order-1137/total"})).unwrap();
    let seqs: Vec<u64> = blame.as_array().unwrap().iter().map(|b| b["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1452, 1461, 2719, 2740]);

    let page = call(&w, "list", json!({"filter": {"type": "RefundIssued", "key": null, "level": null, "text": null, "since": null, "until": null}, "offset": 0, "limit": 50})).unwrap();
    assert_eq!(page["total"], json!(25));
    assert!(page["rows"].as_array().unwrap().iter().all(|r| r["type"] == json!("RefundIssued")));
    let index = call(&w, "list_index", json!({"filter": {"type": "RefundIssued", "key": null, "level": null, "text": null, "since": null, "until": null}, "seq": 2740})).unwrap();
    assert_eq!(page["rows"][index.as_u64().unwrap() as usize]["seq"], json!(2740));

    let hist = call(&w, "histogram", json!({"bins": 50, "start": null, "end": null})).unwrap();
    assert_eq!(hist["axis"], json!("time"));
    assert_eq!(hist["bins"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum::<u64>(), 3502);

    let next = call(&w, "neighbor", json!({"seq": 2719, "byKey": false, "forward": true})).unwrap();
    assert!(next.as_u64().unwrap() > 2719);
    let change = call(&w, "next_change", json!({"path": "/order-1137/total", "seq": 2719})).unwrap();
    assert_eq!(change, json!(2740));
    let found = call(&w, "find", json!({"expr": "any(.[]; (.total? // 0) < 0)", "all": false})).unwrap();
    assert_eq!(found[0]["seq"], json!(2740));
    assert_eq!(call(&w, "check_reducer", json!({"spec": "jq:.a += 1"})).unwrap(), Value::Null);
    assert!(call(&w, "check_reducer", json!({"spec": "jq:.a +"})).unwrap().as_str().unwrap().contains("jq"));
}

#[test]
fn the_timeline_of_one_entity() {
    let (_app, w) = window();
    open(&w, &[demo()]).unwrap();
    let h = call(&w, "entity_history", json!({"key": "order-1137"})).unwrap();
    assert_eq!((h["key"].clone(), h["path"].clone()), (json!("order-1137"), json!("/order-1137")));
    let steps = h["steps"].as_array().unwrap();
    let seqs: Vec<u64> = steps.iter().map(|s| s["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1452, 1461, 1463, 1918, 2551, 2719, 2740]);
    assert_eq!(steps[0]["change"], json!("created"));
    assert!(steps[1..].iter().all(|s| s["change"] == json!("updated") && s["keyed"] == json!(true)));
    assert_eq!(steps[6]["type"], json!("RefundIssued"));
    assert_eq!(steps[6]["value"]["total"], json!(-338.96));
    assert_eq!(h["lifetimes"], json!([{"created": 1452, "deleted": null}]));

    // A cart is created and deleted: the step that deletes it has no value.
    let cart = call(&w, "entity_history", json!({"key": "cart-362"})).unwrap();
    let last = cart["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["change"], json!("deleted"));
    assert!(last.get("value").is_none(), "an absent value is left out: {last}");
    assert_eq!(cart["lifetimes"][0]["deleted"], last["seq"]);

    let err = call(&w, "entity_history", json!({"key": "order-0"})).unwrap_err();
    assert_eq!(err["code"], json!("query"));
    assert!(err["message"].as_str().unwrap().contains("order-0"), "{err}");
}

#[test]
fn bad_files_come_back_as_sentences() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, w) = window();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, b"").unwrap();
    let err = open(&w, &[empty.to_string_lossy().into_owned()]).unwrap_err();
    assert_eq!(err["code"], json!("source"));
    assert!(err["message"].as_str().unwrap().contains("empty.jsonl"));
    let err = open(&w, &[]).unwrap_err();
    assert_eq!(err["code"], json!("usage"));
}

#[test]
fn refresh_follows_a_growing_then_truncated_file() {
    let (_app, w) = window();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("live.jsonl");
    let line = |i: u32| format!("{{\"ts\":\"2024-01-01T10:00:{i:02}Z\",\"type\":\"Tick\",\"streamId\":\"k\",\"data\":{{\"n\":{i}}}}}\n");
    std::fs::write(&log, line(1) + &line(2)).unwrap();
    let path = log.to_string_lossy().into_owned();
    assert_eq!(open(&w, std::slice::from_ref(&path)).unwrap()["events"], json!(2));
    let same = call(&w, "refresh", json!({})).unwrap();
    assert_eq!((same["action"].clone(), same["notice"].clone()), (json!("reused"), Value::Null));
    std::io::Write::write_all(&mut std::fs::OpenOptions::new().append(true).open(&log).unwrap(), line(3).as_bytes()).unwrap();
    let grown = call(&w, "refresh", json!({})).unwrap();
    assert_eq!((grown["action"].clone(), grown["info"]["events"].clone()), (json!("appended"), json!(3)));
    // The new event is there for every question the window asks.
    let pos = call(&w, "position", json!({"seq": 3, "pin": null, "treeLimit": 5})).unwrap();
    assert_eq!(pos["seq"], json!(3));
    std::fs::write(&log, line(9)).unwrap();
    let rebuilt = call(&w, "refresh", json!({})).unwrap();
    assert_eq!(rebuilt["info"]["events"], json!(1));
    assert!(rebuilt["notice"].as_str().unwrap().contains("indexed again from its start"), "{rebuilt}");
}

#[test]
fn a_saved_session_comes_back_with_the_next_open() {
    let (_app, w) = window();
    // A file of its own: tests run in parallel and share the index cache.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("session.jsonl");
    let lines: String = (1..=5).map(|i| format!("{{\"ts\":\"2024-01-01T10:00:0{i}Z\",\"type\":\"Tick\",\"streamId\":\"k{i}\",\"data\":{{\"n\":{i}}}}}\n")).collect();
    std::fs::write(&log, lines).unwrap();
    let path = log.to_string_lossy().into_owned();
    let first = open(&w, std::slice::from_ref(&path)).unwrap();
    assert_eq!(first["session"], Value::Null);
    let filter = json!({"type": "Tick", "key": null, "level": null, "text": "", "since": null, "until": null});
    let open_paths: Vec<String> = (0..250).map(|i| format!("/k{i}")).collect();
    let session = json!({"seq": 4, "filter": filter, "pin": 2, "open": open_paths});
    call(&w, "save_session", json!({"paths": [path], "session": session})).unwrap();
    let again = open(&w, std::slice::from_ref(&path)).unwrap();
    let s = &again["session"];
    assert_eq!((s["seq"].clone(), s["pin"].clone()), (json!(4), json!(2)));
    assert_eq!(s["filter"]["type"], json!("Tick"));
    assert_eq!(s["filter"]["text"], Value::Null, "an empty field is stored as none");
    assert_eq!(s["open"].as_array().unwrap().len(), 200, "the open paths are capped");
    let err = call(&w, "save_session", json!({"paths": [], "session": session})).unwrap_err();
    assert_eq!(err["code"], json!("usage"));
}

#[test]
fn a_large_file_is_shown_from_its_first_events_while_the_rest_is_indexed() {
    let (_app, w) = window();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("large.jsonl");
    // Over the size from which the window shows a file before it is indexed.
    let mut text = String::new();
    let mut total = 0u64;
    while text.len() < (9 << 20) {
        total += 1;
        text += &format!(
            "{{\"ts\":{},\"type\":\"Set\",\"streamId\":\"k{}\",\"data\":{{\"n\":{total},\"pad\":\"{}\"}}}}\n",
            1_700_000_000_000u64 + total,
            total % 500,
            "x".repeat(80)
        );
    }
    std::fs::write(&log, text).unwrap();
    let path = log.to_string_lossy().into_owned();
    let info = open(&w, std::slice::from_ref(&path)).unwrap();
    assert_eq!((info["indexing"].clone(), info["events"].clone()), (json!(true), json!(1000)), "shown after the first commit");
    // What is shown answers like the finished index will.
    let pos = call(&w, "position", json!({"seq": 1000, "pin": null, "treeLimit": 5})).unwrap();
    assert_eq!(pos["seq"], json!(1000));
    let refreshed = call(&w, "refresh", json!({})).unwrap();
    assert_eq!(refreshed["action"], json!("reused"), "growth is not looked at while indexing");
    let mut seen = vec![];
    let done = loop {
        let now = call(&w, "source_info_now", json!({})).unwrap();
        seen.push(now["events"].as_u64().unwrap());
        if now["indexing"] == json!(false) {
            break now;
        }
        assert!(seen.len() < 6000, "indexing did not end: {seen:?}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(done["events"], json!(total));
    assert!(seen.windows(2).all(|p| p[0] <= p[1]), "the count only grows: {seen:?}");
    let last = call(&w, "position", json!({"seq": total, "pin": null, "treeLimit": 5})).unwrap();
    assert_eq!(last["seq"], json!(total));
}

#[test]
fn the_text_index_is_built_in_the_background_and_announced() {
    use tauri::Listener;
    let (app, w) = window();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let sink = heard.clone();
    app.listen_any("text-index", move |e| sink.lock().unwrap().push(serde_json::from_str(e.payload()).unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("search.jsonl");
    let lines: String = (0..500).map(|i| format!("{{\"type\":\"Set\",\"streamId\":\"k{}\",\"data\":{{\"word\":\"w{i}\"}}}}\n", i % 9)).collect();
    std::fs::write(&log, lines).unwrap();
    let path = log.to_string_lossy().into_owned();
    open(&w, std::slice::from_ref(&path)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let last = loop {
        if let Some(last) = heard.lock().unwrap().last().cloned().filter(|l| l["covered"] == l["total"]) {
            break last;
        }
        assert!(std::time::Instant::now() < deadline, "the text index was never announced as built: {:?}", heard.lock().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!((last["files"].clone(), last["total"].clone()), (json!([path]), json!(500)));
    // Searches answer the same through it.
    let page = call(&w, "list", json!({"filter": {"type": null, "key": null, "level": null, "text": "w49", "since": null, "until": null}, "offset": 0, "limit": 50})).unwrap();
    let seqs: Vec<u64> = page["rows"].as_array().unwrap().iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [50, 491, 492, 493, 494, 495, 496, 497, 498, 499, 500]);
}
