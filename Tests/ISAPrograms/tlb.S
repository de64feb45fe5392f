#include "common.h"
#include "paging.h"
/* Software TLB (no H extension): what the hart's translation caches must and must not keep.
 * Checks marked [Matryoshka] rely on this emulator's TLB design (1024 entries per slot indexed by
 * VPN mod 1024, 4 KiB-granular entries, SFENCE.VMA for one address dropping only what that leaf
 * produced, satp writes flushing only on change): the architecture would allow a TLB to flush
 * more, but here a stale entry surviving shows the fast path is used and an over-eager flush
 * (a performance regression) is caught. Every other check is architectural.
 *
 * Layout (Sv39, S-mode): VA 0 -> MMIO (1 GiB), VA 0x80000000 identity (1 GiB, code and data),
 * VA 0xC0000000 -> RAM read-only (1 GiB, pages touched to overflow the refill log),
 * VA 0x40000000 l1: [0] -> l0a (4 KiB pages), [1] 2 MiB page, [2] -> l0b (4 KiB pages).
 * X(n) = 0x40100000 + n pages (l0a index 256 + n, TLB index 256 + n); XCONF(n) is the l0b page with the
 * same TLB index. DP(n) are data pages with marker 0xD000 + n at offset 0; 2 MiB pages MEGA_A and
 * MEGA_B hold 0xA0000 + k and 0xB0000 + k at the start of their k-th 4 KiB page. */
#define RW  (PTE_V|PTE_R|PTE_W|PTE_A|PTE_D)
#define RWX (RW|PTE_X)
#define RO  (PTE_V|PTE_R|PTE_A)
#define XBASE 0x40100000
#define X(n) (XBASE + (n) * 0x1000)
#define XCONF(n) (0x40500000 + (n) * 0x1000)
#define SPA 0x40200000
#define MEGA_A 0x80400000
#define MEGA_B 0x80600000
#define TOUCH 0xC0000000
#define DP(n) (0x80800000 + (n) * 0x1000)
#define CP0  0x80900000            /* cross-page instruction: low half at CP0 + 0xffe */
#define CPA  0x80902000            /* upper half 0x0010 (addi a0, zero, 1), then ret */
#define CPB  0x80904000            /* upper half 0x0020 (addi a0, zero, 2), then ret */
#define SMCP 0x80906000

.macro MAPX n, pa, flags
    SETPTE l0a, 256 + (\n), \pa, \flags
.endm
.macro LDX reg, va
    li t0, \va
    ld \reg, 0(t0)
.endm
/* Fail unless the doubleword at va reads val (uses a0). */
.macro EXPECT_LD va, val
    LDX a0, \va
    EXPECT a0, \val
.endm
.macro SFENCE_VA va
    li t0, \va
    sfence.vma t0, zero
.endm
/* Loads from 100 distinct pages (TLB indices 100-199): more refills than the flush log holds. */
.macro TOUCH100
    li t0, TOUCH + 100 * 0x1000
    li t1, 100
    li t3, 0x1000
1099:
    ld t2, 0(t0)
    add t0, t0, t3
    addi t1, t1, -1
    bnez t1, 1099b
.endm

test_main:
    MARKERS DP(0), 0xD000, 32
    MARKERS MEGA_A, 0xA0000, 512
    MARKERS MEGA_B, 0xB0000, 512
    li t0, CP0 + 0xffe
    li t1, 0x0513                 /* low half of addi a0, zero, imm */
    sh t1, 0(t0)
    li t0, CPA
    li t1, 0x0010
    sh t1, 0(t0)
    li t1, 0x8067                 /* ret */
    sh t1, 2(t0)
    sh zero, 4(t0)
    li t0, CPB
    li t1, 0x0020
    sh t1, 0(t0)
    li t1, 0x8067
    sh t1, 2(t0)
    sh zero, 4(t0)
    SETPTE root, 0, 0, RW
    PTE_SYM root, 1, l1
    SETPTE root, 2, 0x80000000, RWX
    SETPTE root, 3, 0x80000000, RO
    PTE_SYM l1, 0, l0a
    SETPTE l1, 1, MEGA_A, RW
    PTE_SYM l1, 2, l0b
    /* second address space (ASID 1): X(1) -> DP(11) */
    SETPTE rootB, 0, 0, RW
    PTE_SYM rootB, 1, l1B
    SETPTE rootB, 2, 0x80000000, RWX
    PTE_SYM l1B, 0, l0B
    SETPTE l0B, 257, DP(11), RW
    SET_ATP satp, SATP_SV39, root
    sfence.vma
    GOTO_MODE 1, s_main

s_main:
    /* ---- 1: the TLB caches 4 KiB entries, 1024 per slot, indexed by VPN mod 1024 [Matryoshka] ---- */
    NEXT
    MAPX 1, DP(1), RW
    SETPTE l0b, 257, DP(2), RW
    sfence.vma
    EXPECT_LD X(1), 0xD001
    MAPX 1, DP(3), RW             /* no fence: the cached entry stays in use */
    EXPECT_LD X(1), 0xD001
    NEXT
    EXPECT_LD X(1) + 512 * 0x1000, 0xA0101   /* TLB index 769 */
    EXPECT_LD X(1), 0xD001        /* another index: still cached (a 512-entry TLB would have evicted it) */
    NEXT
    EXPECT_LD XCONF(1), 0xD002    /* index 257 too: replaces the entry of X(1) */
    EXPECT_LD X(1), 0xD003        /* walked again (a 2048-entry TLB would still hold the old one) */
    NEXT
    EXPECT_LD SPA + 0x5000, 0xA0005
    SETPTE l1, 1, MEGA_B, RW      /* no fence */
    EXPECT_LD SPA + 0x5000, 0xA0005   /* cached */
    EXPECT_LD SPA + 0x6000, 0xB0006   /* another 4 KiB page of the same superpage has no entry yet */

    /* ---- 2: SFENCE.VMA for one 4 KiB page, few refills since the last fence ---- */
    NEXT
    SETPTE l1, 1, MEGA_A, RW
    MAPX 1, DP(1), RW
    MAPX 2, DP(2), RW
    sfence.vma
    EXPECT_LD X(1), 0xD001
    EXPECT_LD X(2), 0xD002
    li t0, X(1)
    li a1, 0x51
    sd a1, 8(t0)                  /* store entry too */
    MAPX 1, DP(4), RW
    MAPX 2, DP(5), RW
    SFENCE_VA X(1)
    EXPECT_LD X(1), 0xD004
    li t0, X(1)
    li a1, 0x52
    sd a1, 8(t0)
    EXPECT_LD DP(4) + 8, 0x52     /* the store entry went too */
    EXPECT_LD DP(1) + 8, 0x51
    NEXT
    EXPECT_LD X(2), 0xD002        /* [Matryoshka] another page's entry stays */
    SFENCE_VA X(2)
    EXPECT_LD X(2), 0xD005

    /* ---- 3: SFENCE.VMA for any address of a superpage drops all its 4 KiB entries ---- */
    NEXT
    sfence.vma
    EXPECT_LD SPA + 0x5000, 0xA0005      /* TLB index 517 */
    EXPECT_LD SPA + 0x1ff000, 0xA01ff    /* TLB index 1023 */
    li t0, SPA + 0x10000                 /* TLB index 528: store entry */
    li a1, 0x53
    sd a1, 8(t0)
    EXPECT_LD X(1), 0xD004
    SETPTE l1, 1, MEGA_B, RW
    MAPX 1, DP(6), RW
    SFENCE_VA SPA + 0x33000              /* an address of the superpage never accessed */
    EXPECT_LD SPA + 0x5000, 0xB0005
    EXPECT_LD SPA + 0x1ff000, 0xB01ff
    li t0, SPA + 0x10000
    li a1, 0x54
    sd a1, 8(t0)
    EXPECT_LD MEGA_B + 0x10008, 0x54
    EXPECT_LD MEGA_A + 0x10008, 0x53
    NEXT
    EXPECT_LD X(1), 0xD004               /* [Matryoshka] a 4 KiB page of another leaf stays */

    /* ---- 4: the same with more than 64 refills since the last fence ---- */
    NEXT
    sfence.vma
    EXPECT_LD SPA + 0x5000, 0xB0005
    TOUCH100
    EXPECT_LD SPA + 0x1ff000, 0xB01ff    /* filled after the refill log overflowed */
    EXPECT_LD X(1), 0xD006
    SETPTE l1, 1, MEGA_A, RW
    MAPX 1, DP(7), RW
    SFENCE_VA SPA + 0x33000
    EXPECT_LD SPA + 0x5000, 0xA0005
    EXPECT_LD SPA + 0x1ff000, 0xA01ff
    NEXT
    EXPECT_LD X(1), 0xD006               /* [Matryoshka] */
    SFENCE_VA X(1)
    EXPECT_LD X(1), 0xD007

    /* ---- 5: SFENCE.VMA x0 with few and with many refills since the last fence ---- */
    NEXT
    sfence.vma
    EXPECT_LD X(1), 0xD007
    EXPECT_LD SPA + 0x5000, 0xA0005
    MAPX 1, DP(8), RW
    SETPTE l1, 1, MEGA_B, RW
    sfence.vma
    EXPECT_LD X(1), 0xD008
    EXPECT_LD SPA + 0x5000, 0xB0005
    NEXT
    sfence.vma
    EXPECT_LD X(1), 0xD008
    TOUCH100
    EXPECT_LD X(2), 0xD005               /* filled after the refill log overflowed */
    li t0, X(2)
    sd zero, 8(t0)
    MAPX 1, DP(9), RW
    MAPX 2, DP(10), RW
    sfence.vma
    EXPECT_LD X(1), 0xD009
    EXPECT_LD X(2), 0xD00A
    li t0, X(2)
    li a1, 0x55
    sd a1, 8(t0)
    EXPECT_LD DP(10) + 8, 0x55

    /* ---- 6: satp writes flush when the value changes (and only then [Matryoshka]) ---- */
    NEXT
    sfence.vma
    EXPECT_LD X(1), 0xD009
    la t0, rootB
    srli t0, t0, 12
    li t1, SATP_SV39 | (1 << 44)         /* ASID 1, never used before */
    or s2, t0, t1
    csrr s3, satp
    csrw satp, s2
    EXPECT_LD X(1), 0xD00B
    NEXT
    SETPTE l0B, 257, DP(12), RW
    csrw satp, s2                        /* same value */
    EXPECT_LD X(1), 0xD00B               /* [Matryoshka] entries kept */
    NEXT
    csrw satp, s3                        /* back to ASID 0 */
    EXPECT_LD X(1), 0xD009
    sfence.vma

    /* ---- 7: LR/SC/AMOs and the store TLB ---- */
    NEXT
    MAPX 3, DP(13), RW
    sfence.vma
    li t0, X(3)
    li a1, 0x100
    amoadd.d a2, a1, (t0)
    EXPECT a2, 0xD00D
    MAPX 3, DP(14), RW
    SFENCE_VA X(3)
    li t0, X(3)
    li a1, 0x100
    amoadd.d a2, a1, (t0)                /* must use the new page */
    EXPECT a2, 0xD00E
    EXPECT_LD DP(13), 0xD10D
    EXPECT_LD DP(14), 0xD10E
    NEXT
    li t0, X(3)
    sd zero, 8(t0)                       /* store entry of X(3) -> DP(14) */
    MAPX 3, DP(15), RW
    SFENCE_VA X(3)
    li t0, X(3)
    lr.d a2, (t0)
    EXPECT a2, 0xD00F
    addi a2, a2, 0x100
    li t0, X(3)
    sc.d a3, a2, (t0)
    EXPECT a3, 0
    EXPECT_LD DP(15), 0xD10F
    EXPECT_LD DP(14), 0xD10E
    NEXT
    /* [Matryoshka] an AMO's slow path fills the store TLB */
    MAPX 4, DP(16), RW
    sfence.vma
    li t0, X(4)
    li a1, 1
    amoadd.d a2, a1, (t0)
    EXPECT a2, 0xD010
    MAPX 4, DP(17), RW                   /* no fence */
    li t0, X(4)
    li a1, 0x77
    sd a1, 8(t0)
    EXPECT_LD DP(16) + 8, 0x77
    SFENCE_VA X(4)
    NEXT
    /* AMO on a read-only page whose load entry is cached: store/AMO page fault, no write */
    MAPX 5, DP(18), RO
    sfence.vma
    EXPECT_LD X(5), 0xD012
    CLEAR_TRAP
    li t0, X(5)
    li a1, 1
    amoadd.d a2, a1, (t0)
    EXPECT_TRAP 15
    EXPECTV trap_tval, X(5)
    EXPECT_LD DP(18), 0xD012
    li t0, X(5)
    lr.d a2, (t0)                        /* LR only reads */
    EXPECT_NO_TRAP
    EXPECT a2, 0xD012
    NEXT
    /* a store entry from before the page became read-only is fenced away */
    MAPX 6, DP(19), RW
    sfence.vma
    li t0, X(6)
    li a1, 0x78
    sd a1, 8(t0)
    MAPX 6, DP(19), RO
    SFENCE_VA X(6)
    li t0, X(6)
    li a1, 1
    amoswap.d a2, a1, (t0)
    EXPECT_TRAP 15
    EXPECT_LD DP(19), 0xD013
    NEXT
    /* self-modifying code through AMOSWAP: the decoded instruction must go */
    MAPX 7, SMCP, RWX
    sfence.vma
    li t0, X(7)
    li a1, 0x00100513                    /* addi a0, zero, 1 */
    sw a1, 0(t0)                         /* also fills the store TLB for the page */
    li a1, 0x00008067                    /* ret */
    sw a1, 4(t0)
    fence.i
    li a0, 0
    li t0, X(7)
    jalr t0
    EXPECT a0, 1
    NEXT
    li t0, X(7)
    li a1, 0x00200513                    /* addi a0, zero, 2 */
    amoswap.w a2, a1, (t0)
    EXPECT a2, 0x00100513
    fence.i
    li a0, 0
    li t0, X(7)
    jalr t0
    EXPECT a0, 2
    NEXT
    li t0, X(7)
    li a1, 0x00300513                    /* addi a0, zero, 3: again, now that the page holds code */
    amoswap.w a2, a1, (t0)
    fence.i
    li a0, 0
    li t0, X(7)
    jalr t0
    EXPECT a0, 3

    /* ---- 8: a 32-bit instruction across a page boundary (low half at X(32) + 0xffe) ---- */
    NEXT
    MAPX 32, CP0, RWX
    MAPX 33, CPA, RWX                    /* not CP0 + 4 KiB: physically elsewhere */
    sfence.vma
    li a0, 0
    li t0, X(32) + 0xffe
    jalr t0
    EXPECT a0, 1
    NEXT
    MAPX 33, CPB, RWX                    /* remap the second page only */
    SFENCE_VA X(33)
    li a0, 0
    li t0, X(32) + 0xffe
    jalr t0
    EXPECT a0, 2                         /* the new upper half ran */
    NEXT
    /* fetch page fault on the second page: sepc = the instruction, stval = the second page */
    ecall
    CLEAR_TRAP
    li t0, 1 << 12
    csrs medeleg, t0
    la t0, s_fetch_handler
    csrw stvec, t0
    GOTO_MODE 1, 2f
2:  MAPX 33, 0, 0
    SFENCE_VA X(33)
    li s2, 0
    li s3, 0
    li s4, 0
    li t0, X(32) + 0xffe
    jalr t0
    ecall                                /* only when no fault was taken */
    j fetch_back
    .align 2
s_fetch_handler:
    csrr s2, scause
    csrr s3, sepc
    csrr s4, stval
    ecall                                /* back in M-mode just below */
fetch_back:
    li t0, 1 << 12
    csrc medeleg, t0
    EXPECT s2, 12
    EXPECT s3, X(32) + 0xffe
    EXPECT s4, X(33)
    CLEAR_TRAP
    j pass

    .bss
    .align 12
root:  .space 4096
l1:    .space 4096
l0a:   .space 4096
l0b:   .space 4096
rootB: .space 4096
l1B:   .space 4096
l0B:   .space 4096
