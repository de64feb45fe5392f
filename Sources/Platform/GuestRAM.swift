#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Physical accesses that miss RAM (MMIO). Implemented by the board's bus.
/// Called only on the slow path; `nil`/`false` means nothing answers there (access fault).
public protocol PhysicalBus: AnyObject {
    func load(_ addr: UInt64, size: Int) -> UInt64?
    func store(_ addr: UInt64, size: Int, value: UInt64) -> Bool
}

public struct GuestRAMError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Guest RAM: one contiguous host allocation mapped at `base`.
/// Devices doing DMA must go through `write`/`copyIn` (or call `invalidateCode`) so decoded
/// instructions of overwritten code pages are discarded.
public final class GuestRAM: @unchecked Sendable {
    public let base: UInt64
    public let size: UInt64
    public let pointer: UnsafeMutableRawPointer
    /// Called with a physical page number whenever RAM on that page is written from outside a hart.
    public var codeWriteHook: ((UInt64) -> Void)?
    /// The dirty-page log (nil while off): one byte per page, set to 1 by every write path — harts'
    /// slow-path stores (which the store TLB funnels through once per page after each `takeDirtyPages`),
    /// atomics, page-table A/D updates, HSV, and device DMA (`invalidateCode`). A byte rather than a
    /// bit so that writers on several threads never need a read-modify-write: they only ever store 1.
    @exclusivity(unchecked) public private(set) var dirtyLog: UnsafeMutablePointer<UInt8>?
    public var pageCount: Int { Int(size >> 12) }
    /// Some of RAM is a private mapping of a snapshot's memory file (`mapFile`), whose untouched pages
    /// are not zero: a page's residency says nothing about its contents then.
    public private(set) var isFileBacked = false
    /// Post-copy migration: one byte per page, 1 while the page is still at the source (nil otherwise).
    /// Every path to RAM but a store-TLB hit goes through `hostPointer` or a fetch fill, which call
    /// `fetchMissing` first; TLB entries are only filled for pages that are here.
    @exclusivity(unchecked) public private(set) var missing: UnsafeMutablePointer<UInt8>?
    /// Blocks until the page (index) has arrived; installed with `missing`.
    public private(set) var fetchMissing: ((Int) -> Void)?

    /// Throws `GuestRAMError` when the host cannot reserve `size` bytes of address space.
    public init(base: UInt64, size: UInt64) throws {
        precondition(size > 0 && size % 4096 == 0, "RAM size must be a positive multiple of 4 KiB")
        self.base = base
        self.size = size
        // mmap gives zeroed, lazily committed pages: a 4 GiB guest costs nothing until touched.
        let p = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        // MAP_NORESERVE: overcommit policy must not refuse a large guest whose pages are never touched.
        guard let p, p != MAP_FAILED else {
            throw GuestRAMError("cannot reserve \(size >> 20) MiB of guest RAM: \(String(cString: strerror(errno))); lower --memory or raise the host's limits (ulimit -v, vm.overcommit_memory)")
        }
        self.pointer = p
    }
    deinit { munmap(pointer, Int(size)); dirtyLog?.deallocate() }

    // MARK: Dirty-page log

    /// Starts logging writes (every page clean). The caller must also make the harts' store TLBs
    /// refill (a TLB hit bypasses the log), as `Machine.startDirtyLog` does.
    public func startDirtyLog() {
        if dirtyLog == nil { dirtyLog = .allocate(capacity: pageCount) }
        dirtyLog!.initialize(repeating: 0, count: pageCount)
    }
    public func stopDirtyLog() { dirtyLog?.deallocate(); dirtyLog = nil }
    @inline(__always) public func markDirty(ramPage index: Int) { if let d = dirtyLog { d[index] = 1 } }
    public func markDirty(_ addr: UInt64, _ len: UInt64) {
        guard let d = dirtyLog, len > 0, contains(addr, len) else { return }
        var page = Int((addr - base) >> 12)
        let last = Int((addr - base + len - 1) >> 12)
        while page <= last { d[page] = 1; page += 1 }
    }
    /// The pages written since the log started or was last taken, in ascending order; the log
    /// restarts empty. Call at a safe point (no hart running) with the store TLBs flushed after.
    public func takeDirtyPages() -> [Int] {
        guard let d = dirtyLog else { return [] }
        var out: [Int] = []
        let words = UnsafeMutableRawPointer(d).assumingMemoryBound(to: UInt64.self)
        let n = pageCount
        var i = 0
        while i + 8 <= n {
            if words[i >> 3] != 0 {
                for j in i..<i + 8 where d[j] != 0 { out.append(j) }
                words[i >> 3] = 0
            }
            i += 8
        }
        while i < n { if d[i] != 0 { out.append(i); d[i] = 0 }; i += 1 }
        return out
    }

    // MARK: Post-copy

    /// Marks `pages` as absent: the first access to each calls `fetch(page)`, which must not return
    /// before it has written the page and called `arrived`.
    public func beginPostcopy(pages: [Int], fetch: @escaping (Int) -> Void) {
        let m = UnsafeMutablePointer<UInt8>.allocate(capacity: pageCount)
        m.initialize(repeating: 0, count: pageCount)
        for p in pages where p >= 0 && p < pageCount { m[p] = 1 }
        fetchMissing = fetch
        missing = m
    }
    /// Whether the page is still absent.
    public func isMissing(_ page: Int) -> Bool {
        guard let m = missing else { return false }
        atomicMemoryFence(ordering: .acquiring)
        return m[page] != 0
    }
    /// The page's contents are in place (called by the receiver after writing them).
    public func arrived(_ page: Int) {
        atomicMemoryFence(ordering: .releasing)
        missing?[page] = 0
    }
    /// Every page is here: accesses stop checking. The map itself is kept (another thread may be
    /// reading it this instant); it is a byte per page.
    public func endPostcopy() { missing = nil }

    /// Fetches any absent page of [addr, addr+len) (inside RAM).
    @inline(never) func ensurePresent(_ addr: UInt64, _ len: UInt64, _ m: UnsafeMutablePointer<UInt8>) {
        var page = Int((addr - base) >> 12)
        let last = Int((addr - base + max(len, 1) - 1) >> 12)
        while page <= last {
            if m[page] != 0 { fetchMissing?(page) }
            page += 1
        }
        atomicMemoryFence(ordering: .acquiring)
    }
    /// The host address of RAM page `index` for a fetch fill (which reads the page's code).
    @inline(__always) public func pagePointer(forFetch index: Int) -> UnsafeMutableRawPointer {
        if let m = missing, m[index] != 0 { fetchMissing?(index); atomicMemoryFence(ordering: .acquiring) }
        return pointer + (index << 12)
    }

    // MARK: Restore

    /// Replaces the contents of RAM with a copy-on-write mapping of `length` bytes of the file `fd`
    /// from `fileOffset`, at guest address `addr` (page-aligned): pages are read from the file on first
    /// touch and writes stay private to this process (`MAP_PRIVATE`), so a restore costs nothing per
    /// byte and clones share unmodified pages in the host's page cache.
    public func mapFile(_ fd: Int32, fileOffset: UInt64, at addr: UInt64, length: UInt64) throws {
        guard length > 0 else { return }
        guard addr & 0xfff == 0, length & 0xfff == 0, fileOffset & 0xfff == 0, contains(addr, length) else {
            throw GuestRAMError("memory mapping 0x\(String(addr, radix: 16))+\(length) is not page-aligned inside RAM")
        }
        let target = pointer + Int(addr - base)
        let p = mmap(target, Int(length), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, off_t(fileOffset))
        guard p == target else {
            throw GuestRAMError("cannot map the memory file: \(String(cString: strerror(errno)))")
        }
        isFileBacked = true
        // Decoded code is the caller's to discard (one bulk invalidation: per-page hooks over all of
        // RAM cost ~20 ms at 4 GiB); the dirty log sees the new contents.
        markDirty(addr, length)
    }

    /// Every byte back to zero; the host pages are released (they refill with zeros on touch). The
    /// caller must discard decoded code (`CodeCache.invalidateAll`).
    public func clear() {
        // A fresh anonymous mapping, not MADV_DONTNEED: after a restore RAM is a private file mapping,
        // whose pages MADV_DONTNEED would refill from the snapshot instead of with zeros.
        let p = mmap(pointer, Int(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0)
        if p != pointer { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: Int(size)) } else { isFileBacked = false }
        // As for mapFile: the caller discards decoded code in bulk (Machine.reset does).
        markDirty(base, size)
    }

    @inline(__always) public func contains(_ addr: UInt64, _ len: UInt64) -> Bool {
        addr >= base && len <= size && addr - base <= size - len
    }

    /// Host pointer for [addr, addr+len) or nil when any byte is outside RAM.
    public func hostPointer(_ addr: UInt64, _ len: UInt64) -> UnsafeMutableRawPointer? {
        guard contains(addr, len) else { return nil }
        if let m = missing { ensurePresent(addr, len, m) }
        return pointer + Int(addr - base)
    }

    public func invalidateCode(_ addr: UInt64, _ len: UInt64) {
        markDirty(addr, len)
        guard let hook = codeWriteHook, len > 0 else { return }
        var page = addr >> 12
        let last = (addr + len - 1) >> 12
        while page <= last { hook(page); page += 1 }
    }

    /// Copies bytes into guest RAM; returns false (and writes nothing) when out of range.
    @discardableResult
    public func copyIn(_ addr: UInt64, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let p = hostPointer(addr, UInt64(bytes.count)) else { return false }
        if bytes.count > 0 { p.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        invalidateCode(addr, UInt64(bytes.count))
        return true
    }
    @discardableResult
    public func copyIn(_ addr: UInt64, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { copyIn(addr, $0) }
    }
    /// Copies bytes out of guest RAM; nil when out of range.
    public func copyOut(_ addr: UInt64, _ len: Int) -> [UInt8]? {
        guard len >= 0, let p = hostPointer(addr, UInt64(len)) else { return nil }
        return Array(UnsafeRawBufferPointer(start: p, count: len))
    }
    public func read<T: FixedWidthInteger>(_ addr: UInt64, as: T.Type) -> T? {
        guard let p = hostPointer(addr, UInt64(MemoryLayout<T>.size)) else { return nil }
        return T(littleEndian: p.loadUnaligned(as: T.self))
    }
    @discardableResult
    public func write<T: FixedWidthInteger>(_ addr: UInt64, _ value: T) -> Bool {
        guard let p = hostPointer(addr, UInt64(MemoryLayout<T>.size)) else { return false }
        p.storeBytes(of: value.littleEndian, as: T.self)
        invalidateCode(addr, UInt64(MemoryLayout<T>.size))
        return true
    }
}

/// The machine's time base: `mtime` ticks at `frequency` Hz from the host's monotonic clock.
/// Snapshots store `now()`; restoring sets `offset` so guest time continues where it stopped.
public final class TimeBase: @unchecked Sendable {
    public let frequency: UInt64
    public var offset: Int64 = 0
    private let start: UInt64

    public init(frequency: UInt64 = 10_000_000) {
        self.frequency = frequency
        self.start = TimeBase.hostNanos()
    }
    public static func hostNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
    /// Current mtime.
    public func now() -> UInt64 {
        let ns = TimeBase.hostNanos() &- start
        return UInt64(bitPattern: Int64(bitPattern: ns / (1_000_000_000 / frequency)) &+ offset)
    }
    /// Makes `now()` return `value` at this instant (restore, or guest writes to mtime).
    public func set(_ value: UInt64) {
        offset = 0
        offset = Int64(bitPattern: value &- now())
    }
    /// Host nanoseconds until mtime reaches `deadline` (0 if already reached).
    public func nanosUntil(_ deadline: UInt64) -> UInt64 {
        let n = now()
        if deadline <= n { return 0 }
        let d = deadline - n
        return d > UInt64.max / 1000 ? UInt64.max : d * (1_000_000_000 / frequency)
    }
}
