import Synchronization

/// What a disk's writes did since the log was last taken, in order: the hot standby replays it on
/// its own copy of the disk at each checkpoint (see VMM's HA). Off (and free) unless started.
public final class DiskWriteLog: @unchecked Sendable {
    public enum Entry: Sendable {
        case write(offset: UInt64, bytes: [UInt8])
        /// Reads back as zeros afterwards (write-zeroes, and discard: its contents are unspecified).
        case zero(offset: UInt64, length: UInt64)
    }
    private let enabled = Atomic<Bool>(false)
    private let entries = Mutex<[Entry]>([])
    public init() {}

    public var isOn: Bool { enabled.load(ordering: .relaxed) }

    public func start() {
        entries.withLock { $0.removeAll() }
        enabled.store(true, ordering: .releasing)
    }
    public func stop() {
        enabled.store(false, ordering: .releasing)
        entries.withLock { $0.removeAll() }
    }
    /// The entries since the last take (the log goes on).
    public func take() -> [Entry] { entries.withLock { e in defer { e.removeAll() }; return e } }

    func recordWrite(_ pieces: [UnsafeRawBufferPointer], at offset: UInt64) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for p in pieces { bytes.append(contentsOf: p) }
        entries.withLock { $0.append(.write(offset: offset, bytes: bytes)) }
    }
    func recordZero(_ offset: UInt64, _ length: UInt64) {
        entries.withLock { $0.append(.zero(offset: offset, length: length)) }
    }
}
