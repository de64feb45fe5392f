// Host atomic read-modify-writes on guest RAM (plain host pointers into the RAM mapping): what the
// guest's AMOs, LR/SC and page-table A/D updates need when several host threads share the RAM.
// Sequentially consistent: on x86-64 these are LOCK-prefixed instructions, full barriers, which is at
// least what RVWMO asks of an AMO with aq and rl.
#ifndef HOST_ATOMICS_H
#define HOST_ATOMICS_H
#include <stdint.h>
#include <stdbool.h>

static inline uint64_t host_atomic_exchange64(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t host_atomic_exchange32(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t host_atomic_fetch_add64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t host_atomic_fetch_add32(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t host_atomic_fetch_and64(uint64_t *p, uint64_t v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t host_atomic_fetch_and32(uint32_t *p, uint32_t v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t host_atomic_fetch_or64(uint64_t *p, uint64_t v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t host_atomic_fetch_or32(uint32_t *p, uint32_t v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t host_atomic_fetch_xor64(uint64_t *p, uint64_t v) { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t host_atomic_fetch_xor32(uint32_t *p, uint32_t v) { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }
/// Compare-and-swap: stores `desired` if *p == *expected; else writes the current value to *expected.
static inline bool host_atomic_cas64(uint64_t *p, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline bool host_atomic_cas32(uint32_t *p, uint32_t *expected, uint32_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
/// A full fence (x86-64: MFENCE): orders earlier stores before later loads, which TSO alone does not.
static inline void host_atomic_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif
