import XCTest
import Foundation
import Platform
import RISCV

// Unit tests for the F/D floating-point unit (FPU.swift).
// Expected values were derived by reasoning and cross-checked with an exact
// rational-arithmetic reference model (Python fractions).

nonisolated(unsafe) var dummyFlags: UInt64 = 0

final class FPUTests: XCTestCase {

    // MARK: - Helpers

    typealias R = (UInt64, UInt64)  // (result, flags)

    func d(_ f: (inout UInt64) -> UInt64) -> R { var fl: UInt64 = 0; let r = f(&fl); return (r, fl) }
    func s(_ f: (inout UInt64) -> UInt32) -> R { var fl: UInt64 = 0; let r = f(&fl); return (UInt64(r), fl) }

    func check(_ got: R, _ want: UInt64, _ wantFlags: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.0, want, "result 0x\(String(got.0, radix: 16)) != 0x\(String(want, radix: 16))", file: file, line: line)
        XCTAssertEqual(got.1, wantFlags, "flags 0x\(String(got.1, radix: 16)) != 0x\(String(wantFlags, radix: 16))", file: file, line: line)
    }

    @_disfavoredOverload
    func check(_ got: R, _ want: UInt32, _ wantFlags: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        check(got, UInt64(want), wantFlags, file: file, line: line)
    }

    let RNE: UInt8 = 0, RTZ: UInt8 = 1, RDN: UInt8 = 2, RUP: UInt8 = 3, RMM: UInt8 = 4
    let NX: UInt64 = 1, UF: UInt64 = 2, OF: UInt64 = 4, DZ: UInt64 = 8, NV: UInt64 = 16

    // Double constants
    let one: UInt64 = 0x3ff0_0000_0000_0000
    let onePlusUlp: UInt64 = 0x3ff0_0000_0000_0001
    let two: UInt64 = 0x4000_0000_0000_0000
    let half: UInt64 = 0x3fe0_0000_0000_0000
    let pz: UInt64 = 0, nz: UInt64 = 0x8000_0000_0000_0000
    let pinf: UInt64 = 0x7ff0_0000_0000_0000, ninf: UInt64 = 0xfff0_0000_0000_0000
    let qnan: UInt64 = 0x7ff8_0000_0000_0000
    let qnanPayload: UInt64 = 0xfff8_0000_dead_beef
    let snan: UInt64 = 0x7ff0_0000_0000_0001
    let maxD: UInt64 = 0x7fef_ffff_ffff_ffff
    let minNormD: UInt64 = 0x0010_0000_0000_0000
    let minSubD: UInt64 = 1
    let maxSubD: UInt64 = 0x000f_ffff_ffff_ffff
    let twoM53: UInt64 = 0x3ca0_0000_0000_0000  // 2^-53, half an ulp of 1.0

    // Single constants
    let one32: UInt32 = 0x3f80_0000, two32: UInt32 = 0x4000_0000
    let pinf32: UInt32 = 0x7f80_0000, ninf32: UInt32 = 0xff80_0000
    let qnan32: UInt32 = 0x7fc0_0000, snan32: UInt32 = 0x7f80_0001
    let max32: UInt32 = 0x7f7f_ffff, minNorm32: UInt32 = 0x0080_0000

    // MARK: - Double arithmetic

    func testAdd64TiesAllModes() {
        // 1 + 2^-53 is exactly halfway between 1 and 1+ulp (1 is even).
        check(d { FPU.add64(one, twoM53, RNE, &$0) }, one, NX)
        check(d { FPU.add64(one, twoM53, RTZ, &$0) }, one, NX)
        check(d { FPU.add64(one, twoM53, RDN, &$0) }, one, NX)
        check(d { FPU.add64(one, twoM53, RUP, &$0) }, onePlusUlp, NX)
        check(d { FPU.add64(one, twoM53, RMM, &$0) }, onePlusUlp, NX)
        // (1+ulp) + 2^-53: halfway, the lower neighbour is odd -> RNE rounds up.
        check(d { FPU.add64(onePlusUlp, twoM53, RNE, &$0) }, 0x3ff0_0000_0000_0002, NX)
        check(d { FPU.add64(onePlusUlp, twoM53, RTZ, &$0) }, onePlusUlp, NX)
        check(d { FPU.add64(onePlusUlp, twoM53, RMM, &$0) }, 0x3ff0_0000_0000_0002, NX)
        // Negative tie: -1 - 2^-53.
        check(d { FPU.add64(one | nz, twoM53 | nz, RNE, &$0) }, 0xbff0_0000_0000_0000, NX)
        check(d { FPU.add64(one | nz, twoM53 | nz, RMM, &$0) }, 0xbff0_0000_0000_0001, NX)
        check(d { FPU.add64(one | nz, twoM53 | nz, RDN, &$0) }, 0xbff0_0000_0000_0001, NX)
        check(d { FPU.add64(one | nz, twoM53 | nz, RUP, &$0) }, 0xbff0_0000_0000_0000, NX)
        check(d { FPU.add64(one | nz, twoM53 | nz, RTZ, &$0) }, 0xbff0_0000_0000_0000, NX)
        // Exact sums raise nothing.
        check(d { FPU.add64(one, one, RNE, &$0) }, two, 0)
        check(d { FPU.sub64(two, one, RUP, &$0) }, one, 0)
        // Just below half an ulp: 1 + 2^-54 -> RUP rounds up, RMM does not.
        check(d { FPU.add64(one, 0x3c90_0000_0000_0000, RMM, &$0) }, one, NX)
        check(d { FPU.add64(one, 0x3c90_0000_0000_0000, RUP, &$0) }, onePlusUlp, NX)
        // 1 - 2^-54 (exactly halfway below 1, where the ulp is 2^-53): RNE -> 1.0 (even), RTZ -> pred(1).
        check(d { FPU.sub64(one, 0x3c90_0000_0000_0000, RNE, &$0) }, one, NX)
        check(d { FPU.sub64(one, 0x3c90_0000_0000_0000, RTZ, &$0) }, 0x3fef_ffff_ffff_ffff, NX)
        check(d { FPU.sub64(one, 0x3c90_0000_0000_0000, RMM, &$0) }, one, NX)
    }

    func testAdd64SpecialsAndZeros() {
        check(d { FPU.add64(one, one | nz, RNE, &$0) }, pz, 0)
        check(d { FPU.add64(one, one | nz, RDN, &$0) }, nz, 0)
        check(d { FPU.add64(nz, nz, RNE, &$0) }, nz, 0)
        check(d { FPU.add64(pz, nz, RNE, &$0) }, pz, 0)
        check(d { FPU.add64(pz, nz, RDN, &$0) }, nz, 0)
        check(d { FPU.sub64(pz, pz, RDN, &$0) }, nz, 0)
        check(d { FPU.add64(nz, minSubD, RNE, &$0) }, minSubD, 0)
        check(d { FPU.add64(pinf, ninf, RNE, &$0) }, qnan, NV)
        check(d { FPU.sub64(pinf, pinf, RNE, &$0) }, qnan, NV)
        check(d { FPU.add64(pinf, maxD, RNE, &$0) }, pinf, 0)
        check(d { FPU.add64(qnanPayload, one, RNE, &$0) }, qnan, 0)
        check(d { FPU.add64(one, snan, RNE, &$0) }, qnan, NV)
        check(d { FPU.add64(snan, pinf, RNE, &$0) }, qnan, NV)
        // Subnormal arithmetic is exact: no underflow flag.
        check(d { FPU.add64(minSubD, minSubD, RNE, &$0) }, 2, 0)
        check(d { FPU.sub64(minNormD, minSubD, RNE, &$0) }, maxSubD, 0)
        check(d { FPU.add64(maxSubD, minSubD, RNE, &$0) }, minNormD, 0)
    }

    func testAdd64Overflow() {
        let nmax = maxD | nz
        check(d { FPU.add64(maxD, maxD, RNE, &$0) }, pinf, OF | NX)
        check(d { FPU.add64(maxD, maxD, RMM, &$0) }, pinf, OF | NX)
        check(d { FPU.add64(maxD, maxD, RTZ, &$0) }, maxD, OF | NX)
        check(d { FPU.add64(maxD, maxD, RDN, &$0) }, maxD, OF | NX)
        check(d { FPU.add64(maxD, maxD, RUP, &$0) }, pinf, OF | NX)
        check(d { FPU.add64(nmax, nmax, RUP, &$0) }, nmax, OF | NX)
        check(d { FPU.add64(nmax, nmax, RDN, &$0) }, ninf, OF | NX)
        check(d { FPU.add64(nmax, nmax, RTZ, &$0) }, nmax, OF | NX)
        // max + 1: inexact but no overflow in RNE; overflows in RUP.
        check(d { FPU.add64(maxD, one, RNE, &$0) }, maxD, NX)
        check(d { FPU.add64(maxD, one, RUP, &$0) }, pinf, OF | NX)
        // max + half ulp(max) = 2^1024 - 2^970: tie -> RNE rounds to "even" 2^1024 = overflow.
        check(d { FPU.add64(maxD, 0x7c90_0000_0000_0000, RNE, &$0) }, pinf, OF | NX)
        // In RTZ the same sum truncates to maxD: no overflow (rounded value is finite).
        check(d { FPU.add64(maxD, 0x7c90_0000_0000_0000, RTZ, &$0) }, maxD, NX)
    }

    func testMul64() {
        check(d { FPU.mul64(two, 0x4008_0000_0000_0000, RNE, &$0) }, 0x4018_0000_0000_0000, 0)
        check(d { FPU.mul64(pinf, pz, RNE, &$0) }, qnan, NV)
        check(d { FPU.mul64(nz, pinf, RNE, &$0) }, qnan, NV)
        check(d { FPU.mul64(ninf, two, RNE, &$0) }, ninf, 0)
        check(d { FPU.mul64(nz, two, RNE, &$0) }, nz, 0)
        check(d { FPU.mul64(snan, pz, RNE, &$0) }, qnan, NV)
        check(d { FPU.mul64(qnan, pinf, RNE, &$0) }, qnan, 0)
        // (1+2^-26)(1+2^-27) = 1 + 2^-26 + 2^-27 + 2^-53: tie with even lower neighbour.
        let a: UInt64 = 0x3ff0_0000_0400_0000, b: UInt64 = 0x3ff0_0000_0200_0000
        check(d { FPU.mul64(a, b, RNE, &$0) }, 0x3ff0_0000_0600_0000, NX)
        check(d { FPU.mul64(a, b, RMM, &$0) }, 0x3ff0_0000_0600_0001, NX)
        check(d { FPU.mul64(a, b, RUP, &$0) }, 0x3ff0_0000_0600_0001, NX)
        check(d { FPU.mul64(a | nz, b, RMM, &$0) }, 0xbff0_0000_0600_0001, NX)
        check(d { FPU.mul64(a | nz, b, RUP, &$0) }, 0xbff0_0000_0600_0000, NX)
        check(d { FPU.mul64(a | nz, b, RDN, &$0) }, 0xbff0_0000_0600_0001, NX)
        // Overflow.
        check(d { FPU.mul64(maxD, two, RNE, &$0) }, pinf, OF | NX)
        check(d { FPU.mul64(maxD, two | nz, RTZ, &$0) }, maxD | nz, OF | NX)
        check(d { FPU.mul64(maxD, two | nz, RUP, &$0) }, maxD | nz, OF | NX)
        check(d { FPU.mul64(maxD, two | nz, RDN, &$0) }, ninf, OF | NX)
    }

    func testMul64Underflow() {
        // Exact subnormal result: no flags.
        check(d { FPU.mul64(minNormD, half, RNE, &$0) }, 0x0008_0000_0000_0000, 0)
        // minSub * 0.5 = 2^-1075: exact tie between 0 and minSub.
        check(d { FPU.mul64(minSubD, half, RNE, &$0) }, pz, UF | NX)
        check(d { FPU.mul64(minSubD, half, RMM, &$0) }, minSubD, UF | NX)
        check(d { FPU.mul64(minSubD, half, RUP, &$0) }, minSubD, UF | NX)
        check(d { FPU.mul64(minSubD, half | nz, RDN, &$0) }, 1 | nz, UF | NX)
        check(d { FPU.mul64(minSubD, half | nz, RTZ, &$0) }, nz, UF | NX)
        // Tininess after rounding: minNorm * (1 - 2^-53) = 2^-1022 - 2^-1075.
        // Rounds to minNorm in RNE, but with unbounded exponent it is 2^-1022(1-2^-53)
        // exactly, which is tiny -> UF is raised.
        check(d { FPU.mul64(minNormD, 0x3fef_ffff_ffff_ffff, RNE, &$0) }, minNormD, UF | NX)
        check(d { FPU.mul64(minNormD, 0x3fef_ffff_ffff_ffff, RTZ, &$0) }, maxSubD, UF | NX)
        // minNorm * (1 - 2^-52) * ... : (2^-1022 - 2^-1074) * (1+2^-52)... use 0x3fefffffffffffff * maxSub style:
        // (1 + 2^-52 + 2^-53-ish) products that round up to minNorm at 53 bits are not tiny:
        // x = 0x001fffffffffffff (2^-1021 - 2^-1074) * 0.5 = 2^-1022 - 2^-1075: same tie,
        // and with unbounded exponent it is exactly representable -> tiny.
        check(d { FPU.mul64(0x001f_ffff_ffff_ffff, half, RNE, &$0) }, minNormD, UF | NX)
        // (2^-1022 - 2^-1074)(1 + 2^-51) = 2^-1022 + 2^-1074 - 2^-1125: normal result, not tiny.
        check(d { FPU.mul64(maxSubD, 0x3ff0_0000_0000_0002, RNE, &$0) }, 0x0010_0000_0000_0001, NX)
        check(d { FPU.mul64(maxSubD, 0x3ff0_0000_0000_0002, RTZ, &$0) }, minNormD, NX)
    }

    func testDiv64() {
        check(d { FPU.div64(one, pz, RNE, &$0) }, pinf, DZ)
        check(d { FPU.div64(one | nz, pz, RNE, &$0) }, ninf, DZ)
        check(d { FPU.div64(one, nz, RNE, &$0) }, ninf, DZ)
        check(d { FPU.div64(pz, pz, RNE, &$0) }, qnan, NV)
        check(d { FPU.div64(pinf, ninf, RNE, &$0) }, qnan, NV)
        check(d { FPU.div64(pinf, pz, RNE, &$0) }, pinf, 0)
        check(d { FPU.div64(one, pinf, RNE, &$0) }, pz, 0)
        check(d { FPU.div64(one, ninf, RNE, &$0) }, nz, 0)
        check(d { FPU.div64(qnan, pz, RNE, &$0) }, qnan, 0)
        check(d { FPU.div64(snan, one, RNE, &$0) }, qnan, NV)
        let three: UInt64 = 0x4008_0000_0000_0000
        check(d { FPU.div64(one, three, RNE, &$0) }, 0x3fd5_5555_5555_5555, NX)
        check(d { FPU.div64(one, three, RTZ, &$0) }, 0x3fd5_5555_5555_5555, NX)
        check(d { FPU.div64(one, three, RUP, &$0) }, 0x3fd5_5555_5555_5556, NX)
        check(d { FPU.div64(one, three, RMM, &$0) }, 0x3fd5_5555_5555_5555, NX)
        check(d { FPU.div64(two, three, RNE, &$0) }, 0x3fe5_5555_5555_5555, NX)
        check(d { FPU.div64(two, three, RMM, &$0) }, 0x3fe5_5555_5555_5555, NX)
        check(d { FPU.div64(two, three, RUP, &$0) }, 0x3fe5_5555_5555_5556, NX)
        check(d { FPU.div64(two | nz, three, RDN, &$0) }, 0xbfe5_5555_5555_5556, NX)
        check(d { FPU.div64(two | nz, three, RTZ, &$0) }, 0xbfe5_5555_5555_5555, NX)
        check(d { FPU.div64(0x4018_0000_0000_0000, three, RNE, &$0) }, two, 0)
        // Overflow / underflow through division.
        check(d { FPU.div64(maxD, half, RNE, &$0) }, pinf, OF | NX)
        check(d { FPU.div64(maxD, half, RTZ, &$0) }, maxD, OF | NX)
        check(d { FPU.div64(minSubD, two, RNE, &$0) }, pz, UF | NX)
        check(d { FPU.div64(minSubD, two, RUP, &$0) }, minSubD, UF | NX)
    }

    func testSqrt64() {
        check(d { FPU.sqrt64(0x4010_0000_0000_0000, RNE, &$0) }, two, 0)
        check(d { FPU.sqrt64(one | nz, RNE, &$0) }, qnan, NV)
        check(d { FPU.sqrt64(ninf, RNE, &$0) }, qnan, NV)
        check(d { FPU.sqrt64(nz, RNE, &$0) }, nz, 0)
        check(d { FPU.sqrt64(pz, RNE, &$0) }, pz, 0)
        check(d { FPU.sqrt64(pinf, RNE, &$0) }, pinf, 0)
        check(d { FPU.sqrt64(qnanPayload, RNE, &$0) }, qnan, 0)
        check(d { FPU.sqrt64(snan, RNE, &$0) }, qnan, NV)
        // sqrt(2) = 1.41421356237309504880...: 0x3ff6a09e667f3bcc is the RNE (and RTZ) result.
        check(d { FPU.sqrt64(two, RNE, &$0) }, 0x3ff6_a09e_667f_3bcd, NX)
        check(d { FPU.sqrt64(two, RTZ, &$0) }, 0x3ff6_a09e_667f_3bcc, NX)
        check(d { FPU.sqrt64(two, RDN, &$0) }, 0x3ff6_a09e_667f_3bcc, NX)
        check(d { FPU.sqrt64(two, RUP, &$0) }, 0x3ff6_a09e_667f_3bcd, NX)
        check(d { FPU.sqrt64(two, RMM, &$0) }, 0x3ff6_a09e_667f_3bcd, NX)
        // Subnormal input: sqrt(2^-1074) = 2^-537 exactly.
        check(d { FPU.sqrt64(minSubD, RNE, &$0) }, 0x1e60_0000_0000_0000, 0)
        check(d { FPU.sqrt64(maxD, RNE, &$0) }, 0x5fef_ffff_ffff_ffff, NX)
    }

    func testFma64() {
        // (1+2^-26)(1-2^-26) - 1 = -2^-52 exactly; a separate multiply would give 0.
        let a: UInt64 = 0x3ff0_0000_0400_0000, b: UInt64 = 0x3fef_ffff_f800_0000
        check(d { FPU.fma64(a, b, one | nz, 0, RNE, &$0) }, 0xbcb0_0000_0000_0000, 0)
        check(d { FPU.fma64(a, b, one, 1, RNE, &$0) }, 0xbcb0_0000_0000_0000, 0)       // FMSUB
        check(d { FPU.fma64(a, b, one, 2, RNE, &$0) }, 0x3cb0_0000_0000_0000, 0)       // FNMSUB: -(ab)+c
        check(d { FPU.fma64(a, b, one | nz, 3, RNE, &$0) }, 0x3cb0_0000_0000_0000, 0)  // FNMADD: -(ab)-c
        // 2*3+1 = 7 for each variant.
        let three: UInt64 = 0x4008_0000_0000_0000
        check(d { FPU.fma64(two, three, one, 0, RNE, &$0) }, 0x401c_0000_0000_0000, 0)
        check(d { FPU.fma64(two, three, one, 1, RNE, &$0) }, 0x4014_0000_0000_0000, 0)
        check(d { FPU.fma64(two, three, one, 2, RNE, &$0) }, 0xc014_0000_0000_0000, 0)
        check(d { FPU.fma64(two, three, one, 3, RNE, &$0) }, 0xc01c_0000_0000_0000, 0)
        // Exact cancellation: +0, or -0 in RDN.
        check(d { FPU.fma64(two, three, 0x4018_0000_0000_0000, 1, RNE, &$0) }, pz, 0)
        check(d { FPU.fma64(two, three, 0x4018_0000_0000_0000, 1, RDN, &$0) }, nz, 0)
        // Zero product plus zero addend: sign rules.
        check(d { FPU.fma64(nz, one, nz, 0, RNE, &$0) }, nz, 0)
        check(d { FPU.fma64(nz, one, pz, 0, RNE, &$0) }, pz, 0)
        check(d { FPU.fma64(nz, one, pz, 0, RDN, &$0) }, nz, 0)
        check(d { FPU.fma64(pz, one, minSubD, 0, RNE, &$0) }, minSubD, 0)
        // inf * 0 is invalid even when the addend is a quiet NaN.
        check(d { FPU.fma64(pinf, pz, qnan, 0, RNE, &$0) }, qnan, NV)
        check(d { FPU.fma64(pinf, pz, one, 0, RNE, &$0) }, qnan, NV)
        check(d { FPU.fma64(qnan, pz, one, 0, RNE, &$0) }, qnan, 0)
        check(d { FPU.fma64(one, one, snan, 0, RNE, &$0) }, qnan, NV)
        check(d { FPU.fma64(pinf, one, ninf, 0, RNE, &$0) }, qnan, NV)
        check(d { FPU.fma64(pinf, one, pinf, 1, RNE, &$0) }, qnan, NV)
        check(d { FPU.fma64(pinf, one, ninf, 1, RNE, &$0) }, pinf, 0)
        check(d { FPU.fma64(one, one, ninf, 0, RNE, &$0) }, ninf, 0)
        // Tiny addend below half ulp: 1*1 + 2^-60 -> NX and direction per mode.
        check(d { FPU.fma64(one, one, 0x3c30_0000_0000_0000, 0, RNE, &$0) }, one, NX)
        check(d { FPU.fma64(one, one, 0x3c30_0000_0000_0000, 0, RUP, &$0) }, onePlusUlp, NX)
        check(d { FPU.fma64(one, one, 0x3c30_0000_0000_0000, 1, RTZ, &$0) }, 0x3fef_ffff_ffff_ffff, NX)
        // Single rounding tie: 1*1 + 2^-53 -> RNE 1.0, RMM 1+ulp.
        check(d { FPU.fma64(one, one, twoM53, 0, RNE, &$0) }, one, NX)
        check(d { FPU.fma64(one, one, twoM53, 0, RMM, &$0) }, onePlusUlp, NX)
        // Overflow.
        check(d { FPU.fma64(maxD, two, pz, 0, RNE, &$0) }, pinf, OF | NX)
        check(d { FPU.fma64(maxD, two, pz, 2, RUP, &$0) }, maxD | nz, OF | NX)
        // Underflow: minNorm * 0.5 - 2^-1075... -> minSub*0.5 tie style.
        check(d { FPU.fma64(minSubD, half, pz, 0, RNE, &$0) }, pz, UF | NX)
        check(d { FPU.fma64(minSubD, half, pz, 0, RMM, &$0) }, minSubD, UF | NX)
    }

    func testMinMax64() {
        var fl: UInt64 = 0
        check(d { FPU.min64(nz, pz, &$0) }, nz, 0)
        check(d { FPU.min64(pz, nz, &$0) }, nz, 0)
        check(d { FPU.max64(nz, pz, &$0) }, pz, 0)
        check(d { FPU.max64(pz, nz, &$0) }, pz, 0)
        check(d { FPU.min64(qnan, one, &$0) }, one, 0)
        check(d { FPU.max64(one, qnanPayload, &$0) }, one, 0)
        check(d { FPU.min64(snan, one, &$0) }, one, NV)
        check(d { FPU.max64(one, snan, &$0) }, one, NV)
        check(d { FPU.min64(qnanPayload, qnanPayload, &$0) }, qnan, 0)
        check(d { FPU.max64(snan, qnan, &$0) }, qnan, NV)
        check(d { FPU.min64(ninf, maxD, &$0) }, ninf, 0)
        check(d { FPU.max64(one | nz, two | nz, &$0) }, one | nz, 0)
        check(d { FPU.min64(one | nz, two | nz, &$0) }, two | nz, 0)
        check(d { FPU.max64(minSubD, pz, &$0) }, minSubD, 0)
        _ = fl; fl = 0
    }

    func testCompare64() {
        check(d { FPU.eq64(one, one, &$0) }, 1, 0)
        check(d { FPU.eq64(pz, nz, &$0) }, 1, 0)
        check(d { FPU.eq64(qnan, qnan, &$0) }, 0, 0)
        check(d { FPU.eq64(qnan, one, &$0) }, 0, 0)
        check(d { FPU.eq64(snan, one, &$0) }, 0, NV)
        check(d { FPU.lt64(qnan, one, &$0) }, 0, NV)
        check(d { FPU.le64(one, qnan, &$0) }, 0, NV)
        check(d { FPU.lt64(nz, pz, &$0) }, 0, 0)
        check(d { FPU.le64(pz, nz, &$0) }, 1, 0)
        check(d { FPU.lt64(one | nz, one, &$0) }, 1, 0)
        check(d { FPU.lt64(two | nz, one | nz, &$0) }, 1, 0)
        check(d { FPU.le64(one, one, &$0) }, 1, 0)
        check(d { FPU.lt64(one, one, &$0) }, 0, 0)
        check(d { FPU.lt64(ninf, pinf, &$0) }, 1, 0)
        check(d { FPU.le64(pinf, maxD, &$0) }, 0, 0)
        check(d { FPU.lt64(pz, minSubD, &$0) }, 1, 0)
    }

    func testClassify() {
        XCTAssertEqual(FPU.classify64(ninf), 1 << 0)
        XCTAssertEqual(FPU.classify64(one | nz), 1 << 1)
        XCTAssertEqual(FPU.classify64(maxSubD | nz), 1 << 2)
        XCTAssertEqual(FPU.classify64(nz), 1 << 3)
        XCTAssertEqual(FPU.classify64(pz), 1 << 4)
        XCTAssertEqual(FPU.classify64(minSubD), 1 << 5)
        XCTAssertEqual(FPU.classify64(minNormD), 1 << 6)
        XCTAssertEqual(FPU.classify64(pinf), 1 << 7)
        XCTAssertEqual(FPU.classify64(snan), 1 << 8)
        XCTAssertEqual(FPU.classify64(0xfff4_0000_0000_0000), 1 << 8)
        XCTAssertEqual(FPU.classify64(qnan), 1 << 9)
        XCTAssertEqual(FPU.classify64(qnanPayload), 1 << 9)
        XCTAssertEqual(FPU.classify32(ninf32), 1 << 0)
        XCTAssertEqual(FPU.classify32(0xbf80_0000), 1 << 1)
        XCTAssertEqual(FPU.classify32(0x8000_0001), 1 << 2)
        XCTAssertEqual(FPU.classify32(0x8000_0000), 1 << 3)
        XCTAssertEqual(FPU.classify32(0), 1 << 4)
        XCTAssertEqual(FPU.classify32(0x007f_ffff), 1 << 5)
        XCTAssertEqual(FPU.classify32(max32), 1 << 6)
        XCTAssertEqual(FPU.classify32(pinf32), 1 << 7)
        XCTAssertEqual(FPU.classify32(snan32), 1 << 8)
        XCTAssertEqual(FPU.classify32(qnan32), 1 << 9)
    }

    // MARK: - Conversions

    func testCvtDoubleToInt32() {
        let mn: UInt64 = 0xffff_ffff_8000_0000, mx: UInt64 = 0x7fff_ffff
        check(d { FPU.cvtW64(qnan, RNE, &$0) }, mx, NV)
        check(d { FPU.cvtW64(snan | nz, RNE, &$0) }, mx, NV)
        check(d { FPU.cvtW64(pinf, RNE, &$0) }, mx, NV)
        check(d { FPU.cvtW64(ninf, RNE, &$0) }, mn, NV)
        check(d { FPU.cvtW64(0x41e0_0000_0000_0000, RNE, &$0) }, mx, NV)       // 2^31
        check(d { FPU.cvtW64(0xc1e0_0000_0000_0000, RNE, &$0) }, mn, 0)        // -2^31
        check(d { FPU.cvtW64(0xc1e0_0000_0010_0000, RTZ, &$0) }, mn, NX)       // -2^31 - 0.5
        check(d { FPU.cvtW64(0xc1e0_0000_0010_0000, RDN, &$0) }, mn, NV)
        check(d { FPU.cvtW64(0xc1e0_0000_0010_0000, RNE, &$0) }, mn, NX)       // tie -> even (-2^31)
        check(d { FPU.cvtW64(0xc1e0_0000_0010_0000, RMM, &$0) }, mn, NV)       // tie away -> -2^31-1
        // 2^31 - 0.5: ties to even 2^31 (out of range) in RNE, truncates in RTZ/RDN.
        check(d { FPU.cvtW64(0x41df_ffff_ffe0_0000, RNE, &$0) }, mx, NV)
        check(d { FPU.cvtW64(0x41df_ffff_ffe0_0000, RTZ, &$0) }, mx, NX)
        check(d { FPU.cvtW64(0x41df_ffff_ffe0_0000, RDN, &$0) }, mx, NX)
        check(d { FPU.cvtW64(0x41df_ffff_ffe0_0000, RMM, &$0) }, mx, NV)
        // 2^31 - 1.5: tie between 2^31-2 (even) and 2^31-1.
        check(d { FPU.cvtW64(0x41df_ffff_ffa0_0000, RNE, &$0) }, 0x7fff_fffe, NX)
        check(d { FPU.cvtW64(0x41df_ffff_ffa0_0000, RMM, &$0) }, mx, NX)
        check(d { FPU.cvtW64(0x41df_ffff_ffa0_0000, RUP, &$0) }, mx, NX)
        check(d { FPU.cvtW64(one | nz, RNE, &$0) }, 0xffff_ffff_ffff_ffff, 0)
        check(d { FPU.cvtW64(nz, RNE, &$0) }, 0, 0)
        check(d { FPU.cvtW64(minSubD | nz, RDN, &$0) }, 0xffff_ffff_ffff_ffff, NX)
        check(d { FPU.cvtW64(minSubD, RUP, &$0) }, 1, NX)
        // Unsigned 32: results are sign-extended.
        check(d { FPU.cvtWU64(qnan, RNE, &$0) }, 0xffff_ffff_ffff_ffff, NV)
        check(d { FPU.cvtWU64(pinf, RNE, &$0) }, 0xffff_ffff_ffff_ffff, NV)
        check(d { FPU.cvtWU64(ninf, RNE, &$0) }, 0, NV)
        check(d { FPU.cvtWU64(0x41e6_5a0b_c000_0000, RNE, &$0) }, 0xffff_ffff_b2d0_5e00, 0) // 3e9
        check(d { FPU.cvtWU64(0x41f0_0000_0000_0000, RNE, &$0) }, 0xffff_ffff_ffff_ffff, NV) // 2^32
        check(d { FPU.cvtWU64(0xbfe0_0000_0000_0000, RTZ, &$0) }, 0, NX)   // -0.5
        check(d { FPU.cvtWU64(0xbfe0_0000_0000_0000, RNE, &$0) }, 0, NX)
        check(d { FPU.cvtWU64(0xbfe0_0000_0000_0000, RUP, &$0) }, 0, NX)
        check(d { FPU.cvtWU64(0xbfe0_0000_0000_0000, RDN, &$0) }, 0, NV)
        check(d { FPU.cvtWU64(0xbfe0_0000_0000_0000, RMM, &$0) }, 0, NV)
        check(d { FPU.cvtWU64(one | nz, RTZ, &$0) }, 0, NV)
    }

    func testCvtDoubleToInt64() {
        let twoHalf: UInt64 = 0x4004_0000_0000_0000  // 2.5
        check(d { FPU.cvtL64(twoHalf, RNE, &$0) }, 2, NX)
        check(d { FPU.cvtL64(twoHalf, RTZ, &$0) }, 2, NX)
        check(d { FPU.cvtL64(twoHalf, RDN, &$0) }, 2, NX)
        check(d { FPU.cvtL64(twoHalf, RUP, &$0) }, 3, NX)
        check(d { FPU.cvtL64(twoHalf, RMM, &$0) }, 3, NX)
        check(d { FPU.cvtL64(twoHalf | nz, RNE, &$0) }, UInt64(bitPattern: -2), NX)
        check(d { FPU.cvtL64(twoHalf | nz, RTZ, &$0) }, UInt64(bitPattern: -2), NX)
        check(d { FPU.cvtL64(twoHalf | nz, RDN, &$0) }, UInt64(bitPattern: -3), NX)
        check(d { FPU.cvtL64(twoHalf | nz, RUP, &$0) }, UInt64(bitPattern: -2), NX)
        check(d { FPU.cvtL64(twoHalf | nz, RMM, &$0) }, UInt64(bitPattern: -3), NX)
        check(d { FPU.cvtL64(0x400c_0000_0000_0000, RNE, &$0) }, 4, NX)  // 3.5 -> 4
        check(d { FPU.cvtL64(0x43e0_0000_0000_0000, RNE, &$0) }, 0x7fff_ffff_ffff_ffff, NV) // 2^63
        check(d { FPU.cvtL64(0xc3e0_0000_0000_0000, RNE, &$0) }, 0x8000_0000_0000_0000, 0)  // -2^63
        check(d { FPU.cvtL64(0xc3e0_0000_0000_0001, RNE, &$0) }, 0x8000_0000_0000_0000, NV)
        check(d { FPU.cvtL64(0x43df_ffff_ffff_ffff, RNE, &$0) }, 0x7fff_ffff_ffff_fc00, 0)
        check(d { FPU.cvtL64(qnan, RNE, &$0) }, 0x7fff_ffff_ffff_ffff, NV)
        check(d { FPU.cvtL64(ninf, RNE, &$0) }, 0x8000_0000_0000_0000, NV)
        check(d { FPU.cvtL64(maxD | nz, RNE, &$0) }, 0x8000_0000_0000_0000, NV)
        check(d { FPU.cvtLU64(0x43f0_0000_0000_0000, RNE, &$0) }, 0xffff_ffff_ffff_ffff, NV) // 2^64
        check(d { FPU.cvtLU64(0x43ef_ffff_ffff_ffff, RNE, &$0) }, 0xffff_ffff_ffff_f800, 0)
        check(d { FPU.cvtLU64(one | nz, RNE, &$0) }, 0, NV)
        check(d { FPU.cvtLU64(0xbfd0_0000_0000_0000, RNE, &$0) }, 0, NX)  // -0.25
        check(d { FPU.cvtLU64(snan, RNE, &$0) }, 0xffff_ffff_ffff_ffff, NV)
        check(d { FPU.cvtLU64(0x3fe8_0000_0000_0000, RMM, &$0) }, 1, NX)  // 0.75
        check(d { FPU.cvtLU64(0x3fe8_0000_0000_0000, RTZ, &$0) }, 0, NX)
    }

    func testCvtSingleToInt() {
        check(d { FPU.cvtW32(0x3fc0_0000, RNE, &$0) }, 2, NX)      // 1.5 -> 2
        check(d { FPU.cvtW32(0xbfc0_0000, RTZ, &$0) }, 0xffff_ffff_ffff_ffff, NX)
        check(d { FPU.cvtW32(0x4f00_0000, RNE, &$0) }, 0x7fff_ffff, NV)       // 2^31
        check(d { FPU.cvtW32(0xcf00_0000, RNE, &$0) }, 0xffff_ffff_8000_0000, 0)
        check(d { FPU.cvtW32(qnan32, RNE, &$0) }, 0x7fff_ffff, NV)
        check(d { FPU.cvtWU32(0x4f80_0000, RNE, &$0) }, 0xffff_ffff_ffff_ffff, NV)  // 2^32
        check(d { FPU.cvtWU32(0x4f7f_ffff, RNE, &$0) }, 0xffff_ffff_ffff_ff00, 0)
        check(d { FPU.cvtWU32(ninf32, RNE, &$0) }, 0, NV)
        check(d { FPU.cvtL32(0xdf00_0000, RNE, &$0) }, 0x8000_0000_0000_0000, 0)  // -2^63
        check(d { FPU.cvtL32(pinf32, RNE, &$0) }, 0x7fff_ffff_ffff_ffff, NV)
        check(d { FPU.cvtLU32(0x5f80_0000, RNE, &$0) }, 0xffff_ffff_ffff_ffff, NV)  // 2^64
        check(d { FPU.cvtLU32(0x5f7f_ffff, RNE, &$0) }, 0xffff_ff00_0000_0000, 0)
        check(d { FPU.cvtLU32(0xbf00_0000, RMM, &$0) }, 0, NV)   // -0.5 rounds away to -1
        check(d { FPU.cvtLU32(0xbf00_0000, RNE, &$0) }, 0, NX)
    }

    func testCvtIntToFloat() {
        // 2^53 + 1 is a tie between 2^53 and 2^53 + 2.
        let t: UInt64 = (1 << 53) + 1
        check(d { FPU.cvt64FromL(t, RNE, &$0) }, 0x4340_0000_0000_0000, NX)
        check(d { FPU.cvt64FromL(t, RMM, &$0) }, 0x4340_0000_0000_0001, NX)
        check(d { FPU.cvt64FromL(t, RUP, &$0) }, 0x4340_0000_0000_0001, NX)
        check(d { FPU.cvt64FromL(t, RTZ, &$0) }, 0x4340_0000_0000_0000, NX)
        check(d { FPU.cvt64FromL(0 &- t, RDN, &$0) }, 0xc340_0000_0000_0001, NX)
        check(d { FPU.cvt64FromL(0 &- t, RMM, &$0) }, 0xc340_0000_0000_0001, NX)
        check(d { FPU.cvt64FromL(0 &- t, RUP, &$0) }, 0xc340_0000_0000_0000, NX)
        check(d { FPU.cvt64FromL(0x8000_0000_0000_0000, RNE, &$0) }, 0xc3e0_0000_0000_0000, 0)
        check(d { FPU.cvt64FromL(0, RDN, &$0) }, pz, 0)
        check(d { FPU.cvt64FromLU(0xffff_ffff_ffff_ffff, RNE, &$0) }, 0x43f0_0000_0000_0000, NX)
        check(d { FPU.cvt64FromLU(0xffff_ffff_ffff_ffff, RTZ, &$0) }, 0x43ef_ffff_ffff_ffff, NX)
        check(d { FPU.cvt64FromW(0xffff_ffff, RNE, &$0) }, one | nz, 0)            // low 32 bits = -1
        check(d { FPU.cvt64FromW(0x1_0000_0001, RNE, &$0) }, one, 0)              // upper bits ignored
        check(d { FPU.cvt64FromWU(0xffff_ffff_ffff_ffff, RNE, &$0) }, 0x41ef_ffff_ffe0_0000, 0)
        check(d { FPU.cvt64FromWU(0x8000_0000, RNE, &$0) }, 0x41e0_0000_0000_0000, 0)
        // Single precision: 2^24 + 1 is a tie.
        check(s { FPU.cvt32FromW(0x0100_0001, RNE, &$0) }, 0x4b80_0000, NX)
        check(s { FPU.cvt32FromW(0x0100_0001, RMM, &$0) }, 0x4b80_0001, NX)
        check(s { FPU.cvt32FromW(0x0100_0003, RNE, &$0) }, 0x4b80_0002, NX)
        check(s { FPU.cvt32FromW(0xffff_ffff_8000_0000, RNE, &$0) }, 0xcf00_0000, 0)
        check(s { FPU.cvt32FromWU(0xffff_ffff, RNE, &$0) }, 0x4f80_0000, NX)
        check(s { FPU.cvt32FromWU(0xffff_ffff, RTZ, &$0) }, 0x4f7f_ffff, NX)
        check(s { FPU.cvt32FromL(0x8000_0000_0000_0000, RNE, &$0) }, 0xdf00_0000, 0)
        check(s { FPU.cvt32FromL(0xffff_ffff_ffff_ffff, RNE, &$0) }, 0xbf80_0000, 0)
        check(s { FPU.cvt32FromLU(0xffff_ffff_ffff_ffff, RNE, &$0) }, 0x5f80_0000, NX)
        check(s { FPU.cvt32FromLU(0xffff_ffff_ffff_ffff, RDN, &$0) }, 0x5f7f_ffff, NX)
        check(s { FPU.cvt32FromLU(0, RNE, &$0) }, 0, 0)
    }

    func testCvtBetweenFormats() {
        // 1 + 2^-24 is a tie in single precision.
        let t: UInt64 = 0x3ff0_0000_1000_0000
        check(s { FPU.cvt32From64(t, RNE, &$0) }, 0x3f80_0000, NX)
        check(s { FPU.cvt32From64(t, RMM, &$0) }, 0x3f80_0001, NX)
        check(s { FPU.cvt32From64(t, RUP, &$0) }, 0x3f80_0001, NX)
        check(s { FPU.cvt32From64(t | nz, RDN, &$0) }, 0xbf80_0001, NX)
        check(s { FPU.cvt32From64(t | nz, RTZ, &$0) }, 0xbf80_0000, NX)
        check(s { FPU.cvt32From64(one, RNE, &$0) }, 0x3f80_0000, 0)
        check(s { FPU.cvt32From64(maxD, RNE, &$0) }, 0x7f80_0000, OF | NX)
        check(s { FPU.cvt32From64(maxD, RTZ, &$0) }, 0x7f7f_ffff, OF | NX)
        check(s { FPU.cvt32From64(maxD | nz, RUP, &$0) }, 0xff7f_ffff, OF | NX)
        check(s { FPU.cvt32From64(minSubD, RNE, &$0) }, 0, UF | NX)
        check(s { FPU.cvt32From64(minSubD, RUP, &$0) }, 1, UF | NX)
        check(s { FPU.cvt32From64(0x36a0_0000_0000_0000, RNE, &$0) }, 1, 0)  // 2^-149 exact
        check(s { FPU.cvt32From64(0x3690_0000_0000_0000, RNE, &$0) }, 0, UF | NX)  // 2^-150 tie -> 0
        check(s { FPU.cvt32From64(0x3690_0000_0000_0000, RMM, &$0) }, 1, UF | NX)
        check(s { FPU.cvt32From64(snan, RNE, &$0) }, 0x7fc0_0000, NV)
        check(s { FPU.cvt32From64(qnanPayload, RNE, &$0) }, 0x7fc0_0000, 0)
        check(s { FPU.cvt32From64(ninf, RNE, &$0) }, 0xff80_0000, 0)
        check(s { FPU.cvt32From64(nz, RNE, &$0) }, 0x8000_0000, 0)
        check(d { FPU.cvt64From32(0x3f80_0000, &$0) }, one, 0)
        check(d { FPU.cvt64From32(1, &$0) }, 0x36a0_0000_0000_0000, 0)          // subnormal single
        check(d { FPU.cvt64From32(0x807f_ffff, &$0) }, 0xb80f_ffff_c000_0000, 0)
        check(d { FPU.cvt64From32(snan32, &$0) }, qnan, NV)
        check(d { FPU.cvt64From32(0xffc1_2345, &$0) }, qnan, 0)
        check(d { FPU.cvt64From32(ninf32, &$0) }, ninf, 0)
        check(d { FPU.cvt64From32(0x8000_0000, &$0) }, nz, 0)
        check(d { FPU.cvt64From32(max32, &$0) }, 0x47ef_ffff_e000_0000, 0)
    }

    // MARK: - Single precision arithmetic

    func testSingleArithmetic() {
        let tieS: UInt32 = 0x3380_0000  // 2^-24: half an ulp of 1.0f
        check(s { FPU.add32(one32, tieS, RNE, &$0) }, 0x3f80_0000, NX)
        check(s { FPU.add32(one32, tieS, RMM, &$0) }, 0x3f80_0001, NX)
        check(s { FPU.add32(one32, tieS, RUP, &$0) }, 0x3f80_0001, NX)
        check(s { FPU.add32(one32, tieS, RTZ, &$0) }, 0x3f80_0000, NX)
        check(s { FPU.add32(0x3f80_0001, tieS, RNE, &$0) }, 0x3f80_0002, NX)
        check(s { FPU.sub32(one32, one32, RNE, &$0) }, 0, 0)
        check(s { FPU.sub32(one32, one32, RDN, &$0) }, 0x8000_0000, 0)
        check(s { FPU.add32(pinf32, ninf32, RNE, &$0) }, qnan32, NV)
        check(s { FPU.add32(snan32, one32, RNE, &$0) }, qnan32, NV)
        check(s { FPU.add32(0x7fc1_2345, one32, RNE, &$0) }, qnan32, 0)
        check(s { FPU.add32(max32, max32, RNE, &$0) }, pinf32, OF | NX)
        check(s { FPU.add32(max32, max32, RTZ, &$0) }, max32, OF | NX)
        // Very different exponents: 1 + 2^-100.
        check(s { FPU.add32(one32, 0x0d80_0000, RNE, &$0) }, one32, NX)
        check(s { FPU.add32(one32, 0x0d80_0000, RUP, &$0) }, 0x3f80_0001, NX)
        check(s { FPU.sub32(one32, 0x0d80_0000, RTZ, &$0) }, 0x3f7f_ffff, NX)
        check(s { FPU.mul32(two32, 0x4040_0000, RNE, &$0) }, 0x40c0_0000, 0)
        check(s { FPU.mul32(max32, two32, RNE, &$0) }, pinf32, OF | NX)
        check(s { FPU.mul32(max32, 0xc000_0000, RUP, &$0) }, 0xff7f_ffff, OF | NX)
        check(s { FPU.mul32(minNorm32, 0x3f00_0000, RNE, &$0) }, 0x0040_0000, 0)
        check(s { FPU.mul32(1, 0x3f00_0000, RNE, &$0) }, 0, UF | NX)
        check(s { FPU.mul32(1, 0x3f00_0000, RMM, &$0) }, 1, UF | NX)
        check(s { FPU.mul32(minNorm32, 0x3f7f_ffff, RNE, &$0) }, minNorm32, UF | NX)
        check(s { FPU.mul32(pinf32, 0, RNE, &$0) }, qnan32, NV)
        check(s { FPU.div32(one32, 0x4040_0000, RNE, &$0) }, 0x3eaa_aaab, NX)
        check(s { FPU.div32(one32, 0x4040_0000, RTZ, &$0) }, 0x3eaa_aaaa, NX)
        check(s { FPU.div32(one32, 0x4040_0000, RMM, &$0) }, 0x3eaa_aaab, NX)
        check(s { FPU.div32(one32, 0, RNE, &$0) }, pinf32, DZ)
        check(s { FPU.div32(0xbf80_0000, 0, RNE, &$0) }, ninf32, DZ)
        check(s { FPU.div32(0, 0, RNE, &$0) }, qnan32, NV)
        check(s { FPU.sqrt32(two32, RNE, &$0) }, 0x3fb5_04f3, NX)
        check(s { FPU.sqrt32(two32, RTZ, &$0) }, 0x3fb5_04f3, NX)
        check(s { FPU.sqrt32(two32, RUP, &$0) }, 0x3fb5_04f4, NX)
        check(s { FPU.sqrt32(0x4080_0000, RNE, &$0) }, two32, 0)
        check(s { FPU.sqrt32(0xbf80_0000, RNE, &$0) }, qnan32, NV)
        check(s { FPU.sqrt32(0x8000_0000, RNE, &$0) }, 0x8000_0000, 0)
        check(s { FPU.sqrt32(1, RNE, &$0) }, 0x1a35_04f3, NX)  // sqrt(2^-149) = 2^-75 * sqrt(2)
        // FMA single: (1+2^-12)(1-2^-12) - 1 = -2^-24 exactly.
        check(s { FPU.fma32(0x3f80_0800, 0x3f7f_f000, 0xbf80_0000, 0, RNE, &$0) }, 0xb380_0000, 0)
        check(s { FPU.fma32(0x3f80_0800, 0x3f7f_f000, 0xbf80_0000, 3, RNE, &$0) }, 0x3380_0000, 0)
        check(s { FPU.fma32(one32, one32, tieS, 0, RNE, &$0) }, one32, NX)
        check(s { FPU.fma32(one32, one32, tieS, 0, RMM, &$0) }, 0x3f80_0001, NX)
        // Single rounding: 1*1 + (2^-24 + 2^-60) must round up even in RNE (not a tie).
        check(s { FPU.fma32(one32, one32, 0x3380_0000, 0, RNE, &$0) }, one32, NX)
        check(s { FPU.fma32(pinf32, 0, qnan32, 0, RNE, &$0) }, qnan32, NV)
        check(s { FPU.fma32(two32, 0x4040_0000, 0x40c0_0000, 1, RDN, &$0) }, 0x8000_0000, 0)
        check(s { FPU.min32(0x8000_0000, 0, &$0) }, 0x8000_0000, 0)
        check(s { FPU.max32(0x8000_0000, 0, &$0) }, 0, 0)
        check(s { FPU.min32(qnan32, one32, &$0) }, one32, 0)
        check(s { FPU.max32(snan32, one32, &$0) }, one32, NV)
        check(s { FPU.max32(snan32, 0x7fc0_1234, &$0) }, qnan32, NV)
        check(d { FPU.eq32(0x8000_0000, 0, &$0) }, 1, 0)
        check(d { FPU.eq32(snan32, one32, &$0) }, 0, NV)
        check(d { FPU.eq32(qnan32, one32, &$0) }, 0, 0)
        check(d { FPU.lt32(qnan32, one32, &$0) }, 0, NV)
        check(d { FPU.le32(0xbf80_0000, one32, &$0) }, 1, 0)
        check(d { FPU.lt32(one32, 0xbf80_0000, &$0) }, 0, 0)
    }

    // Precision-sensitive case where computing an FMA in double and then rounding to
    // single (double rounding) would be wrong: a*b + c lands just above a single tie.
    func testFma32NoDoubleRounding() {
        // 1 + 2^-24 + 2^-70: x = 1+2^-23 (0x3f800001), y = 1+2^-47? not representable in single;
        // use c = 2^-24 (tie) and product 1 + 2^-46 (exact in double, 1+2^-23 squared = 1+2^-22+2^-46).
        // (1+2^-23)^2 = 1 + 2^-22 + 2^-46; + 2^-24 -> 1 + 2^-22 + 2^-24 + 2^-46 -> just above the tie
        // between 1+2^-22 (even) and 1+2^-22+2^-23 -> RNE rounds up.
        check(s { FPU.fma32(0x3f80_0001, 0x3f80_0001, 0x3380_0000, 0, RNE, &$0) }, 0x3f80_0003, NX)
        check(s { FPU.fma32(0x3f80_0001, 0x3f80_0001, 0x3380_0000, 0, RTZ, &$0) }, 0x3f80_0002, NX)
        // Far-apart addend: 1 + 2^-24 + 2^-100 must round up in RNE.
        check(s { FPU.fma32(0x3380_0000, one32, 0x3f80_0000, 0, RNE, &$0) }, one32, NX)
        check(s { FPU.fma32(0x0d80_0000, one32, 0x3f80_0000, 0, RUP, &$0) }, 0x3f80_0001, NX)
    }

    // MARK: - Randomized consistency: fast paths vs. the exact soft-float core

    func testFastPathsMatchSoftFloat() {
        var rng = SplitMix(seed: 0x1234_5678)
        var mismatches = 0
        for i in 0..<60_000 {
            let rm = UInt8(i % 5)
            let a = rng.nextDouble(), b = rng.nextDouble(), c = rng.nextDouble()
            for op in 0..<4 {
                var f1: UInt64 = 0, f2: UInt64 = 0
                let r1: UInt64, r2: UInt64
                switch op {
                case 0: r1 = FPU.add64(a, b, rm, &f1); r2 = FPU.Reference.add(a, b, single: false, rm, &f2)
                case 1: r1 = FPU.mul64(a, b, rm, &f1); r2 = FPU.Reference.mul(a, b, single: false, rm, &f2)
                case 2: r1 = FPU.div64(a, b, rm, &f1); r2 = FPU.Reference.div(a, b, single: false, rm, &f2)
                default: r1 = FPU.sqrt64(a & ~(1 << 63), rm, &f1); r2 = FPU.Reference.sqrt(a & ~(1 << 63), single: false, rm, &f2)
                }
                if r1 != r2 || f1 != f2 { mismatches += 1 }
            }
            let a32 = UInt32(truncatingIfNeeded: rng.nextSingle()), b32 = UInt32(truncatingIfNeeded: rng.nextSingle())
            let c32 = UInt32(truncatingIfNeeded: rng.nextSingle())
            for op in 0..<5 {
                var f1: UInt64 = 0, f2: UInt64 = 0
                let r1: UInt32, r2: UInt64
                switch op {
                case 0: r1 = FPU.add32(a32, b32, rm, &f1); r2 = FPU.Reference.add(UInt64(a32), UInt64(b32), single: true, rm, &f2)
                case 1: r1 = FPU.mul32(a32, b32, rm, &f1); r2 = FPU.Reference.mul(UInt64(a32), UInt64(b32), single: true, rm, &f2)
                case 2: r1 = FPU.div32(a32, b32, rm, &f1); r2 = FPU.Reference.div(UInt64(a32), UInt64(b32), single: true, rm, &f2)
                case 3: r1 = FPU.sqrt32(a32 & 0x7fff_ffff, rm, &f1); r2 = FPU.Reference.sqrt(UInt64(a32 & 0x7fff_ffff), single: true, rm, &f2)
                default: r1 = FPU.fma32(a32, b32, c32, UInt8(i & 3), rm, &f1); r2 = FPU.Reference.fma(UInt64(a32), UInt64(b32), UInt64(c32), UInt8(i & 3), single: true, rm, &f2)
                }
                if UInt64(r1) != r2 || f1 != f2 { mismatches += 1 }
            }
            _ = c
        }
        XCTAssertEqual(mismatches, 0)
    }


    /// Rough throughput numbers; run with FPU_BENCH=1 (ideally with -c release).
    func testBenchmark() {
        guard ProcessInfo.processInfo.environment["FPU_BENCH"] != nil else { return }
        var rng = SplitMix(seed: 42)
        var xs: [UInt64] = []
        for _ in 0..<4096 { xs.append((0x3ff0_0000_0000_0000 | (rng.next() >> 12)) ^ (rng.next() & (1 << 63))) }
        let xs32 = xs.map { UInt32(truncatingIfNeeded: FPU.cvt32From64($0, 0, &dummyFlags)) }
        func time(_ name: String, _ body: (Int) -> UInt64) {
            let n = 2_000_000
            let t0 = DispatchTime.now().uptimeNanoseconds
            var acc: UInt64 = 0
            for i in 0..<n { acc &+= body(i) }
            let t1 = DispatchTime.now().uptimeNanoseconds
            print("\(name): \(Double(t1 - t0) / Double(n)) ns/op (\(acc & 1))")
        }
        var fl: UInt64 = 0
        for rm: UInt8 in [0, 1, 4] {
            time("add64 rm\(rm)") { i in FPU.add64(xs[i & 4095], xs[(i &+ 7) & 4095], rm, &fl) }
            time("mul64 rm\(rm)") { i in FPU.mul64(xs[i & 4095], xs[(i &+ 7) & 4095], rm, &fl) }
            time("div64 rm\(rm)") { i in FPU.div64(xs[i & 4095], xs[(i &+ 7) & 4095], rm, &fl) }
            time("sqrt64 rm\(rm)") { i in FPU.sqrt64(xs[i & 4095] & ~(1 << 63), rm, &fl) }
            time("fma64 rm\(rm)") { i in FPU.fma64(xs[i & 4095], xs[(i &+ 7) & 4095], xs[(i &+ 13) & 4095], 0, rm, &fl) }
            time("add32 rm\(rm)") { i in UInt64(FPU.add32(xs32[i & 4095], xs32[(i &+ 7) & 4095], rm, &fl)) }
            time("mul32 rm\(rm)") { i in UInt64(FPU.mul32(xs32[i & 4095], xs32[(i &+ 7) & 4095], rm, &fl)) }
            time("fma32 rm\(rm)") { i in UInt64(FPU.fma32(xs32[i & 4095], xs32[(i &+ 7) & 4095], xs32[(i &+ 13) & 4095], 0, rm, &fl)) }
            time("cvtL64 rm\(rm)") { i in FPU.cvtL64(xs[i & 4095], rm, &fl) }
            time("cvt64FromL rm\(rm)") { i in FPU.cvt64FromL(xs[i & 4095], rm, &fl) }
        }
        time("softFma64") { i in FPU.Reference.fma(xs[i & 4095], xs[(i &+ 7) & 4095], xs[(i &+ 13) & 4095], 0, single: false, 0, &fl) }
        time("softAdd64") { i in FPU.Reference.add(xs[i & 4095], xs[(i &+ 7) & 4095], single: false, 0, &fl) }
    }

    // MARK: - Known-answer corpus from an exact rational-arithmetic reference model

    func testEmbeddedVectors() {
        let (n, failures) = FPUTests.runVectors(FPUTests.corpus)
        XCTAssertGreaterThan(n, 1000)
        XCTAssertTrue(failures.isEmpty, "\(failures.count)/\(n) failures:\n\(failures.prefix(20).joined(separator: "\n"))")
    }
    // MARK: - Vector runner

    /// Runs one vector line: "op a b c fmaOp rm expected flags" (hex fields).
    /// Returns nil on success, or a description of the mismatch.
    static func runVector(_ line: Substring) -> String? {
        let p = line.split(separator: " ")
        guard p.count == 8 else { return "malformed: \(line)" }
        let op = String(p[0])
        let a = UInt64(p[1], radix: 16)!, b = UInt64(p[2], radix: 16)!, c = UInt64(p[3], radix: 16)!
        let fop = UInt8(p[4], radix: 16)!, rm = UInt8(p[5], radix: 16)!
        let want = UInt64(p[6], radix: 16)!, wantFlags = UInt64(p[7], radix: 16)!
        var fl: UInt64 = 0
        let a32 = UInt32(truncatingIfNeeded: a), b32 = UInt32(truncatingIfNeeded: b), c32 = UInt32(truncatingIfNeeded: c)
        let got: UInt64
        switch op {
        case "add64": got = FPU.add64(a, b, rm, &fl)
        case "sub64": got = FPU.sub64(a, b, rm, &fl)
        case "mul64": got = FPU.mul64(a, b, rm, &fl)
        case "div64": got = FPU.div64(a, b, rm, &fl)
        case "sqrt64": got = FPU.sqrt64(a, rm, &fl)
        case "fma64": got = FPU.fma64(a, b, c, fop, rm, &fl)
        case "min64": got = FPU.min64(a, b, &fl)
        case "max64": got = FPU.max64(a, b, &fl)
        case "eq64": got = FPU.eq64(a, b, &fl)
        case "lt64": got = FPU.lt64(a, b, &fl)
        case "le64": got = FPU.le64(a, b, &fl)
        case "class64": got = FPU.classify64(a)
        case "add32": got = UInt64(FPU.add32(a32, b32, rm, &fl))
        case "sub32": got = UInt64(FPU.sub32(a32, b32, rm, &fl))
        case "mul32": got = UInt64(FPU.mul32(a32, b32, rm, &fl))
        case "div32": got = UInt64(FPU.div32(a32, b32, rm, &fl))
        case "sqrt32": got = UInt64(FPU.sqrt32(a32, rm, &fl))
        case "fma32": got = UInt64(FPU.fma32(a32, b32, c32, fop, rm, &fl))
        case "min32": got = UInt64(FPU.min32(a32, b32, &fl))
        case "max32": got = UInt64(FPU.max32(a32, b32, &fl))
        case "eq32": got = FPU.eq32(a32, b32, &fl)
        case "lt32": got = FPU.lt32(a32, b32, &fl)
        case "le32": got = FPU.le32(a32, b32, &fl)
        case "class32": got = FPU.classify32(a32)
        case "cvtW64": got = FPU.cvtW64(a, rm, &fl)
        case "cvtWU64": got = FPU.cvtWU64(a, rm, &fl)
        case "cvtL64": got = FPU.cvtL64(a, rm, &fl)
        case "cvtLU64": got = FPU.cvtLU64(a, rm, &fl)
        case "cvtW32": got = FPU.cvtW32(a32, rm, &fl)
        case "cvtWU32": got = FPU.cvtWU32(a32, rm, &fl)
        case "cvtL32": got = FPU.cvtL32(a32, rm, &fl)
        case "cvtLU32": got = FPU.cvtLU32(a32, rm, &fl)
        case "cvt64FromW": got = FPU.cvt64FromW(a, rm, &fl)
        case "cvt64FromWU": got = FPU.cvt64FromWU(a, rm, &fl)
        case "cvt64FromL": got = FPU.cvt64FromL(a, rm, &fl)
        case "cvt64FromLU": got = FPU.cvt64FromLU(a, rm, &fl)
        case "cvt32FromW": got = UInt64(FPU.cvt32FromW(a, rm, &fl))
        case "cvt32FromWU": got = UInt64(FPU.cvt32FromWU(a, rm, &fl))
        case "cvt32FromL": got = UInt64(FPU.cvt32FromL(a, rm, &fl))
        case "cvt32FromLU": got = UInt64(FPU.cvt32FromLU(a, rm, &fl))
        case "cvt32From64": got = UInt64(FPU.cvt32From64(a, rm, &fl))
        case "cvt64From32": got = FPU.cvt64From32(a32, &fl)
        default: return "unknown op \(op)"
        }
        if got != want || fl != wantFlags {
            return "\(line): got \(String(got, radix: 16)) flags \(String(fl, radix: 16))"
        }
        return nil
    }

    static func runVectors(_ text: String) -> (Int, [String]) {
        var n = 0
        var failures: [String] = []
        for line in text.split(separator: "\n") where !line.isEmpty && !line.hasPrefix("#") {
            n += 1
            if let f = runVector(line) { failures.append(f) }
        }
        return (n, failures)
    }

    /// Optional large corpus produced by an exact (rational-arithmetic)
    /// reference model; set FPU_VECTOR_FILE to run it.
    func testExternalVectorFile() throws {
        guard let path = ProcessInfo.processInfo.environment["FPU_VECTOR_FILE"] else { return }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let (n, failures) = FPUTests.runVectors(text)
        XCTAssertTrue(failures.isEmpty, "\(failures.count)/\(n) failures, first: \(failures.prefix(20).joined(separator: "\n"))")
        print("external vectors: \(n) run, \(failures.count) failed")
    }

    /// Format: op a b c fmaOp rm expected flags (hex); generated by the exact reference model.
    static let corpus = """
add64 a635e503daea58ba 2635e00000000000 7fbbcf745adad121 3 0 a5940f6ba962e800 0
add64 bf98000000000000 fff8000000000000 3fc9400000000000 0 3 7ff8000000000000 0
add64 7fb860a7f5cdb941 c06bcb8a3764b52e 821f540000000000 0 2 7fb860a7f5cdb940 1
add64 80a4000000000000 bfffffffffffffff 2f1adbfb372139f3 3 0 bfffffffffffffff 1
add64 831fffffffffffff 7fe147de26501578 bfc266fd49cdbec7 0 4 7fe147de26501578 1
add64 6aeef0e19b852cbc 6b76000000000000 bfc5f77400000000 1 1 6b760f7870cdc296 1
add64 7ae8361769cacc7b f7f75e38a4cc1ac0 bfe915f8548c0000 0 4 7ae8361769cacc4c 1
add64 c0792f4b8930dd50 bffb5647e15e1000 40543abd9c400000 0 3 c0794aa1d1123b60 0
add64 bf7f8373ad17d536 8000000000000001 113563c596091d6 3 2 bf7f8373ad17d537 1
add64 3ff0000000000000 c366b50000000000 bfd265ff03800000 2 0 c366b50000000000 1
add64 4069411626050000 3f98711118000000 83126cf6851e1ad7 1 2 406941d9ae8dc000 0
add64 bf763706de372e88 c0163b4d502f5232 3faf3c107c75c000 0 1 c01640db11e6dffd 1
add64 bfa7fcf875dfcbf8 b108b14296903000 46dee4c8930a4425 1 1 bfa7fcf875dfcbf8 1
add64 d3412be131e63801 bfefb07836a00000 7fea692b3fc732df 0 4 d3412be131e63801 1
add64 2b3d2425e33e800 82f53e6000000000 c03920024321068e 0 1 82f4013bda1cc180 0
add64 40655119e60ccaa1 c1f073324d5de2c0 3f9cb3aaeb860000 0 0 c1f0733242b555cd 1
add64 1113693954114000 c03a57d9ca7d2bef 811484fe8087e48a 3 3 c03a57d9ca7d2bee 1
add64 bfae663ebb9342f9 beb69a83e34eb900 ffdfd8273ad92147 1 3 bfae666bf09b0996 1
add64 a2824fa400000000 a3d4000000000000 403231a37f7122ae 2 2 a3d40000927d2000 0
add64 800c14d974000000 34985d2f8000000 bf8b5161c2b855c3 3 0 34985d2f7fffffe 1
add64 ffa5648000000000 27b50a3558c20000 ffb1974400000000 1 0 ffa5648000000000 1
add64 bff5bc35ed183200 e782380000000000 3fb82912ac3c9f36 0 3 e782380000000000 1
add64 bf9d9c63c0000000 bdd322174b640000 1 3 2 bf9d9c63c1322175 1
add64 ffd71c0000000000 7fe8e351278cbf40 ffe5e588908add57 1 4 7fdaaaa24f197e80 0
add64 3fccd98d76c3b06e c2f1bebc962e6364 3fa4212f67700000 1 4 c2f1bebc962e6360 1
sub64 7fd4600000000000 4b6436a0c0000000 db1fffffffffffff 3 3 7fd4600000000000 1
sub64 bf82cb5359ab4802 e5bcff2e9531a7db bf70000000000000 2 0 65bcff2e9531a7db 1
sub64 6847b45b03522956 69e0000000000000 c0327ef1f3b347bb 1 3 e9dffffff425d27e 1
sub64 349fffffffffffff bb11e55e5806e203 3ff8400000000000 2 3 3b11e55e5806e204 1
sub64 bff0640000000000 3d5ba38730000000 8246b90f60000000 1 0 bff06400000006e9 1
sub64 c6716b75dcdfd98 8e3d189f8b950000 f361580000000000 3 3 e3d189f8c4db5bb 1
sub64 3ff0000000000001 81fa000000000000 8308926000000000 2 4 3ff0000000000001 1
sub64 c694f525cbf39474 c04ca35b75a4a698 3fe5a6aed150ccf2 3 3 c694f525cbf39473 1
sub64 c02aec07baf250bc bfffffffffffffff 3f7cf82031f96800 1 3 c026ec07baf250bc 1
sub64 401d030000000000 bfefffffffffffff eb3eeac6f6a2e47e 3 1 4020817fffffffff 1
sub64 7fc1800000000000 15a74c0c6b6d5a5 bfd28dee1dec5ba8 2 4 7fc1800000000000 1
sub64 2335734224815791 a69f6c749109cf30 7fefffffffffffff 2 3 269f6c749109cf31 1
sub64 665a881681859134 3fc38018c4b1d722 c07900a812096715 1 2 665a881681859133 1
sub64 3f71ba469694462b c182300000000000 18ce78c4c057dd5e 1 2 418230000008dd23 1
sub64 90deb4795bc3fbe0 5d7d1e2000000000 3fc951548acbea0c 2 0 dd7d1e2000000000 1
sub64 ffd7bd0000000000 ffe8bbc8372c9600 3fca894a2f500000 3 0 7fd9ba906e592c00 0
sub64 bfa912bb90c8418c bd0b4a4edbd00000 8010000000000000 2 1 bfa912bb90c83ab9 1
sub64 fffffffffffff 32b3873b1e9c000 7fda9ad3265f7300 2 3 832b3873b1e9bff8 1
sub64 c054e9b000000000 4384468200000000 3fefffffffffffff 3 4 c384468200000003 1
sub64 7ff0000000000001 609d691e40000000 b55ef8c011a34f00 2 0 7ff8000000000000 10
sub64 bfefffffffffffff 3fff7511caf743fd 3fc62c480c8c0205 0 1 c007ba88e57ba1fe 1
sub64 7fed8269452376e5 7f880821cfc0f920 3fa1d6d8f57c2841 1 0 7fed2248bde47300 1
sub64 ffba51b200000000 0 bfd8bfd643461245 3 1 ffba51b200000000 0
sub64 4054f97e95f598c3 4cbfffffffffffff ece409381d73a315 2 4 ccbfffffffffffff 1
sub64 7fd7437ac9bb7a24 7d1422a000000000 fff0000000000001 2 4 7fd7437ac9bb78e2 1
mul64 fbe3d5b120000000 816fffffffffffff ffe06f5aafa36509 0 3 3d63d5b120000000 1
mul64 c004d73d388583f4 c02dd705130b155b 3f816d9bfa63ff4c 1 4 40436f18ec9555b8 1
mul64 14150e0d0ddc356 8456100000000000 bfcf2ddd20f6f444 3 3 8000000000000000 3
mul64 bf8b21c800000000 3fefffffffffffff 3f8a3e2bcbd8da8a 3 4 bf8b21c7ffffffff 1
mul64 bff9c2ecfac03000 7faf81d3f07c4590 31fc11527aecb19 2 0 ffb95d59fd219754 1
mul64 3fa4f90000000000 3d2386ed0a835e c00783dc8d200000 2 4 4c63c3182c2fa 3
mul64 3f8f810505ca90a2 be466f98c8cbb1a0 80d2c3243b080000 2 1 bde6169167ee1e52 1
mul64 2e31b800ccc8000 82fea99729ea4e1b 3f81d5d067aea4a6 2 2 8000000000000001 3
mul64 1b00961fcb000000 3fc0527cf0cd59c4 81ffffffffffffff 2 4 1ad0eba2b30782ab 1
mul64 3f8de8e97e2b4c94 ffed96b8d1400ecd bfb64bc3b9e73012 3 0 ff8ba7f41faa527f 1
mul64 2779f92f2a45fda 29ab33dda9cc0 9c88f71647c4e840 3 1 0 3
mul64 36041bfae05ab80 bfbbdac1f4c1b5ef 82885fef626aa926 0 0 832c4d385b143ede 1
mul64 c00af795f6000000 bfe8c40000000000 7b46bd4e988af12c 1 1 4004dedcef02c000 0
mul64 4ddfffffffffffff cb83000000000000 174941563119d9f0 3 3 d972ffffffffffff 1
mul64 ff951d19b80f98ff fde5d2dac8a00000 ec7c000000000000 0 2 7fefffffffffffff 5
mul64 b3f7f0004825a000 810f06677cb27a45 bf8d800000000000 0 2 0 3
mul64 bfacc2a82f3ae815 bfd8b51fe38c2980 c02d6e198a3581da 2 3 3f9634c7d3cd12fd 1
mul64 3f8548b6745f2312 93a68a5725f12adf 81502ad600000000 0 1 933dfc01f38793bd 1
mul64 19b4592fba992e0 84710bc000000000 c04488930a64b9b9 2 0 8000000000000000 3
mul64 cc04565000000000 bf94eb85c38ca5a0 8054654b02c8d618 0 0 4baa9741bd07b4c1 1
mul64 bfefffffffffffff 3e6b3a28dc400000 81c0500000000000 0 0 be6b3a28dc3fffff 1
mul64 439226a4e8ab8da0 81976566a636373d 3fa96cb6c59506c8 0 1 853a8a95725d11ce 1
mul64 bfa7f3407f166400 623fffffffffffff 10000000000000 1 4 e1f7f3407f1663ff 1
mul64 2ae720dee7306c40 3f8aab8600000000 3f8aace190de93c2 3 3 2a8346ad9ca02ad2 1
mul64 7ff4000000000000 bfa5dd5492d0d4af fcc0000000000000 0 4 7ff8000000000000 10
div64 8057000000000000 809e731580000000 bf7148f1dc000000 1 2 3fa82bcf460dd8b7 1
div64 413c8eeed7fd4521 8163a9d593ee81f1 c00e9fc580000000 2 2 ffc73cdc77c667e7 1
div64 1fbc5b245cbaa33 813e5233f283c000 bfffffffffffffff 3 4 c0ad4f5d24ccdb25 1
div64 a0ff9972eb3b76a9 36fffffffffffff 81c2ba17fefaf153 2 3 dd7f9972eb3b76a9 1
div64 3fad0f830bf4531c c17504a2d5cfff00 7fdc7c21d174237a 0 2 be261f50d190213f 1
div64 ffcd467b26647457 ffc7c96310000000 3f87451ecc98f400 0 4 3ff3b12169091ae1 1
div64 1d6600000000000 c00900d930333800 9165f598cf05060d 0 4 81bca2de4317dea7 1
div64 bfabb64000000000 4180dd43ba216400 40407a1afbb9f91f 0 0 be1a4aa97115ab17 1
div64 71b4cfae49fd6c00 7514b383c2800000 aa54000000000000 3 4 3c9015c506666ed6 1
div64 15fffffffffffff 1d5000000000000 ffa26717ada26718 0 4 3f78618618618618 1
div64 c046669d190ff580 b7f4a594a4de5e fff0000000000000 0 1 ff7dec4e81662353 1
div64 895770ae93b7c514 c0576aae00000000 3fe0000000000000 0 1 8f00419e6a0243c 1
div64 407fe1767050a56a 407afbb49f65c21a 3420828abad91ca5 1 4 3ff2e76dd6f4306f 1
div64 3adcd5acf65baa65 38f4000000000000 ffc70043e8ddd08a 0 2 41d711572b7c8850 1
div64 6a6be398d2dd0800 6e4f786592222a2e 82e84e11664dae40 3 3 3c0c5bc4d43cd3ba 1
div64 fff0000000000001 4078dfa8b7200000 3fdefc845db09523 3 1 7ff8000000000000 10
div64 3fc14b2916afc2e2 ffa0f860c98b36f4 80aa2570b3cd58fd 1 3 80104e0cb0542adb 1
div64 509c9ce65509229d d04c820000000000 7fdc75226f2b202a 3 1 c0400f18f39a3585 1
div64 c07655bfdfa6e6d0 3ddc2eb780800000 c06f8c3aa0a2993e 0 3 c2895c4215f5a325 1
div64 8299011520000000 6ba66791b0000 40633a3bc4ed8088 1 1 c28dbb21f37ed716 1
div64 3fe9200000000000 bd6c000000000000 81426b9128295ebc 3 1 c26cb6db6db6db6d 1
div64 ffa4f4d42ac0c890 fff4000000000000 bf78000000000000 1 1 7ff8000000000000 10
div64 834e2c3890000000 c06a94efdbffce0a 3f9a32a5e8c555ee 0 0 2d22954e9823427 1
div64 10abc90f2cab10b 2c887a62d12e4cc c065ff9394000000 1 3 3e317079def56c47 1
div64 403afdbe8d598835 3f8fffffffffffff 82a428afcb4a0000 0 2 409afdbe8d598835 1
sqrt64 3ff9183594bc5aa3 40105c2f3d15e6fc 8159b710feea5b3f 0 4 3ff409acb14533eb 1
sqrt64 4022786c18222e57 c011edd1fd026000 bf905cb6f4e6c80d 3 2 40084fc384125560 1
sqrt64 401fffffffffffff 42aa21585a000000 ffcb1b2800000000 0 1 4006a09e667f3bcc 1
sqrt64 bffa3157d785776b 3fe8000000000000 3ff54c304b42e57b 0 4 7ff8000000000000 10
sqrt64 1a5bc7d512a9d0fb 83729a0000000000 bfa1c9804f6babc0 3 0 2d25153a405a3716 1
sqrt64 7ff0000000000001 3fab2eff4ac0f280 bf8eff8080000000 0 1 7ff8000000000000 10
sqrt64 4011cc290f717f92 8010000000000000 fff0000000000001 0 4 4000dff51ff59ef1 1
sqrt64 3fb8af525d320b2c 188eb60edb72a d49b3e61193e9dcd 0 3 3fd3dfa05822af0e 1
sqrt64 80974735f05f14bb bfffffffffffffff c019c3a2690e8c2f 3 1 7ff8000000000000 10
sqrt64 3fefffffffffffff bd39a957b9400000 3f86ca2fae61bc00 0 0 3fefffffffffffff 1
sqrt64 24046c7191c0b6e7 22e4a00000000000 ffe9efe4ee691d35 1 4 31f9909230492630 1
sqrt64 5e250a8b896427e8 bfc9900000000000 815bdaa43394f27d 3 3 4f09f2c8a9e188c0 1
sqrt64 3f7acc0000000000 400764fb541ce200 7fced3d22a0fc619 3 3 3fb4b4ceb76149e8 1
sqrt64 3f76c1443ba2d669 401e377f54fbc400 7fcd513d8e000000 1 4 3fb314b323599a96 1
sqrt64 2bc0ffb3a0000000 bfbcc552d77ed3aa 4049debe2c1bd097 3 0 35d752b0a8e91637 1
sqrt64 4019885434375489 40eae3a400000000 c075d33133ef5e63 2 2 4004363e854c8117 1
sqrt64 7ff8000000000000 c0262e1ee0000000 7fefffffffffffff 1 2 7ff8000000000000 0
sqrt64 3f96c00000000000 3fffffffffffffff bf88e0f193a72c30 2 1 3fc3142b30a929ab 1
sqrt64 ecfffffffffffff 816efe8967575968 405f980000000000 3 1 275fffffffffffff 1
sqrt64 3fb80377a253316f c2a2bd09219ac000 7fd2eb095471bac5 3 1 3fd399f866f9cf90 1
sqrt64 401ea322fa514043 437cc00000000000 293bf80e0154a65 1 4 400623ef5ef0454e 1
sqrt64 7fa49e7dd75b5eea bfe79c0fdd24bb3b 2e16f0000000000 2 1 5fc9afd1ceda6fb1 1
sqrt64 3f9da226cf2ec000 3f9ad60000000000 c050d8dfdde78035 2 3 3fc5c64e18b03320 1
sqrt64 92258b580d80000 a5c6dd2ac13de33b 404ffbca4709cbd0 1 0 24883adb7f856b48 1
sqrt64 bfe4a3a3fdef0313 c126880000000000 4072480bf9561a18 2 1 7ff8000000000000 10
fma64 3fe9800000000000 bcbb7f256c000000 bcb5e951d2100000 2 3 0 0
fma64 979000000000000 7ff4000000000000 fff8000000000000 3 0 7ff8000000000000 10
fma64 ffcd19f74164503b 7f49d46480000000 823215df8d91f731 1 4 fff0000000000000 5
fma64 2626fc3ad204a 2ccac7f5295a2ee6 367b5f000000000 2 1 367b5efffffffff 1
fma64 50a4ff4b833457fe bfab3a0b8ce9b553 fff0000000000000 2 3 fff0000000000000 0
fma64 376dd24b2151000 bfdbb847da5c78f6 85ed364861d72e3b 2 0 85ed364861d71a6d 1
fma64 7fa22d2d0106c0f4 4078000000000000 40677b6adfd5d51a 3 3 ffefffffffffffff 5
fma64 ffeb0e61bbb4e7ac 7fec3de7ecc24ddc 9c05142dbe438ffb 2 1 7fefffffffffffff 5
fma64 7fb56409f37a61f1 ff35a6a650eeb000 7fb470b792f000d3 0 2 fff0000000000000 5
fma64 bfffffffffffffff 7fa1530000000000 bfa216b90a16edc0 2 3 7fb1530000000000 1
fma64 4015d026eff0dec2 3da89ec000000000 40339b7820abb3d4 2 3 40339b7820ab70b3 1
fma64 819ef4bd8c9c5018 7fadcc3a016d6414 c15cd35c1cc71452 2 1 bde057d709217880 0
fma64 bf98e83fb6d00000 40426f7b3266440e bfecb2d2af8d0a01 1 1 bc845bacfd800000 0
fma64 c036c81c67ef6800 3f75161e2365c467 4110000000000000 3 1 c10fffff0fcee537 1
fma64 4065de0569d3a000 3e64000000000000 80913fe830000000 2 3 bedb5586c4488800 1
fma64 3ffb3722beba46e6 bfd7b2a4a94e2372 bfffffffffffffff 2 0 bff5ec38258abdad 1
fma64 7fcef0e6fc000000 ffe8a98470000000 bb69000000000000 0 2 fff0000000000000 5
fma64 8aadc9d493a6e c05db50000000000 70cbfb3000000000 3 2 f0cbfb3000000000 1
fma64 bf8fffffffffffff bceadef9f8058000 39ea0926316fc720 1 4 3c8adef9f805797d 1
fma64 bfe42907c0000000 3c90d7fe58000000 ffcfa536edf3c19b 3 4 7fcfa536edf3c19b 1
fma64 2b0000000000000 8344965467fc4a87 0 3 2 0 3
fma64 80c91db99130a405 a30e2ee946637400 bf8821684dbdc790 3 3 3f8821684dbdc790 1
fma64 dc581d060e91512 402d41f1e455286a 3fcbd60a64d6e8ff 2 4 3fcbd60a64d6e8ff 1
fma64 bfe70f1d8a6fdafd bfb691c641282a51 c039000000000000 2 3 c03910436fa9829f 1
fma64 406b7c66ed35646e 9a8fffffffffffff 9b0b7c66ed35646d 1 4 97920e644b2a6e48 0
min64 813e000000000000 800b7bbcd2400000 20dc8865d800000 0 3 813e000000000000 0
min64 8300000000000000 bfd3900000000000 3fb49b276de5186e 2 3 bfd3900000000000 0
min64 24fffffffffffff 4020675629d2498e 401fffffffffffff 1 4 24fffffffffffff 0
min64 406db17405000000 c199565ea8000000 bfdd2f3105488000 0 4 c199565ea8000000 0
min64 ccf4c288bc1000 21d2ca65c000000 1165bc02a2a69b4 1 2 ccf4c288bc1000 0
min64 837a48bfff350586 86a29bc000000000 7fb6f43e055aebc0 2 4 86a29bc000000000 0
min64 d561440b47860f02 53d0dea040000000 61f54fa55039badd 2 0 d561440b47860f02 0
min64 24abb60000000000 14ccc0878b9c8aee a77c3a7e6d508cfc 2 1 14ccc0878b9c8aee 0
min64 ef05916ee64388ae 8290fcb028000000 7fcfffffffffffff 3 3 ef05916ee64388ae 0
min64 c002dd53ec55a000 bfc4e493fa000000 c1760ba495f2c742 2 0 c002dd53ec55a000 0
min64 bfb7040b349cfec9 2862338253761042 bfcd400000000000 0 4 bfb7040b349cfec9 0
min64 3f7f300000000000 4218f80f36b50000 bfe7de3e0a108a6c 2 1 3f7f300000000000 0
min64 3f9e0e861220fedb c04f06df417481a7 d293fc00eb25d354 3 0 c04f06df417481a7 0
min64 ffa3aa5f3f3eb6a1 3c405cd85613189f 912480a26dc68f50 0 0 ffa3aa5f3f3eb6a1 0
min64 bfafda2d23146633 a753f84daf87db 80790d23d8a8f0c9 2 0 bfafda2d23146633 0
min64 10fffffffffffff c02b9e0d5c57248b 80edf51d80000000 1 4 c02b9e0d5c57248b 0
min64 8185249ac8000000 bfb359c000000000 bfc2acf9a383f000 1 2 bfb359c000000000 0
min64 4d7e164ffacac898 bfed6e5a7a60d98d 403c4f5400000000 3 1 bfed6e5a7a60d98d 0
min64 ffefffffffffffff 7fe36de01f4d1500 3f94ab986c90dbcf 0 2 ffefffffffffffff 0
min64 41d5bdd9a0d98487 3fa05a2c83b085a4 3ffd33147cd3e45c 1 0 3fa05a2c83b085a4 0
min64 82f3a4583986eec2 fff0000000000000 ffc4f11eab6372d2 0 3 fff0000000000000 0
min64 c003d8cd61705bc8 c36d47b003abb000 3fccdbd5a4000000 2 3 c36d47b003abb000 0
min64 bfe72726a5b144f7 bfd4eceebb87f699 aea3cb19fc4714e2 3 0 bfe72726a5b144f7 0
min64 ed952ae2f68d826c 7fe0b26f40000000 afc6c7bc34800000 0 3 ed952ae2f68d826c 0
min64 3fa9f50bfb0e3f6f a9a421d5c0000000 dd1a8c0d8ebaef2b 2 4 a9a421d5c0000000 0
max64 4eae985700000000 400a08d59754901b 3ff0000000000001 0 0 4eae985700000000 0
max64 bfb9f0ac2f5e54f8 7fb9bafc4cb156da 3ff0000000000001 0 2 7fb9bafc4cb156da 0
max64 c010f99ae5007cf8 3f4beb7ce1600000 c038c6e951d8d30e 3 2 3f4beb7ce1600000 0
max64 bfd29f8800000000 bfef3f8000000000 bf74ce46952eee91 1 3 bfd29f8800000000 0
max64 5b3200a016b0a6 83c1540000000000 3f9d100000000000 2 3 5b3200a016b0a6 0
max64 3ff1c6e973d25794 59e3812cb89b58 40314b436a497307 0 1 3ff1c6e973d25794 0
max64 7ff0000000000000 403e364fd0000000 4068018000000000 1 4 7ff0000000000000 0
max64 3fcc0bb800000000 44cba39c39e00000 7ff0000000000001 3 0 44cba39c39e00000 0
max64 1c7f23c00000000 404d3c459711863b 7fe6908fa35208af 2 4 404d3c459711863b 0
max64 8010000000000000 3fe219e4ea24bc0f c06d3f2195e9d1ec 3 2 3fe219e4ea24bc0f 0
max64 4000000000000000 43724fddc6300000 7fefffffffffffff 3 4 43724fddc6300000 0
max64 bf86fad6f27f6482 3ef1114000000000 4013bdd0b5e172f5 3 0 3ef1114000000000 0
max64 ffeda31c00000000 7fe7e88000000000 ffa5139847c64000 1 0 7fe7e88000000000 0
max64 ffc3c905be2ae92e ffe908bc00000000 830d73d30763ea13 3 2 ffc3c905be2ae92e 0
max64 c07d90b4d701cccc 1afffffffffffff 70fd2c2d94d11 2 0 1afffffffffffff 0
max64 17401dce21700000 c061b4c0b38cfa00 42dfffffffffffff 1 3 17401dce21700000 0
max64 c043b620577f6955 7fd55fd09417cfee 2308a12eceb5566 3 3 7fd55fd09417cfee 0
max64 3fefffffffffffff bed3000000000000 c04e600000000000 2 1 3fefffffffffffff 0
max64 7faa3445438bde0e 406116cc00000000 6e6c53d422c1e9d9 0 0 7faa3445438bde0e 0
max64 ffc9eb5da8b8a25a 39294d0d01400000 3fdb5d5529c85638 0 1 39294d0d01400000 0
max64 3f9cc8bfc8b8642d 58040ce7c49c23cd c02541ff00000000 0 4 58040ce7c49c23cd 0
max64 ffdfffffffffffff 8110a515778ba000 4017ec1263da72ad 0 1 8110a515778ba000 0
max64 3feac612660b755e c045ac6eaeaf6e04 406066f9c1b46e10 0 0 3feac612660b755e 0
max64 4cecf35ff4de6789 a16402e000000000 402f2f0ac7256f70 1 3 4cecf35ff4de6789 0
max64 441e62ae40000000 46c8000000000000 3fdaefae77afbfea 2 2 46c8000000000000 0
eq64 ffb247d311adc706 ffb247d311adc706 ffffffffffffff 2 1 1 0
eq64 404fffffffffffff 404fffffffffffff 3faedf934a469deb 3 0 1 0
eq64 c047f9dba4546412 3f85c84fbee39efc 3fb8138500000000 3 3 0 0
eq64 ffe8cfa1edb4c000 7c94a80000000000 fff4000000000000 1 0 0 0
eq64 1afc48b760fa7ff d31ec000000000 ffa8000000000000 3 4 0 0
eq64 7ff0000000000001 bfffffffffffffff 82f9bc637d3c0ea3 0 1 0 10
eq64 7fefffffffffffff 74a760ff2bfc71 e3a0df7332c5c295 0 1 0 0
eq64 bff3ef70f0000000 40ff7a55e2c36500 bfdb200000000000 3 1 0 0
eq64 3f9fd15b32649800 c09dfb2780000000 ffeb380000000000 1 4 0 0
eq64 c0512a6a2e1a411a 909d0455c1dfd79f 3c515d5718000000 3 2 0 0
eq64 3fd370f870000000 1e9f68000000000 44caf27e0c18d60 1 0 0 0
eq64 bf90be98f3200000 157d46b5baa1dc7c c05e2a13d2000000 3 3 0 0
eq64 c060e54c38e11800 c0d3800000000000 bfc6d779f074e38e 2 2 0 0
eq64 bff21766c586c7d3 3ff71f661c000000 c0134b000aa4e902 1 4 0 0
eq64 7fd5640df95cdc20 7fd5640df95cdc20 58c3eef47e78eb28 0 3 1 0
eq64 bfafffffffffffff bfafffffffffffff 69d268aedc7a4a 0 1 1 0
eq64 bfcfffffffffffff bce836b558d40000 c000000000000000 1 2 0 0
eq64 7fbc54e30f3a6587 81369ef469b73a21 73bfffffffffffff 0 3 0 0
eq64 82e42f6015cd6000 82e42f6015cd6000 bfd9240000000000 2 2 1 0
eq64 a12550c6a570e358 a26203a17f16ff7f 10000000000000 2 1 0 0
eq64 12c60f6cbc1b6560 12c60f6cbc1b6560 c017862833000000 1 4 1 0
eq64 9ce8e3ad80000000 9ce8e3ad80000000 3ff0000000000000 0 2 1 0
eq64 bfcfef0000000000 1ae48e444e63ddbc 726626680afbbe27 3 0 0 0
eq64 4062ec8781aa0000 436fa9e6e9200000 2481a093d7ec05f 1 0 0 0
eq64 81a0a6d1ebc12d02 3fa0000000000000 57f9e6ef4c47fb8c 3 4 0 0
lt64 3f869b5c00000000 82eb280000000000 bfb1ff0400000000 2 0 0 0
lt64 55fe8000000000 8000000000000000 74c38526ce0d6000 0 2 0 0
lt64 ffeda242a8a57b29 3f87e4ea31a46cb8 3497d1b85b5200b 3 1 1 0
lt64 3f3a56a897fe6800 41e9c221dcfbdc00 3250bca8000000 1 1 1 0
lt64 7febbb6b80000000 feb0000000000000 400201e7d3717f23 0 0 0 0
lt64 8000000000000000 8000000000000000 94c3ce53aa08745d 0 1 0 0
lt64 433ff05c25c00000 c160724c00000000 bfb13e1280000000 0 4 0 0
lt64 7fc4e80000000000 7fc4e80000000000 bfdcf3fe02a00000 2 1 0 0
lt64 77ec6bc106410000 7a1a14784b200000 ffef56e97e3953f8 1 4 1 0
lt64 3fdfffffffffffff 4281dbcc83f78b60 7fe43be95a8c78c5 3 0 1 0
lt64 73c8260bb9222b6d 2ea32da9ad25200 401d02d7eab624ed 3 4 0 0
lt64 ffefffffffffffff ffefffffffffffff c079480ae72dac57 0 4 0 0
lt64 fb52c309a42fb820 7fc8e7cbce988000 7ff4000000000000 3 1 1 0
lt64 bfdc000000000000 7fe9d743aaba7800 7fc4000000000000 2 2 1 0
lt64 29b43bc3db65de 80006840e0000000 bfed9479d8e04671 2 1 0 0
lt64 d692703a01d5eed6 82860d0000000000 c00a2e85c657c9b1 3 2 1 0
lt64 40681e2a697d9e8c 40681e2a697d9e8c 401e0b7f5d71bf08 2 0 0 0
lt64 3f855ea32dadec00 a10af0085826d4df c031895255acf9a1 3 3 0 0
lt64 e29af646e3a1081c 1cfffffffffffff 7fc0d55cd9a0efdc 2 2 1 0
lt64 c07d000000000000 40b2cf123d299926 4013b829e3d00000 2 3 1 0
lt64 4055b954fc599fd5 bf83c6351e5a0282 bff1ad362e4865f4 2 4 0 0
lt64 825919be40f78000 825919be40f78000 bfd379dc2d467158 3 3 0 0
lt64 40540f4eb7380000 bfefb6d7269a183d bfc9f3c707a55eb3 2 2 0 0
lt64 802db5d4714546b6 255800000000000 bfff58f76c662000 3 1 1 0
lt64 ffcf25bccc98d800 ffcf25bccc98d800 7fce817edc12f0a0 0 3 0 0
le64 401b4fc000000000 401b4fc000000000 c001745dcbde0000 1 0 1 0
le64 f8343068b17ee800 f577a00000000000 1a2887e4bc0ced75 2 1 1 0
le64 be3dc6ceb5eee2b0 93a867e7c3932b11 ffcf48e11fd9d609 0 0 1 0
le64 ffcb790358000000 400cfa0000000000 bf90000000000000 3 3 1 0
le64 ffc0342591b40000 ffc0342591b40000 3fffffffffffffff 1 0 1 0
le64 7fbfffffffffffff 7fbfffffffffffff b7a0000000000000 2 3 1 0
le64 2f4a4e896e15f867 a14be7dc00000000 c04e3fe640000000 1 0 0 0
le64 4035964230fe4000 6b869626b45ba9da 3fddc20960000000 0 1 1 0
le64 1b340687c0368c00 1b340687c0368c00 ffc14db1456e0cf2 1 2 1 0
le64 bfc2f2b3aa688d67 c010800000000000 3f8bfa2912e561ed 1 4 0 0
le64 b898079069c6c4 82585e4c00000000 fb5fffffffffffff 3 4 0 0
le64 3f7b610a63b80000 7fa7461b4882076a 1b4954690af3201 3 0 1 0
le64 7fd1f511460bf161 ffef8e9743c60000 3fffffffffffffff 0 2 0 0
le64 7fb0c305ffc2fa46 fc56cff0a0000000 3f742cfa6fee42a6 1 3 0 0
le64 ffb432e6d0a599c7 40428ba27a664b7a c03d3941ef83e3bf 0 4 1 0
le64 3222fa78bbc0000 19af355d36a3a31 c046c924af5e9000 2 2 0 0
le64 0 3ff52bf500fb7e18 ffe708315f6c7a93 3 0 1 0
le64 7c4e371eda596cac 7e61ea6325000000 1a82a2cdee04ee4 0 0 1 0
le64 fff4000000000000 194f30ed0000000 ffcf1c7880000000 0 1 0 10
le64 c048000000000000 ffc86db380000000 5da9ede9f2285c1f 3 4 0 0
le64 1fcdf085ed322e22 1fcdf085ed322e22 bff4deaf51372887 2 2 1 0
le64 bf9bcf6f216f282d bf85f7b4b4a05b7a 405121edd9ac0e9d 3 1 1 0
le64 ffd787c400000000 26576e7bb00000 7fe4c0f807ce0000 2 2 1 0
le64 82592c5a80000000 82592c5a80000000 3faa0452bc2eff14 1 2 1 0
le64 825104be55817d1e 835dd5dfe6fe0f28 c009ec9615373281 2 2 0 0
class64 7fd0000000000000 7cce400000000000 74ec000000000000 1 0 40 0
class64 812cd04f46000000 414000000000000 bf85954d4f11ab88 2 1 2 0
class64 ffb99416a2f329f2 ff475ae16c200000 528717f8d608d000 2 3 2 0
class64 bfbca5627adacdbd 513fffffffffffff 6f08acc9127840c3 0 2 2 0
class64 400fffffffffffff 40a8000000000000 c03c4c5c79b798dd 2 2 40 0
class64 9bf8486549474563 141ab2dddd1d6ef 7fc2719600000000 1 1 2 0
class64 7fddaa68aaff4987 7e082549a0000000 82888fae4af80a0d 0 1 40 0
class64 73fef1d7e2bb0fe2 4077e20b46eae807 ffc408949a18bcd1 2 3 40 0
class64 4024040000000000 3f8d82082592798d bf8e1f38d419590e 3 4 40 0
class64 bfc563b1c7b9e250 3fd2000000000000 3fabc085cab7fd40 1 1 2 0
class64 8104e942e6dcc549 21f93c08a94adda7 c033400000000000 0 3 2 0
class64 497c7f207540f792 496fffffffffffff 3c3cba0000000000 0 4 40 0
class64 c06e439ccc6f79e6 42e2000000000000 c03f13d9d670d7e4 1 3 2 0
class64 dbb2300000000000 5a8bad174ca68e84 123b92a1d8c2f00 1 0 2 0
class64 ffe2600000000000 7fecc8e76d800000 50be233ddaa00000 3 1 2 0
class64 ffa94b5075dc564f ff4f7728c0000000 1d19871fc0a717a 2 0 2 0
class64 3f709d4290000000 bd60000000000000 8000000000000000 0 3 40 0
class64 407600b86f600000 bf8a284d669e6000 7fefffffffffffff 2 2 40 0
class64 ffbc2d36d44a8000 7edcc347eeea7c00 b0c83b083a2bf000 1 2 2 0
class64 c6f6122525a0d4e1 3f72252220000000 3ff0000000000001 1 3 2 0
class64 c04f32241d6f3b1e 423aba0000000000 3f79480000000000 3 4 2 0
class64 225943ae5e60e332 3f7d2c21e5ad1d5d 8010000000000000 0 1 40 0
class64 3ff0000000000000 40b33482f396f000 c05b563fd10bd952 1 3 40 0
class64 3fdfffffffffffff c147667c5c000000 c03a7e8c42a10476 2 0 40 0
class64 ffafffffffffffff 8233fdc23e000000 3fffffffffffffff 2 2 2 0
add32 beb53d00 7da90d41 b11fa14 0 3 7da90d41 1
add32 48397d0c c1c00000 ff7fffff 1 4 4839770c 0
add32 89d40000 80600000 bcc3a60e 0 4 89d40018 0
add32 471c865 fdc999dd bf800001 1 1 fdc999dc 1
add32 ffc00000 cee384ec 4c029c9a 3 0 7fc00000 0
add32 2cabe9a0 4068c950 ffc00000 2 1 4068c950 1
add32 bc8617a0 b1870000 3c8a08c7 3 1 bc8617a2 1
add32 3d753b7c c1100000 ffa00000 0 2 c10f0ac5 1
add32 7f790b06 f5050000 3fffffff 3 2 7f790afd 1
add32 beed3cc0 40327400 bc048000 3 2 4014cc68 0
add32 80000000 3f488000 cb2e2722 1 0 3f488000 0
add32 7ef4d000 ff6e464c 6ea269f8 2 2 fee7bc98 0
add32 8301e905 7d800000 3eeec7f3 3 0 7d800000 1
add32 7e2fc754 140ba954 1 0 4 7e2fc754 1
add32 c0000000 9838e6c8 be280000 3 4 c0000000 1
add32 3fa5a679 c1219d7d 7e7b0a00 1 2 c10ce8ae 1
add32 3fc79c00 41104898 f113cc58 1 0 41293c18 0
add32 feffffff 3c0fe0d1 4a09f62f 1 2 feffffff 1
add32 be6c48bb 3dc44000 c0a8df4f 3 1 be0a28bb 0
add32 5e665697 60aff000 bdecc6f8 2 2 60b722b4 1
add32 7dc59b14 fd2caa4c be5ec9fb 2 2 7d5e8bdc 0
add32 bf7fffff 3a0d8b00 c1bd9201 3 2 bf7fdc9d 1
add32 7e900000 7f4169b0 febc2000 2 1 7f7fffff 5
add32 40c7c350 cb220000 c4400000 2 4 cb21fffa 1
add32 82d3ee99 af24834 a1ba439c 3 2 af24760 1
sub32 d0ffffff b2a7000 4b97b9f6 0 3 d0ffffff 1
sub32 3c911e6b 31400000 8af80000 3 4 3c911e6a 1
sub32 c17fffff 8b517b0f 40ba6ead 1 1 c17ffffe 1
sub32 2e00000 8c087800 7d5fb400 1 1 c08781c 0
sub32 eb7068d0 c2245560 800000 2 1 eb7068cf 1
sub32 ff800001 bc28b531 a0432e95 3 4 7fc00000 10
sub32 427b2d27 cbf0cb5a c0894c3f 1 2 4bf0cb79 1
sub32 40b49000 41800000 e019df03 0 0 c125b800 0
sub32 fd14f700 36f3f1e4 48cce86 0 0 fd14f700 1
sub32 bc9c0000 38700000 e4e856b9 0 4 bc9c7800 0
sub32 85524731 69a17bb6 c5d2a000 0 3 e9a17bb6 1
sub32 bd000000 be323ed0 feec3547 0 2 3e123ed0 0
sub32 7800000 40cdfab8 14ffffff 3 4 c0cdfab8 1
sub32 bd394000 85989cd1 fe27ce92 1 2 bd394000 1
sub32 71d60000 425f94b8 c025f000 3 4 71d60000 1
sub32 b87cbe7b 8bb30000 429561fc 0 0 b87cbe7b 1
sub32 bdce462c 35b68b00 c2a07967 3 2 bdce46e3 1
sub32 ff19407d fd847b00 bd68f66c 2 0 ff08b11d 0
sub32 7f5d2115 fc0c0c00 fe684eff 2 4 7f5f5145 0
sub32 beeb8809 ff800000 61163fd7 0 1 7f800000 0
sub32 3da64e24 468c0000 18dcde80 3 1 c68bffd6 1
sub32 407fffff b5880024 bfb58000 3 2 40800001 1
sub32 3f8bdb37 49bc4000 c1fc8b7f 2 3 c9bc3ff7 1
sub32 d48873c4 7df81c59 5e100000 2 0 fdf81c59 1
sub32 c369f75d b9400000 3d956298 1 2 c369f751 0
mul32 2bf6508c 8735f3e8 73540000 0 3 80000000 3
mul32 c393ad99 c2108000 7f0fe43c 0 3 4626b6fa 1
mul32 7ef20000 be687103 bd25386b 3 2 fddbbad5 1
mul32 7d5a6e3f c24b0372 424f6400 2 0 ff800000 5
mul32 b720000 8ac2c274 81064200 0 0 80000000 3
mul32 c3e9015b c8c80000 c100a000 2 0 4d36090f 1
mul32 fdd4d73a f30e0000 87005a0 2 0 7f800000 5
mul32 92ffffff 812de00 c2800000 2 1 80000000 3
mul32 41300000 cb8ab4b8 88cc4f0e 3 2 cd3eb87d 0
mul32 42ffffff 411ea800 9052faf 1 1 449ea7ff 1
mul32 bf7fffff c90a0000 b6b7a7fd 0 2 4909ffff 1
mul32 75a6dfd fe87c500 bfffffff 0 3 c667b02e 1
mul32 7d764300 3de530fe ff28913f 1 1 7bdc790f 1
mul32 7d5ea6c0 8694fa9c 6a858857 2 1 c481925d 1
mul32 fef32ae5 7dc36a6f 7e045000 0 2 ff800000 5
mul32 c3d3eb52 410483df 41ffffff 0 0 c55b6501 1
mul32 c0e10c68 41800000 800000 0 3 c2e10c68 0
mul32 7eb572ac 3e1583f6 4066a847 1 1 7d53f28c 1
mul32 c2ed78e5 498c6c57 3bbea1cb 0 0 cd02429d 1
mul32 bc4d430f 411f8000 89860d9e 2 3 bdffc68f 1
mul32 7d435d9a 83ed7b66 1e58a77 1 0 c1b53bd3 1
mul32 8c61c000 7fc00000 74ad9b9 0 1 7fc00000 0
mul32 41ffffff b8e8d3c0 ea2c507d 3 4 bb68d3bf 1
mul32 88b00000 10bb0800 b9840000 0 4 80000000 3
mul32 827fffff 7e7fe5f3 bd7fffff 1 3 c17fe5f2 1
div32 7f316000 ff587c00 800000 3 3 bf51c079 1
div32 8b330fdb 6508f00 bdffffff 1 1 c45bcb2c 1
div32 fd7ee000 9eaff66 82938d2b 2 2 ff800000 5
div32 800000 feea9000 c277a000 0 2 80000001 3
div32 c07fffff 56ffffff 3ff1eeff 1 2 a9000000 0
div32 83f2ee98 e240e95e bfa9564b 2 4 0 3
div32 210ec92e 23950000 87ff467d 1 2 3cf552c7 1
div32 3d6f553f 3cc48000 f68f6d19 2 2 401be6c1 1
div32 ac00000 c13b7c7e fe05fabb 1 3 890314e2 1
div32 c0000000 3f11a800 8bf16c2a 2 3 c060f7d0 1
div32 bd7997d0 41fa24b0 484ade6f 3 4 baff6fd4 1
div32 3ddd5b00 bf7fffff 3ccfb3b1 0 3 bddd5b00 1
div32 1 4b00000 3e1c4000 2 1 2fba2e8b 1
div32 c3400000 47a00000 fde7211b 0 3 bb199999 1
div32 23c4dcf 44c0000 389bee68 3 2 3d6c4d90 1
div32 3cb6f5c8 7d0570a0 c36c6564 0 0 15f00b 3
div32 83c1647b 86587d9a 87ff8fc5 2 4 3ce4afbd 1
div32 ff1a2883 a6d56e5 3e3662e1 0 3 ff7fffff 5
div32 847bb41e 7e04a900 bd5ec353 0 0 80000000 3
div32 52ffffff 572f6b88 fd1234b7 3 2 3b3acc1e 1
div32 59000000 7f7a9529 3fffffff 3 0 1902c469 1
div32 bd8c0000 3ef1fd16 3ddcf5b0 0 4 be141b2c 1
div32 42aaa125 cb800000 403c6000 2 3 b6aaa125 0
div32 9670e800 8784d717 fdf80000 0 4 4e6820e8 1
div32 c8b6bc04 4f924000 88d60000 3 4 b89fee82 1
sqrt32 3bba60c9 c13ddf43 a97b5680 1 2 3d9a7484 1
sqrt32 fe72161d ff2b1c00 c3382451 2 3 7fc00000 10
sqrt32 3c700000 3c67b000 9acf183 2 3 3df7def6 1
sqrt32 41240d4f fe87a000 43a7efa3 1 3 404ceeb5 1
sqrt32 d7fffff 3e600000 27a80000 0 1 267fffff 1
sqrt32 bdc66070 c02ae3bd 809ac06f 3 4 7fc00000 10
sqrt32 7fc00000 bf0c0000 891d1000 1 1 7fc00000 0
sqrt32 7f800001 80000001 bfec0000 0 0 7fc00000 10
sqrt32 430cb664 d00f6ec0 3c132d66 1 1 413dcbb0 1
sqrt32 405ceef6 8a9e0800 bdc5a5cd 0 0 3fedd23f 1
sqrt32 3d8bea08 7e600000 bc364a8c 1 4 3e85d317 1
sqrt32 42a5076c 43c00000 7e6b7fb2 2 2 41115709 1
sqrt32 40000000 b5f4f6e0 1cc113f 2 1 3fb504f3 1
sqrt32 45d42a7d 85267d1f 286605b2 3 0 42a4cb68 1
sqrt32 433fdd40 edce2bc1 ee096005 3 1 415d9fc6 1
sqrt32 7137da30 bc964a78 a72356bc 0 4 5858f28b 1
sqrt32 7e9dc940 29eb4e2 c07fffff 0 0 5f0e1d66 1
sqrt32 405cc000 c2300000 c27fffff 2 2 3fedb8f7 1
sqrt32 7d4b57a9 be000000 4010d8c0 2 2 5e642837 1
sqrt32 3f9f1ab1 3c016eed bb1f0800 3 0 3f8eb50b 1
sqrt32 7b53091e c2623d36 391cadb 0 4 5d686edc 1
sqrt32 436a19ba 9fa2210 c2c977f4 3 0 4174ce34 1
sqrt32 4a40000 ba80000 bc4348ad 3 0 2210e2dc 1
sqrt32 3fffffff b8da778c d2ffffff 1 0 3fb504f3 1
sqrt32 7b4c61e8 fd600000 7a0ed853 1 2 5d64bd64 1
fma32 ff800000 5cd10000 c0a20f60 2 3 7f800000 0
fma32 7eab7254 4e05bb3 bf600000 1 1 44167973 1
fma32 bce13159 3eb5ee0c bc20094a 2 2 2fb81c58 0
fma32 6e466e4f 28f96252 bde80000 3 1 d7c14d80 1
fma32 c27fffff bbf00000 bdd6040c 2 3 bf12c081 1
fma32 3d48a240 45ffb600 1acbd544 2 0 c3c86841 1
fma32 3f950000 35f30000 b60d6f00 0 2 80000000 0
fma32 19ffffff bf074225 82880000 3 4 19874224 1
fma32 c490000 561f966d c0e00000 0 1 c0dfffff 1
fma32 40000000 bf324000 bfb24000 2 2 80000000 0
fma32 20f763 98a0000 8c000000 3 2 bffffff 1
fma32 c31f5866 bea08380 3f303000 3 2 c24a92f4 1
fma32 d46e9b 7f800001 7fc00000 1 4 7fc00000 10
fma32 fe8c1105 ff340000 85d837d9 0 1 7f7fffff 5
fma32 43000000 9bc2f170 1f42f170 0 1 0 0
fma32 8aee1786 a080000 41e00000 1 4 c1e00000 1
fma32 bc86d75b 7dd9ad9b 6e38ff00 0 0 fae54ffa 1
fma32 bd22efb0 856f57e2 8f100000 3 0 f0fffff 1
fma32 3f7fffff ff7fa010 ff7fa00f 2 2 6ebfe000 0
fma32 3fa4eb67 bf43a996 bd7656ea 3 2 3f85bf46 1
fma32 6a910f93 c08a8000 6b9cf5da 3 0 5df00000 0
fma32 851d8b04 bd7c0000 fd07c951 0 0 fd07c951 1
fma32 ff2cc5f0 74400000 c90d5a00 2 0 7f800000 5
fma32 4209e800 c258f8f1 3386efc 1 0 c4e9c3b5 1
fma32 4b4728e 7152b2 807a0000 0 3 8079ffff 3
min32 bc224fdc c3800000 c3814b5c 3 4 c3800000 0
min32 7edc1448 fbe3c960 bbf0000 1 1 fbe3c960 0
min32 87dec107 40200000 a6290000 3 0 87dec107 0
min32 87b74726 8f004000 3c300000 2 0 8f004000 0
min32 7f7fffff fc535a7e 53a6f2ad 3 2 fc535a7e 0
min32 7cb469de 43675970 c13f8000 0 0 43675970 0
min32 2aa81b0c 9e03432 8360cb1e 0 1 9e03432 0
min32 3d425035 8cb55032 fe68efe8 3 3 8cb55032 0
min32 7d5a4000 bdff143e 9a8df7f 0 1 bdff143e 0
min32 80800000 3bc0d6ff 3dc00000 0 0 80800000 0
min32 ff5cc2a0 7c26c000 6081e121 0 0 ff5cc2a0 0
min32 7f7bc000 ff700000 41df21f7 1 2 ff700000 0
min32 deb1e5e0 40600000 3a70af6 2 1 deb1e5e0 0
min32 bcaf9e50 41037ef0 ff180000 3 1 bcaf9e50 0
min32 ff7fffff 7f4b4c00 867fffff 3 2 ff7fffff 0
min32 4011896c 3fa00000 be5a7219 1 0 3fa00000 0
min32 42b725ce 3a8a0000 c11971d5 2 4 3a8a0000 0
min32 8b56cbc2 8f544a20 8973da1e 2 0 8f544a20 0
min32 42800000 7fc00000 fee174f6 2 3 42800000 0
min32 3fc00000 b7c6d4d4 1e00000 2 4 b7c6d4d4 0
min32 bc956f9a c88b0000 bdac6b87 2 0 c88b0000 0
min32 43122ac4 48584000 bc7fffff 2 0 43122ac4 0
min32 c1930000 bf800001 7ecffcb7 3 0 c1930000 0
min32 7e000000 403c3ea3 3fc075da 0 0 403c3ea3 0
min32 d52c06f f55e2573 c3c10000 2 1 f55e2573 0
max32 7fa00000 7effffff 7e509eba 1 0 7effffff 10
max32 c0f54e2a 4c406b18 72d8e3f6 2 4 4c406b18 0
max32 ff800000 d8aa19db bf8c68fb 3 4 d8aa19db 0
max32 2c2601a2 877fffff 800000 1 2 2c2601a2 0
max32 4ee886c9 3d78c6e8 ff7d0243 2 2 4ee886c9 0
max32 a0b5d640 7f000000 9cd26d00 1 2 7f000000 0
max32 9b440000 9cfcfc00 83d8000 1 0 9b440000 0
max32 3ce27cba 41980000 4102db6c 2 4 41980000 0
max32 437fffff 3ec00000 c125fa 2 3 437fffff 0
max32 43dcf88c 3aa995e2 80000000 2 2 43dcf88c 0
max32 7de2c000 f6ed9300 d0adf17 0 4 7de2c000 0
max32 48800000 5358f9b9 7e13eda8 2 1 5358f9b9 0
max32 ff28e8c0 fdffffff 5e0ca260 3 3 fdffffff 0
max32 fed756d3 41b600c0 3db83480 0 4 41b600c0 0
max32 1c6f7c40 9c900000 abb0b49 2 3 1c6f7c40 0
max32 3de73f9d 89415054 3a2c8000 0 3 3de73f9d 0
max32 43c1282a afede96e 8b17fae5 3 3 43c1282a 0
max32 8c04e394 16351200 7e2c0000 1 0 16351200 0
max32 9a000000 1d1d3b80 2100000 3 3 1d1d3b80 0
max32 809a0754 800423f0 c0f565a0 2 2 800423f0 0
max32 3b800000 91b33000 bb95e9fe 2 3 3b800000 0
max32 42b20000 36800000 3c5a77e0 2 3 42b20000 0
max32 87b235c0 94e6ae00 437fffff 0 1 87b235c0 0
max32 81932000 0 c2800000 2 4 0 0
max32 3e46b13e c29fde09 6603bd05 1 3 3e46b13e 0
eq32 8f7fffff 96800000 bd16ebef 0 0 0 0
eq32 c17fffff 27d85072 fe678000 3 3 0 0
eq32 810768a7 7f800000 fdfb0d4c 3 0 0 0
eq32 a77e2000 8a2424e7 ff0b370f 1 1 0 0
eq32 426c522f ba309c00 7f754650 1 1 0 0
eq32 3fdd1764 ba10f000 a0037d60 2 1 0 0
eq32 837fffff 837fffff 86000000 0 3 1 0
eq32 7fa00000 3c400000 bf7fffff 1 2 0 10
eq32 ff7fffff ff4f5700 ff2abbbb 1 1 0 0
eq32 c30cfd31 bf5c0000 3e7fffff 3 4 0 0
eq32 bd7fffff fe497c00 c37fffff 3 0 0 0
eq32 2faa6fbf 2faa6fbf d0e0e22 0 4 1 0
eq32 3f6eb4d0 36e04000 c041b3de 3 3 0 0
eq32 5789d63a 405cee80 56709000 1 3 0 0
eq32 c031da58 b3200000 bf739b98 0 4 0 0
eq32 c2000000 3c040000 45b5d02 0 1 0 0
eq32 88df25e6 950f8000 c0180000 1 1 0 0
eq32 7d78a9ba c3998d4f 3ef147c9 2 1 0 0
eq32 a59ffab6 7effffff bc6a1c44 3 0 0 0
eq32 f88efc0a 3aa04000 43048000 1 2 0 0
eq32 c125ce6c 49980000 c2e80000 0 1 0 0
eq32 ffa00000 c1190000 be3e4a13 3 1 0 10
eq32 807fffff 807fffff 32301407 0 3 1 0
eq32 c1db043d c3b74c90 3d271c88 0 2 0 0
eq32 7e700000 ff25895a bd1775c7 3 2 0 0
lt32 3f580000 ff7fffff 836a1bdb 3 3 0 0
lt32 7f16375c 40951370 34a62b82 3 2 0 0
lt32 85899f24 803d5000 43528676 0 3 1 0
lt32 3deb38cf 4ccd110 7da77473 0 2 0 0
lt32 bed070f2 b953fb5c 8c72d27 2 4 1 0
lt32 3fb01c2c 6a00000 fd400000 3 3 0 0
lt32 c1e66821 43d20000 7ddfd2ea 2 0 1 0
lt32 42fbc000 3a800000 3d83d2a0 1 3 0 0
lt32 7f800001 20f36a6 bc800000 1 1 0 10
lt32 ffa00000 ffa00000 42fd4f40 1 2 0 10
lt32 42680000 462ffca1 3cffffff 1 1 1 0
lt32 3ff624c8 3ff624c8 3c52d623 0 0 0 0
lt32 40872142 8c7257a0 bd4e3ca0 0 4 0 0
lt32 41e2b806 fe7e5a8e 617fffff 2 4 0 0
lt32 c27fffff c5800000 bdd9c9e7 1 1 0 0
lt32 439bb069 439bb069 c2b8e600 0 1 0 0
lt32 744e0000 7f240de bd9f7625 3 1 0 0
lt32 86ffffff 1151c000 80d6e265 0 2 1 0
lt32 3d400000 89850093 7f400000 3 2 0 0
lt32 4d688e88 f5e6ad59 bd7fffff 3 3 0 0
lt32 7e800000 bfffffff fe6457b8 0 1 0 0
lt32 89606fa8 c396a221 5b27b6e 1 4 0 0
lt32 7eaad6ef fa316bc8 435ab752 2 3 0 0
lt32 4118a000 4344513b 80800000 0 3 1 0
lt32 76e3c7e7 6f3921d8 4342bc00 0 4 0 0
le32 bff8314 bff8314 9fd48380 2 3 1 0
le32 ff2e4821 ff680000 3c30f81e 2 3 0 0
le32 ec46d30a b98f67a7 3de00000 0 3 1 0
le32 3ddee000 3ddee000 41bb5233 1 1 1 0
le32 86f55f49 40ffffff 2af0e138 3 2 1 0
le32 400d21ae 400d21ae c0be34b6 2 3 1 0
le32 49b7895e d2800000 c373361c 0 0 0 0
le32 93c92ac3 bc3726aa 3e79609e 2 0 0 0
le32 c113fed9 4a2da11a d2bcf12 2 4 1 0
le32 80900000 c1600000 86245b40 0 0 0 0
le32 3145fb9f 3fffffff a2030aef 0 2 1 0
le32 23f9a6e2 23f9a6e2 a538000 1 2 1 0
le32 7d6f5803 7751c3a8 fd9feb5e 2 2 0 0
le32 c319e654 cfeab0e2 3f800000 0 4 0 0
le32 beaa0000 4875cc00 becb9967 0 2 1 0
le32 879b8638 c14b8d41 c0bb5a30 0 4 0 0
le32 bde48000 affffff 8b300000 0 0 1 0
le32 800000 80682c40 c3065000 1 1 0 0
le32 bc00000 71e3a00 c08c1d90 1 3 0 0
le32 42040837 bf7fffff ae0ea84b 3 3 0 0
le32 5b5f1740 60000000 af0eb21b 1 0 1 0
le32 42a86a67 42a86a67 bccc4000 3 2 1 0
le32 49fd7c71 bfa06880 bcbdb5c9 3 2 0 0
le32 40039f7e 1e700000 7dcc2c10 3 2 0 0
le32 c1add67f b3fc9e00 d0a41c88 1 1 1 0
class32 7fffff 45a0000 89ae0000 3 2 20 0
class32 41800000 bc708000 7dffffff 3 1 40 0
class32 c400000 2b4e000 bfbda400 1 1 40 0
class32 f20b4000 66900000 3bab6e2d 3 3 2 0
class32 13ba7e0e 1e2b6f65 7c0c3f22 1 3 40 0
class32 8a91d383 ff7e34be 70400000 3 1 2 0
class32 3d7fffff 3f9b1400 e312da76 2 4 40 0
class32 7e400000 7d7f6000 c3000000 2 3 40 0
class32 c0f1b790 19ced75e 3f3aa000 3 3 2 0
class32 70600000 c400000 b0073887 2 4 40 0
class32 8bb0e65d bd4c957d bc734000 3 0 2 0
class32 3c948df1 c233f000 bef258b9 0 4 40 0
class32 7fa00000 c0c5891f 84a54ed0 2 0 100 0
class32 e1f98000 5c4a6000 7f800001 2 0 2 0
class32 fefcf800 ff322600 bd6ecc03 1 1 2 0
class32 42403600 3c800000 ff417bd1 2 4 40 0
class32 3f800000 3fadb41f 7f7fffff 1 0 40 0
class32 9472e053 3c9d4000 1ab4294 3 3 2 0
class32 16b55da0 bfaad000 5cc16163 1 3 40 0
class32 7d3e6a00 3c5600f3 ff000000 3 4 40 0
class32 878e44bc 3e360904 518000 3 3 2 0
class32 807fffff 810511c0 c0a968a3 1 3 4 0
class32 3dba2003 bd1b7357 c3620000 3 4 40 0
class32 7d300000 ff01f172 bc2e4c1e 2 0 40 0
class32 3f016812 c18d6934 be0c4000 0 3 40 0
cvtW64 41fd1be728000000 0 0 0 3 7fffffff 10
cvtW64 c1ca1f5dc0000000 0 0 0 3 ffffffffcbc14480 0
cvtW64 c1ed23070e840000 0 0 0 2 ffffffff80000000 10
cvtW64 c1ff3a514eb80000 0 0 0 4 ffffffff80000000 10
cvtW64 41ff4f4000000000 0 0 0 3 7fffffff 10
cvtW64 bfd9be87422c8d4f 0 0 0 2 ffffffffffffffff 1
cvtW64 c1fa49b28ab759c0 0 0 0 4 ffffffff80000000 10
cvtW64 c1c0b40000000000 0 0 0 1 ffffffffde980000 0
cvtW64 bf93ab3cc0000000 0 0 0 0 0 1
cvtW64 c1f5bad000000000 0 0 0 3 ffffffff80000000 10
cvtW64 c1c0730198a70000 0 0 0 3 ffffffffdf19fccf 1
cvtW64 41e97bb530a1e9d3 0 0 0 4 7fffffff 10
cvtW64 bfcdccc7d3000000 0 0 0 2 ffffffffffffffff 1
cvtW64 41c0c19d31000000 0 0 0 0 21833a62 0
cvtW64 c00c0c0000000000 0 0 0 3 fffffffffffffffd 1
cvtW64 4207e1d35cf3a480 0 0 0 3 7fffffff 10
cvtW64 c1d9400000000000 0 0 0 2 ffffffff9b000000 0
cvtW64 c1ff662000000000 0 0 0 2 ffffffff80000000 10
cvtW64 4206569c6618d600 0 0 0 0 7fffffff 10
cvtW64 41cf000000000000 0 0 0 0 3e000000 0
cvtW64 41bb485e7e713700 0 0 0 0 1b485e7e 1
cvtW64 c1e04d21ee7e4000 0 0 0 2 ffffffff80000000 10
cvtW64 c1cf548000000000 0 0 0 4 ffffffffc1570000 0
cvtW64 c2026b8000000000 0 0 0 2 ffffffff80000000 10
cvtW64 c1db2f69f272b30c 0 0 0 2 ffffffff93425836 1
cvtWU64 41e24d23efd80000 0 0 0 0 ffffffff92691f7f 1
cvtWU64 c1e0000000000000 0 0 0 0 0 10
cvtWU64 4018a158c1d00000 0 0 0 1 6 1
cvtWU64 3ff2000000000000 0 0 0 0 1 1
cvtWU64 41f40bd158000000 0 0 0 0 ffffffffffffffff 10
cvtWU64 41b9780000000000 0 0 0 0 19780000 0
cvtWU64 3fd0d66725180000 0 0 0 1 0 1
cvtWU64 c1d92872e0000000 0 0 0 1 0 10
cvtWU64 41fc130fd32eed70 0 0 0 2 ffffffffffffffff 10
cvtWU64 402aae92e703e300 0 0 0 2 d 1
cvtWU64 406a400000000000 0 0 0 1 d2 0
cvtWU64 401bc37180000000 0 0 0 2 6 1
cvtWU64 4003d18e80000000 0 0 0 3 3 1
cvtWU64 c1e02d48c9fc6dc4 0 0 0 0 0 10
cvtWU64 41f2ef0de0000000 0 0 0 2 ffffffffffffffff 10
cvtWU64 c01691e6dfd440d8 0 0 0 2 0 10
cvtWU64 403e7b4000000000 0 0 0 3 1f 1
cvtWU64 4202d92fdf5f3980 0 0 0 2 ffffffffffffffff 10
cvtWU64 41cade183b4e4000 0 0 0 0 35bc3077 1
cvtWU64 c1ef490e2b693800 0 0 0 0 0 10
cvtWU64 c1f0100000000000 0 0 0 4 0 10
cvtWU64 bff7400000000000 0 0 0 0 0 10
cvtWU64 41e8000000000000 0 0 0 2 ffffffffc0000000 0
cvtWU64 bfefffffffffffff 0 0 0 0 0 10
cvtWU64 bfe0000000000000 0 0 0 2 0 10
cvtL64 43ef800000000000 0 0 0 3 7fffffffffffffff 10
cvtL64 c3ce900000000000 0 0 0 3 c2e0000000000000 0
cvtL64 4023f790dc800000 0 0 0 1 9 1
cvtL64 43f7b63344000000 0 0 0 3 7fffffffffffffff 10
cvtL64 4409440000000000 0 0 0 2 7fffffffffffffff 10
cvtL64 43e6a97a27000000 0 0 0 0 7fffffffffffffff 10
cvtL64 ffc0628c1d3b9664 0 0 0 2 8000000000000000 10
cvtL64 401e58fcac000000 0 0 0 3 8 1
cvtL64 ffa304c1740a2f16 0 0 0 4 8000000000000000 10
cvtL64 7faa758000000000 0 0 0 2 7fffffffffffffff 10
cvtL64 440d90a666000000 0 0 0 1 7fffffffffffffff 10
cvtL64 eddf1643fdf2b5c8 0 0 0 3 8000000000000000 10
cvtL64 3fd9da03ac800000 0 0 0 2 0 1
cvtL64 43ded18000000000 0 0 0 3 7b46000000000000 0
cvtL64 3fcfac4400000000 0 0 0 2 0 1
cvtL64 3fd4000000000000 0 0 0 2 0 1
cvtL64 43c5999500000000 0 0 0 1 2b332a0000000000 0
cvtL64 c3c6000000000000 0 0 0 0 d400000000000000 0
cvtL64 402b3fa4179e8c48 0 0 0 2 d 1
cvtL64 402e000000000000 0 0 0 0 f 0
cvtL64 43e4380000000000 0 0 0 2 7fffffffffffffff 10
cvtL64 40275b2840e2c900 0 0 0 4 c 1
cvtL64 bfffffffffffffff 0 0 0 3 ffffffffffffffff 1
cvtL64 43f11c1a00000000 0 0 0 0 7fffffffffffffff 10
cvtL64 43f8000000000000 0 0 0 3 7fffffffffffffff 10
cvtLU64 3fa3febc5b809c00 0 0 0 0 0 1
cvtLU64 c404508a29ac6cbc 0 0 0 3 0 10
cvtLU64 c3eb6cae26880000 0 0 0 4 0 10
cvtLU64 43fdeef880000000 0 0 0 1 ffffffffffffffff 10
cvtLU64 c3c9b48e00000000 0 0 0 1 0 10
cvtLU64 c3c9209f52323f00 0 0 0 0 0 10
cvtLU64 43d2bd2fb8200000 0 0 0 4 4af4bee080000000 0
cvtLU64 34631549c3de274 0 0 0 0 0 1
cvtLU64 43b671301e700000 0 0 0 0 1671301e70000000 0
cvtLU64 c3f44e5de7f20000 0 0 0 2 0 10
cvtLU64 43be4f4000000000 0 0 0 4 1e4f400000000000 0
cvtLU64 3fdf7045480d5000 0 0 0 0 0 1
cvtLU64 3fe0000000000000 0 0 0 2 0 1
cvtLU64 bfe5862cef8f6340 0 0 0 0 0 10
cvtLU64 c3e4000000000000 0 0 0 1 0 10
cvtLU64 3fff82162f661000 0 0 0 4 2 1
cvtLU64 bfcf900000000000 0 0 0 4 0 1
cvtLU64 440921e82b000000 0 0 0 0 ffffffffffffffff 10
cvtLU64 c3e47d5f37000000 0 0 0 4 0 10
cvtLU64 bfcac00000000000 0 0 0 0 0 1
cvtLU64 402f400000000000 0 0 0 0 10 1
cvtLU64 eaf4f917513acacd 0 0 0 2 0 10
cvtLU64 43e48cb2b7e13800 0 0 0 4 a46595bf09c00000 0
cvtLU64 c3f1104078000000 0 0 0 4 0 10
cvtLU64 bff5f80000000000 0 0 0 1 0 10
cvt64FromW 8000000000000000 0 0 0 3 0 0
cvt64FromW 5572068 0 0 0 1 41955c81a0000000 0
cvt64FromW b153465dc6 0 0 0 2 41d4d19771800000 0
cvt64FromW 10a07cc 0 0 0 1 4170a07cc0000000 0
cvt64FromW 2bc6b9067 0 0 0 0 c1d0e51be6400000 0
cvt64FromW bc8181f 0 0 0 3 41a790303e000000 0
cvt64FromW 3656efd877 0 0 0 0 41d5bbf61dc00000 0
cvt64FromW 1785087 0 0 0 4 4177850870000000 0
cvt64FromW 1ac10b315 0 0 0 0 c1d4fbd33ac00000 0
cvt64FromW 728df5 0 0 0 1 415ca37d40000000 0
cvt64FromW ffffff1b3411d781 0 0 0 4 41ca08ebc0800000 0
cvt64FromW 164292370b03d0 0 0 0 4 41cb8581e8000000 0
cvt64FromW 2e65b600000 0 0 0 1 41d6d80000000000 0
cvt64FromW ffffffffffffc2ee 0 0 0 1 c0ce890000000000 0
cvt64FromW 7193ee000000 0 0 0 4 c1b2000000000000 0
cvt64FromW ffffdb131720bd80 0 0 0 0 41b720bd80000000 0
cvt64FromW ff948f6b6d47bee6 0 0 0 3 41db51efb9800000 0
cvt64FromW ffffffffffffffff 0 0 0 3 bff0000000000000 0
cvt64FromW 26572e49 0 0 0 3 41c32b9724800000 0
cvt64FromW 6f 0 0 0 1 405bc00000000000 0
cvt64FromW 8000000000000000 0 0 0 0 0 0
cvt64FromW 544e000000 0 0 0 1 41d3800000000000 0
cvt64FromW 7b121e000000 0 0 0 1 41be000000000000 0
cvt64FromW bd 0 0 0 2 4067a00000000000 0
cvt64FromW ffffff352347d700 0 0 0 0 41c1a3eb80000000 0
cvt64FromWU 1e77d50c00000000 0 0 0 1 0 0
cvt64FromWU 29dc9cb0b 0 0 0 1 41e3b93961600000 0
cvt64FromWU 30 0 0 0 3 4048000000000000 0
cvt64FromWU 8000000000000000 0 0 0 0 0 0
cvt64FromWU 32e7375406fe 0 0 0 2 41cbaa037f000000 0
cvt64FromWU ac85ed20 0 0 0 1 41e590bda4000000 0
cvt64FromWU 72033b18529d 0 0 0 4 41cd8c294e800000 0
cvt64FromWU b8c5 0 0 0 1 40e718a000000000 0
cvt64FromWU 7fffffff 0 0 0 2 41dfffffffc00000 0
cvt64FromWU f2732 0 0 0 0 412e4e6400000000 0
cvt64FromWU 12b4631ec 0 0 0 4 41c5a318f6000000 0
cvt64FromWU 3460d 0 0 0 4 410a306800000000 0
cvt64FromWU 0 0 0 0 0 0 0
cvt64FromWU 1ce5d1000000 0 0 0 2 41ea200000000000 0
cvt64FromWU 203ab1ae70 0 0 0 1 41cd58d738000000 0
cvt64FromWU 211360cf7d0ab 0 0 0 3 41a9efa156000000 0
cvt64FromWU 6a5a 0 0 0 0 40da968000000000 0
cvt64FromWU 7fffffff 0 0 0 2 41dfffffffc00000 0
cvt64FromWU 2ce78738fbb1ee8 0 0 0 4 41e1f763dd000000 0
cvt64FromWU 9 0 0 0 0 4022000000000000 0
cvt64FromWU 29bcba5865238e 0 0 0 1 41d61948e3800000 0
cvt64FromWU 15b4474 0 0 0 1 4175b44740000000 0
cvt64FromWU 35a8bc367397f 0 0 0 0 41e86ce72fe00000 0
cvt64FromWU 39742c0000 0 0 0 2 41dd0b0000000000 0
cvt64FromWU 1bfb5 0 0 0 3 40fbfb5000000000 0
cvt64FromL 8000000000000000 0 0 0 1 c3e0000000000000 0
cvt64FromL 1127d8c000000 0 0 0 0 42f127d8c0000000 0
cvt64FromL ffffffffffffffff 0 0 0 0 bff0000000000000 0
cvt64FromL db108 0 0 0 4 412b621000000000 0
cvt64FromL fffffffffbf18091 0 0 0 0 c19039fdbc000000 0
cvt64FromL 120792255800000 0 0 0 1 4372079225580000 0
cvt64FromL fffffffffffffff6 0 0 0 1 c024000000000000 0
cvt64FromL fffffffffffffffa 0 0 0 4 c018000000000000 0
cvt64FromL c3b4fc 0 0 0 3 4168769f80000000 0
cvt64FromL 127c 0 0 0 4 40b27c0000000000 0
cvt64FromL fa2170000 0 0 0 3 422f442e00000000 0
cvt64FromL 2a412 0 0 0 0 4105209000000000 0
cvt64FromL 34 0 0 0 1 404a000000000000 0
cvt64FromL 50317e71 0 0 0 2 41d40c5f9c400000 0
cvt64FromL a50 0 0 0 4 40a4a00000000000 0
cvt64FromL 8000000000000000 0 0 0 2 c3e0000000000000 0
cvt64FromL 3eb 0 0 0 1 408f580000000000 0
cvt64FromL c5fb94235 0 0 0 2 4228bf72846a0000 0
cvt64FromL 2 0 0 0 0 4000000000000000 0
cvt64FromL b9c951 0 0 0 1 4167392a20000000 0
cvt64FromL 199cd7394c3d600 0 0 0 3 43799cd7394c3d60 0
cvt64FromL 3 0 0 0 2 4008000000000000 0
cvt64FromL ffffffffffff65f4 0 0 0 3 c0e3418000000000 0
cvt64FromL 1e1f3232 0 0 0 0 41be1f3232000000 0
cvt64FromL ffffffffffffffff 0 0 0 2 bff0000000000000 0
cvt64FromLU 143de1afefb7 0 0 0 1 42b43de1afefb700 0
cvt64FromLU 19d85ea385 0 0 0 2 4239d85ea3850000 0
cvt64FromLU ffffffe35babf265 0 0 0 2 43effffffc6b757e 1
cvt64FromLU 80000000 0 0 0 4 41e0000000000000 0
cvt64FromLU ffffffffffffb28a 0 0 0 2 43effffffffffff6 1
cvt64FromLU ffffffff80000000 0 0 0 2 43effffffff00000 0
cvt64FromLU ffffffffffffffff 0 0 0 1 43efffffffffffff 1
cvt64FromLU 5950f8eb70cc 0 0 0 3 42d6543e3adc3300 0
cvt64FromLU 17f7190787a53000 0 0 0 4 43b7f7190787a530 0
cvt64FromLU 2e190f9aea0000 0 0 0 4 43470c87cd750000 0
cvt64FromLU fffffffffffff812 0 0 0 2 43efffffffffffff 1
cvt64FromLU 80000000 0 0 0 2 41e0000000000000 0
cvt64FromLU b88cd00000000 0 0 0 3 4327119a00000000 0
cvt64FromLU ffffffffffffffff 0 0 0 2 43efffffffffffff 1
cvt64FromLU c3a8 0 0 0 4 40e8750000000000 0
cvt64FromLU f06f65da2f9c0000 0 0 0 3 43ee0decbb45f380 0
cvt64FromLU ffff29905eef0c1a 0 0 0 1 43efffe5320bdde1 1
cvt64FromLU 77 0 0 0 4 405dc00000000000 0
cvt64FromLU a0a 0 0 0 1 40a4140000000000 0
cvt64FromLU 80000000 0 0 0 1 41e0000000000000 0
cvt64FromLU 1 0 0 0 2 3ff0000000000000 0
cvt64FromLU ffffffff80000000 0 0 0 3 43effffffff00000 0
cvt64FromLU ffffffffffffffff 0 0 0 3 43f0000000000000 1
cvt64FromLU 4e47df80f800000 0 0 0 3 439391f7e03e0000 0
cvt64FromLU 10a 0 0 0 1 4070a00000000000 0
cvtW32 cd800000 0 0 0 4 fffffffff0000000 0
cvtW32 3ef50000 0 0 0 1 0 1
cvtW32 3f9c5800 0 0 0 4 1 1
cvtW32 4e14c000 0 0 0 0 25300000 0
cvtW32 41400000 0 0 0 1 c 0
cvtW32 41680d00 0 0 0 3 f 1
cvtW32 4ea00000 0 0 0 1 50000000 0
cvtW32 cf080000 0 0 0 2 ffffffff80000000 10
cvtW32 4f371b20 0 0 0 3 7fffffff 10
cvtW32 cda58000 0 0 0 2 ffffffffeb500000 0
cvtW32 4e0a447a 0 0 0 4 22911e80 0
cvtW32 427a4000 0 0 0 2 3e 1
cvtW32 d0295800 0 0 0 1 ffffffff80000000 10
cvtW32 bf0c0000 0 0 0 2 ffffffffffffffff 1
cvtW32 4de14900 0 0 0 4 1c292000 0
cvtW32 ce800000 0 0 0 4 ffffffffc0000000 0
cvtW32 c30d0000 0 0 0 2 ffffffffffffff73 0
cvtW32 cf000000 0 0 0 1 ffffffff80000000 0
cvtW32 8714585f 0 0 0 1 0 1
cvtW32 40400a00 0 0 0 0 3 1
cvtW32 41eb9000 0 0 0 4 1d 1
cvtW32 4fb3b300 0 0 0 2 7fffffff 10
cvtW32 4f0ff990 0 0 0 1 7fffffff 10
cvtW32 cf408ce0 0 0 0 1 ffffffff80000000 10
cvtW32 ce49464a 0 0 0 2 ffffffffcdae6d80 0
cvtWU32 cf000000 0 0 0 0 0 10
cvtWU32 cf954000 0 0 0 3 0 10
cvtWU32 ff800000 0 0 0 1 0 10
cvtWU32 cd98f200 0 0 0 1 0 10
cvtWU32 4f2c7000 0 0 0 3 ffffffffac700000 0
cvtWU32 c19f0000 0 0 0 3 0 10
cvtWU32 4e57e000 0 0 0 2 35f80000 0
cvtWU32 50227800 0 0 0 3 ffffffffffffffff 10
cvtWU32 bf005000 0 0 0 2 0 10
cvtWU32 cdabf800 0 0 0 0 0 10
cvtWU32 4eed0000 0 0 0 0 76800000 0
cvtWU32 fdf4446b 0 0 0 0 0 10
cvtWU32 cf11abe0 0 0 0 4 0 10
cvtWU32 ce900000 0 0 0 1 0 10
cvtWU32 3bd92800 0 0 0 2 0 1
cvtWU32 4e6e1aa0 0 0 0 2 3b86a800 0
cvtWU32 c0d00000 0 0 0 1 0 10
cvtWU32 c0a11000 0 0 0 2 0 10
cvtWU32 cdc00000 0 0 0 0 0 10
cvtWU32 4fb50000 0 0 0 3 ffffffffffffffff 10
cvtWU32 c33ff8e2 0 0 0 1 0 10
cvtWU32 50000000 0 0 0 3 ffffffffffffffff 10
cvtWU32 c0300000 0 0 0 1 0 10
cvtWU32 ce800000 0 0 0 1 0 10
cvtWU32 4ec58c00 0 0 0 2 62c60000 0
cvtL32 defd7000 0 0 0 3 8148000000000000 0
cvtL32 3f8a0000 0 0 0 2 1 1
cvtL32 e0484e80 0 0 0 2 8000000000000000 10
cvtL32 fd26dfcc 0 0 0 3 8000000000000000 10
cvtL32 c1d3066c 0 0 0 2 ffffffffffffffe5 1
cvtL32 be4c1bb8 0 0 0 4 0 1
cvtL32 5fd53800 0 0 0 4 7fffffffffffffff 10
cvtL32 c1800000 0 0 0 4 fffffffffffffff0 0
cvtL32 ffa00000 0 0 0 2 7fffffffffffffff 10
cvtL32 5ee30a00 0 0 0 1 7185000000000000 0
cvtL32 df400000 0 0 0 2 8000000000000000 10
cvtL32 5e800000 0 0 0 4 4000000000000000 0
cvtL32 5fb00000 0 0 0 1 7fffffffffffffff 10
cvtL32 5e86e640 0 0 0 3 4373200000000000 0
cvtL32 c35231a1 0 0 0 4 ffffffffffffff2e 1
cvtL32 5f6ee380 0 0 0 4 7fffffffffffffff 10
cvtL32 5ed40580 0 0 0 3 6a02c00000000000 0
cvtL32 c02ec800 0 0 0 4 fffffffffffffffd 1
cvtL32 bf9d1800 0 0 0 0 ffffffffffffffff 1
cvtL32 dfa0b000 0 0 0 4 8000000000000000 10
cvtL32 5e068000 0 0 0 0 21a0000000000000 0
cvtL32 5fd60000 0 0 0 4 7fffffffffffffff 10
cvtL32 de8e2300 0 0 0 2 b8ee800000000000 0
cvtL32 5ff64000 0 0 0 2 7fffffffffffffff 10
cvtL32 be000000 0 0 0 0 0 1
cvtLU32 c1e34d30 0 0 0 0 0 10
cvtLU32 5fce0000 0 0 0 3 ffffffffffffffff 10
cvtLU32 401118cc 0 0 0 0 2 1
cvtLU32 5db00000 0 0 0 0 1600000000000000 0
cvtLU32 df5e5a80 0 0 0 0 0 10
cvtLU32 dfcc0000 0 0 0 3 0 10
cvtLU32 deab0000 0 0 0 1 0 10
cvtLU32 c0000000 0 0 0 2 0 10
cvtLU32 be798300 0 0 0 4 0 1
cvtLU32 e0720000 0 0 0 4 0 10
cvtLU32 e0128000 0 0 0 0 0 10
cvtLU32 5e8bb780 0 0 0 1 45dbc00000000000 0
cvtLU32 60680000 0 0 0 4 ffffffffffffffff 10
cvtLU32 c1568000 0 0 0 4 0 10
cvtLU32 5fa356e0 0 0 0 3 ffffffffffffffff 10
cvtLU32 5fc00000 0 0 0 0 ffffffffffffffff 10
cvtLU32 dfa25de8 0 0 0 4 0 10
cvtLU32 dfc00000 0 0 0 1 0 10
cvtLU32 bfa98b20 0 0 0 3 0 10
cvtLU32 c1400000 0 0 0 3 0 10
cvtLU32 6069877a 0 0 0 2 ffffffffffffffff 10
cvtLU32 5d952a00 0 0 0 3 12a5400000000000 0
cvtLU32 5fbaebd0 0 0 0 0 ffffffffffffffff 10
cvtLU32 e071c000 0 0 0 1 0 10
cvtLU32 df940000 0 0 0 1 0 10
cvt32FromW 1 0 0 0 0 3f800000 0
cvt32FromW 5bdf540f0f 0 0 0 3 ce02afc3 1
cvt32FromW 780a1cd672720e00 0 0 0 2 4ee4e41c 0
cvt32FromW 25fd5beb7 0 0 0 3 4ebfab7e 1
cvt32FromW 2 0 0 0 4 40000000 0
cvt32FromW 196a 0 0 0 2 45cb5000 0
cvt32FromW 1 0 0 0 3 3f800000 0
cvt32FromW 6 0 0 0 3 40c00000 0
cvt32FromW fffffffffffce98d 0 0 0 3 c8459cc0 0
cvt32FromW 7fffffffffffffff 0 0 0 1 bf800000 0
cvt32FromW ffffffff 0 0 0 3 bf800000 0
cvt32FromW 0 0 0 0 0 0 0
cvt32FromW 5 0 0 0 3 40a00000 0
cvt32FromW 18 0 0 0 3 41c00000 0
cvt32FromW 41b8d35d85 0 0 0 1 ce8e5944 1
cvt32FromW 625165a7e9 0 0 0 3 4ea2cb50 1
cvt32FromW ffffffffffffffff 0 0 0 0 bf800000 0
cvt32FromW 231c 0 0 0 4 460c7000 0
cvt32FromW 10bbbdc00 0 0 0 4 4d3bbdc0 0
cvt32FromW 7fffffff 0 0 0 0 4f000000 1
cvt32FromW fffffffffffa1f0d 0 0 0 2 c8bc1e60 0
cvt32FromW 7fffffff 0 0 0 2 4effffff 1
cvt32FromW fffffffff577aa84 0 0 0 0 cd288558 1
cvt32FromW 1395c0efc353 0 0 0 2 ce7c40f3 1
cvt32FromW fffffffc2c6f89ff 0 0 0 1 4e31be27 1
cvt32FromWU ffffffffffffffff 0 0 0 0 4f800000 1
cvt32FromWU ffffffffffffffff 0 0 0 1 4f7fffff 1
cvt32FromWU 2da081fcd00c3 0 0 0 3 4dfe6807 1
cvt32FromWU 166 0 0 0 1 43b30000 0
cvt32FromWU ffffffff 0 0 0 1 4f7fffff 1
cvt32FromWU 8609503 0 0 0 4 4d060950 1
cvt32FromWU 52ef9ab24 0 0 0 2 4e3be6ac 1
cvt32FromWU 1f72522e5631 0 0 0 3 4ea45cad 1
cvt32FromWU 39fbc 0 0 0 0 4867ef00 0
cvt32FromWU 1e53246f315 0 0 0 4 4e491bcc 1
cvt32FromWU ffffffcc93448d00 0 0 0 4 4f13448d 0
cvt32FromWU 80000000 0 0 0 2 4f000000 0
cvt32FromWU 3dc1fd3 0 0 0 4 4c7707f5 1
cvt32FromWU 2d4980f6743770 0 0 0 1 4f767437 1
cvt32FromWU 2bb60fb86ffc1a31 0 0 0 4 4edff834 1
cvt32FromWU fffffffff4e88d5a 0 0 0 0 4f74e88d 1
cvt32FromWU 26 0 0 0 0 42180000 0
cvt32FromWU 3 0 0 0 4 40400000 0
cvt32FromWU 1 0 0 0 2 3f800000 0
cvt32FromWU 1 0 0 0 1 3f800000 0
cvt32FromWU 18d4e3f653e 0 0 0 2 4e9c7eca 1
cvt32FromWU 7fffffff 0 0 0 3 4f000000 1
cvt32FromWU 1 0 0 0 3 3f800000 0
cvt32FromWU 39cc8903d 0 0 0 2 4f1cc890 1
cvt32FromWU ffffffffffffff8f 0 0 0 2 4f7fffff 1
cvt32FromL ffffffff 0 0 0 2 4f7fffff 1
cvt32FromL ffffffffffffffff 0 0 0 2 bf800000 0
cvt32FromL 120f861 0 0 0 2 4b907c30 1
cvt32FromL 7fffffffffffffff 0 0 0 1 5effffff 1
cvt32FromL 3f80e7 0 0 0 4 4a7e039c 0
cvt32FromL 0 0 0 0 3 0 0
cvt32FromL fff97f75e668d1f4 0 0 0 3 d8d01143 1
cvt32FromL 39a20442563f0000 0 0 0 2 5e668811 1
cvt32FromL ffefa269466df21d 0 0 0 0 d982ecb6 1
cvt32FromL 1aecb2de0e8b 0 0 0 2 55d76596 1
cvt32FromL fffff92fd0edc8e9 0 0 0 2 d4da05e3 1
cvt32FromL f91671767f560c21 0 0 0 0 dcdd31d1 1
cvt32FromL ac40aabe 0 0 0 2 4f2c40aa 1
cvt32FromL 1 0 0 0 2 3f800000 0
cvt32FromL 261c4bf 0 0 0 2 4c18712f 1
cvt32FromL ffffffffffffffff 0 0 0 3 bf800000 0
cvt32FromL 38e33df2 0 0 0 1 4e638cf7 1
cvt32FromL fffffffdbf1c769e 0 0 0 2 d01038e3 1
cvt32FromL 2d1c6a58 0 0 0 1 4e3471a9 1
cvt32FromL 4cd7d253ad0e318 0 0 0 1 5c99afa4 1
cvt32FromL ffe28ceb1874d523 0 0 0 2 d9eb98a8 1
cvt32FromL fef1a664e04471ee 0 0 0 2 db872cce 1
cvt32FromL 32209dc500980 0 0 0 3 58488278 1
cvt32FromL 7fffffff 0 0 0 1 4effffff 1
cvt32FromL fffffe8666f6e415 0 0 0 2 d3bccc85 1
cvt32FromLU 3b4c9d1860 0 0 0 4 526d3274 1
cvt32FromLU 7fffffffffffffff 0 0 0 0 5f000000 1
cvt32FromLU ff31691b958aa100 0 0 0 2 5f7f3169 1
cvt32FromLU ffffffffffce2cf3 0 0 0 0 5f800000 1
cvt32FromLU ffffffffff89d9c7 0 0 0 1 5f7fffff 1
cvt32FromLU 3cdc7729c86f 0 0 0 0 567371dd 1
cvt32FromLU fffffffffffffffc 0 0 0 4 5f800000 1
cvt32FromLU 452f59267ece7a 0 0 0 2 5a8a5eb2 1
cvt32FromLU fffffffffffffc4b 0 0 0 3 5f800000 1
cvt32FromLU 1 0 0 0 4 3f800000 0
cvt32FromLU 166cbcf85045e740 0 0 0 1 5db365e7 1
cvt32FromLU 62 0 0 0 2 42c40000 0
cvt32FromLU 123ca567 0 0 0 3 4d91e52c 1
cvt32FromLU fefd51b917ccc756 0 0 0 1 5f7efd51 1
cvt32FromLU bb35500000 0 0 0 1 533b3550 0
cvt32FromLU e75c957b51 0 0 0 1 53675c95 1
cvt32FromLU fffffffffffffffb 0 0 0 2 5f7fffff 1
cvt32FromLU fffffffcfe6e8000 0 0 0 3 5f800000 1
cvt32FromLU 2efae62bec060 0 0 0 2 583beb98 1
cvt32FromLU 950 0 0 0 3 45150000 0
cvt32FromLU ffffffff 0 0 0 4 4f800000 1
cvt32FromLU ffffffff80000000 0 0 0 1 5f7fffff 1
cvt32FromLU 7fffffffffffffff 0 0 0 0 5f000000 1
cvt32FromLU ffffffffffffff5e 0 0 0 3 5f800000 1
cvt32FromLU 1 0 0 0 0 3f800000 0
cvt32From64 bfeb5b7a1cb3b3ca 0 0 0 4 bf5adbd1 1
cvt64From32 d7661f0c 0 0 0 0 c2ecc3e180000000 0
cvt32From64 3f8590f9d26ede32 0 0 0 1 3c2c87ce 1
cvt64From32 fd0d1133 0 0 0 0 c7a1a22660000000 0
cvt32From64 207be5b7bc83a9c 0 0 0 4 0 3
cvt64From32 88f2eead 0 0 0 0 b91e5dd5a0000000 0
cvt32From64 ffe2188000000000 0 0 0 2 ff800000 5
cvt64From32 40940000 0 0 0 0 4012800000000000 0
cvt32From64 fff0000000000000 0 0 0 3 ff800000 0
cvt64From32 c3f71a40 0 0 0 0 c07ee34800000000 0
cvt32From64 c0670029f34fd3d4 0 0 0 4 c3380150 1
cvt64From32 bff75fb8 0 0 0 0 bffeebf700000000 0
cvt32From64 3ff722b67a8caeb8 0 0 0 0 3fb915b4 1
cvt64From32 b802f20 0 0 0 0 397005e400000000 0
cvt32From64 c01b85ef61740000 0 0 0 4 c0dc2f7b 1
cvt64From32 766bdadd 0 0 0 0 46cd7b5ba0000000 0
cvt32From64 c05923b575b45aae 0 0 0 3 c2c91dab 1
cvt64From32 3ffe4400 0 0 0 0 3fffc88000000000 0
cvt32From64 b7388e86bfcdd4f0 0 0 0 4 80000312 3
cvt64From32 ff3c69f0 0 0 0 0 c7e78d3e00000000 0
cvt32From64 71a1c600000000 0 0 0 1 0 3
cvt64From32 86e82450 0 0 0 0 b8dd048a00000000 0
cvt32From64 1c2f64927467129 0 0 0 0 0 3
cvt64From32 42ccfd8b 0 0 0 0 40599fb160000000 0
cvt32From64 4000157da700b891 0 0 0 2 4000abed 1
cvt64From32 bd758000 0 0 0 0 bfaeb00000000000 0
cvt32From64 bfcfffffffffffff 0 0 0 2 be800000 1
cvt64From32 bbc2bde6 0 0 0 0 bf7857bcc0000000 0
cvt32From64 c075f00000000000 0 0 0 2 c3af8000 0
cvt64From32 fd1b6e1a 0 0 0 0 c7a36dc340000000 0
cvt32From64 bfc7f94deb51cafc 0 0 0 4 be3fca6f 1
cvt64From32 c10cd939 0 0 0 0 c0219b2720000000 0
cvt32From64 c015ed40af59ffc9 0 0 0 0 c0af6a05 1
cvt64From32 ffa00000 0 0 0 0 7ff8000000000000 10
cvt32From64 3698800000000000 0 0 0 4 1 3
cvt64From32 31cb837 0 0 0 0 38639706e0000000 0
cvt32From64 c02fffffffffffff 0 0 0 2 c1800000 1
cvt64From32 50a60850 0 0 0 0 4214c10a00000000 0
cvt32From64 3feacbef29040000 0 0 0 1 3f565f79 1
cvt64From32 813219c8 0 0 0 0 b826433900000000 0
cvt32From64 c7e0000000000001 0 0 0 2 ff000001 1
cvt64From32 bf20f411 0 0 0 0 bfe41e8220000000 0
cvt32From64 244c40d0b4b5ab84 0 0 0 2 0 3
cvt64From32 ffc00000 0 0 0 0 7ff8000000000000 0
cvt32From64 c03fffffffffffff 0 0 0 1 c1ffffff 1
cvt64From32 15b02e68 0 0 0 0 3ab605cd00000000 0
cvt32From64 161d838e5a0e8a0 0 0 0 1 0 3
cvt64From32 1554a5dd 0 0 0 0 3aaa94bba0000000 0
cvt32From64 901b0acae4416e 0 0 0 1 0 3
cvt64From32 7d0f6b40 0 0 0 0 47a1ed6800000000 0
cvt32From64 37759a3e59f4ba8b 0 0 0 4 2b34 3
cvt64From32 3e321649 0 0 0 0 3fc642c920000000 0
cvt32From64 3fbfffffffffffff 0 0 0 1 3dffffff 1
cvt64From32 ce8f021a 0 0 0 0 c1d1e04340000000 0
cvt32From64 47d6f8fd0368f006 0 0 0 1 7eb7c7e8 1
cvt64From32 3d2e6eb0 0 0 0 0 3fa5cdd600000000 0
cvt32From64 b6bbcd2adec6bf19 0 0 0 2 80000004 3
cvt64From32 9d381fd8 0 0 0 0 bba703fb00000000 0
cvt32From64 404846fa8287aa92 0 0 0 4 424237d4 1
cvt64From32 7fc00000 0 0 0 0 7ff8000000000000 0
cvt32From64 c000000000000000 0 0 0 0 c0000000 0
cvt64From32 7fc00000 0 0 0 0 7ff8000000000000 0
cvt32From64 ffd5a97d36b374a4 0 0 0 4 ff800000 5
cvt64From32 3046a0fa 0 0 0 0 3e08d41f40000000 0
cvt32From64 82afffffffffffff 0 0 0 1 80000000 3
cvt64From32 cb7fffff 0 0 0 0 c16fffffe0000000 0
cvt32From64 49a0fb8200000000 0 0 0 3 7f800000 5
cvt64From32 3dffffff 0 0 0 0 3fbfffffe0000000 0
cvt32From64 47db302a00000000 0 0 0 4 7ed98150 0
cvt64From32 bf680af6 0 0 0 0 bfed015ec0000000 0
cvt32From64 c959ce1c710559a1 0 0 0 1 ff7fffff 5
cvt64From32 fcea5fc8 0 0 0 0 c79d4bf900000000 0
cvt32From64 b717c0ec87000000 0 0 0 0 800000be 3
cvt64From32 beb915ce 0 0 0 0 bfd722b9c0000000 0
cvt32From64 bfdb208373134655 0 0 0 1 bed9041b 1
cvt64From32 42e7b8c6 0 0 0 0 405cf718c0000000 0
cvt32From64 196b18a07af2540 0 0 0 3 1 3
cvt64From32 c08e70a1 0 0 0 0 c011ce1420000000 0
cvt32From64 3090000000000000 0 0 0 3 1 3
cvt64From32 3e100000 0 0 0 0 3fc2000000000000 0
cvt32From64 2fa894c840000000 0 0 0 4 0 3
cvt64From32 7dfceccb 0 0 0 0 47bf9d9960000000 0
cvt32From64 bfffffffffffffff 0 0 0 4 c0000000 1
cvt64From32 c3207cf9 0 0 0 0 c0640f9f20000000 0
cvt32From64 407223c260860d36 0 0 0 3 43911e14 1
cvt64From32 96e075d3 0 0 0 0 badc0eba60000000 0
cvt32From64 3ff0000000000001 0 0 0 1 3f800000 1
cvt64From32 fe93b14d 0 0 0 0 c7d27629a0000000 0
cvt32From64 47efffffffffffff 0 0 0 2 7f7fffff 1
cvt64From32 3d500000 0 0 0 0 3faa000000000000 0
cvt32From64 3f7e58d67a3898eb 0 0 0 4 3bf2c6b4 1
cvt64From32 11bcad80 0 0 0 0 3a3795b000000000 0
cvt32From64 3f72d8926ab36a4d 0 0 0 4 3b96c493 1
cvt64From32 42d0a000 0 0 0 0 405a140000000000 0
cvt32From64 7fd0000000000000 0 0 0 0 7f800000 5
cvt64From32 be1617d0 0 0 0 0 bfc2c2fa00000000 0
cvt32From64 c7e27f6db202e735 0 0 0 1 ff13fb6d 1
cvt64From32 7e453000 0 0 0 0 47c8a60000000000 0
cvt32From64 34f6de6500000000 0 0 0 2 0 3
cvt64From32 e55cb997 0 0 0 0 c4ab9732e0000000 0
"""
}

/// Small deterministic PRNG producing "interesting" floating-point bit patterns.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    /// Doubles biased towards moderate exponents, short significands (ties), and range edges.
    mutating func nextDouble() -> UInt64 {
        let r = next()
        var frac = next() & 0x000f_ffff_ffff_ffff
        if r & 3 == 0 { frac &= ~((1 << (r >> 8 & 63 % 52)) &- 1) & 0x000f_ffff_ffff_ffff }
        let expSel = (r >> 2) & 7
        let exp: UInt64
        switch expSel {
        case 0, 1, 2, 3: exp = 1023 &+ ((r >> 16) & 31) &- 16
        case 4: exp = (r >> 16) & 63
        case 5: exp = 2046 &- ((r >> 16) & 15)
        default: exp = (r >> 16) % 2047
        }
        return ((r >> 63) << 63) | (exp << 52) | frac
    }
    mutating func nextSingle() -> UInt64 {
        let r = next()
        var frac = next() & 0x7f_ffff
        if r & 3 == 0 { frac &= ~((1 << ((r >> 8) % 23)) &- 1) & 0x7f_ffff }
        let expSel = (r >> 2) & 7
        let exp: UInt64
        switch expSel {
        case 0, 1, 2, 3: exp = 127 &+ ((r >> 16) & 15) &- 8
        case 4: exp = (r >> 16) & 31
        case 5: exp = 254 &- ((r >> 16) & 7)
        default: exp = (r >> 16) % 255
        }
        return ((r >> 31) & 1) << 31 | (exp << 23) | frac
    }
}
