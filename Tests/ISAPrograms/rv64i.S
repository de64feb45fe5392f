#include "common.h"
/* RV64I: ALU ops (incl. W forms, shift edge amounts), LUI/AUIPC, branches, JAL/JALR, loads/stores. */
test_main:
    TRR add, 1, 2, 3
    TRR add, 0x7fffffffffffffff, 1, 0x8000000000000000
    TRR sub, 0, 1, -1
    TRR sub, 0x8000000000000000, 1, 0x7fffffffffffffff
    TRR sll, 1, 63, 0x8000000000000000
    TRR sll, 1, 64, 1                /* only low 6 bits of shamt */
    TRR sll, 3, 65, 6
    TRR srl, 0x8000000000000000, 63, 1
    TRR srl, -1, 0, -1
    TRR srl, -1, 127, 1
    TRR sra, 0x8000000000000000, 63, -1
    TRR sra, 0x8000000000000000, 64, 0x8000000000000000
    TRR sra, 0x4000000000000000, 62, 1
    TRR slt, -1, 0, 1
    TRR slt, 0, -1, 0
    TRR slt, 5, 5, 0
    TRR sltu, 0, -1, 1
    TRR sltu, -1, 0, 0
    TRR xor, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    TRR or, 0xff00ff00, 0x0ff00ff0, 0xfff0fff0
    TRR and, 0xff00ff00, 0x0ff00ff0, 0x0f000f00
    TRI addi, 5, -6, -1
    TRI addi, 0x7fffffffffffffff, 1, 0x8000000000000000
    TRI addi, 0, 2047, 2047
    TRI addi, 0, -2048, -2048
    TRI slti, -5, -4, 1
    TRI slti, -4, -5, 0
    TRI sltiu, 5, -1, 1             /* imm sign-extended then compared unsigned */
    TRI sltiu, -1, 5, 0
    TRI sltiu, 0, 1, 1              /* seqz */
    TRI xori, 0x0f0f, -1, 0xfffffffffffff0f0
    TRI ori, 0x100, -2048, 0xfffffffffffff900
    TRI andi, -1, -2048, 0xfffffffffffff800
    TRI andi, 0x12345678, 0x7ff, 0x678
    TRI slli, 1, 63, 0x8000000000000000
    TRI slli, 0xff, 0, 0xff
    TRI srli, 0x8000000000000000, 63, 1
    TRI srli, -1, 32, 0xffffffff
    TRI srai, 0x8000000000000000, 63, -1
    TRI srai, 0x8000000000000000, 0, 0x8000000000000000
    TRI srai, 0x7000000000000000, 60, 7
    /* W forms: 32-bit result sign-extended */
    TRR addw, 0x7fffffff, 1, 0xffffffff80000000
    TRR addw, 0xffffffff00000001, 1, 2
    TRR subw, 0, 1, -1
    TRR subw, 0x80000000, 1, 0x7fffffff
    TRR sllw, 1, 31, 0xffffffff80000000
    TRR sllw, 1, 32, 1              /* only low 5 bits */
    TRR sllw, 0xffffffff00000003, 1, 6
    TRR srlw, 0x80000000, 31, 1
    TRR srlw, 0xffffffff80000000, 0, 0xffffffff80000000
    TRR srlw, 0xffffffff80000000, 1, 0x40000000
    TRR srlw, -1, 33, 0x7fffffff
    TRR sraw, 0x80000000, 31, -1
    TRR sraw, 0x80000000, 32, 0xffffffff80000000
    TRR sraw, 0x00000000ffffff00, 4, 0xfffffffffffffff0
    TRR sraw, 0x7fffffff, 35, 0x0fffffff
    TRI addiw, 0x7fffffff, 1, 0xffffffff80000000
    TRI addiw, 0x123456789, 0, 0x23456789
    TRI addiw, 0xffffffff, 0, -1      /* sext.w */
    TRI slliw, 1, 31, 0xffffffff80000000
    TRI slliw, 0x80000001, 1, 2
    TRI srliw, 0xffffffff80000000, 31, 1
    TRI srliw, 0xffffffff80000000, 0, 0xffffffff80000000
    TRI srliw, -1, 16, 0xffff
    TRI sraiw, 0x80000000, 31, -1
    TRI sraiw, 0x1234567880000000, 4, 0xfffffffff8000000
    TRI sraiw, 0x40000000, 30, 1

    /* LUI / AUIPC */
    NEXT
    lui a0, 0x80000
    EXPECT a0, 0xffffffff80000000
    NEXT
    lui a0, 0x7ffff
    EXPECT a0, 0x7ffff000
    NEXT
1:  auipc a0, 0
    la a1, 1b
    EXPECTR a0, a1
    NEXT
2:  auipc a0, 0x1
    la a1, 2b
    sub a0, a0, a1
    EXPECT a0, 0x1000
    NEXT
3:  auipc a0, 0xfffff
    la a1, 3b
    sub a0, a0, a1
    EXPECT a0, -4096

    /* Branches: taken and not taken, signed and unsigned */
    .macro BR_TAKEN br, a, b
    NEXT
    li a0, \a
    li a1, \b
    \br a0, a1, 1001f
    j fail
1001:
    .endm
    .macro BR_NOT br, a, b
    NEXT
    li a0, \a
    li a1, \b
    \br a0, a1, 1002f
    j 1003f
1002: j fail
1003:
    .endm
    BR_TAKEN beq, 5, 5
    BR_NOT   beq, 5, 6
    BR_TAKEN bne, 5, 6
    BR_NOT   bne, -1, -1
    BR_TAKEN blt, -1, 0
    BR_NOT   blt, 0, -1
    BR_NOT   blt, 3, 3
    BR_TAKEN bge, 0, -1
    BR_TAKEN bge, 3, 3
    BR_NOT   bge, -1, 0
    BR_TAKEN bltu, 0, -1
    BR_NOT   bltu, -1, 0
    BR_TAKEN bgeu, -1, 0
    BR_TAKEN bgeu, 7, 7
    BR_NOT   bgeu, 0, -1
    /* backward branch */
    NEXT
    li a0, 0
    li a1, 3
4:  addi a0, a0, 1
    bne a0, a1, 4b
    EXPECT a0, 3

    /* JAL / JALR */
    NEXT
    jal a0, 5f
6:  j fail
5:  la a1, 6b
    EXPECTR a0, a1
    NEXT
    la a1, 7f
    addi a1, a1, 1          /* bit 0 must be cleared */
    jalr a0, 0(a1)
8:  j fail
    .align 2
7:  la a2, 8b
    EXPECTR a0, a2
    NEXT
    la a1, 9f
    addi a1, a1, -3
    jalr a0, 3(a1)          /* target = a1+3, bit 0 cleared */
    j fail
    .align 2
9:  NEXT
    la a1, 10f
    jalr a1, 0(a1)          /* rd == rs1: target uses old value */
11: j fail
10: la a2, 11b
    EXPECTR a1, a2
    NEXT
    la a1, 12f
    jalr x0, 0(a1)
    j fail
12:

    /* Loads and stores */
    la s0, buf
    li a0, 0x8877665544332211
    sd a0, 0(s0)
    li a0, 0xfffefdfcfbfaf9f8
    sd a0, 8(s0)
    NEXT
    ld a1, 0(s0)
    EXPECT a1, 0x8877665544332211
    NEXT
    lb a1, 7(s0)
    EXPECT a1, 0xffffffffffffff88
    NEXT
    lbu a1, 7(s0)
    EXPECT a1, 0x88
    NEXT
    lb a1, 0(s0)
    EXPECT a1, 0x11
    NEXT
    lh a1, 6(s0)
    EXPECT a1, 0xffffffffffff8877
    NEXT
    lhu a1, 6(s0)
    EXPECT a1, 0x8877
    NEXT
    lw a1, 4(s0)
    EXPECT a1, 0xffffffff88776655
    NEXT
    lwu a1, 4(s0)
    EXPECT a1, 0x88776655
    NEXT
    lw a1, 0(s0)
    EXPECT a1, 0x44332211
    NEXT
    ld a1, 8(s0)
    EXPECT a1, 0xfffefdfcfbfaf9f8
    NEXT
    addi s1, s0, 16
    lb a1, -1(s1)
    EXPECT a1, -1
    NEXT
    lhu a1, -2(s1)
    EXPECT a1, 0xfffe
    NEXT
    li a0, 0xabcdef0123
    sb a0, 16(s0)
    sh a0, 18(s0)
    sw a0, 20(s0)
    ld a1, 16(s0)
    EXPECT a1, 0xcdef012301230023
    NEXT
    sd zero, 24(s0)
    li a0, -1
    sb a0, 25(s0)
    sh a0, 28(s0)
    ld a1, 24(s0)
    EXPECT a1, 0x0000ffff0000ff00
    NEXT
    /* x0 is hard-wired */
    li a0, 5
    add x0, a0, a0
    addi x0, x0, 7
    mv a1, x0
    EXPECT a1, 0
    NEXT
    lw x0, 0(s0)
    EXPECT x0, 0
    NEXT
    fence
    fence.i
    EXPECT_NO_TRAP

    /* Self-modifying code: rewrite an executed instruction, FENCE.I, run it again */
    NEXT
    la s0, smc
    li a1, 0x02a00513              /* addi a0, zero, 42 */
    sw a1, 0(s0)
    li a1, 0x00008067              /* ret */
    sw a1, 4(s0)
    fence.i
    mv s2, ra
    jalr s0
    EXPECT a0, 42
    NEXT
    li a1, 0x02b00513              /* addi a0, zero, 43 */
    sw a1, 0(s0)
    fence.i
    jalr s0
    EXPECT a0, 43
    /* A 32-bit instruction straddling a page boundary, then its upper half rewritten */
    NEXT
    li a2, 4094
    add s1, s0, a2
    li a1, 0x04d00513              /* addi a0, zero, 77 */
    sh a1, 0(s1)
    srli a1, a1, 16
    sh a1, 2(s1)
    li a1, 0x00008067
    sw a1, 4(s1)
    fence.i
    jalr s1
    EXPECT a0, 77
    NEXT
    li a1, 0x04e00513              /* addi a0, zero, 78: only the upper half changes */
    srli a1, a1, 16
    sh a1, 2(s1)
    fence.i
    jalr s1
    EXPECT a0, 78
    NEXT
    li a1, 0x04f00513              /* 79: lower half is in the first page (same for 77/78/79) */
    srli a1, a1, 16
    sh a1, 2(s1)
    fence.i
    jalr s1
    EXPECT a0, 79
    mv ra, s2

    j pass

    .data
    .align 3
buf: .space 64
    .align 12
smc: .space 8192
