import Synchronization

/// Output commit for a protected VM (Remus): console bytes and network frames the guest produces are
/// held, grouped by the checkpoint whose interval produced them, until the standby has acknowledged
/// that checkpoint, so that nothing the outside world sees is ever undone by a failover.
/// Console bytes are written by `release` (any thread); frames go back to the emulation thread,
/// which sends them from `takeReleasedFrames` (the network backends are not thread-safe).
public final class OutputGate: @unchecked Sendable {
    struct Bucket {
        var epoch: UInt64
        var console: [UInt8] = []
        var frames: [(device: Int, frame: [UInt8])] = []
    }
    struct State {
        var holding = false
        /// Output of the current interval is added to the last bucket.
        var buckets: [Bucket] = [Bucket(epoch: 0)]
        var ready: [[[UInt8]]] = []
        var heldBytes = 0
    }
    private let state = Mutex(State())
    private let consoleOut: @Sendable ([UInt8]) -> Void
    public init(devices: Int, console: @escaping @Sendable ([UInt8]) -> Void) {
        consoleOut = console
        state.withLock { $0.ready = Array(repeating: [], count: devices) }
    }

    /// Bytes (console and frames) held now.
    public var heldBytes: Int { state.withLock { $0.heldBytes } }

    /// Console output (emulation thread).
    public func console(_ bytes: [UInt8]) {
        let direct: Bool = state.withLock { s in
            guard s.holding else { return true }
            s.buckets[s.buckets.count - 1].console += bytes
            s.heldBytes += bytes.count
            return false
        }
        if direct { consoleOut(bytes) }
    }

    /// A frame the guest transmitted on NIC `device`; false when it is not held (send it now).
    public func hold(frame: [UInt8], device: Int) -> Bool {
        state.withLock { s in
            guard s.holding else { return false }
            s.buckets[s.buckets.count - 1].frames.append((device, frame))
            s.heldBytes += frame.count
            return true
        }
    }

    /// Closes the current interval's bucket as checkpoint `epoch` (at the checkpoint's safe point)
    /// and starts holding, if it did not already. Returns the bucket's output: it travels with the
    /// checkpoint, so a standby can let out what a primary that died just after the acknowledgement
    /// never did.
    public func seal(epoch: UInt64) -> (console: [UInt8], frames: [(device: Int, frame: [UInt8])]) {
        state.withLock { s in
            let last = s.buckets.count - 1
            s.buckets[last].epoch = epoch
            s.buckets.append(Bucket(epoch: epoch + 1))
            s.holding = true
            return (s.buckets[last].console, s.buckets[last].frames)
        }
    }

    /// Output a standby lets out on taking over (see `seal`): console bytes now, frames through
    /// `takeReleasedFrames`.
    public func emit(console: [UInt8], frames: [(device: Int, frame: [UInt8])]) {
        state.withLock { s in for f in frames where f.device < s.ready.count { s.ready[f.device].append(f.frame) } }
        if !console.isEmpty { consoleOut(console) }
    }

    /// Lets out everything produced up to checkpoint `epoch` (the standby has it).
    public func release(through epoch: UInt64) {
        letOut { s in
            var out: [Bucket] = []
            while s.buckets.count > 1, s.buckets[0].epoch <= epoch { out.append(s.buckets.removeFirst()) }
            return out
        }
    }

    /// Stops holding: everything held goes out (the VM runs unprotected, or HA was turned off).
    public func open() {
        letOut { s in
            defer { s.buckets = [Bucket(epoch: 0)]; s.holding = false }
            return s.buckets
        }
    }

    /// Lets the buckets `take` removes out: frames to the emulation thread, console bytes now.
    private func letOut(_ take: (inout State) -> [Bucket]) {
        let console: [UInt8] = state.withLock { s in
            var out: [UInt8] = []
            for b in take(&s) {
                out += b.console
                for f in b.frames where f.device < s.ready.count { s.ready[f.device].append(f.frame) }
                s.heldBytes -= b.console.count + b.frames.reduce(0) { $0 + $1.frame.count }
            }
            return out
        }
        if !console.isEmpty { consoleOut(console) }
    }

    /// Released frames for NIC `device`, oldest first (emulation thread).
    public func takeReleasedFrames(device: Int) -> [[UInt8]] {
        state.withLock { s in
            guard device < s.ready.count, !s.ready[device].isEmpty else { return [] }
            defer { s.ready[device].removeAll() }
            return s.ready[device]
        }
    }
}
