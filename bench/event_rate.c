/* Calls hot() N times (argv[1]), at most R calls a second when argv[2] is
 * given and not 0, then prints how many calls it made. The string is 64
 * bytes; the values are 3 integers. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
volatile long sink;
char text[65] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
__attribute__((noinline)) long hot(long a, long b, long c, const char *s) { return a + b + c + s[0]; }
static long now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000L + t.tv_nsec; }
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long rate = argc > 2 ? atol(argv[2]) : 0;
    /* Wait for the tracer: it says so by creating the file argv[3]. */
    if (argc > 3) while (access(argv[3], F_OK) != 0) usleep(10000);
    long start = now_ns(), calls = 0;
    for (long i = 0; i < n; i++) {
        if (rate > 0 && (i & 63) == 0) {
            long due = start + (long)((double)i * 1e9 / rate);
            while (now_ns() < due) {}
        }
        sink = hot(i, 2 * i, 3 * i, text);
        calls++;
    }
    long ns = now_ns() - start;
    printf("calls %ld ns %ld\n", calls, ns);
    fflush(stdout);
    return 0;
}
