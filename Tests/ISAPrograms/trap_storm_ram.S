/* A trap storm inside RAM: the trap handler itself is an illegal instruction, so the hart traps to it
 * forever without leaving RAM. */
    .section .text.init
    .globl _start
_start:
    la t0, handler
    csrw mtvec, t0
    .word 0x00000000               /* illegal */
1:  j 1b
    .align 4
handler:
    .word 0x00000000               /* illegal: traps to itself */
