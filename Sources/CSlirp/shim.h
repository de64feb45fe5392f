#ifndef MATRYOSHKA_CSLIRP_SHIM_H
#define MATRYOSHKA_CSLIRP_SHIM_H
/* libslirp is loaded with dlopen("libslirp.so.0") when --net user is used, so building Matryoshka
   needs no -dev package. These are the parts of libslirp 4.x's ABI that Matryoshka calls; the
   config is passed as version 1 (fields up to enable_emu), which every 4.x release accepts. */
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <dlfcn.h>
#include <sys/syscall.h>

typedef struct Slirp Slirp;

typedef ssize_t (*SlirpReadCb)(void *buf, size_t len, void *opaque);
typedef ssize_t (*SlirpWriteCb)(const void *buf, size_t len, void *opaque);
typedef void (*SlirpTimerCb)(void *opaque);
typedef int (*SlirpAddPollCb)(int fd, int events, void *opaque);
typedef int (*SlirpGetREventsCb)(int idx, void *opaque);

enum {
    SLIRP_POLL_IN = 1 << 0,
    SLIRP_POLL_OUT = 1 << 1,
    SLIRP_POLL_PRI = 1 << 2,
    SLIRP_POLL_ERR = 1 << 3,
    SLIRP_POLL_HUP = 1 << 4,
};

/* The callback table, in libslirp's order (version 1-3 members only; libslirp reads no more
   unless the config's version asks for them). */
typedef struct SlirpCb {
    SlirpWriteCb send_packet;
    void (*guest_error)(const char *msg, void *opaque);
    int64_t (*clock_get_ns)(void *opaque);
    void *(*timer_new)(SlirpTimerCb cb, void *cb_opaque, void *opaque);
    void (*timer_free)(void *timer, void *opaque);
    void (*timer_mod)(void *timer, int64_t expire_time, void *opaque);
    void (*register_poll_fd)(int fd, void *opaque);
    void (*unregister_poll_fd)(int fd, void *opaque);
    void (*notify)(void *opaque);
} SlirpCb;

/* SlirpConfig, version 1 layout. */
typedef struct SlirpConfig {
    uint32_t version;
    int restricted;
    bool in_enabled;
    struct in_addr vnetwork;
    struct in_addr vnetmask;
    struct in_addr vhost;
    bool in6_enabled;
    struct in6_addr vprefix_addr6;
    uint8_t vprefix_len;
    struct in6_addr vhost6;
    const char *vhostname;
    const char *tftp_server_name;
    const char *tftp_path;
    const char *bootfile;
    struct in_addr vdhcp_start;
    struct in_addr vnameserver;
    struct in6_addr vnameserver6;
    const char **vdnssearch;
    const char *vdomainname;
    size_t if_mtu;
    size_t if_mru;
    bool disable_host_loopback;
    bool enable_emu;
} SlirpConfig;

typedef Slirp *(*slirp_new_fn)(const SlirpConfig *cfg, const SlirpCb *callbacks, void *opaque);
typedef void (*slirp_cleanup_fn)(Slirp *slirp);
typedef void (*slirp_pollfds_fill_fn)(Slirp *slirp, uint32_t *timeout, SlirpAddPollCb add_poll, void *opaque);
typedef void (*slirp_pollfds_poll_fn)(Slirp *slirp, int select_error, SlirpGetREventsCb get_revents, void *opaque);
typedef void (*slirp_input_fn)(Slirp *slirp, const uint8_t *pkt, int pkt_len);
typedef int (*slirp_add_hostfwd_fn)(Slirp *slirp, int is_udp, struct in_addr host_addr, int host_port,
                                    struct in_addr guest_addr, int guest_port);
typedef int (*slirp_remove_hostfwd_fn)(Slirp *slirp, int is_udp, struct in_addr host_addr, int host_port);
typedef int (*slirp_state_save_fn)(Slirp *s, SlirpWriteCb write_cb, void *opaque);
typedef int (*slirp_state_load_fn)(Slirp *s, int version_id, SlirpReadCb read_cb, void *opaque);
typedef int (*slirp_state_version_fn)(void);

/* ppoll(2) with a nanosecond timeout; `fds` is a struct pollfd array (glibc only declares
   ppoll with _GNU_SOURCE, which Swift's Glibc module is not built with). */
static inline int matryoshka_ppoll(void *fds, unsigned long nfds, long long nanos) {
    struct timespec ts = { (time_t)(nanos / 1000000000LL), (long)(nanos % 1000000000LL) };
    return (int)syscall(SYS_ppoll, fds, nfds, &ts, (void *)0, (size_t)8);
}
#endif
