import Platform
// Hardware performance counters (privileged spec §3.1.10 "Hardware Performance Monitor", Zihpm) with
// Sscofpmf (§"Sscofpmf": count overflow and mode-based filtering). One cycle per instruction, so
// cycles and retired instructions are the same count here. mhpmcounter3..6 are programmable through
// mhpmevent3..6: event 1 counts cycles, event 2 retired instructions, anything else nothing; bits
// 62..58 (MINH, SINH, UINH, VSINH, VUINH) stop counting in a mode, and bit 63 (OF) is set, with the
// local counter-overflow interrupt (LCOFI, mip bit 13) pending, when the counter wraps.
// Counting per mode uses `retiredByLevel`, which the run loop adds every round to; a round never spans
// a privilege change, so the split is exact.

extension Hart {
    /// Programmable counters: mhpmcounter3 up to 3 + hpmCounters - 1.
    public static let hpmCounters = 4
    public static let lcofi: UInt64 = 1 << 13
    /// mhpmevent event codes this hart implements.
    public static let hpmEventCycles: UInt64 = 1, hpmEventInstructions: UInt64 = 2
    static let hpmEventWritable: UInt64 = 0xfc00_0000_0000_00ff   // OF, the five xINH bits, an 8-bit event code

    /// LCOFI where Sscofpmf is implemented (it joins the S-level interrupts).
    var localCounterOverflowInterrupt: UInt64 { extensions.contains(.sscofpmf) ? Hart.lcofi : 0 }

    /// Retired instructions at `level` (PrivilegeLevel.rawValue) so far, the current round's included.
    @inline(__always) func retired(at level: Int) -> UInt64 {
        retiredByLevel[level] &+ (level == roundLevel ? instret &- roundStartInstret : 0)
    }

    /// mhpmcounter(3 + k) before its offset: what its event has counted in the modes it is not inhibited in.
    func hpmRaw(_ k: Int) -> UInt64 {
        let ev = hpmEvent[k], code = ev & 0xff
        guard code == Hart.hpmEventCycles || code == Hart.hpmEventInstructions else { return 0 }
        var total: UInt64 = 0
        // PrivilegeLevel order U, HS, M, VU, VS against UINH (60), SINH (61), MINH (62), VUINH (58), VSINH (59).
        for (level, inhibitBit) in [(0, 60), (1, 61), (2, 62), (3, 58), (4, 59)] as [(Int, UInt64)] where ev >> inhibitBit & 1 == 0 {
            total &+= retired(at: level)
        }
        return total
    }
    /// Whether counter `index` (0 cycle, 2 instret, 3... hpm) is stopped by mcountinhibit.
    @inline(__always) func counterInhibited(_ index: Int) -> Bool { mcountinhibit >> UInt64(index) & 1 != 0 }

    public func hpmCounter(_ k: Int) -> UInt64 {
        counterInhibited(3 + k) ? hpmFrozen[k] : hpmRaw(k) &+ hpmOffset[k]
    }
    public func setHPMCounter(_ k: Int, _ value: UInt64) {
        if counterInhibited(3 + k) { hpmFrozen[k] = value } else { hpmOffset[k] = value &- hpmRaw(k) }
        hpmLast[k] = value
        updateHPMArming()
    }
    public func setHPMEvent(_ k: Int, _ value: UInt64) {
        let count = hpmCounter(k)
        hpmEvent[k] = value & Hart.hpmEventWritable
        setHPMCounter(k, count)
    }
    public var cycleCount: UInt64 { counterInhibited(0) ? cycleFrozen : instret &+ cycleOffset }
    public var instretCount: UInt64 { counterInhibited(2) ? instretFrozen : instret &+ instretOffset }

    /// mcountinhibit: a counter that stops keeps its value; one that starts again goes on from it.
    public func setCountInhibit(_ v: UInt64) {
        let old = mcountinhibit
        let cycle = cycleCount, ret = instretCount
        let hpm = (0..<Hart.hpmCounters).map { hpmCounter($0) }
        mcountinhibit = v & 0xffff_fffd
        if (old ^ mcountinhibit) & 1 != 0 { if counterInhibited(0) { cycleFrozen = cycle } else { cycleOffset = cycle &- instret } }
        if (old ^ mcountinhibit) & 4 != 0 { if counterInhibited(2) { instretFrozen = ret } else { instretOffset = ret &- instret } }
        for k in 0..<Hart.hpmCounters where (old ^ mcountinhibit) >> UInt64(3 + k) & 1 != 0 {
            if counterInhibited(3 + k) { hpmFrozen[k] = hpm[k] } else { hpmOffset[k] = hpm[k] &- hpmRaw(k); hpmLast[k] = hpm[k] }
        }
        updateHPMArming()
    }
    public func setCycleCount(_ v: UInt64) { if counterInhibited(0) { cycleFrozen = v } else { cycleOffset = v &- instret } }
    public func setInstretCount(_ v: UInt64) { if counterInhibited(2) { instretFrozen = v } else { instretOffset = v &- instret } }

    /// scountovf (Sscofpmf): the OF bits, visible where mcounteren (and, under V=1, hcounteren) allows.
    var scountovf: UInt64 {
        var v: UInt64 = 0
        for k in 0..<Hart.hpmCounters where hpmEvent[k] >> 63 != 0 { v |= 1 << UInt64(3 + k) }
        if prv < Priv.machine { v &= mcounteren }
        if virt { v &= hcounteren }
        return v
    }

    // MARK: Overflow

    /// A counter can overflow: Sscofpmf, counting, OF clear. Only then does the run loop look.
    func updateHPMArming() {
        hpmArmed = extensions.contains(.sscofpmf) && (0..<Hart.hpmCounters).contains { k in
            let code = hpmEvent[k] & 0xff
            return !counterInhibited(3 + k) && hpmEvent[k] >> 63 == 0 && (code == Hart.hpmEventCycles || code == Hart.hpmEventInstructions)
        }
    }
    /// Whether mhpmcounter(3 + k) counts an instruction retiring at `level` (PrivilegeLevel.rawValue) now.
    func hpmCountsRetirement(_ k: Int, level: Int) -> Bool {
        let ev = hpmEvent[k], inhibitBit: UInt64 = [60, 61, 62, 58, 59][level]
        return !counterInhibited(3 + k) && ev >> inhibitBit & 1 == 0 && (ev & 0xff == Hart.hpmEventCycles || ev & 0xff == Hart.hpmEventInstructions)
    }
    /// Instructions the next round may run before an armed counter counting at `level` wraps.
    func instructionsBeforeOverflow(level: Int) -> Int {
        var least = Int.max
        for k in 0..<Hart.hpmCounters where hpmEvent[k] >> 63 == 0 && hpmCountsRetirement(k, level: level) {
            let left = 0 &- hpmCounter(k)
            if left != 0 && left < UInt64(least) { least = Int(left) }
        }
        return least
    }
    /// After a round: a counter that wrapped sets its OF bit and LCOFI (Sscofpmf: only on the OF 0 -> 1 edge).
    func checkHPMOverflow() {
        for k in 0..<Hart.hpmCounters where hpmEvent[k] >> 63 == 0 && !counterInhibited(3 + k) {
            let now = hpmCounter(k)
            if now < hpmLast[k] {
                hpmEvent[k] |= 1 << 63
                mipSoft |= Hart.lcofi
            }
            hpmLast[k] = now
        }
        updateHPMArming()
    }
}
