import Foundation
import GuestImages
import XCTest

/// `matryoshka ctl` drives every endpoint of a running VM, and `ctl events` streams what happened
/// as JSON lines (state changes, snapshots, the guest powering off).
final class CtlTests: XCTestCase {
    func testCtlDrivesTheLifeCycleAndEventsStreamIt() throws {
        let binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let initrd = dir + "/i.cpio.gz"
        try GuestImages.buildInitramfs(init: SnapshotTests.initScript, extraFiles: [], to: initrd)
        let socket = dir + "/api.sock"
        let vm = try GuestProcess(binary, ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--memory", "256M",
                                           "--append", "console=ttyS0 panic=-1", "--api-socket", socket], dir: dir)
        XCTAssertTrue(vm.waitFor("PROGRESS 5000\r\n", timeout: 120), vm.tail)
        let events = try GuestProcess(binary, ["ctl", "events", "--api-socket", socket], dir: dir, name: "events")
        Thread.sleep(forTimeInterval: 0.3)
        func ctl(_ args: [String]) throws -> BootTests.RunResult {
            try BootTests.launch(binary, ["ctl"] + args + ["--api-socket", socket], timeout: 120)
        }
        XCTAssertTrue(try ctl(["info"]).output.contains("\"Running\""))
        XCTAssertEqual(try ctl(["pause"]).status, 0)
        XCTAssertTrue(try ctl(["info"]).output.contains("\"Paused\""))
        let stats = try ctl(["stats"])
        XCTAssertEqual(stats.status, 0, stats.output)
        XCTAssertTrue(stats.output.contains("\"instructions\""), stats.output)
        let snap = try ctl(["snapshot", dir + "/c.snap", dir + "/c.mem"])
        XCTAssertEqual(snap.status, 0, snap.output)
        XCTAssertTrue(snap.output.contains("snapshot written"), snap.output)
        let diff = try ctl(["snapshot", "--diff", "--pause", dir + "/d.snap", dir + "/d.mem"])
        XCTAssertEqual(diff.status, 0, diff.output)
        XCTAssertTrue(try ctl(["info"]).output.contains("\"Running\""), "snapshot --pause resumes afterwards")
        // Misuse is an error with the API's message, exit 1.
        let bad = try ctl(["resume"])
        XCTAssertEqual(bad.status, 1, bad.output)
        XCTAssertTrue(bad.output.contains("409"), bad.output)
        XCTAssertEqual(try ctl(["stop"]).status, 0)
        XCTAssertEqual(vm.waitForExit(timeout: 30), 0, vm.tail)
        XCTAssertEqual(events.waitForExit(timeout: 10), 0, "ctl events should end when the VM does:\n\(events.output)")
        let kinds = events.output.split(separator: "\n").compactMap { line -> String? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return (o["event"] as? String).map { $0 + ((o["state"] as? String).map { ":" + $0 } ?? "") }
        }
        for expected in ["StateChanged:Paused", "SnapshotCreated", "SnapshotProgress", "StateChanged:Running", "Exited"] {
            XCTAssertTrue(kinds.contains(expected), "no \(expected) event in \(kinds)")
        }
        // The Diff snapshot restores too.
        try SnapshotTests.restoreAndFinishStatic(binary: binary, dir: dir, path: dir + "/d.snap")
    }
}
