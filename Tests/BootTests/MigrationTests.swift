import Foundation
import GuestImages
import VMM
import XCTest

/// Live migration end to end between two `matryoshka` processes on Debian's Linux: the guest's
/// computation moves half-way (pre-copy, post-copy, and under a memory-dirtying load that needs
/// auto-converge) and finishes at the destination with the result of an uninterrupted run; every
/// fault before the switch-over leaves the source running; a lost link in post-copy stops the
/// destination with an error.
final class MigrationTests: XCTestCase {
    var dir = ""
    var binary = ""
    var initrd = ""
    var dirtyInitrd = ""
    /// Rounds of the guest's computation (more for tests that inject several faults first).
    var rounds = SnapshotTests.rounds
    var expected: String { SnapshotTests.expectedResult(rounds: rounds) }

    /// /init for the dirtying workload: 48 MiB rewritten at 200 MiB/s for 40 s, checked at the end.
    static let dirtyInit = """
        #!/bin/sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        echo "DIRTY-START"
        /bin/dirty 48 200 40
        poweroff -f
        """

    override func setUpWithError() throws {
        binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        dir = try BootTests.makeTemporaryDirectory()
        initrd = dir + "/compute.cpio.gz"
        if name.contains("TLS") || name.contains("PassAtSwitchOver") { rounds = 400_000 }
        // Its source must outlast four failed migrations (~25 s here) on any machine: the computation is
        // far longer, and the last, successful migration is checked by progress at the destination.
        if name.contains("LeaveTheSourceRunning") { rounds = 5_000_000 }
        try GuestImages.buildInitramfs(init: SnapshotTests.computeScript(rounds: rounds), extraFiles: [], to: initrd)
    }
    override func tearDownWithError() throws {
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    func bootArgs(_ initrd: String, memory: String = "256M") -> [String] {
        ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--append", "console=ttyS0 panic=-1", "--memory", memory]
    }

    /// Starts the computation with an API socket and waits for PROGRESS `at`.
    func startSource(until at: Int = 10000, extra: [String] = []) throws -> (GuestProcess, String) {
        let socket = dir + "/src-\(UUID().uuidString.prefix(6)).sock"
        let vm = try GuestProcess(binary, bootArgs(initrd) + ["--api-socket", socket] + extra, dir: dir, name: "source")
        XCTAssertTrue(vm.waitFor("PROGRESS \(at)\r\n", timeout: 240), "guest never reached PROGRESS \(at):\n\(vm.tail)")
        return (vm, socket)
    }

    func startDestination(_ url: String, extra: [String] = []) throws -> GuestProcess {
        let d = try GuestProcess(binary, ["run", "--incoming", url] + extra, dir: dir, name: "dest")
        XCTAssertTrue(d.waitFor("waiting for an incoming migration", timeout: 30), "destination did not listen:\n\(d.tail)")
        return d
    }

    func migrate(_ socket: String, to url: String, mode: String = "precopy", downtimeMs: Double = 50, bandwidth: Double = 0) throws -> APIResponse {
        try APIClient(socketPath: socket).request("PUT", "/migrate", json: [
            "destination_url": url, "mode": mode, "downtime_ms": downtimeMs, "max_bandwidth_mibps": bandwidth])
    }

    func migrationStatus(_ socket: String) -> [String: Any] {
        guard let r = try? APIClient(socketPath: socket).request("GET", "/migrate"),
              let o = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else { return [:] }
        return o
    }

    /// Polls GET /migrate until the status is one of `states`.
    func waitForMigration(_ socket: String, _ states: Set<String>, timeout: Double = 120) -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = migrationStatus(socket)
            if let s = last["status"] as? String, states.contains(s) { return last }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return last
    }

    /// The computation's tail: after the move, the destination prints the result of an uninterrupted run.
    func expectFinishesAtDestination(_ dest: GuestProcess, source: GuestProcess, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(source.waitForExit(timeout: 120), 0, "source did not exit 0 after the migration:\n\(source.tail)", file: file, line: line)
        XCTAssertTrue(source.output.contains("matryoshka: migrated to"), "no summary line at the source:\n\(source.tail)", file: file, line: line)
        XCTAssertFalse(source.output.contains(expected), "the source finished the computation itself", file: file, line: line)
        XCTAssertEqual(dest.waitForExit(timeout: 300), 0, "destination failed:\n\(dest.tail)", file: file, line: line)
        XCTAssertTrue(dest.output.contains(expected), "wrong or no result at the destination:\n\(dest.tail)", file: file, line: line)
        XCTAssertFalse(dest.output.contains("Linux version"), "the destination booted a kernel instead of continuing the guest", file: file, line: line)
        XCTAssertTrue(dest.output.contains("PROGRESS \(rounds)\r\n"), "destination did not carry the computation on:\n\(dest.tail)", file: file, line: line)
    }

    func testPrecopyMidComputationFinishesAtTheDestination() throws {
        let url = "unix:" + dir + "/mig.sock"
        let dest = try startDestination(url)
        let (source, socket) = try startSource()
        XCTAssertEqual(try migrate(socket, to: url).status, 204)
        expectFinishesAtDestination(dest, source: source)
    }

    func testPostcopyMidComputationFinishesAtTheDestination() throws {
        let url = "unix:" + dir + "/mig.sock"
        let dest = try startDestination(url)
        let (source, socket) = try startSource()
        XCTAssertEqual(try migrate(socket, to: url, mode: "postcopy").status, 204)
        expectFinishesAtDestination(dest, source: source)
        XCTAssertTrue(dest.output.contains("post-copy complete"), "no post-copy completion at the destination:\n\(dest.tail)")
    }

    func testTCPMigrationWithCtlShowsFigures() throws {
        let port = 20000 + Int.random(in: 0..<20000)
        let url = "tcp:127.0.0.1:\(port)"
        let dest = try startDestination(url)
        let (source, socket) = try startSource()
        let ctl = try GuestProcess.capture(binary, ["ctl", "migrate", "--api-socket", socket, url, "--downtime-ms", "30"])
        XCTAssertEqual(ctl.status, 0, ctl.output)
        let json = ctl.output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        let o = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:]
        XCTAssertEqual(o["status"] as? String, "completed", ctl.output)
        XCTAssertGreaterThan(o["transferred_bytes"] as? Int ?? 0, 1 << 20, "figures: \(o)")
        XCTAssertNotNil(o["downtime_ms"], "figures: \(o)")
        XCTAssertGreaterThanOrEqual(o["iterations"] as? Int ?? 0, 1, "figures: \(o)")
        expectFinishesAtDestination(dest, source: source)
    }

    /// The guest rewrites 48 MiB at 200 MiB/s while the link is held to 30 MiB/s: pre-copy cannot
    /// converge unless the guest is slowed down; afterwards every page holds its last value.
    func testAutoConvergeUnderAMemoryDirtyingLoad() throws {
        let dirty = ".build/guest/dirty"
        guard FileManager.default.fileExists(atPath: dirty) else { try missing("\(dirty) not built: run scripts/setup-host") }
        dirtyInitrd = dir + "/dirty.cpio.gz"
        try GuestImages.buildInitramfs(init: Self.dirtyInit, extraFiles: [("bin/dirty", dirty, 0o755)], to: dirtyInitrd)
        let url = "unix:" + dir + "/mig.sock"
        let dest = try startDestination(url)
        let socket = dir + "/src.sock"
        let source = try GuestProcess(binary, bootArgs(dirtyInitrd) + ["--api-socket", socket], dir: dir, name: "source")
        XCTAssertTrue(source.waitFor("DIRTY-PROGRESS", timeout: 240), source.tail)
        XCTAssertEqual(try migrate(socket, to: url, downtimeMs: 100, bandwidth: 30).status, 204)
        var maxThrottle = 0
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, source.process.isRunning {
            let s = migrationStatus(socket)
            maxThrottle = max(maxThrottle, s["throttle_percentage"] as? Int ?? 0)
            if ["failed", "cancelled"].contains(s["status"] as? String ?? "") { XCTFail("migration \(s)"); break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(source.waitForExit(timeout: 60), 0, source.tail)
        XCTAssertGreaterThan(maxThrottle, 0, "the guest was never throttled")
        XCTAssertEqual(dest.waitForExit(timeout: 240), 0, dest.tail)
        XCTAssertTrue(dest.output.contains("DIRTY-RESULT pages=12288"), dest.tail)
        XCTAssertTrue(dest.output.contains(" bad=0 "), "pages lost or stale after the move:\n\(dest.tail)")
    }

    /// Two vCPUs, each on its own host thread (the default), both rewriting memory as fast as they can:
    /// pre-copy's dirty log is set from both hart threads at once, post-copy fetches pages for both.
    /// Every page holds its last value at the destination.
    func testTwoBusyHartsOnHostThreadsMigrate() throws {
        let dirty = ".build/guest/dirty"
        guard FileManager.default.fileExists(atPath: dirty) else { try missing("\(dirty) not built: run scripts/setup-host") }
        dirtyInitrd = dir + "/dirty2.cpio.gz"
        try GuestImages.buildInitramfs(init: """
            #!/bin/sh
            /bin/busybox --install -s /bin
            mount -t proc proc /proc
            echo "DIRTY-CPUS $(nproc)"
            /bin/dirty 24 400 12 > /tmp/a &
            /bin/dirty 24 400 12 > /tmp/b &
            wait
            cat /tmp/a /tmp/b
            poweroff -f
            """, extraFiles: [("bin/dirty", dirty, 0o755)], to: dirtyInitrd)
        for mode in ["precopy", "postcopy"] {
            let url = "unix:" + dir + "/mig-\(mode).sock"
            let dest = try startDestination(url)
            let socket = dir + "/src-\(mode).sock"
            let source = try GuestProcess(binary, bootArgs(dirtyInitrd) + ["--cpus", "2", "--api-socket", socket], dir: dir,
                                          name: "source-\(mode)")
            XCTAssertTrue(source.waitFor("DIRTY-CPUS 2", timeout: 240), source.tail)
            Thread.sleep(forTimeInterval: 2)
            XCTAssertEqual(try migrate(socket, to: url, mode: mode).status, 204)
            XCTAssertEqual(source.waitForExit(timeout: 120), 0, source.tail)
            XCTAssertTrue(source.output.contains("matryoshka: migrated to"), "\(mode): no summary line at the source:\n\(source.tail)")
            XCTAssertEqual(dest.waitForExit(timeout: 240), 0, dest.tail)
            let results = dest.output.components(separatedBy: "DIRTY-RESULT").dropFirst().map { $0.prefix { $0 != "\r" && $0 != "\n" } }
            XCTAssertEqual(results.count, 2, "\(mode): both writers report at the destination:\n\(dest.tail)\nsource:\n\(source.tail)")
            for r in results { XCTAssertTrue(r.contains(" bad=0 ") && r.contains("pages=6144"), "\(mode): pages lost or stale after the move: \(r)") }
            if mode == "postcopy" { XCTAssertTrue(dest.output.contains("post-copy complete"), dest.tail) }
        }
    }

    func makeTLSDirectory(_ name: String) throws -> String { try makeTLSDirectory(in: dir, name) }

    /// TLS: a source without TLS and one whose certificates come from another authority are turned
    /// away (each time the source carries on); then the real one migrates.
    func testTLSMigrationAuthenticatesBothEnds() throws {
        let good = try makeTLSDirectory("good"), rogue = try makeTLSDirectory("rogue")
        let port = 20000 + Int.random(in: 0..<20000)
        let url = "tcp:127.0.0.1:\(port)"
        let dest = try startDestination(url, extra: ["--tls-dir", good])
        let (source, socket) = try startSource()
        let c = APIClient(socketPath: socket)

        XCTAssertEqual(try migrate(socket, to: url).status, 204)
        var s = waitForMigration(socket, ["failed", "completed"])
        XCTAssertEqual(s["status"] as? String, "failed", "plain stream to a TLS destination: \(s)")
        expectSourceCarriesOn(source, socket)

        XCTAssertEqual(try c.request("PUT", "/migrate", json: ["destination_url": url, "tls_dir": rogue]).status, 204)
        s = waitForMigration(socket, ["failed", "completed"])
        XCTAssertEqual(s["status"] as? String, "failed", "another authority's certificates: \(s)")
        XCTAssertTrue((s["error"] as? String ?? "").contains("TLS handshake failed"), "\(s)")
        expectSourceCarriesOn(source, socket)
        XCTAssertTrue(dest.process.isRunning, "the destination gave up on bad connections:\n\(dest.tail)")

        XCTAssertEqual(try c.request("PUT", "/migrate", json: ["destination_url": "unix:/x", "tls_dir": good]).status, 400, "TLS on a unix: socket")
        XCTAssertEqual(try c.request("PUT", "/migrate", json: ["destination_url": url, "tls_dir": dir + "/none"]).status, 400, "missing TLS directory")

        let ctl = try GuestProcess.capture(binary, ["ctl", "migrate", "--api-socket", socket, url, "--tls-dir", good])
        XCTAssertEqual(ctl.status, 0, ctl.output)
        expectFinishesAtDestination(dest, source: source)
    }

    // MARK: Faults

    /// Before the switch-over every failure leaves the source running and unpaused.
    func expectSourceCarriesOn(_ source: GuestProcess, _ socket: String, file: StaticString = #filePath, line: UInt = #line) {
        let vm = (try? APIClient(socketPath: socket).request("GET", "/vm")).flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }
        XCTAssertEqual(vm?["state"] as? String, "Running", "source not running after a failed migration", file: file, line: line)
        let before = source.output.components(separatedBy: "PROGRESS").count
        Thread.sleep(forTimeInterval: 3)
        XCTAssertGreaterThan(source.output.components(separatedBy: "PROGRESS").count, before, "the source's guest made no progress after the failed migration:\n\(source.tail)", file: file, line: line)
    }

    func testIncompatibleDestinationIsRefusedBeforeAnyPageMoves() throws {
        let url = "unix:" + dir + "/mig.sock"
        let dest = try startDestination(url, extra: ["--memory", "128M"])
        let (source, socket) = try startSource()
        XCTAssertEqual(try migrate(socket, to: url).status, 204)
        let s = waitForMigration(socket, ["failed", "completed"])
        XCTAssertEqual(s["status"] as? String, "failed", "\(s)")
        XCTAssertTrue((s["error"] as? String ?? "").contains("RAM is 256 MiB, this destination expects 128 MiB"), "\(s)")
        XCTAssertLessThan(s["transferred_bytes"] as? Int ?? .max, 65536, "pages moved before the check: \(s)")
        XCTAssertNotEqual(dest.waitForExit(timeout: 30), 0, dest.tail)
        XCTAssertTrue(dest.output.contains("incompatible migration"), dest.tail)
        expectSourceCarriesOn(source, socket)
        source.kill9()
    }

    func testDestinationKilledCancelCorruptAndCutStreamLeaveTheSourceRunning() throws {
        let (source, socket) = try startSource()
        // 1. The destination dies mid-stream (the link held to 20 MiB/s so that there is a middle).
        let url1 = "unix:" + dir + "/mig1.sock"
        let dest1 = try startDestination(url1)
        XCTAssertEqual(try migrate(socket, to: url1, bandwidth: 20).status, 204)
        XCTAssertEqual(waitForMigration(socket, ["active"])["status"] as? String, "active")
        Thread.sleep(forTimeInterval: 1)
        dest1.kill9()
        var s = waitForMigration(socket, ["failed", "completed"])
        XCTAssertEqual(s["status"] as? String, "failed", "\(s)")
        expectSourceCarriesOn(source, socket)

        // 2. Cancel: the destination exits non-zero, the source carries on.
        let url2 = "unix:" + dir + "/mig2.sock"
        let dest2 = try startDestination(url2)
        XCTAssertEqual(try migrate(socket, to: url2, bandwidth: 20).status, 204)
        XCTAssertEqual(waitForMigration(socket, ["active"])["status"] as? String, "active")
        XCTAssertEqual(try APIClient(socketPath: socket).request("DELETE", "/migrate").status, 204)
        s = waitForMigration(socket, ["cancelled", "failed", "completed"])
        XCTAssertEqual(s["status"] as? String, "cancelled", "\(s)")
        XCTAssertNotEqual(dest2.waitForExit(timeout: 30), 0, dest2.tail)
        XCTAssertTrue(dest2.output.contains("incoming migration failed"), dest2.tail)
        XCTAssertEqual(try APIClient(socketPath: socket).request("DELETE", "/migrate").status, 409, "cancel with nothing to cancel")
        expectSourceCarriesOn(source, socket)

        // 3. A corrupted stream: a proxy flips one byte in the setup record, then 3 MiB in (pages).
        for (k, at) in [40, 3 << 20].enumerated() {
            let url3 = "unix:" + dir + "/mig3-\(k).sock"
            let dest3 = try startDestination(url3)
            let proxy = try StreamProxy(listen: dir + "/proxy-\(k).sock", forwardTo: dir + "/mig3-\(k).sock", corruptAt: at)
            XCTAssertEqual(try migrate(socket, to: "unix:" + dir + "/proxy-\(k).sock").status, 204)
            s = waitForMigration(socket, ["failed", "completed"])
            XCTAssertEqual(s["status"] as? String, "failed", "corrupt at \(at): \(s)")
            XCTAssertTrue((s["error"] as? String ?? "").contains("checksum") || (s["error"] as? String ?? "").contains("corrupt"),
                          "the source should report the destination's reason: \(s)")
            XCTAssertNotEqual(dest3.waitForExit(timeout: 30), 0, dest3.tail)
            XCTAssertTrue(dest3.output.contains("checksum mismatch") || dest3.output.contains("corrupt migration stream"), dest3.tail)
            proxy.close()
            expectSourceCarriesOn(source, socket)
        }

        // 4. The link is cut mid-stream (a proxy between them closes both sides).
        let url5 = "unix:" + dir + "/mig5.sock"
        let dest5 = try startDestination(url5)
        let cut = try StreamProxy(listen: dir + "/proxy-cut.sock", forwardTo: dir + "/mig5.sock", corruptAt: nil)
        XCTAssertEqual(try migrate(socket, to: "unix:" + dir + "/proxy-cut.sock", bandwidth: 20).status, 204)
        XCTAssertEqual(waitForMigration(socket, ["active"])["status"] as? String, "active")
        Thread.sleep(forTimeInterval: 1)
        cut.close()
        s = waitForMigration(socket, ["failed", "completed"])
        XCTAssertEqual(s["status"] as? String, "failed", "link cut: \(s)")
        XCTAssertNotEqual(dest5.waitForExit(timeout: 30), 0, dest5.tail)
        expectSourceCarriesOn(source, socket)

        // 5. After all that, a migration still works: the source exits 0 with its summary, and the
        // computation goes on at the destination from where it was.
        let url4 = "unix:" + dir + "/mig4.sock"
        let dest4 = try startDestination(url4)
        XCTAssertEqual(try migrate(socket, to: url4).status, 204)
        XCTAssertEqual(source.waitForExit(timeout: 120), 0, "source did not exit 0 after the migration:\n\(source.tail)")
        XCTAssertTrue(source.output.contains("matryoshka: migrated to"), "no summary line at the source:\n\(source.tail)")
        XCTAssertFalse(source.output.contains(expected), "the source finished the computation itself")
        let last = source.output.components(separatedBy: "PROGRESS ").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        XCTAssertTrue(dest4.waitFor("PROGRESS \(last + 20 * SnapshotTests.step)\r\n", timeout: 120),
                      "the destination did not carry the computation on from \(last):\n\(dest4.tail)")
        XCTAssertFalse(dest4.output.contains("Linux version"), "the destination booted a kernel instead of continuing the guest")
    }

    func testSourceKilledMidMigrationMakesTheDestinationExit() throws {
        let url = "unix:" + dir + "/mig.sock"
        let dest = try startDestination(url)
        let (source, socket) = try startSource()
        XCTAssertEqual(try migrate(socket, to: url, bandwidth: 20).status, 204)
        XCTAssertEqual(waitForMigration(socket, ["active"])["status"] as? String, "active")
        Thread.sleep(forTimeInterval: 1)
        source.kill9()
        XCTAssertEqual(dest.waitForExit(timeout: 30), 1, "destination hung or crashed:\n\(dest.tail)")
        XCTAssertTrue(dest.output.contains("the source stopped or was killed"), dest.tail)
    }

    /// Post-copy's one unrecoverable case: the link dies after the switch-over. The destination stops
    /// with an error (nothing runs on with holes in its memory); so does the source.
    func testPostcopyLinkLossStopsTheDestinationWithAnError() throws {
        let url = "unix:" + dir + "/mig.sock"
        let dest = try startDestination(url)
        let proxy = try StreamProxy(listen: dir + "/proxy.sock", forwardTo: dir + "/mig.sock", corruptAt: nil)
        let (source, socket) = try startSource()
        // Held to 5 MiB/s, the push takes far longer than the few seconds before the cut.
        XCTAssertEqual(try migrate(socket, to: "unix:" + dir + "/proxy.sock", mode: "postcopy", bandwidth: 5).status, 204)
        XCTAssertTrue(dest.waitFor("pages follow (post-copy)", timeout: 60), dest.tail)
        Thread.sleep(forTimeInterval: 1)
        proxy.close()
        XCTAssertEqual(dest.waitForExit(timeout: 60), 1, "destination did not stop:\n\(dest.tail)")
        XCTAssertTrue(dest.output.contains("post-copy: lost the source"), dest.tail)
        XCTAssertFalse(dest.output.contains(expected), "a destination with missing memory finished the computation")
        XCTAssertEqual(source.waitForExit(timeout: 60), 1, "source:\n\(source.tail)")
        XCTAssertTrue(source.output.contains("post-copy failed after the switch-over"), source.tail)
    }

    /// A disk moves by shared storage and a forwarded port moves with the VM: the destination opens
    /// and locks the disk and binds the port only at switch-over. First the destination fails at
    /// switch-over (the disk vanished from the shared path after the setup check): the source takes
    /// its lock and port back and runs on. Then the disk is back and the migration succeeds.
    func testDiskAndForwardedPortPassAtSwitchOver() throws {
        let disk = dir + "/disk.img"
        FileManager.default.createFile(atPath: disk, contents: Data(count: 16 << 20))
        let port = 20000 + Int.random(in: 0..<20000)
        let (source, socket) = try startSource(extra: ["--disk", disk, "--net", "user,hostfwd=tcp:127.0.0.1:\(port)-:7"])
        XCTAssertFalse(canLock(disk), "the source should hold the disk's lock")
        XCTAssertTrue(canConnect(port), "the source should listen on the forwarded port")

        let url1 = "unix:" + dir + "/mig1.sock"
        let dest1 = try startDestination(url1)
        XCTAssertEqual(try migrate(socket, to: url1, bandwidth: 20).status, 204)
        XCTAssertEqual(waitForMigration(socket, ["active"])["status"] as? String, "active")
        XCTAssertEqual(rename(disk, disk + ".away"), 0)
        let s = waitForMigration(socket, ["failed", "completed"])
        XCTAssertEqual(rename(disk + ".away", disk), 0)
        XCTAssertEqual(s["status"] as? String, "failed", "\(s)")
        XCTAssertTrue((s["error"] as? String ?? "").contains("could not start the VM"), "\(s)")
        XCTAssertNotEqual(dest1.waitForExit(timeout: 30), 0, dest1.tail)
        expectSourceCarriesOn(source, socket)
        XCTAssertFalse(canLock(disk), "the source should have taken the disk's lock back")
        XCTAssertTrue(canConnect(port), "the source should listen on the forwarded port again")

        let url2 = "unix:" + dir + "/mig2.sock"
        let dest2 = try startDestination(url2)
        XCTAssertEqual(try migrate(socket, to: url2).status, 204)
        XCTAssertEqual(source.waitForExit(timeout: 120), 0, source.tail)
        XCTAssertTrue(dest2.process.isRunning, dest2.tail)
        XCTAssertFalse(canLock(disk), "the destination should hold the disk's lock")
        XCTAssertTrue(canConnect(port), "the destination should listen on the forwarded port")
        XCTAssertEqual(dest2.waitForExit(timeout: 300), 0, dest2.tail)
        XCTAssertTrue(dest2.output.contains(expected), dest2.tail)
        XCTAssertTrue(canLock(disk), "the disk stayed locked")
    }

    func canConnect(_ port: Int) -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(port).bigEndian
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    func canLock(_ path: String) -> Bool {
        let fd = open(path, O_RDWR)
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    func testMigrateRequestsAreChecked() throws {
        let (source, socket) = try startSource(until: 1000)
        let c = APIClient(socketPath: socket)
        XCTAssertEqual(try c.request("PUT", "/migrate", json: ["destination_url": "ftp:x"]).status, 400)
        XCTAssertEqual(try c.request("PUT", "/migrate", json: ["destination_url": "unix:/x", "mode": "sideways"]).status, 400)
        XCTAssertEqual(try c.request("PUT", "/migrate", json: ["destination_url": "unix:/x", "downtime_ms": -1]).status, 400)
        XCTAssertEqual(try c.request("PUT", "/migrate", json: ["destination_url": "unix:/x", "bogus": 1]).status, 400)
        XCTAssertEqual(migrationStatus(socket)["status"] as? String, "none")
        // Nobody listens there: the migration fails, the VM runs on.
        XCTAssertEqual(try migrate(socket, to: "unix:" + dir + "/nobody.sock").status, 204)
        let s = waitForMigration(socket, ["failed"])
        XCTAssertTrue((s["error"] as? String ?? "").contains("cannot connect"), "\(s)")
        expectSourceCarriesOn(source, socket)
        source.kill9()
    }
}

/// A Unix-socket proxy between a migration's source and destination that can corrupt one byte of
/// the source's stream, or cut the connection (`close`).
final class StreamProxy: @unchecked Sendable {
    let listenFD: Int32
    let path: String
    private var fds: [Int32] = []
    private let lock = NSLock()
    private var closed = false

    init(listen path: String, forwardTo target: String, corruptAt: Int?) throws {
        self.path = path
        listenFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var a = StreamProxy.address(path)
        unlink(path)
        let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard ok == 0, listen(listenFD, 1) == 0 else { throw NSError(domain: "proxy", code: 1) }
        let t = Thread { [self] in
            let client = accept(listenFD, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var b = StreamProxy.address(target)
            let c = withUnsafePointer(to: &b) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            guard c == 0 else { Glibc.close(client); return }
            lock.withLock { fds = [client, server] }
            var forwarded = 0
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            // Each direction runs until its reader sees the end or its writer fails; the other one
            // goes on, so a refusal the destination sends before closing still reaches the source.
            var open = [true, true]
            let ends = [(client, server), (server, client)]
            while open[0] || open[1] {
                var p = ends.map { pollfd(fd: $0.0, events: Int16(POLLIN), revents: 0) }
                for i in 0..<2 where !open[i] { p[i].fd = -1 }
                if poll(&p, 2, 200) < 0 { break }
                if lock.withLock({ closed }) { break }
                for i in 0..<2 where open[i] && p[i].revents != 0 {
                    let (from, to) = ends[i]
                    let n = read(from, &buf, buf.count)
                    var ok = n > 0
                    if ok {
                        if i == 0, let at = corruptAt, forwarded <= at, at < forwarded + n { buf[at - forwarded] ^= 0x40 }
                        if i == 0 { forwarded += n }
                        var off = 0
                        while off < n {
                            let w = buf.withUnsafeBytes { send(to, $0.baseAddress! + off, n - off, Int32(MSG_NOSIGNAL)) }
                            if w <= 0 { ok = false; break }
                            off += w
                        }
                    }
                    if !ok {
                        open[i] = false
                        shutdown(to, Int32(SHUT_WR))
                        shutdown(from, Int32(SHUT_RD))
                    }
                }
            }
            lock.withLock { for fd in fds { shutdown(fd, Int32(SHUT_RDWR)); Glibc.close(fd) }; fds = [] }
        }
        t.start()
    }

    static func address(_ path: String) -> sockaddr_un {
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &a.sun_path) { dst in for (i, b) in path.utf8.enumerated() { dst[i] = b } }
        return a
    }

    /// Cuts both connections at once (a dead link).
    func close() {
        lock.withLock {
            closed = true
            for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        }
        Glibc.close(listenFD)
        unlink(path)
    }
}

extension XCTestCase {
    /// Makes a TLS directory: a new authority, a server certificate for 127.0.0.1 and a client certificate.
    func makeTLSDirectory(in dir: String, _ name: String) throws -> String {
        guard let openssl = VirtioBootTests.findTool("openssl") else { try missing("openssl not found: install openssl") }
        let d = dir + "/" + name
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: d + "/san.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let steps: [[String]] = [
            ["req", "-x509"] + ec + ["-keyout", d + "/ca-key.pem", "-out", d + "/ca-cert.pem", "-days", "2", "-subj", "/CN=\(name)-ca"],
            ["req"] + ec + ["-keyout", d + "/server-key.pem", "-out", d + "/server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca-cert.pem", "-CAkey", d + "/ca-key.pem", "-CAcreateserial",
             "-out", d + "/server-cert.pem", "-days", "2", "-extfile", d + "/san.ext"],
            ["req"] + ec + ["-keyout", d + "/client-key.pem", "-out", d + "/client.csr", "-subj", "/CN=source"],
            ["x509", "-req", "-in", d + "/client.csr", "-CA", d + "/ca-cert.pem", "-CAkey", d + "/ca-key.pem", "-CAcreateserial",
             "-out", d + "/client-cert.pem", "-days", "2"],
        ]
        for a in steps {
            let r = try GuestProcess.capture(openssl, a)
            guard r.status == 0 else { XCTFail("openssl \(a.joined(separator: " ")): \(r.output)"); throw XCTSkip("openssl failed") }
        }
        return d
    }
}
