import CHostAtomics

/// Atomic read-modify-writes on host memory (guest RAM through its host mapping), for the guest's AMOs,
/// LR/SC and page-table A/D updates: correct when other host threads (harts, I/O threads) access the
/// same RAM. `p` must be naturally aligned.
public enum HostAtomics {
    public enum Operation { case swap, add, and, or, xor }

    /// Applies `op` with `v` to the 4- or 8-byte word at `p`; returns the old value.
    @inline(__always)
    public static func rmw<T: FixedWidthInteger & UnsignedInteger>(_ p: UnsafeMutableRawPointer, _ op: Operation, _ v: T) -> T {
        if T.bitWidth == 64 {
            let w = p.assumingMemoryBound(to: UInt64.self), x = UInt64(truncatingIfNeeded: v)
            switch op {
            case .swap: return T(truncatingIfNeeded: host_atomic_exchange64(w, x))
            case .add: return T(truncatingIfNeeded: host_atomic_fetch_add64(w, x))
            case .and: return T(truncatingIfNeeded: host_atomic_fetch_and64(w, x))
            case .or: return T(truncatingIfNeeded: host_atomic_fetch_or64(w, x))
            case .xor: return T(truncatingIfNeeded: host_atomic_fetch_xor64(w, x))
            }
        }
        precondition(T.bitWidth == 32, "rmw: 4- or 8-byte words only")
        let w = p.assumingMemoryBound(to: UInt32.self), x = UInt32(truncatingIfNeeded: v)
        switch op {
        case .swap: return T(truncatingIfNeeded: host_atomic_exchange32(w, x))
        case .add: return T(truncatingIfNeeded: host_atomic_fetch_add32(w, x))
        case .and: return T(truncatingIfNeeded: host_atomic_fetch_and32(w, x))
        case .or: return T(truncatingIfNeeded: host_atomic_fetch_or32(w, x))
        case .xor: return T(truncatingIfNeeded: host_atomic_fetch_xor32(w, x))
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
