import Synchronization
import Platform
import RISCV

/// virtio-console (device ID 3, virtio 1.2 §5.3) without MULTIPORT: a single port that Linux
/// exposes as the console /dev/hvc0. Output goes to `output`; host input is queued with
/// `enqueueInput` (any thread) and delivered into the receive queue by `service`.
public final class VirtioConsole: VirtioDevice {
    public static let receiveQueue = 0
    public static let transmitQueue = 1
    public static let hostQueueLimit = 1 << 20
    /// Largest transmit buffer copied out per request (longer ones are truncated).
    public static let maxTransmit: UInt64 = 1 << 20

    public var deviceID: UInt32 { 3 }
    public var features: UInt64 { 0 }
    public var queueSizes: [UInt16] { [64, 64] }
    private let output: ([UInt8]) -> Void

    private let lock = Mutex(())
    private var hostQueue: [UInt8] = []
    private var driverActive = false

    /// True once a guest driver has brought the device up (DRIVER_OK) and until the device is
    /// reset. Thread-safe: the host input path uses it to fall back to the UART before the
    /// guest has loaded virtio_mmio.
    public var isActive: Bool { lock.withLock { _ in driverActive } }

    public init(output: @escaping ([UInt8]) -> Void) { self.output = output }

    /// Queues bytes typed on the host. Thread-safe.
    public func enqueueInput(_ bytes: [UInt8]) {
        lock.withLock { _ in
            let room = VirtioConsole.hostQueueLimit - hostQueue.count
            if room > 0 { hostQueue.append(contentsOf: bytes.prefix(room)) }
        }
    }

    /// True while host input waits for the guest. Thread-safe.
    public var hasPendingInput: Bool { lock.withLock { _ in !hostQueue.isEmpty } }

    public func configSpace() -> [UInt8] { [UInt8](repeating: 0, count: 12) }   // cols, rows, max_nr_ports, emerg_wr

    public func process(queue index: Int, transport t: VirtioMMIOTransport) {
        if !driverActive { lock.withLock { _ in driverActive = true } }
        switch index {
        case VirtioConsole.transmitQueue:
            while let chain = t.pop(index) {
                let n = Int(min(chain.readableBytes, VirtioConsole.maxTransmit))
                let bytes = t.ram.gather(chain.readable, count: n)
                if !bytes.isEmpty { output(bytes) }
                t.complete(index, chain, written: 0)
            }
            t.signal(index)
        case VirtioConsole.receiveQueue:
            deliverInput(t)
        default:
            break
        }
    }

    public func service(transport t: VirtioMMIOTransport) {
        if hasPendingInput { deliverInput(t) }
    }

    private func deliverInput(_ t: VirtioMMIOTransport) {
        let q = VirtioConsole.receiveQueue
        while hasPendingInput, t.pending(q) > 0, let chain = t.pop(q) {
            let room = Int(min(chain.writableBytes, 1 << 16))
            let bytes: [UInt8] = lock.withLock { _ in
                let n = min(room, hostQueue.count)
                defer { hostQueue.removeFirst(n) }
                return Array(hostQueue.prefix(n))
            }
            let n = t.ram.scatter(chain.writable, bytes)
            t.complete(q, chain, written: UInt32(n))
        }
        t.signal(q)
    }

    public func reset() { lock.withLock { _ in driverActive = false } }
    public func saveState(_ w: inout StateWriter) {
        w.blob(lock.withLock { _ in hostQueue })
    }
    public func loadState(_ r: inout StateReader) throws {
        let b = try r.blob(max: VirtioConsole.hostQueueLimit)
        lock.withLock { _ in hostQueue = b }
    }
}
