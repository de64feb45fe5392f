/* Floating-point helpers shared by fpu.S and zfa.S (use t0). */
/* freg = single (LDS) or double (LDD) with the given bit pattern */
.macro LDS freg, val
    li t0, \val
    fmv.w.x \freg, t0
.endm
.macro LDD freg, val
    li t0, \val
    fmv.d.x \freg, t0
.endm
/* Fail unless fflags == val; then clear fflags. */
.macro EXPECT_FLAGS val
    csrr t0, fflags
    EXPECT t0, \val
    csrw fflags, zero
.endm
