#include "common.h"
#include "paging.h"
/* Extensions beyond RV64GC whose results the spec fixes and QEMU 7.2 lacks (so no differential
 * test): Zicond, Zcb, Zimop/Zcmop, Zicbom/Zicboz (with the menvcfg/senvcfg enables), Zawrs,
 * Svinval, Svpbmt (menvcfg.PBMTE) and Svnapot. Assembled by clang (binutils 2.40 lacks some).
 *
 * Sv39 layout for the S-mode part: VA 0 -> PA 0 (1 GiB, MMIO), VA 0x80000000 identity (1 GiB),
 * VA 0x40000000 -> l1 -> l0: l0[1] PBMT=NC -> DATA, l0[2] PBMT=3 -> DATA,
 * l0[16..31] a 64 KiB NAPOT mapping of NAPOT_PA, l0[32..47] NAPOT with a bad size (ppn[3:0] = 0100). */
#define RW  (PTE_V|PTE_R|PTE_W|PTE_A|PTE_D)
#define RWX (RW|PTE_X)
#define DATA 0x80900000
#define NAPOT_PA 0x80800000
#define PBMT_NC (1 << 61)
#define PBMT_RESERVED (3 << 61)
#define PTE_N (1 << 63)
#define CAUSE_ILLEGAL 2
#define CAUSE_LOAD_PAGE 13

test_main:
    /* ctzw counts within the low word only (QEMU 7.2 gets this case wrong, so it is checked here) */
    NEXT
    li a0, 0x0000010000000000
    ctzw a2, a0
    EXPECT a2, 32
    /* Zicond */
    TRR czero.eqz, 7, 0, 0
    TRR czero.eqz, 7, 5, 7
    TRR czero.nez, 7, 0, 7
    TRR czero.nez, 7, -1, 0

    /* Zcb: loads and stores on the compressed registers (s0, s1, a0-a5) */
    NEXT
    la s0, scratch
    li a0, 0x8182838485868788
    sd a0, 0(s0)
    c.lbu a1, 1(s0)
    EXPECT a1, 0x87
    c.lhu a1, 2(s0)
    EXPECT a1, 0x8586
    c.lh a1, 2(s0)
    EXPECT a1, 0xffffffffffff8586
    li a2, 0x1234
    c.sh a2, 0(s0)
    li a2, 0x55
    c.sb a2, 3(s0)
    ld a1, 0(s0)
    EXPECT a1, 0x8182838455861234
    NEXT
    li a0, 0xfedcba9876543281
    mv a1, a0
    c.zext.b a1
    EXPECT a1, 0x81
    mv a1, a0
    c.sext.b a1
    EXPECT a1, 0xffffffffffffff81
    mv a1, a0
    c.zext.h a1
    EXPECT a1, 0x3281
    mv a1, a0
    c.sext.h a1
    EXPECT a1, 0x3281
    mv a1, a0
    c.zext.w a1
    EXPECT a1, 0x76543281
    mv a1, a0
    c.not a1
    EXPECT a1, 0x0123456789abcd7e
    li a1, 7
    li a2, -6
    c.mul a1, a2
    EXPECT a1, -42

    /* Zimop, Zcmop: MOP.R/MOP.RR write 0, C.MOP does nothing */
    NEXT
    li a0, 123
    li a1, 5
    mop.r.0 a0, a1
    EXPECT a0, 0
    li a0, 123
    mop.rr.7 a0, a1, a1
    EXPECT a0, 0
    li ra, 77
    c.mop.1
    EXPECT ra, 77

    /* Zawrs: WRS.NTO and WRS.STO retire */
    NEXT
    wrs.nto
    wrs.sto
    EXPECT_NO_TRAP

    /* Zicboz in M-mode: the aligned 64-byte block only */
    NEXT
    la s0, block
    li t0, -1
    li t1, 0
1:  add t2, s0, t1
    sd t0, -8(t2)
    addi t1, t1, 8
    li t3, 80
    bne t1, t3, 1b
    addi a0, s0, 37
    cbo.zero (a0)
    ld a1, -8(s0)
    EXPECT a1, -1
    ld a1, 0(s0)
    EXPECT a1, 0
    ld a1, 56(s0)
    EXPECT a1, 0
    ld a1, 64(s0)
    EXPECT a1, -1
    /* Zicbom in M-mode: no architectural effect */
    cbo.clean (s0)
    cbo.flush (s0)
    cbo.inval (s0)
    EXPECT_NO_TRAP

    /* Page tables, then S-mode with every enable off. */
    NEXT
    SETPTE root, 0, 0, RW
    SETPTE root, 2, 0x80000000, RWX
    PTE_SYM root, 1, l1
    PTE_SYM l1, 0, l0
    la t0, l0
    li t1, (((DATA >> 12) << 10) | RW | PBMT_NC)
    sd t1, 8(t0)
    li t1, (((DATA >> 12) << 10) | RW | PBMT_RESERVED)
    sd t1, 16(t0)
    li t1, ((((NAPOT_PA >> 12) | 8) << 10) | RW | PTE_N)
    li t2, 16
1:  slli t3, t2, 3
    add t3, t3, t0
    sd t1, 0(t3)
    addi t2, t2, 1
    li t3, 32
    bne t2, t3, 1b
    li t1, ((((NAPOT_PA >> 12) | 4) << 10) | RW | PTE_N)
1:  slli t3, t2, 3
    add t3, t3, t0
    sd t1, 0(t3)
    addi t2, t2, 1
    li t3, 48
    bne t2, t3, 1b
    MARKERS NAPOT_PA, 0xA000, 16
    li t0, DATA
    li t1, 0xDA7A
    sd t1, 0(t0)
    SET_ATP satp, SATP_SV39, root
    sfence.vma
    csrw menvcfg, zero
    CLEAR_TRAP
    GOTO_MODE 1, s_disabled

s_disabled:
    NEXT
    la s0, block
    cbo.zero (s0)
    EXPECT_TRAP CAUSE_ILLEGAL
    cbo.clean (s0)
    EXPECT_TRAP CAUSE_ILLEGAL
    cbo.inval (s0)
    EXPECT_TRAP CAUSE_ILLEGAL
    NEXT
    li t0, 0x40001000
    ld a0, 0(t0)                  /* PBMT without menvcfg.PBMTE: reserved bits set */
    EXPECT_TRAP CAUSE_LOAD_PAGE
    NEXT
    li t0, 0x40010000 + 5 * 0x1000
    ld a0, 0(t0)                  /* Svnapot needs no enable */
    EXPECT_NO_TRAP
    EXPECT a0, 0xA005
    li t0, 0x4001f008
    ld a0, -8(t0)
    EXPECT a0, 0xA00F
    li t0, 0x40020000
    ld a0, 0(t0)                  /* a NAPOT size other than 64 KiB */
    EXPECT_TRAP CAUSE_LOAD_PAGE
    NEXT
    li t0, 0x40010000
    sinval.vma t0, zero           /* Svinval */
    sfence.w.inval
    sfence.inval.ir
    EXPECT_NO_TRAP
    ecall                         /* back to M-mode */

    /* Enables on: menvcfg CBZE, CBCFE, CBIE = 01, PBMTE; senvcfg CBZE only. */
    li t0, (1 << 62) | 0xd0
    csrw menvcfg, t0
    csrr t1, menvcfg
    EXPECT t1, (1 << 62) | 0xd0
    li t0, 0xa0                   /* CBIE = 10 is reserved: reads back as 00 (WARL) */
    csrw senvcfg, t0
    csrr t1, senvcfg
    EXPECT t1, 0x80
    CLEAR_TRAP
    GOTO_MODE 1, s_enabled

s_enabled:
    NEXT
    la s0, block
    li t0, -1
    sd t0, 8(s0)
    cbo.zero (s0)
    EXPECT_NO_TRAP
    ld a1, 8(s0)
    EXPECT a1, 0
    cbo.flush (s0)
    cbo.inval (s0)
    EXPECT_NO_TRAP
    NEXT
    li t0, 0x40001000
    ld a0, 0(t0)                  /* PBMT = NC, allowed now */
    EXPECT_NO_TRAP
    EXPECT a0, 0xDA7A
    li t0, 0x40002000
    ld a0, 0(t0)                  /* PBMT = 3 is reserved */
    EXPECT_TRAP CAUSE_LOAD_PAGE
    ecall                         /* back to M-mode */
    /* U-mode, translation off: senvcfg.CBZE = 1 allows cbo.zero; senvcfg.CBCFE = 0 forbids clean. */
    csrw satp, zero
    sfence.vma
    CLEAR_TRAP
    GOTO_MODE 0, u_part

u_part:
    NEXT
    la s0, block
    cbo.zero (s0)
    EXPECT_NO_TRAP
    cbo.clean (s0)
    EXPECT_TRAP CAUSE_ILLEGAL
    ecall
    j pass

    .data
    .align 12
root: .space 4096
l1: .space 4096
l0: .space 4096
    .align 6
    .space 64
block: .space 128
scratch: .space 16
