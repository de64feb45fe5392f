import Platform
import Synchronization

/// What a hart needs when every hart runs on its own host thread (`Machine.runThreaded`): the machine
/// lock around system instructions, and requests that other harts post and this hart carries out on
/// its own thread at its next round (remote SFENCE/HFENCE and FENCE.I through the SBI), since its TLB
/// and code cache are only ever touched by its own thread.
public final class HartThreading: @unchecked Sendable {
    public let lock: HostLock
    /// Request bits (`flushTranslations`, `flushCode`) not yet carried out, and the number of requests
    /// posted: changed together, so a hart that takes the bits knows exactly which tickets they cover.
    let queue = Mutex<(bits: UInt32, posted: UInt64)>((0, 0))
    /// Whether `queue` holds bits: the cheap check between rounds.
    let requests = Atomic<UInt32>(0)
    /// The last ticket carried out.
    let done = Atomic<UInt64>(0)
    /// True while the hart's thread sleeps (WFI or stopped): it carries out requests before it runs again.
    public let parked = Atomic<Bool>(false)

    public static let flushTranslations: UInt32 = 1
    public static let flushCode: UInt32 = 2

    public init(lock: HostLock) { self.lock = lock }
}

extension Hart {
    /// Posts `bits` to this hart (from another hart's thread); returns the ticket to wait for.
    public func postRequest(_ bits: UInt32) -> UInt64 {
        guard let t = threading else { return 0 }
        return t.queue.withLock { q in
            q.bits |= bits
            q.posted &+= 1
            t.requests.store(q.bits, ordering: .sequentiallyConsistent)
            return q.posted
        }
    }

    /// Whether the hart has carried out the request with `ticket`, or sleeps and will before it runs.
    public func requestSettled(_ ticket: UInt64) -> Bool {
        guard let t = threading else { return true }
        return t.done.load(ordering: .acquiring) >= ticket || t.parked.load(ordering: .acquiring) || !running
    }

    /// Carries out posted requests (on this hart's own thread, between rounds).
    public func carryOutRequests() {
        guard let t = threading else { return }
        let (bits, covered) = t.queue.withLock { q in
            let taken = (q.bits, q.posted)
            q.bits = 0
            t.requests.store(0, ordering: .sequentiallyConsistent)
            return taken
        }
        carryOut(bits)
        t.done.store(covered, ordering: .releasing)
    }

    /// The fences `bits` name, on this hart (its own thread): every translation, or its code cache.
    public func carryOut(_ bits: UInt32) {
        if bits & HartThreading.flushTranslations != 0 { flushTLB(); if hypervisorExtension { flushGStage() } }
        if bits & HartThreading.flushCode != 0 { fenceInstructions() }
    }
}

extension Hart {
    /// FENCE.I with a code cache of its own: a new epoch, and no fetch translation survives, so the
    /// next fetch from every page goes through fetchFill and compares the page with its copy.
    public func fenceInstructions() {
        code.epoch &+= 1
        for slot in 0..<Hart.tlbSlots { forEachFilledIndex(slot) { tlbFetch[$0] = FetchEntry() } }
    }

    /// Gives the hart a code cache of its own (threads per hart: only its thread ever writes it).
    public func useOwnCodeCache() {
        guard !code.isPrivate else { return }
        let shared = code
        let own = CodeCache(ram: ram)
        own.isPrivate = true
        own.jitEnabled = shared.jitEnabled
        own.jit?.strongFences = true
        shared.harts.removeAll { $0 === self }
        code = own
        own.harts = [self]
        flushAllTLB()   // fetch entries point at the old cache's ops
    }
}
