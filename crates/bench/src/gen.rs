//! Deterministic synthetic event logs for Hindsight's demo and benchmarks.
//!
//! * [`write_demo`] writes the small, hand-tuned "event-sourced shop" log shipped as
//!   `demo/shop.jsonl` (about a day of simulated time, a few thousand events) with one
//!   planted bug: a refund delivered twice, which drives one order's `total` negative.
//! * [`write_orders`] writes an arbitrarily long JSON Lines log of the same domain for
//!   benchmarks: ~145 bytes per line (1 M events ≈ 145 MB), 16 event types, state growing
//!   linearly by ~70k live entities per million events (orders, customers, products) while
//!   orders are purged and customers deleted along the way; ~45 minutes of traffic per
//!   million events, with many equal timestamps. Generation runs at >10 M events/s.
//! * [`write_text_log`] writes the same event stream (same seed → same events) as
//!   plain-text log lines of ~131 bytes.
//!
//! Every line of the JSON logs looks like
//! `{"ts":"2024-03-04T09:15:02.125Z","level":"info","type":"OrderPlaced","streamId":"order-1042","data":{...}}`
//! and is meant for the `entity` reducer: `state[streamId] = merge_patch(state[streamId] or {}, data)`,
//! with types ending in `Deleted`/`Purged` removing the entity.
//!
//! Output depends only on the seed: no `rand`, no floating point, no hash-map iteration, so
//! the bytes are identical on every machine. Money is computed in integer cents and printed
//! as the shortest JSON number that round-trips (`120.5`, `89.99`, `120.0`), i.e. exactly what
//! `serde_json` prints for the same `f64`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{self, Write};

// ============================================================================================
// Public API
// ============================================================================================

/// What [`write_demo`] planted, so tests and the README can state it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFacts {
    /// Stream id of the order that receives the same refund twice, e.g. `order-1137`.
    pub bug_order: String,
    /// 1-based line number (= seq) of the duplicated `RefundIssued`, the first event after
    /// which any entity has a negative `total`.
    pub bug_seq: u64,
    /// 1-based line number of the legitimate (first) `RefundIssued` of `bug_order`.
    pub first_refund_seq: u64,
    /// Number of lines (events) written.
    pub events: u64,
}

/// Size and seed of a benchmark log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrdersConfig {
    pub events: u64,
    pub seed: u64,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            events: 1_000_000,
            seed: 42,
        }
    }
}

/// What [`write_orders`] / [`write_text_log`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrdersStats {
    /// Lines written.
    pub events: u64,
    /// Bytes written (including newlines).
    pub bytes: u64,
    /// Live entities (customers + products + orders) in the `entity` reducer's state after the
    /// last event.
    pub live_entities_at_end: u64,
}

/// Writes the demo shop log (JSON Lines) and returns where the planted bug is.
///
/// The output is fixed (no seed): the same bytes on every run and every machine.
pub fn write_demo(w: &mut impl Write) -> io::Result<DemoFacts> {
    let mut demo = Demo::new(w);
    demo.run()?;
    let Some(bug) = demo.bug else {
        return Err(io::Error::other(
            "demo generator failed to plant the duplicate refund",
        ));
    };
    if demo.bug_seq == 0 {
        return Err(io::Error::other(
            "demo generator: duplicate refund fell outside the day",
        ));
    }
    demo.out.w.flush()?;
    Ok(DemoFacts {
        bug_order: order_stream(bug),
        bug_seq: demo.bug_seq,
        first_refund_seq: demo.first_refund_seq,
        events: demo.out.seq,
    })
}

/// Writes `cfg.events` lines of the order-processing benchmark log as JSON Lines.
///
/// Output is buffered internally in 64 KiB chunks, so `w` need not be a `BufWriter`.
pub fn write_orders(w: &mut impl Write, cfg: &OrdersConfig) -> io::Result<OrdersStats> {
    write_bench(w, cfg, Format::Json)
}

/// Writes the same event stream as [`write_orders`] (same seed → same events) as plain text:
/// `2024-03-04 09:15:02.125 INFO  order-1042 OrderPlaced customer=customer-17 items=3 total=120.50 ...`
pub fn write_text_log(w: &mut impl Write, cfg: &OrdersConfig) -> io::Result<OrdersStats> {
    write_bench(w, cfg, Format::Text)
}

// ============================================================================================
// PRNG: splitmix64 (fast, tiny, deterministic everywhere)
// ============================================================================================

#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut r = Rng(seed ^ 0x853C_49E6_748F_EA9B);
        r.next_u64();
        r
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is < n / 2^64).
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    #[inline]
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// Uniform in `[0.2 * mean, 1.8 * mean]` (integer only, so no libm differences).
    #[inline]
    fn jitter(&mut self, mean: u64) -> u64 {
        self.range(mean / 5, mean * 9 / 5)
    }

    #[inline]
    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}

// ============================================================================================
// Formatting helpers
// ============================================================================================

const SEC: u64 = 1_000;
const MIN: u64 = 60 * SEC;
const HOUR: u64 = 60 * MIN;
const DAY: u64 = 24 * HOUR;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m as u32, d as u32)
}

/// Unix milliseconds of 2024-03-04T00:00:00.000Z.
const EPOCH_2024_03_04: u64 = days_from_civil(2024, 3, 4) as u64 * DAY;

#[inline]
fn push2(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
}

/// Formats Unix-millisecond timestamps, caching the date part.
struct TsFmt {
    day: u64,
    date: [u8; 10],
}

impl TsFmt {
    fn new() -> TsFmt {
        TsFmt {
            day: u64::MAX,
            date: [0; 10],
        }
    }

    /// `2024-03-04T09:15:02.125Z` (sep `T`, zulu) or `2024-03-04 09:15:02.125`.
    #[inline]
    fn push(&mut self, buf: &mut Vec<u8>, ms: u64, sep: u8, zulu: bool) {
        let day = ms / DAY;
        if day != self.day {
            self.day = day;
            let (y, m, d) = civil_from_days(day as i64);
            let mut v = Vec::with_capacity(10);
            push_u64(&mut v, y as u64);
            v.push(b'-');
            push2(&mut v, m as u64);
            v.push(b'-');
            push2(&mut v, d as u64);
            self.date.copy_from_slice(&v[..10]);
        }
        buf.extend_from_slice(&self.date);
        buf.push(sep);
        let r = ms % DAY;
        push2(buf, r / HOUR);
        buf.push(b':');
        push2(buf, r / MIN % 60);
        buf.push(b':');
        push2(buf, r / SEC % 60);
        let milli = r % 1000;
        buf.extend_from_slice(&[
            b'.',
            b'0' + (milli / 100) as u8,
            b'0' + (milli / 10 % 10) as u8,
            b'0' + (milli % 10) as u8,
        ]);
        if zulu {
            buf.push(b'Z');
        }
    }
}

#[inline]
fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

#[inline]
fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// Cents as the shortest round-tripping JSON number: 12050 → `120.5`, 8999 → `89.99`,
/// 12000 → `120.0`, -3950 → `-39.5` (identical to serde_json's output for that f64).
#[inline]
fn push_money(buf: &mut Vec<u8>, cents: i64) {
    if cents < 0 {
        buf.push(b'-');
    }
    let c = cents.unsigned_abs();
    push_u64(buf, c / 100);
    let f = c % 100;
    buf.push(b'.');
    buf.push(b'0' + (f / 10) as u8);
    if f % 10 != 0 {
        buf.push(b'0' + (f % 10) as u8);
    }
}

/// Cents with exactly two decimals, for text logs: 12050 → `120.50`.
#[inline]
fn push_money_fixed(buf: &mut Vec<u8>, cents: i64) {
    if cents < 0 {
        buf.push(b'-');
    }
    let c = cents.unsigned_abs();
    push_u64(buf, c / 100);
    buf.push(b'.');
    push2(buf, c % 100);
}

/// A JSON string literal with RFC 8259 escaping (UTF-8 passes through).
fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0x00..=0x1f => {
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[(b >> 4) as usize]);
                buf.push(HEX[(b & 15) as usize]);
            }
            _ => buf.push(b),
        }
    }
    buf.push(b'"');
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn json(self) -> &'static [u8] {
        match self {
            Level::Info => b"info",
            Level::Warn => b"warn",
            Level::Error => b"error",
        }
    }
    /// Padded to five columns plus one space, like most text loggers.
    fn text(self) -> &'static [u8] {
        match self {
            Level::Info => b"INFO  ",
            Level::Warn => b"WARN  ",
            Level::Error => b"ERROR ",
        }
    }
}

/// Writes `{"ts":"…","level":"…","type":"…","streamId":"` — the caller continues with the
/// stream id, then `","data":` + data + `}\n`.
#[inline]
fn json_head(buf: &mut Vec<u8>, tsf: &mut TsFmt, ms: u64, level: Level, ty: &str) {
    buf.extend_from_slice(b"{\"ts\":\"");
    tsf.push(buf, ms, b'T', true);
    buf.extend_from_slice(b"\",\"level\":\"");
    buf.extend_from_slice(level.json());
    buf.extend_from_slice(b"\",\"type\":\"");
    buf.extend_from_slice(ty.as_bytes());
    buf.extend_from_slice(b"\",\"streamId\":\"");
}

/// One order line (`{sku, qty, price}`), price in cents.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Item {
    sku: u32,
    qty: u32,
    price: u32,
}

impl Item {
    fn amount(&self) -> i64 {
        self.qty as i64 * self.price as i64
    }
}

fn push_items_json(buf: &mut Vec<u8>, items: &[Item]) {
    buf.push(b'[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"{\"sku\":\"SKU-");
        push_u64(buf, it.sku as u64);
        buf.extend_from_slice(b"\",\"qty\":");
        push_u64(buf, it.qty as u64);
        buf.extend_from_slice(b",\"price\":");
        push_money(buf, it.price as i64);
        buf.push(b'}');
    }
    buf.push(b']');
}

fn total_of(items: &[Item]) -> i64 {
    items.iter().map(Item::amount).sum()
}

fn order_stream(idx: usize) -> String {
    format!("order-{}", DEMO_FIRST_ORDER + idx as u64)
}

// ============================================================================================
// Shared vocabulary
// ============================================================================================

/// (display name, ASCII slug for e-mail addresses)
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Ada", "ada"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Liam", "liam"),
    ("Mia", "mia"),
    ("Noah", "noah"),
    ("Sofia", "sofia"),
    ("Lukas", "lukas"),
    ("Emma", "emma"),
    ("Oliver", "oliver"),
    ("Chloé", "chloe"),
    ("Mateo", "mateo"),
    ("Hannah", "hannah"),
    ("Yuki", "yuki"),
    ("Amara", "amara"),
    ("Finn", "finn"),
    ("Inès", "ines"),
    ("Omar", "omar"),
    ("Priya", "priya"),
    ("Jonas", "jonas"),
    ("Elena", "elena"),
    ("Kai", "kai"),
    ("Marta", "marta"),
    ("Tomás", "tomas"),
];
const LAST_NAMES: &[(&str, &str)] = &[
    ("Novak", "novak"),
    ("Müller", "muller"),
    ("O'Neil", "oneil"),
    ("García", "garcia"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Kowalski", "kowalski"),
    ("Jensen", "jensen"),
    ("Tanaka", "tanaka"),
    ("Silva", "silva"),
    ("Okafor", "okafor"),
    ("Smith", "smith"),
    ("Larsen", "larsen"),
    ("Moreau", "moreau"),
    ("Fischer", "fischer"),
    ("Costa", "costa"),
    ("Nowak", "nowak"),
    ("Ibrahim", "ibrahim"),
    ("Berg", "berg"),
    ("Fontaine", "fontaine"),
];
/// (city, ISO country, zip prefix)
const CITIES: &[(&str, &str, &str)] = &[
    ("Paris", "FR", "750"),
    ("Lyon", "FR", "690"),
    ("Berlin", "DE", "101"),
    ("Hamburg", "DE", "204"),
    ("Madrid", "ES", "280"),
    ("Lisbon", "PT", "110"),
    ("Amsterdam", "NL", "101"),
    ("Milan", "IT", "201"),
    ("Warsaw", "PL", "001"),
    ("Copenhagen", "DK", "120"),
    ("Vienna", "AT", "104"),
    ("Dublin", "IE", "D02"),
    ("Brussels", "BE", "100"),
    ("Prague", "CZ", "110"),
    ("Stockholm", "SE", "114"),
    ("Zürich", "CH", "800"),
];
/// Two streets per city, parallel to `CITIES`.
const STREETS: &[[&str; 2]] = &[
    ["Rue Oberkampf", "Rue de Rivoli"],
    ["Rue de la République", "Cours Lafayette"],
    ["Kurfürstendamm", "Torstraße"],
    ["Mönckebergstraße", "Schanzenstraße"],
    ["Calle Mayor", "Gran Vía"],
    ["Rua Augusta", "Avenida da Liberdade"],
    ["Keizersgracht", "Haarlemmerstraat"],
    ["Via Torino", "Corso Buenos Aires"],
    ["Nowy Świat", "Marszałkowska"],
    ["Strøget", "Nørrebrogade"],
    ["Mariahilfer Straße", "Praterstraße"],
    ["Grafton Street", "Baggot Street"],
    ["Avenue Louise", "Rue Neuve"],
    ["Karlova", "Vinohradská"],
    ["Drottninggatan", "Götgatan"],
    ["Bahnhofstrasse", "Langstrasse"],
];
const TIERS: &[&str] = &["basic", "basic", "basic", "silver", "silver", "gold"];
const CARRIERS: &[(&str, &str)] = &[
    ("DHL", "JD01"),
    ("UPS", "1Z"),
    ("DPD", "0150"),
    ("GLS", "GL"),
];
const RETRY_ERRORS: &[&str] = &["gateway_timeout", "3ds_timeout", "rate_limited"];
const DECLINE_CODES: &[&str] = &["insufficient_funds", "card_expired", "do_not_honor"];
const REFUND_REASONS: &[&str] = &[
    "damaged",
    "not_as_described",
    "changed_mind",
    "late_delivery",
];

// ============================================================================================
// (1) The demo shop
// ============================================================================================

/// The demo day: 2024-03-04T06:00Z .. 2024-03-05T06:00Z.
const DEMO_START: u64 = EPOCH_2024_03_04 + 6 * HOUR;
const DEMO_END: u64 = DEMO_START + DAY;
const DEMO_SEED: u64 = 0x48_49_4E_44_53_49_47_48; // "HINDSIGH"
const DEMO_FIRST_ORDER: u64 = 1001;
/// The order that receives the duplicate refund (the README and `make run` name it)…
const DEMO_BUG_ORDER: u64 = 1137;
/// …which must be placed before this time so that its whole story fits into the day.
const DEMO_BUG_LATEST_PLACEMENT: u64 = DEMO_START + 14 * HOUR;
const DEMO_INITIAL_PRODUCTS: usize = 30;

/// (sku, name, category, price in cents). The first `DEMO_INITIAL_PRODUCTS` are imported at
/// the start of the day, the rest are listed during it.
const CATALOG: &[(u32, &str, &str, u32)] = &[
    (204, "Wireless Headphones", "audio", 14999),
    (118, "USB-C Cable (2 m)", "cables", 1250),
    (131, "Phone Case", "accessories", 1999),
    (142, "Screen Protector", "accessories", 999),
    (157, "Power Bank 10000 mAh", "power", 3990),
    (163, "Bluetooth Speaker", "audio", 7900),
    (170, "Smart Watch", "wearables", 22900),
    (181, "Fitness Band", "wearables", 5999),
    (195, "Laptop Stand", "desk", 4450),
    (210, "Mechanical Keyboard", "desk", 11900),
    (221, "Wireless Mouse", "desk", 2999),
    (233, "27\" Monitor", "displays", 28900),
    (247, "HDMI Cable", "cables", 899),
    (252, "Webcam 1080p", "video", 6490),
    (266, "USB Hub 7-in-1", "accessories", 3499),
    (271, "Noise-Cancelling Earbuds", "audio", 17900),
    (285, "Tablet Sleeve", "accessories", 2400),
    (298, "E-Reader", "tablets", 13999),
    (305, "Charging Dock", "power", 4950),
    (312, "LED Desk Lamp", "desk", 3675),
    (326, "USB Microphone", "audio", 8900),
    (334, "Gaming Controller", "gaming", 5900),
    (347, "SD Card 128 GB", "storage", 2199),
    (359, "Portable SSD 1 TB", "storage", 10900),
    (361, "Travel Adapter", "power", 1549),
    (378, "Car Phone Mount", "accessories", 1790),
    (383, "Smart Plug (2-pack)", "smart-home", 2799),
    (394, "Action Camera", "video", 24900),
    (402, "Tripod", "video", 3200),
    (415, "Ring Light", "video", 4299),
    (428, "Foldable Keyboard", "desk", 5400),
    (433, "Kids' Tablet", "tablets", 9900),
    (447, "Café Bluetooth Radio", "audio", 6990),
    (459, "Smart Doorbell", "smart-home", 15900),
];

/// Cheap items offered as add-ons after checkout (`ItemAdded`).
const ADDON_MAX_PRICE: u32 = 2000;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Act {
    Arrival,
    PriceTick,
    AddressTick,
    NewProduct,
    StartCart(usize),
    CartAdd(usize, u8),
    Checkout(usize),
    Abandon(usize),
    CartCleanup(usize),
    AddOn(usize),
    Pay(usize),
    CustCancel(usize),
    Ship(usize),
    Deliver(usize),
    Refund(usize),
    DupRefund(usize),
    Restock(usize),
}

struct DProduct {
    sku: u32,
    price: i64,
    stock: i64,
    restock_pending: bool,
}

struct DCustomer {
    city: usize,
    has_line2: bool,
    shopping: bool,
}

struct DCart {
    customer: usize,
    items: Vec<Item>,
}

struct DOrder {
    items: Vec<Item>,
    total: i64,
    refunded: i64,
    attempts: u32,
    bug: bool,
    refund_id: u64,
    refund_amount: i64,
    refund_reason: &'static str,
}

struct Out<'w, W: Write> {
    w: &'w mut W,
    seq: u64,
    last: u64,
    line: Vec<u8>,
    tsf: TsFmt,
}

impl<W: Write> Out<'_, W> {
    /// Emits one line at `max(t, previous + 1 ms)` (strictly increasing timestamps) and
    /// returns the timestamp used; `self.seq` is then the line's 1-based number.
    fn emit(
        &mut self,
        t: u64,
        level: Level,
        ty: &str,
        stream: &str,
        data: &[u8],
    ) -> io::Result<u64> {
        let t = t.max(self.last + 1);
        self.last = t;
        self.seq += 1;
        self.line.clear();
        json_head(&mut self.line, &mut self.tsf, t, level, ty);
        self.line.extend_from_slice(stream.as_bytes());
        self.line.extend_from_slice(b"\",\"data\":");
        self.line.extend_from_slice(data);
        self.line.extend_from_slice(b"}\n");
        self.w.write_all(&self.line)?;
        Ok(t)
    }
}

/// Tiny builder for the demo's `data` objects.
struct Obj(Vec<u8>);

impl Obj {
    fn new() -> Obj {
        Obj(vec![b'{'])
    }
    fn key(&mut self, k: &str) {
        if self.0.len() > 1 {
            self.0.push(b',');
        }
        push_json_str(&mut self.0, k);
        self.0.push(b':');
    }
    fn s(mut self, k: &str, v: &str) -> Obj {
        self.key(k);
        push_json_str(&mut self.0, v);
        self
    }
    fn n(mut self, k: &str, v: i64) -> Obj {
        self.key(k);
        push_i64(&mut self.0, v);
        self
    }
    fn money(mut self, k: &str, cents: i64) -> Obj {
        self.key(k);
        push_money(&mut self.0, cents);
        self
    }
    fn b(mut self, k: &str, v: bool) -> Obj {
        self.key(k);
        self.0.extend_from_slice(if v { b"true" } else { b"false" });
        self
    }
    fn null(mut self, k: &str) -> Obj {
        self.key(k);
        self.0.extend_from_slice(b"null");
        self
    }
    fn items(mut self, k: &str, items: &[Item]) -> Obj {
        self.key(k);
        push_items_json(&mut self.0, items);
        self
    }
    fn obj(mut self, k: &str, o: Obj) -> Obj {
        self.key(k);
        self.0.extend_from_slice(&o.done());
        self
    }
    fn done(mut self) -> Vec<u8> {
        self.0.push(b'}');
        self.0
    }
}

struct Demo<'w, W: Write> {
    out: Out<'w, W>,
    rng: Rng,
    heap: BinaryHeap<Reverse<(u64, u64, Act)>>,
    tick: u64,
    products: Vec<DProduct>,
    next_catalog: usize,
    customers: Vec<DCustomer>,
    carts: Vec<DCart>,
    orders: Vec<DOrder>,
    next_refund: u64,
    next_payment: u64,
    bug: Option<usize>,
    first_refund_seq: u64,
    bug_seq: u64,
}

fn customer_stream(idx: usize) -> String {
    format!("customer-{}", idx + 1)
}
fn cart_stream(idx: usize) -> String {
    format!("cart-{}", idx + 1)
}
fn product_stream(sku: u32) -> String {
    format!("product-SKU-{sku}")
}

/// Mean time between shoppers arriving, by UTC hour (a European shop).
fn arrival_mean(t: u64) -> u64 {
    match (t % DAY) / HOUR {
        0..=5 => 12 * MIN,
        6..=7 => 3 * MIN,
        8..=21 => 2 * MIN + 10 * SEC,
        _ => 5 * MIN,
    }
}

impl<'w, W: Write> Demo<'w, W> {
    fn new(w: &'w mut W) -> Self {
        Demo {
            out: Out {
                w,
                seq: 0,
                last: 0,
                line: Vec::with_capacity(512),
                tsf: TsFmt::new(),
            },
            rng: Rng::new(DEMO_SEED),
            heap: BinaryHeap::new(),
            tick: 0,
            products: Vec::new(),
            next_catalog: 0,
            customers: Vec::new(),
            carts: Vec::new(),
            orders: Vec::new(),
            next_refund: 7001,
            next_payment: 0x3A_F000,
            bug: None,
            first_refund_seq: 0,
            bug_seq: 0,
        }
    }

    fn at(&mut self, t: u64, act: Act) {
        self.tick += 1;
        self.heap.push(Reverse((t, self.tick, act)));
    }

    fn run(&mut self) -> io::Result<()> {
        // Catalog import at the start of the day.
        let mut t = DEMO_START;
        for _ in 0..DEMO_INITIAL_PRODUCTS {
            t = self.list_product(t)? + self.rng.range(40, 400);
        }
        self.at(DEMO_START + 2 * MIN, Act::Arrival);
        self.at(DEMO_START + 25 * MIN, Act::PriceTick);
        self.at(DEMO_START + 70 * MIN, Act::AddressTick);
        self.at(DEMO_START + 3 * HOUR + 17 * MIN, Act::NewProduct);
        while let Some(Reverse((t, _, act))) = self.heap.pop() {
            if t > DEMO_END {
                break;
            }
            self.handle(t, act)?;
        }
        Ok(())
    }

    fn list_product(&mut self, t: u64) -> io::Result<u64> {
        let (sku, name, category, price) = CATALOG[self.next_catalog];
        self.next_catalog += 1;
        let stock = self.rng.range(4, 30) as i64 * 10;
        let data = Obj::new()
            .s("sku", &format!("SKU-{sku}"))
            .s("name", name)
            .s("category", category)
            .money("price", price as i64)
            .n("stock", stock)
            .done();
        self.products.push(DProduct {
            sku,
            price: price as i64,
            stock,
            restock_pending: false,
        });
        self.out
            .emit(t, Level::Info, "ProductListed", &product_stream(sku), &data)
    }

    /// A street in `city` (`{"street": …}`, plus `"line2": null` when the customer had one).
    fn street(&mut self, c: usize, city: usize) -> Obj {
        let street = format!(
            "{} {}",
            self.rng.range(1, 180),
            STREETS[city][self.rng.index(2)]
        );
        let o = Obj::new().s("street", &street);
        if self.customers.get(c).is_some_and(|c| c.has_line2) {
            o.null("line2")
        } else {
            o
        }
    }

    /// A full address in a random city; returns it with the city's index.
    fn address(&mut self, c: usize, with_line2: bool) -> (Obj, usize) {
        let city = self.rng.index(CITIES.len());
        let (name, country, zip) = CITIES[city];
        let mut o = self.street(c, city);
        let zip = format!("{zip}{:02}", self.rng.below(100));
        if with_line2 {
            o = o.s("line2", &format!("Apt {}", self.rng.range(1, 40)));
        }
        (o.s("city", name).s("zip", &zip).s("country", country), city)
    }

    fn register(&mut self, t: u64) -> io::Result<(usize, u64)> {
        let c = self.customers.len();
        let (first, first_slug) = FIRST_NAMES[self.rng.index(FIRST_NAMES.len())];
        let (last, last_slug) = LAST_NAMES[self.rng.index(LAST_NAMES.len())];
        let with_line2 = self.rng.chance(350);
        let (addr, city) = self.address(c, with_line2);
        let data = Obj::new()
            .s("name", &format!("{first} {last}"))
            .s(
                "email",
                &format!("{first_slug}.{last_slug}{}@example.com", c + 1),
            )
            .obj("address", addr)
            .b("marketingOptIn", self.rng.chance(400))
            .done();
        self.customers.push(DCustomer {
            city,
            has_line2: with_line2,
            shopping: true,
        });
        let t = self.out.emit(
            t,
            Level::Info,
            "CustomerRegistered",
            &customer_stream(c),
            &data,
        )?;
        Ok((c, t))
    }

    /// A line for a cart: an in-stock listed product not yet in `items`.
    fn pick_line(&mut self, items: &[Item], max_price: u32) -> Option<Item> {
        for _ in 0..20 {
            let p = &self.products[self.rng.index(self.products.len())];
            if p.stock < 1 || p.price > max_price as i64 || items.iter().any(|i| i.sku == p.sku) {
                continue;
            }
            let (sku, price, stock) = (p.sku, p.price, p.stock);
            let r = self.rng.below(100);
            let qty = if r < 80 {
                1
            } else if r < 95 {
                2
            } else {
                3
            };
            return Some(Item {
                sku,
                qty: qty.min(stock) as u32,
                price: price as u32,
            });
        }
        None
    }

    fn product_idx(&self, sku: u32) -> usize {
        self.products
            .iter()
            .position(|p| p.sku == sku)
            .expect("known sku")
    }

    /// Emits `StockAdjusted` for `sku` and schedules a restock when it runs low.
    fn adjust_stock(&mut self, t: u64, sku: u32, delta: i64, reason: &str) -> io::Result<u64> {
        let p = self.product_idx(sku);
        self.products[p].stock += delta;
        let stock = self.products[p].stock;
        let data = Obj::new()
            .n("stock", stock)
            .n("delta", delta)
            .s("reason", reason)
            .done();
        let t = self
            .out
            .emit(t, Level::Info, "StockAdjusted", &product_stream(sku), &data)?;
        if stock < 15 && !self.products[p].restock_pending {
            self.products[p].restock_pending = true;
            let when = t + self.rng.range(60 * MIN, 180 * MIN);
            self.at(when, Act::Restock(p));
        }
        Ok(t)
    }

    fn small_gap(&mut self) -> u64 {
        self.rng.range(4, 90)
    }

    fn handle(&mut self, t: u64, act: Act) -> io::Result<()> {
        match act {
            Act::Arrival => {
                let next = t + self.rng.jitter(arrival_mean(t));
                self.at(next, Act::Arrival);
                if self.customers.len() < 15 || self.rng.chance(330) {
                    let (c, t) = self.register(t)?;
                    let when = t + self.rng.range(30 * SEC, 360 * SEC);
                    self.at(when, Act::StartCart(c));
                } else {
                    let c = self.rng.index(self.customers.len());
                    if !self.customers[c].shopping {
                        self.customers[c].shopping = true;
                        self.at(t, Act::StartCart(c));
                    }
                }
            }
            Act::StartCart(c) => {
                let Some(item) = self.pick_line(&[], u32::MAX) else {
                    self.customers[c].shopping = false;
                    return Ok(());
                };
                let cart = self.carts.len();
                self.carts.push(DCart {
                    customer: c,
                    items: vec![item],
                });
                let data = Obj::new()
                    .s("customer", &customer_stream(c))
                    .items("items", &[item])
                    .money("subtotal", item.amount())
                    .done();
                let t = self
                    .out
                    .emit(t, Level::Info, "CartCreated", &cart_stream(cart), &data)?;
                let r = self.rng.below(100);
                let more = if r < 40 {
                    0
                } else if r < 75 {
                    1
                } else if r < 93 {
                    2
                } else {
                    3
                };
                self.cart_next(t, cart, more);
            }
            Act::CartAdd(cart, more) => {
                if let Some(item) = self.pick_line(&self.carts[cart].items.clone(), u32::MAX) {
                    self.carts[cart].items.push(item);
                    let items = &self.carts[cart].items;
                    let data = Obj::new()
                        .items("items", items)
                        .money("subtotal", total_of(items))
                        .done();
                    self.out
                        .emit(t, Level::Info, "CartItemAdded", &cart_stream(cart), &data)?;
                }
                self.cart_next(t, cart, more - 1);
            }
            Act::Abandon(cart) => {
                let c = self.carts[cart].customer;
                self.customers[c].shopping = false;
                let data = Obj::new().s("status", "abandoned").done();
                let t =
                    self.out
                        .emit(t, Level::Info, "CartAbandoned", &cart_stream(cart), &data)?;
                let when = t + self.rng.range(120 * MIN, 360 * MIN);
                self.at(when, Act::CartCleanup(cart));
            }
            Act::CartCleanup(cart) => {
                let data = Obj::new().s("reason", "expired").done();
                self.out
                    .emit(t, Level::Info, "CartDeleted", &cart_stream(cart), &data)?;
            }
            Act::Checkout(cart) => self.checkout(t, cart)?,
            Act::AddOn(o) => {
                let mut t = t;
                let items = self.orders[o].items.clone();
                if let Some(mut item) = self.pick_line(&items, ADDON_MAX_PRICE) {
                    item.qty = 1;
                    let ord = &mut self.orders[o];
                    ord.items.push(item);
                    ord.total += item.amount();
                    let data = Obj::new()
                        .items("items", &ord.items)
                        .money("total", ord.total)
                        .done();
                    t = self
                        .out
                        .emit(t, Level::Info, "ItemAdded", &order_stream(o), &data)?;
                    t += self.small_gap();
                    t = self.adjust_stock(t, item.sku, -1, "sale")?;
                }
                let when = t + self.rng.range(5 * SEC, 30 * SEC);
                self.at(when, Act::Pay(o));
            }
            Act::Pay(o) => self.pay(t, o)?,
            Act::CustCancel(o) => {
                let ord = &mut self.orders[o];
                let amount = ord.total;
                ord.refunded += amount;
                ord.total = 0;
                let refund = self.next_refund;
                self.next_refund += 1;
                let data = Obj::new()
                    .s("refundId", &format!("rf-{refund}"))
                    .money("amount", amount)
                    .money("refunded", ord.refunded)
                    .money("total", 0)
                    .s("reason", "order_cancelled")
                    .s("status", "refunded")
                    .done();
                let t = self
                    .out
                    .emit(t, Level::Info, "RefundIssued", &order_stream(o), &data)?;
                let t = t + self.small_gap();
                self.cancel(t, o, "customer_request")?;
            }
            Act::Ship(o) => {
                let (carrier, prefix) = CARRIERS[self.rng.index(CARRIERS.len())];
                let tracking = format!("{prefix}{:010}", self.rng.below(10_000_000_000));
                let data = Obj::new()
                    .s("status", "shipped")
                    .s("carrier", carrier)
                    .s("tracking", &tracking)
                    .done();
                let t = self
                    .out
                    .emit(t, Level::Info, "OrderShipped", &order_stream(o), &data)?;
                let delay = if self.orders[o].bug {
                    self.rng.range(180 * MIN, 300 * MIN)
                } else {
                    self.rng.range(180 * MIN, 960 * MIN)
                };
                self.at(t + delay, Act::Deliver(o));
            }
            Act::Deliver(o) => {
                let data = Obj::new().s("status", "delivered").done();
                let t = self
                    .out
                    .emit(t, Level::Info, "OrderDelivered", &order_stream(o), &data)?;
                if self.orders[o].bug {
                    let when = t + self.rng.range(40 * MIN, 90 * MIN);
                    self.at(when, Act::Refund(o));
                } else if self.rng.chance(90) {
                    let when = t + self.rng.range(30 * MIN, 180 * MIN);
                    self.at(when, Act::Refund(o));
                }
            }
            Act::Refund(o) => {
                let bug = self.orders[o].bug;
                let items = &self.orders[o].items;
                let amount = if bug {
                    // The bug order refunds its most expensive line if that is worth more than
                    // half the order, else everything: either way the total stays >= 0 after
                    // the first refund and goes negative at the duplicate.
                    let max = items.iter().map(Item::amount).max().unwrap_or(0);
                    let total = self.orders[o].total;
                    if 2 * max > total {
                        max
                    } else {
                        total
                    }
                } else {
                    items[self.rng.index(items.len())].amount()
                };
                let reason = if bug && amount == self.orders[o].total {
                    "returned"
                } else if bug {
                    "damaged"
                } else {
                    REFUND_REASONS[self.rng.index(REFUND_REASONS.len())]
                };
                let refund = self.next_refund;
                self.next_refund += 1;
                let ord = &mut self.orders[o];
                ord.refund_id = refund;
                ord.refund_amount = amount;
                ord.refund_reason = reason;
                self.refund_event(t, o)?;
                if bug {
                    self.first_refund_seq = self.out.seq;
                    let when = self.out.last + self.rng.range(180 * SEC, 360 * SEC);
                    self.at(when, Act::DupRefund(o));
                }
            }
            Act::DupRefund(o) => {
                // The payment provider re-delivers the same refund webhook; the projection
                // applies it again.
                self.refund_event(t, o)?;
                self.bug_seq = self.out.seq;
            }
            Act::Restock(p) => {
                let delta = self.rng.range(4, 12) as i64 * 10;
                self.products[p].restock_pending = false;
                let sku = self.products[p].sku;
                self.adjust_stock(t, sku, delta, "restock")?;
            }
            Act::PriceTick => {
                let next = t + self.rng.jitter(35 * MIN);
                self.at(next, Act::PriceTick);
                let p = self.rng.index(self.products.len());
                let old = self.products[p].price;
                let mut new = old * self.rng.range(85, 115) as i64 / 100;
                new = (new / 100) * 100 + if new % 100 >= 50 { 99 } else { 49 };
                if new == old {
                    new += 100;
                }
                self.products[p].price = new;
                let data = Obj::new()
                    .money("price", new)
                    .money("previousPrice", old)
                    .done();
                self.out.emit(
                    t,
                    Level::Info,
                    "PriceChanged",
                    &product_stream(self.products[p].sku),
                    &data,
                )?;
            }
            Act::AddressTick => {
                let next = t + self.rng.jitter(50 * MIN);
                self.at(next, Act::AddressTick);
                if self.customers.is_empty() {
                    return Ok(());
                }
                let c = self.rng.index(self.customers.len());
                let addr = if self.rng.chance(500) {
                    // Moved within the same city: a partial nested patch.
                    self.street(c, self.customers[c].city)
                } else {
                    let (o, city) = self.address(c, false);
                    self.customers[c].city = city;
                    o
                };
                self.customers[c].has_line2 = false;
                let data = Obj::new().obj("address", addr).done();
                self.out.emit(
                    t,
                    Level::Info,
                    "CustomerAddressChanged",
                    &customer_stream(c),
                    &data,
                )?;
            }
            Act::NewProduct => {
                if self.next_catalog < CATALOG.len() {
                    self.list_product(t)?;
                    let when = t + self.rng.range(180 * MIN, 360 * MIN);
                    self.at(when, Act::NewProduct);
                }
            }
        }
        Ok(())
    }

    fn cart_next(&mut self, t: u64, cart: usize, more: u8) {
        if more > 0 {
            let when = t + self.rng.range(20 * SEC, 240 * SEC);
            self.at(when, Act::CartAdd(cart, more));
        } else if self.rng.chance(640) {
            let when = t + self.rng.range(40 * SEC, 360 * SEC);
            self.at(when, Act::Checkout(cart));
        } else {
            let when = t + self.rng.range(25 * MIN, 70 * MIN);
            self.at(when, Act::Abandon(cart));
        }
    }

    fn checkout(&mut self, t: u64, cart: usize) -> io::Result<()> {
        let c = self.carts[cart].customer;
        self.customers[c].shopping = false;
        // Stock may have sold out since the items were put in the cart.
        let mut items = self.carts[cart].items.clone();
        for it in &mut items {
            let stock = self.products[self.product_idx(it.sku)].stock;
            it.qty = it.qty.min(stock.max(0) as u32);
        }
        items.retain(|it| it.qty > 0);
        if items.is_empty() {
            self.at(t + 10 * MIN, Act::Abandon(cart));
            return Ok(());
        }
        let o = self.orders.len();
        let number = DEMO_FIRST_ORDER + o as u64;
        let total = total_of(&items);
        // The planted bug: this order takes an add-on, pays, ships, is delivered, and is
        // then refunded twice (see `Act::Refund`).
        let bug = number == DEMO_BUG_ORDER && t <= DEMO_BUG_LATEST_PLACEMENT;
        if bug {
            self.bug = Some(o);
        }
        self.orders.push(DOrder {
            items: items.clone(),
            total,
            refunded: 0,
            attempts: 0,
            bug,
            refund_id: 0,
            refund_amount: 0,
            refund_reason: "",
        });
        let data = Obj::new()
            .s("customer", &customer_stream(c))
            .items("items", &items)
            .money("total", total)
            .s("status", "placed")
            .done();
        let mut t = self
            .out
            .emit(t, Level::Info, "OrderPlaced", &order_stream(o), &data)?;
        for it in &items {
            t += self.small_gap();
            t = self.adjust_stock(t, it.sku, -(it.qty as i64), "sale")?;
        }
        t += self.small_gap();
        let data = Obj::new()
            .s("reason", "checked_out")
            .s("order", &order_stream(o))
            .done();
        let t = self
            .out
            .emit(t, Level::Info, "CartDeleted", &cart_stream(cart), &data)?;
        if bug || self.rng.chance(130) {
            let when = t + self.rng.range(15 * SEC, 60 * SEC);
            self.at(when, Act::AddOn(o));
        } else {
            let when = t + self.rng.range(3 * SEC, 20 * SEC);
            self.at(when, Act::Pay(o));
        }
        Ok(())
    }

    fn pay(&mut self, t: u64, o: usize) -> io::Result<()> {
        let bug = self.orders[o].bug;
        self.orders[o].attempts += 1;
        let attempts = self.orders[o].attempts;
        let r = self.rng.below(1000);
        let (decline, retry) = if bug {
            (false, false)
        } else if attempts == 1 {
            (r < 20, (20..95).contains(&r))
        } else {
            (r < 220, false)
        };
        if decline {
            let code = DECLINE_CODES[self.rng.index(DECLINE_CODES.len())];
            let data = Obj::new()
                .s("status", "payment_declined")
                .s("declineCode", code)
                .n("paymentAttempts", attempts as i64)
                .done();
            let t = self
                .out
                .emit(t, Level::Error, "PaymentDeclined", &order_stream(o), &data)?;
            let t = t + self.rng.range(800, 3000);
            self.cancel(t, o, "payment_declined")
        } else if retry {
            let err = RETRY_ERRORS[self.rng.index(RETRY_ERRORS.len())];
            let data = Obj::new()
                .n("paymentAttempts", attempts as i64)
                .s("lastError", err)
                .done();
            let t = self
                .out
                .emit(t, Level::Warn, "PaymentRetried", &order_stream(o), &data)?;
            let when = t + self.rng.range(30 * SEC, 120 * SEC);
            self.at(when, Act::Pay(o));
            Ok(())
        } else {
            self.next_payment += 1 + self.rng.below(40);
            let data = Obj::new()
                .s("status", "paid")
                .s("paymentId", &format!("pay-{:X}", self.next_payment))
                .n("paymentAttempts", attempts as i64)
                .done();
            let t = self
                .out
                .emit(t, Level::Info, "PaymentCaptured", &order_stream(o), &data)?;
            if !bug && self.rng.chance(30) {
                let when = t + self.rng.range(10 * MIN, 45 * MIN);
                self.at(when, Act::CustCancel(o));
            } else {
                let delay = if bug {
                    self.rng.range(90 * MIN, 180 * MIN)
                } else {
                    self.rng.range(60 * MIN, 300 * MIN)
                };
                self.at(t + delay, Act::Ship(o));
            }
            Ok(())
        }
    }

    /// `OrderCancelled` plus the stock going back on the shelf.
    fn cancel(&mut self, t: u64, o: usize, reason: &str) -> io::Result<()> {
        let data = Obj::new()
            .s("status", "cancelled")
            .s("reason", reason)
            .done();
        let mut t = self
            .out
            .emit(t, Level::Info, "OrderCancelled", &order_stream(o), &data)?;
        for it in self.orders[o].items.clone() {
            t += self.small_gap();
            t = self.adjust_stock(t, it.sku, it.qty as i64, "order_cancelled")?;
        }
        Ok(())
    }

    /// Applies the order's current refund (`refund_id`, `refund_amount`) and emits it.
    fn refund_event(&mut self, t: u64, o: usize) -> io::Result<u64> {
        let ord = &mut self.orders[o];
        ord.refunded += ord.refund_amount;
        ord.total -= ord.refund_amount;
        let status = if ord.total <= 0 {
            "refunded"
        } else {
            "partially_refunded"
        };
        let data = Obj::new()
            .s("refundId", &format!("rf-{}", ord.refund_id))
            .money("amount", ord.refund_amount)
            .money("refunded", ord.refunded)
            .money("total", ord.total)
            .s("reason", ord.refund_reason)
            .s("status", status)
            .done();
        self.out
            .emit(t, Level::Info, "RefundIssued", &order_stream(o), &data)
    }
}

// ============================================================================================
// (2) The benchmark log
// ============================================================================================

const MAX_ITEMS: usize = 6;
/// Catalogue and customer base created before the steady-state mix starts.
const BENCH_INITIAL_PRODUCTS: usize = 200;
const BENCH_INITIAL_CUSTOMERS: usize = 100;
/// Orders in flight (placed but not yet delivered/cancelled) hover around this.
const BENCH_POOL: usize = 4096;
/// Finished orders are purged only once this many are waiting (a retention window).
const BENCH_RETENTION: usize = 2000;
const BENCH_FIRST_ORDER: u64 = 1001;

const BENCH_FIRST_SKU: u32 = 1001;

const PRODUCT_ADJ: &[&str] = &[
    "Steel", "Compact", "Wireless", "Smart", "Classic", "Eco", "Pro", "Mini", "Ultra", "Travel",
    "Ceramic", "Bamboo", "Solar", "Retro", "Foldable", "Modular",
];
const PRODUCT_NOUN: &[&str] = &[
    "Kettle",
    "Headphones",
    "Lamp",
    "Backpack",
    "Speaker",
    "Blender",
    "Keyboard",
    "Mug",
    "Charger",
    "Tripod",
    "Jacket",
    "Watch",
    "Thermos",
    "Router",
    "Camera",
    "Notebook",
];

#[derive(Clone, Copy, Default)]
struct Items {
    n: u8,
    it: [Item; MAX_ITEMS],
}

impl Items {
    fn as_slice(&self) -> &[Item] {
        &self.it[..self.n as usize]
    }
}

#[derive(Clone, Copy)]
enum Ev {
    CustomerRegistered {
        id: u32,
        first: u8,
        last: u8,
        tier: u8,
        city: u8,
    },
    CustomerAddressChanged {
        id: u32,
        city: u8,
        street: u8,
        no: u8,
    },
    CustomerDeleted {
        id: u32,
    },
    ProductListed {
        sku: u32,
        adj: u8,
        noun: u8,
        price: u32,
        stock: u32,
    },
    PriceChanged {
        sku: u32,
        price: u32,
    },
    StockAdjusted {
        sku: u32,
        stock: u32,
        delta: i32,
    },
    OrderPlaced {
        id: u64,
        customer: u32,
        items: Items,
        total: i64,
    },
    ItemAdded {
        id: u64,
        items: Items,
        total: i64,
    },
    PaymentCaptured {
        id: u64,
        attempts: u8,
    },
    PaymentRetried {
        id: u64,
        attempts: u8,
        err: u8,
    },
    PaymentDeclined {
        id: u64,
        code: u8,
    },
    OrderShipped {
        id: u64,
        carrier: u8,
        tracking: u64,
    },
    OrderDelivered {
        id: u64,
    },
    RefundIssued {
        id: u64,
        refund: u64,
        amount: i64,
        refunded: i64,
        total: i64,
    },
    OrderCancelled {
        id: u64,
        reason: u8,
    },
    OrderPurged {
        id: u64,
    },
}

const CANCEL_REASONS: &[&str] = &["payment_declined", "customer_request", "out_of_stock"];

#[derive(Clone, Copy)]
struct Prod {
    sku: u32,
    price: u32,
    stock: u32,
}

#[derive(Clone, Copy)]
enum Stage {
    Placed,
    Paid,
    Shipped,
    /// Delivered, a partial refund still to come.
    RefundPending,
    /// Paid and fully refunded, cancellation still to come.
    CancelPending,
    /// Payment declined, cancellation still to come.
    Declined,
}

#[derive(Clone, Copy)]
struct Active {
    id: u64,
    items: Items,
    total: i64,
    refunded: i64,
    stage: Stage,
    attempts: u8,
}

struct OrderSim {
    rng: Rng,
    now: u64,
    customers: Vec<u32>,
    next_customer: u32,
    products: Vec<Prod>,
    next_sku: u32,
    active: Vec<Active>,
    finished: VecDeque<u64>,
    next_order: u64,
    orders_live: u64,
    next_refund: u64,
}

impl OrderSim {
    fn new(seed: u64) -> OrderSim {
        let mut rng = Rng::new(seed);
        // Start somewhere in the morning of 2024-03-04, depending on the seed.
        let now = EPOCH_2024_03_04 + 8 * HOUR + rng.below(HOUR);
        OrderSim {
            rng,
            now,
            customers: Vec::new(),
            next_customer: 1,
            products: Vec::new(),
            next_sku: BENCH_FIRST_SKU,
            active: Vec::with_capacity(BENCH_POOL * 2),
            finished: VecDeque::new(),
            next_order: BENCH_FIRST_ORDER,
            orders_live: 0,
            next_refund: 1,
        }
    }

    fn live(&self) -> u64 {
        self.customers.len() as u64 + self.products.len() as u64 + self.orders_live
    }

    #[inline]
    fn step(&mut self) -> (u64, Ev) {
        // 0 ms (30 %), 1–3 ms (50 %) or 4–12 ms (20 %): bursts of equal timestamps,
        // ~2.6 ms per event on average (1 M events ≈ 45 minutes of traffic).
        let r = self.rng.below(10);
        if r >= 3 {
            self.now += if r < 8 {
                1 + r % 3
            } else {
                self.rng.range(4, 12)
            };
        }
        let ev = if self.products.len() < BENCH_INITIAL_PRODUCTS {
            self.list_product()
        } else if self.customers.len() < BENCH_INITIAL_CUSTOMERS {
            self.register()
        } else {
            match self.rng.below(1000) {
                0..=399 => self.order_flow(),
                400..=449 => {
                    if self.finished.len() > BENCH_RETENTION {
                        self.purge()
                    } else {
                        self.order_flow()
                    }
                }
                450..=869 => self.adjust_stock(),
                870..=949 => {
                    let p = self.rng.index(self.products.len());
                    let pr = &mut self.products[p];
                    let pct = self.rng.range(85, 115) as u32;
                    pr.price = ((pr.price * pct / 100) / 100 * 100 + 99).max(99);
                    Ev::PriceChanged {
                        sku: pr.sku,
                        price: pr.price,
                    }
                }
                950..=955 => self.list_product(),
                956..=976 => self.register(),
                977..=995 => {
                    let id = self.customers[self.rng.index(self.customers.len())];
                    Ev::CustomerAddressChanged {
                        id,
                        city: self.rng.index(CITIES.len()) as u8,
                        street: self.rng.index(2) as u8,
                        no: self.rng.range(1, 199) as u8,
                    }
                }
                _ => {
                    if self.customers.len() > BENCH_INITIAL_CUSTOMERS {
                        let i = self.rng.index(self.customers.len());
                        Ev::CustomerDeleted {
                            id: self.customers.swap_remove(i),
                        }
                    } else {
                        self.adjust_stock()
                    }
                }
            }
        };
        (self.now, ev)
    }

    fn list_product(&mut self) -> Ev {
        let sku = self.next_sku;
        self.next_sku += 1;
        let price =
            (self.rng.range(4, 300) * 100 + if self.rng.chance(500) { 99 } else { 49 }) as u32;
        let stock = self.rng.range(20, 500) as u32;
        self.products.push(Prod { sku, price, stock });
        Ev::ProductListed {
            sku,
            adj: self.rng.index(PRODUCT_ADJ.len()) as u8,
            noun: self.rng.index(PRODUCT_NOUN.len()) as u8,
            price,
            stock,
        }
    }

    fn register(&mut self) -> Ev {
        let id = self.next_customer;
        self.next_customer += 1;
        self.customers.push(id);
        Ev::CustomerRegistered {
            id,
            first: self.rng.index(FIRST_NAMES.len()) as u8,
            last: self.rng.index(LAST_NAMES.len()) as u8,
            tier: self.rng.index(TIERS.len()) as u8,
            city: self.rng.index(CITIES.len()) as u8,
        }
    }

    fn adjust_stock(&mut self) -> Ev {
        let p = self.rng.index(self.products.len());
        let delta = if self.products[p].stock < 20 {
            self.rng.range(50, 300) as i32
        } else {
            -(self.rng.range(1, 5) as i32)
        };
        let pr = &mut self.products[p];
        pr.stock = (pr.stock as i32 + delta) as u32;
        Ev::StockAdjusted {
            sku: pr.sku,
            stock: pr.stock,
            delta,
        }
    }

    fn purge(&mut self) -> Ev {
        let id = self.finished.pop_front().expect("retention backlog");
        self.orders_live -= 1;
        Ev::OrderPurged { id }
    }

    fn random_item(&mut self) -> Item {
        let p = self.products[self.rng.index(self.products.len())];
        let qty = if self.rng.chance(800) {
            1
        } else {
            self.rng.range(2, 4) as u32
        };
        Item {
            sku: p.sku,
            qty,
            price: p.price,
        }
    }

    fn order_flow(&mut self) -> Ev {
        let n = self.active.len();
        // In steady state an order sees ~4.4 events, so placing with probability ~1/5.4
        // keeps the pool stable; toggling around BENCH_POOL pins its size.
        let place = if n < BENCH_POOL { 230 } else { 150 };
        if n < 16 || self.rng.chance(place) {
            self.place()
        } else {
            let i = self.rng.index(n);
            self.advance(i)
        }
    }

    fn place(&mut self) -> Ev {
        let id = self.next_order;
        self.next_order += 1;
        self.orders_live += 1;
        let customer = self.customers[self.rng.index(self.customers.len())];
        let r = self.rng.below(100);
        let n = if r < 55 {
            1
        } else if r < 85 {
            2
        } else if r < 95 {
            3
        } else {
            4
        };
        let mut items = Items::default();
        for _ in 0..n {
            let it = self.random_item();
            items.it[items.n as usize] = it;
            items.n += 1;
        }
        let total = total_of(items.as_slice());
        self.active.push(Active {
            id,
            items,
            total,
            refunded: 0,
            stage: Stage::Placed,
            attempts: 0,
        });
        Ev::OrderPlaced {
            id,
            customer,
            items,
            total,
        }
    }

    fn finish(&mut self, i: usize) {
        let o = self.active.swap_remove(i);
        self.finished.push_back(o.id);
    }

    fn advance(&mut self, i: usize) -> Ev {
        let mut o = self.active[i];
        let id = o.id;
        let ev = match o.stage {
            Stage::Placed => {
                let r = self.rng.below(1000);
                if r < 100 && (o.items.n as usize) < MAX_ITEMS {
                    let it = self.random_item();
                    o.items.it[o.items.n as usize] = it;
                    o.items.n += 1;
                    o.total += it.amount();
                    Ev::ItemAdded {
                        id,
                        items: o.items,
                        total: o.total,
                    }
                } else if r < 140 && o.attempts < 3 {
                    o.attempts += 1;
                    Ev::PaymentRetried {
                        id,
                        attempts: o.attempts,
                        err: self.rng.index(RETRY_ERRORS.len()) as u8,
                    }
                } else if r < 150 {
                    o.stage = Stage::Declined;
                    Ev::PaymentDeclined {
                        id,
                        code: self.rng.index(DECLINE_CODES.len()) as u8,
                    }
                } else if r < 160 {
                    self.finish(i);
                    return Ev::OrderCancelled { id, reason: 2 };
                } else {
                    o.stage = Stage::Paid;
                    o.attempts += 1;
                    Ev::PaymentCaptured {
                        id,
                        attempts: o.attempts,
                    }
                }
            }
            Stage::Paid => {
                if self.rng.chance(15) {
                    let amount = o.total;
                    o.refunded += amount;
                    o.total = 0;
                    o.stage = Stage::CancelPending;
                    let refund = self.next_refund;
                    self.next_refund += 1;
                    Ev::RefundIssued {
                        id,
                        refund,
                        amount,
                        refunded: o.refunded,
                        total: 0,
                    }
                } else {
                    o.stage = Stage::Shipped;
                    Ev::OrderShipped {
                        id,
                        carrier: self.rng.index(CARRIERS.len()) as u8,
                        tracking: self.rng.below(10_000_000_000),
                    }
                }
            }
            Stage::Shipped => {
                // 7 % of delivered orders later get a partial refund.
                if !self.rng.chance(70) {
                    self.finish(i);
                    return Ev::OrderDelivered { id };
                }
                o.stage = Stage::RefundPending;
                Ev::OrderDelivered { id }
            }

            Stage::RefundPending => {
                let line = o.items.as_slice()[self.rng.index(o.items.n as usize)];
                let amount = line.amount();
                let refund = self.next_refund;
                self.next_refund += 1;
                self.finish(i);
                return Ev::RefundIssued {
                    id,
                    refund,
                    amount,
                    refunded: o.refunded + amount,
                    total: o.total - amount,
                };
            }
            Stage::CancelPending => {
                self.finish(i);
                return Ev::OrderCancelled { id, reason: 1 };
            }
            Stage::Declined => {
                self.finish(i);
                return Ev::OrderCancelled { id, reason: 0 };
            }
        };
        self.active[i] = o;
        ev
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Text,
}

const CHUNK: usize = 64 * 1024;

fn write_bench<W: Write>(w: &mut W, cfg: &OrdersConfig, format: Format) -> io::Result<OrdersStats> {
    let mut sim = OrderSim::new(cfg.seed);
    let mut tsf = TsFmt::new();
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let mut bytes = 0u64;
    // Trace ids for text lines come from their own stream so that the event sequence is the
    // same in both formats.
    let mut traces = Rng::new(!cfg.seed);
    for _ in 0..cfg.events {
        let (ms, ev) = sim.step();
        match format {
            Format::Json => render_json(&mut buf, &mut tsf, ms, &ev),
            Format::Text => render_text(
                &mut buf,
                &mut tsf,
                ms,
                &ev,
                [traces.next_u64(), traces.next_u64()],
            ),
        }
        if buf.len() >= CHUNK {
            w.write_all(&buf)?;
            bytes += buf.len() as u64;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    bytes += buf.len() as u64;
    w.flush()?;
    Ok(OrdersStats {
        events: cfg.events,
        bytes,
        live_entities_at_end: sim.live(),
    })
}

impl Ev {
    fn type_name(&self) -> &'static str {
        match self {
            Ev::CustomerRegistered { .. } => "CustomerRegistered",
            Ev::CustomerAddressChanged { .. } => "CustomerAddressChanged",
            Ev::CustomerDeleted { .. } => "CustomerDeleted",
            Ev::ProductListed { .. } => "ProductListed",
            Ev::PriceChanged { .. } => "PriceChanged",
            Ev::StockAdjusted { .. } => "StockAdjusted",
            Ev::OrderPlaced { .. } => "OrderPlaced",
            Ev::ItemAdded { .. } => "ItemAdded",
            Ev::PaymentCaptured { .. } => "PaymentCaptured",
            Ev::PaymentRetried { .. } => "PaymentRetried",
            Ev::PaymentDeclined { .. } => "PaymentDeclined",
            Ev::OrderShipped { .. } => "OrderShipped",
            Ev::OrderDelivered { .. } => "OrderDelivered",
            Ev::RefundIssued { .. } => "RefundIssued",
            Ev::OrderCancelled { .. } => "OrderCancelled",
            Ev::OrderPurged { .. } => "OrderPurged",
        }
    }

    fn level(&self) -> Level {
        match self {
            Ev::PaymentRetried { .. } => Level::Warn,
            Ev::PaymentDeclined { .. } => Level::Error,
            _ => Level::Info,
        }
    }

    fn push_stream(&self, buf: &mut Vec<u8>) {
        match *self {
            Ev::CustomerRegistered { id, .. }
            | Ev::CustomerAddressChanged { id, .. }
            | Ev::CustomerDeleted { id } => {
                buf.extend_from_slice(b"customer-");
                push_u64(buf, id as u64);
            }
            Ev::ProductListed { sku, .. }
            | Ev::PriceChanged { sku, .. }
            | Ev::StockAdjusted { sku, .. } => {
                buf.extend_from_slice(b"product-SKU-");
                push_u64(buf, sku as u64);
            }
            Ev::OrderPlaced { id, .. }
            | Ev::ItemAdded { id, .. }
            | Ev::PaymentCaptured { id, .. }
            | Ev::PaymentRetried { id, .. }
            | Ev::PaymentDeclined { id, .. }
            | Ev::OrderShipped { id, .. }
            | Ev::OrderDelivered { id }
            | Ev::RefundIssued { id, .. }
            | Ev::OrderCancelled { id, .. }
            | Ev::OrderPurged { id } => {
                buf.extend_from_slice(b"order-");
                push_u64(buf, id);
            }
        }
    }
}

fn push_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(s.as_bytes());
}

fn push_zip(buf: &mut Vec<u8>, city: usize, salt: u32) {
    push_str(buf, CITIES[city].2);
    push2(buf, (salt % 97) as u64);
}

fn render_json(buf: &mut Vec<u8>, tsf: &mut TsFmt, ms: u64, ev: &Ev) {
    json_head(buf, tsf, ms, ev.level(), ev.type_name());
    ev.push_stream(buf);
    buf.extend_from_slice(b"\",\"data\":{");
    // All vocabulary strings are known to need no JSON escaping (checked in the tests).
    match *ev {
        Ev::CustomerRegistered {
            id,
            first,
            last,
            tier,
            city,
        } => {
            let (f, fs) = FIRST_NAMES[first as usize];
            let (l, ls) = LAST_NAMES[last as usize];
            push_str(buf, "\"name\":\"");
            push_str(buf, f);
            buf.push(b' ');
            push_str(buf, l);
            push_str(buf, "\",\"email\":\"");
            push_str(buf, fs);
            buf.push(b'.');
            push_str(buf, ls);
            push_u64(buf, id as u64);
            push_str(buf, "@example.com\",\"tier\":\"");
            push_str(buf, TIERS[tier as usize]);
            push_str(buf, "\",\"address\":{\"city\":\"");
            push_str(buf, CITIES[city as usize].0);
            push_str(buf, "\",\"zip\":\"");
            push_zip(buf, city as usize, id);
            push_str(buf, "\"}");
        }
        Ev::CustomerAddressChanged {
            id,
            city,
            street,
            no,
        } => {
            push_str(buf, "\"address\":{\"street\":\"");
            push_u64(buf, no as u64);
            buf.push(b' ');
            push_str(buf, STREETS[city as usize][street as usize]);
            push_str(buf, "\",\"city\":\"");
            push_str(buf, CITIES[city as usize].0);
            push_str(buf, "\",\"zip\":\"");
            push_zip(buf, city as usize, id + no as u32);
            push_str(buf, "\"}");
        }
        Ev::CustomerDeleted { .. } | Ev::OrderPurged { .. } => {}
        Ev::ProductListed {
            sku,
            adj,
            noun,
            price,
            stock,
        } => {
            push_str(buf, "\"sku\":\"SKU-");
            push_u64(buf, sku as u64);
            push_str(buf, "\",\"name\":\"");
            push_str(buf, PRODUCT_ADJ[adj as usize]);
            buf.push(b' ');
            push_str(buf, PRODUCT_NOUN[noun as usize]);
            push_str(buf, "\",\"price\":");
            push_money(buf, price as i64);
            push_str(buf, ",\"stock\":");
            push_u64(buf, stock as u64);
        }
        Ev::PriceChanged { price, .. } => {
            push_str(buf, "\"price\":");
            push_money(buf, price as i64);
        }
        Ev::StockAdjusted { stock, .. } => {
            push_str(buf, "\"stock\":");
            push_u64(buf, stock as u64);
        }
        Ev::OrderPlaced {
            customer,
            items,
            total,
            ..
        } => {
            push_str(buf, "\"customer\":\"customer-");
            push_u64(buf, customer as u64);
            push_str(buf, "\",\"items\":");
            push_items_json(buf, items.as_slice());
            push_str(buf, ",\"total\":");
            push_money(buf, total);
            push_str(buf, ",\"status\":\"placed\"");
        }
        Ev::ItemAdded { items, total, .. } => {
            push_str(buf, "\"items\":");
            push_items_json(buf, items.as_slice());
            push_str(buf, ",\"total\":");
            push_money(buf, total);
        }
        Ev::PaymentCaptured { id, attempts } => {
            push_str(buf, "\"status\":\"paid\",\"paymentId\":\"pay-");
            push_u64(buf, id * 7 + attempts as u64);
            buf.push(b'"');
        }
        Ev::PaymentRetried { attempts, err, .. } => {
            push_str(buf, "\"paymentAttempts\":");
            push_u64(buf, attempts as u64);
            push_str(buf, ",\"lastError\":\"");
            push_str(buf, RETRY_ERRORS[err as usize]);
            buf.push(b'"');
        }
        Ev::PaymentDeclined { code, .. } => {
            push_str(buf, "\"status\":\"payment_declined\",\"declineCode\":\"");
            push_str(buf, DECLINE_CODES[code as usize]);
            buf.push(b'"');
        }
        Ev::OrderShipped {
            carrier, tracking, ..
        } => {
            let prefix = CARRIERS[carrier as usize].1;
            push_str(buf, "\"status\":\"shipped\",\"tracking\":\"");
            push_str(buf, prefix);
            push_u64(buf, tracking);
            buf.push(b'"');
        }
        Ev::OrderDelivered { .. } => push_str(buf, "\"status\":\"delivered\""),
        Ev::RefundIssued {
            refund,
            amount,
            refunded,
            total,
            ..
        } => {
            push_str(buf, "\"refundId\":\"rf-");
            push_u64(buf, refund);
            push_str(buf, "\",\"amount\":");
            push_money(buf, amount);
            push_str(buf, ",\"refunded\":");
            push_money(buf, refunded);
            push_str(buf, ",\"total\":");
            push_money(buf, total);
            push_str(
                buf,
                if total == 0 {
                    ",\"status\":\"refunded\""
                } else {
                    ",\"status\":\"partially_refunded\""
                },
            );
        }
        Ev::OrderCancelled { reason, .. } => {
            push_str(buf, "\"status\":\"cancelled\",\"reason\":\"");
            push_str(buf, CANCEL_REASONS[reason as usize]);
            buf.push(b'"');
        }
    }
    buf.extend_from_slice(b"}}\n");
}

/// `trace` is a 128-bit W3C-style trace id, printed as 32 hex digits.
fn render_text(buf: &mut Vec<u8>, tsf: &mut TsFmt, ms: u64, ev: &Ev, trace: [u64; 2]) {
    tsf.push(buf, ms, b' ', false);
    buf.push(b' ');
    buf.extend_from_slice(ev.level().text());
    ev.push_stream(buf);
    buf.push(b' ');
    push_str(buf, ev.type_name());
    match *ev {
        Ev::CustomerRegistered {
            id,
            first,
            last,
            tier,
            city,
        } => {
            let (f, fs) = FIRST_NAMES[first as usize];
            let (l, ls) = LAST_NAMES[last as usize];
            push_str(buf, " name=\"");
            push_str(buf, f);
            buf.push(b' ');
            push_str(buf, l);
            push_str(buf, "\" email=");
            push_str(buf, fs);
            buf.push(b'.');
            push_str(buf, ls);
            push_u64(buf, id as u64);
            push_str(buf, "@example.com tier=");
            push_str(buf, TIERS[tier as usize]);
            push_str(buf, " city=");
            push_str(buf, CITIES[city as usize].0);
            push_str(buf, " zip=");
            push_zip(buf, city as usize, id);
        }
        Ev::CustomerAddressChanged {
            id,
            city,
            street,
            no,
        } => {
            push_str(buf, " street=\"");
            push_u64(buf, no as u64);
            buf.push(b' ');
            push_str(buf, STREETS[city as usize][street as usize]);
            push_str(buf, "\" city=");
            push_str(buf, CITIES[city as usize].0);
            push_str(buf, " zip=");
            push_zip(buf, city as usize, id + no as u32);
        }
        Ev::CustomerDeleted { .. } => push_str(buf, " reason=gdpr_request"),
        Ev::ProductListed {
            sku,
            adj,
            noun,
            price,
            stock,
        } => {
            push_str(buf, " sku=SKU-");
            push_u64(buf, sku as u64);
            push_str(buf, " name=\"");
            push_str(buf, PRODUCT_ADJ[adj as usize]);
            buf.push(b' ');
            push_str(buf, PRODUCT_NOUN[noun as usize]);
            push_str(buf, "\" price=");
            push_money_fixed(buf, price as i64);
            push_str(buf, " stock=");
            push_u64(buf, stock as u64);
        }
        Ev::PriceChanged { price, .. } => {
            push_str(buf, " price=");
            push_money_fixed(buf, price as i64);
        }
        Ev::StockAdjusted { stock, delta, .. } => {
            push_str(buf, " stock=");
            push_u64(buf, stock as u64);
            push_str(buf, " delta=");
            push_i64(buf, delta as i64);
        }
        Ev::OrderPlaced {
            customer,
            items,
            total,
            ..
        } => {
            push_str(buf, " customer=customer-");
            push_u64(buf, customer as u64);
            push_text_items(buf, &items, total);
            push_str(buf, " status=placed");
        }
        Ev::ItemAdded { items, total, .. } => push_text_items(buf, &items, total),
        Ev::PaymentCaptured { id, attempts } => {
            push_str(buf, " status=paid payment=pay-");
            push_u64(buf, id * 7 + attempts as u64);

            push_str(buf, " attempts=");
            push_u64(buf, attempts as u64);
        }
        Ev::PaymentRetried { attempts, err, .. } => {
            push_str(buf, " attempts=");
            push_u64(buf, attempts as u64);
            push_str(buf, " error=");
            push_str(buf, RETRY_ERRORS[err as usize]);
        }
        Ev::PaymentDeclined { code, .. } => {
            push_str(buf, " status=payment_declined code=");
            push_str(buf, DECLINE_CODES[code as usize]);
        }
        Ev::OrderShipped {
            carrier, tracking, ..
        } => {
            let (name, prefix) = CARRIERS[carrier as usize];
            push_str(buf, " status=shipped carrier=");
            push_str(buf, name);
            push_str(buf, " tracking=");
            push_str(buf, prefix);
            push_u64(buf, tracking);
        }
        Ev::OrderDelivered { .. } => push_str(buf, " status=delivered"),
        Ev::RefundIssued {
            refund,
            amount,
            refunded,
            total,
            ..
        } => {
            push_str(buf, " refund=rf-");
            push_u64(buf, refund);
            push_str(buf, " amount=");
            push_money_fixed(buf, amount);
            push_str(buf, " refunded=");
            push_money_fixed(buf, refunded);
            push_str(buf, " total=");
            push_money_fixed(buf, total);
        }
        Ev::OrderCancelled { reason, .. } => {
            push_str(buf, " status=cancelled reason=");
            push_str(buf, CANCEL_REASONS[reason as usize]);
        }
        Ev::OrderPurged { .. } => push_str(buf, " reason=retention"),
    }
    push_str(buf, " trace=");
    push_hex16(buf, trace[0]);
    push_hex16(buf, trace[1]);

    buf.push(b'\n');
}

fn push_hex16(buf: &mut Vec<u8>, v: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..16).rev() {
        buf.push(HEX[((v >> (i * 4)) & 15) as usize]);
    }
}

fn push_text_items(buf: &mut Vec<u8>, items: &Items, total: i64) {
    push_str(buf, " total=");
    push_money_fixed(buf, total);
    push_str(buf, " items=");
    push_u64(buf, items.n as u64);
    push_str(buf, " skus=");
    for (i, it) in items.as_slice().iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        push_str(buf, "SKU-");
        push_u64(buf, it.sku as u64);
        buf.push(b'x');
        push_u64(buf, it.qty as u64);
        buf.push(b'@');
        push_money_fixed(buf, it.price as i64);
    }
}

// ============================================================================================
// Tests
// ============================================================================================

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value};
    use std::collections::{BTreeMap, BTreeSet};

    // ---- a tiny `entity` reducer, as Hindsight defines it ----------------------------------

    fn merge_patch(target: &mut Value, patch: &Value) {
        match patch {
            Value::Object(p) => {
                if !target.is_object() {
                    *target = Value::Object(Map::new());
                }
                let t = target.as_object_mut().unwrap();
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
            _ => *target = patch.clone(),
        }
    }

    fn is_delete(ty: &str) -> bool {
        ["Deleted", "Removed", "Destroyed", "Purged"]
            .iter()
            .any(|s| ty.ends_with(s))
    }

    struct Ev1 {
        v: Value,
    }
    impl Ev1 {
        fn ty(&self) -> &str {
            self.v["type"].as_str().unwrap()
        }
        fn id(&self) -> &str {
            self.v["streamId"].as_str().unwrap()
        }
        fn ts(&self) -> &str {
            self.v["ts"].as_str().unwrap()
        }
        fn data(&self) -> &Value {
            &self.v["data"]
        }
    }

    #[derive(Default)]
    struct State {
        map: BTreeMap<String, Value>,
    }
    impl State {
        fn apply(&mut self, e: &Ev1) {
            if is_delete(e.ty()) {
                self.map.remove(e.id());
            } else {
                let s = self
                    .map
                    .entry(e.id().to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                merge_patch(s, e.data());
            }
        }
    }

    fn cents(v: &Value) -> i64 {
        let f = v.as_f64().expect("number");
        let c = (f * 100.0).round();
        assert!(
            (c / 100.0 - f).abs() < 1e-9,
            "not a whole number of cents: {v}"
        );
        c as i64
    }

    fn total_cents(state: &Value) -> Option<i64> {
        state.get("total").map(cents)
    }

    /// Parses a JSON line and checks the envelope every line must have.
    fn parse_line(line: &str) -> Ev1 {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("invalid JSON ({e}): {line}"));
        let o = v.as_object().expect("object");
        let keys: Vec<&str> = o.keys().map(|k| k.as_str()).collect();
        let mut expected = vec!["data", "level", "streamId", "ts", "type"];
        expected.sort();
        assert_eq!(keys, expected, "{line}");
        let ts = o["ts"].as_str().unwrap();
        assert_ts(ts);
        assert!(
            matches!(o["level"].as_str(), Some("info" | "warn" | "error")),
            "{line}"
        );
        assert!(o["type"].as_str().is_some_and(|t| !t.is_empty()));
        let id = o["streamId"].as_str().unwrap();
        assert!(
            ["order-", "customer-", "product-SKU-", "cart-"]
                .iter()
                .any(|p| id.starts_with(p)
                    && id[p.len()..].bytes().all(|b| b.is_ascii_digit())
                    && id.len() > p.len()),
            "bad stream id {id}"
        );
        assert!(o["data"].is_object(), "{line}");
        Ev1 { v }
    }

    /// `2024-03-04T09:15:02.125Z`
    fn assert_ts(ts: &str) {
        let b = ts.as_bytes();
        assert_eq!(b.len(), 24, "{ts}");
        for (i, &c) in b.iter().enumerate() {
            let ok = match i {
                4 | 7 => c == b'-',
                10 => c == b'T',
                13 | 16 => c == b':',
                19 => c == b'.',
                23 => c == b'Z',
                _ => c.is_ascii_digit(),
            };
            assert!(ok, "bad timestamp {ts}");
        }
    }

    fn ts_ms(ts: &str) -> i64 {
        let n = |r: std::ops::Range<usize>| ts[r].parse::<i64>().unwrap();
        days_from_civil(n(0..4), n(5..7), n(8..10)) * DAY as i64
            + n(11..13) * HOUR as i64
            + n(14..16) * MIN as i64
            + n(17..19) * SEC as i64
            + n(20..23)
    }

    /// No number in the `data` part has more than two decimals (no float noise).
    fn assert_no_float_noise(line: &str) {
        let b = &line.as_bytes()[line.find("\"data\":").unwrap()..];
        for i in 1..b.len() {
            if b[i] == b'.' && b[i - 1].is_ascii_digit() {
                let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                assert!(digits <= 2, "float noise in {line}");
            }
        }
    }

    fn demo_bytes() -> (Vec<u8>, DemoFacts) {
        let mut out = Vec::new();
        let facts = write_demo(&mut out).unwrap();
        (out, facts)
    }

    fn orders_bytes(events: u64, seed: u64) -> (Vec<u8>, OrdersStats) {
        let mut out = Vec::new();
        let stats = write_orders(&mut out, &OrdersConfig { events, seed }).unwrap();
        (out, stats)
    }

    // ---- formatting helpers -----------------------------------------------------------------

    #[test]
    fn money_matches_serde_json_f64_output() {
        let mut c = -250_000i64;
        while c <= 250_000 {
            let mut b = Vec::new();
            push_money(&mut b, c);
            let ours = String::from_utf8(b).unwrap();
            let theirs = serde_json::to_string(&(c as f64 / 100.0)).unwrap();
            assert_eq!(ours, theirs, "cents {c}");
            c += 7;
        }
        for (c, s) in [
            (12050, "120.50"),
            (5, "0.05"),
            (-3950, "-39.50"),
            (0, "0.00"),
            (8999, "89.99"),
        ] {
            let mut b = Vec::new();
            push_money_fixed(&mut b, c);
            assert_eq!(String::from_utf8(b).unwrap(), s);
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(EPOCH_2024_03_04, 1_709_510_400_000);
        let mut f = TsFmt::new();
        let mut b = Vec::new();
        f.push(&mut b, 1_709_532_000_000, b'T', true);
        b.push(b'|');
        f.push(
            &mut b,
            1_709_532_000_000 + 3 * HOUR + 15 * MIN + 2 * SEC + 125,
            b' ',
            false,
        );
        b.push(b'|');
        f.push(
            &mut b,
            days_from_civil(2024, 2, 29) as u64 * DAY + DAY - 1,
            b'T',
            true,
        );
        b.push(b'|');
        f.push(&mut b, 0, b'T', true);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "2024-03-04T06:00:00.000Z|2024-03-04 09:15:02.125|2024-02-29T23:59:59.999Z|1970-01-01T00:00:00.000Z"
        );
        for z in -800_000..800_000i64 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m as i64, d as i64), z);
        }
    }

    #[test]
    fn json_string_escaping() {
        let s = "a\"b\\c\nd\te\u{1}f 27\" Monitor Zoë O'Neil \u{7f}";
        let mut b = Vec::new();
        push_json_str(&mut b, s);
        let back: String = serde_json::from_slice(&b).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn bench_vocabulary_needs_no_escaping() {
        let mut all: Vec<&str> = Vec::new();
        all.extend(FIRST_NAMES.iter().flat_map(|(a, b)| [*a, *b]));
        all.extend(LAST_NAMES.iter().flat_map(|(a, b)| [*a, *b]));
        all.extend(CITIES.iter().flat_map(|(a, b, c)| [*a, *b, *c]));
        all.extend(CARRIERS.iter().flat_map(|(a, b)| [*a, *b]));
        assert_eq!(STREETS.len(), CITIES.len());
        all.extend(STREETS.iter().flatten().copied());
        for t in [
            TIERS,
            RETRY_ERRORS,
            DECLINE_CODES,
            REFUND_REASONS,
            PRODUCT_ADJ,
            PRODUCT_NOUN,
            CANCEL_REASONS,
        ] {
            all.extend(t.iter().copied());
        }
        for s in all {
            assert!(
                !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20),
                "{s:?}"
            );
        }
        for (_, slug) in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(slug.bytes().all(|b| b.is_ascii_lowercase()), "{slug}");
        }
    }

    #[test]
    fn rng_is_stable() {
        // Pinned (splitmix64), so a refactor cannot silently change every output.
        let mut r = Rng::new(42);
        let v: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(
            v,
            [
                0xa88e_81ee_4b24_5ee1,
                0x0626_fc7d_19db_5de6,
                0x9529_a2e4_6c64_6a72
            ]
        );
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let x = r.range(3, 9);
            assert!((3..=9).contains(&x));
            let j = r.jitter(1000);
            assert!((200..=1800).contains(&j));
        }
    }

    // ---- the demo ---------------------------------------------------------------------------

    #[test]
    fn demo_is_deterministic() {
        let (a, fa) = demo_bytes();
        let (b, fb) = demo_bytes();
        assert_eq!(fa, fb);
        // The README quotes these numbers: if this fails, regenerate demo/shop.jsonl and
        // update the README.
        let expected = DemoFacts {
            bug_order: "order-1137".to_string(),
            bug_seq: 2740,
            first_refund_seq: 2719,
            events: 3502,
        };
        assert_eq!(fa, expected);
        assert!(a == b, "demo output differs between runs");
    }

    #[test]
    fn demo_lines_are_well_formed() {
        let (out, facts) = demo_bytes();
        assert!(out.len() < 1_000_000, "demo is {} bytes", out.len());
        assert!(out.ends_with(b"\n"));
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, facts.events);
        assert!(
            (3000..=5000).contains(&lines.len()),
            "{} events",
            lines.len()
        );
        let mut prev = String::new();
        let mut types = BTreeSet::new();
        let (mut warn, mut error) = (0, 0);
        for line in &lines {
            assert_no_float_noise(line);
            let e = parse_line(line);
            assert!(
                e.ts() > prev.as_str(),
                "timestamps must increase: {prev} then {}",
                e.ts()
            );
            prev = e.ts().to_string();
            types.insert(e.ty().to_string());
            let prefix_ok = match e.ty() {
                t if t.starts_with("Customer") => e.id().starts_with("customer-"),
                t if t.starts_with("Cart") => e.id().starts_with("cart-"),
                "ProductListed" | "PriceChanged" | "StockAdjusted" => {
                    e.id().starts_with("product-SKU-")
                }
                _ => e.id().starts_with("order-"),
            };
            assert!(prefix_ok, "{line}");
            match e.v["level"].as_str().unwrap() {
                "warn" => {
                    warn += 1;
                    assert_eq!(e.ty(), "PaymentRetried");
                }
                "error" => {
                    error += 1;
                    assert_eq!(e.ty(), "PaymentDeclined");
                }
                _ => {}
            }
            if e.ty() == "OrderPlaced" {
                let d = e.data();
                assert!(d["customer"].as_str().unwrap().starts_with("customer-"));
                assert_eq!(d["status"], "placed");
                let items = d["items"].as_array().unwrap();
                assert!(!items.is_empty());
                let sum: i64 = items
                    .iter()
                    .map(|i| {
                        assert!(i["sku"].as_str().unwrap().starts_with("SKU-"));
                        i["qty"].as_i64().unwrap() * cents(&i["price"])
                    })
                    .sum();
                assert_eq!(sum, cents(&d["total"]), "{line}");
            }
        }
        assert!(
            warn >= 5 && (1..=20).contains(&error),
            "warn {warn} error {error}"
        );
        for t in [
            "CustomerRegistered",
            "CustomerAddressChanged",
            "ProductListed",
            "PriceChanged",
            "StockAdjusted",
            "OrderPlaced",
            "ItemAdded",
            "PaymentCaptured",
            "OrderShipped",
            "OrderDelivered",
            "RefundIssued",
            "OrderCancelled",
            "CartAbandoned",
            "CartDeleted",
            "PaymentRetried",
            "PaymentDeclined",
        ] {
            assert!(types.contains(t), "missing {t}");
        }
        // About a day of simulated time.
        assert!(lines[0].contains("2024-03-04T06:00:00.000Z"));
        assert!(prev.as_str() > "2024-03-05T05:00" && prev.as_str() < "2024-03-05T06:00:00.001");
    }

    #[test]
    fn demo_facts_hold_under_the_entity_reducer() {
        let (out, facts) = demo_bytes();
        assert_eq!(facts.bug_order, "order-1137");
        let text = String::from_utf8(out).unwrap();
        let events: Vec<Ev1> = text.lines().map(parse_line).collect();
        assert_eq!(events.len() as u64, facts.events);

        let mut st = State::default();
        let mut negative_now: BTreeSet<String> = BTreeSet::new();
        let mut ever_negative: BTreeSet<String> = BTreeSet::new();
        let mut first_negative_seq = None;
        let mut blame: Vec<(u64, String)> = Vec::new(); // events that changed bug_order/total
        let mut deleted_carts = 0;
        for (i, e) in events.iter().enumerate() {
            let seq = i as u64 + 1;
            let before = st
                .map
                .get(&facts.bug_order)
                .and_then(|s| s.get("total").cloned());
            st.apply(e);
            let id = e.id().to_string();
            match st.map.get(&id) {
                None => {
                    assert!(is_delete(e.ty()));
                    negative_now.remove(&id);
                    if id.starts_with("cart-") {
                        deleted_carts += 1;
                    }
                }
                Some(s) => {
                    if let Some(t) = total_cents(s) {
                        assert!(id.starts_with("order-"), "only orders carry a total: {id}");
                        if t < 0 {
                            negative_now.insert(id.clone());
                            ever_negative.insert(id.clone());
                        } else {
                            negative_now.remove(&id);
                        }
                    }
                    if let Some(stock) = s.get("stock") {
                        assert!(stock.as_i64().unwrap() >= 0, "negative stock at seq {seq}");
                    }
                }
            }
            if first_negative_seq.is_none() && !negative_now.is_empty() {
                first_negative_seq = Some(seq);
            }
            let after = st
                .map
                .get(&facts.bug_order)
                .and_then(|s| s.get("total").cloned());
            if before != after {
                blame.push((seq, e.ty().to_string()));
            }
        }

        // `hindsight find --where 'any(.[]; (.total? // 0) < 0)'` → bug_seq.
        assert_eq!(first_negative_seq, Some(facts.bug_seq));
        assert_eq!(
            ever_negative.into_iter().collect::<Vec<_>>(),
            vec![facts.bug_order.clone()]
        );
        assert!(
            facts.bug_seq > facts.events / 2,
            "bug should be in the second half"
        );
        assert!(deleted_carts > 50, "carts get deleted ({deleted_carts})");

        // The two refunds: same refundId, a few minutes apart.
        let r1 = &events[facts.first_refund_seq as usize - 1];
        let r2 = &events[facts.bug_seq as usize - 1];
        for r in [r1, r2] {
            assert_eq!(r.ty(), "RefundIssued");
            assert_eq!(r.id(), facts.bug_order);
        }
        assert_eq!(r1.data()["refundId"], r2.data()["refundId"]);
        assert_eq!(r1.data()["amount"], r2.data()["amount"]);
        assert!(cents(&r1.data()["total"]) >= 0);
        assert!(cents(&r2.data()["total"]) < 0);
        let gap = ts_ms(r2.ts()) - ts_ms(r1.ts());
        assert!(
            (2 * MIN as i64..=7 * MIN as i64).contains(&gap),
            "duplicate {gap} ms after the first refund"
        );

        // `hindsight blame --path /order-1137/total`: placed, item added…, the two refunds.
        let types: Vec<&str> = blame.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(types.first(), Some(&"OrderPlaced"));
        assert!(types.contains(&"ItemAdded"), "{types:?}");
        assert_eq!(&types[types.len() - 2..], ["RefundIssued", "RefundIssued"]);
        assert_eq!(
            blame[blame.len() - 2..]
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>(),
            vec![facts.first_refund_seq, facts.bug_seq]
        );

        // Every order is internally consistent: total = Σ qty·price − refunded.
        for (id, s) in &st.map {
            if let Some(items) = s.get("items").filter(|_| id.starts_with("order-")) {
                let sum: i64 = items
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["qty"].as_i64().unwrap() * cents(&i["price"]))
                    .sum();
                let refunded = s.get("refunded").map(cents).unwrap_or(0);
                assert_eq!(total_cents(s), Some(sum - refunded), "{id}: {s}");
            }
        }
        // Nested merge and null-deletion are exercised.
        assert!(text.contains("\"line2\":null"));
        assert!(st
            .map
            .values()
            .any(|s| s.get("address").and_then(|a| a.get("street")).is_some()));
    }

    // ---- the benchmark log ------------------------------------------------------------------

    #[test]
    fn orders_are_deterministic_per_seed() {
        let (a, sa) = orders_bytes(20_000, 7);
        let (b, sb) = orders_bytes(20_000, 7);
        let (c, _) = orders_bytes(20_000, 8);
        assert_eq!(sa, sb);
        assert!(a == b, "same seed, different bytes");
        assert!(a != c, "different seeds, same bytes");
        assert_eq!(sa.bytes, a.len() as u64);
        assert_eq!(sa.events, 20_000);
        // A prefix of a longer run is the shorter run.
        let (long, _) = orders_bytes(30_000, 7);
        assert!(long.starts_with(&a));
    }

    #[test]
    fn orders_lines_are_well_formed_and_sized() {
        let (out, stats) = orders_bytes(20_000, 42);
        let per_line = stats.bytes as f64 / stats.events as f64;
        assert!(
            (120.0..=160.0).contains(&per_line),
            "{per_line:.1} bytes/line"
        );
        let text = String::from_utf8(out).unwrap();
        let mut prev = String::new();
        let mut equal_ts = 0;
        let mut types = BTreeSet::new();
        let mut levels = BTreeMap::new();
        let mut n = 0;
        for line in text.lines() {
            n += 1;
            assert_no_float_noise(line);
            let e = parse_line(line);
            assert!(e.ts() >= prev.as_str(), "timestamps must not go back");
            if e.ts() == prev {
                equal_ts += 1;
            }
            prev = e.ts().to_string();
            types.insert(e.ty().to_string());
            *levels
                .entry(e.v["level"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
            if let Some(t) = e.data().get("total") {
                assert!(cents(t) >= 0);
            }
        }
        assert_eq!(n, 20_000);
        assert!(
            equal_ts > 1000,
            "equal timestamps should occur ({equal_ts})"
        );
        assert!(types.len() >= 12, "{types:?}");
        assert!(
            levels["info"] > 19_000 && levels["warn"] > 10 && levels["error"] > 0,
            "{levels:?}"
        );
    }

    #[test]
    fn orders_state_grows_and_deletions_happen() {
        let (out, stats) = orders_bytes(200_000, 42);
        let text = String::from_utf8(out).unwrap();
        let mut st = State::default();
        let mut deletions = BTreeMap::new();
        let mut live_at_100k = 0;
        for (i, line) in text.lines().enumerate() {
            let e = Ev1 {
                v: serde_json::from_str(line).unwrap(),
            };
            if is_delete(e.ty()) {
                assert!(st.map.contains_key(e.id()), "deleting unknown {}", e.id());
                *deletions.entry(e.ty().to_string()).or_insert(0) += 1;
            }
            st.apply(&e);
            if i + 1 == 100_000 {
                live_at_100k = st.map.len();
            }
        }
        assert_eq!(st.map.len() as u64, stats.live_entities_at_end);
        assert!(
            deletions.get("OrderPurged").copied().unwrap_or(0) > 1000,
            "{deletions:?}"
        );
        assert!(
            deletions.get("CustomerDeleted").copied().unwrap_or(0) > 100,
            "{deletions:?}"
        );
        assert!(
            st.map.len() > live_at_100k * 3 / 2,
            "{live_at_100k} → {}",
            st.map.len()
        );
        // Growth is roughly linear, so 1 M events ≈ 5 × this: 60k+ entities.
        assert!(stats.live_entities_at_end * 5 >= 60_000, "{stats:?}");
        for kind in ["order-", "customer-", "product-SKU-"] {
            assert!(
                st.map.keys().filter(|k| k.starts_with(kind)).count() > 1000,
                "{kind}"
            );
        }
    }

    #[test]
    fn one_million_events_reach_60k_entities() {
        let mut sink = io::sink();
        let stats = write_orders(
            &mut sink,
            &OrdersConfig {
                events: 1_000_000,
                seed: 42,
            },
        )
        .unwrap();
        assert!(stats.live_entities_at_end >= 60_000, "{stats:?}");
        let per_line = stats.bytes as f64 / 1e6;
        assert!(
            (130.0..=155.0).contains(&per_line),
            "{per_line:.1} bytes/line"
        );
    }

    #[test]
    fn text_log_mirrors_the_json_log() {
        let cfg = OrdersConfig {
            events: 20_000,
            seed: 42,
        };
        let mut t1 = Vec::new();
        let ts = write_text_log(&mut t1, &cfg).unwrap();
        let mut t2 = Vec::new();
        write_text_log(&mut t2, &cfg).unwrap();
        assert!(t1 == t2);
        let (json, js) = orders_bytes(cfg.events, cfg.seed);
        assert_eq!(ts.events, js.events);
        assert_eq!(ts.live_entities_at_end, js.live_entities_at_end);
        assert_eq!(ts.bytes, t1.len() as u64);
        let per_line = ts.bytes as f64 / ts.events as f64;
        assert!(
            (110.0..=160.0).contains(&per_line),
            "{per_line:.1} bytes/line"
        );
        let text = String::from_utf8(t1).unwrap();
        let json = String::from_utf8(json).unwrap();
        for (t, j) in text.lines().zip(json.lines()) {
            let e = parse_line(j);
            // `2024-03-04 09:15:02.125 INFO  order-1042 OrderPlaced k=v …`
            let expect_ts = e.ts().replace('T', " ");
            assert_eq!(&t[..23], &expect_ts[..23], "{t}");
            let level = match e.v["level"].as_str().unwrap() {
                "info" => "INFO  ",
                "warn" => "WARN  ",
                _ => "ERROR ",
            };
            assert_eq!(&t[23..30], &format!(" {level}"), "{t}");
            let mut rest = t[30..].split(' ');
            assert_eq!(rest.next(), Some(e.id()));
            assert_eq!(rest.next(), Some(e.ty()));
            assert!(t.contains(" trace=") && t.len() > 60);
            if let Some(total) = e.data().get("total") {
                let mut b = b" total=".to_vec();
                push_money_fixed(&mut b, cents(total));
                assert!(t.contains(std::str::from_utf8(&b).unwrap()), "{t}");
            }
        }
    }
}
