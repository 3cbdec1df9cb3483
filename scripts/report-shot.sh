#!/bin/sh
# Renders an audit report the way a reader opens it: the CLI bookmarks three
# events of the demo log, writes the report and verifies it, then headless
# Chromium (no scripts needed) draws it to target/e2e-screenshots/report.png
# and prints it to report.pdf. Fails when the report is not written, does not
# verify, or draws as a blank page.
set -eu
cd "$(dirname "$0")/.."
CLI=target/release/hindsight
OUT=target/e2e-screenshots
say() { echo "report-shot: $*"; }

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
    say "Chromium is missing, so the report is not rendered; install it with: sudo apt-get install chromium"
    exit 0
fi
[ -x "$CLI" ] || cargo build --locked --release -p hindsight-cli

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"
cp demo/shop.jsonl "$work/shop.jsonl"
idx="$work/shop.hsidx"
"$CLI" bookmarks --index "$idx" "$work/shop.jsonl" add 1 "First event: the catalogue is listed" --tags start >/dev/null
"$CLI" bookmarks --index "$idx" "$work/shop.jsonl" add 2740 "The refund that drove order-1137's total below zero <script>alert(1)</script>" --tags bug,refund >/dev/null
"$CLI" bookmarks --index "$idx" "$work/shop.jsonl" add 3502 "Last event" >/dev/null
"$CLI" report --index "$idx" "$work/shop.jsonl" --out "$work/report.html" --title "Shop audit" >/dev/null
"$CLI" verify --index "$idx" "$work/report.html" "$work/shop.jsonl" >/dev/null

# A private profile, no first-run UI; the report needs no network and no scripts.
flags="--headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --user-data-dir=$work/profile"
# shellcheck disable=SC2086
"$browser" $flags --window-size=1280,2200 --screenshot="$work/report.png" "file://$work/report.html" >/dev/null 2>&1
# shellcheck disable=SC2086
"$browser" $flags --no-pdf-header-footer --print-to-pdf="$work/report.pdf" "file://$work/report.html" >/dev/null 2>&1
for f in report.png report.pdf; do
    [ -s "$work/$f" ] || { say "Chromium wrote no $f; run it by hand on $work/report.html to see why"; exit 1; }
done
# A blank page compresses to almost nothing; a drawn report does not.
size=$(wc -c < "$work/report.png")
[ "$size" -gt 40000 ] || { say "report.png is $size bytes, which looks blank"; exit 1; }
cp "$work/report.png" "$work/report.pdf" "$work/report.html" "$OUT/"
say "rendered $OUT/report.png ($size bytes) and $OUT/report.pdf"
