#include "common.h"
#include "paging.h"
#include "hext.h"
/* Svade and Svadu (run with the H extension). With menvcfg.ADUE = 0 a missing A bit (any access) or
 * D bit (store) raises a page fault and the PTE is left alone; with ADUE = 1 the walk sets them, for
 * S-mode and G-stage translation; henvcfg.ADUE does the same for VS-stage translation and is
 * read-only zero while menvcfg.ADUE is 0 (Svadu chapter; menvcfg and henvcfg fields).
 * SVADU is 1 when built for a hart with Svadu, 0 for Svade alone (ADUE read-only zero). */
#ifndef SVADU
#error "build with -DSVADU=0 or -DSVADU=1"
#endif
    .option arch, +h
#define HGATP_SV39X4 (8 << 60)
#define ADUE (1 << 61)
#define VBASE 0x40000000
#define CAUSE_FETCH_PAGE 12
#define CAUSE_LOAD_PAGE 13
#define CAUSE_STORE_PAGE 15
#define CAUSE_LOAD_GUEST_PAGE 21
#define CAUSE_STORE_GUEST_PAGE 23

/* reg = the A and D bits of table[index] */
.macro AD reg, table, index
    la \reg, \table
    ld \reg, (\index) * 8(\reg)
    andi \reg, \reg, PTE_A | PTE_D
.endm
/* reg = envcfg CSR's ADUE bit */
.macro ADUE_OF reg, csr
    csrr \reg, \csr
    srli \reg, \reg, 61
    andi \reg, \reg, 1
.endm

test_main:
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
    /* Sv39: RAM and MMIO identity (A/D set); VA 0x40000000 page0 (A/D clear), +0x1000 page1 (A set,
     * D clear), +0x2000 code_page (execute-only, A clear). */
    SETPTE root, 0, 0, PTE_V|PTE_R|PTE_W|PTE_A|PTE_D
    SETPTE root, 2, 0x80000000, LEAF_ALL
    PTE_SYM root, 1, l1
    PTE_SYM l1, 0, l0
    PTE_SYM l0, 0, page0, PTE_V|PTE_R|PTE_W
    PTE_SYM l0, 1, page1, PTE_V|PTE_R|PTE_W|PTE_A
    PTE_SYM l0, 2, code_page, PTE_V|PTE_X
    SET_ATP satp, SATP_SV39, root
    sfence.vma

    /* ---------------- ADUE = 0: Svade ---------------- */
    NEXT
    ADUE_OF a0, menvcfg
    EXPECT a0, 0                    /* with Svade, ADUE resets to 0 */
    ADUE_OF a0, henvcfg
    EXPECT a0, 0
    CLEAR_TRAP
    GOTO_MODE 1, s_svade
s_svade:
    NEXT
    li s0, VBASE
    ld a0, 0(s0)
    EXPECT_TRAP CAUSE_LOAD_PAGE
    EXPECTV trap_tval, VBASE
    NEXT
    li s1, VBASE + 0x1000
    ld a0, 0(s1)
    EXPECT_NO_TRAP
    EXPECT a0, 0x2222
    sd a0, 8(s1)
    EXPECT_TRAP CAUSE_STORE_PAGE
    amoadd.d a0, a0, (s1)
    EXPECT_TRAP CAUSE_STORE_PAGE
    sc.d a0, a0, (s1)
    EXPECT_TRAP CAUSE_STORE_PAGE
    NEXT
    SET_RESUME m_after_fetch        /* the fetch fault returns to M-mode */
    li t0, VBASE + 0x2000
    jalr t0
    j fail
m_after_fetch:
    EXPECT_TRAP CAUSE_FETCH_PAGE
    EXPECTV trap_tval, VBASE + 0x2000
    NEXT
    AD a0, l0, 0
    EXPECT a0, 0                    /* the faults left every PTE as it was */
    AD a0, l0, 1
    EXPECT a0, PTE_A
    AD a0, l0, 2
    EXPECT a0, 0
    NEXT
    li t0, ADUE
    csrs henvcfg, t0
    ADUE_OF a0, henvcfg
    EXPECT a0, 0                    /* read-only zero while menvcfg.ADUE is 0 */

    /* ---------------- ADUE = 1 where Svadu is implemented ---------------- */
    NEXT
    li t0, ADUE
    csrs menvcfg, t0
    ADUE_OF a0, menvcfg
    EXPECT a0, SVADU
    sfence.vma
    CLEAR_TRAP
    GOTO_MODE 1, s_svadu
s_svadu:
    NEXT
    li s0, VBASE
    ld a0, 0(s0)
#if SVADU
    EXPECT_NO_TRAP
    EXPECT a0, 0x1111
    li s1, VBASE + 0x1000
    sd a0, 8(s1)
    EXPECT_NO_TRAP
    li t0, VBASE + 0x2000
    jalr t0                         /* code_page: ret */
    EXPECT_NO_TRAP
#else
    EXPECT_TRAP CAUSE_LOAD_PAGE
#endif
    ecall                           /* back to M-mode */
    NEXT
#if SVADU
    AD a0, l0, 0
    EXPECT a0, PTE_A
    AD a0, l0, 1
    EXPECT a0, PTE_A | PTE_D
    AD a0, l0, 2
    EXPECT a0, PTE_A
    la a1, page1
    ld a1, 8(a1)
    EXPECT a1, 0x1111
#else
    AD a0, l0, 0
    EXPECT a0, 0
#endif
    csrw satp, zero
    sfence.vma

    /* ---------------- G-stage: menvcfg.ADUE ---------------- */
    /* Sv39x4: RAM and MMIO identity (U, A/D set); GPA 0x40000000 -> page2 with A/D clear. VS-mode
     * runs with vsatp = Bare. */
    SETPTE g_root, 0, 0, PTE_V|PTE_R|PTE_W|PTE_U|PTE_A|PTE_D
    SETPTE g_root, 2, 0x80000000, LEAF_ALL|PTE_U
    PTE_SYM g_root, 1, g_l1
    PTE_SYM g_l1, 0, g_l0
    PTE_SYM g_l0, 0, page2, PTE_V|PTE_R|PTE_W|PTE_U
    SET_ATP hgatp, HGATP_SV39X4, g_root
    csrw vsatp, zero
    hfence.gvma
    NEXT
    li t0, ADUE
    csrc menvcfg, t0
    hfence.gvma
    CLEAR_TRAP
    SET_RESUME m_after_g0
    GOTO_V 1, vs_g0
vs_g0:
    li s0, VBASE
    ld a0, 0(s0)                    /* G-stage A clear: guest-page fault, back to M-mode */
    j fail
m_after_g0:
    EXPECT_TRAP CAUSE_LOAD_GUEST_PAGE
    AD a0, g_l0, 0
    EXPECT a0, 0
    NEXT
    li t0, ADUE
    csrs menvcfg, t0
    hfence.gvma
    CLEAR_TRAP
    SET_RESUME m_after_g1
    GOTO_V 1, vs_g1
vs_g1:
    li s0, VBASE
    ld a0, 0(s0)
    sd a0, 8(s0)
    ecall                           /* ecall from VS: back to M-mode */
    j fail
m_after_g1:
#if SVADU
    EXPECTV trap_cause, 10
    AD a0, g_l0, 0
    EXPECT a0, PTE_A | PTE_D
    la a1, page2
    ld a1, 8(a1)
    EXPECT a1, 0x3333
#else
    EXPECT_TRAP CAUSE_LOAD_GUEST_PAGE
    AD a0, g_l0, 0
    EXPECT a0, 0
#endif

    /* ---------------- VS-stage: henvcfg.ADUE ---------------- */
    /* VS Sv39: RAM and MMIO identity (A/D set); VA 0x40000000 -> page3 with A/D clear. The G-stage
     * stays as above (identity over RAM). */
    NEXT
    SETPTE vs_root, 0, 0, PTE_V|PTE_R|PTE_W|PTE_A|PTE_D
    SETPTE vs_root, 2, 0x80000000, LEAF_ALL
    PTE_SYM vs_root, 1, vs_l1
    PTE_SYM vs_l1, 0, vs_l0
    PTE_SYM vs_l0, 0, page3, PTE_V|PTE_R|PTE_W
    SET_ATP vsatp, SATP_SV39, vs_root
    li t0, ADUE
    csrc henvcfg, t0
    hfence.vvma
    CLEAR_TRAP
    SET_RESUME m_after_vs0
    GOTO_V 1, vs_vs0
vs_vs0:
    li s0, VBASE
    ld a0, 0(s0)                    /* VS-stage A clear: page fault (not a guest-page fault) */
    j fail
m_after_vs0:
    EXPECT_TRAP CAUSE_LOAD_PAGE
    AD a0, vs_l0, 0
    EXPECT a0, 0
    NEXT
    li t0, ADUE
    csrs henvcfg, t0
    ADUE_OF a0, henvcfg
    EXPECT a0, SVADU
    hfence.vvma
    CLEAR_TRAP
    SET_RESUME m_after_vs1
    GOTO_V 1, vs_vs1
vs_vs1:
    li s0, VBASE
    ld a0, 0(s0)
    sd a0, 8(s0)
    ecall
    j fail
m_after_vs1:
#if SVADU
    EXPECTV trap_cause, 10
    AD a0, vs_l0, 0
    EXPECT a0, PTE_A | PTE_D
    la a1, page3
    ld a1, 8(a1)
    EXPECT a1, 0x4444
    NEXT
    /* Clearing menvcfg.ADUE clears henvcfg.ADUE (read-only zero again). */
    li t0, ADUE
    csrc menvcfg, t0
    ADUE_OF a0, henvcfg
    EXPECT a0, 0
#else
    EXPECT_TRAP CAUSE_LOAD_PAGE
#endif
    j pass

    .text
    .align 12
code_page:
    ret

    .data
    .align 12
page0: .space 4096
page1: .space 4096
page2: .space 4096
page3: .space 4096

    .bss
    .align 14
g_root:  .space 16384
    .align 12
g_l1:    .space 4096
g_l0:    .space 4096
root:    .space 4096
l1:      .space 4096
l0:      .space 4096
vs_root: .space 4096
vs_l1:   .space 4096
vs_l0:   .space 4096
