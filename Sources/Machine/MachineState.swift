#if canImport(Glibc)
import Glibc
#endif
import Platform
import RISCV
import Devices

/// A disk's identity in a snapshot: restoring against a disk that changed since would show the
/// guest a filesystem that does not match its page cache, so it is refused.
public struct DiskIdentity: Codable, Equatable, Sendable {
    public var path: String
    public var size: UInt64
    /// Modification time (ns since the epoch) and a CRC-64 of sampled blocks of the file.
    public var mtimeNanos: Int64
    public var fingerprint: UInt64

    /// The size of the disk at `path` now (what a migration's destination compares), without the
    /// fingerprint's reads.
    public static func size(of path: String) throws -> UInt64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw LoadError("\(path): cannot stat disk: \(String(cString: strerror(errno)))") }
        return UInt64(st.st_size)
    }

    /// Reads the identity of the file at `path` now.
    public static func of(path: String) throws -> DiskIdentity {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw LoadError("\(path): cannot open disk: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LoadError("\(path): cannot stat disk") }
        let size = UInt64(st.st_size)
        // 64 KiB at the start, the end and 30 places between: cheap at any size, and any rewrite of
        // the image's header or metadata (qcow2 tables live at the start) shows up.
        var crc: UInt64 = 0
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        var offsets: [UInt64] = [0]
        if size > UInt64(buf.count) {
            for i in 1...31 { offsets.append((size - UInt64(buf.count)) / 31 * UInt64(i)) }
        }
        for o in offsets {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(o)) }
            guard n >= 0 else { throw LoadError("\(path): read error while fingerprinting the disk") }
            crc = buf.withUnsafeBytes { CRC64.update(crc, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        return DiskIdentity(path: path, size: size, mtimeNanos: mtime, fingerprint: crc)
    }
}

extension Machine {
    /// Brings the devices to a point where their whole state is in memory: requests in flight on
    /// I/O threads finish and are published to the guest's used rings (so none is lost or repeated
    /// by a restore), and disk images are flushed to the host file. Call at a safe point.
    public func quiesce() throws {
        for v in virtio {
            if let b = v.device as? VirtioBlock { b.drain() }
            v.service()
        }
        for v in virtio {
            if let b = v.device as? VirtioBlock {
                do { try b.backend.flush() } catch { throw LoadError("cannot flush disk before the snapshot: \(error)") }
            }
        }
        flushConsole()
    }

    /// The identities of the machine's disks, in slot order (after `quiesce`).
    public func diskIdentities() throws -> [DiskIdentity] {
        try config.disks.map { try DiskIdentity.of(path: $0.path) }
    }

    /// Every component with state of its own, by section name, in save and load order (the PLIC before
    /// the devices that drive its lines).
    var statefulComponents: [(name: String, component: Stateful)] {
        var out: [(name: String, component: Stateful)] = harts.map { ("hart.\($0.id)", $0) }
        // AIA: each hart's interrupt files and AIA CSRs, and the APLIC (before the devices driving it).
        for h in harts { if let a = h.aia { out.append(("aia.\(h.id)", a)) } }
        if let aplic { out.append(("aplic", aplic)) }
        let devices: [(name: String, component: Stateful)] =
            [("clint", clint), ("plic", plic), ("uart", uart), ("rtc", rtc), ("test", test), ("vmgenid", vmgenid)]
        out += devices
        for (i, v) in virtio.enumerated() { out.append(("virtio.\(i)", v)) }
        return out
    }

    /// The state sections a machine built from `config` has (`saveState`'s names), without building it:
    /// a migration's destination checks them before any page moves.
    public static func stateSectionNames(for config: MachineConfig) -> [String] {
        let virtioCount = config.disks.count + (config.rng ? 1 : 0) + (config.virtioConsole ? 1 : 0) + config.net.count
        let aia = config.aia == .aplicIMSIC ? (0..<config.harts).map { "aia.\($0)" } + ["aplic"] : []
        return ["board"] + (0..<config.harts).map { "hart.\($0)" } + aia + ["clint", "plic", "uart", "rtc", "test", "vmgenid"]
            + (0..<virtioCount).map { "virtio.\($0)" }
    }

    /// The machine's whole state but RAM, as named sections (QEMU's vmstate sections): the board,
    /// every hart, every device. `guestTime` is mtime at the moment the state was frozen.
    public func saveState(guestTime: UInt64) -> [(name: String, bytes: [UInt8])] {
        var out: [(name: String, bytes: [UInt8])] = []
        var w = StateWriter()
        w.section("board", version: 1) { w in
            w.u64(guestTime)
            w.u64(dtbAddress)
            w.blob(dtb)
            w.u64(stats.reboots)
            w.blob(sbiInput)
        }
        out.append(("board", w.bytes))
        for (name, component) in statefulComponents {
            var w = StateWriter()
            component.saveState(&w)
            out.append((name, w.bytes))
        }
        return out
    }

    /// Loads what `saveState` wrote into this machine (built from the same config, not booted) and
    /// returns the guest time to continue from. Every section must be present; extra sections
    /// from a newer build are refused by name.
    public func loadState(_ sections: [String: [UInt8]]) throws -> UInt64 {
        let components = statefulComponents
        let expected = ["board"] + components.map(\.name)
        for name in expected where sections[name] == nil { throw StateError("snapshot has no '\(name)' section") }
        for name in sections.keys where !expected.contains(name) {
            throw StateError("snapshot has a section '\(name)' this machine has no device for")
        }
        var r = StateReader(sections["board"]!)
        let (guestTime, dtbAt, tree, reboots, input) = try r.section("board", versions: 1...1) { r, _ in
            (try r.u64(), try r.u64(), try r.blob(max: 1 << 16), try r.u64(), try r.blob(max: 1 << 20))
        }
        dtbAddress = dtbAt; dtb = tree; stats.reboots = reboots; sbiInput = input
        if config.firmware == .builtin {
            sbi = BuiltinSBI(machine: self)
            for h in harts { h.sbi = sbi }
        }
        for (name, component) in components {
            var r = StateReader(sections[name]!)
            do { try component.loadState(&r) } catch { throw StateError("section '\(name)': \(error)") }
            guard r.atEnd else { throw StateError("section '\(name)' has trailing bytes") }
        }
        for c in codeCaches { c.invalidateAll() }
        for h in harts { h.flushAllTLB() }
        time.set(guestTime)
        return guestTime
    }

    // MARK: Live migration

    /// Lets go of what the destination of a live migration takes at switch-over: the disk images'
    /// locks (the files stay open and flushed) and the network's host side (slirp's forwarded ports,
    /// the tap interface). Call at a safe point after `quiesce`.
    public func detachHost() {
        for v in virtio { if let b = v.device as? VirtioBlock { try? b.backend.setLocked(false) } }
        for n in netDevices { n.backend.detachHost() }
    }

    /// Takes back what `detachHost` let go of (the migration failed). Throws when another process
    /// holds a disk now: the VM must not run then.
    public func reattachHost() throws {
        for v in virtio { if let b = v.device as? VirtioBlock { try b.backend.setLocked(true) } }
        for n in netDevices {
            do { try n.backend.reattachHost() } catch { logger.warning("network: \(error)") }
        }
    }

    /// After a move: tells the network where the guest now is, as QEMU's self-announce does (a
    /// RARP broadcast from each NIC's MAC), so switches learn the new port.
    public func announceNetwork() {
        for n in netDevices {
            var frame = [UInt8](repeating: 0xff, count: 6) + n.mac + [0x80, 0x35]   // broadcast, src, RARP
            frame += [0, 1, 8, 0, 6, 4, 0, 3] + n.mac + [0, 0, 0, 0] + n.mac + [0, 0, 0, 0]
            frame += [UInt8](repeating: 0, count: 60 - frame.count)
            n.backend.send(frame)
        }
    }

    // MARK: Dirty-page log

    /// Starts the dirty-page log with every page clean. Store TLB entries filled before now would
    /// let writes bypass it, so every hart's TLB is flushed.
    public func startDirtyLog() {
        ram.startDirtyLog()
        for h in harts { h.flushAllTLB() }
    }

    /// Pages written since the log started or was last taken (the log restarts); at a safe point.
    public func takeDirtyPages() -> [Int] {
        let pages = ram.takeDirtyPages()
        for h in harts { h.flushAllTLB() }
        return pages
    }
}
