#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Wakes the emulation thread from its idle sleep when something happens on the host side
/// (console input, a finished disk request, a pause or stop request). Any thread may `signal`;
/// the emulation thread `wait`s. It is a non-blocking pipe, so a sleep in poll(2) on other host
/// descriptors (libslirp's sockets) can include `descriptor` and wake on it too.
public final class HostEvent: @unchecked Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fatalError("cannot create a pipe for the idle wake-up: \(String(cString: strerror(errno)))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }
    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Readable while a signal is pending.
    public var descriptor: Int32 { readEnd }

    public func signal() {
        var b: UInt8 = 1
        _ = write(writeEnd, &b, 1)   // a full pipe already holds a pending wake-up
    }

    /// Sleeps until `signal` or `nanoseconds` pass; returns immediately if signalled since the last wait.
    public func wait(nanoseconds: UInt64) {
        var p = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(min(nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 == 0 ? 0 : 1), 60_000))
        _ = poll(&p, 1, ms)
        clear()
    }

    /// Consumes pending signals.
    public func clear() {
        var buf = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &buf, buf.count) > 0 {}
    }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Starts a joinable pthread running `body`; nil when the thread cannot be created.
public func startThread(_ body: @escaping () -> Void) -> pthread_t? {
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
public final class IOWorker<Job, Result>: @unchecked Sendable {
    private struct Queue {
        var jobs: [Job] = []
        var head = 0
        var results: [Result] = []
        var inFlight = 0
        var stopping = false
    }
    private let queue = Mutex(Queue())
    private let jobReady = DispatchSemaphore(value: 0)
    private let jobDone = DispatchSemaphore(value: 0)
    private var thread: pthread_t?
    private let work: (Job) -> Result
    private let wake: HostEvent?

    public init(wake: HostEvent?, work: @escaping (Job) -> Result) {
        self.work = work
        self.wake = wake
        thread = startThread { [self] in self.loop() }
    }

    public var started: Bool { thread != nil }

    private func loop() {
        while true {
            jobReady.wait()
            let next: Job? = queue.withLock { q in
                guard q.head < q.jobs.count else { return nil }
                let job = q.jobs[q.head]
                q.head += 1
                if q.head == q.jobs.count { q.jobs.removeAll(keepingCapacity: true); q.head = 0 }
                return job
            }
            guard let job = next else { return }   // woken with nothing queued: stop() was called
            let r = work(job)
            queue.withLock { q in q.results.append(r); q.inFlight -= 1 }
            jobDone.signal()
            wake?.signal()
        }
    }

    public func submit(_ job: Job) {
        queue.withLock { q in q.jobs.append(job); q.inFlight += 1 }
        jobReady.signal()
    }

    /// Finished jobs, in submission order.
    public func takeResults() -> [Result] {
        queue.withLock { q in
            defer { q.results.removeAll(keepingCapacity: true) }
            return q.results
        }
    }

    private var idle: Bool { queue.withLock { $0.inFlight == 0 } }

    /// Blocks until every submitted job has finished.
    public func drain() {
        while !idle { jobDone.wait() }
    }

    /// Waits up to `nanoseconds` for every submitted job to finish; returns whether they did.
    @discardableResult
    public func drain(timeout nanoseconds: UInt64) -> Bool {
        let deadline = DispatchTime.now() + .nanoseconds(Int(min(nanoseconds, UInt64(Int.max))))
        while !idle {
            if jobDone.wait(timeout: deadline) == .timedOut { return idle }
        }
        return true
    }

    /// Finishes outstanding jobs and ends the thread.
    public func stop() {
        guard let t = thread else { return }
        drain()
        queue.withLock { $0.stopping = true }
        jobReady.signal()
        pthread_join(t, nil)
        thread = nil
    }
}
