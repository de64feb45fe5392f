#if canImport(Glibc)
import Glibc
#endif

/// Wakes the emulation thread from its idle sleep when something happens on the host side
/// (console input, a finished disk request). Any thread may `signal`; the emulation thread `wait`s.
public final class HostEvent: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var pending = false

    public init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }
    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    public func signal() {
        pthread_mutex_lock(&mutex)
        pending = true
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    /// Sleeps until `signal` or `nanoseconds` pass; returns immediately if signalled since the last wait.
    public func wait(nanoseconds: UInt64) {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let total = UInt64(ts.tv_nsec) + nanoseconds
        ts.tv_sec += Int(total / 1_000_000_000)
        ts.tv_nsec = Int(total % 1_000_000_000)
        pthread_mutex_lock(&mutex)
        while !pending {
            if pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT { break }
        }
        pending = false
        pthread_mutex_unlock(&mutex)
    }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Starts a joinable pthread running `body`; nil when the thread cannot be created.
func startThread(_ body: @escaping () -> Void) -> pthread_t? {
    let box = Unmanaged.passRetained(ThreadBody(body))
    var t = pthread_t()
    let rc = pthread_create(&t, nil, { arg in
        Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue().run()
        return nil
    }, box.toOpaque())
    if rc != 0 { box.release(); return nil }
    return t
}

/// A FIFO of jobs run in order on one background thread, with completions collected for the
/// emulation thread. Used by devices whose host I/O may block (disk reads, writes, fsync).
final class IOWorker<Job, Result>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var jobs: [Job] = []
    private var jobHead = 0
    private var results: [Result] = []
    private var inFlight = 0
    private var stopping = false
    private var thread: pthread_t?
    private let work: (Job) -> Result
    private let wake: HostEvent?

    init(wake: HostEvent?, work: @escaping (Job) -> Result) {
        self.work = work
        self.wake = wake
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
        thread = startThread { [self] in self.loop() }
    }

    var started: Bool { thread != nil }

    private func loop() {
        while true {
            pthread_mutex_lock(&mutex)
            while jobHead == jobs.count && !stopping { pthread_cond_wait(&cond, &mutex) }
            if jobHead == jobs.count && stopping { pthread_mutex_unlock(&mutex); return }
            let job = jobs[jobHead]
            jobHead += 1
            if jobHead == jobs.count { jobs.removeAll(keepingCapacity: true); jobHead = 0 }
            pthread_mutex_unlock(&mutex)
            let r = work(job)
            pthread_mutex_lock(&mutex)
            results.append(r)
            inFlight -= 1
            pthread_cond_broadcast(&cond)
            pthread_mutex_unlock(&mutex)
            wake?.signal()
        }
    }

    func submit(_ job: Job) {
        pthread_mutex_lock(&mutex)
        jobs.append(job)
        inFlight += 1
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
    }

    /// Finished jobs, in submission order.
    func takeResults() -> [Result] {
        pthread_mutex_lock(&mutex)
        defer { results.removeAll(keepingCapacity: true); pthread_mutex_unlock(&mutex) }
        return results
    }

    /// Blocks until every submitted job has finished.
    func drain() {
        pthread_mutex_lock(&mutex)
        while inFlight > 0 { pthread_cond_wait(&cond, &mutex) }
        pthread_mutex_unlock(&mutex)
    }

    /// Waits up to `nanoseconds` for every submitted job to finish; returns whether they did.
    @discardableResult
    func drain(timeout nanoseconds: UInt64) -> Bool {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let total = UInt64(ts.tv_nsec) + nanoseconds
        ts.tv_sec += Int(total / 1_000_000_000)
        ts.tv_nsec = Int(total % 1_000_000_000)
        pthread_mutex_lock(&mutex)
        while inFlight > 0 {
            if pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT { break }
        }
        let done = inFlight == 0
        pthread_mutex_unlock(&mutex)
        return done
    }

    /// Finishes outstanding jobs and ends the thread.
    func stop() {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
        if let t = thread { pthread_join(t, nil); thread = nil }
    }
}
