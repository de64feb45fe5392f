import Platform
import RISCV

/// SiFive PLIC with level-triggered gateways.
///   0x000000 + 4*src          priority (3 bits)
///   0x001000                  pending bits (read-only)
///   0x002000 + 0x80*ctx       enable bits
///   0x200000 + 0x1000*ctx     threshold; +4 claim/complete
/// Context 2h is hart h's M-mode (IRQ.meip), 2h+1 its S-mode (IRQ.seip).
public final class PLIC: MMIODevice, Stateful {
    /// Number of interrupt IDs including the reserved ID 0 (sources 1...95 usable).
    public static let sourceCount = 96
    public static let ndev = sourceCount - 1
    public static let size: UInt64 = 0x60_0000
    static let words = (sourceCount + 31) / 32
    static let priorityMask: UInt32 = 0x7
    static let pendingBase: UInt64 = 0x1000
    static let enableBase: UInt64 = 0x2000
    static let enableStride: UInt64 = 0x80
    static let contextBase: UInt64 = 0x20_0000
    static let contextStride: UInt64 = 0x1000
    /// Largest number of contexts the register map has room for (0x200000 + 0x1000*ctx < 0x4000000).
    static let maxContexts = 15872

    private let harts: [InterruptTarget]
    private let contexts: Int
    private var priority: [UInt32]
    private var level: [UInt32]       // input line levels
    private var pending: [UInt32]     // gateway-forwarded, not yet claimed
    private var claimed: [UInt32]     // claimed, awaiting completion
    private var enable: [UInt32]      // contexts * words
    private var threshold: [UInt32]

    public init(harts: [InterruptTarget]) {
        precondition(harts.count * 2 <= PLIC.maxContexts, "too many harts for the PLIC")
        self.harts = harts
        self.contexts = harts.count * 2
        priority = Array(repeating: 0, count: PLIC.sourceCount)
        level = Array(repeating: 0, count: PLIC.words)
        pending = Array(repeating: 0, count: PLIC.words)
        claimed = Array(repeating: 0, count: PLIC.words)
        enable = Array(repeating: 0, count: contexts * PLIC.words)
        threshold = Array(repeating: 0, count: contexts)
    }

    @inline(__always) private static func bit(_ a: [UInt32], _ s: Int) -> Bool {
        a[s >> 5] & (1 << UInt32(s & 31)) != 0
    }
    @inline(__always) private static func assign(_ a: inout [UInt32], _ s: Int, _ v: Bool) {
        if v { a[s >> 5] |= 1 << UInt32(s & 31) } else { a[s >> 5] &= ~(1 << UInt32(s & 31)) }
    }

    /// Machine reset: priorities, enables, thresholds and claims cleared; input levels kept
    /// (they belong to the devices driving them).
    public func reset() {
        for i in priority.indices { priority[i] = 0 }
        for i in enable.indices { enable[i] = 0 }
        for i in threshold.indices { threshold[i] = 0 }
        for w in 0..<PLIC.words { claimed[w] = 0; pending[w] = level[w] }
        updateOutputs()
    }

    /// Drives interrupt source `source` (1...95) to `level`. Out-of-range sources are ignored.
    public func setLevel(_ source: Int, _ level: Bool) {
        guard source > 0, source < PLIC.sourceCount else { return }
        PLIC.assign(&self.level, source, level)
        let wasPending = PLIC.bit(pending, source)
        // The gateway forwards a high level unless the source is claimed; a level drop withdraws it.
        let nowPending = level && !PLIC.bit(claimed, source)
        guard wasPending != nowPending else { return }
        PLIC.assign(&pending, source, nowPending)
        updateOutputs()
    }

    /// Highest-priority enabled pending source above the context's threshold (lowest ID wins ties), or 0.
    private func best(_ ctx: Int) -> Int {
        var bestID = 0
        var bestPrio = threshold[ctx]
        for w in 0..<PLIC.words {
            var bits = pending[w] & enable[ctx * PLIC.words + w]
            while bits != 0 {
                let b = bits.trailingZeroBitCount
                bits &= bits - 1
                let s = w * 32 + b
                if priority[s] > bestPrio { bestPrio = priority[s]; bestID = s }
            }
        }
        return bestID
    }

    private func updateOutputs() {
        for ctx in 0..<contexts {
            let line = best(ctx) != 0
            harts[ctx >> 1].setInterruptLevel(ctx & 1 == 0 ? IRQ.meip : IRQ.seip, line)
        }
    }

    private func claim(_ ctx: Int) -> UInt32 {
        let s = best(ctx)
        if s != 0 {
            PLIC.assign(&pending, s, false)
            PLIC.assign(&claimed, s, true)
            updateOutputs()
        }
        return UInt32(s)
    }

    private func complete(_ ctx: Int, _ id: UInt32) {
        guard id > 0, id < UInt32(PLIC.sourceCount) else { return }
        let s = Int(id)
        // Completions for sources not enabled in this context are ignored (PLIC spec).
        let enabled = enable[ctx * PLIC.words + (s >> 5)] & (1 << UInt32(s & 31)) != 0
        guard enabled, PLIC.bit(claimed, s) else { return }
        PLIC.assign(&claimed, s, false)
        if PLIC.bit(level, s) { PLIC.assign(&pending, s, true) }
        updateOutputs()
    }

    private func reg(_ off: UInt64, sideEffects: Bool) -> UInt32 {
        if off < PLIC.pendingBase {
            let s = Int(off / 4)
            return s < PLIC.sourceCount ? priority[s] : 0
        }
        if off < PLIC.enableBase {
            let w = Int((off - PLIC.pendingBase) / 4)
            return w < PLIC.words ? pending[w] : 0
        }
        if off < PLIC.contextBase {
            let ctx = Int((off - PLIC.enableBase) / PLIC.enableStride)
            let w = Int((off - PLIC.enableBase) % PLIC.enableStride / 4)
            return ctx < contexts && w < PLIC.words ? enable[ctx * PLIC.words + w] : 0
        }
        let ctx = Int((off - PLIC.contextBase) / PLIC.contextStride)
        guard ctx < contexts else { return 0 }
        switch (off - PLIC.contextBase) % PLIC.contextStride {
        case 0: return threshold[ctx]
        case 4: return sideEffects ? claim(ctx) : 0
        default: return 0
        }
    }

    private func setReg(_ off: UInt64, _ v: UInt32) {
        if off < PLIC.pendingBase {
            let s = Int(off / 4)
            guard s > 0, s < PLIC.sourceCount else { return }
            priority[s] = v & PLIC.priorityMask
            updateOutputs()
            return
        }
        if off < PLIC.enableBase { return }  // pending bits are read-only
        if off < PLIC.contextBase {
            let ctx = Int((off - PLIC.enableBase) / PLIC.enableStride)
            let w = Int((off - PLIC.enableBase) % PLIC.enableStride / 4)
            guard ctx < contexts, w < PLIC.words else { return }
            enable[ctx * PLIC.words + w] = w == 0 ? v & ~1 : v   // source 0 does not exist
            updateOutputs()
            return
        }
        let ctx = Int((off - PLIC.contextBase) / PLIC.contextStride)
        guard ctx < contexts else { return }
        switch (off - PLIC.contextBase) % PLIC.contextStride {
        case 0:
            threshold[ctx] = v & PLIC.priorityMask
            updateOutputs()
        case 4:
            complete(ctx, v)
        default:
            break
        }
    }

    public func read(_ offset: UInt64, size: Int) -> UInt64 {
        guard offset < PLIC.size else { return 0 }
        return readRegs32(offset, size: size) { reg($0, sideEffects: true) }
    }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {
        guard offset < PLIC.size else { return }
        writeRegs32(offset, size: size, value: value,
                    peek: { reg($0, sideEffects: false) },
                    { setReg($0, $1) })
    }

    public func saveState(_ w: inout StateWriter) {
        w.section("plic", version: 1) { w in
            w.u64(UInt64(contexts))
            for p in priority { w.u32(p) }
            for x in level { w.u32(x) }
            for x in pending { w.u32(x) }
            for x in claimed { w.u32(x) }
            for x in enable { w.u32(x) }
            for t in threshold { w.u32(t) }
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        let contexts = self.contexts
        let s = try r.section("plic", versions: 1...1) { r, _ in
            let n = try r.count(max: PLIC.maxContexts)
            guard n == contexts else {
                throw StateError("PLIC state has \(n) contexts; this machine has \(contexts)")
            }
            func u32s(_ count: Int, mask: UInt32 = .max) throws -> [UInt32] {
                var a: [UInt32] = []
                a.reserveCapacity(count)
                for _ in 0..<count { a.append(try r.u32() & mask) }
                return a
            }
            var prio = try u32s(PLIC.sourceCount, mask: PLIC.priorityMask)
            prio[0] = 0
            let lvl = try u32s(PLIC.words), pnd = try u32s(PLIC.words), clm = try u32s(PLIC.words)
            var en = try u32s(contexts * PLIC.words)
            for c in 0..<contexts { en[c * PLIC.words] &= ~1 }
            let th = try u32s(contexts, mask: PLIC.priorityMask)
            return (prio, lvl, pnd, clm, en, th)
        }
        (priority, level, pending, claimed, enable, threshold) = s
        // Source 0 never exists; bits beyond the last source are meaningless.
        level[0] &= ~1
        pending[0] &= ~1
        claimed[0] &= ~1
        updateOutputs()
    }
}
