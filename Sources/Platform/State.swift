// Versioned, length-checked binary encoding of machine state (snapshots, migration, failover).
// Every stateful component writes its own section with `StateWriter` and reads it back with
// `StateReader`; a truncated or corrupt stream throws instead of trapping.

public struct StateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct StateWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    public mutating func blob(_ v: [UInt8]) { u64(UInt64(v.count)); bytes.append(contentsOf: v) }
    public mutating func raw(_ p: UnsafeRawBufferPointer) { u64(UInt64(p.count)); bytes.append(contentsOf: p) }
    public mutating func string(_ s: String) { blob(Array(s.utf8)) }
    public mutating func u64s(_ v: [UInt64]) { u64(UInt64(v.count)); for x in v { u64(x) } }
    /// A named, versioned section: tag, version, then a length-prefixed body.
    public mutating func section(_ tag: String, version: UInt32, _ body: (inout StateWriter) -> Void) {
        string(tag); u32(version)
        var inner = StateWriter()
        body(&inner)
        blob(inner.bytes)
    }
}

public struct StateReader {
    public let bytes: [UInt8]
    public private(set) var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var atEnd: Bool { offset == bytes.count }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else {
            throw StateError("state stream truncated at byte \(offset) (needed \(n) more bytes)")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
    public mutating func u8() throws -> UInt8 { try take(1).first! }
    public mutating func bool() throws -> Bool {
        let v = try u8()
        guard v <= 1 else { throw StateError("corrupt boolean \(v) at byte \(offset - 1)") }
        return v == 1
    }
    public mutating func u32() throws -> UInt32 {
        var v: UInt32 = 0
        for (i, b) in try take(4).enumerated() { v |= UInt32(b) << (8 * UInt32(i)) }
        return v
    }
    public mutating func u64() throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(8).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }
    public mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }
    public mutating func count(max: Int) throws -> Int {
        let n = try u64()
        guard n <= UInt64(max) else { throw StateError("corrupt length \(n) at byte \(offset - 8) (limit \(max))") }
        return Int(n)
    }
    public mutating func blob(max: Int = 1 << 40) throws -> [UInt8] { Array(try take(try count(max: max))) }
    public mutating func string() throws -> String { String(decoding: try blob(max: 1 << 16), as: UTF8.self) }
    public mutating func u64s(max: Int = 1 << 20) throws -> [UInt64] {
        let n = try count(max: max)
        var out: [UInt64] = []; out.reserveCapacity(n)
        for _ in 0..<n { out.append(try u64()) }
        return out
    }
    /// Reads a section written by `StateWriter.section`; checks the tag and that the version is supported.
    public mutating func section<T>(_ tag: String, versions: ClosedRange<UInt32>, _ body: (inout StateReader, UInt32) throws -> T) throws -> T {
        let t = try string()
        guard t == tag else { throw StateError("expected state section '\(tag)', found '\(t)'") }
        let v = try u32()
        guard versions.contains(v) else { throw StateError("state section '\(tag)' has version \(v); this build reads \(versions)") }
        var inner = StateReader(try blob())
        let result = try body(&inner, v)
        guard inner.atEnd else { throw StateError("state section '\(tag)' has \(inner.bytes.count - inner.offset) unread bytes") }
        return result
    }
}

/// Anything whose state goes into a snapshot.
public protocol Stateful: AnyObject {
    func saveState(_ w: inout StateWriter)
    func loadState(_ r: inout StateReader) throws
}
