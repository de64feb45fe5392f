#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    deinit { munmap(pointer, Int(size)) }

    /// Every byte back to zero; the host pages are released (they refill with zeros on touch).
    public func clear() {
        if madvise(pointer, Int(size), MADV_DONTNEED) != 0 { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: Int(size)) }
        invalidateCode(base, size)
    }

    @inline(__always) public func contains(_ addr: UInt64, _ len: UInt64) -> Bool {
        addr >= base && len <= size && addr - base <= size - len
    }

    /// Host pointer for [addr, addr+len) or nil when any byte is outside RAM.
    public func hostPointer(_ addr: UInt64, _ len: UInt64) -> UnsafeMutableRawPointer? {
        contains(addr, len) ? pointer + Int(addr - base) : nil
    }

    public func invalidateCode(_ addr: UInt64, _ len: UInt64) {
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
