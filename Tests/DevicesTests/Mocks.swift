import RISCV
@testable import Devices

final class MockHart: InterruptTarget {
    var mip: UInt64 = 0
    var calls = 0
    func setInterruptLevel(_ mask: UInt64, _ level: Bool) {
        calls += 1
        if level { mip |= mask } else { mip &= ~mask }
    }
}
