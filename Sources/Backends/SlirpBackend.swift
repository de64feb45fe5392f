import Devices
import Platform
#if canImport(Glibc)
import Glibc
#endif
import CSlirp

/// libslirp's entry points, looked up once with dlopen("libslirp.so.0"): the build needs no -dev
/// package, and a host without libslirp gets a clear error only when it asks for `--net user`.
struct SlirpLibrary {
    let new: slirp_new_fn
    let cleanup: slirp_cleanup_fn
    let pollfdsFill: slirp_pollfds_fill_fn
    let pollfdsPoll: slirp_pollfds_poll_fn
    let input: slirp_input_fn
    let addHostfwd: slirp_add_hostfwd_fn
    let removeHostfwd: slirp_remove_hostfwd_fn?
    let stateSave: slirp_state_save_fn?
    let stateLoad: slirp_state_load_fn?
    let stateVersion: slirp_state_version_fn?

    static let shared: Result<SlirpLibrary, NetError> = load()

    private static func load() -> Result<SlirpLibrary, NetError> {
        let names = ["libslirp.so.0", "libslirp.so"]
        guard let h = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
            let why = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(NetError("--net user needs libslirp (\(why)); install it with `apt-get install libslirp0`"))
        }
        func sym<T>(_ name: String, _ type: T.Type) -> T? {
            dlsym(h, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let new = sym("slirp_new", slirp_new_fn.self), let cleanup = sym("slirp_cleanup", slirp_cleanup_fn.self),
              let fill = sym("slirp_pollfds_fill", slirp_pollfds_fill_fn.self),
              let poll = sym("slirp_pollfds_poll", slirp_pollfds_poll_fn.self),
              let input = sym("slirp_input", slirp_input_fn.self),
              let fwd = sym("slirp_add_hostfwd", slirp_add_hostfwd_fn.self) else {
            return .failure(NetError("--net user: the installed libslirp lacks the 4.x API; install Debian's libslirp0"))
        }
        return .success(SlirpLibrary(new: new, cleanup: cleanup, pollfdsFill: fill, pollfdsPoll: poll, input: input,
                                     addHostfwd: fwd, removeHostfwd: sym("slirp_remove_hostfwd", slirp_remove_hostfwd_fn.self),
                                     stateSave: sym("slirp_state_save", slirp_state_save_fn.self),
                                     stateLoad: sym("slirp_state_load", slirp_state_load_fn.self),
                                     stateVersion: sym("slirp_state_version", slirp_state_version_fn.self)))
    }
}

/// User-mode networking through libslirp (QEMU's `-netdev user`): the guest sits on 10.0.2.0/24
/// behind a NAT, 10.0.2.2 is the host (its loopback), 10.0.2.3 the DNS forwarder, and DHCP hands
/// out 10.0.2.15. All libslirp calls happen on the emulation thread (libslirp is not thread-safe).
public final class SlirpBackend: NetBackend {
    public var deliver: (([UInt8]) -> Void)?
    public private(set) var errors: [String] = []
    /// Every error libslirp reported, including those dropped from `errors`.
    public private(set) var errorCount: UInt64 = 0

    private var slirp: OpaquePointer?
    private let lib: SlirpLibrary
    private let callbacks: UnsafeMutablePointer<SlirpCb>
    private var timers: [SlirpTimer] = []
    private var pollfds: [pollfd] = []

    final class SlirpTimer {
        let cb: SlirpTimerCb?
        let cbOpaque: UnsafeMutableRawPointer?
        var expireMs: Int64 = -1
        init(cb: SlirpTimerCb?, cbOpaque: UnsafeMutableRawPointer?) { self.cb = cb; self.cbOpaque = cbOpaque }
    }

    /// libslirp's own state (slirp_state_save: its IP id counter, DHCP leases and guestfwd sockets;
    /// host sockets cannot move between processes), tagged with its format version.
    public func saveState() -> [UInt8] {
        guard let save = lib.stateSave, let version = lib.stateVersion, let slirp else { return [] }
        let buffer = StateBuffer()
        _ = save(slirp, { p, len, opaque in
            let b = Unmanaged<StateBuffer>.fromOpaque(opaque!).takeUnretainedValue()
            if let p, len > 0 { b.bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: len)) }
            return len
        }, Unmanaged.passUnretained(buffer).toOpaque())
        var w = StateWriter()
        w.u32(UInt32(bitPattern: version()))
        w.blob(buffer.bytes)
        return w.bytes
    }

    public func loadState(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        var r = StateReader(bytes)
        let version = Int32(bitPattern: try r.u32())
        let body = try r.blob(max: 16 << 20)
        guard let load = lib.stateLoad, let slirp else { throw StateError("this libslirp cannot load network state") }
        if let current = lib.stateVersion?(), version > current {
            throw StateError("network state has libslirp format \(version); the installed libslirp reads up to \(current)")
        }
        let buffer = StateBuffer()
        buffer.bytes = body
        let rc = load(slirp, version, { p, len, opaque in
            let b = Unmanaged<StateBuffer>.fromOpaque(opaque!).takeUnretainedValue()
            let n = min(len, b.bytes.count - b.offset)
            if let p, n > 0 { b.bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress! + b.offset, byteCount: n) } }
            b.offset += n
            return n
        }, Unmanaged.passUnretained(buffer).toOpaque())
        guard rc == 0, buffer.offset == buffer.bytes.count else {
            throw StateError("libslirp refused the network state (\(rc < 0 ? String(cString: strerror(-rc)) : "trailing bytes"))")
        }
    }

    final class StateBuffer { var bytes: [UInt8] = []; var offset = 0 }

    public init(hostForwards: [HostForward] = []) throws {
        lib = try SlirpLibrary.shared.get()
        self.hostForwards = hostForwards
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(to: SlirpCb())
        callbacks.pointee.send_packet = { buf, len, opaque in
            let me = Unmanaged<SlirpBackend>.fromOpaque(opaque!).takeUnretainedValue()
            if let buf, len > 0 { me.deliver?(Array(UnsafeRawBufferPointer(start: buf, count: len))) }
            return len
        }
        callbacks.pointee.guest_error = { msg, opaque in
            let me = Unmanaged<SlirpBackend>.fromOpaque(opaque!).takeUnretainedValue()
            if let msg { me.errorCount &+= 1; if me.errors.count < 100 { me.errors.append(String(cString: msg)) } }
        }
        callbacks.pointee.clock_get_ns = { _ in Int64(TimeBase.hostNanos()) }
        callbacks.pointee.timer_new = { cb, cbOpaque, opaque in
            let me = Unmanaged<SlirpBackend>.fromOpaque(opaque!).takeUnretainedValue()
            let t = SlirpTimer(cb: cb, cbOpaque: cbOpaque)
            me.timers.append(t)
            return Unmanaged.passUnretained(t).toOpaque()
        }
        callbacks.pointee.timer_free = { timer, opaque in
            let me = Unmanaged<SlirpBackend>.fromOpaque(opaque!).takeUnretainedValue()
            guard let timer else { return }
            me.timers.removeAll { Unmanaged.passUnretained($0).toOpaque() == timer }
        }
        callbacks.pointee.timer_mod = { timer, expire, opaque in
            let me = Unmanaged<SlirpBackend>.fromOpaque(opaque!).takeUnretainedValue()
            guard let timer else { return }
            me.timers.first { Unmanaged.passUnretained($0).toOpaque() == timer }?.expireMs = expire
        }
        callbacks.pointee.register_poll_fd = { _, _ in }
        callbacks.pointee.unregister_poll_fd = { _, _ in }
        callbacks.pointee.notify = { _ in }

        var cfg = SlirpConfig()
        cfg.version = 1
        cfg.restricted = 0
        cfg.in_enabled = true
        cfg.vnetwork.s_addr = parseIPv4("10.0.2.0")!
        cfg.vnetmask.s_addr = parseIPv4("255.255.255.0")!
        cfg.vhost.s_addr = parseIPv4("10.0.2.2")!
        cfg.vdhcp_start.s_addr = parseIPv4("10.0.2.15")!
        cfg.vnameserver.s_addr = parseIPv4("10.0.2.3")!
        cfg.in6_enabled = false
        cfg.disable_host_loopback = false
        cfg.enable_emu = false
        slirp = lib.new(&cfg, callbacks, Unmanaged.passUnretained(self).toOpaque())
        guard slirp != nil else {
            callbacks.deallocate()
            throw NetError("--net user: libslirp failed to initialise")
        }
        try bindHostForwards()
    }

    private let hostForwards: [HostForward]

    private func bindHostForwards() throws {
        for f in hostForwards {
            var host = in_addr(), guest = in_addr()
            host.s_addr = f.hostAddress.isEmpty ? 0 : parseIPv4(f.hostAddress)!
            guest.s_addr = parseIPv4(f.guestAddress.isEmpty ? "10.0.2.15" : f.guestAddress)!
            if lib.addHostfwd(slirp, f.udp ? 1 : 0, host, Int32(f.hostPort), guest, Int32(f.guestPort)) < 0 {
                let proto = f.udp ? "udp" : "tcp"
                let err = String(cString: strerror(errno))
                throw NetError("--net user: hostfwd \(proto):\(f.hostAddress.isEmpty ? "*" : f.hostAddress):\(f.hostPort): cannot listen on the host port (\(err))")
            }
        }
    }

    /// Closes the forwarded ports' listening sockets (connections already made stay).
    public func detachHost() {
        guard let remove = lib.removeHostfwd else { return }
        for f in hostForwards {
            var host = in_addr()
            host.s_addr = f.hostAddress.isEmpty ? 0 : parseIPv4(f.hostAddress)!
            _ = remove(slirp, f.udp ? 1 : 0, host, Int32(f.hostPort))
        }
    }
    public func reattachHost() throws {
        guard lib.removeHostfwd != nil else { return }
        try bindHostForwards()
    }

    deinit {
        if let slirp { lib.cleanup(slirp) }
        timers.removeAll()
        callbacks.deallocate()
    }

    public func send(_ frame: [UInt8]) {
        guard let slirp else { return }
        frame.withUnsafeBufferPointer { lib.input(slirp, $0.baseAddress, Int32($0.count)) }
    }

    public func poll() { pollOnce(timeoutNanos: 0, wakeDescriptor: -1) }

    public func wait(nanos: UInt64, wakeDescriptor: Int32) { pollOnce(timeoutNanos: nanos, wakeDescriptor: wakeDescriptor) }

    public func takeErrors() -> [String] {
        defer { errors.removeAll() }
        return errors
    }

    private func fireTimers() {
        let now = Int64(TimeBase.hostNanos() / 1_000_000)
        let due = timers.filter { $0.expireMs >= 0 && $0.expireMs <= now }
        for t in due where t.expireMs >= 0 && timers.contains(where: { $0 === t }) {
            t.expireMs = -1
            t.cb?(t.cbOpaque)
        }
    }

    private func pollOnce(timeoutNanos: UInt64, wakeDescriptor: Int32) {
        guard let slirp else { return }
        fireTimers()
        pollfds.removeAll(keepingCapacity: true)
        var timeoutMs: UInt32 = UInt32(min(timeoutNanos / 1_000_000 + 1, 1000))
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        lib.pollfdsFill(slirp, &timeoutMs, { fd, events, opaque in
            let me = Unmanaged<SlirpBackend>.fromOpaque(opaque!).takeUnretainedValue()
            var ev: Int16 = 0
            if events & Int32(SLIRP_POLL_IN) != 0 { ev |= Int16(POLLIN) }
            if events & Int32(SLIRP_POLL_OUT) != 0 { ev |= Int16(POLLOUT) }
            if events & Int32(SLIRP_POLL_PRI) != 0 { ev |= Int16(POLLPRI) }
            me.pollfds.append(pollfd(fd: fd, events: ev, revents: 0))
            return Int32(me.pollfds.count - 1)
        }, opaque)
        // Never sleep past the caller's deadline (slirp's timeout only shortens it).
        var nanos = timeoutNanos
        if UInt64(timeoutMs) * 1_000_000 < nanos { nanos = UInt64(timeoutMs) * 1_000_000 }
        // Wake up for the next slirp timer too.
        let nowMs = Int64(TimeBase.hostNanos() / 1_000_000)
        for t in timers where t.expireMs >= 0 {
            let until = t.expireMs <= nowMs ? 0 : UInt64(t.expireMs - nowMs) * 1_000_000
            nanos = min(nanos, until)
        }
        // The wake-up pipe goes last, after every index handed to libslirp.
        if wakeDescriptor >= 0 { pollfds.append(pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)) }
        let r = pollfds.withUnsafeMutableBufferPointer { p in matryoshka_ppoll(p.baseAddress, UInt(p.count), Int64(nanos)) }
        lib.pollfdsPoll(slirp, r < 0 ? 1 : 0, { idx, opaque in
            let me = Unmanaged<SlirpBackend>.fromOpaque(opaque!).takeUnretainedValue()
            guard idx >= 0, Int(idx) < me.pollfds.count else { return 0 }
            let re = Int32(me.pollfds[Int(idx)].revents)
            var out: Int32 = 0
            if re & Int32(POLLIN) != 0 { out |= Int32(SLIRP_POLL_IN) }
            if re & Int32(POLLOUT) != 0 { out |= Int32(SLIRP_POLL_OUT) }
            if re & Int32(POLLPRI) != 0 { out |= Int32(SLIRP_POLL_PRI) }
            if re & Int32(POLLERR) != 0 { out |= Int32(SLIRP_POLL_ERR) }
            if re & Int32(POLLHUP) != 0 { out |= Int32(SLIRP_POLL_HUP) }
            return out
        }, opaque)
        fireTimers()
    }
}
