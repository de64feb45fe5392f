#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Devices
import Backends
import Logging
import Machine
import Platform
import Synchronization

/// `matryoshka standby`: where to listen and the standby's own copy of each of the primary's disks.
public struct StandbyOptions: Sendable {
    public var listen: String
    /// One path per primary disk, in order: written from the primary's contents, then kept in step.
    public var disks: [String]
    /// Silence from the primary that counts as its death (default: 3 checkpoint intervals + 500 ms).
    public var timeoutMs: Double?
    public var tlsDir: String?
    public init(listen: String, disks: [String] = [], timeoutMs: Double? = nil, tlsDir: String? = nil) {
        self.listen = listen; self.disks = disks; self.timeoutMs = timeoutMs; self.tlsDir = tlsDir
    }
}

/// What became of a standby.
public enum StandbyOutcome {
    /// The primary died or went silent: the VM runs here from the last committed checkpoint.
    case tookOver(VirtualMachine, checkpoint: UInt64)
    /// The primary turned HA off or its VM ended: nothing to take over.
    case stoodDown(String)
}

/// The standby's figures for `GET /ha` before it takes over.
public final class StandbyMonitor: @unchecked Sendable {
    private let status = Mutex(HAStatus())
    public init() { status.withLock { $0.role = "standby"; $0.state = "waiting" } }
    public var current: HAStatus { status.withLock { $0 } }
    func update(_ body: (inout HAStatus) -> Void) { status.withLock { body(&$0) } }
}

/// A checkpoint being received: applied only once all of it is here.
private struct StagedCheckpoint {
    var number: UInt64 = 0
    var pages: [Int] = []
    /// The pages' bytes, 4096 each, in the order of `pages`.
    var data: [UInt8] = []
    var zeroRuns: [Range<Int>] = []
    var disks: [(disk: Int, zero: Bool, offset: UInt64, length: UInt64, bytes: ArraySlice<UInt8>)] = []
    var output: [UInt8] = []
}

/// The standby's copy of one disk (a raw file).
private final class DiskCopy {
    let path: String
    let fd: Int32
    let size: UInt64
    init(path: String, size: UInt64, primaryPath: String) throws {
        var mine = stat(), theirs = stat()
        if stat(path, &mine) == 0, stat(primaryPath, &theirs) == 0, mine.st_dev == theirs.st_dev, mine.st_ino == theirs.st_ino {
            throw VMError.badRequest("\(path) is the primary's own disk image; give the standby a copy of its own (--disk)")
        }
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VMError.badRequest("\(path): cannot create the standby's disk copy: \(String(cString: strerror(errno)))") }
        guard ftruncate(fd, off_t(size)) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw VMError.badRequest("\(path): cannot size the disk copy to \(size) bytes: \(why)")
        }
        self.path = path; self.size = size
    }
    deinit { close(fd) }

    func write(_ p: UnsafeRawPointer, count: Int, at offset: UInt64) throws {
        guard offset <= size, UInt64(count) <= size - offset else { throw VMError.badRequest("disk write beyond the end of \(path)") }
        var done = 0
        while done < count {
            let n = pwrite(fd, p + done, count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw VMError.failed("\(path): write failed: \(String(cString: strerror(errno))) (disk full?)") }
            done += n
        }
    }

    func zero(offset: UInt64, length: UInt64) throws {
        guard offset <= size, length <= size - offset else { throw VMError.badRequest("disk write beyond the end of \(path)") }
        if fallocateFn?(fd, 0x02 | 0x01, Int(offset), Int(length)) == 0 { return }   // PUNCH_HOLE | KEEP_SIZE
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var pos = offset
        while pos < offset + length {
            let n = Int(min(UInt64(zeros.count), offset + length - pos))
            try zeros.withUnsafeBytes { try write($0.baseAddress!, count: n, at: pos) }
            pos += UInt64(n)
        }
    }
}

extension VirtualMachine {
    /// `matryoshka standby`: receives a protected VM and its checkpoints, acknowledging each once all
    /// of it is applied, and takes over from the last one when the primary dies or falls silent.
    public static func standby(_ options: StandbyOptions, monitor: StandbyMonitor = StandbyMonitor(),
                               listening: () -> Void = {}) throws -> StandbyOutcome {
        let logger = Logger(label: "matryoshka.standby")
        let address = try MigrationAddress.parse(options.listen)
        monitor.update { $0.standby = address.description }
        let ch = try MigrationChannel.acceptOne(on: address, tlsDir: options.tlsDir, logger: logger, listening: listening)
        try ch.receiveHeader()
        let (type, body) = try ch.receive()
        guard type == .hello, let hello = try? JSONDecoder().decode(MigrationHello.self, from: Data(body)) else {
            throw VMError.badRequest("the stream does not start with a setup record")
        }
        let config = hello.config
        let checkpointMs = hello.checkpointMs ?? 25
        let timeoutMs = options.timeoutMs ?? HAOptions.defaultTimeoutMs(checkpointMs: checkpointMs)
        let epoch = hello.epoch ?? 1
        let ram: GuestRAM
        var copies: [DiskCopy] = []
        do {
            if let why = haCompatibilityProblem(hello, disks: options.disks) { throw VMError.badRequest(why) }
            do { ram = try GuestRAM(base: VirtMap.ramBase, size: hello.ramSize) } catch { throw VMError.failed("\(error)") }
            for (i, d) in config.disks.enumerated() {
                copies.append(try DiskCopy(path: options.disks[i], size: hello.diskSizes[i], primaryPath: d.path))
            }
        } catch {
            try? ch.send(.refused, message: "\(error)")
            throw error
        }
        try ch.send(.ready)
        monitor.update { $0.state = "receiving"; $0.epoch = epoch; $0.checkpointMs = checkpointMs }
        logger.notice("standing by for a \(hello.ramSize >> 20) MiB VM (checkpoints every \(checkpointMs) ms; takeover after \(Int(timeoutMs)) ms of silence)")

        let receiver = PageReceiver(ram: ram)
        var committed: UInt64 = 0
        var committedState: [UInt8]? = nil
        var staged: StagedCheckpoint? = nil
        let t0 = TimeBase.hostNanos()
        var lastApplied = t0
        var why = ""
        var releasedThrough: UInt64 = 0
        /// Output of committed checkpoints the primary has not said it let out, by checkpoint.
        var unreleased: [(UInt64, [UInt8])] = []
        receiving: while true {
            // The seed (before the first checkpoint) may be long; after it, silence means death.
            ch.setReceiveTimeout(seconds: committed == 0 ? max(timeoutMs / 1000, 60) : timeoutMs / 1000)
            let type: MigrationRecord, body: [UInt8]
            do { (type, body) = try ch.receive() } catch {
                why = error is ChannelClosed ? "the primary's connection dropped" : "\(error)"
                break receiving
            }
            do {
                switch type {
                case .pages where staged == nil:
                    guard committed == 0 else { throw VMError.badRequest("pages outside a checkpoint") }
                    try receiver.applyPages(body, postcopy: false)
                case .zeroRun where staged == nil:
                    guard committed == 0 else { throw VMError.badRequest("pages outside a checkpoint") }
                    try receiver.applyZeroRun(body, postcopy: false)
                case .diskData:
                    guard committed == 0, staged == nil else { throw VMError.badRequest("disk seed data after the first checkpoint") }
                    var r = StateReader(body)
                    let disk = Int(try r.u32()), offset = try r.u64()
                    guard disk < copies.count else { throw VMError.badRequest("seed data for disk \(disk)") }
                    try body.withUnsafeBytes { try copies[disk].write($0.baseAddress! + 12, count: body.count - 12, at: offset) }
                case .checkpointBegin:
                    var r = StateReader(body)
                    staged = StagedCheckpoint(number: try r.u64())
                case .pages:
                    try PageReceiver.forEachPage(in: body, pageCount: ram.pageCount) { page, data in
                        staged!.pages.append(page)
                        staged!.data.append(contentsOf: UnsafeRawBufferPointer(start: data, count: 4096))
                    }
                case .zeroRun:
                    staged!.zeroRuns.append(try PageReceiver.zeroRun(in: body, pageCount: ram.pageCount))
                case .diskWrites:
                    var r = StateReader(body)
                    let disk = Int(try r.u32()), kind = try r.u8(), offset = try r.u64(), length = try r.u64()
                    guard disk < copies.count, kind <= 1, kind == 1 || UInt64(body.count - 21) == length else {
                        throw VMError.badRequest("malformed disk write record")
                    }
                    staged!.disks.append((disk, kind == 1, offset, length, body[21...]))
                case .checkpointEnd:
                    guard let cp = staged else { throw VMError.badRequest("checkpoint end without a beginning") }
                    // Complete: apply all of it, then acknowledge.
                    cp.data.withUnsafeBytes { d in
                        for (i, page) in cp.pages.enumerated() {
                            (ram.pointer + (page << 12)).copyMemory(from: d.baseAddress! + (i << 12), byteCount: 4096)
                        }
                    }
                    for run in cp.zeroRuns { (ram.pointer + (run.lowerBound << 12)).initializeMemory(as: UInt8.self, repeating: 0, count: run.count << 12) }
                    for w in cp.disks {
                        if w.zero { try copies[w.disk].zero(offset: w.offset, length: w.length) } else {
                            try w.bytes.withUnsafeBytes { try copies[w.disk].write($0.baseAddress!, count: $0.count, at: w.offset) }
                        }
                    }
                    committed = cp.number
                    committedState = body
                    if !cp.output.isEmpty && cp.number > releasedThrough { unreleased.append((cp.number, cp.output)) }
                    staged = nil
                    var w = StateWriter()
                    w.u64(committed)
                    try? ch.send(.ack, bytes: w.bytes)
                    let now = TimeBase.hostNanos()
                    if lastApplied == t0 { logger.notice("first checkpoint (\(committed)) applied \(String(format: "%.0f", ms(since: t0))) ms after the primary connected: standing by") }
                    lastApplied = now
                    monitor.update { $0.state = "standing by"; $0.lastAcknowledged = committed; $0.checkpointsSent += 1 }
                case .output:
                    guard staged != nil else { throw VMError.badRequest("output outside a checkpoint") }
                    staged!.output = body
                case .released:
                    var r = StateReader(body)
                    releasedThrough = max(releasedThrough, try r.u64())
                    unreleased.removeAll { $0.0 <= releasedThrough }
                case .abort:
                    let message = String(decoding: body, as: UTF8.self)
                    logger.notice("the primary stood the standby down: \(message)")
                    monitor.update { $0.state = "off" }
                    return .stoodDown(message)
                default:
                    throw VMError.badRequest("unexpected \(type) record from the primary")
                }
            } catch {
                why = "bad data from the primary (\(error))"
                ch.shutdown()
                break receiving
            }
        }
        guard let stateRecord = committedState else {
            monitor.update { $0.state = "failed"; $0.error = why }
            throw VMError.failed("\(why) before the first checkpoint was complete: there is nothing to take over")
        }

        // Takeover from checkpoint `committed`, with this side's disk copies.
        ch.shutdown()
        let takeoverStart = TimeBase.hostNanos()
        var r = StateReader(stateRecord)
        let (info, sections) = try MigrationSwitch.decode(&r, path: "checkpoint \(committed)")
        var mine = config
        for i in mine.disks.indices { mine.disks[i] = DiskSpec(path: copies[i].path, format: "raw", readOnly: config.disks[i].readOnly) }
        copies.removeAll()   // closed: the machine opens (and locks) them itself
        // A primary killed on this host lets go of its forwarded ports and tap device only as its
        // process is torn down (tens of ms): retry those for a moment.
        var machine: Machine! = nil
        let busyUntil = TimeBase.hostNanos() + 3_000_000_000
        while machine == nil {
            do { machine = try Machine(config: mine, ram: ram) } catch {
                let text = "\(error)"
                guard text.contains("Address already in use") || text.contains("busy"), TimeBase.hostNanos() < busyUntil else { throw error }
                usleep(10_000)
            }
        }
        let vm = try VirtualMachine(continuing: machine, info: info, sections: sections)
        vm.haEpoch.store(epoch + 1, ordering: .relaxed)
        vm.haSequence.store(committed, ordering: .relaxed)
        vm.tookOver = true
        machine.announceNetwork()
        // What the primary produced up to the checkpoint but may not have let out goes out first.
        var pendingTakeoverOutput: [(console: [UInt8], frames: [(device: Int, frame: [UInt8])])] = []
        for (_, bytes) in unreleased {
            var r = StateReader(bytes)
            let console = try r.blob(max: 64 << 20)
            var frames: [(device: Int, frame: [UInt8])] = []
            for _ in 0..<(try r.count(max: 1 << 20)) { frames.append((Int(try r.u32()), try r.blob(max: 1 << 16))) }
            pendingTakeoverOutput.append((console, frames))
        }
        vm.takeoverOutput = pendingTakeoverOutput
        monitor.update { $0.state = "took over"; $0.epoch = epoch + 1 }
        logger.critical("taking over from checkpoint \(committed) (\(unreleased.count) with output the primary may not have let out) (epoch \(epoch + 1)): \(why); \(String(format: "%.0f", ms(since: lastApplied))) ms after the last checkpoint, ready in \(String(format: "%.1f", ms(since: takeoverStart))) ms")
        return .tookOver(vm, checkpoint: committed)
    }

    static func haCompatibilityProblem(_ hello: MigrationHello, disks: [String]) -> String? {
        let config = hello.config
        guard hello.mode == "ha" else { return "this is a standby; migrate to `matryoshka run --incoming` instead" }
        guard hello.format == MigrationChannel.formatVersion else { return "stream format \(hello.format); this build reads \(MigrationChannel.formatVersion)" }
        guard hello.ramSize == config.memorySize else { return "RAM size and config disagree" }
        let isa = Machine.isaExtensions(for: config)
        guard hello.isa == isa else { return "the primary's ISA is \(hello.isa.joined(separator: "_")), this build implements \(isa.joined(separator: "_"))" }
        guard hello.sections == Machine.stateSectionNames(for: config) else { return "the primary's devices differ from what this build makes of its config" }
        guard disks.count == config.disks.count, hello.diskSizes.count == config.disks.count else {
            return "the primary has \(config.disks.count) disk(s) and the standby was given \(disks.count): give the standby its own copy of each with --disk PATH, in order"
        }
        return nil
    }
}

extension VirtualMachine {
    /// After a takeover, once the console is connected: lets out the output of committed checkpoints
    /// the primary may not have (see `OutputGate.seal`).
    public func releaseTakeoverOutput() {
        guard !takeoverOutput.isEmpty else { return }
        let gate = machine.installOutputGate()
        for o in takeoverOutput { gate.emit(console: o.console, frames: o.frames) }
        takeoverOutput = []
        machine.hostEvent.signal()
    }
}
