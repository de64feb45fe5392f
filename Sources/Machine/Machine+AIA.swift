import Platform
import RISCV
import Devices

// The AIA board (`--aia aplic-imsic`, QEMU virt's aia=aplic-imsic): per-hart IMSICs at QEMU's addresses
// and an S-level APLIC in MSI mode that takes the wired device interrupts instead of the PLIC.

extension VirtMap {
    public static let imsicMBase: UInt64 = 0x2400_0000
    public static let imsicSBase: UInt64 = 0x2800_0000
    public static let aplicSBase: UInt64 = 0x0d00_0000
}

extension Machine {
    /// Guest interrupt files per hart (GEILEN): hgeie/hgeip bits 1...3, four IMSIC pages per hart.
    public static let guestFiles = 3

    /// Drives wired interrupt `source` (1...95): to the APLIC with AIA, else to the PLIC.
    func setIRQ(_ source: Int, _ level: Bool) {
        if let aplic { aplic.setLevel(source, level) } else { plic.setLevel(source, level) }
    }

    /// Maps the IMSIC regions and the APLIC; called from init after the harts have their `aia`.
    func attachAIA() {
        let files = harts.compactMap(\.aia)
        let s = IMSICRegion(harts: files, machineLevel: false), m = IMSICRegion(harts: files, machineLevel: true)
        bus.map(base: VirtMap.imsicMBase, size: m.size, name: "imsic-m", device: m)
        bus.map(base: VirtMap.imsicSBase, size: s.size, name: "imsic-s", device: s)
        // The S-level domain's MSIs go to the target hart's S file (guest index 0) or guest file.
        let a = APLIC(deliver: { [unowned self] hart, guest, eiid in
            guard hart < self.harts.count, let file = self.harts[hart].aia?.file(guest: guest) else { return }
            file.setPending(eiid)
        })
        bus.map(base: VirtMap.aplicSBase, size: APLIC.size, name: "aplic-s", device: a)
        (imsicS, imsicM, aplic) = (s, m, a)
    }

    /// What the device tree needs to describe the AIA, or nil for the PLIC.
    var aiaDeviceTree: DeviceTreeAIA? {
        guard let imsicS else { return nil }
        return DeviceTreeAIA(imsicBase: VirtMap.imsicSBase, imsicSize: imsicS.size, guestIndexBits: imsicS.guestIndexBits,
                             aplicBase: VirtMap.aplicSBase, aplicSize: APLIC.size, sources: APLIC.sourceCount)
    }
}

/// The S-level IMSIC and APLIC nodes (QEMU virt with aia=aplic-imsic, without the M-level ones the
/// built-in SBI does not use).
public struct DeviceTreeAIA {
    public var imsicBase: UInt64, imsicSize: UInt64, guestIndexBits: Int
    public var aplicBase: UInt64, aplicSize: UInt64, sources: Int
    public init(imsicBase: UInt64, imsicSize: UInt64, guestIndexBits: Int, aplicBase: UInt64, aplicSize: UInt64, sources: Int) {
        (self.imsicBase, self.imsicSize, self.guestIndexBits) = (imsicBase, imsicSize, guestIndexBits)
        (self.aplicBase, self.aplicSize, self.sources) = (aplicBase, aplicSize, sources)
    }
}
