import Foundation
import Hummingbird
import Logging
import Machine
import NIOCore
import ServiceLifecycle

/// The control API: HTTP/1.1 with JSON bodies on a Unix socket, in Firecracker's shapes (errors are
/// `{"fault_message": ...}`: 400 bad request, 404 unknown path, 409 wrong VM state). Served by
/// Hummingbird on its own threads; it reaches the VM only through `VirtualMachine`'s thread-safe API.
public final class APIServer: @unchecked Sendable {
    public let socketPath: String
    let host: VMHost
    let logger = Logger(label: "matryoshka.api")
    private var task: Task<Void, Never>?
    private var group: ServiceGroup?
    private let served = DispatchSemaphore(value: 0)

    public init(socketPath: String, host: VMHost) {
        self.socketPath = socketPath
        self.host = host
    }

    /// Binds the socket (replacing a stale one) and serves in the background. Throws when it cannot bind.
    public func start() throws {
        var st = stat()
        if lstat(socketPath, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                throw VMError.badRequest("\(socketPath): exists and is not a socket; choose another --api-socket path")
            }
            // A live server answers a connection; a stale socket file from a dead process does not.
            if (try? APIClient(socketPath: socketPath).request("GET", "/vm", timeout: 2)) != nil {
                throw VMError.badRequest("\(socketPath): another VM is serving its API there; choose another --api-socket path")
            }
            unlink(socketPath)
        }
        let router = Router()
        router.add(middleware: FaultMiddleware())
        routes(router)
        let bound = DispatchSemaphore(value: 0)
        final class BindResult: @unchecked Sendable { var error: Error? }
        let result = BindResult()
        let app = Application(router: router,
                              configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "matryoshka"),
                              onServerRunning: { _ in bound.signal() },
                              logger: Self.httpLogger())
        let group = ServiceGroup(configuration: .init(services: [app], logger: Self.httpLogger()))
        self.group = group
        task = Task.detached { [served] in
            do { try await group.run() } catch {
                result.error = error
                bound.signal()
            }
            served.signal()
        }
        if bound.wait(timeout: .now() + 10) == .timedOut {
            throw VMError.failed("\(socketPath): the API server did not start within 10 s")
        }
        if let e = result.error { throw VMError.badRequest("\(socketPath): cannot serve the API there: \(e)") }
        logger.info("API listening on \(socketPath)")
    }

    /// Hummingbird's own logger: its shutdown chatter ("Already closed") is noise unless debugging.
    static func httpLogger() -> Logger {
        var l = Logger(label: "matryoshka.api.http")
        if l.logLevel > .debug { l.logLevel = .critical }
        return l
    }

    /// Lets event streams end, then shuts the server down gracefully and waits for it: a response
    /// written but not yet flushed to its socket (the VM's Exited event) would be lost if the process
    /// ended first.
    public func stop() {
        host.drainStreams(timeout: 3)
        if let group, let task {
            Task.detached { await group.triggerGracefulShutdown() }
            if served.wait(timeout: .now() + 3) == .timedOut { task.cancel() }
        }
        task = nil
        unlink(socketPath)
    }

    // MARK: Routes

    func routes(_ router: Router<BasicRequestContext>) {
        router.get("/vm") { [host] _, _ -> Response in
            guard let vm = host.vm else { return json(["state": "Not started", "config": NSNull()]) }
            var o: [String: Any] = ["state": vm.state.rawValue, "config": VMConfigFile.render(vm.config), "restored": vm.restored]
            if let r = vm.lastSnapshotReport {
                o["last_snapshot"] = ["snapshot_type": r.type.rawValue, "seconds": r.seconds, "pages_written": r.pagesWritten,
                                      "state_bytes": r.stateBytes, "snapshot_path": r.path]
            }
            return json(o)
        }
        router.patch("/vm") { [host] req, ctx -> Response in
            let body = try await jsonBody(req, ctx)
            let vm = try requireVM(host)
            switch body["state"] as? String {
            case "Paused":
                guard vm.state == .running || vm.state == .paused else { throw VMError.conflict("the VM is \(vm.state.rawValue.lowercased()); only a running VM can be paused") }
                if vm.state == .paused { return Response(status: .noContent) }
                guard vm.pause(timeout: 10) else { throw VMError.conflict("the VM did not pause (it is \(vm.state.rawValue.lowercased()))") }
            case "Resumed":
                guard vm.state == .paused else { throw VMError.conflict("the VM is \(vm.state.rawValue.lowercased()); only a paused VM can be resumed") }
                vm.resume()
                _ = vm.waitForState(timeout: 5) { $0 != .paused }
            default:
                throw VMError.badRequest("'state' must be \"Paused\" or \"Resumed\"")
            }
            return Response(status: .noContent)
        }
        router.get("/vm/stats") { [host] _, _ -> Response in
            let vm = try requireVM(host)
            return json(try vm.atSafePoint { vm.statsDictionary() })
        }
        router.put("/actions") { [host] req, ctx -> Response in
            let body = try await jsonBody(req, ctx)
            let vm = try requireVM(host)
            guard vm.state != .stopped else { throw VMError.conflict("the VM has stopped") }
            switch body["action_type"] as? String {
            case "Reset": vm.reset()
            case "Stop", "SendCtrlAltDel": vm.stop(.stopped)
            default: throw VMError.badRequest("'action_type' must be \"Reset\" or \"Stop\"")
            }
            return Response(status: .noContent)
        }
        router.put("/snapshot/create") { [host] req, ctx -> Response in
            let body = try await jsonBody(req, ctx)
            let vm = try requireVM(host)
            guard let path = body["snapshot_path"] as? String, let mem = body["mem_file_path"] as? String else {
                throw VMError.badRequest("'snapshot_path' and 'mem_file_path' (strings) are required")
            }
            let typeName = body["snapshot_type"] as? String ?? "Full"
            guard let type = SnapshotType(rawValue: typeName) else { throw VMError.badRequest("'snapshot_type' must be \"Full\" or \"Diff\"") }
            let progress = ProgressThrottle(host: host)
            _ = try await Self.offload { try vm.createSnapshot(path: path, memFile: mem, type: type) { progress.report($0) } }
            return Response(status: .noContent)
        }
        router.put("/snapshot/load") { [host] req, ctx -> Response in
            let body = try await jsonBody(req, ctx)
            guard let path = body["snapshot_path"] as? String else { throw VMError.badRequest("'snapshot_path' (a string) is required") }
            var memFile: String? = nil
            if let backend = body["mem_backend"] {
                guard let b = backend as? [String: Any], let kind = b["backend_type"] as? String, let p = b["backend_path"] as? String else {
                    throw VMError.badRequest("'mem_backend' must be {\"backend_type\": \"File\", \"backend_path\": PATH}")
                }
                guard kind == "File" else { throw VMError.badRequest("mem_backend.backend_type \"\(kind)\" is not supported (only \"File\")") }
                memFile = p
            } else if let p = body["mem_file_path"] as? String {
                memFile = p
            }
            let resume = body["resume_vm"] as? Bool ?? false
            try host.beginLoad()
            defer { host.endLoad() }
            let mem = memFile
            let vm = try await Self.offload { try VirtualMachine.restore(from: path, memFile: mem) }
            if !resume { vm.pause() }
            host.install(vm, resume: resume)
            return Response(status: .noContent)
        }
        router.put("/migrate") { [host] req, ctx -> Response in
            let body = try await jsonBody(req, ctx)
            let vm = try requireVM(host)
            guard let url = body["destination_url"] as? String else { throw VMError.badRequest("'destination_url' (a string: unix:PATH or tcp:HOST:PORT) is required") }
            var o = MigrationOptions(destination: url)
            if let d = body["downtime_ms"] { guard let v = (d as? NSNumber)?.doubleValue else { throw VMError.badRequest("'downtime_ms' must be a number") }; o.downtimeMs = v }
            if let b = body["max_bandwidth_mibps"] { guard let v = (b as? NSNumber)?.doubleValue else { throw VMError.badRequest("'max_bandwidth_mibps' must be a number") }; o.maxBandwidthMiBps = v }
            switch body["mode"] as? String ?? "precopy" {
            case "precopy": o.postcopy = false
            case "postcopy": o.postcopy = true
            default: throw VMError.badRequest("'mode' must be \"precopy\" or \"postcopy\"")
            }
            if let t = body["tls_dir"] { guard let v = t as? String else { throw VMError.badRequest("'tls_dir' must be a string") }; o.tlsDir = v }
            if let c = body["connect_timeout_ms"] { guard let v = (c as? NSNumber)?.doubleValue else { throw VMError.badRequest("'connect_timeout_ms' must be a number") }; o.connectTimeoutMs = v }
            for key in body.keys where !["destination_url", "downtime_ms", "max_bandwidth_mibps", "mode", "tls_dir", "connect_timeout_ms"].contains(key) {
                throw VMError.badRequest("unknown field '\(key)' in the migration request")
            }
            try vm.startMigration(o)
            return Response(status: .noContent)
        }
        router.get("/migrate") { [host] _, _ -> Response in
            let vm = try requireVM(host)
            guard let s = vm.migrationStatus else { return json(["status": "none"]) }
            return json(s.dictionary)
        }
        router.delete("/migrate") { [host] _, _ -> Response in
            try requireVM(host).cancelMigration()
            return Response(status: .noContent)
        }
        router.put("/ha") { [host] req, ctx -> Response in
            let body = try await jsonBody(req, ctx)
            let vm = try requireVM(host)
            guard let url = body["standby_url"] as? String else { throw VMError.badRequest("'standby_url' (a string: unix:PATH or tcp:HOST:PORT) is required") }
            var o = HAOptions(standby: url)
            if let v = body["checkpoint_ms"] { guard let d = (v as? NSNumber)?.doubleValue else { throw VMError.badRequest("'checkpoint_ms' must be a number") }; o.checkpointMs = d }
            if let v = body["timeout_ms"] { guard let d = (v as? NSNumber)?.doubleValue else { throw VMError.badRequest("'timeout_ms' must be a number") }; o.timeoutMs = d }
            if let v = body["on_loss"] {
                guard let p = v as? String, let l = HAOptions.OnLoss(rawValue: p) else { throw VMError.badRequest("'on_loss' must be \"stop\" or \"continue\"") }
                o.onLoss = l
            }
            if let t = body["tls_dir"] { guard let v = t as? String else { throw VMError.badRequest("'tls_dir' must be a string") }; o.tlsDir = v }
            for key in body.keys where !["standby_url", "checkpoint_ms", "timeout_ms", "on_loss", "tls_dir"].contains(key) {
                throw VMError.badRequest("unknown field '\(key)' in the HA request")
            }
            let options = o
            try await Self.offload { try vm.startHA(options) }
            return Response(status: .noContent)
        }
        router.get("/ha") { [host] _, _ -> Response in
            if let vm = host.vm { return json(vm.haStatus.dictionary) }
            if let s = host.standbyStatus { return json(s().dictionary) }
            throw VMError.conflict("no VM is loaded yet")
        }
        router.delete("/ha") { [host] _, _ -> Response in
            try requireVM(host).stopHA()
            return Response(status: .noContent)
        }
        router.get("/events") { [host] _, _ -> Response in
            let stream = host.events()
            if let vm = host.vm { host.publish(["event": "StateChanged", "state": vm.state.rawValue]) }
            host.streamStarted()
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"],
                            body: ResponseBody { writer in
                                defer { host.streamEnded() }
                                for await line in stream { try await writer.write(ByteBuffer(string: line)) }
                                try await writer.finish(nil)
                            })
        }
    }

    /// Runs blocking VM work off Swift's cooperative threads.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            DispatchQueue.global().async { cont.resume(with: Result { try body() }) }
        }
    }
}

private func requireVM(_ host: VMHost) throws -> VirtualMachine {
    guard let vm = host.vm else { throw VMError.conflict("no VM is loaded yet: load one with PUT /snapshot/load") }
    return vm
}

private func jsonBody(_ req: Request, _ ctx: BasicRequestContext) async throws -> [String: Any] {
    var r = req
    let buffer = try await r.collectBody(upTo: 1 << 20)
    guard let o = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
        throw VMError.badRequest("the request body must be a JSON object")
    }
    return o
}

private func json(_ o: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// Every error as Firecracker reports it: `{"fault_message": "..."}`.
struct FaultMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as VMError {
            let status: HTTPResponse.Status
            switch e { case .badRequest: status = .badRequest; case .conflict: status = .conflict; case .failed: status = .internalServerError }
            return json(["fault_message": e.description], status: status)
        } catch let e as HTTPError {
            let message = e.status == .notFound ? "unknown path \(request.method) \(request.uri.path)" : (e.body ?? "\(e.status)")
            return json(["fault_message": message], status: e.status)
        } catch {
            return json(["fault_message": "\(error)"], status: .badRequest)
        }
    }
}

/// Publishes snapshot progress as events, at most every 2%.
final class ProgressThrottle: @unchecked Sendable {
    let host: VMHost
    var last = -1.0
    init(host: VMHost) { self.host = host }
    func report(_ f: Double) {
        guard f - last >= 0.02 || (f >= 1 && last < 1) else { return }
        last = f
        host.publish(["event": "SnapshotProgress", "fraction": f])
    }
}
