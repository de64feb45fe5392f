// Loops clang autovectorizes for RVV (built with -march=rv64gcv) and the same source built for
// RV64GC: both builds must print the same line. Integer and FP kernels over a few sizes, so vector
// bodies, tails and (with vl < VLMAX) strip-mining all run; the FP sums are reduced in a fixed order
// through integer bit patterns so that reassociation cannot change the printed value.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 4099
static uint8_t bytes[N];
static int32_t a[N], b[N], c[N];
static int16_t h[N];
static int64_t wide[N];
static double x[N], y[N];
static float fx[N], fy[N];

__attribute__((noinline)) static uint32_t byte_checksum(const uint8_t *p, int n) {
    uint32_t s = 0;
    for (int i = 0; i < n; i++) s += (uint32_t)p[i] * (uint32_t)(p[i] ^ 0x5a);
    return s;
}
__attribute__((noinline)) static void saxpy_int(int32_t *r, const int32_t *p, const int32_t *q, int32_t k, int n) {
    for (int i = 0; i < n; i++) r[i] = k * p[i] + (q[i] >> 3) - (p[i] < q[i] ? q[i] : p[i]);
}
__attribute__((noinline)) static int64_t widen_sum(const int16_t *p, int64_t *out, int n) {
    int64_t s = 0;
    for (int i = 0; i < n; i++) { out[i] = (int64_t)p[i] * p[i]; s += p[i]; }
    return s;
}
__attribute__((noinline)) static void daxpy(double *r, const double *p, double k, int n) {
    for (int i = 0; i < n; i++) r[i] = k * p[i] + r[i];
}
__attribute__((noinline)) static void fscale(float *r, const float *p, int n) {
    for (int i = 0; i < n; i++) r[i] = p[i] * 0.5f + (float)i / (p[i] + 3.0f);
}
__attribute__((noinline)) static int count_matches(const uint8_t *p, uint8_t v, int n) {
    int k = 0;
    for (int i = 0; i < n; i++) k += p[i] == v;
    return k;
}
__attribute__((noinline)) static void gather(int32_t *r, const int32_t *p, const int32_t *idx, int n) {
    for (int i = 0; i < n; i++) r[i] = p[idx[i]];
}
__attribute__((noinline)) static uint64_t fold_doubles(const double *p, int n) {
    uint64_t s = 0;
    for (int i = 0; i < n; i++) { uint64_t u; memcpy(&u, &p[i], 8); s = s * 31 + u; }
    return s;
}
__attribute__((noinline)) static uint64_t fold_floats(const float *p, int n) {
    uint64_t s = 0;
    for (int i = 0; i < n; i++) { uint32_t u; memcpy(&u, &p[i], 4); s = s * 31 + u; }
    return s;
}

int main(void) {
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        bytes[i] = (uint8_t)(seed >> 16);
        a[i] = (int32_t)seed >> 7;
        b[i] = (int32_t)(seed * 2654435761u) >> 9;
        h[i] = (int16_t)(seed >> 3);
        x[i] = (double)(int32_t)seed / 1024.0;
        fx[i] = (float)(seed >> 8) / 4096.0f;
    }
    uint64_t total = 0;
    const int sizes[] = {0, 1, 3, 17, 64, 255, 1000, N};
    for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int n = sizes[k];
        total = total * 1000003 + byte_checksum(bytes, n);
        saxpy_int(c, a, b, 7 + k, n);
        for (int i = 0; i < n; i++) total = total * 31 + (uint32_t)c[i];
        total = total * 1000003 + (uint64_t)widen_sum(h, wide, n);
        for (int i = 0; i < n; i++) total += (uint64_t)wide[i] * (i + 1);
        memcpy(y, x, sizeof y);
        daxpy(y, x, 1.5 + k, n);
        total = total * 1000003 + fold_doubles(y, n);
        fscale(fy, fx, n);
        total = total * 1000003 + fold_floats(fy, n);
        total = total * 1000003 + count_matches(bytes, (uint8_t)(k * 37), n);
        for (int i = 0; i < n; i++) b[i] = (int32_t)(((uint32_t)a[i] ^ (uint32_t)i) % (uint32_t)(n ? n : 1));
        gather(c, a, b, n);
        for (int i = 0; i < n; i++) total = total * 31 + (uint32_t)c[i];
    }
    printf("vector checksum=%016llx\n", (unsigned long long)total);
    return 0;
}
