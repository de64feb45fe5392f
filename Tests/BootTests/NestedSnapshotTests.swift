import Foundation
import GuestImages
import VMM
import XCTest

/// A VM whose L1 Linux runs an L2 Linux under KVM is snapshotted while L2 boots, killed, and
/// restored in a new process: L2 finishes and L1 sees qemu exit cleanly. (Firecracker and Cloud
/// Hypervisor cannot snapshot a VM that is itself a hypervisor.)
final class NestedSnapshotTests: XCTestCase {
    func testSnapshotWithL2RunningRestoresAndL2Finishes() throws {
        let binary = try requireBinary()
        guard GuestImages.isNestedFetched else {
            try missing("nested images missing or out of date in \(GuestImages.nestedDirectory): run `swift run -c release matryoshka images fetch --nested`")
        }
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/api.sock"
        // Snapshot as soon as L2's kernel runs under KVM.
        let l1 = try startL1UntilL2Runs(binary, dir: dir, socket: socket)
        let c = APIClient(socketPath: socket)
        XCTAssertFalse(l1.output.contains("=== L2 guest"), "L2 finished before the snapshot")
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        let stats = try JSONSerialization.jsonObject(with: Data(try c.request("GET", "/vm/stats").body)) as? [String: Any]
        let r = try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/n.snap", "mem_file_path": dir + "/n.mem"])
        XCTAssertEqual(r.status, 204, r.text)
        l1.kill9()
        let restored = try GuestProcess(binary, ["run", "--restore", dir + "/n.snap", "--stats"], dir: dir, name: "restored")
        XCTAssertEqual(restored.waitForExit(timeout: 300), 0, restored.tail)
        let out = restored.output
        XCTAssertTrue(out.contains("=== L2 guest (nested"), "L2 did not finish after the restore:\n\(restored.tail)")
        XCTAssertTrue(out.contains("L1: qemu-system-riscv64 exited with status 0"), restored.tail)
        XCTAssertFalse(out.contains("Linux version"), "a guest booted from scratch instead of resuming:\n\(restored.tail)")
        // The restored run itself executed guest code in VS mode (L2's kernel).
        let levels = out.split(whereSeparator: \.isNewline).first { $0.hasPrefix("matryoshka: instructions executed by level:") } ?? ""
        XCTAssertTrue(levels.contains(" VS ") && !levels.contains(" VS 0 "), "no VS-mode instructions after the restore: \(levels)")
        print("NestedSnapshotTests: snapshot after \(stats?["instructions"] ?? "?") instructions; restored: \(levels)")
    }
}

/// Starts the nested demo's L1 with an API socket and returns once L2's kernel runs under KVM (the
/// first VS-mode instructions in /vm/stats). L2 runs for about two seconds after that.
func startL1UntilL2Runs(_ binary: String, dir: String, socket: String) throws -> GuestProcess {
    let l1 = try GuestProcess(binary, ["run", "--no-reboot", "--memory", "1G", "--initrd", GuestImages.nestedInitramfsPath,
                                       "--disk", GuestImages.nestedDiskPath + ",readonly=on",
                                       "--append", "console=ttyS0 quiet cryptomgr.notests nested=demo", "--api-socket", socket, "--stats"],
                              dir: dir, name: "l1")
    XCTAssertTrue(l1.waitFor("L1: starting L2", timeout: 300), l1.tail)
    let c = APIClient(socketPath: socket)
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
        let o = try JSONSerialization.jsonObject(with: Data(try c.request("GET", "/vm/stats").body)) as? [String: Any]
        if let levels = o?["instructions_by_level"] as? [String: Any], (levels["VS"] as? Int ?? 0) > 0 { break }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return l1
}

/// A VM whose L1 Linux runs an L2 Linux under KVM migrates (pre-copy, then post-copy) while L2
/// boots: L2 finishes at the destination and L1 sees qemu exit cleanly. L2 runs for about two
/// seconds, so the source is paused as soon as L2 runs (a paused VM migrates and arrives paused) and
/// the destination is resumed through its API.
final class NestedMigrationTests: XCTestCase {
    func migrateWhileL2Runs(mode: String) throws {
        let binary = try requireBinary()
        guard GuestImages.isNestedFetched else {
            try missing("nested images missing or out of date in \(GuestImages.nestedDirectory): run `swift run -c release matryoshka images fetch --nested`")
        }
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/api.sock", url = "unix:" + dir + "/mig.sock", destSocket = dir + "/dest.sock"
        let dest = try GuestProcess(binary, ["run", "--incoming", url, "--stats", "--api-socket", destSocket], dir: dir, name: "dest")
        XCTAssertTrue(dest.waitFor("waiting for an incoming migration", timeout: 30), dest.tail)
        let l1 = try startL1UntilL2Runs(binary, dir: dir, socket: socket)
        let c = APIClient(socketPath: socket)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        XCTAssertFalse(l1.output.contains("=== L2 guest"), "L2 finished before the migration")
        let r = try c.request("PUT", "/migrate", json: ["destination_url": url, "mode": mode])
        XCTAssertEqual(r.status, 204, r.text)
        XCTAssertEqual(l1.waitForExit(timeout: 300), 0, l1.tail)
        XCTAssertTrue(l1.output.contains("matryoshka: migrated to"), l1.tail)
        let d = APIClient(socketPath: destSocket)
        let vm = try JSONSerialization.jsonObject(with: Data(try d.request("GET", "/vm").body)) as? [String: Any]
        XCTAssertEqual(vm?["state"] as? String, "Paused", "a paused VM should arrive paused")
        XCTAssertEqual(try d.request("PATCH", "/vm", json: ["state": "Resumed"]).status, 204)
        XCTAssertEqual(dest.waitForExit(timeout: 600), 0, dest.tail)
        let out = dest.output
        XCTAssertTrue(out.contains("=== L2 guest (nested"), "L2 did not finish at the destination:\n\(dest.tail)")
        XCTAssertTrue(out.contains("L1: qemu-system-riscv64 exited with status 0"), dest.tail)
        XCTAssertFalse(out.contains("Linux version"), "a guest booted from scratch at the destination:\n\(dest.tail)")
        let levels = out.split(whereSeparator: \.isNewline).first { $0.hasPrefix("matryoshka: instructions executed by level:") } ?? ""
        XCTAssertTrue(levels.contains(" VS ") && !levels.contains(" VS 0 "), "no VS-mode instructions at the destination: \(levels)")
    }

    func testPrecopyWithL2Running() throws { try migrateWhileL2Runs(mode: "precopy") }
    func testPostcopyWithL2Running() throws { try migrateWhileL2Runs(mode: "postcopy") }
}
