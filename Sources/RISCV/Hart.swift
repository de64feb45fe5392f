import Platform
#if canImport(Glibc)
import Glibc
#endif
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
// Hart state is only touched by the thread running the hart. Its stored properties are marked
// @exclusivity(unchecked): the slow paths (walks, traps, CSRs) otherwise pay a runtime exclusivity
// check per property access (about 10% of a nested guest's time).
public final class Hart: InterruptTarget {
    public let id: Int
    public let ram: GuestRAM
    public let bus: PhysicalBus
    public let time: TimeBase
    /// Decoded ops and JIT blocks: the machine's shared cache, or (threads per hart) this hart's own.
    @exclusivity(unchecked) public internal(set) var code: CodeCache
    public weak var sbi: SBIHandler?

    static let tlbSize = 1024
    static let tlbMask = UInt64(tlbSize - 1)
    /// Refills logged per slot between flushes (see `clearSlot`).
    static let tlbFillLogSize = 64
    /// The mapping that holds tlbLoad, tlbStore and tlbFetch, in that order.
    let tlbTables: UnsafeMutableRawPointer
    static let tlbTablesBytes = Hart.tlbSize * Hart.tlbSlots * (2 * MemoryLayout<TLBEntry>.stride + MemoryLayout<FetchEntry>.stride)
    /// TLB slots (M, then three per host and per guest context): see TLB.swift.
    let tlbLoad: UnsafeMutablePointer<TLBEntry>
    let tlbStore: UnsafeMutablePointer<TLBEntry>
    let tlbFetch: UnsafeMutablePointer<FetchEntry>

    /// x0..x31 plus slot 32, the sink for writes to x0.
    public let x: UnsafeMutablePointer<UInt64>
    public let f: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) public var pc: UInt64 = 0
    @exclusivity(unchecked) public var prv: UInt8 = Priv.machine
    @exclusivity(unchecked) public var instret: UInt64 = 0

    // Machine-level CSRs
    @exclusivity(unchecked) public var mstatus: UInt64 = (2 << 32) | (2 << 34)   // UXL = SXL = 64
    public var misa: UInt64 {
        (2 << 62) | Hart.isaBits(hypervisorExtension ? "IMAFDCSUH" : "IMAFDCSU") | (extensions.contains(.v) ? Hart.isaBits("V") : 0)
    }
    /// A NAPOT leaf (Svnapot) has been used: from then on an address fence drops its whole 64 KiB range.
    var napotTranslated = false
    /// The optional extensions beyond RV64GC this hart implements (the decoder and CSRs follow it).
    @exclusivity(unchecked) public var extensions: Extensions = .all
    /// H extension present (misa.H, decoder accepts H instructions, H/VS CSRs exist).
    @exclusivity(unchecked) public var hypervisorExtension = false {
        didSet { mideleg = hypervisorExtension ? mideleg | forcedDelegation : mideleg & Hart.sInterrupts }
    }
    /// AIA (Smaia/Ssaia): the hart's IMSIC interrupt files and AIA CSRs; nil without AIA (the CSRs are
    /// illegal, external interrupts come from the PLIC). Set before the hart runs.
    @exclusivity(unchecked) public var aia: HartAIA? = nil {
        didSet { if hypervisorExtension { mideleg |= forcedDelegation } }
    }
    /// The interrupts mideleg delegates read-only: with H the VS-level ones, and SGEI with guest files
    /// (H §"mideleg").
    var forcedDelegation: UInt64 {
        guard hypervisorExtension else { return 0 }
        return Hart.vsInterrupts | ((aia?.geilen ?? 0) > 0 ? IRQ.sgeip : 0)
    }
    /// The host time at which this hart's VS-level timer (vstimecmp) fires, or .max.
    public var vsTimerDeadline: UInt64 {
        guard hypervisorExtension, henvcfg >> 63 != 0, vstimecmp != .max else { return .max }
        return vstimecmp &- htimedelta
    }
    /// Virtualization mode V (H extension): true in VS-mode and VU-mode.
    @exclusivity(unchecked) public var virt = false

    // Per-level accounting (--stats): counters only, collected when `collectStats` is set.
    @exclusivity(unchecked) public var collectStats = false
    /// Instructions retired per level, indexed by `PrivilegeLevel.rawValue`.
    @exclusivity(unchecked) public var instructionsByLevel = [UInt64](repeating: 0, count: 5)
    @exclusivity(unchecked) public var trapCounts: [TrapKey: UInt64] = [:]
    /// Slow-path address translations (TLB refills, MMIO and misaligned accesses) per level of the access.
    @exclusivity(unchecked) public var translationsByLevel = [UInt64](repeating: 0, count: 5)
    /// G-stage page-table walks (G-stage cache misses).
    @exclusivity(unchecked) public var gStageWalks: UInt64 = 0
    /// Fences and flushes that reached the HS/U contexts and the guest (combined two-stage) contexts.
    @exclusivity(unchecked) public var hostTLBFlushes: UInt64 = 0, guestTLBFlushes: UInt64 = 0
    public var level: PrivilegeLevel {
        switch prv {
        case Priv.machine: return .m
        case Priv.supervisor: return virt ? .vs : .hs
        default: return virt ? .vu : .u
        }
    }
    @exclusivity(unchecked) public var medeleg: UInt64 = 0, mideleg: UInt64 = 0
    @exclusivity(unchecked) public var mie: UInt64 = 0
    @exclusivity(unchecked) var mipSoft: UInt64 = 0     // software-writable pending bits
    @exclusivity(unchecked) var mipExt: UInt64 = 0      // levels driven by devices
    @exclusivity(unchecked) public var mtvec: UInt64 = 0, mscratch: UInt64 = 0, mepc: UInt64 = 0, mcause: UInt64 = 0, mtval: UInt64 = 0
    @exclusivity(unchecked) public var mcounteren: UInt64 = 0, menvcfg: UInt64 = 0, mcountinhibit: UInt64 = 0
    @exclusivity(unchecked) var cycleOffset: UInt64 = 0, instretOffset: UInt64 = 0
    /// Counters.swift: cycle and instret while inhibited; mhpmevent3..6, the counters' offsets, values
    /// while inhibited and at the last overflow check.
    @exclusivity(unchecked) var cycleFrozen: UInt64 = 0, instretFrozen: UInt64 = 0
    public var hpmEvent = [UInt64](repeating: 0, count: Hart.hpmCounters)
    var hpmOffset = [UInt64](repeating: 0, count: Hart.hpmCounters)
    var hpmFrozen = [UInt64](repeating: 0, count: Hart.hpmCounters)
    var hpmLast = [UInt64](repeating: 0, count: Hart.hpmCounters)
    /// Some counter can overflow: the run loop bounds its rounds and checks after each.
    @exclusivity(unchecked) var hpmArmed = false
    /// Retired instructions per privilege level (PrivilegeLevel.rawValue), up to the current round,
    /// which started at `roundStartInstret` at level `roundLevel`.
    let retiredByLevel: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) var roundStartInstret: UInt64 = 0, roundLevel = 2
    // Supervisor-level CSRs
    @exclusivity(unchecked) public var stvec: UInt64 = 0, sscratch: UInt64 = 0, sepc: UInt64 = 0, scause: UInt64 = 0, stval: UInt64 = 0
    @exclusivity(unchecked) public var satp: UInt64 = 0, scounteren: UInt64 = 0, senvcfg: UInt64 = 0, stimecmp: UInt64 = .max
    /// Smstateen: mstateen0-3 and hstateen0-3 (sstateen0-3 are all read-only zero: none of their bits'
    /// state exists here). hstateen bits read as zero where mstateen's are zero.
    public var mstateen: [UInt64] = [0, 0, 0, 0], hstateen: [UInt64] = [0, 0, 0, 0]
    @exclusivity(unchecked) public var fcsr: UInt64 = 0
    /// Vector registers v0..v31 (V extension), `vlenb` bytes each, in one buffer sized for `maxVLEN`.
    public let vreg: UnsafeMutableRawPointer
    /// VLEN/8: set once, before the hart runs (`--vlen`).
    @exclusivity(unchecked) public var vlenb = 16
    @exclusivity(unchecked) public var vtype: UInt64 = 1 << 63, vl: UInt64 = 0, vstart: UInt64 = 0
    @exclusivity(unchecked) public var vxrm: UInt64 = 0, vxsat: UInt64 = 0
    // Hypervisor and virtual-supervisor CSRs (H extension); hie lives in mie, hip is derived from hvip.
    @exclusivity(unchecked) public var hstatus: UInt64 = 2 << 32   // VSXL = 64
    @exclusivity(unchecked) public var hedeleg: UInt64 = 0, hideleg: UInt64 = 0, hvip: UInt64 = 0, hgeie: UInt64 = 0
    @exclusivity(unchecked) public var hcounteren: UInt64 = 0, htimedelta: UInt64 = 0, htval: UInt64 = 0, htinst: UInt64 = 0
    @exclusivity(unchecked) public var hgatp: UInt64 = 0, henvcfg: UInt64 = 0
    @exclusivity(unchecked) public var vsstatus: UInt64 = 2 << 32  // UXL = 64
    @exclusivity(unchecked) public var vstvec: UInt64 = 0, vsscratch: UInt64 = 0, vsepc: UInt64 = 0, vscause: UInt64 = 0, vstval: UInt64 = 0
    @exclusivity(unchecked) public var vsatp: UInt64 = 0
    @exclusivity(unchecked) public var mtval2: UInt64 = 0, mtinst: UInt64 = 0
    /// Sstc with H: the VS-level timer compare, in guest time (time + htimedelta); used when henvcfg.STCE = 1.
    @exclusivity(unchecked) public var vstimecmp: UInt64 = .max
    /// Set by a CSR access that must raise a virtual-instruction exception instead of an illegal-instruction one.
    @exclusivity(unchecked) public internal(set) var csrVirtualFault = false
    // PMP (16 entries)
    @exclusivity(unchecked) public var pmpcfg = [UInt8](repeating: 0, count: 16)
    @exclusivity(unchecked) public var pmpaddr = [UInt64](repeating: 0, count: 16)
    /// Active PMP regions in priority order (a raw buffer: walks read it on every level, and an
    /// Array property would cost an exclusivity check per read).
    let pmpRanges: UnsafeMutablePointer<PMPRange>
    @exclusivity(unchecked) var pmpRangeCount = 0
    /// G-stage translations (guest-physical page -> host-physical page) with the accesses each has
    /// passed. VS-stage walks go through the G-stage once per level, so caching it makes a two-stage
    /// TLB refill cost about as much as a one-stage one. Cleared with the G-stage (hgatp, HFENCE.GVMA).
    let gCache: UnsafeMutablePointer<GStageEntry>
    /// Per slot: refills since the last flush, and the first `tlbFillLogSize` of their indices.
    let tlbFillCount: UnsafeMutablePointer<Int>
    let tlbFillLog: UnsafeMutablePointer<UInt16>
    /// Per TLB index: log2 of the largest leaf page any entry there came from (0 when empty), so an
    /// SFENCE.VMA for one address can find the entries a superpage leaf produced.
    let tlbLeafShift: UnsafeMutablePointer<UInt8>
    /// Per slot: the distinct superpages (va >> shift << 6 | shift) refills came from since the last
    /// flush, up to `tlbSuperRegions` (a count above that means "too many to tell").
    let tlbSuperRegionCount: UnsafeMutablePointer<Int>
    let tlbSuperRegionList: UnsafeMutablePointer<UInt64>
    /// log2 of the leaf page size of the last successful translation (VS-stage leaf under V=1).
    @exclusivity(unchecked) var lastLeafShift: UInt8 = 12
    /// TLB contexts (TLB.swift): the current ones, their tags (.max: unused) and last use.
    @exclusivity(unchecked) var hostContext = 0, guestContext = 0, tlbClock: UInt64 = 0
    let hostContextKeys: UnsafeMutablePointer<UInt64>, hostContextUsed: UnsafeMutablePointer<UInt64>
    let guestContextVSATP: UnsafeMutablePointer<UInt64>, guestContextHGATP: UnsafeMutablePointer<UInt64>
    let guestContextUsed: UnsafeMutablePointer<UInt64>
    static let gCacheSize = 2048

    /// The last host-clock read for interrupt checks and the instret it was taken at (`interruptClock`).
    @exclusivity(unchecked) var clockValue: UInt64 = 0, clockReadAt: UInt64 = 0
    /// Set while every hart runs on its own host thread (`Machine.runThreaded`); nil otherwise.
    @exclusivity(unchecked) public var threading: HartThreading?
    @exclusivity(unchecked) public var reservation: UInt64 = .max
    /// What the LR read (zero-extended): the SC's compare-and-swap expects it still there.
    @exclusivity(unchecked) var reservedValue: UInt64 = 0
    let jitContext: UnsafeMutablePointer<JITContext>
    /// Set by WFI; cleared when an enabled interrupt becomes pending.
    @exclusivity(unchecked) public var waitingForInterrupt = false
    /// The last slice ended at a spin-wait hint (PAUSE, WRS); the caller clears it.
    @exclusivity(unchecked) public var spinning = false
    /// Harts not yet started (SBI HSM) do not run.
    @exclusivity(unchecked) public var running = true
    /// Asks the run loop to return at the next slice boundary.
    @exclusivity(unchecked) public var stopRequested = false
    /// Traps taken (exceptions and interrupts, to any level) since creation. Each one also uses up a step
    /// of `run`'s budget, so a guest that does nothing but fault still returns to the caller; a watchdog
    /// can compare this with `instret` (a hart whose traps grow while instret does not is in a trap storm).
    @exclusivity(unchecked) public internal(set) var trapsTaken: UInt64 = 0
    /// Loads, stores and fetches that found nothing at their physical address (an access fault): neither
    /// RAM nor a device for loads and stores; anything outside RAM for fetches and page-table reads.
    /// Counted on the slow path only; the machine reads these to warn about them.
    @exclusivity(unchecked) public internal(set) var unmappedAccesses: UInt64 = 0
    /// The physical address of the latest of `unmappedAccesses`.
    @exclusivity(unchecked) public internal(set) var lastUnmappedAddress: UInt64 = 0

    public init(id: Int, ram: GuestRAM, bus: PhysicalBus, time: TimeBase, code: CodeCache) {
        self.id = id
        self.ram = ram
        self.bus = bus
        self.time = time
        self.code = code
        x = .allocate(capacity: 33); x.initialize(repeating: 0, count: 33)
        f = .allocate(capacity: 32); f.initialize(repeating: 0, count: 32)
        retiredByLevel = .allocate(capacity: 5); retiredByLevel.initialize(repeating: 0, count: 5)
        vreg = .allocate(byteCount: 32 * Hart.maxVLEN / 8, alignment: 16)
        vreg.initializeMemory(as: UInt8.self, repeating: 0, count: 32 * Hart.maxVLEN / 8)
        let n = Hart.tlbSize * Hart.tlbSlots
        // The three TLBs (~1.4 MiB) are one mapping that is neither prefaulted nor filled: every slot
        // starts stale (`tlbSlotStale`) and is emptied when it first becomes reachable, so only the
        // slots in use ever fault in. Filling all of it cost ~1 ms of every VM start and restore.
        let tables = Hart.tlbTablesBytes
        let block = mmap(nil, tables, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        precondition(block != MAP_FAILED, "cannot map the TLB tables (\(tables) bytes)")
        tlbTables = UnsafeMutableRawPointer(block!)
        tlbLoad = tlbTables.bindMemory(to: TLBEntry.self, capacity: n)
        tlbStore = (tlbTables + n * MemoryLayout<TLBEntry>.stride).bindMemory(to: TLBEntry.self, capacity: n)
        tlbFetch = (tlbTables + 2 * n * MemoryLayout<TLBEntry>.stride).bindMemory(to: FetchEntry.self, capacity: n)
        jitContext = .allocate(capacity: 1)
        jitContext.initialize(to: JITContext(tlbLoad: tlbLoad, tlbStore: tlbStore, tlbFetch: tlbFetch))
        pmpRanges = .allocate(capacity: 16); pmpRanges.initialize(repeating: PMPRange(), count: 16)
        gCache = .allocate(capacity: Hart.gCacheSize); gCache.initialize(repeating: GStageEntry(), count: Hart.gCacheSize)
        tlbFillCount = .allocate(capacity: Hart.tlbSlots); tlbFillCount.initialize(repeating: Hart.tlbSlotStale, count: Hart.tlbSlots)
        tlbFillLog = .allocate(capacity: Hart.tlbSlots * Hart.tlbFillLogSize)
        tlbFillLog.initialize(repeating: 0, count: Hart.tlbSlots * Hart.tlbFillLogSize)
        tlbLeafShift = .allocate(capacity: n); tlbLeafShift.initialize(repeating: 0, count: n)
        tlbSuperRegionCount = .allocate(capacity: Hart.tlbSlots); tlbSuperRegionCount.initialize(repeating: 0, count: Hart.tlbSlots)
        tlbSuperRegionList = .allocate(capacity: Hart.tlbSlots * Hart.tlbSuperRegions)
        tlbSuperRegionList.initialize(repeating: 0, count: Hart.tlbSlots * Hart.tlbSuperRegions)
        hostContextKeys = .allocate(capacity: Hart.hostContexts); hostContextKeys.initialize(repeating: .max, count: Hart.hostContexts)
        hostContextUsed = .allocate(capacity: Hart.hostContexts); hostContextUsed.initialize(repeating: 0, count: Hart.hostContexts)
        guestContextVSATP = .allocate(capacity: Hart.guestContexts); guestContextVSATP.initialize(repeating: .max, count: Hart.guestContexts)
        guestContextHGATP = .allocate(capacity: Hart.guestContexts); guestContextHGATP.initialize(repeating: .max, count: Hart.guestContexts)
        guestContextUsed = .allocate(capacity: Hart.guestContexts); guestContextUsed.initialize(repeating: 0, count: Hart.guestContexts)
        code.harts.append(self)
        flushAllTLB()   // tags the initial contexts
    }
    deinit {
        x.deallocate(); f.deallocate(); vreg.deallocate(); retiredByLevel.deallocate(); jitContext.deallocate(); munmap(tlbTables, Hart.tlbTablesBytes)
        pmpRanges.deallocate(); gCache.deallocate(); tlbFillCount.deallocate(); tlbFillLog.deallocate(); tlbLeafShift.deallocate()
        tlbSuperRegionCount.deallocate(); tlbSuperRegionList.deallocate()
        hostContextKeys.deallocate(); hostContextUsed.deallocate()
        guestContextVSATP.deallocate(); guestContextHGATP.deallocate(); guestContextUsed.deallocate()
    }

    static func isaBits(_ letters: String) -> UInt64 {
        letters.utf8.reduce(0) { $0 | 1 << UInt64($1 - UInt8(ascii: "A")) }
    }

    /// Resets to the state after power-on: M-mode at `pc`.
    public func reset(pc: UInt64) {
        x.update(repeating: 0, count: 33); f.update(repeating: 0, count: 32)
        self.pc = pc; prv = Priv.machine
        mstatus = (2 << 32) | (2 << 34); medeleg = 0; mideleg = forcedDelegation; mie = 0; mipSoft = 0
        mtvec = 0; mscratch = 0; mepc = 0; mcause = 0; mtval = 0; mcounteren = 0; menvcfg = 0
        stvec = 0; sscratch = 0; sepc = 0; scause = 0; stval = 0; satp = 0; scounteren = 0; senvcfg = 0
        stimecmp = .max; fcsr = 0
        vreg.initializeMemory(as: UInt8.self, repeating: 0, count: 32 * Hart.maxVLEN / 8)
        vtype = 1 << 63; vl = 0; vstart = 0; vxrm = 0; vxsat = 0
        mcountinhibit = 0; cycleFrozen = 0; instretFrozen = 0; roundStartInstret = instret
        for k in 0..<Hart.hpmCounters { hpmEvent[k] = 0; hpmOffset[k] = 0 &- hpmRaw(k); hpmFrozen[k] = 0; hpmLast[k] = 0 }
        hpmArmed = false
        virt = false; hstatus = 2 << 32; hedeleg = 0; hideleg = 0; hvip = 0; hgeie = 0; hcounteren = 0; htimedelta = 0
        htval = 0; htinst = 0; hgatp = 0; henvcfg = 0; vsstatus = 2 << 32; vstvec = 0; vsscratch = 0; vsepc = 0
        vscause = 0; vstval = 0; vsatp = 0; mtval2 = 0; mtinst = 0; vstimecmp = .max
        mstateen = [0, 0, 0, 0]; hstateen = [0, 0, 0, 0]
        // ADUE resets to 1 only where Svadu comes without Svade, so such a guest sees no change (as QEMU).
        if extensions.contains(.svadu) && !extensions.contains(.svade) { menvcfg = 1 << 61; henvcfg = hypervisorExtension ? 1 << 61 : 0 }
        pmpcfg = [UInt8](repeating: 0, count: 16); pmpaddr = [UInt64](repeating: 0, count: 16); rebuildPMP()
        reservation = .max; waitingForInterrupt = false
        aia?.reset()
        flushAllTLB()
    }

    // MARK: Interrupts

    public func setInterruptLevel(_ mask: UInt64, _ level: Bool) {
        if level { mipExt |= mask } else { mipExt &= ~mask }
    }

    /// The architectural mip value (privileged spec §3.1.9, Sstc §"stimecmp").
    public var mip: UInt64 {
        // The clock is read only when a Sstc timer is enabled.
        mip(at: menvcfg >> 63 != 0 || (hypervisorExtension && henvcfg >> 63 != 0) ? time.now() : 0)
    }

    /// mip with the Sstc timers compared against `now` (mtime).
    @inline(__always) func mip(at now: UInt64) -> UInt64 {
        var v = mipSoft | mipExt
        if menvcfg >> 63 != 0 {
            v &= ~IRQ.stip
            if now >= stimecmp { v |= IRQ.stip }
        }
        if hypervisorExtension {
            v |= hvip & Hart.vsInterrupts
            if henvcfg >> 63 != 0 && now &+ htimedelta >= vstimecmp { v |= IRQ.vstip }
        }
        // AIA: the interrupt files drive MEIP, SEIP, SGEIP and VSEIP (no PLIC is wired to the hart then).
        if let aia { v |= aiaPending(aia) }
        return v
    }

    /// mtime for the interrupt check at the top of each run-loop round. Reading the host clock costs
    /// as much as a few dozen instructions and kernels leave the loop on every CSR access, so the value
    /// is reused until `clockRefreshInstructions` more instructions have retired (a timer interrupt is
    /// taken at most that late; WFI and the idle loop read the clock themselves).
    func interruptClock() -> UInt64 {
        if instret &- clockReadAt < Hart.clockRefreshInstructions { return clockValue }
        clockValue = time.now()
        clockReadAt = instret
        return clockValue
    }
    static let clockRefreshInstructions: UInt64 = 512

    /// Interrupt to take now, or nil. Interrupts for M-mode come before HS-mode before VS-mode; within a level
    /// the order is MEI, MSI, MTI, SEI, SSI, STI, SGEI, VSEI, VSSI, VSTI (privileged spec §3.1.9, H §"hip/hie").
    func pendingInterrupt() -> UInt64? {
        let pending = mip(at: interruptClock()) & mie
        if pending == 0 { return nil }
        let mEnabled = prv < Priv.machine || mstatus & MStatus.mie != 0
        let sEnabled = virt || prv < Priv.supervisor || (prv == Priv.supervisor && mstatus & MStatus.sie != 0)
        let vsEnabled = virt && (prv < Priv.supervisor || vsstatus & MStatus.sie != 0)
        if mEnabled, let bit = Hart.highestPriority(pending & ~mideleg) { return bit }
        if sEnabled, let bit = Hart.highestPriority(pending & mideleg & ~hideleg) { return bit }
        if vsEnabled, let bit = Hart.highestPriority(pending & mideleg & hideleg) { return bit }
        return nil
    }

    /// The highest-priority interrupt in `set` (MEI, MSI, MTI, SEI, SSI, STI, SGEI, VSEI, VSSI, VSTI, LCOFI).
    @inline(__always) static func highestPriority(_ set: UInt64) -> UInt64? {
        if set == 0 { return nil }
        var order: UInt64 = 0xD62_AC51_973B   // the cause numbers above, then LCOFI (13), one per nibble, lowest first
        for _ in 0..<11 {
            let bit = order & 0xf
            if set & (1 << bit) != 0 { return bit }
            order >>= 4
        }
        return nil
    }

    /// Takes a pending interrupt if one is enabled. Returns true if a trap was taken.
    @discardableResult
    public func checkInterrupts() -> Bool {
        if waitingForInterrupt, mip & mie != 0 { waitingForInterrupt = false; clockReadAt = instret &- Hart.clockRefreshInstructions }
        guard let cause = pendingInterrupt() else { return false }
        waitingForInterrupt = false
        trap(cause: cause | Cause.interruptBit, tval: 0)
        return true
    }

    // MARK: Traps (privileged spec §3.1.6.1, §4.1.1)

    /// Enters the trap handler for `cause` with self.pc as the faulting/interrupted pc.
    /// `gva`: tval holds a guest virtual address; `gpa`: the guest physical address of a guest-page fault
    /// (written >> 2 to htval/mtval2); `tinst`: the transformed instruction for htinst/mtinst.
    public func trap(cause: UInt64, tval: UInt64, gva: Bool = false, gpa: UInt64 = 0, tinst: UInt64 = 0) {
        trapsTaken &+= 1
        guard collectStats else { return enterTrap(cause: cause, tval: tval, gva: gva, gpa: gpa, tinst: tinst) }
        let from = level
        enterTrap(cause: cause, tval: tval, gva: gva, gpa: gpa, tinst: tinst)
        trapCounts[TrapKey(cause: cause, from: from, to: level), default: 0] &+= 1
    }

    func enterTrap(cause: UInt64, tval: UInt64, gva: Bool, gpa: UInt64, tinst: UInt64) {
        let isInterrupt = cause & Cause.interruptBit != 0
        let code = cause & ~Cause.interruptBit
        let deleg = isInterrupt ? mideleg : medeleg
        reservation = .max
        if prv <= Priv.supervisor && code < 64 && (deleg >> code) & 1 != 0 {
            let hdeleg = isInterrupt ? hideleg : hedeleg
            if virt && (hdeleg >> code) & 1 != 0 {
                // Into VS-mode: VS-level interrupts appear to the guest as the matching S-level ones.
                let vcode = isInterrupt && (code == 2 || code == 6 || code == 10) ? code - 1 : code
                vscause = isInterrupt ? vcode | Cause.interruptBit : cause
                vsepc = pc; vstval = tval
                var s = vsstatus
                s = (s & ~MStatus.spie) | ((s & MStatus.sie) << 4)
                s = (s & ~MStatus.spp) | (UInt64(prv) << 8)
                s &= ~MStatus.sie
                vsstatus = s
                prv = Priv.supervisor
                pc = (vstvec & ~3) &+ ((vstvec & 1 != 0 && isInterrupt) ? 4 &* vcode : 0)
                return
            }
            scause = cause; sepc = pc; stval = tval
            if hypervisorExtension {
                var h = hstatus & ~(HStatus.spv | HStatus.gva)
                if virt { h = (h & ~HStatus.spvp) | (UInt64(prv) << 8) | HStatus.spv }
                if gva { h |= HStatus.gva }
                hstatus = h
                htval = gpa >> 2; htinst = tinst
            }
            var s = mstatus
            s = (s & ~MStatus.spie) | ((s & MStatus.sie) << 4)
            s = (s & ~MStatus.spp) | (UInt64(prv) << 8)
            s &= ~MStatus.sie
            mstatus = s
            prv = Priv.supervisor
            virt = false
            pc = (stvec & ~3) &+ ((stvec & 1 != 0 && isInterrupt) ? 4 &* code : 0)
        } else {
            mcause = cause; mepc = pc; mtval = tval
            var s = mstatus
            if hypervisorExtension {
                s &= ~(MStatus.mpv | MStatus.gva)
                if virt { s |= MStatus.mpv }
                if gva { s |= MStatus.gva }
                mtval2 = gpa >> 2; mtinst = tinst
            }
            s = (s & ~MStatus.mpie) | ((s & MStatus.mie) << 4)
            s = (s & ~MStatus.mpp) | (UInt64(prv) << MStatus.mppShift)
            s &= ~MStatus.mie
            mstatus = s
            prv = Priv.machine
            virt = false
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
        if hypervisorExtension {
            virt = mpp != Priv.machine && s & MStatus.mpv != 0
            n &= ~MStatus.mpv
        }
        mstatus = n
        prv = mpp
        pc = mepc
    }

    func sret() {
        if virt {
            // SRET in VS-mode works on vsstatus and stays virtualized.
            let s = vsstatus
            var n = (s & ~MStatus.sie) | ((s & MStatus.spie) >> 4)
            n |= MStatus.spie
            n &= ~MStatus.spp
            vsstatus = n
            prv = UInt8((s & MStatus.spp) >> 8)
            pc = vsepc
            return
        }
        let s = mstatus
        let spp = UInt8((s & MStatus.spp) >> 8)
        var n = (s & ~MStatus.sie) | ((s & MStatus.spie) >> 4)
        n |= MStatus.spie
        n &= ~MStatus.spp
        n &= ~MStatus.mprv  // SRET always returns to a mode below M
        mstatus = n
        if hypervisorExtension {
            virt = hstatus & HStatus.spv != 0
            hstatus &= ~HStatus.spv
        }
        prv = spp
        pc = sepc
    }

    // MARK: TLB (contexts, fences and refills: TLB.swift)

    /// Effective privilege for loads and stores (MPRV, §3.1.6.3).
    var dataPriv: UInt8 {
        (prv == Priv.machine && mstatus & MStatus.mprv != 0) ? UInt8((mstatus & MStatus.mpp) >> MStatus.mppShift) : prv
    }
    /// Whether loads and stores are virtualized (V=1, or MPRV with MPV=1 and MPP below M).
    var dataVirt: Bool {
        if virt { return true }
        return prv == Priv.machine && mstatus & (MStatus.mprv | MStatus.mpv) == MStatus.mprv | MStatus.mpv
            && mstatus & MStatus.mpp != MStatus.mpp
    }

    // MARK: PMP (§3.7)

    func rebuildPMP() {
        pmpRangeCount = 0
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
            guard a != 0 else { continue }
            // An empty range keeps its place in the priority order but matches nothing.
            pmpRanges[pmpRangeCount] = hi > lo ? PMPRange(lo: lo, hi: hi, perm: cfg & 7, locked: cfg & 0x80 != 0)
                                               : PMPRange(lo: 1, hi: 0, perm: 0, locked: cfg & 0x80 != 0)
            pmpRangeCount += 1
        }
    }

    /// Whether [pa, pa+len) may be accessed at privilege `p`.
    func pmpAllows(_ pa: UInt64, _ len: UInt64, _ access: Access, _ p: UInt8) -> Bool {
        let need: UInt8 = access == .fetch ? 4 : (access == .store ? 2 : 1)
        let last = pa &+ len &- 1
        for i in 0..<pmpRangeCount {
            let r = pmpRanges[i]
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

    /// A translation result: a physical address, a fault cause (page or access fault), or a guest-page fault
    /// with the faulting guest physical address and the htinst/mtinst value.
    enum Translation { case ok(UInt64), fault(UInt64), guestFault(UInt64, gpa: UInt64, tinst: UInt64) }

    func pageFaultCause(_ a: Access) -> UInt64 {
        switch a { case .fetch: return Cause.fetchPage; case .load: return Cause.loadPage; case .store: return Cause.storePage }
    }
    func accessFaultCause(_ a: Access) -> UInt64 {
        switch a { case .fetch: return Cause.fetchAccess; case .load: return Cause.loadAccess; case .store: return Cause.storeAccess }
    }
    func guestPageFaultCause(_ a: Access) -> UInt64 {
        switch a { case .fetch: return Cause.fetchGuestPage; case .load: return Cause.loadGuestPage; case .store: return Cause.storeGuestPage }
    }

    /// Translates `va` for `access` at privilege `p`, updating A/D bits. Returns the physical address or a cause.
    /// With `virt`, translates through vsatp (VS-stage) and hgatp (G-stage); `hlvx` asks for execute permission
    /// in place of read permission (HLVX).
    func translate(_ va: UInt64, _ access: Access, _ p: UInt8, virt v: Bool = false, hlvx: Bool = false) -> Translation {
        lastLeafShift = 12
        if v { return translateVirtual(va, access, p, hlvx: hlvx) }
        let mode = satp >> 60
        if p == Priv.machine || mode == 0 { return .ok(va) }
        let levels: Int
        switch mode { case 8: levels = 3; case 9: levels = 4; case 10: levels = 5; default: return .ok(va) }
        return walk(va, root: satp, levels: levels, access, user: p == Priv.user, sum: mstatus & MStatus.sum != 0,
                    mxr: mstatus & MStatus.mxr != 0, execForRead: false, stage: .single)
    }

    enum Stage { case single, vs, g }

    /// Two-stage translation for V=1 (H extension §"Two-Stage Address Translation").
    func translateVirtual(_ va: UInt64, _ access: Access, _ p: UInt8, hlvx: Bool) -> Translation {
        let mode = vsatp >> 60
        var gpa = va
        if mode != 0 {
            let levels: Int
            switch mode { case 8: levels = 3; case 9: levels = 4; default: levels = 5 }
            let mxr = (vsstatus | mstatus) & MStatus.mxr != 0
            switch walk(va, root: vsatp, levels: levels, access, user: p == Priv.user, sum: vsstatus & MStatus.sum != 0,
                        mxr: mxr, execForRead: hlvx, stage: .vs) {
            case .ok(let a): gpa = a
            case let other: return other
            }
        }
        return translateG(gpa, access, execForRead: hlvx, tinst: 0)
    }

    /// G-stage translation of a guest physical address (hgatp Bare, Sv39x4, Sv48x4, Sv57x4).
    func translateG(_ gpa: UInt64, _ access: Access, execForRead: Bool, tinst: UInt64) -> Translation {
        let mode = hgatp >> 60
        if mode == 0 { return .ok(gpa) }
        let levels: Int
        switch mode { case 8: levels = 3; case 9: levels = 4; default: levels = 5 }
        // The guest physical address is 2 bits wider than the VA of the matching Sv mode, zero-extended.
        let page = gpa >> 12
        let index = Int(page & UInt64(Hart.gCacheSize - 1))
        let bit: UInt8 = execForRead ? 8 : (access == .fetch ? 4 : (access == .store ? 2 : 1))
        let cached = gCache[index]
        if cached.page == page && cached.passed & bit != 0 { return .ok(cached.hostPage | (gpa & 0xfff)) }
        if gpa >> UInt64(12 + 9 * levels + 2) != 0 { return .guestFault(guestPageFaultCause(access), gpa: gpa, tinst: tinst) }
        if collectStats { gStageWalks &+= 1 }
        let result = walk(gpa, root: hgatp, levels: levels, access, user: true, sum: false, mxr: mstatus & MStatus.mxr != 0,
                          execForRead: execForRead, stage: .g)
        switch result {
        case .ok(let pa):
            // A passed store also means the walk set D, so later stores need no A/D update either.
            let hostPage = pa & ~0xfff
            gCache[index] = cached.page == page && cached.hostPage == hostPage
                ? GStageEntry(page: page, hostPage: hostPage, passed: cached.passed | bit)
                : GStageEntry(page: page, hostPage: hostPage, passed: bit)
            return result
        case .fault(let c) where c == pageFaultCause(access): return .guestFault(guestPageFaultCause(access), gpa: gpa, tinst: tinst)
        default: return result
        }
    }

    /// One page-table walk (§4.3.2). `stage` .vs makes every PTE address a guest physical address that goes
    /// through the G-stage; .g means the widened (x4) root table and all accesses checked as U-mode.
    func walk(_ va: UInt64, root: UInt64, levels: Int, _ access: Access, user: Bool, sum: Bool, mxr: Bool,
              execForRead: Bool, stage: Stage) -> Translation {
        if stage != .g {
            let vaBits = 12 + 9 * levels
            // The upper bits must equal bit vaBits-1 (canonical address).
            let shifted = Int64(bitPattern: va) >> (vaBits - 1)
            if shifted != 0 && shifted != -1 { return .fault(pageFaultCause(access)) }
        }
        var table = (root & ((1 << 44) - 1)) << 12
        if stage == .g { table &= ~0x3fff }
        var level = levels - 1
        while true {
            let idxBits: UInt64 = (stage == .g && level == levels - 1) ? 0x7ff : 0x1ff
            let idx = (va >> UInt64(12 + 9 * level)) & idxBits
            var pteAddr = table &+ idx &* 8
            let pteGPA = pteAddr
            if stage == .vs {
                // Implicit read of a VS-stage PTE: translated by the G-stage; the fault reports the original access.
                let readInst: UInt64 = 0x3000   // pseudoinstruction for a 64-bit implicit read (H §"Transformed Instruction")
                switch translateG(pteAddr, .load, execForRead: false, tinst: readInst) {
                case .ok(let a): pteAddr = a
                case .fault: return .fault(accessFaultCause(access))
                case .guestFault(_, let g, let t): return .guestFault(guestPageFaultCause(access), gpa: g, tinst: t)
                }
            }
            guard pmpAllows(pteAddr, 8, .load, Priv.supervisor) else { return .fault(accessFaultCause(access)) }
            guard let pp = ram.hostPointer(pteAddr, 8) else {
                noteUnmapped(pteAddr)
                return .fault(accessFaultCause(access))
            }
            var pte = pp.load(as: UInt64.self)
            let v = pte & 1, r = (pte >> 1) & 1, w = (pte >> 2) & 1, xbit = (pte >> 3) & 1
            if v == 0 || (r == 0 && w == 1) { return .fault(pageFaultCause(access)) }
            if pte >> 54 != 0 {
                // Bits 60:54 are reserved. PBMT (62:61) needs Svpbmt and the stage's *envcfg.PBMTE (menvcfg
                // for HS and G-stage, henvcfg for VS-stage); 3 is reserved. N (63) needs Svnapot.
                let pbmt = (pte >> 61) & 3
                let pbmtOK = extensions.contains(.svpbmt) && ((stage == .vs ? henvcfg : menvcfg) >> 62) & 1 == 1
                if (pte >> 54) & 0x7f != 0 || (pbmt != 0 && (!pbmtOK || pbmt == 3))
                    || (pte >> 63 != 0 && !extensions.contains(.svnapot)) {
                    return .fault(pageFaultCause(access))
                }
            }
            if r == 0 && xbit == 0 {
                // Pointer to next level; A/D/U must be clear, and PBMT and N (reserved there).
                if pte & 0xd0 != 0 || pte >> 61 != 0 { return .fault(pageFaultCause(access)) }
                if level == 0 { return .fault(pageFaultCause(access)) }
                table = ((pte >> 10) & ((1 << 44) - 1)) << 12
                level -= 1
                continue
            }
            // Leaf: permission checks.
            let u = (pte >> 4) & 1
            if user && u == 0 { return .fault(pageFaultCause(access)) }
            if !user && u == 1 && (access == .fetch || !sum) {
                return .fault(pageFaultCause(access))
            }
            switch access {
            case .fetch: if xbit == 0 { return .fault(pageFaultCause(access)) }
            case .load:
                if execForRead {
                    if xbit == 0 { return .fault(pageFaultCause(access)) }
                } else if r == 0 && !(xbit == 1 && mxr) { return .fault(pageFaultCause(access)) }
            case .store: if w == 0 { return .fault(pageFaultCause(access)) }
            }
            var ppn = (pte >> 10) & ((1 << 44) - 1)
            // Superpage alignment.
            if level > 0 && ppn & ((1 << UInt64(9 * level)) - 1) != 0 { return .fault(pageFaultCause(access)) }
            if pte >> 63 != 0 {
                // Svnapot: only the 64 KiB size (ppn[3:0] = 1000) of a 4 KiB leaf; the low PPN bits come from the VA.
                if level != 0 || ppn & 0xf != 0x8 { return .fault(pageFaultCause(access)) }
                ppn = (ppn & ~0xf) | ((va >> 12) & 0xf)
                napotTranslated = true
            }
            // A/D: set by the walk, or a page fault where Svade is in effect (Svadu §, *envcfg.ADUE).
            var newPTE = pte | (1 << 6)
            if access == .store { newPTE |= 1 << 7 }
            if newPTE != pte {
                if !updatesAccessedDirty(stage) { return .fault(pageFaultCause(access)) }
                if stage == .vs {
                    // The A/D write is an implicit store: the G-stage must permit writing the PTE.
                    switch translateG(pteGPA, .store, execForRead: false, tinst: 0x3020) {
                    case .ok: break
                    case .fault: return .fault(accessFaultCause(access))
                    case .guestFault(_, let g, let t): return .guestFault(guestPageFaultCause(access), gpa: g, tinst: t)
                    }
                }
                guard pmpAllows(pteAddr, 8, .store, Priv.supervisor) else { return .fault(accessFaultCause(access)) }
                // The update is atomic with the check (privileged spec, "Virtual Address Translation
                // Process"): if another hart changed the PTE since it was read, walk this level again.
                guard HostAtomics.compareExchange(pp, expected: pte, desired: newPTE) == pte else { continue }
                code.invalidate(physicalPage: pteAddr >> 12)
                pte = newPTE
            }
            let offsetMask: UInt64 = (1 << UInt64(12 + 9 * level)) - 1
            if stage != .g { lastLeafShift = UInt8(12 + 9 * level) }
            return .ok((ppn << 12) | (va & offsetMask))
        }
    }

    /// Whether a walk of `stage` sets missing A/D bits itself: under Svadu as menvcfg.ADUE (S-mode and
    /// G-stage) or henvcfg.ADUE (VS-stage) say, never under Svade alone, always without either.
    @inline(__always) func updatesAccessedDirty(_ stage: Stage) -> Bool {
        if extensions.contains(.svadu) { return ((stage == .vs ? henvcfg : menvcfg) >> 61) & 1 == 1 }
        return !extensions.contains(.svade)
    }

    /// Translation plus PMP check of the exact bytes. On failure takes the trap and returns nil.
    func physical(_ rawVA: UInt64, _ len: UInt64, _ access: Access, _ p: UInt8, virt v: Bool = false, hlvx: Bool = false) -> UInt64? {
        // Pointer masking applies to explicit data accesses; a fault reports the transformed address.
        // TLB entries keep the untransformed page as their tag, so every PMM change flushes them.
        let va = access == .fetch ? rawVA : maskPointer(rawVA, p, virt: v)
        if collectStats {
            let l: PrivilegeLevel = p == Priv.machine ? .m : (p == Priv.supervisor ? (v ? .vs : .hs) : (v ? .vu : .u))
            translationsByLevel[l.rawValue] &+= 1
        }
        switch translate(va, access, p, virt: v, hlvx: hlvx) {
        case .fault(let cause):
            trap(cause: cause, tval: va, gva: v)
            return nil
        case .guestFault(let cause, let gpa, let tinst):
            // Implicit VS-stage walks carry their pseudoinstruction; explicit accesses get the
            // transformed instruction (fetches report 0).
            let inst = tinst == 0 && access != .fetch ? transformedInstruction(faultVA: va) : tinst
            trap(cause: cause, tval: va, gva: true, gpa: gpa, tinst: inst)
            return nil
        case .ok(let pa):
            if !pmpAllows(pa, len, access, p) {
                trap(cause: accessFaultCause(access), tval: va, gva: v)
                return nil
            }
            return pa
        }
    }

    /// The pointer-masking "ignore" transformation (Pointer Masking §"The Ignore Transformation") of a
    /// data address at effective privilege `p` (`v`: V=1): with PMLEN 7 (PMM=2) or 16 (PMM=3) the upper
    /// PMLEN bits become the sign extension of the rest for a virtual address, zeros for a physical
    /// (Bare) one. PMM comes from menvcfg for S/HS, senvcfg for U and VU, henvcfg for VS, and
    /// hstatus.HUPMM for HLV/HSV as VU; none in M-mode (no Smmpm), none where MXR is in effect.
    func maskPointer(_ va: UInt64, _ p: UInt8, virt v: Bool) -> UInt64 {
        guard p != Priv.machine, ((menvcfg | senvcfg | henvcfg) >> 32 | hstatus >> 48) & 3 != 0 else { return va }
        let pmm: UInt64
        if !v { pmm = (p == Priv.supervisor ? menvcfg : senvcfg) >> 32 & 3 }
        else if p == Priv.supervisor { pmm = henvcfg >> 32 & 3 }
        else if !virt && prv != Priv.machine { pmm = hstatus >> 48 & 3 }
        else { pmm = senvcfg >> 32 & 3 }
        guard pmm >= 2, mstatus & MStatus.mxr == 0, !(v && vsstatus & MStatus.mxr != 0) else { return va }
        let pmlen: UInt64 = pmm == 2 ? 7 : 16
        let translated = (v ? vsatp : satp) >> 60 != 0
        return translated ? UInt64(bitPattern: Int64(bitPattern: va << pmlen) >> Int64(pmlen)) : (va << pmlen) >> pmlen
    }

    /// Whether the whole 4 KiB page at `pa` gets the same PMP answer as a single access (safe to cache).
    func pmpPageUniform(_ pa: UInt64, _ access: Access, _ p: UInt8) -> Bool {
        let page = pa & ~0xfff
        return pmpAllows(page, 4096, access, p)
    }

    // MARK: Slow-path memory access (TLB miss, MMIO, misaligned)

    /// Loads `size` bytes at `va` for the current data privilege. Returns nil after taking a trap.
    public func loadSlow(_ va: UInt64, _ size: Int) -> UInt64? {
        let p = dataPriv, v = dataVirt
        if va & UInt64(size - 1) != 0 {
            // Misaligned: emulate byte by byte (as QEMU does), translating each page once.
            var v: UInt64 = 0
            for i in 0..<size {
                guard let b = loadSlow(va &+ UInt64(i), 1) else { return nil }
                v |= b << UInt64(8 * i)
            }
            return v
        }
        guard let pa = physical(va, UInt64(size), .load, p, virt: v) else { return nil }
        if let hp = ram.hostPointer(pa, UInt64(size)) {
            if pmpPageUniform(pa, .load, p) {
                tlbLoad[tlbFillIndex(va, slot: slot(forPriv: p, virt: v))] =
                    TLBEntry(tag: va & ~0xfff, addend: UInt64(UInt(bitPattern: hp - Int(pa & 0xfff))) &- (va & ~0xfff))
            }
            return Hart.hostLoad(hp, size)
        }
        if let v = bus.load(pa, size: size) { return v }
        noteUnmapped(pa)
        trap(cause: Cause.loadAccess, tval: va, gva: v)
        return nil
    }

    /// Stores `size` bytes at `va`. Returns false after taking a trap.
    public func storeSlow(_ va: UInt64, _ size: Int, _ value: UInt64) -> Bool {
        let p = dataPriv, v = dataVirt
        if va & UInt64(size - 1) != 0 {
            // Check every byte's translation before writing any, so a fault leaves memory unchanged.
            for i in 0..<size {
                guard physical(va &+ UInt64(i), 1, .store, p, virt: v) != nil else { return false }
            }
            for i in 0..<size { _ = storeSlow(va &+ UInt64(i), 1, (value >> UInt64(8 * i)) & 0xff) }
            return true
        }
        guard let pa = physical(va, UInt64(size), .store, p, virt: v) else { return false }
        if let hp = ram.hostPointer(pa, UInt64(size)) {
            let ramPage = Int((pa - ram.base) >> 12)
            code.invalidate(ramPage: ramPage)
            if pmpPageUniform(pa, .store, p) {
                tlbStore[tlbFillIndex(va, slot: slot(forPriv: p, virt: v))] =
                    TLBEntry(tag: va & ~0xfff, addend: UInt64(UInt(bitPattern: hp - Int(pa & 0xfff))) &- (va & ~0xfff))
            }
            Hart.hostStore(hp, size, value)
            return true
        }
        if bus.store(pa, size: size, value: value) { return true }
        noteUnmapped(pa)
        trap(cause: Cause.storeAccess, tval: va, gva: v)
        return false
    }

    /// Host pointer for an atomic access (LR/SC/AMO) of `size` bytes; traps and returns nil on failure.
    func atomicPointer(_ va: UInt64, _ size: Int, isLoadReserved: Bool) -> (UnsafeMutableRawPointer, UInt64)? {
        if va & UInt64(size - 1) != 0 {
            trap(cause: isLoadReserved ? Cause.loadMisaligned : Cause.storeMisaligned, tval: va)
            return nil
        }
        // A store-TLB hit means RAM, writable (hence readable), PMP-uniform and holding no decoded
        // code: kernels use atomics constantly (locks, refcounts), so they must not walk every time.
        let slot = dataSlot
        let e = tlbStore[slot * Hart.tlbSize + Int((va >> 12) & Hart.tlbMask)]
        if e.tag == va & ~0xfff {
            let hp = UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: va &+ e.addend)).unsafelyUnwrapped
            return (hp, ram.base &+ UInt64(hp - ram.pointer))
        }
        let access: Access = isLoadReserved ? .load : .store
        guard let pa = physical(va, UInt64(size), access, dataPriv, virt: dataVirt) else { return nil }
        guard let hp = ram.hostPointer(pa, UInt64(size)) else {
            trap(cause: isLoadReserved ? Cause.loadAccess : Cause.storeAccess, tval: va, gva: dataVirt)
            return nil
        }
        if !isLoadReserved {
            code.invalidate(ramPage: Int((pa - ram.base) >> 12))
            if pmpPageUniform(pa, .store, dataPriv) {
                tlbStore[tlbFillIndex(va, slot: slot)] =
                    TLBEntry(tag: va & ~0xfff, addend: UInt64(UInt(bitPattern: hp - Int(pa & 0xfff))) &- (va & ~0xfff))
            }
        }
        return (hp, pa)
    }

    /// Fills the fetch TLB for `va`; returns the entry or nil after taking a fetch trap.
    func fetchFill(_ va: UInt64) -> FetchEntry? {
        guard let pa = physical(va, 2, .fetch, prv, virt: virt) else { return nil }
        guard ram.contains(pa & ~0xfff, 4096) else {
            noteUnmapped(pa)   // devices are not executable: outside RAM nothing can be fetched
            trap(cause: Cause.fetchAccess, tval: va, gva: virt)
            return nil
        }
        let ramPage = Int((pa - ram.base) >> 12)
        let host = ram.pagePointer(forFetch: ramPage)   // post-copy: the page must be here before it is decoded
        let e = FetchEntry(tag: va & ~0xfff, ops: UInt(bitPattern: code.ops(forRAMPage: ramPage)),
                           host: UInt(bitPattern: code.fetchBytes(ramPage: ramPage, host: host)), ramPage: ramPage)
        if pmpPageUniform(pa, .fetch, prv) {
            tlbFetch[tlbFillIndex(va, slot: fetchSlot)] = e
        }
        return e
    }

    /// Decodes the instruction at `va` whose low parcel lies at byte `offset` of the page `e`.
    /// Caches it unless it crosses into the next page. Returns nil after taking a fetch trap.
    func decodeAt(_ va: UInt64, _ e: FetchEntry) -> DOp? {
        let offset = Int(va & 0xfff)
        let host = UnsafeRawPointer(bitPattern: e.host)!
        code.markHasCode(ramPage: e.ramPage)   // first: a private cache refreshes its copy of the page here
        let lo = host.load(fromByteOffset: offset, as: UInt16.self)
        if !Decoder.isLong(lo) {
            let d = Decoder.decodeCompressed(lo, ext: extensions)
            UnsafeMutablePointer<DOp>(bitPattern: e.ops)![offset >> 1] = d
            return d
        }
        if offset <= 4092 {
            let d = Decoder.decode(host.loadUnaligned(fromByteOffset: offset, as: UInt32.self), hypervisor: hypervisorExtension, ext: extensions)
            UnsafeMutablePointer<DOp>(bitPattern: e.ops)![offset >> 1] = d
            return d
        }
        // Crosses a page boundary: not cached (the next page may be remapped or rewritten on its
        // own); its upper parcel comes through the fetch TLB, filled like any other fetch.
        let nextVA = va &+ 2
        let next = tlbFetch[fetchSlot * Hart.tlbSize + Int((nextVA >> 12) & Hart.tlbMask)]
        let hi: UInt16
        if next.tag == nextVA {
            if code.isPrivate { code.markHasCode(ramPage: next.ramPage) }
            hi = UnsafeRawPointer(bitPattern: next.host).unsafelyUnwrapped.load(as: UInt16.self)
        } else {
            guard let f = fetchFill(nextVA) else { return nil }
            if code.isPrivate { code.markHasCode(ramPage: f.ramPage) }
            hi = UnsafeRawPointer(bitPattern: f.host).unsafelyUnwrapped.load(as: UInt16.self)
        }
        return Decoder.decode(UInt32(lo) | UInt32(hi) << 16, hypervisor: hypervisorExtension, ext: extensions)
    }
}

extension Hart {
    /// Little-endian guest-memory access of 1, 2, 4 or 8 bytes at a host pointer (slow paths).
    @inline(__always) static func hostLoad(_ hp: UnsafeMutableRawPointer, _ size: Int) -> UInt64 {
        switch size {
        case 1: return UInt64(hp.load(as: UInt8.self))
        case 2: return UInt64(hp.loadUnaligned(as: UInt16.self))
        case 4: return UInt64(hp.loadUnaligned(as: UInt32.self))
        default: return hp.loadUnaligned(as: UInt64.self)
        }
    }
    @inline(__always) static func hostStore(_ hp: UnsafeMutableRawPointer, _ size: Int, _ value: UInt64) {
        switch size {
        case 1: hp.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        case 2: hp.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
        case 4: hp.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
        default: hp.storeBytes(of: value, as: UInt64.self)
        }
    }

    /// Records an access that found nothing mapped at physical address `pa` (slow path).
    @inline(never)
    func noteUnmapped(_ pa: UInt64) {
        unmappedAccesses &+= 1
        lastUnmappedAddress = pa
    }

    /// Sets or clears software-writable pending bits (e.g. SSIP from an SBI IPI).
    public func setSoftwarePending(_ mask: UInt64, _ level: Bool) {
        if level { mipSoft |= mask } else { mipSoft &= ~mask }
    }
}

extension Hart {
    /// HLV/HLVX: a load at privilege hstatus.SPVP with V=1 translation. Returns nil after taking a trap.
    func hypervisorLoad(_ va: UInt64, _ size: Int, exec: Bool) -> UInt64? {
        let p: UInt8 = hstatus & HStatus.spvp != 0 ? Priv.supervisor : Priv.user
        if va & UInt64(size - 1) != 0 {
            trap(cause: Cause.loadMisaligned, tval: va, gva: true)
            return nil
        }
        guard let pa = physical(va, UInt64(size), .load, p, virt: true, hlvx: exec) else { return nil }
        if let hp = ram.hostPointer(pa, UInt64(size)) {
            return Hart.hostLoad(hp, size)
        }
        if let v = bus.load(pa, size: size) { return v }
        noteUnmapped(pa)
        trap(cause: Cause.loadAccess, tval: va, gva: true)
        return nil
    }

    /// HSV: a store at privilege hstatus.SPVP with V=1 translation. Returns false after taking a trap.
    func hypervisorStore(_ va: UInt64, _ size: Int, _ value: UInt64) -> Bool {
        let p: UInt8 = hstatus & HStatus.spvp != 0 ? Priv.supervisor : Priv.user
        if va & UInt64(size - 1) != 0 {
            trap(cause: Cause.storeMisaligned, tval: va, gva: true)
            return false
        }
        guard let pa = physical(va, UInt64(size), .store, p, virt: true) else { return false }
        if let hp = ram.hostPointer(pa, UInt64(size)) {
            code.invalidate(ramPage: Int((pa - ram.base) >> 12))
            Hart.hostStore(hp, size, value)
            return true
        }
        if bus.store(pa, size: size, value: value) { return true }
        noteUnmapped(pa)
        trap(cause: Cause.storeAccess, tval: va, gva: true)
        return false
    }
}

/// Privilege and virtualization level, for statistics.
public enum PrivilegeLevel: Int, CaseIterable, Sendable, CustomStringConvertible {
    case u = 0, hs, m, vu, vs
    public var description: String { ["U", "HS", "M", "VU", "VS"][rawValue] }
}

/// One PMP region as `rebuildPMP` derives it from pmpcfg/pmpaddr.
struct PMPRange {
    var lo: UInt64 = 1, hi: UInt64 = 0, perm: UInt8 = 0, locked = false
}

/// A cached G-stage translation: `passed` has a bit per access kind the walk allowed
/// (1 load, 2 store, 4 fetch, 8 HLVX read).
struct GStageEntry {
    var page: UInt64 = .max, hostPage: UInt64 = 0, passed: UInt8 = 0
}

public struct TrapKey: Hashable, Sendable {
    public let cause: UInt64
    public let from: PrivilegeLevel
    public let to: PrivilegeLevel
    public init(cause: UInt64, from: PrivilegeLevel, to: PrivilegeLevel) { self.cause = cause; self.from = from; self.to = to }
}
