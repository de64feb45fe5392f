// The instruction loop. Hot state lives in locals; anything that changes privilege, translation or
// interrupt state leaves the inner loop so the outer loop re-derives it (see ../shared/perf-notes.md).

@inline(__always) func sx32(_ v: UInt64) -> UInt64 { UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: v))) }
@inline(__always) func simm(_ d: DOp) -> UInt64 { UInt64(bitPattern: Int64(d.imm)) }
@inline(__always) func hostPtr(_ a: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: a)).unsafelyUnwrapped
}

extension Hart {
    /// Host pointer for a TLB hit of an access of (alignMask + 1) bytes; nil on a miss or misalignment.
    @inline(__always)
    static func tlbHit(_ tlb: UnsafeMutablePointer<TLBEntry>, _ va: UInt64, _ alignMask: UInt64) -> UnsafeMutableRawPointer? {
        let e = tlb[Int((va >> 12) & 255)]
        return e.tag == va & ~(0xfff ^ alignMask) ? hostPtr(va &+ e.addend) : nil
    }

    /// Runs up to `budget` instructions. Returns the number executed. Stops early when the hart
    /// waits for an interrupt (WFI), is stopped, or `stopRequested` is set.
    ///
    /// Ops are read from the current page's op array at (pc - pageBase) / 2. Falling off the end of a
    /// page reaches a `.pageEnd` sentinel; control transfers leaving the page (or running out of budget)
    /// point `ops` at `CodeCache.lookupPage`, whose every slot is `.pageEnd`. So only `.pageEnd` looks up
    /// pages and checks the budget, and straight-line code pays for neither.
    @inline(never)
    public func run(_ budget: Int) -> Int {
        var executed = 0
        let x = self.x
        let lookupPage = CodeCache.lookupPage
        let scratch = self.scratchOps
        outer: while executed < budget {
            if !running || stopRequested { break }
            checkInterrupts()
            if waitingForInterrupt { break }
            var pc = self.pc
            let tlbL = tlbLoad + dataSlot * Hart.tlbSize
            let tlbS = tlbStore + dataSlot * Hart.tlbSize
            let tlbF = tlbFetch + fetchSlot * Hart.tlbSize
            var pageBase = pc & ~0xfff
            var ops = lookupPage
            let limit = budget - executed
            var n = 0
            inner: while true {
                let dp = ops + Int(truncatingIfNeeded: (pc &- pageBase) >> 1)
                n &+= 1
                switch dp.pointee.op {
                case .pageEnd:
                    n &-= 1
                    if n >= limit { break inner }
                    pageBase = pc & ~0xfff
                    let e = tlbF[Int((pc >> 12) & 255)]
                    if e.tag == pageBase {
                        currentFetch = e
                    } else {
                        self.pc = pc
                        guard let f = fetchFill(pc) else { pc = self.pc; break inner }
                        currentFetch = f
                    }
                    ops = UnsafeMutablePointer<DOp>(bitPattern: currentFetch.ops).unsafelyUnwrapped
                case .undecoded:
                    n &-= 1
                    self.pc = pc
                    guard let d = decodeAt(pc, currentFetch) else { pc = self.pc; break inner }
                    if d.op == .undecoded || dp.pointee.op == .undecoded {
                        // Not cached (it straddles two pages): run it from the scratch slots.
                        scratch.pointee = d
                        ops = scratch
                        pageBase = pc
                    }
                case .crossPage, .illegal:
                    let d = dp.pointee
                    self.pc = pc; trap(cause: Cause.illegal, tval: UInt64(UInt32(bitPattern: d.imm))); pc = self.pc; n &-= 1; break inner

                case .lui: let d = dp.pointee; x[Int(d.rd)] = simm(d); pc &+= UInt64(d.len)
                case .auipc: let d = dp.pointee; x[Int(d.rd)] = pc &+ simm(d); pc &+= UInt64(d.len)
                case .jal:
                    let d = dp.pointee
                    x[Int(d.rd)] = pc &+ UInt64(d.len)
                    pc = pc &+ simm(d)
                    if pc & ~0xfff != pageBase || n >= limit { ops = lookupPage; pageBase = pc & ~0xfff }
                case .jalr:
                    let d = dp.pointee
                    let t = (x[Int(d.rs1)] &+ simm(d)) & ~1
                    x[Int(d.rd)] = pc &+ UInt64(d.len)
                    pc = t
                    if pc & ~0xfff != pageBase || n >= limit { ops = lookupPage; pageBase = pc & ~0xfff }
                case .beq, .bne, .blt, .bge, .bltu, .bgeu:
                    let d = dp.pointee
                    let a = x[Int(d.rs1)], b = x[Int(d.rs2)]
                    let taken: Bool
                    switch d.op {
                    case .beq: taken = a == b
                    case .bne: taken = a != b
                    case .blt: taken = Int64(bitPattern: a) < Int64(bitPattern: b)
                    case .bge: taken = Int64(bitPattern: a) >= Int64(bitPattern: b)
                    case .bltu: taken = a < b
                    default: taken = a >= b
                    }
                    pc = taken ? pc &+ simm(d) : pc &+ UInt64(d.len)
                    if pc & ~0xfff != pageBase || n >= limit { ops = lookupPage; pageBase = pc & ~0xfff }

                case .lb:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d)
                    if let p = Hart.tlbHit(tlbL, va, 0) { x[Int(d.rd)] = UInt64(bitPattern: Int64(p.load(as: Int8.self))) }
                    else { self.pc = pc; guard let v = loadSlow(va, 1) else { pc = self.pc; n &-= 1; break inner }; x[Int(d.rd)] = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: v))) }
                    pc &+= UInt64(d.len)
                case .lh:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d)
                    if let p = Hart.tlbHit(tlbL, va, 1) { x[Int(d.rd)] = UInt64(bitPattern: Int64(p.load(as: Int16.self))) }
                    else { self.pc = pc; guard let v = loadSlow(va, 2) else { pc = self.pc; n &-= 1; break inner }; x[Int(d.rd)] = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: v))) }
                    pc &+= UInt64(d.len)
                case .lw:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d)
                    if let p = Hart.tlbHit(tlbL, va, 3) { x[Int(d.rd)] = UInt64(bitPattern: Int64(p.load(as: Int32.self))) }
                    else { self.pc = pc; guard let v = loadSlow(va, 4) else { pc = self.pc; n &-= 1; break inner }; x[Int(d.rd)] = sx32(v) }
                    pc &+= UInt64(d.len)
                case .ld:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d)
                    if let p = Hart.tlbHit(tlbL, va, 7) { x[Int(d.rd)] = p.load(as: UInt64.self) }
                    else { self.pc = pc; guard let v = loadSlow(va, 8) else { pc = self.pc; n &-= 1; break inner }; x[Int(d.rd)] = v }
                    pc &+= UInt64(d.len)
                case .lbu:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d)
                    if let p = Hart.tlbHit(tlbL, va, 0) { x[Int(d.rd)] = UInt64(p.load(as: UInt8.self)) }
                    else { self.pc = pc; guard let v = loadSlow(va, 1) else { pc = self.pc; n &-= 1; break inner }; x[Int(d.rd)] = v }
                    pc &+= UInt64(d.len)
                case .lhu:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d)
                    if let p = Hart.tlbHit(tlbL, va, 1) { x[Int(d.rd)] = UInt64(p.load(as: UInt16.self)) }
                    else { self.pc = pc; guard let v = loadSlow(va, 2) else { pc = self.pc; n &-= 1; break inner }; x[Int(d.rd)] = v }
                    pc &+= UInt64(d.len)
                case .lwu:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d)
                    if let p = Hart.tlbHit(tlbL, va, 3) { x[Int(d.rd)] = UInt64(p.load(as: UInt32.self)) }
                    else { self.pc = pc; guard let v = loadSlow(va, 4) else { pc = self.pc; n &-= 1; break inner }; x[Int(d.rd)] = v }
                    pc &+= UInt64(d.len)
                case .sb:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d); let v = x[Int(d.rs2)]
                    if let p = Hart.tlbHit(tlbS, va, 0) { p.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self) }
                    else { self.pc = pc; guard storeSlow(va, 1, v) else { pc = self.pc; n &-= 1; break inner } }
                    pc &+= UInt64(d.len)
                case .sh:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d); let v = x[Int(d.rs2)]
                    if let p = Hart.tlbHit(tlbS, va, 1) { p.storeBytes(of: UInt16(truncatingIfNeeded: v), as: UInt16.self) }
                    else { self.pc = pc; guard storeSlow(va, 2, v) else { pc = self.pc; n &-= 1; break inner } }
                    pc &+= UInt64(d.len)
                case .sw:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d); let v = x[Int(d.rs2)]
                    if let p = Hart.tlbHit(tlbS, va, 3) { p.storeBytes(of: UInt32(truncatingIfNeeded: v), as: UInt32.self) }
                    else { self.pc = pc; guard storeSlow(va, 4, v) else { pc = self.pc; n &-= 1; break inner } }
                    pc &+= UInt64(d.len)
                case .sd:
                    let d = dp.pointee; let va = x[Int(d.rs1)] &+ simm(d); let v = x[Int(d.rs2)]
                    if let p = Hart.tlbHit(tlbS, va, 7) { p.storeBytes(of: v, as: UInt64.self) }
                    else { self.pc = pc; guard storeSlow(va, 8, v) else { pc = self.pc; n &-= 1; break inner } }
                    pc &+= UInt64(d.len)
                case .addi: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] &+ simm(d); pc &+= UInt64(d.len)
                case .slti: let d = dp.pointee; x[Int(d.rd)] = Int64(bitPattern: x[Int(d.rs1)]) < Int64(d.imm) ? 1 : 0; pc &+= UInt64(d.len)
                case .sltiu: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] < simm(d) ? 1 : 0; pc &+= UInt64(d.len)
                case .xori: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] ^ simm(d); pc &+= UInt64(d.len)
                case .ori: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] | simm(d); pc &+= UInt64(d.len)
                case .andi: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] & simm(d); pc &+= UInt64(d.len)
                case .slli: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] &<< UInt64(d.imm); pc &+= UInt64(d.len)
                case .srli: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] &>> UInt64(d.imm); pc &+= UInt64(d.len)
                case .srai: let d = dp.pointee; x[Int(d.rd)] = UInt64(bitPattern: Int64(bitPattern: x[Int(d.rs1)]) &>> Int64(d.imm)); pc &+= UInt64(d.len)
                case .add: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] &+ x[Int(d.rs2)]; pc &+= UInt64(d.len)
                case .sub: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] &- x[Int(d.rs2)]; pc &+= UInt64(d.len)
                case .sll: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] &<< x[Int(d.rs2)]; pc &+= UInt64(d.len)
                case .slt: let d = dp.pointee; x[Int(d.rd)] = Int64(bitPattern: x[Int(d.rs1)]) < Int64(bitPattern: x[Int(d.rs2)]) ? 1 : 0; pc &+= UInt64(d.len)
                case .sltu: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] < x[Int(d.rs2)] ? 1 : 0; pc &+= UInt64(d.len)
                case .xor: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] ^ x[Int(d.rs2)]; pc &+= UInt64(d.len)
                case .srl: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] &>> x[Int(d.rs2)]; pc &+= UInt64(d.len)
                case .sra: let d = dp.pointee; x[Int(d.rd)] = UInt64(bitPattern: Int64(bitPattern: x[Int(d.rs1)]) &>> Int64(bitPattern: x[Int(d.rs2)])); pc &+= UInt64(d.len)
                case .or: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] | x[Int(d.rs2)]; pc &+= UInt64(d.len)
                case .and: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] & x[Int(d.rs2)]; pc &+= UInt64(d.len)
                case .addiw: let d = dp.pointee; x[Int(d.rd)] = sx32(x[Int(d.rs1)] &+ simm(d)); pc &+= UInt64(d.len)
                case .slliw: let d = dp.pointee; x[Int(d.rd)] = sx32(x[Int(d.rs1)] &<< UInt64(d.imm)); pc &+= UInt64(d.len)
                case .srliw: let d = dp.pointee; x[Int(d.rd)] = sx32(UInt64(UInt32(truncatingIfNeeded: x[Int(d.rs1)]) &>> UInt32(d.imm))); pc &+= UInt64(d.len)
                case .sraiw: let d = dp.pointee; x[Int(d.rd)] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[Int(d.rs1)]) &>> Int32(d.imm))); pc &+= UInt64(d.len)
                case .addw: let d = dp.pointee; x[Int(d.rd)] = sx32(x[Int(d.rs1)] &+ x[Int(d.rs2)]); pc &+= UInt64(d.len)
                case .subw: let d = dp.pointee; x[Int(d.rd)] = sx32(x[Int(d.rs1)] &- x[Int(d.rs2)]); pc &+= UInt64(d.len)
                case .sllw: let d = dp.pointee; x[Int(d.rd)] = sx32(UInt64(UInt32(truncatingIfNeeded: x[Int(d.rs1)]) &<< UInt32(truncatingIfNeeded: x[Int(d.rs2)]))); pc &+= UInt64(d.len)
                case .srlw: let d = dp.pointee; x[Int(d.rd)] = sx32(UInt64(UInt32(truncatingIfNeeded: x[Int(d.rs1)]) &>> UInt32(truncatingIfNeeded: x[Int(d.rs2)]))); pc &+= UInt64(d.len)
                case .sraw: let d = dp.pointee; x[Int(d.rd)] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[Int(d.rs1)]) &>> Int32(truncatingIfNeeded: x[Int(d.rs2)] & 31))); pc &+= UInt64(d.len)
                case .mul: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)] &* x[Int(d.rs2)]; pc &+= UInt64(d.len)
                case .mulh: let d = dp.pointee; x[Int(d.rd)] = UInt64(bitPattern: Int64(bitPattern: x[Int(d.rs1)]).multipliedFullWidth(by: Int64(bitPattern: x[Int(d.rs2)])).high); pc &+= UInt64(d.len)
                case .mulhu: let d = dp.pointee; x[Int(d.rd)] = x[Int(d.rs1)].multipliedFullWidth(by: x[Int(d.rs2)]).high; pc &+= UInt64(d.len)
                case .mulhsu: let d = dp.pointee
                    let a = x[Int(d.rs1)], b = x[Int(d.rs2)]
                    var hi = a.multipliedFullWidth(by: b).high
                    if Int64(bitPattern: a) < 0 { hi = hi &- b }
                    x[Int(d.rd)] = hi; pc &+= UInt64(d.len)
                case .div: let d = dp.pointee
                    let a = Int64(bitPattern: x[Int(d.rs1)]), b = Int64(bitPattern: x[Int(d.rs2)])
                    x[Int(d.rd)] = b == 0 ? .max : (a == .min && b == -1 ? UInt64(bitPattern: a) : UInt64(bitPattern: a / b)); pc &+= UInt64(d.len)
                case .divu: let d = dp.pointee; let b = x[Int(d.rs2)]; x[Int(d.rd)] = b == 0 ? .max : x[Int(d.rs1)] / b; pc &+= UInt64(d.len)
                case .rem: let d = dp.pointee
                    let a = Int64(bitPattern: x[Int(d.rs1)]), b = Int64(bitPattern: x[Int(d.rs2)])
                    x[Int(d.rd)] = b == 0 ? UInt64(bitPattern: a) : (a == .min && b == -1 ? 0 : UInt64(bitPattern: a % b)); pc &+= UInt64(d.len)
                case .remu: let d = dp.pointee; let b = x[Int(d.rs2)]; x[Int(d.rd)] = b == 0 ? x[Int(d.rs1)] : x[Int(d.rs1)] % b; pc &+= UInt64(d.len)
                case .mulw: let d = dp.pointee; x[Int(d.rd)] = sx32(x[Int(d.rs1)] &* x[Int(d.rs2)]); pc &+= UInt64(d.len)
                case .divw: let d = dp.pointee
                    let a = Int32(truncatingIfNeeded: x[Int(d.rs1)]), b = Int32(truncatingIfNeeded: x[Int(d.rs2)])
                    let q: Int32 = b == 0 ? -1 : (a == .min && b == -1 ? a : a / b)
                    x[Int(d.rd)] = UInt64(bitPattern: Int64(q)); pc &+= UInt64(d.len)
                case .divuw: let d = dp.pointee
                    let a = UInt32(truncatingIfNeeded: x[Int(d.rs1)]), b = UInt32(truncatingIfNeeded: x[Int(d.rs2)])
                    x[Int(d.rd)] = sx32(UInt64(b == 0 ? .max : a / b)); pc &+= UInt64(d.len)
                case .remw: let d = dp.pointee
                    let a = Int32(truncatingIfNeeded: x[Int(d.rs1)]), b = Int32(truncatingIfNeeded: x[Int(d.rs2)])
                    let r: Int32 = b == 0 ? a : (a == .min && b == -1 ? 0 : a % b)
                    x[Int(d.rd)] = UInt64(bitPattern: Int64(r)); pc &+= UInt64(d.len)
                case .remuw: let d = dp.pointee
                    let a = UInt32(truncatingIfNeeded: x[Int(d.rs1)]), b = UInt32(truncatingIfNeeded: x[Int(d.rs2)])
                    x[Int(d.rd)] = sx32(UInt64(b == 0 ? a : a % b)); pc &+= UInt64(d.len)

                case .fence: pc &+= UInt64(dp.pointee.len)
                case .fenceI:
                    // Stores to code pages already invalidated their decoded ops; nothing is stale.
                    pc &+= UInt64(dp.pointee.len)

                case .lrW, .lrD, .scW, .scD, .amoW, .amoD:
                    let d = dp.pointee
                    self.pc = pc
                    guard executeAtomic(d) else { pc = self.pc; n &-= 1; break inner }
                    pc &+= UInt64(d.len)

                case .ecall, .ebreak, .mret, .sret, .wfi, .sfenceVMA, .hfenceVVMA, .hfenceGVMA,
                     .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci, .hlv, .hlvx, .hsv:
                    self.pc = pc
                    executeSystem(dp.pointee)
                    pc = self.pc
                    break inner

                case .flw, .fld, .fsw, .fsd, .fmaS, .fmaD,
                     .faddS, .fsubS, .fmulS, .fdivS, .fsqrtS, .fsgnjS, .fsgnjnS, .fsgnjxS, .fminS, .fmaxS,
                     .fcvtWS, .fcvtWUS, .fcvtLS, .fcvtLUS, .fmvXW, .fclassS, .feqS, .fltS, .fleS,
                     .fcvtSW, .fcvtSWU, .fcvtSL, .fcvtSLU, .fmvWX,
                     .faddD, .fsubD, .fmulD, .fdivD, .fsqrtD, .fsgnjD, .fsgnjnD, .fsgnjxD, .fminD, .fmaxD,
                     .fcvtWD, .fcvtWUD, .fcvtLD, .fcvtLUD, .fmvXD, .fclassD, .feqD, .fltD, .fleD,
                     .fcvtDW, .fcvtDWU, .fcvtDL, .fcvtDLU, .fmvDX, .fcvtSD, .fcvtDS:
                    let d = dp.pointee
                    self.pc = pc
                    guard executeFP(d) else { pc = self.pc; n &-= 1; break inner }
                    pc &+= UInt64(d.len)
                }
            }
            executed &+= n
            self.pc = pc
        }
        instret &+= UInt64(executed)
        return executed
    }

    /// LR/SC and AMOs (A extension). Returns false after taking a trap.
    @inline(never)
    func executeAtomic(_ d: DOp) -> Bool {
        let va = x[Int(d.rs1)]
        let wide = d.op == .lrD || d.op == .scD || d.op == .amoD
        let size = wide ? 8 : 4
        switch d.op {
        case .lrW, .lrD:
            guard let (p, pa) = atomicPointer(va, size, isLoadReserved: true) else { return false }
            x[Int(d.rd)] = wide ? p.load(as: UInt64.self) : sx32(UInt64(p.load(as: UInt32.self)))
            reservation = pa
        case .scW, .scD:
            guard let (p, pa) = atomicPointer(va, size, isLoadReserved: false) else { return false }
            if reservation == pa {
                if wide { p.storeBytes(of: x[Int(d.rs2)], as: UInt64.self) }
                else { p.storeBytes(of: UInt32(truncatingIfNeeded: x[Int(d.rs2)]), as: UInt32.self) }
                x[Int(d.rd)] = 0
            } else {
                x[Int(d.rd)] = 1
            }
            reservation = .max
        default:
            guard let (p, _) = atomicPointer(va, size, isLoadReserved: false) else { return false }
            let src = x[Int(d.rs2)]
            let old: UInt64 = wide ? p.load(as: UInt64.self) : sx32(UInt64(p.load(as: UInt32.self)))
            let b = wide ? src : sx32(src)
            let fn = AMOFunc(rawValue: d.aux) ?? .swap
            let r: UInt64
            switch fn {
            case .swap: r = b
            case .add: r = old &+ b
            case .xor: r = old ^ b
            case .and: r = old & b
            case .or: r = old | b
            case .min: r = Int64(bitPattern: old) < Int64(bitPattern: b) ? old : b
            case .max: r = Int64(bitPattern: old) > Int64(bitPattern: b) ? old : b
            case .minu: r = wide ? min(old, b) : (UInt32(truncatingIfNeeded: old) < UInt32(truncatingIfNeeded: b) ? old : b)
            case .maxu: r = wide ? max(old, b) : (UInt32(truncatingIfNeeded: old) > UInt32(truncatingIfNeeded: b) ? old : b)
            }
            if wide { p.storeBytes(of: r, as: UInt64.self) } else { p.storeBytes(of: UInt32(truncatingIfNeeded: r), as: UInt32.self) }
            x[Int(d.rd)] = old
        }
        return true
    }

    /// Privileged and CSR instructions. Always leaves self.pc at the next pc to execute.
    @inline(never)
    func executeSystem(_ d: DOp) {
        let next = pc &+ UInt64(d.len)
        let illegal = { self.trap(cause: Cause.illegal, tval: UInt64(UInt32(bitPattern: d.imm))) }
        switch d.op {
        case .ecall:
            if prv == Priv.supervisor, let sbi {
                sbi.handleSBICall(self)
                pc = next
                return
            }
            trap(cause: prv == Priv.user ? Cause.ecallU : (prv == Priv.supervisor ? Cause.ecallS : Cause.ecallM), tval: 0)
        case .ebreak:
            trap(cause: Cause.breakpoint, tval: pc)
        case .mret:
            guard prv == Priv.machine else { return trapIllegalRaw(0x3020_0073) }
            mret()
        case .sret:
            guard prv == Priv.machine || (prv == Priv.supervisor && mstatus & MStatus.tsr == 0) else { return trapIllegalRaw(0x1020_0073) }
            sret()
        case .wfi:
            if prv < Priv.machine && mstatus & MStatus.tw != 0 { return trapIllegalRaw(0x1050_0073) }
            if prv == Priv.user { return trapIllegalRaw(0x1050_0073) }
            pc = next
            if mip & mie == 0 { waitingForInterrupt = true }
        case .sfenceVMA:
            if prv == Priv.user || (prv == Priv.supervisor && mstatus & MStatus.tvm != 0) { return illegal() }
            flushTLB()
            pc = next
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            // Illegal CSR accesses report the instruction bits; rebuild them from the decoded fields.
            let f3: UInt32 = [Op.csrrw: 1, .csrrs: 2, .csrrc: 3, .csrrwi: 5, .csrrsi: 6, .csrrci: 7][d.op]!
            let raw = (UInt32(bitPattern: d.imm) << 20) | (UInt32(d.rs1) << 15) | (f3 << 12) | (UInt32(d.rd == 32 ? 0 : d.rd) << 7) | 0x73
            if csrInstruction(d) { pc = next } else { trapIllegalRaw(raw) }
        default:
            illegal()
        }
    }

    func trapIllegalRaw(_ raw: UInt32) { trap(cause: Cause.illegal, tval: UInt64(raw)) }
}
