#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Block storage behind virtio-blk. Image formats (raw today, qcow2 later) implement `BlockBackend`.

public struct BlockError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A disk image. Offsets and lengths are in bytes; the device only issues requests inside `size`.
/// Methods are called on the emulation thread.
public protocol BlockBackend: AnyObject {
    /// Capacity in bytes (a multiple of 512; a trailing partial sector is not exposed).
    var size: UInt64 { get }
    var readOnly: Bool { get }
    /// Up to 20 bytes reported by VIRTIO_BLK_T_GET_ID.
    var serial: String { get }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws
    func write(from buffer: UnsafeRawBufferPointer, at offset: UInt64) throws
    func flush() throws
    /// The range's contents become unspecified (the backend may free the space).
    func discard(offset: UInt64, length: UInt64) throws
    /// The range reads back as zeros afterwards; `unmap` allows freeing the space.
    func writeZeroes(offset: UInt64, length: UInt64, unmap: Bool) throws
    /// Writes the buffers one after another from `offset` (a request scattered over guest pages).
    func write(gathering buffers: [UnsafeRawBufferPointer], at offset: UInt64) throws
}

extension BlockBackend {
    public func write(gathering buffers: [UnsafeRawBufferPointer], at offset: UInt64) throws {
        var pos = offset
        for b in buffers {
            try write(from: b, at: pos)
            pos += UInt64(b.count)
        }
    }
}

/// `--disk PATH[,format=raw|qcow2][,readonly=on|off]`. Without `format`, ("auto") a file
/// starting with the qcow2 magic is opened as qcow2, anything else as raw.
public struct DiskSpec: Equatable, Sendable {
    public var path: String
    public var format: String = "auto"
    public var readOnly = false

    public init(path: String, format: String = "auto", readOnly: Bool = false) {
        self.path = path; self.format = format; self.readOnly = readOnly
    }

    /// Parses the --disk syntax. A path containing commas is written with ",," (as in QEMU).
    public static func parse(_ text: String) throws -> DiskSpec {
        var parts: [String] = []
        var cur = ""
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if c == "," {
                if chars.first == "," && parts.isEmpty { cur.append(","); chars = chars.dropFirst(); continue }
                parts.append(cur); cur = ""
            } else { cur.append(c) }
        }
        parts.append(cur)
        var spec = DiskSpec(path: parts[0])
        if spec.path.hasPrefix("file=") { spec.path = String(spec.path.dropFirst(5)) }
        guard !spec.path.isEmpty else { throw BlockError("--disk needs a file path: --disk PATH[,format=raw|qcow2][,readonly=on]") }
        for opt in parts.dropFirst() {
            let kv = opt.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw BlockError("--disk option '\(opt)' is not KEY=VALUE (known: format=raw|qcow2, readonly=on|off)") }
            switch kv[0] {
            case "format":
                guard ["raw", "qcow2", "auto"].contains(kv[1]) else { throw BlockError("--disk \(spec.path): unsupported format '\(kv[1])' (supported: raw, qcow2)") }
                spec.format = kv[1]
            case "readonly", "ro":
                switch kv[1] {
                case "on", "true", "yes", "1": spec.readOnly = true
                case "off", "false", "no", "0": spec.readOnly = false
                default: throw BlockError("--disk \(spec.path): readonly must be on or off, not '\(kv[1])'")
                }
            default:
                throw BlockError("--disk \(spec.path): unknown option '\(kv[0])' (known: format=raw|qcow2, readonly=on|off)")
            }
        }
        return spec
    }

    /// Opens the image named by this spec.
    public func open() throws -> BlockBackend {
        switch format {
        case "raw": return try RawFileBackend(path: path, readOnly: readOnly)
        case "qcow2": return try Qcow2Backend(path: path, readOnly: readOnly)
        case "auto":
            return isQcow2Image(path: path) ? try Qcow2Backend(path: path, readOnly: readOnly)
                                            : try RawFileBackend(path: path, readOnly: readOnly)
        default: throw BlockError("\(path): unsupported disk format '\(format)'")
        }
    }
}

typealias FallocateFn = @convention(c) (Int32, Int32, Int, Int) -> Int32
/// fallocate(2) is not in Swift's Glibc module; look it up once (shared by the raw and qcow2 backends).
let fallocateFn: FallocateFn? = {
    #if os(Linux)
    guard let h = dlopen(nil, RTLD_NOW), let sym = dlsym(h, "fallocate") else { return nil }
    return unsafeBitCast(sym, to: FallocateFn.self)
    #else
    return nil
    #endif
}()
private let FALLOC_KEEP_SIZE: Int32 = 0x01, FALLOC_PUNCH_HOLE: Int32 = 0x02, FALLOC_ZERO_RANGE: Int32 = 0x10

private func errnoText() -> String { String(cString: strerror(errno)) }

/// A raw image file (or block device) accessed with pread/pwrite. The file is locked with
/// flock: exclusively when writable, shared when read-only, so two VMs cannot write one image.
public final class RawFileBackend: BlockBackend {
    public let path: String
    public let size: UInt64
    public let readOnly: Bool
    public let serial: String
    private var fd: Int32

    public init(path: String, readOnly: Bool) throws {
        fd = try openLockedDiskImage(path, readOnly: readOnly)
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            let why = errnoText(); close(fd)
            throw BlockError("\(path): cannot determine disk size: \(why)")
        }
        self.path = path
        self.readOnly = readOnly
        self.size = UInt64(end) & ~511
        let name = path.split(separator: "/").last.map(String.init) ?? "disk"
        self.serial = String(name.utf8.prefix(20).map { Character(UnicodeScalar($0)) })
    }

    deinit { if fd >= 0 { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; throw BlockError("\(path): read error: \(errnoText())") }
            if n == 0 {   // file shrank underneath us: the rest reads as zeros
                (buffer.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done)
                return
            }
            done += n
        }
    }

    public func write(from buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        guard !readOnly else { throw BlockError("\(path): read-only") }
        var done = 0
        while done < buffer.count {
            let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; throw BlockError("\(path): write error: \(errnoText())") }
            if n == 0 { throw BlockError("\(path): short write") }
            done += n
        }
    }

    /// One pwritev for the whole request: a 1 MiB guest write arrives as 256 page-sized pieces, and a
    /// system call (and file-system allocation) per piece costs most of the throughput.
    public func write(gathering buffers: [UnsafeRawBufferPointer], at offset: UInt64) throws {
        guard !readOnly else { throw BlockError("\(path): read-only") }
        var vectors = buffers.filter { $0.count > 0 }.map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        var first = 0
        var pos = off_t(offset)
        while first < vectors.count {
            let count = Int32(min(vectors.count - first, 1024))   // IOV_MAX on Linux
            let n = vectors.withUnsafeBufferPointer { pwritev(fd, $0.baseAddress! + first, count, pos) }
            if n < 0 { if errno == EINTR { continue }; throw BlockError("\(path): write error: \(errnoText())") }
            if n == 0 { throw BlockError("\(path): short write") }
            pos += off_t(n)
            // Skip what was written, trimming a vector written in part.
            var left = n
            while left > 0 && first < vectors.count {
                if left >= vectors[first].iov_len { left -= vectors[first].iov_len; first += 1 }
                else {
                    vectors[first].iov_base = vectors[first].iov_base.map { $0 + left }
                    vectors[first].iov_len -= left
                    left = 0
                }
            }
        }
    }

    public func flush() throws {
        guard !readOnly else { return }
        guard fsync(fd) == 0 else { throw BlockError("\(path): fsync failed: \(errnoText())") }
    }

    public func discard(offset: UInt64, length: UInt64) throws {
        guard !readOnly else { throw BlockError("\(path): read-only") }
        // Advisory: when the filesystem cannot punch holes, the data simply stays.
        _ = fallocateFn?(fd, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE, Int(offset), Int(length))
    }

    public func writeZeroes(offset: UInt64, length: UInt64, unmap: Bool) throws {
        guard !readOnly else { throw BlockError("\(path): read-only") }
        if let f = fallocateFn {
            if unmap, f(fd, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE, Int(offset), Int(length)) == 0 { return }
            if f(fd, FALLOC_ZERO_RANGE | FALLOC_KEEP_SIZE, Int(offset), Int(length)) == 0 { return }
        }
        let chunk = 1 << 20
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        var off = offset
        var left = length
        while left > 0 {
            let n = Int(min(UInt64(chunk), left))
            try write(from: UnsafeRawBufferPointer(rebasing: zeros[0..<n]), at: off)
            off += UInt64(n); left -= UInt64(n)
        }
    }
}

/// A disk held in host memory (tests, scratch disks).
public final class MemoryBackend: BlockBackend {
    public private(set) var bytes: [UInt8]
    public let readOnly: Bool
    public let serial: String
    public private(set) var flushes = 0
    public var size: UInt64 { UInt64(bytes.count) }

    public init(size: Int, readOnly: Bool = false, serial: String = "memory") {
        precondition(size % 512 == 0)
        bytes = Array(repeating: 0, count: size)
        self.readOnly = readOnly
        self.serial = serial
    }
    public init(bytes: [UInt8], readOnly: Bool = false, serial: String = "memory") {
        precondition(bytes.count % 512 == 0)
        self.bytes = bytes
        self.readOnly = readOnly
        self.serial = serial
    }

    private func check(_ offset: UInt64, _ len: UInt64) throws {
        guard offset <= size, len <= size - offset else { throw BlockError("access beyond the end of the memory disk") }
    }
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try check(offset, UInt64(buffer.count))
        bytes.withUnsafeBytes { src in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[Int(offset)..<Int(offset) + buffer.count]))
        }
    }
    public func write(from buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        guard !readOnly else { throw BlockError("read-only") }
        try check(offset, UInt64(buffer.count))
        bytes.withUnsafeMutableBytes { dst in
            UnsafeMutableRawBufferPointer(rebasing: dst[Int(offset)..<Int(offset) + buffer.count]).copyMemory(from: buffer)
        }
    }
    public func flush() throws { flushes += 1 }
    public func discard(offset: UInt64, length: UInt64) throws {
        try writeZeroes(offset: offset, length: length, unmap: true)
    }
    public func writeZeroes(offset: UInt64, length: UInt64, unmap: Bool) throws {
        guard !readOnly else { throw BlockError("read-only") }
        try check(offset, length)
        for i in Int(offset)..<Int(offset + length) { bytes[i] = 0 }
    }
}

/// Opens a disk image and takes its lock: shared for read-only use, exclusive for writing, so two VMs
/// never write the same image. Errors name the file and what to do.
func openLockedDiskImage(_ path: String, readOnly: Bool) throws -> Int32 {
    let fd = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
    guard fd >= 0 else {
        let why = errnoText()
        if !readOnly && (errno == EACCES || errno == EROFS) {
            throw BlockError("\(path): cannot open disk image for writing: \(why) (add ,readonly=on to use it read-only)")
        }
        throw BlockError("\(path): cannot open disk image: \(why)")
    }
    if flock(fd, (readOnly ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
        let busy = errno == EWOULDBLOCK
        let why = errnoText()
        close(fd)
        if busy {
            throw BlockError("\(path): disk image is locked by another process (is another matryoshka using it?)\(readOnly ? "" : "; a writable image can be used by one VM at a time")")
        }
        throw BlockError("\(path): cannot lock disk image: \(why)")
    }
    return fd
}
