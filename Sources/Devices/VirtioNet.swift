#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Platform
import RISCV

/// Where a virtio-net device's frames go: user-mode networking (libslirp), a tap interface, or a
/// test double. Every method is called on the emulation thread.
public protocol NetBackend: AnyObject {
    /// Set by the device: the backend calls it with each Ethernet frame for the guest.
    var deliver: (([UInt8]) -> Void)? { get set }
    /// An Ethernet frame the guest transmitted (no virtio header).
    func send(_ frame: [UInt8])
    /// Handles host-side events (sockets, timers) without blocking.
    func poll()
    /// Blocks up to `nanos` waiting for host-side network events, then handles them
    /// (the machine calls this instead of sleeping when every hart is idle). Returns early when
    /// `wakeDescriptor` becomes readable (a host request such as pause or stop).
    func wait(nanos: UInt64, wakeDescriptor: Int32)
    /// Errors the backend reported since the last call (libslirp's guest_error), oldest first.
    func takeErrors() -> [String]
    /// The backend's own state for a snapshot (libslirp's DHCP leases and IP ids); empty when it has none.
    func saveState() -> [UInt8]
    /// Restores what `saveState` returned (into a freshly opened backend).
    func loadState(_ bytes: [UInt8]) throws
    /// Live migration: lets go of host resources another process must take at switch-over (slirp's
    /// forwarded ports, the tap interface), and takes them back (`reattachHost`) if that fails.
    func detachHost()
    func reattachHost() throws
}

extension NetBackend {
    public func detachHost() {}
    public func reattachHost() throws {}
    public func takeErrors() -> [String] { [] }
    public func saveState() -> [UInt8] { [] }
    public func loadState(_ bytes: [UInt8]) throws {
        guard bytes.isEmpty else { throw StateError("network backend state present, but this backend keeps none") }
    }
}

/// A backend that drops everything (a link with nothing on the other end).
public final class NullNetBackend: NetBackend {
    public var deliver: (([UInt8]) -> Void)?
    public init() {}
    public func send(_ frame: [UInt8]) {}
    public func poll() {}
    public func wait(nanos: UInt64, wakeDescriptor: Int32) {
        var p = pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)
        _ = Glibc.poll(&p, 1, Int32(min(nanos / 1_000_000, 60_000)))
    }
}

public enum VirtioNetFeature {
    public static let mac: UInt64 = 1 << 5
    public static let status: UInt64 = 1 << 16
}

/// virtio-net (device ID 1, virtio 1.2 §5.1): one receive queue (0) and one transmit queue (1),
/// the 12-byte `virtio_net_hdr` (VERSION_1 is mandatory on this transport, so `num_buffers` is
/// always present), a MAC address and link status in the configuration space, no offloads.
public final class VirtioNet: VirtioDevice {
    public static let receiveQueue = 0
    public static let transmitQueue = 1
    public static let headerSize = 12
    /// Largest frame accepted from the guest (no GSO: an MTU-sized frame plus slack).
    public static let maxFrame = 65_535
    /// Frames waiting for guest receive buffers; more are dropped (TCP recovers).
    public static let pendingLimit = 512
    /// Minimum host time between backend polls while the guest is running.
    public static let pollInterval: UInt64 = 200_000

    public var deviceID: UInt32 { 1 }
    public var features: UInt64 { VirtioNetFeature.mac | VirtioNetFeature.status }
    public var queueSizes: [UInt16] { [256, 256] }

    public let mac: [UInt8]
    public let backend: NetBackend
    public private(set) var framesReceived: UInt64 = 0     // delivered to the guest
    public private(set) var framesTransmitted: UInt64 = 0  // sent by the guest
    public private(set) var framesDropped: UInt64 = 0

    private var pending: [[UInt8]] = []
    private var pendingHead = 0
    private var active = false
    private var lastPoll: UInt64 = 0
    private var pollSoon = false

    public init(backend: NetBackend, mac: [UInt8] = NetSpec.defaultMAC) {
        precondition(mac.count == 6, "a MAC address has 6 bytes")
        self.mac = mac
        self.backend = backend
        backend.deliver = { [unowned self] frame in self.enqueue(frame) }
    }

    /// Number of frames waiting for receive buffers.
    public var pendingFrames: Int { pending.count - pendingHead }

    // MARK: State

    public func saveState(_ w: inout StateWriter) {
        w.section("virtio-net", version: 1) { w in
            w.bool(active)
            w.u64(UInt64(pendingFrames))
            for f in pending[pendingHead...] { w.blob(f) }
            w.u64(framesReceived); w.u64(framesTransmitted); w.u64(framesDropped)
            w.blob(backend.saveState())
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        try r.section("virtio-net", versions: 1...1) { r, _ in
            let a = try r.bool()
            let n = try r.count(max: VirtioNet.pendingLimit)
            var frames: [[UInt8]] = []
            for _ in 0..<n { frames.append(try r.blob(max: VirtioNet.maxFrame)) }
            let rx = try r.u64(), tx = try r.u64(), dropped = try r.u64()
            try backend.loadState(try r.blob(max: 16 << 20))
            active = a; pending = frames; pendingHead = 0
            framesReceived = rx; framesTransmitted = tx; framesDropped = dropped
        }
    }

    /// mac[6], status (VIRTIO_NET_S_LINK_UP), max_virtqueue_pairs.
    public func configSpace() -> [UInt8] { mac + [1, 0, 1, 0] }

    private func enqueue(_ frame: [UInt8]) {
        guard active, frame.count >= 14, frame.count <= VirtioNet.maxFrame else { framesDropped &+= 1; return }
        if pendingFrames >= VirtioNet.pendingLimit { framesDropped &+= 1; return }
        pending.append(frame)
    }

    public func process(queue index: Int, transport t: VirtioMMIOTransport) {
        active = true
        switch index {
        case VirtioNet.transmitQueue: transmit(t)
        case VirtioNet.receiveQueue: deliverPending(t)
        default: break
        }
    }

    public func service(transport t: VirtioMMIOTransport) {
        active = true
        if let g = outputGate { for f in g.takeReleasedFrames(device: gateIndex) { backend.send(f) } }
        let now = VirtioNet.monotonicNanos()
        if pollSoon || now &- lastPoll >= VirtioNet.pollInterval {
            pollSoon = false
            lastPoll = now
            backend.poll()
        }
        if pendingFrames > 0 { deliverPending(t) }
    }

    /// Idle wait (every hart waits for an interrupt): sleeps in the backend so that network
    /// events wake the machine early. Frames received are delivered by the next `service`.
    /// Errors the backend reported since the last call.
    public func backendErrors() -> [String] { backend.takeErrors() }

    /// Output commit (HA): transmitted frames wait here until the standby has the checkpoint.
    public var outputGate: OutputGate?
    /// This NIC's index in the gate.
    public var gateIndex = 0

    public func waitForHostEvents(nanos: UInt64, wakeDescriptor: Int32) {
        backend.wait(nanos: nanos, wakeDescriptor: wakeDescriptor)
        lastPoll = VirtioNet.monotonicNanos()
    }

    private func transmit(_ t: VirtioMMIOTransport) {
        let q = VirtioNet.transmitQueue
        while let chain = t.pop(q) {
            let total = chain.readableBytes
            let h = UInt64(VirtioNet.headerSize)
            if total >= h + 14 && total - h <= UInt64(VirtioNet.maxFrame) {
                let frame = t.ram.gather(chain.readable, offset: h, count: Int(total - h))
                framesTransmitted &+= 1
                if let g = outputGate, g.hold(frame: frame, device: gateIndex) {} else { backend.send(frame) }
            } else {
                framesDropped &+= 1
            }
            t.complete(q, chain, written: 0)
        }
        t.signal(q)
        pollSoon = true
        // Replies produced synchronously (ARP, DHCP…) go out right away.
        if pendingFrames > 0 { deliverPending(t) }
    }

    private func deliverPending(_ t: VirtioMMIOTransport) {
        let q = VirtioNet.receiveQueue
        var delivered = false
        while pendingHead < pending.count, let chain = t.pop(q) {
            let frame = pending[pendingHead]
            pendingHead += 1
            let need = UInt64(VirtioNet.headerSize + frame.count)
            guard chain.writableBytes >= need else {
                // Buffer too small for the frame: drop the frame and hand the buffer back empty.
                framesDropped &+= 1
                t.complete(q, chain, written: 0)
                delivered = true
                continue
            }
            var header = [UInt8](repeating: 0, count: VirtioNet.headerSize)
            header[10] = 1   // num_buffers
            t.ram.scatter(chain.writable, header)
            t.ram.scatter(chain.writable, offset: UInt64(VirtioNet.headerSize), frame)
            t.complete(q, chain, written: UInt32(need))
            framesReceived &+= 1
            delivered = true
        }
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true); pendingHead = 0
        } else if pendingHead > 64 {
            pending.removeFirst(pendingHead); pendingHead = 0
        }
        if delivered { t.signal(q) }
    }

    public func reset() {
        active = false
        pending.removeAll(); pendingHead = 0
    }

    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

// MARK: - Configuration

public struct NetError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A `hostfwd=` rule: connections to hostAddr:hostPort on the host reach guestAddr:guestPort.
public struct HostForward: Equatable, Sendable, Codable {
    public var udp = false
    public var hostAddress = ""     // empty: every host address
    public var hostPort: UInt16
    public var guestAddress = ""    // empty: the guest's DHCP address (10.0.2.15)
    public var guestPort: UInt16

    public init(udp: Bool = false, hostAddress: String = "", hostPort: UInt16, guestAddress: String = "", guestPort: UInt16) {
        self.udp = udp; self.hostAddress = hostAddress; self.hostPort = hostPort
        self.guestAddress = guestAddress; self.guestPort = guestPort
    }

    /// QEMU syntax: `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`.
    public static func parse(_ text: String) throws -> HostForward {
        let usage = "hostfwd '\(text)': expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport"
        let sides = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard sides.count == 2 else { throw NetError(usage) }
        var host = sides[0].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var f = HostForward(hostPort: 0, guestPort: 0)
        if host.count == 3 {
            switch host[0] {
            case "tcp", "": f.udp = false
            case "udp": f.udp = true
            default: throw NetError("hostfwd '\(text)': protocol must be tcp or udp, not '\(host[0])'")
            }
            host.removeFirst()
        }
        let guest = sides[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard host.count == 2, guest.count == 2 else { throw NetError(usage) }
        func port(_ s: String, _ what: String) throws -> UInt16 {
            guard let p = UInt16(s), p > 0 else { throw NetError("hostfwd '\(text)': invalid \(what) port '\(s)'") }
            return p
        }
        func addr(_ s: String, _ what: String) throws -> String {
            guard s.isEmpty || parseIPv4(s) != nil else { throw NetError("hostfwd '\(text)': invalid \(what) address '\(s)' (IPv4 only)") }
            return s
        }
        f.hostAddress = try addr(host[0], "host")
        f.hostPort = try port(host[1], "host")
        f.guestAddress = try addr(guest[0], "guest")
        f.guestPort = try port(guest[1], "guest")
        return f
    }
}

/// Dotted-quad IPv4 address in network byte order (as `in_addr.s_addr` holds it), or nil.
public func parseIPv4(_ s: String) -> UInt32? {
    var a = in_addr()
    guard inet_pton(AF_INET, s, &a) == 1 else { return nil }
    return a.s_addr
}

/// `--net` specification.
public struct NetSpec: Equatable, Sendable, Codable {
    public enum Mode: Equatable, Sendable, Codable {
        case user
        case tap(String)
    }
    public static let defaultMAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]

    public var mode: Mode
    public var mac: [UInt8] = NetSpec.defaultMAC
    public var hostForwards: [HostForward] = []

    public init(mode: Mode, mac: [UInt8] = NetSpec.defaultMAC, hostForwards: [HostForward] = []) {
        self.mode = mode; self.mac = mac; self.hostForwards = hostForwards
    }

    static let usage = "--net user[,hostfwd=tcp:127.0.0.1:2222-:22]...[,mac=52:54:00:12:34:56] or --net tap=NAME[,mac=...]"

    /// Parses `user[,hostfwd=...][,mac=...]` or `tap=NAME[,mac=...]` (also `tap,ifname=NAME`).
    public static func parse(_ text: String) throws -> NetSpec {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var spec: NetSpec
        var tapName: String? = nil
        let first = parts[0]
        if first == "user" {
            spec = NetSpec(mode: .user)
        } else if first == "tap" {
            spec = NetSpec(mode: .tap(""))
        } else if first.hasPrefix("tap=") {
            tapName = String(first.dropFirst(4))
            spec = NetSpec(mode: .tap(""))
        } else {
            throw NetError("invalid --net '\(text)': use \(usage)")
        }
        for opt in parts.dropFirst() {
            let kv = opt.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw NetError("--net option '\(opt)' is not KEY=VALUE (use \(usage))") }
            switch kv[0] {
            case "mac":
                guard let m = parseMAC(kv[1]) else { throw NetError("--net: invalid MAC address '\(kv[1])' (expected six hex bytes such as 52:54:00:12:34:56)") }
                guard m[0] & 1 == 0 else { throw NetError("--net: MAC address \(kv[1]) is a multicast address") }
                spec.mac = m
            case "hostfwd":
                guard spec.mode == .user else { throw NetError("--net: hostfwd= needs user-mode networking (--net user,...)") }
                spec.hostForwards.append(try HostForward.parse(kv[1]))
            case "ifname":
                guard spec.mode != .user else { throw NetError("--net: ifname= is for tap networking") }
                tapName = kv[1]
            default:
                throw NetError("--net: unknown option '\(kv[0])' (known: hostfwd=, mac=, and for tap ifname=)")
            }
        }
        if spec.mode != .user {
            guard let name = tapName, !name.isEmpty else { throw NetError("--net tap needs an interface name: --net tap=NAME") }
            guard name.utf8.count < 16 else { throw NetError("--net tap: interface name '\(name)' is longer than 15 bytes") }
            spec.mode = .tap(name)
        }
        return spec
    }

    public static func parseMAC(_ s: String) -> [UInt8]? {
        let p = s.split(separator: ":", omittingEmptySubsequences: false)
        guard p.count == 6 else { return nil }
        var out: [UInt8] = []
        for b in p {
            guard b.count == 2, let v = UInt8(b, radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }
}
