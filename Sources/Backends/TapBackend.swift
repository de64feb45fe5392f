import Devices
import Platform
#if canImport(Glibc)
import Glibc
#endif
import CSlirp

/// A Linux tap interface (/dev/net/tun, IFF_TAP | IFF_NO_PI). Needs root or CAP_NET_ADMIN unless
/// the interface already exists and belongs to the user.
public final class TapBackend: NetBackend {
    public var deliver: (([UInt8]) -> Void)?
    public let name: String
    private var fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    static let TUNSETIFF: UInt = 0x4004_54ca
    static let IFF_TAP: Int16 = 0x0002
    static let IFF_NO_PI: Int16 = 0x1000

    public init(name: String) throws {
        self.name = name
        fd = try TapBackend.attach(name)
    }

    /// Opens /dev/net/tun and attaches it to the interface `name`; returns the descriptor.
    static func attach(_ name: String) throws -> Int32 {
        let fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            let hint = e == EACCES || e == EPERM ? " (tap networking needs root or CAP_NET_ADMIN; or use --net user)"
                : e == ENOENT || e == ENODEV ? " (is the tun module loaded?)" : ""
            throw NetError("--net tap=\(name): cannot open /dev/net/tun: \(String(cString: strerror(e)))\(hint)")
        }
        // struct ifreq: char ifr_name[16]; short ifr_flags; ... (40 bytes)
        var ifr = [UInt8](repeating: 0, count: 40)
        for (i, b) in name.utf8.prefix(15).enumerated() { ifr[i] = b }
        let flags = UInt16(bitPattern: TapBackend.IFF_TAP | TapBackend.IFF_NO_PI)
        ifr[16] = UInt8(flags & 0xff); ifr[17] = UInt8(flags >> 8)
        let r = ifr.withUnsafeMutableBytes { ioctl(fd, TapBackend.TUNSETIFF, $0.baseAddress!) }
        guard r == 0 else {
            let e = errno
            close(fd)
            let hint = e == EPERM || e == EACCES ? " (creating or attaching a tap interface needs root or CAP_NET_ADMIN; or use --net user)" : ""
            throw NetError("--net tap=\(name): TUNSETIFF failed: \(String(cString: strerror(e)))\(hint)")
        }
        return fd
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Closes the descriptor so another process can attach the interface (a persistent tap stays).
    public func detachHost() {
        if fd >= 0 { close(fd); fd = -1 }
    }
    public func reattachHost() throws {
        if fd < 0 { fd = try TapBackend.attach(name) }
    }

    public func send(_ frame: [UInt8]) {
        _ = frame.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }   // dropped if the queue is full
    }

    public func poll() {
        for _ in 0..<64 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            deliver?(Array(buffer[0..<n]))
        }
    }

    public func wait(nanos: UInt64, wakeDescriptor: Int32) {
        var p = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)]
        _ = matryoshka_ppoll(&p, wakeDescriptor >= 0 ? 2 : 1, Int64(nanos))
        poll()
    }
}
