#include "common.h"
/* A extension: LR/SC, every AMO (W and D), sign extension, misaligned AMO trap. */
.macro TAMO op, init, src, old, new
    NEXT
    la s0, word
    li a0, \init
    sd a0, 0(s0)
    li a1, \src
    \op a2, a1, (s0)
    EXPECT a2, \old
    ld a3, 0(s0)
    EXPECT a3, \new
.endm
test_main:
    la s0, word
    /* LR/SC success */
    NEXT
    li a0, 42
    sd a0, 0(s0)
    lr.d a1, (s0)
    EXPECT a1, 42
    li a2, 99
    sc.d a3, a2, (s0)
    EXPECT a3, 0
    ld a4, 0(s0)
    EXPECT a4, 99
    /* SC without a reservation fails and leaves memory alone */
    NEXT
    li a2, 7
    sc.d a3, a2, (s0)
    EXPECT a3, 1
    ld a4, 0(s0)
    EXPECT a4, 99
    /* W forms: LR.W sign-extends */
    NEXT
    li a0, 0x80000001
    sw a0, 0(s0)
    lr.w a1, (s0)
    EXPECT a1, 0xffffffff80000001
    li a2, 0x12345678
    sc.w a3, a2, (s0)
    EXPECT a3, 0
    ld a4, 0(s0)
    EXPECT a4, 0x12345678
    NEXT
    sc.w a3, a2, (s0)
    EXPECT a3, 1
    /* AMO .D */
    TAMO amoswap.d, 5, 9, 5, 9
    TAMO amoadd.d, 5, -7, 5, -2
    TAMO amoxor.d, 0xff, 0x0f, 0xff, 0xf0
    TAMO amoand.d, 0xff, 0x0f, 0xff, 0x0f
    TAMO amoor.d, 0xf0, 0x0f, 0xf0, 0xff
    TAMO amomin.d, -1, 1, -1, -1
    TAMO amomin.d, 5, -3, 5, -3
    TAMO amomax.d, -1, 1, -1, 1
    TAMO amominu.d, -1, 1, -1, 1
    TAMO amomaxu.d, -1, 1, -1, -1
    /* AMO .W: 32-bit operation, old value sign-extended, upper word untouched */
    TAMO amoswap.w, 0x1111111180000000, 9, 0xffffffff80000000, 0x1111111100000009
    TAMO amoadd.w, 0x22222222ffffffff, 1, -1, 0x2222222200000000
    TAMO amoxor.w, 0x80000000, 0xffffffff, 0xffffffff80000000, 0x7fffffff
    TAMO amoand.w, 0x3333333380000001, 0x1, 0xffffffff80000001, 0x3333333300000001
    TAMO amoor.w, 0x7fffffff, 0x80000000, 0x7fffffff, 0xffffffff
    TAMO amomin.w, 0x80000000, 1, 0xffffffff80000000, 0x80000000
    TAMO amomin.w, 5, 0xfffffffd, 5, 0xfffffffd
    TAMO amomax.w, 0x80000000, 1, 0xffffffff80000000, 1
    TAMO amomax.w, 0x100000001, 0x7fffffff, 1, 0x17fffffff
    TAMO amominu.w, 0x80000000, 1, 0xffffffff80000000, 1
    TAMO amomaxu.w, 0x80000000, 1, 0xffffffff80000000, 0x80000000
    TAMO amomaxu.w, 1, 0xffffffffffffffff, 1, 0xffffffff
    /* rd == x0 still performs the write */
    NEXT
    li a0, 3
    sd a0, 0(s0)
    li a1, 4
    amoadd.d x0, a1, (s0)
    ld a2, 0(s0)
    EXPECT a2, 7

    /* Misaligned AMO / SC: store/AMO address misaligned (6), LR: load misaligned (4) or 6 */
    NEXT
    CLEAR_TRAP
    addi s1, s0, 2
    amoadd.w a0, a1, (s1)
    EXPECT_TRAP 6
    la a3, trap_tval
    ld a3, 0(a3)
    EXPECTR a3, s1
    NEXT
    addi s1, s0, 4
    amoswap.d a0, a1, (s1)
    EXPECT_TRAP 6
    NEXT
    addi s1, s0, 1
    sc.w a0, a1, (s1)
    EXPECT_TRAP 6
    NEXT
    addi s1, s0, 4
    lr.d a0, (s1)
    la t6, trap_cause
    ld t6, 0(t6)
    li t5, 4
    beq t5, t6, 2f
    li t5, 6
    beq t5, t6, 2f
    j fail
2:  CLEAR_TRAP
    j pass

    .data
    .align 4
word: .dword 0, 0
