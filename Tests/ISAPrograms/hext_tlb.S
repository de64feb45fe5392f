#include "common.h"
#include "hext.h"
#include "paging.h"
    .option arch, +h
/* Software TLB with the H extension: the combined guest (V=1) entries, the G-stage translation cache
 * and the fences and CSR writes that must (or, [Matryoshka], need not) drop them. Runs with
 * MachineConfig.hypervisor = true. Checks marked [Matryoshka] rely on this emulator's design (the
 * architecture would allow flushing more): a stale value surviving there shows that a cache is in use
 * and that an operation does not over-flush. Every other check is architectural.
 *
 * The guest runs in VS-mode on identity-mapped code (VS VA 0x80000000 -> GPA 0x80000000 -> PA
 * 0x80000000, both 1 GiB pages). Each GUEST_LD loads one doubleword in VS-mode into s0 and ECALLs; the
 * default trap handler resumes M-mode after it (trap_resume), so a fault lands there too.
 * VS-stage: V(n) = 0x40100000 + n pages -> vs_l0[256 + n]; 0x40200000 is a 2 MiB page (vs_l1[1]).
 * G-stage (Sv39x4): G(n) = GPA 0xC0000000 + 256 + n pages -> g_l0[256 + n]. The TLB (1024 entries) and
 * G-stage cache (2048) indices used stay clear of those of the program's own pages. DP(n) are data pages with marker
 * 0xD000 + n; MEGA_A/MEGA_B hold 0xA0000 + k / 0xB0000 + k at the start of their k-th 4 KiB page. */
#define G_RWX 0xdf                 /* D A U X W R V */
#define G_XO  0x59                 /* A U X V: execute-only */
#define G_RO  0x53                 /* A U R V: read-only */
#define VS_RW 0xc7                 /* D A W R V */
#define VS_RWX 0xcf
#define SATP_SV39 (8 << 60)
#define V(n) (0x40100000 + (n) * 0x1000)
#define G(n) (0xC0000000 + (256 + (n)) * 0x1000)
#define SPA 0x40200000
#define MEGA_A 0x80400000
#define MEGA_B 0x80600000
#define DP(n) (0x80800000 + (n) * 0x1000)

/* guest page V(n) -> G(g); G(g) -> physical page pa */
.macro VMAP n, g
    SETPTE vs_l0, 256 + (\n), G(\g), VS_RW
.endm
.macro GMAP g, pa, flags
    SETPTE g_l0, 256 + (\g), \pa, \flags
.endm
/* s0 = doubleword at guest VA va, loaded in VS-mode; then trap_cause is 10 (the ECALL) or the fault. */
.macro GUEST_LD va
    li s0, 0
    li s1, \va
    SET_RESUME 1001f
    GOTO_V 1, 1002f
1002:
    ld s0, 0(s1)
    ecall
1001:
.endm
/* Fail unless the guest load of va returns val without a trap. */
.macro EXPECT_GUEST va, val
    GUEST_LD \va
    EXPECT_TRAP 10
    EXPECT s0, \val
.endm

test_main:
    MARKERS DP(0), 0xD000, 32
    MARKERS MEGA_A, 0xA0000, 512
    MARKERS MEGA_B, 0xB0000, 512
    /* G-stage: GPA 0x80000000 identity (1 GiB), GPA 0xC0000000 through g_l1/g_l0 */
    SETPTE g_root, 2, 0x80000000, G_RWX
    PTE_SYM g_root, 3, g_l1
    PTE_SYM g_l1, 0, g_l0
    /* VS-stage: VA 0x80000000 identity (1 GiB), VA 0x40000000 through vs_l1/vs_l0 */
    SETPTE vs_root, 2, 0x80000000, VS_RWX
    PTE_SYM vs_root, 1, vs_l1
    PTE_SYM vs_l1, 0, vs_l0
    SETPTE vs_l1, 1, MEGA_A, VS_RW
    /* second VS root: VA 0x40000000 -> GPA 0xC0000000 (1 GiB) */
    SETPTE vs_root2, 2, 0x80000000, VS_RWX
    SETPTE vs_root2, 1, 0xC0000000, VS_RW   /* V(n) -> G(n) */
    la a0, g_root
    srli a0, a0, 12
    li a1, SATP_SV39
    or s10, a0, a1                 /* hgatp, VMID 0 */
    csrw hgatp, s10
    la a0, vs_root
    srli a0, a0, 12
    or s11, a0, a1                 /* vsatp, ASID 0 */
    csrw vsatp, s11
    hfence.gvma

    /* ---- 1: the G-stage cache survives HFENCE.VVMA and VS-mode SFENCE.VMA, not HFENCE.GVMA ---- */
    NEXT
    VMAP 1, 1
    GMAP 1, DP(1), G_RWX
    hfence.gvma
    EXPECT_GUEST V(1), 0xD001
    GMAP 1, DP(2), G_RWX           /* G-stage change, no fence yet */
    hfence.vvma                    /* drops the guest TLB entries only */
    EXPECT_GUEST V(1), 0xD001      /* [Matryoshka] G(1) still cached */
    NEXT
    SET_RESUME 1f
    GOTO_V 1, 2f
2:  sfence.vma                     /* VS-mode: guest translations only */
    li s1, V(1)
    ld s0, 0(s1)
    ecall
1:  EXPECT_TRAP 10
    EXPECT s0, 0xD001              /* [Matryoshka] */
    NEXT
    hfence.gvma
    EXPECT_GUEST V(1), 0xD002

    /* ---- 2: hgatp writes clear the G-stage cache when the value changes (only then [Matryoshka]) ---- */
    NEXT
    GMAP 1, DP(3), G_RWX
    li t0, 1 << 44
    or s9, s10, t0                 /* VMID 1, never used before */
    csrw hgatp, s9
    EXPECT_GUEST V(1), 0xD003
    NEXT
    GMAP 1, DP(4), G_RWX
    csrw hgatp, s9                 /* same value */
    hfence.vvma                    /* only the G-stage cache can still serve G(1) */
    EXPECT_GUEST V(1), 0xD003      /* [Matryoshka] */
    csrw hgatp, s10
    hfence.gvma
    EXPECT_GUEST V(1), 0xD004

    /* ---- 3: mstatus.MXR changes clear the G-stage cache ---- */
    NEXT
    VMAP 2, 2
    GMAP 2, DP(5), G_XO            /* execute-only in the G-stage */
    hfence.gvma
    li t0, MSTATUS_MXR
    csrs mstatus, t0
    EXPECT_GUEST V(2), 0xD005      /* readable through MXR */
    NEXT
    li t0, MSTATUS_MXR
    csrc mstatus, t0
    GUEST_LD V(2)
    EXPECT_TRAP 21                 /* load guest-page fault once MXR is clear */
    GMAP 2, DP(5), G_RWX
    hfence.gvma

    /* ---- 3b: a G-stage cache entry records which accesses passed: a load does not let a store through ---- */
    NEXT
    VMAP 10, 10
    GMAP 10, DP(20), G_RO
    hfence.gvma
    EXPECT_GUEST V(10), 0xD014
    SET_RESUME 1f
    li s1, V(10)
    GOTO_V 1, 2f
2:  sd zero, 0(s1)
    ecall
1:  EXPECT_TRAP 23                 /* store guest-page fault */
    li t0, DP(20)
    ld a0, 0(t0)
    EXPECT a0, 0xD014

    /* ---- 4: PMP writes clear the G-stage cache [Matryoshka: no fence needed after the write] ---- */
    NEXT
    VMAP 3, 3
    GMAP 3, DP(6), G_RWX
    hfence.gvma
    EXPECT_GUEST V(3), 0xD006
    la t0, g_l0                    /* PMP entry 0: the G-stage leaf table, no S/U access */
    srli t0, t0, 2
    ori t0, t0, 0x1ff
    csrw pmpaddr0, t0
    li t0, 0x18                    /* NAPOT, no permissions */
    csrw pmpcfg0, t0
    GUEST_LD V(3)
    EXPECT_TRAP 5                  /* the G-stage walk cannot read g_l0: load access fault */
    NEXT
    csrw pmpcfg0, zero
    EXPECT_GUEST V(3), 0xD006

    /* ---- 5: HFENCE.VVMA and VS-mode SFENCE.VMA for one guest address ---- */
    NEXT
    VMAP 4, 4
    VMAP 5, 5
    GMAP 4, DP(7), G_RWX
    GMAP 5, DP(8), G_RWX
    GMAP 6, DP(9), G_RWX
    GMAP 7, DP(10), G_RWX
    hfence.gvma
    EXPECT_GUEST V(4), 0xD007
    EXPECT_GUEST V(5), 0xD008
    VMAP 4, 6                      /* VS-stage changes */
    VMAP 5, 7
    li t0, V(4)
    hfence.vvma t0, zero
    EXPECT_GUEST V(4), 0xD009
    NEXT
    EXPECT_GUEST V(5), 0xD008      /* [Matryoshka] another page's entry stays */
    NEXT
    SET_RESUME 1f
    GOTO_V 1, 2f
2:  li t0, V(5)
    sfence.vma t0, zero
    li s1, V(5)
    ld s0, 0(s1)
    ecall
1:  EXPECT_TRAP 10
    EXPECT s0, 0xD00A
    NEXT
    /* a VS-stage superpage: any of its addresses drops all its 4 KiB entries */
    SETPTE vs_l1, 1, MEGA_A, VS_RW
    hfence.gvma
    EXPECT_GUEST SPA + 0x5000, 0xA0005
    EXPECT_GUEST SPA + 0x1ff000, 0xA01ff
    SETPTE vs_l1, 1, MEGA_B, VS_RW
    li t0, SPA + 0x33000
    hfence.vvma t0, zero
    EXPECT_GUEST SPA + 0x5000, 0xB0005
    EXPECT_GUEST SPA + 0x1ff000, 0xB01ff

    /* ---- 6: SFENCE.VMA with V=0 keeps the guest entries [Matryoshka] ---- */
    NEXT
    VMAP 8, 8
    GMAP 8, DP(11), G_RWX
    GMAP 9, DP(12), G_RWX
    hfence.gvma
    EXPECT_GUEST V(8), 0xD00B
    VMAP 8, 9
    sfence.vma
    EXPECT_GUEST V(8), 0xD00B
    NEXT
    hfence.vvma
    EXPECT_GUEST V(8), 0xD00C

    /* ---- 7: vsatp writes flush the guest entries when the value changes (only then [Matryoshka]) ---- */
    NEXT
    VMAP 20, 21
    GMAP 21, DP(21), G_RWX
    GMAP 20, DP(13), G_RWX         /* vs_root2 maps V(20) to G(20) */
    hfence.vvma
    EXPECT_GUEST V(20), 0xD015
    la t0, vs_root2
    srli t0, t0, 12
    li t1, SATP_SV39 | (1 << 44)   /* ASID 1, never used before */
    or s9, t0, t1
    csrw vsatp, s9
    EXPECT_GUEST V(20), 0xD00D
    NEXT
    PTE_SYM vs_root2, 1, vs_l1     /* now V(20) -> G(21) -> DP(21) */
    csrw vsatp, s9                 /* same value */
    EXPECT_GUEST V(20), 0xD00D     /* [Matryoshka] */
    NEXT
    csrw vsatp, s11
    EXPECT_GUEST V(20), 0xD015
    j pass

    .bss
    .align 14
g_root:   .space 16384
    .align 12
g_l1:     .space 4096
g_l0:     .space 4096
vs_root:  .space 4096
vs_l1:    .space 4096
vs_l0:    .space 4096
vs_root2: .space 4096
