import XCTest
import Platform
import RISCV

/// The Smaia/Ssaia CSRs and the H extension's guest external interrupts (AIA spec §2, §6; H §"hgeip").
final class AIAHartTests: XCTestCase {
    func makeHart(aia: Bool = true) -> Hart {
        let ram = try! GuestRAM(base: 0x8000_0000, size: 1 << 20)
        let h = Hart(id: 0, ram: ram, bus: NullBus(), time: TimeBase(), code: CodeCache(ram: ram))
        h.hypervisorExtension = true
        if aia { h.aia = HartAIA(geilen: 3) }
        h.reset(pc: 0x8000_0000)
        // As firmware and KVM do: open what Smstateen gates to S-mode and VS-mode (the AIA CSRs included).
        _ = h.csrWrite(CSR.mstateen0, .max)
        _ = h.csrWrite(CSR.hstateen0, .max)
        return h
    }

    func testCSRsAreIllegalWithoutAIA() {
        let h = makeHart(aia: false)
        for n: UInt16 in [0x350, 0x351, 0x35c, 0xfb0, 0x150, 0x151, 0x15c, 0xdb0, 0x609, 0x250, 0x25c, 0xeb0] {
            XCTAssertNil(h.csrRead(n), "CSR 0x\(String(n, radix: 16))")
        }
        XCTAssertEqual(h.csrRead(CSR.hgeip), 0)
        XCTAssertTrue(h.csrWrite(CSR.hgeie, .max))
        XCTAssertEqual(h.csrRead(CSR.hgeie), 0, "GEILEN = 0")
        XCTAssertEqual(h.csrRead(CSR.mideleg)! & IRQ.sgeip, 0)
    }

    func testSupervisorFileThroughSiselectSiregStopei() {
        let h = makeHart()
        let s = h.aia!.supervisorFile
        XCTAssertTrue(h.csrWrite(0x150, 0x70)); XCTAssertTrue(h.csrWrite(0x151, 1))   // eidelivery
        XCTAssertTrue(h.csrWrite(0x150, 0xc0)); XCTAssertTrue(h.csrWrite(0x151, 1 << 5 | 1 << 9))
        XCTAssertTrue(h.csrWrite(0x150, 0x81)); XCTAssertFalse(h.csrWrite(0x151, 1), "eip1 does not exist on RV64")
        XCTAssertNil(h.csrRead(0x151))
        XCTAssertTrue(h.csrWrite(0x150, 0x30)); XCTAssertEqual(h.csrRead(0x151), 0, "iprio0: read-only zero")
        XCTAssertTrue(h.csrWrite(0x150, 0x40)); XCTAssertNil(h.csrRead(0x151), "reserved select")
        s.setPending(9)
        XCTAssertEqual(h.csrRead(0x15c), 9 << 16 | 9)
        XCTAssertNotEqual(h.mip & IRQ.seip, 0, "the S file drives SEIP")
        XCTAssertEqual(h.csrRead(0x344)! & IRQ.seip, IRQ.seip)
        s.setPending(5)
        XCTAssertEqual(h.csrRead(0x15c), 5 << 16 | 5, "lowest identity first")
        XCTAssertTrue(h.csrWrite(0x15c, 0))                           // claim 5
        XCTAssertEqual(h.csrRead(0x15c), 9 << 16 | 9)
        XCTAssertTrue(h.csrWrite(0x150, 0x72)); XCTAssertTrue(h.csrWrite(0x151, 9))   // threshold 9
        XCTAssertEqual(h.csrRead(0x15c), 0)
        XCTAssertEqual(h.mip & IRQ.seip, 0)
    }

    func testStopiReportsSupervisorInterrupts() {
        let h = makeHart()
        _ = h.csrWrite(CSR.mideleg, IRQ.ssip | IRQ.stip | IRQ.seip)
        _ = h.csrWrite(CSR.mie, IRQ.seip | IRQ.ssip | IRQ.mtip)
        XCTAssertEqual(h.csrRead(0xdb0), 0)
        _ = h.csrWrite(CSR.mip, IRQ.ssip)
        XCTAssertEqual(h.csrRead(0xdb0), 1 << 16 | 1)
        let s = h.aia!.supervisorFile
        s.write(0x70, 1); s.write(0xc0, 2); s.setPending(1)
        XCTAssertEqual(h.csrRead(0xdb0), 9 << 16 | 1, "SEI before SSI")
        XCTAssertEqual(h.csrRead(0xfb0), 0, "nothing for M")
        XCTAssertFalse(h.csrWrite(0xdb0, 0), "stopi is read-only")
        h.prv = Priv.supervisor
        XCTAssertNil(h.csrRead(0xfb0), "mtopi is M-level")
        XCTAssertEqual(h.csrRead(0xdb0), 9 << 16 | 1)
    }

    func testGuestFilesDriveSGEIPAndVSEIP() {
        let h = makeHart()
        XCTAssertEqual(h.csrRead(CSR.mideleg)! & IRQ.sgeip, IRQ.sgeip, "SGEI is delegated read-only")
        XCTAssertTrue(h.csrWrite(CSR.hgeie, .max))
        XCTAssertEqual(h.csrRead(CSR.hgeie), 0b1110, "GEILEN = 3: bits 1...3")
        XCTAssertTrue(h.csrWrite(CSR.hie, IRQ.sgeip | IRQ.vseip))
        XCTAssertEqual(h.csrRead(CSR.hie), IRQ.sgeip | IRQ.vseip)
        let g2 = h.aia!.guestFiles[1]
        g2.write(0x70, 1); g2.write(0xc0, 1 << 3)
        g2.setPending(3)
        XCTAssertEqual(h.csrRead(CSR.hgeip), 1 << 2)
        XCTAssertEqual(h.csrRead(CSR.hip)! & IRQ.sgeip, IRQ.sgeip)
        XCTAssertEqual(h.mip & IRQ.vseip, 0, "VGEIN = 0 selects no guest file")
        XCTAssertEqual(h.csrRead(0xdb0), 12 << 16 | 1, "stopi reports SGEI")
        _ = h.csrWrite(CSR.hgeie, 1 << 1)
        XCTAssertEqual(h.mip & IRQ.sgeip, 0, "hgeie masks SGEIP")
        _ = h.csrWrite(CSR.hstatus, 2 << 12)
        XCTAssertEqual(h.csrRead(CSR.hstatus)! >> 12 & 0x3f, 2)
        XCTAssertEqual(h.mip & IRQ.vseip, IRQ.vseip, "VGEIN = 2 selects guest file 2")
        _ = h.csrWrite(CSR.hstatus, 4 << 12)
        XCTAssertEqual(h.csrRead(CSR.hstatus)! >> 12 & 0x3f, 2, "VGEIN beyond GEILEN keeps the old value")
    }

    func testVSLevelAccessThroughVGEIN() {
        let h = makeHart()
        h.hstatus = (h.hstatus & ~HStatus.vgein) | 2 << 12
        _ = h.csrWrite(CSR.hideleg, IRQ.vseip)
        _ = h.csrWrite(CSR.hie, IRQ.vseip)
        let g2 = h.aia!.guestFiles[1]
        // HS-mode programs the guest file through vsiselect/vsireg.
        XCTAssertTrue(h.csrWrite(0x250, 0x70)); XCTAssertTrue(h.csrWrite(0x251, 1))
        XCTAssertTrue(h.csrWrite(0x250, 0xc0)); XCTAssertTrue(h.csrWrite(0x251, 1 << 6))
        XCTAssertEqual(g2.eidelivery, 1)
        g2.setPending(6)
        XCTAssertEqual(h.mip & IRQ.vseip, IRQ.vseip, "guest file VGEIN drives VSEIP")
        XCTAssertEqual(h.csrRead(0x25c), 6 << 16 | 6)
        XCTAssertEqual(h.csrRead(0xeb0), 9 << 16 | 1, "vstopi: VSEI as SEI")
        // In VS-mode, siselect/sireg/stopei/stopi are the vs* CSRs.
        h.prv = Priv.supervisor; h.virt = true
        XCTAssertEqual(h.csrRead(0x15c), 6 << 16 | 6)
        XCTAssertEqual(h.csrRead(0xdb0), 9 << 16 | 1)
        XCTAssertNil(h.csrRead(0x609), "hvictl from VS-mode")
        XCTAssertTrue(h.csrWrite(0x15c, 0))
        XCTAssertEqual(g2.topID, 0)
        XCTAssertEqual(h.mip & IRQ.vseip, 0)
        h.hstatus &= ~HStatus.vgein
        XCTAssertNil(h.csrRead(0x15c), "VGEIN = 0: no guest file (virtual-instruction exception)")
        h.virt = false
        XCTAssertNil(h.csrRead(0x25c), "VGEIN = 0 from HS: illegal")
    }

    /// Smaia §2.5: mstateen0 bits 60 (CSRIND), 59 (AIA) and 58 (IMSIC) close the AIA CSRs to modes below
    /// M (illegal instruction); hstateen0's close them to VS-mode (virtual instruction). Without AIA
    /// the bits are read-only zero.
    func testSmstateenGatesAIACSRs() {
        let h = makeHart()
        h.extensions.insert(.smstateen)
        XCTAssertTrue(h.csrWrite(CSR.mstateen0, .max))
        XCTAssertEqual(h.csrRead(CSR.mstateen0), 3 << 62 | 7 << 58)
        XCTAssertTrue(h.csrWrite(CSR.mstateen0, 3 << 62 | 1 << 60))   // CSRIND only
        h.prv = Priv.supervisor
        XCTAssertNotNil(h.csrRead(0x150), "siselect: CSRIND open")
        XCTAssertTrue(h.csrWrite(0x150, 0x30))
        XCTAssertEqual(h.csrRead(0x151), 0, "sireg on iprio0: CSRIND")
        XCTAssertTrue(h.csrWrite(0x150, 0x70))
        XCTAssertNil(h.csrRead(0x151), "sireg on an interrupt-file register: IMSIC closed")
        XCTAssertNil(h.csrRead(0x15c), "stopei: IMSIC closed")
        XCTAssertNil(h.csrRead(0xdb0), "stopi: AIA closed")
        XCTAssertNil(h.csrRead(0x609), "hvictl: AIA closed")
        XCTAssertFalse(h.csrVirtualFault)
        h.prv = Priv.machine
        XCTAssertNotNil(h.csrRead(0x15c), "M-mode is never gated")
        XCTAssertTrue(h.csrWrite(CSR.mstateen0, 3 << 62 | 7 << 58))
        h.prv = Priv.supervisor
        XCTAssertNotNil(h.csrRead(0x15c))
        XCTAssertNotNil(h.csrRead(0xdb0))
        XCTAssertNotNil(h.csrRead(0x151))
        // VS-mode: hstateen0 IMSIC closed, AIA open.
        XCTAssertTrue(h.csrWrite(CSR.hstateen0, 1 << 59 | 1 << 60))
        h.hstatus = (h.hstatus & ~HStatus.vgein) | 1 << 12
        h.virt = true
        XCTAssertNil(h.csrRead(0x15c), "stopei (vstopei) from VS-mode with hstateen0.IMSIC = 0")
        XCTAssertTrue(h.csrVirtualFault, "a virtual-instruction exception")
        XCTAssertNotNil(h.csrRead(0xdb0), "stopi (vstopi): hstateen0.AIA open")
        h.virt = false
        XCTAssertTrue(h.csrWrite(CSR.hstateen0, 7 << 58))
        h.virt = true
        XCTAssertNotNil(h.csrRead(0x15c))

        let plain = makeHart(aia: false)
        plain.extensions.insert(.smstateen)
        XCTAssertTrue(plain.csrWrite(CSR.mstateen0, .max))
        XCTAssertEqual(plain.csrRead(CSR.mstateen0), 3 << 62, "no AIA: bits 58-60 read-only zero")
    }

    func testHypervisorAIACSRs() {
        let h = makeHart()
        XCTAssertTrue(h.csrWrite(0x609, .max))
        XCTAssertEqual(h.csrRead(0x609), 1 << 30 | 0xfff << 16 | 0x3ff)
        XCTAssertTrue(h.csrWrite(0x646, .max)); XCTAssertEqual(h.csrRead(0x646), 0, "hviprio1: read-only zero")
        XCTAssertTrue(h.csrWrite(0x608, .max)); XCTAssertEqual(h.csrRead(0x608), 0)
        XCTAssertTrue(h.csrWrite(0x350, 0x70)); XCTAssertTrue(h.csrWrite(0x351, 1))
        XCTAssertEqual(h.aia!.machineFile.eidelivery, 1, "mireg reaches the M file")
        h.aia!.machineFile.write(0xc0, 1 << 2); h.aia!.machineFile.setPending(2)
        XCTAssertEqual(h.mip & IRQ.meip, IRQ.meip)
        XCTAssertEqual(h.csrRead(0x35c), 2 << 16 | 2)
        _ = h.csrWrite(CSR.mie, IRQ.meip)
        XCTAssertEqual(h.csrRead(0xfb0), 11 << 16 | 1)
        h.reset(pc: 0x8000_0000)
        XCTAssertEqual(h.aia!.machineFile.topID, 0, "reset clears the files")
    }
}
