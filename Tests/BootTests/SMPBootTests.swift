import Foundation
import GuestImages
import VMM
import XCTest

/// Several harts under Linux: `nproc` and /proc/stat see them all, every CPU does user work, and the
/// SMP torture program (`guest/tests/smp.c`: AMO, LR/SC-spinlock and futex-mutex counters, the
/// message-passing, store-buffering and load-buffering litmus tests with and without fences) finds
/// exact counters and no outcome RVWMO forbids. 8 harts on this 2-core machine too.
final class SMPBootTests: XCTestCase {
    static let initScript = """
        #!/bin/sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        echo "SMP-NPROC $(nproc)"
        /bin/smp-torture $(nproc) 100000 20000 > /tmp/torture.out 2>&1
        echo "SMP-STATUS $?"
        sed 's/^/SMP-OUT /' /tmp/torture.out
        grep '^cpu[0-9]' /proc/stat | sed 's/^/SMP-STAT /'
        poweroff -f
        """

    /// The matryoshka binary, a scratch directory and an initramfs with `init` and /bin/smp-torture.
    private func tortureInitramfs(script: String) throws -> (binary: String, dir: String, initrd: String) {
        let binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        let dir = try BootTests.makeTemporaryDirectory()
        let torture = try BootTests.crossCompile(BootTests.packageRoot + "/guest/tests/smp.c", into: dir, output: "smp-torture", flags: ["-pthread"])
        let initrd = dir + "/smp.cpio.gz"
        try GuestImages.buildInitramfs(init: script, extraFiles: [("/bin/smp-torture", torture, 0o755)], to: initrd)
        return (binary, dir, initrd)
    }

    /// Four harts busy with the torture program, round after round: pause and resume through the API,
    /// then a snapshot mid-round restored in a new process, where the rounds go on and still pass.
    func testPauseAndSnapshotWithBusyHarts() throws {
        try pauseAndSnapshotWithBusyHarts(threads: "1")
    }

    func testPauseAndSnapshotWithAThreadPerHart() throws {
        try pauseAndSnapshotWithBusyHarts(threads: "per-hart")
    }

    func pauseAndSnapshotWithBusyHarts(threads: String) throws {
        let (binary, dir, initrd) = try tortureInitramfs(script: """
            #!/bin/sh
            /bin/busybox --install -s /bin
            mount -t proc proc /proc
            for r in 1 2 3 4 5 6 7 8; do /bin/smp-torture 4 100000 20000 | grep -E 'PASS|FAIL|WRONG|FORBIDDEN'; echo "SMP-ROUND $r"; done
            poweroff -f
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/api.sock"
        let vm = try GuestProcess(binary, ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--memory", "512M", "--cpus", "4",
                                           "--threads", threads, "--append", "console=ttyS0 quiet panic=-1", "--api-socket", socket], dir: dir)
        XCTAssertTrue(vm.waitFor("SMP-ROUND 1", timeout: 180), "no first round:\n\(vm.tail)")
        let c = APIClient(socketPath: socket)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Resumed"]).status, 204)
        XCTAssertTrue(vm.waitFor("SMP-ROUND 2", timeout: 180), "no round after the resume:\n\(vm.tail)")
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        let r = try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/smp.snap", "mem_file_path": dir + "/smp.mem", "snapshot_type": "Full"])
        XCTAssertEqual(r.status, 204, r.text)
        vm.kill9()
        XCTAssertFalse(vm.output.contains("FAIL") || vm.output.contains("WRONG"), vm.tail)

        let restored = try GuestProcess(binary, ["run", "--restore", dir + "/smp.snap"] + (threads == "1" ? [] : ["--threads", threads]),
                                        dir: dir, name: "restored")
        XCTAssertEqual(restored.waitForExit(timeout: 300), 0, restored.tail)
        let out = restored.output
        XCTAssertFalse(out.contains("Linux version"), "the restored VM booted again:\n\(restored.tail)")
        XCTAssertTrue(out.contains("SMP-ROUND 8"), "the rounds did not go on after the restore:\n\(restored.tail)")
        XCTAssertTrue(out.contains("smp-torture: PASS"), restored.tail)
        XCTAssertFalse(out.contains("FAIL") || out.contains("WRONG") || out.contains("FORBIDDEN"), restored.tail)
    }

    func testLinuxOnTwoFourAndEightHarts() throws {
        try bootTortureOnTwoFourAndEightHarts(threads: "1")
    }

    /// The same with each hart on its own host thread: the torture program's litmus tests now see the
    /// relaxed outcomes the host allows, and must still never see one RVWMO forbids (FENCEs that order
    /// stores before loads are MFENCEs); remote fences go through the harts' request queues.
    func testLinuxWithAThreadPerHart() throws {
        try bootTortureOnTwoFourAndEightHarts(threads: "per-hart")
    }

    func bootTortureOnTwoFourAndEightHarts(threads: String) throws {
        let (binary, dir, initrd) = try tortureInitramfs(script: Self.initScript)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for harts in [2, 4, 8] {
            let started = Date()
            let r = try BootTests.launch(binary, ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--memory", "512M",
                                                  "--cpus", String(harts), "--threads", threads,
                                                  "--append", "console=ttyS0 quiet panic=-1"], timeout: 300)
            let lines = r.output.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
            let tail = lines.suffix(30).joined(separator: "\n")
            XCTAssertFalse(r.timedOut, "\(harts) harts: timed out\n\(tail)")
            XCTAssertEqual(r.status, 0, "\(harts) harts\n\(tail)")
            XCTAssertTrue(lines.contains("SMP-NPROC \(harts)"), "\(harts) harts: nproc\n\(tail)")
            XCTAssertTrue(lines.contains("SMP-STATUS 0"), "\(harts) harts: smp-torture failed\n\(tail)")
            XCTAssertTrue(lines.contains("SMP-OUT smp-torture: PASS"), "\(harts) harts\n\(tail)")
            for name in ["amo counter", "lr/sc spinlock counter", "futex mutex counter"] {
                XCTAssertTrue(lines.contains { $0.hasPrefix("SMP-OUT \(name): ok") }, "\(harts) harts: \(name)\n\(tail)")
            }
            XCTAssertTrue(lines.contains { $0.hasPrefix("SMP-OUT self-modifying code across CPUs: ok") }, "\(harts) harts: code written on one CPU, run on another\n\(tail)")
            for name in ["mp+fences", "sb+fences", "lb+fences"] {
                XCTAssertTrue(lines.contains { $0.hasPrefix("SMP-OUT \(name): ") && $0.hasSuffix("no forbidden outcome") }, "\(harts) harts: \(name)\n\(tail)")
            }
            // Every CPU ran user code (the torture threads are pinned one per CPU): /proc/stat's user field.
            let stats = lines.filter { $0.hasPrefix("SMP-STAT cpu") }
            XCTAssertEqual(stats.count, harts, "\(harts) harts: /proc/stat\n\(tail)")
            for line in stats {
                let user = line.split(separator: " ").dropFirst(2).first.flatMap { Int($0) } ?? 0
                XCTAssertGreaterThan(user, 0, "\(harts) harts: no user time on \(line)")
            }
            print("SMPBootTests: \(harts) harts, --threads \(threads): \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
    }
}
