import XCTest
import Platform
import RISCV
import Devices

/// IMSIC interrupt files and their MMIO pages, and the APLIC in MSI mode (AIA spec §3, §4).
final class IMSICTests: XCTestCase {
    func testFileTopThresholdAndClaim() {
        let f = IMSICFile()
        f.setPending(40); f.setPending(7); f.setPending(0); f.setPending(300)
        XCTAssertEqual(f.topID, 0, "nothing enabled")
        XCTAssertTrue(f.write(0xc0, 1 << 40 | 1 << 7 | 1))   // eie0
        XCTAssertEqual(f.read(0xc0), 1 << 40 | 1 << 7, "identity 0 cannot be enabled")
        XCTAssertEqual(f.read(0x80), 1 << 40 | 1 << 7, "0 and 300 were ignored")
        XCTAssertEqual(f.topei, 7 << 16 | 7)
        XCTAssertFalse(f.signal, "eidelivery is off")
        f.write(0x70, 0xffff_ffff)
        XCTAssertEqual(f.read(0x70), 1, "eidelivery: 0 or 1")
        XCTAssertTrue(f.signal)
        f.write(0x72, 7)
        XCTAssertEqual(f.topID, 0, "threshold 7 masks 7 and above")
        f.write(0x72, 41)
        f.claimTop()
        XCTAssertEqual(f.topID, 40)
        XCTAssertFalse(f.isPending(7))
        f.claimTop()
        XCTAssertEqual(f.topID, 0)
        XCTAssertEqual(f.read(0x80), 0)
    }

    func testIndirectRegisterMapRV64() {
        let f = IMSICFile()
        XCTAssertNil(f.read(0x81), "odd eip registers do not exist on RV64")
        XCTAssertNil(f.read(0xc1))
        XCTAssertNil(f.read(0x71))
        XCTAssertNil(f.read(0x6f))
        XCTAssertEqual(f.read(0x88), 0, "eip8 (identities 256...) reads zero")
        XCTAssertTrue(f.write(0x86, .max))
        XCTAssertEqual(f.read(0x86), .max, "eip6 holds identities 192...255")
        XCTAssertTrue(f.isPending(255))
        XCTAssertFalse(f.write(0xc3, 1))
    }

    func testMMIOPagesReachHartAndGuestFiles() {
        let harts = (0..<2).map { _ in HartAIA(geilen: 3) }
        let s = IMSICRegion(harts: harts, machineLevel: false)
        XCTAssertEqual(s.guestIndexBits, 2)
        XCTAssertEqual(s.size, 2 * 4 * 0x1000, "QEMU virt: 2^guest-index-bits pages per hart")
        s.write(0, size: 4, value: 5)                         // hart 0 S file, seteipnum_le
        s.write(0x1000 * 4 + 0x2000 + 4, size: 4, value: UInt64(UInt32(9).byteSwapped))   // hart 1 guest 2, _be
        s.write(0x1000 * 4 + 0x3008, size: 4, value: 11)      // other offsets are ignored
        XCTAssertTrue(harts[0].supervisorFile.isPending(5))
        XCTAssertTrue(harts[1].guestFiles[1].isPending(9))
        XCTAssertEqual(s.read(0, size: 4), 0, "seteipnum reads zero")
        let m = IMSICRegion(harts: harts, machineLevel: true)
        XCTAssertEqual(m.size, 2 * 0x1000)
        m.write(0x1000, size: 4, value: 3)
        XCTAssertTrue(harts[1].machineFile.isPending(3))
        XCTAssertFalse(harts[1].supervisorFile.isPending(3))
    }

    func testHGEIPFollowsGuestFileSignals() {
        let a = HartAIA(geilen: 3)
        XCTAssertEqual(a.hgeip, 0)
        let g = a.guestFiles[2]
        g.write(0x70, 1); g.write(0xc0, 1 << 4); g.setPending(4)
        XCTAssertEqual(a.hgeip, 1 << 3)
        XCTAssertNil(a.file(guest: 4))
        XCTAssertTrue(a.file(guest: 0) === a.supervisorFile)
    }

    func testStateRoundTrip() throws {
        let a = HartAIA(geilen: 3)
        a.supervisorFile.write(0x70, 1); a.supervisorFile.write(0xc2, 0xff); a.supervisorFile.setPending(65)
        a.guestFiles[0].write(0x72, 9)
        var w = StateWriter()
        a.saveState(&w)
        let b = HartAIA(geilen: 3)
        var r = StateReader(w.bytes)
        try b.loadState(&r)
        XCTAssertEqual(b.supervisorFile.topID, 65)
        XCTAssertEqual(b.guestFiles[0].eithreshold, 9)
        var r2 = StateReader(w.bytes)
        XCTAssertThrowsError(try HartAIA(geilen: 1).loadState(&r2), "GEILEN must match")
    }
}

final class APLICTests: XCTestCase {
    var sent: [(hart: Int, guest: Int, eiid: UInt32)] = []
    func make() -> APLIC { APLIC(deliver: { [unowned self] h, g, e in self.sent.append((h, g, e)) }) }
    func sourcecfg(_ s: Int) -> UInt64 { UInt64(4 * s) }
    func target(_ s: Int) -> UInt64 { 0x3000 + UInt64(4 * s) }

    func testDomaincfgIsMSIMode() {
        let a = make()
        XCTAssertEqual(a.read(0, size: 4), 0x8000_0004, "DM reads 1, IE 0")
        a.write(0, size: 4, value: 0x104)
        XCTAssertEqual(a.read(0, size: 4), 0x8000_0104)
        a.write(0, size: 4, value: 0)
        XCTAssertEqual(a.read(0, size: 4), 0x8000_0004, "DM is read-only 1")
    }

    func testLevelSourceDeliversOnceAndRetriggersWhileHigh() {
        let a = make()
        a.write(0, size: 4, value: 0x104)
        a.write(sourcecfg(10), size: 4, value: 6)                  // level high
        XCTAssertEqual(a.read(sourcecfg(10), size: 4), 6)
        a.write(target(10), size: 4, value: 1 << 18 | 2 << 12 | 33) // hart 1, guest 2, EIID 33
        a.write(0x1edc, size: 4, value: 10)                         // setienum
        XCTAssertEqual(a.read(0x1e00, size: 4), 1 << 10)
        a.setLevel(10, true)
        XCTAssertEqual(sent.count, 1)
        XCTAssertEqual(sent.first?.hart, 1); XCTAssertEqual(sent.first?.guest, 2); XCTAssertEqual(sent.first?.eiid, 33)
        XCTAssertEqual(a.read(0x1c00, size: 4), 0, "pending cleared when the MSI went out")
        XCTAssertEqual(a.read(0x1d00, size: 4), 1 << 10, "in_clrip reads the rectified input")
        a.write(0x2000, size: 4, value: 10)                         // setipnum_le while high: again (Linux's EOI)
        XCTAssertEqual(sent.count, 2)
        a.setLevel(10, false)
        a.write(0x2000, size: 4, value: 10)                         // while low: no effect
        XCTAssertEqual(sent.count, 2)
        XCTAssertEqual(a.read(0x1c00, size: 4), 0)
    }

    func testEdgeAndEnableAndDomainGate() {
        let a = make()
        a.write(sourcecfg(3), size: 4, value: 5)                    // edge falling
        a.write(target(3), size: 4, value: 7)
        a.setLevel(3, true)
        XCTAssertEqual(a.read(0x1c00, size: 4), 0, "rising raw = falling rectified")
        a.setLevel(3, false)
        XCTAssertEqual(a.read(0x1c00, size: 4), 1 << 3)
        XCTAssertTrue(sent.isEmpty, "not enabled, domain off")
        a.write(0x1e00, size: 4, value: 1 << 3)
        XCTAssertTrue(sent.isEmpty, "domaincfg.IE = 0")
        a.write(0, size: 4, value: 0x100)
        XCTAssertEqual(sent.count, 1)
        XCTAssertEqual(sent.last?.eiid, 7)
        a.write(0x1cdc, size: 4, value: 3)                          // setipnum on an edge source: always
        XCTAssertEqual(sent.count, 2)
        a.write(0x1fdc, size: 4, value: 3)                          // clrienum
        a.write(0x1cdc, size: 4, value: 3)
        XCTAssertEqual(sent.count, 2)
        XCTAssertEqual(a.read(0x1c00, size: 4), 1 << 3)
        a.write(0x1ddc, size: 4, value: 3)                          // clripnum
        XCTAssertEqual(a.read(0x1c00, size: 4), 0)
    }

    func testInactiveAndDelegatedSourcesAndGenmsi() {
        let a = make()
        a.write(target(5), size: 4, value: 9)
        XCTAssertEqual(a.read(target(5), size: 4), 0, "an inactive source's target is read-only zero")
        a.write(sourcecfg(5), size: 4, value: 1 << 10 | 1)
        XCTAssertEqual(a.read(sourcecfg(5), size: 4), 0, "no child domains: D cannot be set")
        a.write(sourcecfg(97), size: 4, value: 6)
        XCTAssertEqual(a.read(sourcecfg(97), size: 4), 0, "beyond riscv,num-sources")
        a.write(0x3000, size: 4, value: 1 << 18 | 1 << 12 | 42)     // genmsi (Busy is read-only)
        XCTAssertEqual(sent.count, 1)
        XCTAssertEqual(sent.last?.hart, 1); XCTAssertEqual(sent.last?.guest, 0); XCTAssertEqual(sent.last?.eiid, 42)
        XCTAssertEqual(a.read(0x3000, size: 4), 1 << 18 | 42)
    }

    func testStateRoundTrip() throws {
        let a = make()
        a.write(0, size: 4, value: 0x100)
        a.write(sourcecfg(4), size: 4, value: 6)
        a.write(target(4), size: 4, value: 77)
        a.setLevel(4, true)                                          // pending, not enabled
        var w = StateWriter()
        a.saveState(&w)
        let b = make()
        var r = StateReader(w.bytes)
        try b.loadState(&r)
        XCTAssertEqual(b.read(0x1c00, size: 4), 1 << 4)
        XCTAssertEqual(b.read(target(4), size: 4), 77)
        b.write(0x1edc, size: 4, value: 4)
        XCTAssertEqual(sent.last?.eiid, 77)
    }
}
