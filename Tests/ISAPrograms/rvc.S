#include "common.h"
/* C extension: explicit c.* mnemonics (RV64 forms) and compiler-compressed code. */
test_main:
    .option push
    .option rvc
    NEXT
    li s0, 0
    c.li s0, -32
    EXPECT s0, -32
    NEXT
    c.li a0, 31
    c.addi a0, -1
    EXPECT a0, 30
    NEXT
    li a0, 0x7fffffff
    c.addiw a0, 1
    EXPECT a0, 0xffffffff80000000
    NEXT
    li a0, 0x123456789
    c.addiw a0, 0                 /* sext.w */
    EXPECT a0, 0x23456789
    NEXT
    mv s1, sp
    c.addi16sp sp, -512
    sub a0, s1, sp
    EXPECT a0, 512
    c.addi16sp sp, 496
    c.addi16sp sp, 16
    EXPECTR sp, s1
    NEXT
    c.addi4spn a0, sp, 1020
    sub a0, a0, sp
    EXPECT a0, 1020
    NEXT
    c.lui a0, 0x1f
    EXPECT a0, 0x1f000
    NEXT
    c.lui a0, 0xfffe0             /* nzimm[17] set: sign-extended */
    EXPECT a0, 0xfffffffffffe0000
    NEXT
    c.lui a1, 1
    EXPECT a1, 0x1000
    NEXT
    li a0, 0x8000000000000000
    c.srai a0, 63
    EXPECT a0, -1
    NEXT
    li a0, -16
    c.srai a0, 2
    EXPECT a0, -4
    NEXT
    li a0, 0x8000000000000000
    c.srli a0, 32
    EXPECT a0, 0x80000000
    NEXT
    li a0, 1
    c.slli a0, 63
    EXPECT a0, 0x8000000000000000
    NEXT
    li a0, 0x1234
    c.andi a0, -16
    EXPECT a0, 0x1230
    NEXT
    li a0, -1
    c.andi a0, 31
    EXPECT a0, 31
    NEXT
    li a0, 10
    li a1, 3
    c.sub a0, a1
    EXPECT a0, 7
    NEXT
    li a0, 0xff
    li a1, 0x0f
    c.xor a0, a1
    EXPECT a0, 0xf0
    c.or a0, a1
    EXPECT a0, 0xff
    c.and a0, a1
    EXPECT a0, 0x0f
    NEXT
    li a0, 0x80000000
    li a1, 1
    c.subw a0, a1
    EXPECT a0, 0x7fffffff
    NEXT
    li a0, 0x7fffffff
    li a1, 1
    c.addw a0, a1
    EXPECT a0, 0xffffffff80000000
    NEXT
    li a0, 5
    li s2, 0
    c.mv s2, a0
    EXPECT s2, 5
    NEXT
    li s2, 40
    c.add s2, a0
    EXPECT s2, 45
    /* branches */
    NEXT
    li a0, 0
    c.beqz a0, 1f
    j fail
1:  li a0, 1
    c.beqz a0, 2f
    j 3f
2:  j fail
3:  NEXT
    li a1, -1
    c.bnez a1, 4f
    j fail
4:  li a1, 0
    c.bnez a1, 5f
    j 6f
5:  j fail
6:  /* c.j forward and backward */
    NEXT
    li a0, 0
    c.j 7f
    j fail
8:  addi a0, a0, 1
    c.j 9f
7:  addi a0, a0, 10
    c.j 8b
9:  EXPECT a0, 11
    /* c.jr / c.jalr */
    NEXT
    la a1, 10f
    c.jr a1
    j fail
10: NEXT
    mv s3, ra
    la a1, 11f
    c.jalr a1
12: j fail
11: la a2, 12b
    EXPECTR ra, a2
    mv ra, s3
    /* c.jalr with rs1 == ra */
    NEXT
    la ra, 13f
    c.jalr ra
14: j fail
13: la a2, 14b
    EXPECTR ra, a2
    mv ra, s3
    /* stack-pointer loads/stores */
    NEXT
    addi sp, sp, -64
    li a0, 0x1122334455667788
    c.sdsp a0, 8(sp)
    c.ldsp a1, 8(sp)
    EXPECTR a0, a1
    NEXT
    li a0, 0x80000001
    c.swsp a0, 16(sp)
    c.lwsp a1, 16(sp)
    EXPECT a1, 0xffffffff80000001
    NEXT
    c.sdsp a0, 504(sp)
    c.ldsp a2, 504(sp)
    EXPECT a2, 0x80000001
    addi sp, sp, 64
    /* register-based compressed loads/stores */
    NEXT
    la s0, cbuf
    li a0, -2
    c.sd a0, 248(s0)
    c.ld a1, 248(s0)
    EXPECT a1, -2
    NEXT
    li a0, 0xfffffff0
    c.sw a0, 124(s0)
    c.lw a1, 124(s0)
    EXPECT a1, -16
    ld a2, 120(s0)
    srli a2, a2, 32
    EXPECT a2, 0xfffffff0
    /* compressed FP loads/stores */
    NEXT
    li a0, MSTATUS_FS
    csrs mstatus, a0
    li a0, 0x400921fb54442d18
    fmv.d.x fa0, a0
    c.fsd fa0, 8(s0)
    c.fld fa1, 8(s0)
    fmv.x.d a1, fa1
    EXPECTR a0, a1
    NEXT
    addi sp, sp, -32
    c.fsdsp fa0, 16(sp)
    c.fldsp fa2, 16(sp)
    fmv.x.d a1, fa2
    EXPECTR a0, a1
    addi sp, sp, 32
    /* c.nop and c.ebreak */
    NEXT
    c.nop
    CLEAR_TRAP
    c.ebreak
    EXPECT_TRAP 3
    EXPECTV trap_count, 1
    /* all-zero halfword is illegal, mtval = 0 (the 16 bits) */
    NEXT
    .2byte 0
    EXPECT_TRAP 2
    EXPECTV trap_tval, 0
    .option pop

    /* gcc-style compressed code: a loop the assembler compresses */
    NEXT
    li a0, 0
    li a1, 10
15: addi a0, a0, 3
    addi a1, a1, -1
    bnez a1, 15b
    EXPECT a0, 30
    j pass

    .data
    .align 4
cbuf: .space 256
