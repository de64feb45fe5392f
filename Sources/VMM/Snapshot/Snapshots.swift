#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Backends
import Machine
import Platform

/// The last snapshot a VM was saved to or restored from: a Diff snapshot holds the pages written since.
struct SnapshotLink {
    var path: String
    var id: String
    var memFiles: [String]
}

/// `--clone`: restore as a new VM beside others from the same snapshot.
public struct CloneOptions: Sendable {
    /// Where the clone's disk overlays go (default: the snapshot's directory).
    public var directory: String?
    public init(directory: String? = nil) { self.directory = directory }
}

/// What one snapshot operation did (the API's events and the CLI's summary line).
public struct SnapshotReport: Sendable {
    public var type: SnapshotType
    public var seconds: Double
    public var pagesWritten: Int
    public var stateBytes: Int
    public var path: String
}

extension VirtualMachine {
    // MARK: Create

    /// Saves the paused VM to `path` (state) and `memFile` (RAM). Throws `VMError.conflict` unless
    /// the VM is paused. `progress` gets the fraction of RAM done, from the emulation thread.
    public func createSnapshot(path: String, memFile: String, type: SnapshotType,
                               progress: @escaping @Sendable (Double) -> Void = { _ in }) throws -> SnapshotReport {
        guard !path.isEmpty, !memFile.isEmpty else { throw VMError.badRequest("snapshot_path and mem_file_path must not be empty") }
        guard path != memFile else { throw VMError.badRequest("snapshot_path and mem_file_path must be different files") }
        guard !haProtected else { throw VMError.conflict("a hot standby protects this VM and owns its dirty-page log; turn HA off (DELETE /ha) before snapshotting") }
        let report = try whilePaused { [self] in try writeSnapshot(path: path, memFile: memFile, type: type, progress: progress) }
        emit(.snapshotCreated(path: path, type: type))
        return report
    }

    /// Emulation thread, paused.
    private func writeSnapshot(path: String, memFile: String, type: SnapshotType,
                               progress: (Double) -> Void) throws -> SnapshotReport {
        let t0 = TimeBase.hostNanos()
        var parent: SnapshotLink? = nil
        if type == .diff {
            guard let last = lastSnapshot, machine.ram.dirtyLog != nil else {
                throw VMError.badRequest("a Diff snapshot holds the pages written since this VM's previous snapshot, and it has none: create a Full snapshot first")
            }
            let mine = URL(fileURLWithPath: memFile).standardizedFileURL.path
            if last.memFiles.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == mine }) {
                throw VMError.badRequest("\(memFile) holds memory of an earlier snapshot in this Diff chain; give the Diff its own mem_file_path")
            }
            parent = last
        }
        try machine.quiesce()
        let disks: [DiskIdentity]
        do { disks = try machine.diskIdentities() } catch { throw VMError.failed("\(error)") }
        let ram = machine.ram
        let id = SnapshotFile.newID(), memID = SnapshotFile.newID()

        // RAM first: the pages to write, as runs.
        let pages: [Int]
        if type == .diff { pages = machine.takeDirtyPages() } else { pages = nonZeroPages(progress: progress) }
        // Few large writes: runs separated by small gaps go out as one (a gap page holds what RAM holds,
        // so a Diff may carry a clean page or two; its page list names what the file has).
        let runs = Self.coalesce(Self.runs(of: pages), maxGap: 16, maxRun: 4096)
        let tScan = TimeBase.hostNanos()
        // O_DIRECT: RAM goes to the disk without a copy into the page cache, and the fsync after is short.
        let mem = try DurableFile(path: memFile, tag: id, direct: true)
        do {
            try mem.truncate(ram.size + 4096)
            var done = 0
            for (start, count) in runs {
                try mem.write(ram.pointer + (start << 12), count: count << 12, at: UInt64(start) << 12)
                done += count
                progress(0.5 + 0.5 * Double(done) / Double(max(pages.count, 1)))
            }
            mem.endDirect()
            try mem.write(SnapshotFile.trailer(memID: memID, ramSize: ram.size), at: ram.size)
            try mem.sync()
            logger.debug("snapshot memory: scan \((tScan - t0) / 1_000_000) ms, \(runs.count) writes and fsync \((TimeBase.hostNanos() - tScan) / 1_000_000) ms")
        } catch {
            mem.abandon()
            throw error
        }

        let meta = SnapshotMeta(id: id, type: type, createdAt: Date().timeIntervalSince1970, memFile: memFile, memID: memID,
                                ramSize: ram.size, config: config, disks: disks, parentPath: parent?.path, parentID: parent?.id)
        var sections: [SnapshotFile.Section] = []
        sections.append(.init(name: "meta", version: SnapshotMeta.binaryVersion, body: meta.binary()))
        if type == .diff {
            var w = StateWriter()
            w.u64(UInt64(runs.count))
            for (s, c) in runs { w.u64(UInt64(s)); w.u64(UInt64(c)) }
            sections.append(.init(name: "pages", version: 1, body: w.bytes))
        }
        for s in machine.saveState(guestTime: guestTime) {
            sections.append(.init(name: s.name, version: 1, body: s.bytes))
        }
        let bytes = SnapshotFile.encode(sections)
        let state = try DurableFile(path: path, tag: id)
        do {
            try state.write(bytes, at: 0)
            try state.sync()
            state.closeFile()
        } catch {
            state.abandon(); mem.abandon()
            throw error
        }
        // Commit: the state file first. A crash between the renames leaves the state naming a memory id
        // that only `memFile.tmp-<id>` has; loading finds it there and finishes the rename.
        // The directory is synced once, after both renames, to keep that window short.
        do {
            let sameDirectory = (path as NSString).deletingLastPathComponent == (memFile as NSString).deletingLastPathComponent
            try state.commit(sync: !sameDirectory)
            try mem.commit()
        } catch {
            mem.abandon()
            throw error
        }
        mem.closeFile()
        lastSnapshot = SnapshotLink(path: path, id: id, memFiles: (parent?.memFiles ?? []) + [memFile])
        if type == .full { machine.startDirtyLog() }
        let seconds = Double(TimeBase.hostNanos() - t0) / 1e9
        logger.info("snapshot \(type.rawValue) written to \(path) and \(memFile): \(pages.count) pages, \(bytes.count) state bytes, \(String(format: "%.3f", seconds)) s")
        let report = SnapshotReport(type: type, seconds: seconds, pagesWritten: pages.count, stateBytes: bytes.count, path: path)
        lastSnapshotReport = report
        return report
    }

    /// RAM pages holding anything but zeros.
    private func nonZeroPages(progress: (Double) -> Void) -> [Int] {
        let ram = machine.ram
        let n = ram.pageCount
        let resident = residentPages()
        var out: [Int] = []
        for i in 0..<n where resident[i] {
            if !Self.isZeroPage(ram.pointer + (i << 12)) { out.append(i) }
            if i & 0xffff == 0 { progress(0.5 * Double(i) / Double(n)) }
        }
        return out
    }

    /// Per RAM page: whether the host has it in memory. Pages the host never materialized are zero;
    /// mincore finds them without touching them. All true when that cannot be told: RAM mapped from
    /// a snapshot's file (restored), or a host that swaps (a swapped-out page is not resident either).
    func residentPages() -> [Bool] {
        let ram = machine.ram
        var v = [UInt8](repeating: 1, count: ram.pageCount)
        if !ram.isFileBacked && !VirtualMachine.hostHasSwap {
            _ = v.withUnsafeMutableBufferPointer { mincore(ram.pointer, Int(ram.size), $0.baseAddress) }
        }
        return v.map { $0 & 1 != 0 }
    }

    /// Whether the 4 KiB page at `p` holds only zeros.
    static func isZeroPage(_ p: UnsafeRawPointer) -> Bool { isZero(p, count: 4096) }

    /// Whether `count` bytes at the 8-byte aligned `p` are all zero (a multiple of 8 bytes: pages, sectors).
    static func isZero(_ p: UnsafeRawPointer, count: Int) -> Bool {
        precondition(count % 8 == 0)
        let w = p.assumingMemoryBound(to: UInt64.self)
        var any: UInt64 = 0
        for k in 0..<(count / 8) { any |= w[k] }
        return any == 0
    }

    static let hostHasSwap: Bool = {
        guard let s = try? String(contentsOfFile: "/proc/swaps", encoding: .utf8) else { return true }
        return s.split(separator: "\n").count > 1
    }()

    /// Merges runs whose gap is at most `maxGap` pages, up to `maxRun` pages each.
    static func coalesce(_ runs: [(Int, Int)], maxGap: Int, maxRun: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for r in runs {
            if let last = out.last, r.0 - (last.0 + last.1) <= maxGap, r.0 + r.1 - last.0 <= maxRun {
                out[out.count - 1].1 = r.0 + r.1 - last.0
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// Ascending page numbers as (first, count) runs.
    static func runs(of pages: [Int]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for p in pages {
            if let last = out.last, last.0 + last.1 == p { out[out.count - 1].1 += 1 } else { out.append((p, 1)) }
        }
        return out
    }

    // MARK: Restore

    /// Pays a restore's one-time costs ahead, while a process started empty (`run --api-socket`) waits for
    /// PUT /snapshot/load: the JSON parser of request bodies (the runtime instantiates its generic
    /// metadata on first use). The snapshot metadata itself is binary and needs no warming.
    public static func warmUpRestore() {
        _ = try? JSONSerialization.jsonObject(with: Data(#"{"snapshot_path": "", "mem_backend": {"backend_type": "File"}, "resume_vm": true}"#.utf8))
    }

    /// Builds a VM from a snapshot (and the Diff chain under it) without running it. `memFile`
    /// overrides where the newest snapshot's memory is. Throws `VMError.badRequest` for anything
    /// wrong with the files or the disks; nothing is written.
    public static func restore(from path: String, memFile: String? = nil, clone: CloneOptions? = nil) throws -> VirtualMachine {
        let t0 = TimeBase.hostNanos()
        // The chain, newest first.
        var chain: [(path: String, meta: SnapshotMeta, sections: [SnapshotFile.Section])] = []
        var next: String? = path
        var wantID: String? = nil
        while let p = next {
            guard chain.count < 1000 else { throw VMError.badRequest("\(path): Diff chain longer than 1000 snapshots (or a cycle)") }
            let (meta, sections) = try SnapshotFile.load(p)
            if let wantID, meta.id != wantID {
                throw VMError.badRequest("\(p) is not the snapshot the Diff \(chain.last!.path) was taken on top of (it was replaced); the chain is broken")
            }
            if let first = chain.first, meta.ramSize != first.meta.ramSize {
                throw VMError.badRequest("\(p): RAM size differs from the rest of the Diff chain")
            }
            chain.append((p, meta, sections))
            if meta.type == .full { break }
            guard let parent = meta.parentPath else { throw VMError.badRequest("\(p): Diff snapshot without a parent") }
            next = parent; wantID = meta.parentID
        }
        let top = chain[0]
        var config = top.meta.config
        guard config.memorySize == top.meta.ramSize else { throw VMError.badRequest("\(path): RAM size and config disagree") }
        for (i, disk) in config.disks.enumerated() {
            guard i < top.meta.disks.count else { throw VMError.badRequest("\(path): no identity recorded for disk \(disk.path)") }
            let now: DiskIdentity
            do { now = try DiskIdentity.of(path: disk.path) } catch { throw VMError.badRequest("\(error)") }
            let then = top.meta.disks[i]
            guard now.size == then.size, now.fingerprint == then.fingerprint, now.mtimeNanos == then.mtimeNanos else {
                throw VMError.badRequest("\(disk.path): the disk changed since the snapshot was taken (size, contents or modification time differ); restore needs the disk as it was, or take a new snapshot")
            }
        }
        // Open and check every memory file before building anything.
        var memFDs: [Int32] = []
        defer { for fd in memFDs { close(fd) } }
        for (k, link) in chain.enumerated() {
            let file = k == 0 ? (memFile ?? link.meta.memFile) : link.meta.memFile
            memFDs.append(try openMemoryFile(file, meta: link.meta))
        }

        var overlays: [String] = []
        if let clone {
            let tag = String(SnapshotFile.newID().prefix(8))
            do {
                (config, overlays) = try makeClone(of: config, tag: tag, directory: clone.directory ?? (path as NSString).deletingLastPathComponent)
            } catch {
                for o in overlays { unlink(o) }
                throw VMError.badRequest("cannot prepare the clone's disks: \(error)")
            }
        }
        let machine: Machine
        do { machine = try Machine(config: config) } catch {
            for o in overlays { unlink(o) }
            throw VMError.badRequest("\(path): \(error)")
        }
        let ram = machine.ram
        do {
            try ram.mapFile(memFDs.last!, fileOffset: 0, at: ram.base, length: ram.size)
            // Diffs, oldest first, each page run mapped over what is below it.
            for k in stride(from: chain.count - 2, through: 0, by: -1) {
                guard let s = chain[k].sections.first(where: { $0.name == "pages" }) else {
                    throw VMError.badRequest("\(chain[k].path): Diff snapshot without a page list")
                }
                var r = StateReader(s.body)
                let count = try r.count(max: ram.pageCount)
                for _ in 0..<count {
                    let start = try r.u64(), n = try r.u64()
                    guard n > 0, start < UInt64(ram.pageCount), n <= UInt64(ram.pageCount) - start else {
                        throw VMError.badRequest("\(chain[k].path): page list out of range")
                    }
                    try ram.mapFile(memFDs[k], fileOffset: start << 12, at: ram.base + (start << 12), length: n << 12)
                }
            }
        } catch let e as VMError { throw e } catch { throw VMError.badRequest("\(path): \(error)") }
        var states: [String: [UInt8]] = [:]
        for s in top.sections where s.name != "meta" && s.name != "pages" { states[s.name] = s.body }
        let guestTime: UInt64
        do { guestTime = try machine.loadState(states) } catch { throw VMError.badRequest("\(path): \(error)") }
        if clone != nil {
            // A new generation: the guest reseeds its random number generator on the interrupt.
            machine.vmgenid.newGeneration()
        }
        let vm = VirtualMachine(restored: machine, guestTime: guestTime)
        vm.cloneDisks = overlays
        vm.lastSnapshot = SnapshotLink(path: path, id: top.meta.id, memFiles: chain.map { $0.meta.memFile })
        machine.startDirtyLog()
        vm.logger.info("restored \(path) (\(chain.count) file(s)) in \(String(format: "%.2f", Double(TimeBase.hostNanos() - t0) / 1e6)) ms")
        return vm
    }

    /// The config of a clone: each writable disk replaced by a new qcow2 overlay over it (in
    /// `directory`), each network interface given a new MAC (same 52:54:00 prefix).
    static func makeClone(of base: MachineConfig, tag: String, directory: String) throws -> (MachineConfig, [String]) {
        var config = base
        var created: [String] = []
        do {
            for (i, disk) in base.disks.enumerated() where !disk.readOnly {
                let (size, format) = try Qcow2Create.probe(disk.path)
                let name = ((disk.path as NSString).lastPathComponent as NSString).deletingPathExtension
                let overlay = (directory.isEmpty ? "." : directory) + "/\(name).clone-\(tag).qcow2"
                let absolute = disk.path.hasPrefix("/") ? disk.path : FileManager.default.currentDirectoryPath + "/" + disk.path
                try Qcow2Create.overlay(path: overlay, backingPath: absolute, backingFormat: format, size: size)
                created.append(overlay)
                config.disks[i] = DiskSpec(path: overlay, format: "qcow2", readOnly: false)
            }
        } catch {
            for o in created { unlink(o) }
            throw error
        }
        var g = SystemRandomNumberGenerator()
        for i in config.net.indices {
            config.net[i].mac = [0x52, 0x54, 0x00] + (0..<3).map { _ in UInt8.random(in: 0...255, using: &g) }
        }
        return (config, created)
    }

    /// Opens a memory file and checks that its trailer names `meta.memID`. When the file has another id
    /// but `file.tmp-<snapshot id>` has the right one, a crash came between the two renames of
    /// `createSnapshot`: the rename is finished here.
    static func openMemoryFile(_ file: String, meta: SnapshotMeta) throws -> Int32 {
        func openChecked(_ f: String) -> Int32? {
            let fd = open(f, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            var st = stat()
            if fstat(fd, &st) == 0, UInt64(st.st_size) >= meta.ramSize + 4096,
               SnapshotFile.memID(fd: fd, ramSize: meta.ramSize) == meta.memID { return fd }
            close(fd)
            return nil
        }
        if let fd = openChecked(file) { return fd }
        let pending = file + ".tmp-" + meta.id
        if let fd = openChecked(pending) {
            if rename(pending, file) == 0 { syncDirectory(of: file) }
            return fd
        }
        if access(file, R_OK) != 0 {
            throw VMError.badRequest("\(file): cannot open the snapshot's memory file (\(String(cString: strerror(errno)))); pass its location with --mem-file")
        }
        throw VMError.badRequest("\(file): not the memory file of this snapshot (its id or size does not match: it is truncated, or belongs to another snapshot)")
    }
}
