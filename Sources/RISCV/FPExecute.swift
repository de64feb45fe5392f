import Platform
// F and D instructions (unprivileged spec ch. "F" and "D"). Arithmetic is in FPU.swift;
// this file does register access, NaN-boxing, rounding-mode resolution and mstatus.FS.

@inline(__always) func unbox32(_ v: UInt64) -> UInt32 { v >> 32 == 0xffff_ffff ? UInt32(truncatingIfNeeded: v) : 0x7fc0_0000 }
@inline(__always) func box32(_ v: UInt32) -> UInt64 { 0xffff_ffff_0000_0000 | UInt64(v) }
/// Half precision (Zfhmin) is NaN-boxed in the upper 48 bits the same way.
@inline(__always) func unbox16(_ v: UInt64) -> UInt16 { v >> 16 == 0xffff_ffff_ffff ? UInt16(truncatingIfNeeded: v) : 0x7e00 }
@inline(__always) func box16(_ v: UInt16) -> UInt64 { 0xffff_ffff_ffff_0000 | UInt64(v) }

extension Hart {
    func fpIllegal(_ d: DOp) -> Bool {
        trap(cause: Cause.illegal, tval: Hart.fpInstructionBits(d))
        return false
    }

    /// The encoding of an F/D instruction for mtval/stval on an illegal-instruction trap
    /// (0 for compressed loads/stores, whose encoding is not kept).
    static func fpInstructionBits(_ d: DOp) -> UInt64 {
        if d.len == 2 { return 0 }
        let imm = UInt32(bitPattern: d.imm) & 0xfff
        let rs1 = UInt32(d.rs1) << 15
        switch d.op {
        case .flh, .flw, .fld:
            return UInt64(imm << 20 | rs1 | (d.op == .flh ? 1 : d.op == .flw ? 2 : 3) << 12 | UInt32(d.rd) << 7 | 0x07)
        case .fsh, .fsw, .fsd:
            return UInt64((imm >> 5) << 25 | UInt32(d.rs2) << 20 | rs1 | (d.op == .fsh ? 1 : d.op == .fsw ? 2 : 3) << 12 | (imm & 0x1f) << 7 | 0x27)
        default:
            return UInt64(UInt32(bitPattern: d.imm))
        }
    }

    /// FP loads and stores go through the data TLB as integer ones do (a walk per access made FP code
    /// several times slower); the slow path on a miss, misaligned or MMIO access.
    @inline(__always) func fpLoad(_ va: UInt64, _ size: Int) -> UInt64? {
        loadThroughTLB(va, size, tlbLoad + dataSlot * Hart.tlbSize)
    }
    @inline(__always) func fpStore(_ va: UInt64, _ size: Int, _ value: UInt64) -> Bool {
        storeThroughTLB(va, size, value, tlbStore + dataSlot * Hart.tlbSize)
    }

    /// Executes one F/D instruction. Returns false after taking a trap.
    @inline(never)
    func executeFP(_ d: DOp) -> Bool {
        guard fpEnabled else { return fpIllegal(d) }
        let rd = Int(d.rd), rs1 = Int(d.rs1), rs2 = Int(d.rs2), rs3 = Int(d.rs3)
        var rm = d.rm
        if rm == 7 { rm = UInt8((fcsr >> 5) & 7) }
        var flags: UInt64 = 0
        switch d.op {
        case .fliS, .fliD, .fminmS, .fmaxmS, .fminmD, .fmaxmD, .fcvtmodWD, .fleqS, .fltqS, .fleqD, .fltqD,
             .flh, .fsh, .fmvXH, .fmvHX, .flw, .fld, .fsw, .fsd, .fsgnjS, .fsgnjnS, .fsgnjxS, .fsgnjD, .fsgnjnD, .fsgnjxD,
             .fminS, .fmaxS, .fminD, .fmaxD, .feqS, .fltS, .fleS, .feqD, .fltD, .fleD,
             .fclassS, .fclassD, .fmvXW, .fmvXD, .fmvWX, .fmvDX, .fcvtDS,
             .fsgnjH, .fsgnjnH, .fsgnjxH, .fminH, .fmaxH, .fclassH, .feqH, .fltH, .fleH, .fliH, .fminmH, .fmaxmH, .fleqH, .fltqH:
            break
        default:
            if rm > 4 { return fpIllegal(d) }
        }
        let a64 = f[rs1], b64 = f[rs2]
        let a32 = unbox32(a64), b32 = unbox32(b64)
        var writesF = true
        switch d.op {
        case .flw:
            guard let v = fpLoad(x[rs1] &+ simm(d), 4) else { return false }
            f[rd] = box32(UInt32(truncatingIfNeeded: v))
        case .fld:
            guard let v = fpLoad(x[rs1] &+ simm(d), 8) else { return false }
            f[rd] = v
        case .fsw:
            guard fpStore(x[rs1] &+ simm(d), 4, f[rs2] & 0xffff_ffff) else { return false }
            writesF = false
        case .fsd:
            guard fpStore(x[rs1] &+ simm(d), 8, f[rs2]) else { return false }
            writesF = false
        case .fmaS: f[rd] = box32(FPU.fma32(a32, b32, unbox32(f[rs3]), d.aux, rm, &flags))
        case .fmaD: f[rd] = FPU.fma64(a64, b64, f[rs3], d.aux, rm, &flags)
        case .faddS: f[rd] = box32(FPU.add32(a32, b32, rm, &flags))
        case .fsubS: f[rd] = box32(FPU.sub32(a32, b32, rm, &flags))
        case .fmulS: f[rd] = box32(FPU.mul32(a32, b32, rm, &flags))
        case .fdivS: f[rd] = box32(FPU.div32(a32, b32, rm, &flags))
        case .fsqrtS: f[rd] = box32(FPU.sqrt32(a32, rm, &flags))
        case .fsgnjS: f[rd] = box32((a32 & 0x7fff_ffff) | (b32 & 0x8000_0000))
        case .fsgnjnS: f[rd] = box32((a32 & 0x7fff_ffff) | (~b32 & 0x8000_0000))
        case .fsgnjxS: f[rd] = box32(a32 ^ (b32 & 0x8000_0000))
        case .fminS: f[rd] = box32(FPU.min32(a32, b32, &flags))
        case .fmaxS: f[rd] = box32(FPU.max32(a32, b32, &flags))
        case .fcvtWS: x[rd] = FPU.cvtW32(a32, rm, &flags); writesF = false
        case .fcvtWUS: x[rd] = FPU.cvtWU32(a32, rm, &flags); writesF = false
        case .fcvtLS: x[rd] = FPU.cvtL32(a32, rm, &flags); writesF = false
        case .fcvtLUS: x[rd] = FPU.cvtLU32(a32, rm, &flags); writesF = false
        case .fmvXW: x[rd] = sx32(f[rs1]); writesF = false
        case .fclassS: x[rd] = FPU.classify32(a32); writesF = false
        case .feqS: x[rd] = FPU.eq32(a32, b32, &flags); writesF = false
        case .fltS: x[rd] = FPU.lt32(a32, b32, &flags); writesF = false
        case .fleS: x[rd] = FPU.le32(a32, b32, &flags); writesF = false
        case .fcvtSW: f[rd] = box32(FPU.cvt32FromW(x[rs1], rm, &flags))
        case .fcvtSWU: f[rd] = box32(FPU.cvt32FromWU(x[rs1], rm, &flags))
        case .fcvtSL: f[rd] = box32(FPU.cvt32FromL(x[rs1], rm, &flags))
        case .fcvtSLU: f[rd] = box32(FPU.cvt32FromLU(x[rs1], rm, &flags))
        case .fmvWX: f[rd] = box32(UInt32(truncatingIfNeeded: x[rs1]))
        case .faddD: f[rd] = FPU.add64(a64, b64, rm, &flags)
        case .fsubD: f[rd] = FPU.sub64(a64, b64, rm, &flags)
        case .fmulD: f[rd] = FPU.mul64(a64, b64, rm, &flags)
        case .fdivD: f[rd] = FPU.div64(a64, b64, rm, &flags)
        case .fsqrtD: f[rd] = FPU.sqrt64(a64, rm, &flags)
        case .fsgnjD: f[rd] = (a64 & ~(1 << 63)) | (b64 & (1 << 63))
        case .fsgnjnD: f[rd] = (a64 & ~(1 << 63)) | (~b64 & (1 << 63))
        case .fsgnjxD: f[rd] = a64 ^ (b64 & (1 << 63))
        case .fminD: f[rd] = FPU.min64(a64, b64, &flags)
        case .fmaxD: f[rd] = FPU.max64(a64, b64, &flags)
        case .fcvtWD: x[rd] = FPU.cvtW64(a64, rm, &flags); writesF = false
        case .fcvtWUD: x[rd] = FPU.cvtWU64(a64, rm, &flags); writesF = false
        case .fcvtLD: x[rd] = FPU.cvtL64(a64, rm, &flags); writesF = false
        case .fcvtLUD: x[rd] = FPU.cvtLU64(a64, rm, &flags); writesF = false
        case .fmvXD: x[rd] = f[rs1]; writesF = false
        case .fclassD: x[rd] = FPU.classify64(a64); writesF = false
        case .feqD: x[rd] = FPU.eq64(a64, b64, &flags); writesF = false
        case .fltD: x[rd] = FPU.lt64(a64, b64, &flags); writesF = false
        case .fleD: x[rd] = FPU.le64(a64, b64, &flags); writesF = false
        case .fcvtDW: f[rd] = FPU.cvt64FromW(x[rs1], rm, &flags)
        case .fcvtDWU: f[rd] = FPU.cvt64FromWU(x[rs1], rm, &flags)
        case .fcvtDL: f[rd] = FPU.cvt64FromL(x[rs1], rm, &flags)
        case .fcvtDLU: f[rd] = FPU.cvt64FromLU(x[rs1], rm, &flags)
        case .fmvDX: f[rd] = x[rs1]
        case .fcvtSD: f[rd] = box32(FPU.cvt32From64(a64, rm, &flags))
        case .fcvtDS: f[rd] = FPU.cvt64From32(a32, &flags)
        // Zfhmin: half-precision loads, stores, moves and conversions.
        case .flh:
            guard let v = fpLoad(x[rs1] &+ simm(d), 2) else { return false }
            f[rd] = box16(UInt16(truncatingIfNeeded: v))
        case .fsh:
            guard fpStore(x[rs1] &+ simm(d), 2, f[rs2] & 0xffff) else { return false }
            writesF = false
        case .fmvXH: x[rd] = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: f[rs1]))); writesF = false
        case .fmvHX: f[rd] = box16(UInt16(truncatingIfNeeded: x[rs1]))
        case .fcvtSH: f[rd] = box32(FPU.cvt32From16(unbox16(a64), &flags))
        case .fcvtDH: f[rd] = FPU.cvt64From16(unbox16(a64), &flags)
        case .fcvtHS: f[rd] = box16(FPU.cvt16From32(a32, rm, &flags))
        case .fcvtHD: f[rd] = box16(FPU.cvt16From64(a64, rm, &flags))
        // Zfh: the generic soft-float core on the half format.
        case .fmaH, .faddH, .fsubH, .fmulH, .fdivH, .fsqrtH, .fsgnjH, .fsgnjnH, .fsgnjxH, .fminH, .fmaxH,
             .fcvtWH, .fcvtWUH, .fcvtLH, .fcvtLUH, .fclassH, .feqH, .fltH, .fleH, .fcvtHW, .fcvtHWU, .fcvtHL, .fcvtHLU,
             .fliH, .fminmH, .fmaxmH, .froundH, .froundnxH, .fleqH, .fltqH:
            let a = UInt64(unbox16(a64)), b = UInt64(unbox16(b64))
            switch FPU.half(d.op, a, b, UInt64(unbox16(f[rs3])), x[rs1], rs1: rs1, aux: d.aux, rm, &flags) {
            case .float(let v): f[rd] = box16(UInt16(truncatingIfNeeded: v))
            case .integer(let v): x[rd] = v; writesF = false
            }
        // Zfa
        case .fliS: f[rd] = box32(FPU.fli32(rs1))
        case .fliD: f[rd] = FPU.fli64(rs1)
        case .fminmS: f[rd] = box32(UInt32(truncatingIfNeeded: FPU.minMaxM(UInt64(a32), UInt64(b32), FPUSingle.self, false, &flags)))
        case .fmaxmS: f[rd] = box32(UInt32(truncatingIfNeeded: FPU.minMaxM(UInt64(a32), UInt64(b32), FPUSingle.self, true, &flags)))
        case .fminmD: f[rd] = FPU.minMaxM(a64, b64, FPUDouble.self, false, &flags)
        case .fmaxmD: f[rd] = FPU.minMaxM(a64, b64, FPUDouble.self, true, &flags)
        case .froundS, .froundnxS:
            f[rd] = box32(UInt32(truncatingIfNeeded: FPU.roundToIntegral(UInt64(a32), FPUSingle.self, rm, signalInexact: d.op == .froundnxS, &flags)))
        case .froundD, .froundnxD: f[rd] = FPU.roundToIntegral(a64, FPUDouble.self, rm, signalInexact: d.op == .froundnxD, &flags)
        case .fcvtmodWD: x[rd] = FPU.cvtModW64(a64, &flags); writesF = false
        case .fleqS, .fltqS: x[rd] = FPU.quietLess(UInt64(a32), UInt64(b32), FPUSingle.self, orEqual: d.op == .fleqS, &flags); writesF = false
        case .fleqD, .fltqD: x[rd] = FPU.quietLess(a64, b64, FPUDouble.self, orEqual: d.op == .fleqD, &flags); writesF = false
        default: return fpIllegal(d)
        }
        if flags != 0 { fcsr |= flags & 0x1f }
        if writesF || flags != 0 { markFPDirty() }
        return true
    }
}
