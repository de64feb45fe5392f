import Foundation
import GuestImages
import VMM
import XCTest

/// High availability end to end on Debian's Linux: a primary protected by a hot standby is killed
/// (or cut off) while the guest computes and prints; the standby finishes with the result of an
/// uninterrupted run, and what the outside saw from both is the uninterrupted run's output, once.
final class HATests: XCTestCase {
    var dir = ""
    var binary = ""
    var initrd = ""

    override func setUpWithError() throws {
        binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        dir = try BootTests.makeTemporaryDirectory()
        initrd = dir + "/compute.cpio.gz"
        try GuestImages.buildInitramfs(init: SnapshotTests.initScript, extraFiles: [], to: initrd)
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
        XCTAssertEqual(Self.progress(union), Array(stride(from: SnapshotTests.step, through: SnapshotTests.rounds, by: SnapshotTests.step)),
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
        XCTAssertFalse(primary.output.contains("PROGRESS \(SnapshotTests.rounds)"), "the computation ended before the kill")
        XCTAssertEqual(standby.waitForExit(timeout: 300), 0, "standby: \(standby.tail)\n\(standby.errors)")
        XCTAssertTrue(standby.errors.contains("took over from checkpoint"), standby.errors)
        print("HATests: primary before the kill: \(s)\nHATests: standby: \(standby.errors)")
        checkConsoleUnion(primary, standby)
    }
}
