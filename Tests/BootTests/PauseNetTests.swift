import Foundation
import GuestImages
import VMM
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection from the host into the guest through libslirp's hostfwd stays up across a pause
/// and resume through the API: nothing arrives while the VM is paused, and afterwards the same
/// connection carries the rest of the guest's numbered stream, in order, with nothing lost.
final class PauseNetTests: XCTestCase {
    func testHostForwardedTCPConnectionSurvivesPauseAndResume() throws {
        let virtio = VirtioBootTests(name: "helper", testClosure: { _ in })
        let env = try virtio.prerequisites(needMkfs: false)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try TinyHTTPServer.freeLoopbackPort()
        let count = 80
        let image = try virtio.initrd(dir, "stream", modules: VirtioBootTests.netModules, env: env, script: """
            ip link set lo up
            ip link set eth0 up
            ip addr add 10.0.2.15/24 dev eth0
            ip route add default via 10.0.2.2
            echo MATRYOSHKA-LISTENING
            (i=0; while [ $i -lt \(count) ]; do echo "N $i"; i=$((i+1)); sleep 0.1; done) | nc -l -p 8080
            echo MATRYOSHKA-STREAM-DONE
            poweroff -f
            """)
        let apiSocket = dir + "/api.sock"
        let vm = try GuestProcess(env.binary, virtio.args(env, initrd: image, extra: ["--net", "user,hostfwd=tcp:127.0.0.1:\(port)-:8080", "--api-socket", apiSocket]), dir: dir)
        XCTAssertTrue(vm.waitFor("MATRYOSHKA-LISTENING", timeout: 120), vm.tail)

        // Connect (retrying until the guest's nc listens) and read lines with a short timeout.
        var fd: Int32 = -1
        let deadline = Date().addingTimeInterval(60)
        var pending = ""
        var lines: [String] = []
        func readSome() -> Bool {
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buf, buf.count)
            guard n > 0 else { return false }
            pending += String(decoding: buf[0..<n], as: UTF8.self)
            while let nl = pending.firstIndex(of: "\n") {
                lines.append(String(pending[..<nl]))
                pending = String(pending[pending.index(after: nl)...])
            }
            return true
        }
        while Date() < deadline {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var tv = timeval(tv_sec: 0, tv_usec: 300_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            a.sin_port = port.bigEndian
            let ok = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
            if ok && readSome() { break }
            close(fd); fd = -1
            Thread.sleep(forTimeInterval: 0.3)
        }
        XCTAssertGreaterThanOrEqual(fd, 0, "could not connect through hostfwd:\n\(vm.tail)")
        guard fd >= 0 else { return }
        defer { close(fd) }
        while lines.count < 10 && Date() < deadline { _ = readSome() }

        let c = APIClient(socketPath: apiSocket)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        // Drain what was in flight, then nothing may arrive while paused.
        while readSome() {}
        let before = lines.count
        let quiet = Date().addingTimeInterval(2)
        while Date() < quiet { _ = readSome() }
        XCTAssertEqual(lines.count, before, "data arrived while the VM was paused")
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Resumed"]).status, 204)

        let end = Date().addingTimeInterval(60)
        while lines.last != "N \(count - 1)" && Date() < end {
            if !readSome() && !vm.process.isRunning { break }
        }
        XCTAssertEqual(lines, (0..<count).map { "N \($0)" }, "the stream over one connection, across the pause:\n\(vm.tail)")
        shutdown(fd, Int32(SHUT_RDWR))   // busybox nc -l exits when its peer closes
        XCTAssertTrue(vm.waitFor("MATRYOSHKA-STREAM-DONE", timeout: 30), vm.tail)
        XCTAssertEqual(vm.waitForExit(timeout: 30), 0, vm.tail)
    }

    /// Snapshot a guest serving HTTP through hostfwd (libslirp's state goes into the snapshot), kill it,
    /// restore in a new process: the restored guest answers new connections on the same port.
    func testRestoredGuestServesThroughHostForward() throws {
        let virtio = VirtioBootTests(name: "helper", testClosure: { _ in })
        let env = try virtio.prerequisites(needMkfs: false)
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try TinyHTTPServer.freeLoopbackPort()
        let payload = "restored-\(UInt32.random(in: 0...UInt32.max))"
        let image = try virtio.initrd(dir, "httpd", modules: VirtioBootTests.netModules, env: env, script: VirtioBootTests.dhcpSetup + """
            mkdir -p /www
            echo \(payload) > /www/index.html
            httpd -p 8080 -h /www && echo MATRYOSHKA-HTTPD-UP
            sleep 600
            poweroff -f
            """)
        let apiSocket = dir + "/api.sock"
        let vm = try GuestProcess(env.binary, virtio.args(env, initrd: image, extra: ["--net", "user,hostfwd=tcp:127.0.0.1:\(port)-:8080", "--api-socket", apiSocket]), dir: dir)
        XCTAssertTrue(vm.waitFor("MATRYOSHKA-HTTPD-UP", timeout: 120), vm.tail)
        XCTAssertTrue(vm.output.contains("MATRYOSHKA-DHCP ip=10.0.2.15"), vm.tail)
        let first = try TinyHTTPServer.get(port: port, path: "/index.html", timeout: 20)
        XCTAssertTrue(first.contains(payload), "before the snapshot: \(first)")
        let c = APIClient(socketPath: apiSocket)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        let r = try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/n.snap", "mem_file_path": dir + "/n.mem"])
        XCTAssertEqual(r.status, 204, r.text)
        vm.kill9()
        let restored = try GuestProcess(env.binary, ["run", "--restore", dir + "/n.snap"], dir: dir, name: "restored")
        var reply = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && restored.process.isRunning {
            reply = (try? TinyHTTPServer.get(port: port, path: "/index.html", timeout: 10)) ?? ""
            if reply.contains(payload) { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        XCTAssertTrue(reply.contains(payload), "the restored guest did not answer through hostfwd: \(reply)\n\(restored.tail)")
        XCTAssertFalse(restored.output.contains("Linux version"), restored.tail)
        restored.kill9()
    }
}
