#!/usr/bin/env bash
# Builds and runs one fuzz target in one process (no -jobs/-workers: a single
# libFuzzer process, output on the terminal) for a fixed time.
#   fuzz/run.sh TARGET SECONDS [extra libFuzzer flags...]
# TARGET is `parse` or `index`. Needs a nightly toolchain and cargo-fuzz
# (`rustup toolchain install nightly`, `cargo install cargo-fuzz`). Override
# FUZZ_TOOLCHAIN (default nightly), FUZZ_TMPDIR (default /dev/shm when there), FUZZ_SANITIZER (default none: the engine
# has no unsafe code, and without ASan it runs about twice as fast) and
# CARGO_TARGET_DIR as needed.
set -euo pipefail
target="${1:?usage: fuzz/run.sh parse|index SECONDS [libFuzzer flags...]}"
seconds="${2:?usage: fuzz/run.sh parse|index SECONDS [libFuzzer flags...]}"
shift 2
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
[ -d "corpus/$target" ] || ./seed.sh
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
sanitizer="${FUZZ_SANITIZER:-none}"
target_dir=()
if [ -n "${CARGO_TARGET_DIR:-}" ]; then target_dir=(--target-dir "$CARGO_TARGET_DIR"); fi
# `index` builds a SQLite index per input in a temporary directory; on a disk
# the fsyncs make that ~100x slower than on tmpfs. FUZZ_TMPDIR overrides.
tmp="${FUZZ_TMPDIR:-}"
if [ -z "$tmp" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then tmp=/dev/shm; fi
if [ -n "$tmp" ]; then export TMPDIR="$tmp"; fi
exec cargo "+$toolchain" fuzz run "${target_dir[@]}" -s "$sanitizer" "$target" "corpus/$target" -- \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 "$@"
