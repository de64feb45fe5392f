#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Platform
import RISCV

/// virtio-rng (entropy device, ID 4, virtio 1.2 §5.4): fills each device-writable buffer with
/// bytes from the host's getrandom(2) (at most `maxBytesPerRequest` per request).
public final class VirtioRNG: VirtioDevice {
    public static let maxBytesPerRequest = 64 << 10
    public var deviceID: UInt32 { 4 }
    public var features: UInt64 { 0 }
    public var queueSizes: [UInt16] { [64] }
    public private(set) var bytesDelivered: UInt64 = 0
    private let source: (UnsafeMutableRawPointer, Int) -> Void

    /// `source` fills a buffer with random bytes (defaults to getrandom).
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

    private typealias GetrandomFn = @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Int
    private static let getrandomFn: GetrandomFn? = {
        #if os(Linux)
        guard let h = dlopen(nil, RTLD_NOW), let sym = dlsym(h, "getrandom") else { return nil }
        return unsafeBitCast(sym, to: GetrandomFn.self)
        #else
        return nil
        #endif
    }()

    /// getrandom(2), falling back to /dev/urandom, then to arc4random where available.
    public static func hostRandom(_ p: UnsafeMutableRawPointer, _ n: Int) {
        var done = 0
        if let f = getrandomFn {
            while done < n {
                let r = f(p + done, n - done, 0)
                if r < 0 { if errno == EINTR { continue }; break }
                done += r
            }
        }
        if done < n {
            let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                while done < n {
                    let r = read(fd, p + done, n - done)
                    if r <= 0 { if r < 0 && errno == EINTR { continue }; break }
                    done += r
                }
                close(fd)
            }
        }
        if done < n {
            var g = SystemRandomNumberGenerator()
            for i in done..<n { p.storeBytes(of: UInt8.random(in: 0...255, using: &g), toByteOffset: i, as: UInt8.self) }
        }
    }
}
