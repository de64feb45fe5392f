// Vector benchmark kernels (scripts/bench-vector.py): built twice with clang -O3, for rv64gc (scalar)
// and rv64gcv (clang's autovectorizer), and timed by the guest's clock. Prints one line per kernel,
// "KERNEL name ms=<milliseconds> result=<hex>", so the two builds' results can be compared too.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BYTES (1 << 20)
#define WORDS (1 << 16)
static uint8_t data[BYTES];
static int32_t va[WORDS], vb[WORDS];
static double da[WORDS], db[WORDS];

__attribute__((noinline)) static uint32_t byte_checksum(const uint8_t *p, int n) {
    uint32_t s = 0;
    for (int i = 0; i < n; i++) s += (uint32_t)p[i] * (uint32_t)(p[i] ^ 0x5a);
    return s;
}
__attribute__((noinline)) static int64_t dot_int(const int32_t *a, const int32_t *b, int n) {
    int64_t s = 0;
    for (int i = 0; i < n; i++) s += (int64_t)a[i] * b[i];
    return s;
}
__attribute__((noinline)) static void daxpy(double *y, const double *x, double k, int n) {
    for (int i = 0; i < n; i++) y[i] = k * x[i] + y[i];
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    uint32_t seed = 1;
    for (int i = 0; i < BYTES; i++) { seed = seed * 1103515245u + 12345u; data[i] = (uint8_t)(seed >> 16); }
    for (int i = 0; i < WORDS; i++) { va[i] = (int32_t)(seed = seed * 69069u + 1) >> 8; vb[i] = (int32_t)(seed * 7) >> 9; da[i] = i * 0.25; db[i] = 1.0 / (i + 1); }

    double t0 = now_ms();
    uint32_t c = 0;
    for (int r = 0; r < rounds; r++) c += byte_checksum(data, BYTES - r);
    printf("KERNEL byte-checksum ms=%.1f result=%08x\n", now_ms() - t0, c);

    t0 = now_ms();
    int64_t d = 0;
    for (int r = 0; r < rounds * 16; r++) d += dot_int(va, vb, WORDS - r);
    printf("KERNEL int-dot ms=%.1f result=%016llx\n", now_ms() - t0, (unsigned long long)d);

    t0 = now_ms();
    for (int r = 0; r < rounds * 8; r++) daxpy(db, da, 1.0 / (r + 2), WORDS);
    uint64_t h = 0;
    for (int i = 0; i < WORDS; i++) { union { double f; uint64_t u; } x = { db[i] }; h = h * 31 + x.u; }
    printf("KERNEL daxpy ms=%.1f result=%016llx\n", now_ms() - t0, (unsigned long long)h);
    return 0;
}
