// CSR reads and writes with their privilege, WARL and side-effect rules (privileged spec §2, §3, §4).

extension Hart {
    static let sstatusMask: UInt64 = MStatus.sie | MStatus.spie | MStatus.ube | MStatus.spp | MStatus.vs | MStatus.fs
        | MStatus.xs | MStatus.sum | MStatus.mxr | MStatus.uxl | MStatus.sd
    static let mstatusWritable: UInt64 = MStatus.sie | MStatus.mie | MStatus.spie | MStatus.mpie | MStatus.spp
        | MStatus.mpp | MStatus.fs | MStatus.mprv | MStatus.sum | MStatus.mxr | MStatus.tvm | MStatus.tw | MStatus.tsr
    static let sInterrupts: UInt64 = IRQ.ssip | IRQ.stip | IRQ.seip
    static let mInterrupts: UInt64 = IRQ.msip | IRQ.mtip | IRQ.meip

    var fpEnabled: Bool { mstatus & MStatus.fs != 0 }
    func markFPDirty() { mstatus |= MStatus.fs | MStatus.sd }

    /// Counter access check for cycle/time/instret and hpmcounters (§3.1.11, §4.1.5).
    func counterAllowed(_ index: UInt64) -> Bool {
        if prv == Priv.machine { return true }
        if mcounteren >> index & 1 == 0 { return false }
        if prv == Priv.user && scounteren >> index & 1 == 0 { return false }
        return true
    }

    /// Reads a CSR; nil means illegal instruction.
    public func csrRead(_ n: UInt16) -> UInt64? {
        if UInt8((n >> 8) & 3) > prv { return nil }
        switch n {
        case CSR.fflags: return fpEnabled ? fcsr & 0x1f : nil
        case CSR.frm: return fpEnabled ? (fcsr >> 5) & 7 : nil
        case CSR.fcsr: return fpEnabled ? fcsr & 0xff : nil
        case 0xc00...0xc1f:
            let i = UInt64(n - 0xc00)
            guard counterAllowed(i) else { return nil }
            switch i {
            case 0: return instret &+ cycleOffset
            case 1: return time.now()
            case 2: return instret &+ instretOffset
            default: return 0
            }
        case CSR.sstatus: return mstatus & Hart.sstatusMask
        case CSR.sie: return mie & mideleg
        case CSR.sip: return mip & mideleg
        case CSR.stvec: return stvec
        case CSR.scounteren: return scounteren
        case CSR.senvcfg: return senvcfg
        case CSR.sscratch: return sscratch
        case CSR.sepc: return sepc
        case CSR.scause: return scause
        case CSR.stval: return stval
        case CSR.stimecmp:
            guard prv == Priv.machine || (menvcfg >> 63 != 0 && mcounteren & 2 != 0) else { return nil }
            return stimecmp
        case CSR.satp:
            if prv == Priv.supervisor && mstatus & MStatus.tvm != 0 { return nil }
            return satp
        case CSR.mvendorid, CSR.marchid, CSR.mimpid, CSR.mconfigptr: return 0
        case CSR.mhartid: return UInt64(id)
        case CSR.mstatus: return mstatus
        case CSR.misa: return misa
        case CSR.medeleg: return medeleg
        case CSR.mideleg: return mideleg
        case CSR.mie: return mie
        case CSR.mip: return mip
        case CSR.mtvec: return mtvec
        case CSR.mcounteren: return mcounteren
        case CSR.menvcfg: return menvcfg
        case CSR.mcountinhibit: return mcountinhibit
        case CSR.mscratch: return mscratch
        case CSR.mepc: return mepc
        case CSR.mcause: return mcause
        case CSR.mtval: return mtval
        case 0x3a0...0x3af:
            let i = Int(n - 0x3a0)
            if i & 1 != 0 { return nil }  // RV64: odd pmpcfg registers do not exist
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(pmpcfg[i * 4 + b]) << UInt64(8 * b) }
            return v
        case 0x3b0...0x3bf: return pmpaddr[Int(n - 0x3b0)]
        case 0x3c0...0x3ef: return 0  // pmpaddr16-63: not implemented, read as zero
        case CSR.mcycle: return instret &+ cycleOffset
        case CSR.minstret: return instret &+ instretOffset
        case 0xb03...0xb1f, 0x323...0x33f: return 0  // hpm counters and events: hardwired to zero
        default: return nil
        }
    }

    /// Writes a CSR; false means illegal instruction. Read-only CSRs are rejected here.
    public func csrWrite(_ n: UInt16, _ v: UInt64) -> Bool {
        if UInt8((n >> 8) & 3) > prv || n >> 10 == 3 { return false }
        switch n {
        case CSR.fflags:
            guard fpEnabled else { return false }
            fcsr = (fcsr & ~0x1f) | (v & 0x1f); markFPDirty()
        case CSR.frm:
            guard fpEnabled else { return false }
            fcsr = (fcsr & 0x1f) | ((v & 7) << 5); markFPDirty()
        case CSR.fcsr:
            guard fpEnabled else { return false }
            fcsr = v & 0xff; markFPDirty()
        case CSR.sstatus: setMstatus((mstatus & ~Hart.sstatusMask) | (v & Hart.sstatusMask))
        case CSR.sie: mie = (mie & ~mideleg) | (v & mideleg)
        case CSR.sip:
            let writable = IRQ.ssip & mideleg
            mipSoft = (mipSoft & ~writable) | (v & writable)
        case CSR.stvec: stvec = v & ~2
        case CSR.scounteren: scounteren = v & 0xffff_ffff
        case CSR.senvcfg: senvcfg = v & 1
        case CSR.sscratch: sscratch = v
        case CSR.sepc: sepc = v & ~1
        case CSR.scause: scause = v
        case CSR.stval: stval = v
        case CSR.stimecmp:
            guard prv == Priv.machine || (menvcfg >> 63 != 0 && mcounteren & 2 != 0) else { return false }
            stimecmp = v
        case CSR.satp:
            if prv == Priv.supervisor && mstatus & MStatus.tvm != 0 { return false }
            let mode = v >> 60
            guard mode == 0 || mode == 8 || mode == 9 || mode == 10 else { return true }  // WARL: keep old
            satp = mode == 0 ? 0 : (v & ~(0xffff << 44) | (v & (0xffff << 44)))
            flushTLB()
        case CSR.mstatus: setMstatus((mstatus & ~Hart.mstatusWritable) | (v & Hart.mstatusWritable))
        case CSR.misa: break  // WARL: fixed
        case CSR.medeleg: medeleg = v & 0xb3ff  // all standard exceptions except ecall from M (11) and 14
        case CSR.mideleg: mideleg = v & Hart.sInterrupts
        case CSR.mie: mie = v & (Hart.sInterrupts | Hart.mInterrupts)
        case CSR.mip:
            var writable = IRQ.ssip | IRQ.seip
            if menvcfg >> 63 == 0 { writable |= IRQ.stip }
            mipSoft = (mipSoft & ~writable) | (v & writable)
        case CSR.mtvec: mtvec = v & ~2
        case CSR.mcounteren: mcounteren = v & 0xffff_ffff
        case CSR.menvcfg: menvcfg = v & ((1 << 63) | 1)  // STCE, FIOM
        case CSR.mcountinhibit: mcountinhibit = v & 0xffff_fffd
        case CSR.mscratch: mscratch = v
        case CSR.mepc: mepc = v & ~1
        case CSR.mcause: mcause = v
        case CSR.mtval: mtval = v
        case 0x3a0...0x3af:
            let i = Int(n - 0x3a0)
            if i & 1 != 0 { return false }
            for b in 0..<8 {
                let idx = i * 4 + b
                if pmpcfg[idx] & 0x80 != 0 { continue }  // locked
                var c = UInt8(truncatingIfNeeded: v >> UInt64(8 * b)) & 0x9f
                if c & 3 == 2 { c &= ~2 }  // W without R is reserved: clear W
                pmpcfg[idx] = c
            }
            rebuildPMP(); flushAllTLB()
        case 0x3b0...0x3bf:
            let i = Int(n - 0x3b0)
            let locked = pmpcfg[i] & 0x80 != 0 || (i < 15 && pmpcfg[i + 1] & 0x98 == 0x88)  // next is locked TOR
            if !locked { pmpaddr[i] = v & ((1 << 54) - 1); rebuildPMP(); flushAllTLB() }
        case 0x3c0...0x3ef: break
        case CSR.mcycle: cycleOffset = v &- instret
        case CSR.minstret: instretOffset = v &- instret
        case 0xb03...0xb1f, 0x323...0x33f: break
        case CSR.mvendorid, CSR.marchid, CSR.mimpid, CSR.mhartid, CSR.mconfigptr: return false
        default: return false
        }
        return true
    }

    func setMstatus(_ v: UInt64) {
        var n = v
        let oldMXR = mstatus & MStatus.mxr
        // MPP is WARL: the reserved value 2 becomes U.
        if (n & MStatus.mpp) >> MStatus.mppShift == 2 { n &= ~MStatus.mpp }
        n = (n & ~(MStatus.uxl | MStatus.sxl)) | (2 << 32) | (2 << 34)
        if n & MStatus.fs == MStatus.fs || n & MStatus.xs == MStatus.xs || n & MStatus.vs == MStatus.vs { n |= MStatus.sd } else { n &= ~MStatus.sd }
        mstatus = n
        if oldMXR != n & MStatus.mxr { flushTLB() }
    }

    /// Executes a Zicsr instruction. Returns false if it is illegal.
    func csrInstruction(_ d: DOp) -> Bool {
        let n = UInt16(truncatingIfNeeded: d.imm) & 0xfff
        let rdIsZero = d.rd == 32
        let src: UInt64
        switch d.op {
        case .csrrw, .csrrs, .csrrc: src = x[Int(d.rs1)]
        default: src = UInt64(d.rs1)
        }
        let writes: Bool
        switch d.op {
        case .csrrw, .csrrwi: writes = true
        default: writes = d.rs1 != 0
        }
        if writes && n >> 10 == 3 { return false }
        var old: UInt64 = 0
        if !(rdIsZero && (d.op == .csrrw || d.op == .csrrwi)) {
            guard let v = csrRead(n) else { return false }
            old = v
        } else if UInt8((n >> 8) & 3) > prv {
            return false
        }
        if writes {
            // For mip, only the software-writable SEIP bit takes part in the read-modify-write
            // (privileged spec §3.1.9): the external SEIP level must not be latched into it.
            var base = old
            if n == CSR.mip { base = (old & ~IRQ.seip) | (mipSoft & IRQ.seip) }
            let newValue: UInt64
            switch d.op {
            case .csrrw, .csrrwi: newValue = src
            case .csrrs, .csrrsi: newValue = base | src
            default: newValue = base & ~src
            }
            guard csrWrite(n, newValue) else { return false }
        }
        x[Int(d.rd)] = old
        return true
    }
}
