import Platform
/// Interrupt bit positions in mip/mie (privileged spec §3.1.9).
public enum IRQ {
    public static let ssip: UInt64 = 1 << 1
    public static let vssip: UInt64 = 1 << 2
    public static let msip: UInt64 = 1 << 3
    public static let stip: UInt64 = 1 << 5
    public static let vstip: UInt64 = 1 << 6
    public static let mtip: UInt64 = 1 << 7
    public static let seip: UInt64 = 1 << 9
    public static let vseip: UInt64 = 1 << 10
    public static let meip: UInt64 = 1 << 11
    public static let sgeip: UInt64 = 1 << 12
}

/// Something that has interrupt inputs wired to its mip register (a hart).
/// Devices drive levels; the hart samples them between instruction slices.
public protocol InterruptTarget: AnyObject {
    /// Sets (level=true) or clears the external input bits `mask` (IRQ.msip, IRQ.mtip, IRQ.meip, IRQ.seip).
    func setInterruptLevel(_ mask: UInt64, _ level: Bool)
}
