import Platform
import RISCV

/// QEMU's sifive_test "finisher": a write to offset 0 powers off or resets the machine.
///   low 16 bits 0x5555 → pass (exit 0); 0x3333 → fail with code v >> 16; 0x7777 → reset.
public final class SiFiveTest: MMIODevice, Stateful {
    public static let size: UInt64 = 0x1000
    public static let finisherPass: UInt32 = 0x5555
    public static let finisherFail: UInt32 = 0x3333
    public static let finisherReset: UInt32 = 0x7777

    private let onPowerOff: (Int) -> Void
    private let onReset: () -> Void

    public init(onPowerOff: @escaping (Int) -> Void, onReset: @escaping () -> Void) {
        self.onPowerOff = onPowerOff
        self.onReset = onReset
    }

    public func read(_ offset: UInt64, size: Int) -> UInt64 { 0 }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {
        guard offset == 0, size == 2 || size == 4 || size == 8 else { return }
        let v = UInt32(truncatingIfNeeded: value & byteMask(min(size, 4)))
        switch v & 0xffff {
        case SiFiveTest.finisherPass: onPowerOff(0)
        case SiFiveTest.finisherFail: onPowerOff(Int(v >> 16))
        case SiFiveTest.finisherReset: onReset()
        default: break
        }
    }

    public func saveState(_ w: inout StateWriter) {
        w.section("sifive-test", version: 1) { _ in }
    }

    public func loadState(_ r: inout StateReader) throws {
        try r.section("sifive-test", versions: 1...1) { _, _ in }
    }
}
