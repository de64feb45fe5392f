#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// TLS for `tcp:` migration streams (swift-nio-ssl), with certificates from a directory as Cloud
/// Hypervisor's `tls_dir`: `ca-cert.pem` (the authority both ends trust), `server-cert.pem` and
/// `server-key.pem` (the destination), `client-cert.pem` and `client-key.pem` (the source). Both ends
/// authenticate: the source checks the destination's name (or IP address) against its certificate,
/// the destination checks that the source's certificate comes from the same authority.
///
/// The stream code stays blocking: a TLS tunnel on a NIO event loop joins the TCP connection to one
/// end of a socket pair, and the migration channel uses the other end.
struct MigrationTLS {
    let dir: String

    init(dir: String) throws {
        self.dir = dir
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw VMError.badRequest("\(dir): the TLS directory does not exist (it holds ca-cert.pem and the server's or client's cert and key)")
        }
    }

    private func file(_ name: String) throws -> String {
        let p = dir + "/" + name
        guard FileManager.default.isReadableFile(atPath: p) else {
            throw VMError.badRequest("\(p): missing or unreadable; a migration TLS directory holds ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem and client-key.pem (PEM)")
        }
        return p
    }

    private func load(_ cert: String, _ key: String) throws -> ([NIOSSLCertificateSource], NIOSSLPrivateKeySource) {
        let certPath = try file(cert), keyPath = try file(key)
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certPath).map { NIOSSLCertificateSource.certificate($0) }
            return (chain, .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        } catch {
            throw VMError.badRequest("\(certPath) / \(keyPath): cannot load the certificate or key: \(error)")
        }
    }

    func clientContext() throws -> NIOSSLContext {
        let (chain, key) = try load("client-cert.pem", "client-key.pem")
        var c = TLSConfiguration.makeClientConfiguration()
        c.trustRoots = .file(try file("ca-cert.pem"))
        c.certificateChain = chain
        c.privateKey = key
        c.certificateVerification = .fullVerification
        c.minimumTLSVersion = .tlsv12
        c.shutdownTimeout = .milliseconds(200)   // a peer that is gone does not answer close_notify
        do { return try NIOSSLContext(configuration: c) } catch { throw VMError.badRequest("\(dir): TLS setup failed: \(error)") }
    }

    func serverContext() throws -> NIOSSLContext {
        let (chain, key) = try load("server-cert.pem", "server-key.pem")
        var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        c.trustRoots = .file(try file("ca-cert.pem"))
        c.certificateVerification = .noHostnameVerification
        c.minimumTLSVersion = .tlsv12
        c.shutdownTimeout = .milliseconds(200)
        do { return try NIOSSLContext(configuration: c) } catch { throw VMError.badRequest("\(dir): TLS setup failed: \(error)") }
    }
}

/// Keeps a tunnel's event loop alive for as long as its migration channel.
final class TLSTunnel {
    let group: MultiThreadedEventLoopGroup
    init(group: MultiThreadedEventLoopGroup) { self.group = group }
    deinit { let g = group; Thread.detachNewThread { try? g.syncShutdownGracefully() } }

    /// A connected socket pair: the first end for the migration channel, the second for NIO.
    static func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw VMError.failed("socketpair: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// Joins `tls` (a channel whose handshake completed, with `glue` in its pipeline) to a new socket
    /// pair; returns the plain end.
    static func join(_ tls: Channel, glue: GlueHandler) throws -> Int32 {
        let (mine, theirs) = try socketPair()
        let plainGlue = GlueHandler()
        _ = try ClientBootstrap(group: tls.eventLoop)
            .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(plainGlue) } }
            .withConnectedSocket(theirs).wait()
        try tls.eventLoop.submit { GlueHandler.link(plainGlue, glue) }.wait()
        return mine
    }
}

extension MigrationChannel {
    /// Connects to a TLS destination (`tcp:` only); returns once the handshake succeeded.
    static func connectTLS(_ address: MigrationAddress, tls: MigrationTLS) throws -> MigrationChannel {
        guard case .tcp(let host, let port) = address else {
            throw VMError.badRequest("\(address): TLS protects tcp: streams; a unix: socket stays on this host")
        }
        let context = try tls.clientContext()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let tunnel = TLSTunnel(group: group)
        let handshake = group.next().makePromise(of: Void.self)
        let glue = GlueHandler()
        let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        let channel: Channel
        do {
            channel = try ClientBootstrap(group: group)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        let ssl = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
                        try ch.pipeline.syncOperations.addHandler(ssl)
                        try ch.pipeline.syncOperations.addHandler(HandshakeWatcher(handshake))
                        try ch.pipeline.syncOperations.addHandler(glue)
                    }
                }
                .connect(host: host, port: Int(port)).wait()
        } catch {
            throw VMError.failed("\(address): cannot connect to the destination: \(error) (is `matryoshka run --incoming \(address) --tls-dir DIR` running there?)")
        }
        do { try handshake.futureResult.wait() } catch {
            channel.close(promise: nil)
            throw VMError.failed("\(address): TLS handshake failed: \(error) (do both ends use certificates from the same authority, and does the server's name the address?)")
        }
        let fd = try TLSTunnel.join(channel, glue: glue)
        let c = MigrationChannel(fd: fd, peer: "\(address) (TLS)")
        c.tunnel = tunnel
        return c
    }
}

/// `--incoming tcp:... --tls-dir`: accepts TLS connections until one completes its handshake.
final class TLSMigrationListener {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let server: Channel
    private let accepted = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var ready: [Channel] = []
    let address: MigrationAddress

    init(_ address: MigrationAddress, tls: MigrationTLS, onRefused: @escaping @Sendable (String) -> Void) throws {
        guard case .tcp(let host, let port) = address else {
            throw VMError.badRequest("\(address): TLS protects tcp: streams; a unix: socket stays on this host")
        }
        self.address = address
        let context = try tls.serverContext()
        let group = self.group
        let sink = ChannelSink()
        self.sink = sink
        do {
            server = try ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { ch in
                    let p = ch.eventLoop.makePromise(of: Void.self)
                    let glue = GlueHandler()
                    p.futureResult.whenComplete { r in
                        switch r {
                        case .success: sink.add((ch, glue))
                        case .failure(let e): onRefused("a connection from \(ch.remoteAddress.map { "\($0)" } ?? "?") failed its TLS handshake: \(e)")
                        }
                    }
                    return ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        try ch.pipeline.syncOperations.addHandler(HandshakeWatcher(p))
                        try ch.pipeline.syncOperations.addHandler(glue)
                    }
                }
                .bind(host: host, port: Int(port)).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw VMError.badRequest("\(address): cannot listen there: \(error)")
        }
    }
    private let sink: ChannelSink

    /// Waits for a source whose handshake succeeded.
    func accept() throws -> MigrationChannel {
        let (ch, glue) = sink.take()
        server.close(promise: nil)
        let fd = try TLSTunnel.join(ch, glue: glue)
        let c = MigrationChannel(fd: fd, peer: "source (TLS)")
        c.tunnel = TLSTunnel(group: group)
        return c
    }
}

/// Hands accepted channels from the event loop to the waiting thread.
private final class ChannelSink: @unchecked Sendable {
    private let cond = NSCondition()
    private var channels: [(Channel, GlueHandler)] = []
    func add(_ c: (Channel, GlueHandler)) { cond.lock(); channels.append(c); cond.signal(); cond.unlock() }
    func take() -> (Channel, GlueHandler) {
        cond.lock(); defer { cond.unlock() }
        while channels.isEmpty { cond.wait() }
        return channels.removeFirst()
    }
}

/// Completes `promise` when the TLS handshake does (or fails it).
private final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    private let promise: EventLoopPromise<Void>
    private var done = false
    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e, !done {
            done = true
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !done { done = true; promise.fail(error) }
        context.close(promise: nil)
    }
    func channelInactive(context: ChannelHandlerContext) {
        if !done { done = true; promise.fail(ChannelError.eof) }
        context.fireChannelInactive()
    }
}

/// Forwards bytes between two channels on one event loop, reading from one only while the other
/// can take more (NIO's glue-handler pattern). A handler may run before it is linked to its partner
/// (the TLS side, from its handshake on): what it reads meanwhile is kept and forwarded at `link`.
final class GlueHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var early: [NIOAny] = []
    private var closedEarly = false

    /// Joins two handlers (on their event loop).
    static func link(_ a: GlueHandler, _ b: GlueHandler) {
        a.partner = b; b.partner = a
        for h in [a, b] {
            let p = h.partner!
            for d in h.early { p.context?.write(d, promise: nil) }
            if !h.early.isEmpty { p.context?.flush() }
            h.early = []
            if h.closedEarly { p.context?.close(promise: nil) }
        }
        a.partnerBecameWritable(); b.partnerBecameWritable()
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil; partner = nil }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerClose() { context?.close(promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }
    private func partnerBecameWritable() {
        if pendingRead, partner?.partnerWritable ?? false { pendingRead = false; context?.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let p = partner { p.partnerWrite(data) } else { early.append(data) }
    }
    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }
    func channelInactive(context: ChannelHandlerContext) {
        if let p = partner { p.partnerClose() } else { closedEarly = true }
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }
    func read(context: ChannelHandlerContext) {
        // Unlinked (the TLS side during its handshake): read on, keeping what arrives in `early`.
        guard let p = partner else { context.read(); return }
        if p.partnerWritable { context.read() } else { pendingRead = true }
    }
}
