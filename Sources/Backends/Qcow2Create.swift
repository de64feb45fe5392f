#if canImport(Glibc)
import Glibc
#endif
import Devices

/// Creates qcow2 images (version 3, 64 KiB clusters, 16-bit refcounts), as `qemu-img create -f qcow2
/// -b BASE -F FMT` does: the clones of a snapshot each get an empty overlay over the shared disk.
public enum Qcow2Create {
    static let clusterBits: UInt32 = 16
    static let clusterSize = 1 << 16

    /// Writes an empty overlay at `path` whose reads fall through to `backingPath` (format
    /// `backingFormat`, "raw" or "qcow2") and whose virtual size is `size`. Fails if `path` exists.
    public static func overlay(path: String, backingPath: String, backingFormat: String, size: UInt64) throws {
        let cs = UInt64(clusterSize)
        // Cluster 0: header, extensions, backing name; 1: refcount table; 2: refcount block; 3: L1 table.
        let l2Coverage = cs * (cs / 8)
        let l1Entries = (size + l2Coverage - 1) / l2Coverage
        guard l1Entries * 8 <= cs else { throw BlockError("\(path): overlay size \(size) too large") }
        let name = Array(backingPath.utf8)
        guard name.count <= 1023 else { throw BlockError("\(backingPath): path too long for a qcow2 backing file name") }
        var file = [UInt8](repeating: 0, count: 4 * clusterSize)
        func put32(_ o: Int, _ v: UInt32) { for i in 0..<4 { file[o + i] = UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * i)) } }
        func put64(_ o: Int, _ v: UInt64) { for i in 0..<8 { file[o + i] = UInt8(truncatingIfNeeded: v >> UInt64(56 - 8 * i)) } }
        func put16(_ o: Int, _ v: UInt16) { file[o] = UInt8(v >> 8); file[o + 1] = UInt8(truncatingIfNeeded: v) }
        let nameOffset = 512
        file[0] = 0x51; file[1] = 0x46; file[2] = 0x49; file[3] = 0xfb
        put32(4, 3)                                   // version
        put64(8, UInt64(nameOffset)); put32(16, UInt32(name.count))
        put32(20, clusterBits)
        put64(24, size)
        put32(32, 0)                                  // crypt_method
        put32(36, UInt32(l1Entries)); put64(40, 3 * cs)
        put64(48, cs); put32(56, 1)                   // refcount table: cluster 1, one cluster
        put32(60, 0); put64(64, 0)                    // no internal snapshots
        put64(72, 0); put64(80, 0); put64(88, 0)      // incompatible, compatible, autoclear features
        put32(96, 4)                                  // refcount_order: 16-bit refcounts
        put32(100, 104)                               // header_length
        // Header extension: backing file format (0xe2792aca), then the end marker.
        let fmt = Array(backingFormat.utf8)
        put32(104, 0xe279_2aca); put32(108, UInt32(fmt.count))
        for (i, b) in fmt.enumerated() { file[112 + i] = b }
        let end = 112 + (fmt.count + 7) / 8 * 8
        put32(end, 0); put32(end + 4, 0)
        for (i, b) in name.enumerated() { file[nameOffset + i] = b }
        put64(clusterSize, 2 * cs)                    // refcount table entry 0 -> block at cluster 2
        for c in 0..<4 { put16(2 * clusterSize + 2 * c, 1) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BlockError("\(path): cannot create the overlay: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let n = file.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard n == file.count, fsync(fd) == 0 else {
            unlink(path)
            throw BlockError("\(path): cannot write the overlay: \(String(cString: strerror(errno)))")
        }
    }

    /// The virtual size and format of a disk image file.
    public static func probe(_ path: String) throws -> (size: UInt64, format: String) {
        if isQcow2Image(path: path) {
            let q = try Qcow2Backend(path: path, readOnly: true)
            return (q.size, "qcow2")
        }
        let r = try RawFileBackend(path: path, readOnly: true)
        return (r.size, "raw")
    }
}
