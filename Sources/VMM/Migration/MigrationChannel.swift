#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Foundation
import Platform
import Synchronization

/// Where a migration stream goes: `unix:PATH` or `tcp:HOST:PORT`.
public enum MigrationAddress: Equatable, Sendable, CustomStringConvertible {
    case unix(String)
    case tcp(host: String, port: UInt16)

    public static func parse(_ text: String) throws -> MigrationAddress {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty, path.utf8.count < 108 else {
                throw VMError.badRequest("'\(text)': a unix: address needs a socket path shorter than 108 bytes")
            }
            return .unix(path)
        }
        if text.hasPrefix("tcp:") {
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
                throw VMError.badRequest("'\(text)': a tcp: address is tcp:HOST:PORT (e.g. tcp:127.0.0.1:4444)")
            }
            var host = String(rest[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return .tcp(host: host.isEmpty ? "0.0.0.0" : host, port: port)
        }
        throw VMError.badRequest("'\(text)': a migration address is unix:PATH or tcp:HOST:PORT")
    }

    public var description: String {
        switch self {
        case .unix(let p): return "unix:\(p)"
        case .tcp(let h, let p): return "tcp:\(h):\(p)"
        }
    }

    /// A socket address for this endpoint.
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t, Int32) throws -> T) throws -> T {
        switch self {
        case .unix(let path):
            var a = sockaddr_un()
            a.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &a.sun_path) { dst in
                for (i, b) in path.utf8.enumerated() where i < dst.count - 1 { dst[i] = b }
            }
            return try withUnsafePointer(to: &a) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_un>.size), AF_UNIX) }
            }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var res: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &res)
            guard rc == 0, let r = res else {
                throw VMError.badRequest("\(self): cannot resolve '\(host)': \(String(cString: gai_strerror(rc)))")
            }
            defer { freeaddrinfo(res) }
            return try body(r.pointee.ai_addr, r.pointee.ai_addrlen, r.pointee.ai_family)
        }
    }
}

/// Record types of the migration stream. Source to destination below 0x80, replies above.
enum MigrationRecord: UInt8 {
    /// JSON `MigrationHello`: what the destination must be able to run.
    case hello = 1
    /// u32 count, then count × (u64 page index, 4096 bytes).
    case pages = 2
    /// u64 first page, u64 count: pages that hold zeros.
    case zeroRun = 3
    /// The machine state: JSON `MigrationSwitch` length-prefixed, then the state sections (snapshot encoding).
    case state = 4
    /// Post-copy: every page has been pushed.
    case allPagesSent = 5
    /// The source gives up (message).
    case abort = 6
    /// HA seeding: u32 disk index, u64 offset, the bytes there.
    case diskData = 7
    /// HA: u64 checkpoint number; what follows up to `checkpointEnd` is one checkpoint.
    case checkpointBegin = 8
    /// HA, in a checkpoint: u32 disk index, u8 kind (0 write, 1 zeros), u64 offset, u64 length, the bytes of a write.
    case diskWrites = 9
    /// HA: the checkpoint's machine state (as `state`); the standby applies the whole checkpoint now.
    case checkpointEnd = 10
    /// HA, in a checkpoint: the output its interval produced (the console bytes as a blob, then a
    /// u64 frame count and each frame as u32 NIC and a blob; blobs are a u64 length and the bytes).
    case output = 11
    /// HA: u64 checkpoint number whose output the primary lets out now.
    case released = 12

    /// Destination: setup checked, send pages.
    case ready = 0x81
    /// Destination: refused or failed (message); the source carries on.
    case refused = 0x82
    /// Destination, post-copy: u64 page index the guest is waiting for.
    case request = 0x83
    /// Destination: the guest runs here now.
    case running = 0x84
    /// Destination, post-copy: every page arrived.
    case allPagesReceived = 0x85
    /// Standby: u64 checkpoint number applied.
    case ack = 0x86
}

/// The migration stream over a socket: a header ("MTRYMIGR", format version), then records
/// `u8 type, 3 zero bytes, u32 length, payload, u32 CRC-32 of all before it`. Sends may come from
/// several threads (post-copy answers page requests while pushing); receives from one.
final class MigrationChannel: @unchecked Sendable {
    static let magic = Array("MTRYMIGR".utf8)
    static let formatVersion: UInt32 = 1
    static let maxRecord = 64 << 20

    let fd: Int32
    let peer: String
    private let sendLock = Mutex(())
    private var buffer: UnsafeMutableRawPointer
    private var bufferSize = 1 << 20
    private var head = 0, tail = 0
    /// A TLS tunnel this channel's socket leads into (kept alive with it).
    var tunnel: AnyObject?
    /// Bytes written so far (all records).
    let bytesSent = Atomic<UInt64>(0)

    init(fd: Int32, peer: String) {
        self.fd = fd
        self.peer = peer
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(4))
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(4))
        var size: Int32 = 4 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(4))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(4))
    }
    deinit { close(fd); buffer.deallocate() }

    /// Connects to a listening destination.
    static func connect(_ address: MigrationAddress) throws -> MigrationChannel {
        let fd = try address.withSockaddr { sa, len, family -> Int32 in
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw VMError.failed("\(address): socket: \(String(cString: strerror(errno)))") }
            if Glibc.connect(fd, sa, len) != 0 {
                let why = String(cString: strerror(errno))
                close(fd)
                throw VMError.failed("\(address): cannot connect to the destination: \(why) (is `matryoshka run --incoming \(address)` running there?)")
            }
            return fd
        }
        return MigrationChannel(fd: fd, peer: address.description)
    }

    /// Shuts the socket down both ways: blocked sends and receives on other threads return at once.
    func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    /// Sets how long a receive may wait (0: forever).
    func setReceiveTimeout(seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    // MARK: Sending

    func sendHeader() throws {
        var w = StateWriter()
        for b in Self.magic { w.u8(b) }
        w.u32(Self.formatVersion)
        try sendLock.withLock { _ in try w.bytes.withUnsafeBytes { try writeAll($0) } }
    }

    /// Sends one record whose payload is the concatenation of `parts`.
    func send(_ type: MigrationRecord, _ parts: [UnsafeRawBufferPointer]) throws {
        let length = parts.reduce(0) { $0 + $1.count }
        precondition(length <= Self.maxRecord)
        var header: (UInt32, UInt32) = (UInt32(type.rawValue).littleEndian, UInt32(length).littleEndian)
        try sendLock.withLock { _ in
            try withUnsafeBytes(of: &header) { h in
                var crc = crc32(0, h.baseAddress!.assumingMemoryBound(to: Bytef.self), 8)
                for p in parts where p.count > 0 { crc = crc32(crc, p.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(p.count)) }
                var c = UInt32(truncatingIfNeeded: crc).littleEndian
                try writeAll(h)
                for p in parts { try writeAll(p) }
                try withUnsafeBytes(of: &c) { try writeAll($0) }
            }
        }
    }

    func send(_ type: MigrationRecord, bytes: [UInt8] = []) throws {
        try bytes.withUnsafeBytes { try send(type, [$0]) }
    }

    func send(_ type: MigrationRecord, message: String) throws { try send(type, bytes: Array(message.utf8)) }

    private func writeAll(_ p: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < p.count {
            let n = Glibc.send(fd, p.baseAddress! + done, p.count - done, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                throw VMError.failed("\(peer): the connection failed while sending: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        bytesSent.add(UInt64(p.count), ordering: .relaxed)
    }

    // MARK: Receiving

    /// Reads exactly `count` bytes into `dst`.
    private func readExactly(_ dst: UnsafeMutableRawPointer, _ count: Int) throws {
        var done = 0
        while done < count {
            if head == tail {
                head = 0
                let n = recv(fd, buffer, bufferSize, 0)
                if n == 0 { throw ChannelClosed(peer: peer, midRecord: done > 0) }
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK { throw VMError.failed("\(peer): nothing received within the time limit") }
                    throw VMError.failed("\(peer): the connection failed while receiving: \(String(cString: strerror(errno)))")
                }
                tail = n
            }
            let k = min(tail - head, count - done)
            (dst + done).copyMemory(from: buffer + head, byteCount: k)
            head += k
            done += k
        }
    }

    func receiveHeader() throws {
        var h = [UInt8](repeating: 0, count: 12)
        try h.withUnsafeMutableBytes { try readExactly($0.baseAddress!, 12) }
        guard Array(h[0..<8]) == Self.magic else {
            throw VMError.badRequest("\(peer): not a Matryoshka migration stream (bad magic)")
        }
        let v = UInt32(h[8]) | UInt32(h[9]) << 8 | UInt32(h[10]) << 16 | UInt32(h[11]) << 24
        guard v == Self.formatVersion else {
            throw VMError.badRequest("\(peer): migration stream format version \(v); this build speaks version \(Self.formatVersion) (use the same Matryoshka on both ends)")
        }
    }

    /// The next record; throws on a checksum mismatch, an unknown type or a closed connection.
    func receive() throws -> (MigrationRecord, [UInt8]) {
        var header: (UInt32, UInt32) = (0, 0)
        try withUnsafeMutableBytes(of: &header) { try readExactly($0.baseAddress!, 8) }
        let rawType = UInt32(littleEndian: header.0), length = Int(UInt32(littleEndian: header.1))
        guard rawType <= 0xff, let type = MigrationRecord(rawValue: UInt8(rawType)), length <= Self.maxRecord else {
            throw VMError.badRequest("\(peer): corrupt migration stream (record type \(rawType), length \(length))")
        }
        var payload = [UInt8](repeating: 0, count: length)
        if length > 0 { try payload.withUnsafeMutableBytes { try readExactly($0.baseAddress!, length) } }
        var sent: UInt32 = 0
        try withUnsafeMutableBytes(of: &sent) { try readExactly($0.baseAddress!, 4) }
        var crc = withUnsafeBytes(of: &header) { crc32(0, $0.baseAddress!.assumingMemoryBound(to: Bytef.self), 8) }
        crc = payload.withUnsafeBytes { length > 0 ? crc32(crc, $0.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(length)) : crc }
        guard UInt32(truncatingIfNeeded: crc) == UInt32(littleEndian: sent) else {
            throw VMError.badRequest("\(peer): checksum mismatch in a migration record (type \(type), \(length) bytes): the stream is corrupt")
        }
        return (type, payload)
    }
}

/// The other end closed the connection.
struct ChannelClosed: Error, CustomStringConvertible {
    let peer: String
    let midRecord: Bool
    var description: String { "\(peer): the connection closed\(midRecord ? " in the middle of a record" : "")" }
}

/// A listening socket for `--incoming`.
final class MigrationListener {
    let fd: Int32
    let address: MigrationAddress

    init(_ address: MigrationAddress) throws {
        self.address = address
        if case .unix(let path) = address {
            var st = stat()
            if lstat(path, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFSOCK else {
                    throw VMError.badRequest("\(path): exists and is not a socket; choose another --incoming path")
                }
                unlink(path)
            }
        }
        fd = try address.withSockaddr { sa, len, family -> Int32 in
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw VMError.failed("\(address): socket: \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
            guard bind(fd, sa, len) == 0, listen(fd, 1) == 0 else {
                let why = String(cString: strerror(errno))
                close(fd)
                throw VMError.badRequest("\(address): cannot listen there: \(why)")
            }
            return fd
        }
    }
    deinit {
        close(fd)
        if case .unix(let path) = address { unlink(path) }
    }

    /// Waits for the source to connect.
    func accept() throws -> MigrationChannel {
        while true {
            let c = Glibc.accept(fd, nil, nil)
            if c >= 0 { _ = fcntl(c, F_SETFD, FD_CLOEXEC); return MigrationChannel(fd: c, peer: "source") }
            if errno == EINTR { continue }
            throw VMError.failed("\(address): accept failed: \(String(cString: strerror(errno)))")
        }
    }
}
