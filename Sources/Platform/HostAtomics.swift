import CHostAtomics

/// Atomic read-modify-writes on host memory (guest RAM through its host mapping), for the guest's AMOs,
/// LR/SC and page-table A/D updates: correct when other host threads (harts, I/O threads) access the
/// same RAM. `p` must be naturally aligned.
public enum HostAtomics {
    public enum Operation { case swap, add, and, or, xor }

    /// Applies `op` with `v` to the 8-byte word at `p`; returns the old value.
    @inline(__always)
    public static func rmw64(_ p: UnsafeMutableRawPointer, _ op: Operation, _ v: UInt64) -> UInt64 {
        let w = p.assumingMemoryBound(to: UInt64.self)
        switch op {
        case .swap: return host_atomic_exchange64(w, v)
        case .add: return host_atomic_fetch_add64(w, v)
        case .and: return host_atomic_fetch_and64(w, v)
        case .or: return host_atomic_fetch_or64(w, v)
        case .xor: return host_atomic_fetch_xor64(w, v)
        }
    }

    /// Applies `op` with `v` to the 4-byte word at `p`; returns the old value.
    @inline(__always)
    public static func rmw32(_ p: UnsafeMutableRawPointer, _ op: Operation, _ v: UInt32) -> UInt32 {
        let w = p.assumingMemoryBound(to: UInt32.self)
        switch op {
        case .swap: return host_atomic_exchange32(w, v)
        case .add: return host_atomic_fetch_add32(w, v)
        case .and: return host_atomic_fetch_and32(w, v)
        case .or: return host_atomic_fetch_or32(w, v)
        case .xor: return host_atomic_fetch_xor32(w, v)
        }
    }

    /// Stores `desired` if the 4- or 8-byte word at `p` holds `expected`; returns the value found
    /// (== expected on success).
    @inline(__always)
    public static func compareExchange<T: FixedWidthInteger & UnsignedInteger>(_ p: UnsafeMutableRawPointer, expected: T, desired: T) -> T {
        if T.bitWidth == 64 {
            var e = UInt64(truncatingIfNeeded: expected)
            _ = host_atomic_cas64(p.assumingMemoryBound(to: UInt64.self), &e, UInt64(truncatingIfNeeded: desired))
            return T(truncatingIfNeeded: e)
        }
        precondition(T.bitWidth == 32, "compareExchange: 4- or 8-byte words only")
        var e = UInt32(truncatingIfNeeded: expected)
        _ = host_atomic_cas32(p.assumingMemoryBound(to: UInt32.self), &e, UInt32(truncatingIfNeeded: desired))
        return T(truncatingIfNeeded: e)
    }

    /// A full memory fence.
    @inline(__always) public static func fence() { host_atomic_fence() }
}
