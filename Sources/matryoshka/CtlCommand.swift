import ArgumentParser
import Foundation
import VMM
import Synchronization

/// `matryoshka ctl`: a client for every control-API endpoint (as Cloud Hypervisor's ch-remote).
struct Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Control a running VM through its API socket.",
        subcommands: [Info.self, Pause.self, Resume.self, Stats.self, Snapshot.self, Load.self, Reset.self, Stop.self, Events.self, Migrate.self, MigrateStatus.self, MigrateCancel.self, HA.self, HAStatus.self, HAOff.self])

    struct Socket: ParsableArguments {
        @Option(help: ArgumentHelp("The VM's --api-socket.", valueName: "path"))
        var apiSocket: String
        var client: APIClient { APIClient(socketPath: apiSocket) }
    }

    /// Sends a request; prints a JSON answer; turns an error answer into exit status 1 with its message.
    static func call(_ s: Socket, _ method: String, _ path: String, _ body: [String: Any]? = nil) throws {
        let r: APIResponse
        do { r = try s.client.request(method, path, json: body) } catch {
            throw Failure(message: "\(error)")
        }
        guard r.status / 100 == 2 else { throw Failure(message: "\(method) \(path): HTTP \(r.status): \(r.faultMessage)") }
        if !r.body.isEmpty { print(r.text) }
    }

    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The VM's state and config (GET /vm).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "GET", "/vm") } }
    }
    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause the VM (PATCH /vm).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "PATCH", "/vm", ["state": "Paused"]) } }
    }
    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused VM (PATCH /vm).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "PATCH", "/vm", ["state": "Resumed"]) } }
    }
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Execution counters (GET /vm/stats).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "GET", "/vm/stats") } }
    }
    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reset the machine (PUT /actions Reset).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "PUT", "/actions", ["action_type": "Reset"]) } }
    }
    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the VM (PUT /actions Stop).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "PUT", "/actions", ["action_type": "Stop"]) } }
    }
    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save a paused VM (PUT /snapshot/create), showing progress.",
            discussion: "With --pause the VM is paused first and resumed afterwards.")
        @OptionGroup var socket: Socket
        @Argument(help: "State file to write.") var snapshotPath: String
        @Argument(help: "Memory file to write.") var memFile: String
        @Flag(help: "Only the pages written since the previous snapshot (a Diff snapshot).") var diff = false
        @Flag(help: "Pause the VM for the snapshot and resume it afterwards.") var pause = false
        func run() throws {
            try wrap {
                if pause { try call(socket, "PATCH", "/vm", ["state": "Paused"]) }
                let started = Date()
                let progress = ProgressLine(label: "snapshot")
                let watcher = Thread {
                    _ = try? socket.client.request("GET", "/events", body: nil, timeout: 3600) { bytes in
                        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                            if let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                               o["event"] as? String == "SnapshotProgress", let f = o["fraction"] as? Double {
                                progress.show(f)
                            }
                        }
                        return !progress.finished
                    }
                }
                watcher.start()
                let r = try socket.client.request("PUT", "/snapshot/create",
                                                  json: ["snapshot_path": snapshotPath, "mem_file_path": memFile,
                                                         "snapshot_type": diff ? "Diff" : "Full"])
                progress.finish()
                guard r.status / 100 == 2 else { throw Failure(message: "PUT /snapshot/create: HTTP \(r.status): \(r.faultMessage)") }
                let info = try? socket.client.request("GET", "/vm")
                let vmInfo = info.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] } ?? [:]
                let last = vmInfo["last_snapshot"] as? [String: Any] ?? [:]
                FileHandle.standardError.write(Data(String(format: "matryoshka: %@ snapshot written to %@ (%d pages) in %.3f s\n",
                    diff ? "Diff" : "Full", snapshotPath, last["pages_written"] as? Int ?? 0, Date().timeIntervalSince(started)).utf8))
                if pause { try call(socket, "PATCH", "/vm", ["state": "Resumed"]) }
            }
        }
    }
    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load a snapshot into a process started with only --api-socket (PUT /snapshot/load).")
        @OptionGroup var socket: Socket
        @Argument(help: "State file.") var snapshotPath: String
        @Option(help: "Memory file, when not where the snapshot says.") var memFile: String?
        @Flag(help: "Run the VM once loaded (otherwise it stays paused).") var resume = false
        func run() throws {
            var body: [String: Any] = ["snapshot_path": snapshotPath, "resume_vm": resume]
            if let memFile { body["mem_backend"] = ["backend_type": "File", "backend_path": memFile] }
            try wrap { try call(socket, "PUT", "/snapshot/load", body) }
        }
    }
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Live-migrate the VM (PUT /migrate), showing progress; ends with the migration's figures.",
            discussion: "URL is unix:PATH or tcp:HOST:PORT, where `matryoshka run --incoming URL` waits. Exits 0 when the guest runs at the destination.")
        @OptionGroup var socket: Socket
        @Argument(help: "Destination: unix:PATH or tcp:HOST:PORT.") var url: String
        @Option(help: "The pause the guest may see at switch-over, in ms (default 50).") var downtimeMs: Double = 50
        @Flag(help: "Post-copy: run the guest at the destination at once and fetch memory on demand.") var postcopy = false
        @Option(help: "Bandwidth limit in MiB/s (default: none).") var maxBandwidth: Double = 0
        @Option(help: ArgumentHelp("TLS for a tcp: destination: a directory with ca-cert.pem, client-cert.pem and client-key.pem.", valueName: "dir")) var tlsDir: String?
        @Option(help: "Keep trying to reach a destination that does not listen yet for this long, in ms (default 0: one try).") var connectTimeoutMs: Double = 0
        @Flag(help: "Return once the migration has started (follow it with migrate-status).") var noWait = false
        func run() throws {
            try wrap {
                if noWait {
                    var body: [String: Any] = ["destination_url": url, "downtime_ms": downtimeMs, "mode": postcopy ? "postcopy" : "precopy",
                                               "max_bandwidth_mibps": maxBandwidth, "connect_timeout_ms": connectTimeoutMs]
                    if let tlsDir { body["tls_dir"] = tlsDir }
                    try call(socket, "PUT", "/migrate", body)
                    return
                }
                let progress = ProgressLine(label: "migrate")
                let subscribed = DispatchSemaphore(value: 0)
                let final = Mutex<[String: Any]?>(nil)
                let watcher = Thread {
                    let first = Atomic(true)
                    _ = try? socket.client.request("GET", "/events", body: nil, timeout: 1e9) { bytes in
                        if first.exchange(false, ordering: .relaxed) { subscribed.signal() }
                        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                                  let event = o["event"] as? String, event.hasPrefix("Migration") else { continue }
                            if event == "MigrationProgress" {
                                let total = (o["total_bytes"] as? Double) ?? 1, left = (o["remaining_bytes"] as? Double) ?? 0
                                progress.show(1 - left / max(total, 1))
                            } else {
                                final.withLock { $0 = o }
                                return false
                            }
                        }
                        return true
                    }
                    if first.load(ordering: .relaxed) { subscribed.signal() }
                    progress.finish()
                }
                watcher.start()
                _ = subscribed.wait(timeout: .now() + 5)
                var body: [String: Any] = ["destination_url": url, "downtime_ms": downtimeMs, "mode": postcopy ? "postcopy" : "precopy",
                                           "max_bandwidth_mibps": maxBandwidth, "connect_timeout_ms": connectTimeoutMs]
                if let tlsDir { body["tls_dir"] = tlsDir }
                let r = try socket.client.request("PUT", "/migrate", json: body)
                guard r.status / 100 == 2 else { throw Failure(message: "PUT /migrate: HTTP \(r.status): \(r.faultMessage)") }
                while !progress.finished { usleep(50_000) }
                var result = final.withLock { $0 }
                if result == nil, let r = try? socket.client.request("GET", "/migrate") {
                    result = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
                }
                guard var o = result else { throw Failure(message: "the source's API went away before the migration reported its end") }
                o.removeValue(forKey: "timestamp"); o.removeValue(forKey: "event")
                if let data = try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]) { print(String(decoding: data, as: UTF8.self)) }
                let status = o["status"] as? String ?? "?"
                guard status == "completed" else {
                    throw Failure(message: "migration \(status)\((o["error"] as? String).map { ": " + $0 } ?? "")")
                }
                FileHandle.standardError.write(Data(String(format: "matryoshka: migrated to %@ in %.0f ms, downtime %.1f ms, %.1f MiB sent\n",
                    url, o["total_time_ms"] as? Double ?? 0, o["downtime_ms"] as? Double ?? 0,
                    (o["transferred_bytes"] as? Double ?? 0) / 1048576).utf8))
            }
        }
    }
    struct MigrateStatus: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "migrate-status", abstract: "The current or last migration (GET /migrate).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "GET", "/migrate") } }
    }
    struct MigrateCancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "migrate-cancel", abstract: "Cancel a migration before its switch-over (DELETE /migrate).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "DELETE", "/migrate") } }
    }
    struct HA: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ha", abstract: "Protect the VM with a hot standby (PUT /ha); also re-protects a VM that lost its standby or took over.")
        @OptionGroup var socket: Socket
        @Argument(help: ArgumentHelp("The standby's --listen address: unix:PATH or tcp:HOST:PORT.", valueName: "url"))
        var standby: String
        @Option(help: "Milliseconds between checkpoints (default 25).")
        var checkpointMs: Double?
        @Option(help: "On losing the standby: stop (pause, output held; default) or continue (unprotected).")
        var onLoss: String?
        @Option(help: "Acknowledgement timeout in ms (default 3 intervals + 500 ms).")
        var timeoutMs: Double?
        @Option(help: ArgumentHelp("TLS certificates for a tcp: standby.", valueName: "dir"))
        var tlsDir: String?
        func run() throws {
            var body: [String: Any] = ["standby_url": standby]
            if let c = checkpointMs { body["checkpoint_ms"] = c }
            if let o = onLoss { body["on_loss"] = o }
            if let t = timeoutMs { body["timeout_ms"] = t }
            if let d = tlsDir { body["tls_dir"] = d }
            try wrap { try call(socket, "PUT", "/ha", body) }
        }
    }
    struct HAStatus: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ha-status", abstract: "Role, epoch and checkpoint figures (GET /ha).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "GET", "/ha") } }
    }
    struct HAOff: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ha-off", abstract: "Stand the standby down; the VM runs on unprotected (DELETE /ha).")
        @OptionGroup var socket: Socket
        func run() throws { try wrap { try call(socket, "DELETE", "/ha") } }
    }
    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the VM's events as JSON lines until it exits (GET /events).")
        @OptionGroup var socket: Socket
        func run() throws {
            try wrap {
                let r = try socket.client.request("GET", "/events", body: nil, timeout: 1e9) { bytes in
                    FileHandle.standardOutput.write(Data(bytes))
                    return true
                }
                guard r.status / 100 == 2 else { throw Failure(message: "GET /events: HTTP \(r.status): \(r.faultMessage)") }
            }
        }
    }
}

/// Runs `body`, printing a failure as `matryoshka: message` and exiting 1.
func wrap(_ body: () throws -> Void) throws {
    do { try body() } catch {
        FileHandle.standardError.write(Data("matryoshka: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// A progress bar on stderr (only on a terminal).
final class ProgressLine: Sendable {
    let label: String
    let state = Mutex((done: false, last: -1))
    let tty = isatty(2) != 0
    init(label: String) { self.label = label }
    var finished: Bool { state.withLock { $0.done } }
    func show(_ fraction: Double) {
        let pct = Int(min(max(fraction, 0), 1) * 100)
        let draw = state.withLock { s -> Bool in
            guard !s.done, pct != s.last else { return false }
            s.last = pct
            return true
        }
        guard draw, tty else { return }
        let width = 30, filled = pct * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(pct)%".utf8))
    }
    func finish() {
        let drawn = state.withLock { s -> Bool in s.done = true; return s.last >= 0 }
        if drawn && tty { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
