import Dispatch
import Foundation
import Machine
import Synchronization

/// The process's VM slot, shared by the CLI's main thread and the API server: empty in a process
/// started with only `--api-socket` until `PUT /snapshot/load` fills it, and the source of the
/// `/events` stream.
public final class VMHost: @unchecked Sendable {
    private struct Slot {
        var vm: VirtualMachine?
        var resumeOnLoad = false
        var listeners: [Int: AsyncStream<String>.Continuation] = [:]
        var nextListener = 0
        var loading = false
        /// Event streams whose HTTP responses are still being written.
        var openStreams = 0
        var standbyStatus: (@Sendable () -> HAStatus)?
    }
    private let slot = Mutex(Slot())
    private let loaded = DispatchSemaphore(value: 0)

    public init(vm: VirtualMachine? = nil) {
        if let vm { install(vm, resume: true, signal: false) }
    }

    public var vm: VirtualMachine? { slot.withLock { $0.vm } }

    /// Puts `vm` in the slot and wakes `waitForVM`. `resume`: whether the loader wants it running.
    func install(_ vm: VirtualMachine, resume: Bool, signal: Bool = true) {
        slot.withLock { $0.vm = vm; $0.resumeOnLoad = resume }
        vm.observe { [weak self] e in self?.publish(VMHost.describe(e)) }
        if signal {
            publish(["event": "SnapshotLoaded", "state": resume ? "Running" : "Paused"])
            loaded.signal()
        }
    }

    /// Puts a VM that arrived by other means (live migration, a standby's takeover) in the empty slot.
    public func adopt(_ vm: VirtualMachine, event: String = "MigrationReceived") {
        install(vm, resume: true, signal: false)
        publish(["event": event, "state": vm.state.rawValue])
    }

    /// A standby's figures (`GET /ha` before it takes over).
    public var standbyStatus: (@Sendable () -> HAStatus)? {
        get { slot.withLock { $0.standbyStatus } }
        set { slot.withLock { $0.standbyStatus = newValue } }
    }

    /// Blocks until a VM is loaded through the API; returns it and whether to start it running.
    public func waitForVM() -> (VirtualMachine, resume: Bool) {
        loaded.wait()
        return slot.withLock { ($0.vm!, $0.resumeOnLoad) }
    }

    /// Claims the right to load a VM into the empty slot (409 when full or a load is under way).
    func beginLoad() throws {
        try slot.withLock { s in
            guard s.vm == nil, !s.loading else {
                throw VMError.conflict("a VM is already loaded in this process; /snapshot/load needs a process started with only --api-socket")
            }
            s.loading = true
        }
    }
    func endLoad() { slot.withLock { $0.loading = false } }

    // MARK: Events

    /// Counts an event response being written (`streamEnded` when it is done).
    func streamStarted() { slot.withLock { $0.openStreams += 1 } }
    func streamEnded() { slot.withLock { $0.openStreams -= 1 } }

    /// Waits (at most `timeout` seconds) until every event stream has been written out, so that a
    /// VM's last events (its exit) reach subscribers before the process ends.
    func drainStreams(timeout: Double) {
        let deadline = DispatchTime.now() + timeout
        while slot.withLock({ $0.openStreams > 0 }) && DispatchTime.now() < deadline { usleep(5_000) }
        // Streams still open have no end coming (no VM exited): end them so the server can shut down.
        for l in slot.withLock({ Array($0.listeners.values) }) { l.finish() }
    }

    /// A new subscriber's stream of JSON lines.
    func events() -> AsyncStream<String> {
        AsyncStream { cont in
            let id = slot.withLock { s in
                defer { s.nextListener += 1 }
                s.listeners[s.nextListener] = cont
                return s.nextListener
            }
            cont.onTermination = { [weak self] _ in _ = self?.slot.withLock { $0.listeners.removeValue(forKey: id) } }
        }
    }

    func publish(_ fields: [String: Any]) {
        var f = fields
        f["timestamp"] = Date().timeIntervalSince1970
        guard let data = try? JSONSerialization.data(withJSONObject: f, options: [.sortedKeys]) else { return }
        let line = String(decoding: data, as: UTF8.self) + "\n"
        let ended = ["Exited", "GuestPoweredOff"].contains(fields["event"] as? String ?? "")
        let listeners = slot.withLock { Array($0.listeners.values) }
        for l in listeners {
            l.yield(line)
            if ended { l.finish() }
        }
    }

    static func describe(_ e: VirtualMachine.Event) -> [String: Any] {
        switch e {
        case .stateChanged(let s): return ["event": "StateChanged", "state": s.rawValue]
        case .rebooted: return ["event": "GuestReset"]
        case .exited(let r):
            var o: [String: Any] = ["event": "Exited", "reason": r.description]
            if case .powerOff(let code) = r { o["event"] = "GuestPoweredOff"; o["code"] = code }
            return o
        case .snapshotCreated(let path, let type): return ["event": "SnapshotCreated", "snapshot_path": path, "snapshot_type": type.rawValue]
        case .migration(let s):
            var o = s.dictionary
            o["event"] = s.isFinished ? "Migration" + s.status.capitalized : "MigrationProgress"
            return o
        }
    }
}
