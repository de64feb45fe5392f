import Foundation
import Machine
import Platform
import RISCV
import Devices
import XCTest

/// The AIA board (`--aia aplic-imsic`): its device tree as QEMU virt's with aia=aplic-imsic, the
/// config setting in snapshots, and the wiring (the default board keeps the PLIC and no AIA).
final class AIAMachineTests: XCTestCase {
    func aiaTree(harts: Int = 2) -> [UInt8] {
        var c = DeviceTreeConfig(harts: harts, bootargs: "console=ttyS0", virtioSlots: 2)
        c.isaExtensions += ["smaia", "ssaia"]
        c.aia = DeviceTreeAIA(imsicBase: VirtMap.imsicSBase, imsicSize: IMSICRegion.size(harts: harts, guestIndexBits: 2),
                              guestIndexBits: 2, aplicBase: VirtMap.aplicSBase, aplicSize: APLIC.size, sources: APLIC.sourceCount)
        return buildVirtDeviceTree(c)
    }

    func testDeviceTreeHasIMSICAndAPLICInsteadOfPLIC() throws {
        let dtc = DeviceTreeTests.dtcPath
        guard FileManager.default.isExecutableFile(atPath: dtc) else { XCTFail("dtc is not installed at \(dtc)"); return }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("matryoshka-aia-\(getpid()).dtb")
        try Data(aiaTree()).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: dtc)
        p.arguments = ["-I", "dtb", "-O", "dts", path.path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let dts = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let warnings = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, warnings)
        XCTAssertEqual(warnings, "", "dtc warnings")
        for e in ["imsics@28000000 {", "compatible = \"riscv,imsics\";", "riscv,num-ids = <0xff>;", "riscv,guest-index-bits = <0x02>;",
                  "riscv,ipi-id = <0x01>;", "reg = <0x00 0x28000000 0x00 0x8000>;", "msi-controller;", "#interrupt-cells = <0x00>;",
                  "interrupts-extended = <0x03 0x09 0x04 0x09>;",
                  "aplic@d000000 {", "compatible = \"riscv,aplic\";", "riscv,num-sources = <0x60>;", "reg = <0x00 0xd000000 0x00 0x8000>;",
                  "msi-parent = <0x07>;", "#interrupt-cells = <0x02>;",
                  "interrupts = <0x0a 0x04>;", "interrupt-parent = <0x05>;", "interrupts = <0x02 0x04>;",
                  "_sstc_smaia_ssaia\";"] {
            XCTAssertTrue(dts.contains(e), "missing `\(e)` in:\n\(dts)")
        }
        XCTAssertFalse(dts.contains("plic@c000000"), "no PLIC node")
        XCTAssertFalse(dts.contains("riscv,ndev"))
    }

    func testDefaultConfigHasNoAIA() throws {
        var c = MachineConfig()
        XCTAssertEqual(c.aia, .none)
        XCTAssertFalse(Machine.isaExtensions(for: c).contains("ssaia"))
        let m = try Machine(config: c)
        XCTAssertNil(m.aplic)
        XCTAssertNil(m.harts[0].aia)
        XCTAssertNil(m.harts[0].csrRead(0x150), "siselect is illegal without AIA")
        c.aia = .aplicIMSIC
        c.harts = 2
        let a = try Machine(config: c)
        XCTAssertNotNil(a.aplic)
        XCTAssertEqual(a.harts[1].aia?.geilen, Machine.guestFiles)
        XCTAssertEqual(Machine.isaExtensions(for: c).suffix(2), ["smaia", "ssaia"])
        // The APLIC is on the bus; the PLIC's range is not; a seteipnum store reaches hart 1's guest file 1.
        XCTAssertEqual(a.bus.load(VirtMap.aplicSBase, size: 4), 0x8000_0004)
        XCTAssertNil(a.bus.load(VirtMap.plicBase, size: 4))
        XCTAssertTrue(a.bus.store(VirtMap.imsicSBase + 0x4000 + 0x1000, size: 4, value: 17))
        XCTAssertTrue(a.harts[1].aia!.guestFiles[0].isPending(17))
        XCTAssertTrue(a.bus.store(VirtMap.imsicMBase + 0x1000, size: 4, value: 18))
        XCTAssertTrue(a.harts[1].aia!.machineFile.isPending(18))
        XCTAssertEqual(Machine.stateSectionNames(for: c).filter { $0.hasPrefix("aia.") || $0 == "aplic" }, ["aia.0", "aia.1", "aplic"])
    }

    func testConfigSettingInSnapshotsAndOldVersions() throws {
        var c = MachineConfig()
        c.aia = .aplicIMSIC
        var w = StateWriter()
        c.save(&w)
        var r = StateReader(w.bytes)
        XCTAssertEqual(try MachineConfig.load(&r).aia, .aplicIMSIC)
        // A version-1 section (before --aia) loads as the PLIC board.
        var old = StateWriter()
        MachineConfig().save(&old)
        var body = StateReader(old.bytes)
        _ = try body.string(); _ = try body.u32()
        var bytes = try body.blob()
        bytes.removeLast(8 + "none".utf8.count)   // the version-2 field: a length-prefixed string
        var v1 = StateWriter()
        v1.section("config", version: 1) { w in for b in bytes { w.u8(b) } }
        var r1 = StateReader(v1.bytes)
        let loaded = try MachineConfig.load(&r1)
        XCTAssertEqual(loaded.aia, .none)
        XCTAssertEqual(loaded, MachineConfig())
        // JSON from before the setting (no key) decodes too; the PLIC board encodes no key.
        let json = try JSONEncoder().encode(MachineConfig())
        XCTAssertFalse(String(decoding: json, as: UTF8.self).contains("aia"))
        XCTAssertEqual(try JSONDecoder().decode(MachineConfig.self, from: json).aia, .none)
        XCTAssertEqual(try JSONDecoder().decode(MachineConfig.self, from: try JSONEncoder().encode(c)).aia, .aplicIMSIC)
    }
}
