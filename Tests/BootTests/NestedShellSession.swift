import Foundation
import GuestImages
import VMM
import XCTest

/// The nested images booted with a shell in L1 (`nested=shell`), driven by typing into the console:
/// the tests that need L1 or L2 commands beyond the demo's fixed run (perf, interrupt counts).
final class NestedShellSession {
    let process = Process()
    let logPath: String
    let socket: String
    private let input = Pipe()
    private let log: FileHandle
    private let directory: String

    /// Starts `matryoshka run` on the nested L1 disk with `--stats` and an API socket.
    init(binary: String, extraArguments: [String]) throws {
        directory = try BootTests.makeTemporaryDirectory()
        logPath = directory + "/nested.log"
        socket = directory + "/api.sock"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--kernel", GuestImages.kernelPath, "--initrd", GuestImages.nestedInitramfsPath,
                             "--disk", GuestImages.nestedDiskPath + ",format=raw,readonly=on", "--memory", "1G",
                             "--api-socket", socket, "--no-reboot", "--stats",
                             "--append", "console=ttyS0 cryptomgr.notests nested=shell"] + extraArguments
        process.standardInput = input
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? log.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var tail: String {
        output.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).suffix(60).joined(separator: "\n")
    }

    /// Waits until `marker` occurs more than `count` times in the output.
    func waitFor(_ marker: String, count: Int = 1, timeout: Double = 180) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.components(separatedBy: marker).count > count { return true }
            if !process.isRunning { return output.components(separatedBy: marker).count > count }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    func type(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    /// `GET /vm/stats` as a dictionary.
    func stats() throws -> [String: Any] {
        let body = try APIClient(socketPath: socket).request("GET", "/vm/stats").body
        return try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] ?? [:]
    }

    /// Types `exit` into the L1 shell and waits for the VM to power off.
    func exitL1(timeout: Double = 60) -> Bool {
        type("exit")
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        return !process.isRunning
    }
}
