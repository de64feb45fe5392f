// A small raw-DEFLATE (RFC 1951) decoder for qcow2 compressed clusters. No zlib header or
// checksum: qcow2 stores bare deflate streams. Favours simplicity over speed (compressed
// clusters are rare and each is at most 2 MiB).

public enum Inflate {
    /// Decompresses `input` until the stream ends or `outputSize` bytes are produced. The
    /// output is zero-padded to `outputSize`. Returns nil on malformed data.
    public static func rawInflate(_ input: [UInt8], outputSize: Int) -> [UInt8]? {
        var s = State(input: input, limit: outputSize)
        do { try s.run() } catch { return nil }
        if s.out.count < outputSize { s.out += [UInt8](repeating: 0, count: outputSize - s.out.count) }
        return s.out
    }

    private struct Bad: Error {}

    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int]
        init?(lengths: [Int]) {
            symbols = [Int](repeating: 0, count: lengths.count)
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            var left = 1
            for len in 1..<16 {
                left <<= 1
                left -= counts[len]
                if left < 0 { return nil }   // over-subscribed
            }
            var offs = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offs[len + 1] = offs[len] + counts[len] }
            for (sym, l) in lengths.enumerated() where l != 0 {
                symbols[offs[l]] = sym
                offs[l] += 1
            }
        }
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    private static let fixedLit: Huffman = {
        var l = [Int](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        return Huffman(lengths: l)!
    }()
    private static let fixedDist = Huffman(lengths: [Int](repeating: 5, count: 30))!

    private struct State {
        let input: [UInt8]
        let limit: Int
        var pos = 0
        var bitBuf = 0
        var bitCnt = 0
        var out: [UInt8] = []
        var full: Bool { out.count >= limit }

        init(input: [UInt8], limit: Int) {
            self.input = input
            self.limit = limit
            out.reserveCapacity(limit)
        }

        mutating func bits(_ n: Int) throws -> Int {
            var v = bitBuf
            while bitCnt < n {
                guard pos < input.count else { throw Bad() }
                v |= Int(input[pos]) << bitCnt
                pos += 1
                bitCnt += 8
            }
            bitBuf = v >> n
            bitCnt -= n
            return v & ((1 << n) - 1)
        }

        mutating func decode(_ h: Huffman) throws -> Int {
            var code = 0, first = 0, index = 0
            for len in 1..<16 {
                code |= try bits(1)
                let count = h.counts[len]
                if code - count < first { return h.symbols[index + (code - first)] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw Bad()
        }

        mutating func run() throws {
            var last = 0
            repeat {
                if full { return }
                last = try bits(1)
                switch try bits(2) {
                case 0: try stored()
                case 1: try codes(Inflate.fixedLit, Inflate.fixedDist)
                case 2:
                    let (l, d) = try dynamicTables()
                    try codes(l, d)
                default: throw Bad()
                }
            } while last == 0
        }

        mutating func stored() throws {
            bitBuf = 0; bitCnt = 0
            guard pos + 4 <= input.count else { throw Bad() }
            let len = Int(input[pos]) | Int(input[pos + 1]) << 8
            let nlen = Int(input[pos + 2]) | Int(input[pos + 3]) << 8
            guard len == (~nlen & 0xffff) else { throw Bad() }
            pos += 4
            guard pos + len <= input.count else { throw Bad() }
            let n = min(len, limit - out.count)
            out += input[pos..<pos + n]
            pos += len
        }

        mutating func dynamicTables() throws -> (Huffman, Huffman) {
            let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
            guard nlen <= 286, ndist <= 30 else { throw Bad() }
            let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
            var cl = [Int](repeating: 0, count: 19)
            for i in 0..<ncode { cl[order[i]] = try bits(3) }
            guard let clh = Huffman(lengths: cl) else { throw Bad() }
            var lengths: [Int] = []
            while lengths.count < nlen + ndist {
                let sym = try decode(clh)
                if sym < 16 { lengths.append(sym); continue }
                var rep = 0, val = 0
                switch sym {
                case 16:
                    guard let prev = lengths.last else { throw Bad() }
                    val = prev; rep = 3 + (try bits(2))
                case 17: rep = 3 + (try bits(3))
                default: rep = 11 + (try bits(7))
                }
                guard lengths.count + rep <= nlen + ndist else { throw Bad() }
                lengths += [Int](repeating: val, count: rep)
            }
            guard lengths[256] != 0,
                  let lit = Huffman(lengths: Array(lengths[0..<nlen])),
                  let dist = Huffman(lengths: Array(lengths[nlen...])) else { throw Bad() }
            return (lit, dist)
        }

        mutating func codes(_ lit: Huffman, _ dist: Huffman) throws {
            while true {
                if full { return }
                let sym = try decode(lit)
                if sym < 256 { out.append(UInt8(sym)); continue }
                if sym == 256 { return }
                let li = sym - 257
                guard li < 29 else { throw Bad() }
                let len = Inflate.lengthBase[li] + (try bits(Inflate.lengthExtra[li]))
                let ds = try decode(dist)
                guard ds < 30 else { throw Bad() }
                let d = Inflate.distBase[ds] + (try bits(Inflate.distExtra[ds]))
                guard d <= out.count else { throw Bad() }
                let n = min(len, limit - out.count)
                let start = out.count - d
                for k in 0..<n { out.append(out[start + k]) }
            }
        }
    }
}
