import Platform
// Vector loads and stores (V 1.0, §31.7): unit-stride, strided, indexed (ordered and unordered),
// segment, fault-only-first, mask and whole-register forms. Elements go through the data TLB, or the
// slow path on a miss; a fault stops the instruction with vstart at the faulting element, so the
// trap handler's return resumes it there (§31.7.9 "vstart").

extension Hart {
    /// A data load (vector elements, FP): the data TLB when the page is mapped there and the access is aligned, the
    /// slow path (walks, MMIO, misaligned, traps) otherwise. nil after taking a trap.
    @inline(__always) func loadThroughTLB(_ va: UInt64, _ bytes: Int, _ tlbL: UnsafeMutablePointer<TLBEntry>) -> UInt64? {
        let e = tlbL[Int((va >> 12) & Hart.tlbMask)]
        if e.tag == va & ~(0xfff ^ UInt64(bytes &- 1)) { return Hart.hostLoad(hostPtr(va &+ e.addend), bytes) }
        return loadSlow(va, bytes)
    }
    /// A data store; false after taking a trap.
    @inline(__always) func storeThroughTLB(_ va: UInt64, _ bytes: Int, _ value: UInt64, _ tlbS: UnsafeMutablePointer<TLBEntry>) -> Bool {
        let e = tlbS[Int((va >> 12) & Hart.tlbMask)]
        if e.tag == va & ~(0xfff ^ UInt64(bytes &- 1)) { Hart.hostStore(hostPtr(va &+ e.addend), bytes, value); return true }
        return storeSlow(va, bytes, value)
    }
    /// Whether a load of `bytes` at `va` would succeed, without trapping: fault-only-first loads trim
    /// vl at the first element past 0 that would not (§31.7.7). Only RAM counts.
    func vLoadWouldSucceed(_ rawVA: UInt64, _ bytes: Int) -> Bool {
        let p = dataPriv, v = dataVirt
        for va in [rawVA, rawVA &+ UInt64(bytes - 1)] {
            let masked = maskPointer(va, p, virt: v)
            guard case .ok(let pa) = translate(masked, .load, p, virt: v), pmpAllows(pa, 1, .load, p),
                  ram.hostPointer(pa, 1) != nil else { return false }
        }
        return true
    }

    /// Elements `from..<to` of an unmasked unit-stride access: each page's run is one copy between the
    /// register group and the host page when the TLB maps it (and the run is aligned); otherwise one
    /// element goes the slow way, which fills the TLB or traps (vstart = that element).
    func vUnitStride(isStore: Bool, vd: Int, base: UInt64, eew: Int, from: Int, to: Int,
                     tlbL: UnsafeMutablePointer<TLBEntry>, tlbS: UnsafeMutablePointer<TLBEntry>) -> Bool {
        var i = from
        while i < to {
            let va = base &+ UInt64(i &* eew)
            let inPage = Int(4096 &- (va & 0xfff)) / eew
            let run = min(to &- i, inPage)
            let e = (isStore ? tlbS : tlbL)[Int((va >> 12) & Hart.tlbMask)]
            if run > 0, e.tag == va & ~(0xfff ^ UInt64(eew &- 1)) {
                let host = hostPtr(va &+ e.addend), reg = vreg + (vd &* vlenb &+ i &* eew)
                if isStore { host.copyMemory(from: reg, byteCount: run &* eew) } else { reg.copyMemory(from: host, byteCount: run &* eew) }
                i &+= run
                continue
            }
            if isStore {
                guard storeThroughTLB(va, eew, vGet(vd, i, eew), tlbS) else { vstart = UInt64(i); return false }
            } else {
                guard let value = loadThroughTLB(va, eew, tlbL) else { vstart = UInt64(i); return false }
                vSet(vd, i, eew, value)
            }
            i &+= 1
        }
        return true
    }

    /// Executes a vector load or store; nil for a reserved encoding.
    func executeVectorMemory(_ vi: VInst) -> Bool? {
        let raw = vi.raw, isStore = raw & 0x7f == 0x27
        let nf = Int(raw >> 29), mew = raw >> 28 & 1, mop = raw >> 26 & 3, umop = vi.vs2
        guard mew == 0 else { return nil }
        let eew: Int
        switch vi.funct3 { case 0: eew = 1; case 5: eew = 2; case 6: eew = 4; default: eew = 8 }
        let vd = vi.vd, base = x[vi.vs1]
        let tlbL = tlbLoad + dataSlot * Hart.tlbSize, tlbS = tlbStore + dataSlot * Hart.tlbSize

        if mop == 0 && umop == 8 {
            // Whole registers: nf+1 of 1, 2, 4 or 8 registers, no mask, no vtype (§31.7.9).
            let regs = nf + 1
            guard vi.masked == false, regs & (regs - 1) == 0, vd & (regs - 1) == 0, !isStore || eew == 1 else { return nil }
            let evl = regs * vlenb / eew
            return vUnitStride(isStore: isStore, vd: vd, base: base, eew: eew, from: Int(vstart), to: evl, tlbL: tlbL, tlbS: tlbS)
        }
        guard !vill else { return nil }
        if mop == 0 && umop == 0xb {
            // vlm.v / vsm.v: the mask's ceil(vl/8) bytes (§31.7.4).
            guard nf == 0, eew == 1, !vi.masked else { return nil }
            return vUnitStride(isStore: isStore, vd: vd, base: base, eew: 1, from: Int(vstart), to: (Int(vl) + 7) / 8, tlbL: tlbL, tlbS: tlbS)
        }
        let sew = vsewBytes, lmulLog2 = vlmulLog2
        let fields = nf + 1
        let indexed = mop & 1 == 1
        // Data EEW and EMUL: the encoded width for unit-stride and strided, SEW (and LMUL) for indexed.
        let dataEEW = indexed ? sew : eew
        let dataEMULLog2 = indexed ? lmulLog2 : eew.trailingZeroBitCount - sew.trailingZeroBitCount + lmulLog2
        guard dataEMULLog2 >= -3, dataEMULLog2 <= 3, Hart.vAligned(vd, dataEMULLog2) else { return nil }
        let dataRegs = Hart.vRegs(dataEMULLog2)
        guard fields * dataRegs <= 8, vd + fields * dataRegs <= 32 else { return nil }
        if vi.masked && vd == 0 && !isStore { return nil }   // a masked destination cannot hold v0 (§31.5.3)
        let indexEMULLog2 = eew.trailingZeroBitCount - sew.trailingZeroBitCount + lmulLog2
        if indexed {
            guard indexEMULLog2 >= -3, indexEMULLog2 <= 3, Hart.vAligned(vi.vs2, indexEMULLog2) else { return nil }
            if !isStore {
                // The destination may overlap the index group only as §31.5.2 allows, and not at all with segments.
                let indexRegs = Hart.vRegs(indexEMULLog2)
                if Hart.vOverlap(vd, fields * dataRegs, vi.vs2, indexRegs) {
                    guard fields == 1 else { return nil }
                    if dataEEW == eew { guard vd == vi.vs2 else { return nil } }
                    else if dataEEW < eew { guard vd == vi.vs2 else { return nil } }
                    else { guard indexEMULLog2 >= 0, vd + dataRegs == vi.vs2 + indexRegs else { return nil } }
                }
            }
        }
        let firstFault = mop == 0 && umop == 0x10
        if mop == 0 { guard umop == 0 || (umop == 0x10 && !isStore) else { return nil } }
        let stride: UInt64 = mop == 2 ? x[vi.vs2] : UInt64(fields * eew)
        var i = Int(vstart)
        let count = Int(vl)
        if mop == 0 && fields == 1 && !vi.masked && !firstFault {
            // Unmasked unit-stride: whole runs of elements within a page at once, through the TLB.
            return vUnitStride(isStore: isStore, vd: vd, base: base, eew: eew, from: i, to: count, tlbL: tlbL, tlbS: tlbS)
        }
        while i < count {
            if vi.masked && !vMaskBit(0, i) { i += 1; continue }
            let elementBase: UInt64
            if indexed {
                elementBase = base &+ vGet(vi.vs2, i, eew)
            } else {
                elementBase = base &+ stride &* UInt64(i)
            }
            for s in 0..<fields {
                let va = elementBase &+ UInt64(s * dataEEW)
                let reg = vd + s * dataRegs
                if isStore {
                    guard storeThroughTLB(va, dataEEW, vGet(reg, i, dataEEW), tlbS) else { vstart = UInt64(i); return false }
                } else {
                    if firstFault && i > 0 && !vLoadWouldSucceed(va, dataEEW) {
                        vl = UInt64(i)
                        return true
                    }
                    guard let value = loadThroughTLB(va, dataEEW, tlbL) else { vstart = UInt64(i); return false }
                    vSet(reg, i, dataEEW, value)
                }
            }
            i += 1
        }
        return true
    }
}
