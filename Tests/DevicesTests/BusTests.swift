import XCTest
import Platform
import RISCV
import Devices
import Backends

final class BusTests: XCTestCase {
    func testMapLoadStore() {
        let bus = SystemBus()
        let a = RAMDevice(size: 0x100), b = RAMDevice(size: 0x1000)
        bus.map(base: 0x2000, size: 0x1000, name: "b", device: b)
        bus.map(base: 0x1000, size: 0x100, name: "a", device: a)
        XCTAssertTrue(bus.store(0x1010, size: 4, value: 0xdead_beef))
        XCTAssertEqual(a.read(0x10, size: 4), 0xdead_beef)
        XCTAssertEqual(bus.load(0x1010, size: 2), 0xbeef)
        XCTAssertTrue(bus.store(0x2ff8, size: 8, value: 0x0123_4567_89ab_cdef))
        XCTAssertEqual(bus.load(0x2ff8, size: 8), 0x0123_4567_89ab_cdef)
        XCTAssertEqual(bus.load(0x1010, size: 4), 0xdead_beef)  // after cache switched to b
        XCTAssertEqual(bus.regionName(at: 0x2000), "b")
        XCTAssertEqual(bus.mappings.map(\.name), ["a", "b"])
    }

    func testUnmappedAndStraddle() {
        let bus = SystemBus()
        bus.map(base: 0x1000, size: 0x100, name: "a", device: RAMDevice(size: 0x100))
        bus.map(base: 0x1100, size: 0x100, name: "b", device: RAMDevice(size: 0x100))
        XCTAssertNil(bus.load(0x0, size: 4))
        XCTAssertNil(bus.load(0xfff, size: 1))
        XCTAssertNil(bus.load(0x1200, size: 1))
        XCTAssertFalse(bus.store(0x1200, size: 1, value: 0))
        XCTAssertNotNil(bus.load(0x10fc, size: 4))
        XCTAssertNil(bus.load(0x10fe, size: 4), "access straddling two regions must fail")
        XCTAssertFalse(bus.store(0x11fc, size: 8, value: 0), "access running off the end must fail")
        XCTAssertNil(bus.load(UInt64.max, size: 8))
        XCTAssertNil(bus.load(0x1000, size: 0))
    }

    func testTopOfAddressSpace() {
        let bus = SystemBus()
        bus.map(base: 0xffff_ffff_ffff_f000, size: 0x1000, name: "top", device: RAMDevice(size: 0x1000))
        XCTAssertTrue(bus.store(0xffff_ffff_ffff_fff8, size: 8, value: 7))
        XCTAssertEqual(bus.load(0xffff_ffff_ffff_fff8, size: 8), 7)
        XCTAssertNil(bus.load(0xffff_ffff_ffff_fffc, size: 8))
    }
}
