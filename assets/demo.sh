#!/usr/bin/env bash
# Quick start: install what is missing, build ghostscope, start the bundled
# demo service and trace it. Run as root (uprobes need it).
#
# In a terminal (stdin and stdout are TTYs) this opens the TUI on the demo;
# its traces are one command away: `source assets/demo/orderd.gs` (also put
# in the TUI's history, so Up then Enter loads them). Anywhere else (CI, a
# pipe) it traces the demo for DEMO_SECONDS (default 5) in script mode with
# the same script. DEMO_SCRIPT_MODE=1 forces script mode.
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

script=assets/demo/orderd.gs
if [ -t 0 ] && [ -t 1 ] && [ -z "${DEMO_SCRIPT_MODE:-}" ]; then
    load="source $script"
    history=.ghostscope_history
    if [ "$(tail -n 1 "$history" 2>/dev/null)" != "$load" ]; then
        echo "$load" >> "$history"
    fi
    echo "Opening the ghostscope TUI on orderd (pid $demo)."
    echo
    echo "  Load the demo's traces:  $load      (or press Up, then Enter)"
    echo "  Write your own:          trace process_order   then the body, Ctrl+S"
    echo "  Quit:                    quit"
    echo
    read -r -p "Press Enter to start..." _
    target/release/ghostscope -p "$demo"
else
    echo "Tracing orderd (pid $demo) for ${DEMO_SECONDS:-5} seconds with $script:"
    echo
    target/release/ghostscope -p "$demo" --script-file "$script" --duration "${DEMO_SECONDS:-5}"
fi
