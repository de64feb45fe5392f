#include "common.h"
/* Zicsr semantics and masks, illegal-instruction rules, exceptions, xRET transitions, delegation,
 * misaligned access emulation. */
#define ILLEGAL_INSN 0x00007003     /* LOAD with funct3 = 7: reserved in RV64 */
test_main:
    /* CSR read/write/set/clear */
    NEXT
    li a0, 0x1234
    csrw mscratch, a0
    li a1, 0xff00
    csrrs a2, mscratch, a1
    EXPECT a2, 0x1234
    csrr a3, mscratch
    EXPECT a3, 0xff34
    NEXT
    li a1, 0x0f30
    csrrc a2, mscratch, a1
    EXPECT a2, 0xff34
    csrr a3, mscratch
    EXPECT a3, 0xf004
    NEXT
    li a1, -1
    csrrw a2, mscratch, a1
    EXPECT a2, 0xf004
    csrr a3, mscratch
    EXPECT a3, -1
    NEXT
    csrrwi a2, mscratch, 0x15
    EXPECT a2, -1
    csrrsi a2, mscratch, 0x0a
    EXPECT a2, 0x15
    csrrci a2, mscratch, 0x11
    EXPECT a2, 0x1f
    csrr a3, mscratch
    EXPECT a3, 0x0e
    la a0, trap_stack_top          /* the trap handler needs mscratch back */
    csrw mscratch, a0
    NEXT
    /* csrrs/csrrc with x0 do not write; read-only CSRs may be read that way */
    csrrs a0, mhartid, x0
    EXPECT a0, 0
    csrrc a0, mvendorid, x0
    EXPECT_NO_TRAP
    NEXT
    csrr a0, misa
    srli a1, a0, 62
    EXPECT a1, 2
    li a2, (1<<0)|(1<<2)|(1<<3)|(1<<5)|(1<<8)|(1<<12)|(1<<18)|(1<<20)
    and a3, a0, a2
    EXPECTR a3, a2
    NEXT
    /* mstatus.MPP is WARL: 2 is not a legal value */
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    li a0, (2 << 11)
    csrs mstatus, a0
    csrr a1, mstatus
    li a2, MSTATUS_MPP
    and a1, a1, a2
    li a2, (2 << 11)
    bne a1, a2, 1f
    j fail
1:  NEXT
    /* SD mirrors FS == dirty */
    li a0, MSTATUS_FS
    csrs mstatus, a0
    csrr a1, mstatus
    srli a1, a1, 63
    EXPECT a1, 1
    li a0, MSTATUS_FS
    csrc mstatus, a0
    li a0, (1 << 13)
    csrs mstatus, a0
    csrr a1, mstatus
    srli a1, a1, 63
    EXPECT a1, 0
    li a0, MSTATUS_FS
    csrc mstatus, a0
    NEXT
    /* UXL/SXL read as 64-bit */
    csrr a1, mstatus
    srli a1, a1, 32
    andi a1, a1, 0xf
    EXPECT a1, 0xa
    NEXT
    /* sstatus is a restricted view of mstatus */
    li a0, MSTATUS_SIE | MSTATUS_MIE
    csrs sstatus, a0
    csrr a1, mstatus
    andi a1, a1, MSTATUS_SIE | MSTATUS_MIE
    EXPECT a1, MSTATUS_SIE
    csrr a1, sstatus
    andi a1, a1, MSTATUS_MIE | MSTATUS_MPIE
    EXPECT a1, 0
    csrci sstatus, MSTATUS_SIE
    NEXT
    /* mie / mideleg / sie masks. With the H extension (misa.H) the VS-level bits 0x444 are also
     * writable in mie and read-only one in mideleg, but never visible in sie. */
    csrr a2, misa
    srli a2, a2, 7
    andi a2, a2, 1
    neg a2, a2
    andi a2, a2, 0x444
    li a0, ~0x2000      /* all but LCOFI (Sscofpmf's, on the max CPU only): counters.S checks it */
    csrw mie, a0
    csrr a1, mie
    li a3, 0xaaa
    or a3, a3, a2
    EXPECTR a1, a3
    csrw mideleg, a0
    csrr a1, mideleg
    li a3, 0x222
    or a3, a3, a2
    EXPECTR a1, a3
    csrr a1, sie
    EXPECT a1, 0x222
    csrw sie, zero
    csrr a1, mie
    li a3, 0x888
    or a3, a3, a2
    EXPECTR a1, a3
    csrw mie, zero
    csrw mideleg, zero
    NEXT
    li a0, -1
    csrw mepc, a0
    csrr a1, mepc
    EXPECT a1, -2
    csrw sepc, a0
    csrr a1, sepc
    EXPECT a1, -2

    /* Illegal: unknown CSR, write to read-only CSR; mtval holds the instruction bits */
    NEXT
    CLEAR_TRAP
2:  csrr a0, 0x0ff
    EXPECT_TRAP 2
    la a1, 2b
    lwu a1, 0(a1)
    la a2, trap_tval
    ld a2, 0(a2)
    EXPECTR a1, a2
    EXPECTV trap_tval, 0x0ff02573
    NEXT
3:  csrw mhartid, a0
    EXPECT_TRAP 2
    EXPECTV trap_tval, 0xf1451073
    NEXT
    csrr a0, cycle                 /* reading is fine */
    EXPECT_NO_TRAP
    li a1, 0
    csrrs a0, cycle, a1            /* rs1 != x0: a write, even of zero */
    EXPECT_TRAP 2
    NEXT
    csrrwi a0, instret, 0
    EXPECT_TRAP 2
    NEXT
    .word ILLEGAL_INSN
    EXPECT_TRAP 2
    EXPECTV trap_tval, ILLEGAL_INSN
    NEXT
    la a0, 4f
4:  ebreak
    EXPECT_TRAP 3
    la a1, trap_epc
    ld a1, 0(a1)
    EXPECTR a0, a1

    /* ECALL from M */
    NEXT
5:  ecall
    EXPECT_TRAP 11
    la a0, 5b
    la a1, trap_epc
    ld a1, 0(a1)
    EXPECTR a0, a1
    /* ECALL from S: MRET to S with MPIE=1, MIE=0 */
    NEXT
    li a0, MSTATUS_MIE
    csrc mstatus, a0
    li a0, MSTATUS_MPIE
    csrs mstatus, a0
    GOTO_MODE 1, s_mode1
s_mode1:
    csrr a0, sstatus               /* legal in S */
    EXPECT_NO_TRAP
    csrr a0, mstatus               /* M CSR from S: illegal */
    EXPECT_TRAP 2
    csrr a0, mscratch
    EXPECT_TRAP 2
    csrw medeleg, zero
    EXPECT_TRAP 2
    mret                           /* MRET in S: illegal */
    EXPECT_TRAP 2
    ecall
    EXPECT_TRAP 9
    NEXT
    /* mstatus at the trap: MPP = S, MPIE = 1 (MIE was set by the MRET from MPIE) */
    la a0, trap_status
    ld a0, 0(a0)
    li a1, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
    and a0, a0, a1
    EXPECT a0, (1 << 11) | MSTATUS_MPIE
    NEXT
    /* after MRET (M to M), MPP = U */
    li a0, MSTATUS_MPP
    csrs mstatus, a0
    la a0, 6f
    csrw mepc, a0
    mret
6:  csrr a0, mstatus
    li a1, MSTATUS_MPP
    and a0, a0, a1
    EXPECT a0, 0
    li a0, MSTATUS_MIE
    csrc mstatus, a0

    /* ECALL from U */
    NEXT
    GOTO_MODE 0, u_mode1
u_mode1:
    csrr a0, sstatus               /* S CSR from U: illegal */
    EXPECT_TRAP 2
    sret
    EXPECT_TRAP 2
    wfi                            /* WFI in U with S-mode present: illegal */
    EXPECT_TRAP 2
    ecall
    EXPECT_TRAP 8
    la a0, trap_status
    ld a0, 0(a0)
    li a1, MSTATUS_MPP
    and a0, a0, a1
    EXPECT a0, 0

    /* SRET from M to S: SPP=S, SPIE=1 -> SIE=1, SPIE=1, SPP=U */
    NEXT
    li a0, MSTATUS_SIE
    csrc mstatus, a0
    li a0, MSTATUS_SPIE | MSTATUS_SPP
    csrs mstatus, a0
    la a0, s_mode2
    csrw sepc, a0
    sret
s_mode2:
    csrr a0, sstatus
    andi a0, a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    EXPECT a0, MSTATUS_SIE | MSTATUS_SPIE
    /* SRET from S to U (SPP = U) */
    csrci sstatus, MSTATUS_SIE
    la a0, u_mode2
    csrw sepc, a0
    sret
u_mode2:
    csrr a0, sepc
    EXPECT_TRAP 2
    ecall
    EXPECT_TRAP 8

    /* Delegation: ecall-from-U and illegal instruction handled in S */
    NEXT
    la a0, strap
    csrw stvec, a0
    li a0, (1 << 8) | (1 << 2)
    csrw medeleg, a0
    csrr a1, medeleg
    EXPECT a1, (1 << 8) | (1 << 2)
    li a0, -1
    csrw medeleg, a0
    csrr a1, medeleg
    srli a1, a1, 11
    andi a1, a1, 1
    EXPECT a1, 0                   /* ecall from M cannot be delegated */
    li a0, (1 << 8) | (1 << 2)
    csrw medeleg, a0
    SET_RESUME deleg_back
    GOTO_MODE 0, u_mode3
u_mode3:
7:  ecall
    EXPECTV s_cause, 8
    la a0, 7b
    la a1, s_epc
    ld a1, 0(a1)
    EXPECTR a0, a1
    la a0, s_status
    ld a0, 0(a0)
    andi a0, a0, MSTATUS_SPP
    EXPECT a0, 0
    .word ILLEGAL_INSN
    EXPECTV s_cause, 2
    EXPECTV s_tval, ILLEGAL_INSN
    EXPECTV s_count, 2
    EXPECT_NO_TRAP                 /* nothing reached M */
    ebreak                         /* not delegated: M handler resumes at deleg_back */
    j fail
deleg_back:
    EXPECT_TRAP 3
    csrw medeleg, zero
    /* illegal from S is delegated too, with SPP = S */
    NEXT
    li a0, (1 << 2)
    csrw medeleg, a0
    GOTO_MODE 1, s_mode3
s_mode3:
    .word ILLEGAL_INSN
    EXPECTV s_count, 3
    la a0, s_status
    ld a0, 0(a0)
    andi a0, a0, MSTATUS_SPP
    EXPECT a0, MSTATUS_SPP
    ecall
    EXPECT_TRAP 9
    csrw medeleg, zero
    /* an exception in M is never delegated */
    NEXT
    li a0, (1 << 2)
    csrw medeleg, a0
    .word ILLEGAL_INSN
    EXPECT_TRAP 2
    EXPECTV s_count, 3
    csrw medeleg, zero

    /* Counter enables: U-mode rdcycle needs mcounteren.CY and scounteren.CY */
    NEXT
    csrw mcounteren, zero
    csrw scounteren, zero
    GOTO_MODE 0, u_mode4
u_mode4:
    rdcycle a0
    EXPECT_TRAP 2
    ecall
    CLEAR_TRAP
    li a0, 7
    csrw mcounteren, a0
    csrw scounteren, a0
    GOTO_MODE 0, u_mode5
u_mode5:
    rdcycle a0
    rdtime a0
    rdinstret a0
    EXPECT_NO_TRAP
    ecall
    CLEAR_TRAP

    /* mstatus.TVM / TSR / TW trap the corresponding S-mode operations */
    NEXT
    li a0, (1 << 20) | (1 << 21) | (1 << 22)
    csrs mstatus, a0
    GOTO_MODE 1, s_mode4
s_mode4:
    csrr a0, satp
    EXPECT_TRAP 2
    sfence.vma
    EXPECT_TRAP 2
    sret
    EXPECT_TRAP 2
    EXPECTV trap_tval, 0x10200073
    wfi
    EXPECT_TRAP 2
    ecall
    CLEAR_TRAP
    li a0, (1 << 20) | (1 << 21) | (1 << 22)
    csrc mstatus, a0
    NEXT
    GOTO_MODE 1, s_mode5
s_mode5:
    csrr a0, satp
    sfence.vma
    EXPECT_NO_TRAP
    ecall
    CLEAR_TRAP
    /* mip.SSIP is writable by M; csrrs/csrrc update it */
    NEXT
    csrsi mip, 2
    csrr a0, mip
    andi a0, a0, 2
    EXPECT a0, 2
    csrci mip, 2
    csrr a0, mip
    andi a0, a0, 2
    EXPECT a0, 0
    /* sip.SSIP writable only when delegated */
    csrsi sip, 2
    csrr a0, mip
    andi a0, a0, 2
    EXPECT a0, 0
    li a0, 2
    csrw mideleg, a0
    csrsi sip, 2
    csrr a0, sip
    EXPECT a0, 2
    csrci sip, 2
    csrw mideleg, zero

    /* Misaligned loads and stores are emulated (no trap), also across a page boundary */
    NEXT
    la s0, mbuf
    li a0, 0x0102030405060708
    sd a0, 0(s0)
    ld a1, 1(s0)
    EXPECT a1, 0x0001020304050607
    EXPECT_NO_TRAP
    NEXT
    lw a1, 3(s0)
    EXPECT a1, 0x02030405
    lh a1, 7(s0)
    EXPECT a1, 0x0001
    lhu a1, 5(s0)
    EXPECT a1, 0x0203
    lwu a1, 1(s0)
    EXPECT a1, 0x05060708 >> 8 | 0x04000000
    NEXT
    li a0, 0x1122334455667788
    sd a0, 11(s0)
    ld a1, 11(s0)
    EXPECTR a0, a1
    lbu a2, 11(s0)
    EXPECT a2, 0x88
    lbu a2, 18(s0)
    EXPECT a2, 0x11
    NEXT
    li s1, 4096
    add s1, s0, s1                 /* page boundary */
    li a0, 0xa1a2a3a4a5a6a7a8
    sd a0, -3(s1)
    ld a1, -3(s1)
    EXPECTR a0, a1
    lbu a2, -1(s1)
    EXPECT a2, 0xa6
    lbu a2, 0(s1)
    EXPECT a2, 0xa5
    li a0, 0xdeadbeef
    sw a0, -2(s1)
    lw a1, -2(s1)
    EXPECT a1, 0xffffffffdeadbeef
    sh a0, -1(s1)
    lhu a1, -1(s1)
    EXPECT a1, 0xbeef
    EXPECT_NO_TRAP
    j pass

/* S-mode trap handler: records scause/sepc/stval/sstatus, skips the instruction. */
    .align 4
strap:
    csrrw t0, sscratch, t0
    la t0, s_save
    sd t1, 0(t0)
    csrr t1, scause
    sd t1, 8(t0)       /* s_cause */
    csrr t1, sepc
    sd t1, 16(t0)      /* s_epc */
    csrr t1, stval
    sd t1, 24(t0)      /* s_tval */
    csrr t1, sstatus
    sd t1, 32(t0)      /* s_status */
    ld t1, 40(t0)
    addi t1, t1, 1
    sd t1, 40(t0)      /* s_count */
    csrr t1, sepc
    addi t1, t1, 4     /* the delegated traps here are all 4-byte instructions */
    csrw sepc, t1
    ld t1, 0(t0)
    csrrw t0, sscratch, t0
    sret

    .data
    .align 4
s_save:   .dword 0
s_cause:  .dword -1
s_epc:    .dword 0
s_tval:   .dword 0
s_status: .dword 0
s_count:  .dword 0
    .align 12
mbuf: .space 8192
