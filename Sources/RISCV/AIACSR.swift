import Platform
// The Smaia/Ssaia CSRs (AIA spec §2, §6) and the H extension's AIA CSRs (§6.3). They exist only on a
// hart with `aia` set; csrRead/csrWrite try these first and fall back to the base CSRs.

public enum AIACSR {
    public static let miselect: UInt16 = 0x350, mireg: UInt16 = 0x351, mtopei: UInt16 = 0x35c, mtopi: UInt16 = 0xfb0
    public static let mvien: UInt16 = 0x308, mvip: UInt16 = 0x309
    public static let siselect: UInt16 = 0x150, sireg: UInt16 = 0x151, stopei: UInt16 = 0x15c, stopi: UInt16 = 0xdb0
    public static let hvien: UInt16 = 0x608, hvictl: UInt16 = 0x609, hviprio1: UInt16 = 0x646, hviprio2: UInt16 = 0x647
    public static let vsiselect: UInt16 = 0x250, vsireg: UInt16 = 0x251, vstopei: UInt16 = 0x25c, vstopi: UInt16 = 0xeb0

    static func isSupervisor(_ n: UInt16) -> Bool { n == siselect || n == sireg || n == stopei || n == stopi }
    static func isHypervisor(_ n: UInt16) -> Bool {
        switch n {
        case hvien, hvictl, hviprio1, hviprio2, vsiselect, vsireg, vstopei, vstopi: return true
        default: return false
        }
    }
    static func isMachine(_ n: UInt16) -> Bool {
        n == miselect || n == mireg || n == mtopei || n == mtopi || n == mvien || n == mvip
    }
}

extension Hart {
    /// hstatus.VGEIN: the guest file that drives VSEIP (H §"hstatus"), when it names one.
    var selectedGuestFile: IMSICFile? {
        guard let aia else { return nil }
        let g = Int((hstatus & HStatus.vgein) >> 12)
        return g == 0 ? nil : aia.file(guest: g)
    }

    /// The external-interrupt bits the interrupt files drive (AIA §3.8.1, H §"hgeip"): MEIP from the M
    /// file, SEIP from the S file, SGEIP while hgeip & hgeie, VSEIP from the guest file VGEIN selects.
    @inline(never)
    func aiaPending(_ aia: HartAIA) -> UInt64 {
        let s = aia.signals
        var v: UInt64 = 0
        if s & HartAIA.machineSignal != 0 { v |= IRQ.meip }
        if s & 1 != 0 { v |= IRQ.seip }
        if hypervisorExtension {
            if s & aia.guestMask & hgeie != 0 { v |= IRQ.sgeip }
            // VGEIN is 0 (no guest file) or 1...GEILEN (writes beyond GEILEN are ignored).
            let g = (hstatus & HStatus.vgein) >> 12
            if g != 0 && s >> g & 1 != 0 { v |= IRQ.vseip }
        }
        return v
    }

    /// xtopi value (§6.3.3): the highest-priority interrupt in `pending` as IID << 16 | IPRIO. The
    /// iprio arrays are read-only zero, so every interrupt has priority number 1 (default order decides).
    static func topi(_ pending: UInt64) -> UInt64 {
        guard let bit = highestPriority(pending) else { return 0 }
        return bit << 16 | 1
    }

    /// What an indirect access through `select` reaches (§2.3): a register of `file`, a read-only-zero
    /// iprio register (0x30-0x3F, even on RV64), or nothing (illegal).
    enum IndirectTarget { case file(IMSICFile), zero, none }
    func aiaIndirect(_ select: UInt64, _ file: IMSICFile?) -> IndirectTarget {
        if (0x30...0x3f).contains(select) { return select & 1 == 0 ? .zero : .none }
        guard let file, IMSICFile.isRegister(select) else { return .none }
        return .file(file)
    }

    /// Reads an AIA CSR (already mapped by csrMap): nil when `n` is not an AIA CSR, .some(nil) when the
    /// access is illegal (or a virtual-instruction exception, csrVirtualFault).
    func aiaRead(_ n: UInt16, _ aia: HartAIA) -> UInt64?? {
        switch n {
        case AIACSR.miselect: return aia.miselect
        case AIACSR.siselect: return aia.siselect
        case AIACSR.vsiselect: return aia.vsiselect
        case AIACSR.mireg: return .some(indirectRead(aia.miselect, aia.machineFile))
        case AIACSR.sireg: return .some(indirectRead(aia.siselect, aia.supervisorFile))
        case AIACSR.vsireg: return .some(guestIndirectRead(aia))
        case AIACSR.mtopei: return aia.machineFile.topei
        case AIACSR.stopei: return aia.supervisorFile.topei
        case AIACSR.vstopei: return .some(guestFileAccess(aia)?.topei)
        case AIACSR.mtopi: return Hart.topi(mip & mie & ~mideleg)
        case AIACSR.stopi: return Hart.topi(mip & mie & mideleg & ~hideleg)
        case AIACSR.vstopi: return vstopi
        case AIACSR.mvien: return 0
        case AIACSR.mvip: return mip & (IRQ.ssip | IRQ.stip | IRQ.seip)
        case AIACSR.hvien, AIACSR.hviprio1, AIACSR.hviprio2: return 0
        case AIACSR.hvictl: return aia.hvictl
        default: return nil
        }
    }

    /// Writes an AIA CSR; nil: not an AIA CSR, false: illegal.
    func aiaWrite(_ n: UInt16, _ v: UInt64, _ aia: HartAIA) -> Bool? {
        switch n {
        case AIACSR.miselect: aia.miselect = v & 0xfff
        case AIACSR.siselect: aia.siselect = v & 0xfff
        case AIACSR.vsiselect: aia.vsiselect = v & 0xfff
        case AIACSR.mireg: return indirectWrite(aia.miselect, aia.machineFile, v)
        case AIACSR.sireg: return indirectWrite(aia.siselect, aia.supervisorFile, v)
        case AIACSR.vsireg:
            if (0x30...0x3f).contains(aia.vsiselect) {
                if virt { csrVirtualFault = true; return false }
                return aia.vsiselect & 1 == 0
            }
            guard let file = guestFileAccess(aia) else { return false }
            return indirectWrite(aia.vsiselect, file, v)
        case AIACSR.mtopei: aia.machineFile.claimTop()
        case AIACSR.stopei: aia.supervisorFile.claimTop()
        case AIACSR.vstopei:
            guard let file = guestFileAccess(aia) else { return false }
            file.claimTop()
        case AIACSR.mvien, AIACSR.hvien, AIACSR.hviprio1, AIACSR.hviprio2: break   // read-only zero
        case AIACSR.mvip:
            // mvip's bits alias mip's software-writable SSIP, STIP (without Sstc's STCE) and SEIP (§6.4.1).
            var writable = IRQ.ssip | IRQ.seip
            if menvcfg >> 63 == 0 { writable |= IRQ.stip }
            mipSoft = (mipSoft & ~writable) | (v & writable)
        case AIACSR.hvictl:
            // VTI (30), IID (27:16), DPR (9), IPRIOM (8), IPRIO (7:0).
            aia.hvictl = v & (1 << 30 | 0xfff << 16 | 0x3ff)
        case AIACSR.mtopi, AIACSR.stopi, AIACSR.vstopi: return false
        default: return nil
        }
        return true
    }

    private func indirectRead(_ select: UInt64, _ file: IMSICFile) -> UInt64? {
        switch aiaIndirect(select, file) {
        case .file(let f): return f.read(select)
        case .zero: return 0
        case .none: return nil
        }
    }

    private func indirectWrite(_ select: UInt64, _ file: IMSICFile, _ v: UInt64) -> Bool {
        switch aiaIndirect(select, file) {
        case .file(let f): return f.write(select, v)
        case .zero: return true
        case .none: return false
        }
    }

    /// The guest file vsireg/vstopei reach (hstatus.VGEIN); when VGEIN names none, an access from VS-mode
    /// is a virtual-instruction exception and from HS/M an illegal instruction (§2.3, §6.3).
    private func guestFileAccess(_ aia: HartAIA) -> IMSICFile? {
        guard let f = selectedGuestFile else {
            if virt { csrVirtualFault = true }
            return nil
        }
        return f
    }

    private func guestIndirectRead(_ aia: HartAIA) -> UInt64? {
        if (0x30...0x3f).contains(aia.vsiselect) {
            if virt { csrVirtualFault = true; return nil }   // VS-level iprio are not implemented
            return aia.vsiselect & 1 == 0 ? 0 : nil
        }
        guard let file = guestFileAccess(aia) else { return nil }
        return indirectRead(aia.vsiselect, file)
    }

    /// vstopi (§6.3.3): the highest-priority VS-level interrupt pending and enabled, as the guest sees
    /// it (VSEI as SEI = 9, VSSI as 1, VSTI as 5); with hvictl.VTI = 1 the IID/IPRIO in hvictl instead.
    var vstopi: UInt64 {
        guard let aia else { return 0 }
        let pending = mip & mie & hideleg & Hart.vsInterrupts
        if let bit = Hart.highestPriority(pending) { return (bit - 1) << 16 | 1 }
        if aia.hvictl >> 30 & 1 != 0, aia.hvictl & 0xff != 0 {
            return (aia.hvictl >> 16 & 0xfff) << 16 | (aia.hvictl & 0xff)
        }
        return 0
    }
}
