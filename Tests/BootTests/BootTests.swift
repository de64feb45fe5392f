import Foundation
import GuestImages
import XCTest

/// End-to-end tests: boot Debian's riscv64 Linux under the release `matryoshka` binary with a
/// busybox initramfs whose /init computes known values and powers off.
///
/// Needs `matryoshka images fetch` (guest images) and `swift build -c release` (the binary,
/// or set MATRYOSHKA_BIN). Without them the boot tests are skipped, except under CI=true,
/// where they fail.
final class BootTests: XCTestCase {
    static let bootTimeout: TimeInterval = 120

    /// Iterations of the guest's integer loop; see `expectedValue`.
    static let loopCount = 2000

    /// /init for the boot tests: an integer LCG in shell arithmetic, a floating-point sum in
    /// busybox awk (Debian's has no math functions, so plain arithmetic), and the number of CPUs Linux brought up.
    static let initScript = """
        #!/bin/sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        i=1
        s=7
        while [ $i -le \(loopCount) ]; do
            s=$(( (s * 1103515245 + i) % 2147483647 ))
            i=$((i + 1))
        done
        f=$(awk 'BEGIN { t = 0; for (k = 1; k <= 1000; k++) t += 1 / k + k * 0.001; printf "%.6f", t }')
        cpus=$(grep -c '^processor' /proc/cpuinfo)
        online=$(cat /sys/devices/system/cpu/online)
        ut=$(/bin/usertime | sed -n 's/^usertime=\\([a-zA-Z]*\\).*/\\1/p')
        echo "MATRYOSHKA-RESULT value=$s float=$f cpus=$cpus online=$online usertime=$ut"
        poweroff -f
        """

    /// What the guest's shell loop must print.
    static var expectedValue: Int64 {
        var s: Int64 = 7
        for i in 1...Int64(loopCount) { s = (s * 1_103_515_245 + i) % 2_147_483_647 }
        return s
    }

    /// What the guest's awk must print.
    static var expectedFloat: String {
        var t = 0.0
        for k in 1...1000 { t += 1 / Double(k) + Double(k) * 0.001 }
        return String(format: "%.6f", t)
    }

    // MARK: Boot tests

    func testBootBuiltinSBIOneHart() throws { try boot(cpus: 1, openSBI: false) }
    func testBootBuiltinSBITwoHarts() throws { try boot(cpus: 2, openSBI: false) }
    func testBootOpenSBIOneHart() throws { try boot(cpus: 1, openSBI: true) }
    func testBootOpenSBITwoHarts() throws { try boot(cpus: 2, openSBI: true) }

    // MARK: Bad input

    func testMissingKernelFileExitsWithStatus2() throws {
        let binary = try requireBinary()
        let missingPath = "/nonexistent/Image-for-matryoshka-test"
        let result = try Self.launch(binary, ["run", "--kernel", missingPath], timeout: 60)
        XCTAssertFalse(result.timedOut, "matryoshka did not exit within 60 s for a missing kernel")
        XCTAssertEqual(result.status, 2, "exit status for a missing kernel; output:\n\(result.output)")
        XCTAssertTrue(result.output.contains(missingPath),
                      "the error message should name the missing file; output:\n\(result.output)")
    }

    func testGarbageKernelExitsWithStatus2() throws {
        let binary = try requireBinary()
        let dir = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let garbage = dir + "/garbage-kernel"
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: garbage))
        let result = try Self.launch(binary, ["run", "--kernel", garbage], timeout: 60)
        XCTAssertFalse(result.timedOut, "matryoshka did not exit within 60 s for a garbage kernel")
        XCTAssertEqual(result.status, 2, "exit status for a garbage kernel; output:\n\(result.output)")
    }

    // MARK: Helpers

    private func boot(cpus: Int, openSBI: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let binary = try requireBinary()
        try requireGuestImages(needFirmware: openSBI)
        let dir = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let initrd = dir + "/boot-test.cpio.gz"
        let usertime = try Self.crossCompile(Self.packageRoot + "/guest/tests/usertime.c", into: dir)
        try GuestImages.buildInitramfs(init: Self.initScript, extraFiles: [("/bin/usertime", usertime, 0o755)], to: initrd)

        var args = ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd,
                    "--append", "console=ttyS0 panic=-1", "--cpus", String(cpus)]
        if openSBI { args += ["--firmware", GuestImages.firmwarePath] }
        let started = Date()
        let result = try Self.launch(binary, args, timeout: Self.bootTimeout)
        let elapsed = Date().timeIntervalSince(started)
        let what = "\(cpus) hart(s), \(openSBI ? "OpenSBI" : "built-in SBI")"
        let tail = result.output.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .suffix(40).joined(separator: "\n")

        XCTAssertFalse(result.timedOut,
                       "\(what): no power-off within \(Int(Self.bootTimeout)) s; last output:\n\(tail)",
                       file: file, line: line)
        guard let marker = result.output.split(whereSeparator: \.isNewline)
            .last(where: { $0.contains("MATRYOSHKA-RESULT ") }) else {
            XCTFail("\(what): the guest never printed its MATRYOSHKA-RESULT line; last output:\n\(tail)",
                    file: file, line: line)
            return
        }
        let fields = Self.parseFields(String(marker))
        XCTAssertEqual(fields["value"], String(Self.expectedValue),
                       "\(what): integer result; line: \(marker)", file: file, line: line)
        XCTAssertEqual(fields["float"], Self.expectedFloat,
                       "\(what): floating-point result; line: \(marker)", file: file, line: line)
        XCTAssertEqual(fields["usertime"], "ok",
                       "\(what): user-mode clock_gettime and rdtime; line: \(marker)", file: file, line: line)
        XCTAssertEqual(fields["cpus"], String(cpus),
                       "\(what): CPUs in /proc/cpuinfo; line: \(marker)", file: file, line: line)
        XCTAssertEqual(fields["online"], cpus == 1 ? "0" : "0-\(cpus - 1)",
                       "\(what): online CPUs; line: \(marker)", file: file, line: line)
        if !result.timedOut {
            XCTAssertEqual(result.status, 0,
                           "\(what): exit status after the guest powered off; last output:\n\(tail)",
                           file: file, line: line)
        }
        print("BootTests: \(what) powered off after \(String(format: "%.1f", elapsed)) s: \(marker)")
    }

    static func parseFields(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        for word in line.split(separator: " ") {
            guard let eq = word.firstIndex(of: "=") else { continue }
            fields[String(word[..<eq])] = String(word[word.index(after: eq)...])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return fields
    }

    private func requireGuestImages(needFirmware: Bool) throws {
        let fm = FileManager.default
        var needed = [GuestImages.kernelPath, GuestImages.busyboxPath]
        if needFirmware { needed.append(GuestImages.firmwarePath) }
        for path in needed where !fm.fileExists(atPath: path) {
            try missing("guest image \(path) is missing: run `swift run -c release matryoshka images fetch` (or set MATRYOSHKA_CACHE)")
        }
    }

    /// `$MATRYOSHKA_BIN`, else `<package root>/.build/release/matryoshka`.
    static var matryoshkaBinary: String {
        if let bin = ProcessInfo.processInfo.environment["MATRYOSHKA_BIN"], !bin.isEmpty { return bin }
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/release/matryoshka").path
    }

    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Builds a static riscv64 Linux program with riscv64-linux-gnu-gcc (CI installs it).
    static func crossCompile(_ source: String, into dir: String, output: String? = nil, march: String? = nil, flags: [String] = []) throws -> String {
        let out = dir + "/" + (output ?? URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent)
        let compiler = "/usr/bin/riscv64-linux-gnu-gcc"
        guard FileManager.default.isExecutableFile(atPath: compiler) else {
            let message = "\(compiler) is missing: apt-get install gcc-riscv64-linux-gnu"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(message); throw XCTSkip(message) }
            throw XCTSkip(message)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: compiler)
        p.arguments = ["-O2", "-static"] + flags + (march.map { ["-march=\($0)"] } ?? []) + ["-o", out, source]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NSError(domain: "BootTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot compile \(source)"]) }
        return out
    }

    /// Compiles a C program for riscv64 Linux with the Swift toolchain's clang (which autovectorizes for
    /// RVV) against Debian's cross libc, statically.
    static func clangCrossCompile(_ source: String, into dir: String, output: String, march: String) throws -> String {
        let out = dir + "/" + output
        let clang = "/opt/swift/usr/bin/clang", gccLib = "/usr/lib/gcc-cross/riscv64-linux-gnu/12"
        guard FileManager.default.isExecutableFile(atPath: clang), FileManager.default.fileExists(atPath: gccLib) else {
            let message = "\(clang) or \(gccLib) is missing: the Swift toolchain's clang and apt-get install gcc-riscv64-linux-gnu libc6-dev-riscv64-cross"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(message) }
            throw XCTSkip(message)
        }
        let (status, text) = try GuestProcess.capture(clang, ["--target=riscv64-linux-gnu", "-march=\(march)", "-O3", "-static", "--sysroot=/usr/riscv64-linux-gnu",
                                                 "-B\(gccLib)", "-L\(gccLib)", "-fuse-ld=lld", "-o", out, source])
        guard status == 0 else { throw NSError(domain: "BootTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot compile \(source):\n\(text)"]) }
        return out
    }

    /// Vector instructions (OP-V and vector loads/stores, by llvm-objdump) in an ELF's code.
    static func vectorInstructionCount(_ elf: String) throws -> Int {
        let (status, text) = try GuestProcess.capture("/opt/swift/usr/bin/llvm-objdump", ["-d", "--mattr=+v", elf])
        guard status == 0 else { throw NSError(domain: "BootTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "llvm-objdump failed: \(text.prefix(500))"]) }
        return text.split(separator: "\n").filter { line in
            line.split(separator: "\t").dropFirst().first?.hasPrefix("v") ?? false   // "addr: bytes \tmnemonic\toperands"
        }.count
    }

    static func makeTemporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("matryoshka-boot-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    struct RunResult {
        var status: Int32
        var timedOut: Bool
        var output: String
    }

    /// Runs `binary args` with stdin from /dev/null and stdout+stderr into a file; kills it after `timeout`.
    /// `environment` entries are added to (or replace) the test's own.
    static func launch(_ binary: String, _ args: [String], timeout: TimeInterval,
                       environment: [String: String] = [:]) throws -> RunResult {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logPath = dir + "/console.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()

        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                let grace = Date().addingTimeInterval(5)
                while process.isRunning && Date() < grace { Thread.sleep(forTimeInterval: 0.05) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        let data = FileManager.default.contents(atPath: logPath) ?? Data()
        return RunResult(status: process.terminationStatus, timedOut: timedOut,
                         output: String(decoding: data, as: UTF8.self))
    }
}

extension XCTestCase {
    /// Skips when a prerequisite is missing, except under CI=true, where it fails.
    func missing(_ message: String) throws -> Never {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail(message)
            throw XCTSkip("(failed above) " + message)
        }
        throw XCTSkip(message)
    }

    /// The release `matryoshka` binary the boot tests run (`BootTests.matryoshkaBinary`).
    func requireBinary() throws -> String {
        let binary = BootTests.matryoshkaBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            try missing("matryoshka binary not found at \(binary): run `swift build -c release` or set MATRYOSHKA_BIN")
        }
        return binary
    }
}
