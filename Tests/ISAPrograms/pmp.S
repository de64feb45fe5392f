#include "common.h"
/* PMP: NAPOT and TOR entries, priority, S/U denied without a matching entry, M allowed unless
 * locked, locked entries ignore writes, access-fault causes 1/5/7. */
#define NAPOT_R   0x19
#define NAPOT_RW  0x1b
#define NAPOT_RWX 0x1f
#define TOR_NONE  0x08
#define LOCK      0x80

test_main:
    NEXT
    la a0, pbuf
    srli a0, a0, 2
    ori a0, a0, 0x1ff              /* 4 KiB NAPOT */
    csrw pmpaddr0, a0
    csrr a1, pmpaddr0
    EXPECTR a0, a1
    la a0, pbuf2
    srli a0, a0, 2
    csrw pmpaddr1, a0              /* TOR lower bound (entry 1 off) */
    la a0, pbuf3
    srli a0, a0, 2
    csrw pmpaddr2, a0
    li a0, 0x2003ffff              /* 2 MiB at 0x80000000 */
    csrw pmpaddr4, a0
    li a0, 0x3ffffff               /* 512 MiB at 0: MMIO */
    csrw pmpaddr5, a0
    li a0, NAPOT_R | (TOR_NONE << 16) | (NAPOT_RWX << 32) | (NAPOT_RW << 40)
    csrw pmpcfg0, a0
    csrr a1, pmpcfg0
    EXPECTR a0, a1
    NEXT
    /* odd pmpcfg registers do not exist on RV64 */
    CLEAR_TRAP
    csrr a0, pmpcfg1
    EXPECT_TRAP 2
    NEXT
    /* R=0, W=1 is reserved: the stored value is not W-only */
    li a0, (0x0a << 56)
    csrs pmpcfg0, a0
    csrr a1, pmpcfg0
    srli a1, a1, 56
    li a2, 0x0a
    bne a1, a2, 1f
    j fail
1:  li a0, (0xff << 56)
    csrc pmpcfg0, a0

    la s0, pbuf
    la s1, pbuf2
    li a0, 0x1234
    sd a0, 0(s0)
    sd a0, 0(s1)
    GOTO_MODE 1, s1_code
s1_code:
    NEXT
    ld a0, 0(s0)                   /* NAPOT R: load ok */
    EXPECT a0, 0x1234
    EXPECT_NO_TRAP
    NEXT
    sd a0, 8(s0)                   /* store: access fault */
    EXPECT_TRAP 7
    la a1, trap_tval
    ld a1, 0(a1)
    addi a2, s0, 8
    EXPECTR a1, a2
    amoadd.d a1, a0, (s0)
    EXPECT_TRAP 7
    NEXT
    ld a0, 0(s1)                   /* TOR, no permissions */
    EXPECT_TRAP 5
    sw a0, 4(s1)
    EXPECT_TRAP 7
    lr.d a0, (s1)
    EXPECT_TRAP 5
    NEXT
    li a1, 0x80400000              /* only entry 15 (all memory) matches */
    ld a0, 0(a1)
    EXPECT_NO_TRAP
    ecall
    CLEAR_TRAP
    NEXT
    /* instruction fetch from a region without X */
    SET_RESUME fetch_back
    GOTO_MODE 1, s2_code
s2_code:
    jr s0
fetch_back:
    EXPECT_TRAP 1
    la a0, trap_tval
    ld a0, 0(a0)
    EXPECTR a0, s0
    NEXT
    /* M-mode is not restricted by unlocked entries, or by the absence of a match */
    li a0, 0x5678
    sd a0, 8(s0)
    ld a1, 0(s1)
    EXPECT a1, 0x1234
    csrw pmpcfg2, zero             /* remove entry 15 */
    li a1, 0x80400000
    ld a0, 0(a1)
    EXPECT_NO_TRAP
    NEXT
    /* S-mode access with no matching entry: denied */
    GOTO_MODE 1, s3_code
s3_code:
    li a1, 0x80400000
    ld a0, 0(a1)
    EXPECT_TRAP 5
    sd a0, 0(a1)
    EXPECT_TRAP 7
    ld a0, 0(s0)                   /* still allowed by entry 0 */
    EXPECT a0, 0x1234
    EXPECT_NO_TRAP
    ecall
    CLEAR_TRAP
    NEXT
    /* U-mode is checked the same way */
    GOTO_MODE 0, u_code
u_code:
    ld a0, 0(s1)
    EXPECT_TRAP 5
    ld a0, 0(s0)
    EXPECT a0, 0x1234
    ecall
    CLEAR_TRAP
    NEXT
    /* priority: the lowest-numbered matching entry wins (entry 4 is RWX over pbuf too) */
    li a0, NAPOT_R | (NAPOT_RWX << 32) | (NAPOT_RW << 40)
    csrw pmpcfg0, a0               /* TOR entry 2 off */
    GOTO_MODE 1, s4_code
s4_code:
    ld a0, 0(s1)                   /* now matched by entry 4: RWX */
    EXPECT a0, 0x1234
    sd a0, 0(s0)
    EXPECT_TRAP 7                  /* entry 0 (R) still wins over entry 4 */
    ecall
    CLEAR_TRAP

    /* Locked entry (3, ahead of the RWX entry 4): applies to M-mode and ignores later writes */
    NEXT
    la s2, pbuf3
    li a0, 0x4321
    sd a0, 0(s2)
    srli a0, s2, 2
    ori a0, a0, 0x1ff
    csrw pmpaddr3, a0
    li a0, (LOCK | NAPOT_R) << 24
    csrs pmpcfg0, a0
    ld a1, 0(s2)
    EXPECT a1, 0x4321
    EXPECT_NO_TRAP
    sd a1, 8(s2)
    EXPECT_TRAP 7
    NEXT
    csrr a3, pmpaddr3
    csrw pmpaddr3, zero
    csrr a4, pmpaddr3
    EXPECTR a3, a4
    li a0, (0xff << 24)
    csrc pmpcfg0, a0
    csrr a1, pmpcfg0
    srli a1, a1, 24
    andi a1, a1, 0xff
    EXPECT a1, LOCK | NAPOT_R
    sd a1, 8(s2)
    EXPECT_TRAP 7
    j pass

    .data
    .align 12
pbuf:  .space 4096
pbuf2: .space 4096
pbuf3: .space 4096
