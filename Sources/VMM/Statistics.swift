import Machine
import RISCV
#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension VirtualMachine {
    static let causeNames: [UInt64: String] = [0: "fetch misaligned", 1: "fetch access", 2: "illegal instruction", 3: "breakpoint",
        4: "load misaligned", 5: "load access", 6: "store misaligned", 7: "store access", 8: "ecall from U", 9: "ecall from S",
        10: "ecall from VS", 11: "ecall from M", 12: "fetch page fault", 13: "load page fault", 15: "store page fault",
        20: "fetch guest-page fault", 21: "load guest-page fault", 22: "virtual instruction", 23: "store guest-page fault"]
    static let interruptNames: [UInt64: String] = [1: "SSI", 2: "VSSI", 3: "MSI", 5: "STI", 6: "VSTI", 7: "MTI", 9: "SEI", 10: "VSEI", 11: "MEI", 12: "SGEI"]

    /// Instructions per privilege/virtualization level and traps per cause and (from -> to), all harts.
    /// The `--stats` report: instructions, time, problems counted, then `levelReport`.
    public func statsReport() -> String {
        let s = machine.stats
        let busy = s.hostSeconds - s.idleSeconds
        let mips = busy > 0 ? Double(s.instructions) / busy / 1e6 : 0
        var out = String(format: "matryoshka: %llu instructions in %.2f s (%.2f s idle; %.0f MIPS while running), %llu SBI calls\n",
                         s.instructions, s.hostSeconds, s.idleSeconds, mips, s.sbiCalls)
        out += "matryoshka: reboots \(s.reboots); problems: unhandled SBI calls \(s.sbiUnsupported), unmapped physical accesses \(s.unmappedAccesses), virtio NEEDS_RESET \(s.virtioNeedsReset), network backend errors \(s.netErrors)\n"
        out += levelReport()
        let jits = machine.codeCaches.compactMap(\.jit)
        if !jits.isEmpty {
            out += "matryoshka: JIT: \(jits.reduce(0) { $0 + $1.compiledBlocks }) blocks compiled, \(jits.reduce(0) { $0 + $1.chainedExits }) exits chained, \(jits.reduce(0) { $0 + $1.flushes }) flushes\n"
        }
        return out
    }

    /// Instructions per privilege/virtualization level and traps per cause and (from -> to), all harts.
    public func levelReport() -> String {
        let perLevel = instructionsPerLevel()
        let traps = mergedTrapCounts()
        var translations = [UInt64](repeating: 0, count: PrivilegeLevel.allCases.count)
        var gWalks: UInt64 = 0, hostFlushes: UInt64 = 0, guestFlushes: UInt64 = 0
        for h in machine.harts {
            for (i, n) in h.translationsByLevel.enumerated() { translations[i] &+= n }
            gWalks &+= h.gStageWalks
            hostFlushes &+= h.hostTLBFlushes
            guestFlushes &+= h.guestTLBFlushes
        }
        let total = max(1, perLevel.reduce(0, &+))
        var out = "matryoshka: instructions executed by level:"
        for l in PrivilegeLevel.allCases {
            out += String(format: " %@ %llu (%.1f%%)", l.description, perLevel[l.rawValue], 100 * Double(perLevel[l.rawValue]) / Double(total))
        }
        out += "\nmatryoshka: slow-path translations (TLB refills) by level:"
        for l in PrivilegeLevel.allCases { out += " \(l.description) \(translations[l.rawValue])" }
        out += "; G-stage walks: \(gWalks); TLB flushes: host \(hostFlushes), guest \(guestFlushes)"
        out += "\nmatryoshka: traps (cause, from -> to: count):\n"
        for (k, n) in traps.sorted(by: { $0.value > $1.value }) {
            let code = k.cause & ~Cause.interruptBit
            let name = k.cause & Cause.interruptBit != 0 ? "interrupt \(Self.interruptNames[code] ?? String(code))" : (Self.causeNames[code] ?? "exception \(code)")
            out += "  \(name), \(k.from) -> \(k.to): \(n)\n"
        }
        let nested = Self.nestedCounts(traps)
        out += "matryoshka: VM exits (traps from VS/VU into HS or M): \(nested.exits)\n"
        if nested.guestInterrupts > 0 {
            out += "matryoshka: guest (VS-level) interrupts taken in VS/VU: \(nested.guestInterrupts), external \(nested.guestExternalInterrupts)"
            if nested.guestExternalInterrupts > 0 {
                out += String(format: "; VM exits per guest external interrupt: %.1f", Double(nested.exits) / Double(nested.guestExternalInterrupts))
            }
            out += "\n"
        }
        return out
    }

    /// VM exits (traps from V=1 into HS or M) and the interrupts a nested guest took without leaving
    /// V=1 (VSSI/VSTI/VSEI delivered in VS or VU; with AIA guest files, VSEI needs no exit at all).
    static func nestedCounts(_ traps: [TrapKey: UInt64]) -> (exits: UInt64, guestInterrupts: UInt64, guestExternalInterrupts: UInt64) {
        var exits: UInt64 = 0, interrupts: UInt64 = 0, external: UInt64 = 0
        for (k, n) in traps {
            let fromGuest = k.from == .vs || k.from == .vu
            if fromGuest && (k.to == .hs || k.to == .m) { exits &+= n }
            guard k.cause & Cause.interruptBit != 0, k.to == .vs else { continue }
            let code = k.cause & ~Cause.interruptBit
            if code == 2 || code == 6 || code == 10 { interrupts &+= n }
            if code == 10 { external &+= n }
        }
        return (exits, interrupts, external)
    }

    /// Trap counts of all harts, merged (empty unless the harts collect statistics).
    func mergedTrapCounts() -> [TrapKey: UInt64] {
        var traps: [TrapKey: UInt64] = [:]
        for h in machine.harts { for (k, n) in h.trapCounts { traps[k, default: 0] &+= n } }
        return traps
    }
}


extension VirtualMachine {
    /// The `--stats` counters as a JSON object (`GET /vm/stats`); call at a safe point.
    public func statsDictionary() -> [String: Any] {
        let s = machine.stats
        let perLevel = instructionsPerLevel()
        let traps = machine.harts.reduce(0) { $0 &+ $1.trapsTaken }
        var out: [String: Any] = [
            "state": state.rawValue,
            "instructions": s.instructions, "host_seconds": s.hostSeconds, "idle_seconds": s.idleSeconds,
            "sbi_calls": s.sbiCalls, "sbi_unsupported": s.sbiUnsupported, "unmapped_accesses": s.unmappedAccesses,
            "virtio_needs_reset": s.virtioNeedsReset, "net_errors": s.netErrors, "reboots": s.reboots,
            "traps": traps, "guest_time": guestTime,
        ]
        if machine.harts.first?.collectStats == true {
            out["instructions_by_level"] = Dictionary(uniqueKeysWithValues: PrivilegeLevel.allCases.map { ($0.description, perLevel[$0.rawValue]) })
            let nested = Self.nestedCounts(mergedTrapCounts())
            out["vm_exits"] = nested.exits
            out["guest_interrupts"] = nested.guestInterrupts
            out["guest_external_interrupts"] = nested.guestExternalInterrupts
        }
        let jits = machine.codeCaches.compactMap(\.jit)
        if !jits.isEmpty { out["jit_blocks_compiled"] = jits.reduce(0) { $0 + $1.compiledBlocks } }
        return out
    }
}

extension VirtualMachine {
    /// Instructions retired per level (indexed by `PrivilegeLevel.rawValue`), all harts.
    func instructionsPerLevel() -> [UInt64] {
        var perLevel = [UInt64](repeating: 0, count: PrivilegeLevel.allCases.count)
        for h in machine.harts {
            for (i, n) in h.instructionsByLevel.enumerated() { perLevel[i] &+= n }
        }
        return perLevel
    }
}
