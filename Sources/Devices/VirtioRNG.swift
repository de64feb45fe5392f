#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Platform
import RISCV

/// virtio-rng (entropy device, ID 4, virtio 1.2 §5.4): fills each device-writable buffer with
/// bytes from the host CSPRNG (at most `maxBytesPerRequest` per request).
public final class VirtioRNG: VirtioDevice {
    public static let maxBytesPerRequest = 64 << 10
    public var deviceID: UInt32 { 4 }
    public var features: UInt64 { 0 }
    public var queueSizes: [UInt16] { [64] }
    public private(set) var bytesDelivered: UInt64 = 0
    private let source: (UnsafeMutableRawPointer, Int) -> Void

    /// `source` fills a buffer with random bytes (defaults to the host CSPRNG).
    public init(source: ((UnsafeMutableRawPointer, Int) -> Void)? = nil) {
        self.source = source ?? VirtioRNG.hostRandom
    }

    public func configSpace() -> [UInt8] { [] }

    public func process(queue index: Int, transport t: VirtioMMIOTransport) {
        guard index == 0 else { return }
        while let chain = t.pop(0) {
            let want = min(chain.writableBytes, UInt64(VirtioRNG.maxBytesPerRequest))
            let done = t.ram.forEachRange(chain.writable, offset: 0, count: want) { p, addr, n in
                source(p, n)
                t.ram.invalidateCode(addr, UInt64(n))
                return true
            }
            bytesDelivered &+= done
            t.complete(0, chain, written: UInt32(done))
        }
        t.signal(0)
    }

    /// The host's CSPRNG through the standard library (getrandom(2) on Linux), 8 bytes a call.
    public static func hostRandom(_ p: UnsafeMutableRawPointer, _ n: Int) {
        var g = SystemRandomNumberGenerator()
        var i = 0
        while i + 8 <= n { p.storeBytes(of: g.next() as UInt64, toByteOffset: i, as: UInt64.self); i += 8 }
        if i < n {
            let last = g.next() as UInt64
            for k in 0..<(n - i) { p.storeBytes(of: UInt8(truncatingIfNeeded: last >> (8 * UInt64(k))), toByteOffset: i + k, as: UInt8.self) }
        }
    }
}
