import Platform
import RISCV

/// An Advanced Platform-Level Interrupt Controller domain in MSI delivery mode (AIA spec §4): wired
/// interrupt sources 1...`sourceCount` become MSIs written into the target hart's (guest) IMSIC file.
/// Register map (§4.5):
///   0x0000 domaincfg        0x0004 + 4(i-1) sourcecfg[i]
///   0x1c00 setip[k]  0x1cdc setipnum   0x1d00 in_clrip[k]  0x1ddc clripnum
///   0x1e00 setie[k]  0x1edc setienum   0x1f00 clrie[k]     0x1fdc clrienum
///   0x2000 setipnum_le  0x2004 setipnum_be  0x3000 genmsi  0x3004 + 4(i-1) target[i]
/// This is a leaf domain without children (sourcecfg.D is read-only zero) and without interrupt
/// delivery controls: DM reads as 1 (MSI mode only), BE as 0.
public final class APLIC: MMIODevice, Stateful {
    /// Sources 1...96 (QEMU virt's VIRT_IRQCHIP_NUM_SOURCES; device tree `riscv,num-sources`).
    public static let sourceCount = 96
    /// QEMU virt's APLIC region (room for its 512 harts' interrupt delivery controls).
    public static let size: UInt64 = 0x8000

    /// Source modes (§4.5.2 "Source configurations").
    enum Mode: UInt32 { case inactive = 0, detached = 1, edge1 = 4, edge0 = 5, level1 = 6, level0 = 7 }

    /// Writes EIID `eiid` into hart `hart`'s file `guest` (0: the domain's level, 1...: guest files).
    public typealias MSISink = (_ hart: Int, _ guest: Int, _ eiid: UInt32) -> Void
    private let deliver: MSISink
    private var domaincfgIE = false
    private var sourcecfg = [UInt32](repeating: 0, count: APLIC.sourceCount + 1)
    private var target = [UInt32](repeating: 0, count: APLIC.sourceCount + 1)
    private var input = [Bool](repeating: false, count: APLIC.sourceCount + 1)     // raw wire levels
    private var pending = [Bool](repeating: false, count: APLIC.sourceCount + 1)
    private var enabled = [Bool](repeating: false, count: APLIC.sourceCount + 1)
    private var genmsi: UInt32 = 0
    /// MSIs sent (statistics and tests).
    public private(set) var messagesSent: UInt64 = 0

    public init(deliver: @escaping MSISink) { self.deliver = deliver }

    /// Machine reset: everything but the input levels (they belong to the devices).
    public func reset() {
        domaincfgIE = false; genmsi = 0
        for i in 0...APLIC.sourceCount { sourcecfg[i] = 0; target[i] = 0; pending[i] = false; enabled[i] = false }
    }

    private func mode(_ s: Int) -> Mode { Mode(rawValue: sourcecfg[s]) ?? .inactive }

    /// The rectified input (§4.7): the wire level, inverted for the "0" modes, zero when detached or inactive.
    private func rectified(_ s: Int) -> Bool {
        switch mode(s) {
        case .edge1, .level1: return input[s]
        case .edge0, .level0: return !input[s]
        case .inactive, .detached: return false
        }
    }

    /// Drives source `source` (1...96) to `level` (§4.7 "Precise effects on interrupt-pending bits"): a
    /// rising rectified input sets the pending bit; for a level source a falling one clears it.
    public func setLevel(_ source: Int, _ level: Bool) {
        guard source > 0, source <= APLIC.sourceCount, input[source] != level else { return }
        let before = rectified(source)
        input[source] = level
        let after = rectified(source)
        guard before != after else { return }
        switch mode(source) {
        case .edge1, .edge0: if after { pending[source] = true }
        case .level1, .level0: pending[source] = after
        case .inactive, .detached: break
        }
        forward()
    }

    /// A software request to set source `s` pending (setip, setipnum): always for edge and detached
    /// sources, for a level source only while its rectified input is high (§4.7).
    private func setPending(_ s: Int) {
        guard s > 0, s <= APLIC.sourceCount else { return }
        switch mode(s) {
        case .inactive: return
        case .level1, .level0: if !rectified(s) { return }
        default: break
        }
        pending[s] = true
    }

    private func clearPending(_ s: Int) {
        guard s > 0, s <= APLIC.sourceCount else { return }
        pending[s] = false
    }

    private func setEnabled(_ s: Int, _ on: Bool) {
        guard s > 0, s <= APLIC.sourceCount, mode(s) != .inactive else { return }
        enabled[s] = on
    }

    /// Sends an MSI for every pending-and-enabled active source while the domain is enabled, clearing
    /// its pending bit (§4.9.1 "MSI delivery mode").
    private func forward() {
        guard domaincfgIE else { return }
        for s in 1...APLIC.sourceCount where pending[s] && enabled[s] && mode(s) != .inactive {
            pending[s] = false
            send(target[s])
        }
    }

    /// target[i] / genmsi in MSI mode: hart index 31:18, guest index 17:12 (target only), EIID 10:0.
    private func send(_ t: UInt32) {
        messagesSent &+= 1
        deliver(Int(t >> 18), Int(t >> 12 & 0x3f), t & 0x7ff)
    }

    private func bits(_ a: [Bool], word k: Int) -> UInt32 {
        var v: UInt32 = 0
        for b in 0..<32 {
            let s = k * 32 + b
            if s > 0, s <= APLIC.sourceCount, a[s] { v |= 1 << UInt32(b) }
        }
        return v
    }

    private func forEachBit(_ v: UInt32, word k: Int, _ body: (Int) -> Void) {
        for b in 0..<32 where v >> UInt32(b) & 1 != 0 { body(k * 32 + b) }
    }

    private func reg(_ off: UInt64) -> UInt32 {
        switch off {
        case 0: return 0x8000_0000 | (domaincfgIE ? 1 << 8 : 0) | 1 << 2
        case 0x4...0xffc:
            let s = Int(off / 4)
            return s <= APLIC.sourceCount ? sourcecfg[s] : 0
        case 0x1c00..<0x1c80: return bits(pending, word: Int(off - 0x1c00) / 4)
        case 0x1d00..<0x1d80:
            let k = Int(off - 0x1d00) / 4
            var v: UInt32 = 0
            for b in 0..<32 {
                let s = k * 32 + b
                if s > 0, s <= APLIC.sourceCount, rectified(s) { v |= 1 << UInt32(b) }
            }
            return v
        case 0x1e00..<0x1e80: return bits(enabled, word: Int(off - 0x1e00) / 4)
        case 0x3000: return genmsi & ~(1 << 12)   // Busy: the MSI has always gone out already
        case 0x3004...0x3ffc:
            let s = Int(off - 0x3000) / 4
            return s <= APLIC.sourceCount ? target[s] : 0
        default: return 0
        }
    }

    private func setReg(_ off: UInt64, _ v: UInt32) {
        switch off {
        case 0: domaincfgIE = v >> 8 & 1 != 0
        case 0x4...0xffc:
            let s = Int(off / 4)
            guard s <= APLIC.sourceCount else { return }
            // D (bit 10) is read-only zero here; reserved modes 2 and 3 are taken as inactive.
            let m = v & (1 << 10) != 0 ? Mode.inactive : Mode(rawValue: v & 7) ?? .inactive
            sourcecfg[s] = m.rawValue
            if m == .inactive { pending[s] = false; enabled[s] = false; target[s] = 0 }
            else if m == .level1 || m == .level0 { pending[s] = pending[s] && rectified(s) }
        case 0x1c00..<0x1c80: forEachBit(v, word: Int(off - 0x1c00) / 4, setPending)
        case 0x1cdc, 0x2000: setPending(Int(v))
        case 0x2004: setPending(Int(v.byteSwapped))
        case 0x1d00..<0x1d80: forEachBit(v, word: Int(off - 0x1d00) / 4, clearPending)
        case 0x1ddc: clearPending(Int(v))
        case 0x1e00..<0x1e80: forEachBit(v, word: Int(off - 0x1e00) / 4) { self.setEnabled($0, true) }
        case 0x1edc: setEnabled(Int(v), true)
        case 0x1f00..<0x1f80: forEachBit(v, word: Int(off - 0x1f00) / 4) { self.setEnabled($0, false) }
        case 0x1fdc: setEnabled(Int(v), false)
        case 0x3000:
            genmsi = v & (0xfffc_0000 | 0x7ff)
            send(genmsi)   // to the hart's file at this domain's level: guest index 0
        case 0x3004...0x3ffc:
            let s = Int(off - 0x3000) / 4
            guard s <= APLIC.sourceCount, mode(s) != .inactive else { return }
            target[s] = v & (0xfffc_0000 | 0x3f << 12 | 0x7ff)
        default: return
        }
        forward()
    }

    public func read(_ offset: UInt64, size: Int) -> UInt64 {
        guard offset < APLIC.size else { return 0 }
        return readRegs32(offset, size: size) { reg($0) }
    }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {
        guard offset < APLIC.size else { return }
        writeRegs32(offset, size: size, value: value, peek: { reg($0) }, { setReg($0, $1) })
    }

    // MARK: Snapshots

    public func saveState(_ w: inout StateWriter) {
        w.section("aplic", version: 1) { w in
            w.u64(UInt64(APLIC.sourceCount))
            w.bool(domaincfgIE); w.u32(genmsi)
            for s in 0...APLIC.sourceCount {
                w.u32(sourcecfg[s]); w.u32(target[s]); w.bool(input[s]); w.bool(pending[s]); w.bool(enabled[s])
            }
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        try r.section("aplic", versions: 1...1) { r, _ in
            let n = try r.count(max: 1023)
            guard n == APLIC.sourceCount else { throw StateError("APLIC state has \(n) sources; this machine's APLIC has \(APLIC.sourceCount)") }
            let ie = try r.bool(), gen = try r.u32()
            var cfg = sourcecfg, tgt = target, inp = input, pnd = pending, en = enabled
            for s in 0...n {
                cfg[s] = (Mode(rawValue: try r.u32()) ?? .inactive).rawValue
                tgt[s] = try r.u32(); inp[s] = try r.bool(); pnd[s] = try r.bool(); en[s] = try r.bool()
            }
            cfg[0] = 0; pnd[0] = false; en[0] = false
            (domaincfgIE, genmsi, sourcecfg, target, input, pending, enabled) = (ie, gen, cfg, tgt, inp, pnd, en)
        }
    }
}
