#include "common.h"
/* TLB contexts: translations are tagged by satp (ASID and root), so switching satp must never expose
 * another context's entries, and fences must reach contexts that are not current: SFENCE.VMA with an
 * ASID, with an address, and a recycled (least recently used) context. Runs in M-mode with MPRV=1 and
 * MPP=S, so loads and stores translate through satp while instruction fetch stays bare. */
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_A 64
#define PTE_D 128
#define LEAF (PTE_V|PTE_R|PTE_W|PTE_X|PTE_A|PTE_D)
#define VBASE 0x40000000
#define SV39 (8 << 60)

/* table[index] = PTE pointing at symbol target (written with MPRV off: bare M-mode stores). */
.macro PTE table, index, target, flags
    la t0, \table
    la t1, \target
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, \flags
    sd t1, (\index * 8)(t0)
.endm
/* satp = Sv39 | asid << 44 | root (no fence). */
.macro SATP root, asid
    la t0, \root
    srli t0, t0, 12
    li t1, SV39 | (\asid << 44)
    or t0, t0, t1
    csrw satp, t0
.endm
/* a0 = the doubleword at VBASE, loaded with MPRV (translated as S-mode). */
.macro LOADV
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    li t1, VBASE
    ld a0, 0(t1)
    csrc mstatus, t0
.endm

test_main:
    /* MPP = S for MPRV */
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0
    /* Root A: VBASE -> pageA1 through l1a/l0a; root B: VBASE -> pageB. */
    PTE rootA, 1, l1a, PTE_V
    PTE l1a, 0, l0a, PTE_V
    PTE l0a, 0, pageA1, LEAF
    PTE rootB, 1, l1b, PTE_V
    PTE l1b, 0, l0b, PTE_V
    PTE l0b, 0, pageB, LEAF
    li a0, 0xa1
    la a1, pageA1
    sd a0, 0(a1)
    li a0, 0xa2
    la a1, pageA2
    sd a0, 0(a1)
    li a0, 0xb0
    la a1, pageB
    sd a0, 0(a1)
    sfence.vma

    /* --- a switch never shows the other context's entries --- */
    NEXT
    SATP rootA, 1
    LOADV
    EXPECT a0, 0xa1
    NEXT
    SATP rootB, 2
    LOADV
    EXPECT a0, 0xb0
    NEXT
    SATP rootA, 1
    LOADV
    EXPECT a0, 0xa1

    /* --- SFENCE.VMA x0, asid from another context reaches that ASID's entries --- */
    NEXT
    PTE l0a, 0, pageA2, LEAF          /* A's leaf changes while A's translation is cached */
    SATP rootB, 2
    LOADV
    EXPECT a0, 0xb0
    li t2, 1
    sfence.vma x0, t2                 /* ASID 1, issued in ASID 2's context */
    SATP rootA, 1
    LOADV
    EXPECT a0, 0xa2

    /* --- SFENCE.VMA va, x0 reaches every context's entry for va --- */
    NEXT
    PTE l0a, 0, pageA1, LEAF
    SATP rootB, 2
    LOADV
    EXPECT a0, 0xb0
    li t2, VBASE
    sfence.vma t2, x0
    SATP rootA, 1
    LOADV
    EXPECT a0, 0xa1

    /* --- SFENCE.VMA va, asid: that address in that ASID only is required; check it is reached --- */
    NEXT
    PTE l0a, 0, pageA2, LEAF
    SATP rootB, 2
    li t2, VBASE
    li t3, 1
    sfence.vma t2, t3
    SATP rootA, 1
    LOADV
    EXPECT a0, 0xa2

    /* --- a context recycled for a new satp starts empty: fill ASID 7 (root A, pageA2), then use
     *     more address spaces on root B than there are contexts; ASID 7's context is recycled for
     *     one of them, which must still read root B's page --- */
    NEXT
    SATP rootA, 7
    LOADV
    EXPECT a0, 0xa2
    SATP rootB, 8
    LOADV
    EXPECT a0, 0xb0
    SATP rootB, 9
    LOADV
    EXPECT a0, 0xb0
    SATP rootB, 10
    LOADV
    EXPECT a0, 0xb0
    SATP rootB, 11
    LOADV
    EXPECT a0, 0xb0
    SATP rootB, 12
    LOADV
    EXPECT a0, 0xb0

    /* --- full SFENCE.VMA reaches every context --- */
    NEXT
    PTE l0a, 0, pageA1, LEAF
    sfence.vma
    SATP rootA, 3
    LOADV
    EXPECT a0, 0xa1
    PTE l0a, 0, pageA2, LEAF
    SATP rootB, 4
    sfence.vma
    SATP rootA, 3
    LOADV
    EXPECT a0, 0xa2

    csrw satp, zero
    j pass

    .bss
    .align 12
rootA:  .space 4096
l1a:    .space 4096
l0a:    .space 4096
rootB:  .space 4096
l1b:    .space 4096
l0b:    .space 4096
pageA1: .space 4096
pageA2: .space 4096
pageB:  .space 4096
