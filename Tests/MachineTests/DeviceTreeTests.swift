import XCTest
import Foundation
import Machine

final class DeviceTreeTests: XCTestCase {
    static let dtcPath = "/usr/bin/dtc"

    func be32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    /// Runs dtc on `dtb`, returning (exit status, stdout, stderr).
    func dtc(_ dtb: [UInt8], args: [String] = ["-I", "dtb", "-O", "dts"]) throws -> (Int32, String, String) {
        guard FileManager.default.isExecutableFile(atPath: DeviceTreeTests.dtcPath) else {
            XCTFail("dtc (device-tree-compiler) is not installed at \(DeviceTreeTests.dtcPath); install it to run the device-tree tests")
            throw XCTSkip("dtc missing")
        }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("matryoshka-dt-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).dtb")
        try Data(dtb).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DeviceTreeTests.dtcPath)
        p.arguments = args + [path.path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        // Older dtc versions print string lists as "a\0b"; normalise to "a", "b".
        let text = String(decoding: o, as: UTF8.self).replacingOccurrences(
            of: #"(?<=[a-z0-9.-])\\0(?=[a-z])"#, with: "\", \"", options: .regularExpression)
        return (p.terminationStatus, text, String(decoding: e, as: UTF8.self))
    }

    func testBuilderHeaderAndLayout() {
        var f = FDTBuilder()
        f.bootCPUID = 3
        f.reserveMemory(address: 0x8000_0000, size: 0x1000)
        f.beginNode("")
        f.property("compatible", string: "x")
        f.beginNode("a@1")
        f.property("compatible", string: "y")   // same name: string table deduplicated
        f.property("odd", [1, 2, 3])
        f.endNode()
        f.endNode()
        let b = f.finish()
        XCTAssertEqual(be32(b, 0), 0xd00d_feed)
        XCTAssertEqual(Int(be32(b, 4)), b.count)
        XCTAssertEqual(b.count % 4, 0)
        let structOff = Int(be32(b, 8)), stringsOff = Int(be32(b, 12)), rsvOff = Int(be32(b, 16))
        XCTAssertEqual(be32(b, 20), 17)
        XCTAssertEqual(be32(b, 24), 16)
        XCTAssertEqual(be32(b, 28), 3)
        let stringsSize = Int(be32(b, 32)), structSize = Int(be32(b, 36))
        XCTAssertEqual(rsvOff % 8, 0)
        XCTAssertEqual(structOff % 4, 0)
        XCTAssertEqual(be32(b, rsvOff + 4), 0x8000_0000)
        XCTAssertEqual(be32(b, rsvOff + 12), 0x1000)
        XCTAssertEqual(Array(b[(rsvOff + 16)..<(rsvOff + 32)]), [UInt8](repeating: 0, count: 16), "terminator")
        XCTAssertEqual(structOff, rsvOff + 32)
        XCTAssertEqual(stringsOff, structOff + structSize)
        let strings = Array(b[stringsOff..<(stringsOff + stringsSize)])
        XCTAssertEqual(String(decoding: strings, as: UTF8.self), "compatible\0odd\0")
        XCTAssertEqual(be32(b, structOff), 1, "FDT_BEGIN_NODE")
        XCTAssertEqual(be32(b, structOff + structSize - 4), 9, "FDT_END")
    }

    func testBuilderRoundTripsThroughDTC() throws {
        var f = FDTBuilder()
        f.beginNode("")
        f.property("#address-cells", u32: 2)
        f.property("#size-cells", u32: 2)
        f.beginNode("node@0")
        f.property("reg", u32s: [0, 0, 0, 0x10])
        f.property("big", u64: 0x1_2345_6789)
        f.property("list", strings: ["a", "bc"])
        f.property("flag")
        f.property("bytes", [0xde, 0xad, 0xbe])
        f.endNode()
        f.endNode()
        let (status, dts, err) = try dtc(f.finish())
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(dts.contains("big = <0x01 0x23456789>;"), dts)
        XCTAssertTrue(dts.contains("list = \"a\", \"bc\";"), dts)
        XCTAssertTrue(dts.contains("flag;"), dts)
        XCTAssertTrue(dts.contains("bytes = [de ad be];"), dts)
    }

    func config() -> DeviceTreeConfig {
        DeviceTreeConfig(harts: 2,
                         isaExtensions: ["i", "m", "a", "f", "d", "c", "zicntr", "zicsr", "zifencei", "zihintpause", "sstc"],
                         mmuType: "riscv,sv57",
                         memoryBase: 0x8000_0000, memorySize: 0x1_0000_0000,
                         bootargs: "console=ttyS0 earlycon=sbi root=/dev/vda",
                         initrd: (start: 0x8800_0000, end: 0x8880_0000),
                         virtioSlots: 2,
                         rngSeed: [0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04])
    }

    func testISAString() {
        XCTAssertEqual(riscvISAString(["c", "zicsr", "sstc", "i", "m", "a", "f", "d", "zifencei", "h"]),
                       "rv64imafdch_zicsr_zifencei_sstc")
    }

    func testHypervisorAddsHToTheISA() {
        var config = MachineConfig()
        XCTAssertTrue(config.hypervisor, "H is on by default")
        config.hypervisor = false
        XCTAssertFalse(Machine.isaExtensions(for: config).contains("h"))
        config.hypervisor = true
        let exts = Machine.isaExtensions(for: config)
        XCTAssertTrue(exts.contains("h"))
        XCTAssertTrue(riscvISAString(exts).hasPrefix("rv64imafdch_"), riscvISAString(exts))
    }

    func testVirtTreeDecompiles() throws {
        let (status, dts, err) = try dtc(buildVirtDeviceTree(config()))
        XCTAssertEqual(status, 0, "dtc failed: \(err)")
        let expected = [
            "compatible = \"riscv-virtio\";",
            "model = \"riscv-virtio,qemu\";",
            "bootargs = \"console=ttyS0 earlycon=sbi root=/dev/vda\";",
            "stdout-path = \"/soc/serial@10000000\";",
            "linux,initrd-start = <0x00 0x88000000>;",
            "linux,initrd-end = <0x00 0x88800000>;",
            "rng-seed = <0xdeadbeef 0x1020304>;",
            "timebase-frequency = <0x989680>;",
            "cpu@0 {", "cpu@1 {",
            "device_type = \"cpu\";",
            "riscv,isa = \"rv64imafdc_zicntr_zicsr_zifencei_zihintpause_sstc\";",
            "riscv,isa-base = \"rv64i\";",
            "riscv,isa-extensions = \"i\", \"m\", \"a\", \"f\", \"d\", \"c\", \"zicntr\", \"zicsr\", \"zifencei\", \"zihintpause\", \"sstc\";",
            "mmu-type = \"riscv,sv57\";",
            "compatible = \"riscv,cpu-intc\";",
            "cpu-map {", "cluster0 {", "core0 {", "core1 {",
            "memory@80000000 {",
            "device_type = \"memory\";",
            "reg = <0x00 0x80000000 0x01 0x00>;",
            "compatible = \"simple-bus\";",
            "ranges;",
            "clint@2000000 {",
            "compatible = \"sifive,clint0\", \"riscv,clint0\";",
            "reg = <0x00 0x2000000 0x00 0x10000>;",
            "interrupts-extended = <0x03 0x03 0x03 0x07 0x04 0x03 0x04 0x07>;",
            "plic@c000000 {",
            "compatible = \"sifive,plic-1.0.0\", \"riscv,plic0\";",
            "riscv,ndev = <0x5f>;",
            "interrupts-extended = <0x03 0x0b 0x03 0x09 0x04 0x0b 0x04 0x09>;",
            "#interrupt-cells = <0x01>;",
            "#address-cells = <0x00>;",
            "interrupt-controller;",
            "serial@10000000 {",
            "compatible = \"ns16550a\";",
            "interrupts = <0x0a>;",
            "interrupt-parent = <0x05>;",
            "rtc@101000 {",
            "compatible = \"google,goldfish-rtc\";",
            "interrupts = <0x0b>;",
            "test@100000 {",
            "compatible = \"sifive,test1\", \"sifive,test0\", \"syscon\";",
            "poweroff {", "compatible = \"syscon-poweroff\";", "value = <0x5555>;",
            "reboot {", "compatible = \"syscon-reboot\";", "value = <0x7777>;",
            "regmap = <0x06>;",
            "virtio_mmio@10001000 {", "virtio_mmio@10002000 {",
            "compatible = \"virtio,mmio\";",
            "reg = <0x00 0x10002000 0x00 0x1000>;",
            "interrupts = <0x02>;",
        ]
        for e in expected {
            XCTAssertTrue(dts.contains(e), "missing `\(e)` in:\n\(dts)")
        }
        XCTAssertFalse(dts.contains("virtio_mmio@10003000"))
        // 0x00384000 happens to decode as the string "\08@", so dtc may print it either way.
        XCTAssertTrue(dts.contains("clock-frequency = <0x384000>;") || dts.contains(#"clock-frequency = "\08@";"#), dts)
    }

    func testVirtTreePassesDTCChecks() throws {
        // Recompiling the decompiled tree runs dtc's semantic checks (unit addresses, reg
        // formats, interrupt providers, phandle references...); none may warn.
        let (status, dts, err) = try dtc(buildVirtDeviceTree(config()))
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(err, "", "dtc warnings on decompile")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("matryoshka-dt-\(getpid()).dts")
        try dts.write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DeviceTreeTests.dtcPath)
        // Phandle references are plain numbers after decompiling, so that one check cannot apply.
        p.arguments = ["-I", "dts", "-O", "dtb", "-W", "no-interrupts_extended_property", "-o", "/dev/null", path.path]
        let e = Pipe()
        p.standardError = e
        try p.run()
        let msg = String(decoding: e.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, msg)
        XCTAssertEqual(msg, "", "dtc check warnings")
    }

    func testMinimalTree() throws {
        let c = DeviceTreeConfig(harts: 1, isaExtensions: ["i", "m", "a", "c"], mmuType: "riscv,sv39",
                                 memoryBase: 0x8000_0000, memorySize: 128 << 20, bootargs: "", initrd: nil)
        let (status, dts, err) = try dtc(buildVirtDeviceTree(c))
        XCTAssertEqual(status, 0, err)
        XCTAssertFalse(dts.contains("initrd"))
        XCTAssertFalse(dts.contains("virtio_mmio"))
        XCTAssertFalse(dts.contains("cpu@1"))
        XCTAssertTrue(dts.contains("riscv,isa = \"rv64imac\";"))
        XCTAssertTrue(dts.contains("reg = <0x00 0x80000000 0x00 0x8000000>;"))
    }
}
