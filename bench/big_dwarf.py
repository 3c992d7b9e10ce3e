#!/usr/bin/env python3
"""Startup on a big binary: generates a C program with >= 100 MB of
.debug_info (many CUs, many types and functions), builds it once into a
cache directory outside the repository, and reports launch -> ready marker
time and peak RSS of ghostscope for a function probe and a file:line probe,
next to `gdb -batch -ex 'info line FILE:LINE'` on the same binary.

Run as root after `cargo build --release -p ghostscope`:
    bench/big_dwarf.py [--cus 650] [--runs 3] [--cache /var/tmp/ghostscope-big-dwarf]
"""
import argparse, os, re, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ["int", "long", "short", "char", "double", "unsigned int", "float", "void *"]


def unit_source(cu, structs, members, funcs):
    out = ["#include <stddef.h>"]
    for s in range(structs):
        out.append(f"struct cu{cu}_s{s} {{")
        for m in range(members):
            out.append(f"    {TYPES[(s + m) % len(TYPES)]} field_{m};")
        out.append("};")
    for f in range(funcs):
        s = f % structs
        out.append(f"long cu{cu}_f{f}(struct cu{cu}_s{s} *p, long k)")
        out.append("{")
        out.append(f"    long acc = k + (long)p->field_0;")
        out.append(f"    for (int i = 0; i < 3; i++)")
        out.append(f"        acc += i * k;")
        out.append(f"    return acc;")
        out.append("}")
    return "\n".join(out) + "\n"


def build(cache, cus):
    exe = os.path.join(cache, "bigdwarf")
    stamp = os.path.join(cache, f"built-{cus}")
    if os.path.exists(stamp) and os.path.exists(exe):
        return exe
    os.makedirs(cache, exist_ok=True)
    objs = []
    for cu in range(cus):
        src = os.path.join(cache, f"unit{cu}.c")
        with open(src, "w") as f:
            f.write(unit_source(cu, structs=300, members=40, funcs=40))
        objs.append(src[:-2] + ".o")
    with open(os.path.join(cache, "main.c"), "w") as f:
        f.write("#include <stdio.h>\n#include <unistd.h>\n")
        f.write("struct cu0_s0;\nlong cu0_f0(struct cu0_s0 *p, long k);\n")
        f.write("int main(void)\n{\n    static char buf[4096];\n")
        f.write("    for (;;) {\n        printf(\"%ld\\n\", cu0_f0((void *)buf, 1));\n")
        f.write("        fflush(stdout);\n        sleep(1);\n    }\n}\n")
    objs.append(os.path.join(cache, "main.o"))
    rules = ["CFLAGS=-g -O0 -fno-eliminate-unused-debug-types", f"all: bigdwarf",
             f"bigdwarf: {' '.join(os.path.basename(o) for o in objs)}",
             "\tgcc -o $@ $^", "%.o: %.c", "\tgcc $(CFLAGS) -c $< -o $@"]
    with open(os.path.join(cache, "Makefile"), "w") as f:
        f.write("\n".join(rules) + "\n")
    subprocess.run(["make", "-s", "-C", cache, f"-j{os.cpu_count()}"], check=True)
    open(stamp, "w").close()
    return exe


def section_size(exe, name):
    out = subprocess.run(["readelf", "-SW", exe], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.search(r"\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and m.group(1) == name:
            return int(m.group(2), 16)
    return 0


def timed(cmd, marker=None):
    """Wall seconds to the marker line (or exit) and peak RSS in MiB."""
    start = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = None
    for line in p.stdout:
        if marker and marker in line:
            ready = time.monotonic() - start
            break
    if ready is not None:
        # Stop ghostscope (not /usr/bin/time) so time still reports.
        subprocess.run(["pkill", "-INT", "-P", str(p.pid)])
    p.stdout.read()
    err = p.stderr.read()
    p.wait()
    if ready is None:
        ready = time.monotonic() - start
    rss = [int(x) for x in re.findall(r"MAXRSS (\d+)", err)]
    return ready, (rss[-1] / 1024 if rss else float("nan")), err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cus", type=int, default=650)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", default="/var/tmp/ghostscope-big-dwarf")
    ap.add_argument("--ghostscope", default=os.path.join(HERE, "..", "target", "release", "ghostscope"))
    a = ap.parse_args()
    exe = build(a.cache, a.cus)
    info = section_size(exe, ".debug_info")
    print(f"binary {exe}: .debug_info {info / 2**20:.1f} MiB, {a.cus + 1} CUs")
    mid = a.cus // 2
    line_file = f"unit{mid}.c"
    src = open(os.path.join(a.cache, line_file)).read().splitlines()
    line_no = next(i + 1 for i, l in enumerate(src) if "acc += i * k;" in l)
    gs = os.path.abspath(a.ghostscope)
    cases = [
        (f"ghostscope function probe cu{mid}_f3",
         [gs, "-t", exe, "--emit-ready-marker", "READY", "-s", f"trace cu{mid}_f3 {{ print k; }}"], "READY"),
        (f"ghostscope line probe {line_file}:{line_no}",
         [gs, "-t", exe, "--emit-ready-marker", "READY", "-s", f"trace {line_file}:{line_no} {{ print acc; }}"], "READY"),
        (f"gdb -batch info line {line_file}:{line_no}",
         ["gdb", "-nx", "-batch", "-ex", f"info line {line_file}:{line_no}", exe], None),
    ]
    print(f"{'case':60} {'median s':>9} {'min s':>7} {'peak RSS MiB':>13}")
    for name, cmd, marker in cases:
        times, rss = [], []
        for _ in range(a.runs):
            t, r, err = timed(cmd, marker)
            times.append(t)
            rss.append(r)
        print(f"{name:60} {statistics.median(times):9.3f} {min(times):7.3f} {statistics.median(rss):13.1f}")
        print("    " + " ".join(cmd[:1] + [repr(x) if ' ' in x else x for x in cmd[1:]]))
    print(f"(2x .debug_info = {2 * info / 2**20:.1f} MiB)")


if __name__ == "__main__":
    sys.exit(main())
