#include "common.h"
/* MMU: Sv39/Sv48/Sv57 tables built in M-mode, used from S and U: translation, page-fault causes and
 * stval, U vs SUM, MXR, superpages (aligned and misaligned), hardware A/D, MPRV, SFENCE.VMA. */
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_A 64
#define PTE_D 128
#define LEAF_ALL (PTE_V|PTE_R|PTE_W|PTE_X|PTE_A|PTE_D)
#define VBASE 0x40000000
#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)
#define SATP_SV57 (10 << 60)

/* table[index] = PTE pointing at symbol target */
.macro PTE_SYM table, index, target, flags
    la t0, \table
    li t1, \index * 8
    add t0, t0, t1
    la t1, \target
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, \flags
    sd t1, 0(t0)
.endm
/* table[index] = PTE pointing at physical address pa */
.macro PTE_PA table, index, pa, flags
    la t0, \table
    li t1, \index * 8
    add t0, t0, t1
    li t1, ((\pa) >> 12) << 10 | \flags
    sd t1, 0(t0)
.endm
.macro SET_SATP mode, root
    la t0, \root
    srli t0, t0, 12
    li t1, \mode
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
.endm
/* a0 = PTE of level-0 entry i */
.macro LOAD_PTE0 reg, index
    la \reg, l0
    ld \reg, \index * 8(\reg)
.endm

test_main:
    /* The hardware A/D updates checked below are menvcfg.ADUE's to turn on where Svadu is implemented
     * (read-only zero, and updates always on, on the rv64gc model). */
    li t0, 1 << 61
    csrs menvcfg, t0
    /* Sv39 root: VA 0 -> PA 0 (1 GiB, MMIO), VA 0x80000000 identity (RAM), VA 0xC0000000 -> RAM with U=1 */
    PTE_PA root39, 0, 0, (PTE_V|PTE_R|PTE_W|PTE_A|PTE_D)
    PTE_SYM root39, 1, l1, PTE_V
    PTE_PA root39, 2, 0x80000000, LEAF_ALL
    PTE_PA root39, 3, 0x80000000, LEAF_ALL | PTE_U
    /* VA 0x40000000: 2 MiB region through l0 */
    PTE_SYM l1, 0, l0, PTE_V
    PTE_PA l1, 1, 0x80201000, LEAF_ALL       /* misaligned megapage */
    PTE_PA l1, 2, 0x80400000, LEAF_ALL       /* aligned megapage VA 0x40400000 -> PA 0x80400000 */
    PTE_SYM l0, 0, page0, (PTE_V|PTE_R|PTE_W)          /* A/D clear */
    PTE_SYM l0, 1, page1, (PTE_V|PTE_R|PTE_A)          /* read-only */
    PTE_SYM l0, 2, page2, (PTE_V|PTE_R|PTE_W|PTE_U|PTE_A|PTE_D)  /* user */
    PTE_SYM l0, 3, page3, (PTE_V|PTE_X|PTE_A)          /* execute-only */
    /* l0[4] invalid */
    PTE_SYM l0, 5, page0, (PTE_V|PTE_W|PTE_A|PTE_D)    /* W without R: reserved */
    PTE_SYM l0, 6, page1, (PTE_V|PTE_R|PTE_W|PTE_A|PTE_D)  /* for SFENCE test */
    /* Sv48 and Sv57 roots reuse the Sv39 root below them; index 1 aliases it at a higher VA */
    PTE_SYM root48, 0, root39, PTE_V
    PTE_SYM root48, 1, root39, PTE_V
    PTE_SYM root57, 0, root48, PTE_V
    PTE_SYM root57, 1, root48, PTE_V
    /* distinct contents */
    li a0, 0x1111
    la a1, page0
    sd a0, 0(a1)
    li a0, 0x2222
    la a1, page1
    sd a0, 0(a1)
    li a0, 0x3333
    la a1, page2
    sd a0, 0(a1)
    li a0, 0x4444
    la a1, page3
    sd a0, 0(a1)
    li a0, 0x5555
    li a1, 0x80401238
    sd a0, 0(a1)

    /* ---------------- Sv39 from S-mode ---------------- */
    NEXT
    SET_SATP SATP_SV39, root39
    csrr a0, satp
    srli a0, a0, 60
    EXPECT a0, 8
    GOTO_MODE 1, s39
s39:
    NEXT
    li s0, VBASE
    ld a0, 0(s0)
    EXPECT a0, 0x1111
    EXPECT_NO_TRAP
    NEXT
    LOAD_PTE0 a0, 0
    andi a0, a0, PTE_A | PTE_D
    EXPECT a0, PTE_A                 /* hardware set A on the load */
    NEXT
    li a0, 0x1234
    sd a0, 8(s0)
    LOAD_PTE0 a0, 0
    andi a0, a0, PTE_A | PTE_D
    EXPECT a0, PTE_A | PTE_D         /* and D on the store */
    la a1, page0
    ld a1, 8(a1)
    EXPECT a1, 0x1234
    NEXT
    li s1, VBASE + 0x1000            /* read-only page */
    ld a0, 0(s1)
    EXPECT a0, 0x2222
    sd a0, 16(s1)
    EXPECT_TRAP 15
    EXPECTV trap_tval, VBASE + 0x1010
    amoadd.d a0, a0, (s1)
    EXPECT_TRAP 15
    LOAD_PTE0 a0, 1
    andi a0, a0, PTE_D
    EXPECT a0, 0                     /* failed store did not set D */
    NEXT
    li s1, VBASE + 0x4000            /* invalid */
    ld a0, 8(s1)
    EXPECT_TRAP 13
    EXPECTV trap_tval, VBASE + 0x4008
    sw a0, 0(s1)
    EXPECT_TRAP 15
    NEXT
    li s1, VBASE + 0x5000            /* W without R */
    ld a0, 0(s1)
    EXPECT_TRAP 13
    NEXT
    /* U page from S: fault without SUM, allowed with SUM */
    li s1, VBASE + 0x2000
    csrci sstatus, 0                 /* no-op */
    li a1, MSTATUS_SUM
    csrc sstatus, a1
    ld a0, 0(s1)
    EXPECT_TRAP 13
    EXPECTV trap_tval, VBASE + 0x2000
    csrs sstatus, a1
    ld a0, 0(s1)
    EXPECT a0, 0x3333
    EXPECT_NO_TRAP
    csrc sstatus, a1
    NEXT
    /* execute-only page: load faults unless MXR */
    li s1, VBASE + 0x3000
    ld a0, 0(s1)
    EXPECT_TRAP 13
    li a1, MSTATUS_MXR
    csrs sstatus, a1
    ld a0, 0(s1)
    EXPECT a0, 0x4444
    EXPECT_NO_TRAP
    csrc sstatus, a1
    ld a0, 0(s1)
    EXPECT_TRAP 13
    NEXT
    /* superpages */
    li s1, 0x40401238
    ld a0, 0(s1)
    EXPECT a0, 0x5555
    EXPECT_NO_TRAP
    NEXT
    li s1, 0x40200010                /* misaligned megapage: page fault */
    ld a0, 0(s1)
    EXPECT_TRAP 13
    EXPECTV trap_tval, 0x40200010
    sd a0, 0(s1)
    EXPECT_TRAP 15
    NEXT
    /* non-canonical address in Sv39 */
    li s1, (1 << 39) | VBASE
    ld a0, 0(s1)
    EXPECT_TRAP 13
    NEXT
    /* misaligned access across two pages: the second page is read-only -> store fault, no partial write */
    li s1, VBASE + 0x6000            /* page1 via l0[6], RW */
    li a0, 0x77
    la a2, page1
    lbu a3, 0(a2)
    li s1, VBASE + 0x1000 - 4        /* last 4 bytes of page0 (RW), then page1 (RO) */
    li a0, -1
    sd a0, 0(s1)
    EXPECT_TRAP 15
    la a2, page0
    li a4, 0xffc
    add a2, a2, a4
    lwu a4, 0(a2)
    EXPECT a4, 0
    NEXT
    ld a0, 0(s1)                     /* misaligned load across pages is fine */
    EXPECT_NO_TRAP
    li a1, 0x2222 << 32
    EXPECTR a0, a1
    NEXT
    /* instruction fetch from a non-executable page: fetch page fault */
    SET_RESUME s39_fetch_back
    li s1, VBASE
    jr s1
s39_fetch_back:
    /* (back in M) */
    EXPECT_TRAP 12
    EXPECTV trap_tval, VBASE
    EXPECTV trap_epc, VBASE
    GOTO_MODE 1, s39b
s39b:
    NEXT
    /* SFENCE.VMA after changing a PTE */
    li s1, VBASE + 0x6000
    ld a0, 0(s1)
    EXPECT a0, 0x2222
    la a1, l0
    ld a2, 6*8(a1)
    la a3, page2
    srli a3, a3, 12
    slli a3, a3, 10
    ori a3, a3, (PTE_V|PTE_R|PTE_W|PTE_A|PTE_D)
    sd a3, 6*8(a1)
    sfence.vma
    ld a0, 0(s1)
    EXPECT a0, 0x3333
    sd a2, 6*8(a1)
    sfence.vma s1, zero
    ld a0, 0(s1)
    EXPECT a0, 0x2222
    ecall
    CLEAR_TRAP

    /* ---------------- U-mode under Sv39 ---------------- */
    NEXT
    SET_RESUME u39_back
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    la t0, u39
    li t1, 0x40000000
    add t0, t0, t1                   /* U alias of the code at +1 GiB */
    csrw mepc, t0
    li s0, 0
    mret
u39:
    li s1, VBASE + 0x2000
    ld s0, 0(s1)                     /* U page: fine */
    li s1, VBASE
    ld a0, 0(s1)                     /* S page from U: fault -> back to M */
    j fail
u39_back:
    EXPECT s0, 0x3333
    EXPECT_TRAP 13
    EXPECTV trap_tval, VBASE
    NEXT
    /* U fetch from an S-only page */
    SET_RESUME u39_back2
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    la t0, u39
    csrw mepc, t0                    /* identity mapping: U=0 */
    mret
u39_back2:
    EXPECT_TRAP 12

    /* ---------------- MPRV with MPP = S ---------------- */
    NEXT
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, (1 << 11) | MSTATUS_MPRV
    csrs mstatus, t0
    li s1, VBASE + 0x1000
    ld a0, 0(s1)                     /* translated: page1 */
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    EXPECT a0, 0x2222
    EXPECT_NO_TRAP
    NEXT
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    li s1, VBASE + 0x4000
    ld a0, 0(s1)                     /* invalid page: load page fault taken in M */
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    EXPECT_TRAP 13
    EXPECTV trap_tval, VBASE + 0x4000
    NEXT
    /* MPRV with MPP = U and a supervisor page faults */
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    li s1, VBASE + 0x1000
    ld a0, 0(s1)
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    EXPECT_TRAP 13

    /* ---------------- Sv48 ---------------- */
    NEXT
    la a0, l0
    sd zero, 0(a0)
    PTE_SYM l0, 0, page0, (PTE_V|PTE_R|PTE_W)   /* reset A/D */
    SET_SATP SATP_SV48, root48
    csrr a0, satp
    srli a0, a0, 60
    EXPECT a0, 9
    GOTO_MODE 1, s48
s48:
    NEXT
    li s0, VBASE
    ld a0, 0(s0)
    EXPECT a0, 0x1111
    li s1, (1 << 39) | VBASE          /* valid in Sv48 through root48[1] */
    ld a0, 0(s1)
    EXPECT a0, 0x1111
    EXPECT_NO_TRAP
    LOAD_PTE0 a0, 0
    andi a0, a0, PTE_A | PTE_D
    EXPECT a0, PTE_A
    sd a0, 8(s1)
    LOAD_PTE0 a0, 0
    andi a0, a0, PTE_A | PTE_D
    EXPECT a0, PTE_A | PTE_D
    NEXT
    li s1, (1 << 40) | VBASE          /* root48[2] invalid */
    ld a0, 0(s1)
    EXPECT_TRAP 13
    li s1, (1 << 47) | VBASE          /* non-canonical in Sv48 */
    ld a0, 0(s1)
    EXPECT_TRAP 13
    li s1, VBASE + 0x1000
    sd a0, 0(s1)
    EXPECT_TRAP 15
    ecall
    CLEAR_TRAP

    /* ---------------- Sv57 ---------------- */
    NEXT
    la a0, l0
    sd zero, 0(a0)
    PTE_SYM l0, 0, page0, (PTE_V|PTE_R|PTE_W)
    SET_SATP SATP_SV57, root57
    csrr a0, satp
    srli a0, a0, 60
    EXPECT a0, 10
    GOTO_MODE 1, s57
s57:
    NEXT
    li s0, VBASE
    ld a0, 0(s0)
    EXPECT a0, 0x1111
    li s1, (1 << 48) | (1 << 39) | VBASE   /* root57[1] -> root48[1] -> root39 */
    ld a0, 0(s1)
    EXPECT a0, 0x1111
    EXPECT_NO_TRAP
    LOAD_PTE0 a0, 0
    andi a0, a0, PTE_A | PTE_D
    EXPECT a0, PTE_A
    sd a0, 8(s1)
    LOAD_PTE0 a0, 0
    andi a0, a0, PTE_A | PTE_D
    EXPECT a0, PTE_A | PTE_D
    NEXT
    li s1, (1 << 49) | VBASE
    ld a0, 0(s1)
    EXPECT_TRAP 13
    li s1, (1 << 56) | VBASE          /* non-canonical in Sv57 */
    ld a0, 0(s1)
    EXPECT_TRAP 13
    li s1, 0x40200000
    ld a0, 0(s1)
    EXPECT_TRAP 13
    ecall
    CLEAR_TRAP
    csrw satp, zero

    /* ---------------- page-crossing fetches and accesses (Sv39) ---------------- */
    NEXT
    SET_SATP SATP_SV39, root39
    la a0, page3
    li a1, 0xffc
    add a0, a0, a1
    li a1, 0x05130001              /* c.nop, then the low half of addi a0, zero, 0 (upper half on the invalid page) */
    sw a1, 0(a0)
    fence.i
    SET_RESUME cross_back1
    GOTO_MODE 1, cross_s1
cross_s1:
    li a0, VBASE + 0x3ffc
    jr a0
cross_back1:
    EXPECT_TRAP 12                  /* fetch page fault on the second half */
    EXPECTV trap_epc, VBASE + 0x3ffe
    la a0, trap_tval
    ld a0, 0(a0)
    li a1, VBASE + 0x3ffe
    beq a0, a1, 1f
    li a1, VBASE + 0x4000
    beq a0, a1, 1f
    j fail
1:  NEXT
    /* misaligned load whose second half is on an invalid page */
    GOTO_MODE 1, cross_s2
cross_s2:
    li a0, VBASE + 0x4000 - 2       /* page3 is execute-only: use MXR for the first half */
    li a1, MSTATUS_MXR
    csrs sstatus, a1
    lw a2, 0(a0)
    EXPECT_TRAP 13
    csrc sstatus, a1
    /* S-mode may not execute from a U page, even with SUM */
    li a1, MSTATUS_SUM
    csrs sstatus, a1
    ecall
    CLEAR_TRAP
    SET_RESUME cross_back3
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0
    la t0, cross_s3
    li t1, 0x40000000
    add t0, t0, t1                  /* U=1 alias */
    csrw mepc, t0
    mret
cross_s3:
    nop
    j fail
cross_back3:
    EXPECT_TRAP 12
    li a1, MSTATUS_SUM
    csrc mstatus, a1
    csrw satp, zero

    /* unsupported mode: satp write ignored (WARL) */
    NEXT
    li a0, (5 << 60) | 1
    csrw satp, a0
    csrr a1, satp
    EXPECT a1, 0
    j pass

    .bss
    .align 12
root39: .space 4096
l1:     .space 4096
l0:     .space 4096
root48: .space 4096
root57: .space 4096
page0:  .space 4096
page1:  .space 4096
page2:  .space 4096
page3:  .space 4096
