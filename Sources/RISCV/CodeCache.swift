import Platform
/// Decoded instructions per physical RAM page, shared by all harts of a machine.
/// A page's ops are never freed while the machine lives: invalidation zeroes them (`Op.undecoded`), so
/// pointers held by a running hart stay valid and simply re-decode.
/// Pages that hold decoded code are never entered into any hart's store TLB; a store to one takes the
/// slow path, which invalidates the page first (self-modifying code, module loading, DMA).
public final class CodeCache {
    public static let opsPerPage = 2048  // one slot per 2-byte parcel of a 4 KiB page
    let ram: GuestRAM
    let pageCount: Int
    let pages: UnsafeMutablePointer<UnsafeMutablePointer<DOp>?>
    let hasCode: UnsafeMutablePointer<Bool>
    /// Per RAM page, how often each slot was reached by an interpreted taken branch (JIT hotness).
    let hot: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    var harts: [Hart] = []  // weakly meaningful: harts live as long as the machine
    /// Translated blocks (nil when disabled or unavailable on this host).
    public internal(set) var jit: JIT?
    public var jitEnabled: Bool {
        get { jit != nil }
        set { if newValue { if jit == nil { jit = JIT() } } else { if jit != nil { invalidateAll(); jit = nil } } }
    }

    public init(ram: GuestRAM) {
        self.ram = ram
        pageCount = Int(ram.size >> 12)
        pages = .allocate(capacity: pageCount)
        pages.initialize(repeating: nil, count: pageCount)
        hasCode = .allocate(capacity: pageCount)
        hasCode.initialize(repeating: false, count: pageCount)
        hot = .allocate(capacity: pageCount)
        hot.initialize(repeating: nil, count: pageCount)
        ram.codeWriteHook = { [unowned self] ppn in self.invalidate(physicalPage: ppn) }
        jit = JIT()
    }
    deinit {
        for i in 0..<pageCount { pages[i]?.deallocate() }
        for i in 0..<pageCount { hot[i]?.deallocate() }
        pages.deallocate(); hasCode.deallocate(); hot.deallocate()
    }

    /// Ops for the RAM page containing physical address `pa` (must be in RAM).
    @inline(__always) func ops(forRAMPage index: Int) -> UnsafeMutablePointer<DOp> {
        if let p = pages[index] { return p }
        let p = UnsafeMutablePointer<DOp>.allocate(capacity: CodeCache.opsPerPage)
        p.initialize(repeating: .empty, count: CodeCache.opsPerPage)
        pages[index] = p
        return p
    }

    @inline(__always) func hotness(ramPage index: Int) -> UnsafeMutablePointer<UInt8> {
        if let h = hot[index] { return h }
        let h = UnsafeMutablePointer<UInt8>.allocate(capacity: CodeCache.opsPerPage)
        h.initialize(repeating: 0, count: CodeCache.opsPerPage)
        hot[index] = h
        return h
    }
    func resetHotness(ramPage index: Int) { hot[index]?.update(repeating: 0, count: CodeCache.opsPerPage) }
    func resetAllHotness() { for i in 0..<pageCount { resetHotness(ramPage: i) } }

    /// Called before the first op of a page is decoded: from now on stores to it must take the slow path.
    func markHasCode(ramPage index: Int) {
        guard !hasCode[index] else { return }
        hasCode[index] = true
        let host = UInt(bitPattern: ram.pointer + index << 12)
        for h in harts { h.dropStoreEntries(hostPage: host) }
    }

    /// Discards decoded ops of a physical page (by page number) if any.
    public func invalidate(physicalPage ppn: UInt64) {
        let basePage = ram.base >> 12
        guard ppn >= basePage, ppn - basePage < UInt64(pageCount) else { return }
        invalidate(ramPage: Int(ppn - basePage))
    }
    @inline(__always) func invalidate(ramPage index: Int) {
        guard hasCode[index], let p = pages[index] else { return }
        hasCode[index] = false
        p.update(repeating: .empty, count: CodeCache.opsPerPage)
        resetHotness(ramPage: index)
        jit?.pageInvalidated(index)
    }
    public func invalidateAll() {
        for i in 0..<pageCount { invalidate(ramPage: i) }
    }
}
