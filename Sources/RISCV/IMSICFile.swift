import Platform
// Incoming MSI Controller interrupt files (AIA spec §3 "Incoming MSI Controller (IMSIC)"). The state is
// hart-local: the hart reaches it through the *iselect/*ireg/*topei CSRs (AIACSR.swift), the bus through
// each file's seteipnum page (Devices/IMSIC.swift).

/// One interrupt file: pending (eip) and enable (eie) bits for identities 1...255, eidelivery and
/// eithreshold (AIA §3.8 "Interrupt files").
public final class IMSICFile {
    /// Identities 0...255; 0 is never an interrupt (device tree `riscv,num-ids` = 255).
    public static let identities = 256
    static let words = identities / 64
    @exclusivity(unchecked) var eip = [UInt64](repeating: 0, count: IMSICFile.words)
    @exclusivity(unchecked) var eie = [UInt64](repeating: 0, count: IMSICFile.words)
    /// 0: delivery off, 1: on (§3.8.1; the optional 0x40000000 PLIC mode is not implemented).
    @exclusivity(unchecked) public internal(set) var eidelivery: UInt64 = 0
    /// 0: no threshold; else only identities below it are signalled (§3.8.2).
    @exclusivity(unchecked) public internal(set) var eithreshold: UInt64 = 0
    /// The file's interrupt signal to the hart: delivery on and a top identity (§3.8.1). Kept up to
    /// date by every change, so the hart's interrupt check reads one bit (HartAIA.signals).
    @exclusivity(unchecked) public private(set) var signal = false
    /// The HartAIA holding this file, and this file's bit in its `signals`.
    @exclusivity(unchecked) unowned(unsafe) var owner: HartAIA? = nil
    var signalBit: UInt64 = 0

    public init() {}

    public func reset() {
        for i in 0..<IMSICFile.words { eip[i] = 0; eie[i] = 0 }
        eidelivery = 0; eithreshold = 0
        updateSignal()
    }

    /// Recomputes `signal` after a change and passes it to the owner.
    func updateSignal() {
        signal = eidelivery == 1 && topID != 0
        guard let owner else { return }
        owner.signals = signal ? owner.signals | signalBit : owner.signals & ~signalBit
    }

    /// A write of `id` to seteipnum_le/_be (§3.5): sets eip[id]; 0 and identities beyond 255 are ignored.
    public func setPending(_ id: UInt32) {
        guard id > 0, Int(id) < IMSICFile.identities else { return }
        eip[Int(id) >> 6] |= 1 << UInt64(id & 63)
        updateSignal()
    }

    public func isPending(_ id: Int) -> Bool { eip[id >> 6] >> UInt64(id & 63) & 1 != 0 }
    public func isEnabled(_ id: Int) -> Bool { eie[id >> 6] >> UInt64(id & 63) & 1 != 0 }

    /// The highest-priority (lowest) pending-and-enabled identity under the threshold, or 0 (§3.9 "Top external interrupt").
    public var topID: Int {
        for w in 0..<IMSICFile.words {
            let bits = eip[w] & eie[w]
            if bits != 0 {
                let id = w * 64 + bits.trailingZeroBitCount
                return eithreshold == 0 || id < Int(eithreshold) ? id : 0
            }
        }
        return 0
    }

    /// *topei read value: identity in bits 26:16 and again as the priority in 10:0 (§3.9).
    public var topei: UInt64 {
        let id = UInt64(topID)
        return id << 16 | id
    }

    /// A write to *topei claims the top identity: its pending bit is cleared (§3.9).
    public func claimTop() {
        let id = topID
        if id != 0 { eip[id >> 6] &= ~(1 << UInt64(id & 63)) }
        updateSignal()
    }

    /// Whether `sel` names a register of the file (§3.8 table "indirectly accessed registers", RV64:
    /// only the even eipN/eieN exist).
    static func isRegister(_ sel: UInt64) -> Bool {
        sel == 0x70 || sel == 0x72 || ((0x80...0xff).contains(sel) && sel & 1 == 0)
    }

    /// Reads indirect register `sel`; nil: no such register (illegal instruction).
    public func read(_ sel: UInt64) -> UInt64? {
        guard IMSICFile.isRegister(sel) else { return nil }
        switch sel {
        case 0x70: return eidelivery
        case 0x72: return eithreshold
        default:
            let w = Int(sel & 0x3f) >> 1
            guard w < IMSICFile.words else { return 0 }   // identities beyond 255: read-only zero
            return sel < 0xc0 ? eip[w] : eie[w]
        }
    }

    /// Writes indirect register `sel`; false: no such register. Identity 0's bits stay zero.
    @discardableResult
    public func write(_ sel: UInt64, _ v: UInt64) -> Bool {
        guard IMSICFile.isRegister(sel) else { return false }
        switch sel {
        case 0x70: eidelivery = v & 1
        case 0x72: eithreshold = v & UInt64(IMSICFile.identities - 1)
        default:
            let w = Int(sel & 0x3f) >> 1
            guard w < IMSICFile.words else { return true }
            let value = w == 0 ? v & ~1 : v
            if sel < 0xc0 { eip[w] = value } else { eie[w] = value }
        }
        updateSignal()
        return true
    }

    // MARK: Snapshots

    func save(_ w: inout StateWriter) { w.u64s(eip + eie + [eidelivery, eithreshold]) }

    func load(_ r: inout StateReader) throws {
        let v = try r.u64s()
        guard v.count == 2 * IMSICFile.words + 2 else { throw StateError("IMSIC file state has \(v.count) words; expected \(2 * IMSICFile.words + 2)") }
        for i in 0..<IMSICFile.words { eip[i] = v[i] & (i == 0 ? ~1 : ~0); eie[i] = v[IMSICFile.words + i] & (i == 0 ? ~1 : ~0) }
        eidelivery = v[2 * IMSICFile.words] & 1
        eithreshold = v[2 * IMSICFile.words + 1] & 0xff
        updateSignal()
    }
}

/// A hart's AIA state (Smaia/Ssaia): its M, S and guest interrupt files and the AIA CSRs that are not
/// in the files (AIA §2 "Control and Status Registers Added to Harts", §6 "Interrupts for Machine and
/// Supervisor Levels").
public final class HartAIA: Stateful {
    /// Guest interrupt files per hart (GEILEN, H §"hgeip and hgeie"); hgeie/hgeip bits 1...GEILEN.
    public let geilen: Int
    public let machineFile = IMSICFile()
    public let supervisorFile = IMSICFile()
    /// Guest files 1...GEILEN at indices 0...GEILEN-1.
    public let guestFiles: [IMSICFile]
    @exclusivity(unchecked) var miselect: UInt64 = 0, siselect: UInt64 = 0, vsiselect: UInt64 = 0
    /// hvictl (§6.3.2): VTI, IID, DPR, IPRIOM, IPRIO kept as written.
    @exclusivity(unchecked) var hvictl: UInt64 = 0
    /// The files' signals, one bit each: the S file at bit 0, guest file g at bit g (hgeip's layout),
    /// the M file at bit 63.
    @exclusivity(unchecked) var signals: UInt64 = 0
    static let machineSignal: UInt64 = 1 << 63

    public init(geilen: Int = 3) {
        precondition((0...62).contains(geilen), "GEILEN must be 0...62")
        self.geilen = geilen
        guestMask = ((1 << UInt64(geilen)) - 1) << 1
        guestFiles = (0..<geilen).map { _ in IMSICFile() }
        machineFile.owner = self; machineFile.signalBit = HartAIA.machineSignal
        supervisorFile.owner = self; supervisorFile.signalBit = 1
        for (i, f) in guestFiles.enumerated() { f.owner = self; f.signalBit = 1 << UInt64(i + 1) }
    }

    /// The file for guest index `g` (0: the supervisor file, 1...GEILEN: guest files), or nil.
    public func file(guest g: Int) -> IMSICFile? {
        if g == 0 { return supervisorFile }
        return g <= geilen ? guestFiles[g - 1] : nil
    }

    public func reset() {
        machineFile.reset(); supervisorFile.reset()
        for f in guestFiles { f.reset() }
        miselect = 0; siselect = 0; vsiselect = 0; hvictl = 0
    }

    /// hgeip (H §"hgeip"): bit g set while guest file g signals.
    public var hgeip: UInt64 { signals & guestMask }
    /// The writable bits of hgeie: 1...GEILEN.
    let guestMask: UInt64

    public func saveState(_ w: inout StateWriter) {
        w.section("aia", version: 1) { w in
            w.u64(UInt64(geilen))
            machineFile.save(&w); supervisorFile.save(&w)
            for f in guestFiles { f.save(&w) }
            w.u64s([miselect, siselect, vsiselect, hvictl])
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        let geilen = self.geilen
        try r.section("aia", versions: 1...1) { r, _ in
            let n = try r.count(max: 63)
            guard n == geilen else { throw StateError("AIA state has \(n) guest files per hart; this machine has \(geilen)") }
            try machineFile.load(&r); try supervisorFile.load(&r)
            for f in guestFiles { try f.load(&r) }
            let s = try r.u64s()
            guard s.count == 4 else { throw StateError("AIA CSR state has \(s.count) values; expected 4") }
            miselect = s[0] & 0xfff; siselect = s[1] & 0xfff; vsiselect = s[2] & 0xfff; hvictl = s[3]
        }
    }
}
