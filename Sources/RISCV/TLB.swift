import Platform
// The software TLB's contexts, fences and refill bookkeeping.
//
// Entries live in "slots" of `tlbSize` direct-mapped entries, one slot per effective privilege
// (U, S, S with SUM; VU, VS, VS with SUM) of one translation context, plus slot 0 for M-mode (bare).
// A context is tagged like a hardware TLB entry: HS/U contexts by satp (its ASID and root), guest
// contexts by vsatp and hgatp (ASID, VMID and both roots). Switching satp, vsatp or hgatp selects the
// matching context, or recycles the least recently used one, so the translations of other processes
// and other VMs survive a switch; fences remove exactly the contexts and addresses they name.

extension Hart {
    static let hostContexts = 4
    static let guestContexts = 4
    static let machineSlot = 0
    static let firstHostSlot = 1
    static let firstGuestSlot = firstHostSlot + 3 * hostContexts
    static let tlbSlots = firstGuestSlot + 3 * guestContexts
    /// Distinct superpages remembered per slot for address fences.
    static let tlbSuperRegions = 16
    /// `tlbFillCount` of a slot whose memory is not a valid table (never written, or dropped whole
    /// by `flushAllTLB`): no context reaches it, fences and scans skip it, and `clearSlot` empties
    /// all of it before it is used again.
    static let tlbSlotStale = Int.max

    static func asid(_ atp: UInt64) -> UInt64 { (atp >> 44) & 0xffff }
    static func vmid(_ atp: UInt64) -> UInt64 { (atp >> 44) & 0x3fff }

    /// The slot for an access at privilege `p` (with `v`, a V=1 access) in the current contexts.
    func slot(forPriv p: UInt8, virt v: Bool = false) -> Int {
        if v {
            let base = Hart.firstGuestSlot + 3 * guestContext
            return p == Priv.supervisor ? base + (vsstatus & MStatus.sum != 0 ? 2 : 1) : base
        }
        switch p {
        case Priv.machine: return Hart.machineSlot
        case Priv.supervisor: return Hart.firstHostSlot + 3 * hostContext + (mstatus & MStatus.sum != 0 ? 2 : 1)
        default: return Hart.firstHostSlot + 3 * hostContext
        }
    }
    var dataSlot: Int { slot(forPriv: dataPriv, virt: dataVirt) }
    /// Instruction fetches ignore SUM: U pages are never executable from S.
    var fetchSlot: Int {
        if virt { return Hart.firstGuestSlot + 3 * guestContext + (prv == Priv.supervisor ? 1 : 0) }
        if prv == Priv.machine { return Hart.machineSlot }
        return Hart.firstHostSlot + 3 * hostContext + (prv == Priv.supervisor ? 1 : 0)
    }

    // MARK: Contexts

    /// Makes the host context tagged with the current satp current (after a satp write).
    func selectHostContext() {
        tlbClock &+= 1
        if hostContextKeys[hostContext] == satp { hostContextUsed[hostContext] = tlbClock; return }
        var victim = 0
        for i in 0..<Hart.hostContexts {
            if hostContextKeys[i] == satp { victim = i; break }
            if hostContextUsed[i] < hostContextUsed[victim] { victim = i }
        }
        if hostContextKeys[victim] != satp {
            clearContext(firstSlot: Hart.firstHostSlot + 3 * victim)
            hostContextKeys[victim] = satp
        }
        hostContext = victim
        hostContextUsed[victim] = tlbClock
    }

    /// Makes the guest context tagged with the current vsatp and hgatp current.
    func selectGuestContext() {
        tlbClock &+= 1
        let c = guestContext
        if guestContextVSATP[c] == vsatp && guestContextHGATP[c] == hgatp { guestContextUsed[c] = tlbClock; return }
        var victim = 0
        var found = false
        for i in 0..<Hart.guestContexts {
            if guestContextVSATP[i] == vsatp && guestContextHGATP[i] == hgatp { victim = i; found = true; break }
            if guestContextUsed[i] < guestContextUsed[victim] { victim = i }
        }
        if !found {
            clearContext(firstSlot: Hart.firstGuestSlot + 3 * victim)
            guestContextVSATP[victim] = vsatp
            guestContextHGATP[victim] = hgatp
        }
        guestContext = victim
        guestContextUsed[victim] = tlbClock
    }

    func clearContext(firstSlot: Int) {
        for s in firstSlot..<(firstSlot + 3) { clearSlot(s) }
    }

    // MARK: Fences

    /// SFENCE.VMA with V=0 (priv §10.2.1): HS-level translations only (H §"Hypervisor Memory-Management
    /// Fence Instructions"). `va` nil: every address; `asid` nil: every address space (global mappings
    /// are not told apart, so an ASID fence may drop them too, which is allowed).
    func fenceHost(va: UInt64?, asid: UInt64?) {
        if collectStats { hostTLBFlushes &+= 1 }
        for i in 0..<Hart.hostContexts where hostContextKeys[i] != .max {
            if let asid, Hart.asid(hostContextKeys[i]) != asid & 0xffff { continue }
            fence(firstSlot: Hart.firstHostSlot + 3 * i, va: va)
        }
    }

    /// SFENCE.VMA in VS-mode, or HFENCE.VVMA: VS-stage translations of the current VMID (hgatp.VMID),
    /// for one guest address space or all of them.
    func fenceGuest(va: UInt64?, asid: UInt64?) {
        if collectStats { guestTLBFlushes &+= 1 }
        let vmid = Hart.vmid(hgatp)
        for i in 0..<Hart.guestContexts where guestContextHGATP[i] != .max {
            if Hart.vmid(guestContextHGATP[i]) != vmid { continue }
            if let asid, Hart.asid(guestContextVSATP[i]) != asid & 0xffff { continue }
            fence(firstSlot: Hart.firstGuestSlot + 3 * i, va: va)
        }
    }

    /// HFENCE.GVMA: G-stage changes of one VMID (nil: all). Combined entries do not remember their
    /// guest physical address, so a fence for one address drops the whole VMID; the G-stage cache
    /// is not tagged and is cleared.
    func fenceGStage(vmid: UInt64?) {
        if collectStats { guestTLBFlushes &+= 1 }
        for i in 0..<Hart.guestContexts where guestContextHGATP[i] != .max {
            if let vmid, Hart.vmid(guestContextHGATP[i]) != vmid & 0x3fff { continue }
            clearContext(firstSlot: Hart.firstGuestSlot + 3 * i)
        }
        clearGStageCache()
    }

    /// The G-stage cache is not tagged by VMID: any G-stage change empties it.
    func clearGStageCache() { gCache.update(repeating: GStageEntry(), count: Hart.gCacheSize) }

    private func fence(firstSlot: Int, va: UInt64?) {
        if let va {
            if napotTranslated {
                // Any address of a 64 KiB NAPOT mapping fences all of it (Svnapot); entries are per 4 KiB page.
                let base = va & ~0xffff
                for i in 0..<UInt64(16) { flushAddress(base &+ i << 12, slots: firstSlot...(firstSlot + 2)) }
            } else {
                flushAddress(va, slots: firstSlot...(firstSlot + 2))
            }
        } else {
            clearContext(firstSlot: firstSlot)
        }
    }

    /// Every HS/U and guest translation (remote SFENCE.VMA, mstatus.MXR changes, hart start).
    public func flushTLB() {
        fenceHost(va: nil, asid: nil)
        if hypervisorExtension { flushVirtualTLB() }
        selectHostContext()
    }

    /// Every combined two-stage translation, all VMIDs (vsstatus.MXR changes, remote HFENCE.VVMA).
    public func flushVirtualTLB() {
        if collectStats { guestTLBFlushes &+= 1 }
        for i in 0..<Hart.guestContexts { clearContext(firstSlot: Hart.firstGuestSlot + 3 * i) }
        selectGuestContext()
    }

    /// Everything that depends on the G-stage: the combined entries and the G-stage cache.
    public func flushGStage() {
        flushVirtualTLB()
        clearGStageCache()
    }

    /// Flushes everything, M-mode slot included, and forgets every context tag (PMP changes, reset,
    /// snapshot restore).
    public func flushAllTLB() {
        // Every context tag is forgotten below, so only the slots made reachable again (M-mode and
        // the two contexts selected) are emptied now; the others on their first selection.
        for slot in 0..<Hart.tlbSlots where tlbFillCount[slot] != 0 { tlbFillCount[slot] = Hart.tlbSlotStale }
        clearSlot(Hart.machineSlot)
        clearGStageCache()
        for i in 0..<Hart.hostContexts { hostContextKeys[i] = .max; hostContextUsed[i] = 0 }
        for i in 0..<Hart.guestContexts { guestContextVSATP[i] = .max; guestContextHGATP[i] = .max; guestContextUsed[i] = 0 }
        hostContext = 0; guestContext = 0
        selectHostContext()
        selectGuestContext()
    }

    // MARK: Slots

    /// Empties one slot. Linux fences often and refills few entries in between, so a slot whose
    /// refills were all logged clears just those indices instead of the whole table.
    @inline(__always) func clearSlot(_ slot: Int) {
        let count = tlbFillCount[slot]
        if count == 0 { return }
        let base = slot * Hart.tlbSize
        if count <= Hart.tlbFillLogSize {
            let log = tlbFillLog + slot * Hart.tlbFillLogSize
            for i in 0..<count { clearEntries(base + Int(log[i])) }
        } else {   // the log overflowed, or the slot is stale
            (tlbLoad + base).update(repeating: TLBEntry(), count: Hart.tlbSize)
            (tlbStore + base).update(repeating: TLBEntry(), count: Hart.tlbSize)
            (tlbFetch + base).update(repeating: FetchEntry(), count: Hart.tlbSize)
            (tlbLeafShift + base).update(repeating: 0, count: Hart.tlbSize)
        }
        tlbFillCount[slot] = 0
        tlbSuperRegionCount[slot] = 0
    }

    /// Records the superpage (base and size) a refill of `slot` came from; past `tlbSuperRegions`
    /// distinct ones the slot is marked as overflowing (address fences then search it).
    func noteSuperRegion(_ va: UInt64, slot: Int) {
        let shift = UInt64(lastLeafShift)
        let key = (va >> shift) << 6 | shift
        let count = tlbSuperRegionCount[slot]
        if count > Hart.tlbSuperRegions { return }
        let list = tlbSuperRegionList + slot * Hart.tlbSuperRegions
        for i in 0..<count where list[i] == key { return }
        if count < Hart.tlbSuperRegions { list[count] = key }
        tlbSuperRegionCount[slot] = count &+ 1
    }

    @inline(__always) func clearEntries(_ index: Int) {
        tlbLoad[index] = TLBEntry(); tlbStore[index] = TLBEntry(); tlbFetch[index] = FetchEntry(); tlbLeafShift[index] = 0
    }

    /// Drops the entries of `slots` that the leaf mapping `va` may have produced, superpage siblings
    /// included (an address fence orders stores to that leaf PTE only).
    func flushAddress(_ va: UInt64, slots: ClosedRange<Int>) {
        for slot in slots {
            let count = tlbFillCount[slot]
            if count == 0 || count == Hart.tlbSlotStale { continue }
            let base = slot * Hart.tlbSize
            // A 4 KiB entry for va can only sit at va's own index. Superpage leaves are few (the
            // kernel's linear map): only when one of them covers va must the slot be searched.
            let regions = tlbSuperRegionCount[slot]
            if regions <= Hart.tlbSuperRegions {
                clearIfCovering(base + Int((va >> 12) & Hart.tlbMask), va)
                let list = tlbSuperRegionList + slot * Hart.tlbSuperRegions
                var covered = false
                for i in 0..<regions {
                    let key = list[i], shift = key & 63
                    if key >> 6 == va >> shift { covered = true; break }
                }
                if !covered { continue }
            }
            forEachFilledIndex(slot) { clearIfCovering($0, va) }
        }
    }

    /// Calls `body` with every entry index of `slot` that may hold an entry: the logged refills, or
    /// the whole slot once there were more than the log holds.
    @inline(__always) func forEachFilledIndex(_ slot: Int, _ body: (Int) -> Void) {
        let count = tlbFillCount[slot]
        if count == Hart.tlbSlotStale { return }
        let base = slot * Hart.tlbSize
        if count <= Hart.tlbFillLogSize {
            let log = tlbFillLog + slot * Hart.tlbFillLogSize
            for i in 0..<count { body(base + Int(log[i])) }
        } else {
            for i in base..<(base + Hart.tlbSize) { body(i) }
        }
    }

    @inline(__always) func clearIfCovering(_ index: Int, _ va: UInt64) {
        let shift = UInt64(tlbLeafShift[index])
        if shift == 0 { return }
        let target = va >> shift
        if tlbLoad[index].tag >> shift == target || tlbStore[index].tag >> shift == target
            || tlbFetch[index].tag >> shift == target {
            clearEntries(index)
        }
    }

    /// Index of `va`'s entry in `slot`, logged as filled (call only when storing an entry there).
    @inline(__always) func tlbFillIndex(_ va: UInt64, slot: Int) -> Int {
        let index = Int((va >> 12) & Hart.tlbMask)
        let count = tlbFillCount[slot]
        if count < Hart.tlbFillLogSize { tlbFillLog[slot * Hart.tlbFillLogSize + count] = UInt16(index) }
        tlbFillCount[slot] = count &+ 1
        let i = slot * Hart.tlbSize + index
        tlbLeafShift[i] = max(tlbLeafShift[i], lastLeafShift)
        if lastLeafShift > 12 { noteSuperRegion(va, slot: slot) }
        return i
    }

    /// Removes store entries that map onto the host page (the page now holds decoded code).
    func dropStoreEntries(hostPage: UInt) {
        for slot in 0..<Hart.tlbSlots {
            forEachFilledIndex(slot) { dropStoreEntry($0, hostPage: hostPage) }
        }
    }

    @inline(__always) func dropStoreEntry(_ i: Int, hostPage: UInt) {
        let e = tlbStore[i]
        if e.tag != .max && UInt(truncatingIfNeeded: e.tag &+ e.addend) == hostPage { tlbStore[i] = TLBEntry() }
    }
}
