/* Bit-manipulation workload for the --cpu tests: compiled once for RV64GC and once with
 * -march=rv64gc_zba_zbb_zbs (GCC then emits clz/ctz/cpop/rol/ror/rev8/andn/sh*add/bset...),
 * both builds must print the same checksum. */
#include <stdint.h>
#include <stdio.h>

static uint64_t rotl(uint64_t x, unsigned r) { return (x << (r & 63)) | (x >> ((64 - r) & 63)); }

int main(void) {
    uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;
    uint32_t table[256];
    for (int i = 0; i < 256; i++) table[i] = (uint32_t)(x >> (i & 31)) * 2654435761u;
    for (int i = 0; i < 2000000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint64_t y = x | 1;
        sum += (uint64_t)__builtin_popcountll(x) + (uint64_t)__builtin_clzll(y) + (uint64_t)__builtin_ctzll(y);
        sum ^= rotl(x, i) & ~sum;
        sum += __builtin_bswap64(x) >> 7;
        sum += table[(x >> 3) & 255];
        sum |= 1ull << (x & 63);
        sum = (sum > x) ? sum - x : sum + (uint32_t)x;
    }
    printf("bitmanip checksum=%016llx\n", (unsigned long long)sum);
    return 0;
}
