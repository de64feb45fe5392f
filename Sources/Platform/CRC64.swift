/// CRC-64/XZ (ECMA-182 polynomial, reflected, as in xz and Go's crc64.ECMA): the checksum of every
/// snapshot and migration-stream section. Detects all burst errors up to 64 bits and random
/// corruption with probability 1 - 2^-64.
public enum CRC64 {
    static let table: [UInt64] = (0..<256).map { i -> UInt64 in
        var c = UInt64(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xC96C_5795_D787_0F42 : c >> 1 }
        return c
    }

    /// Continues `crc` (0 to start) over `bytes`.
    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var c = ~crc
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int(UInt8(truncatingIfNeeded: c) ^ b)] ^ (c >> 8) }
        }
        return ~c
    }
    public static func checksum(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { update(0, $0) } }
}
