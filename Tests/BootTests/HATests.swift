import Foundation
import GuestImages
import VMM
import XCTest

/// High availability end to end on Debian's Linux: a primary protected by a hot standby is killed
/// (or cut off) while the guest computes and prints; the standby finishes with the result of an
/// uninterrupted run, and what the outside saw from both is the uninterrupted run's output, once.
final class HATests: XCTestCase {
    /// Progress lines every ~15 ms of guest time: a takeover that repeated or lost output would show.
    static let rounds = SnapshotTests.rounds
    static let step = 100
    var dir = ""
    var binary = ""
    var initrd = ""

    override func setUpWithError() throws {
        binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        dir = try BootTests.makeTemporaryDirectory()
        initrd = dir + "/compute.cpio.gz"
        try GuestImages.buildInitramfs(init: SnapshotTests.computeScript(rounds: Self.rounds, step: Self.step), extraFiles: [], to: initrd)
    }
    override func tearDownWithError() throws {
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    var bootArgs: [String] {
        ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--append", "console=ttyS0 panic=-1", "--memory", "256M"]
    }

    static func waitUntil(timeout: Double, _ done: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if done() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return done()
    }

    /// Starts `matryoshka standby` on `url` and waits until it listens.
    static func startStandby(binary: String, dir: String, url: String, extra: [String] = [], name: String = "standby",
                             launcher: [String] = []) throws -> GuestProcess {
        let args = ["standby", "--listen", url] + extra
        let p = launcher.isEmpty ? try GuestProcess(binary, args, dir: dir, name: name, separateErrors: true)
                                 : try GuestProcess(launcher[0], Array(launcher.dropFirst()) + [binary] + args, dir: dir, name: name, separateErrors: true)
        XCTAssertTrue(waitUntil(timeout: 30) { p.errors.contains("standing by on") || !p.process.isRunning }, "standby did not start:\n\(p.errors)")
        return p
    }

    /// The numbers of the "PROGRESS n" lines in `text`, in order.
    static func progress(_ text: String) -> [Int] {
        let re = try! NSRegularExpression(pattern: "PROGRESS ([0-9]+)\r\n")
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { Int(ns.substring(with: $0.range(at: 1)))! }
    }

    static func haStatus(_ socket: String) throws -> [String: Any] {
        let r = try APIClient(socketPath: socket).request("GET", "/ha")
        XCTAssertEqual(r.status, 200, r.text)
        return (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
    }

    /// What primary and standby printed together is the uninterrupted run's output: every progress
    /// line once, in order, and the result.
    func checkConsoleUnion(_ primary: GuestProcess, _ standby: GuestProcess, file: StaticString = #filePath, line: UInt = #line) {
        let union = primary.output + standby.output
        XCTAssertEqual(Self.progress(union), Array(stride(from: Self.step, through: Self.rounds, by: Self.step)),
                       "primary and standby output together are not the uninterrupted run's:\nprimary: \(primary.tail)\nstandby: \(standby.tail)", file: file, line: line)
        XCTAssertTrue(standby.output.contains(SnapshotTests.expected), "standby result; expected \(SnapshotTests.expected):\n\(standby.tail)", file: file, line: line)
        XCTAssertFalse(standby.output.contains("Linux version"), "the standby printed the guest before taking over, or booted it again:\n\(standby.tail)", file: file, line: line)
    }

    // MARK: Tests

    func testKilledPrimaryTheStandbyFinishesTheComputation() throws {
        let url = "unix:" + dir + "/ha.sock"
        let standbySocket = dir + "/standby-api.sock", primarySocket = dir + "/primary-api.sock"
        let standby = try Self.startStandby(binary: binary, dir: dir, url: url, extra: ["--api-socket", standbySocket])
        let primary = try GuestProcess(binary, bootArgs + ["--standby", url, "--api-socket", primarySocket], dir: dir, name: "primary", separateErrors: true)
        XCTAssertTrue(primary.waitFor("PROGRESS 20000\r\n", timeout: 240), "primary: \(primary.tail)\n\(primary.errors)")
        let s = try Self.haStatus(primarySocket)
        XCTAssertEqual(s["role"] as? String, "primary")
        XCTAssertEqual(s["state"] as? String, "protected", "\(s)")
        XCTAssertEqual(s["epoch"] as? Int, 1)
        XCTAssertGreaterThan(s["checkpoints_sent"] as? Int ?? 0, 20, "\(s)")
        XCTAssertGreaterThan(s["last_acknowledged"] as? Int ?? 0, 10, "\(s)")
        XCTAssertGreaterThan(s["mean_pause_ms"] as? Double ?? 0, 0, "\(s)")
        let st = try Self.haStatus(standbySocket)
        XCTAssertEqual(st["role"] as? String, "standby", "\(st)")
        XCTAssertEqual(st["state"] as? String, "standing by", "\(st)")
        XCTAssertGreaterThan(st["last_acknowledged"] as? Int ?? 0, 0, "\(st)")
        // Kill -9 at a random moment of the checkpoint cycle.
        Thread.sleep(forTimeInterval: Double.random(in: 0...0.05))
        primary.kill9()
        XCTAssertFalse(primary.output.contains("PROGRESS \(Self.rounds)\r\n"), "the computation ended before the kill")
        XCTAssertEqual(standby.waitForExit(timeout: 300), 0, "standby: \(standby.tail)\n\(standby.errors)")
        XCTAssertTrue(standby.errors.contains("took over from checkpoint"), standby.errors)
        print("HATests: primary before the kill: \(s)\nHATests: standby: \(standby.errors)")
        checkConsoleUnion(primary, standby)
    }

    /// The primary dies after the standby acknowledged a checkpoint but before it let that
    /// checkpoint's output out: the standby lets it out on taking over, so nothing is lost.
    func testDeathBetweenAcknowledgementAndReleaseLosesNoOutput() throws {
        let url = "unix:" + dir + "/ha.sock"
        let standby = try Self.startStandby(binary: binary, dir: dir, url: url)
        // The first checkpoint from the 60th (about 1.5 s in) that holds output: the guest is booting
        // or computing, and printing either way. A fixed later number could come after the end on a fast machine.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = bootArgs + ["--standby", url]
        var env = ProcessInfo.processInfo.environment
        env["MATRYOSHKA_HA_DIE_AFTER_ACK"] = "60"
        p.environment = env
        let out = dir + "/primary.out"
        FileManager.default.createFile(atPath: out, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardOutput = h
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try h.close()
        XCTAssertEqual(p.terminationStatus, 9, "the primary did not die at the injected point")
        let primaryOutput = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
        XCTAssertFalse(primaryOutput.contains("PROGRESS \(Self.rounds)\r\n"), "the computation ended before the injected death")
        XCTAssertEqual(standby.waitForExit(timeout: 300), 0, "standby: \(standby.tail)\n\(standby.errors)")
        XCTAssertTrue(standby.errors.contains("(1 with output the primary may not have let out)"), standby.errors)
        let union = primaryOutput + standby.output
        XCTAssertEqual(Self.progress(union), Array(stride(from: Self.step, through: Self.rounds, by: Self.step)),
                       "primary and standby output together are not the uninterrupted run's:\nstandby: \(standby.tail)")
        XCTAssertTrue(standby.output.contains(SnapshotTests.expected), standby.tail)
    }

    /// Over TCP with TLS (both ends authenticated): a primary without the certificates is turned
    /// away, and the standby goes on waiting; the real one is protected and fails over.
    func testTLSStandbyTakesOver() throws {
        let tls = try makeTLSDirectory(in: dir, "ha")
        let url = "tcp:127.0.0.1:\(20000 + Int.random(in: 0..<20000))"
        let standby = try Self.startStandby(binary: binary, dir: dir, url: url, extra: ["--tls-dir", tls])
        let plain = try BootTests.launch(binary, bootArgs + ["--standby", url, "--max-instructions", "1"], timeout: 60)
        XCTAssertEqual(plain.status, 2, "a primary without TLS: \(plain.output)")
        XCTAssertTrue(standby.process.isRunning, "the standby gave up after a bad connection:\n\(standby.errors)")
        let primary = try GuestProcess(binary, bootArgs + ["--standby", url, "--tls-dir", tls], dir: dir, name: "primary", separateErrors: true)
        defer { primary.kill9() }
        XCTAssertTrue(primary.waitFor("PROGRESS 15000\r\n", timeout: 240), "primary: \(primary.tail)\n\(primary.errors)")
        primary.kill9()
        XCTAssertEqual(standby.waitForExit(timeout: 300), 0, "standby: \(standby.tail)\n\(standby.errors)")
        checkConsoleUnion(primary, standby)
    }

    func testPartitionOnlyOneSideSpeaks() throws {
        let standbyURL = dir + "/ha.sock", proxyPath = dir + "/proxy.sock"
        let primarySocket = dir + "/primary-api.sock"
        let standby = try Self.startStandby(binary: binary, dir: dir, url: "unix:" + standbyURL)
        let proxy = try StreamProxy(listen: proxyPath, forwardTo: standbyURL, corruptAt: nil)
        let primary = try GuestProcess(binary, bootArgs + ["--standby", "unix:" + proxyPath, "--api-socket", primarySocket], dir: dir, name: "primary", separateErrors: true)
        defer { primary.kill9() }
        XCTAssertTrue(primary.waitFor("PROGRESS 15000\r\n", timeout: 240), "primary: \(primary.tail)\n\(primary.errors)")
        // The link dies; both processes live on.
        proxy.close()
        XCTAssertTrue(Self.waitUntil(timeout: 10) { (try? Self.haStatus(primarySocket))?["state"] as? String == "lost" },
                      "the primary did not notice the lost standby: \((try? Self.haStatus(primarySocket)) ?? [:])\n\(primary.errors)")
        let primaryOutput = primary.output
        XCTAssertEqual(standby.waitForExit(timeout: 300), 0, "standby: \(standby.tail)\n\(standby.errors)")
        XCTAssertTrue(primary.process.isRunning, "the primary died: \(primary.errors)")
        // The primary said nothing more once it had lost its standby: its output is held, its guest paused.
        XCTAssertEqual(primary.output, primaryOutput, "the cut-off primary's output reached the outside")
        let vm = try APIClient(socketPath: primarySocket).request("GET", "/vm")
        XCTAssertTrue(vm.text.contains("\"Paused\""), vm.text)
        XCTAssertTrue(primary.errors.contains("lost the hot standby"), primary.errors)
        checkConsoleUnion(primary, standby)
    }

    /// A primary that hangs (SIGSTOP) is silent: the standby takes over after its timeout; the old
    /// primary, woken, finds its standby gone and holds its output.
    func testSilentPrimaryIsTakenOver() throws {
        let url = "unix:" + dir + "/ha.sock", primarySocket = dir + "/primary-api.sock"
        let standby = try Self.startStandby(binary: binary, dir: dir, url: url, extra: ["--timeout-ms", "400"])
        let primary = try GuestProcess(binary, bootArgs + ["--standby", url, "--api-socket", primarySocket], dir: dir, name: "primary", separateErrors: true)
        defer { primary.kill9() }
        XCTAssertTrue(primary.waitFor("PROGRESS 15000\r\n", timeout: 240), "primary: \(primary.tail)\n\(primary.errors)")
        kill(primary.process.processIdentifier, SIGSTOP)
        let stopped = Date()
        XCTAssertTrue(Self.waitUntil(timeout: 30) { standby.errors.contains("took over") }, standby.errors)
        let waited = Date().timeIntervalSince(stopped)
        XCTAssertGreaterThan(waited, 0.3, "the standby took over before the primary had been silent for --timeout-ms")
        XCTAssertTrue(standby.errors.contains("nothing received within the time limit"), standby.errors)
        let primaryOutput = primary.output
        kill(primary.process.processIdentifier, SIGCONT)
        XCTAssertTrue(Self.waitUntil(timeout: 10) { (try? Self.haStatus(primarySocket))?["state"] as? String == "lost" },
                      "the woken primary did not notice: \((try? Self.haStatus(primarySocket)) ?? [:])\n\(primary.errors)")
        XCTAssertEqual(standby.waitForExit(timeout: 300), 0, "standby: \(standby.tail)\n\(standby.errors)")
        XCTAssertEqual(primary.output, primaryOutput, "the stale primary's output reached the outside")
        checkConsoleUnion(primary, standby)
    }

    func testStandDownAndReprotectionFailOverTwice() throws {
        let p = dir + "/p.sock", s2 = dir + "/s2.sock"
        let url1 = "unix:" + dir + "/ha1.sock", url2 = "unix:" + dir + "/ha2.sock", url3 = "unix:" + dir + "/ha3.sock"
        let standby1 = try Self.startStandby(binary: binary, dir: dir, url: url1, name: "standby1")
        let primary = try GuestProcess(binary, bootArgs + ["--standby", url1, "--api-socket", p], dir: dir, name: "primary", separateErrors: true)
        defer { primary.kill9() }
        XCTAssertTrue(primary.waitFor("PROGRESS 4000\r\n", timeout: 240), "primary: \(primary.tail)\n\(primary.errors)")
        let c = APIClient(socketPath: p)
        // What protection forbids or refuses.
        XCTAssertEqual(try c.request("PUT", "/ha", json: ["standby_url": url1]).status, 409, "a second standby while protected")
        XCTAssertEqual(try c.request("PUT", "/ha", json: ["standby": url1]).status, 400, "a request without standby_url")
        XCTAssertEqual(try c.request("PUT", "/ha", json: ["standby_url": url1, "on_loss": "panic"]).status, 400, "a bad on_loss")
        XCTAssertEqual(try c.request("PUT", "/migrate", json: ["destination_url": url2]).status, 409, "migration while protected")
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        XCTAssertEqual(try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/x.snap", "mem_file_path": dir + "/x.mem"]).status, 409, "snapshot while protected")
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Resumed"]).status, 204)
        // HA off: the standby stands down (exit 0, no takeover); the primary runs on unprotected.
        XCTAssertEqual(try c.request("DELETE", "/ha").status, 204)
        XCTAssertEqual(standby1.waitForExit(timeout: 30), 0, standby1.errors)
        XCTAssertTrue(standby1.errors.contains("stood down"), standby1.errors)
        XCTAssertEqual(standby1.output, "", "a standby that stood down printed guest output")
        XCTAssertEqual(try Self.haStatus(p)["state"] as? String, "off")
        // A new standby, then the primary dies: standby 2 takes over (epoch 2).
        let standby2 = try Self.startStandby(binary: binary, dir: dir, url: url2, extra: ["--api-socket", s2], name: "standby2")
        XCTAssertEqual(try c.request("PUT", "/ha", json: ["standby_url": url2, "checkpoint_ms": 40]).status, 204)
        XCTAssertTrue(Self.waitUntil(timeout: 30) { (try? Self.haStatus(p))?["state"] as? String == "protected" })
        XCTAssertTrue(primary.waitFor("PROGRESS 20000\r\n", timeout: 240), "primary: \(primary.tail)")
        primary.kill9()
        XCTAssertTrue(Self.waitUntil(timeout: 30) { standby2.errors.contains("took over") }, standby2.errors)
        XCTAssertTrue(GuestProcess.waitForSocket(s2, timeout: 30))
        let after = try Self.haStatus(s2)
        XCTAssertEqual(after["role"] as? String, "primary", "\(after)")
        XCTAssertEqual(after["state"] as? String, "unprotected", "\(after)")
        XCTAssertEqual(after["epoch"] as? Int, 2, "\(after)")
        // Re-protection of the survivor, and a second failover (epoch 3).
        let standby3 = try Self.startStandby(binary: binary, dir: dir, url: url3, name: "standby3")
        let r = try APIClient(socketPath: s2).request("PUT", "/ha", json: ["standby_url": url3])
        XCTAssertEqual(r.status, 204, r.text)
        XCTAssertTrue(Self.waitUntil(timeout: 30) { (try? Self.haStatus(s2))?["state"] as? String == "protected" }, "\((try? Self.haStatus(s2)) ?? [:])")
        XCTAssertTrue(standby2.waitFor("PROGRESS 35000\r\n", timeout: 240), "standby2: \(standby2.tail)\n\(standby2.errors)")
        standby2.kill9()
        XCTAssertEqual(standby3.waitForExit(timeout: 300), 0, "standby3: \(standby3.tail)\n\(standby3.errors)")
        XCTAssertTrue(standby3.errors.contains("(epoch 3)"), standby3.errors)
        let union = primary.output + standby2.output + standby3.output
        XCTAssertEqual(Self.progress(union), Array(stride(from: Self.step, through: Self.rounds, by: Self.step)),
                       "the three sides' output together is not the uninterrupted run's")
        XCTAssertTrue(standby3.output.contains(SnapshotTests.expected), standby3.tail)
    }

    func testStandbySetupErrorsAreClear() throws {
        // Nothing listens there.
        let none = try BootTests.launch(binary, bootArgs + ["--standby", "unix:" + dir + "/nobody.sock"], timeout: 60)
        XCTAssertEqual(none.status, 2, none.output)
        XCTAssertTrue(none.output.contains("nobody.sock") && none.output.contains("standby --listen"), none.output)
        // The standby has no copy for the primary's disk: it refuses, and says how to fix it.
        let disk = dir + "/disk.img"
        FileManager.default.createFile(atPath: disk, contents: Data(count: 1 << 20))
        let url = "unix:" + dir + "/ha.sock"
        let standby = try Self.startStandby(binary: binary, dir: dir, url: url)
        let refused = try BootTests.launch(binary, bootArgs + ["--disk", disk, "--standby", url], timeout: 60)
        XCTAssertEqual(refused.status, 2, refused.output)
        XCTAssertTrue(refused.output.contains("--disk PATH"), refused.output)
        XCTAssertEqual(standby.waitForExit(timeout: 30), 1, standby.errors)
        XCTAssertTrue(standby.errors.contains("--disk PATH"), standby.errors)
        // A standby's copy must not be the primary's own image.
        let same = try Self.startStandby(binary: binary, dir: dir, url: url, extra: ["--disk", disk], name: "same")
        let refused2 = try BootTests.launch(binary, bootArgs + ["--disk", disk, "--standby", url], timeout: 60)
        XCTAssertEqual(refused2.status, 2, refused2.output)
        XCTAssertTrue(refused2.output.contains("primary's own disk image"), refused2.output)
        XCTAssertEqual(same.waitForExit(timeout: 30), 1, same.errors)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: disk)), Data(count: 1 << 20), "the primary's image was touched")
        // Bad options.
        let badPolicy = try BootTests.launch(binary, bootArgs + ["--standby", url, "--ha-on-loss", "pray"], timeout: 60)
        XCTAssertEqual(badPolicy.status, 2, badPolicy.output)
        XCTAssertTrue(badPolicy.output.contains("--ha-on-loss"), badPolicy.output)
    }

    /// A disk workload across a failover: the standby's copy of the disk checks clean and holds
    /// every file the guest had written (and synced) before, and the guest goes on writing.
    func testDiskWritesSurviveFailover() throws {
        let virtio = VirtioBootTests(name: "helper", testClosure: { _ in })
        let env = try virtio.prerequisites(needMkfs: true)
        for tool in ["e2fsck", "debugfs"] where VirtioBootTests.findTool(tool) == nil { try missing("\(tool) not found: install e2fsprogs") }
        let disk = dir + "/primary.img", copy = dir + "/standby.img"
        try virtio.makeExt4(disk, env: env)
        let files = 60
        let image = try virtio.initrd(dir, "diskha", modules: VirtioBootTests.blockModules, env: env, script: """
            mkdir -p /mnt
            mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED
            i=1
            while [ $i -le \(files) ]; do
                yes "file $i line" | head -c 65536 > /mnt/f$i
                sync
                echo "WROTE $i"
                i=$((i + 1))
            done
            bad=0
            i=1
            while [ $i -le \(files) ]; do
                [ "$(yes "file $i line" | head -c 65536 | md5sum)" = "$(md5sum < /mnt/f$i)" ] || bad=$((bad + 1))
                i=$((i + 1))
            done
            echo "VERIFIED bad=$bad"
            umount /mnt && echo UNMOUNTED
            poweroff -f
            """)
        let url = "unix:" + dir + "/ha.sock"
        let standby = try Self.startStandby(binary: binary, dir: dir, url: url, extra: ["--disk", copy])
        let primary = try GuestProcess(env.binary, virtio.args(env, initrd: image, extra: ["--memory", "256M", "--disk", disk, "--standby", url]),
                                       dir: dir, name: "primary", separateErrors: true)
        XCTAssertTrue(primary.waitFor("WROTE 20\r\n", timeout: 240), "primary: \(primary.tail)\n\(primary.errors)")
        Thread.sleep(forTimeInterval: Double.random(in: 0...0.1))
        primary.kill9()
        XCTAssertFalse(primary.output.contains("WROTE \(files)\r\n"), "the workload ended before the kill")
        XCTAssertEqual(standby.waitForExit(timeout: 300), 0, "standby: \(standby.tail)\n\(standby.errors)")
        let union = primary.output + standby.output
        let re = try NSRegularExpression(pattern: "WROTE ([0-9]+)\r\n")
        let ns = union as NSString
        let wrote = re.matches(in: union, range: NSRange(location: 0, length: ns.length)).map { Int(ns.substring(with: $0.range(at: 1)))! }
        XCTAssertEqual(wrote, Array(1...files), "primary and standby output together:\n\(primary.tail)\n\(standby.tail)")
        XCTAssertTrue(standby.output.contains("VERIFIED bad=0"), standby.tail)
        XCTAssertTrue(standby.output.contains("UNMOUNTED"), standby.tail)
        // External oracles on the standby's copy: e2fsck, and debugfs reading every file back.
        let fsck = try GuestProcess.capture(VirtioBootTests.findTool("e2fsck")!, ["-fn", copy])
        XCTAssertEqual(fsck.status, 0, "e2fsck of the standby's disk: \(fsck.output)")
        let debugfs = VirtioBootTests.findTool("debugfs")!
        for i in [1, 10, 20, files / 2, files] {
            let r = try GuestProcess.capture(debugfs, ["-R", "cat /f\(i)", copy])
            let expected = String(String(repeating: "file \(i) line\n", count: 65536 / 10 + 1).prefix(65536))
            XCTAssertTrue(r.output.contains(expected), "f\(i) on the standby's disk is not what the guest wrote")
        }
    }
}
