/* Shared by the H-extension test programs (hext.S, hext_tlb.S). */
#define MSTATUS_MPV (1 << 39)

/* Enter a virtualized mode (0 = VU, 1 = VS) at label. */
.macro GOTO_V mode, label
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    li t6, (\mode << 11) | MSTATUS_MPV
    csrs mstatus, t6
    la t6, \label
    csrw mepc, t6
    mret
.endm
