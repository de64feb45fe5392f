#include "common.h"
/* AIA (Smaia/Ssaia, H): the M, S and guest IMSIC interrupt files through miselect/mireg, siselect/sireg,
 * vsiselect/vsireg (hstatus.VGEIN) and their MMIO seteipnum pages; *topei values and claims, thresholds,
 * eidelivery, mtopi/stopi, hgeie/hgeip and SGEIP/VSEIP, an MEI taken as a trap; the APLIC's genmsi and a
 * UART interrupt through the APLIC (MSI mode) into the S file. Run with --aia aplic-imsic and H. */
#define MISELECT 0x350
#define MIREG    0x351
#define MTOPEI   0x35c
#define MTOPI    0xfb0
#define SISELECT 0x150
#define SIREG    0x151
#define STOPEI   0x15c
#define STOPI    0xdb0
#define VSISELECT 0x250
#define VSIREG   0x251
#define VSTOPEI  0x25c
#define HGEIE    0x607
#define HGEIP    0xe12
#define IMSIC_M  0x24000000
#define IMSIC_S  0x28000000
#define APLIC_S  0x0d000000
#define INT(c) ((1 << 63) | c)
#define SPIN 2000000

/* Indirect register write/read through a select/reg pair. */
.macro IWRITE sel, reg, index, value
    li t0, \index
    csrw \sel, t0
    li t0, \value
    csrw \reg, t0
.endm

test_main:
    /* M file: eidelivery, eie, then identity 5 written to its page. */
    NEXT
    IWRITE MISELECT, MIREG, 0x70, -1
    csrr a0, MIREG
    EXPECT a0, 1                           /* eidelivery holds 0 or 1 */
    IWRITE MISELECT, MIREG, 0xc0, (1 << 5) | (1 << 9) | 1
    csrr a0, MIREG
    EXPECT a0, (1 << 5) | (1 << 9)         /* identity 0 cannot be enabled */
    csrr a0, MTOPEI
    EXPECT a0, 0
    li t0, IMSIC_M
    li t1, 9
    sw t1, 0(t0)
    li t1, 5
    sw t1, 0(t0)
    csrr a0, MTOPEI
    EXPECT a0, (5 << 16) | 5
    csrr a0, mip
    li t0, 1 << 11
    and a0, a0, t0
    EXPECT a0, 1 << 11                     /* MEIP from the M file */
    li t0, 1 << 11
    csrw mie, t0
    csrr a0, MTOPI
    EXPECT a0, (11 << 16) | 1
    /* The MEI is taken as a trap (the handler clears mie). */
    NEXT
    CLEAR_TRAP
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    EXPECT_TRAP INT(11)
    /* A write to mtopei claims 5; 9 is next; a threshold of 9 hides it; eidelivery 0 drops MEIP. */
    NEXT
    csrw MTOPEI, zero
    csrr a0, MTOPEI
    EXPECT a0, (9 << 16) | 9
    IWRITE MISELECT, MIREG, 0x72, 9
    csrr a0, MTOPEI
    EXPECT a0, 0
    IWRITE MISELECT, MIREG, 0x72, 0
    IWRITE MISELECT, MIREG, 0x70, 0
    csrr a0, mip
    li t0, 1 << 11
    and a0, a0, t0
    EXPECT a0, 0
    csrrw a0, MTOPEI, zero                 /* read-and-claim in one instruction */
    EXPECT a0, (9 << 16) | 9
    IWRITE MISELECT, MIREG, 0x80, 0
    csrr a0, MIREG
    EXPECT a0, 0                           /* eip0 */

    /* Indirect registers that do not exist are illegal (RV64: odd eipN/eieN). */
    NEXT
    CLEAR_TRAP
    li t0, 0x81
    csrw SISELECT, t0
    csrr a0, SIREG
    EXPECT_TRAP 2
    li t0, 0x30
    csrw SISELECT, t0
    csrr a0, SIREG                         /* iprio0: read-only zero */
    EXPECT_NO_TRAP
    EXPECT a0, 0

    /* S file: SEIP, stopei and stopi. */
    NEXT
    IWRITE SISELECT, SIREG, 0x70, 1
    IWRITE SISELECT, SIREG, 0xc2, 1        /* eie2: identity 64 */
    li t0, IMSIC_S
    li t1, 64
    sw t1, 0(t0)
    csrr a0, STOPEI
    EXPECT a0, (64 << 16) | 64
    li t0, 1 << 9
    csrw mideleg, t0
    csrw mie, t0
    csrr a0, STOPI
    EXPECT a0, (9 << 16) | 1
    csrr a0, MTOPI
    EXPECT a0, 0                           /* SEI is delegated */
    csrw STOPEI, zero
    csrr a0, mip
    li t0, 1 << 9
    and a0, a0, t0
    EXPECT a0, 0
    csrw mie, zero

    /* Guest files: hgeie implements bits 1..3, hgeip follows guest file 1, SGEIP needs hgeie, VSEIP VGEIN. */
    NEXT
    li t0, -1
    csrw HGEIE, t0
    csrr a0, HGEIE
    EXPECT a0, 0xe
    csrr a0, mideleg
    li t0, 1 << 12
    and a0, a0, t0
    EXPECT a0, 1 << 12                     /* SGEI: delegated, read-only */
    li t0, 1 << 12
    csrw hstatus, t0                       /* VGEIN = 1 */
    csrr a0, hstatus
    srli a0, a0, 12
    andi a0, a0, 0x3f
    EXPECT a0, 1
    IWRITE VSISELECT, VSIREG, 0x70, 1
    IWRITE VSISELECT, VSIREG, 0xc0, 1 << 3
    li t0, IMSIC_S + 0x1000                /* hart 0, guest file 1 */
    li t1, 3
    sw t1, 0(t0)
    csrr a0, HGEIP
    EXPECT a0, 1 << 1
    csrr a0, VSTOPEI
    EXPECT a0, (3 << 16) | 3
    csrr a0, mip
    li t0, (1 << 12) | (1 << 10)
    and a0, a0, t0
    EXPECT a0, (1 << 12) | (1 << 10)       /* SGEIP and VSEIP */
    NEXT
    li t0, 2 << 12
    csrw hstatus, t0                       /* VGEIN = 2: guest file 2 has nothing */
    csrr a0, mip
    li t0, 1 << 10
    and a0, a0, t0
    EXPECT a0, 0
    li t0, 1 << 2
    csrw HGEIE, t0
    csrr a0, mip
    li t0, 1 << 12
    and a0, a0, t0
    EXPECT a0, 0                           /* hgeie masks guest file 1 */
    li t0, 1 << 12
    csrw hstatus, t0
    csrw VSTOPEI, zero                     /* claim in guest file 1 */
    csrr a0, HGEIP
    EXPECT a0, 0
    csrw hstatus, zero
    CLEAR_TRAP
    csrr a0, VSTOPEI                       /* VGEIN = 0 names no file: illegal from M */
    EXPECT_TRAP 2

    /* APLIC genmsi: hart 0, EIID 70 into the S file. */
    NEXT
    IWRITE SISELECT, SIREG, 0xc2, 1 << 6
    li t0, APLIC_S + 0x3000
    li t1, 70
    sw t1, 0(t0)
    csrr a0, STOPEI
    EXPECT a0, (70 << 16) | 70
    csrw STOPEI, zero

    /* A UART interrupt (THR empty) through the APLIC: source 10, level high, EIID 66. */
    NEXT
    li s0, APLIC_S
    li t0, 0x100
    sw t0, 0(s0)                           /* domaincfg.IE */
    li t0, 6
    sw t0, 40(s0)                          /* sourcecfg[10] = level high */
    li t0, 66
    li t1, 0x3000 + 40
    add t1, t1, s0
    sw t0, 0(t1)                           /* target[10]: hart 0, guest 0, EIID 66 */
    li t0, 10
    li t1, 0x1edc
    add t1, t1, s0
    sw t0, 0(t1)                           /* setienum */
    IWRITE SISELECT, SIREG, 0xc2, 1 << 2   /* eie: identity 66 */
    li t0, UART_BASE
    li t1, 2
    sb t1, 1(t0)                           /* IER.ETBEI */
    li a5, SPIN
1:  csrr a0, STOPEI
    bnez a0, 2f
    addi a5, a5, -1
    bnez a5, 1b
    j fail
2:  EXPECT a0, (66 << 16) | 66
    li t0, UART_BASE
    sb zero, 1(t0)
    j pass
