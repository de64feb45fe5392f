#ifndef MATRYOSHKA_CSLIRP_SHIM_H
#define MATRYOSHKA_CSLIRP_SHIM_H
#include <slirp/libslirp.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

/* ppoll(2) with a nanosecond timeout; `fds` is a struct pollfd array (glibc only declares
   ppoll with _GNU_SOURCE, which Swift's Glibc module is not built with). */
static inline int matryoshka_ppoll(void *fds, unsigned long nfds, long long nanos) {
    struct timespec ts = { (time_t)(nanos / 1000000000LL), (long)(nanos % 1000000000LL) };
    return (int)syscall(SYS_ppoll, fds, nfds, &ts, (void *)0, (size_t)8);
}
#endif
