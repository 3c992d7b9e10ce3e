#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test ghostscope.
# Rust itself (cargo, rustc 1.88+) is expected to be installed already.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
packages=(
    llvm-19-dev libpolly-19-dev   # LLVM's BPF backend, linked statically
    zlib1g-dev libzstd-dev        # libraries the static LLVM link needs
    gcc libc6-dev binutils        # fixtures and the demo are C programs; nm, objcopy for tests
    clang g++                     # fixtures built with clang and as C++
    gdb                           # tests cross-check values against gdb -batch
    tmux                          # TUI tests drive the real binary in tmux
    bpftool                       # tests check that no BPF program is left loaded
    util-linux                    # setpriv, for the privilege test
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }
