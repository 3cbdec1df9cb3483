#!/bin/sh
# Installs what building, running and testing Hindsight needs on a fresh
# Debian/Ubuntu machine, and nothing that is already there: the C toolchain,
# the WebKitGTK/GTK development packages Tauri builds against, WebKit's
# WebDriver, Xvfb and fonts for end-to-end tests, Chromium to render the
# audit report as a reader sees it, lnav to compare with, Node.js,
# tauri-driver, and
# the UI's npm packages. apt runs through sudo when not root.
set -eu
cd "$(dirname "$0")/.."

missing=""
for pkg in build-essential pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libsoup-3.0-dev \
           webkit2gtk-driver xvfb xauth imagemagick fonts-noto-cjk fonts-noto-color-emoji; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    echo "setup: installing$missing with apt"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Optional: Chromium renders the audit report in `make test` (Debian calls
# the package `chromium`), and `make bench` measures lnav beside Hindsight.
# Where a package does not exist, that step is skipped.
optional=""
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || optional="$optional chromium"
command -v lnav >/dev/null 2>&1 || optional="$optional lnav"
if [ -n "$optional" ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    for pkg in $optional; do
        echo "setup: installing $pkg with apt"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$pkg" \
            || echo "setup: $pkg could not be installed; the step that uses it is skipped"
    done
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: Rust is missing; install it with rustup (https://rustup.rs) and run this again" >&2
    exit 1
fi

if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    echo "setup: installing tauri-driver with cargo"
    cargo install tauri-driver --locked
fi

# The UI's packages, when the lock file changed since the last install.
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    echo "setup: installing the UI's npm packages"
    (cd ui && npm ci --no-audit --no-fund)
fi
