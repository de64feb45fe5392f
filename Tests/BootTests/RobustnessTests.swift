import XCTest
import Foundation

/// Hostile bare-metal guests under the real `matryoshka` binary: the run loop must always answer
/// signals and Ctrl-A X, a guest reset reboots (or exits with --no-reboot), and a huge --memory costs
/// nothing up front. The guests are tiny ELF files written here, so no cross compiler is needed.
final class RobustnessTests: XCTestCase {
    /// csrw mtvec, zero; then an illegal instruction: every trap goes to address 0, outside RAM, where
    /// the fetch faults again, forever. No instruction ever retires.
    static let trapStorm: [UInt32] = [0x3050_1073, 0x0000_0000]
    /// Writes 0x7777 (reset) to the sifive_test device at 0x100000, then spins.
    static let resetLoop: [UInt32] = [0x0010_02b7, 0x0000_7337, 0x7773_0313, 0x0062_a023, 0x0000_006f]

    /// A minimal ELF64 RISC-V executable with one PT_LOAD segment at 0x8000_0000.
    static func elf(_ words: [UInt32]) -> Data {
        var d = Data()
        func u8(_ v: UInt8) { d.append(v) }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        let base: UInt64 = 0x8000_0000, codeOffset: UInt64 = 0x1000
        let size = UInt64(words.count * 4)
        d.append(contentsOf: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); d.append(Data(count: 8))
        u16(2); u16(243); u32(1); u64(base); u64(64); u64(0)   // ET_EXEC, EM_RISCV, entry, phoff, shoff
        u32(0); u16(64); u16(56); u16(1); u16(64); u16(0); u16(0)
        u32(1); u32(5); u64(codeOffset); u64(base); u64(base); u64(size); u64(size); u64(0x1000)  // PT_LOAD R+X
        d.append(Data(count: Int(codeOffset) - d.count))
        for w in words { u32(w) }
        return d
    }

    struct Outcome { var status: Int32; var seconds: Double; var output: String; var stillRunning: Bool }

    /// Starts `matryoshka run` on `program` with stdin a pipe, lets it run `after` seconds, then applies
    /// `poke` (a signal or console input) and waits up to `limit` seconds for it to exit.
    func run(_ program: [UInt32], extra: [String] = [], after: Double = 1.0, limit: Double = 5,
             poke: (Process, FileHandle) -> Void) throws -> Outcome {
        let binary = try requireBinary()
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let elfPath = dir + "/guest.elf", logPath = dir + "/out.log"
        try Self.elf(program).write(to: URL(fileURLWithPath: elfPath))
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        let stdin = Pipe()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["run", "--firmware", "none", "--kernel", elfPath] + extra
        p.standardInput = stdin
        p.standardOutput = log
        p.standardError = log
        try p.run()
        Thread.sleep(forTimeInterval: after)
        let runningBefore = p.isRunning
        let start = Date()
        poke(p, stdin.fileHandleForWriting)
        while p.isRunning && Date().timeIntervalSince(start) < limit { Thread.sleep(forTimeInterval: 0.02) }
        let seconds = Date().timeIntervalSince(start)
        let stillRunning = p.isRunning
        if stillRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let out = String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self)
        XCTAssertTrue(runningBefore || !stillRunning, "exited before it was poked: \(out)")
        return Outcome(status: p.terminationStatus, seconds: seconds, output: out, stillRunning: stillRunning)
    }

    func testTrapStormStopsOnEverySignal() throws {
        for (sig, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT"), (SIGHUP, "SIGHUP")] {
            let o = try run(Self.trapStorm) { p, _ in kill(p.processIdentifier, sig) }
            XCTAssertFalse(o.stillRunning, "\(name) did not stop a trap storm within 5 s")
            XCTAssertLessThan(o.seconds, 1.0, name)
            XCTAssertEqual(o.status, 0, "\(name): \(o.output)")
            XCTAssertTrue(o.output.contains(name), "\(name): no reason line in \(o.output)")
        }
    }

    func testTrapStormQuitsOnCtrlAXThroughAPipe() throws {
        let o = try run(Self.trapStorm) { _, w in w.write(Data([0x01, 0x78])) }
        XCTAssertFalse(o.stillRunning, "Ctrl-A X did not stop a trap storm")
        XCTAssertLessThan(o.seconds, 1.0)
        XCTAssertEqual(o.status, 0, o.output)
        XCTAssertTrue(o.output.contains("Ctrl-A X"), o.output)
    }

    func testTrapStormIsReportedAsUnmappedAccesses() throws {
        let o = try run(Self.trapStorm, extra: ["--stats"]) { p, _ in kill(p.processIdentifier, SIGTERM) }
        XCTAssertFalse(o.stillRunning)
        XCTAssertTrue(o.output.contains("unmapped physical address 0x0"), o.output)
    }

    func testHugeMemoryCostsNothingUpFront() throws {
        let o = try run(Self.trapStorm, extra: ["--memory", "64G"]) { p, _ in kill(p.processIdentifier, SIGTERM) }
        XCTAssertFalse(o.stillRunning)
        XCTAssertEqual(o.status, 0, o.output)
    }

    func testResetRebootsAndNoRebootExits() throws {
        // Default: the guest resets, boots again, resets again ... and still answers a signal.
        let again = try run(Self.resetLoop, extra: ["--stats"]) { p, _ in kill(p.processIdentifier, SIGTERM) }
        XCTAssertFalse(again.stillRunning)
        XCTAssertEqual(again.status, 0, again.output)
        let reboots = again.output.components(separatedBy: "reboots ").dropFirst().first
            .flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        XCTAssertGreaterThanOrEqual(reboots, 2, "the guest should have booted again and again: \(again.output)")
        // --no-reboot: the first reset ends the run with status 1 and a reason.
        let binary = try requireBinary()
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.elf(Self.resetLoop).write(to: URL(fileURLWithPath: dir + "/reset.elf"))
        let r = try BootTests.launch(binary, ["run", "--firmware", "none", "--kernel", dir + "/reset.elf", "--no-reboot"], timeout: 10)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("reset"), r.output)
    }
}
