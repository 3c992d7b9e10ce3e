#!/bin/bash
# Event-path benchmark: highest rate delivered without loss, and the
# accounting at full speed. Run as root after `cargo build --release -p ghostscope`.
# usage: bench/event_rate.sh [CALLS] [extra ghostscope options...]
# Prints one row per target rate (calls/s; 0 = as fast as it can).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gs=${GHOSTSCOPE:-$here/../target/release/ghostscope}
out=$here/out/event_rate
mkdir -p "$out"
gcc -g -O0 -o "$out/event_rate" "$here/../e2e-tests/fixtures/counted_calls.c"
calls=${1:-1000000}; shift || true
printf '%-9s %-9s %-10s %-9s %-9s %-7s %-10s %-8s\n' rate calls delivered lost exact loss% ns/call gs_cpu%
for rate in 100000 300000 600000 1000000 2000000 0; do
    rm -f "$out/go" "$out/gs.out" "$out/gs.err"
    "$out/event_rate" "$calls" "$rate" "$out/go" > "$out/target.out" & target=$!
    "$gs" -p "$target" --script-output-events-per-sec 0 --emit-ready-marker READY "$@" \
        -s 'trace hot { print "{} {} {} {}", a, b, c, text; }' > "$out/gs.out" 2> "$out/gs.err" & tracer=$!
    until grep -q '^READY$' "$out/gs.out" 2>/dev/null; do sleep 0.05; done
    t0=$(awk '{print $14+$15}' /proc/$tracer/stat); s0=$(date +%s%N)
    touch "$out/go"; wait "$target"; sleep 1.2
    t1=$(awk '{print $14+$15}' /proc/$tracer/stat); s1=$(date +%s%N)
    kill -INT "$tracer"; wait "$tracer" || true
    made=$(awk '{print $2}' "$out/target.out"); ns=$(awk '{print $4}' "$out/target.out")
    delivered=$(grep -c 'TraceID:0 ' "$out/gs.out" || true)
    lost=$(grep -o 'total [0-9]*' "$out/gs.err" | tail -1 | awk '{print $2}'); lost=${lost:-0}
    exact=no; [ $((delivered + lost)) -eq "$made" ] && exact=yes
    hz=$(getconf CLK_TCK)
    cpu=$(( (t1 - t0) * 100 * 1000000000 / hz / (s1 - s0) ))
    printf '%-9s %-9s %-10s %-9s %-9s %-7s %-10s %-8s\n' "${rate/#0/max}" "$made" "$delivered" "$lost" "$exact" \
        "$(awk -v l="$lost" -v m="$made" 'BEGIN{printf "%.1f", 100*l/m}')" $((ns / made)) "$cpu"
done
