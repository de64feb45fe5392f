// SMP torture test for the guest's memory model and atomics (RVWMO, unprivileged spec ch. 17 and
// appendix A): counters updated with AMOs, with an LR/SC spinlock and with a futex-based pthread mutex
// must come out exact, the classic litmus tests (message passing, store buffering, load buffering)
// must never show an outcome RVWMO forbids (outcomes RVWMO allows are counted and printed), and code
// one CPU writes must run on another after the writer's icache flush (riscv_flush_icache: a remote
// FENCE.I on every CPU) and the reader's own FENCE.I.
//
// Usage: smp-torture [THREADS [COUNT [TRIALS]]]   (defaults: the CPU count, 250000, 100000)
// Prints one line per test and "smp-torture: PASS" or "smp-torture: FAIL"; exit status 0 on PASS.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int threads;
static long count, trials;
static int failed;

// PAUSE (Zihintpause) by its encoding: a FENCE hint that old assemblers do not know by name.
static inline void pause_hint(void) { __asm__ volatile(".insn i 0x0f, 0, x0, x0, 0x010" ::: "memory"); }
static inline void fence_rw_rw(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }
static inline void fence_w_w(void) { __asm__ volatile("fence w, w" ::: "memory"); }
static inline void fence_r_r(void) { __asm__ volatile("fence r, r" ::: "memory"); }
static inline void fence_r_w(void) { __asm__ volatile("fence r, w" ::: "memory"); }
static inline long load(volatile long *p) { return *p; }
static inline void store(volatile long *p, long v) { *p = v; }

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
    sched_setaffinity(0, sizeof set, &set);
}

static void check(const char *name, long got, long want) {
    int ok = got == want;
    printf("%s: %s (%ld, expected %ld)\n", name, ok ? "ok" : "WRONG", got, want);
    if (!ok) failed = 1;
}

// 1. AMOs: amoadd.d from every thread.
static _Atomic long amo_counter;
static void *amo_worker(void *arg) {
    pin((int)(intptr_t)arg);
    for (long i = 0; i < count; i++) atomic_fetch_add_explicit(&amo_counter, 1, memory_order_relaxed);
    return NULL;
}

// 2. An LR/SC spinlock (lr.w.aq / sc.w.rl, as Linux's arch_spin_lock did) around a plain increment.
static volatile int lrsc_lock;
static volatile long lrsc_counter;
static void lrsc_acquire(volatile int *lock) {
    int busy, tmp;
    do {
        __asm__ volatile(
            "1: lr.w.aq %0, (%2)\n"
            "   bnez %0, 2f\n"
            "   li %1, 1\n"
            "   sc.w.rl %1, %1, (%2)\n"
            "   bnez %1, 1b\n"
            "2:\n"
            : "=&r"(busy), "=&r"(tmp)
            : "r"(lock)
            : "memory");
        if (busy) while (*lock) pause_hint();
    } while (busy);
}
static void lrsc_release(volatile int *lock) { __asm__ volatile("amoswap.w.rl zero, zero, (%0)" ::"r"(lock) : "memory"); }
static void *lrsc_worker(void *arg) {
    pin((int)(intptr_t)arg);
    for (long i = 0; i < count; i++) {
        lrsc_acquire(&lrsc_lock);
        lrsc_counter = lrsc_counter + 1;
        lrsc_release(&lrsc_lock);
    }
    return NULL;
}

// 3. A pthread mutex (glibc: atomics, futex_wait/futex_wake under contention).
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static long mutex_counter;
static void *mutex_worker(void *arg) {
    pin((int)(intptr_t)arg);
    for (long i = 0; i < count / 4; i++) {
        pthread_mutex_lock(&mutex);
        mutex_counter++;
        pthread_mutex_unlock(&mutex);
    }
    return NULL;
}

static void run_workers(void *(*fn)(void *)) {
    pthread_t t[64];
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
}

// Litmus tests: two threads on two CPUs meet at a barrier before every trial; each trial starts from
// x = y = 0 and records the registers. The variables sit on separate cache lines.
static struct { _Alignas(64) volatile long x; _Alignas(64) volatile long y; _Alignas(64) atomic_long arrived; } shared;
static long results[2][1 << 17];
enum { MP, MP_FENCED, SB, SB_FENCED, LB, LB_FENCED, KINDS };
static const char *kind_name[] = {"mp", "mp+fences", "sb", "sb+fences", "lb", "lb+fences"};
static int kind;

static void barrier(long round, int me) {
    // A sense-less barrier for two: each round adds 2 arrivals.
    atomic_fetch_add(&shared.arrived, 1);
    while (atomic_load(&shared.arrived) < 2 * (round + 1)) pause_hint();
    (void)me;
}

static void *litmus_worker(void *arg) {
    int me = (int)(intptr_t)arg;
    pin(me);
    for (long t = 0; t < trials; t++) {
        if (me == 0) { shared.x = 0; shared.y = 0; }
        barrier(2 * t, me);
        long r = 0;
        switch (kind) {
        case MP:        if (me == 0) { store(&shared.x, 1); store(&shared.y, 1); } else { r = load(&shared.y) << 1; r |= load(&shared.x); } break;
        case MP_FENCED: if (me == 0) { store(&shared.x, 1); fence_w_w(); store(&shared.y, 1); } else { r = load(&shared.y) << 1; fence_r_r(); r |= load(&shared.x); } break;
        case SB:        if (me == 0) { store(&shared.x, 1); r = load(&shared.y); } else { store(&shared.y, 1); r = load(&shared.x); } break;
        case SB_FENCED: if (me == 0) { store(&shared.x, 1); fence_rw_rw(); r = load(&shared.y); } else { store(&shared.y, 1); fence_rw_rw(); r = load(&shared.x); } break;
        case LB:        if (me == 0) { r = load(&shared.x); store(&shared.y, 1); } else { r = load(&shared.y); store(&shared.x, 1); } break;
        case LB_FENCED: if (me == 0) { r = load(&shared.x); fence_r_w(); store(&shared.y, 1); } else { r = load(&shared.y); fence_r_w(); store(&shared.x, 1); } break;
        }
        results[me][t] = r;
        barrier(2 * t + 1, me);
    }
    return NULL;
}

// Counts outcomes and checks the forbidden one (RVWMO, appendix A "litmus tests").
static void litmus(int k) {
    kind = k;
    atomic_store(&shared.arrived, 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, litmus_worker, (void *)(intptr_t)i);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    long outcome[4] = {0}, forbidden = 0;
    for (long i = 0; i < trials; i++) {
        long a = results[0][i], b = results[1][i];
        if (k == MP || k == MP_FENCED) {
            // Reader's (flag, data): (1, 0) means the flag was seen before the data.
            outcome[b & 3]++;
            if (k == MP_FENCED && b == 2) forbidden++;
        } else {
            outcome[(a & 1) << 1 | (b & 1)]++;
            if (k == SB_FENCED && a == 0 && b == 0) forbidden++;   // both loads missed both stores
            if (k == LB_FENCED && a == 1 && b == 1) forbidden++;   // both loads saw the later stores
        }
    }
    int has_forbidden = k == MP_FENCED || k == SB_FENCED || k == LB_FENCED;
    printf("%s: outcomes 00=%ld 01=%ld 10=%ld 11=%ld; %s\n", kind_name[k], outcome[0], outcome[1], outcome[2], outcome[3],
           has_forbidden ? (forbidden ? "FORBIDDEN outcome seen" : "no forbidden outcome") : "all outcomes allowed");
    if (forbidden) failed = 1;
}

// Self-modifying code across CPUs: the writer (CPU 0) rewrites `li a0, N; ret` for each round and
// flushes the icache of all CPUs; the reader (CPU 1) then calls it and must get N.
static uint32_t *smc_code;
static atomic_long smc_written, smc_seen;
static long smc_rounds, smc_wrong;
static void *smc_writer(void *arg) {
    (void)arg;
    pin(0);
    for (long r = 1; r <= smc_rounds; r++) {
        smc_code[0] = 0x00000513u | (uint32_t)(r & 0x7ff) << 20;   // addi a0, x0, r
        smc_code[1] = 0x00008067u;                                 // jalr x0, 0(ra)
        __builtin___clear_cache((char *)smc_code, (char *)(smc_code + 2));
        atomic_store(&smc_written, r);
        while (atomic_load(&smc_seen) < r) pause_hint();
    }
    return NULL;
}
static void *smc_reader(void *arg) {
    (void)arg;
    pin(1);
    for (long r = 1; r <= smc_rounds; r++) {
        while (atomic_load(&smc_written) < r) pause_hint();
        __asm__ volatile("fence.i" ::: "memory");
        long got = ((long (*)(void))smc_code)();
        if (got != (r & 0x7ff)) smc_wrong++;
        atomic_store(&smc_seen, r);
    }
    return NULL;
}
static void smc(long rounds) {
    smc_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (smc_code == MAP_FAILED) { printf("self-modifying code: WRONG (mmap failed)\n"); failed = 1; return; }
    smc_rounds = rounds;
    pthread_t w, r;
    pthread_create(&r, NULL, smc_reader, NULL);
    pthread_create(&w, NULL, smc_writer, NULL);
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    printf("self-modifying code across CPUs: %s (%ld of %ld calls ran stale code)\n", smc_wrong ? "WRONG" : "ok", smc_wrong, rounds);
    if (smc_wrong) failed = 1;
}

int main(int argc, char **argv) {
    threads = argc > 1 ? atoi(argv[1]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    count = argc > 2 ? atol(argv[2]) : 250000;
    trials = argc > 3 ? atol(argv[3]) : 100000;
    if (threads < 1 || threads > 64 || count < 1 || trials < 1 || trials > (1 << 17)) {
        fprintf(stderr, "usage: smp-torture [THREADS (1-64) [COUNT [TRIALS (<= 131072)]]]\n");
        return 2;
    }
    printf("smp-torture: %d threads on %ld CPUs, %ld per thread, %ld litmus trials\n", threads,
           sysconf(_SC_NPROCESSORS_ONLN), count, trials);
    run_workers(amo_worker);
    check("amo counter", amo_counter, threads * count);
    run_workers(lrsc_worker);
    check("lr/sc spinlock counter", lrsc_counter, threads * count);
    run_workers(mutex_worker);
    check("futex mutex counter", mutex_counter, threads * (count / 4));
    for (int k = 0; k < KINDS; k++) litmus(k);
    smc(trials / 10 > 0 ? trials / 10 : 1);
    printf("smp-torture: %s\n", failed ? "FAIL" : "PASS");
    return failed;
}
