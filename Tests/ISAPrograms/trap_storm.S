/* A trap storm: mtvec = 0, where nothing is mapped, then an illegal instruction. The hart faults
 * forever (illegal instruction, then instruction access faults fetching pc 0). The harness runs it
 * with a budget: every trap must use up a step of it, so `run` returns and `trapsTaken` grows. */
    .section .text.init
    .globl _start
_start:
    csrw mtvec, zero
    .word 0x00000000               /* illegal */
1:  j 1b
