#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import Machine
import Platform
import RISCV
import Synchronization

/// A running VM: the board plus its life cycle. One emulation thread runs the machine (the caller
/// of `run`, or the thread `start` creates); every other method may be called from any thread.
/// Requests that change the state (pause, resume, stop, reset) reach the emulation thread at a
/// safe point: between instruction slices, with no hart mid-instruction and no device mid-request.
public final class VirtualMachine: @unchecked Sendable {
    /// Firecracker's state names (`GET /vm`).
    public enum State: String, Sendable {
        case notStarted = "Not started"
        case running = "Running"
        case paused = "Paused"
        case stopped = "Stopped"
    }

    /// What the VM reports to observers.
    public enum Event: Sendable, Equatable {
        case stateChanged(State)
        /// The guest asked for a reset and the machine booted again.
        case rebooted
        /// The emulation thread ended; the reason is final.
        case exited(ExitReason)
        /// A snapshot was written (state file path).
        case snapshotCreated(path: String, type: SnapshotType)
        /// A migration's progress or end.
        case migration(MigrationStatus)
    }

    public let config: MachineConfig
    public let machine: Machine
    /// Reboot on a guest reset (QEMU's default); false ends the VM with `.reset` (QEMU's -no-reboot).
    public var rebootOnReset = true
    let logger = Logger(label: "matryoshka.vm")

    private struct Control {
        var state: State = .notStarted
        var pauseRequested = false
        var stopRequested: ExitReason? = nil
        var resetRequested = false
        var exit: ExitReason? = nil
        var observers: [Int: @Sendable (Event) -> Void] = [:]
        var nextObserver = 0
        /// Work for the emulation thread while it is paused (snapshots): run in order at the safe point.
        var jobs: [() -> Void] = []
    }
    private let control = Mutex(Control())
    /// Signalled by the emulation thread whenever the state changes (pause/stop acknowledgements).
    private let stateChanged = DispatchSemaphore(value: 0)
    private let resumeEvent = HostEvent()
    private var thread: pthread_t?
    /// mtime when the VM paused: guest time stands still while paused.
    private var pausedAt: UInt64 = 0
    /// mtime as the guest sees it (frozen while paused); at a safe point.
    public var guestTime: UInt64 { state == .paused ? pausedAt : machine.time.now() }
    /// The snapshot a Diff snapshot would go on top of.
    var lastSnapshot: SnapshotLink?
    /// What the last snapshot written took (`GET /vm`).
    public internal(set) var lastSnapshotReport: SnapshotReport?
    /// A clone's own disk overlays (qcow2 files over the snapshot's disks), in slot order.
    public internal(set) var cloneDisks: [String] = []
    /// The current or last outgoing migration.
    let migrationSlot = Mutex<MigrationJob?>(nil)
    /// HA: the primary side's job (current or last), the epoch (raised by each takeover) and the
    /// number of the last checkpoint taken (kept across jobs, so a new standby's first acknowledgement
    /// releases output held for a lost one).
    let haSlot = Mutex<HAJob?>(nil)
    let haEpoch = Atomic<UInt64>(1)
    let haSequence = Atomic<UInt64>(0)
    /// Started by a standby's takeover.
    public internal(set) var tookOver = false
    /// Output to let out on taking over (`releaseTakeoverOutput`).
    var takeoverOutput: [(console: [UInt8], frames: [(device: Int, frame: [UInt8])])] = []
    /// Arrived by live migration.
    public internal(set) var migratedIn = false
    /// Restored from a snapshot rather than booted.
    public private(set) var restored = false

    /// Builds the board and loads firmware, kernel, initrd and device tree. Throws `LoadError` with a
    /// message that names the file and the fix.
    public init(config: MachineConfig) throws {
        self.config = config
        machine = try Machine(config: config)
        try machine.boot()
    }

    /// A VM around a machine whose state was loaded from a snapshot (see `restore`), guest time `guestTime`.
    init(restored machine: Machine, guestTime: UInt64) {
        config = machine.config
        self.machine = machine
        pausedAt = guestTime
        restored = true
    }

    // MARK: Observing

    /// The state; a VM asked to pause before its thread started already counts as paused.
    public var state: State { control.withLock { $0.state == .notStarted && $0.pauseRequested ? .paused : $0.state } }

    /// The reason the VM ended, once it has.
    public var exitReason: ExitReason? { control.withLock { $0.exit } }

    /// Calls `handler` (on the emulation thread) for every event from now on; returns a token for `removeObserver`.
    @discardableResult
    public func observe(_ handler: @escaping @Sendable (Event) -> Void) -> Int {
        control.withLock { c in
            let id = c.nextObserver
            c.nextObserver += 1
            c.observers[id] = handler
            return id
        }
    }

    public func removeObserver(_ token: Int) { control.withLock { _ = $0.observers.removeValue(forKey: token) } }

    func emit(_ e: Event) {
        let handlers = control.withLock { Array($0.observers.values) }
        for h in handlers { h(e) }
    }

    private func setState(_ s: State) {
        control.withLock { $0.state = s }
        stateChanged.signal()
        emit(.stateChanged(s))
    }

    // MARK: Requests (any thread)

    /// Asks the VM to pause and waits until it has (at most `timeout` seconds). Returns false when
    /// it is not running.
    @discardableResult
    public func pause(timeout: Double = 5) -> Bool {
        let ok: Bool = control.withLock { c in
            guard c.state == .running || c.state == .notStarted, c.exit == nil else { return false }
            c.pauseRequested = true
            return true
        }
        guard ok else { return false }
        machine.requestInterrupt()
        return waitForState(timeout: timeout) { $0 == .paused || $0 == .stopped } == .paused
    }

    /// Lets a paused VM run again. Returns false when it is not paused.
    @discardableResult
    public func resume() -> Bool {
        let ok: Bool = control.withLock { c in
            if c.pauseRequested && c.state != .paused { c.pauseRequested = false; return true }
            guard c.state == .paused else { return false }
            c.pauseRequested = false
            return true
        }
        if ok { resumeEvent.signal() }
        return ok
    }

    /// Ends the VM at the next safe point (Ctrl-A X, a signal, the API). The first reason given wins.
    public func stop(_ reason: ExitReason = .stopped) {
        control.withLock { c in if c.stopRequested == nil { c.stopRequested = reason } }
        machine.requestInterrupt()
        resumeEvent.signal()
    }

    /// Resets the machine at the next safe point, as a guest reset would (RAM cleared, kernel reloaded).
    public func reset() {
        control.withLock { $0.resetRequested = true }
        machine.requestInterrupt()
        resumeEvent.signal()
    }

    /// Waits until `done(state)` holds or `timeout` seconds pass; returns the last state seen.
    @discardableResult
    public func waitForState(timeout: Double, _ done: (State) -> Bool) -> State {
        let deadline = DispatchTime.now() + timeout
        while true {
            let s = state
            if done(s) { return s }
            if stateChanged.wait(timeout: deadline) == .timedOut { return state }
        }
    }

    /// Runs `body` on the emulation thread while the VM is paused (a safe point: no hart mid-instruction,
    /// no device mid-request) and returns its result. Throws `VMError.conflict` unless paused.
    func whilePaused<T>(_ body: @escaping () throws -> T) throws -> T {
        try onEmulationThread(requirePaused: true, body)
    }

    /// Runs `body` at the next safe point, paused or running (a VM that is not running: at once, here).
    public func atSafePoint<T>(_ body: @escaping () throws -> T) throws -> T {
        try onEmulationThread(requirePaused: false, body)
    }

    private func onEmulationThread<T>(requirePaused: Bool, _ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let verdict: JobVerdict = control.withLock { c in
            let live = c.stopRequested == nil && c.exit == nil
            if requirePaused {
                // A VM created paused whose thread has not started yet takes the job on its first safe point.
                guard c.state == .paused || c.state == .notStarted, c.pauseRequested, live else { return .conflict }
            } else if c.state == .notStarted || !live {
                return c.exit != nil || c.state == .notStarted ? .direct : .conflict
            }
            c.jobs.append {
                box.result = Result { try body() }
                done.signal()
            }
            return .queued
        }
        switch verdict {
        case .conflict:
            throw VMError.conflict("the VM must be paused for this (it is \(state.rawValue.lowercased())); pause it first")
        case .direct:
            return try body()
        case .queued:
            machine.requestInterrupt()
            resumeEvent.signal()
            done.wait()
            return try box.result!.get()
        }
    }

    /// Runs queued safe-point jobs (emulation thread).
    private func runJobs() -> Bool {
        let jobs = control.withLock { c in defer { c.jobs.removeAll() }; return c.jobs }
        for job in jobs { job() }
        return !jobs.isEmpty
    }

    // MARK: Running

    /// Runs the VM on a new thread; `wait` joins it.
    public func start() throws {
        guard let t = startThread({ [self] in _ = self.run() }) else {
            throw LoadError("cannot start the emulation thread: \(String(cString: strerror(errno)))")
        }
        thread = t
    }

    /// Waits for the thread `start` created and returns why the VM ended.
    public func wait() -> ExitReason {
        if let t = thread { pthread_join(t, nil); thread = nil }
        return exitReason ?? .stopped
    }

    /// Runs the VM on the calling thread until it ends; returns why.
    public func run(maxInstructions: UInt64 = .max) -> ExitReason {
        setState(control.withLock { $0.pauseRequested } ? .paused : .running)
        let reason = loop(maxInstructions: maxInstructions)
        control.withLock { $0.exit = reason }
        _ = runJobs()   // queued before the exit was recorded: they still get an answer
        setState(.stopped)
        emit(.exited(reason))
        return reason
    }

    private func loop(maxInstructions: UInt64) -> ExitReason {
        while true {
            // Host requests first: they are all taken at this safe point.
            _ = runJobs()
            let (stopReason, wantReset, wantPause) = control.withLock { c in
                defer { c.resetRequested = false }
                return (c.stopRequested, c.resetRequested, c.pauseRequested)
            }
            if let stopReason { return stopReason }
            if wantReset {
                if let failure = rebootMachine() { return failure }
                continue
            }
            if wantPause {
                pauseHere()
                continue
            }
            let reason = machine.run(maxInstructions: maxInstructions)
            switch reason {
            case .interrupted:
                continue
            case .reset where rebootOnReset:
                logger.info("guest reset: booting again")
                if let failure = rebootMachine() { return failure }
            default:
                return reason
            }
        }
    }

    /// Resets and boots the machine; returns an exit reason only when that fails.
    private func rebootMachine() -> ExitReason? {
        do { try machine.reset() } catch { return .error("reboot failed: \(error)") }
        emit(.rebooted)
        return nil
    }

    /// Parks the emulation thread until resume or stop; guest time does not advance meanwhile.
    private func pauseHere() {
        if !(restored && machine.stats.instructions == 0) { pausedAt = machine.time.now() }
        setState(.paused)
        while true {
            let ran = runJobs()
            let keepWaiting = control.withLock { c in c.pauseRequested && c.stopRequested == nil && !c.resetRequested }
            if !keepWaiting { break }
            if ran { continue }
            resumeEvent.wait(nanoseconds: 100_000_000)
        }
        machine.time.set(pausedAt)
        if control.withLock({ $0.stopRequested == nil }) { setState(.running) }
    }
}

private final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }
private enum JobVerdict { case queued, conflict, direct }
