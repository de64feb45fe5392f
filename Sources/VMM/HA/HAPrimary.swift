#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Devices
import Logging
import Machine
import Platform
import Synchronization

/// `run --standby` / `PUT /ha`: where the hot standby is and how often to checkpoint.
public struct HAOptions: Sendable {
    public enum OnLoss: String, Sendable {
        /// Output stays held and the guest is paused: without acknowledgements nothing may leave
        /// (the standby may have taken over). A new standby (PUT /ha) or DELETE /ha lets it go on.
        case stop
        /// Output is let out and the guest runs on, unprotected (logged).
        case `continue`
    }
    public var standby: String
    public var checkpointMs: Double = 25
    public var onLoss: OnLoss = .stop
    /// How long an acknowledgement may take before the standby counts as lost (default 3 intervals + 500 ms).
    public var timeoutMs: Double?
    public var tlsDir: String?
    public init(standby: String, checkpointMs: Double = 25, onLoss: OnLoss = .stop, timeoutMs: Double? = nil, tlsDir: String? = nil) {
        self.standby = standby; self.checkpointMs = checkpointMs; self.onLoss = onLoss; self.timeoutMs = timeoutMs; self.tlsDir = tlsDir
    }
    var effectiveTimeoutMs: Double { timeoutMs ?? HAOptions.defaultTimeoutMs(checkpointMs: checkpointMs) }
    static func defaultTimeoutMs(checkpointMs: Double) -> Double { 3 * checkpointMs + 500 }
}

/// What `GET /ha` reports.
public struct HAStatus: Sendable {
    /// primary, standby, none.
    public var role = "primary"
    /// syncing, protected, lost (output held, guest paused), unprotected, off, failed.
    public var state = "syncing"
    public var epoch: UInt64 = 1
    public var standby = ""
    public var checkpointMs = 25.0
    public var checkpointsSent: UInt64 = 0
    public var lastAcknowledged: UInt64 = 0
    public var meanPauseMs = 0.0
    public var maxPauseMs = 0.0
    public var p99PauseMs = 0.0
    public var meanBytes = 0.0
    public var maxBytes = 0
    /// Time from a checkpoint's pause to its acknowledgement, last one (ms): how far the standby trails.
    public var standbyLagMs = 0.0
    public var meanLagMs = 0.0
    public var heldOutputBytes = 0
    public var syncMs = 0.0
    public var error: String?

    public var dictionary: [String: Any] {
        var o: [String: Any] = [
            "role": role, "state": state, "epoch": epoch, "standby_url": standby, "checkpoint_ms": checkpointMs,
            "checkpoints_sent": checkpointsSent, "last_acknowledged": lastAcknowledged,
            "mean_pause_ms": meanPauseMs, "max_pause_ms": maxPauseMs, "p99_pause_ms": p99PauseMs,
            "mean_checkpoint_bytes": meanBytes, "max_checkpoint_bytes": maxBytes,
            "standby_lag_ms": standbyLagMs, "mean_lag_ms": meanLagMs, "held_output_bytes": heldOutputBytes, "sync_ms": syncMs,
        ]
        if let e = error { o["error"] = e }
        return o
    }
}

/// One checkpoint as taken at the safe point: copies of the dirty pages, the device state, the disks' writes.
private struct Checkpoint {
    var number: UInt64
    var pages: [Int]
    var data: UnsafeMutableRawPointer
    var state: [UInt8]
    var disks: [[DiskWriteLog.Entry]]
    var pauseNanos: UInt64
    var takenAt: UInt64
    var output: [UInt8]
    var holdsOutput: Bool
}

/// The primary side of a protected VM: seeds the standby (RAM and disks), then every `checkpointMs`
/// pauses the guest at a safe point, copies what changed, lets it run and sends the copy; output of
/// each interval is let out when the standby acknowledges the checkpoint that produced it.
final class HAJob: @unchecked Sendable {
    let vm: VirtualMachine
    let options: HAOptions
    let address: MigrationAddress
    let logger = Logger(label: "matryoshka.ha")
    private let channel: MigrationChannel
    private let status = Mutex(HAStatus())
    private let turnedOff = Atomic<Bool>(false)
    private var pauses: [Double] = []
    private var totalBytes = 0.0, totalLag = 0.0, acknowledged = 0.0
    private(set) var pausedByHA = false
    private var gate: OutputGate!

    /// Fault injection for tests (MATRYOSHKA_HA_DIE_AFTER_ACK=N): the process dies as soon as the first
    /// checkpoint numbered N or later that holds output is acknowledged, before it lets that output
    /// out or tells the standby it did.
    static let dieAfterAcknowledgement: UInt64 = ProcessInfo.processInfo.environment["MATRYOSHKA_HA_DIE_AFTER_ACK"].flatMap { UInt64($0) } ?? 0

    /// Connects to the standby and has it check the machine; throws (400) when it cannot or refuses.
    init(vm: VirtualMachine, options: HAOptions) throws {
        self.vm = vm
        self.options = options
        guard options.checkpointMs >= 1, options.checkpointMs <= 60_000 else { throw VMError.badRequest("'checkpoint_ms' must be between 1 and 60000") }
        if let t = options.timeoutMs, t < options.checkpointMs { throw VMError.badRequest("'timeout_ms' must be at least the checkpoint interval") }
        address = try MigrationAddress.parse(options.standby)
        if let dir = options.tlsDir {
            guard case .tcp = address else { throw VMError.badRequest("'tls_dir' protects tcp: standbys; \(address) is a local socket") }
            channel = try MigrationChannel.connectTLS(address, tls: try MigrationTLS(dir: dir))
        } else {
            do { channel = try MigrationChannel.connect(address) } catch {
                throw VMError.badRequest("\("\(error)".replacingOccurrences(of: "run --incoming", with: "standby --listen"))")
            }
        }
        status.withLock {
            $0.standby = address.description; $0.checkpointMs = options.checkpointMs
            $0.epoch = vm.haEpoch.load(ordering: .relaxed)
        }
        try hello()
    }

    private func hello() throws {
        try channel.sendHeader()
        let m = vm.machine
        let hello = MigrationHello(format: MigrationChannel.formatVersion, config: vm.config, ramSize: m.ram.size,
                                   isa: Machine.isaExtensions(for: vm.config), sections: Machine.stateSectionNames(for: vm.config),
                                   diskSizes: m.diskBackends.map(\.size), mode: "ha",
                                   epoch: vm.haEpoch.load(ordering: .relaxed), checkpointMs: options.checkpointMs)
        try channel.send(.hello, bytes: [UInt8](try JSONEncoder().encode(hello)))
        channel.setReceiveTimeout(seconds: 30)
        let (type, body) = try channel.receive()
        channel.setReceiveTimeout(seconds: 0)
        switch type {
        case .ready: return
        case .refused: throw VMError.badRequest("the standby refused: \(String(decoding: body, as: UTF8.self))")
        default: throw VMError.failed("the standby answered \(type) to the setup")
        }
    }

    var currentStatus: HAStatus {
        var s = status.withLock { $0 }
        s.heldOutputBytes = gate?.heldBytes ?? 0
        s.epoch = vm.haEpoch.load(ordering: .relaxed)
        return s
    }
    /// Guards output and the dirty log: from the start until HA is turned off or continues unprotected.
    var isProtecting: Bool { ["syncing", "protected", "lost"].contains(status.withLock { $0.state }) }

    func start() {
        let t = Thread { [self] in run() }
        t.name = "ha-checkpoint"
        t.start()
    }

    // MARK: Running

    private func run() {
        do {
            // `run --standby` connects before the emulation thread starts.
            _ = vm.waitForState(timeout: 60) { $0 != .notStarted }
            let t0 = TimeBase.hostNanos()
            try seed()
            status.withLock { $0.syncMs = ms(since: t0) }
            logger.notice("hot standby at \(address) has the VM (\(String(format: "%.0f", ms(since: t0))) ms); checkpoints every \(options.checkpointMs) ms")
            var next = TimeBase.hostNanos()
            while !turnedOff.load(ordering: .acquiring) {
                if vm.exitReason != nil { break }
                try checkpointOnce()
                next += UInt64(options.checkpointMs * 1e6)
                var now = TimeBase.hostNanos()
                if next <= now { next = now }
                while next > now && !turnedOff.load(ordering: .acquiring) && vm.exitReason == nil {
                    usleep(UInt32(min(Double(next - now) / 1e3, 100_000)))
                    now = TimeBase.hostNanos()
                }
            }
        } catch {
            if !turnedOff.load(ordering: .acquiring) && vm.exitReason == nil { lost(error) }
        }
    }

    /// Everything the standby needs before the first checkpoint: all of RAM and each disk's contents.
    /// The dirty log and the disks' write logs start first, so what changes meanwhile goes with it.
    private func seed() throws {
        let m = vm.machine, ram = m.ram
        gate = try vm.atSafePoint { [vm] () -> OutputGate in
            vm.lastSnapshot = nil
            m.drainDisks()
            m.startDirtyLog()
            for l in m.diskWriteLogs { l.start() }
            return m.installOutputGate()
        }
        var batch = PageBatcher(channel: channel, ram: ram)
        defer { batch.deallocate() }
        try batch.addAllRAM(resident: vm.residentPages())
        // Disks: read through the device's backend at safe points (no request in flight), in 4 MiB
        // pieces; all-zero 64 KiB blocks are left out (the standby's copy starts as a sparse file).
        let chunk = 4 << 20, block = 64 << 10
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        for (i, backend) in m.diskBackends.enumerated() {
            var offset: UInt64 = 0
            while offset < backend.size {
                let n = Int(min(UInt64(chunk), backend.size - offset))
                try vm.atSafePoint {
                    m.drainDisks()
                    try backend.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: n), at: offset)
                }
                var b = 0
                while b < n {
                    let len = min(block, n - b)
                    if !VirtualMachine.isZero(buffer + b, count: len) {
                        var w = StateWriter()
                        w.u32(UInt32(i)); w.u64(offset + UInt64(b))
                        try w.bytes.withUnsafeBytes { h in
                            try channel.send(.diskData, [h, UnsafeRawBufferPointer(start: buffer + b, count: len)])
                        }
                    }
                    b += len
                }
                offset += UInt64(n)
            }
        }
    }

    /// Takes one checkpoint at a safe point, sends it and waits for the acknowledgement; then lets
    /// the output of its interval out.
    private func checkpointOnce() throws {
        let m = vm.machine, ram = m.ram, gate = self.gate!
        let cp = try vm.atSafePoint { [vm] () -> Checkpoint in
            let t0 = TimeBase.hostNanos()
            try m.quiesce()
            let pages = m.takeDirtyPages()
            let data = UnsafeMutableRawPointer.allocate(byteCount: max(1, pages.count) << 12, alignment: 4096)
            for (i, p) in pages.enumerated() { (data + (i << 12)).copyMemory(from: ram.pointer + (p << 12), byteCount: 4096) }
            let paused = vm.state == .paused
            let info = MigrationSwitch(guestTime: vm.guestTime, realtimeNanos: realtimeNanos(), paused: paused)
            let state = try MigrationJob.encodeState(info: info, sections: m.saveState(guestTime: vm.guestTime), postcopyPages: nil)
            let disks = m.diskWriteLogs.map { $0.take() }
            let number = vm.haSequence.add(1, ordering: .relaxed).newValue
            let out = gate.seal(epoch: number)
            var o = StateWriter()
            o.blob(out.console)
            o.u64(UInt64(out.frames.count))
            for f in out.frames { o.u32(UInt32(f.device)); o.blob(f.frame) }
            return Checkpoint(number: number, pages: pages, data: data, state: state, disks: disks, pauseNanos: TimeBase.hostNanos() - t0,
                              takenAt: t0, output: o.bytes, holdsOutput: !out.console.isEmpty || !out.frames.isEmpty)
        }
        defer { cp.data.deallocate() }
        let before = channel.bytesSent.load(ordering: .relaxed)
        var w = StateWriter()
        w.u64(cp.number)
        try channel.send(.checkpointBegin, bytes: w.bytes)
        try sendPages(cp)
        for (i, entries) in cp.disks.enumerated() {
            for e in entries {
                var h = StateWriter()
                h.u32(UInt32(i))
                switch e {
                case .write(let offset, let bytes):
                    h.u8(0); h.u64(offset); h.u64(UInt64(bytes.count))
                    try h.bytes.withUnsafeBytes { hb in try bytes.withUnsafeBytes { try channel.send(.diskWrites, [hb, $0]) } }
                case .zero(let offset, let length):
                    h.u8(1); h.u64(offset); h.u64(length)
                    try channel.send(.diskWrites, bytes: h.bytes)
                }
            }
        }
        try channel.send(.output, bytes: cp.output)
        try channel.send(.checkpointEnd, bytes: cp.state)
        let bytes = Int(channel.bytesSent.load(ordering: .relaxed) - before)
        status.withLock { $0.checkpointsSent += 1 }
        // The acknowledgement.
        channel.setReceiveTimeout(seconds: options.effectiveTimeoutMs / 1000)
        let (type, body) = try channel.receive()
        var r = StateReader(body)
        guard type == .ack, try r.u64() == cp.number else {
            throw VMError.failed("the standby answered \(type) instead of acknowledging checkpoint \(cp.number)")
        }
        if HAJob.dieAfterAcknowledgement > 0, cp.number >= HAJob.dieAfterAcknowledgement, cp.holdsOutput { _exit(9) }
        let lagMs = Double(TimeBase.hostNanos() - cp.takenAt) / 1e6
        // The standby learns of the release first: if this process dies between the two, the
        // standby takes the output as out (the window is one write(2); the other order would repeat it).
        var rw = StateWriter()
        rw.u64(cp.number)
        try channel.send(.released, bytes: rw.bytes)
        gate.release(through: cp.number)
        m.hostEvent.signal()   // released frames leave from the emulation thread
        if pausedByHA {
            pausedByHA = false
            vm.resume()
            logger.notice("protected again by the standby at \(address): the guest runs on")
        }
        let pauseMs = Double(cp.pauseNanos) / 1e6
        pauses.append(pauseMs)
        if pauses.count > 20000 { pauses.removeFirst(10000) }
        totalBytes += Double(bytes)
        totalLag += lagMs
        acknowledged += 1
        let n = acknowledged
        status.withLock { s in
            s.state = "protected"
            s.lastAcknowledged = cp.number
            s.meanPauseMs = s.meanPauseMs + (pauseMs - s.meanPauseMs) / n
            s.maxPauseMs = max(s.maxPauseMs, pauseMs)
            s.meanBytes = totalBytes / n
            s.maxBytes = max(s.maxBytes, bytes)
            s.standbyLagMs = lagMs
            s.meanLagMs = totalLag / n
            if s.checkpointsSent % 16 == 0 || s.checkpointsSent < 16 {
                let sorted = pauses.sorted()
                s.p99PauseMs = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
            }
        }
    }

    /// The checkpoint's pages (from the copies taken in the pause) as `pages` records, zero pages as runs.
    private func sendPages(_ cp: Checkpoint) throws {
        var batch = PageBatcher(channel: channel, ram: vm.machine.ram)
        defer { batch.deallocate() }
        for (i, p) in cp.pages.enumerated() { try batch.add(p, from: cp.data + (i << 12)) }
        try batch.flush()
    }

    /// The standby is gone (or silent): keep the output in and pause, or go on unprotected.
    private func lost(_ error: Error) {
        channel.shutdown()
        let why = error is ChannelClosed ? "the standby closed the connection" : "\(error)"
        switch options.onLoss {
        case .stop:
            status.withLock { $0.state = "lost"; $0.error = why }
            logger.critical("lost the hot standby (\(why)): the guest is paused and its output held, since the standby may have taken over; attach a new standby (PUT /ha) or turn HA off (DELETE /ha) to go on")
            if vm.state == .running {
                pausedByHA = vm.pause(timeout: 10)
            }
        case .continue:
            status.withLock { $0.state = "unprotected"; $0.error = why }
            stopProtection()
            logger.error("lost the hot standby (\(why)): the VM runs on UNPROTECTED (on_loss=continue)")
        }
    }

    /// Output out, logs off.
    private func stopProtection() {
        gate?.open()
        vm.machine.hostEvent.signal()
        for l in vm.machine.diskWriteLogs { l.stop() }
    }

    /// DELETE /ha, or the VM ended: tells the standby to stand down (not take over) and lets output out.
    func turnOff(reason: String) {
        turnedOff.store(true, ordering: .releasing)
        try? channel.send(.abort, message: reason)
        channel.shutdown()
        stopProtection()
        status.withLock { $0.state = "off" }
        if pausedByHA { pausedByHA = false; vm.resume() }
    }

    /// A lost job's held output and pause pass to the job protecting the VM next.
    func handOver(to next: HAJob) {
        next.pausedByHA = pausedByHA
        pausedByHA = false
    }
}

extension VirtualMachine {
    /// Whether a hot standby job owns the dirty log and output (snapshots and migration wait).
    var haProtected: Bool { haSlot.withLock { $0 }?.isProtecting ?? false }

    /// `PUT /ha` / `run --standby`: connects to the standby (throws when it cannot or refuses) and
    /// starts protecting this VM. A VM whose standby was lost gets the new one (re-protection).
    public func startHA(_ options: HAOptions) throws {
        guard exitReason == nil else { throw VMError.conflict("the VM has ended") }
        if let m = migrationSlot.withLock({ $0 }), !m.status.isFinished { throw VMError.conflict("a migration is under way") }
        let previous = haSlot.withLock { $0 }
        if let p = previous, !p.isFinishedOrLost { throw VMError.conflict("a hot standby already protects this VM (GET /ha); DELETE /ha first") }
        let job = try HAJob(vm: self, options: options)
        if let p = previous, p.currentStatus.state == "lost" { p.handOver(to: job) }
        haSlot.withLock { $0 = job }
        job.start()
        if previous == nil {
            observe { [weak self] e in
                if case .exited(let r) = e, let job = self?.haSlot.withLock({ $0 }) { job.turnOff(reason: "the primary's VM ended (\(r))") }
            }
        }
    }

    /// `GET /ha`.
    public var haStatus: HAStatus {
        if let job = haSlot.withLock({ $0 }) { return job.currentStatus }
        var s = HAStatus()
        s.role = tookOver ? "primary" : "none"
        s.state = tookOver ? "unprotected" : "off"
        s.epoch = haEpoch.load(ordering: .relaxed)
        s.lastAcknowledged = haSequence.load(ordering: .relaxed)
        return s
    }

    /// `DELETE /ha`: the standby stands down; output is let out and the VM runs on unprotected.
    public func stopHA() throws {
        guard let job = haSlot.withLock({ $0 }), job.currentStatus.state != "off" else { throw VMError.conflict("no hot standby protects this VM") }
        job.turnOff(reason: "HA turned off at the primary")
    }
}

extension HAJob {
    var isFinishedOrLost: Bool { ["lost", "off", "unprotected", "failed"].contains(currentStatus.state) }
}
