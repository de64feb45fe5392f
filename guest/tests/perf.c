// Hardware performance counters through Linux's perf_event_open (what `perf stat` and `perf record`
// use): counts retired instructions and cycles of a known loop, counts user-mode instructions only
// (mode filtering), and takes overflow signals at a sampling period (Sscofpmf's overflow interrupt).
// Prints one line: "PERF instructions=... cycles=... user=... all=... overflows=...", or an error.
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int overflows;
static void on_overflow(int sig) { (void)sig; overflows++; }

static int open_counter(uint64_t config, int exclude_kernel, uint64_t period) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_HARDWARE;
    a.config = config;
    a.disabled = 1;
    a.exclude_kernel = exclude_kernel;
    a.exclude_hv = 1;
    if (period) { a.sample_period = period; a.wakeup_events = 1; }
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

__attribute__((noinline)) static uint64_t spin(uint64_t n) {
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++) { s += i ^ (s >> 3); __asm__ volatile("" : "+r"(s)); }
    return s;
}

static long long measure(int fd, void (*work)(void)) {
    long long v = -1;
    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    work();
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    if (read(fd, &v, sizeof v) != sizeof v) return -1;
    return v;
}
static void loop_work(void) { spin(10000000); }
static void syscall_work(void) { for (int i = 0; i < 20000; i++) getppid(); }

int main(void) {
    int ins = open_counter(PERF_COUNT_HW_INSTRUCTIONS, 0, 0), cyc = open_counter(PERF_COUNT_HW_CPU_CYCLES, 0, 0);
    int user = open_counter(PERF_COUNT_HW_INSTRUCTIONS, 1, 0);
    if (ins < 0 || cyc < 0 || user < 0) { printf("PERF error: perf_event_open failed (%d %d %d)\n", ins, cyc, user); return 1; }
    long long instructions = measure(ins, loop_work), cycles = measure(cyc, loop_work);
    long long user_only = measure(user, syscall_work), all = measure(ins, syscall_work);

    int sampler = open_counter(PERF_COUNT_HW_INSTRUCTIONS, 0, 1000000);
    if (sampler < 0) { printf("PERF error: sampling perf_event_open failed\n"); return 1; }
    signal(SIGIO, on_overflow);
    fcntl(sampler, F_SETOWN, getpid());
    fcntl(sampler, F_SETFL, fcntl(sampler, F_GETFL) | O_ASYNC);
    measure(sampler, loop_work);
    printf("PERF instructions=%lld cycles=%lld user=%lld all=%lld overflows=%d\n", instructions, cycles, user_only, all, overflows);
    return 0;
}
