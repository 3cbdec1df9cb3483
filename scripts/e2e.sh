#!/usr/bin/env bash
# End-to-end tests of the desktop app: the real binary driven through
# WebDriver (tauri-driver in front of WebKitWebDriver), under a virtual X
# display when there is no display. Builds nothing: `make e2e` builds first.
#
#   scripts/e2e.sh [SCENARIO…]
#
# Environment: E2E_APP (default target/release/hindsight-app), E2E_PORT
# (tauri-driver's port, default 4444; WebKitWebDriver takes the next one),
# E2E_XVFB=1 (use a virtual display even when DISPLAY is set), and those of
# tests/e2e/run.mjs. Screenshots land in target/e2e-screenshots/.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"

APP="${E2E_APP:-target/release/hindsight-app}"
shots="${E2E_SCREENSHOTS:-target/e2e-screenshots}"
say() { printf 'e2e: %s\n' "$*" >&2; }

if [ ! -x "$APP" ]; then
    say "the app binary $APP is missing; build it first (cd ui && npm install && npm run build; cargo build --release -p hindsight-app)"
    exit 1
fi
for tool in node tauri-driver WebKitWebDriver; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        case "$tool" in
            tauri-driver) say "tauri-driver is missing; install it with: cargo install tauri-driver --locked" ;;
            WebKitWebDriver) say "WebKitWebDriver is missing; install it with: sudo apt-get install webkit2gtk-driver" ;;
            *) say "$tool is missing; install Node.js 20 or newer" ;;
        esac
        exit 1
    fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/hindsight-e2e-run.XXXXXX")"
xvfb_pid=""
driver_pid=""
runner_pid=""

stop() {
    # $1: pid of a process this script started. TERM, then KILL if it lingers.
    local pid="$1" i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local code=$?
    trap - EXIT INT TERM HUP
    stop "$runner_pid"
    stop "$driver_pid"
    # An app a scenario started and an interrupted run left behind (the
    # runner's launcher records each app's pid under $work).
    local f pid app_exe
    app_exe="$(readlink -f "$APP")"
    for f in "$work"/*/*/app.pid; do
        [ -f "$f" ] || continue
        pid="$(tr -dc 0-9 <"$f")"
        if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$app_exe" ]; then
            stop "$pid"
        fi
    done
    stop "$xvfb_pid"
    if [ -f "$work/tauri-driver.log" ]; then
        # Kept next to the screenshots: the app's and WebKit's stderr are in it.
        mkdir -p "$shots" && cp "$work/tauri-driver.log" "$shots/tauri-driver.log" 2>/dev/null || true
        if [ "$code" != 0 ] && [ -s "$work/tauri-driver.log" ]; then
            say "tauri-driver's log (last lines; all of it in $shots/tauri-driver.log):"
            tail -n 30 "$work/tauri-driver.log" >&2 || true
        fi
    fi
    rm -rf "$work"
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Settings, recent files and the index cache start empty on every run.
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
# Plain software rendering, the same on every machine: no GPU, DMA-BUF or
# accelerated compositing (with Mesa's llvmpipe the suite also passes without
# these; they avoid blank or failing webviews on GPU drivers and in containers).
export LIBGL_ALWAYS_SOFTWARE="${LIBGL_ALWAYS_SOFTWARE:-1}"
export WEBKIT_DISABLE_DMABUF_RENDERER="${WEBKIT_DISABLE_DMABUF_RENDERER:-1}"
export WEBKIT_DISABLE_COMPOSITING_MODE="${WEBKIT_DISABLE_COMPOSITING_MODE:-1}"
# No accessibility bus to wait for; GTK on X11 (Xvfb, or the user's X display).
export NO_AT_BRIDGE=1 GDK_BACKEND=x11

if [ -z "${DISPLAY:-}" ] || [ "${E2E_XVFB:-}" = 1 ]; then
    if ! command -v Xvfb >/dev/null 2>&1; then
        say "there is no display and Xvfb is missing; install it with: sudo apt-get install xvfb"
        exit 1
    fi
    # -displayfd: Xvfb picks a free display and writes its number once it is ready.
    exec 3>"$work/display"
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset </dev/null >"$work/xvfb.log" 2>&1 &
    xvfb_pid=$!
    exec 3>&-
    for i in $(seq 1 100); do
        [ -s "$work/display" ] && break
        kill -0 "$xvfb_pid" 2>/dev/null || { say "Xvfb did not start:"; cat "$work/xvfb.log" >&2; exit 1; }
        sleep 0.1
    done
    [ -s "$work/display" ] || { say "Xvfb gave no display in 10 s"; exit 1; }
    export DISPLAY=":$(head -n1 "$work/display" | tr -dc 0-9)"
    unset WAYLAND_DISPLAY
    say "virtual display $DISPLAY (1280x800x24)"
fi

listening() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port="${E2E_PORT:-4444}"
if listening "$port" || listening "$((port + 1))"; then
    if [ -n "${E2E_PORT:-}" ]; then
        say "port $port or $((port + 1)) is already in use; choose another E2E_PORT"
        exit 1
    fi
    for p in $(seq 4446 2 4600); do
        if ! listening "$p" && ! listening "$((p + 1))"; then port="$p"; break; fi
    done
    say "port 4444 is taken; tauri-driver listens on $port instead"
fi

RUST_BACKTRACE=0 tauri-driver --port "$port" --native-port "$((port + 1))" </dev/null >"$work/tauri-driver.log" 2>&1 &
driver_pid=$!
for i in $(seq 1 150); do
    listening "$port" && listening "$((port + 1))" && break
    kill -0 "$driver_pid" 2>/dev/null || { say "tauri-driver exited:"; cat "$work/tauri-driver.log" >&2; exit 1; }
    sleep 0.1
done
listening "$port" || { say "tauri-driver is not listening on port $port after 15 s"; exit 1; }

# In the background, so that a TERM or INT reaches the trap at once (bash
# runs traps only between foreground commands, but `wait` is interruptible).
status=0
E2E_APP="$APP" E2E_DRIVER_URL="http://127.0.0.1:$port" E2E_TMPDIR="$work" node tests/e2e/run.mjs "$@" </dev/null &
runner_pid=$!
wait "$runner_pid" || status=$?
runner_pid=""
exit "$status"
