import XCTest
import Platform
import RISCV

final class NullBus: PhysicalBus {
    func load(_ addr: UInt64, size: Int) -> UInt64? { nil }
    func store(_ addr: UInt64, size: Int, value: UInt64) -> Bool { false }
}

final class HartStateTests: XCTestCase {
    func makeHart() -> Hart {
        let ram = try! GuestRAM(base: 0x8000_0000, size: 1 << 20)
        return Hart(id: 0, ram: ram, bus: NullBus(), time: TimeBase(), code: CodeCache(ram: ram))
    }

    func testRoundTrip() throws {
        let a = makeHart()
        a.reset(pc: 0x8000_0000)
        for i in 1..<32 { a.x[i] = UInt64(i) &* 0x1234_5678_9abc }
        a.f[3] = 0x4009_21fb_5444_2d18
        a.pc = 0x8000_1234
        XCTAssertTrue(a.csrWrite(CSR.mscratch, 0xdead_beef))
        XCTAssertTrue(a.csrWrite(CSR.satp, (8 << 60) | 0x80123))
        XCTAssertTrue(a.csrWrite(CSR.pmpaddr0, 0x2000_03ff))
        XCTAssertTrue(a.csrWrite(CSR.pmpcfg0, 0x1b))
        XCTAssertTrue(a.csrWrite(CSR.mstateen0 + 1, 1 << 63))
        var w = StateWriter()
        a.saveState(&w)

        let b = makeHart()
        var r = StateReader(w.bytes)
        try b.loadState(&r)
        XCTAssertTrue(r.atEnd)
        XCTAssertEqual(b.pc, 0x8000_1234)
        for i in 0..<32 { XCTAssertEqual(b.x[i], a.x[i], "x\(i)") }
        XCTAssertEqual(b.f[3], a.f[3])
        XCTAssertEqual(b.csrRead(CSR.mscratch), 0xdead_beef)
        XCTAssertEqual(b.satp, a.satp)
        XCTAssertEqual(b.csrRead(CSR.pmpaddr0), 0x2000_03ff)
        XCTAssertEqual(b.csrRead(CSR.pmpcfg0), 0x1b)
        XCTAssertEqual(b.mstateen, [0, 1 << 63, 0, 0])
    }

    func testTruncatedAndCorruptStateIsRejected() {
        let a = makeHart()
        a.reset(pc: 0x8000_0000)
        var w = StateWriter()
        a.saveState(&w)
        for cut in stride(from: 0, to: w.bytes.count, by: 37) {
            let b = makeHart()
            var r = StateReader(Array(w.bytes.prefix(cut)))
            XCTAssertThrowsError(try b.loadState(&r), "truncated at \(cut)")
        }
        var bad = w.bytes
        bad[0] ^= 0xff  // section tag length
        var r = StateReader(bad)
        XCTAssertThrowsError(try makeHart().loadState(&r))
    }

    func testHypervisorStateRoundTrips() throws {
        let a = makeHart()
        a.hypervisorExtension = true
        a.reset(pc: 0x8000_0000)
        XCTAssertTrue(a.csrWrite(CSR.hgatp, (8 << 60) | (5 << 44) | 0x80100))
        XCTAssertTrue(a.csrWrite(CSR.vsatp, (8 << 60) | 0x80200))
        XCTAssertTrue(a.csrWrite(CSR.vsscratch, 0x1234))
        XCTAssertTrue(a.csrWrite(CSR.hedeleg, 1 << 13))
        XCTAssertTrue(a.csrWrite(CSR.hvip, IRQ.vssip))
        XCTAssertTrue(a.csrWrite(CSR.mtval2, 0x55))
        a.hstatus |= HStatus.spv
        a.virt = true
        a.prv = Priv.supervisor
        var w = StateWriter()
        a.saveState(&w)

        let b = makeHart()
        b.hypervisorExtension = true
        var r = StateReader(w.bytes)
        try b.loadState(&r)
        XCTAssertTrue(b.virt)
        XCTAssertEqual(b.hgatp, a.hgatp)
        XCTAssertEqual(b.vsatp, a.vsatp)
        XCTAssertEqual(b.vsscratch, 0x1234)
        XCTAssertEqual(b.hedeleg, 1 << 13)
        XCTAssertEqual(b.hvip, IRQ.vssip)
        XCTAssertEqual(b.mtval2, 0x55)
        XCTAssertEqual(b.hstatus, a.hstatus)
        // Under V=1, sscratch is vsscratch.
        XCTAssertEqual(b.csrRead(CSR.sscratch), 0x1234)
    }

    /// Vector registers and CSRs (V) and the performance counters (Sscofpmf) travel; a state saved
    /// with another VLEN is refused with the fix named.
    func testVectorAndCounterStateRoundTrips() throws {
        let a = makeHart()
        a.extensions = .all
        a.reset(pc: 0x8000_0000)
        for i in 0..<(32 * a.vlenb) { a.vreg.storeBytes(of: UInt8(truncatingIfNeeded: i * 7 + 3), toByteOffset: i, as: UInt8.self) }
        (a.vtype, a.vl, a.vstart) = (0x53, 5, 2)
        a.mstatus |= 3 << 9
        XCTAssertTrue(a.csrWrite(0x00f, 5))                        // vcsr: vxrm 2, vxsat 1
        XCTAssertTrue(a.csrWrite(0x323, 2 | 1 << 61))             // mhpmevent3: instructions, SINH
        XCTAssertTrue(a.csrWrite(0xb03, 12345))
        XCTAssertTrue(a.csrWrite(CSR.mcountinhibit, 1))           // mcycle frozen
        XCTAssertTrue(a.csrWrite(CSR.mcycle, 777))
        var w = StateWriter()
        a.saveState(&w)

        let b = makeHart()
        b.extensions = .all
        var r = StateReader(w.bytes)
        try b.loadState(&r)
        XCTAssertEqual(memcmp(a.vreg, b.vreg, 32 * a.vlenb), 0, "vector registers")
        XCTAssertEqual(b.vtype, 0x53)
        XCTAssertEqual(b.vl, 5)
        XCTAssertEqual(b.csrRead(0x008), 2)
        XCTAssertEqual(b.csrRead(0x00f), 5)
        XCTAssertEqual(b.csrRead(0x323), 2 | 1 << 61)
        XCTAssertEqual(b.csrRead(0xb03), 12345)
        XCTAssertEqual(b.csrRead(CSR.mcycle), 777)

        let wide = makeHart()
        wide.extensions = .all
        wide.vlenb = 32
        var r2 = StateReader(w.bytes)
        XCTAssertThrowsError(try wide.loadState(&r2)) { XCTAssertTrue("\($0)".contains("--vlen 128"), "\($0)") }
    }

    /// A version-1 snapshot (before the H extension) still loads; the H state comes back at its reset values.
    func testVersion1StateStillLoads() throws {
        let a = makeHart()
        a.reset(pc: 0x8000_0000)
        a.pc = 0x8000_0042
        var w = StateWriter()
        a.saveState(&w)
        // Section layout: tag (u64 length + bytes), u32 version, u64 body length, body. Version 2 appends the
        // V bit (1 byte) and the H CSR list (u64 count + values) to the version-1 body; version 3 the
        // eight state-enable registers (u64 count + values); version 4 the six vector CSRs, the vector
        // registers (a blob: u64 length + 32 * VLENB bytes) and ten counter values.
        let headerLength = 8 + 4 + 4 + 8
        let extra = 1 + 8 + 8 * 21 + 8 + 8 * 8 + (8 + 8 * 6) + (8 + 32 * 16) + (8 + 8 * 10)
        let body = Array(w.bytes[headerLength..<(w.bytes.count - extra)])
        var v1 = StateWriter()
        v1.string("hart"); v1.u32(1); v1.blob(body)

        let b = makeHart()
        b.vsscratch = 99
        b.virt = true
        var r = StateReader(v1.bytes)
        try b.loadState(&r)
        XCTAssertEqual(b.pc, 0x8000_0042)
        XCTAssertFalse(b.virt)
        XCTAssertEqual(b.vsscratch, 0)
        XCTAssertEqual(b.hstatus, 2 << 32)
        // Nothing was gated before Smstateen: a state from then keeps S/HS and VS access to senvcfg and co.
        XCTAssertEqual(b.mstateen, [3 << 62, 1 << 63, 1 << 63, 1 << 63])
        XCTAssertEqual(b.hstateen, b.mstateen)
    }
}
