#include "common.h"
/* Zicntr: cycle/instret must count instructions retired so far, also within one emulator slice.
 * TODO(Execute.swift): Hart.run() adds the slice's instruction count to `instret` only when it
 * returns, so CSR reads inside a slice see a stale value; these checks fail until that is fixed. */
test_main:
    /* instret and cycle advance with retired instructions */
    NEXT
    rdinstret s0
    li a0, 200
1:  addi a0, a0, -1
    bnez a0, 1b
    rdinstret s1
    sub a1, s1, s0
    li a2, 400
    bgeu a1, a2, 2f
    j fail                      /* TODO(Execute.swift): instret is only updated when run() returns */
2:  NEXT
    rdcycle s0
    li a0, 200
1:  addi a0, a0, -1
    bnez a0, 1b
    rdcycle s1
    sub a1, s1, s0
    li a2, 400
    bgeu a1, a2, 2f
    j fail                      /* TODO(Execute.swift): see above */
2:  NEXT
    /* after writing minstret, it counts from the written value: 1 + 2*100 + 1 instructions later */
    li a0, 100
    csrw minstret, zero
1:  addi a0, a0, -1
    bnez a0, 1b
    csrr a0, minstret
    addi a0, a0, -200
    li a2, 8
    bltu a0, a2, 3f
    j fail                      /* TODO(Execute.swift): see above */
3:
    j pass
