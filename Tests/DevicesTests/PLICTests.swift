import XCTest
import Platform
import RISCV
import Devices
import Backends

final class PLICTests: XCTestCase {
    func make(_ n: Int = 2) -> (PLIC, [MockHart]) {
        let harts = (0..<n).map { _ in MockHart() }
        return (PLIC(harts: harts), harts)
    }
    func enable(_ p: PLIC, ctx: Int, _ sources: [Int]) {
        var words = [UInt32](repeating: 0, count: 3)
        for s in sources { words[s / 32] |= 1 << UInt32(s % 32) }
        for (i, w) in words.enumerated() { p.write(0x2000 + 0x80 * UInt64(ctx) + 4 * UInt64(i), size: 4, value: UInt64(w)) }
    }
    func claimAddr(_ ctx: Int) -> UInt64 { 0x20_0004 + 0x1000 * UInt64(ctx) }
    func thresholdAddr(_ ctx: Int) -> UInt64 { 0x20_0000 + 0x1000 * UInt64(ctx) }

    func testPriorityRegisters() {
        let (p, _) = make()
        p.write(4 * 10, size: 4, value: 0xffff_ffff)
        XCTAssertEqual(p.read(4 * 10, size: 4), 7, "priority is 3 bits")
        p.write(0, size: 4, value: 5)
        XCTAssertEqual(p.read(0, size: 4), 0, "source 0 has no priority")
        p.write(4 * 95, size: 4, value: 3)
        XCTAssertEqual(p.read(4 * 95, size: 4), 3)
        XCTAssertEqual(p.read(4 * 96, size: 4), 0, "beyond the last source")
        enable(p, ctx: 1, [0, 1, 95])
        XCTAssertEqual(p.read(0x2080, size: 4), 2, "source 0 cannot be enabled")
        XCTAssertEqual(p.read(0x2088, size: 4), 1 << 31)
        XCTAssertEqual(p.read(0x2080, size: 8), 2)
    }

    func testClaimCompleteLevelSemantics() {
        let (p, h) = make()
        p.write(4 * 10, size: 4, value: 1)
        enable(p, ctx: 1, [10])              // hart 0 S-mode
        p.setLevel(10, true)
        XCTAssertTrue(h[0].has(IRQ.seip))
        XCTAssertFalse(h[0].has(IRQ.meip), "not enabled for M-mode")
        XCTAssertFalse(h[1].has(IRQ.seip))
        XCTAssertEqual(p.read(0x1000, size: 4), 1 << 10, "pending bit")

        XCTAssertEqual(p.read(claimAddr(1), size: 4), 10)
        XCTAssertFalse(h[0].has(IRQ.seip), "claimed source is no longer presented")
        XCTAssertEqual(p.read(0x1000, size: 4), 0)
        XCTAssertEqual(p.read(claimAddr(1), size: 4), 0, "nothing else to claim")

        // Level still high at completion: the gateway forwards it again.
        p.write(claimAddr(1), size: 4, value: 10)
        XCTAssertTrue(h[0].has(IRQ.seip))
        XCTAssertEqual(p.read(claimAddr(1), size: 4), 10)
        p.setLevel(10, false)
        p.write(claimAddr(1), size: 4, value: 10)
        XCTAssertFalse(h[0].has(IRQ.seip), "level dropped before completion")
        XCTAssertEqual(p.read(0x1000, size: 4), 0)

        // While claimed, toggling the line does not re-present the source.
        p.setLevel(10, true)
        XCTAssertEqual(p.read(claimAddr(1), size: 4), 10)
        p.setLevel(10, false)
        p.setLevel(10, true)
        XCTAssertFalse(h[0].has(IRQ.seip))
        p.write(claimAddr(1), size: 4, value: 10)
        XCTAssertTrue(h[0].has(IRQ.seip))

        // A level drop while pending (unclaimed) withdraws the request.
        p.setLevel(10, false)
        XCTAssertFalse(h[0].has(IRQ.seip))
    }

    func testPriorityThresholdAndEnable() {
        let (p, h) = make()
        p.write(4 * 3, size: 4, value: 2)
        p.write(4 * 5, size: 4, value: 6)
        p.write(4 * 7, size: 4, value: 6)
        enable(p, ctx: 0, [3, 5, 7])
        p.setLevel(3, true); p.setLevel(5, true); p.setLevel(7, true)
        XCTAssertTrue(h[0].has(IRQ.meip))

        p.write(thresholdAddr(0), size: 4, value: 6)
        XCTAssertEqual(p.read(thresholdAddr(0), size: 4), 6)
        XCTAssertFalse(h[0].has(IRQ.meip), "priority must exceed the threshold")
        XCTAssertEqual(p.read(claimAddr(0), size: 4), 0)
        p.write(thresholdAddr(0), size: 4, value: 1)
        XCTAssertTrue(h[0].has(IRQ.meip))

        XCTAssertEqual(p.read(claimAddr(0), size: 4), 5, "highest priority, lowest ID on ties")
        XCTAssertEqual(p.read(claimAddr(0), size: 4), 7)
        XCTAssertEqual(p.read(claimAddr(0), size: 4), 3)
        XCTAssertFalse(h[0].has(IRQ.meip))
        XCTAssertEqual(p.read(claimAddr(0), size: 4), 0)

        // Completion from a context where the source is not enabled is ignored.
        p.write(claimAddr(2), size: 4, value: 5)
        XCTAssertFalse(h[0].has(IRQ.meip))
        p.write(claimAddr(0), size: 4, value: 5)
        XCTAssertTrue(h[0].has(IRQ.meip))

        // Disabling the source drops the line; priority 0 never interrupts.
        enable(p, ctx: 0, [])
        XCTAssertFalse(h[0].has(IRQ.meip))
        enable(p, ctx: 0, [5])
        XCTAssertTrue(h[0].has(IRQ.meip))
        p.write(4 * 5, size: 4, value: 0)
        XCTAssertFalse(h[0].has(IRQ.meip))
    }

    func testContextsPerHart() {
        let (p, h) = make(2)
        p.write(4 * 1, size: 4, value: 1)
        enable(p, ctx: 2, [1])   // hart 1 M
        enable(p, ctx: 3, [1])   // hart 1 S
        p.setLevel(1, true)
        XCTAssertTrue(h[1].has(IRQ.meip))
        XCTAssertTrue(h[1].has(IRQ.seip))
        XCTAssertEqual(h[0].mip, 0)
        XCTAssertEqual(p.read(claimAddr(3), size: 4), 1)
        XCTAssertFalse(h[1].has(IRQ.meip), "claim is global to the gateway")
        XCTAssertFalse(h[1].has(IRQ.seip))
        XCTAssertEqual(p.read(claimAddr(4), size: 4), 0, "no such context")
        p.setLevel(0, true); p.setLevel(96, true); p.setLevel(-1, true); p.setLevel(Int.max, true)
    }

    func testStateRoundTrip() throws {
        let (p, _) = make()
        p.write(4 * 10, size: 4, value: 3)
        p.write(4 * 11, size: 4, value: 2)
        enable(p, ctx: 1, [10, 11])
        p.write(thresholdAddr(1), size: 4, value: 1)
        p.setLevel(10, true); p.setLevel(11, true)
        XCTAssertEqual(p.read(claimAddr(1), size: 4), 10)
        let s = saved(p)
        let (p2, h2) = make()
        try load(p2, s)
        XCTAssertTrue(h2[0].has(IRQ.seip))
        XCTAssertEqual(p2.read(thresholdAddr(1), size: 4), 1)
        XCTAssertEqual(p2.read(claimAddr(1), size: 4), 11)
        p2.write(claimAddr(1), size: 4, value: 10)      // 10 was claimed before the snapshot
        XCTAssertEqual(p2.read(claimAddr(1), size: 4), 10)
        assertTruncationsThrow({ make().0 }, s)
        XCTAssertThrowsError(try load(make(1).0, s))
        corruptionDoesNotTrap({ make().0 }, s, span: PLIC.size)
    }

    func testReset() {
        let (p, h) = make()
        p.write(4 * 2, size: 4, value: 1)
        enable(p, ctx: 0, [2])
        p.setLevel(2, true)
        XCTAssertEqual(p.read(claimAddr(0), size: 4), 2)
        p.reset()
        XCTAssertEqual(p.read(4 * 2, size: 4), 0)
        XCTAssertEqual(p.read(0x2000, size: 4), 0)
        XCTAssertEqual(p.read(0x1000, size: 4), 1 << 2, "still-high line is pending again")
        XCTAssertEqual(h[0].mip, 0)
        p.write(4 * 2, size: 4, value: 1)
        enable(p, ctx: 0, [2])
        XCTAssertTrue(h[0].has(IRQ.meip))
    }

    func testFuzzNoTrap() {
        let (p, _) = make()
        for s in 1..<96 { p.setLevel(s, s % 3 == 0) }
        fuzzAccesses(p, span: PLIC.size + 0x1000)
        fuzzAccesses(p, span: 0x3000, seed: 2)
        fuzzAccesses(p, span: 0x20_5000, seed: 3)
    }
}
