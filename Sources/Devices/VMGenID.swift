import Platform

/// A VM generation ID (Microsoft's "Virtual Machine Generation ID" spec, as Linux's vmgenid driver
/// binds it from the device tree: `compatible = "microsoft,vmgenid"`, 16 bytes at `reg`, one
/// interrupt). The ID changes when the VM is cloned from a snapshot; the guest kernel then reseeds
/// its random number generator (add_vmfork_randomness), so clones never share random streams.
/// The interrupt is raised on a change and withdrawn when the guest reads the ID (its handler does).
public final class VMGenID: MMIODevice, Stateful {
    public static let size: UInt64 = 0x1000
    public private(set) var id: [UInt8]
    private let irq: (Bool) -> Void
    private var asserted = false

    public init(irq: @escaping (Bool) -> Void) {
        self.irq = irq
        id = VMGenID.randomID()
    }

    public static func randomID() -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    /// A new generation (a clone): new ID, and the guest is told.
    public func newGeneration(_ newID: [UInt8] = VMGenID.randomID()) {
        precondition(newID.count == 16)
        id = newID
        asserted = true
        irq(true)
    }

    public func read(_ offset: UInt64, size: Int) -> UInt64 {
        if asserted { asserted = false; irq(false) }
        var v: UInt64 = 0
        for i in 0..<size where offset + UInt64(i) < 16 { v |= UInt64(id[Int(offset) + i]) << UInt64(8 * i) }
        return v
    }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {}

    public func reset() {
        if asserted { asserted = false; irq(false) }
    }

    public func saveState(_ w: inout StateWriter) {
        w.section("vmgenid", version: 1) { w in
            w.blob(id)
            w.bool(asserted)
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        let (newID, a) = try r.section("vmgenid", versions: 1...1) { r, _ in (try r.blob(max: 16), try r.bool()) }
        guard newID.count == 16 else { throw StateError("vmgenid: ID of \(newID.count) bytes") }
        id = newID
        asserted = a
        irq(a)
    }
}
