#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Block storage behind virtio-blk. Image formats (raw today, qcow2 later) implement `BlockBackend`.

public struct BlockError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A disk image. Offsets and lengths are in bytes; the device only issues requests inside `size`.
/// Methods are called on the emulation thread.
public protocol BlockBackend: AnyObject {
    /// Capacity in bytes (a multiple of 512; a trailing partial sector is not exposed).
    var size: UInt64 { get }
    var readOnly: Bool { get }
    /// Up to 20 bytes reported by VIRTIO_BLK_T_GET_ID.
    var serial: String { get }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws
    func write(from buffer: UnsafeRawBufferPointer, at offset: UInt64) throws
    func flush() throws
    /// The range's contents become unspecified (the backend may free the space).
    func discard(offset: UInt64, length: UInt64) throws
    /// The range reads back as zeros afterwards; `unmap` allows freeing the space.
    func writeZeroes(offset: UInt64, length: UInt64, unmap: Bool) throws
    /// Writes the buffers one after another from `offset` (a request scattered over guest pages).
    func write(gathering buffers: [UnsafeRawBufferPointer], at offset: UInt64) throws
    /// Drops (false) or takes back (true) the image's host lock, the file staying open: live
    /// migration hands the image to the destination at switch-over and takes it back if that fails.
    func setLocked(_ locked: Bool) throws
}

extension BlockBackend {
    public func setLocked(_ locked: Bool) throws {}
    public func write(gathering buffers: [UnsafeRawBufferPointer], at offset: UInt64) throws {
        var pos = offset
        for b in buffers {
            try write(from: b, at: pos)
            pos += UInt64(b.count)
        }
    }
}

/// `--disk PATH[,format=raw|qcow2][,readonly=on|off]`. Without `format`, ("auto") a file
/// starting with the qcow2 magic is opened as qcow2, anything else as raw.
public struct DiskSpec: Equatable, Sendable, Codable {
    public var path: String
    public var format: String = "auto"
    public var readOnly = false

    public init(path: String, format: String = "auto", readOnly: Bool = false) {
        self.path = path; self.format = format; self.readOnly = readOnly
    }

    /// Parses the --disk syntax. A path containing commas is written with ",," (as in QEMU).
    public static func parse(_ text: String) throws -> DiskSpec {
        var parts: [String] = []
        var cur = ""
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if c == "," {
                if chars.first == "," && parts.isEmpty { cur.append(","); chars = chars.dropFirst(); continue }
                parts.append(cur); cur = ""
            } else { cur.append(c) }
        }
        parts.append(cur)
        var spec = DiskSpec(path: parts[0])
        if spec.path.hasPrefix("file=") { spec.path = String(spec.path.dropFirst(5)) }
        guard !spec.path.isEmpty else { throw BlockError("--disk needs a file path: --disk PATH[,format=raw|qcow2][,readonly=on]") }
        for opt in parts.dropFirst() {
            let kv = opt.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw BlockError("--disk option '\(opt)' is not KEY=VALUE (known: format=raw|qcow2, readonly=on|off)") }
            switch kv[0] {
            case "format":
                guard ["raw", "qcow2", "auto"].contains(kv[1]) else { throw BlockError("--disk \(spec.path): unsupported format '\(kv[1])' (supported: raw, qcow2)") }
                spec.format = kv[1]
            case "readonly", "ro":
                switch kv[1] {
                case "on", "true", "yes", "1": spec.readOnly = true
                case "off", "false", "no", "0": spec.readOnly = false
                default: throw BlockError("--disk \(spec.path): readonly must be on or off, not '\(kv[1])'")
                }
            default:
                throw BlockError("--disk \(spec.path): unknown option '\(kv[0])' (known: format=raw|qcow2, readonly=on|off)")
            }
        }
        return spec
    }

}
