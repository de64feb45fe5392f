import Foundation
import GuestImages
import Platform
import VMM
import XCTest

/// The VM life cycle end to end, on Debian's Linux under the release binary: a computation
/// snapshotted half-way and restored in a new process finishes with the result of an uninterrupted
/// run; Diff chains; loading through the API; corrupt snapshots refused; the API's answers to misuse.
final class SnapshotTests: XCTestCase {
    /// Rounds of the guest's computation; it prints a progress line every `step` rounds.
    static let rounds = 60000
    static let step = 1000

    /// /init: an LCG in shell arithmetic with progress lines, then the result and a power-off.
    static let initScript = computeScript(rounds: rounds)
    static var expected: String { expectedResult(rounds: rounds) }

    static func computeScript(rounds: Int, step: Int = step) -> String {
        """
        #!/bin/sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        i=1
        s=7
        while [ $i -le \(rounds) ]; do
            s=$(( (s * 1103515245 + i) % 2147483647 ))
            if [ $((i % \(step))) -eq 0 ]; then echo "PROGRESS $i"; fi
            i=$((i + 1))
        done
        echo "MATRYOSHKA-RESULT value=$s"
        poweroff -f
        """
    }

    static func expectedResult(rounds: Int) -> String {
        var s: Int64 = 7
        for i in 1...Int64(rounds) { s = (s * 1_103_515_245 + i) % 2_147_483_647 }
        return "MATRYOSHKA-RESULT value=\(s)"
    }

    var dir = ""
    var binary = ""
    var initrd = ""

    override func setUpWithError() throws {
        binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        dir = try BootTests.makeTemporaryDirectory()
        initrd = dir + "/snap.cpio.gz"
        try GuestImages.buildInitramfs(init: Self.initScript, extraFiles: [], to: initrd)
    }
    override func tearDownWithError() throws {
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    var bootArgs: [String] {
        ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--append", "console=ttyS0 panic=-1", "--memory", "256M"]
    }

    /// Boots the computation with an API socket and waits for its progress line `at`.
    func startComputation(until at: Int, socket: String) throws -> GuestProcess {
        let vm = try GuestProcess(binary, bootArgs + ["--api-socket", socket], dir: dir)
        XCTAssertTrue(vm.waitFor("PROGRESS \(at)\r\n", timeout: 180), "guest never reached PROGRESS \(at):\n\(vm.tail)")
        return vm
    }

    func api(_ socket: String) -> APIClient { APIClient(socketPath: socket) }

    func expectStatus(_ r: APIResponse, _ status: Int, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, "\(what): \(r.text)", file: file, line: line)
    }

    func snapshot(_ socket: String, _ path: String, _ mem: String, type: String = "Full") throws {
        let c = api(socket)
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Paused"]), 204, "pause")
        expectStatus(try c.request("PUT", "/snapshot/create", json: ["snapshot_path": path, "mem_file_path": mem, "snapshot_type": type]), 204, "snapshot \(type)")
    }

    /// Restores `path` in a new process and checks that the computation finishes correctly, without a boot.
    func restoreAndFinish(_ path: String, extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        try Self.restoreAndFinishStatic(binary: binary, dir: dir, path: path, extra: extra, file: file, line: line)
    }

    static func restoreAndFinishStatic(binary: String, dir: String, path: String, extra: [String] = [],
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        let vm = try GuestProcess(binary, ["run", "--restore", path] + extra, dir: dir, name: "restored")
        let status = vm.waitForExit(timeout: 180)
        let out = vm.output
        XCTAssertEqual(status, 0, "restored VM exit status; output:\n\(vm.tail)", file: file, line: line)
        XCTAssertTrue(out.contains(Self.expected), "restored VM result; expected \(Self.expected); output:\n\(vm.tail)", file: file, line: line)
        XCTAssertFalse(out.contains("Linux version"), "the restored VM booted again:\n\(vm.tail)", file: file, line: line)
        XCTAssertTrue(out.contains("PROGRESS \(Self.rounds)"), "no progress after the restore:\n\(vm.tail)", file: file, line: line)
    }

    // MARK: Tests

    func testSnapshotMidComputationRestoresInNewProcess() throws {
        let socket = dir + "/api.sock"
        let source = try startComputation(until: 15000, socket: socket)
        try snapshot(socket, dir + "/full.snap", dir + "/full.mem")
        source.kill9()
        XCTAssertFalse(source.output.contains("PROGRESS \(Self.rounds)"), "the computation ended before the snapshot; raise `rounds`")
        // The memory file is sparse: far fewer blocks than the 256 MiB of RAM.
        var st = stat()
        XCTAssertEqual(stat(dir + "/full.mem", &st), 0)
        XCTAssertLessThan(Int(st.st_blocks) * 512, 200 << 20, "memory file is not sparse")
        try restoreAndFinish(dir + "/full.snap")
        // Restoring twice from the same files works too (nothing was consumed).
        try restoreAndFinish(dir + "/full.snap")
        // A state file as builds before the binary meta section wrote it (meta version 1: the JSON
        // that `snapshot info` shows) restores as well.
        try writeWithJSONMeta(from: dir + "/full.snap", to: dir + "/v1.snap")
        try restoreAndFinish(dir + "/v1.snap")
    }

    /// `matryoshka snapshot info` of a state file (JSON).
    func snapshotInfo(_ path: String) throws -> String {
        let info = try BootTests.launch(binary, ["snapshot", "info", path], timeout: 30)
        XCTAssertEqual(info.status, 0, info.output)
        return info.output
    }

    /// Rewrites a state file with its meta section as version 1 (JSON), every checksum recomputed.
    func writeWithJSONMeta(from: String, to: String) throws {
        // `snapshot info` prints sorted keys: format_version, meta, sections.
        let info = try snapshotInfo(from)
        guard let key = info.range(of: "\"meta\" : "), let end = info.range(of: ",\n  \"sections\" : ") else {
            return XCTFail("no meta in `snapshot info`:\n\(info)")
        }
        let metaJSON = Array(info[key.upperBound..<end.lowerBound].utf8)
        XCTAssertTrue(info.contains("\"name\" : \"meta\""), info)
        let old = [UInt8](try Data(contentsOf: URL(fileURLWithPath: from)))
        func u32(_ at: Int) -> Int { Int(old[at]) | Int(old[at + 1]) << 8 | Int(old[at + 2]) << 16 | Int(old[at + 3]) << 24 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        var out = Array(old[0..<12])   // magic and format version
        var at = 12, sawMeta = false
        while at < old.count {
            let nameLength = u32(at)
            let name = String(decoding: old[(at + 4)..<(at + 4 + nameLength)], as: UTF8.self)
            var version = u32(at + 4 + nameLength)
            let bodyAt = at + 4 + nameLength + 4 + 8
            var body = Array(old[bodyAt..<(bodyAt + u64(bodyAt - 8))])
            at = bodyAt + body.count + 8
            if name == "meta" { version = 1; body = metaJSON; sawMeta = true }
            var section = le(UInt32(nameLength)) + Array(name.utf8) + le(UInt32(version)) + le(UInt64(body.count)) + body
            section += le(CRC64.checksum(section))
            out += section
        }
        XCTAssertTrue(sawMeta)
        try Data(out).write(to: URL(fileURLWithPath: to))
    }

    func testDiffChainRestores() throws {
        let socket = dir + "/api.sock"
        let source = try startComputation(until: 10000, socket: socket)
        let c = api(socket)
        // A Diff with no previous snapshot has nothing to be relative to.
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Paused"]), 204, "pause")
        expectStatus(try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/d0.snap", "mem_file_path": dir + "/d0.mem", "snapshot_type": "Diff"]), 400, "Diff without base")
        expectStatus(try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/base.snap", "mem_file_path": dir + "/base.mem"]), 204, "Full")
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Resumed"]), 204, "resume")
        XCTAssertTrue(source.waitFor("PROGRESS 20000\r\n", timeout: 120), source.tail)
        try snapshot(socket, dir + "/d1.snap", dir + "/d1.mem", type: "Diff")
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Resumed"]), 204, "resume")
        XCTAssertTrue(source.waitFor("PROGRESS 30000\r\n", timeout: 120), source.tail)
        try snapshot(socket, dir + "/d2.snap", dir + "/d2.mem", type: "Diff")
        source.kill9()
        var full = stat(), diff = stat()
        stat(dir + "/base.mem", &full); stat(dir + "/d2.mem", &diff)
        XCTAssertLessThan(diff.st_blocks, full.st_blocks, "a Diff should hold fewer pages than the Full snapshot")
        try restoreAndFinish(dir + "/d2.snap")
        try restoreAndFinish(dir + "/d1.snap")
        // A broken chain (the base replaced by another snapshot) is refused, not silently mixed.
        let other = try startComputation(until: 2000, socket: dir + "/api2.sock")
        try snapshot(dir + "/api2.sock", dir + "/base.snap", dir + "/other.mem")
        other.kill9()
        let broken = try BootTests.launch(binary, ["run", "--restore", dir + "/d2.snap"], timeout: 60)
        XCTAssertEqual(broken.status, 2, broken.output)
        XCTAssertTrue(broken.output.contains("chain is broken"), broken.output)
    }

    func testLoadThroughTheAPI() throws {
        let socket = dir + "/api.sock"
        let source = try startComputation(until: 15000, socket: socket)
        try snapshot(socket, dir + "/s.snap", dir + "/s.mem")
        source.kill9()
        try FileManager.default.moveItem(atPath: dir + "/s.mem", toPath: dir + "/moved.mem")
        let target = try GuestProcess(binary, ["run", "--api-socket", dir + "/load.sock"], dir: dir, name: "target")
        XCTAssertTrue(GuestProcess.waitForSocket(dir + "/load.sock", timeout: 30), target.tail)
        let c = api(dir + "/load.sock")
        expectStatus(try c.request("GET", "/vm"), 200, "GET /vm before load")
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Paused"]), 409, "pause with no VM")
        // The memory file moved: without mem_backend the load fails and the process keeps waiting.
        let lost = try c.request("PUT", "/snapshot/load", json: ["snapshot_path": dir + "/s.snap"])
        expectStatus(lost, 400, "load with the memory file gone")
        XCTAssertTrue(lost.faultMessage.contains("s.mem"), lost.faultMessage)
        expectStatus(try c.request("PUT", "/snapshot/load", json: ["snapshot_path": dir + "/s.snap", "resume_vm": false,
                                                                   "mem_backend": ["backend_type": "File", "backend_path": dir + "/moved.mem"]]), 204, "load")
        let info = try c.request("GET", "/vm")
        XCTAssertTrue(info.text.contains("\"Paused\""), info.text)
        expectStatus(try c.request("PUT", "/snapshot/load", json: ["snapshot_path": dir + "/s.snap"]), 409, "load twice")
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Resumed"]), 204, "resume")
        XCTAssertEqual(target.waitForExit(timeout: 180), 0, target.tail)
        XCTAssertTrue(target.output.contains(Self.expected), target.tail)
    }

    func testCorruptTruncatedAndMismatchedSnapshotsAreRefused() throws {
        let socket = dir + "/api.sock"
        let source = try startComputation(until: 5000, socket: socket)
        try snapshot(socket, dir + "/good.snap", dir + "/good.mem")
        source.kill9()
        let good = try Data(contentsOf: URL(fileURLWithPath: dir + "/good.snap"))
        var g = SystemRandomNumberGenerator()
        var cases: [(String, Data)] = []
        for _ in 0..<12 {
            var d = good
            let at = Int.random(in: 0..<d.count, using: &g)
            d[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &g))
            cases.append(("bit flip at \(at)", d))
        }
        for _ in 0..<6 {
            let n = Int.random(in: 0..<good.count, using: &g)
            cases.append(("truncated to \(n) bytes", good.prefix(n)))
        }
        cases.append(("empty", Data()))
        for (what, bytes) in cases {
            let path = dir + "/bad.snap"
            try bytes.write(to: URL(fileURLWithPath: path))
            let r = try BootTests.launch(binary, ["run", "--restore", path, "--mem-file", dir + "/good.mem"], timeout: 60)
            XCTAssertEqual(r.status, 2, "\(what): \(r.output)")
            XCTAssertTrue(r.output.contains(path), "\(what): the error should name the file: \(r.output)")
        }
        // A truncated memory file, and one from another snapshot.
        let mem = try Data(contentsOf: URL(fileURLWithPath: dir + "/good.mem"))
        try mem.prefix(mem.count / 2).write(to: URL(fileURLWithPath: dir + "/half.mem"))
        let half = try BootTests.launch(binary, ["run", "--restore", dir + "/good.snap", "--mem-file", dir + "/half.mem"], timeout: 60)
        XCTAssertEqual(half.status, 2, half.output)
        // Nothing was modified: the good snapshot still restores and finishes.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/good.snap")), good)
        try restoreAndFinish(dir + "/good.snap")

        // A crash between the two renames of a create: the state file is in place, its memory still under
        // the temporary name and the old memory file at the final one. Loading finishes the commit.
        let text = try snapshotInfo(dir + "/good.snap")
        let idRange = try XCTUnwrap(text.range(of: #""id" : "[0-9a-f]{32}""#, options: .regularExpression), text)
        let id = String(text[idRange].dropFirst(8).dropLast())
        try FileManager.default.moveItem(atPath: dir + "/good.mem", toPath: dir + "/good.mem.tmp-" + id)
        try FileManager.default.copyItem(atPath: dir + "/half.mem", toPath: dir + "/good.mem")
        try restoreAndFinish(dir + "/good.snap")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/good.mem.tmp-" + id), "the interrupted commit was not finished")
    }

    func testKillDuringSnapshotCreationLeavesThePreviousOneLoadable() throws {
        let socket = dir + "/api.sock"
        let source = try startComputation(until: 10000, socket: socket)
        try snapshot(socket, dir + "/keep.snap", dir + "/keep.mem")
        source.kill9()
        var interrupted = 0
        for delay in [0.0, 0.001, 0.003, 0.01, 0.03, 0.1] {
            // A restored copy, paused, starts writing a new snapshot over the same files and is killed.
            let sock = dir + "/k.sock"
            unlink(sock)   // the killed VM's socket file stays behind
            let vm = try GuestProcess(binary, ["run", "--restore", dir + "/keep.snap", "--paused", "--api-socket", sock], dir: dir, name: "victim")
            XCTAssertTrue(GuestProcess.waitForSocket(sock, timeout: 30), vm.tail)
            let t = Thread {
                _ = try? APIClient(socketPath: sock).request("PUT", "/snapshot/create",
                    json: ["snapshot_path": self.dir + "/keep.snap", "mem_file_path": self.dir + "/keep.mem"])
            }
            t.start()
            // Kill once the new files are being written (or `delay` later), or after 5 s at the latest.
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline,
                  !((try? FileManager.default.contentsOfDirectory(atPath: dir))?.contains { $0.contains(".tmp-") } ?? false) {
                usleep(200)
            }
            Thread.sleep(forTimeInterval: delay)
            vm.kill9()
            func leftovers() -> [String] {
                (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.contains(".tmp-") } ?? []
            }
            if !leftovers().isEmpty { interrupted += 1 }
            // Loadable: the restore succeeds and the guest runs (until the instruction limit stops it). A kill
            // between the two renames of the commit leaves the new state beside `keep.mem.tmp-<id>`: the load
            // finishes that rename, so the temporary files are only removed after it (as a user would).
            let check = try BootTests.launch(binary, ["run", "--restore", dir + "/keep.snap", "--max-instructions", "1"], timeout: 60)
            XCTAssertEqual(check.status, 1, "after a kill \(delay) s into the snapshot: \(check.output)")
            XCTAssertTrue(check.output.contains("instruction limit"), "after a kill \(delay) s into the snapshot: \(check.output)")
            for f in leftovers() { try? FileManager.default.removeItem(atPath: dir + "/" + f) }
        }
        print("SnapshotTests: \(interrupted) of 6 kills left snapshot files half-written")
        XCTAssertGreaterThan(interrupted, 0, "no kill landed inside a snapshot write: the test did not test anything")
        try restoreAndFinish(dir + "/keep.snap")
    }

    func testAPIMisuseGets4xx() throws {
        let socket = dir + "/api.sock"
        let vm = try startComputation(until: 2000, socket: socket)
        let c = api(socket)
        expectStatus(try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/x.snap", "mem_file_path": dir + "/x.mem"]), 409, "snapshot while running")
        expectStatus(try c.request("PUT", "/snapshot/create", body: Array("{not json".utf8), onData: nil), 400, "bad JSON")
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Sleeping"]), 400, "bad state")
        expectStatus(try c.request("PUT", "/actions", json: ["action_type": "Explode"]), 400, "bad action")
        let unknown = try c.request("GET", "/no/such/thing")
        expectStatus(unknown, 404, "unknown path")
        XCTAssertFalse(unknown.faultMessage.isEmpty)
        expectStatus(try c.request("PUT", "/snapshot/load", json: ["snapshot_path": dir + "/x.snap"]), 409, "load into a process with a VM")
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Resumed"]), 409, "resume while running")
        let stats: APIResponse
        do { stats = try c.request("GET", "/vm/stats") } catch { XCTFail("GET /vm/stats: \(error)\n\(vm.output.suffix(6000))"); throw error }
        expectStatus(stats, 200, "stats")
        let o = try JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Any]
        XCTAssertGreaterThan((o?["instructions"] as? Int) ?? 0, 1_000_000, stats.text)
        // While paused, guest time stands still.
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Paused"]), 204, "pause")
        let t1 = try JSONSerialization.jsonObject(with: Data(try c.request("GET", "/vm/stats").body)) as? [String: Any]
        Thread.sleep(forTimeInterval: 0.3)
        let t2 = try JSONSerialization.jsonObject(with: Data(try c.request("GET", "/vm/stats").body)) as? [String: Any]
        XCTAssertEqual(t1?["guest_time"] as? Int, t2?["guest_time"] as? Int, "guest time moved while paused")
        XCTAssertEqual(t1?["instructions"] as? Int, t2?["instructions"] as? Int, "instructions retired while paused")
        expectStatus(try c.request("PUT", "/snapshot/create", json: ["snapshot_path": "/nonexistent-dir/x.snap", "mem_file_path": dir + "/x.mem"]), 400, "unwritable path")
        expectStatus(try c.request("PATCH", "/vm", json: ["state": "Resumed"]), 204, "resume")
        expectStatus(try c.request("PUT", "/actions", json: ["action_type": "Stop"]), 204, "stop")
        XCTAssertEqual(vm.waitForExit(timeout: 30), 0, vm.tail)
    }
}
