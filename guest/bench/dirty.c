// dirty MIB RATE SECONDS [SLEEP_US]: a migration workload. Writes one word on each 4 KiB page of a
// MIB-MiB buffer, cycling through it at RATE MiB/s of pages dirtied, for SECONDS seconds; then checks
// that every page holds the last value written to it (memory that moved is memory that was kept).
// It also reports the largest gap between consecutive CLOCK_MONOTONIC readings: the guest's view of
// the longest time it was stopped (a live migration's downtime). SLEEP_US > 0 sleeps between
// readings instead of spinning (an idle guest).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: dirty MIB RATE_MIBPS SECONDS [SLEEP_US]\n"); return 2; }
    size_t pages = (size_t)atol(argv[1]) * 256;
    double rate = atof(argv[2]), secs = atof(argv[3]);
    long sleep_us = argc > 4 ? atol(argv[4]) : 0;
    uint64_t *buf = malloc(pages * 4096);
    if (!buf) { perror("malloc"); return 1; }
    for (size_t p = 0; p < pages; p++) buf[p * 512] = ~0ull;
    uint64_t k = 0, t0 = now_ns(), last = t0, maxgap = 0, next_report = t0 + 1000000000ull;
    for (;;) {
        uint64_t t = now_ns();
        uint64_t gap = t - last, slept = (uint64_t)sleep_us * 1000;
        gap = gap > slept ? gap - slept : 0;   // a requested sleep is not a gap
        if (gap > maxgap) maxgap = gap;
        last = t;
        if (t - t0 >= (uint64_t)(secs * 1e9)) break;
        uint64_t target = (uint64_t)((double)(t - t0) / 1e9 * rate * 256);
        for (int i = 0; i < 256 && k < target; i++, k++) buf[(k % pages) * 512] = k + 1;
        if (t >= next_report) {
            printf("DIRTY-PROGRESS %llu writes, max gap %llu us\n", (unsigned long long)k, (unsigned long long)(maxgap / 1000));
            fflush(stdout);
            next_report += 1000000000ull;
        }
        if (sleep_us > 0) {
            struct timespec d = {0, sleep_us * 1000};
            nanosleep(&d, NULL);
        }
    }
    size_t bad = 0;
    for (size_t p = 0; p < pages; p++) {
        uint64_t want = ~0ull;
        if (k > p) want = p + pages * ((k - 1 - p) / pages) + 1;
        if (buf[p * 512] != want) bad++;
    }
    printf("DIRTY-RESULT pages=%zu writes=%llu bad=%zu maxgap_us=%llu\n", pages, (unsigned long long)k, bad,
           (unsigned long long)(maxgap / 1000));
    fflush(stdout);
    return bad ? 1 : 0;
}
