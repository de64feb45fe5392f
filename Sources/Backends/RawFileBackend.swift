import Devices
import Platform
#if canImport(Glibc)
import Glibc
#endif

// Raw image files and in-memory disks, and the open-and-lock step qcow2 shares.

public typealias FallocateFn = @convention(c) (Int32, Int32, Int, Int) -> Int32
/// fallocate(2) is not in Swift's Glibc module; look it up once (shared by the raw and qcow2 backends).
public let fallocateFn: FallocateFn? = {
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

    public func setLocked(_ locked: Bool) throws { try setDiskImageLock(fd, path: path, readOnly: readOnly, locked: locked) }

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

/// Drops or retakes the lock `openLockedDiskImage` took on `fd`.
func setDiskImageLock(_ fd: Int32, path: String, readOnly: Bool, locked: Bool) throws {
    guard fd >= 0 else { return }
    if !locked { _ = flock(fd, LOCK_UN); return }
    if flock(fd, (readOnly ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
        throw BlockError("\(path): cannot take the disk image's lock back: \(errno == EWOULDBLOCK ? "another process holds it" : errnoText())")
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
