import CZlib

/// Raw deflate (RFC 1951, no zlib header) through the system's zlib, as qcow2 stores compressed clusters.
public enum Inflate {
    /// Decompresses `input` into `outputSize` bytes (zero-padded when the stream ends early); nil on
    /// bad data. Bytes after the end of the stream are ignored (compressed clusters are sector-padded).
    public static func rawInflate(_ input: [UInt8], outputSize: Int) -> [UInt8]? {
        guard !input.isEmpty, outputSize > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: outputSize)
        var stream = z_stream()
        // -15: raw deflate with any window size up to 32 KiB (qcow2 writes 4 KiB windows).
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        let status: Int32 = input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = UInt32(dst.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END || ((status == Z_BUF_ERROR || status == Z_OK) && stream.avail_out == 0) else { return nil }
        return out
    }
}
