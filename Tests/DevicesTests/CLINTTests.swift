import XCTest
import Foundation
import Platform
import RISCV
import Devices
import Backends

final class CLINTTests: XCTestCase {
    func make(_ n: Int = 2) -> (CLINT, [MockHart], TimeBase) {
        let harts = (0..<n).map { _ in MockHart() }
        let t = TimeBase()
        return (CLINT(harts: harts, time: t), harts, t)
    }

    func testMSIP() {
        let (c, h, _) = make()
        c.write(4, size: 4, value: 1)
        XCTAssertTrue(h[1].has(IRQ.msip))
        XCTAssertFalse(h[0].has(IRQ.msip))
        XCTAssertEqual(c.read(4, size: 4), 1)
        c.write(4, size: 4, value: 0xfffffffe)
        XCTAssertFalse(h[1].has(IRQ.msip))
        XCTAssertEqual(c.read(4, size: 4), 0)
        c.write(0, size: 1, value: 1)
        XCTAssertTrue(h[0].has(IRQ.msip))
        XCTAssertEqual(c.read(8, size: 4), 0, "no third hart")
    }

    func testMTimecmpAndMTIP() {
        let (c, h, t) = make()
        XCTAssertEqual(c.read(0x4000, size: 8), UInt64.max, "mtimecmp resets to all ones")
        XCTAssertEqual(c.nextDeadline, UInt64.max)
        c.write(0xbff8, size: 8, value: 1_000_000)
        let now = c.read(0xbff8, size: 8)
        XCTAssertGreaterThanOrEqual(now, 1_000_000)
        XCTAssertLessThan(now, 1_000_000 + 10_000_000)
        XCTAssertGreaterThanOrEqual(t.now(), 1_000_000)

        c.write(0x4008, size: 8, value: 500)          // hart 1: already due
        XCTAssertTrue(h[1].has(IRQ.mtip))
        XCTAssertFalse(h[0].has(IRQ.mtip))
        XCTAssertEqual(c.nextDeadline, 500)

        c.write(0x4008, size: 4, value: 0xffff_ffff)  // low half
        c.write(0x400c, size: 4, value: 0x7fff_ffff) // high half
        XCTAssertEqual(c.read(0x4008, size: 8), 0x7fff_ffff_ffff_ffff)
        XCTAssertEqual(c.read(0x400c, size: 4), 0x7fff_ffff)
        XCTAssertEqual(c.read(0x4008, size: 4), 0xffff_ffff)
        XCTAssertFalse(h[1].has(IRQ.mtip))

        c.write(0x4000, size: 8, value: t.now() + 20_000)  // 2 ms ahead at 10 MHz
        XCTAssertFalse(h[0].has(IRQ.mtip))
        XCTAssertLessThan(c.nextDeadline, 0x7fff_ffff_ffff_ffff)
        usleep(5_000)
        c.update()
        XCTAssertTrue(h[0].has(IRQ.mtip))

        // Moving mtime backwards clears MTIP.
        c.write(0xbff8, size: 8, value: 0)
        XCTAssertFalse(h[0].has(IRQ.mtip))
        // 32-bit write to the high half of mtime.
        c.write(0xbffc, size: 4, value: 1)
        XCTAssertGreaterThanOrEqual(c.read(0xbffc, size: 4), 1)
    }

    func testStateRoundTrip() throws {
        let (c, _, t) = make()
        c.write(4, size: 4, value: 1)
        // mtime lives in the TimeBase, not in the CLINT's state, and a fresh TimeBase starts near 0:
        // mtimecmp 0 is due on any time base, one far in the future is due on none.
        c.write(0x4000, size: 8, value: 0)
        c.write(0x4008, size: 8, value: t.now() + 1_000_000_000)
        let s = saved(c)
        let (c2, h2, _) = make()
        try load(c2, s)
        XCTAssertEqual(c2.read(0x4000, size: 8), 0)
        XCTAssertEqual(c2.read(4, size: 4), 1)
        XCTAssertTrue(h2[1].has(IRQ.msip))
        XCTAssertTrue(h2[0].has(IRQ.mtip))
        XCTAssertFalse(h2[1].has(IRQ.mtip))
        XCTAssertEqual(saved(c2), s)
        assertTruncationsThrow({ make().0 }, s)
        XCTAssertThrowsError(try load(make(3).0, s), "hart count mismatch")
        corruptionDoesNotTrap({ make().0 }, s, span: CLINT.size)
    }

    func testReset() {
        let (c, h, _) = make()
        c.write(0, size: 4, value: 1)
        c.write(0x4000, size: 8, value: 0)
        XCTAssertTrue(h[0].has(IRQ.msip) && h[0].has(IRQ.mtip))
        c.reset()
        XCTAssertEqual(h[0].mip, 0)
        XCTAssertEqual(c.read(0x4000, size: 8), UInt64.max)
        XCTAssertEqual(c.nextDeadline, UInt64.max)
    }

    func testFuzzNoTrap() {
        fuzzAccesses(make().0, span: 0x20000)
    }
}
