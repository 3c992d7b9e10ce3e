// uprobe_cost: calls bench_target() in a tight loop and reports ns per call.
//
// Usage: uprobe_cost [--seconds S | --iters N] [--nest N] [--wait]
//   --seconds S  run the timed loop for about S seconds (default 1.0)
//   --iters N    run exactly N calls instead
//   --nest N     call bench_target through N nested frames (a deeper stack
//                for the backtrace rows; 0, the default, calls it directly)
//   --wait       print "WAITING <pid>" and block until a line arrives on
//                stdin before starting the timed loop (lets a tracer attach;
//                EOF on stdin exits without running the loop)
//
// Output (stdout, one line): "RESULT calls=<n> ns=<elapsed> ns_per_call=<x>"
//
// Build with: gcc -O2 -g -o uprobe_cost uprobe_cost.c
// (debug info is required for ghostscope to find the parameters).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 1000L

// noipa: no inlining, cloning (.constprop/.isra) or interprocedural register
// tricks, so the symbol and its DWARF parameters stay exactly as written.
__attribute__((noipa)) int bench_target(long a, long b, long c, const char *s) {
    return (int)(a + b + c) + s[0];
}

static volatile int sink;
static int nest;

// One frame per level: the barrier after each call keeps gcc from turning
// the recursion into a loop or a tail call.
__attribute__((noipa)) int nested(int depth, long a, long b, long c, const char *s) {
    int r = depth <= 0 ? bench_target(a, b, c, s) : nested(depth - 1, a, b, c, s);
    __asm__ volatile("" ::: "memory");
    return r + 1;
}

static inline int call(long i, const char *s) {
    return nest ? nested(nest - 1, i, i * 2, i ^ 0x55, s) : bench_target(i, i * 2, i ^ 0x55, s);
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    double seconds = 1.0;
    long iters = 0;
    int wait_for_go = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
            iters = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--nest") && i + 1 < argc) {
            nest = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--wait")) {
            wait_for_go = 1;
        } else {
            fprintf(stderr, "usage: %s [--seconds S | --iters N] [--nest N] [--wait]\n", argv[0]);
            return 2;
        }
    }

    // A 79-character string built at run time, so its page is faulted in.
    static char str[128];
    for (int i = 0; i < 79; i++) str[i] = 'A' + (i % 26);
    str[79] = '\0';

    // Warm-up (unprobed): faults in the code page of bench_target.
    int acc = 0;
    for (long i = 0; i < 1000; i++) acc += call(i, str);
    sink = acc;

    if (wait_for_go) {
        printf("WAITING %d\n", (int)getpid());
        fflush(stdout);
        char line[64];
        if (!fgets(line, sizeof line, stdin)) return 0;
    }

    long calls = 0;
    long long start = now_ns(), end;
    if (iters > 0) {
        for (long i = 0; i < iters; i++) acc += call(i, str);
        calls = iters;
        end = now_ns();
    } else {
        long long deadline = start + (long long)(seconds * 1e9);
        do {
            for (long i = calls; i < calls + CHUNK; i++)
                acc += call(i, str);
            calls += CHUNK;
            end = now_ns();
        } while (end < deadline);
    }
    sink = acc;

    long long elapsed = end - start;
    printf("RESULT calls=%ld ns=%lld ns_per_call=%.3f\n", calls, elapsed,
           (double)elapsed / (double)calls);
    fflush(stdout);
    return 0;
}
