import Foundation
import GuestImages
import XCTest

/// A guest's TCP connection over a tap interface survives a live migration: the guest sends
/// numbered lines to an echo server of the test's own, in a network namespace of the test's own,
/// and prints the echoes; source and destination attach the same tap. Needs root (tap, netns).
final class MigrationTapTests: XCTestCase {
    static let lines = 300


    func testTCPEchoSessionOverTapSurvivesMigration() throws {
        let virtio = VirtioBootTests(name: "helper", testClosure: { _ in })
        let env = try virtio.prerequisites(needMkfs: false)
        let ns = "mtest\(getpid())"
        let (ip, dir) = try tapNamespace(ns, tap: "mtap0", hostAddress: "192.168.77.1/24")
        defer {
            _ = try? GuestProcess.capture(ip, ["netns", "del", ns])
            try? FileManager.default.removeItem(atPath: dir)
        }
        let server = try EchoServer(namespace: ns, address: "192.168.77.1", port: 7777, expectLines: Self.lines)

        let initrd = try virtio.initrd(dir, "tapecho", modules: VirtioBootTests.netModules, env: env, script: """
            ip link set lo up
            ifconfig eth0 192.168.77.2 netmask 255.255.255.0 up
            i=0
            while [ $i -lt \(Self.lines) ]; do echo "PING $i"; i=$((i+1)); usleep 50000; done | nc 192.168.77.1 7777 | while read l; do echo "ECHO $l"; done
            echo "ECHO-DONE"
            poweroff -f
            """)
        let socket = dir + "/src.sock", url = "unix:" + dir + "/mig.sock"
        let dest = try GuestProcess(ip, ["netns", "exec", ns, env.binary, "run", "--incoming", url], dir: dir, name: "dest")
        XCTAssertTrue(dest.waitFor("waiting for an incoming migration", timeout: 30), dest.tail)
        let source = try GuestProcess(ip, ["netns", "exec", ns] + [env.binary] + virtio.args(env, initrd: initrd, extra: [
            "--memory", "256M", "--net", "tap=mtap0", "--api-socket", socket]), dir: dir, name: "source")
        XCTAssertTrue(source.waitFor("ECHO PING 40\r\n", timeout: 240), "no echo before the migration:\n\(source.tail)")
        let r = try APIClient(socketPath: socket).request("PUT", "/migrate", json: ["destination_url": url])
        XCTAssertEqual(r.status, 204, r.text)
        XCTAssertEqual(source.waitForExit(timeout: 120), 0, source.tail)
        XCTAssertTrue(source.output.contains("matryoshka: migrated to"), source.tail)
        XCTAssertFalse(source.output.contains("ECHO-DONE"), "the session ended before the migration")
        XCTAssertEqual(dest.waitForExit(timeout: 120), 0, dest.tail)
        XCTAssertTrue(dest.output.contains("ECHO PING \(Self.lines - 1)\r\n"), "the session did not go on at the destination:\n\(dest.tail)")
        XCTAssertTrue(dest.output.contains("ECHO-DONE"), dest.tail)
        let seen = server.finish()
        XCTAssertEqual(seen.connections, 1, "the guest had to connect again: the connection did not survive")
        XCTAssertEqual(seen.lines, (0..<Self.lines).map { "PING \($0)" }, "the server did not get every line once, in order")
    }
}

/// A TCP session over tap across a failover: the guest sends numbered lines to an echo server of
/// the test's own and prints the echoes; the primary is killed at a random moment and the standby
/// (attaching the same tap) takes over. What the server received and what the consoles printed
/// together are each line once, in order, over one connection.
final class HATapTests: XCTestCase {
    static let lines = 300

    func testTCPSessionAndConsoleSurviveFailoverGapFree() throws {
        let virtio = VirtioBootTests(name: "helper", testClosure: { _ in })
        let env = try virtio.prerequisites(needMkfs: false)
        let ns = "hatest\(getpid())"
        let (ip, dir) = try tapNamespace(ns, tap: "htap0", hostAddress: "192.168.78.1/24")
        defer {
            _ = try? GuestProcess.capture(ip, ["netns", "del", ns])
            try? FileManager.default.removeItem(atPath: dir)
        }
        let server = try EchoServer(namespace: ns, address: "192.168.78.1", port: 7778, expectLines: Self.lines)
        let initrd = try virtio.initrd(dir, "taphha", modules: VirtioBootTests.netModules, env: env, script: """
            ip link set lo up
            ifconfig eth0 192.168.78.2 netmask 255.255.255.0 up
            i=0
            while [ $i -lt \(Self.lines) ]; do echo "PING $i"; i=$((i+1)); usleep 30000; done | nc 192.168.78.1 7778 | while read l; do echo "ECHO $l"; done
            echo "ECHO-DONE"
            poweroff -f
            """)
        let url = "unix:" + dir + "/ha.sock"
        let standby = try HATests.startStandby(binary: env.binary, dir: dir, url: url, launcher: [ip, "netns", "exec", ns])
        let primary = try GuestProcess(ip, ["netns", "exec", ns] + [env.binary] + virtio.args(env, initrd: initrd, extra: [
            "--memory", "256M", "--net", "tap=htap0", "--standby", url]), dir: dir, name: "primary", separateErrors: true)
        defer { primary.kill9() }
        XCTAssertTrue(primary.waitFor("ECHO PING \(Int.random(in: 30...120))\r\n", timeout: 240), "no echo before the kill:\n\(primary.tail)\n\(primary.errors)")
        Thread.sleep(forTimeInterval: Double.random(in: 0...0.05))
        primary.kill9()
        XCTAssertFalse(primary.output.contains("ECHO-DONE"), "the session ended before the kill")
        XCTAssertEqual(standby.waitForExit(timeout: 180), 0, "standby: \(standby.tail)\n\(standby.errors)")
        XCTAssertTrue(standby.errors.contains("took over"), standby.errors)
        XCTAssertTrue(standby.output.contains("ECHO-DONE"), standby.tail)
        let union = primary.output + standby.output
        let re = try NSRegularExpression(pattern: "ECHO PING ([0-9]+)\r\n")
        let text = union as NSString
        let echoed = re.matches(in: union, range: NSRange(location: 0, length: text.length)).map { Int(text.substring(with: $0.range(at: 1)))! }
        XCTAssertEqual(echoed, Array(0..<Self.lines), "the consoles together did not print every echo once, in order:\n\(primary.tail)\n\(standby.tail)")
        let seen = server.finish()
        XCTAssertEqual(seen.connections, 1, "the guest had to connect again: the connection did not survive the failover")
        XCTAssertEqual(seen.lines, (0..<Self.lines).map { "PING \($0)" }, "the server did not get every line once, in order")
    }
}

import VMM

extension XCTestCase {
    /// A network namespace `ns` holding tap device `tap` with `hostAddress` (needs root and ip);
    /// returns ip's path and a new temporary directory. The caller deletes both.
    func tapNamespace(_ ns: String, tap: String, hostAddress: String) throws -> (ip: String, dir: String) {
        guard getuid() == 0 else { try missing("tap networking and network namespaces need root") }
        guard let ip = VirtioBootTests.findTool("ip") else { try missing("ip not found: install iproute2") }
        let dir = try BootTests.makeTemporaryDirectory()
        for args in [["netns", "add", ns], ["-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"],
                     ["-n", ns, "addr", "add", hostAddress, "dev", tap], ["-n", ns, "link", "set", tap, "up"],
                     ["-n", ns, "link", "set", "lo", "up"]] {
            let r = try GuestProcess.capture(ip, args)
            guard r.status == 0 else {
                _ = try? GuestProcess.capture(ip, ["netns", "del", ns])
                XCTFail("ip \(args.joined(separator: " ")): \(r.output)")
                throw XCTSkip("network namespace setup failed")
            }
        }
        return (ip, dir)
    }
}

/// A TCP echo server on a thread that has joined a network namespace (setns affects only the calling
/// thread). Closes the connection after `expectLines` lines.
final class EchoServer: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [String] = []
    private var accepted = 0
    private let done = DispatchSemaphore(value: 0)
    private var listenFD: Int32 = -1

    init(namespace: String, address: String, port: UInt16, expectLines: Int) throws {
        typealias SetnsFn = @convention(c) (Int32, Int32) -> Int32
        guard let sym = dlsym(dlopen(nil, RTLD_NOW), "setns") else { throw NSError(domain: "setns", code: 1) }
        let setns = unsafeBitCast(sym, to: SetnsFn.self)
        let ready = DispatchSemaphore(value: 0)
        var fdBox: Int32 = -1
        var failure: String?
        let t = Thread {
            let nsfd = open("/run/netns/\(namespace)", O_RDONLY)
            guard nsfd >= 0, setns(nsfd, 0x4000_0000 /* CLONE_NEWNET */) == 0 else {
                failure = "setns: \(String(cString: strerror(errno)))"; ready.signal(); return
            }
            close(nsfd)
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 4)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            inet_pton(AF_INET, address, &a.sin_addr)
            let b = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard b == 0, listen(s, 4) == 0 else { failure = "bind: \(String(cString: strerror(errno)))"; ready.signal(); return }
            fdBox = s
            ready.signal()
            self.serve(s, expectLines: expectLines)
        }
        t.start()
        ready.wait()
        if let failure { throw NSError(domain: "echo", code: 1, userInfo: [NSLocalizedDescriptionKey: failure]) }
        listenFD = fdBox
    }

    private func serve(_ s: Int32, expectLines: Int) {
        defer { done.signal() }
        while true {
            let c = accept(s, nil, nil)
            if c < 0 { return }
            lock.withLock { accepted += 1 }
            var pending = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 4096)
            var count = 0
            while true {
                let n = read(c, &buf, buf.count)
                if n <= 0 { break }
                _ = buf.withUnsafeBytes { write(c, $0.baseAddress, n) }
                pending += buf[0..<n]
                while let nl = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[..<nl], as: UTF8.self)
                    pending.removeSubrange(...nl)
                    lock.withLock { received.append(line) }
                    count += 1
                }
                if lock.withLock({ received.count }) >= expectLines { close(c); return }
            }
            close(c)
        }
    }

    /// Stops the server; what it saw.
    func finish() -> (connections: Int, lines: [String]) {
        if done.wait(timeout: .now() + 5) == .timedOut { shutdown(listenFD, Int32(SHUT_RDWR)) }
        close(listenFD)
        return lock.withLock { (accepted, received) }
    }
}
