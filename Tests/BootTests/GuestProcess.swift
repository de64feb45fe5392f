import Foundation
import XCTest

/// A `matryoshka` process in the background whose console output goes to a file the test can poll:
/// the life-cycle tests pause, snapshot, kill and restore VMs while they run.
final class GuestProcess {
    let process = Process()
    let logPath: String
    private let log: FileHandle

    /// With `separateErrors`, standard error goes to `errorPath` and `output` is the guest's console alone.
    let errorPath: String?

    init(_ binary: String, _ args: [String], dir: String, name: String = "vm", separateErrors: Bool = false) throws {
        let stem = dir + "/\(name)-\(UUID().uuidString.prefix(8))"
        logPath = stem + ".log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        if separateErrors {
            errorPath = stem + ".err"
            FileManager.default.createFile(atPath: errorPath!, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath!))
        } else {
            errorPath = nil
            process.standardError = log
        }
        try process.run()
    }

    /// Standard error (with `separateErrors`).
    var errors: String { errorPath.map { String(decoding: FileManager.default.contents(atPath: $0) ?? Data(), as: UTF8.self) } ?? "" }
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? log.close()
    }

    var output: String { String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self) }
    var tail: String { output.split(separator: "\n", omittingEmptySubsequences: false).suffix(30).joined(separator: "\n") }

    /// Waits until the output contains `marker` (true) or the process exits or `timeout` passes (false).
    func waitFor(_ marker: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(marker) { return true }
            if !process.isRunning { return output.contains(marker) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Waits for the process to exit; returns its status, or nil after `timeout` (it is then killed).
    @discardableResult
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs a host tool to completion; returns its status and stdout+stderr.
    static func capture(_ executable: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Waits until a Unix socket exists at `path`.
    static func waitForSocket(_ path: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var st = stat()
            if lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }
}
