#!/usr/bin/env bash
# Conformance over real logs of other projects, when the corpus folder sits
# beside the checkout (`../corpus` or `../shared/corpus`): every non-empty
# file must open with events > 0, and every event must read back. Prints one
# line per file: format, reducer, events, errors, the fields chosen.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=""
for dir in ../shared/corpus ../corpus; do
  if [ -d "$dir" ]; then corpus=$dir; break; fi
done
if [ -z "$corpus" ]; then
  echo "corpus: no corpus folder beside the checkout; skipped"
  exit 0
fi
bin=target/release/hindsight
[ -x "$bin" ] || cargo build --locked --release -p hindsight-cli
failures=0
checked=0
while IFS= read -r -d '' file; do
  case "$(basename "$file")" in LICENSE* | README*) continue ;; esac
  [ -s "$file" ] || continue
  checked=$((checked + 1))
  if ! info=$("$bin" info --no-cache "$file" 2>&1); then
    echo "FAIL ${file#"$corpus"/}: $info"
    failures=$((failures + 1))
    continue
  fi
  line=$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["events"], d["format"], d["reducer"], "errors=%d" % d["errors"], ",".join("%s=%s" % kv for kv in sorted(d["fields"].items())))
' "$info")
  events=${line%% *}
  read_back=$("$bin" events --no-cache "$file" | wc -l)
  if [ "$events" -le 0 ] || [ "$read_back" -ne "$events" ]; then
    echo "FAIL ${file#"$corpus"/}: $events events, $read_back read back"
    failures=$((failures + 1))
  else
    echo "ok   ${file#"$corpus"/}: $line"
  fi
done < <(find "$corpus" -type f -print0 | sort -z)
echo "corpus: $checked files, $failures failed"
[ "$failures" -eq 0 ]
