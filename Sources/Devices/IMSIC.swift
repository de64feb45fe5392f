import Platform
import RISCV

/// The memory-mapped side of one level of IMSICs (AIA §3.5 "Memory region for an interrupt file"): per
/// hart a group of 4 KiB pages, the first for the hart's file at this level and, at the supervisor
/// level, the guest files after it. Offset 0 of a page is seteipnum_le, offset 4 seteipnum_be; every
/// other offset reads zero and ignores writes. The files themselves belong to the harts (HartAIA).
public final class IMSICRegion: MMIODevice {
    public static let pageSize: UInt64 = 0x1000
    /// files[hart][g]: g = 0 the hart's file at this level, 1...GEILEN its guest files.
    private let files: [[IMSICFile]]
    /// log2 of the pages per hart (device tree `riscv,guest-index-bits`).
    public let guestIndexBits: Int

    /// `machineLevel`: the harts' M files, one page each; otherwise their S files, each followed by its guest files.
    public init(harts: [HartAIA], machineLevel: Bool) {
        files = harts.map { machineLevel ? [$0.machineFile] : [$0.supervisorFile] + $0.guestFiles }
        guestIndexBits = machineLevel ? 0 : IMSICRegion.guestIndexBits(geilen: harts.first?.geilen ?? 0)
    }

    /// ceil(log2(1 + GEILEN)) (QEMU virt's `imsic_guest_bits`).
    public static func guestIndexBits(geilen: Int) -> Int {
        var bits = 0
        while (1 << bits) < 1 + geilen { bits += 1 }
        return bits
    }

    /// Bytes per hart and for `harts` harts.
    public var hartStride: UInt64 { IMSICRegion.pageSize << UInt64(guestIndexBits) }
    public static func size(harts: Int, guestIndexBits: Int) -> UInt64 { UInt64(harts) * (pageSize << UInt64(guestIndexBits)) }
    public var size: UInt64 { UInt64(files.count) * hartStride }

    /// The file whose page holds `offset`, or nil (a page beyond GEILEN).
    func file(at offset: UInt64) -> IMSICFile? {
        let hart = Int(offset / hartStride), g = Int(offset % hartStride / IMSICRegion.pageSize)
        guard hart < files.count, g < files[hart].count else { return nil }
        return files[hart][g]
    }

    public func read(_ offset: UInt64, size: Int) -> UInt64 { 0 }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {
        guard size == 4 || size == 8, let f = file(at: offset) else { return }
        switch offset % IMSICRegion.pageSize {
        case 0:
            f.setPending(UInt32(truncatingIfNeeded: value))
            // An 8-byte write at 0 also writes seteipnum_be with the high word.
            if size == 8 { f.setPending(UInt32(truncatingIfNeeded: value >> 32).byteSwapped) }
        case 4 where size == 4: f.setPending(UInt32(truncatingIfNeeded: value).byteSwapped)
        default: break
        }
    }
}
