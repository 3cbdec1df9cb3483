#!/bin/sh
# Installs what building and testing Hindsight needs on Debian/Ubuntu, and
# nothing that is already there. Uses sudo for apt when not root.
set -eu

need_apt=""
command -v cc >/dev/null 2>&1 || need_apt="$need_apt build-essential"
command -v pkg-config >/dev/null 2>&1 || need_apt="$need_apt pkg-config"

if [ -n "$need_apt" ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    echo "setup: installing$need_apt with apt"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $need_apt
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: Rust is missing; install it with rustup (https://rustup.rs) and run this again" >&2
    exit 1
fi
