import XCTest
import Platform
import RISCV
import Devices
import Backends

final class RTCTests: XCTestCase {
    final class Clock { var ns: UInt64 = 1_700_000_000_123_456_789 }
    func make() -> (GoldfishRTC, Clock, () -> Bool) {
        let c = Clock()
        var level = false
        let rtc = GoldfishRTC(irq: { level = $0 }, clock: { c.ns })
        return (rtc, c, { level })
    }

    func testTimeReadLatchesHigh() {
        let (rtc, c, _) = make()
        let lo = rtc.read(0x00, size: 4)
        c.ns += 1 << 33                           // high half moves after the latch
        let hi = rtc.read(0x04, size: 4)
        XCTAssertEqual(hi << 32 | lo, 1_700_000_000_123_456_789)
        XCTAssertEqual(rtc.read(0, size: 8), c.ns, "64-bit read: low then latched high")
    }

    func testSetTime() {
        let (rtc, c, _) = make()
        rtc.write(0x04, size: 4, value: 0x1)
        rtc.write(0x00, size: 4, value: 0x2)
        XCTAssertEqual(rtc.now, 0x1_0000_0002)
        c.ns += 1000
        XCTAssertEqual(rtc.read(0, size: 4), 0x2 + 1000)
        XCTAssertEqual(rtc.read(4, size: 4), 1)
    }

    func testAlarm() {
        let (rtc, c, level) = make()
        rtc.write(0x10, size: 4, value: 1)
        XCTAssertEqual(rtc.read(0x10, size: 4), 1)
        let due = c.ns + 5_000
        rtc.write(0x0c, size: 4, value: due >> 32)
        rtc.write(0x08, size: 4, value: due & 0xffff_ffff)
        XCTAssertEqual(rtc.read(0x18, size: 4), 1, "armed")
        XCTAssertEqual(rtc.alarmDeadline, due)
        XCTAssertEqual(rtc.read(0x08, size: 4) | rtc.read(0x0c, size: 4) << 32, due)
        rtc.update()
        XCTAssertFalse(level())
        c.ns += 5_000
        rtc.update()
        XCTAssertTrue(level())
        XCTAssertEqual(rtc.read(0x18, size: 4), 0, "fired alarms disarm")
        rtc.write(0x1c, size: 4, value: 1)
        XCTAssertFalse(level())

        // Past alarm fires on arming; CLEAR_ALARM disarms; IRQ_ENABLED gates the line.
        rtc.write(0x10, size: 4, value: 0)
        rtc.write(0x08, size: 4, value: 0)
        XCTAssertFalse(level())
        rtc.write(0x10, size: 4, value: 1)
        XCTAssertTrue(level())
        rtc.write(0x1c, size: 4, value: 1)
        rtc.write(0x0c, size: 4, value: 0xffff_ffff)
        rtc.write(0x08, size: 4, value: 0)
        rtc.write(0x14, size: 4, value: 1)
        XCTAssertEqual(rtc.read(0x18, size: 4), 0)
        XCTAssertNil(rtc.alarmDeadline)
    }

    func testReset() {
        let (rtc, _, level) = make()
        rtc.write(0x00, size: 4, value: 5)
        rtc.write(0x10, size: 4, value: 1)
        rtc.write(0x08, size: 4, value: 0)
        XCTAssertTrue(level())
        let t = rtc.now
        rtc.reset()
        XCTAssertFalse(level())
        XCTAssertEqual(rtc.now, t, "time of day survives reset")
        XCTAssertEqual(rtc.read(0x10, size: 4), 0)
    }

    func testHostClockIsWallTime() {
        let rtc = GoldfishRTC(irq: { _ in })
        let t = rtc.read(0, size: 8)
        XCTAssertGreaterThan(t, 1_600_000_000 * 1_000_000_000)  // after 2020
    }

    func testStateRoundTrip() throws {
        let (rtc, c, _) = make()
        rtc.write(0x00, size: 4, value: 77)
        rtc.write(0x10, size: 4, value: 1)
        rtc.write(0x0c, size: 4, value: 0x10)
        rtc.write(0x08, size: 4, value: 0x20)
        let s = saved(rtc)
        let (r2, c2, level2) = make()
        c2.ns = c.ns
        try load(r2, s)
        XCTAssertEqual(r2.now, rtc.now)
        XCTAssertTrue(level2(), "alarm already fired before the snapshot")
        XCTAssertEqual(saved(r2), s)
        assertTruncationsThrow({ make().0 }, s)
        corruptionDoesNotTrap({ make().0 }, s, span: 0x1000)
        fuzzAccesses(make().0, span: 0x2000)
    }
}

final class SiFiveTestTests: XCTestCase {
    func testFinisher() throws {
        var events: [String] = []
        let t = SiFiveTest(onPowerOff: { events.append("off \($0)") }, onReset: { events.append("reset") })
        t.write(0, size: 4, value: 0x5555)
        t.write(0, size: 4, value: 0x0042_3333)
        t.write(0, size: 4, value: 0x7777)
        t.write(0, size: 4, value: 0x1234)
        t.write(4, size: 4, value: 0x5555)
        t.write(0, size: 1, value: 0x55)
        XCTAssertEqual(events, ["off 0", "off 66", "reset"])
        XCTAssertEqual(t.read(0, size: 4), 0)
        let s = saved(t)
        try load(t, s)
        assertTruncationsThrow({ SiFiveTest(onPowerOff: { _ in }, onReset: {}) }, s)
        fuzzAccesses(SiFiveTest(onPowerOff: { _ in }, onReset: {}), span: 0x1000)
    }
}
