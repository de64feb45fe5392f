import Platform
// Vector integer arithmetic, fixed-point, compares, merges and moves (OPIVV/OPIVX/OPIVI/OPMVV/OPMVX), Zvbb (V 1.0, §31).
// Each instruction is decoded to a `VIntOp` and a shape (single-width, mask result, widening, narrowing,
// extension); legality is checked once, then an element loop specialised per SEW (the `bytes` argument
// of the @inline(__always) loops is a literal at each call) applies the operation to the body elements
// vstart..<vl. Masked-off and tail elements are left undisturbed. Values travel zero-extended in UInt64.

/// The element operations of this file.
enum VIntOp: UInt8 {
    /// The single-width operations compiled vectors use most, which need no rounding, saturation or v0
    /// operand: `vFastSingleLoop` runs them over typed element pointers.
    /// For the widening operations `vFastWideLoop` runs: whether the sources are signed; nil for the rest.
    var fastWideSigned: Bool? {
        switch self {
        case .waddu, .wsubu, .wmulu, .wmaccu: return false
        case .wadd, .wsub, .wmul, .wmacc: return true
        default: return nil
        }
    }
    var isFastSingle: Bool {
        switch self {
        case .add, .sub, .rsub, .and, .or, .xor, .mul, .macc, .nmsac, .madd, .nmsub, .minu, .maxu, .mv, .sll, .srl: return true
        default: return false
        }
    }

    // Single-width: vd[i] = f(vs2[i], vs1[i] or the scalar, vd[i]) (§31.11, §31.12, Zvbb).
    case add, sub, rsub, minu, min, maxu, max, and, or, xor, andn, sll, srl, sra, ror, rol
    case adc, sbc, merge, mv
    case saddu, sadd, ssubu, ssub, aaddu, aadd, asubu, asub, smul, ssrl, ssra
    case mul, mulh, mulhu, mulhsu, divu, div, remu, rem, macc, nmsac, madd, nmsub
    // Single-width unary (Zvbb).
    case brev8, rev8, brev, clz, ctz, cpop
    // Mask results (§31.11.4 carry/borrow out, §31.11.8 compares).
    case madc, msbc, seq, sne, sltu, slt, sleu, sle, sgtu, sgt
    // Widening: 2*SEW results (§31.11.2, §31.11.12, §31.11.14, Zvbb vwsll); the W forms take a 2*SEW vs2.
    case waddu, wadd, wsubu, wsub, wadduW, waddW, wsubuW, wsubW, wmulu, wmulsu, wmul
    case wmaccu, wmacc, wmaccsu, wmaccus, wsll
    // Narrowing: SEW results from a 2*SEW vs2 (§31.11.7, §31.12.5).
    case nsrl, nsra, nclipu, nclip
    // Integer extension (§31.11.3): vzext/vsext.vf2/vf4/vf8.
    case zext, sext

    var isMaskResult: Bool { rawValue >= VIntOp.madc.rawValue && rawValue <= VIntOp.sgt.rawValue }
    var isWidening: Bool { rawValue >= VIntOp.waddu.rawValue && rawValue <= VIntOp.wsll.rawValue }
    var isNarrowing: Bool { rawValue >= VIntOp.nsrl.rawValue && rawValue <= VIntOp.nclip.rawValue }
    /// vs2 of a widening op is 2*SEW wide (vwadd.wv and friends).
    var isWideSource: Bool { rawValue >= VIntOp.wadduW.rawValue && rawValue <= VIntOp.wsubW.rawValue }
    /// The OPIVI immediate is zero-extended (shift amounts, §31.10.2); others sign-extend it.
    var unsignedImmediate: Bool {
        switch self {
        case .sll, .srl, .sra, .ssrl, .ssra, .ror, .nsrl, .nsra, .nclipu, .nclip, .wsll: return true
        default: return false
        }
    }
}

extension Hart {
    /// Executes `vi` if it is one of this file's; nil when it is not (the caller tries the next
    /// family, then takes an illegal-instruction trap). Returns false after taking a trap.
    func executeVectorInteger(_ vi: VInst) -> Bool? {
        guard !vill, var op = vIntDecode(vi) else { return nil }
        let f3 = vi.funct3, lmul = vlmulLog2, bytes = vsewBytes
        let vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2
        let isVV = f3 == VFunct3.opivv || f3 == VFunct3.opmvv
        let regs = Hart.vRegs(lmul)
        // The scalar operand: x[rs1] or the immediate, truncated to SEW (§31.10.2).
        var scalar: UInt64 = 0
        if f3 == VFunct3.opivx || f3 == VFunct3.opmvx {
            scalar = x[vs1]
        } else if f3 == VFunct3.opivi {
            scalar = op == .ror ? vi.uimm5 | UInt64(vi.funct6 & 1) << 5     // vror.vi: imm[5] is bit 26
                : op.unsignedImmediate ? vi.uimm5 : UInt64(bitPattern: vi.simm5)
        }
        scalar &= bytes == 8 ? .max : (1 << UInt64(8 * bytes)) - 1

        if op.isMaskResult {
            // §31.5.3: a mask destination may overlap a source group only where it is that group's
            // lowest register (QEMU: it must equal it); it may be v0 even when masked.
            guard Hart.vAligned(vs2, lmul), vd == vs2 || !Hart.vOverlap(vd, 1, vs2, regs) else { return nil }
            if isVV { guard Hart.vAligned(vs1, lmul), vd == vs1 || !Hart.vOverlap(vd, 1, vs1, regs) else { return nil } }
            switch bytes {
            case 1: vIntMaskLoop(op, vi, 1, scalar, isVV)
            case 2: vIntMaskLoop(op, vi, 2, scalar, isVV)
            case 4: vIntMaskLoop(op, vi, 4, scalar, isVV)
            default: vIntMaskLoop(op, vi, 8, scalar, isVV)
            }
            return true
        }
        // A masked instruction may not write v0 (§31.5.3); vadc/vsbc/vmerge always read v0.
        if vi.masked && vd == 0 { return nil }
        if op.isWidening {
            // §31.5.2: 2*SEW <= ELEN and 2*LMUL <= 8; a narrow source may overlap the destination only
            // in its highest-numbered part, and only when the source EMUL is at least 1.
            guard bytes < 8, Hart.vAligned(vd, lmul + 1) else { return nil }
            if op.isWideSource {
                guard Hart.vAligned(vs2, lmul + 1) else { return nil }
            } else {
                guard Hart.vAligned(vs2, lmul), vNarrowSourceLegal(vd, vs2, lmul) else { return nil }
            }
            if isVV { guard Hart.vAligned(vs1, lmul), vNarrowSourceLegal(vd, vs1, lmul) else { return nil } }
            if let signed = op.fastWideSigned {
                switch (bytes, signed) {
                case (1, true): vFastWideLoop(Int8.self, UInt16.self, op, vi, scalar, isVV)
                case (1, false): vFastWideLoop(UInt8.self, UInt16.self, op, vi, scalar, isVV)
                case (2, true): vFastWideLoop(Int16.self, UInt32.self, op, vi, scalar, isVV)
                case (2, false): vFastWideLoop(UInt16.self, UInt32.self, op, vi, scalar, isVV)
                case (_, true): vFastWideLoop(Int32.self, UInt64.self, op, vi, scalar, isVV)
                default: vFastWideLoop(UInt32.self, UInt64.self, op, vi, scalar, isVV)
                }
                return true
            }
            switch bytes {
            case 1: vIntWideLoop(op, vi, 1, scalar, isVV)
            case 2: vIntWideLoop(op, vi, 2, scalar, isVV)
            default: vIntWideLoop(op, vi, 4, scalar, isVV)
            }
            return true
        }
        if op.isNarrowing {
            // §31.5.2: the destination may overlap the wide source only in its lowest-numbered part.
            guard bytes < 8, Hart.vAligned(vs2, lmul + 1), Hart.vAligned(vd, lmul),
                  vd == vs2 || !Hart.vOverlap(vd, regs, vs2, Hart.vRegs(lmul + 1)) else { return nil }
            if isVV { guard Hart.vAligned(vs1, lmul) else { return nil } }
            switch bytes {
            case 1: vIntNarrowLoop(op, vi, 1, scalar, isVV)
            case 2: vIntNarrowLoop(op, vi, 2, scalar, isVV)
            default: vIntNarrowLoop(op, vi, 4, scalar, isVV)
            }
            return true
        }
        if op == .zext || op == .sext {
            // §31.11.3: source EEW = SEW/2^k >= 8, EMUL = LMUL/2^k; overlap as for widening.
            let k = vs1 == 2 || vs1 == 3 ? 3 : vs1 == 4 || vs1 == 5 ? 2 : 1
            let srcLMUL = lmul - k, srcRegs = Hart.vRegs(srcLMUL)
            guard bytes >> k != 0, Hart.vAligned(vd, lmul), Hart.vAligned(vs2, srcLMUL) else { return nil }
            if Hart.vOverlap(vd, regs, vs2, srcRegs) && !(srcLMUL >= 0 && vs2 == vd + regs - srcRegs) { return nil }
            let signed = op == .sext
            switch bytes {
            case 2: vIntExtLoop(vi, 2, 1, signed)
            case 4: k == 1 ? vIntExtLoop(vi, 4, 2, signed) : vIntExtLoop(vi, 4, 1, signed)
            default: k == 1 ? vIntExtLoop(vi, 8, 4, signed) : k == 2 ? vIntExtLoop(vi, 8, 2, signed) : vIntExtLoop(vi, 8, 1, signed)
            }
            return true
        }
        // Single-width.
        switch op {
        case .adc, .sbc: guard vi.masked else { return nil }          // vm=1 is reserved (§31.11.4)
        case .merge:
            if !vi.masked {                                           // vmv.v.*: vs2 must be v0 (§31.11.16)
                guard vs2 == 0 else { return nil }
                op = .mv
            }
        default: break
        }
        guard Hart.vAligned(vd, lmul), op == .mv || Hart.vAligned(vs2, lmul) else { return nil }
        if isVV { guard Hart.vAligned(vs1, lmul) else { return nil } }
        if op.isFastSingle {
            switch bytes {
            case 1: vFastSingleLoop(UInt8.self, op, vi, scalar, isVV)
            case 2: vFastSingleLoop(UInt16.self, op, vi, scalar, isVV)
            case 4: vFastSingleLoop(UInt32.self, op, vi, scalar, isVV)
            default: vFastSingleLoop(UInt64.self, op, vi, scalar, isVV)
            }
            return true
        }
        switch bytes {
        case 1: vIntSingleLoop(op, vi, 1, scalar, isVV)
        case 2: vIntSingleLoop(op, vi, 2, scalar, isVV)
        case 4: vIntSingleLoop(op, vi, 4, scalar, isVV)
        default: vIntSingleLoop(op, vi, 8, scalar, isVV)
        }
        return true
    }


    /// `vIntWideLoop` for the widening add, subtract, multiply and multiply-add with both sources SEW wide
    /// and of one signedness (`VIntOp.fastWideSigned`): S is the source element type (its signedness
    /// extends the operands), D the unsigned 2*SEW destination type.
    @inline(__always)
    private func vFastWideLoop<S: FixedWidthInteger, D: FixedWidthInteger & UnsignedInteger>(_ s: S.Type, _ d: D.Type, _ op: VIntOp, _ vi: VInst, _ scalar: UInt64, _ isVV: Bool) {
        let dst = (vreg + vi.vd &* vlenb).assumingMemoryBound(to: D.self)
        let a = (vreg + vi.vs2 &* vlenb).assumingMemoryBound(to: S.self)
        let v1 = (vreg + vi.vs1 &* vlenb).assumingMemoryBound(to: S.self)
        let x = Int64(S(truncatingIfNeeded: scalar))
        let masked = vi.masked
        var i = Int(vstart)
        let end = Int(vl)
        @inline(__always) func each(_ f: (Int64, Int64, D) -> D) {
            while i < end {
                if !masked || vMaskBit(0, i) { dst[i] = f(Int64(a[i]), isVV ? Int64(v1[i]) : x, dst[i]) }
                i &+= 1
            }
        }
        switch op {
        case .waddu, .wadd: each { a, b, _ in D(truncatingIfNeeded: a &+ b) }
        case .wsubu, .wsub: each { a, b, _ in D(truncatingIfNeeded: a &- b) }
        case .wmulu, .wmul: each { a, b, _ in D(truncatingIfNeeded: a &* b) }
        default: each { a, b, c in c &+ D(truncatingIfNeeded: a &* b) }   // .wmaccu, .wmacc
        }
    }

    /// `vIntSingleLoop` for `vFastSingleOps`, one loop per operation over SEW-typed elements (what the
    /// generic loop does element by element through `vIntSingle`); masked elements and the tail are left
    /// undisturbed, as there.
    @inline(__always)
    private func vFastSingleLoop<T: FixedWidthInteger & UnsignedInteger>(_ t: T.Type, _ op: VIntOp, _ vi: VInst, _ scalar: UInt64, _ isVV: Bool) {
        let d = (vreg + vi.vd &* vlenb).assumingMemoryBound(to: T.self)
        let a = (vreg + vi.vs2 &* vlenb).assumingMemoryBound(to: T.self)
        let v1 = (vreg + vi.vs1 &* vlenb).assumingMemoryBound(to: T.self)
        let x = T(truncatingIfNeeded: scalar)
        let shMask = T(truncatingIfNeeded: T.bitWidth &- 1)
        let masked = vi.masked
        var i = Int(vstart)
        let end = Int(vl)
        @inline(__always) func each(_ f: (T, T, T) -> T) {
            while i < end {
                if !masked || vMaskBit(0, i) { d[i] = f(a[i], isVV ? v1[i] : x, d[i]) }
                i &+= 1
            }
        }
        switch op {
        case .add: each { a, b, _ in a &+ b }
        case .sub: each { a, b, _ in a &- b }
        case .rsub: each { a, b, _ in b &- a }
        case .and: each { a, b, _ in a & b }
        case .or: each { a, b, _ in a | b }
        case .xor: each { a, b, _ in a ^ b }
        case .mul: each { a, b, _ in a &* b }
        case .macc: each { a, b, c in c &+ a &* b }
        case .nmsac: each { a, b, c in c &- a &* b }
        case .madd: each { a, b, c in a &+ b &* c }
        case .nmsub: each { a, b, c in a &- b &* c }
        case .minu: each { a, b, _ in Swift.min(a, b) }
        case .maxu: each { a, b, _ in Swift.max(a, b) }
        case .mv: each { _, b, _ in b }
        case .sll: each { a, b, _ in a &<< (b & shMask) }
        default: each { a, b, _ in a &>> (b & shMask) }   // .srl
        }
    }

    /// A SEW source group at `src` may overlap the 2*LMUL destination group at `dst` only as its
    /// highest-numbered half, and only when LMUL >= 1 (§31.5.2).
    @inline(__always) private func vNarrowSourceLegal(_ dst: Int, _ src: Int, _ lmul: Int) -> Bool {
        let n = Hart.vRegs(lmul)
        return !Hart.vOverlap(dst, Hart.vRegs(lmul + 1), src, n) || (lmul >= 0 && src == dst + n)
    }

    /// The operation of `vi`, or nil when it is not this file's or is reserved (§31.10 encoding tables).
    private func vIntDecode(_ vi: VInst) -> VIntOp? {
        let f3 = vi.funct3, f6 = vi.funct6
        let zvbb = extensions.contains(.zvbb)
        if f3 == VFunct3.opmvv || f3 == VFunct3.opmvx {
            let v = f3 == VFunct3.opmvv
            switch f6 {
            case 0x08: return .aaddu
            case 0x09: return .aadd
            case 0x0a: return .asubu
            case 0x0b: return .asub
            case 0x12:                                                // VXUNARY0
                guard v else { return nil }
                switch vi.vs1 {
                case 2, 4, 6: return .zext
                case 3, 5, 7: return .sext
                case 8: return zvbb ? .brev8 : nil
                case 9: return zvbb ? .rev8 : nil
                case 10: return zvbb ? .brev : nil
                case 12: return zvbb ? .clz : nil
                case 13: return zvbb ? .ctz : nil
                case 14: return zvbb ? .cpop : nil
                default: return nil
                }
            case 0x20: return .divu
            case 0x21: return .div
            case 0x22: return .remu
            case 0x23: return .rem
            case 0x24: return .mulhu
            case 0x25: return .mul
            case 0x26: return .mulhsu
            case 0x27: return .mulh
            case 0x29: return .madd
            case 0x2b: return .nmsub
            case 0x2d: return .macc
            case 0x2f: return .nmsac
            case 0x30: return .waddu
            case 0x31: return .wadd
            case 0x32: return .wsubu
            case 0x33: return .wsub
            case 0x34: return .wadduW
            case 0x35: return .waddW
            case 0x36: return .wsubuW
            case 0x37: return .wsubW
            case 0x38: return .wmulu
            case 0x3a: return .wmulsu
            case 0x3b: return .wmul
            case 0x3c: return .wmaccu
            case 0x3d: return .wmacc
            case 0x3e: return v ? nil : .wmaccus
            case 0x3f: return .wmaccsu
            default: return nil
            }
        }
        guard f3 == VFunct3.opivv || f3 == VFunct3.opivx || f3 == VFunct3.opivi else { return nil }
        let v = f3 == VFunct3.opivv, i = f3 == VFunct3.opivi
        switch f6 {
        case 0x00: return .add
        case 0x01: return zvbb && !i ? .andn : nil
        case 0x02: return i ? nil : .sub
        case 0x03: return v ? nil : .rsub
        case 0x04: return i ? nil : .minu
        case 0x05: return i ? nil : .min
        case 0x06: return i ? nil : .maxu
        case 0x07: return i ? nil : .max
        case 0x09: return .and
        case 0x0a: return .or
        case 0x0b: return .xor
        case 0x10: return .adc
        case 0x11: return .madc
        case 0x12: return i ? nil : .sbc
        case 0x13: return i ? nil : .msbc
        case 0x14: return zvbb ? .ror : nil
        case 0x15: return zvbb ? (i ? .ror : .rol) : nil                 // vror.vi with imm[5] = 1
        case 0x17: return .merge
        case 0x18: return .seq
        case 0x19: return .sne
        case 0x1a: return i ? nil : .sltu
        case 0x1b: return i ? nil : .slt
        case 0x1c: return .sleu
        case 0x1d: return .sle
        case 0x1e: return v ? nil : .sgtu
        case 0x1f: return v ? nil : .sgt
        case 0x20: return .saddu
        case 0x21: return .sadd
        case 0x22: return i ? nil : .ssubu
        case 0x23: return i ? nil : .ssub
        case 0x25: return .sll
        case 0x27: return i ? nil : .smul
        case 0x28: return .srl
        case 0x29: return .sra
        case 0x2a: return .ssrl
        case 0x2b: return .ssra
        case 0x2c: return .nsrl
        case 0x2d: return .nsra
        case 0x2e: return .nclipu
        case 0x2f: return .nclip
        case 0x35: return zvbb ? .wsll : nil
        default: return nil
        }
    }

    // MARK: Element loops

    @inline(__always)
    private func vIntSingleLoop(_ op: VIntOp, _ vi: VInst, _ bytes: Int, _ scalar: UInt64, _ isVV: Bool) {
        let vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2, bits = bytes &* 8, rm = vxrm
        // vadc/vsbc take v0 as carry/borrow and vmerge as selector: they are not masked (§31.11.4, §31.11.15).
        let readsV0 = op == .adc || op == .sbc || op == .merge
        let useMask = vi.masked && !readsV0
        let readsVd = op == .macc || op == .nmsac || op == .madd || op == .nmsub
        var sat = false
        var i = Int(vstart)
        let end = Int(vl)
        while i < end {
            if !useMask || vMaskBit(0, i) {
                let a = vGet(vs2, i, bytes)
                let b = isVV ? vGet(vs1, i, bytes) : scalar
                let c = readsVd ? vGet(vd, i, bytes) : 0
                vSet(vd, i, bytes, Hart.vIntSingle(op, a, b, c, readsV0 && vMaskBit(0, i), bits, rm, &sat))
            }
            i &+= 1
        }
        if sat { vxsat = 1 }
    }

    @inline(__always)
    private func vIntMaskLoop(_ op: VIntOp, _ vi: VInst, _ bytes: Int, _ scalar: UInt64, _ isVV: Bool) {
        let vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2, bits = bytes &* 8
        // vmadc/vmsbc with vm=0 take v0 as carry/borrow in and are not masked (§31.11.4).
        let carryIn = vi.masked && (op == .madc || op == .msbc)
        let useMask = vi.masked && !carryIn
        var i = Int(vstart)
        let end = Int(vl)
        while i < end {
            if !useMask || vMaskBit(0, i) {
                let a = vGet(vs2, i, bytes)
                let b = isVV ? vGet(vs1, i, bytes) : scalar
                vSetMaskBit(vd, i, Hart.vIntCompare(op, a, b, carryIn && vMaskBit(0, i), bits))
            }
            i &+= 1
        }
    }

    @inline(__always)
    private func vIntWideLoop(_ op: VIntOp, _ vi: VInst, _ bytes: Int, _ scalar: UInt64, _ isVV: Bool) {
        let vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2, bits = bytes &* 8, wide = 2 &* bytes
        let aBytes = op.isWideSource ? wide : bytes
        let readsVd = op == .wmaccu || op == .wmacc || op == .wmaccsu || op == .wmaccus
        var i = Int(vstart)
        let end = Int(vl)
        while i < end {
            if !vi.masked || vMaskBit(0, i) {
                let a = vGet(vs2, i, aBytes)
                let b = isVV ? vGet(vs1, i, bytes) : scalar
                let c = readsVd ? vGet(vd, i, wide) : 0
                vSet(vd, i, wide, Hart.vIntWide(op, a, b, c, bits))
            }
            i &+= 1
        }
    }

    @inline(__always)
    private func vIntNarrowLoop(_ op: VIntOp, _ vi: VInst, _ bytes: Int, _ scalar: UInt64, _ isVV: Bool) {
        let vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2, bits = bytes &* 8, rm = vxrm
        var sat = false
        var i = Int(vstart)
        let end = Int(vl)
        while i < end {
            if !vi.masked || vMaskBit(0, i) {
                let a = vGet(vs2, i, 2 &* bytes)
                let b = isVV ? vGet(vs1, i, bytes) : scalar
                vSet(vd, i, bytes, Hart.vIntNarrow(op, a, b, bits, rm, &sat))
            }
            i &+= 1
        }
        if sat { vxsat = 1 }
    }

    @inline(__always)
    private func vIntExtLoop(_ vi: VInst, _ bytes: Int, _ srcBytes: Int, _ signed: Bool) {
        let vd = vi.vd, vs2 = vi.vs2, shift = UInt64(64 &- 8 &* srcBytes)
        var i = Int(vstart)
        let end = Int(vl)
        while i < end {
            if !vi.masked || vMaskBit(0, i) {
                let a = vGet(vs2, i, srcBytes)
                vSet(vd, i, bytes, signed ? UInt64(bitPattern: Int64(bitPattern: a &<< shift) &>> Int64(shift)) : a)
            }
            i &+= 1
        }
    }

    // MARK: Element operations

    /// `v` (zero-extended `bits` bits) sign-extended.
    @inline(__always) static func vSext(_ v: UInt64, _ bits: Int) -> Int64 {
        let s = UInt64(64 &- bits)
        return Int64(bitPattern: v &<< s) &>> Int64(s)
    }

    /// The rounding increment for shifting `v` right by `d` (0...63) bits under vxrm `rm` (§31.12.1):
    /// rnu v[d-1]; rne v[d-1] & (v[d-2:0] != 0 | v[d]); rdn 0; rod !v[d] & v[d-1:0] != 0.
    @inline(__always) static func vRoundIncrement(_ v: UInt64, _ d: UInt64, _ rm: UInt64) -> UInt64 {
        if d == 0 { return 0 }
        switch rm {
        case 0: return v &>> (d &- 1) & 1
        case 1:
            let half = v &>> (d &- 1) & 1
            let rest = v & ((1 &<< (d &- 1)) &- 1) != 0
            return half & (rest || v &>> d & 1 != 0 ? 1 : 0)
        case 2: return 0
        default: return v &>> d & 1 == 0 && v & ((1 &<< d) &- 1) != 0 ? 1 : 0
        }
    }

    /// `r` clamped to a signed `bits`-bit value, setting `sat` when clamped.
    @inline(__always) static func vClampSigned(_ r: Int64, _ bits: Int, _ sat: inout Bool) -> UInt64 {
        let hi = Int64.max &>> Int64(64 &- bits), lo = ~hi
        if r > hi { sat = true; return UInt64(bitPattern: hi) }
        if r < lo { sat = true; return UInt64(bitPattern: lo) }
        return UInt64(bitPattern: r)
    }

    /// The bits of each byte of `v` reversed.
    @inline(__always) static func vBitReverseBytes(_ v: UInt64) -> UInt64 {
        var v = v
        v = (v & 0x5555_5555_5555_5555) &<< 1 | (v &>> 1) & 0x5555_5555_5555_5555
        v = (v & 0x3333_3333_3333_3333) &<< 2 | (v &>> 2) & 0x3333_3333_3333_3333
        return (v & 0x0f0f_0f0f_0f0f_0f0f) &<< 4 | (v &>> 4) & 0x0f0f_0f0f_0f0f_0f0f
    }

    /// A single-width operation: a = vs2[i], b = vs1[i] or the scalar, c = vd[i] (all zero-extended
    /// `bits`-bit values), v0 = the carry/borrow/selector bit. The result's bits above `bits` are ignored.
    @inline(__always)
    static func vIntSingle(_ op: VIntOp, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ v0: Bool, _ bits: Int,
                           _ rm: UInt64, _ sat: inout Bool) -> UInt64 {
        let shMask = UInt64(bits &- 1)
        let ones: UInt64 = bits == 64 ? .max : (1 &<< UInt64(bits)) &- 1
        switch op {
        case .add: return a &+ b
        case .sub: return a &- b
        case .rsub: return b &- a
        case .minu: return a < b ? a : b
        case .min: return vSext(a, bits) < vSext(b, bits) ? a : b
        case .maxu: return a > b ? a : b
        case .max: return vSext(a, bits) > vSext(b, bits) ? a : b
        case .and: return a & b
        case .or: return a | b
        case .xor: return a ^ b
        case .andn: return a & ~b
        case .sll: return a &<< (b & shMask)
        case .srl: return a &>> (b & shMask)
        case .sra: return UInt64(bitPattern: vSext(a, bits) &>> Int64(b & shMask))
        case .ror:
            let n = b & shMask
            return n == 0 ? a : a &>> n | a &<< (UInt64(bits) &- n)
        case .rol:
            let n = b & shMask
            return n == 0 ? a : a &<< n | a &>> (UInt64(bits) &- n)
        case .adc: return a &+ b &+ (v0 ? 1 : 0)
        case .sbc: return a &- b &- (v0 ? 1 : 0)
        case .merge: return v0 ? b : a
        case .mv: return b
        // §31.12.1 saturating add/subtract.
        case .saddu:
            let (r, o) = a.addingReportingOverflow(b)
            if o || r > ones { sat = true; return ones }
            return r
        case .sadd:
            let (r, o) = vSext(a, bits).addingReportingOverflow(vSext(b, bits))
            if o { sat = true; return r < 0 ? UInt64(bitPattern: Int64.max) : UInt64(bitPattern: Int64.min) }
            return vClampSigned(r, bits, &sat)
        case .ssubu:
            if b > a { sat = true; return 0 }
            return a &- b
        case .ssub:
            let (r, o) = vSext(a, bits).subtractingReportingOverflow(vSext(b, bits))
            if o { sat = true; return r < 0 ? UInt64(bitPattern: Int64.max) : UInt64(bitPattern: Int64.min) }
            return vClampSigned(r, bits, &sat)
        // §31.12.2 averaging add/subtract: the (SEW+1)-bit result shifted right by one with rounding;
        // at SEW=64 the lost 65th bit is recovered from the overflow.
        case .aaddu:
            let r = a &+ b
            return (r &>> 1 | (r < a ? 1 &<< 63 : 0)) &+ vRoundIncrement(r, 1, rm)
        case .aadd:
            let x = vSext(a, bits), y = vSext(b, bits), r = x &+ y
            let over = (r ^ x) & (r ^ y) & Int64.min
            return UInt64(bitPattern: (r &>> 1) ^ over) &+ vRoundIncrement(UInt64(bitPattern: r), 1, rm)
        case .asubu:
            let r = a &- b
            return (r &>> 1 | (r > a ? 1 &<< 63 : 0)) &+ vRoundIncrement(r, 1, rm)
        case .asub:
            let x = vSext(a, bits), y = vSext(b, bits), r = x &- y
            let over = (r ^ x) & (x ^ y) & Int64.min
            return UInt64(bitPattern: (r &>> 1) ^ over) &+ vRoundIncrement(UInt64(bitPattern: r), 1, rm)
        // §31.12.3 fractional multiply with rounding and saturation.
        case .smul:
            let x = vSext(a, bits), y = vSext(b, bits)
            if bits == 64 {
                if x == .min && y == .min { sat = true; return UInt64(bitPattern: Int64.max) }
                let (hi, lo) = x.multipliedFullWidth(by: y)
                return (UInt64(bitPattern: hi) &<< 1 | lo &>> 63) &+ vRoundIncrement(lo, 63, rm)
            }
            let p = x &* y, d = UInt64(bits &- 1)
            return vClampSigned((p &>> Int64(d)) &+ Int64(bitPattern: vRoundIncrement(UInt64(bitPattern: p), d, rm)), bits, &sat)
        // §31.12.4 scaling shifts.
        case .ssrl:
            let n = b & shMask
            return (a &>> n) &+ vRoundIncrement(a, n, rm)
        case .ssra:
            let n = b & shMask
            return UInt64(bitPattern: vSext(a, bits) &>> Int64(n)) &+ vRoundIncrement(a, n, rm)
        // §31.11.10 multiply, §31.11.11 divide (x/0 = all ones, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0).
        case .mul: return a &* b
        case .mulh:
            if bits == 64 { return UInt64(bitPattern: Int64(bitPattern: a).multipliedFullWidth(by: Int64(bitPattern: b)).high) }
            return UInt64(bitPattern: (vSext(a, bits) &* vSext(b, bits)) &>> Int64(bits))
        case .mulhu:
            if bits == 64 { return a.multipliedFullWidth(by: b).high }
            return (a &* b) &>> UInt64(bits)
        case .mulhsu:                                                 // signed vs2 * unsigned vs1
            if bits == 64 {
                let hi = a.multipliedFullWidth(by: b).high
                return Int64(bitPattern: a) < 0 ? hi &- b : hi
            }
            return UInt64(bitPattern: (vSext(a, bits) &* Int64(bitPattern: b)) &>> Int64(bits))
        case .divu: return b == 0 ? .max : a / b
        case .remu: return b == 0 ? a : a % b
        case .div:
            let x = vSext(a, bits), y = vSext(b, bits)
            if y == 0 { return .max }
            if y == -1 { return UInt64(bitPattern: 0 &- x) }
            return UInt64(bitPattern: x / y)
        case .rem:
            let x = vSext(a, bits), y = vSext(b, bits)
            if y == 0 { return a }
            if y == -1 { return 0 }
            return UInt64(bitPattern: x % y)
        // §31.11.13 multiply-add: vmacc/vnmsac accumulate into vd, vmadd/vnmsub multiply vd.
        case .macc: return c &+ b &* a
        case .nmsac: return c &- b &* a
        case .madd: return b &* c &+ a
        case .nmsub: return a &- b &* c
        // Zvbb unary.
        case .brev8: return vBitReverseBytes(a)
        case .rev8: return a.byteSwapped &>> UInt64(64 &- bits)
        case .brev: return vBitReverseBytes(a).byteSwapped &>> UInt64(64 &- bits)
        case .clz: return UInt64(a.leadingZeroBitCount &- (64 &- bits))
        case .ctz: return a == 0 ? UInt64(bits) : UInt64(a.trailingZeroBitCount)
        case .cpop: return UInt64(a.nonzeroBitCount)
        default: return 0
        }
    }

    /// A mask-producing operation on a = vs2[i], b = vs1[i] or the scalar; `cin` the carry/borrow in.
    @inline(__always)
    static func vIntCompare(_ op: VIntOp, _ a: UInt64, _ b: UInt64, _ cin: Bool, _ bits: Int) -> Bool {
        switch op {
        case .madc:                                                   // a + b + cin >= 2^SEW
            let room = (bits == 64 ? UInt64.max : (1 &<< UInt64(bits)) &- 1) &- b
            return cin ? a >= room : a > room
        case .msbc: return cin ? a <= b : a < b                       // a - b - bin < 0
        case .seq: return a == b
        case .sne: return a != b
        case .sltu: return a < b
        case .slt: return vSext(a, bits) < vSext(b, bits)
        case .sleu: return a <= b
        case .sle: return vSext(a, bits) <= vSext(b, bits)
        case .sgtu: return a > b
        case .sgt: return vSext(a, bits) > vSext(b, bits)
        default: return false
        }
    }

    /// A widening operation (`bits` = SEW <= 32): a = vs2[i] (2*SEW for the W forms), b = vs1[i] or
    /// the scalar, c = the 2*SEW vd[i] of the multiply-adds. Products of two SEW values fit in 64 bits.
    @inline(__always)
    static func vIntWide(_ op: VIntOp, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ bits: Int) -> UInt64 {
        let sa = UInt64(bitPattern: vSext(a, bits)), sb = UInt64(bitPattern: vSext(b, bits))
        switch op {
        case .waddu, .wadduW: return a &+ b
        case .wadd: return sa &+ sb
        case .wsubu, .wsubuW: return a &- b
        case .wsub: return sa &- sb
        case .waddW: return a &+ sb
        case .wsubW: return a &- sb
        case .wmulu: return a &* b
        case .wmulsu: return sa &* b                                  // signed vs2 * unsigned vs1
        case .wmul: return sa &* sb
        case .wmaccu: return c &+ b &* a
        case .wmacc: return c &+ sb &* sa
        case .wmaccsu: return c &+ sb &* a                            // signed vs1 * unsigned vs2
        case .wmaccus: return c &+ b &* sa                            // unsigned rs1 * signed vs2
        case .wsll: return a &<< (b & UInt64(2 &* bits &- 1))
        default: return 0
        }
    }

    /// A narrowing operation (`bits` = SEW <= 32): a = the 2*SEW vs2[i], b = the shift amount source;
    /// vnclip rounds by vxrm and saturates (§31.12.5).
    @inline(__always)
    static func vIntNarrow(_ op: VIntOp, _ a: UInt64, _ b: UInt64, _ bits: Int, _ rm: UInt64, _ sat: inout Bool) -> UInt64 {
        let wide = 2 &* bits, n = b & UInt64(wide &- 1)
        switch op {
        case .nsrl: return a &>> n
        case .nsra: return UInt64(bitPattern: vSext(a, wide) &>> Int64(n))
        case .nclipu:
            let r = (a &>> n) &+ vRoundIncrement(a, n, rm), ones = (UInt64(1) &<< UInt64(bits)) &- 1
            if r > ones { sat = true; return ones }
            return r
        case .nclip:
            let r = (vSext(a, wide) &>> Int64(n)) &+ Int64(bitPattern: vRoundIncrement(a, n, rm))
            return vClampSigned(r, bits, &sat)
        default: return 0
        }
    }
}
