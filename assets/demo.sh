#!/usr/bin/env bash
# Quick start: install what is missing, build ghostscope, start the bundled
# demo service and trace it for a few seconds. Run as root (uprobes need it).
set -euo pipefail
cd "$(dirname "$0")/.."
./assets/install-deps.sh
cargo build --release -p ghostscope
mkdir -p target/demo
gcc -g -O2 -o target/demo/orderd assets/demo/orderd.c

target/demo/orderd > /dev/null &
demo=$!
trap 'kill "$demo" 2>/dev/null || true' EXIT
sleep 0.2

echo "Tracing orderd (pid $demo) for ${DEMO_SECONDS:-5} seconds with assets/demo/orderd.gs:"
echo
target/release/ghostscope -p "$demo" --script-file assets/demo/orderd.gs --duration "${DEMO_SECONDS:-5}"
