#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Machine
import Platform

/// Errors of the life-cycle operations, by what the caller did wrong (the API's status codes).
public enum VMError: Error, CustomStringConvertible, Equatable {
    /// The request itself is wrong: a bad file, a mismatched config (400).
    case badRequest(String)
    /// The VM's state forbids it now: snapshot while running, load twice (409).
    case conflict(String)
    /// The host failed: disk full, I/O error (500).
    case failed(String)
    public var description: String {
        switch self { case .badRequest(let m), .conflict(let m), .failed(let m): return m }
    }
}

public enum SnapshotType: String, Codable, Sendable { case full = "Full", diff = "Diff" }

/// What a snapshot file says about itself (its "meta" section).
struct SnapshotMeta: Codable {
    var id: String
    var type: SnapshotType
    var createdAt: Double
    var memFile: String
    /// The memory file carries this id in its trailer, so a state file is never paired with the
    /// memory of another snapshot.
    var memID: String
    var ramSize: UInt64
    var config: MachineConfig
    var disks: [DiskIdentity]
    /// Diff: the snapshot whose memory this one's pages go on top of.
    var parentPath: String?
    var parentID: String?
}

extension SnapshotMeta {
    /// Version 1 of the meta section was this struct as JSON; version 2 is binary (a restore decodes
    /// it in a fresh process, where JSONDecoder's first use costs over a millisecond). Both are read.
    static let binaryVersion: UInt32 = 2

    func binary() -> [UInt8] {
        var w = StateWriter()
        w.string(id)
        w.string(type.rawValue)
        w.u64(createdAt.bitPattern)
        w.string(memFile)
        w.string(memID)
        w.u64(ramSize)
        config.save(&w)
        w.u64(UInt64(disks.count))
        for d in disks { d.save(&w) }
        w.optionalString(parentPath)
        w.optionalString(parentID)
        return w.bytes
    }

    init(binary: [UInt8]) throws {
        var r = StateReader(binary)
        id = try r.string()
        let t = try r.string()
        guard let type = SnapshotType(rawValue: t) else { throw StateError("unknown snapshot type '\(t)'") }
        self.type = type
        createdAt = Double(bitPattern: try r.u64())
        memFile = try r.string()
        memID = try r.string()
        ramSize = try r.u64()
        config = try MachineConfig.load(&r)
        disks = []
        for _ in 0..<(try r.count(max: 64)) { disks.append(try DiskIdentity.load(&r)) }
        parentPath = try r.optionalString()
        parentID = try r.optionalString()
        guard r.atEnd else { throw StateError("\(binary.count - r.offset) bytes after the meta fields") }
    }
}

/// What `matryoshka snapshot info` shows of a state file, checked as a restore checks it.
public enum SnapshotInfo {
    /// The file's format version, its sections (name, version, bytes) and its metadata in the JSON
    /// form of meta section version 1 (`"meta"`), as one JSON object. Throws `VMError.badRequest`
    /// for a file a restore would refuse as corrupt.
    public static func json(path: String) throws -> String {
        struct Section: Encodable { var name: String; var version: UInt32; var bytes: Int }
        struct Info: Encodable { var format_version: UInt32; var sections: [Section]; var meta: SnapshotMeta }
        let (meta, sections) = try SnapshotFile.load(path)
        let info = Info(format_version: SnapshotFile.formatVersion,
                        sections: sections.map { Section(name: $0.name, version: $0.version, bytes: $0.body.count) }, meta: meta)
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try enc.encode(info), as: UTF8.self)
    }
}

/// The on-disk format of a snapshot's state file:
///
///     "MTRYSNAP" u32 format-version
///     section*   : u32 name-length, name, u32 version, u64 body-length, body, u64 CRC-64(all before it in the section)
///     "end" section (empty body): a file without it is truncated
///
/// Sections: "meta" (`SnapshotMeta`: binary, version 2; JSON in version 1), "pages" (Diff: the RAM pages in the memory file, as
/// runs), then one per board component in `Machine.saveState`'s order. Each component's body is
/// itself versioned (`StateWriter.section`), as QEMU's vmstate sections are.
///
/// The memory file is RAM as a flat image (byte i = guest physical ramBase+i; untouched and zero
/// pages are holes) followed by a 4 KiB trailer at offset ramSize: "MTRYMEM\0", the memory id, ramSize.
enum SnapshotFile {
    static let magic = Array("MTRYSNAP".utf8)
    static let memMagic = Array("MTRYMEM\u{0}".utf8)
    static let formatVersion: UInt32 = 1
    static let maxSectionBytes = 1 << 30

    struct Section { var name: String; var version: UInt32; var body: [UInt8] }

    static func encode(_ sections: [Section]) -> [UInt8] {
        var w = StateWriter()
        for b in magic { w.u8(b) }
        w.u32(formatVersion)
        for s in sections + [Section(name: "end", version: 1, body: [])] {
            var sw = StateWriter()
            let name = Array(s.name.utf8)
            sw.u32(UInt32(name.count)); for b in name { sw.u8(b) }
            sw.u32(s.version)
            sw.blob(s.body)
            var bytes = sw.bytes
            let crc = CRC64.checksum(bytes)
            withUnsafeBytes(of: crc.littleEndian) { bytes.append(contentsOf: $0) }
            for b in bytes { w.u8(b) }
        }
        return w.bytes
    }

    /// Parses and checks a state file; `path` is for messages.
    static func decode(_ bytes: [UInt8], path: String) throws -> [Section] {
        func bad(_ why: String) -> VMError { .badRequest("\(path): \(why); the snapshot cannot be loaded (take a new one)") }
        guard bytes.count >= 12, Array(bytes[0..<8]) == magic else { throw bad("not a Matryoshka snapshot (bad magic)") }
        var r = StateReader(bytes)
        for _ in 0..<8 { _ = try r.u8() }
        let version = try r.u32()
        guard version == formatVersion else {
            throw bad("snapshot format version \(version); this build reads version \(formatVersion)")
        }
        var out: [Section] = []
        while true {
            let start = r.offset
            do {
                let nameLength = Int(try r.u32())
                guard nameLength <= 256 else { throw bad("corrupt section header at byte \(start)") }
                var name: [UInt8] = []
                for _ in 0..<nameLength { name.append(try r.u8()) }
                let v = try r.u32()
                let body = try r.blob(max: maxSectionBytes)
                let end = r.offset
                let crc = try r.u64()
                let actual = bytes.withUnsafeBytes { CRC64.update(0, UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
                let sectionName = String(decoding: name, as: UTF8.self)
                guard crc == actual else { throw bad("checksum mismatch in section '\(sectionName)' at byte \(start) (the file is corrupt)") }
                if sectionName == "end" {
                    guard r.atEnd else { throw bad("\(bytes.count - r.offset) bytes after the end section") }
                    return out
                }
                out.append(Section(name: sectionName, version: v, body: body))
            } catch let e as StateError {
                throw bad("truncated or corrupt at byte \(start) (\(e))")
            }
        }
    }

    /// The whole file, with plain reads (FileManager's first use costs a restore ~0.2 ms).
    static func readAll(_ path: String) throws -> [UInt8] {
        func failure() -> VMError {
            .badRequest("\(path): cannot read the snapshot file (\(String(cString: strerror(errno)))); check the path")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure() }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure() }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw VMError.badRequest("\(path): not a regular file; check the path")
        }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure() }
            if n == 0 { out.removeLast(out.count - done); break }   // the file shrank meanwhile
            done += n
        }
        return out
    }

    /// Reads the meta section of a snapshot state file.
    static func load(_ path: String) throws -> (meta: SnapshotMeta, sections: [Section]) {
        let raw = try readAll(path)
        let sections = try decode(raw, path: path)
        guard let m = sections.first(where: { $0.name == "meta" }) else {
            throw VMError.badRequest("\(path): snapshot has no meta section")
        }
        do {
            switch m.version {
            case 1: return (try JSONDecoder().decode(SnapshotMeta.self, from: Data(m.body)), sections)
            case SnapshotMeta.binaryVersion: return (try SnapshotMeta(binary: m.body), sections)
            default: throw StateError("meta section version \(m.version); this build reads 1 and \(SnapshotMeta.binaryVersion)")
            }
        } catch {
            throw VMError.badRequest("\(path): unreadable snapshot meta section: \(error)")
        }
    }

    // MARK: Memory file trailer

    static func trailer(memID: String, ramSize: UInt64) -> [UInt8] {
        var w = StateWriter()
        for b in memMagic { w.u8(b) }
        w.string(memID)
        w.u64(ramSize)
        return w.bytes + [UInt8](repeating: 0, count: 4096 - w.bytes.count)
    }

    /// The memory id in the trailer of the memory file `fd`, or nil when it has none.
    static func memID(fd: Int32, ramSize: UInt64) -> String? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4096, off_t(ramSize)) }
        guard n == 4096, Array(buf[0..<8]) == memMagic else { return nil }
        var r = StateReader(Array(buf[8...]))
        guard let id = try? r.string(), let size = try? r.u64(), size == ramSize else { return nil }
        return id
    }

    static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(format: "%016llx", g.next() as UInt64) }.joined()
    }
}

// MARK: Durable files

/// O_DIRECT (Glibc hides it behind _GNU_SOURCE); its value differs between architectures.
#if arch(x86_64)
let openDirect: Int32 = 0o40000
#else
let openDirect: Int32 = 0o200000
#endif

/// A file written under a temporary name and renamed into place once complete and on disk, so a
/// crash leaves the old file or the new one, never a mix.
struct DurableFile {
    let path: String
    let temporaryPath: String
    let fd: Int32

    /// `direct`: open with openDirect where the file system allows it (writes must then be page-aligned
    /// until `endDirect`).
    init(path: String, tag: String, direct: Bool = false) throws {
        self.path = path
        temporaryPath = path + ".tmp-" + tag
        var f: Int32 = -1
        if direct { f = open(temporaryPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | openDirect, 0o600) }
        if f < 0 { f = open(temporaryPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        fd = f
        guard fd >= 0 else {
            throw VMError.badRequest("\(path): cannot create \(temporaryPath): \(String(cString: strerror(errno))); check that the directory exists and is writable")
        }
    }

    /// Back to ordinary (buffered) writes.
    func endDirect() {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 && flags & openDirect != 0 { _ = fcntl(fd, F_SETFL, flags & ~openDirect) }
    }

    func write(_ p: UnsafeRawPointer, count: Int, at offset: UInt64) throws {
        var done = 0
        while done < count {
            let n = pwrite(fd, p + done, min(count - done, 1 << 30), off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw VMError.failed("\(temporaryPath): write failed: \(String(cString: strerror(errno))) (disk full?)") }
            done += n
        }
    }
    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        try bytes.withUnsafeBytes { try write($0.baseAddress!, count: $0.count, at: offset) }
    }
    func truncate(_ size: UInt64) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw VMError.failed("\(temporaryPath): cannot size the file: \(String(cString: strerror(errno)))") }
    }
    func sync() throws {
        guard fsync(fd) == 0 else { throw VMError.failed("\(temporaryPath): fsync failed: \(String(cString: strerror(errno)))") }
    }
    /// Renames the file into place and, unless `sync` is false (a later commit in the same directory
    /// syncs it), makes the rename durable.
    func commit(sync: Bool = true) throws {
        guard rename(temporaryPath, path) == 0 else { throw VMError.failed("cannot rename \(temporaryPath) to \(path): \(String(cString: strerror(errno)))") }
        if sync { syncDirectory(of: path) }
    }
    func abandon() { close(fd); unlink(temporaryPath) }
    func closeFile() { close(fd) }
}

func syncDirectory(of path: String) {
    let dir = (path as NSString).deletingLastPathComponent
    let d = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY)
    if d >= 0 { fsync(d); close(d) }
}
