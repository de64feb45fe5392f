/* Page-table and test-data macros shared by tlb.S and hext_tlb.S. */

/* table[index] = leaf or pointer PTE for physical address pa */
.macro SETPTE table, index, pa, flags
    la t0, \table
    li t1, (\index) * 8
    add t0, t0, t1
    li t1, (((\pa) >> 12) << 10) | (\flags)
    sd t1, 0(t0)
.endm
/* table[index] = pointer (V only) to the table at symbol target */
.macro PTE_SYM table, index, target
    la t0, \table
    li t1, (\index) * 8
    add t0, t0, t1
    la t1, \target
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, 1
    sd t1, 0(t0)
.endm
/* n doublewords: the one at base + k * 4 KiB = start + k */
.macro MARKERS base, start, n
    li t0, \base
    li t1, \start
    li t2, \n
    li t3, 0x1000
1098:
    sd t1, 0(t0)
    add t0, t0, t3
    addi t1, t1, 1
    addi t2, t2, -1
    bnez t2, 1098b
.endm
