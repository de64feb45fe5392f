import XCTest
import Foundation
import Devices
import Machine
import RISCV

/// Bare-metal programs in Tests/ISAPrograms for counter writes and trap storms, built and run like the
/// other ISA programs.
extension ISATests {
    func testCounterWrites() throws { try runProgram("counter_writes") }
    func testCounterWritesWithHypervisorEnabled() throws { try runProgram("counter_writes", hypervisor: true) }

    /// A hart that only faults must still return from `run` (each trap uses a step of the budget), so the
    /// machine loop regains control; `trapsTaken` shows the storm.
    func testTrapStormUsesUpTheBudget() throws {
        // trap_storm: mtvec = 0, outside RAM: an illegal instruction, then fetch access faults at pc 0.
        // trap_storm_ram: the handler in RAM is itself an illegal instruction.
        for (name, cause, unmapped) in [("trap_storm", Cause.fetchAccess, true), ("trap_storm_ram", Cause.illegal, false)] {
            let elf = try compile(name)
            var config = MachineConfig()
            config.memorySize = 64 << 20
            config.firmware = .none
            config.kernelPath = elf
            let m = try Machine(config: config)
            try m.boot()
            let h = m.harts[0]
            let budget: UInt64 = 200_000
            let r = m.run(maxInstructions: budget)
            if case .error = r {} else { XCTFail("\(name): \(r)") }
            XCTAssertGreaterThanOrEqual(h.trapsTaken, budget - 10, name)
            XCTAssertLessThan(h.instret, 10, "\(name): faulting instructions do not retire")
            XCTAssertEqual(h.mcause, cause, name)
            if unmapped {
                XCTAssertGreaterThanOrEqual(h.unmappedAccesses, budget - 10, name)
                XCTAssertEqual(h.lastUnmappedAddress, 0, name)
            } else {
                XCTAssertEqual(h.unmappedAccesses, 0, name)
            }
            // One slice: exactly its budget of traps, then back to the caller.
            let traps = h.trapsTaken
            XCTAssertEqual(h.run(1000), 1000, name)
            XCTAssertEqual(h.trapsTaken - traps, 1000, name)
            // The JIT plays no part, but the interpreter alone must behave the same.
            m.code.jitEnabled = false
            XCTAssertEqual(h.run(777), 777, name)
            XCTAssertEqual(h.trapsTaken - traps, 1777, name)
        }
    }
}

extension ISATests {
    /// A virtio device that enters NEEDS_RESET (here: a queue placed below RAM) is counted by the machine,
    /// not left for the guest to notice or not.
    func testVirtioNeedsResetIsCountedByTheMachine() throws {
        var config = MachineConfig()
        config.memorySize = 64 << 20
        config.firmware = .none
        config.kernelPath = try compile("counter_writes")
        config.rng = true
        let m = try Machine(config: config)
        try m.boot()
        let base = VirtMap.virtioAddress(0)
        func w(_ reg: UInt64, _ v: UInt32) { XCTAssertTrue(m.bus.store(base + reg, size: 4, value: UInt64(v))) }
        w(VirtioMMIOReg.status, 0)
        w(VirtioMMIOReg.status, VirtioStatus.acknowledge | VirtioStatus.driver)
        w(VirtioMMIOReg.driverFeaturesSel, 1); w(VirtioMMIOReg.driverFeatures, 1)   // VIRTIO_F_VERSION_1
        w(VirtioMMIOReg.status, VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK)
        w(VirtioMMIOReg.queueSel, 0)
        w(VirtioMMIOReg.queueNum, 16)
        w(VirtioMMIOReg.queueDescLow, 0x1000)   // below RAM
        w(VirtioMMIOReg.queueReady, 1)
        XCTAssertEqual(m.stats.virtioNeedsReset, 0, "counted at the next report, not before")
        _ = m.run(maxInstructions: 10_000_000)
        XCTAssertEqual(m.stats.virtioNeedsReset, 1)
    }
}
