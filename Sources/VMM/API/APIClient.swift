import Foundation
import NIOCore
import NIOPosix
import NIOHTTP1

/// One HTTP response from the control API.
public struct APIResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The `fault_message` of an error response (or the body as text).
    public var faultMessage: String {
        if let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let m = o["fault_message"] as? String { return m }
        return text
    }
}

public struct APIClientError: Error, CustomStringConvertible {
    public let description: String
}

/// A client for the control API on a Unix socket (`matryoshka ctl`, tests, the OCF agent), built on
/// SwiftNIO's HTTP/1.1 codec. Each request uses its own connection, as Firecracker's clients do.
public final class APIClient: Sendable {
    public let socketPath: String
    public init(socketPath: String) { self.socketPath = socketPath }

    /// Sends one request and waits (at most `timeout` seconds) for the whole response.
    public func request(_ method: String, _ path: String, json: [String: Any]? = nil, timeout: Double = 600) throws -> APIResponse {
        var body: [UInt8]? = nil
        if let json { body = [UInt8](try JSONSerialization.data(withJSONObject: json)) }
        return try request(method, path, body: body, timeout: timeout, onData: nil)
    }

    /// Sends a request and passes the response body to `onData` as it arrives (the event stream);
    /// returning false from `onData` closes the connection.
    public func request(_ method: String, _ path: String, body: [UInt8]?, timeout: Double = 600,
                        onData: (@Sendable ([UInt8]) -> Bool)?) throws -> APIResponse {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: APIResponse.self)
        let channel: Channel
        do {
            channel = try ClientBootstrap(group: group)
                .channelInitializer { ch in
                    ch.pipeline.addHTTPClientHandlers().flatMap {
                        ch.pipeline.addHandler(ResponseCollector(promise: promise, onData: onData))
                    }
                }
                .connect(unixDomainSocketPath: socketPath).wait()
        } catch {
            throw APIClientError(description: "\(socketPath): cannot connect to the API socket (\(error)); is the VM running with --api-socket \(socketPath)?")
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: "localhost")
        head.headers.add(name: "Accept", value: "application/json")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            promise.fail(APIClientError(description: "\(method) \(path): no answer within \(Int(timeout)) s"))
            channel.close(promise: nil)
        }
        defer { timer.cancel(); channel.close(promise: nil) }
        return try promise.futureResult.wait()
    }
}

private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<APIResponse>
    let onData: (@Sendable ([UInt8]) -> Bool)?
    var status = 0
    var body: [UInt8] = []
    var done = false

    init(promise: EventLoopPromise<APIResponse>, onData: (@Sendable ([UInt8]) -> Bool)?) {
        self.promise = promise; self.onData = onData
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            status = Int(h.status.code)
        case .body(let buf):
            let bytes = Array(buf.readableBytesView)
            if let onData, status / 100 == 2 {
                if !onData(bytes) { finish(context) }
            } else {
                body += bytes
            }
        case .end:
            finish(context)
        }
    }
    func finish(_ context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        promise.succeed(APIResponse(status: status, body: body))
        context.close(promise: nil)
    }
    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            if status != 0 && onData != nil { promise.succeed(APIResponse(status: status, body: body)) }
            else { promise.fail(APIClientError(description: "the VM closed the API connection before answering (it exited?)")) }
        }
        context.fireChannelInactive()
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !done { done = true; promise.fail(error) }
        context.close(promise: nil)
    }
}
