#include "common.h"
#include "fp.h"
/* Zfa (single, double and, with Zfh, half), values from the spec's definitions; QEMU 7.2 has no Zfa, so no
 * differential test. FEXPECT rd, flags: fflags must equal `flags` (then cleared). */
#define QNAN_D 0x7ff8000000000000
#define SNAN_D 0x7ff4000000000000
#define ONE_D  0x3ff0000000000000
#define NV 16
#define NX 1

test_main:
    li t0, MSTATUS_FS
    csrs mstatus, t0
    fsflags zero

    /* FLI */
    NEXT
    fli.d fa0, 1.0
    fmv.x.d a0, fa0
    EXPECT a0, ONE_D
    fli.d fa0, min
    fmv.x.d a0, fa0
    EXPECT a0, 0x0010000000000000
    fli.d fa0, 0x1p-16
    fmv.x.d a0, fa0
    EXPECT a0, 0x3ef0000000000000
    fli.d fa0, 0.3125
    fmv.x.d a0, fa0
    EXPECT a0, 0x3fd4000000000000
    fli.d fa0, 65536.0
    fmv.x.d a0, fa0
    EXPECT a0, 0x40f0000000000000
    fli.d fa0, inf
    fmv.x.d a0, fa0
    EXPECT a0, 0x7ff0000000000000
    fli.d fa0, nan
    fmv.x.d a0, fa0
    EXPECT a0, QNAN_D
    NEXT
    fli.s fa0, -1.0
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffbf800000
    fli.s fa0, min
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffff00800000
    fli.s fa0, nan
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffff7fc00000
    EXPECT_FLAGS 0

    /* FMINM/FMAXM: a NaN operand gives the canonical NaN (FMIN gives the other operand) */
    NEXT
    LDD fa1, QNAN_D
    LDD fa2, ONE_D
    fminm.d fa0, fa1, fa2
    fmv.x.d a0, fa0
    EXPECT a0, QNAN_D
    fmin.d fa0, fa1, fa2
    fmv.x.d a0, fa0
    EXPECT a0, ONE_D
    EXPECT_FLAGS 0
    LDD fa1, SNAN_D
    fmaxm.d fa0, fa2, fa1
    fmv.x.d a0, fa0
    EXPECT a0, QNAN_D
    EXPECT_FLAGS NV
    LDS fa1, 0x40000000          /* 2.0f */
    LDS fa2, 0xc0400000          /* -3.0f */
    fmaxm.s fa0, fa1, fa2
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffff40000000
    fminm.s fa0, fa1, fa2
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffc0400000

    /* FROUND/FROUNDNX */
    NEXT
    LDD fa1, 0x4004000000000000  /* 2.5 */
    fround.d fa0, fa1, rne
    fmv.x.d a0, fa0
    EXPECT a0, 0x4000000000000000  /* 2.0 */
    EXPECT_FLAGS 0
    fround.d fa0, fa1, rmm
    fmv.x.d a0, fa0
    EXPECT a0, 0x4008000000000000  /* 3.0 */
    froundnx.d fa0, fa1, rne
    fmv.x.d a0, fa0
    EXPECT a0, 0x4000000000000000
    EXPECT_FLAGS NX
    LDD fa1, 0xbfd3333333333333  /* -0.3 */
    fround.d fa0, fa1, rup
    fmv.x.d a0, fa0
    EXPECT a0, 0x8000000000000000  /* -0.0 */
    fround.d fa0, fa1, rdn
    fmv.x.d a0, fa0
    EXPECT a0, 0xbff0000000000000  /* -1.0 */
    LDD fa1, 0x4330000000000001  /* 2^52 + 1: already integral */
    froundnx.d fa0, fa1, rdn
    fmv.x.d a0, fa0
    EXPECT a0, 0x4330000000000001
    EXPECT_FLAGS 0
    LDS fa1, 0x3fc00000          /* 1.5f */
    froundnx.s fa0, fa1, rtz
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffff3f800000
    EXPECT_FLAGS NX

    /* FCVTMOD.W.D: modular, truncating */
    NEXT
    LDD fa1, 0x41f0000000580000  /* 2^32 + 5.5 */
    fcvtmod.w.d a0, fa1, rtz
    EXPECT a0, 5
    EXPECT_FLAGS NV
    LDD fa1, 0xc00d99999999999a  /* -3.7 */
    fcvtmod.w.d a0, fa1, rtz
    EXPECT a0, -3
    EXPECT_FLAGS NX
    LDD fa1, 0x41e0000000000000  /* 2^31 */
    fcvtmod.w.d a0, fa1, rtz
    EXPECT a0, 0xffffffff80000000
    EXPECT_FLAGS NV
    LDD fa1, 0xc1e0000000000000  /* -2^31 fits */
    fcvtmod.w.d a0, fa1, rtz
    EXPECT a0, 0xffffffff80000000
    EXPECT_FLAGS 0
    LDD fa1, 0x7ff0000000000000
    fcvtmod.w.d a0, fa1, rtz
    EXPECT a0, 0
    EXPECT_FLAGS NV

    /* FLEQ/FLTQ: quiet (FLT signals on a quiet NaN) */
    NEXT
    LDD fa1, QNAN_D
    LDD fa2, ONE_D
    fltq.d a0, fa1, fa2
    EXPECT a0, 0
    EXPECT_FLAGS 0
    flt.d a0, fa1, fa2
    EXPECT_FLAGS NV
    LDD fa1, SNAN_D
    fleq.d a0, fa1, fa2
    EXPECT_FLAGS NV
    fleq.d a0, fa2, fa2
    EXPECT a0, 1
    fltq.d a0, fa2, fa2
    EXPECT a0, 0
    LDS fa1, 0x3f800000
    LDS fa2, 0x40000000
    fltq.s a0, fa1, fa2
    EXPECT a0, 1
    EXPECT_FLAGS 0

    /* The half-precision forms (Zfa with Zfh). FLI.H: entry 1 is 2^-14, entries 2 and 3 are
     * subnormal, entry 29 (2^16) is +infinity; no flags. */
    NEXT
    fli.h fa0, min
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff0400
    fli.h fa0, 0x1p-16
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff0100
    fli.h fa0, 0x1p-15
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff0200
    fli.h fa0, 0.3125
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff3500
    fli.h fa0, 32768.0
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff7800
    fli.h fa0, 65536.0
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff7c00
    fli.h fa0, nan
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff7e00
    EXPECT_FLAGS 0
    NEXT
    li t0, 0x7e00                /* quiet NaN */
    fmv.h.x fa1, t0
    li t0, 0xc200                /* -3.0 */
    fmv.h.x fa2, t0
    fminm.h fa0, fa1, fa2
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff7e00
    fmin.h fa0, fa1, fa2
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffffc200
    fltq.h a0, fa1, fa2
    EXPECT a0, 0
    EXPECT_FLAGS 0
    flt.h a0, fa1, fa2
    EXPECT_FLAGS NV
    li t0, 0x4100                /* 2.5 */
    fmv.h.x fa1, t0
    fround.h fa0, fa1, rne
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff4000
    EXPECT_FLAGS 0
    froundnx.h fa0, fa1, rmm
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff4200
    EXPECT_FLAGS NX
    fleq.h a0, fa2, fa1
    EXPECT a0, 1
    fmaxm.h fa0, fa1, fa2
    fmv.x.d a0, fa0
    EXPECT a0, 0xffffffffffff4100
    j pass
