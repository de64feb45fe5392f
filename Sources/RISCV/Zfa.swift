// Zfa (additional floating-point instructions, unprivileged spec chapter "Zfa"): FLI, FMINM/FMAXM,
// FROUND/FROUNDNX, FCVTMOD.W.D, FLEQ/FLTQ, for single and double precision.

extension FPU {
    /// FLI's 32 constants by rs1 (Zfa table "Immediate values loaded by the FLI instruction"); entry 1 is
    /// the format's smallest normal number, entry 31 the canonical NaN.
    static let fliValues: [Double] = [-1, 0, 0x1p-16, 0x1p-15, 0x1p-8, 0x1p-7, 0.0625, 0.125, 0.25, 0.3125, 0.375, 0.4375,
                                      0.5, 0.625, 0.75, 0.875, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 8, 16, 128, 256,
                                      0x1p15, 0x1p16, .infinity, .nan]
    public static func fli64(_ index: Int) -> UInt64 {
        switch index {
        case 1: return 0x0010_0000_0000_0000
        case 31: return canonicalNaN64
        default: return fliValues[index].bitPattern
        }
    }
    public static func fli32(_ index: Int) -> UInt32 {
        switch index {
        case 1: return 0x0080_0000
        case 31: return canonicalNaN32
        default: return Float(fliValues[index]).bitPattern
        }
    }

    /// FMINM/FMAXM: as FMIN/FMAX, except that a NaN operand makes the result the canonical NaN.
    static func minMaxM<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type, _ isMax: Bool, _ flags: inout UInt64) -> UInt64 {
        if isNaN(a, f) || isNaN(b, f) {
            if isSNaN(a, f) || isSNaN(b, f) { flags |= NV }
            return f.qnan
        }
        return minMax(a, b, f, isMax, &flags)
    }

    /// FLEQ/FLTQ: quiet comparisons (only a signaling NaN raises invalid).
    static func quietLess<F: FPUFormat>(_ a: UInt64, _ b: UInt64, _ f: F.Type, orEqual: Bool, _ flags: inout UInt64) -> UInt64 {
        if isNaN(a, f) || isNaN(b, f) {
            if isSNaN(a, f) || isSNaN(b, f) { flags |= NV }
            return 0
        }
        var ignored: UInt64 = 0
        return flt(a, b, f, orEqual, &ignored)
    }

    /// FROUND/FROUNDNX: rounds to an integral value in the same format with `rm`; only FROUNDNX
    /// (`signalInexact`) raises inexact. NaNs give the canonical NaN (invalid for a signaling one).
    static func roundToIntegral<F: FPUFormat>(_ a: UInt64, _ f: F.Type, _ rm: UInt8, signalInexact: Bool, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, f)
        switch x.cls {
        case .snan: flags |= NV; return f.qnan
        case .qnan: return f.qnan
        case .inf, .zero: return a
        case .finite:
            if x.exp >= 0 { return a }   // already an integer
            let (k, inexact) = roundTo(UInt128(x.sig), x.exp, false, 0, x.sign, rm)
            if inexact && signalInexact { flags |= NX }
            if k == 0 { return x.sign ? f.signBit : 0 }
            var exact: UInt64 = 0
            return roundPack(x.sign, k, 0, false, f, 0, &exact)
        }
    }

    /// FCVTMOD.W.D: the double truncated toward zero, modulo 2^32, sign-extended. Invalid when the value
    /// is not a 32-bit integer (NaN and infinity give 0), else inexact when a fraction was dropped.
    public static func cvtModW64(_ a: UInt64, _ flags: inout UInt64) -> UInt64 {
        let x = unpack(a, f64)
        switch x.cls {
        case .snan, .qnan, .inf: flags |= NV; return 0
        case .zero: return 0
        case .finite:
            var low: UInt64          // the integer's magnitude modulo 2^64
            var fits: Bool
            var inexact = false
            if x.exp >= 0 {
                low = x.exp >= 64 ? 0 : x.sig << UInt64(x.exp)
                fits = x.exp < 11 && (x.sig << UInt64(x.exp)) <= (x.sign ? 0x8000_0000 : 0x7fff_ffff)
            } else {
                let shift = -x.exp
                low = shift >= 64 ? 0 : x.sig >> UInt64(shift)
                inexact = shift >= 64 ? x.sig != 0 : (x.sig & ((1 << UInt64(shift)) - 1)) != 0
                fits = low <= (x.sign ? 0x8000_0000 : 0x7fff_ffff)
            }
            if x.sign { low = 0 &- low }
            if !fits { flags |= NV } else if inexact { flags |= NX }
            return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: low)))
        }
    }
}

// Zfh (unprivileged spec chapter "Zfh and Zfhmin"): half-precision arithmetic on the generic
// soft-float core, and Zfa's half-precision forms.
extension FPU {
    enum HalfResult { case float(UInt64), integer(UInt64) }

    /// One Zfh (or Zfa .H) operation on unboxed half operands `a`, `b`, `c`; `xa` is rs1's integer
    /// register (conversions from integers), `rs1` FLI.H's table index, `aux` the FMA variant.
    static func half(_ op: Op, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ xa: UInt64, rs1: Int, aux: UInt8, _ rm: UInt8,
                     _ flags: inout UInt64) -> HalfResult {
        let h = FPUHalf.self
        switch op {
        case .fmaH: return .float(softFma(a, b, c, aux, h, rm, &flags))
        case .faddH: return .float(softAdd(a, b, h, rm, &flags))
        case .fsubH: return .float(softAdd(a, b ^ h.signBit, h, rm, &flags))
        case .fmulH: return .float(softMul(a, b, h, rm, &flags))
        case .fdivH: return .float(softDiv(a, b, h, rm, &flags))
        case .fsqrtH: return .float(softSqrt(a, h, rm, &flags))
        case .fsgnjH: return .float((a & ~h.signBit) | (b & h.signBit))
        case .fsgnjnH: return .float((a & ~h.signBit) | (~b & h.signBit))
        case .fsgnjxH: return .float(a ^ (b & h.signBit))
        case .fminH: return .float(minMax(a, b, h, false, &flags))
        case .fmaxH: return .float(minMax(a, b, h, true, &flags))
        case .fcvtWH: return .integer(toInt(a, h, rm, true, 32, &flags))
        case .fcvtWUH: return .integer(toInt(a, h, rm, false, 32, &flags))
        case .fcvtLH: return .integer(toInt(a, h, rm, true, 64, &flags))
        case .fcvtLUH: return .integer(toInt(a, h, rm, false, 64, &flags))
        case .fclassH: return .integer(classify(a, h))
        case .feqH: return .integer(feq(a, b, h, &flags))
        case .fltH: return .integer(flt(a, b, h, false, &flags))
        case .fleH: return .integer(flt(a, b, h, true, &flags))
        case .fcvtHW:
            let (s, m) = signedParts(Int64(Int32(truncatingIfNeeded: xa)))
            return .float(fromInt(s, m, h, rm, &flags))
        case .fcvtHWU: return .float(fromInt(false, xa & 0xffff_ffff, h, rm, &flags))
        case .fcvtHL:
            let (s, m) = signedParts(Int64(bitPattern: xa))
            return .float(fromInt(s, m, h, rm, &flags))
        case .fcvtHLU: return .float(fromInt(false, xa, h, rm, &flags))
        case .fliH: return .float(fli16(rs1))
        case .fminmH: return .float(minMaxM(a, b, h, false, &flags))
        case .fmaxmH: return .float(minMaxM(a, b, h, true, &flags))
        case .froundH, .froundnxH: return .float(roundToIntegral(a, h, rm, signalInexact: op == .froundnxH, &flags))
        case .fleqH, .fltqH: return .integer(quietLess(a, b, h, orEqual: op == .fleqH, &flags))
        default: preconditionFailure("not a Zfh operation: \(op)")
        }
    }

    /// FLI.H: the table's constants in half precision. Entries 2 and 3 (2^-16, 2^-15) are subnormal
    /// there, and 2^16 is not representable: entry 29 is +infinity, as the Zfa chapter says. The
    /// conversion (round to nearest, flags ignored) gives exactly these.
    public static func fli16(_ index: Int) -> UInt64 {
        switch index {
        case 1: return 0x0400   // the smallest normal number, 2^-14
        case 31: return 0x7e00  // the canonical NaN
        default:
            var ignored: UInt64 = 0
            return convert(fliValues[index].bitPattern, from: FPUDouble.self, to: FPUHalf.self, 0, &ignored)
        }
    }
}
