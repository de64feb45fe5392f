/*
 * Reads the time from user mode through the vDSO (clock_gettime) and directly (rdtime).
 * Prints "usertime=ok" when both work and advance. Firmware must enable the time counter in
 * mcounteren/scounteren, as OpenSBI does. (Linux >= 6.6 keeps rdcycle/rdinstret for perf only.)
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

int main(void) {
    struct timespec a, b;
    uint64_t t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    __asm__ volatile("rdtime %0" : "=r"(t0));
    volatile uint64_t x = 0;
    for (int k = 0; k < 200000; k++) x += k;
    __asm__ volatile("rdtime %0" : "=r"(t1));
    clock_gettime(CLOCK_MONOTONIC, &b);
    int64_t ns = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
    int ok = ns > 0 && t1 > t0;
    printf("usertime=%s ns=%lld ticks=%llu\n", ok ? "ok" : "BAD", (long long)ns, (unsigned long long)(t1 - t0));
    return ok ? 0 : 1;
}
