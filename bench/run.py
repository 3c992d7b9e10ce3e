#!/usr/bin/env python3
"""Uprobe cost benchmark for ghostscope. See bench/README.md.

Measures (median of --runs runs each):
  * ns per call of bench_target() with no probe, an empty probe, and a probe
    printing three integers and a 64-byte string;
  * wall time from launching ghostscope to its --emit-ready-marker line.
"""
import argparse
import os
import select
import shlex
import signal
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
OUT = os.path.join(BENCH_DIR, "out")
SRC = os.path.join(BENCH_DIR, "uprobe_cost.c")
PROG = os.path.join(OUT, "uprobe_cost")
READY = "READY"

EMPTY_SCRIPT = "trace bench_target { }"
EMPTY_FALLBACK = 'trace bench_target { if 0 { print "x"; } }'
PRINT_SCRIPT = 'trace bench_target { print "a={} b={} c={} s={:s.64}", a, b, c, s; }'
BT_SCRIPT = "trace bench_target { bt; }"
# bench_target + 11 nested frames + main + 2 libc frames + _start = 16 frames.
BT_NEST = 11
BT_DEPTH = 16

# Processes we started and have not reaped yet; killed on any exit path.
LIVE = []


def die(msg):
    print(f"run: error: {msg}", file=sys.stderr)
    sys.exit(1)


PIN = {}  # role -> CPU set, filled by --pin


def spawn(argv, role=None, **kw):
    # A new session keeps Ctrl+C in the terminal away from the children; we
    # stop them ourselves in cleanup().
    cpus = PIN.get(role)
    if cpus:
        kw["preexec_fn"] = lambda: os.sched_setaffinity(0, cpus)
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    LIVE.append(p)
    return p


def reap(p, sig=None, timeout=30):
    """Optionally signal p, wait for it, SIGKILL after timeout. Returns rc."""
    if p.poll() is None and sig is not None:
        p.send_signal(sig)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    if p in LIVE:
        LIVE.remove(p)
    return p.returncode


def cleanup():
    for p in list(LIVE):
        if p.poll() is None:
            # SIGINT lets ghostscope detach cleanly; the bench program just dies.
            try:
                p.send_signal(signal.SIGINT)
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            except ProcessLookupError:
                pass
        LIVE.remove(p)


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def readline_timeout(f, timeout):
    """Read one line from a pipe (unbuffered fd read), or None on timeout/EOF."""
    fd = f.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return None
        ch = os.read(fd, 1)
        if not ch:
            return buf.decode(errors="replace") if buf else None
        if ch == b"\n":
            return buf.decode(errors="replace")
        buf += ch


def start_bench(args, wait=True, nest=0):
    argv = [PROG, "--seconds", str(args.seconds), "--nest", str(nest)] + (["--wait"] if wait else [])
    p = spawn(argv, role="bench", stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    if wait:
        line = readline_timeout(p.stdout, 10)
        if not line or not line.startswith("WAITING "):
            die(f"bench program did not start (got {line!r})")
    return p


def finish_bench(p, go, timeout):
    """Let the bench program run its timed loop (go=True) or quit (go=False)."""
    if go:
        p.stdin.write(b"go\n")
    p.stdin.close()
    result = None
    if go:
        line = readline_timeout(p.stdout, timeout)
        if not line or not line.startswith("RESULT "):
            die(f"bench program gave no result (got {line!r})")
        result = dict(kv.split("=") for kv in line.split()[1:])
    reap(p, timeout=10)
    return result


def gs_argv(args, pid, script, extra=()):
    return [
        args.ghostscope, "-p", str(pid), "-s", script,
        "--script-output", "plain",
        "--script-output-events-per-sec", "0",
        "--no-status",
        "--emit-ready-marker", READY,
        *extra,
    ]


def wait_ready_file(gs, path, timeout):
    """Poll ghostscope's stdout file for the ready line. Returns True/False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gs.poll() is not None:
            return False
        with open(path, "rb") as f:
            if (READY + "\n").encode() in f.read(4096):
                return True
        time.sleep(0.005)
    return False


def count_events(path, backtrace=False):
    """Event lines written; with `backtrace`, backtrace blocks (one per event)."""
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if backtrace:
                n += line.startswith(b"backtrace: ")
            elif line.rstrip(b"\n") != READY.encode():
                n += 1
    return n


class Notes:
    def __init__(self):
        self.lines = []

    def add(self, msg):
        if msg not in self.lines:
            self.lines.append(msg)


def run_probed(args, script, tag, i, notes, nest=0, extra=()):
    """One run with ghostscope attached. Returns (ns_per_call, calls, events)
    or None if ghostscope failed before becoming ready."""
    outp = os.path.join(OUT, f"{tag}.{i}.stdout")
    errp = os.path.join(OUT, f"{tag}.{i}.stderr")
    bench = start_bench(args, nest=nest)
    argv = gs_argv(args, bench.pid, script, extra)
    with open(outp, "wb") as o, open(errp, "wb") as e:
        gs = spawn(argv, role="gs", stdin=subprocess.DEVNULL, stdout=o, stderr=e)
    if not wait_ready_file(gs, outp, args.ready_timeout):
        rc = reap(gs, signal.SIGINT)
        finish_bench(bench, go=False, timeout=10)
        with open(errp, errors="replace") as f:
            err = f.read().strip()
        return None, (rc, err, argv)
    res = finish_bench(bench, go=True, timeout=args.seconds * 20 + 60)
    rc = reap(gs, signal.SIGINT, timeout=60)
    with open(errp, errors="replace") as f:
        for line in f.read().splitlines():
            if line.strip():
                notes.add(f"[{tag}] ghostscope stderr: {line.strip()}")
    if rc != 0:
        notes.add(f"[{tag}] ghostscope exited with status {rc} after SIGINT")
    events = count_events(outp, backtrace=script == BT_SCRIPT)
    if script == BT_SCRIPT:
        with open(outp, errors="replace") as f:
            first = next((l.strip() for l in f if l.startswith("backtrace: ")), None)
        notes.add(f"[{tag}] blocks read: {first}")
    if not args.keep_output:
        os.unlink(outp)
    return (float(res["ns_per_call"]), int(res["calls"]), events), argv


def run_launch(args, script, i):
    """One launch->ready measurement in seconds."""
    errp = os.path.join(OUT, f"launch.{i}.stderr")
    bench = start_bench(args)
    argv = gs_argv(args, bench.pid, script)
    with open(errp, "wb") as e:
        t0 = time.perf_counter()
        gs = spawn(argv, role="gs", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                   stderr=e, bufsize=0)
        elapsed = None
        while True:
            line = readline_timeout(gs.stdout, args.ready_timeout)
            if line is None:
                break
            if line == READY:
                elapsed = time.perf_counter() - t0
                break
    rc = reap(gs, signal.SIGINT)
    finish_bench(bench, go=False, timeout=10)
    if elapsed is None:
        with open(errp, errors="replace") as f:
            die(f"ghostscope never printed {READY} (rc={rc})\n"
                f"command: {shlex.join(argv)}\nstderr:\n{f.read()}")
    return elapsed, argv


def fmt_cmd(argv, pid_placeholder=True):
    a = list(argv)
    if pid_placeholder and "-p" in a:
        a[a.index("-p") + 1] = "PID"
    return shlex.join(a)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="runs per configuration (default 5)")
    ap.add_argument("--seconds", type=float, default=1.0,
                    help="length of each timed loop in seconds (default 1.0)")
    ap.add_argument("--ghostscope", default=os.environ.get(
        "GHOSTSCOPE", os.path.join(REPO, "target", "release", "ghostscope")),
        help="ghostscope binary (default: target/release/ghostscope, or $GHOSTSCOPE)")
    ap.add_argument("--ready-timeout", type=float, default=120,
                    help="seconds to wait for the ready marker (default 120)")
    ap.add_argument("--keep-output", action="store_true",
                    help="keep ghostscope's event output files in bench/out/")
    ap.add_argument("--cflags", default="-O2 -g",
                    help="compiler flags for the bench program (default '-O2 -g'); with -O0 the "
                         "probed first instruction is `push %%rbp`, which the kernel emulates")
    ap.add_argument("--pin", action="store_true",
                    help="pin the bench program to CPU 0 and ghostscope to the other CPUs")
    args = ap.parse_args()
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            die("--pin needs at least 2 CPUs")
        PIN["bench"] = {cpus[0]}
        PIN["gs"] = set(cpus[1:])

    if not os.access(args.ghostscope, os.X_OK):
        die(f"{args.ghostscope} not found; build it first: cargo build --release -p ghostscope")
    if os.geteuid() != 0:
        print("run: warning: not root; attaching uprobes will probably fail", file=sys.stderr)

    os.makedirs(OUT, exist_ok=True)
    cc = ["gcc", *shlex.split(args.cflags), "-Wall", "-o", PROG, SRC]
    subprocess.run(cc, check=True)

    notes = Notes()
    rows = []  # (label, values, unit, extra)
    cmds = [("build", shlex.join(cc)),
            ("no probe", shlex.join([PROG, "--seconds", str(args.seconds), "--wait"]))]
    n = args.runs

    def progress(msg):
        print(msg, file=sys.stderr, flush=True)

    # (a) no probe
    vals = []
    for i in range(n):
        p = start_bench(args)
        vals.append(float(finish_bench(p, go=True, timeout=args.seconds * 20 + 60)["ns_per_call"]))
        progress(f"  no probe        run {i + 1}/{n}: {vals[-1]:.2f} ns/call")
    rows.append(("no probe", vals, "ns/call", ""))

    # (b) empty probe, (c) print probe, (d) print vs bt at depth 16 on a 16-frame stack
    empty_script = EMPTY_SCRIPT
    for label, tag, script, nest, gs_extra in (
        ("empty probe", "empty", EMPTY_SCRIPT, 0, ()),
        ("print 3 ints + 64-byte string", "print", PRINT_SCRIPT, 0, ()),
        ("print, 16-frame stack", "print16", PRINT_SCRIPT, BT_NEST, ()),
        (f"bt (depth {BT_DEPTH}), 16-frame stack", "bt16", BT_SCRIPT, BT_NEST,
         ("--backtrace-depth", str(BT_DEPTH))),
    ):
        if tag == "empty":
            script = empty_script
        vals, evs, calls = [], [], []
        argv = None
        for i in range(n):
            r, info = run_probed(args, script, tag, i, notes, nest=nest, extra=gs_extra)
            if r is None and tag == "empty" and script == EMPTY_SCRIPT:
                rc, err, argv = info
                notes.add(f"empty trace body REJECTED (rc={rc}): {fmt_cmd(argv)}\n"
                          f"      stderr: {err}\n      falling back to: {EMPTY_FALLBACK}")
                script = empty_script = EMPTY_FALLBACK
                r, info = run_probed(args, script, tag, i, notes)
            if r is None:
                rc, err, argv = info
                die(f"ghostscope failed before ready (rc={rc})\n"
                    f"command: {shlex.join(argv)}\nstderr:\n{err}")
            argv = info
            v, c, e = r
            vals.append(v)
            calls.append(c)
            evs.append(e)
            progress(f"  {tag:<15} run {i + 1}/{n}: {v:.2f} ns/call, "
                     f"{c} calls, {e} events written")
        if tag == "empty" and script == EMPTY_SCRIPT:
            notes.add("empty trace body `trace bench_target { }` was accepted")
        extra = f"events/calls: {sum(evs)}/{sum(calls)}"
        if tag != "empty" and sum(evs) != sum(calls):
            notes.add(f"[{tag}] {sum(calls) - sum(evs)} of {sum(calls)} calls produced "
                      "no event on stdout (dropped somewhere)")
        if tag == "empty" and sum(evs) != 0:
            notes.add(f"[empty] unexpected: {sum(evs)} event lines written")
        rows.append((label, vals, "ns/call", extra))
        nested = f" (bench program: --nest {nest})" if nest else ""
        cmds.append((label, fmt_cmd(argv) + " >OUT 2>ERR" + nested))

    # launch -> ready marker
    vals = []
    argv = None
    for i in range(n):
        t, argv = run_launch(args, PRINT_SCRIPT, i)
        vals.append(t * 1000)
        progress(f"  launch->ready   run {i + 1}/{n}: {vals[-1]:.1f} ms")
    rows.append(("launch \u2192 ready marker", vals, "ms", ""))
    cmds.append(("launch \u2192 ready", fmt_cmd(argv) + " (stdout piped, time to READY line)"))

    base = statistics.median(rows[0][1])
    print()
    print(f"{'config':<31} {'median':>12} {'min':>10} {'max':>10}  runs  notes")
    for label, v, unit, extra in rows:
        med = statistics.median(v)
        note = extra
        if unit == "ns/call" and label != "no probe":
            note = f"+{med - base:.1f} ns over no probe; " + extra
        print(f"{label:<31} {med:>9.1f} {'ms' if unit == 'ms' else 'ns':<2} "
              f"{min(v):>10.1f} {max(v):>10.1f}  {len(v):>4}  {note}")
    print()
    print(f"Each ns/call run is a ~{args.seconds:g} s timed loop in {PROG}; "
          "PID is the waiting bench process.")
    print("Commands:")
    for label, c in cmds:
        print(f"  {label}: {c}")
    if notes.lines:
        print()
        print("Notes:")
        for line in notes.lines[:30]:
            print(f"  - {line}")
        if len(notes.lines) > 30:
            print(f"  ... {len(notes.lines) - 30} more (see bench/out/*.stderr)")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if inherited as ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        main()
    except KeyboardInterrupt as e:
        print(f"\nrun: interrupted ({str(e) or 'Ctrl+C'}), cleaning up", file=sys.stderr)
        sys.exit(130)
    finally:
        cleanup()
