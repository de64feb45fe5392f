
/// A memory-mapped device. `offset` is relative to the device's base; `size` is 1, 2, 4 or 8.
/// Implementations must never trap: unknown registers read 0 and ignore writes.
public protocol MMIODevice: AnyObject {
    func read(_ offset: UInt64, size: Int) -> UInt64
    func write(_ offset: UInt64, size: Int, value: UInt64)
}

/// The board's MMIO bus: a set of non-overlapping regions, each served by one device.
public final class SystemBus: PhysicalBus {
    public struct Mapping {
        public let base: UInt64
        public let size: UInt64
        public let name: String
        public let device: MMIODevice
    }

    /// Mappings sorted by base address.
    public private(set) var mappings: [Mapping] = []
    private var lastHit = -1

    public init() {}

    /// Maps `device` at [base, base+size). Overlapping an existing region is a programming error.
    public func map(base: UInt64, size: UInt64, name: String, device: MMIODevice) {
        precondition(size > 0, "MMIO region \(name) has zero size")
        precondition(base &+ size == 0 || base &+ size > base, "MMIO region \(name) wraps the address space")
        let end = base &+ size &- 1  // inclusive, avoids overflow at the top of the address space
        for m in mappings {
            let mEnd = m.base &+ m.size &- 1
            precondition(end < m.base || base > mEnd,
                         "MMIO region \(name) [\(hex(base))..\(hex(end))] overlaps \(m.name) [\(hex(m.base))..\(hex(mEnd))]")
        }
        mappings.append(Mapping(base: base, size: size, name: name, device: device))
        mappings.sort { $0.base < $1.base }
        lastHit = -1
    }

    /// The mapping whose region contains all of [addr, addr+size), if any.
    @inline(__always)
    private func find(_ addr: UInt64, _ size: Int) -> Int? {
        guard size > 0 else { return nil }
        let len = UInt64(size)
        if lastHit >= 0 {
            let m = mappings[lastHit]
            if addr >= m.base, addr - m.base < m.size, m.size - (addr - m.base) >= len { return lastHit }
        }
        // Binary search for the last mapping with base <= addr.
        var lo = 0, hi = mappings.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if mappings[mid].base <= addr { lo = mid + 1 } else { hi = mid }
        }
        let i = lo - 1
        guard i >= 0 else { return nil }
        let m = mappings[i]
        guard addr - m.base < m.size, m.size - (addr - m.base) >= len else { return nil }
        lastHit = i
        return i
    }

    /// Set while harts run on their own host threads: every device access holds it.
    public var lock: HostLock?

    public func load(_ addr: UInt64, size: Int) -> UInt64? {
        if let lock { return lock.withLock { unlockedLoad(addr, size: size) } }
        return unlockedLoad(addr, size: size)
    }

    public func store(_ addr: UInt64, size: Int, value: UInt64) -> Bool {
        if let lock { return lock.withLock { unlockedStore(addr, size: size, value: value) } }
        return unlockedStore(addr, size: size, value: value)
    }

    private func unlockedLoad(_ addr: UInt64, size: Int) -> UInt64? {
        guard let i = find(addr, size) else { return nil }
        let m = mappings[i]
        return m.device.read(addr - m.base, size: size)
    }

    private func unlockedStore(_ addr: UInt64, size: Int, value: UInt64) -> Bool {
        guard let i = find(addr, size) else { return false }
        let m = mappings[i]
        m.device.write(addr - m.base, size: size, value: value)
        return true
    }

    /// Name of the region containing `addr` (diagnostics).
    public func regionName(at addr: UInt64) -> String? {
        find(addr, 1).map { mappings[$0].name }
    }
}

public func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

// MARK: - Access helpers shared by the devices

@inline(__always) public func isValidAccessSize(_ size: Int) -> Bool {
    size == 1 || size == 2 || size == 4 || size == 8
}

@inline(__always) public func byteMask(_ size: Int) -> UInt64 {
    size >= 8 ? UInt64.max : (UInt64(1) << UInt64(size * 8)) &- 1
}

/// Bytes [byteOffset, byteOffset+size) of the little-endian register value `v`.
@inline(__always) public func extractBytes(_ v: UInt64, byteOffset: Int, size: Int) -> UInt64 {
    (v >> UInt64(byteOffset * 8)) & byteMask(size)
}

/// `old` with bytes [byteOffset, byteOffset+size) replaced by the low bytes of `value`.
@inline(__always) public func mergeBytes(_ old: UInt64, byteOffset: Int, size: Int, value: UInt64) -> UInt64 {
    let shift = UInt64(byteOffset * 8)
    let mask = byteMask(size) << shift
    return (old & ~mask) | ((value << shift) & mask)
}

/// Reads a bank of 32-bit registers: aligned 64-bit accesses read two registers (low first),
/// sub-word accesses read part of one register, accesses straddling two registers read 0.
@inline(__always)
public func readRegs32(_ offset: UInt64, size: Int, _ reg: (UInt64) -> UInt32) -> UInt64 {
    guard isValidAccessSize(size) else { return 0 }
    if size == 8 {
        guard offset & 7 == 0 else { return 0 }
        let lo = UInt64(reg(offset))
        let hi = UInt64(reg(offset &+ 4))
        return lo | hi << 32
    }
    let within = Int(offset & 3)
    guard within + size <= 4 else { return 0 }
    return extractBytes(UInt64(reg(offset & ~3)), byteOffset: within, size: size)
}

/// Writes a bank of 32-bit registers (see `readRegs32`). Partial writes merge with `peek`,
/// a side-effect-free view of the register.
@inline(__always)
public func writeRegs32(_ offset: UInt64, size: Int, value: UInt64,
                 peek: (UInt64) -> UInt32, _ reg: (UInt64, UInt32) -> Void) {
    guard isValidAccessSize(size) else { return }
    if size == 8 {
        guard offset & 7 == 0 else { return }
        reg(offset, UInt32(truncatingIfNeeded: value))
        reg(offset &+ 4, UInt32(truncatingIfNeeded: value >> 32))
        return
    }
    let within = Int(offset & 3)
    guard within + size <= 4 else { return }
    let word = offset & ~3
    if size == 4 {
        reg(word, UInt32(truncatingIfNeeded: value))
    } else {
        let merged = mergeBytes(UInt64(peek(word)), byteOffset: within, size: size, value: value)
        reg(word, UInt32(truncatingIfNeeded: merged))
    }
}
