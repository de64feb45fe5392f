/*
 * Disk benchmark run inside a guest on a raw block device (e.g. /dev/vda): sequential write, sequential
 * read (1 MiB requests) and 4 KiB random reads, all with O_DIRECT so the guest page cache is bypassed.
 * Times come from the guest's CLOCK_MONOTONIC, which follows host time under both emulators.
 *
 *   riscv64-linux-gnu-gcc -O2 -static -o bench-disk guest/bench/disk.c
 *   bench-disk DEVICE MIB RANDOM_SECONDS
 * Prints: "bench-disk seq-write-MBps=… seq-read-MBps=… rand-read-iops=…"
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s DEVICE MIB RANDOM_SECONDS\n", argv[0]); return 2; }
    const char *dev = argv[1];
    long mib = atol(argv[2]);
    double rsec = atof(argv[3]);
    const size_t chunk = 1 << 20;
    void *buf;
    if (posix_memalign(&buf, 4096, chunk)) die("posix_memalign");
    memset(buf, 0xa5, chunk);

    int fd = open(dev, O_RDWR | O_DIRECT);
    if (fd < 0) die(dev);

    double t0 = now();
    for (long i = 0; i < mib; i++)
        if (pwrite(fd, buf, chunk, (off_t)i * chunk) != (ssize_t)chunk) die("pwrite");
    if (fsync(fd)) die("fsync");
    double write_s = now() - t0;

    t0 = now();
    for (long i = 0; i < mib; i++)
        if (pread(fd, buf, chunk, (off_t)i * chunk) != (ssize_t)chunk) die("pread");
    double read_s = now() - t0;

    uint64_t x = 0x9e3779b97f4a7c15ull, ops = 0;
    long blocks = mib * 256;
    t0 = now();
    double end = t0 + rsec;
    while (now() < end) {
        for (int k = 0; k < 64; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            if (pread(fd, buf, 4096, (off_t)(x % (uint64_t)blocks) * 4096) != 4096) die("random pread");
            ops++;
        }
    }
    double rand_s = now() - t0;
    close(fd);
    printf("bench-disk seq-write-MBps=%.1f seq-read-MBps=%.1f rand-read-iops=%.0f\n",
           mib / write_s, mib / read_s, ops / rand_s);
    return 0;
}
