#!/usr/bin/env bash
# Seeds fuzz/corpus/{parse,index}/ with the project's golden fixtures (the
# logs, not their .out/.queries), plus compressed copies and a few option-
# prefixed inputs for `index` (see fuzz_targets/index.rs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
golden="$here/../tests/fixtures/golden"
for target in parse index; do
  mkdir -p "$here/corpus/$target"
done
for f in "$golden"/*; do
  case "$f" in *.out|*.queries) continue ;; esac
  [ -f "$f" ] || continue
  name="$(basename "$f")"
  cp "$f" "$here/corpus/parse/$name"
  cp "$f" "$here/corpus/index/$name"
done
# index: compressed files are read through gzip/zstd.
if command -v gzip >/dev/null; then gzip -c "$golden/syslog.log" >"$here/corpus/index/syslog.log.gz"; fi
if command -v zstd >/dev/null; then zstd -q -c "$golden/orders.csv" >"$here/corpus/index/orders.csv.zst"; fi
# index: forced format / reducer (first byte 0x01, second byte the options).
printf '\001\065' | cat - "$golden/kube.logfmt" >"$here/corpus/index/forced-csv-kube"
printf '\001\035' | cat - "$golden/patches.jsonl" >"$here/corpus/index/json-patch-patches"
printf '\001\061' | cat - "$golden/debezium.jsonl" >"$here/corpus/index/cdc-debezium"
echo "seeded: $(ls "$here/corpus/parse" | wc -l) parse, $(ls "$here/corpus/index" | wc -l) index inputs"
