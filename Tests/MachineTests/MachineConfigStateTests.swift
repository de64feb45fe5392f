import Machine
import Platform
import XCTest

/// The machine config's binary form in snapshot metadata: every field survives, and damaged input is
/// an error, never a wrong config.
final class MachineConfigStateTests: XCTestCase {
    static func richConfig() throws -> MachineConfig {
        var c = MachineConfig()
        c.memorySize = 3 << 30
        c.harts = 4
        c.firmware = .file("/fw/fw_dynamic.bin")
        c.kernelPath = "/k/Image"
        c.initrdPath = nil
        c.bootargs = "console=ttyS0 root=/dev/vda rw ünïcode"
        c.disks = [DiskSpec(path: "/d/a.qcow2", format: "qcow2", readOnly: false), DiskSpec(path: "/d/b,c.raw", format: "raw", readOnly: true)]
        c.rng = true
        c.virtioConsole = true
        c.hypervisor = false
        c.net = [NetSpec(mode: .user, mac: [0x52, 0x54, 0, 1, 2, 3],
                         hostForwards: [try HostForward.parse("tcp:127.0.0.1:2222-:22"), try HostForward.parse("udp::5353-10.0.2.15:53")]),
                 NetSpec(mode: .tap("tap-m0"))]
        c.cpu = "max,zbc=off"
        return c
    }

    func testEveryFieldRoundTrips() throws {
        for config in [MachineConfig(), try Self.richConfig()] {
            var w = StateWriter()
            config.save(&w)
            var r = StateReader(w.bytes)
            XCTAssertEqual(try MachineConfig.load(&r), config)
            XCTAssertTrue(r.atEnd)
        }
        var none = MachineConfig()
        none.firmware = .none
        var w = StateWriter()
        none.save(&w)
        var r = StateReader(w.bytes)
        XCTAssertEqual(try MachineConfig.load(&r).firmware, .none)
    }

    func testTruncatedOrDamagedInputIsAnError() throws {
        var w = StateWriter()
        try Self.richConfig().save(&w)
        for cut in stride(from: 0, to: w.bytes.count, by: 7) {
            var r = StateReader(Array(w.bytes[0..<cut]))
            XCTAssertThrowsError(try MachineConfig.load(&r), "cut at \(cut)")
        }
        // Another section's tag, a newer version, and bytes left over inside the section are refused.
        var wrongTag = StateWriter()
        wrongTag.section("konfig", version: 1) { _ in }
        var r1 = StateReader(wrongTag.bytes)
        XCTAssertThrowsError(try MachineConfig.load(&r1))
        var newer = w.bytes
        let versionAt = 8 + "config".utf8.count
        newer[versionAt] = 3
        var r2 = StateReader(newer)
        XCTAssertThrowsError(try MachineConfig.load(&r2))
        var longer = StateWriter()
        longer.section("config", version: 1) { inner in
            var c = StateWriter(); try? Self.richConfig().save(&c)
            var body = StateReader(c.bytes)
            _ = try? body.string(); _ = try? body.u32()
            if let b = try? body.blob() { for x in b { inner.u8(x) } }
            inner.u8(0)
        }
        var r3 = StateReader(longer.bytes)
        XCTAssertThrowsError(try MachineConfig.load(&r3))
    }
}
