/* Page-table and test-data macros shared by the paging test programs. */
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_A 64
#define PTE_D 128
#define LEAF_ALL (PTE_V|PTE_R|PTE_W|PTE_X|PTE_A|PTE_D)
#define SATP_SV39 (8 << 60)

/* csr (satp, vsatp or hgatp) = mode | the PPN of the table at symbol root */
.macro SET_ATP csr, mode, root
    la t0, \root
    srli t0, t0, 12
    li t1, \mode
    or t0, t0, t1
    csrw \csr, t0
.endm

/* table[index] = leaf or pointer PTE for physical address pa */
.macro SETPTE table, index, pa, flags
    la t0, \table
    li t1, (\index) * 8
    add t0, t0, t1
    li t1, (((\pa) >> 12) << 10) | (\flags)
    sd t1, 0(t0)
.endm
/* table[index] = PTE for the page or table at symbol target (a pointer, V only, by default) */
.macro PTE_SYM table, index, target, flags=1
    la t0, \table
    li t1, (\index) * 8
    add t0, t0, t1
    la t1, \target
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, \flags
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
