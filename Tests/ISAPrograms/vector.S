#include "common.h"
#include "hext.h"
/* The vector extension's privileged side and its traps (V 1.0 §31.3, §31.7.9; H §"vsstatus"), which
 * the QEMU differential tests cannot reach (a trap ends their run): misa.V; mstatus.VS Off makes
 * vector instructions and CSRs illegal, and any vector state change makes it Dirty (with SD); a
 * load or store that faults part-way stops with vstart at the faulting element, keeps the elements
 * before it, and resumes from vstart; fault-only-first trims vl instead of trapping; a reserved
 * vtype sets vill, after which vector arithmetic and loads are illegal; vcsr packs vxrm and vxsat;
 * under V=1 vsstatus.VS gates as well, and both VS fields turn Dirty. Run with H and VLEN 128. */
    .option arch, +v, +h
#define MSTATUS_VS (3 << 9)
#define MSTATUS_VS_INITIAL (1 << 9)
#define MSTATUS_SD (1 << 63)
#define RAM_END 0x84000000
#define CAUSE_ILLEGAL 2
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_STORE_ACCESS 7

test_main:
    /* misa.V */
    NEXT
    csrr a0, misa
    srli a0, a0, 21
    andi a0, a0, 1
    EXPECT a0, 1

    /* VS Off (reset): vsetvli and vl are illegal. */
    NEXT
    li t0, MSTATUS_VS
    csrc mstatus, t0
    CLEAR_TRAP
    vsetvli a0, zero, e8, m1, ta, ma
    EXPECT_TRAP CAUSE_ILLEGAL
    csrr a0, vl
    EXPECT_TRAP CAUSE_ILLEGAL
    csrr a0, vlenb
    EXPECT_TRAP CAUSE_ILLEGAL

    /* VS Initial: vlenb is 16; a vsetvli makes VS Dirty and sets SD. */
    NEXT
    li t0, MSTATUS_VS_INITIAL
    csrs mstatus, t0
    csrr a0, vlenb
    EXPECT a0, 16
    csrr a0, mstatus
    srli a0, a0, 9
    andi a0, a0, 3
    EXPECT a0, 1
    li a1, 1000
    vsetvli a0, a1, e8, m1, ta, ma
    EXPECT a0, 16
    csrr a0, mstatus
    srli a1, a0, 9
    andi a1, a1, 3
    EXPECT a1, 3
    srli a0, a0, 63
    EXPECT a0, 1
    EXPECT_NO_TRAP

    /* A unit-stride load running off the end of RAM: access fault at element 8 (the first byte past
     * RAM), elements 0-7 loaded, 8-15 untouched, vstart = 8. */
    NEXT
    vsetivli zero, 16, e8, m1, tu, mu
    la t0, sevens
    vle8.v v1, (t0)
    li t0, 0xabcdef
    li a1, RAM_END - 8
    sd t0, 0(a1)
    SET_RESUME 1f
load_faults:
    vle8.v v1, (a1)
    j fail
1:  EXPECT_TRAP CAUSE_LOAD_ACCESS
    EXPECTV trap_tval, RAM_END
    la t0, load_faults
    la t1, trap_epc
    ld t1, 0(t1)
    EXPECTR t0, t1
    csrr a0, vstart
    EXPECT a0, 8
    vsetivli zero, 16, e8, m1, tu, mu   /* resets vstart */
    csrr a0, vstart
    EXPECT a0, 0
    la t0, vbuf
    vse8.v v1, (t0)
    ld a0, 0(t0)
    EXPECT a0, 0xabcdef
    ld a0, 8(t0)
    EXPECT a0, 0x0707070707070707

    /* Resuming at vstart: elements 0-7 keep their values, 8-15 come from the (new) base. */
    NEXT
    la t0, sevens
    vle8.v v1, (t0)
    la a1, pattern
    li t0, 8
    csrw vstart, t0
    vle8.v v1, (a1)
    csrr a0, vstart
    EXPECT a0, 0
    la t0, vbuf
    vse8.v v1, (t0)
    ld a0, 0(t0)
    EXPECT a0, 0x0707070707070707
    ld a0, 8(t0)
    li t1, 0x100f0e0d0c0b0a09
    EXPECTR a0, t1

    /* A store running off the end of RAM: bytes 0-7 written, store access fault, vstart = 8. */
    NEXT
    li a1, RAM_END - 8
    sd zero, 0(a1)
    la t0, pattern
    vle8.v v2, (t0)
    SET_RESUME 1f
    vse8.v v2, (a1)
    j fail
1:  EXPECT_TRAP CAUSE_STORE_ACCESS
    EXPECTV trap_tval, RAM_END
    csrr a0, vstart
    EXPECT a0, 8
    li a1, RAM_END - 8
    ld a0, 0(a1)
    li t1, 0x0807060504030201
    EXPECTR a0, t1
    csrwi vstart, 0

    /* A strided load faulting at element 2 of 4 (e32, stride 0x100): vstart = 2. */
    NEXT
    vsetivli zero, 4, e32, m1, tu, mu
    li a1, RAM_END - 0x200
    li t2, 0x100
    SET_RESUME 1f
    vlse32.v v3, (a1), t2
    j fail
1:  EXPECT_TRAP CAUSE_LOAD_ACCESS
    EXPECTV trap_tval, RAM_END
    csrr a0, vstart
    EXPECT a0, 2
    csrwi vstart, 0

    /* Fault-only-first: the fault at element 8 trims vl to 8 and does not trap. */
    NEXT
    vsetivli zero, 16, e8, m1, tu, mu
    li a1, RAM_END - 8
    CLEAR_TRAP
    vle8ff.v v4, (a1)
    EXPECT_NO_TRAP
    csrr a0, vl
    EXPECT a0, 8
    /* ... but a fault at element 0 traps. */
    li a1, RAM_END
    SET_RESUME 1f
    vle8ff.v v4, (a1)
    j fail
1:  EXPECT_TRAP CAUSE_LOAD_ACCESS
    csrr a0, vl
    EXPECT a0, 8
    csrwi vstart, 0

    /* A segment load faulting in its second segment: vstart = 1 (the segment restarts). */
    NEXT
    vsetivli zero, 4, e16, m1, tu, mu
    li a1, RAM_END - 6
    SET_RESUME 1f
    vlseg3e16.v v8, (a1)
    j fail
1:  EXPECT_TRAP CAUSE_LOAD_ACCESS
    csrr a0, vstart
    EXPECT a0, 1
    csrwi vstart, 0

    /* A whole-register load faulting at byte 8: vstart counts EEW elements (e16: 4). */
    NEXT
    li a1, RAM_END - 8
    SET_RESUME 1f
    vl1re16.v v5, (a1)
    j fail
1:  EXPECT_TRAP CAUSE_LOAD_ACCESS
    csrr a0, vstart
    EXPECT a0, 4
    csrwi vstart, 0

    /* A reserved vtype sets vill (vtype = 1 << 63, vl = 0); loads are then illegal, whole-register
     * moves through memory are not. */
    NEXT
    li t0, 4          /* LMUL 4 is reserved */
    li t1, 8
    vsetvl a0, t1, t0
    EXPECT a0, 0
    csrr a0, vtype
    li t1, 1 << 63
    EXPECTR a0, t1
    csrr a0, vl
    EXPECT a0, 0
    CLEAR_TRAP
    la a1, pattern
    vle8.v v1, (a1)
    EXPECT_TRAP CAUSE_ILLEGAL
    vl1re8.v v1, (a1)
    EXPECT_NO_TRAP
    /* e64 with LMUL 1/2 is SEW > LMUL * ELEN: vill too. */
    vsetvli a0, zero, e64, mf2, ta, ma
    csrr a0, vtype
    li t1, 1 << 63
    EXPECTR a0, t1

    /* vcsr = vxrm << 1 | vxsat; vxrm and vxsat are its fields. */
    NEXT
    csrwi vcsr, 7
    csrr a0, vxrm
    EXPECT a0, 3
    csrr a0, vxsat
    EXPECT a0, 1
    csrwi vxrm, 2
    csrwi vxsat, 0
    csrr a0, vcsr
    EXPECT a0, 4

    /* mstatus.VS stays writable as sstatus.VS. */
    NEXT
    li t0, MSTATUS_VS
    csrc sstatus, t0
    csrr a0, mstatus
    and a0, a0, t0
    EXPECT a0, 0
    li t0, MSTATUS_VS_INITIAL
    csrs sstatus, t0
    csrr a0, mstatus
    li t0, MSTATUS_VS
    and a0, a0, t0
    EXPECT a0, MSTATUS_VS_INITIAL

    /* Under V=1, vsstatus.VS Off makes vector instructions illegal even with mstatus.VS on. */
    NEXT
    li t0, MSTATUS_VS
    csrc vsstatus, t0
    SET_RESUME 1f
    GOTO_V 1, vs_vector
1:  EXPECT_TRAP CAUSE_ILLEGAL
    /* With vsstatus.VS Initial, the same code runs and makes both VS fields Dirty. */
    NEXT
    li t0, MSTATUS_VS_INITIAL
    csrs vsstatus, t0
    csrs mstatus, t0
    li t0, MSTATUS_VS
    csrc mstatus, t0
    li t0, MSTATUS_VS_INITIAL
    csrs mstatus, t0
    CLEAR_TRAP
    GOTO_V 1, vs_vector
vs_done:
    EXPECT_TRAP 10      /* the ecall from VS-mode that ends vs_vector */
    csrr a0, vsstatus
    srli a0, a0, 9
    andi a0, a0, 3
    EXPECT a0, 3
    csrr a0, mstatus
    srli a0, a0, 9
    andi a0, a0, 3
    EXPECT a0, 3
    j pass

vs_vector:
    vsetivli a0, 4, e32, m1, ta, ma
    SET_RESUME vs_done
    ecall

    .data
    .align 4
sevens: .fill 16, 1, 7
pattern: .byte 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
vbuf: .space 64
