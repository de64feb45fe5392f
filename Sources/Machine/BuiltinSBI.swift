#if canImport(Glibc)
import Glibc
#endif
import Platform
import RISCV

/// The SBI implemented in Swift for `--firmware builtin` (RISC-V SBI spec v2.0): the kernel runs in
/// S-mode and its ECALLs land here instead of in M-mode firmware.
final class BuiltinSBI: SBIHandler {
    unowned let machine: Machine
    init(machine: Machine) { self.machine = machine }
    /// Calls answered NOT_SUPPORTED, and the last of them (the machine reports them).
    var unsupportedCalls: UInt64 = 0
    var lastUnsupported: (eid: UInt64, fid: UInt64) = (0, 0)

    static let success: Int64 = 0, failed: Int64 = -1, notSupported: Int64 = -2, invalidParam: Int64 = -3
    static let invalidAddress: Int64 = -5, alreadyAvailable: Int64 = -6, alreadyStopped: Int64 = -8

    enum Ext {
        static let base: UInt64 = 0x10, time: UInt64 = 0x5449_4D45, ipi: UInt64 = 0x73_5049, rfence: UInt64 = 0x5246_4E43
        static let hsm: UInt64 = 0x48_534D, srst: UInt64 = 0x5352_5354, dbcn: UInt64 = 0x4442_434E, pmu: UInt64 = 0x504D55
        static let legacySetTimer: UInt64 = 0, legacyPutchar: UInt64 = 1, legacyGetchar: UInt64 = 2
        static let legacyClearIPI: UInt64 = 3, legacySendIPI: UInt64 = 4, legacyShutdown: UInt64 = 8
    }
    static let implementationID: UInt64 = 0x4D54_5259  // "MTRY": not a registered id; identifies Matryoshka
    static let supported: Set<UInt64> = [Ext.base, Ext.time, Ext.ipi, Ext.rfence, Ext.hsm, Ext.srst, Ext.dbcn,
                                         Ext.legacySetTimer, Ext.legacyPutchar, Ext.legacyGetchar,
                                         Ext.legacyClearIPI, Ext.legacySendIPI, Ext.legacyShutdown]

    func handleSBICall(_ h: Hart) {
        let a = { (i: Int) -> UInt64 in h.x[10 + i] }
        let eid = h.x[17], fid = h.x[16]
        var error = BuiltinSBI.success
        var value: UInt64 = 0
        machine.stats.sbiCalls &+= 1
        switch eid {
        case Ext.base:
            switch fid {
            case 0: value = 2 << 24             // spec version 2.0
            case 1: value = BuiltinSBI.implementationID
            case 2: value = 1
            case 3: value = BuiltinSBI.supported.contains(a(0)) || (a(0) == Ext.pmu && h.extensions.contains(.sscofpmf)) ? 1 : 0
            case 4, 5, 6: value = 0          // mvendorid, marchid, mimpid
            default: error = BuiltinSBI.notSupported
            }
        case Ext.time where fid == 0, Ext.legacySetTimer:
            h.stimecmp = a(0)
        case Ext.ipi where fid == 0:
            error = forEachHart(mask: a(0), base: a(1)) { t in t.setSoftwarePending(IRQ.ssip, true); self.machine.wake(t) }
        case Ext.legacySendIPI:
            error = legacyMask(h, a(0)) { t in t.setSoftwarePending(IRQ.ssip, true); self.machine.wake(t) }
        case Ext.legacyClearIPI:
            h.setSoftwarePending(IRQ.ssip, false)
        case Ext.rfence where h.threading != nil:
            // Harts on their own threads: each carries out the fence on its own thread; wait for them.
            guard fid <= 2 || (fid <= 6 && h.hypervisorExtension) else { error = BuiltinSBI.notSupported; break }
            let bits = fid == 0 ? HartThreading.flushCode : HartThreading.flushTranslations
            var tickets: [(Hart, UInt64)] = []
            error = forEachHart(mask: a(0), base: a(1)) { t in
                if t === h { return }
                tickets.append((t, t.postRequest(bits)))
                self.machine.wake(t)
            }
            if error == BuiltinSBI.success {
                h.carryOut(bits)
                waitForRemoteFences(h, tickets)
            }
        case Ext.rfence:
            switch fid {
            case 0: error = forEachHart(mask: a(0), base: a(1)) { _ in }                 // remote FENCE.I: ops track stores
            case 1, 2: error = forEachHart(mask: a(0), base: a(1)) { $0.flushTLB() }      // SFENCE.VMA (ASID)
            case 3...4 where h.hypervisorExtension:
                // Remote HFENCE.GVMA (VMID): the G-stage changed, so its cache goes with the combined entries.
                error = forEachHart(mask: a(0), base: a(1)) { $0.flushGStage() }
            case 5...6 where h.hypervisorExtension:
                // Remote HFENCE.VVMA (ASID): only the combined (VS-stage) translations.
                error = forEachHart(mask: a(0), base: a(1)) { $0.flushVirtualTLB() }
            default: error = BuiltinSBI.notSupported
            }
        case Ext.hsm:
            (error, value) = hsm(h, fid, a(0), a(1), a(2))
        case Ext.pmu where h.extensions.contains(.sscofpmf):
            (error, value) = pmu(h, fid, a(0), a(1), a(2), a(3), a(4))
        case Ext.srst where fid == 0:
            let type = a(0)
            if type == 0 { machine.powerOff(code: a(1) == 0 ? 0 : 1, reason: "SBI system shutdown") }
            else if type == 1 || type == 2 { machine.requestReset(reason: "SBI system reset") }
            else { error = BuiltinSBI.invalidParam }
        case Ext.legacyShutdown:
            machine.powerOff(code: 0, reason: "SBI legacy shutdown")
        case Ext.dbcn:
            switch fid {
            case 0:  // console_write(num_bytes, base_lo, base_hi)
                if let bytes = h.ram.copyOut(a(1), Int(min(a(0), 1 << 20))) {
                    machine.consoleWrite(bytes); value = UInt64(bytes.count)
                } else { error = BuiltinSBI.invalidParam }
            case 1:  // console_read
                let n = Int(min(a(0), 4096))
                let input = machine.takeConsoleInput(max: n)
                if h.ram.copyIn(a(1), input) { value = UInt64(input.count) } else { error = BuiltinSBI.invalidParam }
            case 2: machine.consoleWrite([UInt8(truncatingIfNeeded: a(0))])
            default: error = BuiltinSBI.notSupported
            }
        case Ext.legacyPutchar:
            machine.consoleWrite([UInt8(truncatingIfNeeded: a(0))])
            h.x[10] = 0
            return
        case Ext.legacyGetchar:
            let input = machine.takeConsoleInput(max: 1)
            h.x[10] = input.first.map { UInt64($0) } ?? UInt64.max
            return
        default:
            error = BuiltinSBI.notSupported
        }
        // (The PMU answers NOT_SUPPORTED for events it does not count: Linux asks for each at boot.)
        if error == BuiltinSBI.notSupported && eid != Ext.base && !(eid == Ext.pmu && h.extensions.contains(.sscofpmf)) {
            unsupportedCalls &+= 1
            lastUnsupported = (eid, fid)
        }
        h.x[10] = UInt64(bitPattern: error)
        h.x[11] = value
    }

    /// Waits, with the machine lock released (the targets may need it to reach their next round),
    /// until every target carried out its fence or sleeps; the caller keeps carrying out its own.
    private func waitForRemoteFences(_ h: Hart, _ tickets: [(Hart, UInt64)]) {
        guard let t = h.threading, !tickets.isEmpty else { return }
        t.lock.unlock()
        while !tickets.allSatisfy({ $0.0.requestSettled($0.1) }) {
            h.carryOutRequests()
            sched_yield()
        }
        t.lock.lock()
    }

    // MARK: PMU extension (SBI spec ch. "Performance Monitoring Unit Extension")

    /// Counters configured through the PMU extension, per hart: bit i for counter i.
    var pmuInUse: [Int: UInt64] = [:]
    static let alreadyStarted: Int64 = -7

    /// Hardware counters only: 0 cycle, 1 time (never matched), 2 instret, 3... mhpmcounter3 on.
    func pmu(_ h: Hart, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64) -> (Int64, UInt64) {
        let count = 3 + Hart.hpmCounters
        /// The counters counter_idx_base (a0) and counter_idx_mask (a1) name, or nil when one is invalid.
        func selected() -> [Int]? {
            var out: [Int] = []
            for j in 0..<64 where a1 >> UInt64(j) & 1 != 0 {
                let (i, overflow) = a0.addingReportingOverflow(UInt64(j))
                guard !overflow, i < UInt64(count) else { return nil }
                if i != 1 { out.append(Int(i)) }   // time counts on whatever happens: it matches no event
            }
            return out
        }
        var inUse = pmuInUse[h.id] ?? 0
        defer { pmuInUse[h.id] = inUse }
        func setValue(_ i: Int, _ v: UInt64) {
            switch i {
            case 0: h.setCycleCount(v)
            case 2: h.setInstretCount(v)
            default: h.setHPMCounter(i - 3, v)
            }
        }
        switch fid {
        case 0: return (BuiltinSBI.success, UInt64(count))                          // num_counters
        case 1:                                                                     // counter_get_info: CSR, width - 1 = 63
            guard a0 < UInt64(count) else { return (BuiltinSBI.invalidParam, 0) }
            return (BuiltinSBI.success, 63 << 12 | (0xc00 + a0))
        case 2:                                                                     // counter_config_matching
            let flags = a2, type = a3 >> 16 & 0xf, code = a3 & 0xffff
            let event: UInt64
            switch (type, code) {
            case (0, 1): event = Hart.hpmEventCycles                                // SBI_PMU_HW_CPU_CYCLES
            case (0, 2): event = Hart.hpmEventInstructions                          // SBI_PMU_HW_INSTRUCTIONS
            case (2, _) where a4 & 0xff == Hart.hpmEventCycles || a4 & 0xff == Hart.hpmEventInstructions: event = a4 & 0xff  // raw
            default: return (BuiltinSBI.notSupported, 0)
            }
            // Mode filters: flags bits 3-7 (VUINH, VSINH, UINH, SINH, MINH) are mhpmevent bits 58-62.
            let inhibit = (flags >> 3 & 0x1f) << 58
            guard let candidates = selected(), !candidates.isEmpty else { return (BuiltinSBI.invalidParam, 0) }
            let chosen: Int
            if flags & 1 != 0 {                                                     // SKIP_MATCH
                chosen = candidates[0]
            } else {
                // The programmable counters first: they overflow (sampling) and filter; cycle and instret do neither.
                let fixed = event == Hart.hpmEventCycles ? 0 : 2
                if let i = candidates.first(where: { $0 >= 3 && inUse >> UInt64($0) & 1 == 0 }) { chosen = i }
                else if inhibit == 0, candidates.contains(fixed), inUse >> UInt64(fixed) & 1 == 0 { chosen = fixed }
                else { return (BuiltinSBI.notSupported, 0) }
            }
            if chosen >= 3 { h.setHPMEvent(chosen - 3, event | inhibit) }
            else if inhibit != 0 || (chosen == 0) != (event == Hart.hpmEventCycles) { return (BuiltinSBI.notSupported, 0) }
            inUse |= 1 << UInt64(chosen)
            if flags & 2 != 0 { setValue(chosen, 0) }                                // CLEAR_VALUE
            let inhibitBit: UInt64 = 1 << UInt64(chosen)
            h.setCountInhibit(flags & 4 != 0 ? h.mcountinhibit & ~inhibitBit : h.mcountinhibit | inhibitBit)  // AUTO_START
            return (BuiltinSBI.success, UInt64(chosen))
        case 3:                                                                     // counter_start
            guard let counters = selected() else { return (BuiltinSBI.invalidParam, 0) }
            var error = BuiltinSBI.success
            for i in counters {
                if h.mcountinhibit >> UInt64(i) & 1 == 0 { error = BuiltinSBI.alreadyStarted; continue }
                if a2 & 1 != 0 { setValue(i, a3) }                                   // SET_INIT_VALUE
                if i >= 3 { h.setHPMEvent(i - 3, h.hpmEvent[i - 3] & ~(1 << 63)) }  // a new period: OF clear
                h.setCountInhibit(h.mcountinhibit & ~(1 << UInt64(i)))
            }
            return (error, 0)
        case 4:                                                                     // counter_stop
            guard let counters = selected() else { return (BuiltinSBI.invalidParam, 0) }
            var error = BuiltinSBI.success
            for i in counters {
                if h.mcountinhibit >> UInt64(i) & 1 != 0 { error = BuiltinSBI.alreadyStopped } else {
                    h.setCountInhibit(h.mcountinhibit | 1 << UInt64(i))
                }
                if a2 & 1 != 0 { inUse &= ~(1 << UInt64(i)) }                        // RESET: the counter is free again
            }
            return (error, 0)
        case 5: return (BuiltinSBI.invalidParam, 0)                                 // counter_fw_read: no firmware counters
        default: return (BuiltinSBI.notSupported, 0)
        }
    }

    func forEachHart(mask: UInt64, base: UInt64, _ body: (Hart) -> Void) -> Int64 {
        let harts = machine.harts
        if base == UInt64.max { harts.forEach(body); return BuiltinSBI.success }
        for bit in 0..<64 where mask >> UInt64(bit) & 1 != 0 {
            let id = base &+ UInt64(bit)
            guard id < UInt64(harts.count) else { return BuiltinSBI.invalidParam }
            body(harts[Int(id)])
        }
        return BuiltinSBI.success
    }

    func legacyMask(_ h: Hart, _ addr: UInt64, _ body: (Hart) -> Void) -> Int64 {
        guard addr != 0 else { machine.harts.forEach(body); return BuiltinSBI.success }
        guard let mask = h.loadSlow(addr, 8) else { return BuiltinSBI.invalidAddress }
        return forEachHart(mask: mask, base: 0, body)
    }

    /// Hart state management (SBI spec ch. 9).
    func hsm(_ h: Hart, _ fid: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64) -> (Int64, UInt64) {
        switch fid {
        case 0:  // hart_start(hartid, start_addr, opaque)
            guard a0 < UInt64(machine.harts.count) else { return (BuiltinSBI.invalidParam, 0) }
            let t = machine.harts[Int(a0)]
            guard !t.running else { return (BuiltinSBI.alreadyAvailable, 0) }
            guard machine.ram.contains(a1, 2) else { return (BuiltinSBI.invalidAddress, 0) }
            machine.startSupervisor(t, entry: a1, a0: a0, a1: a2)
            machine.wake(t)
            return (BuiltinSBI.success, 0)
        case 1:  // hart_stop
            h.running = false
            return (BuiltinSBI.success, 0)
        case 2:  // hart_get_status
            guard a0 < UInt64(machine.harts.count) else { return (BuiltinSBI.invalidParam, 0) }
            return (BuiltinSBI.success, machine.harts[Int(a0)].running ? 0 : 1)
        case 3:  // hart_suspend(type, resume_addr, opaque): retentive suspend behaves as WFI
            guard a0 == 0 else { return (BuiltinSBI.notSupported, 0) }
            if h.mip & h.mie == 0 { h.waitingForInterrupt = true }
            return (BuiltinSBI.success, 0)
        default:
            return (BuiltinSBI.notSupported, 0)
        }
    }
}
