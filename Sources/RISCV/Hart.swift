/// Handles ECALLs from S-mode when the machine provides the SBI itself (no firmware in M-mode).
public protocol SBIHandler: AnyObject {
    /// Performs the call described by the hart's a0-a7 and writes a0/a1. The hart advances pc afterwards.
    func handleSBICall(_ hart: Hart)
}

struct TLBEntry {
    var tag: UInt64 = .max     // virtual page (low 12 bits zero) or .max when invalid
    var addend: UInt64 = 0     // host address = va &+ addend
}

struct FetchEntry {
    var tag: UInt64 = .max
    var ops: UInt = 0          // UnsafeMutablePointer<DOp> bits for this page's decoded ops
    var host: UInt = 0         // host address of the page start
    var ramPage: Int = 0
}

public enum Access { case fetch, load, store }

/// One RISC-V hart: architectural state, CSRs, traps, interrupts and address translation.
/// The instruction loop (`run`) lives in Execute.swift.
public final class Hart: InterruptTarget {
    public let id: Int
    public let ram: GuestRAM
    public let bus: PhysicalBus
    public let time: TimeBase
    let code: CodeCache
    public weak var sbi: SBIHandler?

    static let tlbSize = 256
    static let tlbSlots = 8
    /// TLB slots: 0 U, 1 S, 2 S with SUM, 3 M (bare), 4-7 reserved for V=1 modes.
    let tlbLoad: UnsafeMutablePointer<TLBEntry>
    let tlbStore: UnsafeMutablePointer<TLBEntry>
    let tlbFetch: UnsafeMutablePointer<FetchEntry>

    /// x0..x31 plus slot 32, the sink for writes to x0.
    public let x: UnsafeMutablePointer<UInt64>
    public let f: UnsafeMutablePointer<UInt64>
    public var pc: UInt64 = 0
    public var prv: UInt8 = Priv.machine
    public var instret: UInt64 = 0

    // Machine-level CSRs
    public var mstatus: UInt64 = (2 << 32) | (2 << 34)   // UXL = SXL = 64
    public let misa: UInt64 = (2 << 62) | Hart.isaBits("IMAFDCSU")
    public var medeleg: UInt64 = 0, mideleg: UInt64 = 0
    public var mie: UInt64 = 0
    var mipSoft: UInt64 = 0     // software-writable pending bits
    var mipExt: UInt64 = 0      // levels driven by devices
    public var mtvec: UInt64 = 0, mscratch: UInt64 = 0, mepc: UInt64 = 0, mcause: UInt64 = 0, mtval: UInt64 = 0
    public var mcounteren: UInt64 = 0, menvcfg: UInt64 = 0, mcountinhibit: UInt64 = 0
    var cycleOffset: UInt64 = 0, instretOffset: UInt64 = 0
    // Supervisor-level CSRs
    public var stvec: UInt64 = 0, sscratch: UInt64 = 0, sepc: UInt64 = 0, scause: UInt64 = 0, stval: UInt64 = 0
    public var satp: UInt64 = 0, scounteren: UInt64 = 0, senvcfg: UInt64 = 0, stimecmp: UInt64 = .max
    public var fcsr: UInt64 = 0
    // PMP (16 entries)
    public var pmpcfg = [UInt8](repeating: 0, count: 16)
    public var pmpaddr = [UInt64](repeating: 0, count: 16)
    var pmpRanges: [(lo: UInt64, hi: UInt64, perm: UInt8, locked: Bool)] = []

    public var reservation: UInt64 = .max
    let jitContext: UnsafeMutablePointer<JITContext>
    /// Set by WFI; cleared when an enabled interrupt becomes pending.
    public var waitingForInterrupt = false
    /// Harts not yet started (SBI HSM) do not run.
    public var running = true
    /// Asks the run loop to return at the next slice boundary.
    public var stopRequested = false

    public init(id: Int, ram: GuestRAM, bus: PhysicalBus, time: TimeBase, code: CodeCache) {
        self.id = id
        self.ram = ram
        self.bus = bus
        self.time = time
        self.code = code
        x = .allocate(capacity: 33); x.initialize(repeating: 0, count: 33)
        f = .allocate(capacity: 32); f.initialize(repeating: 0, count: 32)
        let n = Hart.tlbSize * Hart.tlbSlots
        tlbLoad = .allocate(capacity: n); tlbLoad.initialize(repeating: TLBEntry(), count: n)
        tlbStore = .allocate(capacity: n); tlbStore.initialize(repeating: TLBEntry(), count: n)
        tlbFetch = .allocate(capacity: n); tlbFetch.initialize(repeating: FetchEntry(), count: n)
        jitContext = .allocate(capacity: 1)
        jitContext.initialize(to: JITContext(tlbLoad: tlbLoad, tlbStore: tlbStore))
        code.harts.append(self)
    }
    deinit {
        x.deallocate(); f.deallocate(); jitContext.deallocate(); tlbLoad.deallocate(); tlbStore.deallocate(); tlbFetch.deallocate()
    }

    static func isaBits(_ letters: String) -> UInt64 {
        letters.utf8.reduce(0) { $0 | 1 << UInt64($1 - UInt8(ascii: "A")) }
    }

    /// Resets to the state after power-on: M-mode at `pc`.
    public func reset(pc: UInt64) {
        x.update(repeating: 0, count: 33); f.update(repeating: 0, count: 32)
        self.pc = pc; prv = Priv.machine
        mstatus = (2 << 32) | (2 << 34); medeleg = 0; mideleg = 0; mie = 0; mipSoft = 0
        mtvec = 0; mscratch = 0; mepc = 0; mcause = 0; mtval = 0; mcounteren = 0; menvcfg = 0
        stvec = 0; sscratch = 0; sepc = 0; scause = 0; stval = 0; satp = 0; scounteren = 0; senvcfg = 0
        stimecmp = .max; fcsr = 0
        pmpcfg = [UInt8](repeating: 0, count: 16); pmpaddr = [UInt64](repeating: 0, count: 16); rebuildPMP()
        reservation = .max; waitingForInterrupt = false
        flushTLB()
    }

    // MARK: Interrupts

    public func setInterruptLevel(_ mask: UInt64, _ level: Bool) {
        if level { mipExt |= mask } else { mipExt &= ~mask }
    }

    /// The architectural mip value (privileged spec §3.1.9, Sstc §"stimecmp").
    public var mip: UInt64 {
        var v = mipSoft | mipExt
        if menvcfg & (1 << 63) != 0 {
            v &= ~IRQ.stip
            if time.now() >= stimecmp { v |= IRQ.stip }
        }
        return v
    }

    /// Interrupt to take now, or nil (privileged spec §3.1.9 priority: MEI, MSI, MTI, SEI, SSI, STI).
    func pendingInterrupt() -> UInt64? {
        let pending = mip & mie
        if pending == 0 { return nil }
        let mEnabled = prv < Priv.machine || mstatus & MStatus.mie != 0
        let sEnabled = prv < Priv.supervisor || (prv == Priv.supervisor && mstatus & MStatus.sie != 0)
        let mPending = mEnabled ? pending & ~mideleg : 0
        let sPending = sEnabled ? pending & mideleg : 0
        for set in [mPending, sPending] where set != 0 {
            for bit: UInt64 in [11, 3, 7, 9, 1, 5] where set & (1 << bit) != 0 { return bit }
        }
        return nil
    }

    /// Takes a pending interrupt if one is enabled. Returns true if a trap was taken.
    @discardableResult
    public func checkInterrupts() -> Bool {
        if waitingForInterrupt, mip & mie != 0 { waitingForInterrupt = false }
        guard let cause = pendingInterrupt() else { return false }
        waitingForInterrupt = false
        trap(cause: cause | Cause.interruptBit, tval: 0)
        return true
    }

    // MARK: Traps (privileged spec §3.1.6.1, §4.1.1)

    /// Enters the trap handler for `cause` with self.pc as the faulting/interrupted pc.
    public func trap(cause: UInt64, tval: UInt64) {
        let isInterrupt = cause & Cause.interruptBit != 0
        let code = cause & ~Cause.interruptBit
        let deleg = isInterrupt ? mideleg : medeleg
        reservation = .max
        if prv <= Priv.supervisor && code < 64 && (deleg >> code) & 1 != 0 {
            scause = cause; sepc = pc; stval = tval
            var s = mstatus
            s = (s & ~MStatus.spie) | ((s & MStatus.sie) << 4)
            s = (s & ~MStatus.spp) | (UInt64(prv) << 8)
            s &= ~MStatus.sie
            mstatus = s
            prv = Priv.supervisor
            pc = (stvec & ~3) &+ ((stvec & 1 != 0 && isInterrupt) ? 4 &* code : 0)
        } else {
            mcause = cause; mepc = pc; mtval = tval
            var s = mstatus
            s = (s & ~MStatus.mpie) | ((s & MStatus.mie) << 4)
            s = (s & ~MStatus.mpp) | (UInt64(prv) << MStatus.mppShift)
            s &= ~MStatus.mie
            mstatus = s
            prv = Priv.machine
            pc = (mtvec & ~3) &+ ((mtvec & 1 != 0 && isInterrupt) ? 4 &* code : 0)
        }
    }

    func mret() {
        let s = mstatus
        let mpp = UInt8((s & MStatus.mpp) >> MStatus.mppShift)
        var n = (s & ~MStatus.mie) | ((s & MStatus.mpie) >> 4)
        n |= MStatus.mpie
        n &= ~MStatus.mpp   // MPP <- U
        if mpp != Priv.machine { n &= ~MStatus.mprv }
        mstatus = n
        prv = mpp
        pc = mepc
    }

    func sret() {
        let s = mstatus
        let spp = UInt8((s & MStatus.spp) >> 8)
        var n = (s & ~MStatus.sie) | ((s & MStatus.spie) >> 4)
        n |= MStatus.spie
        n &= ~MStatus.spp
        n &= ~MStatus.mprv  // SRET always returns to a mode below M
        mstatus = n
        prv = spp
        pc = sepc
    }

    // MARK: TLB

    public func flushTLB() {
        // Slot 3 (M-mode, bare) never depends on satp or page tables; slots 4-7 are unused until the
        // H extension fills them. Clearing only slots 0-2 keeps SFENCE.VMA cheap.
        for slot in 0...2 {
            let base = slot * Hart.tlbSize
            (tlbLoad + base).update(repeating: TLBEntry(), count: Hart.tlbSize)
            (tlbStore + base).update(repeating: TLBEntry(), count: Hart.tlbSize)
            (tlbFetch + base).update(repeating: FetchEntry(), count: Hart.tlbSize)
        }
    }

    /// Flushes everything, M-mode slot included (PMP changes).
    public func flushAllTLB() {
        let n = Hart.tlbSize * Hart.tlbSlots
        tlbLoad.update(repeating: TLBEntry(), count: n)
        tlbStore.update(repeating: TLBEntry(), count: n)
        tlbFetch.update(repeating: FetchEntry(), count: n)
    }

    /// Removes store entries that map onto the host page (the page now holds decoded code).
    func dropStoreEntries(hostPage: UInt) {
        for i in 0..<(Hart.tlbSize * Hart.tlbSlots) {
            let e = tlbStore[i]
            if e.tag != .max && UInt(truncatingIfNeeded: e.tag &+ e.addend) == hostPage { tlbStore[i] = TLBEntry() }
        }
    }

    /// Effective privilege for loads and stores (MPRV, §3.1.6.3).
    var dataPriv: UInt8 {
        (prv == Priv.machine && mstatus & MStatus.mprv != 0) ? UInt8((mstatus & MStatus.mpp) >> MStatus.mppShift) : prv
    }
    func slot(forPriv p: UInt8) -> Int {
        switch p {
        case Priv.machine: return 3
        case Priv.supervisor: return mstatus & MStatus.sum != 0 ? 2 : 1
        default: return 0
        }
    }
    var dataSlot: Int { slot(forPriv: dataPriv) }
    var fetchSlot: Int { prv == Priv.machine ? 3 : (prv == Priv.supervisor ? 1 : 0) }

    // MARK: PMP (§3.7)

    func rebuildPMP() {
        pmpRanges = []
        var prevAddr: UInt64 = 0
        for i in 0..<16 {
            let cfg = pmpcfg[i]
            let a = (cfg >> 3) & 3
            let addr = pmpaddr[i]
            var lo: UInt64 = 0, hi: UInt64 = 0
            switch a {
            case 1: lo = prevAddr << 2; hi = addr << 2  // TOR
            case 2: lo = addr << 2; hi = lo &+ 4        // NA4
            case 3:
                let ones = UInt64((~addr).trailingZeroBitCount)
                let size: UInt64 = ones >= 54 ? 0 : 1 << (ones + 3)
                lo = (addr << 2) & ~(size &- 1)
                hi = size == 0 ? .max : lo &+ size
                if size == 0 { lo = 0 }
            default: break
            }
            prevAddr = addr
            if a != 0 && hi > lo { pmpRanges.append((lo, hi, cfg & 7, cfg & 0x80 != 0)) }
            else if a != 0 { pmpRanges.append((1, 0, 0, cfg & 0x80 != 0)) } // empty range keeps priority order
        }
    }

    /// Whether [pa, pa+len) may be accessed at privilege `p`.
    func pmpAllows(_ pa: UInt64, _ len: UInt64, _ access: Access, _ p: UInt8) -> Bool {
        let need: UInt8 = access == .fetch ? 4 : (access == .store ? 2 : 1)
        let last = pa &+ len &- 1
        for r in pmpRanges {
            let touches = pa < r.hi && last >= r.lo
            if !touches { continue }
            let covers = pa >= r.lo && last < r.hi
            if !covers { return false }
            if p == Priv.machine && !r.locked { return true }
            return r.perm & need != 0
        }
        return p == Priv.machine
    }

    // MARK: Address translation (§4.3-4.5, Sv39/48/57)

    enum Translation { case ok(UInt64), fault(UInt64) }

    func pageFaultCause(_ a: Access) -> UInt64 {
        switch a { case .fetch: return Cause.fetchPage; case .load: return Cause.loadPage; case .store: return Cause.storePage }
    }
    func accessFaultCause(_ a: Access) -> UInt64 {
        switch a { case .fetch: return Cause.fetchAccess; case .load: return Cause.loadAccess; case .store: return Cause.storeAccess }
    }

    /// Translates `va` for `access` at privilege `p`, updating A/D bits. Returns the physical address or a cause.
    func translate(_ va: UInt64, _ access: Access, _ p: UInt8) -> Translation {
        let mode = satp >> 60
        if p == Priv.machine || mode == 0 { return .ok(va) }
        let levels: Int
        switch mode { case 8: levels = 3; case 9: levels = 4; case 10: levels = 5; default: return .ok(va) }
        let vaBits = 12 + 9 * levels
        // The upper bits must equal bit vaBits-1 (canonical address).
        let shifted = Int64(bitPattern: va) >> (vaBits - 1)
        if shifted != 0 && shifted != -1 { return .fault(pageFaultCause(access)) }
        var table = (satp & ((1 << 44) - 1)) << 12
        var level = levels - 1
        while true {
            let idx = (va >> UInt64(12 + 9 * level)) & 0x1ff
            let pteAddr = table &+ idx &* 8
            guard pmpAllows(pteAddr, 8, .load, Priv.supervisor), let pp = ram.hostPointer(pteAddr, 8) else {
                return .fault(accessFaultCause(access))
            }
            var pte = pp.load(as: UInt64.self)
            let v = pte & 1, r = (pte >> 1) & 1, w = (pte >> 2) & 1, xbit = (pte >> 3) & 1
            // Reserved bits 60:54 and PBMT (no Svpbmt), N (no Svnapot) must be zero.
            if v == 0 || (r == 0 && w == 1) || pte >> 54 != 0 { return .fault(pageFaultCause(access)) }
            if r == 0 && xbit == 0 {
                // Pointer to next level; A/D/U must be clear.
                if pte & 0xd0 != 0 { return .fault(pageFaultCause(access)) }
                if level == 0 { return .fault(pageFaultCause(access)) }
                table = ((pte >> 10) & ((1 << 44) - 1)) << 12
                level -= 1
                continue
            }
            // Leaf: permission checks.
            let u = (pte >> 4) & 1
            if p == Priv.user && u == 0 { return .fault(pageFaultCause(access)) }
            if p == Priv.supervisor && u == 1 && (access == .fetch || mstatus & MStatus.sum == 0) {
                return .fault(pageFaultCause(access))
            }
            switch access {
            case .fetch: if xbit == 0 { return .fault(pageFaultCause(access)) }
            case .load: if r == 0 && !(xbit == 1 && mstatus & MStatus.mxr != 0) { return .fault(pageFaultCause(access)) }
            case .store: if w == 0 { return .fault(pageFaultCause(access)) }
            }
            let ppn = (pte >> 10) & ((1 << 44) - 1)
            // Superpage alignment.
            if level > 0 && ppn & ((1 << UInt64(9 * level)) - 1) != 0 { return .fault(pageFaultCause(access)) }
            // Hardware A/D update (Svadu behaviour).
            var newPTE = pte | (1 << 6)
            if access == .store { newPTE |= 1 << 7 }
            if newPTE != pte {
                guard pmpAllows(pteAddr, 8, .store, Priv.supervisor) else { return .fault(accessFaultCause(access)) }
                pp.storeBytes(of: newPTE, as: UInt64.self)
                code.invalidate(physicalPage: pteAddr >> 12)
                pte = newPTE
            }
            let offsetMask: UInt64 = (1 << UInt64(12 + 9 * level)) - 1
            return .ok((ppn << 12) | (va & offsetMask))
        }
    }

    /// Translation plus PMP check of the exact bytes. On failure takes the trap and returns nil.
    func physical(_ va: UInt64, _ len: UInt64, _ access: Access, _ p: UInt8) -> UInt64? {
        switch translate(va, access, p) {
        case .fault(let cause):
            trap(cause: cause, tval: va)
            return nil
        case .ok(let pa):
            if !pmpAllows(pa, len, access, p) {
                trap(cause: accessFaultCause(access), tval: va)
                return nil
            }
            return pa
        }
    }

    /// Whether the whole 4 KiB page at `pa` gets the same PMP answer as a single access (safe to cache).
    func pmpPageUniform(_ pa: UInt64, _ access: Access, _ p: UInt8) -> Bool {
        let page = pa & ~0xfff
        return pmpAllows(page, 4096, access, p)
    }

    // MARK: Slow-path memory access (TLB miss, MMIO, misaligned)

    /// Loads `size` bytes at `va` for the current data privilege. Returns nil after taking a trap.
    public func loadSlow(_ va: UInt64, _ size: Int) -> UInt64? {
        let p = dataPriv
        if va & UInt64(size - 1) != 0 {
            // Misaligned: emulate byte by byte (as QEMU does), translating each page once.
            var v: UInt64 = 0
            for i in 0..<size {
                guard let b = loadSlow(va &+ UInt64(i), 1) else { return nil }
                v |= b << UInt64(8 * i)
            }
            return v
        }
        guard let pa = physical(va, UInt64(size), .load, p) else { return nil }
        if let hp = ram.hostPointer(pa, UInt64(size)) {
            if pmpPageUniform(pa, .load, p) {
                tlbLoad[slot(forPriv: p) * Hart.tlbSize + Int((va >> 12) & 255)] =
                    TLBEntry(tag: va & ~0xfff, addend: UInt64(UInt(bitPattern: hp - Int(pa & 0xfff))) &- (va & ~0xfff))
            }
            switch size {
            case 1: return UInt64(hp.load(as: UInt8.self))
            case 2: return UInt64(hp.loadUnaligned(as: UInt16.self))
            case 4: return UInt64(hp.loadUnaligned(as: UInt32.self))
            default: return hp.loadUnaligned(as: UInt64.self)
            }
        }
        if let v = bus.load(pa, size: size) { return v }
        trap(cause: Cause.loadAccess, tval: va)
        return nil
    }

    /// Stores `size` bytes at `va`. Returns false after taking a trap.
    public func storeSlow(_ va: UInt64, _ size: Int, _ value: UInt64) -> Bool {
        let p = dataPriv
        if va & UInt64(size - 1) != 0 {
            // Check every byte's translation before writing any, so a fault leaves memory unchanged.
            for i in 0..<size {
                guard physical(va &+ UInt64(i), 1, .store, p) != nil else { return false }
            }
            for i in 0..<size { _ = storeSlow(va &+ UInt64(i), 1, (value >> UInt64(8 * i)) & 0xff) }
            return true
        }
        guard let pa = physical(va, UInt64(size), .store, p) else { return false }
        if let hp = ram.hostPointer(pa, UInt64(size)) {
            let ramPage = Int((pa - ram.base) >> 12)
            code.invalidate(ramPage: ramPage)
            if pmpPageUniform(pa, .store, p) {
                tlbStore[slot(forPriv: p) * Hart.tlbSize + Int((va >> 12) & 255)] =
                    TLBEntry(tag: va & ~0xfff, addend: UInt64(UInt(bitPattern: hp - Int(pa & 0xfff))) &- (va & ~0xfff))
            }
            switch size {
            case 1: hp.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            case 2: hp.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
            case 4: hp.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
            default: hp.storeBytes(of: value, as: UInt64.self)
            }
            return true
        }
        if bus.store(pa, size: size, value: value) { return true }
        trap(cause: Cause.storeAccess, tval: va)
        return false
    }

    /// Host pointer for an atomic access (LR/SC/AMO) of `size` bytes; traps and returns nil on failure.
    func atomicPointer(_ va: UInt64, _ size: Int, isLoadReserved: Bool) -> (UnsafeMutableRawPointer, UInt64)? {
        if va & UInt64(size - 1) != 0 {
            trap(cause: isLoadReserved ? Cause.loadMisaligned : Cause.storeMisaligned, tval: va)
            return nil
        }
        let access: Access = isLoadReserved ? .load : .store
        guard let pa = physical(va, UInt64(size), access, dataPriv) else { return nil }
        guard let hp = ram.hostPointer(pa, UInt64(size)) else {
            trap(cause: isLoadReserved ? Cause.loadAccess : Cause.storeAccess, tval: va)
            return nil
        }
        if !isLoadReserved { code.invalidate(ramPage: Int((pa - ram.base) >> 12)) }
        return (hp, pa)
    }

    /// Fills the fetch TLB for `va`; returns the entry or nil after taking a fetch trap.
    func fetchFill(_ va: UInt64) -> FetchEntry? {
        guard let pa = physical(va, 2, .fetch, prv) else { return nil }
        guard ram.contains(pa & ~0xfff, 4096) else {
            trap(cause: Cause.fetchAccess, tval: va)
            return nil
        }
        let ramPage = Int((pa - ram.base) >> 12)
        let e = FetchEntry(tag: va & ~0xfff, ops: UInt(bitPattern: code.ops(forRAMPage: ramPage)),
                           host: UInt(bitPattern: ram.pointer + (ramPage << 12)), ramPage: ramPage)
        if pmpPageUniform(pa, .fetch, prv) {
            tlbFetch[fetchSlot * Hart.tlbSize + Int((va >> 12) & 255)] = e
        }
        return e
    }

    /// Decodes the instruction at `va` whose low parcel lies at byte `offset` of the page `e`.
    /// Caches it unless it crosses into the next page. Returns nil after taking a fetch trap.
    func decodeAt(_ va: UInt64, _ e: FetchEntry) -> DOp? {
        let offset = Int(va & 0xfff)
        let host = UnsafeRawPointer(bitPattern: e.host)!
        let lo = host.load(fromByteOffset: offset, as: UInt16.self)
        code.markHasCode(ramPage: e.ramPage)
        if !Decoder.isLong(lo) {
            let d = Decoder.decodeCompressed(lo)
            UnsafeMutablePointer<DOp>(bitPattern: e.ops)![offset >> 1] = d
            return d
        }
        if offset <= 4092 {
            let d = Decoder.decode(host.loadUnaligned(fromByteOffset: offset, as: UInt32.self), hypervisor: false)
            UnsafeMutablePointer<DOp>(bitPattern: e.ops)![offset >> 1] = d
            return d
        }
        // Crosses a page boundary: fetch the upper parcel through translation every time.
        let nextVA = va &+ 2
        guard let pa = physical(nextVA, 2, .fetch, prv) else { return nil }
        guard let hp = ram.hostPointer(pa, 2) else {
            trap(cause: Cause.fetchAccess, tval: nextVA)
            return nil
        }
        let hi = hp.load(as: UInt16.self)
        return Decoder.decode(UInt32(lo) | UInt32(hi) << 16, hypervisor: false)
    }
}

extension Hart {
    /// Sets or clears software-writable pending bits (e.g. SSIP from an SBI IPI).
    public func setSoftwarePending(_ mask: UInt64, _ level: Bool) {
        if level { mipSoft |= mask } else { mipSoft &= ~mask }
    }
}
