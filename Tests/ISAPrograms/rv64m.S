#include "common.h"
/* M extension: multiply high variants, division edge cases, W forms. */
test_main:
    TRR mul, 7, -3, -21
    TRR mul, 0x100000000, 0x100000000, 0
    TRR mul, 0x7fffffffffffffff, 2, -2
    TRR mulh, -1, -1, 0
    TRR mulh, 0x8000000000000000, 0x8000000000000000, 0x4000000000000000
    TRR mulh, 0x8000000000000000, 2, -1
    TRR mulh, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x3fffffffffffffff
    TRR mulhu, -1, -1, 0xfffffffffffffffe
    TRR mulhu, 0x8000000000000000, 2, 1
    TRR mulhu, 0x100000000, 0x100000000, 1
    TRR mulhsu, -1, -1, -1                 /* -1 * (2^64-1) = -(2^64-1): high = -1 */
    TRR mulhsu, 2, -1, 1
    TRR mulhsu, 0x8000000000000000, 2, -1
    TRR mulhsu, -2, 0x8000000000000000, -1
    TRR div, 20, 6, 3
    TRR div, -20, 6, -3                  /* rounds towards zero */
    TRR div, 20, -6, -3
    TRR div, 7, 0, -1                    /* divide by zero */
    TRR div, 0x8000000000000000, -1, 0x8000000000000000
    TRR divu, 20, 6, 3
    TRR divu, -1, 2, 0x7fffffffffffffff
    TRR divu, 7, 0, -1
    TRR rem, 20, 6, 2
    TRR rem, -20, 6, -2                  /* sign follows dividend */
    TRR rem, 20, -6, 2
    TRR rem, 7, 0, 7
    TRR rem, -7, 0, -7
    TRR rem, 0x8000000000000000, -1, 0
    TRR remu, 20, 6, 2
    TRR remu, -1, 0, -1
    TRR remu, -1, 10, 5                  /* 18446744073709551615 % 10 */
    /* W forms */
    TRR mulw, 0x7fffffff, 2, -2
    TRR mulw, 0x100000001, 0x100000003, 3
    TRR mulw, 0x10000, 0x8000, 0xffffffff80000000
    TRR divw, -20, 6, -3
    TRR divw, 0x100000014, 6, 3           /* only low 32 bits used */
    TRR divw, 7, 0x100000000, -1          /* low 32 bits of divisor are zero */
    TRR divw, 0x80000000, -1, 0xffffffff80000000
    TRR divuw, 0xffffffff, 2, 0x7fffffff
    TRR divuw, 0x80000000, 1, 0xffffffff80000000  /* result sign-extended */
    TRR divuw, 5, 0, -1
    TRR remw, -20, 6, -2
    TRR remw, 0x80000000, -1, 0
    TRR remw, 0x180000005, 0, 0xffffffff80000005
    TRR remuw, 0xffffffff, 0x10, 15
    TRR remuw, 0x80000005, 0, 0xffffffff80000005
    TRR remuw, 0xffffffff, 0x80000000, 0x7fffffff
    j pass
