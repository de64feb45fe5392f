import Foundation
import Machine
import GuestImages
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// virtio-net end to end: the guest loads virtio_net, configures eth0 (DHCP from libslirp or by
/// hand) and talks TCP to the host through user-mode networking. Only loopback addresses are used
/// on the host.
extension VirtioBootTests {
    static let netModules = ["virtio_mmio", "failover", "net_failover", "virtio_net"]

    /// busybox udhcpc hands the lease to a script; this one configures eth0 with ifconfig/route.
    static let dhcpSetup = """
        ip link set lo up
        ip link set eth0 up || echo MATRYOSHKA-NO-ETH0
        cat > /udhcpc.sh <<'EOS'
        #!/bin/sh
        case "$1" in bound|renew) ;; *) exit 0 ;; esac
        ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
        for r in $router; do route add default gw "$r" dev "$interface"; break; done
        echo "MATRYOSHKA-DHCP ip=$ip router=$router dns=$dns"
        EOS
        chmod +x /udhcpc.sh
        udhcpc -i eth0 -s /udhcpc.sh -q -n -t 10 -T 1 || echo MATRYOSHKA-DHCP-FAILED

        """

    func testNetUserDHCPAndHTTPFetchFromHost() throws {
        let env = try prerequisites(needMkfs: false)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let payload = "matryoshka-net-\(UInt32.random(in: 0...UInt32.max))"
        let server = try TinyHTTPServer(body: payload + "\n")
        defer { server.stop() }
        let image = try initrd(dir, "net", modules: Self.netModules, env: env, script: Self.dhcpSetup + """
            echo "MATRYOSHKA-MAC $(cat /sys/class/net/eth0/address)"
            wget -q -T 30 -O /tmp/got http://10.0.2.2:\(server.port)/file; s=$?
            echo "MATRYOSHKA-WGET status=$s body=$(cat /tmp/got)"
            poweroff -f
            """)
        let r = try run(env, initrd: image, extra: ["--net", "user,mac=52:54:00:12:34:57"])
        XCTAssertTrue(r.output.contains("MATRYOSHKA-MAC 52:54:00:12:34:57"), tail(r.output))
        XCTAssertTrue(r.output.contains("MATRYOSHKA-DHCP ip=10.0.2.15 router=10.0.2.2"), "no DHCP lease:\n\(tail(r.output))")
        XCTAssertTrue(r.output.contains("MATRYOSHKA-WGET status=0 body=\(payload)"), "fetch failed:\n\(tail(r.output))")
        XCTAssertGreaterThan(server.requests, 0)
        XCTAssertEqual(r.status, 0, tail(r.output))
    }

    func testNetUserHostForwardToGuestHTTPD() throws {
        let env = try prerequisites(needMkfs: false)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let payload = "guest-says-\(UInt32.random(in: 0...UInt32.max))"
        let port = try TinyHTTPServer.freeLoopbackPort()
        let image = try initrd(dir, "fwd", modules: Self.netModules, env: env, script: """
            ip link set lo up
            ip link set eth0 up
            ip addr add 10.0.2.15/24 dev eth0
            ip route add default via 10.0.2.2
            mkdir -p /www
            echo \(payload) > /www/index.html
            httpd -p 8080 -h /www && echo MATRYOSHKA-HTTPD-UP
            sleep 300
            poweroff -f
            """)
        let vm = try VM.start(env.binary, args(env, initrd: image, extra: ["--net", "user,hostfwd=tcp:127.0.0.1:\(port)-:8080"]),
                              dir: dir, name: "fwd")
        defer { vm.kill() }
        XCTAssertTrue(vm.waitFor("MATRYOSHKA-HTTPD-UP", timeout: Self.timeout), "guest httpd did not start:\n\(tail(vm.output))")
        var reply = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            reply = (try? TinyHTTPServer.get(port: port, path: "/index.html", timeout: 20)) ?? ""
            if reply.contains(payload) { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertTrue(reply.hasPrefix("HTTP/1."), "reply: \(reply)")
        XCTAssertTrue(reply.contains(payload), "reply: \(reply)\nguest:\n\(tail(vm.output))")
    }

    func testNetTapNeedsAValidInterfaceName() throws {
        let binary = BootTests.matryoshkaBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("no release binary at \(binary): swift build -c release") }
            throw XCTSkip("no release binary")
        }
        let r = try BootTests.launch(binary, ["run", "--kernel", "/nonexistent", "--net", "tap="], timeout: 30)
        XCTAssertEqual(r.status, 2, r.output)
        XCTAssertTrue(r.output.contains("tap"), r.output)
        let u = try BootTests.launch(binary, ["run", "--kernel", "/nonexistent", "--net", "user,hostfwd=tcp:127.0.0.1:x-:22"], timeout: 30)
        XCTAssertEqual(u.status, 2, u.output)
        XCTAssertTrue(u.output.contains("hostfwd"), u.output)
    }
}

/// A one-file HTTP/1.0 server on 127.0.0.1 (an ephemeral port) for the guest to fetch from.
final class TinyHTTPServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    let body: String
    private let lock = NSLock()
    private var _requests = 0
    private var stopped = false
    var requests: Int { lock.lock(); defer { lock.unlock() }; return _requests }

    init(body: String) throws {
        self.body = body
        (fd, port) = try TinyHTTPServer.listenLoopback()
        let t = Thread { [self] in self.serve() }
        t.start()
    }

    static func listenLoopback() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("socket() failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 } }
        guard ok, listen(fd, 8) == 0 else { close(fd); throw XCTSkip("cannot listen on 127.0.0.1") }
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    static func freeLoopbackPort() throws -> UInt16 {
        let (fd, port) = try listenLoopback()
        close(fd)
        return port
    }

    private func serve() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                return
            }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var req: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: req, as: UTF8.self).contains("\r\n\r\n") && req.count < 65536 {
                let n = read(c, &buf, buf.count)
                if n <= 0 { break }
                req.append(contentsOf: buf[0..<n])
            }
            lock.lock(); _requests += 1; lock.unlock()
            let resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
            let bytes = Array(resp.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                off += n
            }
            close(c)
        }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    /// A blocking HTTP/1.0 GET to 127.0.0.1:port; returns the whole reply.
    static func get(port: UInt16, path: String, timeout: Int) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("socket() failed") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = port.bigEndian
        let ok = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
        guard ok else { return "" }
        let req = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
        _ = req.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while out.count < 1 << 20 {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

final class NetWiringTests: XCTestCase {
    /// Board wiring, no guest needed: a --net user device sits in the next virtio-mmio slot.
    func testMachineMapsVirtioNet() throws {
        var config = MachineConfig()
        config.rng = true
        config.net = [try NetSpec.parse("user,mac=52:54:00:aa:bb:cc"), try NetSpec.parse("user")]
        let m = try Machine(config: config)
        XCTAssertEqual(m.virtio.count, 3)
        XCTAssertEqual(m.netDevices.count, 2)
        for slot in 1...2 {
            XCTAssertEqual(m.bus.load(0x1000_1000 + 0x1000 * UInt64(slot) + 8, size: 4), 1, "virtio-net in slot \(slot)")
        }
        let mac = (0..<6).compactMap { m.bus.load(0x1000_2000 + 0x100 + UInt64($0), size: 1).map(UInt8.init) }
        XCTAssertEqual(mac, [0x52, 0x54, 0, 0xaa, 0xbb, 0xcc])
        XCTAssertEqual(m.netDevices[1].mac, [0x52, 0x54, 0, 0x12, 0x34, 0x57], "a second default NIC gets the next MAC")
    }
}
