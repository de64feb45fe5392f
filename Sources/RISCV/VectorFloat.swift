import Platform
// Vector floating point (OPFVV/OPFVF), Zvfhmin (V 1.0, §31.13 arithmetic, §31.14.3 reductions,
// §31.16 moves and slides with f registers). SEW 32 and 64 use FPU.swift's soft-float; SEW 16 only
// for Zvfhmin's vfwcvt.f.f.v / vfncvt.f.f.w (no Zvfh). Vector FP uses frm dynamically; a reserved frm
// or mstatus.FS Off makes every one of them illegal (vFloatRoundingMode). fflags accrue over the
// active elements. Where the spec leaves a choice, this follows QEMU 7.2 (vfredusum adds in order;
// reductions with vstart != 0 are illegal).

/// One FP element format for the element loops (specialized per format: no dynamic dispatch).
fileprivate protocol VFloatFormat {
    associatedtype F: FPUFormat
    static var bytes: Int { get }
    /// The scalar operand f[rs1] at this width (NaN-box checked below 64 bits).
    static func scalar(_ f: UInt64) -> UInt64
    static func add(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64
    static func mul(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64
    static func div(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64
    static func sqrt(_ a: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64
    /// op: 0 a*b+c, 1 a*b-c, 2 -(a*b)+c, 3 -(a*b)-c.
    static func fma(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ op: UInt8, _ rm: UInt8, _ fl: inout UInt64) -> UInt64
    /// Float to an integer of the same width, and back.
    static func toInt(_ a: UInt64, _ signed: Bool, _ rm: UInt8, _ fl: inout UInt64) -> UInt64
    static func fromInt(_ a: UInt64, _ signed: Bool, _ rm: UInt8, _ fl: inout UInt64) -> UInt64
}

fileprivate enum VFloat32: VFloatFormat {
    typealias F = FPUSingle
    @inline(__always) static var bytes: Int { 4 }
    @inline(__always) static func w(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v) }
    @inline(__always) static func scalar(_ f: UInt64) -> UInt64 { UInt64(unbox32(f)) }
    @inline(__always) static func add(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 { UInt64(FPU.add32(w(a), w(b), rm, &fl)) }
    @inline(__always) static func mul(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 { UInt64(FPU.mul32(w(a), w(b), rm, &fl)) }
    @inline(__always) static func div(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 { UInt64(FPU.div32(w(a), w(b), rm, &fl)) }
    @inline(__always) static func sqrt(_ a: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 { UInt64(FPU.sqrt32(w(a), rm, &fl)) }
    @inline(__always) static func fma(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ op: UInt8, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 {
        UInt64(FPU.fma32(w(a), w(b), w(c), op, rm, &fl))
    }
    @inline(__always) static func toInt(_ a: UInt64, _ signed: Bool, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 {
        signed ? FPU.cvtW32(w(a), rm, &fl) : FPU.cvtWU32(w(a), rm, &fl)
    }
    @inline(__always) static func fromInt(_ a: UInt64, _ signed: Bool, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 {
        UInt64(signed ? FPU.cvt32FromW(a, rm, &fl) : FPU.cvt32FromWU(a, rm, &fl))
    }
}

fileprivate enum VFloat64: VFloatFormat {
    typealias F = FPUDouble
    @inline(__always) static var bytes: Int { 8 }
    @inline(__always) static func scalar(_ f: UInt64) -> UInt64 { f }
    @inline(__always) static func add(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 { FPU.add64(a, b, rm, &fl) }
    @inline(__always) static func mul(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 { FPU.mul64(a, b, rm, &fl) }
    @inline(__always) static func div(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 { FPU.div64(a, b, rm, &fl) }
    @inline(__always) static func sqrt(_ a: UInt64, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 { FPU.sqrt64(a, rm, &fl) }
    @inline(__always) static func fma(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ op: UInt8, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 {
        FPU.fma64(a, b, c, op, rm, &fl)
    }
    @inline(__always) static func toInt(_ a: UInt64, _ signed: Bool, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 {
        signed ? FPU.cvtL64(a, rm, &fl) : FPU.cvtLU64(a, rm, &fl)
    }
    @inline(__always) static func fromInt(_ a: UInt64, _ signed: Bool, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 {
        signed ? FPU.cvt64FromL(a, rm, &fl) : FPU.cvt64FromLU(a, rm, &fl)
    }
}

/// §31.13.9 vfrsqrt7: the 7-bit estimate table, indexed by the exponent's low bit and 6 significand bits.
fileprivate let rsqrt7Table: [UInt8] = [
    52, 51, 50, 48, 47, 46, 44, 43, 42, 41, 40, 39, 38, 36, 35, 34, 33, 32, 31, 30, 30, 29, 28, 27,
    26, 25, 24, 23, 23, 22, 21, 20, 19, 19, 18, 17, 16, 16, 15, 14, 14, 13, 12, 12, 11, 10, 10, 9,
    9, 8, 7, 7, 6, 6, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0,
    127, 125, 123, 121, 119, 118, 116, 114, 113, 111, 109, 108, 106, 105, 103, 102, 100, 99, 97, 96,
    95, 93, 92, 91, 90, 88, 87, 86, 85, 84, 83, 82, 80, 79, 78, 77, 76, 75, 74, 73, 72, 71, 70, 70,
    69, 68, 67, 66, 65, 64, 63, 63, 62, 61, 60, 59, 59, 58, 57, 56, 56, 55, 54, 53]
/// §31.13.10 vfrec7: the 7-bit estimate table, indexed by 7 significand bits.
fileprivate let rec7Table: [UInt8] = [
    127, 125, 123, 121, 119, 117, 116, 114, 112, 110, 109, 107, 105, 104, 102, 100, 99, 97, 96, 94,
    93, 91, 90, 88, 87, 85, 84, 83, 81, 80, 79, 77, 76, 75, 74, 72, 71, 70, 69, 68, 66, 65, 64, 63,
    62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 40,
    39, 38, 37, 36, 35, 35, 34, 33, 32, 31, 31, 30, 29, 28, 28, 27, 26, 25, 25, 24, 23, 23, 22, 21,
    21, 20, 19, 19, 18, 17, 17, 16, 15, 15, 14, 14, 13, 12, 12, 11, 11, 10, 9, 9, 8, 8, 7, 7, 6, 5,
    5, 4, 4, 3, 3, 2, 2, 1, 1, 0]

extension FPU {
    /// vfrsqrt7 (§31.13.9): 1/sqrt(x) to 7 bits; exact for the special cases, invalid for negatives.
    fileprivate static func rsqrt7<F: FPUFormat>(_ a: UInt64, _: F.Type, _ fl: inout UInt64) -> UInt64 {
        switch classify(a, F.self) {
        case 1 << 0, 1 << 1, 1 << 2, 1 << 8: fl |= NV; return F.qnan
        case 1 << 9: return F.qnan
        case 1 << 3: fl |= DZ; return F.signBit | F.inf
        case 1 << 4: fl |= DZ; return F.inf
        case 1 << 7: return 0
        default: break
        }
        let s = F.fb
        var exp = Int(a >> UInt64(s) & F.expAllOnes), sig = a & F.fracMask
        if exp == 0 {   // subnormal: normalize
            while sig >> UInt64(s - 1) & 1 == 0 { exp -= 1; sig <<= 1 }
            sig = (sig << 1) & F.fracMask
        }
        let idx = (exp & 1) << 6 | Int(sig >> UInt64(s - 6))
        let outExp = (3 * F.bias - 1 - exp) / 2
        return UInt64(outExp) << UInt64(s) | UInt64(rsqrt7Table[idx]) << UInt64(s - 7)
    }

    /// vfrec7 (§31.13.10): 1/x to 7 bits; tiny subnormals overflow (to infinity or the largest finite
    /// value by rm), results below the normal range come out subnormal.
    fileprivate static func rec7<F: FPUFormat>(_ a: UInt64, _: F.Type, _ rm: UInt8, _ fl: inout UInt64) -> UInt64 {
        let sign = a & F.signBit
        switch classify(a, F.self) {
        case 1 << 0, 1 << 7: return sign
        case 1 << 3, 1 << 4: fl |= DZ; return sign | F.inf
        case 1 << 8: fl |= NV; return F.qnan
        case 1 << 9: return F.qnan
        default: break
        }
        let s = F.fb
        var exp = Int(a >> UInt64(s) & F.expAllOnes), sig = a & F.fracMask
        if exp == 0 {
            while sig >> UInt64(s - 1) & 1 == 0 { exp -= 1; sig <<= 1 }
            sig = (sig << 1) & F.fracMask
            if exp != 0 && exp != -1 {
                fl |= NX | OF
                let toMax = rm == 1 || (rm == 2 && sign == 0) || (rm == 3 && sign != 0)
                return (sign | F.inf) - (toMax ? 1 : 0)
            }
        }
        var outSig = UInt64(rec7Table[Int(sig >> UInt64(s - 7))]) << UInt64(s - 7)
        var outExp = 2 * F.bias - 1 - exp
        if outExp == 0 || outExp == -1 {
            outSig = outSig >> 1 | 1 << UInt64(s - 1)
            if outExp == -1 { outSig >>= 1; outExp = 0 }
        }
        return sign | UInt64(outExp) << UInt64(s) | outSig
    }

    /// vfncvt.rod.f.f.w (§31.13.19): double to single rounding to odd (truncate, then set the lsb if inexact).
    fileprivate static func cvt32From64Odd(_ a: UInt64, _ fl: inout UInt64) -> UInt32 {
        var f: UInt64 = 0
        let r = cvt32From64(a, 1, &f)
        fl |= f
        return f & NX != 0 ? r | 1 : r
    }
}

extension Hart {
    /// Executes `vi` if it is one of this file's; nil when it is not (the caller tries the next
    /// family, then takes an illegal-instruction trap). Returns false after taking a trap.
    func executeVectorFloat(_ vi: VInst) -> Bool? {
        guard !vill, let rm = vFloatRoundingMode() else { return nil }
        switch vi.funct6 {
        case 0x12: return vi.funct3 == VFunct3.opfvv ? vfpConvert(vi, rm) : nil
        case 0x30...0x3f: return vsewBytes == 4 ? vfpWidening(vi, rm) : nil
        default:
            switch vsewBytes {
            case 4: return vfpSingle(VFloat32.self, vi, rm)
            case 8: return vfpSingle(VFloat64.self, vi, rm)
            default: return nil
            }
        }
    }

    // MARK: Loops

    /// vd[i] = op(i) for the active body elements (vstart..<vl).
    @inline(__always)
    fileprivate func vfpEach(_ vi: VInst, _ vd: Int, _ bytes: Int, _ op: (Int) -> UInt64) {
        var i = Int(vstart)
        let end = Int(vl)
        while i < end {
            if vActive(vi, i) { vSet(vd, i, bytes, op(i)) }
            i &+= 1
        }
    }

    /// The usual single-width checks: vd and vs2 (and vs1 for .vv) aligned to LMUL, and a masked
    /// destination not v0 (§31.3.4.2, §31.5.3).
    @inline(__always)
    fileprivate func vfpSingleLegal(_ vi: VInst, vs1: Bool) -> Bool {
        let lm = vlmulLog2
        return Hart.vAligned(vi.vd, lm) && Hart.vAligned(vi.vs2, lm) && (!vs1 || Hart.vAligned(vi.vs1, lm))
            && !(vi.masked && vi.vd == 0)
    }

    /// A destination of 2^dEmul registers may overlap a narrower source of 2^sEmul only in its
    /// highest-numbered part, and only when the source EMUL is at least 1 (§31.5.2).
    @inline(__always)
    fileprivate static func vfpWideLegal(_ vd: Int, _ dEmul: Int, _ vs: Int, _ sEmul: Int) -> Bool {
        let dn = vRegs(dEmul), sn = vRegs(sEmul)
        return !vOverlap(vd, dn, vs, sn) || (sEmul >= 0 && dn > sn && vs + sn == vd + dn)
    }

    // MARK: Single width

    fileprivate func vfpSingle<T: VFloatFormat>(_ t: T.Type, _ vi: VInst, _ rm: UInt8) -> Bool? {
        let f6 = vi.funct6, isVF = vi.funct3 == VFunct3.opfvf
        let vd = vi.vd, vs2 = vi.vs2, vs1 = vi.vs1, n = T.bytes, sign = T.F.signBit
        let s = isVF ? T.scalar(f[vs1]) : 0
        var fl: UInt64 = 0
        /// The second operand: vs1[i] or f[rs1].
        @inline(__always) func b(_ i: Int) -> UInt64 { isVF ? s : vGet(vs1, i, n) }
        switch f6 {
        // §31.13.2-7, §31.13.11-12: binary arithmetic, min/max, sign injection.
        case 0x00, 0x02, 0x04, 0x06, 0x08, 0x09, 0x0a, 0x20, 0x24, 0x21, 0x27:
            if (f6 == 0x21 || f6 == 0x27) && !isVF { return nil }   // vfrdiv, vfrsub: .vf only
            guard vfpSingleLegal(vi, vs1: !isVF) else { return nil }
            switch f6 {
            case 0x00: vfpEach(vi, vd, n) { T.add(vGet(vs2, $0, n), b($0), rm, &fl) }
            case 0x02: vfpEach(vi, vd, n) { T.add(vGet(vs2, $0, n), b($0) ^ sign, rm, &fl) }
            case 0x27: vfpEach(vi, vd, n) { T.add(s, vGet(vs2, $0, n) ^ sign, rm, &fl) }
            case 0x04: vfpEach(vi, vd, n) { FPU.minMax(vGet(vs2, $0, n), b($0), T.F.self, false, &fl) }
            case 0x06: vfpEach(vi, vd, n) { FPU.minMax(vGet(vs2, $0, n), b($0), T.F.self, true, &fl) }
            case 0x08: vfpEach(vi, vd, n) { vGet(vs2, $0, n) & ~sign | b($0) & sign }
            case 0x09: vfpEach(vi, vd, n) { vGet(vs2, $0, n) & ~sign | ~b($0) & sign }
            case 0x0a: vfpEach(vi, vd, n) { vGet(vs2, $0, n) ^ b($0) & sign }
            case 0x20: vfpEach(vi, vd, n) { T.div(vGet(vs2, $0, n), b($0), rm, &fl) }
            case 0x21: vfpEach(vi, vd, n) { T.div(s, vGet(vs2, $0, n), rm, &fl) }
            default: vfpEach(vi, vd, n) { T.mul(vGet(vs2, $0, n), b($0), rm, &fl) }
            }
        // §31.13.6 fused multiply-add: vf(n)madd/msub overwrite the multiplicand vd, vf(n)macc/msac the addend.
        case 0x28...0x2f:
            guard vfpSingleLegal(vi, vs1: !isVF) else { return nil }
            let op = UInt8(truncatingIfNeeded: 0x2130 >> ((f6 & 3) * 4) & 0xf)
            if f6 < 0x2c {
                vfpEach(vi, vd, n) { T.fma(b($0), vGet(vd, $0, n), vGet(vs2, $0, n), op, rm, &fl) }
            } else {
                vfpEach(vi, vd, n) { T.fma(b($0), vGet(vs2, $0, n), vGet(vd, $0, n), op, rm, &fl) }
            }
        // §31.13.13 compares: mask results; vd may overlap a source only at the group's start.
        case 0x18, 0x19, 0x1b, 0x1c, 0x1d, 0x1f:
            if (f6 == 0x1d || f6 == 0x1f) && !isVF { return nil }   // vmfgt, vmfge: .vf only
            let lm = vlmulLog2, regs = Hart.vRegs(lm)
            guard Hart.vAligned(vs2, lm), isVF || Hart.vAligned(vs1, lm),
                  vd == vs2 || !Hart.vOverlap(vd, 1, vs2, regs),
                  isVF || vd == vs1 || !Hart.vOverlap(vd, 1, vs1, regs) else { return nil }
            var i = Int(vstart)
            let end = Int(vl)
            while i < end {
                if vActive(vi, i) {
                    let a = vGet(vs2, i, n), c = b(i)
                    let r: Bool
                    switch f6 {
                    case 0x18: r = FPU.feq(a, c, T.F.self, &fl) != 0
                    case 0x1c: r = FPU.feq(a, c, T.F.self, &fl) == 0
                    case 0x19: r = FPU.flt(a, c, T.F.self, true, &fl) != 0
                    case 0x1b: r = FPU.flt(a, c, T.F.self, false, &fl) != 0
                    case 0x1d: r = FPU.flt(c, a, T.F.self, false, &fl) != 0
                    default: r = FPU.flt(c, a, T.F.self, true, &fl) != 0
                    }
                    vSetMaskBit(vd, i, r)
                }
                i &+= 1
            }
        // VFUNARY1 (§31.13.8-10, §31.13.14): vfsqrt, vfrsqrt7, vfrec7, vfclass.
        case 0x13:
            guard !isVF, vfpSingleLegal(vi, vs1: false) else { return nil }
            switch vs1 {
            case 0: vfpEach(vi, vd, n) { T.sqrt(vGet(vs2, $0, n), rm, &fl) }
            case 4: vfpEach(vi, vd, n) { FPU.rsqrt7(vGet(vs2, $0, n), T.F.self, &fl) }
            case 5: vfpEach(vi, vd, n) { FPU.rec7(vGet(vs2, $0, n), T.F.self, rm, &fl) }
            case 16: vfpEach(vi, vd, n) { FPU.classify(vGet(vs2, $0, n), T.F.self) }
            default: return nil
            }
        // §31.13.15 vfmerge.vfm (vm=0), §31.13.16 vfmv.v.f (vm=1, vs2=0).
        case 0x17:
            guard isVF, vi.masked || vs2 == 0, vfpSingleLegal(vi, vs1: false) else { return nil }
            if vi.masked {
                var i = Int(vstart)
                let end = Int(vl)
                while i < end {
                    vSet(vd, i, n, vMaskBit(0, i) ? s : vGet(vs2, i, n))
                    i &+= 1
                }
            } else {
                var i = Int(vstart)
                let end = Int(vl)
                while i < end { vSet(vd, i, n, s); i &+= 1 }
            }
        // §31.16.2 vfmv.f.s (vs1=0) and vfmv.s.f (vs2=0): element 0, whatever LMUL; unmasked only.
        case 0x10:
            guard !vi.masked else { return nil }
            if isVF {
                guard vs2 == 0 else { return nil }
                if vstart < vl { vSet(vd, 0, n, s) }
            } else {
                guard vs1 == 0 else { return nil }
                let e = vGet(vs2, 0, n)
                f[vd] = n == 4 ? box32(UInt32(truncatingIfNeeded: e)) : e
                markFPDirty()
            }
        // §31.16.3 vfslide1up (vd must not overlap vs2) and vfslide1down.
        case 0x0e, 0x0f:
            guard isVF, vfpSingleLegal(vi, vs1: false) else { return nil }
            if f6 == 0x0e {
                guard !Hart.vOverlap(vd, vfpGroupRegs, vs2, vfpGroupRegs) else { return nil }
                vfpEach(vi, vd, n) { $0 == 0 ? s : vGet(vs2, $0 - 1, n) }
            } else {
                let last = Int(vl) - 1
                vfpEach(vi, vd, n) { $0 == last ? s : vGet(vs2, $0 + 1, n) }
            }
        // §31.14.3 reductions: vd[0] = vs1[0] op the active vs2[i]; the unordered sum is taken in order
        // (as QEMU does). vl = 0 leaves vd alone.
        case 0x01, 0x03, 0x05, 0x07:
            guard !isVF, vstart == 0, Hart.vAligned(vs2, vlmulLog2) else { return nil }
            guard vl > 0 else { return true }
            var acc = vGet(vs1, 0, n)
            for i in 0..<Int(vl) where vActive(vi, i) {
                let e = vGet(vs2, i, n)
                switch f6 {
                case 0x01, 0x03: acc = T.add(acc, e, rm, &fl)
                case 0x05: acc = FPU.minMax(acc, e, T.F.self, false, &fl)
                default: acc = FPU.minMax(acc, e, T.F.self, true, &fl)
                }
            }
            vSet(vd, 0, n, acc)
        default:
            return nil
        }
        vAccrueFlags(fl)
        return true
    }

    /// Registers in a group of the current LMUL.
    @inline(__always) fileprivate var vfpGroupRegs: Int { Hart.vRegs(vlmulLog2) }

    // MARK: Widening (SEW 32 -> 64)

    /// §31.13.3 vfwadd/vfwsub (.vv/.vf/.wv/.wf), §31.13.5 vfwmul, §31.13.7 vfwmacc family, §31.14.3
    /// vfwredusum/vfwredosum. Single operands are widened exactly first (an sNaN raises invalid).
    fileprivate func vfpWidening(_ vi: VInst, _ rm: UInt8) -> Bool? {
        let f6 = vi.funct6, isVF = vi.funct3 == VFunct3.opfvf
        let vd = vi.vd, vs2 = vi.vs2, vs1 = vi.vs1, lm = vlmulLog2
        // Flags of the widening itself (invalid for an sNaN, per use as QEMU does) apart from the arithmetic's.
        var fl: UInt64 = 0, wfl: UInt64 = 0
        let s = unbox32(f[vs1])
        @inline(__always) func widen(_ v: UInt64) -> UInt64 { FPU.cvt64From32(UInt32(truncatingIfNeeded: v), &wfl) }
        @inline(__always) func wide(_ reg: Int, _ i: Int) -> UInt64 { widen(vGet(reg, i, 4)) }
        @inline(__always) func b(_ i: Int) -> UInt64 { isVF ? widen(UInt64(s)) : wide(vs1, i) }
        if f6 == 0x31 || f6 == 0x33 {   // widening reductions: vs1[0], vd[0] are 64-bit
            guard !isVF, vstart == 0, Hart.vAligned(vs2, lm) else { return nil }
            guard vl > 0 else { return true }
            var acc = vGet(vs1, 0, 8)
            for i in 0..<Int(vl) where vActive(vi, i) { acc = FPU.add64(acc, wide(vs2, i), rm, &fl) }
            vSet(vd, 0, 8, acc)
            vAccrueFlags(fl | wfl)
            return true
        }
        switch f6 {
        case 0x30, 0x32, 0x34, 0x36, 0x38, 0x3c...0x3f: break
        default: return nil
        }
        let wideVS2 = f6 == 0x34 || f6 == 0x36
        guard lm <= 2,
              Hart.vAligned(vd, lm + 1), !(vi.masked && vd == 0),
              Hart.vAligned(vs2, wideVS2 ? lm + 1 : lm), wideVS2 || Hart.vfpWideLegal(vd, lm + 1, vs2, lm),
              isVF || (Hart.vAligned(vs1, lm) && Hart.vfpWideLegal(vd, lm + 1, vs1, lm)) else { return nil }
        switch f6 {
        case 0x30: vfpEach(vi, vd, 8) { FPU.add64(wide(vs2, $0), b($0), rm, &fl) }
        case 0x32: vfpEach(vi, vd, 8) { FPU.sub64(wide(vs2, $0), b($0), rm, &fl) }
        case 0x34: vfpEach(vi, vd, 8) { FPU.add64(vGet(vs2, $0, 8), b($0), rm, &fl) }
        case 0x36: vfpEach(vi, vd, 8) { FPU.sub64(vGet(vs2, $0, 8), b($0), rm, &fl) }
        case 0x38: vfpEach(vi, vd, 8) { FPU.mul64(wide(vs2, $0), b($0), rm, &fl) }
        default:   // vfwmacc, vfwnmacc, vfwmsac, vfwnmsac
            let op = UInt8(truncatingIfNeeded: 0x2130 >> ((f6 & 3) * 4) & 0xf)
            vfpEach(vi, vd, 8) { FPU.fma64(b($0), wide(vs2, $0), vGet(vd, $0, 8), op, rm, &fl) }
        }
        vAccrueFlags(fl | wfl)
        return true
    }

    // MARK: Conversions (VFUNARY0)

    /// §31.13.17-19: single-width, widening and narrowing conversions, selected by vs1.
    fileprivate func vfpConvert(_ vi: VInst, _ rm: UInt8) -> Bool? {
        let code = vi.vs1, sew = vsewBytes, lm = vlmulLog2, vd = vi.vd, vs2 = vi.vs2
        guard !(vi.masked && vd == 0) else { return nil }
        var fl: UInt64 = 0
        // The rtz forms round toward zero whatever frm says.
        let r = code & 7 >= 6 ? 1 : rm
        switch code {
        case 0, 1, 2, 3, 6, 7:   // single width
            guard vfpSingleLegal(vi, vs1: false) else { return nil }
            let signed = code & 1 != 0, toInt = code & 2 == 0 || code >= 6
            switch (sew, toInt) {
            case (4, true): vfpEach(vi, vd, 4) { VFloat32.toInt(vGet(vs2, $0, 4), signed, r, &fl) }
            case (4, false): vfpEach(vi, vd, 4) { VFloat32.fromInt(vGet(vs2, $0, 4), signed, r, &fl) }
            case (8, true): vfpEach(vi, vd, 8) { VFloat64.toInt(vGet(vs2, $0, 8), signed, r, &fl) }
            case (8, false): vfpEach(vi, vd, 8) { VFloat64.fromInt(vGet(vs2, $0, 8), signed, r, &fl) }
            default: return nil
            }
        case 8, 9, 10, 11, 12, 14, 15:   // widening: vd has EEW 2*SEW
            guard lm <= 2, Hart.vAligned(vd, lm + 1), Hart.vAligned(vs2, lm),
                  Hart.vfpWideLegal(vd, lm + 1, vs2, lm) else { return nil }
            let signed = code & 1 != 0
            switch (code, sew) {
            case (8, 4), (9, 4), (14, 4), (15, 4):   // f32 -> 64-bit integer
                vfpEach(vi, vd, 8) {
                    let a = UInt32(truncatingIfNeeded: vGet(vs2, $0, 4))
                    return signed ? FPU.cvtL32(a, r, &fl) : FPU.cvtLU32(a, r, &fl)
                }
            case (10, 2), (11, 2):   // 16-bit integer -> f32, exact
                vfpEach(vi, vd, 4) {
                    let a = vGet(vs2, $0, 2)
                    return UInt64((signed ? Float(Int16(truncatingIfNeeded: a)) : Float(UInt16(truncatingIfNeeded: a))).bitPattern)
                }
            case (10, 4), (11, 4):   // 32-bit integer -> f64, exact
                vfpEach(vi, vd, 8) { signed ? FPU.cvt64FromW(vGet(vs2, $0, 4), rm, &fl) : FPU.cvt64FromWU(vGet(vs2, $0, 4), rm, &fl) }
            case (12, 4):
                vfpEach(vi, vd, 8) { FPU.cvt64From32(UInt32(truncatingIfNeeded: vGet(vs2, $0, 4)), &fl) }
            case (12, 2) where extensions.contains(.zvfhmin):
                vfpEach(vi, vd, 4) { UInt64(FPU.cvt32From16(UInt16(truncatingIfNeeded: vGet(vs2, $0, 2)), &fl)) }
            default: return nil
            }
        case 16...23:   // narrowing: vs2 has EEW 2*SEW; vd may overlap it only at its start
            guard lm <= 2, Hart.vAligned(vd, lm), Hart.vAligned(vs2, lm + 1),
                  vd == vs2 || !Hart.vOverlap(vd, vfpGroupRegs, vs2, Hart.vRegs(lm + 1)) else { return nil }
            let signed = code & 1 != 0
            switch (code, sew) {
            case (16, 4), (17, 4), (22, 4), (23, 4):   // f64 -> 32-bit integer
                vfpEach(vi, vd, 4) { signed ? FPU.cvtW64(vGet(vs2, $0, 8), r, &fl) : FPU.cvtWU64(vGet(vs2, $0, 8), r, &fl) }
            case (16, 2), (17, 2), (22, 2), (23, 2):   // f32 -> 16-bit integer
                vfpEach(vi, vd, 2) { FPU.toInt(vGet(vs2, $0, 4), FPUSingle.self, r, signed, 16, &fl) }
            case (18, 4), (19, 4):   // 64-bit integer -> f32
                vfpEach(vi, vd, 4) { UInt64(signed ? FPU.cvt32FromL(vGet(vs2, $0, 8), r, &fl) : FPU.cvt32FromLU(vGet(vs2, $0, 8), r, &fl)) }
            case (20, 4):
                vfpEach(vi, vd, 4) { UInt64(FPU.cvt32From64(vGet(vs2, $0, 8), r, &fl)) }
            case (21, 4):
                vfpEach(vi, vd, 4) { UInt64(FPU.cvt32From64Odd(vGet(vs2, $0, 8), &fl)) }
            case (20, 2) where extensions.contains(.zvfhmin):
                vfpEach(vi, vd, 2) { UInt64(FPU.cvt16From32(UInt32(truncatingIfNeeded: vGet(vs2, $0, 4)), r, &fl)) }
            default: return nil
            }
        default:
            return nil
        }
        vAccrueFlags(fl)
        return true
    }
}
