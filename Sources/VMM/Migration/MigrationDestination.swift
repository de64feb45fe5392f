#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Machine
import Platform
import Synchronization

/// What the destination was told to expect (`run --incoming` with machine options or a config
/// file): the incoming machine must match in each field given.
public struct IncomingExpectation: Sendable {
    public var memorySize: UInt64?
    public var harts: Int?
    public var hypervisor: Bool?
    public var diskPaths: [String]?
    public var netCount: Int?
    public init(memorySize: UInt64? = nil, harts: Int? = nil, hypervisor: Bool? = nil, diskPaths: [String]? = nil, netCount: Int? = nil) {
        self.memorySize = memorySize; self.harts = harts; self.hypervisor = hypervisor; self.diskPaths = diskPaths; self.netCount = netCount
    }

    /// Why `config` does not match, or nil.
    func mismatch(_ config: MachineConfig) -> String? {
        if let m = memorySize, m != config.memorySize { return "RAM is \(config.memorySize >> 20) MiB, this destination expects \(m >> 20) MiB" }
        if let h = harts, h != config.harts { return "\(config.harts) harts, this destination expects \(h)" }
        if let h = hypervisor, h != config.hypervisor {
            return "the H extension is \(config.hypervisor ? "on" : "off"), this destination expects it \(h ? "on" : "off")"
        }
        if let d = diskPaths, d != config.disks.map(\.path) {
            return "disks \(config.disks.map(\.path)), this destination expects \(d)"
        }
        if let n = netCount, n != config.net.count { return "\(config.net.count) network interfaces, this destination expects \(n)" }
        return nil
    }
}

extension MigrationChannel {
    /// Listens on `address` (with TLS when `tlsDir` is given), calls `listening` once bound, and
    /// returns the first connection (the listener closes).
    static func acceptOne(on address: MigrationAddress, tlsDir: String?, logger: Logger, listening: () -> Void) throws -> MigrationChannel {
        if let tlsDir {
            let listener = try TLSMigrationListener(address, tls: try MigrationTLS(dir: tlsDir)) { why in logger.warning("\(why)") }
            listening()
            return try listener.accept()
        }
        let listener = try MigrationListener(address)
        listening()
        return try listener.accept()
    }
}

extension MigrationSwitch {
    /// The switch info and state sections at the start of a state record (`MigrationJob.encodeState`).
    static func decode(_ r: inout StateReader, path: String) throws -> (MigrationSwitch, [SnapshotFile.Section]) {
        let info = try JSONDecoder().decode(MigrationSwitch.self, from: Data(try r.blob(max: 1 << 20)))
        return (info, try SnapshotFile.decode(try r.blob(max: SnapshotFile.maxSectionBytes), path: path))
    }
}

extension VirtualMachine {
    /// A VM that goes on from state another process sent (a migration's switch-over, a standby's
    /// takeover): `machine` gets the sections, and the guest's clock goes on from where it stopped
    /// plus the real time since (unless it was paused).
    convenience init(continuing machine: Machine, info: MigrationSwitch, sections: [SnapshotFile.Section]) throws {
        var states: [String: [UInt8]] = [:]
        for s in sections { states[s.name] = s.body }
        _ = try machine.loadState(states)
        var guestTime = info.guestTime
        if !info.paused {
            let elapsed = max(0, realtimeNanos() - info.realtimeNanos)
            guestTime &+= UInt64(elapsed) / (1_000_000_000 / machine.time.frequency)
        }
        machine.time.set(guestTime)
        self.init(restored: machine, guestTime: guestTime)
    }
}

extension VirtualMachine {
    /// `run --incoming`: listens on `address`, receives a migrating VM and returns it ready to run
    /// (paused when it was paused at the source). `listening` is called once the socket is bound.
    /// Throws when the stream fails before the switch-over; nothing of the VM is kept then, and no
    /// disk was opened (they are opened and locked only at switch-over).
    public static func receiveMigration(on addressText: String, expect: IncomingExpectation? = nil, tlsDir: String? = nil,
                                        listening: () -> Void = {}) throws -> (vm: VirtualMachine, paused: Bool) {
        let logger = Logger(label: "matryoshka.incoming")
        let ch = try MigrationChannel.acceptOne(on: try MigrationAddress.parse(addressText), tlsDir: tlsDir, logger: logger, listening: listening)
        let t0 = TimeBase.hostNanos()
        do {
            try ch.receiveHeader()
            let (type, body) = try ch.receive()
            guard type == .hello else { throw VMError.badRequest("the stream does not start with a setup record") }
            let hello: MigrationHello
            do { hello = try JSONDecoder().decode(MigrationHello.self, from: Data(body)) } catch {
                throw VMError.badRequest("unreadable setup record: \(error)")
            }
            let config = hello.config
            if let why = compatibilityProblem(hello, expect: expect) {
                try? ch.send(.refused, message: why)
                throw VMError.badRequest("incompatible migration: \(why)")
            }
            let ram: GuestRAM
            do { ram = try GuestRAM(base: VirtMap.ramBase, size: hello.ramSize) } catch {
                try? ch.send(.refused, message: "\(error)")
                throw VMError.failed("\(error)")
            }
            try ch.send(.ready)
            logger.notice("receiving a \(hello.ramSize >> 20) MiB VM (\(hello.mode))")

            let receiver = PageReceiver(ram: ram)
            var stateRecord: [UInt8]? = nil
            while stateRecord == nil {
                let (type, body) = try ch.receive()
                switch type {
                case .pages: try receiver.applyPages(body, postcopy: false)
                case .zeroRun: try receiver.applyZeroRun(body, postcopy: false)
                case .state: stateRecord = body
                case .abort: throw VMError.failed("the source cancelled the migration")
                default: throw VMError.badRequest("unexpected \(type) record before the switch-over")
                }
            }
            var r = StateReader(stateRecord!)
            let (info, sections) = try MigrationSwitch.decode(&r, path: "migration stream")
            var missing: [Int] = []
            let runCount = try r.count(max: ram.pageCount)
            for _ in 0..<runCount {
                let s = try r.u64(), n = try r.u64()
                guard n > 0, s < UInt64(ram.pageCount), n <= UInt64(ram.pageCount) - s else { throw VMError.badRequest("post-copy page list out of range") }
                missing += Int(s)..<Int(s + n)
            }

            // Switch-over: the disks and the network's host side are taken only now.
            let vm: VirtualMachine
            do {
                vm = try VirtualMachine(continuing: try Machine(config: config, ram: ram), info: info, sections: sections)
            } catch {
                try? ch.send(.refused, message: "\(error)")
                throw VMError.failed("cannot start the incoming VM: \(error)")
            }
            let machine = vm.machine
            vm.migratedIn = true
            if !missing.isEmpty {
                let pager = PostcopyPager(channel: ch, ram: ram, receiver: receiver, vm: vm, pages: missing.count)
                ram.beginPostcopy(pages: missing) { pager.fetch($0) }
                pager.start()
            }
            machine.announceNetwork()
            try ch.send(.running)
            logger.notice("switch-over done \(String(format: "%.0f", ms(since: t0))) ms after the source connected; \(missing.isEmpty ? "all memory is here" : "\(missing.count) pages follow (post-copy)")")
            return (vm, info.paused)
        } catch {
            if let c = error as? ChannelClosed {
                throw VMError.failed("\(c) before the switch-over: the source stopped or was killed; nothing was started here")
            }
            if let e = error as? VMError, case .badRequest = e { try? ch.send(.refused, message: "\(e)") }
            throw error
        }
    }

    static func compatibilityProblem(_ hello: MigrationHello, expect: IncomingExpectation?) -> String? {
        let config = hello.config
        guard hello.format == MigrationChannel.formatVersion else {
            return "stream format \(hello.format); this build reads \(MigrationChannel.formatVersion)"
        }
        guard hello.ramSize == config.memorySize else { return "RAM size and config disagree" }
        let isa = Machine.isaExtensions(for: config)
        guard hello.isa == isa else { return "the source's ISA is \(hello.isa.joined(separator: "_")), this build implements \(isa.joined(separator: "_"))" }
        let sections = Machine.stateSectionNames(for: config)
        guard hello.sections == sections else {
            return "the source's devices (\(hello.sections.joined(separator: ","))) differ from what this build makes of the config (\(sections.joined(separator: ",")))"
        }
        if let why = expect?.mismatch(config) { return why }
        for (i, d) in config.disks.enumerated() {
            var st = stat()
            guard stat(d.path, &st) == 0 else { return "disk \(d.path) is not reachable here (migration needs shared storage at the same path)" }
            if i < hello.diskSizes.count && UInt64(st.st_size) != hello.diskSizes[i] {
                return "disk \(d.path) is \(st.st_size) bytes here but \(hello.diskSizes[i]) at the source: not the same storage"
            }
        }
        return nil
    }
}

/// Writes received pages into RAM.
final class PageReceiver: @unchecked Sendable {
    let ram: GuestRAM
    /// Pages written at least once (pre-copy: a later zero run must clear them).
    private var written: [Bool]
    private(set) var arrivedCount = 0

    init(ram: GuestRAM) {
        self.ram = ram
        written = [Bool](repeating: false, count: ram.pageCount)
    }

    /// A pages record. Post-copy: a page is written only while still missing (a pushed copy and a
    /// requested one may both arrive; the guest may have written the first since).
    /// Calls `each` with every (page, its 4096 bytes) of a pages record, after checking the record.
    static func forEachPage(in body: [UInt8], pageCount: Int, _ each: (Int, UnsafeRawPointer) throws -> Void) throws {
        try body.withUnsafeBytes { b in
            guard b.count >= 4 else { throw VMError.badRequest("pages record too short") }
            let n = Int(UInt32(littleEndian: b.loadUnaligned(as: UInt32.self)))
            guard b.count == 4 + n * PageBatcher.entry else { throw VMError.badRequest("pages record of \(b.count) bytes for \(n) pages") }
            for i in 0..<n {
                let e = b.baseAddress! + 4 + i * PageBatcher.entry
                let page = Int(UInt64(littleEndian: e.loadUnaligned(as: UInt64.self)))
                guard page >= 0 && page < pageCount else { throw VMError.badRequest("page \(page) beyond RAM") }
                try each(page, e + 8)
            }
        }
    }

    /// The pages a zero-run record names, checked against RAM.
    static func zeroRun(in body: [UInt8], pageCount: Int) throws -> Range<Int> {
        var r = StateReader(body)
        let s = try r.u64(), n = try r.u64()
        guard s < UInt64(pageCount), n <= UInt64(pageCount) - s else { throw VMError.badRequest("zero run beyond RAM") }
        return Int(s)..<Int(s + n)
    }

    func applyPages(_ body: [UInt8], postcopy: Bool) throws {
        try PageReceiver.forEachPage(in: body, pageCount: ram.pageCount) { page, data in
            if postcopy {
                guard ram.isMissing(page) else { return }
                (ram.pointer + (page << 12)).copyMemory(from: data, byteCount: 4096)
                ram.arrived(page)
                arrivedCount += 1
            } else {
                (ram.pointer + (page << 12)).copyMemory(from: data, byteCount: 4096)
                written[page] = true
            }
        }
    }

    func applyZeroRun(_ body: [UInt8], postcopy: Bool) throws {
        for page in try PageReceiver.zeroRun(in: body, pageCount: ram.pageCount) {
            if postcopy {
                // RAM here is fresh (zeros) wherever no page arrived.
                guard ram.isMissing(page) else { continue }
                ram.arrived(page)
                arrivedCount += 1
            } else if written[page] {
                (ram.pointer + (page << 12)).initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
                written[page] = false
            }
        }
    }
}

/// Post-copy at the destination: the guest runs while pages arrive. A first touch of a missing page
/// (a TLB fill or a device access) asks the source for it and waits; a thread receives pushed and
/// requested pages. If the connection is lost, the guest cannot go on: its memory is partly at the
/// source. The process then stops with an error rather than run a guest with holes.
final class PostcopyPager: @unchecked Sendable {
    let channel: MigrationChannel
    let ram: GuestRAM
    let receiver: PageReceiver
    unowned let vm: VirtualMachine
    let total: Int
    let logger = Logger(label: "matryoshka.postcopy")
    private let cond = NSCondition()
    private var requested = Set<Int>()
    private var failure: String?
    private(set) var faults = 0

    init(channel: MigrationChannel, ram: GuestRAM, receiver: PageReceiver, vm: VirtualMachine, pages: Int) {
        self.channel = channel; self.ram = ram; self.receiver = receiver; self.vm = vm; total = pages
    }

    func start() {
        let t = Thread { [self] in receive() }
        t.name = "postcopy"
        t.start()
    }

    /// Called by any thread touching a missing page; returns once it is here.
    func fetch(_ page: Int) {
        cond.lock()
        defer { cond.unlock() }
        if ram.isMissing(page) && !requested.contains(page) && failure == nil {
            requested.insert(page)
            faults += 1
            var w = StateWriter()
            w.u64(UInt64(page))
            do { try channel.send(.request, bytes: w.bytes) } catch { failure = "\(error)" }
        }
        while ram.isMissing(page) && failure == nil { cond.wait() }
        if let failure { PostcopyPager.die(failure) }
    }

    private func receive() {
        do {
            while true {
                let (type, body) = try channel.receive()
                cond.lock()
                defer { cond.broadcast(); cond.unlock() }
                switch type {
                case .pages: try receiver.applyPages(body, postcopy: true)
                case .zeroRun: try receiver.applyZeroRun(body, postcopy: true)
                case .allPagesSent:
                    guard receiver.arrivedCount == total else {
                        throw VMError.failed("the source sent \(receiver.arrivedCount) of \(total) pages")
                    }
                    ram.endPostcopy()
                    try channel.send(.allPagesReceived)
                    logger.notice("post-copy complete: \(total) pages, \(faults) fetched on demand")
                    return
                default: throw VMError.badRequest("unexpected \(type) record during post-copy")
                }
            }
        } catch {
            let message = "post-copy: lost the source (\(error)) with \(total - receiver.arrivedCount) of \(total) pages still there; the guest cannot continue without them"
            cond.lock()
            failure = message
            cond.broadcast()
            cond.unlock()
            logger.critical("\(message)")
            vm.stop(.error(message))
            // A hart waiting for a page never reaches a safe point; `fetch` ends the process then.
        }
    }

    /// The guest needs a page that will never come: no state it could continue from exists here.
    static func die(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\nmatryoshka: \(message)\n".utf8))
        exit(1)
    }
}
