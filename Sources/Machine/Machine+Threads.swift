import Dispatch
import Foundation
import Platform
import RISCV
import Synchronization

/// One host thread per hart (`threadPerHart`): each hart runs its slices on its own thread, lock-free in
/// RAM (AMOs, LR/SC and A/D updates are host atomics) and with a code cache and TLB that only its own
/// thread touches; device accesses and system instructions (SBI, CSRs) hold the machine lock. This
/// thread services the devices every 250 µs under the same lock and wakes sleeping harts that have an
/// interrupt pending. `run` returns with every hart thread joined: the safe point that pause,
/// snapshots, migration and HA use.
extension Machine {
    final class HartThreadControl: @unchecked Sendable {
        let stop = Atomic<Bool>(false)
        let wakers: [DispatchSemaphore]
        init(harts: Int) { wakers = (0..<harts).map { _ in DispatchSemaphore(value: 0) } }
    }

    /// Wakes `h`'s thread if it sleeps (an IPI, a hart start); any thread.
    public func wake(_ h: Hart) {
        guard let control = threadControl, h.id < control.wakers.count else { return }
        control.wakers[h.id].signal()
    }

    func runThreaded(maxInstructions: UInt64) -> ExitReason {
        let start = TimeBase.hostNanos()
        let lock = HostLock()
        let control = HartThreadControl(harts: harts.count)
        for h in harts {
            h.useOwnCodeCache()
            h.threading = HartThreading(lock: lock)
            h.reservation = .max
        }
        // DMA and device writes no longer reach the harts' code caches: FENCE.I does (see Hart.useOwnCodeCache).
        ram.codeWriteHook = nil
        bus.lock = lock
        threadControl = control
        let group = DispatchGroup()
        for h in harts {
            group.enter()
            let thread = Thread { [unowned self] in
                self.hartThread(h, control: control, lock: lock)
                group.leave()
            }
            thread.name = "hart\(h.id)"
            thread.start()
        }

        var result: ExitReason?
        var rounds: UInt64 = 0
        while result == nil {
            lock.lock()
            serviceDevices()
            rounds &+= 1
            if rounds & 1023 == 0 { reportProblems() }
            if let reason = exitReason { result = reason }
            else if stats.instructions >= maxInstructions { result = .error("instruction limit reached") }
            else if !harts.contains(where: { $0.running }) { result = .error("all harts stopped") }
            lock.unlock()
            if result != nil { break }
            if interruptRequested.load(ordering: .relaxed), interruptRequested.exchange(false, ordering: .acquiring) {
                result = .interrupted
                break
            }
            for h in harts where h.threading?.parked.load(ordering: .relaxed) == true && h.running && h.mip & h.mie != 0 {
                control.wakers[h.id].signal()
            }
            sleepForHostEvents(nanos: 250_000)
        }

        control.stop.store(true, ordering: .sequentiallyConsistent)
        for w in control.wakers { w.signal() }
        group.wait()
        for h in harts {
            h.carryOutRequests()
            h.threading = nil
        }
        bus.lock = nil
        threadControl = nil
        reportProblems()
        flushConsole()
        stats.hostSeconds += Double(TimeBase.hostNanos() - start) / 1e9
        return result ?? .stopped
    }

    private func hartThread(_ h: Hart, control: HartThreadControl, lock: HostLock) {
        let waker = control.wakers[h.id]
        let t = h.threading!
        var dueWithoutWaking = false
        while !control.stop.load(ordering: .relaxed) {
            if !h.running || h.waitingForInterrupt || h.stopRequested {
                // Asleep: WFI, stopped (HSM) or the machine is stopping. Wakes on a signal (an IPI, a
                // device interrupt the device thread raised, a hart start), at the next timer deadline
                // (its own Sstc timers, the CLINT's), or after 2 ms at most.
                t.parked.store(true, ordering: .sequentiallyConsistent)
                h.carryOutRequests()
                lock.lock()
                let deadline = h.running ? Swift.min(clint.nextDeadline, supervisorTimerDeadline(h)) : .max
                lock.unlock()
                let ns = Swift.min(time.nanosUntil(deadline), 2_000_000)
                if ns > 0 || dueWithoutWaking {
                    // (Due again after running: the interrupt is not enabled in mie, WFI sleeps on.)
                    _ = waker.wait(timeout: .now() + .nanoseconds(Int(ns > 0 ? ns : 500_000)))
                }
                dueWithoutWaking = ns == 0
                t.parked.store(false, ordering: .sequentiallyConsistent)
                h.carryOutRequests()
                if !h.running || h.stopRequested { continue }
            }
            let n = h.run(sliceLength)
            if h.spinning {
                // Harts may outnumber host cores: the lock holder the guest spins on may need this one.
                h.spinning = false
                sched_yield()
            }
            if n > 0 {
                lock.lock()
                stats.instructions &+= UInt64(n)
                lock.unlock()
            }
        }
        // Stopped for good: harts still waiting for this one's fences stop waiting (it carries them out
        // after the join, before anything runs again).
        t.parked.store(true, ordering: .sequentiallyConsistent)
    }
}
