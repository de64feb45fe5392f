import XCTest
import Machine
import Platform
import RISCV

/// --stats accounting: instructions per privilege level and traps per (cause, from -> to).
final class LevelStatsTests: XCTestCase {
    typealias J = JITDifferentialTests

    func testInstructionsAndTrapsAreCountedPerLevel() throws {
        var config = MachineConfig()
        config.memorySize = 16 << 20
        config.firmware = .none
        let m = try Machine(config: config)
        let csrw = { (csr: Int32, rs1: UInt32) in J.i(csr, rs1, 1, 0, 0x73) }
        var program: [UInt32] = [
            0x0000_0297,                     // auipc t0, 0
            J.i(0x40, 5, 0, 6, 0x13),        // addi t1, t0, 0x40: trap handler
            csrw(0x305, 6),                  // csrw mtvec, t1
            J.i(-1, 0, 0, 6, 0x13),          // addi t1, x0, -1
            csrw(0x3b0, 6),                  // csrw pmpaddr0, t1
            J.i(0x1f, 0, 0, 6, 0x13),        // addi t1, x0, 0x1f (NAPOT, RWX)
            csrw(0x3a0, 6),                  // csrw pmpcfg0, t1
            J.i(0x30, 5, 0, 6, 0x13),        // addi t1, t0, 0x30: user code
            csrw(0x341, 6),                  // csrw mepc, t1
            0x3020_0073,                     // mret (MPP = U after reset)
        ]
        while program.count < 12 { program.append(0x0000_0013) }
        program += [J.i(1, 10, 0, 10, 0x13), J.i(1, 10, 0, 10, 0x13), J.i(1, 10, 0, 10, 0x13), 0x0000_0073]  // U: 3 addi, ecall
        while program.count < 16 { program.append(0x0000_0013) }
        program += [0x0010_0f37, 0x0000_5eb7, J.i(0x555, 29, 0, 29, 0x13), J.s(0, 29, 30, 2)]  // M: power off
        let bytes = program.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        m.ram.copyIn(0x8000_0000, bytes)
        let h = m.harts[0]
        h.reset(pc: 0x8000_0000)
        h.collectStats = true
        XCTAssertEqual(m.run(maxInstructions: 100_000), .powerOff(code: 0))
        XCTAssertEqual(h.x[10], 3)
        XCTAssertEqual(h.instructionsByLevel[PrivilegeLevel.u.rawValue], 4, "three addi and the ecall executed in U")
        XCTAssertGreaterThanOrEqual(h.instructionsByLevel[PrivilegeLevel.m.rawValue], 10)
        XCTAssertEqual(h.trapCounts[TrapKey(cause: Cause.ecallU, from: .u, to: .m)], 1)
        XCTAssertEqual(h.trapCounts.count, 1, "\(h.trapCounts)")
    }
}
