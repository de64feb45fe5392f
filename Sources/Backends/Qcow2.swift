import Devices
import Platform
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// qcow2 (versions 2 and 3) disk images: read, write, backing files.
//
// Metadata is written through: every change to an L1/L2 entry, refcount entry or refcount
// table entry goes to the file at once (only the bytes that changed), in an order that can at
// worst leak clusters if the process dies midway (refcount before data before L2 entry when
// allocating; L2 entry before refcount when freeing). The dirty bit is therefore never set,
// and a clean close needs nothing beyond what is already on disk; flush() adds fsync. There
// are no fsyncs between those steps, so after a host crash (power loss) between guest flushes
// the image may need `qemu-img check -r all`.
// Allocation takes the lowest free cluster (refcount 0) inside the file, else appends; freed
// clusters are hole-punched. Refcount blocks and a grown refcount table are appended.
// Images with internal snapshots can only be opened read-only (writing would need
// copy-on-write of shared clusters). Compressed (zlib/deflate) clusters are decompressed by
// `Inflate`; written-over compressed clusters become ordinary clusters.

private let l1OffsetMask: UInt64 = 0x00ff_ffff_ffff_fe00
private let l2OffsetMask: UInt64 = 0x00ff_ffff_ffff_fe00
private let oflagCopied: UInt64 = 1 << 63
private let oflagCompressed: UInt64 = 1 << 62
private let oflagZero: UInt64 = 1
private let refTableOffsetMask: UInt64 = 0xffff_ffff_ffff_fe00
private let qcow2Magic: [UInt8] = [0x51, 0x46, 0x49, 0xfb]

private func sysClose(_ fd: Int32) { close(fd) }
private func errnoString() -> String { String(cString: strerror(errno)) }

@inline(__always) private func be64(_ p: UnsafeRawPointer, _ o: Int) -> UInt64 {
    UInt64(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))
}
@inline(__always) private func be32(_ p: UnsafeRawPointer, _ o: Int) -> UInt32 {
    UInt32(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))
}
private func be64(_ b: [UInt8], _ o: Int) -> UInt64 { b.withUnsafeBytes { be64($0.baseAddress!, o) } }
private func be32(_ b: [UInt8], _ o: Int) -> UInt32 { b.withUnsafeBytes { be32($0.baseAddress!, o) } }
private func bytesBE(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) } }
private func bytesBE32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }

/// True when the file starts with the qcow2 magic "QFI\xfb".
public func isQcow2Image(path: String) -> Bool {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var m = [UInt8](repeating: 0, count: 4)
    let n = m.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 4, 0) }
    return n == 4 && m == qcow2Magic
}

/// A table kept in one of the metadata caches, stamped with its last use for LRU eviction.
private protocol CachedTable: AnyObject {
    var used: UInt64 { get set }
}
private final class L2Table: CachedTable {
    var e: [UInt64]
    var used: UInt64 = 0
    init(_ e: [UInt64]) { self.e = e }
}
private final class RefBlock: CachedTable {
    var b: [UInt8]
    var used: UInt64 = 0
    init(_ b: [UInt8]) { self.b = b }
}

public final class Qcow2Backend: BlockBackend {
    public let path: String
    public let size: UInt64
    public let readOnly: Bool
    public let serial: String
    public let version: Int
    public let clusterBits: Int
    public let refcountOrder: Int
    /// The backing file as named in the header, resolved against the image's directory.
    public let backingPath: String?
    public let backing: BlockBackend?
    public var clusterSize: Int { Int(cs) }

    private var fd: Int32
    private let cs: UInt64
    private let l2Entries: Int
    private var l1: [UInt64]
    private let l1Offset: UInt64
    private var rtOffset: UInt64
    private var rtClusters: UInt64
    private var refTable: [UInt64]
    private let refsPerBlock: UInt64
    private var fileEnd: UInt64
    // Metadata caches (write-through, so entries can be dropped at any time), least recently
    // used out first. Bounded by count and by about 8 MiB each.
    private var tick: UInt64 = 0
    private var l2Cache: [UInt64: L2Table] = [:]
    private let l2CacheCapacity: Int
    private var rbCache: [UInt64: RefBlock] = [:]
    private let rbCacheCapacity: Int
    /// No cluster below this index has refcount 0 (allocation scans from here).
    private var freeHint: UInt64 = 0
    private var growingRefTable = false
    private var lastCompressed: (entry: UInt64, data: [UInt8])?

    /// Opens `path` as a qcow2 image. Backing files are opened read-only.
    public convenience init(path: String, readOnly: Bool) throws {
        try self.init(path: path, readOnly: readOnly, depth: 0)
    }

    private init(path: String, readOnly: Bool, depth: Int) throws {
        guard depth < 16 else { throw BlockError("\(path): backing file chain is too deep (loop?)") }
        let fd = try openLockedDiskImage(path, readOnly: readOnly)
        do {
            let h = try Qcow2Header.parse(fd: fd, path: path, readOnly: readOnly)
            self.fd = fd
            self.path = path
            self.readOnly = readOnly
            self.version = h.version
            self.clusterBits = h.clusterBits
            self.refcountOrder = h.refcountOrder
            self.size = h.size & ~511
            self.cs = 1 << UInt64(h.clusterBits)
            self.l2Entries = 1 << (h.clusterBits - 3)
            self.l1 = h.l1
            self.l1Offset = h.l1Offset
            self.rtOffset = h.rtOffset
            self.rtClusters = h.rtClusters
            self.refTable = h.refTable
            self.refsPerBlock = ((1 << UInt64(h.clusterBits)) * 8) >> UInt64(h.refcountOrder)
            self.l2CacheCapacity = min(512, max(8, (8 << 20) >> h.clusterBits))
            self.rbCacheCapacity = min(1024, max(8, (8 << 20) >> h.clusterBits))
            self.fileEnd = (h.fileSize + (1 << UInt64(h.clusterBits)) - 1) & ~((1 << UInt64(h.clusterBits)) - 1)
            let name = path.split(separator: "/").last.map(String.init) ?? "disk"
            self.serial = String(name.utf8.prefix(20).map { Character(UnicodeScalar($0)) })
            if let b = h.backingName {
                guard !b.contains(":") || b.hasPrefix("/") || b.hasPrefix(".") else {
                    throw BlockError("\(path): backing file '\(b)' uses a protocol prefix, which is not supported")
                }
                let dir: String = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
                let resolved = b.hasPrefix("/") ? b : (dir.isEmpty ? "/" : dir) + "/" + b
                self.backingPath = resolved
                var fmt = h.backingFormat ?? (isQcow2Image(path: resolved) ? "qcow2" : "raw")
                if fmt == "file" { fmt = "raw" }
                switch fmt {
                case "qcow2": self.backing = try Qcow2Backend(path: resolved, readOnly: true, depth: depth + 1)
                case "raw": self.backing = try RawFileBackend(path: resolved, readOnly: true)
                default: throw BlockError("\(path): backing file \(resolved) has unsupported format '\(fmt)'")
                }
            } else {
                self.backingPath = nil
                self.backing = nil
            }
        } catch {
            sysClose(fd)
            if let e = error as? BlockError, e.description.hasPrefix(path) { throw e }
            throw BlockError("\(path): \(error)")
        }
        if !readOnly, version >= 3 {
            // Unknown autoclear features must be cleared before writing (we know none of them).
            var hdr = [UInt8](repeating: 0, count: 8)
            try preadFull(&hdr, at: 88)
            if be64(hdr, 0) != 0 { try pwriteFull(bytesBE(0), at: 88) }
        }
    }

    deinit { if fd >= 0 { sysClose(fd) } }

    public func setLocked(_ locked: Bool) throws { try setDiskImageLock(fd, path: path, readOnly: readOnly, locked: locked) }

    /// Releases the file (and its lock). Further use throws.
    public func close() {
        if fd >= 0 { _ = fsync(fd); sysClose(fd); fd = -1 }
    }

    // MARK: File I/O

    private func preadRaw(_ p: UnsafeMutableRawPointer, _ count: Int, at offset: UInt64) throws {
        guard fd >= 0 else { throw BlockError("\(path): image is closed") }
        var done = 0
        while done < count {
            let n = pread(fd, p + done, count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; throw BlockError("\(path): read error: \(errnoString())") }
            if n == 0 { (p + done).initializeMemory(as: UInt8.self, repeating: 0, count: count - done); return }
            done += n
        }
    }
    private func pwriteRaw(_ p: UnsafeRawPointer, _ count: Int, at offset: UInt64) throws {
        guard fd >= 0 else { throw BlockError("\(path): image is closed") }
        var done = 0
        while done < count {
            let n = pwrite(fd, p + done, count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; throw BlockError("\(path): write error: \(errnoString())") }
            if n == 0 { throw BlockError("\(path): short write") }
            done += n
        }
    }
    private func preadFull(_ b: inout [UInt8], at offset: UInt64) throws {
        let c = b.count
        try b.withUnsafeMutableBytes { try preadRaw($0.baseAddress!, c, at: offset) }
    }
    private func pwriteFull(_ b: [UInt8], at offset: UInt64) throws {
        try b.withUnsafeBytes { try pwriteRaw($0.baseAddress!, $0.count, at: offset) }
    }

    private func corrupt(_ what: String) -> BlockError { BlockError("\(path): corrupt qcow2 image: \(what)") }

    // MARK: Mapping

    private enum Mapping {
        case unallocated
        case zero(host: UInt64)        // host 0 when no cluster is preallocated
        case data(host: UInt64, copied: Bool)
        case compressed(entry: UInt64)
    }

    private func l2Table(at off: UInt64) throws -> L2Table {
        tick += 1
        if let t = l2Cache[off] { t.used = tick; return t }
        var raw = [UInt8](repeating: 0, count: Int(cs))
        try preadFull(&raw, at: off)
        let t = L2Table(raw.withUnsafeBytes { p in (0..<l2Entries).map { be64(p.baseAddress!, $0 * 8) } })
        insertL2(off, t)
        return t
    }
    private func insertL2(_ off: UInt64, _ t: L2Table) { insert(off, t, into: &l2Cache, capacity: l2CacheCapacity) }
    private func insertRB(_ off: UInt64, _ b: RefBlock) { insert(off, b, into: &rbCache, capacity: rbCacheCapacity) }
    /// Adds a table to a cache, evicting the least recently used one when the cache is full.
    private func insert<T: CachedTable>(_ off: UInt64, _ table: T, into cache: inout [UInt64: T], capacity: Int) {
        if cache.count >= capacity, let victim = cache.min(by: { $0.value.used < $1.value.used })?.key {
            cache[victim] = nil
        }
        tick += 1
        table.used = tick
        cache[off] = table
    }
    private func loadRefBlock(_ boff: UInt64) throws -> RefBlock {
        tick += 1
        if let b = rbCache[boff] { b.used = tick; return b }
        try checkClusterOffset(boff, "refcount block")
        var raw = [UInt8](repeating: 0, count: Int(cs))
        try preadFull(&raw, at: boff)
        let b = RefBlock(raw)
        insertRB(boff, b)
        return b
    }

    private func checkClusterOffset(_ off: UInt64, _ what: String) throws {
        guard off & (cs - 1) == 0 else { throw corrupt("\(what) offset 0x\(String(off, radix: 16)) is not cluster-aligned") }
        guard off < fileEnd else { throw corrupt("\(what) offset 0x\(String(off, radix: 16)) is beyond the end of the file") }
    }

    /// Returns the L2 table (nil if unallocated) and index for guest offset `pos`.
    private func l2Lookup(_ pos: UInt64) throws -> (L2Table, Int)? {
        let gc = pos >> UInt64(clusterBits)
        let l1i = Int(gc / UInt64(l2Entries))
        guard l1i < l1.count else { return nil }
        let l2off = l1[l1i] & l1OffsetMask
        if l2off == 0 { return nil }
        try checkClusterOffset(l2off, "L2 table")
        return (try l2Table(at: l2off), Int(gc % UInt64(l2Entries)))
    }

    private func decode(_ e: UInt64) throws -> Mapping {
        if e & oflagCompressed != 0 { return .compressed(entry: e) }
        let host = e & l2OffsetMask
        if e & oflagZero != 0 { return .zero(host: host) }
        if host == 0 { return .unallocated }
        try checkClusterOffset(host, "data cluster")
        return .data(host: host, copied: e & oflagCopied != 0)
    }

    private func mapping(_ pos: UInt64) throws -> Mapping {
        guard let (t, i) = try l2Lookup(pos) else { return .unallocated }
        return try decode(t.e[i])
    }

    // MARK: Reading

    private func readBacking(_ dst: UnsafeMutableRawBufferPointer, at pos: UInt64) throws {
        guard let b = backing else { dst.initializeMemory(as: UInt8.self, repeating: 0); return }
        if b is RawFileBackend { return try b.read(into: dst, at: pos) }   // zeros past its end
        let avail = pos >= b.size ? 0 : Int(min(UInt64(dst.count), b.size - pos))
        if avail > 0 { try b.read(into: UnsafeMutableRawBufferPointer(rebasing: dst[0..<avail]), at: pos) }
        if avail < dst.count { UnsafeMutableRawBufferPointer(rebasing: dst[avail...]).initializeMemory(as: UInt8.self, repeating: 0) }
    }

    private func decompress(_ e: UInt64) throws -> [UInt8] {
        if let c = lastCompressed, c.entry == e { return c.data }
        let x = 62 - (clusterBits - 8)
        let off = e & ((1 << UInt64(x)) - 1)
        let sectors = (e & ~oflagCopied & ~oflagCompressed) >> UInt64(x)
        var len = (sectors + 1) * 512 - (off & 511)
        guard off < fileEnd else { throw corrupt("compressed cluster at 0x\(String(off, radix: 16)) is beyond the end of the file") }
        len = min(len, fileEnd - off)
        var src = [UInt8](repeating: 0, count: Int(len))
        try preadFull(&src, at: off)
        guard let out = Inflate.rawInflate(src, outputSize: Int(cs)) else {
            throw BlockError("\(path): cannot decompress the compressed cluster at 0x\(String(off, radix: 16)) (bad deflate data)")
        }
        lastCompressed = (e, out)
        return out
    }

    private func readMapped(_ m: Mapping, _ dst: UnsafeMutableRawBufferPointer, guestPos pos: UInt64) throws {
        let inCl = pos & (cs - 1)
        switch m {
        case .unallocated: try readBacking(dst, at: pos)
        case .zero: dst.initializeMemory(as: UInt8.self, repeating: 0)
        case .data(let host, _): try preadRaw(dst.baseAddress!, dst.count, at: host + inCl)
        case .compressed(let e):
            let c = try decompress(e)
            c.withUnsafeBytes { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(inCl)..<Int(inCl) + dst.count])) }
        }
    }

    private func checkRange(_ offset: UInt64, _ len: UInt64) throws {
        guard offset <= size, len <= size - offset else { throw BlockError("\(path): access beyond the end of the disk") }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkRange(offset, UInt64(buffer.count))
        var done = 0
        while done < buffer.count {
            let pos = offset + UInt64(done)
            let inCl = Int(pos & (cs - 1))
            var n = min(buffer.count - done, Int(cs) - inCl)
            let m = try mapping(pos)
            // Coalesce physically contiguous data clusters into one pread.
            if case .data(let host, _) = m {
                var next = host + cs
                while done + n < buffer.count, n < 1 << 24 {
                    guard case .data(let h2, _) = try mapping(pos + UInt64(n)), h2 == next else { break }
                    n = min(buffer.count - done, n + Int(cs)); next += cs
                }
            }
            try readMapped(m, UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n]), guestPos: pos)
            done += n
        }
    }

    // MARK: Refcounts

    private func refBlock(forHost off: UInt64, allocate: Bool) throws -> (RefBlock, UInt64, Int)? {
        let ci = off >> UInt64(clusterBits)
        let rti = ci / refsPerBlock
        if rti >= UInt64(refTable.count) {
            guard allocate else { return nil }
            try growRefTable(needIndex: rti)
        }
        var boff = refTable[Int(rti)] & refTableOffsetMask
        if boff == 0 {
            guard allocate else { return nil }
            boff = try newRefBlock(Int(rti))
        }
        return (try loadRefBlock(boff), boff, Int(ci % refsPerBlock))
    }

    private func getEntry(_ b: RefBlock, _ i: Int) -> UInt64 {
        let bits = 1 << refcountOrder
        if bits >= 8 {
            let nb = bits / 8
            var v: UInt64 = 0
            for k in 0..<nb { v = v << 8 | UInt64(b.b[i * nb + k]) }
            return v
        }
        let bitPos = i * bits
        return UInt64(b.b[bitPos / 8] >> UInt8(bitPos % 8)) & ((1 << UInt64(bits)) - 1)
    }

    /// Sets the entry in memory and writes the changed bytes to the file.
    private func setEntry(_ b: RefBlock, _ boff: UInt64, _ i: Int, _ v: UInt64) throws {
        let bits = 1 << refcountOrder
        if bits >= 8 {
            let nb = bits / 8
            for k in 0..<nb { b.b[i * nb + k] = UInt8(truncatingIfNeeded: v >> UInt64(8 * (nb - 1 - k))) }
            try b.b.withUnsafeBytes { try pwriteRaw($0.baseAddress! + i * nb, nb, at: boff + UInt64(i * nb)) }
        } else {
            let bitPos = i * bits
            let mask = UInt8((1 << bits) - 1) << UInt8(bitPos % 8)
            let byte = bitPos / 8
            b.b[byte] = (b.b[byte] & ~mask) | (UInt8(truncatingIfNeeded: v) << UInt8(bitPos % 8) & mask)
            try b.b.withUnsafeBytes { try pwriteRaw($0.baseAddress! + byte, 1, at: boff + UInt64(byte)) }
        }
    }

    /// The refcount of the host cluster containing `off`.
    func refcount(ofHostOffset off: UInt64) throws -> UInt64 {
        guard let (b, _, i) = try refBlock(forHost: off, allocate: false) else { return 0 }
        return getEntry(b, i)
    }

    private func adjustRef(_ off: UInt64, _ delta: Int) throws {
        guard let (b, boff, i) = try refBlock(forHost: off, allocate: delta > 0) else {
            throw corrupt("freeing cluster 0x\(String(off, radix: 16)) that has no refcount block")
        }
        let v = getEntry(b, i)
        let maxV: UInt64 = refcountOrder == 6 ? .max : (1 << UInt64(1 << refcountOrder)) - 1
        if delta > 0 {
            guard v < maxV else { throw BlockError("\(path): refcount overflow for cluster 0x\(String(off, radix: 16))") }
            try setEntry(b, boff, i, v + 1)
        } else {
            guard v > 0 else { throw corrupt("refcount of cluster 0x\(String(off, radix: 16)) would go below zero") }
            try setEntry(b, boff, i, v - 1)
            if v == 1 {
                // Free: give the space back to the host filesystem and let allocation reuse it.
                freeHint = min(freeHint, off >> UInt64(clusterBits))
                _ = fallocateFn?(fd, 0x03 /* PUNCH_HOLE | KEEP_SIZE */, Int(off & ~(cs - 1)), Int(cs))
            }
        }
    }

    private func writeZeroCluster(at off: UInt64) throws {
        let z = [UInt8](repeating: 0, count: Int(cs))
        try pwriteFull(z, at: off)
    }

    /// Allocates a refcount block for refcount-table index `rti` at the end of the file.
    private func newRefBlock(_ rti: Int) throws -> UInt64 {
        let b = fileEnd
        fileEnd += cs
        try writeZeroCluster(at: b)
        insertRB(b, RefBlock([UInt8](repeating: 0, count: Int(cs))))
        refTable[rti] = b
        if !growingRefTable { try pwriteFull(bytesBE(b), at: rtOffset + UInt64(rti) * 8) }
        try adjustRef(b, +1)   // the block usually describes itself; otherwise this recurses once
        return b
    }

    private func growRefTable(needIndex: UInt64) throws {
        guard !growingRefTable else { throw BlockError("\(path): internal error: refcount table growth did not reserve enough entries") }
        growingRefTable = true
        defer { growingRefTable = false }
        let oldOff = rtOffset, oldClusters = rtClusters
        var nc = max(oldClusters * 2, 1)
        func required(_ nc: UInt64) -> UInt64 {
            let clusters = fileEnd / cs + nc + (nc * cs / 8) + 4
            return max(needIndex + 1, clusters / refsPerBlock + 2)
        }
        while nc * cs / 8 < required(nc) { nc *= 2 }
        let newOff = fileEnd
        fileEnd += nc * cs
        refTable += [UInt64](repeating: 0, count: Int(nc * cs / 8) - refTable.count)
        for k in 0..<nc { try adjustRef(newOff + k * cs, +1) }
        var raw = [UInt8]()
        raw.reserveCapacity(Int(nc * cs))
        for e in refTable { raw += bytesBE(e) }
        try pwriteFull(raw, at: newOff)
        guard fdatasync(fd) == 0 else { throw BlockError("\(path): fsync failed: \(errnoString())") }
        try pwriteFull(bytesBE(newOff) + bytesBE32(UInt32(nc)), at: 48)
        guard fdatasync(fd) == 0 else { throw BlockError("\(path): fsync failed: \(errnoString())") }
        rtOffset = newOff
        rtClusters = nc
        growingRefTable = false
        for k in 0..<oldClusters { try adjustRef(oldOff + k * cs, -1) }
    }

    /// Allocates one cluster (refcount 1): the first free one inside the file, else at the end.
    /// Callers overwrite the whole cluster.
    private func allocateCluster() throws -> UInt64 {
        let endIdx = fileEnd >> UInt64(clusterBits)
        var ci = freeHint
        var found: UInt64?
        scan: while ci < endIdx {
            let rti = ci / refsPerBlock
            guard rti < UInt64(refTable.count) else { break }
            let boff = refTable[Int(rti)] & refTableOffsetMask
            if boff == 0 { found = ci; break }
            let blk = try loadRefBlock(boff)
            let blockEnd = min(endIdx, (rti + 1) * refsPerBlock)
            while ci < blockEnd {
                if getEntry(blk, Int(ci % refsPerBlock)) == 0 { found = ci; break scan }
                ci += 1
            }
        }
        freeHint = ci
        let off: UInt64
        if let f = found {
            off = f << UInt64(clusterBits)
        } else {
            off = fileEnd
            fileEnd += cs
        }
        try adjustRef(off, +1)
        freeHint = max(freeHint, (off >> UInt64(clusterBits)) + 1)
        return off
    }

    private func freeMapping(_ m: Mapping) throws {
        switch m {
        case .data(let host, _):
            try adjustRef(host, -1)
        case .zero(let host):
            if host != 0 { try adjustRef(host, -1) }
        case .compressed(let e):
            let x = 62 - (clusterBits - 8)
            let off = e & ((1 << UInt64(x)) - 1)
            let sectors = (e & ~oflagCopied & ~oflagCompressed) >> UInt64(x)
            let end = (off & ~511) + (sectors + 1) * 512
            guard end <= fileEnd else { throw corrupt("compressed cluster at 0x\(String(off, radix: 16)) extends beyond the end of the file") }
            var c = off & ~(cs - 1)
            while c < end { try adjustRef(c, -1); c += cs }
        default: break
        }
    }

    // MARK: Writing

    private func setL2(_ t: L2Table, _ l2off: UInt64, _ i: Int, _ v: UInt64) throws {
        t.e[i] = v
        try pwriteFull(bytesBE(v), at: l2off + UInt64(i) * 8)
    }

    /// The L2 table for guest offset `pos`, allocating it if needed.
    private func l2ForWrite(_ pos: UInt64) throws -> (L2Table, UInt64, Int) {
        let gc = pos >> UInt64(clusterBits)
        let l1i = Int(gc / UInt64(l2Entries))
        guard l1i < l1.count else { throw corrupt("L1 table too small for the virtual size") }
        var l2off = l1[l1i] & l1OffsetMask
        if l2off == 0 {
            l2off = try allocateCluster()
            try writeZeroCluster(at: l2off)
            insertL2(l2off, L2Table([UInt64](repeating: 0, count: l2Entries)))
            l1[l1i] = l2off | oflagCopied
            try pwriteFull(bytesBE(l1[l1i]), at: l1Offset + UInt64(l1i) * 8)
        } else {
            try checkClusterOffset(l2off, "L2 table")
            if l1[l1i] & oflagCopied == 0 {
                guard try refcount(ofHostOffset: l2off) == 1 else {
                    throw BlockError("\(path): writing to an L2 table shared with a snapshot is not supported")
                }
                l1[l1i] |= oflagCopied
                try pwriteFull(bytesBE(l1[l1i]), at: l1Offset + UInt64(l1i) * 8)
            }
        }
        return (try l2Table(at: l2off), l2off, Int(gc % UInt64(l2Entries)))
    }

    private func checkWritable() throws {
        guard !readOnly else { throw BlockError("\(path): read-only") }
    }

    public func write(from buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        try checkWritable()
        try checkRange(offset, UInt64(buffer.count))
        var done = 0
        while done < buffer.count {
            let pos = offset + UInt64(done)
            let inCl = Int(pos & (cs - 1))
            let n = min(buffer.count - done, Int(cs) - inCl)
            let src = UnsafeRawBufferPointer(rebasing: buffer[done..<done + n])
            let (t, l2off, i) = try l2ForWrite(pos)
            let m = try decode(t.e[i])
            if case .data(let host, true) = m {
                try pwriteRaw(src.baseAddress!, n, at: host + UInt64(inCl))
            } else {
                try rewriteCluster(t, l2off, i, m, guestBase: pos - UInt64(inCl), whole: n == Int(cs)) { cluster in
                    UnsafeMutableRawBufferPointer(rebasing: cluster[inCl..<inCl + n]).copyMemory(from: src)
                }
            }
            done += n
        }
    }

    /// Gives guest cluster `i` of table `t` a private, writable host cluster holding its current
    /// contents modified by `change`.
    private func rewriteCluster(_ t: L2Table, _ l2off: UInt64, _ i: Int, _ m: Mapping, guestBase: UInt64,
                                whole: Bool = false, _ change: (UnsafeMutableRawBufferPointer) -> Void) throws {
        let cluster = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(cs), alignment: 4096)
        defer { cluster.deallocate() }
        if whole { cluster.initializeMemory(as: UInt8.self, repeating: 0) } else { try readMapped(m, cluster, guestPos: guestBase) }
        change(cluster)
        if case .zero(let host) = m, host != 0, t.e[i] & oflagCopied != 0 {
            // Preallocated zero cluster that is ours alone: fill it in place.
            try pwriteRaw(cluster.baseAddress!, cluster.count, at: host)
            try setL2(t, l2off, i, host | oflagCopied)
            return
        }
        let host = try allocateCluster()
        try pwriteRaw(cluster.baseAddress!, cluster.count, at: host)
        try setL2(t, l2off, i, host | oflagCopied)
        try freeMapping(m)
    }

    public func flush() throws {
        guard !readOnly else { return }
        guard fd >= 0 else { throw BlockError("\(path): image is closed") }
        guard fsync(fd) == 0 else { throw BlockError("\(path): fsync failed: \(errnoString())") }
    }

    public func discard(offset: UInt64, length: UInt64) throws {
        try writeZeroes(offset: offset, length: length, unmap: true)
    }

    public func writeZeroes(offset: UInt64, length: UInt64, unmap: Bool) throws {
        try checkWritable()
        try checkRange(offset, length)
        var pos = offset
        let end = offset + length
        while pos < end {
            let inCl = pos & (cs - 1)
            let n = min(end - pos, cs - inCl)
            if n < cs {
                let zeros = [UInt8](repeating: 0, count: Int(n))
                try zeros.withUnsafeBytes { try write(from: $0, at: pos) }
            } else if version >= 3 {
                let (t, l2off, i) = try l2ForWrite(pos)
                let m = try decode(t.e[i])
                if case .data(let host, true) = m, !unmap {
                    try setL2(t, l2off, i, host | oflagCopied | oflagZero)   // keep the allocation
                } else {
                    try setL2(t, l2off, i, oflagZero)
                    try freeMapping(m)
                }
            } else if backing == nil {
                // v2 has no zero flag; unallocated reads as zeros when there is no backing file.
                if let (t, i) = try l2Lookup(pos) {
                    let m = try decode(t.e[i])
                    let l2off = l1[Int((pos >> UInt64(clusterBits)) / UInt64(l2Entries))] & l1OffsetMask
                    try setL2(t, l2off, i, 0)
                    try freeMapping(m)
                }
            } else {
                let (t, l2off, i) = try l2ForWrite(pos)
                let m = try decode(t.e[i])
                if case .data(let host, true) = m {
                    let zeros = [UInt8](repeating: 0, count: Int(cs))
                    try pwriteFull(zeros, at: host)
                } else {
                    try rewriteCluster(t, l2off, i, m, guestBase: pos, whole: true) { _ in }
                }
            }
            pos += n
        }
    }
}

/// The parsed, validated header of a qcow2 image.
struct Qcow2Header {
    var version = 0
    var clusterBits = 0
    var size: UInt64 = 0
    var refcountOrder = 4
    var l1: [UInt64] = []
    var l1Offset: UInt64 = 0
    var rtOffset: UInt64 = 0
    var rtClusters: UInt64 = 0
    var refTable: [UInt64] = []
    var backingName: String?
    var backingFormat: String?
    var fileSize: UInt64 = 0
    var snapshots = 0

    static func parse(fd: Int32, path: String, readOnly: Bool) throws -> Qcow2Header {
        func bad(_ s: String) -> BlockError { BlockError("\(path): not a valid qcow2 image: \(s)") }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else { throw BlockError("\(path): cannot determine file size: \(errnoString())") }
        let fileSize = UInt64(end)
        func readAt(_ off: UInt64, _ n: Int) throws -> [UInt8] {
            var b = [UInt8](repeating: 0, count: n)
            var done = 0
            while done < n {
                let r = b.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, n - done, off_t(off) + off_t(done)) }
                if r < 0 { if errno == EINTR { continue }; throw BlockError("\(path): read error: \(errnoString())") }
                if r == 0 { throw bad("file is truncated (needs \(off + UInt64(n)) bytes, has \(fileSize))") }
                done += r
            }
            return b
        }
        guard fileSize >= 72 else { throw bad("file is too short for a qcow2 header (\(fileSize) bytes)") }
        let hb = try readAt(0, 72)
        guard Array(hb[0..<4]) == qcow2Magic else { throw bad("bad magic (expected QFI\\xfb)") }
        var h = Qcow2Header()
        h.fileSize = fileSize
        h.version = Int(be32(hb, 4))
        guard h.version == 2 || h.version == 3 else { throw BlockError("\(path): unsupported qcow2 version \(h.version) (supported: 2, 3)") }
        let backingOffset = be64(hb, 8)
        let backingSize = be32(hb, 16)
        h.clusterBits = Int(be32(hb, 20))
        guard (9...21).contains(h.clusterBits) else { throw bad("cluster_bits \(h.clusterBits) is outside 9...21") }
        let cs = UInt64(1) << UInt64(h.clusterBits)
        h.size = be64(hb, 24)
        let crypt = be32(hb, 32)
        guard crypt == 0 else { throw BlockError("\(path): encrypted qcow2 images are not supported (crypt_method \(crypt))") }
        let l1Size = UInt64(be32(hb, 36))
        h.l1Offset = be64(hb, 40)
        h.rtOffset = be64(hb, 48)
        h.rtClusters = UInt64(be32(hb, 56))
        h.snapshots = Int(be32(hb, 60))
        var headerLength = 72
        if h.version == 3 {
            guard fileSize >= 104 else { throw bad("file is too short for a version 3 header") }
            let v3 = try readAt(72, 32)
            let incompat = be64(v3, 0)
            h.refcountOrder = Int(be32(v3, 24))
            headerLength = Int(be32(v3, 28))
            guard headerLength >= 104, headerLength % 8 == 0, UInt64(headerLength) <= cs else {
                throw bad("header_length \(headerLength) is invalid")
            }
            if incompat & 4 != 0 { throw BlockError("\(path): qcow2 images with an external data file are not supported") }
            if incompat & 16 != 0 { throw BlockError("\(path): qcow2 images with extended L2 entries (subclusters) are not supported") }
            if incompat & 8 != 0 {
                var ctype: UInt8 = 0xff
                if headerLength > 104 { ctype = try readAt(104, 1)[0] }
                throw BlockError("\(path): compression type \(ctype) is not supported (only zlib)")
            }
            let unknown = incompat & ~UInt64(0x1f)
            if unknown != 0 { throw BlockError("\(path): qcow2 image uses unknown incompatible features 0x\(String(unknown, radix: 16))") }
            if incompat & 1 != 0 && !readOnly {
                throw BlockError("\(path): qcow2 image is marked dirty (refcounts may be inconsistent); run `qemu-img check -r all` first")
            }
            if incompat & 2 != 0 && !readOnly {
                throw BlockError("\(path): qcow2 image is marked corrupt; it can only be opened read-only (repair with `qemu-img check -r all`)")
            }
            guard h.refcountOrder <= 6 else { throw bad("refcount_order \(h.refcountOrder) exceeds 6") }
        }
        // Header extensions.
        if UInt64(headerLength) < min(cs, fileSize) {
            let ext = try readAt(UInt64(headerLength), Int(min(cs, fileSize)) - headerLength)
            var p = 0
            while p + 8 <= ext.count {
                let type = be32(ext, p), len = Int(be32(ext, p + 4))
                if type == 0 { break }
                guard len <= ext.count - p - 8 else { throw bad("header extension 0x\(String(type, radix: 16)) overruns the first cluster") }
                let data = Array(ext[(p + 8)..<(p + 8 + len)])
                if type == 0xe279_2aca { h.backingFormat = String(decoding: data, as: UTF8.self) }
                if type == 0x0537_be77 { throw BlockError("\(path): encrypted qcow2 images are not supported") }
                if type == 0x4441_5441 { throw BlockError("\(path): qcow2 images with an external data file are not supported") }
                p += 8 + (len + 7) / 8 * 8
            }
        }
        if backingOffset != 0 {
            guard backingSize > 0, backingSize <= 1023, backingOffset < cs, backingOffset + UInt64(backingSize) <= min(cs, fileSize) else {
                throw bad("backing file name (offset \(backingOffset), size \(backingSize)) lies outside the first cluster")
            }
            h.backingName = String(decoding: try readAt(backingOffset, Int(backingSize)), as: UTF8.self)
        }
        // Virtual size and L1.
        guard h.size <= 1 << 56 else { throw bad("virtual size \(h.size) is too large") }
        let perL1 = cs * (cs / 8)
        let neededL1 = (h.size + perL1 - 1) / perL1
        guard l1Size >= neededL1 else { throw bad("L1 table (\(l1Size) entries) is too small for the virtual size \(h.size)") }
        guard l1Size <= 32 << 20 / 8 else { throw bad("L1 table size \(l1Size) is too large") }
        if l1Size > 0 {
            guard h.l1Offset & (cs - 1) == 0 else { throw bad("L1 table offset 0x\(String(h.l1Offset, radix: 16)) is not cluster-aligned") }
            guard h.l1Offset < fileSize, l1Size * 8 <= fileSize - h.l1Offset else { throw bad("L1 table lies beyond the end of the file") }
            let raw = try readAt(h.l1Offset, Int(l1Size) * 8)
            h.l1 = (0..<Int(l1Size)).map { be64(raw, $0 * 8) }
        }
        // Refcount table.
        guard h.rtClusters > 0, h.rtClusters <= (1 << 23) else { throw bad("refcount table size \(h.rtClusters) clusters is invalid") }
        guard h.rtOffset & (cs - 1) == 0, h.rtOffset != 0 else { throw bad("refcount table offset 0x\(String(h.rtOffset, radix: 16)) is not cluster-aligned") }
        guard h.rtOffset < fileSize, h.rtClusters * cs <= fileSize - h.rtOffset + cs else { throw bad("refcount table lies beyond the end of the file") }
        let rtBytes = Int(h.rtClusters * cs)
        var rtRaw = [UInt8](repeating: 0, count: rtBytes)
        let avail = Int(min(UInt64(rtBytes), fileSize - h.rtOffset))
        rtRaw.replaceSubrange(0..<avail, with: try readAt(h.rtOffset, avail))
        h.refTable = (0..<(rtBytes / 8)).map { be64(rtRaw, $0 * 8) }
        for e in h.refTable where e != 0 {
            let o = e & refTableOffsetMask
            guard o & (cs - 1) == 0, o < fileSize else { throw bad("refcount block offset 0x\(String(o, radix: 16)) is misaligned or beyond the end of the file") }
        }
        if h.snapshots > 0 && !readOnly {
            throw BlockError("\(path): qcow2 image has \(h.snapshots) internal snapshot(s); writing such images is not supported (use readonly=on)")
        }
        return h
    }
}
