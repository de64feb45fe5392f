import Platform
// CSR reads and writes with their privilege, WARL and side-effect rules (privileged spec §2, §3, §4).

extension Hart {
    static let sstatusMask: UInt64 = MStatus.sie | MStatus.spie | MStatus.ube | MStatus.spp | MStatus.vs | MStatus.fs
        | MStatus.xs | MStatus.sum | MStatus.mxr | MStatus.uxl | MStatus.sd
    static let mstatusWritable: UInt64 = MStatus.sie | MStatus.mie | MStatus.spie | MStatus.mpie | MStatus.spp
        | MStatus.mpp | MStatus.fs | MStatus.mprv | MStatus.sum | MStatus.mxr | MStatus.tvm | MStatus.tw | MStatus.tsr
    static let sInterrupts: UInt64 = IRQ.ssip | IRQ.stip | IRQ.seip
    static let mInterrupts: UInt64 = IRQ.msip | IRQ.mtip | IRQ.meip
    static let vsInterrupts: UInt64 = IRQ.vssip | IRQ.vstip | IRQ.vseip
    static let hstatusWritable: UInt64 = HStatus.gva | HStatus.spv | HStatus.spvp | HStatus.hu | HStatus.vtvm
        | HStatus.vtw | HStatus.vtsr

    /// Hypervisor and VS CSRs (HS-level, CSR address bits 9:8 = 2), which exist only with the H extension.
    static func isHypervisorCSR(_ n: UInt16) -> Bool {
        switch n {
        case CSR.hstatus, CSR.hedeleg, CSR.hideleg, CSR.hie, CSR.htimedelta, CSR.hcounteren, CSR.hgeie, CSR.henvcfg,
             CSR.htval, CSR.hip, CSR.hvip, CSR.htinst, CSR.hgatp, CSR.hgeip, CSR.hstateen0...CSR.hstateen0 + 3,
             CSR.vsstatus, CSR.vsie, CSR.vstvec, CSR.vsscratch, CSR.vsepc, CSR.vscause, CSR.vstval, CSR.vsip,
             CSR.vstimecmp, CSR.vsatp:
            return true
        default: return false
        }
    }
    static func isSupervisorCSR(_ n: UInt16) -> Bool {
        switch n {
        case CSR.sstatus, CSR.sie, CSR.stvec, CSR.scounteren, CSR.senvcfg, CSR.sscratch, CSR.sepc, CSR.scause,
             CSR.stval, CSR.sip, CSR.stimecmp, CSR.satp, CSR.sstateen0...CSR.sstateen0 + 3, 0xda0:
            return true
        default: return false
        }
    }

    /// Privilege check and V=1 redirection of a CSR number (privileged spec §2.1, H §"Hypervisor and Virtual
    /// Supervisor CSRs"). Returns the CSR to access, or nil for an illegal instruction; sets csrVirtualFault when
    /// the exception must be a virtual-instruction exception instead.
    func csrMap(_ n: UInt16) -> UInt16? {
        let level = UInt8((n >> 8) & 3)
        // Smstateen: an mstateen bit that is zero makes its CSRs illegal below M-mode, before any
        // virtual-instruction rule (that access would not be allowed in HS-mode either).
        if !extensions.contains(.smstateen) && Hart.isStateEnableCSR(n) { return nil }
        if prv != Priv.machine && extensions.contains(.smstateen), let (index, bit) = Hart.stateEnable(for: n),
           mstateen[index] >> bit & 1 == 0 {
            return nil
        }
        if prv != Priv.machine && aia != nil && extensions.contains(.smstateen), let bit = aiaStateEnableBit(n),
           mstateen[0] >> bit & 1 == 0 {
            return nil
        }
        if !hypervisorExtension {
            // Without H there are no HS-level (bits 9:8 = 2) CSRs, nor mtinst/mtval2.
            return level > prv || level == 2 || n == CSR.mtinst || n == CSR.mtval2 ? nil : n
        }
        if Hart.isHypervisorCSR(n) || (aia != nil && AIACSR.isHypervisor(n)) {
            // HS-level: allowed in HS and M; from VS/VU a virtual-instruction exception.
            if virt { csrVirtualFault = true; return nil }
            return prv >= Priv.supervisor ? n : nil
        }
        if !virt { return level > prv ? nil : n }
        if level == 3 { return nil }
        if (0xc00...0xc1f).contains(n) {
            let i = UInt64(n - 0xc00)
            if mcounteren >> i & 1 == 0 { return nil }
            if hcounteren >> i & 1 == 0 || (prv == Priv.user && scounteren >> i & 1 == 0) { csrVirtualFault = true; return nil }
            return n
        }
        if level == 1 {
            guard Hart.isSupervisorCSR(n) || (aia != nil && AIACSR.isSupervisor(n)) else { return nil }
            if prv == Priv.user { csrVirtualFault = true; return nil }
            switch n {
            case CSR.sstatus, CSR.sie, CSR.stvec, CSR.sscratch, CSR.sepc, CSR.scause, CSR.stval, CSR.sip: return n + 0x100
            case AIACSR.siselect, AIACSR.sireg, AIACSR.stopei, AIACSR.stopi:
                // The vs* AIA CSRs, unless hstateen0 closes them to VS-mode (Smaia §"Smstateen").
                if extensions.contains(.smstateen), let bit = aiaStateEnableBit(n + 0x100), hstateen[0] >> bit & 1 == 0 {
                    csrVirtualFault = true; return nil
                }
                return n + 0x100
            case CSR.satp:
                if hstatus & HStatus.vtvm != 0 { csrVirtualFault = true; return nil }
                return CSR.vsatp
            case CSR.stimecmp:
                // Sstc with H: stimecmp is vstimecmp when V=1 (menvcfg.STCE, mcounteren.TM, then henvcfg.STCE
                // and hcounteren.TM must allow it).
                if menvcfg >> 63 == 0 || mcounteren & 2 == 0 { return nil }
                if henvcfg >> 63 == 0 || hcounteren & 2 == 0 { csrVirtualFault = true; return nil }
                return CSR.vstimecmp
            default:
                // scounteren, senvcfg, sstateen: not swapped; hstateen gates senvcfg and sstateen for VS-mode.
                if extensions.contains(.smstateen), let (index, bit) = Hart.stateEnable(for: n), hstateen[index] >> bit & 1 == 0 {
                    csrVirtualFault = true; return nil
                }
                return n
            }
        }
        return level > prv ? nil : n
    }

    /// mstateen0-3, hstateen0-3, sstateen0-3: absent (illegal) without Smstateen.
    static func isStateEnableCSR(_ n: UInt16) -> Bool {
        (CSR.mstateen0...CSR.mstateen0 + 3).contains(n) || (CSR.hstateen0...CSR.hstateen0 + 3).contains(n)
            || (CSR.sstateen0...CSR.sstateen0 + 3).contains(n)
    }
    /// The mstateen/hstateen register and bit that gate CSR `n` (Smstateen §"State Enable 0 Registers"):
    /// SE (bit 63) sstateenN and hstateenN, ENVCFG (bit 62 of the 0 registers) senvcfg and henvcfg.
    static func stateEnable(for n: UInt16) -> (index: Int, bit: UInt64)? {
        switch n {
        case CSR.sstateen0...CSR.sstateen0 + 3: return (Int(n - CSR.sstateen0), 63)
        case CSR.hstateen0...CSR.hstateen0 + 3: return (Int(n - CSR.hstateen0), 63)
        case CSR.senvcfg, CSR.henvcfg: return (0, 62)
        default: return nil
        }
    }
    /// The writable bits of mstateenN and hstateenN: SE, ENVCFG in the 0 registers, and with the AIA
    /// CSRIND, AIA and IMSIC (bits 60, 59, 58 of the 0 registers). The others stand for state this hart
    /// lacks (custom state, Zfinx's fcsr, Zcmt, Sdtrig, ...) or are reserved: read-only zero.
    static func stateEnableWritable(_ index: Int, aia: Bool) -> UInt64 {
        index == 0 ? 3 << 62 | (aia ? Hart.aiaStateEnables : 0) : 1 << 63
    }
    /// mstateen0/hstateen0 bits 60 (CSRIND), 59 (AIA) and 58 (IMSIC).
    public static let aiaStateEnables: UInt64 = 7 << 58

    /// The mstateen0/hstateen0 bit that gates AIA CSR `n` below M-mode (Smaia §2.5): CSRIND for
    /// the *iselect/*ireg pairs, IMSIC for *topei and for *ireg while it selects an interrupt-file
    /// register, AIA for the rest.
    func aiaStateEnableBit(_ n: UInt16) -> UInt64? {
        switch n {
        case AIACSR.siselect, AIACSR.vsiselect: return 60
        case AIACSR.sireg: return (0x70...0xff).contains(aia?.siselect ?? 0) ? 58 : 60
        case AIACSR.vsireg: return (0x70...0xff).contains(aia?.vsiselect ?? 0) ? 58 : 60
        case AIACSR.stopei, AIACSR.vstopei: return 58
        case AIACSR.stopi, AIACSR.vstopi, AIACSR.hvien, AIACSR.hvictl, AIACSR.hviprio1, AIACSR.hviprio2: return 59
        default: return nil
        }
    }

    /// SGEI (bit 12) in mie/hie/hip: only with guest interrupt files (GEILEN > 0).
    var guestExternalBit: UInt64 { (aia?.geilen ?? 0) > 0 ? IRQ.sgeip : 0 }

    var fpEnabled: Bool { mstatus & MStatus.fs != 0 && (!virt || vsstatus & MStatus.fs != 0) }
    func markFPDirty() {
        mstatus |= MStatus.fs | MStatus.sd
        if virt { vsstatus |= MStatus.fs | MStatus.sd }
    }

    /// Counter access check for cycle/time/instret and hpmcounters (§3.1.11, §4.1.5).
    func counterAllowed(_ index: UInt64) -> Bool {
        if prv == Priv.machine { return true }
        if mcounteren >> index & 1 == 0 { return false }
        if prv == Priv.user && scounteren >> index & 1 == 0 { return false }
        return true
    }

    /// Reads a CSR; nil means illegal instruction.
    public func csrRead(_ n0: UInt16) -> UInt64? {
        guard let n = csrMap(n0) else { return nil }
        if let aia, let v = aiaRead(n, aia) { return v }
        switch n {
        case CSR.fflags: return fpEnabled ? fcsr & 0x1f : nil
        case 0x008...0x00a, 0x00f, 0xc20...0xc22: return vectorCSRRead(n)
        case CSR.frm: return fpEnabled ? (fcsr >> 5) & 7 : nil
        case CSR.fcsr: return fpEnabled ? fcsr & 0xff : nil
        case 0xc00...0xc1f:
            let i = UInt64(n - 0xc00)
            guard counterAllowed(i) else { return nil }
            switch i {
            case 0: return cycleCount
            case 1: return virt ? time.now() &+ htimedelta : time.now()
            case 2: return instretCount
            case 3..<UInt64(3 + Hart.hpmCounters): return hpmCounter(Int(i) - 3)
            default: return 0
            }
        case CSR.sstatus: return mstatus & Hart.sstatusMask
        case CSR.sie: return mie & mideleg & (Hart.sInterrupts | localCounterOverflowInterrupt)
        case CSR.sip: return mip & mideleg & (Hart.sInterrupts | localCounterOverflowInterrupt)
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
        case CSR.mcycle: return cycleCount
        case CSR.minstret: return instretCount
        case 0xb03..<0xb03 + UInt16(Hart.hpmCounters): return hpmCounter(Int(n - 0xb03))
        case 0x323..<0x323 + UInt16(Hart.hpmCounters): return hpmEvent[Int(n - 0x323)]
        case 0xb03...0xb1f, 0x323...0x33f: return 0  // the other hpm counters and events: hardwired to zero
        case 0xda0: return extensions.contains(.sscofpmf) ? scountovf : nil
        case CSR.mstateen0...CSR.mstateen0 + 3 where extensions.contains(.smstateen): return mstateen[Int(n - CSR.mstateen0)]
        case CSR.hstateen0...CSR.hstateen0 + 3 where extensions.contains(.smstateen): return hstateen[Int(n - CSR.hstateen0)]
        case CSR.sstateen0...CSR.sstateen0 + 3 where extensions.contains(.smstateen): return 0
        // H extension (csrMap only lets these through when it is present)
        case CSR.hstatus: return hstatus
        case CSR.hedeleg: return hedeleg
        case CSR.hideleg: return hideleg
        case CSR.hie: return mie & (Hart.vsInterrupts | guestExternalBit)   // SGEIE only with guest files
        case CSR.hip: return mip & (Hart.vsInterrupts | guestExternalBit)
        case CSR.hvip: return hvip & Hart.vsInterrupts
        case CSR.hgeie: return hgeie
        case CSR.hgeip: return aia?.hgeip ?? 0
        case CSR.hcounteren: return hcounteren
        case CSR.htimedelta: return htimedelta
        case CSR.htval: return htval
        case CSR.htinst: return htinst
        case CSR.hgatp:
            if prv == Priv.supervisor && mstatus & MStatus.tvm != 0 { return nil }
            return hgatp
        case CSR.henvcfg: return henvcfg
        case CSR.vstimecmp:
            guard prv == Priv.machine || virt || (menvcfg >> 63 != 0 && mcounteren & 2 != 0) else { return nil }
            return vstimecmp
        case CSR.vsstatus: return vsstatus
        case CSR.vsie: return (mie & hideleg & Hart.vsInterrupts) >> 1
        case CSR.vsip: return (mip & hideleg & Hart.vsInterrupts) >> 1
        case CSR.vstvec: return vstvec
        case CSR.vsscratch: return vsscratch
        case CSR.vsepc: return vsepc
        case CSR.vscause: return vscause
        case CSR.vstval: return vstval
        case CSR.vsatp: return vsatp
        case CSR.mtval2: return mtval2
        case CSR.mtinst: return mtinst
        default: return nil
        }
    }

    /// Writes a CSR; false means illegal instruction. Read-only CSRs are rejected here.
    public func csrWrite(_ n0: UInt16, _ v: UInt64) -> Bool {
        if n0 >> 10 == 3 { return false }
        guard let n = csrMap(n0) else { return false }
        if let aia, let ok = aiaWrite(n, v, aia) { return ok }
        switch n {
        case 0x008...0x00a, 0x00f: return vectorCSRWrite(n, v)
        case CSR.fflags:
            guard fpEnabled else { return false }
            fcsr = (fcsr & ~0x1f) | (v & 0x1f); markFPDirty()
        case CSR.frm:
            guard fpEnabled else { return false }
            fcsr = (fcsr & 0x1f) | ((v & 7) << 5); markFPDirty()
        case CSR.fcsr:
            guard fpEnabled else { return false }
            fcsr = v & 0xff; markFPDirty()
        case CSR.sstatus:
            let w = Hart.sstatusMask & ~(extensions.contains(.v) ? 0 : MStatus.vs)
            setMstatus((mstatus & ~w) | (v & w))
        case CSR.sie:
            let w = mideleg & (Hart.sInterrupts | localCounterOverflowInterrupt)
            mie = (mie & ~w) | (v & w)
        case CSR.sip:
            let writable = (IRQ.ssip | localCounterOverflowInterrupt) & mideleg
            mipSoft = (mipSoft & ~writable) | (v & writable)
        case CSR.stvec: stvec = v & ~2
        case CSR.scounteren: scounteren = v & 0xffff_ffff
        case CSR.senvcfg: senvcfg = envcfgLegal(v, writable: 1 | cacheBlockEnableBits | (extensions.contains(.ssnpm) ? 3 << 32 : 0), old: senvcfg)
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
            let old = satp
            satp = mode == 0 ? 0 : (v & ~(0xffff << 44) | (v & (0xffff << 44)))
            // A write does not fence (priv §10.1.11): it selects the TLB context tagged with the new value.
            if satp != old { selectHostContext() }
        case CSR.mstatus:
            let w = Hart.mstatusWritable | (hypervisorExtension ? MStatus.mpv | MStatus.gva : 0) | (extensions.contains(.v) ? MStatus.vs : 0)
            setMstatus((mstatus & ~w) | (v & w))
        case CSR.misa: break  // WARL: fixed
        case CSR.medeleg:
            // All standard exceptions except ecall from M (11) and 14; with H also ecall from VS and 20-23.
            medeleg = v & (hypervisorExtension ? 0xf0_b7ff : 0xb3ff)
        case CSR.mideleg:
            // With H, the VS-level interrupts are always delegated (read-only one; no SGEI with GEILEN = 0).
            mideleg = (v & (Hart.sInterrupts | localCounterOverflowInterrupt)) | forcedDelegation
        case CSR.mie: mie = v & (Hart.sInterrupts | Hart.mInterrupts | localCounterOverflowInterrupt | (hypervisorExtension ? Hart.vsInterrupts | guestExternalBit : 0))
        case CSR.mip:
            var writable = IRQ.ssip | IRQ.seip | localCounterOverflowInterrupt
            if menvcfg >> 63 == 0 { writable |= IRQ.stip }
            mipSoft = (mipSoft & ~writable) | (v & writable)
            if hypervisorExtension { hvip = (hvip & ~IRQ.vssip) | (v & IRQ.vssip) }
        case CSR.mtvec: mtvec = v & ~2
        case CSR.mcounteren: mcounteren = v & 0xffff_ffff
        case CSR.menvcfg:
            // STCE, PBMTE (Svpbmt), ADUE (Svadu), the cache-block enables (Zicbom/Zicboz), FIOM.
            menvcfg = envcfgLegal(v, writable: (1 << 63) | (extensions.contains(.svpbmt) ? 1 << 62 : 0)
                                  | (extensions.contains(.svadu) ? 1 << 61 : 0) | (extensions.contains(.smnpm) ? 3 << 32 : 0)
                                  | cacheBlockEnableBits | 1, old: menvcfg)
            henvcfg &= ~(~menvcfg & (7 << 61))   // henvcfg.STCE, .PBMTE and .ADUE are read-only zero then
        case CSR.mcountinhibit: setCountInhibit(v)
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
        case CSR.mstateen0...CSR.mstateen0 + 3 where extensions.contains(.smstateen):
            let i = Int(n - CSR.mstateen0)
            mstateen[i] = v & Hart.stateEnableWritable(i, aia: aia != nil)
            hstateen[i] &= mstateen[i]
        case CSR.hstateen0...CSR.hstateen0 + 3 where extensions.contains(.smstateen):
            let i = Int(n - CSR.hstateen0)
            hstateen[i] = v & Hart.stateEnableWritable(i, aia: aia != nil) & mstateen[i]
        case CSR.sstateen0...CSR.sstateen0 + 3 where extensions.contains(.smstateen): break
        // RV64 has no minstreth/mcycleh (nor cycleh/instreth): those numbers fall through to illegal.
        case CSR.mcycle: setCycleCount(v)
        case CSR.minstret: setInstretCount(v)
        case 0xb03..<0xb03 + UInt16(Hart.hpmCounters): setHPMCounter(Int(n - 0xb03), v)
        case 0x323..<0x323 + UInt16(Hart.hpmCounters): setHPMEvent(Int(n - 0x323), v)
        case 0xb03...0xb1f, 0x323...0x33f: break
        case CSR.mvendorid, CSR.marchid, CSR.mimpid, CSR.mhartid, CSR.mconfigptr: return false
        // H extension (csrMap only lets these through when it is present)
        case CSR.hstatus:
            // HUPMM (Ssnpm): PMM for HLV/HSV as VU-mode; the reserved value 1 keeps the old setting.
            var w = Hart.hstatusWritable | (extensions.contains(.ssnpm) ? 3 << 48 : 0)
            if (v >> 48) & 3 == 1 { w &= ~(3 << 48) }
            // VGEIN (AIA): WLRL 0...GEILEN; another value keeps the old one.
            if let aia, (v & HStatus.vgein) >> 12 <= UInt64(aia.geilen) { w |= HStatus.vgein }
            let old = hstatus
            hstatus = (hstatus & ~w) | (v & w)
            if (old ^ hstatus) >> 48 & 3 != 0 { flushAllTLB() }
        case CSR.hedeleg: hedeleg = v & 0xb1ff   // ecalls from HS/VS/M and causes 20-23 cannot be delegated to VS
        case CSR.hideleg: hideleg = v & Hart.vsInterrupts
        case CSR.hie:
            let w = Hart.vsInterrupts | guestExternalBit
            mie = (mie & ~w) | (v & w)
        case CSR.hip: hvip = (hvip & ~IRQ.vssip) | (v & IRQ.vssip)
        case CSR.hvip: hvip = v & Hart.vsInterrupts
        case CSR.hgeie: hgeie = v & (aia?.guestMask ?? 0)   // bits 1...GEILEN
        case CSR.hcounteren: hcounteren = v & 0xffff_ffff
        case CSR.htimedelta: htimedelta = v
        case CSR.htval: htval = v
        case CSR.htinst: htinst = v
        case CSR.hgatp:
            if prv == Priv.supervisor && mstatus & MStatus.tvm != 0 { return false }
            // Unlike satp, a write with an unsupported MODE is not ignored: each field is WARL, and MODE
            // keeps its previous (legal) value. VMID is 14 bits; the root table is 16 KiB aligned, so
            // PPN[1:0] read as zero. The fields are kept under Bare too (as QEMU does): Linux detects the
            // VMID width by writing all-ones VMID with MODE=Bare and reading it back.
            var mode = v >> 60
            if !(mode == 0 || mode == 8 || mode == 9 || mode == 10) { mode = hgatp >> 60 }
            let old = hgatp
            hgatp = (mode << 60) | (v & ((0x3fff << 44) | ((1 << 44) - 4)))
            // KVM rewrites hgatp on every vCPU load; an unchanged value keeps everything. A new one selects
            // its guest context; the G-stage cache is not tagged by VMID and starts over.
            if hgatp != old {
                selectGuestContext()
                clearGStageCache()
            }
        case CSR.henvcfg:
            // FIOM, the cache-block enables, and STCE, PBMTE and ADUE where menvcfg allows them.
            henvcfg = envcfgLegal(v, writable: 1 | cacheBlockEnableBits | (menvcfg & (7 << 61)) | (extensions.contains(.ssnpm) ? 3 << 32 : 0),
                                  old: henvcfg)
        case CSR.vstimecmp:
            guard prv == Priv.machine || virt || (menvcfg >> 63 != 0 && mcounteren & 2 != 0) else { return false }
            vstimecmp = v
        case CSR.vsstatus:
            let old = vsstatus
            let w = Hart.sstatusMask & ~(extensions.contains(.v) ? 0 : MStatus.vs)
            var n = (vsstatus & ~w) | (v & w)
            n = (n & ~MStatus.uxl) | (2 << 32)
            if n & MStatus.fs == MStatus.fs || n & MStatus.xs == MStatus.xs || n & MStatus.vs == MStatus.vs { n |= MStatus.sd } else { n &= ~MStatus.sd }
            vsstatus = n
            if (old ^ n) & MStatus.mxr != 0 { flushVirtualTLB() }
        case CSR.vsie:
            let w = hideleg & Hart.vsInterrupts
            mie = (mie & ~w) | ((v << 1) & w)
        case CSR.vsip:
            let w = hideleg & IRQ.vssip
            hvip = (hvip & ~w) | ((v << 1) & w)
        case CSR.vstvec: vstvec = v & ~2
        case CSR.vsscratch: vsscratch = v
        case CSR.vsepc: vsepc = v & ~1
        case CSR.vscause: vscause = v
        case CSR.vstval: vstval = v
        case CSR.vsatp:
            let mode = v >> 60
            guard mode == 0 || mode == 8 || mode == 9 || mode == 10 else { return true }  // WARL: keep old
            let old = vsatp
            vsatp = mode == 0 ? 0 : v
            if vsatp != old { selectGuestContext() }
        case CSR.mtval2: mtval2 = v
        case CSR.mtinst: mtinst = v
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
        // mstatus.MXR applies to the G-stage as well (H §"Two-Stage Address Translation").
        if oldMXR != n & MStatus.mxr { flushTLB(); flushGStage() }
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
        csrVirtualFault = false
        if writes && n >> 10 == 3 { return false }
        var old: UInt64 = 0
        if !(rdIsZero && (d.op == .csrrw || d.op == .csrrwi)) {
            guard let v = csrRead(n) else { return false }
            old = v
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
            // The instruction that writes minstret or mcycle still retires and would count itself on top
            // of the value written: the write takes effect after its own increment (privileged spec,
            // "Hardware Performance Monitor"), so the next instruction reads exactly what was written.
            // (`csrWrite` called from outside an instruction, e.g. by the machine, needs no such step.)
            if n == CSR.minstret { setInstretCount(instretCount &- 1) } else if n == CSR.mcycle { setCycleCount(cycleCount &- 1) }
            else if (0xb03..<0xb03 + UInt16(Hart.hpmCounters)).contains(n), hpmCountsRetirement(Int(n - 0xb03), level: level.rawValue) {
                let k = Int(n - 0xb03), written = hpmCounter(k)
                setHPMCounter(k, written &- 1)
                hpmLast[k] = written   // from -1 to 0 is this instruction's own count, not an overflow
            }
        }
        x[Int(d.rd)] = old
        return true
    }

    /// CBIE (5:4), CBCFE (6) and CBZE (7) of the *envcfg registers, where the extensions exist.
    var cacheBlockEnableBits: UInt64 {
        (extensions.contains(.zicbom) ? 0x70 : 0) | (extensions.contains(.zicboz) ? 0x80 : 0)
    }

    /// A legal *envcfg value from a write of `v` over `old`, limited to `writable`: CBIE's reserved 2 becomes 0, PMM's
    /// reserved 1 keeps the old PMM. A PMM change flushes the TLBs (their tags are unmasked addresses).
    func envcfgLegal(_ v: UInt64, writable: UInt64, old: UInt64) -> UInt64 {
        var r = v & writable
        if (r >> 4) & 3 == 2 { r &= ~0x30 }
        if (r >> 32) & 3 == 1 { r = (r & ~(3 << 32)) | (old & (3 << 32)) }
        if (r ^ old) >> 32 & 3 != 0 { flushAllTLB() }
        return r
    }
}
