import Foundation
import XCTest
import Platform
import RISCV
import Devices
import Backends

/// A backend that records what the guest sends and lets the test inject frames.
final class FakeNetBackend: NetBackend {
    var deliver: (([UInt8]) -> Void)?
    var sent: [[UInt8]] = []
    var polls = 0
    var toDeliverOnPoll: [[UInt8]] = []
    func send(_ frame: [UInt8]) { sent.append(frame) }
    func poll() {
        polls += 1
        let f = toDeliverOnPoll; toDeliverOnPoll = []
        for x in f { deliver?(x) }
    }
    func wait(nanos: UInt64, wakeDescriptor: Int32) { poll() }
    /// Frame from the "network" to the guest.
    func inject(_ frame: [UInt8]) { deliver?(frame) }
}

final class VirtioNetTests: XCTestCase {
    let features = VirtioFeature.version1 | VirtioNetFeature.mac | VirtioNetFeature.status

    func makeDriver(mac: [UInt8] = NetSpec.defaultMAC) -> (FakeVirtioDriver, FakeNetBackend, VirtioNet) {
        let backend = FakeNetBackend()
        let dev = VirtioNet(backend: backend, mac: mac)
        let drv = FakeVirtioDriver(device: dev)
        drv.start(features: features, queueSizes: [16, 16])
        return (drv, backend, dev)
    }

    func frame(_ n: Int, seed: UInt8) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) } }

    func testIdentityFeaturesAndConfig() {
        let dev = VirtioNet(backend: FakeNetBackend(), mac: [0x52, 0x54, 0, 1, 2, 3])
        let drv = FakeVirtioDriver(device: dev)
        XCTAssertEqual(drv.r(VirtioMMIOReg.deviceID), 1)
        let f = drv.deviceFeatures()
        XCTAssertNotEqual(f & VirtioNetFeature.mac, 0)
        XCTAssertNotEqual(f & VirtioNetFeature.status, 0)
        XCTAssertNotEqual(f & VirtioFeature.version1, 0)
        XCTAssertEqual(f & 1, 0, "no checksum offload")
        let mac = (0..<6).map { UInt8(drv.transport.read(VirtioMMIOReg.config + UInt64($0), size: 1)) }
        XCTAssertEqual(mac, [0x52, 0x54, 0, 1, 2, 3])
        XCTAssertEqual(drv.transport.read(VirtioMMIOReg.config + 6, size: 2), 1, "link up")
        drv.w(VirtioMMIOReg.queueSel, 0); XCTAssertGreaterThan(drv.r(VirtioMMIOReg.queueNumMax), 0)
        drv.w(VirtioMMIOReg.queueSel, 1); XCTAssertGreaterThan(drv.r(VirtioMMIOReg.queueNumMax), 0)
        drv.w(VirtioMMIOReg.queueSel, 2); XCTAssertEqual(drv.r(VirtioMMIOReg.queueNumMax), 0)
    }

    func testTransmitStripsHeader() {
        let (drv, backend, dev) = makeDriver()
        let f = frame(60, seed: 3)
        let hdr = drv.alloc(zeroed: 12)
        // Header and frame in separate descriptors, and frame split in two.
        drv.add(1, [(hdr, 12, false), (drv.alloc(Array(f[0..<20])), 20, false), (drv.alloc(Array(f[20...])), 40, false)])
        // Header and frame in one buffer.
        let f2 = frame(1514, seed: 9)
        drv.add(1, [(drv.alloc([UInt8](repeating: 0, count: 12) + f2), UInt32(12 + f2.count), false)])
        drv.notify(1)
        XCTAssertEqual(backend.sent, [f, f2])
        XCTAssertEqual(drv.takeUsed(1).count, 2)
        XCTAssertTrue(drv.irqLevel)
        XCTAssertEqual(dev.framesTransmitted, 2)
        XCTAssertEqual(drv.status & VirtioStatus.needsReset, 0)
    }

    func testTransmitRunts() {
        let (drv, backend, dev) = makeDriver()
        drv.add(1, [(drv.alloc(zeroed: 8), 8, false)])            // shorter than the header
        drv.add(1, [(drv.alloc(zeroed: 20), 20, false)])          // header + 8 bytes: not a frame
        drv.add(1, [(drv.alloc(zeroed: 16), 16, true)])           // nothing readable at all
        drv.notify(1)
        XCTAssertTrue(backend.sent.isEmpty)
        XCTAssertEqual(drv.takeUsed(1).count, 3, "runts are completed, not stuck")
        XCTAssertEqual(dev.framesDropped, 3)
        XCTAssertEqual(drv.status & VirtioStatus.needsReset, 0)
    }

    func testReceiveWritesHeaderAndFrame() {
        let (drv, backend, dev) = makeDriver()
        var bufs: [UInt64] = []
        for _ in 0..<2 {
            let b = drv.alloc(zeroed: 1526)
            bufs.append(b)
            drv.add(0, [(b, 1526, true)])
        }
        drv.notify(0)
        XCTAssertTrue(drv.takeUsed(0).isEmpty, "nothing to receive yet")
        let f1 = frame(42, seed: 1), f2 = frame(1514, seed: 2), f3 = frame(100, seed: 3)
        backend.inject(f1); backend.inject(f2); backend.inject(f3)
        drv.transport.service()
        let used = drv.takeUsed(0)
        XCTAssertEqual(used.map { $0.1 }, [UInt32(12 + 42), UInt32(12 + 1514)])
        XCTAssertTrue(drv.irqLevel)
        var hdr = [UInt8](repeating: 0, count: 12); hdr[10] = 1
        XCTAssertEqual(drv.ram.gather([VirtqSegment(addr: bufs[0], len: 1526)], count: 12 + 42), hdr + f1)
        XCTAssertEqual(drv.ram.gather([VirtqSegment(addr: bufs[1], len: 1526)], count: 12 + 1514), hdr + f2)
        XCTAssertEqual(dev.pendingFrames, 1, "the third frame waits for a buffer")

        // A buffer posted later (split header/data) gets it.
        drv.ack()
        let h = drv.alloc(zeroed: 12), d = drv.alloc(zeroed: 1514)
        drv.add(0, [(h, 12, true), (d, 1514, true)])
        drv.notify(0)
        XCTAssertEqual(drv.takeUsed(0).map { $0.1 }, [UInt32(112)])
        XCTAssertEqual(drv.ram.gather([VirtqSegment(addr: d, len: 1514)], count: 100), f3)
        XCTAssertEqual(dev.framesReceived, 3)
        XCTAssertEqual(dev.pendingFrames, 0)
    }

    func testReceiveFromBackendPoll() {
        let (drv, backend, _) = makeDriver()
        drv.add(0, [(drv.alloc(zeroed: 1526), 1526, true)])
        drv.notify(0)
        backend.toDeliverOnPoll = [frame(64, seed: 5)]
        // Transmitting asks for a prompt poll; the next service delivers the reply.
        drv.add(1, [(drv.alloc([UInt8](repeating: 0, count: 12) + frame(60, seed: 1)), 72, false)])
        drv.notify(1)
        drv.transport.service()
        XCTAssertGreaterThan(backend.polls, 0)
        XCTAssertEqual(drv.takeUsed(0).map { $0.1 }, [76])
    }

    func testSmallReceiveBufferDropsFrame() {
        let (drv, backend, dev) = makeDriver()
        drv.add(0, [(drv.alloc(zeroed: 64), 64, true)])
        drv.add(0, [(drv.alloc(zeroed: 64), 64, false)])   // device-readable only: no room at all
        drv.notify(0)
        backend.inject(frame(500, seed: 1))
        backend.inject(frame(500, seed: 2))
        drv.transport.service()
        XCTAssertEqual(drv.takeUsed(0).map { $0.1 }, [0, 0])
        XCTAssertEqual(dev.framesDropped, 2)
        XCTAssertEqual(drv.status & VirtioStatus.needsReset, 0)
    }

    func testFramesBeforeDriverOKAreDroppedAndQueueIsBounded() {
        let backend = FakeNetBackend()
        let dev = VirtioNet(backend: backend)
        let drv = FakeVirtioDriver(device: dev)
        backend.inject(frame(60, seed: 1))
        XCTAssertEqual(dev.pendingFrames, 0)
        drv.start(features: features, queueSizes: [16, 16])
        drv.transport.service()
        for i in 0..<(VirtioNet.pendingLimit + 10) { backend.inject(frame(60, seed: UInt8(truncatingIfNeeded: i))) }
        XCTAssertEqual(dev.pendingFrames, VirtioNet.pendingLimit)
        drv.w(VirtioMMIOReg.status, 0)
        XCTAssertEqual(dev.pendingFrames, 0, "reset drops queued frames")
    }

    func testBadDescriptorNeedsReset() {
        let (drv, _, _) = makeDriver()
        drv.add(1, [(0x1234, 100, false)])   // outside RAM
        drv.notify(1)
        XCTAssertNotEqual(drv.status & VirtioStatus.needsReset, 0)
        let (drv2, backend2, _) = makeDriver()
        drv2.add(0, [(FakeVirtioDriver.ramBase + (1 << 20) - 8, 64, true)])   // runs off the end of RAM
        drv2.notify(0)
        backend2.inject(frame(60, seed: 0))
        drv2.transport.service()
        XCTAssertNotEqual(drv2.status & VirtioStatus.needsReset, 0)
    }

    func testRandomRingsNeverTrap() {
        var rng = SplitMix(state: 7)
        for _ in 0..<200 {
            let (drv, backend, _) = makeDriver()
            for q in 0..<2 {
                let s = drv.queues[q]!
                for i in 0..<16 { drv.writeDesc(s.desc, UInt16(i), addr: FakeVirtioDriver.ramBase + UInt64.random(in: 0..<(1 << 21), using: &rng), len: UInt32.random(in: 0..<4096, using: &rng), flags: UInt16.random(in: 0..<8, using: &rng), next: UInt16.random(in: 0..<20, using: &rng)) }
                for i in 0..<16 { drv.ram.write(s.avail + 4 + 2 * UInt64(i), UInt16.random(in: 0..<20, using: &rng)) }
                drv.ram.write(s.avail + 2, UInt16.random(in: 0..<20, using: &rng))
            }
            backend.inject(frame(80, seed: 1))
            drv.notify(1); drv.notify(0)
            drv.transport.service()
        }
    }

    func testNetSpecParsing() throws {
        let u = try NetSpec.parse("user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-10.0.2.15:53,mac=52:54:00:aa:bb:cc")
        XCTAssertEqual(u.mode, .user)
        XCTAssertEqual(u.mac, [0x52, 0x54, 0, 0xaa, 0xbb, 0xcc])
        XCTAssertEqual(u.hostForwards, [
            HostForward(udp: false, hostAddress: "127.0.0.1", hostPort: 2222, guestAddress: "", guestPort: 22),
            HostForward(udp: true, hostAddress: "", hostPort: 5353, guestAddress: "10.0.2.15", guestPort: 53),
        ])
        XCTAssertEqual(try NetSpec.parse("user").mac, NetSpec.defaultMAC)
        XCTAssertEqual(try HostForward.parse(":127.0.0.1:80-:8080").hostPort, 80)
        XCTAssertEqual(try NetSpec.parse("tap=mtap0").mode, .tap("mtap0"))
        XCTAssertEqual(try NetSpec.parse("tap,ifname=tap1,mac=02:00:00:00:00:01").mode, .tap("tap1"))
        for bad in ["", "usr", "user,hostfwd=tcp:127.0.0.1:2222", "user,hostfwd=sctp::1-:2", "user,hostfwd=tcp::0-:22",
                    "user,hostfwd=tcp:1.2.3:22-:22", "user,mac=52:54:00:12:34", "user,mac=01:00:00:00:00:01",
                    "tap", "tap=", "tap=averyveryverylongname", "tap=t0,hostfwd=tcp::1-:2", "user,bogus=1", "user,x"] {
            XCTAssertThrowsError(try NetSpec.parse(bad), "'\(bad)' should be rejected")
        }
    }

    func testSlirpAnswersARP() throws {
        let slirp = try SlirpBackend()
        var got: [[UInt8]] = []
        slirp.deliver = { got.append($0) }
        let mac = NetSpec.defaultMAC
        // ARP who-has 10.0.2.2 tell 10.0.2.15
        var arp: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] + mac + [0x08, 0x06]
        arp += [0, 1, 8, 0, 6, 4, 0, 1] + mac + [10, 0, 2, 15] + [0, 0, 0, 0, 0, 0] + [10, 0, 2, 2]
        arp += [UInt8](repeating: 0, count: 18)
        slirp.send(arp)
        slirp.poll()
        let reply = try XCTUnwrap(got.first { $0.count >= 42 && $0[12] == 8 && $0[13] == 6 })
        XCTAssertEqual(Array(reply[0..<6]), mac)
        XCTAssertEqual(Array(reply[20..<22]), [0, 2], "ARP reply")
        XCTAssertEqual(Array(reply[28..<32]), [10, 0, 2, 2])
    }

    func testSlirpHostForwardBindFailureIsAnError() throws {
        // Occupy a port, then ask slirp to forward it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = parseIPv4("127.0.0.1")!
        a.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        XCTAssertEqual(listen(fd, 1), 0)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = UInt16(bigEndian: a.sin_port)
        XCTAssertThrowsError(try SlirpBackend(hostForwards: [HostForward(hostAddress: "127.0.0.1", hostPort: port, guestPort: 22)])) {
            XCTAssertTrue("\($0)".contains("\(port)"), "\($0)")
        }
        XCTAssertNoThrow(try SlirpBackend())
    }
}

/// The tap backend against a real (address-less, isolated) tap interface. Needs root or
/// CAP_NET_ADMIN, /dev/net/tun and iproute2's `ip`; skipped otherwise.
final class TapBackendTests: XCTestCase {
    func sysfs(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func ip(_ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip")
        p.arguments = args
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    func testTapSendAndReceive() throws {
        let name = "mtap\(UInt16.random(in: 0...9999))"
        let backend: TapBackend
        do { backend = try TapBackend(name: name) } catch {
            XCTAssertTrue("\(error)".contains(name), "\(error)")
            throw XCTSkip("no tap here: \(error)")
        }
        XCTAssertNotNil(sysfs("/sys/class/net/\(name)/address"), "the interface exists")
        guard ip(["link", "set", name, "up"]) == 0 else { throw XCTSkip("cannot bring \(name) up (no iproute2?)") }
        var received: [[UInt8]] = []
        backend.deliver = { received.append($0) }

        // Guest → host: a broadcast frame of an unused EtherType shows up in the interface's rx counter.
        let rx0 = Int(sysfs("/sys/class/net/\(name)/statistics/rx_packets") ?? "0") ?? 0
        let frame: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] + NetSpec.defaultMAC + [0x88, 0xb5] + [UInt8](repeating: 0x5a, count: 46)
        backend.send(frame)
        let rx1 = Int(sysfs("/sys/class/net/\(name)/statistics/rx_packets") ?? "0") ?? 0
        XCTAssertEqual(rx1, rx0 + 1, "the host kernel received the frame")

        // Host → guest: with IPv6 on, the kernel sends router solicitations / MLD reports on its own.
        if sysfs("/proc/sys/net/ipv6/conf/\(name)/disable_ipv6") == "0" {
            let deadline = Date().addingTimeInterval(10)
            while received.isEmpty && Date() < deadline { backend.wait(nanos: 100_000_000, wakeDescriptor: -1) }
            XCTAssertFalse(received.isEmpty, "no frame from the host within 10 s")
            if let f = received.first { XCTAssertGreaterThanOrEqual(f.count, 14) }
        }
    }

    func testTapErrorNamesTheInterface() {
        XCTAssertThrowsError(try TapBackend(name: "bad/name")) { XCTAssertTrue("\($0)".contains("bad/name"), "\($0)") }
    }
}
