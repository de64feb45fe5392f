/* Shared macros for the Matryoshka bare-metal ISA test programs.
 * Convention: gp (x3) holds the current check number. On failure the program
 * writes (check << 16) | 0x3333 to the sifive_test device; on success 0x5555.
 * t6 (x31) is reserved as a scratch register for the EXPECT macros.
 * The default M-mode trap handler records mcause/mepc/mtval/mstatus in
 * trap_cause/trap_epc/trap_tval/trap_status and increments trap_count, then:
 *  - ECALL from U/S (cause 8/9): returns to M-mode after the ecall;
 *  - if trap_resume != 0: returns to M-mode at trap_resume (cleared);
 *  - interrupts: clears mie and returns;
 *  - otherwise skips the faulting instruction (2 or 4 bytes), same mode.
 */
#define TEST_DEV   0x100000
#define UART_BASE  0x10000000
#define CLINT_BASE 0x02000000
#define CLINT_MSIP (CLINT_BASE + 0)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME (CLINT_BASE + 0xbff8)

#define MSTATUS_SIE  (1 << 1)
#define MSTATUS_MIE  (1 << 3)
#define MSTATUS_SPIE (1 << 5)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP  (1 << 8)
#define MSTATUS_MPP  (3 << 11)
#define MSTATUS_FS   (3 << 13)
#define MSTATUS_MPRV (1 << 17)
#define MSTATUS_SUM  (1 << 18)
#define MSTATUS_MXR  (1 << 19)

#define CHECK(n) li gp, n

/* Auto-numbered checks: each NEXT starts a new check (gp = its number). */
.set _tn, 0
.macro NEXT
.set _tn, _tn + 1
    li gp, _tn
.endm
/* rd = op(a, b) register-register test */
.macro TRR op, a, b, res
    NEXT
    li a0, \a
    li a1, \b
    \op a2, a0, a1
    EXPECT a2, \res
.endm
/* rd = op(a, imm) register-immediate test */
.macro TRI op, a, imm, res
    NEXT
    li a0, \a
    \op a2, a0, \imm
    EXPECT a2, \res
.endm

/* Fail unless reg == imm (64-bit immediate). */
.macro EXPECT reg, val
    li t6, \val
    beq \reg, t6, 1000f
    j fail
1000:
.endm
/* Fail unless reg1 == reg2. */
.macro EXPECTR a, b
    beq \a, \b, 1000f
    j fail
1000:
.endm
/* Fail unless the 64-bit variable sym equals val. */
.macro EXPECTV sym, val
    la t6, \sym
    ld t6, 0(t6)
    addi sp, sp, -8
    sd t5, 0(sp)
    li t5, \val
    beq t5, t6, 1000f
    j fail
1000:
    ld t5, 0(sp)
    addi sp, sp, 8
.endm
/* Fail unless the last trap had mcause == val. Clears trap_cause. */
.macro EXPECT_TRAP cause
    EXPECTV trap_cause, \cause
    la t6, trap_cause
    li t5, -1
    sd t5, 0(t6)
.endm
.macro EXPECT_NO_TRAP
    EXPECTV trap_cause, -1
.endm
.macro CLEAR_TRAP
    la t6, trap_cause
    li t5, -1
    sd t5, 0(t6)
.endm
/* Enter privilege mode (0 = U, 1 = S) at label with mret. */
.macro GOTO_MODE mode, label
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    li t6, (\mode << 11)
    csrs mstatus, t6
    la t6, \label
    csrw mepc, t6
    mret
.endm
/* Set where the next trap returns (in M-mode). */
.macro SET_RESUME label
    la t6, \label
    la t5, trap_resume
    sd t6, 0(t5)
.endm

    .section .text.init
    .globl _start
_start:
    csrr t0, mhartid
    bnez t0, park
#ifdef BUSY_HARTS
    /* Start the checks once every busy hart has run a round. */
    li t0, 1
3:  la t1, busy_area
    slli t2, t0, 6
    add t1, t1, t2
4:  ld t2, 24(t1)
    beqz t2, 4b
    addi t0, t0, 1
    li t2, BUSY_HARTS
    ble t0, t2, 3b
#endif
    la sp, stack_top
    la t0, trap_stack_top
    csrw mscratch, t0
    la t0, mtrap
    csrw mtvec, t0
    /* PMP entry 15: all of memory RWX for S/U (lowest priority). */
    li t0, -1
    csrw pmpaddr15, t0
    li t0, (0x1f << 56)
    csrw pmpcfg2, t0
    CLEAR_TRAP
    li gp, 0
    j test_main

park:
#ifdef BUSY_HARTS
    /* The other harts (BUSY_HARTS of them) keep busy while hart 0 runs the checks (ISATests on several
     * host threads):
     * AMOs and LR/SC on their own words, a store and load, a CLINT read (a device access), and a
     * FENCE.I every 256 rounds (dropping their translated code). None of it may disturb hart 0. */
    la t1, busy_area
    slli t2, t0, 6
    add t1, t1, t2
    addi t2, t1, 8
    li t3, 1
    li t4, 0
1:  amoadd.d zero, t3, (t1)
2:  lr.d t5, (t2)
    addi t5, t5, 1
    sc.d t6, t5, (t2)
    bnez t6, 2b
    sd t4, 16(t1)
    ld t5, 16(t1)
    li t6, CLINT_MTIME
    ld t6, 0(t6)
    addi t4, t4, 1
    sd t4, 24(t1)
    andi t5, t4, 255
    bnez t5, 1b
    fence.i
    j 1b
#else
    wfi
    j park
#endif

pass:
    li t0, TEST_DEV
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b

fail:
    /* Print "FAIL <n>\n" on the UART, then report. */
    li t0, UART_BASE
    li t1, 'F'
    sb t1, 0(t0)
    li t1, 'A'
    sb t1, 0(t0)
    li t1, 'I'
    sb t1, 0(t0)
    li t1, 'L'
    sb t1, 0(t0)
    li t1, '\n'
    sb t1, 0(t0)
    li t0, TEST_DEV
    slli t1, gp, 16
    li t2, 0x3333
    or t1, t1, t2
    sw t1, 0(t0)
1:  j 1b

    .align 4
mtrap:
    csrrw sp, mscratch, sp
    sd t0, 0(sp)
    sd t1, 8(sp)
    sd t2, 16(sp)
    la t0, trap_hook
    ld t0, 0(t0)
    beqz t0, 1f
    jalr t2, 0(t0)   /* hook: may use t0/t1 (saved), returns with jr t2 */
    j 9f
1:
    csrr t0, mcause
    la t1, trap_cause
    sd t0, 0(t1)
    csrr t0, mepc
    la t1, trap_epc
    sd t0, 0(t1)
    csrr t0, mtval
    la t1, trap_tval
    sd t0, 0(t1)
    csrr t0, mstatus
    la t1, trap_status
    sd t0, 0(t1)
    la t1, trap_count
    ld t0, 0(t1)
    addi t0, t0, 1
    sd t0, 0(t1)
    csrr t0, mcause
    bltz t0, 5f                 /* interrupt */
    li t1, 8
    beq t0, t1, 4f
    li t1, 9
    beq t0, t1, 4f
    la t1, trap_resume
    ld t0, 0(t1)
    bnez t0, 3f
    /* skip the faulting instruction */
    csrr t0, mepc
    lhu t1, 0(t0)
    andi t1, t1, 3
    li t2, 3
    addi t0, t0, 2
    bne t1, t2, 2f
    addi t0, t0, 2
2:  csrw mepc, t0
    j 9f
3:  sd zero, 0(t1)
    csrw mepc, t0
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    j 9f
4:  csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    j 9f
5:  csrw mie, zero
9:
    ld t0, 0(sp)
    ld t1, 8(sp)
    ld t2, 16(sp)
    csrrw sp, mscratch, sp
    mret

    .section .data
    .align 12
    .globl trap_cause, trap_epc, trap_tval, trap_status, trap_count, trap_resume, trap_hook
trap_cause:  .dword -1
trap_epc:    .dword 0
trap_tval:   .dword 0
trap_status: .dword 0
trap_count:  .dword 0
trap_resume: .dword 0
trap_hook:   .dword 0
    .align 4
trap_stack:  .space 256
trap_stack_top:
    .space 4096
stack_top:
#ifdef BUSY_HARTS
    .align 12
busy_area:
    .space 64 * 8
#endif
    .text
