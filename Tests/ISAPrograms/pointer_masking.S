#include "common.h"
#include "paging.h"
#include "hext.h"
/* Pointer masking (Smnpm, Ssnpm; run with the H extension): menvcfg.PMM for S-mode, senvcfg.PMM for
 * U-mode, henvcfg.PMM for VS-mode, hstatus.HUPMM for HLV/HSV as VU. PMM=2 ignores the upper 7 bits
 * of a data address, PMM=3 the upper 16: sign-extended under a virtual-memory scheme, zero-extended
 * under Bare. A fault reports the transformed address; MXR turns masking off; the reserved PMM=1
 * keeps the old setting; turning masking off makes a tagged address fault again (no stale TLB). */
    .option arch, +h
#define PMM2 (2 << 32)
#define PMM3 (3 << 32)
#define HUPMM3 (3 << 48)
#define MARKER 0x1234abcd
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_LOAD_PAGE 13

/* reg = the PMM field (bits 33:32) of csr */
.macro PMM_OF reg, csr
    csrr \reg, \csr
    srli \reg, \reg, 32
    andi \reg, \reg, 3
.endm
/* U-mode at label's 0xC0000000 alias (a U page) */
.macro GOTO_U_ALIAS label
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    la t6, \label
    li t5, 0x40000000
    add t6, t6, t5
    csrw mepc, t6
    mret
.endm
/* reg = base | (tag << shift) */
.macro TAG reg, base, tag, shift
    li \reg, \tag
    slli \reg, \reg, \shift
    or \reg, \reg, \base
.endm

test_main:
    li a0, MARKER
    la t0, data
    sd a0, 0(t0)
    /* Sv39: MMIO and RAM identity; VA 0x40000000 -> RAM (S); VA 0xC0000000 -> RAM (U). */
    SETPTE root, 0, 0, PTE_V|PTE_R|PTE_W|PTE_A|PTE_D
    SETPTE root, 1, 0x80000000, PTE_V|PTE_R|PTE_W|PTE_A|PTE_D
    SETPTE root, 2, 0x80000000, LEAF_ALL
    SETPTE root, 3, 0x80000000, LEAF_ALL|PTE_U

    /* PMM is WARL: 0, 2 and 3 stick, the reserved 1 keeps the old value. */
    NEXT
    li t0, PMM3
    csrs menvcfg, t0
    PMM_OF a0, menvcfg
    EXPECT a0, 3
    csrc menvcfg, t0
    li t0, 1 << 32
    csrs menvcfg, t0
    PMM_OF a0, menvcfg
    EXPECT a0, 0
    li t0, PMM2
    csrs senvcfg, t0
    PMM_OF a0, senvcfg
    EXPECT a0, 2
    csrc senvcfg, t0
    li t0, PMM3
    csrs henvcfg, t0
    PMM_OF a0, henvcfg
    EXPECT a0, 3
    csrc henvcfg, t0
    li t0, HUPMM3
    csrs hstatus, t0
    csrr a0, hstatus
    srli a0, a0, 48
    andi a0, a0, 3
    EXPECT a0, 3
    csrc hstatus, t0

    /* S-mode under Sv39 with PMLEN 7. */
    NEXT
    SET_ATP satp, SATP_SV39, root
    sfence.vma
    li t0, PMM2
    csrs menvcfg, t0
    CLEAR_TRAP
    GOTO_MODE 1, s_pm7
s_pm7:
    la s0, data
    li t0, 0x40000000
    sub s0, s0, t0                    /* data through VA 0x40000000 */
    TAG s1, s0, 0x55, 57
    ld a0, 0(s1)
    EXPECT_NO_TRAP
    EXPECT a0, MARKER
    sd a0, 8(s1)
    EXPECT_NO_TRAP
    addi s2, s1, 8
    amoadd.d a1, zero, (s2)
    EXPECT_NO_TRAP
    EXPECT a1, MARKER                 /* the store and the AMO reached the same place */
    /* Bit 56 set: the sign extension gives a non-canonical address, reported as transformed. */
    li t0, 1
    slli t0, t0, 56
    or s2, s0, t0
    ld a0, 0(s2)
    EXPECT_TRAP CAUSE_LOAD_PAGE
    li t0, 0x7f
    slli t0, t0, 57
    or s3, s2, t0
    la t6, trap_tval
    ld t6, 0(t6)
    EXPECTR t6, s3
    ecall                             /* back to M-mode */

    /* PMM back to 0: the tagged address faults again, reported as it is. */
    NEXT
    li t0, PMM3
    csrc menvcfg, t0
    CLEAR_TRAP
    GOTO_MODE 1, s_off
s_off:
    ld a0, 0(s1)
    EXPECT_TRAP CAUSE_LOAD_PAGE
    la t6, trap_tval
    ld t6, 0(t6)
    EXPECTR t6, s1
    ecall

    /* PMLEN 16. */
    NEXT
    li t0, PMM3
    csrs menvcfg, t0
    CLEAR_TRAP
    GOTO_MODE 1, s_pm16
s_pm16:
    TAG s1, s0, 0xabcd, 48
    ld a0, 0(s1)
    EXPECT_NO_TRAP
    EXPECT a0, MARKER
    ecall

    /* MXR in effect: no masking. */
    NEXT
    li t0, MSTATUS_MXR
    csrs mstatus, t0
    CLEAR_TRAP
    GOTO_MODE 1, s_mxr
s_mxr:
    ld a0, 0(s1)
    EXPECT_TRAP CAUSE_LOAD_PAGE
    ecall
    li t0, MSTATUS_MXR
    csrc mstatus, t0

    /* U-mode: senvcfg.PMM (menvcfg's does not apply to U). U-mode code runs at the 0xC0000000 alias,
     * so its first trap (not an ecall, which the handler returns from in place) resumes in M-mode
     * through SET_RESUME, and the checks run there. */
    NEXT
    li t0, PMM2
    csrs senvcfg, t0
    CLEAR_TRAP
    SET_RESUME m_after_u
    GOTO_U_ALIAS u_pm7
u_pm7:
    la s0, data                       /* pc-relative: the alias */
    TAG s1, s0, 0x2a, 57
    ld a0, 0(s1)
    csrr a1, mscratch                 /* illegal in U-mode: back to M-mode through SET_RESUME */
    j fail
m_after_u:
    EXPECTV trap_cause, 2
    EXPECT a0, MARKER
    NEXT
    li t0, PMM3
    csrc senvcfg, t0
    CLEAR_TRAP
    SET_RESUME m_after_u_off
    GOTO_U_ALIAS u_off
u_off:
    ld a0, 0(s1)
    j fail
m_after_u_off:
    EXPECT_TRAP CAUSE_LOAD_PAGE

    /* S-mode, Bare: a physical address is zero-extended. */
    NEXT
    csrw satp, zero
    sfence.vma
    CLEAR_TRAP
    GOTO_MODE 1, s_bare
s_bare:
    la s0, data
    TAG s1, s0, 0xabcd, 48
    ld a0, 0(s1)
    EXPECT_NO_TRAP
    EXPECT a0, MARKER
    ecall
    NEXT
    li t0, PMM3
    csrc menvcfg, t0
    CLEAR_TRAP
    GOTO_MODE 1, s_bare_off
s_bare_off:
    ld a0, 0(s1)
    EXPECT_TRAP CAUSE_LOAD_ACCESS
    ecall

    /* VS-mode (vsatp and hgatp Bare): henvcfg.PMM, guest-physical addresses zero-extended. */
    NEXT
    csrw hgatp, zero
    csrw vsatp, zero
    li t0, PMM3
    csrs henvcfg, t0
    CLEAR_TRAP
    GOTO_V 1, vs_pm
vs_pm:
    ld a0, 0(s1)
    SET_RESUME m_after_vs_pm
    ecall                             /* ecall from VS: back to M-mode */
    j fail
m_after_vs_pm:
    EXPECTV trap_cause, 10
    EXPECT a0, MARKER
    NEXT
    li t0, PMM3
    csrc henvcfg, t0
    CLEAR_TRAP
    SET_RESUME m_after_vs_off
    GOTO_V 1, vs_off
vs_off:
    ld a0, 0(s1)
    j fail
m_after_vs_off:
    EXPECT_TRAP CAUSE_LOAD_ACCESS

    /* HLV from HS-mode as VU (hstatus.SPVP = 0): hstatus.HUPMM. */
    NEXT
    li t0, HUPMM3
    csrs hstatus, t0
    CLEAR_TRAP
    GOTO_MODE 1, hs_hlv
hs_hlv:
    hlv.d a0, (s1)
    EXPECT_NO_TRAP
    EXPECT a0, MARKER
    ecall
    NEXT
    li t0, HUPMM3
    csrc hstatus, t0
    CLEAR_TRAP
    GOTO_MODE 1, hs_hlv_off
hs_hlv_off:
    hlv.d a0, (s1)
    EXPECT_TRAP CAUSE_LOAD_ACCESS
    ecall
    j pass

    .data
    .align 12
data: .dword 0, 0

    .bss
    .align 12
root: .space 4096
