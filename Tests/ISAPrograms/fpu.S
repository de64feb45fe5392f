#include "common.h"
#include "fp.h"
/* F/D: FS gating, loads/stores, NaN-boxing, fcsr/frm/fflags, dynamic rounding, conversions with
 * saturation, fmv sign extension, comparisons, min/max, fused multiply-add. */
.macro FS_OFF
    li t0, MSTATUS_FS
    csrc mstatus, t0
.endm
.macro FS_INIT
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, (1 << 13)
    csrs mstatus, t0
.endm
.macro EXPECT_FS val, reg
    fmv.x.w \reg, \val
.endm

test_main:
    /* FS = Off: FP instructions and FP CSRs are illegal */
    NEXT
    FS_OFF
    CLEAR_TRAP
    fadd.s fa0, fa1, fa2
    EXPECTV trap_tval, 0x00c5f553       /* mtval = the instruction */
    EXPECT_TRAP 2
    csrr a0, fflags
    EXPECT_TRAP 2
    fmv.x.d a0, fa0
    EXPECTV trap_tval, 0xe2050553
    EXPECT_TRAP 2
    la a1, fbuf
    .option push
    .option norvc
    fld fa0, 8(a1)
    EXPECTV trap_tval, 0x0085b507
    EXPECT_TRAP 2
    fsw fa1, -20(a1)
    EXPECTV trap_tval, 0xfeb5a627
    EXPECT_TRAP 2
    .option pop
    fmadd.d fa0, fa1, fa2, fa3
    EXPECTV trap_tval, 0x6ac5f543
    EXPECT_TRAP 2
    NEXT
    /* FS = Initial: an FP write makes it Dirty (and SD = 1) */
    FS_INIT
    csrr a0, mstatus
    srli a0, a0, 63
    EXPECT a0, 0
    LDS fa0, 0x3f800000
    csrr a0, mstatus
    li a1, MSTATUS_FS
    and a2, a0, a1
    EXPECTR a2, a1
    srli a0, a0, 63
    EXPECT a0, 1
    /* loads / stores */
    NEXT
    la s0, fbuf
    li a0, 0x400921fb54442d18
    sd a0, 0(s0)
    fld fa0, 0(s0)
    fsd fa0, 8(s0)
    ld a1, 8(s0)
    EXPECTR a0, a1
    NEXT
    li a0, 0x40490fdb
    sw a0, 16(s0)
    flw fa1, 16(s0)
    fmv.x.d a1, fa1
    EXPECT a1, 0xffffffff40490fdb          /* NaN-boxed */
    fsw fa1, 20(s0)
    lwu a1, 20(s0)
    EXPECT a1, 0x40490fdb
    NEXT
    /* a non-boxed single is the canonical NaN to single-precision ops */
    LDD fa2, 0x000000003f800000
    LDS fa3, 0x3f800000
    fadd.s fa4, fa2, fa3
    fmv.x.w a0, fa4
    EXPECT a0, 0x7fc00000
    fclass.s a0, fa2
    EXPECT a0, 0x200                        /* quiet NaN */
    fsgnj.s fa4, fa2, fa2
    fmv.x.d a0, fa4
    EXPECT a0, 0xffffffff7fc00000
    fmv.x.w a0, fa2                          /* fmv.x.w moves the raw low bits */
    EXPECT a0, 0x3f800000
    csrw fflags, zero
    NEXT
    /* fmv.x.w sign-extends */
    LDS fa0, 0x80000000
    fmv.x.w a0, fa0
    EXPECT a0, 0xffffffff80000000
    fmv.w.x fa0, a0
    fmv.x.d a1, fa0
    EXPECT a1, 0xffffffff80000000

    /* fcsr / frm / fflags */
    NEXT
    li a0, 0xff
    csrw fcsr, a0
    csrr a1, frm
    EXPECT a1, 7
    csrr a1, fflags
    EXPECT a1, 0x1f
    li a0, -1
    csrw fcsr, a0
    csrr a1, fcsr
    EXPECT a1, 0xff
    NEXT
    csrwi frm, 2
    csrr a1, fcsr
    EXPECT a1, 0x5f
    csrwi fflags, 0
    csrr a1, fcsr
    EXPECT a1, 0x40
    fsrmi a1, 1
    EXPECT a1, 2
    frrm a1
    EXPECT a1, 1
    fsflagsi a1, 3
    EXPECT a1, 0
    frflags a1
    EXPECT a1, 3
    csrw fcsr, zero

    /* exception flags */
    NEXT
    LDS fa0, 0x3f800000    /* 1.0 */
    LDS fa1, 0x40400000    /* 3.0 */
    fdiv.s fa2, fa0, fa1
    fmv.x.w a0, fa2
    EXPECT a0, 0x3eaaaaab
    EXPECT_FLAGS 1         /* NX */
    NEXT
    LDS fa3, 0
    fdiv.s fa2, fa0, fa3
    fmv.x.w a0, fa2
    EXPECT a0, 0x7f800000
    EXPECT_FLAGS 8         /* DZ */
    NEXT
    LDS fa3, 0xbf800000
    fsqrt.s fa2, fa3
    fmv.x.w a0, fa2
    EXPECT a0, 0x7fc00000
    EXPECT_FLAGS 0x10      /* NV */
    NEXT
    LDD fa4, 0x7fefffffffffffff
    fmul.d fa5, fa4, fa4
    fmv.x.d a0, fa5
    EXPECT a0, 0x7ff0000000000000
    EXPECT_FLAGS 5         /* OF | NX */

    /* dynamic rounding */
    NEXT
    csrwi frm, 1           /* RTZ */
    fdiv.s fa2, fa0, fa1
    fmv.x.w a0, fa2
    EXPECT a0, 0x3eaaaaaa
    csrwi frm, 3           /* RUP */
    fdiv.s fa2, fa0, fa1, dyn
    fmv.x.w a0, fa2
    EXPECT a0, 0x3eaaaaab
    fdiv.s fa2, fa0, fa1, rdn   /* static overrides frm */
    fmv.x.w a0, fa2
    EXPECT a0, 0x3eaaaaaa
    NEXT
    LDS fa2, 0x40200000    /* 2.5 */
    csrwi frm, 0
    fcvt.w.s a0, fa2, dyn
    EXPECT a0, 2
    csrwi frm, 4
    fcvt.w.s a0, fa2, dyn
    EXPECT a0, 3
    LDS fa2, 0xbfc00000    /* -1.5 */
    csrwi frm, 2
    fcvt.w.s a0, fa2, dyn
    EXPECT a0, -2
    csrwi frm, 3
    fcvt.w.s a0, fa2, dyn
    EXPECT a0, -1
    fcvt.w.s a0, fa2, rtz
    EXPECT a0, -1
    csrw fflags, zero
    NEXT
    /* invalid frm with a dynamic-rounding instruction is illegal */
    CLEAR_TRAP
    csrwi frm, 5
    fadd.s fa2, fa0, fa1, dyn
    EXPECTV trap_tval, 0x00b57653
    EXPECT_TRAP 2
    csrwi frm, 7
    fadd.d fa2, fa0, fa1, dyn
    EXPECT_TRAP 2
    fsgnj.s fa2, fa0, fa1     /* no rounding: fine */
    EXPECT_NO_TRAP
    csrwi frm, 0

    /* conversions with saturation */
    NEXT
    LDS fa0, 0x501502f9     /* 1e10 */
    fcvt.w.s a0, fa0, rtz
    EXPECT a0, 0x7fffffff
    EXPECT_FLAGS 0x10
    LDS fa0, 0xd01502f9     /* -1e10 */
    fcvt.w.s a0, fa0, rtz
    EXPECT a0, 0xffffffff80000000
    EXPECT_FLAGS 0x10
    NEXT
    LDS fa0, 0x7fc00000     /* NaN */
    fcvt.w.s a0, fa0, rtz
    EXPECT a0, 0x7fffffff
    fcvt.l.s a0, fa0, rtz
    EXPECT a0, 0x7fffffffffffffff
    fcvt.wu.s a0, fa0, rtz
    EXPECT a0, -1
    EXPECT_FLAGS 0x10
    NEXT
    LDS fa0, 0xbf800000     /* -1.0 */
    fcvt.wu.s a0, fa0, rtz
    EXPECT a0, 0
    EXPECT_FLAGS 0x10
    LDS fa0, 0xbf000000     /* -0.5 */
    fcvt.wu.s a0, fa0, rtz
    EXPECT a0, 0
    EXPECT_FLAGS 0x01
    NEXT
    LDD fa0, 0x43e158e460913d00   /* 1e19 */
    fcvt.l.d a0, fa0, rtz
    EXPECT a0, 0x7fffffffffffffff
    EXPECT_FLAGS 0x10
    fcvt.lu.d a0, fa0, rtz
    EXPECT a0, 0x8ac7230489e80000
    EXPECT_FLAGS 0
    NEXT
    LDD fa0, 0x41f2a05f20000000   /* 5e9 */
    fcvt.wu.d a0, fa0, rtz
    EXPECT a0, -1                 /* 0xffffffff, sign-extended */
    EXPECT_FLAGS 0x10
    fcvt.w.d a0, fa0, rtz
    EXPECT a0, 0x7fffffff
    EXPECT_FLAGS 0x10
    LDD fa0, 0xbff0000000000000
    fcvt.lu.d a0, fa0, rtz
    EXPECT a0, 0
    EXPECT_FLAGS 0x10
    NEXT
    li a0, -7
    fcvt.d.l fa0, a0
    fmv.x.d a1, fa0
    EXPECT a1, 0xc01c000000000000
    NEXT
    fcvt.s.w fa0, a0
    fmv.x.w a1, fa0
    EXPECT a1, 0xffffffffc0e00000
    NEXT
    li a0, 0xffffffff
    fcvt.s.wu fa0, a0
    fmv.x.w a1, fa0
    EXPECT a1, 0x4f800000
    EXPECT_FLAGS 1
    NEXT
    li a0, 0x1ffffffff        /* upper bits ignored by W conversions */
    fcvt.d.w fa0, a0
    fmv.x.d a1, fa0
    EXPECT a1, 0xbff0000000000000
    NEXT
    LDD fa0, 0x3fd5555555555555
    fcvt.s.d fa1, fa0
    fmv.x.w a1, fa1
    EXPECT a1, 0x3eaaaaab
    EXPECT_FLAGS 1
    fcvt.d.s fa2, fa1
    fmv.x.d a1, fa2
    EXPECT a1, 0x3fd5555560000000
    EXPECT_FLAGS 0

    /* comparisons */
    NEXT
    LDS fa0, 0x3f800000
    LDS fa1, 0x7fc00000      /* qNaN */
    LDS fa2, 0x7f800001      /* sNaN */
    feq.s a0, fa0, fa1
    EXPECT a0, 0
    EXPECT_FLAGS 0
    flt.s a0, fa0, fa1
    EXPECT a0, 0
    EXPECT_FLAGS 0x10
    feq.s a0, fa0, fa2
    EXPECT a0, 0
    EXPECT_FLAGS 0x10
    feq.s a0, fa0, fa0
    EXPECT a0, 1
    NEXT
    LDS fa3, 0x80000000      /* -0 */
    LDS fa4, 0
    feq.s a0, fa3, fa4
    EXPECT a0, 1
    fmin.s fa5, fa4, fa3
    fmv.x.w a0, fa5
    EXPECT a0, 0xffffffff80000000
    fmax.s fa5, fa3, fa4
    fmv.x.w a0, fa5
    EXPECT a0, 0
    fmin.s fa5, fa1, fa0      /* one NaN: the other operand */
    fmv.x.w a0, fa5
    EXPECT a0, 0x3f800000
    EXPECT_FLAGS 0
    fmax.s fa5, fa1, fa1
    fmv.x.w a0, fa5
    EXPECT a0, 0x7fc00000
    fmin.s fa5, fa2, fa0
    EXPECT_FLAGS 0x10
    NEXT
    LDD fa0, 0x3ff0000000000000
    LDD fa1, 0x4008000000000000
    fle.d a0, fa0, fa1
    EXPECT a0, 1
    flt.d a0, fa1, fa0
    EXPECT a0, 0
    fclass.d a0, fa0
    EXPECT a0, 0x40
    LDD fa2, 0xfff0000000000000
    fclass.d a0, fa2
    EXPECT a0, 0x1
    NEXT
    /* fma: 1*3 + 1 = 4, fnmsub: -(1*3) + 1 = -2 */
    fmadd.d fa2, fa0, fa1, fa0
    fmv.x.d a0, fa2
    EXPECT a0, 0x4010000000000000
    fnmsub.d fa2, fa0, fa1, fa0
    fmv.x.d a0, fa2
    EXPECT a0, 0xc000000000000000
    LDS fa3, 0x3f800000
    LDS fa4, 0x40400000
    fmsub.s fa5, fa3, fa4, fa3
    fmv.x.w a0, fa5
    EXPECT a0, 0x40000000
    fnmadd.s fa5, fa3, fa4, fa3
    fmv.x.w a0, fa5
    EXPECT a0, 0xffffffffc0800000
    fsgnjn.d fa2, fa0, fa0
    fmv.x.d a0, fa2
    EXPECT a0, 0xbff0000000000000
    fsgnjx.s fa5, fa4, fa5
    fmv.x.w a0, fa5
    EXPECT a0, 0xffffffffc0400000
    EXPECT_FLAGS 0
    /* more arithmetic and conversions */
    NEXT
    LDD fa0, 0x4010000000000000     /* 4.0 */
    fsqrt.d fa1, fa0
    fmv.x.d a0, fa1
    EXPECT a0, 0x4000000000000000
    EXPECT_FLAGS 0
    LDD fa0, 0x3fb999999999999a     /* 0.1 */
    LDD fa1, 0x3fc999999999999a     /* 0.2 */
    fadd.d fa2, fa0, fa1
    fmv.x.d a0, fa2
    EXPECT a0, 0x3fd3333333333334
    EXPECT_FLAGS 1
    NEXT
    li a0, -1
    fcvt.s.lu fa0, a0
    fmv.x.w a1, fa0
    EXPECT a1, 0x5f800000
    EXPECT_FLAGS 1
    li a0, 0x8000000000000000
    fcvt.d.lu fa0, a0
    fmv.x.d a1, fa0
    EXPECT a1, 0x43e0000000000000
    fcvt.d.l fa0, a0
    fmv.x.d a1, fa0
    EXPECT a1, 0xc3e0000000000000
    fcvt.l.d a1, fa0, rtz
    EXPECT a1, 0x8000000000000000
    EXPECT_FLAGS 0
    NEXT
    LDS fa0, 0x00800000             /* smallest normal single */
    fmul.s fa1, fa0, fa0
    fmv.x.w a0, fa1
    EXPECT a0, 0
    EXPECT_FLAGS 3                  /* UF | NX */
    LDS fa0, 0x7f7fffff
    fadd.s fa1, fa0, fa0, rtz       /* overflow with RTZ: largest finite */
    fmv.x.w a0, fa1
    EXPECT a0, 0x7f7fffff
    EXPECT_FLAGS 5
    j pass

    .data
    .align 4
fbuf: .space 64
