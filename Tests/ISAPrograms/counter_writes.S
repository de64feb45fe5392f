#include "common.h"
/* Writes to minstret and mcycle (privileged spec, "Hardware Performance Monitor"): the write takes
 * effect after the writing instruction's own increment, so the next instruction reads exactly the
 * value written; reads in between count one per retired instruction. RV64 has no *h halves.
 * U- and S-mode rdinstret/rdcycle read the same counters. */
#define BIG 0x7edcba9876543210
#define CSR_MCYCLEH   0xb80
#define CSR_MINSTRETH 0xb82
#define CSR_CYCLEH    0xc80
#define CSR_TIMEH     0xc81
#define CSR_INSTRETH  0xc82
test_main:
    /* the value written is what the next read sees */
    NEXT
    csrwi minstret, 0
    csrr a0, minstret
    EXPECT a0, 0
    NEXT
    csrwi mcycle, 0
    csrr a0, mcycle
    EXPECT a0, 0
    NEXT
    li t0, BIG
    csrw minstret, t0
    csrr a0, minstret
    EXPECT a0, BIG
    NEXT
    li t0, BIG
    csrw mcycle, t0
    csrr a0, mcycle
    EXPECT a0, BIG
    NEXT
    li t0, -1
    csrw minstret, t0
    csrr a0, minstret
    csrr a1, minstret              /* and it wraps */
    EXPECT a0, -1
    EXPECT a1, 0
    NEXT
    csrwi minstret, 31
    csrr a0, instret               /* the unprivileged alias reads the same counter */
    EXPECT a0, 31
    csrwi mcycle, 17
    csrr a0, cycle
    EXPECT a0, 17

    /* then they count one per retired instruction */
    NEXT
    li t0, BIG
    csrw minstret, t0
    nop
    nop
    nop
    nop
    nop
    csrr a0, minstret
    EXPECT a0, BIG + 5
    NEXT
    csrr a0, minstret
    csrr a1, minstret
    sub a2, a1, a0
    EXPECT a2, 1
    NEXT
    li t0, 1000
    csrw mcycle, t0
    addi a1, zero, 1
    addi a1, a1, 1
    csrr a0, mcycle
    EXPECT a0, 1002

    /* a read-write returns the value before the write (this instruction not yet counted) */
    NEXT
    csrwi minstret, 5
    csrrwi a0, minstret, 9
    csrr a1, minstret
    EXPECT a0, 5
    EXPECT a1, 9
    NEXT
    csrwi mcycle, 0
    csrrsi a0, mcycle, 0x10        /* reads 0, writes 0 | 0x10 */
    csrr a1, mcycle
    EXPECT a0, 0
    EXPECT a1, 0x10
    NEXT
    li t0, 0xff
    csrw minstret, t0
    li t1, 0x0f
    csrrc a0, minstret, t1         /* reads 0xff + 1 (li retired), writes 0x100 & ~0x0f */
    csrr a1, minstret
    EXPECT a0, 0x100
    EXPECT a1, 0x100
    NEXT
    csrwi minstret, 3
    csrrsi a0, minstret, 0         /* no write: a plain read, counted as usual */
    csrr a1, minstret
    EXPECT a0, 3
    EXPECT a1, 4

    /* RV64: the high halves do not exist */
    NEXT
    csrr a0, CSR_MINSTRETH
    EXPECT_TRAP 2
    csrr a0, CSR_MCYCLEH
    EXPECT_TRAP 2
    csrr a0, CSR_INSTRETH
    EXPECT_TRAP 2
    csrr a0, CSR_CYCLEH
    EXPECT_TRAP 2
    csrr a0, CSR_TIMEH
    EXPECT_TRAP 2
    csrw CSR_MINSTRETH, zero
    EXPECT_TRAP 2
    csrw CSR_MCYCLEH, zero
    EXPECT_TRAP 2

    /* U-mode reads the counter M-mode wrote, and its reads are consistent with M-mode's */
    NEXT
    li t0, 5                       /* CY, IR */
    csrw mcounteren, t0
    csrw scounteren, t0
    li t0, BIG
    csrw minstret, t0
    GOTO_MODE 0, u_mode1
u_mode1:
    rdinstret s0
    rdinstret s1
    ecall
    csrr s2, minstret
    li t0, BIG
    sub a0, s0, t0                 /* the GOTO_MODE sequence: a handful of instructions */
    li t1, 32
    bltu a0, t1, 1f
    j fail
1:  sub a0, s1, s0
    EXPECT a0, 1
    sub a0, s2, s1                 /* the ecall and the trap handler ran in between */
    li t1, 1
    bltu t1, a0, 1f
    j fail
1:  li t1, 200
    bltu a0, t1, 1f
    j fail
1:  CLEAR_TRAP
    NEXT
    li t0, BIG
    csrw mcycle, t0
    GOTO_MODE 0, u_mode2
u_mode2:
    rdcycle s0
    rdcycle s1
    ecall
    li t0, BIG
    sub a0, s0, t0
    li t1, 32
    bltu a0, t1, 1f
    j fail
1:  sub a0, s1, s0
    EXPECT a0, 1
    CLEAR_TRAP

    /* S-mode likewise */
    NEXT
    csrwi minstret, 0
    GOTO_MODE 1, s_mode1
s_mode1:
    rdinstret s0
    rdinstret s1
    ecall
    li t1, 32
    bltu s0, t1, 1f
    j fail
1:  sub a0, s1, s0
    EXPECT a0, 1
    CLEAR_TRAP

    /* U-mode cannot write them */
    NEXT
    GOTO_MODE 0, u_mode3
u_mode3:
    csrwi minstret, 0
    EXPECT_TRAP 2
    csrwi instret, 0
    EXPECT_TRAP 2
    ecall
    CLEAR_TRAP
    csrw mcounteren, zero
    csrw scounteren, zero
    j pass
