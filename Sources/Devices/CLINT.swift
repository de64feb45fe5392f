import Platform
import RISCV

/// SiFive CLINT (ACLINT MSWI + MTIMER in the classic layout).
///   0x0000 + 4*h      msip[h]      (bit 0 drives IRQ.msip of hart h)
///   0x4000 + 8*h      mtimecmp[h]  (64-bit; 32-bit halves accessible)
///   0xbff8            mtime        (64-bit; reads TimeBase.now(), writes TimeBase.set)
/// mtime itself lives in the shared TimeBase and is not part of this device's saved state.
public final class CLINT: MMIODevice, Stateful {
    public static let size: UInt64 = 0x10000
    static let msipBase: UInt64 = 0x0
    static let mtimecmpBase: UInt64 = 0x4000
    static let mtimeOffset: UInt64 = 0xbff8
    /// The classic layout has room for 4095 harts' mtimecmp below mtime.
    static let maxHarts = 4095

    private let harts: [InterruptTarget]
    private let time: TimeBase
    private var msip: [Bool]
    private var mtimecmp: [UInt64]

    public init(harts: [InterruptTarget], time: TimeBase) {
        precondition(harts.count <= CLINT.maxHarts, "CLINT supports at most \(CLINT.maxHarts) harts")
        self.harts = harts
        self.time = time
        self.msip = Array(repeating: false, count: harts.count)
        self.mtimecmp = Array(repeating: UInt64.max, count: harts.count)
    }

    /// Machine reset: clears all MSIPs and disarms every timer (mtime keeps running).
    public func reset() {
        for h in 0..<harts.count {
            msip[h] = false
            mtimecmp[h] = UInt64.max
            harts[h].setInterruptLevel(IRQ.msip, false)
        }
        update()
    }

    /// Re-evaluates MTIP (mtime >= mtimecmp) on every hart.
    public func update() {
        let now = time.now()
        for h in 0..<harts.count {
            harts[h].setInterruptLevel(IRQ.mtip, now >= mtimecmp[h])
        }
    }

    /// Smallest mtimecmp over all harts (UInt64.max when no timer is armed).
    public var nextDeadline: UInt64 {
        var d = UInt64.max
        for c in mtimecmp where c < d { d = c }
        return d
    }

    public func read(_ offset: UInt64, size: Int) -> UInt64 {
        guard isValidAccessSize(size) else { return 0 }
        let len = UInt64(size)
        if offset < CLINT.mtimecmpBase {
            let h = Int(offset / 4), within = Int(offset % 4)
            guard h < harts.count, within + size <= 4 else { return 0 }
            return extractBytes(msip[h] ? 1 : 0, byteOffset: within, size: size)
        }
        if offset >= CLINT.mtimeOffset {
            let within = offset - CLINT.mtimeOffset
            guard within < 8, within + len <= 8 else { return 0 }
            return extractBytes(time.now(), byteOffset: Int(within), size: size)
        }
        let rel = offset - CLINT.mtimecmpBase
        let h = Int(rel / 8), within = Int(rel % 8)
        guard h < harts.count, within + size <= 8 else { return 0 }
        return extractBytes(mtimecmp[h], byteOffset: within, size: size)
    }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {
        guard isValidAccessSize(size) else { return }
        let len = UInt64(size)
        if offset < CLINT.mtimecmpBase {
            let h = Int(offset / 4), within = Int(offset % 4)
            guard h < harts.count, within + size <= 4 else { return }
            let merged = mergeBytes(msip[h] ? 1 : 0, byteOffset: within, size: size, value: value)
            msip[h] = merged & 1 != 0
            harts[h].setInterruptLevel(IRQ.msip, msip[h])
            return
        }
        if offset >= CLINT.mtimeOffset {
            let within = offset - CLINT.mtimeOffset
            guard within < 8, within + len <= 8 else { return }
            time.set(mergeBytes(time.now(), byteOffset: Int(within), size: size, value: value))
            update()
            return
        }
        let rel = offset - CLINT.mtimecmpBase
        let h = Int(rel / 8), within = Int(rel % 8)
        guard h < harts.count, within + size <= 8 else { return }
        mtimecmp[h] = mergeBytes(mtimecmp[h], byteOffset: within, size: size, value: value)
        update()
    }

    public func saveState(_ w: inout StateWriter) {
        w.section("clint", version: 1) { w in
            w.u64(UInt64(harts.count))
            for h in 0..<harts.count {
                w.bool(msip[h])
                w.u64(mtimecmp[h])
            }
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        let (newMsip, newCmp) = try r.section("clint", versions: 1...1) { r, _ -> ([Bool], [UInt64]) in
            let n = try r.count(max: CLINT.maxHarts)
            guard n == harts.count else {
                throw StateError("CLINT state has \(n) harts; this machine has \(harts.count)")
            }
            var m: [Bool] = [], c: [UInt64] = []
            for _ in 0..<n { m.append(try r.bool()); c.append(try r.u64()) }
            return (m, c)
        }
        msip = newMsip
        mtimecmp = newCmp
        for h in 0..<harts.count { harts[h].setInterruptLevel(IRQ.msip, msip[h]) }
        update()
    }
}
