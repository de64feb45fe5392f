import XCTest
import Machine
import Platform
import RISCV

/// The pieces of live migration below the VMM: the destination's pre-switch-over check of state
/// sections agrees with what a machine saves, and post-copy's missing pages are fetched on the first
/// access by any path (a hart's instruction fetch, load, store or atomic; a device's DMA), once each.
final class PostcopyTests: XCTestCase {
    func testStateSectionNamesMatchWhatAMachineSaves() throws {
        var config = MachineConfig()
        config.memorySize = 32 << 20
        config.firmware = .none
        config.harts = 3
        config.rng = true
        config.virtioConsole = true
        let m = try Machine(config: config)
        XCTAssertEqual(Machine.stateSectionNames(for: config), m.saveState(guestTime: 0).map(\.name))
    }

    func testMissingPagesAreFetchedOnFirstTouchByEveryPath() throws {
        var config = MachineConfig()
        config.memorySize = 64 << 20
        config.firmware = .none
        let m = try Machine(config: config)
        var program: [UInt8] = []
        for w in DirtyLogTests.program { withUnsafeBytes(of: w.littleEndian) { program.append(contentsOf: $0) } }
        // What the "source" has: the program on page 0, a marker on page 0x100 and 0x200, and page 0x300.
        var source: [Int: [UInt8]] = [:]
        source[0] = program + [UInt8](repeating: 0, count: 4096 - program.count)
        for p in [0x100, 0x200, 0x300] { source[p] = [UInt8](repeating: UInt8(p >> 8), count: 4096) }
        var fetched: [Int] = []
        let ram = m.ram
        ram.beginPostcopy(pages: Array(source.keys)) { page in
            fetched.append(page)
            (ram.pointer + (page << 12)).copyMemory(from: source[page]!, byteCount: 4096)
            ram.arrived(page)
        }
        m.harts[0].reset(pc: ram.base)
        m.harts[0].running = true
        _ = m.run(maxInstructions: 100_000)
        // The hart fetched its code, then stored to 0x100 and added to 0x200 (atomic): each page came
        // first, so the untouched bytes hold the source's contents.
        XCTAssertEqual(fetched, [0, 0x100, 0x200])
        XCTAssertEqual(ram.read(ram.base + 0x100_000 + 8, as: UInt8.self), 1, "page 0x100 beyond the store")
        XCTAssertEqual(ram.read(ram.base + 0x200_008, as: UInt64.self), 0x0202_0202_0202_0202 &+ 1, "the atomic added to the fetched value")
        // Device DMA (GuestRAM's accessors) fetches too; each page only once.
        XCTAssertEqual(ram.read(ram.base + 0x300_010, as: UInt8.self), 3)
        XCTAssertEqual(ram.copyOut(ram.base + 0x300_000, 4), [3, 3, 3, 3])
        XCTAssertEqual(fetched, [0, 0x100, 0x200, 0x300])
        XCTAssertFalse(ram.isMissing(0x300))
        ram.endPostcopy()
        XCTAssertNil(ram.missing)
    }
}
