/* Hypervisor (H) extension: CSR masks and V=1 aliasing, traps from VS into HS and M, SRET into VS,
 * two-stage translation with guest-page faults, HLV/HLVX/HSV, HFENCE, virtual-instruction traps and
 * VS-level interrupts through hvip. Runs with MachineConfig.hypervisor = true.
 *
 * Trap scheme: mtvec = hmtrap records mcause/mepc/mtval/mstatus/mtval2/mtinst and always resumes in
 * M-mode at `resume` (with MPV cleared). The HS handler (stvec) and the VS handler (vstvec) only ECALL,
 * so the M-mode code afterwards reads scause/htval/hstatus or vscause/vsepc itself. */
#include "common.h"
#include "hext.h"
    .option arch, +h

#define MSTATUS_GVA (1 << 38)
#define HSTATUS_GVA (1 << 6)
#define HSTATUS_SPV (1 << 7)
#define HSTATUS_SPVP (1 << 8)
#define HSTATUS_HU (1 << 9)
#define HSTATUS_VTW (1 << 21)
#define INTR (1 << 63)

/* Resume in M-mode at label after the next trap. */
.macro RESUME label
    la t0, \label
    la t1, resume
    sd t0, 0(t1)
.endm
/* Enter HS-mode (V=0, S) at label. */
.macro GOTO_HS label
    li t6, MSTATUS_MPP | MSTATUS_MPV
    csrc mstatus, t6
    li t6, (1 << 11)
    csrs mstatus, t6
    la t6, \label
    csrw mepc, t6
    mret
.endm
/* Fail unless the M-mode variable sym equals val. */
.macro EXPECTM sym, val
    la t6, \sym
    ld t6, 0(t6)
    li t5, \val
    beq t5, t6, 1000f
    j fail
1000:
.endm
/* a0 = VA 0x40000000 + (sym - 0x80000000): the guest alias of sym through both stages. */
.macro GUESTVA reg, sym
    la \reg, \sym
    li t5, 0x80000000
    sub \reg, \reg, t5
    li t5, 0x40000000
    add \reg, \reg, t5
.endm

/* Load test_word through both stages in VS-mode; the trap that ends it must have cause `cause`
 * (10: the ECALL after a successful load). */
.macro VS_LOAD cause
    RESUME 1001f
    GOTO_V 1, 1002f
1002:
    GUESTVA a0, test_word
    ld s0, 0(a0)
    ecall
1001:
    EXPECTM m_cause, \cause
.endm
/* vsatp = Sv39 | asid | root; hgatp = Sv39x4 | vmid | root (no fence). */
.macro SET_VSATP root, asid
    la a0, \root
    srli a0, a0, 12
    li a1, (8 << 60) | (\asid << 44)
    or a0, a0, a1
    csrw vsatp, a0
.endm
.macro SET_HGATP root, vmid
    la a0, \root
    srli a0, a0, 12
    li a1, (8 << 60) | (\vmid << 44)
    or a0, a0, a1
    csrw hgatp, a0
.endm

    .text
    .align 4
hmtrap:
    csrr t0, mcause
    la t1, m_cause
    sd t0, 0(t1)
    csrr t0, mepc
    sd t0, 8(t1)
    csrr t0, mtval
    sd t0, 16(t1)
    csrr t0, mstatus
    sd t0, 24(t1)
    csrr t0, mtval2
    sd t0, 32(t1)
    csrr t0, mtinst
    sd t0, 40(t1)
    la t1, resume
    ld t0, 0(t1)
    csrw mepc, t0
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    li t0, MSTATUS_MPV
    csrc mstatus, t0
    mret

    .align 4
hstrap:
    ecall
    .align 4
vstrap:
    ecall
    .align 4
    .option push
    .option norvc
vs_vec:
    ecall                         /* cause 0 slot: exceptions */
    ecall                         /* SSI */
    ecall
    .option pop

test_main:
    la t0, hmtrap
    csrw mtvec, t0
    la t0, hstrap
    csrw stvec, t0
    la t0, vstrap
    csrw vstvec, t0

    /* --- misa.H and CSR masks (V=0, M-mode) --- */
    NEXT
    csrr a0, misa
    srli a0, a0, 7
    andi a0, a0, 1
    EXPECT a0, 1
    NEXT
    li a0, -1
    csrw hstatus, a0
    csrr a1, hstatus
    EXPECT a1, 0x2007003c0        /* VSXL = 2, GVA SPV SPVP HU VTVM VTW VTSR */
    csrw hstatus, zero
    csrr a1, hstatus
    EXPECT a1, 0x200000000
    NEXT
    csrw hedeleg, a0
    csrr a1, hedeleg
    EXPECT a1, 0xb1ff
    csrw hedeleg, zero
    csrw hideleg, a0
    csrr a1, hideleg
    EXPECT a1, 0x444
    csrw hideleg, zero
    NEXT
    csrw mideleg, zero
    csrr a1, mideleg
    EXPECT a1, 0x444              /* VS-level interrupts read-only delegated */
    csrw medeleg, a0
    csrr a1, medeleg
    EXPECT a1, 0xf0b7ff
    csrw medeleg, zero
    NEXT
    csrw hvip, a0
    csrr a1, hvip
    EXPECT a1, 0x444
    csrr a1, hip
    EXPECT a1, 0x444
    csrr a1, mip
    andi a1, a1, 0x444
    EXPECT a1, 0x444
    csrw hvip, zero
    csrr a1, sip
    EXPECT a1, 0
    csrw hgeie, a0
    csrr a1, hgeie
    EXPECT a1, 0                  /* GEILEN = 0 */
    csrr a1, hgeip
    EXPECT a1, 0
    NEXT
    li a1, (8 << 60) | (0x3fff << 44) | 0xfffff
    csrw hgatp, a1
    csrr a2, hgatp
    li a3, (8 << 60) | (0x3fff << 44) | 0xffffc
    EXPECTR a2, a3                /* PPN[1:0] read as zero */
    li a1, (1 << 60) | 0x123      /* unsupported mode: MODE keeps Sv39x4, other fields written (WARL) */
    csrw hgatp, a1
    csrr a2, hgatp
    EXPECT a2, (8 << 60) | 0x120
    csrw hgatp, zero
    NEXT
    li a1, MSTATUS_MPV | MSTATUS_GVA
    csrs mstatus, a1
    csrr a2, mstatus
    and a2, a2, a1
    EXPECTR a2, a1
    csrc mstatus, a1
    csrw mtval2, a0
    csrr a2, mtval2
    EXPECT a2, -1
    csrw mtinst, zero
    csrw htval, zero

    /* --- VS CSR aliasing under V=1 --- */
    NEXT
    li a0, 0x1234
    csrw vsscratch, a0
    li a0, 0x5555
    csrw sscratch, a0
    csrw vsstatus, zero
    RESUME 1f
    GOTO_V 1, 2f
2:  csrr s0, sscratch             /* reads vsscratch */
    li a0, 0x4321
    csrw sscratch, a0             /* writes vsscratch */
    li a0, MSTATUS_SUM
    csrs sstatus, a0              /* vsstatus.SUM */
    csrr s1, sstatus
    la a0, vstrap2
    csrw stvec, a0                /* vstvec */
    ecall                         /* cause 10 -> M */
1:  EXPECTM m_cause, 10
    EXPECT s0, 0x1234
    csrr a0, vsscratch
    EXPECT a0, 0x4321
    csrr a0, sscratch
    EXPECT a0, 0x5555
    li a1, MSTATUS_SUM
    and a0, s1, a1
    EXPECTR a0, a1
    csrr a0, vsstatus
    and a0, a0, a1
    EXPECTR a0, a1
    csrr a0, mstatus
    and a0, a0, a1
    EXPECT a0, 0                  /* mstatus.SUM untouched */
    csrr a0, vstvec
    la a1, vstrap2
    EXPECTR a0, a1
    csrr a0, stvec
    la a1, hstrap
    EXPECTR a0, a1
    la a0, m_cause + 24
    ld a0, 0(a0)
    li a1, MSTATUS_MPV | MSTATUS_MPP
    and a0, a0, a1
    EXPECT a0, MSTATUS_MPV | (1 << 11)  /* trap from VS: MPV = 1, MPP = S */
    la t0, vstrap
    csrw vstvec, t0

    /* --- SRET from HS into VS, SRET in VS into VU using vsstatus --- */
    NEXT
    RESUME 1f
    GOTO_HS 2f
2:  li t0, HSTATUS_SPV
    csrs hstatus, t0
    li t0, MSTATUS_SPP
    csrs sstatus, t0
    la t0, 3f
    csrw sepc, t0
    sret                          /* -> VS at 3f */
3:  li t0, MSTATUS_SPP
    csrc sstatus, t0              /* vsstatus.SPP = U */
    la t0, 4f
    csrw sepc, t0                 /* vsepc */
    sret                          /* -> VU at 4f */
4:  ecall                         /* cause 8, from VU */
1:  EXPECTM m_cause, 8
    la a0, m_cause + 24
    ld a0, 0(a0)
    li a1, MSTATUS_MPV | MSTATUS_MPP
    and a0, a0, a1
    EXPECT a0, MSTATUS_MPV        /* MPP = U */
    csrr a0, hstatus
    andi a0, a0, HSTATUS_SPV
    EXPECT a0, 0                  /* SRET cleared SPV */
    csrr a0, vsepc
    la a1, 4b
    EXPECTR a0, a1

    /* --- virtual-instruction exceptions --- */
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  csrr t0, hstatus              /* H CSR from VS */
    ecall
1:  EXPECTM m_cause, 22
    EXPECTM m_tval, 0x600022f3
    NEXT
    RESUME 1f
    GOTO_V 0, 2f
2:  csrr t0, sscratch             /* S CSR from VU */
    ecall
1:  EXPECTM m_cause, 22
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  hfence.vvma
    ecall
1:  EXPECTM m_cause, 22
    NEXT
    li t0, HSTATUS_VTW
    csrs hstatus, t0
    RESUME 1f
    GOTO_V 1, 2f
2:  wfi
    ecall
1:  EXPECTM m_cause, 22
    li t0, HSTATUS_VTW
    csrc hstatus, t0
    NEXT
    li t0, 1 << 22
    csrs mstatus, t0              /* mstatus.TSR does not apply to V=1 */
    RESUME 1f
    GOTO_V 0, 2f
2:  sret                          /* SRET from VU: virtual instruction */
    ecall
1:  EXPECTM m_cause, 22
    li t0, 1 << 22
    csrc mstatus, t0
    NEXT
    li t0, 1 << 20
    csrs hstatus, t0              /* VTVM */
    RESUME 1f
    GOTO_V 1, 2f
2:  csrr t0, satp
    ecall
1:  EXPECTM m_cause, 22
    RESUME 1f
    GOTO_V 1, 2f
2:  sfence.vma
    ecall
1:  EXPECTM m_cause, 22
    li t0, 1 << 20
    csrc hstatus, t0
    NEXT
    li t0, 2
    csrw mcounteren, t0
    csrw hcounteren, zero
    RESUME 1f
    GOTO_V 1, 2f
2:  rdtime t0                     /* hcounteren.TM = 0, mcounteren.TM = 1: virtual */
    ecall
1:  EXPECTM m_cause, 22
    csrw mcounteren, zero
    RESUME 1f
    GOTO_V 1, 2f
2:  rdtime t0                     /* mcounteren.TM = 0: illegal */
    ecall
1:  EXPECTM m_cause, 2
    NEXT
    li t0, 2
    csrw mcounteren, t0
    csrw hcounteren, t0
    li t0, 1 << 40
    csrw htimedelta, t0
    RESUME 1f
    GOTO_V 1, 2f
2:  rdtime s0                     /* time + htimedelta */
    ecall
1:  EXPECTM m_cause, 10
    li t0, 1 << 40
    bltu s0, t0, fail
    rdtime s1
    bgeu s1, t0, fail             /* M-mode time is not offset */
    csrw htimedelta, zero
    csrw hcounteren, zero
    csrw mcounteren, zero
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  csrr t0, mstatus              /* M CSR from VS: illegal, not virtual */
    ecall
1:  EXPECTM m_cause, 2
    NEXT
    RESUME 1f
    GOTO_HS 2f
2:  hlv.d t0, (sp)                /* from U would be illegal; from HS fine: reads through vsatp = hgatp = Bare */
    ecall
1:  EXPECTM m_cause, 9

    /* --- build the page tables ---
     * G-stage (Sv39x4): GPA 0x80000000 -> PA 0x80000000 (1 GiB), GPA 0x100000000 -> PA 0x80000000.
     * VS-stage (Sv39): VA 0x80000000 -> GPA 0x80000000, VA 0x40000000 -> GPA 0x100000000 (A/D clear),
     *                  VA 0x140000000 -> GPA 0x180000000 (not mapped by the G-stage). */
    NEXT
    la a0, g_root
    li a1, 0x200000df             /* PPN 0x80000 << 10 | D A U X W R V */
    sd a1, 16(a0)
    sd a1, 32(a0)
    la a0, vs_root
    li a1, 0x200000cf             /* D A X W R V */
    sd a1, 16(a0)
    li a1, 0x4000000f             /* GPA 0x100000000, A/D clear */
    sd a1, 8(a0)
    li a1, 0x600000cf
    sd a1, 40(a0)
    la a0, g_root
    srli a0, a0, 12
    li a1, 8 << 60
    or a0, a0, a1
    csrw hgatp, a0
    la a0, vs_root
    srli a0, a0, 12
    or a0, a0, a1
    csrw vsatp, a0
    hfence.gvma

    /* --- two-stage loads and stores from VS --- */
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  GUESTVA a0, test_word
    ld s0, 0(a0)                  /* VA 0x4... -> GPA 0x1_0... -> PA 0x8... */
    GUESTVA a0, store_word
    li a1, 0xabcdef
    sd a1, 0(a0)
    ecall
1:  EXPECTM m_cause, 10
    li a0, 0x1122334455667788
    EXPECTR s0, a0
    EXPECTV store_word, 0xabcdef
    la a0, vs_root
    ld a0, 8(a0)
    EXPECT a0, 0x400000cf         /* A and D set by the VS-stage walk */

    /* --- guest-page fault from VS, delegated to HS --- */
    NEXT
    li t0, 1 << 21
    csrw medeleg, t0
    csrw hstatus, zero
    RESUME 1f
    GOTO_V 1, 2f
2:  li a0, 0x140000010
3:  ld a1, 0(a0)                  /* GPA 0x180000010 unmapped in the G-stage */
    ecall
1:  EXPECTM m_cause, 9            /* the HS handler's ECALL */
    csrr a0, scause
    EXPECT a0, 21
    csrr a0, stval
    EXPECT a0, 0x140000010
    csrr a0, htval
    EXPECT a0, 0x180000010 >> 2
    csrr a0, sepc
    la a1, 3b
    EXPECTR a0, a1
    csrr a0, hstatus
    li a1, HSTATUS_GVA | HSTATUS_SPV | HSTATUS_SPVP
    and a0, a0, a1
    EXPECTR a0, a1
    csrw medeleg, zero

    /* --- VS-stage page fault delegated through hedeleg to VS --- */
    NEXT
    li t0, 1 << 13
    csrw medeleg, t0
    csrw hedeleg, t0
    csrw hstatus, zero
    RESUME 1f
    GOTO_V 1, 2f
2:  li a0, 0xc0000000             /* VS-stage: not mapped */
3:  ld a1, 0(a0)
    ecall
1:  EXPECTM m_cause, 10           /* the VS handler's ECALL */
    csrr a0, vscause
    EXPECT a0, 13
    csrr a0, vstval
    EXPECT a0, 0xc0000000
    csrr a0, vsepc
    la a1, 3b
    EXPECTR a0, a1
    csrr a0, hstatus
    andi a0, a0, HSTATUS_SPV
    EXPECT a0, 0                  /* HS trap state untouched */
    csrw medeleg, zero
    csrw hedeleg, zero

    /* --- guest-page fault into M: mtval2, GVA, MPV --- */
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  li a0, 0x140000008
    sd a0, 0(a0)
    ecall
1:  EXPECTM m_cause, 23
    EXPECTM m_tval, 0x140000008
    EXPECTM m_tval2, 0x180000008 >> 2
    la a0, m_cause + 24
    ld a0, 0(a0)
    li a1, MSTATUS_MPV | MSTATUS_GVA
    and a0, a0, a1
    EXPECTR a0, a1

    /* --- instruction guest-page fault into M: VA 0x140000000 is executable in the VS-stage, its GPA
     *     0x180000000 is not mapped by the G-stage; mtinst is 0 for a fetch --- */
    NEXT
    RESUME 1f
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    li t6, (1 << 11) | MSTATUS_MPV
    csrs mstatus, t6
    li t6, 0x140000000
    csrw mepc, t6
    mret
1:  EXPECTM m_cause, 20
    EXPECTM m_epc, 0x140000000
    EXPECTM m_tval, 0x140000000
    EXPECTM m_tval2, 0x180000000 >> 2
    EXPECTM m_tinst, 0
    la a0, m_cause + 24
    ld a0, 0(a0)
    li a1, MSTATUS_MPV | MSTATUS_GVA
    and a0, a0, a1
    EXPECTR a0, a1

    /* --- mtinst: transformed instructions of faulting explicit accesses (imm cleared, rs1 = offset,
     *     bit 1 clear when compressed); VA 0x140000000 maps to the unmapped GPA 0x180000000 --- */
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
    .option push
    .option norvc
2:  li a0, 0x140000000
    ld a1, 16(a0)
    .option pop
    ecall
1:  EXPECTM m_cause, 21
    EXPECTM m_tinst, (11 << 7) | (3 << 12) | 0x03          /* ld a1, 0(x0) */
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  li a0, 0x140000000
    c.ld a1, 16(a0)
    ecall
1:  EXPECTM m_cause, 21
    EXPECTM m_tinst, (11 << 7) | (3 << 12) | 0x01          /* expanded, bit 1 clear */
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
    .option push
    .option norvc
2:  li a0, 0x140000010
    sw a2, -4(a0)
    .option pop
    ecall
1:  EXPECTM m_cause, 23
    EXPECTM m_tinst, (12 << 20) | (2 << 12) | 0x23         /* sw a2, 0(x0) */
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  li a0, 0x140000010
    c.sw a2, 4(a0)
    ecall
1:  EXPECTM m_cause, 23
    EXPECTM m_tinst, (12 << 20) | (2 << 12) | 0x21
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  li a0, 0x140000008
    amoadd.d.aq a3, a2, (a0)
    ecall
1:  EXPECTM m_cause, 23
    EXPECTM m_tinst, (1 << 26) | (12 << 20) | (3 << 12) | (13 << 7) | 0x2f   /* aq kept */
    NEXT
    li t0, HSTATUS_SPVP
    csrs hstatus, t0
    RESUME 1f
    li a0, 0x140000008
    hlv.d a1, (a0)
    j fail
1:  EXPECTM m_cause, 21
    EXPECTM m_tval, 0x140000008
    EXPECTM m_tinst, 0x6c004073 | (11 << 7)                 /* hlv.d a1, (x0) */
    li t0, HSTATUS_SPVP
    csrc hstatus, t0

    /* --- HLV / HLVX / HSV from M with SPVP --- */
    NEXT
    li t0, HSTATUS_SPVP
    csrs hstatus, t0
    GUESTVA a0, test_word
    hlv.d a1, (a0)
    EXPECT a1, 0x1122334455667788
    hlv.b a1, (a0)
    EXPECT a1, -120               /* 0x88 sign-extended */
    hlv.hu a1, (a0)
    EXPECT a1, 0x7788
    hlv.w a1, (a0)
    EXPECT a1, 0x55667788
    GUESTVA a0, store_word
    li a1, 0x77
    hsv.w a1, (a0)
    EXPECTV store_word, 0x77
    NEXT
    GUESTVA a0, hmtrap            /* code page: X set, so HLVX reads it */
    hlvx.wu a1, (a0)
    la a2, hmtrap
    lwu a2, 0(a2)
    EXPECTR a1, a2
    NEXT
    li t0, HSTATUS_SPVP
    csrc hstatus, t0              /* as VU: the VS page has U = 0 */
    RESUME 1f
    GUESTVA a0, test_word
    hlv.d a1, (a0)
    j fail
1:  EXPECTM m_cause, 13
    la a0, m_cause + 24
    ld a0, 0(a0)
    li a1, MSTATUS_GVA | MSTATUS_MPV
    and a0, a0, a1
    EXPECT a0, MSTATUS_GVA        /* guest address, but the trap came from V=0 */
    NEXT
    li t0, HSTATUS_SPVP
    csrs hstatus, t0
    csrr s0, vsatp
    li a0, (8 << 60) | 0x180000   /* VS root at GPA 0x180000000: the implicit PTE read faults */
    csrw vsatp, a0
    RESUME 1f
    li a0, 0x1000
    hlv.d a1, (a0)
    j fail
1:  csrw vsatp, s0
    EXPECTM m_cause, 21
    EXPECTM m_tval, 0x1000
    EXPECTM m_tval2, 0x180000000 >> 2
    EXPECTM m_tinst, 0x3000       /* pseudoinstruction: 64-bit implicit read */

    /* --- MPRV with MPV = 1: M-mode loads and stores translated as in VS-mode --- */
    NEXT
    GUESTVA a0, test_word
    li t0, MSTATUS_MPP | MSTATUS_MPV
    csrc mstatus, t0
    li t0, MSTATUS_MPRV | MSTATUS_MPV | (1 << 11)
    csrs mstatus, t0
    ld s0, 0(a0)                  /* VA 0x4... through vsatp and hgatp */
    li t0, MSTATUS_MPRV | MSTATUS_MPV
    csrc mstatus, t0
    EXPECT s0, 0x1122334455667788

    /* --- FP in VS-mode needs both mstatus.FS and vsstatus.FS; use sets both dirty --- */
    NEXT
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, 1 << 13
    csrs mstatus, t0              /* mstatus.FS = Initial */
    csrw vsstatus, zero           /* vsstatus.FS = Off */
    RESUME 1f
    GOTO_V 1, 2f
2:  fmv.x.d t0, f0
    ecall
1:  EXPECTM m_cause, 2            /* illegal, never virtual */
    NEXT
    li t0, 1 << 13
    csrw vsstatus, t0             /* vsstatus.FS = Initial */
    RESUME 1f
    GOTO_V 1, 2f
2:  fmv.d.x f1, zero
    ecall
1:  EXPECTM m_cause, 10
    csrr a0, mstatus
    li a1, MSTATUS_FS
    and a0, a0, a1
    EXPECTR a0, a1                /* mstatus.FS = Dirty */
    csrr a0, vsstatus
    and a2, a0, a1
    EXPECTR a2, a1                /* vsstatus.FS = Dirty */
    bgez a0, fail                 /* vsstatus.SD set */

    /* --- HLV from HS-mode U with and without hstatus.HU --- */
    NEXT
    RESUME 1f
    li t0, MSTATUS_MPP | MSTATUS_MPV
    csrc mstatus, t0
    la t0, 2f
    csrw mepc, t0
    mret                          /* U-mode, V=0 */
2:  GUESTVA a0, test_word
    hlv.d a1, (a0)
    ecall
1:  EXPECTM m_cause, 2
    NEXT
    li t0, HSTATUS_HU
    csrs hstatus, t0
    RESUME 1f
    li t0, MSTATUS_MPP | MSTATUS_MPV
    csrc mstatus, t0
    la t0, 2f
    csrw mepc, t0
    mret
2:  GUESTVA a0, test_word
    hlv.d s0, (a0)
    ecall
1:  EXPECTM m_cause, 8
    EXPECT s0, 0x1122334455667788
    li t0, HSTATUS_HU
    csrc hstatus, t0

    /* --- cached two-stage translations: slots do not leak into V=0, HFENCE.GVMA drops them --- */
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  GUESTVA a0, test_word
    ld s0, 0(a0)                  /* fills the VS TLB slot */
    ecall
1:  EXPECTM m_cause, 10
    RESUME 1f
    GOTO_HS 2f
2:  GUESTVA a0, test_word
    ld s1, 0(a0)                  /* HS, satp Bare: VA 0x4... is not RAM */
    ecall
1:  EXPECTM m_cause, 5
    NEXT
    la a0, g_root
    sd zero, 32(a0)               /* unmap GPA 0x100000000 */
    hfence.gvma
    RESUME 1f
    GOTO_V 1, 2f
2:  GUESTVA a0, test_word
    ld s0, 0(a0)
    ecall
1:  EXPECTM m_cause, 21
    la a0, test_word              /* GPA = 0x100000000 + (test_word - 0x80000000) */
    li a1, 0x80000000
    sub a0, a0, a1
    li a1, 0x100000000
    add a0, a0, a1
    srli a0, a0, 2
    la a1, m_tval2
    ld a1, 0(a1)
    EXPECTR a0, a1
    la a0, g_root
    li a1, 0x200000df
    sd a1, 32(a0)
    hfence.gvma

    /* --- tagged guest contexts: switching vsatp (ASID) or hgatp (VMID) never shows the other
     *     context's translations; HFENCE.VVMA/GVMA with an ASID/VMID reach a context that is not
     *     current. Context 1: vs_root (ASID 0), g_root (VMID 0). vs_root2 (ASID 2) leaves VA
     *     0x40000000 unmapped; g_root2 (VMID 2) leaves GPA 0x100000000 unmapped. --- */
    NEXT
    la a0, vs_root2
    li a1, 0x200000cf             /* VA 0x80000000 -> GPA 0x80000000 (code) */
    sd a1, 16(a0)
    la a0, g_root2
    li a1, 0x200000df             /* GPA 0x80000000 -> PA 0x80000000 */
    sd a1, 16(a0)
    VS_LOAD 10                    /* context 1: mapped, cached */
    NEXT
    la a0, vs_root2
    srli a0, a0, 12
    li a1, (8 << 60) | (2 << 44)
    or a0, a0, a1
    csrw vsatp, a0                /* ASID 2: same VMID, other VS tables */
    VS_LOAD 13                    /* VS-stage page fault, not context 1's entry */
    NEXT
    SET_VSATP vs_root, 0
    VS_LOAD 10
    NEXT
    la a0, vs_root
    sd zero, 8(a0)                /* unmap VA 0x40000000 in ASID 0 while it is cached */
    SET_VSATP vs_root2, 2
    li t0, 0
    hfence.vvma x0, t0            /* ASID 0, issued while ASID 2 is current */
    SET_VSATP vs_root, 0
    VS_LOAD 13
    la a0, vs_root
    li a1, 0x4000000f
    sd a1, 8(a0)
    hfence.vvma
    VS_LOAD 10
    NEXT
    SET_HGATP g_root2, 2          /* VMID 2: GPA 0x100000000 unmapped */
    VS_LOAD 21                    /* guest-page fault, not VMID 0's entry */
    NEXT
    SET_HGATP g_root, 0
    VS_LOAD 10
    NEXT
    la a0, g_root
    sd zero, 32(a0)               /* unmap GPA 0x100000000 in VMID 0 while it is cached */
    SET_HGATP g_root2, 2
    li t0, 0
    hfence.gvma x0, t0            /* VMID 0, issued while VMID 2 is current */
    SET_HGATP g_root, 0
    VS_LOAD 21
    la a0, g_root
    li a1, 0x200000df
    sd a1, 32(a0)
    hfence.gvma
    VS_LOAD 10

    /* --- VS-level interrupts through hvip --- */
    NEXT
    li t0, 1 << 2
    csrw hideleg, t0              /* VSSI to VS */
    csrw hvip, t0
    csrw vsstatus, zero
    la t0, vs_vec
    ori t0, t0, 1
    csrw vstvec, t0               /* vectored: SSI lands at base + 4 */
    RESUME 1f
    GOTO_V 1, 2f
2:  li t0, 2
    csrs sie, t0                  /* vsie.SSIE -> hie.VSSIE */
    csrs sstatus, MSTATUS_SIE     /* vsstatus.SIE: interrupt taken here */
3:  nop
    j 3b
1:  EXPECTM m_cause, 10
    la a0, vs_vec + 4
    la a1, m_epc
    ld a1, 0(a1)
    EXPECTR a0, a1
    la t0, vstrap
    csrw vstvec, t0
    csrr a0, vscause
    EXPECT a0, INTR | 1
    csrr a0, mie
    andi a0, a0, 1 << 2
    EXPECT a0, 1 << 2
    csrr a0, vsie
    EXPECT a0, 2
    csrr a0, vsip
    EXPECT a0, 2
    NEXT
    csrw hideleg, zero            /* now VSSI goes to HS even while V=1 */
    csrw vsip, zero               /* no effect: not delegated */
    csrr a0, hvip
    EXPECT a0, 1 << 2
    RESUME 1f
    GOTO_V 1, 2f
2:  nop
    j 2b
1:  EXPECTM m_cause, 9
    csrr a0, scause
    EXPECT a0, INTR | 2
    csrr a0, hstatus
    andi a0, a0, HSTATUS_SPV
    EXPECT a0, HSTATUS_SPV
    csrw hvip, zero
    csrw mie, zero

    /* --- Sstc under H: henvcfg.STCE, vstimecmp as stimecmp in VS-mode, VS timer interrupt --- */
    NEXT
    csrw menvcfg, zero
    li t0, -1
    csrw henvcfg, t0
    csrr a0, henvcfg
    EXPECT a0, 1                  /* STCE read-only zero while menvcfg.STCE = 0 */
    li t0, 1 << 63
    csrw menvcfg, t0
    li t0, (1 << 63) | 1
    csrw henvcfg, t0
    csrr a0, henvcfg
    EXPECT a0, (1 << 63) | 1
    li t0, -1
    csrw 0x24d, t0                /* vstimecmp = never */
    csrr a0, hip
    andi a0, a0, 1 << 6
    EXPECT a0, 0
    li t0, 2
    csrw mcounteren, t0
    csrw hcounteren, t0
    li t0, 1 << 6
    csrw hideleg, t0              /* VSTI to VS */
    csrw vsstatus, zero
    csrw mie, zero
    RESUME 1f
    GOTO_V 1, 2f
2:  li t0, 1 << 5
    csrs sie, t0                  /* vsie.STIE -> hie.VSTIE */
    csrs sstatus, MSTATUS_SIE
    csrw 0x14d, zero              /* stimecmp in VS-mode is vstimecmp: fires at once */
3:  nop
    j 3b
1:  EXPECTM m_cause, 10
    csrr a0, vscause
    EXPECT a0, INTR | 5
    csrr a0, vstimecmp
    EXPECT a0, 0
    csrr a0, stimecmp
    EXPECT a0, -1                 /* HS stimecmp untouched */
    csrr a0, hip
    andi a0, a0, 1 << 6
    EXPECT a0, 1 << 6
    NEXT
    csrw henvcfg, zero            /* STCE = 0: stimecmp from VS is a virtual instruction */
    RESUME 1f
    GOTO_V 1, 2f
2:  csrr t0, 0x14d
    ecall
1:  EXPECTM m_cause, 22
    li t0, -1
    csrw 0x24d, t0
    csrw hideleg, zero
    csrw mie, zero
    csrw mcounteren, zero
    csrw hcounteren, zero
    csrw menvcfg, zero

    /* --- a JIT-compiled loop run in VS-mode (two-stage) and in HS-mode (satp maps the same VA to
     * PA + 2 MiB): translations cached for one must never serve the other --- */
    NEXT
    la a0, test_word
    li a1, 0x200000
    add a0, a0, a1
    li a1, 7
    sd a1, 0(a0)                  /* marker the HS mapping sees */
    la a0, hs_root
    li a1, 0x200000cf             /* VA 0x80000000 -> PA 0x80000000 (code) */
    sd a1, 16(a0)
    la a1, hs_l1
    srli a1, a1, 12
    slli a1, a1, 10
    ori a1, a1, 1                 /* VA 0x40000000: pointer to hs_l1 */
    sd a1, 8(a0)
    la a0, hs_l1
    li a1, 0x200800cf             /* VA 0x40000000 -> PA 0x80200000 (2 MiB page) */
    sd a1, 0(a0)
    li s2, 0x1122334455667788
    li t0, 300
    mul s2, s2, t0                /* expected VS sum */
    RESUME 1f
    GOTO_V 1, 2f
2:  GUESTVA a0, test_word
    li a1, 300
    j jit_loop
1:  EXPECTM m_cause, 10
    EXPECTR a2, s2
    NEXT
    la a0, hs_root
    srli a0, a0, 12
    li a1, 8 << 60
    or a0, a0, a1
    csrw satp, a0
    sfence.vma
    RESUME 1f
    GOTO_HS 2f
2:  GUESTVA a0, test_word
    li a1, 300
    j jit_loop
1:  EXPECTM m_cause, 9
    EXPECT a2, 2100
    NEXT
    RESUME 1f
    GOTO_V 1, 2f
2:  GUESTVA a0, test_word
    li a1, 300
    j jit_loop
1:  EXPECTM m_cause, 10
    EXPECTR a2, s2
    csrw satp, zero
    sfence.vma
    NEXT
    j pass

jit_loop:                          /* a2 = sum of a1 loads from (a0), then ECALL */
    li a2, 0
1:  ld t0, 0(a0)
    add a2, a2, t0
    addi a1, a1, -1
    bnez a1, 1b
    ecall

    .data
    .align 3
resume:   .dword 0
m_cause:  .dword 0
m_epc:    .dword 0
m_tval:   .dword 0
m_status: .dword 0
m_tval2:  .dword 0
m_tinst:  .dword 0
test_word: .dword 0x1122334455667788
store_word: .dword 0
vstrap2:  .dword 0
    .align 12
vs_root:  .space 4096
vs_root2: .space 4096
hs_root:  .space 4096
hs_l1:    .space 4096
    .align 14
g_root:   .space 16384
g_root2:  .space 16384
