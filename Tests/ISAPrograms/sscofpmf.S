#include "common.h"
/* Zihpm counters with Sscofpmf (privileged spec "Sscofpmf"), in M-mode: mhpmevent3 = 2 counts retired
 * instructions exactly (a written value is what the next instruction reads), MINH stops the count in
 * M-mode, mcountinhibit freezes a counter (and mcycle), an overflow sets mhpmevent.OF, scountovf and
 * the LCOFI pending bit (mip 13) and is taken as interrupt 13 once enabled, and OF set holds off
 * another overflow interrupt. Run on the max CPU. */
#define EVENT_INSTRUCTIONS 2
#define MINH (1 << 62)
#define OF (1 << 63)
#define LCOFI (1 << 13)

.macro NOPS
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
.endm

test_main:
    /* Counting retired instructions: 10 nops between a write and a read. */
    NEXT
    li t0, EVENT_INSTRUCTIONS
    csrw mhpmevent3, t0
    csrw mcountinhibit, zero
    csrw mhpmcounter3, zero
    NOPS
    csrr a0, mhpmcounter3
    EXPECT a0, 10
    csrr a0, mhpmevent3
    EXPECT a0, EVENT_INSTRUCTIONS

    /* Events this hart lacks count nothing; the hpm counters past 6 read zero. */
    NEXT
    li t0, 0x55
    csrw mhpmevent4, t0
    csrw mhpmcounter4, zero
    NOPS
    csrr a0, mhpmcounter4
    EXPECT a0, 0
    csrr a0, mhpmcounter7
    EXPECT a0, 0

    /* MINH: no counting in M-mode. */
    NEXT
    li t0, EVENT_INSTRUCTIONS | MINH
    csrw mhpmevent3, t0
    csrw mhpmcounter3, zero
    NOPS
    csrr a0, mhpmcounter3
    EXPECT a0, 0

    /* mcountinhibit freezes hpm counters and mcycle. */
    NEXT
    li t0, EVENT_INSTRUCTIONS
    csrw mhpmevent3, t0
    csrw mhpmcounter3, zero
    li t0, (1 << 3) | 1
    csrw mcountinhibit, t0
    csrr a0, mhpmcounter3
    csrr a1, mcycle
    NOPS
    csrr a2, mhpmcounter3
    csrr a3, mcycle
    EXPECTR a0, a2
    EXPECTR a1, a3
    csrw mcountinhibit, zero
    NOPS
    csrr a2, mhpmcounter3
    sub a2, a2, a0
    li t0, 10
    bltu a2, t0, fail

    /* Overflow: from -5, ten instructions wrap the counter: OF, scountovf bit 3 and LCOFI pending;
     * with interrupts off in M-mode nothing is taken yet. */
    NEXT
    csrw mie, zero
    csrci mstatus, MSTATUS_MIE
    li t0, LCOFI
    csrc mip, t0
    li t0, -5
    csrw mhpmcounter3, t0
    NOPS
    csrr a0, mhpmevent3
    srli a0, a0, 63
    EXPECT a0, 1
    csrr a0, scountovf
    EXPECT a0, 1 << 3
    csrr a0, mip
    li t0, LCOFI
    and a0, a0, t0
    EXPECT a0, LCOFI
    csrr a0, mhpmcounter3
    li t0, 20
    bgeu a0, t0, fail      /* it went on counting past zero */

    /* Enabled, the overflow is interrupt 13. */
    NEXT
    CLEAR_TRAP
    li t0, LCOFI
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    EXPECT_TRAP (1 << 63) | 13

    /* With OF still set, another wrap raises no new interrupt. */
    NEXT
    li t0, LCOFI
    csrc mip, t0
    li t0, -3
    csrw mhpmcounter3, t0
    NOPS
    csrr a0, mip
    li t0, LCOFI
    and a0, a0, t0
    EXPECT a0, 0
    /* Clearing OF re-arms it. */
    li t0, EVENT_INSTRUCTIONS
    csrw mhpmevent3, t0
    li t0, -3
    csrw mhpmcounter3, t0
    NOPS
    csrr a0, mip
    li t0, LCOFI
    and a0, a0, t0
    EXPECT a0, LCOFI
    csrc mip, t0

    /* LCOFI is delegable to S-mode and then visible in sip and sie. */
    NEXT
    li t0, LCOFI
    csrs mideleg, t0
    csrr a0, mideleg
    and a0, a0, t0
    EXPECT a0, LCOFI
    csrs sie, t0
    csrr a0, sie
    and a0, a0, t0
    EXPECT a0, LCOFI
    csrs sip, t0
    csrr a0, sip
    and a0, a0, t0
    EXPECT a0, LCOFI
    csrc sip, t0
    csrw mideleg, zero
    j pass
