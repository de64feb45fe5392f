#include "common.h"
#include "hext.h"
/* Smstateen/Ssstateen (run with the H extension): mstateen0's SE0 and ENVCFG bits gate sstateen0,
 * hstateen0, senvcfg and henvcfg below M-mode (illegal instruction); hstateen0's gate sstateen0 and
 * senvcfg for VS-mode (virtual instruction, unless mstateen0 already forbids them: illegal). Bits for
 * state the hart lacks are read-only zero, so sstateen0 reads zero; hstateen bits appear only where
 * mstateen's are set. CSRs by number: binutils 2.40 does not name them. */
    .option arch, +h
#define SSTATEEN0 0x10c
#define MSTATEEN0 0x30c
#define MSTATEEN1 0x30d
#define MSTATEEN3 0x30f
#define HSTATEEN0 0x60c
#define SENVCFG 0x10a
#define HENVCFG 0x60a
#define SE0 (1 << 63)
#define ENVCFG (1 << 62)
#define CAUSE_ILLEGAL 2
#define CAUSE_VIRTUAL 22

test_main:
    NEXT
    csrr a0, MSTATEEN0
    EXPECT a0, 0                      /* writable bits reset to zero */
    li t0, -1
    csrw MSTATEEN0, t0
    csrr a0, MSTATEEN0
    EXPECT a0, SE0 | ENVCFG           /* the rest stands for state this hart lacks */
    csrw MSTATEEN1, t0
    csrr a0, MSTATEEN1
    EXPECT a0, SE0
    csrw MSTATEEN3, t0
    csrr a0, MSTATEEN3
    EXPECT a0, SE0
    NEXT
    li t0, SE0
    csrw MSTATEEN0, t0
    li t0, -1
    csrw HSTATEEN0, t0
    csrr a0, HSTATEEN0
    EXPECT a0, SE0                    /* ENVCFG is zero in mstateen0 */
    csrw SSTATEEN0, t0
    csrr a0, SSTATEEN0
    EXPECT a0, 0

    /* mstateen0 = 0: HS-mode may not touch them. */
    NEXT
    csrw MSTATEEN0, zero
    CLEAR_TRAP
    GOTO_MODE 1, hs_closed
hs_closed:
    csrr a0, SSTATEEN0
    EXPECT_TRAP CAUSE_ILLEGAL
    csrr a0, HSTATEEN0
    EXPECT_TRAP CAUSE_ILLEGAL
    csrr a0, SENVCFG
    EXPECT_TRAP CAUSE_ILLEGAL
    csrw HENVCFG, zero
    EXPECT_TRAP CAUSE_ILLEGAL
    csrr a0, sscratch
    EXPECT_NO_TRAP
    ecall                             /* back to M-mode */

    /* SE0 and ENVCFG set: HS-mode may. */
    NEXT
    li t0, SE0 | ENVCFG
    csrw MSTATEEN0, t0
    csrw HSTATEEN0, zero
    CLEAR_TRAP
    GOTO_MODE 1, hs_open
hs_open:
    csrr a0, SSTATEEN0
    EXPECT_NO_TRAP
    EXPECT a0, 0
    li t0, SE0 | ENVCFG
    csrw HSTATEEN0, t0
    csrr a0, HSTATEEN0
    EXPECT_NO_TRAP
    EXPECT a0, SE0 | ENVCFG
    csrr a0, SENVCFG
    csrr a0, HENVCFG
    EXPECT_NO_TRAP
    csrw HSTATEEN0, zero
    ecall

    /* hstateen0 = 0: VS-mode gets virtual-instruction exceptions. */
    NEXT
    CLEAR_TRAP
    GOTO_V 1, vs_closed
vs_closed:
    csrr a0, SENVCFG
    EXPECT_TRAP CAUSE_VIRTUAL
    csrr a0, SSTATEEN0
    EXPECT_TRAP CAUSE_VIRTUAL
    csrr a0, HSTATEEN0
    EXPECT_TRAP CAUSE_VIRTUAL         /* any hypervisor CSR from VS-mode */
    csrr a0, sscratch
    EXPECT_NO_TRAP
    SET_RESUME m_after_vs_closed
    ecall                             /* ecall from VS: back to M-mode */
    j fail
m_after_vs_closed:
    EXPECTV trap_cause, 10

    /* hstateen0 open: VS-mode may. */
    NEXT
    li t0, SE0 | ENVCFG
    csrw HSTATEEN0, t0
    CLEAR_TRAP
    GOTO_V 1, vs_open
vs_open:
    csrr a0, SENVCFG
    EXPECT_NO_TRAP
    csrr a0, SSTATEEN0
    EXPECT_NO_TRAP
    EXPECT a0, 0
    SET_RESUME m_after_vs_open
    ecall
    j fail
m_after_vs_open:
    EXPECTV trap_cause, 10

    /* mstateen0 = 0 again: from VS-mode that is an illegal instruction, not a virtual one. */
    NEXT
    csrw MSTATEEN0, zero
    CLEAR_TRAP
    GOTO_V 1, vs_m_closed
vs_m_closed:
    csrr a0, SENVCFG
    EXPECT_TRAP CAUSE_ILLEGAL
    csrr a0, SSTATEEN0
    EXPECT_TRAP CAUSE_ILLEGAL
    SET_RESUME m_after_vs_m_closed
    ecall
    j fail
m_after_vs_m_closed:
    EXPECTV trap_cause, 10
    NEXT
    csrr a0, HSTATEEN0
    EXPECT a0, 0                      /* appears zero while mstateen0's bits are */
    j pass
