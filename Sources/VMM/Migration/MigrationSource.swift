#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Machine
import Platform
import Synchronization

/// `PUT /migrate`: where and how to move the VM.
public struct MigrationOptions: Sendable {
    public var destination: String
    /// The pause the guest may see at switch-over (pre-copy switches when what is left fits in it).
    public var downtimeMs: Double = 50
    public var postcopy = false
    /// 0: as fast as the link goes.
    public var maxBandwidthMiBps: Double = 0
    /// TLS certificates for a tcp: destination (see `MigrationTLS`).
    public var tlsDir: String?
    /// How long to keep trying to reach a destination that is not listening yet (0: one try). A
    /// cluster manager starts the migration before it starts the destination (OCF migrate_to, then
    /// migrate_from).
    public var connectTimeoutMs: Double = 0
    public init(destination: String, downtimeMs: Double = 50, postcopy: Bool = false, maxBandwidthMiBps: Double = 0, tlsDir: String? = nil) {
        self.destination = destination; self.downtimeMs = downtimeMs; self.postcopy = postcopy; self.maxBandwidthMiBps = maxBandwidthMiBps
        self.tlsDir = tlsDir
    }
}

/// What `GET /migrate` reports: the fields of QEMU's `query-migrate`.
public struct MigrationStatus: Sendable, Equatable {
    /// setup, active, postcopy-active, completed, failed, cancelled.
    public var status = "setup"
    public var mode = "precopy"
    public var destination = ""
    public var setupMs = 0.0
    public var totalMs = 0.0
    public var transferredBytes: UInt64 = 0
    public var remainingBytes: UInt64 = 0
    public var totalBytes: UInt64 = 0
    /// Pages the guest dirtied per second in the last iteration.
    public var dirtyPagesRate = 0.0
    public var iterations = 0
    public var expectedDowntimeMs = 0.0
    public var downtimeMs: Double?
    public var throttlePercent = 0
    public var pagesSent = 0
    public var zeroPages = 0
    public var postcopyRequests = 0
    public var bandwidthMiBps = 0.0
    public var error: String?

    public var isFinished: Bool { ["completed", "failed", "cancelled"].contains(status) }

    public var dictionary: [String: Any] {
        var o: [String: Any] = [
            "status": status, "mode": mode, "destination_url": destination, "setup_time_ms": setupMs, "total_time_ms": totalMs,
            "transferred_bytes": transferredBytes, "remaining_bytes": remainingBytes, "total_bytes": totalBytes,
            "dirty_pages_rate": dirtyPagesRate, "iterations": iterations, "expected_downtime_ms": expectedDowntimeMs,
            "throttle_percentage": throttlePercent, "pages_sent": pagesSent, "zero_pages": zeroPages,
            "postcopy_requests": postcopyRequests, "bandwidth_mibps": bandwidthMiBps,
        ]
        if let d = downtimeMs { o["downtime_ms"] = d }
        if let e = error { o["error"] = e }
        return o
    }

    /// The source's one-line summary.
    public var summary: String {
        let mib = Double(transferredBytes) / 1048576
        return String(format: "migrated to %@ (%@): %.1f MiB in %.0f ms, %d iterations, downtime %.1f ms",
                      destination, mode, mib, totalMs, iterations, downtimeMs ?? 0)
    }
}

/// What the destination must be able to run; checked there before any page moves.
struct MigrationHello: Codable {
    var format: UInt32
    var config: MachineConfig
    var ramSize: UInt64
    var isa: [String]
    var sections: [String]
    var diskSizes: [UInt64]
    var mode: String
    /// HA ("ha" mode): the primary's epoch and checkpoint interval.
    var epoch: UInt64? = nil
    var checkpointMs: Double? = nil
}

/// Sent with the state at switch-over.
struct MigrationSwitch: Codable {
    var guestTime: UInt64
    /// CLOCK_REALTIME (ns) when the guest stopped: the destination's clock goes on from there, so
    /// the guest's time stays in step with the world (as KVM's clock does across a migration).
    var realtimeNanos: Int64
    /// The VM was paused before the migration and stays paused.
    var paused: Bool
}

func realtimeNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Pages in batches of up to 64 per record, zero pages as runs.
struct PageBatcher {
    static let perRecord = 64
    static let entry = 8 + 4096
    let channel: MigrationChannel
    let ram: GuestRAM
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4 + perRecord * entry, alignment: 16)
    private var count = 0
    private var zeroStart = -1, zeroCount = 0
    private(set) var dataPages = 0, zeroPages = 0

    init(channel: MigrationChannel, ram: GuestRAM) { self.channel = channel; self.ram = ram }
    func deallocate() { buffer.deallocate() }

    /// Adds a page as it is in RAM now, or as `src` holds it (a copy taken earlier).
    mutating func add(_ page: Int, from src: UnsafeRawPointer? = nil) throws {
        let src = src ?? UnsafeRawPointer(ram.pointer + (page << 12))
        if VirtualMachine.isZeroPage(src) { try addZero(page, 1); return }
        if count == PageBatcher.perRecord { try flushData() }
        let e = buffer + 4 + count * PageBatcher.entry
        e.storeBytes(of: UInt64(page).littleEndian, as: UInt64.self)
        (e + 8).copyMemory(from: src, byteCount: 4096)
        count += 1
        dataPages += 1
    }

    /// Adds a run of pages known to hold zeros.
    mutating func addZero(_ page: Int, _ n: Int) throws {
        if zeroStart >= 0 && zeroStart + zeroCount == page { zeroCount += n } else {
            try flushZero()
            zeroStart = page; zeroCount = n
        }
        zeroPages += n
    }

    mutating func flush() throws { try flushData(); try flushZero() }

    /// All of RAM, then a flush. Pages the host never materialized (`resident` false) are zero: runs,
    /// not pages. `every256` is called after each 256 pages sent (progress, pacing, cancelling).
    mutating func addAllRAM(resident: [Bool], every256: (Int, PageBatcher) throws -> Void = { _, _ in }) throws {
        var page = 0
        while page < ram.pageCount {
            if !resident[page] {
                var n = 1
                while page + n < ram.pageCount && !resident[page + n] { n += 1 }
                try addZero(page, n)
                page += n
                continue
            }
            try add(page)
            page += 1
            if page & 255 == 0 { try every256(page, self) }
        }
        try flush()
    }

    private mutating func flushData() throws {
        guard count > 0 else { return }
        buffer.storeBytes(of: UInt32(count).littleEndian, as: UInt32.self)
        try channel.send(.pages, [UnsafeRawBufferPointer(start: buffer, count: 4 + count * PageBatcher.entry)])
        count = 0
    }
    private mutating func flushZero() throws {
        guard zeroStart >= 0 else { return }
        var w = StateWriter()
        w.u64(UInt64(zeroStart)); w.u64(UInt64(zeroCount))
        try channel.send(.zeroRun, bytes: w.bytes)
        zeroStart = -1; zeroCount = 0
    }
}

/// One outgoing migration (source side), on a thread of its own while the guest runs.
final class MigrationJob: @unchecked Sendable {
    let vm: VirtualMachine
    let options: MigrationOptions
    let address: MigrationAddress
    let tls: MigrationTLS?
    let logger = Logger(label: "matryoshka.migrate")
    private let state = Mutex(MigrationStatus())
    private let cancelRequested = Atomic<Bool>(false)
    /// Set once the destination may be running the guest: from then on nothing can be undone.
    private let pastSwitchOver = Atomic<Bool>(false)
    private let finishedFlag = Atomic<Bool>(false)
    private let throttle = Atomic<Int>(0)
    private let channelBox = Mutex<MigrationChannel?>(nil)
    private let started = TimeBase.hostNanos()
    private var lastPublished: UInt64 = 0

    init(vm: VirtualMachine, options: MigrationOptions) throws {
        self.vm = vm
        self.options = options
        address = try MigrationAddress.parse(options.destination)
        if let dir = options.tlsDir {
            guard case .tcp = address else { throw VMError.badRequest("'tls_dir' protects tcp: destinations; \(address) is a local socket") }
            tls = try MigrationTLS(dir: dir)
            _ = try tls!.clientContext()   // a bad directory is the request's fault (400), found now
        } else {
            tls = nil
        }
        guard options.downtimeMs > 0 else { throw VMError.badRequest("'downtime_ms' must be positive") }
        guard options.maxBandwidthMiBps >= 0 else { throw VMError.badRequest("'max_bandwidth_mibps' must not be negative") }
        guard options.connectTimeoutMs >= 0, options.connectTimeoutMs <= 3_600_000 else { throw VMError.badRequest("'connect_timeout_ms' must be between 0 and 3600000") }
        state.withLock {
            $0.mode = options.postcopy ? "postcopy" : "precopy"
            $0.destination = address.description
            $0.totalBytes = vm.machine.ram.size
            $0.remainingBytes = vm.machine.ram.size
        }
    }

    var status: MigrationStatus {
        state.withLock { s in
            var c = s
            if !c.isFinished { c.totalMs = ms(since: started) }
            c.throttlePercent = throttle.load(ordering: .relaxed)
            return c
        }
    }

    func start() {
        let t = Thread { [self] in run() }
        t.name = "migration"
        t.start()
        let th = Thread { [self] in throttleLoop() }
        th.name = "migration-throttle"
        th.start()
    }

    /// Cancels a migration that has not switched over (409 after).
    func cancel() throws {
        guard !pastSwitchOver.load(ordering: .acquiring) else {
            throw VMError.conflict("the migration is past its switch-over; it can no longer be cancelled")
        }
        guard !finishedFlag.load(ordering: .acquiring) else { throw VMError.conflict("the migration has already ended") }
        cancelRequested.store(true, ordering: .releasing)
        channelBox.withLock { $0?.shutdown() }
    }

    private func checkCancelled() throws {
        if cancelRequested.load(ordering: .acquiring) { throw MigrationCancelled() }
    }

    private func update(_ body: (inout MigrationStatus) -> Void) {
        let s: MigrationStatus? = state.withLock { s in
            body(&s)
            if let ch = channelBox.withLock({ $0 }) { s.transferredBytes = ch.bytesSent.load(ordering: .relaxed) }
            let now = TimeBase.hostNanos()
            guard now - lastPublished > 200_000_000 else { return nil }
            lastPublished = now
            var c = s
            c.totalMs = ms(since: started)
            c.throttlePercent = throttle.load(ordering: .relaxed)
            return c
        }
        if let s { vm.emit(.migration(s)) }
    }

    // MARK: The migration

    private func run() {
        var channel: MigrationChannel?
        do {
            let ch = try connectWithRetry()
            channel = ch
            channelBox.withLock { $0 = ch }
            try checkCancelled()
            try setup(ch)
            update { $0.setupMs = ms(since: started); $0.status = "active" }
            if options.postcopy { try postcopy(ch) } else { try precopy(ch) }
        } catch {
            fail(error, channel: channel)
        }
        finishedFlag.store(true, ordering: .releasing)
        throttle.store(0, ordering: .relaxed)
    }

    private func connectWithRetry() throws -> MigrationChannel {
        let deadline = started + UInt64(options.connectTimeoutMs * 1e6)
        while true {
            do { return try tls.map { try MigrationChannel.connectTLS(address, tls: $0) } ?? MigrationChannel.connect(address) } catch {
                guard TimeBase.hostNanos() < deadline else { throw error }
                try checkCancelled()
                usleep(100_000)
            }
        }
    }

    private func setup(_ ch: MigrationChannel) throws {
        try ch.sendHeader()
        let m = vm.machine
        let hello = MigrationHello(format: MigrationChannel.formatVersion, config: vm.config, ramSize: m.ram.size,
                                   isa: Machine.isaExtensions(for: vm.config), sections: Machine.stateSectionNames(for: vm.config),
                                   diskSizes: try vm.config.disks.map { try DiskIdentity.size(of: $0.path) },
                                   mode: options.postcopy ? "postcopy" : "precopy")
        try ch.send(.hello, bytes: [UInt8](try JSONEncoder().encode(hello)))
        ch.setReceiveTimeout(seconds: 30)
        let (type, body) = try ch.receive()
        ch.setReceiveTimeout(seconds: 0)
        switch type {
        case .ready: return
        case .refused: throw VMError.badRequest("the destination refused the migration: \(String(decoding: body, as: UTF8.self))")
        default: throw VMError.failed("the destination answered \(type) to the setup")
        }
    }

    private func precopy(_ ch: MigrationChannel) throws {
        let m = vm.machine, ram = m.ram
        // A Diff snapshot after this needs the pages written since the last snapshot, and the
        // migration takes the dirty log over: it starts a new chain (Full first).
        try vm.atSafePoint { [vm] in vm.lastSnapshot = nil; m.startDirtyLog() }
        var batch = PageBatcher(channel: ch, ram: ram)
        defer { batch.deallocate() }

        // Iteration 0: all of RAM. Pages the host never materialized are zero: runs, not pages.
        let t0 = TimeBase.hostNanos()
        try batch.addAllRAM(resident: vm.residentPages()) { page, batch in
            try checkCancelled()
            try pace(ch)
            update {
                $0.remainingBytes = UInt64(ram.pageCount - page) << 12
                $0.pagesSent = batch.dataPages; $0.zeroPages = batch.zeroPages
            }
        }
        var bandwidth = measuredBandwidth(bytes: ch.bytesSent.load(ordering: .relaxed), since: t0)
        var iterations = 1
        var lastTake = TimeBase.hostNanos()
        var pending: [Int] = []
        var lastSent = UInt64(batch.dataPages) << 12
        var atMaxThrottle = 0
        while true {
            try checkCancelled()
            let dirty = try vm.atSafePoint { m.takeDirtyPages() }
            let now = TimeBase.hostNanos()
            let rate = Double(dirty.count) / max(Double(now - lastTake) / 1e9, 1e-6)
            lastTake = now
            let dirtyBytes = UInt64(dirty.count) << 12
            let expectedMs = Double(dirtyBytes) / bandwidth * 1000
            update {
                $0.iterations = iterations; $0.dirtyPagesRate = rate; $0.remainingBytes = dirtyBytes
                $0.expectedDowntimeMs = expectedMs; $0.bandwidthMiBps = bandwidth / 1048576
            }
            if expectedMs <= options.downtimeMs || atMaxThrottle >= 5 {
                pending = dirty
                break
            }
            // Auto-converge (QEMU's cpu-throttle): the guest wrote more than half of what the last
            // iteration sent, so it outruns the link; take a bigger share of its time each time.
            if iterations >= 2 && dirtyBytes * 2 > lastSent {
                let t = throttle.load(ordering: .relaxed)
                let next = t == 0 ? 20 : min(99, t + 10)
                throttle.store(next, ordering: .relaxed)
                if next == 99 { atMaxThrottle += 1 }
                logger.notice("auto-converge: throttling the guest to \(100 - next)% (it dirties \(Int(rate * 4096 / 1048576)) MiB/s)")
            }
            let ti = TimeBase.hostNanos(), before = ch.bytesSent.load(ordering: .relaxed)
            for (i, p) in dirty.enumerated() {
                try batch.add(p)
                if i & 255 == 255 { try checkCancelled(); try pace(ch) }
            }
            try batch.flush()
            let sent = ch.bytesSent.load(ordering: .relaxed) - before
            lastSent = sent
            if sent >= 1 << 20 { bandwidth = 0.5 * bandwidth + 0.5 * measuredBandwidth(bytes: sent, since: ti) }
            iterations += 1
            update { $0.pagesSent = batch.dataPages; $0.zeroPages = batch.zeroPages; $0.iterations = iterations }
        }
        throttle.store(0, ordering: .relaxed)
        try switchOver(ch, batch: &batch, pending: pending, iterations: iterations)
    }

    /// Bytes per second, with a floor so that a tiny first measurement does not stall the estimate.
    private func measuredBandwidth(bytes: UInt64, since t: UInt64) -> Double {
        let secs = max(Double(TimeBase.hostNanos() - t) / 1e9, 1e-4)
        return max(Double(bytes) / secs, 16 * 1048576)
    }

    /// Sleeps as needed to keep under max_bandwidth_mibps.
    private func pace(_ ch: MigrationChannel) throws {
        guard options.maxBandwidthMiBps > 0 else { return }
        let sent = Double(ch.bytesSent.load(ordering: .relaxed))
        let due = sent / (options.maxBandwidthMiBps * 1048576)
        let elapsed = Double(TimeBase.hostNanos() - started) / 1e9
        if due > elapsed { usleep(UInt32(min((due - elapsed) * 1e6, 1e6))) }
    }

    /// Pauses the guest, sends what is left and the device state, and waits for the destination to
    /// run it. Any failure before the destination confirms gives the VM back to the source.
    private func switchOver(_ ch: MigrationChannel, batch: inout PageBatcher, pending: [Int], iterations: Int) throws {
        let m = vm.machine
        let downStart = TimeBase.hostNanos()
        let wasPaused = vm.state == .paused
        if !wasPaused { guard vm.pause(timeout: 10) else { throw VMError.failed("the VM did not pause for the switch-over") } }
        var detached = false
        do {
            try checkCancelled()
            let (stateBytes, dirty) = try vm.whilePaused { [vm] () -> ([UInt8], [Int]) in
                try m.quiesce()
                let dirty = m.takeDirtyPages()
                let info = MigrationSwitch(guestTime: vm.guestTime, realtimeNanos: realtimeNanos(), paused: wasPaused)
                let bytes = try MigrationJob.encodeState(info: info, sections: m.saveState(guestTime: vm.guestTime), postcopyPages: nil)
                m.detachHost()
                return (bytes, dirty)
            }
            detached = true
            for p in Set(pending).union(dirty).sorted() { try batch.add(p) }
            try batch.flush()
            try handOver(ch, state: stateBytes)
        } catch {
            pastSwitchOver.store(false, ordering: .releasing)
            try giveBack(detached: detached, resume: !wasPaused, error: error)
        }
        complete(downtimeMs: ms(since: downStart), pages: batch.dataPages, zeroPages: batch.zeroPages, iterations: iterations)
    }

    /// Sends the state record and waits for the destination to run the guest. From the send on, the
    /// migration can no longer be cancelled.
    private func handOver(_ ch: MigrationChannel, state: [UInt8]) throws {
        try ch.send(.state, bytes: state)
        pastSwitchOver.store(true, ordering: .releasing)
        ch.setReceiveTimeout(seconds: 60)
        defer { ch.setReceiveTimeout(seconds: 0) }
        let (type, body) = try ch.receive()
        guard type == .running else {
            throw VMError.failed(type == .refused ? "the destination could not start the VM: \(String(decoding: body, as: UTF8.self))"
                                                  : "the destination answered \(type) at switch-over")
        }
    }

    /// After a failed switch-over: takes the disks and network back and lets the guest run again.
    /// Rethrows the original error (with what became of the VM).
    private func giveBack(detached: Bool, resume: Bool, error: Error) throws -> Never {
        let m = vm.machine
        if detached {
            do { try vm.whilePaused { try m.reattachHost() } } catch let e {
                throw VMError.failed("\(describe(error)); the VM stays paused: \(e)")
            }
        }
        if resume { vm.resume() }
        throw error
    }

    private func complete(downtimeMs: Double, pages: Int, zeroPages: Int, iterations: Int) {
        let s: MigrationStatus = state.withLock { s in
            s.status = "completed"
            s.downtimeMs = downtimeMs
            s.totalMs = ms(since: started)
            s.remainingBytes = 0
            s.iterations = iterations
            s.pagesSent = pages; s.zeroPages = zeroPages
            if let ch = channelBox.withLock({ $0 }) { s.transferredBytes = ch.bytesSent.load(ordering: .relaxed) }
            return s
        }
        logger.info("\(s.summary)")
        vm.emit(.migration(s))
        vm.stop(.migrated(s.summary))
    }

    private func fail(_ error: Error, channel: MigrationChannel?) {
        let cancelled = error is MigrationCancelled || cancelRequested.load(ordering: .acquiring)
        var message = describe(error)
        // The destination may have said why before it closed the connection.
        if !cancelled, let ch = channel, !(error is VMError && "\(error)".contains("refused")) {
            ch.setReceiveTimeout(seconds: 0.5)
            if let (type, body) = try? ch.receive(), type == .refused {
                message = "the destination refused the migration: \(String(decoding: body, as: UTF8.self))"
            }
        }
        if cancelled, let ch = channel { try? ch.send(.abort, message: "cancelled") }
        channel?.shutdown()
        let s: MigrationStatus = state.withLock { s in
            s.status = cancelled ? "cancelled" : "failed"
            s.error = cancelled ? nil : message
            s.totalMs = ms(since: started)
            return s
        }
        if cancelled { logger.notice("migration cancelled; the VM carries on here") } else {
            logger.error("migration failed: \(message)")
        }
        vm.emit(.migration(s))
    }

    private func describe(_ error: Error) -> String {
        if let c = error as? ChannelClosed { return "\(c) (the destination went away)" }
        return "\(error)"
    }

    /// While throttled: takes `throttle`% of every 10 ms from the guest, at safe points.
    private func throttleLoop() {
        while !finishedFlag.load(ordering: .acquiring) {
            let p = throttle.load(ordering: .relaxed)
            if p == 0 { usleep(10_000); continue }
            _ = try? vm.atSafePoint { usleep(UInt32(p) * 100) }
            usleep(UInt32(100 - p) * 100)
        }
    }

    // MARK: Post-copy

    private func postcopy(_ ch: MigrationChannel) throws {
        let m = vm.machine, ram = m.ram
        let downStart = TimeBase.hostNanos()
        let wasPaused = vm.state == .paused
        if !wasPaused { guard vm.pause(timeout: 10) else { throw VMError.failed("the VM did not pause for the switch-over") } }
        let resident = vm.residentPages()
        let pages = (0..<ram.pageCount).filter { resident[$0] }
        var detached = false
        do {
            let stateBytes = try vm.whilePaused { [vm] () -> [UInt8] in
                vm.lastSnapshot = nil
                try m.quiesce()
                let info = MigrationSwitch(guestTime: vm.guestTime, realtimeNanos: realtimeNanos(), paused: wasPaused)
                let bytes = try MigrationJob.encodeState(info: info, sections: m.saveState(guestTime: vm.guestTime), postcopyPages: pages)
                m.detachHost()
                return bytes
            }
            detached = true
            try handOver(ch, state: stateBytes)
        } catch {
            pastSwitchOver.store(false, ordering: .releasing)
            try giveBack(detached: detached, resume: !wasPaused, error: error)
        }
        let downtime = ms(since: downStart)
        update { $0.status = "postcopy-active"; $0.downtimeMs = downtime; $0.remainingBytes = UInt64(pages.count) << 12 }
        logger.notice("post-copy: the guest runs at the destination; pushing \(pages.count) pages")

        // The guest runs there now: from here a failure loses it (documented; the source cannot resume).
        do {
            let sent = Mutex([Bool](repeating: false, count: ram.pageCount))
            let requests = Atomic<Int>(0)
            let received = DispatchSemaphore(value: 0)
            let readerError = Mutex<Error?>(nil)
            let reader = Thread {
                var single = PageBatcher(channel: ch, ram: ram)
                defer { single.deallocate() }
                do {
                    while true {
                        let (type, body) = try ch.receive()
                        switch type {
                        case .request:
                            var r = StateReader(body)
                            let p = Int(try r.u64())
                            guard p < ram.pageCount else { throw VMError.badRequest("destination asked for page \(p), beyond RAM") }
                            requests.add(1, ordering: .relaxed)
                            sent.withLock { $0[p] = true }
                            try single.add(p)
                            try single.flush()
                        case .allPagesReceived:
                            received.signal()
                            return
                        default:
                            throw VMError.failed("unexpected \(type) from the destination during post-copy")
                        }
                    }
                } catch {
                    readerError.withLock { $0 = error }
                    received.signal()
                }
            }
            reader.start()
            var batch = PageBatcher(channel: ch, ram: ram)
            defer { batch.deallocate() }
            for (i, p) in pages.enumerated() {
                if readerError.withLock({ $0 }) != nil { break }
                if sent.withLock({ $0[p] }) { continue }
                try batch.add(p)
                if i & 255 == 255 {
                    try batch.flush()
                    try pace(ch)
                    update {
                        $0.remainingBytes = UInt64(pages.count - i) << 12; $0.postcopyRequests = requests.load(ordering: .relaxed)
                        $0.pagesSent = batch.dataPages; $0.zeroPages = batch.zeroPages
                    }
                }
            }
            try batch.flush()
            try ch.send(.allPagesSent)
            received.wait()
            if let e = readerError.withLock({ $0 }) { throw e }
            update { $0.postcopyRequests = requests.load(ordering: .relaxed); $0.pagesSent = batch.dataPages; $0.zeroPages = batch.zeroPages }
            complete(downtimeMs: downtime, pages: batch.dataPages, zeroPages: batch.zeroPages, iterations: 1)
        } catch {
            let message = "post-copy failed after the switch-over: \(describe(error)); the guest ran on at the destination and its memory is split between the two, so neither can continue"
            state.withLock { $0.status = "failed"; $0.error = message; $0.totalMs = ms(since: started) }
            logger.critical("\(message)")
            vm.emit(.migration(status))
            vm.stop(.error(message))
        }
    }

    /// The state record: JSON switch info, the state sections (snapshot encoding), and for post-copy
    /// the pages the destination must fetch, as runs.
    static func encodeState(info: MigrationSwitch, sections: [(name: String, bytes: [UInt8])], postcopyPages: [Int]?) throws -> [UInt8] {
        var w = StateWriter()
        w.blob([UInt8](try JSONEncoder().encode(info)))
        w.blob(SnapshotFile.encode(sections.map { .init(name: $0.name, version: 1, body: $0.bytes) }))
        let runs = VirtualMachine.runs(of: postcopyPages ?? [])
        w.u64(UInt64(runs.count))
        for (s, n) in runs { w.u64(UInt64(s)); w.u64(UInt64(n)) }
        return w.bytes
    }
}

struct MigrationCancelled: Error, CustomStringConvertible { var description: String { "cancelled" } }

func ms(since t: UInt64) -> Double { Double(TimeBase.hostNanos() - t) / 1e6 }

extension VirtualMachine {
    /// Starts moving this VM to `options.destination` and returns at once (`PUT /migrate`).
    public func startMigration(_ options: MigrationOptions) throws {
        guard state == .running || state == .paused else {
            throw VMError.conflict("the VM is \(state.rawValue.lowercased()); only a running or paused VM can migrate")
        }
        guard !haProtected else { throw VMError.conflict("a hot standby protects this VM; turn HA off (DELETE /ha) before migrating it") }
        let job = try MigrationJob(vm: self, options: options)
        try migrationSlot.withLock { slot in
            if let j = slot, !j.status.isFinished { throw VMError.conflict("a migration is already under way") }
            slot = job
        }
        job.start()
    }

    /// The current or last migration (`GET /migrate`); nil when there was none.
    public var migrationStatus: MigrationStatus? { migrationSlot.withLock { $0 }?.status }

    /// `DELETE /migrate`.
    public func cancelMigration() throws {
        guard let job = migrationSlot.withLock({ $0 }) else { throw VMError.conflict("no migration is under way") }
        try job.cancel()
    }
}
