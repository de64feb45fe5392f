import Platform
// The instruction loop. Hot state lives in locals; anything that changes privilege, translation or
// interrupt state leaves the inner loop so the outer loop re-derives it (see ../shared/perf-notes.md).

@inline(__always) func sx32(_ v: UInt64) -> UInt64 { UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: v))) }
@inline(__always) func simm(_ d: DOp) -> UInt64 { UInt64(bitPattern: Int64(d.imm)) }
@inline(__always) func hostPtr(_ a: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: a)).unsafelyUnwrapped
}

extension Hart {
    /// Runs up to `budget` steps and returns the number used: instructions retired plus traps taken
    /// (exceptions, including fetch faults, and interrupts). Every trap uses a step, so a guest that only
    /// faults (a trap storm, e.g. mtvec pointing at nothing) returns after `budget` traps like one that
    /// computes; `instret` counts retired instructions only (a trapping instruction does not retire) and
    /// `trapsTaken` the traps. Stops early when the hart waits for an interrupt (WFI), is stopped, or
    /// `stopRequested` is set; 0 means it made no progress at all (waiting or stopped).
    @inline(never)
    public func run(_ budget: Int) -> Int {
        var executed = 0   // instructions retired
        let baseInstret = instret
        let baseTraps = trapsTaken
        let x = self.x
        var dummyOps = DOp.empty
        var yielded = false
        outer: while true {
            if !running || stopRequested || yielded { break }
            if let t = threading, t.requests.load(ordering: .relaxed) != 0 { carryOutRequests() }
            // Steps left; the trap counter is read once per round, never per instruction. A round takes at
            // most an interrupt here and one trap in the inner loop (which ends the round), both counted,
            // so the budget is never overrun.
            var limit = budget &- executed &- Int(truncatingIfNeeded: trapsTaken &- baseTraps)
            if limit <= 0 { break }
            if checkInterrupts() {
                limit &-= 1
                if limit == 0 { break }
            }
            if waitingForInterrupt { break }
            var pc = self.pc
            let levelAtEntry = level   // privilege changes always leave the inner loop
            roundLevel = levelAtEntry.rawValue
            roundStartInstret = baseInstret &+ UInt64(executed)
            if hpmArmed {
                instret = roundStartInstret
                limit = min(limit, instructionsBeforeOverflow(level: roundLevel))
            }
            let tlbL = tlbLoad + dataSlot * Hart.tlbSize
            let tlbS = tlbStore + dataSlot * Hart.tlbSize
            let tlbF = tlbFetch + fetchSlot * Hart.tlbSize
            var pageTag: UInt64 = .max
            var ops = withUnsafeMutablePointer(to: &dummyOps) { $0 }
            var page = FetchEntry()
            let jitBlocks = code.jit?.blocks
            let jitEnter = code.jit?.enter
            let ctx = jitContext
            ctx.pointee.tlbLoad = tlbL
            ctx.pointee.tlbStore = tlbS
            ctx.pointee.tlbFetch = tlbF
            if jitBlocks != nil { noteJumpTarget(pc, tlbF) }   // after a trap, CSR op, xRET: an entry point
            var n = 0
            inner: while n < limit {
                let tag = pc & ~0xfff
                if tag != pageTag {
                    let e = tlbF[Int((pc >> 12) & Hart.tlbMask)]
                    if e.tag == tag {
                        page = e
                    } else {
                        self.pc = pc
                        guard let f = fetchFill(pc) else { pc = self.pc; break inner }
                        page = f
                    }
                    pageTag = tag
                    ops = UnsafeMutablePointer<DOp>(bitPattern: page.ops).unsafelyUnwrapped
                }
                var d = ops[Int((pc & 0xfff) >> 1)]
                if d.op == .undecoded {
                    self.pc = pc
                    guard let dd = decodeAt(pc, page) else { pc = self.pc; break inner }
                    d = dd
                }
                n &+= 1
                let rd = Int(d.rd), rs1 = Int(d.rs1), rs2 = Int(d.rs2)
                let next = pc &+ UInt64(d.len)
                switch d.op {
                case .undecoded, .crossPage, .illegal:
                    self.pc = pc; trap(cause: Cause.illegal, tval: UInt64(UInt32(bitPattern: d.imm))); pc = self.pc; n &-= 1; break inner
                case .lui: x[rd] = simm(d); pc = next
                case .auipc: x[rd] = pc &+ simm(d); pc = next
                case .jal: x[rd] = next; pc = pc &+ simm(d); if jitBlocks != nil { noteJumpTarget(pc, tlbF) }
                case .jalr: let t = (x[rs1] &+ simm(d)) & ~1; x[rd] = next; pc = t; if jitBlocks != nil { noteJumpTarget(pc, tlbF) }
                case .beq, .bne, .blt, .bge, .bltu, .bgeu:
                    let a = x[rs1], b = x[rs2]
                    let taken: Bool
                    switch d.op {
                    case .beq: taken = a == b
                    case .bne: taken = a != b
                    case .blt: taken = Int64(bitPattern: a) < Int64(bitPattern: b)
                    case .bge: taken = Int64(bitPattern: a) >= Int64(bitPattern: b)
                    case .bltu: taken = a < b
                    default: taken = a >= b
                    }
                    if taken {
                        pc = pc &+ simm(d)
                        if jitBlocks != nil { noteJumpTarget(pc, tlbF) }
                    } else {
                        pc = next
                    }
                case .jit:
                    let block = jitBlocks.unsafelyUnwrapped[Int(d.imm)]
                    if block.va != pc {
                        code.jit?.unlink(ops: ops, slot: Int((pc & 0xfff) >> 1), ramPage: page.ramPage, original: block.original, cache: code)
                        n &-= 1
                        continue inner
                    }
                    // The trampoline saves the registers blocks use and keeps the budget while they chain.
                    let budget = Int64(limit &- n)
                    ctx.pointee.budget = budget
                    jitEnter.unsafelyUnwrapped(x, UnsafeMutableRawPointer(ctx), block.code)
                    let done = Int(truncatingIfNeeded: budget &- ctx.pointee.budget)
                    if done == 0 {
                        // The first instruction (a load or store) missed the TLB: take the slow path.
                        self.pc = pc
                        guard executeMemoryOp(block.original) else { pc = self.pc; n &-= 1; break inner }
                        pc = next
                    } else {
                        n &+= done &- 1
                        pc = ctx.pointee.exitPC
                        // Where a block hands back to the interpreter is an entry point worth translating.
                        noteJumpTarget(pc, tlbF)
                    }

                case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu:
                    let va = x[rs1] &+ simm(d)
                    let size: UInt64
                    switch d.op { case .lb, .lbu: size = 1; case .lh, .lhu: size = 2; case .lw, .lwu: size = 4; default: size = 8 }
                    let e = tlbL[Int((va >> 12) & Hart.tlbMask)]
                    var v: UInt64
                    if e.tag == va & ~(0xfff ^ (size &- 1)) {
                        let p = hostPtr(va &+ e.addend)
                        switch size {
                        case 1: v = UInt64(p.load(as: UInt8.self))
                        case 2: v = UInt64(p.load(as: UInt16.self))
                        case 4: v = UInt64(p.load(as: UInt32.self))
                        default: v = p.load(as: UInt64.self)
                        }
                    } else {
                        self.pc = pc
                        guard let s = loadSlow(va, Int(size)) else { pc = self.pc; n &-= 1; break inner }
                        v = s
                    }
                    switch d.op {
                    case .lb: v = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: v)))
                    case .lh: v = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: v)))
                    case .lw: v = sx32(v)
                    default: break
                    }
                    x[rd] = v
                    pc = next

                case .sb, .sh, .sw, .sd:
                    let va = x[rs1] &+ simm(d)
                    let v = x[rs2]
                    let size: UInt64
                    switch d.op { case .sb: size = 1; case .sh: size = 2; case .sw: size = 4; default: size = 8 }
                    let e = tlbS[Int((va >> 12) & Hart.tlbMask)]
                    if e.tag == va & ~(0xfff ^ (size &- 1)) {
                        let p = hostPtr(va &+ e.addend)
                        switch size {
                        case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self)
                        case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: v), as: UInt16.self)
                        case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: v), as: UInt32.self)
                        default: p.storeBytes(of: v, as: UInt64.self)
                        }
                    } else {
                        self.pc = pc
                        guard storeSlow(va, Int(size), v) else { pc = self.pc; n &-= 1; break inner }
                        // The store may have invalidated the page we are executing from: ops stay valid (zeroed).
                        // A device write may power the machine off or reset it: stop right after it.
                        if stopRequested { pc = next; break inner }
                    }
                    pc = next

                case .addi: x[rd] = x[rs1] &+ simm(d); pc = next
                case .slti: x[rd] = Int64(bitPattern: x[rs1]) < Int64(d.imm) ? 1 : 0; pc = next
                case .sltiu: x[rd] = x[rs1] < simm(d) ? 1 : 0; pc = next
                case .xori: x[rd] = x[rs1] ^ simm(d); pc = next
                case .ori: x[rd] = x[rs1] | simm(d); pc = next
                case .andi: x[rd] = x[rs1] & simm(d); pc = next
                case .slli: x[rd] = x[rs1] &<< UInt64(d.imm); pc = next
                case .srli: x[rd] = x[rs1] &>> UInt64(d.imm); pc = next
                case .srai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) &>> Int64(d.imm)); pc = next
                case .add: x[rd] = x[rs1] &+ x[rs2]; pc = next
                case .sub: x[rd] = x[rs1] &- x[rs2]; pc = next
                case .sll: x[rd] = x[rs1] &<< x[rs2]; pc = next
                case .slt: x[rd] = Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) ? 1 : 0; pc = next
                case .sltu: x[rd] = x[rs1] < x[rs2] ? 1 : 0; pc = next
                case .xor: x[rd] = x[rs1] ^ x[rs2]; pc = next
                case .srl: x[rd] = x[rs1] &>> x[rs2]; pc = next
                case .sra: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) &>> Int64(bitPattern: x[rs2])); pc = next
                case .or: x[rd] = x[rs1] | x[rs2]; pc = next
                case .and: x[rd] = x[rs1] & x[rs2]; pc = next
                case .addiw: x[rd] = sx32(x[rs1] &+ simm(d)); pc = next
                case .slliw: x[rd] = sx32(x[rs1] &<< UInt64(d.imm)); pc = next
                case .srliw: x[rd] = sx32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) &>> UInt32(d.imm))); pc = next
                case .sraiw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) &>> Int32(d.imm))); pc = next
                case .addw: x[rd] = sx32(x[rs1] &+ x[rs2]); pc = next
                case .subw: x[rd] = sx32(x[rs1] &- x[rs2]); pc = next
                case .sllw: x[rd] = sx32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) &<< UInt32(truncatingIfNeeded: x[rs2]))); pc = next
                case .srlw: x[rd] = sx32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) &>> UInt32(truncatingIfNeeded: x[rs2]))); pc = next
                case .sraw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) &>> Int32(truncatingIfNeeded: x[rs2] & 31))); pc = next
                case .mul: x[rd] = x[rs1] &* x[rs2]; pc = next
                case .mulh: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]).multipliedFullWidth(by: Int64(bitPattern: x[rs2])).high); pc = next
                case .mulhu: x[rd] = x[rs1].multipliedFullWidth(by: x[rs2]).high; pc = next
                case .mulhsu:
                    let a = x[rs1], b = x[rs2]
                    var hi = a.multipliedFullWidth(by: b).high
                    if Int64(bitPattern: a) < 0 { hi = hi &- b }
                    x[rd] = hi; pc = next
                case .div:
                    let a = Int64(bitPattern: x[rs1]), b = Int64(bitPattern: x[rs2])
                    x[rd] = b == 0 ? .max : (a == .min && b == -1 ? UInt64(bitPattern: a) : UInt64(bitPattern: a / b)); pc = next
                case .divu: let b = x[rs2]; x[rd] = b == 0 ? .max : x[rs1] / b; pc = next
                case .rem:
                    let a = Int64(bitPattern: x[rs1]), b = Int64(bitPattern: x[rs2])
                    x[rd] = b == 0 ? UInt64(bitPattern: a) : (a == .min && b == -1 ? 0 : UInt64(bitPattern: a % b)); pc = next
                case .remu: let b = x[rs2]; x[rd] = b == 0 ? x[rs1] : x[rs1] % b; pc = next
                case .mulw: x[rd] = sx32(x[rs1] &* x[rs2]); pc = next
                case .divw:
                    let a = Int32(truncatingIfNeeded: x[rs1]), b = Int32(truncatingIfNeeded: x[rs2])
                    let q: Int32 = b == 0 ? -1 : (a == .min && b == -1 ? a : a / b)
                    x[rd] = UInt64(bitPattern: Int64(q)); pc = next
                case .divuw:
                    let a = UInt32(truncatingIfNeeded: x[rs1]), b = UInt32(truncatingIfNeeded: x[rs2])
                    x[rd] = sx32(UInt64(b == 0 ? .max : a / b)); pc = next
                case .remw:
                    let a = Int32(truncatingIfNeeded: x[rs1]), b = Int32(truncatingIfNeeded: x[rs2])
                    let r: Int32 = b == 0 ? a : (a == .min && b == -1 ? 0 : a % b)
                    x[rd] = UInt64(bitPattern: Int64(r)); pc = next
                case .remuw:
                    let a = UInt32(truncatingIfNeeded: x[rs1]), b = UInt32(truncatingIfNeeded: x[rs2])
                    x[rd] = sx32(UInt64(b == 0 ? a : a % b)); pc = next

                case .andn, .orn, .xnor, .clz, .clzw, .ctz, .ctzw, .cpop, .cpopw, .max, .maxu, .min, .minu,
                     .sextB, .sextH, .zextH, .rol, .rolw, .ror, .rori, .roriw, .rorw, .orcB, .rev8,
                     .sh1add, .sh2add, .sh3add, .sh1addUW, .sh2addUW, .sh3addUW, .addUW, .slliUW,
                     .clmul, .clmulh, .clmulr, .bclr, .bclri, .bext, .bexti, .binv, .binvi, .bset, .bseti,
                     .czeroEqz, .czeroNez:
                    x[rd] = Hart.bitManip(d.op, x[rs1], x[rs2], d.imm); pc = next

                case .cbo:
                    self.pc = pc
                    guard executeCacheBlockOp(d) else { pc = self.pc; n &-= 1; break inner }
                    pc = next

                case .vector:
                    self.pc = pc
                    guard executeVector(UInt32(bitPattern: d.imm)) else { pc = self.pc; n &-= 1; break inner }
                    pc = next   // not a JIT entry point: vector loops hold a scalar instruction or two between vector ones

                case .fence: pc = next
                case .fenceStoreLoad:
                    if threading != nil { HostAtomics.fence() }
                    pc = next
                case .pause:
                    // A spin-wait hint: end the slice so the other harts (a lock holder) run; on its own
                    // host thread the hart also gives up its host core (`spinning`).
                    pc = next; yielded = true; spinning = true; break inner
                case .fenceI:
                    // Stores to code pages already invalidated their decoded ops; nothing is stale. With a
                    // thread per hart, other harts' stores and DMA do not reach this hart's code cache:
                    // FENCE.I makes the next fetch from each page check it (see CodeCache.isPrivate).
                    pc = next
                    if threading != nil { fenceInstructions(); pageTag = .max }

                case .lrW, .lrD, .scW, .scD, .amoW, .amoD:
                    self.pc = pc
                    guard executeAtomic(d) else { pc = self.pc; n &-= 1; break inner }
                    pc = next
                    if jitBlocks != nil { noteJumpTarget(pc, tlbF) }

                case .ecall, .ebreak, .mret, .sret, .wfi, .sfenceVMA, .hfenceVVMA, .hfenceGVMA,
                     .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci, .hlv, .hlvx, .hsv:
                    self.pc = pc
                    instret = baseInstret &+ UInt64(executed &+ n &- 1)  // counters read by CSR ops are exact
                    let trapsBefore = trapsTaken
                    executeSystem(d)
                    pc = self.pc
                    if trapsTaken != trapsBefore {
                        // ECALL, EBREAK and faulting system instructions do not retire (privileged spec,
                        // "Environment Call and Breakpoint"): the trap is their step. --stats still counts
                        // them as executed at this level.
                        n &-= 1
                        if collectStats { instructionsByLevel[levelAtEntry.rawValue] &+= 1 }
                    }
                    break inner

                case .flw, .fld, .fsw, .fsd, .fmaS, .fmaD,
                     .faddS, .fsubS, .fmulS, .fdivS, .fsqrtS, .fsgnjS, .fsgnjnS, .fsgnjxS, .fminS, .fmaxS,
                     .fcvtWS, .fcvtWUS, .fcvtLS, .fcvtLUS, .fmvXW, .fclassS, .feqS, .fltS, .fleS,
                     .fcvtSW, .fcvtSWU, .fcvtSL, .fcvtSLU, .fmvWX,
                     .faddD, .fsubD, .fmulD, .fdivD, .fsqrtD, .fsgnjD, .fsgnjnD, .fsgnjxD, .fminD, .fmaxD,
                     .fcvtWD, .fcvtWUD, .fcvtLD, .fcvtLUD, .fmvXD, .fclassD, .feqD, .fltD, .fleD,
                     .fcvtDW, .fcvtDWU, .fcvtDL, .fcvtDLU, .fmvDX, .fcvtSD, .fcvtDS,
                     .flh, .fsh, .fmvXH, .fmvHX, .fcvtSH, .fcvtHS, .fcvtDH, .fcvtHD,
                     .fliS, .fliD, .fminmS, .fmaxmS, .fminmD, .fmaxmD, .froundS, .froundnxS, .froundD, .froundnxD,
                     .fcvtmodWD, .fleqS, .fltqS, .fleqD, .fltqD,
                     .fmaH, .faddH, .fsubH, .fmulH, .fdivH, .fsqrtH, .fsgnjH, .fsgnjnH, .fsgnjxH, .fminH, .fmaxH,
                     .fcvtWH, .fcvtWUH, .fcvtLH, .fcvtLUH, .fclassH, .feqH, .fltH, .fleH, .fcvtHW, .fcvtHWU, .fcvtHL, .fcvtHLU,
                     .fliH, .fminmH, .fmaxmH, .froundH, .froundnxH, .fleqH, .fltqH:
                    self.pc = pc
                    guard executeFP(d) else { pc = self.pc; n &-= 1; break inner }
                    pc = next
                    if jitBlocks != nil { noteJumpTarget(pc, tlbF) }
                }
            }
            executed &+= n
            retiredByLevel[levelAtEntry.rawValue] &+= UInt64(n)
            roundStartInstret = baseInstret &+ UInt64(executed)
            if collectStats { instructionsByLevel[levelAtEntry.rawValue] &+= UInt64(n) }
            if hpmArmed { instret = baseInstret &+ UInt64(executed); checkHPMOverflow() }
            self.pc = pc
        }
        instret = baseInstret &+ UInt64(executed)
        return executed &+ Int(truncatingIfNeeded: trapsTaken &- baseTraps)
    }

    /// A taken control transfer in interpreted code: counts the target and compiles it once hot.
    @inline(never)
    func noteJumpTarget(_ va: UInt64, _ tlbF: UnsafeMutablePointer<FetchEntry>) {
        let e = tlbF[Int((va >> 12) & Hart.tlbMask)]
        guard e.tag == va & ~0xfff else { return }
        let ops = UnsafeMutablePointer<DOp>(bitPattern: e.ops).unsafelyUnwrapped
        let slot = Int(va & 0xfff) >> 1
        guard ops[slot].op != .jit else { return }
        let hot = code.hotness(ramPage: e.ramPage)
        let h = hot[slot]
        guard h < JIT.hotThreshold else { return }
        hot[slot] = h &+ 1
        guard h &+ 1 == JIT.hotThreshold, let jit = code.jit else { return }
        _ = jit.compile(va: va, ops: ops, host: UnsafeRawPointer(bitPattern: e.host).unsafelyUnwrapped, cache: code, ramPage: e.ramPage, ext: extensions)
    }

    /// Interprets a load or store through the slow path (a JIT block's first instruction missed the TLB).
    @inline(never)
    func executeMemoryOp(_ d: DOp) -> Bool {
        let va = x[Int(d.rs1)] &+ simm(d)
        switch d.op {
        case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu:
            let size: Int
            switch d.op { case .lb, .lbu: size = 1; case .lh, .lhu: size = 2; case .lw, .lwu: size = 4; default: size = 8 }
            guard var v = loadSlow(va, size) else { return false }
            switch d.op {
            case .lb: v = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: v)))
            case .lh: v = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: v)))
            case .lw: v = sx32(v)
            default: break
            }
            x[Int(d.rd)] = v
            return true
        case .sb: return storeSlow(va, 1, x[Int(d.rs2)])
        case .sh: return storeSlow(va, 2, x[Int(d.rs2)])
        case .sw: return storeSlow(va, 4, x[Int(d.rs2)])
        case .sd: return storeSlow(va, 8, x[Int(d.rs2)])
        default:
            trap(cause: Cause.illegal, tval: 0)
            return false
        }
    }

    /// The cache-block size that cbo.* and the device tree's riscv,cbo*-block-size use.
    public static let cacheBlockSize: UInt64 = 64

    /// CBO.INVAL/CLEAN/FLUSH/ZERO (CMO spec §"Cache-Block Operations"). Returns false after taking a trap.
    /// There is no cache: management ops only check that some access to the block is allowed; CBO.ZERO
    /// writes the block's zeros as stores do.
    @inline(never)
    func executeCacheBlockOp(_ d: DOp) -> Bool {
        let raw = UInt32(bitPattern: d.imm)
        // menvcfg/senvcfg/henvcfg: CBIE bits 5:4, CBCFE bit 6, CBZE bit 7 (§"Control and Status Register State").
        func enabled(_ envcfg: UInt64) -> Bool {
            switch d.aux {
            case 4: return envcfg & (1 << 7) != 0
            case 0: return (envcfg >> 4) & 3 == 1 || (envcfg >> 4) & 3 == 3
            default: return envcfg & (1 << 6) != 0
            }
        }
        if prv != Priv.machine {
            if !enabled(menvcfg) { trapIllegalRaw(raw); return false }
            if virt && !enabled(henvcfg) { trapVirtualRaw(raw); return false }
            if prv == Priv.user && !enabled(senvcfg) {
                if virt { trapVirtualRaw(raw) } else { trapIllegalRaw(raw) }
                return false
            }
        }
        let va = x[Int(d.rs1)] & ~(Hart.cacheBlockSize - 1)
        if d.aux == 4 {
            // The block never crosses a page: after the first store (which checks and fills the store TLB
            // as any store does) the rest goes straight to RAM when the TLB allows it.
            let slot = dataSlot * Hart.tlbSize + Int((va >> 12) & Hart.tlbMask)
            var e = tlbStore[slot]
            if e.tag != va & ~0xfff {
                guard storeSlow(va, 8, 0) else { return false }
                e = tlbStore[slot]
            }
            if e.tag == va & ~0xfff {
                hostPtr(va &+ e.addend).initializeMemory(as: UInt8.self, repeating: 0, count: Int(Hart.cacheBlockSize))
                return true
            }
            for i in stride(from: UInt64(0), to: Hart.cacheBlockSize, by: 8) {   // RAM the TLB does not map, or MMIO
                guard storeSlow(va &+ i, 8, 0) else { return false }
            }
            return true
        }
        if case .ok = translate(maskPointer(va, dataPriv, virt: dataVirt), .load, dataPriv, virt: dataVirt) { return true }
        // No read access: the fault is reported as a store fault (§"Cache-Block Management Instructions").
        return physical(va, 1, .store, dataPriv, virt: dataVirt) != nil
    }

    /// LR/SC and AMOs (A extension). Returns false after taking a trap. AMOs are host atomic
    /// read-modify-writes on the RAM page and an SC is a compare-and-swap against what its LR read, so
    /// both stay atomic when other host threads (harts, I/O threads) write the same RAM.
    @inline(never)
    func executeAtomic(_ d: DOp) -> Bool {
        let va = x[Int(d.rs1)]
        let wide = d.op == .lrD || d.op == .scD || d.op == .amoD
        let size = wide ? 8 : 4
        switch d.op {
        case .lrW, .lrD:
            guard let (p, pa) = atomicPointer(va, size, isLoadReserved: true) else { return false }
            let v = wide ? p.load(as: UInt64.self) : UInt64(p.load(as: UInt32.self))
            x[Int(d.rd)] = wide ? v : sx32(v)
            reservation = pa
            reservedValue = v
        case .scW, .scD:
            guard let (p, pa) = atomicPointer(va, size, isLoadReserved: false) else { return false }
            let src = x[Int(d.rs2)]
            var stored = false
            if reservation == pa {
                // The SC must fail when another hart stored to the reserved bytes since the LR (A §"LR/SC"):
                // the word must still hold what the LR read. A store of that same value in between (ABA)
                // is not noticed; the SC then behaves as if it had come first, which LR/SC loops (locks,
                // counters, cmpxchg) cannot tell apart.
                if wide {
                    stored = HostAtomics.compareExchange(p, expected: reservedValue, desired: src) == reservedValue
                } else {
                    let expected = UInt32(truncatingIfNeeded: reservedValue)
                    stored = HostAtomics.compareExchange(p, expected: expected, desired: UInt32(truncatingIfNeeded: src)) == expected
                }
            }
            x[Int(d.rd)] = stored ? 0 : 1
            reservation = .max
        default:
            guard let (p, _) = atomicPointer(va, size, isLoadReserved: false) else { return false }
            let src = x[Int(d.rs2)]
            let fn = AMOFunc(rawValue: d.aux) ?? .swap
            let host: HostAtomics.Operation?
            switch fn {
            case .swap: host = .swap
            case .add: host = .add
            case .xor: host = .xor
            case .and: host = .and
            case .or: host = .or
            default: host = nil
            }
            let old: UInt64
            if let host {
                old = wide ? HostAtomics.rmw(p, host, src) : sx32(UInt64(HostAtomics.rmw(p, host, UInt32(truncatingIfNeeded: src))))
            } else {
                // min/max: a compare-and-swap loop.
                old = wide ? Hart.amoMinMax(p, fn, src, signed: Int64.self)
                    : sx32(UInt64(Hart.amoMinMax(p, fn, UInt32(truncatingIfNeeded: src), signed: Int32.self)))
            }
            x[Int(d.rd)] = old
        }
        return true
    }

    /// AMOMIN/AMOMAX[U] on a `U` word at `p` by compare-and-swap (S: the signed type of the same width).
    static func amoMinMax<U: FixedWidthInteger & UnsignedInteger, S: FixedWidthInteger & SignedInteger>(
        _ p: UnsafeMutableRawPointer, _ fn: AMOFunc, _ b: U, signed: S.Type) -> U {
        var cur = p.load(as: U.self)
        while true {
            let r: U
            switch fn {
            case .min: r = S(truncatingIfNeeded: cur) < S(truncatingIfNeeded: b) ? cur : b
            case .max: r = S(truncatingIfNeeded: cur) > S(truncatingIfNeeded: b) ? cur : b
            case .minu: r = min(cur, b)
            default: r = max(cur, b)
            }
            let seen = HostAtomics.compareExchange(p, expected: cur, desired: r)
            if seen == cur { return cur }
            cur = seen
        }
    }

    /// Privileged and CSR instructions. Always leaves self.pc at the next pc to execute.
    @inline(never)
    func executeSystem(_ d: DOp) {
        // With a thread per hart: SBI calls and CSRs reach other harts and devices (IMSIC files too).
        guard let t = threading else { return executeSystemLocked(d) }
        t.lock.lock()
        defer { t.lock.unlock() }
        executeSystemLocked(d)
    }

    func executeSystemLocked(_ d: DOp) {
        let next = pc &+ UInt64(d.len)
        switch d.op {
        case .ecall:
            if prv == Priv.supervisor, !virt, let sbi {
                sbi.handleSBICall(self)
                pc = next
                return
            }
            let cause: UInt64
            if prv == Priv.user { cause = Cause.ecallU }
            else if prv == Priv.supervisor { cause = virt ? Cause.ecallVS : Cause.ecallS }
            else { cause = Cause.ecallM }
            trap(cause: cause, tval: 0)
        case .ebreak:
            trap(cause: Cause.breakpoint, tval: pc, gva: virt)
        case .mret:
            guard prv == Priv.machine else { return trapIllegalRaw(0x3020_0073) }
            mret()
        case .sret:
            if virt {
                // VS-mode: hstatus.VTSR traps to HS; VU-mode: never allowed. mstatus.TSR does not apply to V=1
                // (H §"Trap Cause Codes": virtual-instruction cases).
                if prv == Priv.user || hstatus & HStatus.vtsr != 0 { return trapVirtualRaw(0x1020_0073) }
                sret()
                return
            }
            guard prv == Priv.machine || (prv == Priv.supervisor && mstatus & MStatus.tsr == 0) else { return trapIllegalRaw(0x1020_0073) }
            sret()
        case .wfi:
            if prv < Priv.machine && mstatus & MStatus.tw != 0 { return trapIllegalRaw(0x1050_0073) }
            if virt && (prv == Priv.user || hstatus & HStatus.vtw != 0) { return trapVirtualRaw(0x1050_0073) }
            if prv == Priv.user { return trapIllegalRaw(0x1050_0073) }
            pc = next
            if mip & mie == 0 { waitingForInterrupt = true }
        case .sfenceVMA where d.aux == 1:
            // SFENCE.W.INVAL, SFENCE.INVAL.IR (Svinval): not affected by TVM; nothing is buffered to order.
            if prv == Priv.user { return virt ? trapVirtualRaw(UInt32(bitPattern: d.imm)) : trapIllegalRaw(UInt32(bitPattern: d.imm)) }
            pc = next
        case .sfenceVMA:
            let raw = UInt32(bitPattern: d.imm)
            if virt {
                if prv == Priv.user || hstatus & HStatus.vtvm != 0 { return trapVirtualRaw(raw) }
                // In VS-mode SFENCE.VMA orders the guest's own (VS-stage) translations only.
                fenceGuest(va: fenceOperand(d.rs1), asid: fenceOperand(d.rs2))
                pc = next
                return
            }
            if prv == Priv.user || (prv == Priv.supervisor && mstatus & MStatus.tvm != 0) { return trapIllegalRaw(raw) }
            // With V=0 it orders HS-level translations only (H §"Hypervisor Memory-Management
            // Fence Instructions"), so the combined guest entries stay.
            fenceHost(va: fenceOperand(d.rs1), asid: fenceOperand(d.rs2))
            pc = next
        case .hfenceVVMA, .hfenceGVMA:
            let raw = UInt32(bitPattern: d.imm)
            if virt { return trapVirtualRaw(raw) }
            if prv == Priv.user { return trapIllegalRaw(raw) }
            if d.op == .hfenceGVMA && prv == Priv.supervisor && mstatus & MStatus.tvm != 0 { return trapIllegalRaw(raw) }
            // HFENCE.VVMA: guest virtual address (rs1) and guest ASID (rs2) of the current VMID.
            // HFENCE.GVMA: guest physical address >> 2 (rs1) and VMID (rs2).
            if d.op == .hfenceGVMA { fenceGStage(vmid: fenceOperand(d.rs2)) }
            else { fenceGuest(va: fenceOperand(d.rs1), asid: fenceOperand(d.rs2)) }
            pc = next
        case .hlv, .hlvx, .hsv:
            let raw = UInt32(bitPattern: d.imm)
            if virt { return trapVirtualRaw(raw) }
            if prv == Priv.user && hstatus & HStatus.hu == 0 { return trapIllegalRaw(raw) }
            let size = 1 << Int(d.aux & 3)
            let va = x[Int(d.rs1)]
            if d.op == .hsv {
                guard hypervisorStore(va, size, x[Int(d.rs2)]) else { return }
            } else {
                guard var v = hypervisorLoad(va, size, exec: d.op == .hlvx) else { return }
                if d.aux & 4 != 0 && size < 8 {
                    let shift = UInt64(64 - 8 * size)
                    v = UInt64(bitPattern: Int64(bitPattern: v << shift) >> Int64(shift))
                }
                x[Int(d.rd)] = v
            }
            pc = next
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            // Illegal CSR accesses report the instruction bits; rebuild them from the decoded fields.
            if csrInstruction(d) { pc = next; return }
            let f3: UInt32
            switch d.op {
            case .csrrw: f3 = 1
            case .csrrs: f3 = 2
            case .csrrc: f3 = 3
            case .csrrwi: f3 = 5
            case .csrrsi: f3 = 6
            default: f3 = 7
            }
            let raw = (UInt32(bitPattern: d.imm) << 20) | (UInt32(d.rs1) << 15) | (f3 << 12) | (UInt32(d.rd == 32 ? 0 : d.rd) << 7) | 0x73
            if csrVirtualFault { trapVirtualRaw(raw) } else { trapIllegalRaw(raw) }
        default:
            trapIllegalRaw(UInt32(bitPattern: d.imm))
        }
    }

    /// A fence's address or ASID/VMID operand: nil for x0, which means "all".
    func fenceOperand(_ reg: UInt8) -> UInt64? { reg != 0 ? x[Int(reg)] : nil }

    func trapVirtualRaw(_ raw: UInt32) { trap(cause: Cause.virtualInstruction, tval: UInt64(raw)) }
    func trapIllegalRaw(_ raw: UInt32) { trap(cause: Cause.illegal, tval: UInt64(raw)) }
}
