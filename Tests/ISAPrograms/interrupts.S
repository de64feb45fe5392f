#include "common.h"
/* Interrupts: CLINT timer (MTI), MSIP, Sstc stimecmp STI delegated to S, priority order,
 * WFI wake-up with mstatus.MIE = 0, delegated interrupts vs privilege, vectored mtvec. */
#define PLIC_BASE 0x0c000000
#define UART_IRQ 10
#define INT(c) ((1 << 63) | c)
#define SPIN 2000000

/* Spin until trap_count != reg (or fail after SPIN iterations). */
.macro WAIT_TRAP old
    li a5, SPIN
1001:
    la t6, trap_count
    ld t6, 0(t6)
    bne t6, \old, 1002f
    addi a5, a5, -1
    bnez a5, 1001b
    j fail
1002:
.endm
.macro COUNT reg
    la \reg, trap_count
    ld \reg, 0(\reg)
.endm

test_main:
    li s11, CLINT_MTIME
    li s10, CLINT_MTIMECMP
    li a0, -1
    sd a0, 0(s10)
    /* mtime advances */
    NEXT
    ld a0, 0(s11)
    li a5, 100000
1:  addi a5, a5, -1
    bnez a5, 1b
    ld a1, 0(s11)
    bltu a0, a1, 2f
    j fail
2:
    /* Machine timer interrupt */
    NEXT
    CLEAR_TRAP
    COUNT s0
    li a0, 1 << 7
    csrw mie, a0
    csrsi mstatus, MSTATUS_MIE
    ld a0, 0(s11)
    addi a0, a0, 500
    sd a0, 0(s10)
    WAIT_TRAP s0
    EXPECT_TRAP INT(7)
    csrr a0, mstatus
    andi a0, a0, MSTATUS_MIE
    EXPECT a0, MSTATUS_MIE          /* MRET restored MIE from MPIE */
    csrr a0, mip
    andi a0, a0, 1 << 7
    EXPECT a0, 1 << 7               /* still pending: mie was cleared by the handler */
    li a0, -1
    sd a0, 0(s10)
    /* MTIP is read-only in mip */
    NEXT
    csrci mstatus, MSTATUS_MIE
    li a0, 1 << 7
    csrc mip, a0
    /* Machine software interrupt via CLINT msip */
    NEXT
    CLEAR_TRAP
    COUNT s0
    li a0, 1 << 3
    csrw mie, a0
    li a1, CLINT_MSIP
    li a0, 1
    sw a0, 0(a1)
    lw a2, 0(a1)
    EXPECT a2, 1
    csrsi mstatus, MSTATUS_MIE
    WAIT_TRAP s0
    EXPECT_TRAP INT(3)
    li a1, CLINT_MSIP
    sw zero, 0(a1)
    csrci mstatus, MSTATUS_MIE
    csrr a0, mip
    andi a0, a0, 1 << 3
    EXPECT a0, 0

    /* WFI wakes on a pending enabled interrupt even with mstatus.MIE = 0; no trap is taken */
    NEXT
    CLEAR_TRAP
    li a0, 1 << 7
    csrw mie, a0
    ld a0, 0(s11)
    addi a0, a0, 2000
    sd a0, 0(s10)
    wfi
    ld a1, 0(s11)
    bgeu a1, a0, 3f
    /* wfi may be a hint: if it returned early, wait for MTIP by polling */
    li a5, SPIN
4:  csrr a2, mip
    andi a2, a2, 1 << 7
    bnez a2, 3f
    addi a5, a5, -1
    bnez a5, 4b
    j fail
3:  EXPECT_NO_TRAP
    csrr a2, mip
    andi a2, a2, 1 << 7
    EXPECT a2, 1 << 7
    csrw mie, zero
    li a0, -1
    sd a0, 0(s10)

    /* Priority: MEI > MSI > MTI > SEI > SSI > STI, all handled in M */
    NEXT
    csrw mideleg, zero
    csrw menvcfg, zero
    /* MEI: UART THR-empty interrupt routed through PLIC context 0 (hart 0 M-mode) */
    li a0, PLIC_BASE
    li a1, 1
    sw a1, 4*UART_IRQ(a0)
    li a1, 1 << UART_IRQ
    li a2, PLIC_BASE + 0x2000
    sw a1, 0(a2)
    li a2, PLIC_BASE + 0x200000
    sw zero, 0(a2)
    li a2, UART_BASE
    li a1, 2
    sb a1, 1(a2)                    /* IER.THRI */
    li a2, CLINT_MSIP
    li a1, 1
    sw a1, 0(a2)                    /* MSI */
    sd zero, 0(s10)                 /* MTI */
    li a0, (1 << 9) | (1 << 1) | (1 << 5)
    csrs mip, a0                    /* SEI, SSI, STI (software-writable by M) */
    /* wait until all six are pending */
    li a5, SPIN
5:  csrr a1, mip
    li a2, 0xaaa
    and a1, a1, a2
    beq a1, a2, 6f
    addi a5, a5, -1
    bnez a5, 5b
    j fail
6:  la a0, prio_hook
    la a1, trap_hook
    sd a0, 0(a1)
    la a0, prio_log
    la a1, prio_ptr
    sd a0, 0(a1)
    li a0, 0xaaa
    csrw mie, a0
    csrsi mstatus, MSTATUS_MIE      /* all six are taken here, one after the other */
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    la a1, trap_hook
    sd zero, 0(a1)
    la s0, prio_log
    NEXT
    ld a0, 0(s0)
    EXPECT a0, INT(11)
    NEXT
    ld a0, 8(s0)
    EXPECT a0, INT(3)
    NEXT
    ld a0, 16(s0)
    EXPECT a0, INT(7)
    NEXT
    ld a0, 24(s0)
    EXPECT a0, INT(9)
    NEXT
    ld a0, 32(s0)
    EXPECT a0, INT(1)
    NEXT
    ld a0, 40(s0)
    EXPECT a0, INT(5)
    /* clean up every source */
    li a2, UART_BASE
    sb zero, 1(a2)
    li a2, CLINT_MSIP
    sw zero, 0(a2)
    li a0, -1
    sd a0, 0(s10)
    li a0, (1 << 9) | (1 << 1) | (1 << 5)
    csrc mip, a0
    li a0, PLIC_BASE + 0x2000
    sw zero, 0(a0)

    /* CSRRS/CSRRC on mip use only the software-writable SEIP bit: an external SEIP level must
       not be latched into it (privileged spec, mip.SEIP) */
    NEXT
    csrw mie, zero
    li a0, PLIC_BASE
    li a1, 1
    sw a1, 4*UART_IRQ(a0)
    li a1, 1 << UART_IRQ
    li a2, PLIC_BASE + 0x2080          /* context 1: hart 0 S-mode */
    sw a1, 0(a2)
    li a2, PLIC_BASE + 0x201000
    sw zero, 0(a2)
    li a2, UART_BASE
    li a1, 2
    sb a1, 1(a2)
    li a5, SPIN
13: csrr a1, mip
    andi a1, a1, 1 << 9
    bnez a1, 14f
    addi a5, a5, -1
    bnez a5, 13b
    j fail
14: NEXT
    csrsi mip, 2
    csrci mip, 2
    li a2, UART_BASE
    sb zero, 1(a2)                     /* drop the external level */
    li a5, SPIN
15: csrr a1, mip
    andi a1, a1, 1 << 9
    beqz a1, 16f
    addi a5, a5, -1
    bnez a5, 15b
    j fail
16: li a2, PLIC_BASE + 0x2080
    sw zero, 0(a2)

    /* Delegated SSI: not taken in M (even with MIE=1), not in S with SIE=0, taken in U into S */
    NEXT
    CLEAR_TRAP
    la a0, strap
    csrw stvec, a0
    li a0, 1 << 1
    csrw mideleg, a0
    csrw mie, a0
    csrs mip, a0
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    EXPECT_NO_TRAP
    EXPECTV s_count, 0
    csrci mstatus, MSTATUS_SIE
    GOTO_MODE 1, s_mode1
s_mode1:
    nop
    nop
    EXPECTV s_count, 0
    ecall
    CLEAR_TRAP
    NEXT
    SET_RESUME u_back
    GOTO_MODE 0, u_mode1
u_mode1:
    li a5, SPIN
7:  la a0, s_count
    ld a0, 0(a0)
    bnez a0, 8f
    addi a5, a5, -1
    bnez a5, 7b
    j fail
8:  EXPECTV s_cause, INT(1)
    ebreak                            /* back to M at u_back */
u_back:
    CLEAR_TRAP
    li a0, 1 << 1
    csrc mip, a0
    csrw mie, zero

    /* Sstc: stimecmp raises STIP, delegated and taken in S-mode */
    NEXT
    li a0, 1 << 63
    csrw menvcfg, a0
    li a0, 2
    csrw mcounteren, a0               /* TM: S may read time and access stimecmp */
    li a0, -1
    csrw stimecmp, a0
    csrr a1, mip
    andi a1, a1, 1 << 5
    EXPECT a1, 0
    csrw stimecmp, zero
    csrr a1, mip
    andi a1, a1, 1 << 5
    EXPECT a1, 1 << 5                  /* STIP follows time >= stimecmp */
    li a0, -1
    csrw stimecmp, a0
    NEXT
    li a0, 1 << 5
    csrw mideleg, a0
    csrw mie, a0
    la a0, s_count
    sd zero, 0(a0)
    GOTO_MODE 1, s_mode2
s_mode2:
    csrsi sstatus, MSTATUS_SIE
    rdtime a0
    addi a0, a0, 500
    csrw stimecmp, a0
    li a5, SPIN
9:  la a0, s_count
    ld a0, 0(a0)
    bnez a0, 10f
    addi a5, a5, -1
    bnez a5, 9b
    j fail
10: EXPECTV s_cause, INT(5)
    csrci sstatus, MSTATUS_SIE
    ecall
    CLEAR_TRAP
    /* without mcounteren.TM, S-mode stimecmp access is illegal */
    NEXT
    csrw mcounteren, zero
    GOTO_MODE 1, s_mode3
s_mode3:
    csrr a0, stimecmp
    EXPECT_TRAP 2
    ecall
    CLEAR_TRAP
    csrw mie, zero
    csrw mideleg, zero
    csrw menvcfg, zero

    /* Vectored mtvec: interrupt cause 3 goes to base + 12 */
    NEXT
    la a0, vec_table
    ori a0, a0, 1
    csrw mtvec, a0
    li a0, 1 << 3
    csrw mie, a0
    li a2, CLINT_MSIP
    li a1, 1
    sw a1, 0(a2)
    la a3, vec_hit
    sd zero, 0(a3)
    csrsi mstatus, MSTATUS_MIE
    li a5, SPIN
11: ld a4, 0(a3)
    bnez a4, 12f
    addi a5, a5, -1
    bnez a5, 11b
    j fail
12: EXPECT a4, 3
    csrci mstatus, MSTATUS_MIE
    la a0, mtrap
    csrw mtvec, a0
    /* exceptions still go to base in vectored mode: tested implicitly by mtrap being used above */
    j pass

prio_hook:
    sd t3, 24(sp)
    csrr t0, mcause
    la t1, prio_ptr
    ld t3, 0(t1)
    sd t0, 0(t3)
    addi t3, t3, 8
    sd t3, 0(t1)
    slli t0, t0, 1
    srli t0, t0, 1
    li t1, 1
    sll t1, t1, t0
    csrc mie, t1
    ld t3, 24(sp)
    jr t2

    .align 6
    .option push
    .option norvc
vec_table:
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_msi
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_bad
    .option pop
vec_bad:
    j fail
vec_msi:
    csrrw sp, mscratch, sp
    sd t0, 0(sp)
    sd t1, 8(sp)
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    la t0, vec_hit
    li t1, 3
    sd t1, 0(t0)
    csrw mie, zero
    ld t0, 0(sp)
    ld t1, 8(sp)
    csrrw sp, mscratch, sp
    mret

/* S-mode trap handler: records scause, clears SSIP / disarms stimecmp, counts. */
    .align 4
strap:
    csrrw t0, sscratch, t0
    la t0, s_save
    sd t1, 0(t0)
    csrr t1, scause
    sd t1, 8(t0)
    ld t1, 16(t0)
    addi t1, t1, 1
    sd t1, 16(t0)
    csrci sip, 1 << 1
    csrr t1, scause
    slli t1, t1, 1
    li t0, 10
    bne t1, t0, 1f
    li t1, -1
    csrw stimecmp, t1
1:  la t0, s_save
    ld t1, 0(t0)
    csrrw t0, sscratch, t0
    sret

    .data
    .align 4
s_save:  .dword 0
s_cause: .dword -1
s_count: .dword 0
prio_ptr: .dword 0
prio_log: .space 64
vec_hit: .dword 0
