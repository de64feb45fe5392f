import Platform
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decoded instructions per physical RAM page, shared by all harts of a machine.
/// A page's ops are never freed while the machine lives: invalidation zeroes them (`Op.undecoded`), so
/// pointers held by a running hart stay valid and simply re-decode.
/// Pages that hold decoded code are never entered into any hart's store TLB; a store to one takes the
/// slow path, which invalidates the page first (self-modifying code, module loading, DMA).
///
/// The per-page tables are indexed directly (one load, as cheap as a plain array) but cost nothing up
/// front: they are reserved with mmap(MAP_NORESERVE), whose untouched pages read as zero (nil pointers,
/// false), so only the table pages covering code the guest ran are ever backed by host memory. A 64 GiB
/// guest would otherwise pay 17 bytes per guest page (272 MiB) at creation. Whole-cache walks
/// (`invalidateAll`, JIT flushes, deinit) visit the pages that were given ops or hotness counters.
public final class CodeCache {
    public static let opsPerPage = 2048  // one slot per 2-byte parcel of a 4 KiB page
    let ram: GuestRAM
    let pageCount: Int
    let pages: UnsafeMutablePointer<UnsafeMutablePointer<DOp>?>
    let hasCode: UnsafeMutablePointer<Bool>
    /// Per RAM page, how often each slot was reached by an interpreted taken branch (JIT hotness).
    let hot: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    /// RAM pages that have ops (`pages[i] != nil`) and hotness counters (`hot[i] != nil`), in allocation order.
    var opsPageList: [Int32] = []
    var hotPageList: [Int32] = []
    var harts: [Hart] = []  // weakly meaningful: harts live as long as the machine
    /// One hart's own cache (threads per hart), written only by that hart's thread. Other harts' stores
    /// and DMA do not reach it, so it decodes each page from a copy taken when the page's first op is
    /// decoded. FENCE.I starts a new epoch (`fenceInstructions`) and empties the hart's fetch TLB, so
    /// the next fetch from each page comes through `fetchBytes`, which compares the page with its copy
    /// once per epoch and discards its ops if it changed. Decoding from the copy means the ops always
    /// match it exactly, however the page changes meanwhile.
    public internal(set) var isPrivate = false
    let copies: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Per RAM page, the epoch its copy was last compared in.
    let checkedEpoch: UnsafeMutablePointer<UInt32>
    var epoch: UInt32 = 1
    /// Translated blocks (nil when disabled or unavailable on this host).
    public internal(set) var jit: JIT?
    public var jitEnabled: Bool {
        get { jit != nil }
        set { if newValue { if jit == nil { jit = JIT() } } else { if jit != nil { invalidateAll(); jit = nil } } }
    }

    /// Zero-filled memory for `count` values of `T` that is committed only where it is written.
    static func reserveZeroed<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = (count * MemoryLayout<T>.stride + 4095) & ~4095
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let p, p != MAP_FAILED else {
            // The RAM itself was reserved the same way; this is a small fraction of it.
            fatalError("cannot reserve \(bytes >> 10) KiB for the code cache: \(String(cString: strerror(errno)))")
        }
        return p.bindMemory(to: T.self, capacity: count)
    }
    static func release<T>(_ p: UnsafeMutablePointer<T>, count: Int) {
        munmap(UnsafeMutableRawPointer(p), (count * MemoryLayout<T>.stride + 4095) & ~4095)
    }

    public init(ram: GuestRAM) {
        self.ram = ram
        pageCount = Int(ram.size >> 12)
        precondition(pageCount <= Int(Int32.max), "RAM too large for the code cache")
        pages = CodeCache.reserveZeroed(UnsafeMutablePointer<DOp>?.self, count: pageCount)
        hasCode = CodeCache.reserveZeroed(Bool.self, count: pageCount)
        hot = CodeCache.reserveZeroed(UnsafeMutablePointer<UInt8>?.self, count: pageCount)
        copies = CodeCache.reserveZeroed(UnsafeMutableRawPointer?.self, count: pageCount)
        checkedEpoch = CodeCache.reserveZeroed(UInt32.self, count: pageCount)
        ram.codeWriteHook = { [unowned self] ppn in self.invalidate(physicalPage: ppn) }
        jit = JIT()
    }
    deinit {
        for i in opsPageList { pages[Int(i)]?.deallocate() }
        for i in hotPageList { hot[Int(i)]?.deallocate() }
        for i in opsPageList { copies[Int(i)]?.deallocate() }
        CodeCache.release(copies, count: pageCount)
        CodeCache.release(checkedEpoch, count: pageCount)
        CodeCache.release(pages, count: pageCount)
        CodeCache.release(hasCode, count: pageCount)
        CodeCache.release(hot, count: pageCount)
    }

    /// Ops for the RAM page containing physical address `pa` (must be in RAM).
    @inline(__always) func ops(forRAMPage index: Int) -> UnsafeMutablePointer<DOp> {
        if let p = pages[index] { return p }
        return allocateOps(ramPage: index)
    }
    @inline(never) func allocateOps(ramPage index: Int) -> UnsafeMutablePointer<DOp> {
        let p = UnsafeMutablePointer<DOp>.allocate(capacity: CodeCache.opsPerPage)
        p.initialize(repeating: .empty, count: CodeCache.opsPerPage)
        pages[index] = p
        opsPageList.append(Int32(index))
        return p
    }

    @inline(__always) func hotness(ramPage index: Int) -> UnsafeMutablePointer<UInt8> {
        if let h = hot[index] { return h }
        return allocateHotness(ramPage: index)
    }
    @inline(never) func allocateHotness(ramPage index: Int) -> UnsafeMutablePointer<UInt8> {
        let h = UnsafeMutablePointer<UInt8>.allocate(capacity: CodeCache.opsPerPage)
        h.initialize(repeating: 0, count: CodeCache.opsPerPage)
        hot[index] = h
        hotPageList.append(Int32(index))
        return h
    }
    func resetHotness(ramPage index: Int) { hot[index]?.update(repeating: 0, count: CodeCache.opsPerPage) }
    func resetAllHotness() { for i in hotPageList { resetHotness(ramPage: Int(i)) } }

    /// Where to decode the RAM page (at `host`) from: the page itself, or a private cache's copy of it.
    @inline(__always) func fetchBytes(ramPage index: Int, host: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        guard isPrivate else { return host }
        if let c = copies[index] {
            if checkedEpoch[index] != epoch {
                checkedEpoch[index] = epoch
                if hasCode[index] && memcmp(c, host, 4096) != 0 { discardOps(ramPage: index) }
            }
            return c
        }
        let c = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 64)
        c.copyMemory(from: host, byteCount: 4096)
        copies[index] = c
        checkedEpoch[index] = epoch
        return c
    }

    /// Called before the first op of a page is decoded: from now on stores to it must take the slow
    /// path; a private cache instead copies the page, which it decodes from until FENCE.I finds it changed.
    func markHasCode(ramPage index: Int) {
        guard !hasCode[index] else { return }
        hasCode[index] = true
        if isPrivate {
            _ = ops(forRAMPage: index)   // listed in opsPageList, through which deinit frees the copy
            let host = ram.pointer + index << 12
            if let c = copies[index] { c.copyMemory(from: host, byteCount: 4096) } else { _ = fetchBytes(ramPage: index, host: host) }
            return
        }
        let host = UInt(bitPattern: ram.pointer + index << 12)
        for h in harts { h.dropStoreEntries(hostPage: host) }
    }

    /// Discards decoded ops of a physical page (by page number) if any.
    public func invalidate(physicalPage ppn: UInt64) {
        let basePage = ram.base >> 12
        guard ppn >= basePage, ppn - basePage < UInt64(pageCount) else { return }
        invalidate(ramPage: Int(ppn - basePage))
    }
    /// Every hart write to RAM that misses the store TLB comes here (stores, atomics, A/D updates, HSV),
    /// which also makes it the hart side of the dirty-page log.
    @inline(__always) func invalidate(ramPage index: Int) {
        ram.markDirty(ramPage: index)
        discardOps(ramPage: index)
    }
    @inline(__always) func discardOps(ramPage index: Int) {
        guard hasCode[index], let p = pages[index] else { return }
        hasCode[index] = false
        p.update(repeating: .empty, count: CodeCache.opsPerPage)
        resetHotness(ramPage: index)
        jit?.pageInvalidated(index)
    }
    /// Discards every decoded op (only pages that ever had ops can hold any).
    public func invalidateAll() {
        for i in opsPageList { discardOps(ramPage: Int(i)) }
    }
}
