import Platform
// Vector reductions, mask instructions, slides, gathers, compress and whole-register moves (V 1.0, §31).
// Where the spec leaves a choice, this follows QEMU 7.2: vstart != 0 is illegal for reductions, vcpop/vfirst,
// vmsbf/vmsif/vmsof/viota and vcompress; vm=0 is illegal for vmv.x.s, vmv.s.x and vmv<nr>r.v but ignored
// for the mask logical instructions and vcompress.vm.

extension Hart {
    /// Executes `vi` if it is one of this file's; nil when it is not (the caller tries the next
    /// family, then takes an illegal-instruction trap). Returns false after taking a trap.
    func executeVectorPermute(_ vi: VInst) -> Bool? {
        switch vi.funct3 {
        case VFunct3.opmvv:
            switch vi.funct6 {
            case 0x00...0x07: return vpReduce(vi, widening: false)
            case 0x10: return vpWXUnary0(vi)
            case 0x14: return vpMUnary0(vi)
            case 0x17: return vpCompress(vi)
            case 0x18...0x1f: return vpMaskLogical(vi)
            default: return nil
            }
        case VFunct3.opmvx:
            switch vi.funct6 {
            case 0x0e, 0x0f: return vpSlide(vi, offset: 1)
            case 0x10: return vpMoveScalarToVector(vi)
            default: return nil
            }
        case VFunct3.opivv:
            switch vi.funct6 {
            case 0x0c, 0x0e: return vpGatherVV(vi)
            case 0x30, 0x31: return vpReduce(vi, widening: true)
            default: return nil
            }
        case VFunct3.opivx:
            switch vi.funct6 {
            case 0x0c: return vpGatherScalar(vi, index: x[vi.vs1])
            case 0x0e, 0x0f: return vpSlide(vi, offset: x[vi.vs1])
            default: return nil
            }
        case VFunct3.opivi:
            switch vi.funct6 {
            case 0x0c: return vpGatherScalar(vi, index: vi.uimm5)
            case 0x0e, 0x0f: return vpSlide(vi, offset: vi.uimm5)
            case 0x27: return vpMoveWhole(vi)
            default: return nil
            }
        default:
            return nil
        }
    }

    // MARK: Element access

    @inline(__always) private func vpLoad<T: FixedWidthInteger>(_ reg: Int, _ i: Int, _: T.Type) -> T {
        vreg.load(fromByteOffset: reg &* vlenb &+ i &* MemoryLayout<T>.size, as: T.self)
    }
    @inline(__always) private func vpStore<T: FixedWidthInteger>(_ reg: Int, _ i: Int, _ value: T) {
        vreg.storeBytes(of: value, toByteOffset: reg &* vlenb &+ i &* MemoryLayout<T>.size, as: T.self)
    }
    /// 64 bits of mask register `reg` starting at bit 64*w.
    @inline(__always) private func vpMaskWord(_ reg: Int, _ w: Int) -> UInt64 {
        vreg.load(fromByteOffset: reg &* vlenb &+ w &* 8, as: UInt64.self)
    }
    /// The bits of word w that lie in [from, to).
    @inline(__always) private static func vpRangeMask(_ w: Int, _ from: Int, _ to: Int) -> UInt64 {
        let lo = w &* 64, hi = lo &+ 64
        if to <= lo || from >= hi { return 0 }
        let a = max(from, lo) &- lo, b = min(to, hi) &- lo
        let top: UInt64 = b == 64 ? ~0 : (1 << UInt64(b)) &- 1
        return top & ~((1 << UInt64(a)) &- 1)
    }

    // MARK: Reductions (§31.14.1)

    /// vred* (OPMVV 0x00-0x07) and vwredsum{u} (OPIVV 0x30/0x31): vd[0] = op(vs1[0], active vs2[*]).
    /// vs1 and vd are scalars (any register, v0 included); vstart != 0 is illegal (QEMU).
    private func vpReduce(_ vi: VInst, widening: Bool) -> Bool? {
        guard !vill, vstart == 0, Hart.vAligned(vi.vs2, vlmulLog2) else { return nil }
        let sew = vsewBytes
        if widening {
            guard sew < 8 else { return nil }
            guard vl != 0 else { return true }
            let signed = vi.funct6 == 0x31
            switch (sew, signed) {
            case (1, true): vpWidenSum(vi, Int8.self, UInt16.self)
            case (1, false): vpWidenSum(vi, UInt8.self, UInt16.self)
            case (2, true): vpWidenSum(vi, Int16.self, UInt32.self)
            case (2, false): vpWidenSum(vi, UInt16.self, UInt32.self)
            case (_, true): vpWidenSum(vi, Int32.self, UInt64.self)
            default: vpWidenSum(vi, UInt32.self, UInt64.self)
            }
            return true
        }
        guard vl != 0 else { return true }
        switch sew {
        case 1: vpReduce(vi, UInt8.self, Int8.self)
        case 2: vpReduce(vi, UInt16.self, Int16.self)
        case 4: vpReduce(vi, UInt32.self, Int32.self)
        default: vpReduce(vi, UInt64.self, Int64.self)
        }
        return true
    }

    @inline(__always) private func vpFold<T: FixedWidthInteger>(_ vi: VInst, _ start: T, _ op: (T, T) -> T) -> T {
        var acc = start
        let n = Int(vl), vs2 = vi.vs2
        if vi.masked {
            for i in 0..<n where vMaskBit(0, i) { acc = op(acc, vpLoad(vs2, i, T.self)) }
        } else {
            for i in 0..<n { acc = op(acc, vpLoad(vs2, i, T.self)) }
        }
        return acc
    }

    @inline(__always) private func vpReduce<U: FixedWidthInteger & UnsignedInteger, S: FixedWidthInteger & SignedInteger>(
        _ vi: VInst, _: U.Type, _: S.Type
    ) {
        let vd = vi.vd, s = vpLoad(vi.vs1, 0, U.self)
        let r: U
        switch vi.funct6 {
        case 0: r = vpFold(vi, s) { $0 &+ $1 }
        case 1: r = vpFold(vi, s) { $0 & $1 }
        case 2: r = vpFold(vi, s) { $0 | $1 }
        case 3: r = vpFold(vi, s) { $0 ^ $1 }
        case 4: r = vpFold(vi, s) { min($0, $1) }
        case 5: r = U(truncatingIfNeeded: vpFold(vi, S(truncatingIfNeeded: s)) { min($0, $1) })
        case 6: r = vpFold(vi, s) { max($0, $1) }
        default: r = U(truncatingIfNeeded: vpFold(vi, S(truncatingIfNeeded: s)) { max($0, $1) })
        }
        vpStore(vd, 0, r)
    }

    /// vwredsum{u}: the SEW elements, sign- or zero-extended (by N's signedness), summed into a 2*SEW scalar.
    @inline(__always) private func vpWidenSum<N: FixedWidthInteger, W: FixedWidthInteger>(_ vi: VInst, _: N.Type, _: W.Type) {
        var acc = vpLoad(vi.vs1, 0, W.self)
        let n = Int(vl), vs2 = vi.vs2
        for i in 0..<n where vActive(vi, i) { acc &+= W(truncatingIfNeeded: vpLoad(vs2, i, N.self)) }
        vpStore(vi.vd, 0, acc)
    }

    // MARK: Mask instructions (§31.15)

    /// vmandn, vmand, vmor, vmxor, vmorn, vmnand, vmnor, vmxnor (OPMVV 0x18-0x1f): bits vstart..vl-1,
    /// a word at a time. Always unmasked: vm=0 is reserved, and QEMU 7.2 ignores the bit (so do we).
    private func vpMaskLogical(_ vi: VInst) -> Bool? {
        guard !vill else { return nil }
        let from = Int(vstart), to = Int(vl)
        guard from < to else { return true }
        let vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2, op = vi.funct6
        for w in (from >> 6)...((to - 1) >> 6) {
            let a = vpMaskWord(vs2, w), b = vpMaskWord(vs1, w)
            let r: UInt64
            switch op {
            case 0x18: r = a & ~b
            case 0x19: r = a & b
            case 0x1a: r = a | b
            case 0x1b: r = a ^ b
            case 0x1c: r = a | ~b
            case 0x1d: r = ~(a & b)
            case 0x1e: r = ~(a | b)
            default: r = ~(a ^ b)
            }
            let m = Hart.vpRangeMask(w, from, to)
            vreg.storeBytes(of: vpMaskWord(vd, w) & ~m | r & m, toByteOffset: vd &* vlenb &+ w &* 8, as: UInt64.self)
        }
        return true
    }

    /// VWXUNARY0 (OPMVV 0x10): vmv.x.s (vs1 = 0), vcpop.m (0x10), vfirst.m (0x11).
    private func vpWXUnary0(_ vi: VInst) -> Bool? {
        guard !vill else { return nil }
        let rd = vi.vd == 0 ? 32 : vi.vd
        switch vi.vs1 {
        case 0x00:
            // §31.16.1: ignores vl and LMUL; element 0 sign-extended. vm=0 is reserved.
            guard !vi.masked else { return nil }
            x[rd] = UInt64(bitPattern: vGetSigned(vi.vs2, 0, vsewBytes))
        case 0x10, 0x11:
            guard vstart == 0 else { return nil }
            let n = Int(vl), vs2 = vi.vs2
            var count: UInt64 = 0, first: Int64 = -1
            if n > 0 {
                for w in 0...((n - 1) >> 6) {
                    var bits = vpMaskWord(vs2, w) & Hart.vpRangeMask(w, 0, n)
                    if vi.masked { bits &= vpMaskWord(0, w) }
                    if vi.vs1 == 0x10 {
                        count &+= UInt64(bits.nonzeroBitCount)
                    } else if bits != 0 {
                        first = Int64(w * 64 + bits.trailingZeroBitCount)
                        break
                    }
                }
            }
            x[rd] = vi.vs1 == 0x10 ? count : UInt64(bitPattern: first)
        default:
            return nil
        }
        return true
    }

    /// vmv.s.x (VRXUNARY0, OPMVX 0x10, vs2 = 0): element 0 = x[rs1] when vstart < vl (§31.16.1).
    private func vpMoveScalarToVector(_ vi: VInst) -> Bool? {
        guard !vill, !vi.masked, vi.vs2 == 0 else { return nil }
        if vstart < vl { vSet(vi.vd, 0, vsewBytes, x[vi.vs1]) }
        return true
    }

    /// VMUNARY0 (OPMVV 0x14): vmsbf.m (vs1 = 1), vmsof.m (2), vmsif.m (3), viota.m (0x10), vid.v (0x11).
    private func vpMUnary0(_ vi: VInst) -> Bool? {
        guard !vill else { return nil }
        let vd = vi.vd, vs2 = vi.vs2, n = Int(vl)
        if vi.masked && vd == 0 { return nil }      // a masked destination may not be v0 (§31.5.3)
        switch vi.vs1 {
        case 1, 2, 3:
            // §31.15.4-6: vd must not overlap vs2; vstart != 0 is illegal (QEMU).
            guard vd != vs2, vstart == 0 else { return nil }
            let kind = vi.vs1
            var found = false
            for i in 0..<n where vActive(vi, i) {
                let bit: Bool
                if found {
                    bit = false
                } else if vMaskBit(vs2, i) {
                    found = true
                    bit = kind != 1                     // vmsbf: 0; vmsof, vmsif: 1 at the first set bit
                } else {
                    bit = kind != 2                     // vmsof: 0 before it; vmsbf, vmsif: 1
                }
                vSetMaskBit(vd, i, bit)
            }
        case 0x10:
            // viota.m (§31.15.8): vd group aligned, not overlapping vs2; vstart != 0 illegal (QEMU).
            let lmul = vlmulLog2
            guard Hart.vAligned(vd, lmul), !Hart.vOverlap(vd, Hart.vRegs(lmul), vs2, 1), vstart == 0 else { return nil }
            let sew = vsewBytes
            var sum: UInt64 = 0
            for i in 0..<n where vActive(vi, i) {
                vSet(vd, i, sew, sum)
                if vMaskBit(vs2, i) { sum &+= 1 }
            }
        case 0x11:
            // vid.v (§31.15.9): vs2 must be 0.
            guard vs2 == 0, Hart.vAligned(vd, vlmulLog2) else { return nil }
            switch vsewBytes {
            case 1: vpIndex(vi, UInt8.self)
            case 2: vpIndex(vi, UInt16.self)
            case 4: vpIndex(vi, UInt32.self)
            default: vpIndex(vi, UInt64.self)
            }
        default:
            return nil
        }
        return true
    }

    /// vid.v: vd[i] = i for the active elements from vstart.
    @inline(__always) private func vpIndex<T: FixedWidthInteger>(_ vi: VInst, _: T.Type) {
        let vd = vi.vd, n = Int(vl)
        var i = Int(vstart)
        while i < n {
            if vActive(vi, i) { vpStore(vd, i, T(truncatingIfNeeded: i)) }
            i &+= 1
        }
    }

    // MARK: Permutations (§31.16)

    /// vslideup/vslidedown .vx/.vi (offset x[rs1] or uimm5) and vslide1up/vslide1down.vx (OPMVX, offset 1,
    /// the scalar x[rs1] entering at the end). Slide-ups may not overlap vd and vs2 (§31.16.3.1).
    private func vpSlide(_ vi: VInst, offset: UInt64) -> Bool? {
        let lmul = vlmulLog2, vd = vi.vd, vs2 = vi.vs2
        let up = vi.funct6 == 0x0e
        guard !vill, Hart.vAligned(vd, lmul), Hart.vAligned(vs2, lmul), !(vi.masked && vd == 0),
              !(up && vd == vs2) else { return nil }
        let one = vi.funct3 == VFunct3.opmvx
        let scalar = one ? x[vi.vs1] : 0
        switch vsewBytes {
        case 1: vpSlide(vi, UInt8.self, offset, up, one, scalar)
        case 2: vpSlide(vi, UInt16.self, offset, up, one, scalar)
        case 4: vpSlide(vi, UInt32.self, offset, up, one, scalar)
        default: vpSlide(vi, UInt64.self, offset, up, one, scalar)
        }
        return true
    }

    @inline(__always) private func vpSlide<T: FixedWidthInteger>(_ vi: VInst, _: T.Type, _ offset: UInt64, _ up: Bool,
                                                                 _ one: Bool, _ scalar: UInt64) {
        let vd = vi.vd, vs2 = vi.vs2, n = Int(vl), start = Int(vstart)
        let s = T(truncatingIfNeeded: scalar)
        if up {
            // vd[i] = vs2[i - offset] for i >= offset; vslide1up: vd[0] = x[rs1].
            let off = Int(min(offset, UInt64(n)))
            if one && start == 0 && n > 0 && vActive(vi, 0) { vpStore(vd, 0, s) }
            var i = max(start, off)
            while i < n {
                if vActive(vi, i) { vpStore(vd, i, vpLoad(vs2, i &- off, T.self)) }
                i += 1
            }
        } else {
            // vd[i] = vs2[i + offset] if i + offset < VLMAX, else 0 (vslide1down: x[rs1] at vl-1).
            // Ascending order reads each source before a write can reach it (vd may be vs2).
            let vlmax = vlmax(sewBytes: MemoryLayout<T>.size, lmulLog2: vlmulLog2)
            let last = one ? n - 1 : n
            let srcEnd = offset < UInt64(vlmax) ? vlmax - Int(offset) : 0   // i < srcEnd reads the source
            var i = start
            while i < last {
                if vActive(vi, i) { vpStore(vd, i, i < srcEnd ? vpLoad(vs2, i &+ Int(offset), T.self) : 0) }
                i += 1
            }
            if one && start < n && n > 0 && vActive(vi, n - 1) { vpStore(vd, n - 1, s) }
        }
    }

    /// vrgather.vv (OPIVV 0x0c, SEW indices) and vrgatherei16.vv (0x0e, 16-bit indices with
    /// EMUL = 16/SEW*LMUL): vd[i] = index < VLMAX ? vs2[index] : 0; vd overlaps no source (§31.16.4).
    private func vpGatherVV(_ vi: VInst) -> Bool? {
        guard !vill else { return nil }
        let lmul = vlmulLog2, sew = vsewBytes, vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2
        let ei16 = vi.funct6 == 0x0e
        let idxLog2 = ei16 ? 1 - sew.trailingZeroBitCount + lmul : lmul
        guard idxLog2 >= -3, Hart.vAligned(vd, lmul), Hart.vAligned(vs2, lmul), Hart.vAligned(vs1, idxLog2),
              !Hart.vOverlap(vd, Hart.vRegs(lmul), vs2, Hart.vRegs(lmul)),
              !Hart.vOverlap(vd, Hart.vRegs(lmul), vs1, Hart.vRegs(idxLog2)),
              !(vi.masked && vd == 0) else { return nil }
        switch (sew, ei16) {
        case (1, false): vpGather(vi, UInt8.self, UInt8.self)
        case (1, true): vpGather(vi, UInt8.self, UInt16.self)
        case (2, _): vpGather(vi, UInt16.self, UInt16.self)
        case (4, false): vpGather(vi, UInt32.self, UInt32.self)
        case (4, true): vpGather(vi, UInt32.self, UInt16.self)
        case (_, false): vpGather(vi, UInt64.self, UInt64.self)
        default: vpGather(vi, UInt64.self, UInt16.self)
        }
        return true
    }

    @inline(__always) private func vpGather<T: FixedWidthInteger, I: FixedWidthInteger & UnsignedInteger>(
        _ vi: VInst, _: T.Type, _: I.Type
    ) {
        let vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2, n = Int(vl)
        let vlmax = UInt64(vlmax(sewBytes: MemoryLayout<T>.size, lmulLog2: vlmulLog2))
        var i = Int(vstart)
        while i < n {
            if vActive(vi, i) {
                let index = UInt64(vpLoad(vs1, i, I.self))
                vpStore(vd, i, index < vlmax ? vpLoad(vs2, Int(index), T.self) : 0)
            }
            i += 1
        }
    }

    /// vrgather.vx/.vi: every active element = vs2[index], or 0 when index >= VLMAX.
    private func vpGatherScalar(_ vi: VInst, index: UInt64) -> Bool? {
        let lmul = vlmulLog2, vd = vi.vd, vs2 = vi.vs2
        guard !vill, Hart.vAligned(vd, lmul), Hart.vAligned(vs2, lmul), vd != vs2, !(vi.masked && vd == 0) else { return nil }
        let sew = vsewBytes
        let value = index < UInt64(vlmax(sewBytes: sew, lmulLog2: lmul)) ? vGet(vs2, Int(index), sew) : 0
        var i = Int(vstart)
        let n = Int(vl)
        while i < n {
            if vActive(vi, i) { vSet(vd, i, sew, value) }
            i += 1
        }
        return true
    }

    /// vcompress.vm (OPMVV 0x17, §31.16.5): the elements of vs2 selected by mask vs1, packed from vd[0].
    /// vm=0 is reserved, and QEMU 7.2 ignores the bit (so do we); vd overlaps neither source; vstart != 0
    /// is illegal.
    private func vpCompress(_ vi: VInst) -> Bool? {
        let lmul = vlmulLog2, vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2
        guard !vill, vstart == 0, Hart.vAligned(vd, lmul), Hart.vAligned(vs2, lmul), vd != vs2,
              !Hart.vOverlap(vd, Hart.vRegs(lmul), vs1, 1) else { return nil }
        switch vsewBytes {
        case 1: vpCompress(vi, UInt8.self)
        case 2: vpCompress(vi, UInt16.self)
        case 4: vpCompress(vi, UInt32.self)
        default: vpCompress(vi, UInt64.self)
        }
        return true
    }

    @inline(__always) private func vpCompress<T: FixedWidthInteger>(_ vi: VInst, _: T.Type) {
        let vd = vi.vd, vs1 = vi.vs1, vs2 = vi.vs2, n = Int(vl)
        var k = 0
        for i in 0..<n where vMaskBit(vs1, i) {
            vpStore(vd, k, vpLoad(vs2, i, T.self))
            k &+= 1
        }
    }

    /// vmv1r.v, vmv2r.v, vmv4r.v, vmv8r.v (OPIVI 0x27, simm5 = NREG-1, §31.16.6): ignore vtype (legal with
    /// vill); copy bytes from vstart*SEW/8 to the end of the group, as QEMU does.
    private func vpMoveWhole(_ vi: VInst) -> Bool? {
        let code = vi.vs1
        guard !vi.masked, code == 0 || code == 1 || code == 3 || code == 7 else { return nil }
        let nr = code + 1, vd = vi.vd, vs2 = vi.vs2
        guard vd % nr == 0, vs2 % nr == 0 else { return nil }
        let total = nr &* vlenb, from = Int(vstart) &* vsewBytes
        if from < total && vd != vs2 {
            (vreg + (vd &* vlenb &+ from)).copyMemory(from: vreg + (vs2 &* vlenb &+ from), byteCount: total &- from)
        }
        return true
    }
}
