/*
 * CPU-bound guest benchmark for Matryoshka: integer work only (a prime sieve, a
 * 64-bit hash chain and a small integer matrix product), repeated ROUNDS times.
 * Prints one checksum line so a run can be checked as well as timed.
 *
 *   riscv64-linux-gnu-gcc -O2 -static -o bench-cpu guest/bench/cpu.c
 *   bench-cpu [ROUNDS]      (default 8)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIEVE_LIMIT 2000000u
#define HASH_STEPS 4000000u
#define MATRIX_N 96

static uint8_t composite[SIEVE_LIMIT + 1];
static uint32_t ma[MATRIX_N][MATRIX_N], mb[MATRIX_N][MATRIX_N], mc[MATRIX_N][MATRIX_N];

static uint64_t sieve(void) {
    memset(composite, 0, sizeof composite);
    uint64_t count = 0, sum = 0;
    for (uint32_t i = 2; i <= SIEVE_LIMIT; i++) {
        if (composite[i]) continue;
        count++;
        sum += i;
        for (uint64_t j = (uint64_t)i * i; j <= SIEVE_LIMIT; j += i) composite[j] = 1;
    }
    return count * 1000003u + sum;
}

static uint64_t hash_chain(uint64_t seed) {
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < HASH_STEPS; i++) {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        h += i;
        h = (h << 7) | (h >> 57);
    }
    return h;
}

static uint64_t matrix(uint32_t seed) {
    uint32_t x = seed | 1;
    for (int i = 0; i < MATRIX_N; i++)
        for (int j = 0; j < MATRIX_N; j++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            ma[i][j] = x & 0xffff;
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            mb[i][j] = x & 0xffff;
        }
    for (int i = 0; i < MATRIX_N; i++)
        for (int j = 0; j < MATRIX_N; j++) {
            uint32_t acc = 0;
            for (int k = 0; k < MATRIX_N; k++) acc += ma[i][k] * mb[k][j];
            mc[i][j] = acc;
        }
    uint64_t s = 0;
    for (int i = 0; i < MATRIX_N; i++)
        for (int j = 0; j < MATRIX_N; j++) s = s * 31 + mc[i][j];
    return s;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 8;
    if (rounds < 1) rounds = 1;
    uint64_t check = 0;
    for (int r = 0; r < rounds; r++) {
        check = check * 6364136223846793005ull + sieve();
        check ^= hash_chain(check + (uint64_t)r);
        check += matrix((uint32_t)(check >> 11) + (uint32_t)r);
    }
    printf("bench-cpu rounds=%d checksum=%016llx\n", rounds, (unsigned long long)check);
    return 0;
}
