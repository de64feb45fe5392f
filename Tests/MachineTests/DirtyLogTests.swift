import XCTest
import Machine
import Platform
import RISCV

/// The dirty-page log that Diff snapshots are made of: a hart's plain stores and atomics, and device
/// writes into RAM, all mark their page; taking the log flushes the store TLBs so the next write to
/// the same page is seen again; nothing else is marked.
final class DirtyLogTests: XCTestCase {
    /// At 0x8000_0000, M-mode, no paging:
    ///   auipc t0, 0x100; sd zero, 0(t0)         -> page 0x100 (store)
    ///   auipc t1, 0x200; li t2, 1; amoadd.d zero, t2, (t1)   -> page 0x200 (atomic)
    ///   loop: sd zero, 0(t0); j loop             -> page 0x100 again and again (a store-TLB hit)
    static let program: [UInt32] = [0x0010_0297, 0x0002_B023, 0x0020_0317, 0x0010_0393, 0x0073_302F, 0x0002_B023, 0xFFDF_F06F]

    func makeMachine() throws -> Machine {
        var config = MachineConfig()
        config.memorySize = 64 << 20
        config.firmware = .none
        let m = try Machine(config: config)
        var bytes: [UInt8] = []
        for w in Self.program { withUnsafeBytes(of: w.littleEndian) { bytes.append(contentsOf: $0) } }
        XCTAssertTrue(m.ram.copyIn(m.ram.base, bytes))
        m.harts[0].reset(pc: m.ram.base)
        m.harts[0].running = true
        return m
    }

    func testStoresAtomicsAndDeviceWritesAreLogged() throws {
        let m = try makeMachine()
        XCTAssertNil(m.ram.dirtyLog, "the log is off until a snapshot needs it")
        m.startDirtyLog()
        _ = m.run(maxInstructions: 100_000)
        XCTAssertEqual(m.takeDirtyPages(), [0x100, 0x200], "the store's and the atomic's pages, nothing else")
        // The loop keeps storing to page 0x100 through its store-TLB entry; taking the log flushed it.
        _ = m.run(maxInstructions: 200_000)
        XCTAssertEqual(m.takeDirtyPages(), [0x100])
        // Nothing written since: an empty log.
        XCTAssertEqual(m.takeDirtyPages(), [])
        // Device DMA (virtio writes through GuestRAM) is logged too, spanning pages.
        XCTAssertTrue(m.ram.copyIn(m.ram.base + 0x30_0ffc, [1, 2, 3, 4, 5, 6, 7, 8]))
        XCTAssertTrue(m.ram.write(m.ram.base + 0x40_0000, UInt32(7)))
        XCTAssertEqual(m.takeDirtyPages(), [0x300, 0x301, 0x400])
        m.ram.stopDirtyLog()
        XCTAssertNil(m.ram.dirtyLog)
    }
}
