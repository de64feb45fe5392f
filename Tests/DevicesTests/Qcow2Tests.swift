import Platform
import Devices
import Backends
import Foundation
import XCTest

/// qcow2 backend against images made and checked by qemu-img / qemu-io (Debian qemu-utils).
/// Without those tools the tests skip, or fail under CI=true.
final class Qcow2Tests: XCTestCase {
    // MARK: Helpers

    struct SplitMix {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    }

    private func tool(_ name: String) throws -> String {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
        if let p = dirs.map({ $0 + "/" + name }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return p }
        let msg = "\(name) not found: install qemu-utils (apt-get install qemu-utils)"
        if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(msg); throw XCTSkip("(failed above) " + msg) }
        throw XCTSkip(msg)
    }

    @discardableResult
    private func run(_ name: String, _ args: [String], expectStatus: Int32? = 0, file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try tool(name))
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let out = String(decoding: data, as: UTF8.self)
        if let e = expectStatus {
            XCTAssertEqual(p.terminationStatus, e, "\(name) \(args.joined(separator: " ")):\n\(out)", file: file, line: line)
        }
        return (p.terminationStatus, out)
    }

    private func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("matryoshka-qcow2-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    private func readAll(_ b: BlockBackend, chunk: Int = 3 * 65536 + 512) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(b.size))
        var off = 0
        try out.withUnsafeMutableBytes { p in
            while off < p.count {
                let n = min(chunk, p.count - off)
                try b.read(into: UnsafeMutableRawBufferPointer(rebasing: p[off..<off + n]), at: UInt64(off))
                off += n
            }
        }
        return out
    }

    private func firstMismatch(_ a: [UInt8], _ b: [UInt8]) -> String {
        guard a.count == b.count else { return "sizes differ: \(a.count) vs \(b.count)" }
        guard let i = a.indices.first(where: { a[$0] != b[$0] }) else { return "identical" }
        return "first difference at byte \(i) (0x\(String(i, radix: 16))): \(a[i]) vs \(b[i])"
    }

    /// Sparse test content: random runs, zero runs, and patterned runs.
    private func pattern(size: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix(s: seed)
        var d = [UInt8](repeating: 0, count: size)
        var off = 0
        while off < size {
            let len = min(size - off, 1 + rng.below(300_000))
            switch rng.below(3) {
            case 0: for i in off..<off + len { d[i] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1: for i in off..<off + len { d[i] = UInt8(truncatingIfNeeded: i / 7) }
            default: break
            }
            off += len
        }
        return d
    }

    private func checkImage(_ img: String, equals ref: [UInt8], dir: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let check = try run("qemu-img", ["check", img], file: file, line: line)
        XCTAssertTrue(check.output.contains("No errors were found"), "qemu-img check \(img):\n\(check.output)", file: file, line: line)
        XCTAssertFalse(check.output.contains("leaked"), "qemu-img check \(img) reports leaks:\n\(check.output)", file: file, line: line)
        let rawRef = dir + "/ref-\(UUID().uuidString).raw"
        try Data(ref).write(to: URL(fileURLWithPath: rawRef))
        let cmp = try run("qemu-img", ["compare", "-f", "qcow2", "-F", "raw", img, rawRef], file: file, line: line)
        XCTAssertTrue(cmp.output.contains("Images are identical"), "qemu-img compare:\n\(cmp.output)", file: file, line: line)
        try? FileManager.default.removeItem(atPath: rawRef)
    }

    // MARK: Reading

    func testReadsImagesConvertedByQemuImg() throws {
        let dir = try tempDir()
        let size = 6 << 20
        let data = pattern(size: size, seed: 1)
        let raw = dir + "/src.raw"
        try Data(data).write(to: URL(fileURLWithPath: raw))
        let configs: [(opts: String, compress: Bool)] = [
            ("cluster_size=65536", false),
            ("cluster_size=512,refcount_bits=1", false),
            ("cluster_size=4096,refcount_bits=64", false),
            ("cluster_size=2097152,refcount_bits=8", false),
            ("compat=0.10,cluster_size=16384", false),
            ("cluster_size=65536", true),
            ("cluster_size=4096", true),
        ]
        for (n, c) in configs.enumerated() {
            let img = dir + "/conv\(n).qcow2"
            try run("qemu-img", ["convert", "-O", "qcow2", "-o", c.opts] + (c.compress ? ["-c"] : []) + [raw, img])
            let b = try Qcow2Backend(path: img, readOnly: true)
            XCTAssertEqual(b.size, UInt64(size))
            let back = try readAll(b)
            XCTAssertTrue(back == data, "\(c): \(firstMismatch(back, data))")
            // Unaligned small reads.
            var rng = SplitMix(s: UInt64(n))
            for _ in 0..<200 {
                let off = rng.below(size - 1)
                let len = 1 + rng.below(min(size - off, 70_000))
                var buf = [UInt8](repeating: 0xee, count: len)
                try buf.withUnsafeMutableBytes { try b.read(into: $0, at: UInt64(off)) }
                XCTAssertTrue(buf[...] == data[off..<off + len], "\(c): read at \(off)+\(len)")
            }
        }
    }

    func testReadsThroughBackingChainWrittenByQemuIo() throws {
        let dir = try tempDir()
        let size = 4 << 20
        var expected = pattern(size: size, seed: 2)
        try Data(expected).write(to: URL(fileURLWithPath: dir + "/base.raw"))
        // Relative backing names resolve against the overlay's directory.
        try run("qemu-img", ["create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", dir + "/mid.qcow2"])
        try run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 100k 3k", "-c", "write -z 1M 128k", "-c", "write -P 0x11 3M 65k", dir + "/mid.qcow2"])
        for i in (100 << 10)..<(103 << 10) { expected[i] = 0x5a }
        for i in (1 << 20)..<((1 << 20) + (128 << 10)) { expected[i] = 0 }
        for i in (3 << 20)..<((3 << 20) + (65 << 10)) { expected[i] = 0x11 }
        try run("qemu-img", ["create", "-f", "qcow2", "-o", "cluster_size=4096", "-b", dir + "/mid.qcow2", "-F", "qcow2", dir + "/top.qcow2"])
        try run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x77 1000k 10k", "-c", "discard 3M 64k", dir + "/top.qcow2"])
        for i in (1000 << 10)..<(1010 << 10) { expected[i] = 0x77 }
        for i in (3 << 20)..<((3 << 20) + (64 << 10)) { expected[i] = 0 }

        let top = try Qcow2Backend(path: dir + "/top.qcow2", readOnly: true)
        XCTAssertEqual(top.backingPath, dir + "/mid.qcow2")
        let back = try readAll(top)
        XCTAssertTrue(back == expected, firstMismatch(back, expected))
        // The same through DiskSpec's auto-detection.
        let viaSpec = try DiskSpec.parse(dir + "/top.qcow2,readonly=on").open()
        XCTAssertTrue(viaSpec is Qcow2Backend)
        XCTAssertTrue(try readAll(viaSpec) == expected)
        let forcedRaw = try DiskSpec.parse(dir + "/top.qcow2,format=raw,readonly=on").open()
        XCTAssertTrue(forcedRaw is RawFileBackend)
    }

    // MARK: Writing

    private func writeWorkload(img: String, ref: inout [UInt8], seed: UInt64, ops: Int, maxLen: Int) throws {
        let b = try Qcow2Backend(path: img, readOnly: false)
        var rng = SplitMix(s: seed)
        let size = ref.count
        for k in 0..<ops {
            let off = rng.below(size - 1)
            let len = 1 + rng.below(min(maxLen, size - off))
            switch rng.below(10) {
            case 0:
                try b.writeZeroes(offset: UInt64(off), length: UInt64(len), unmap: rng.below(2) == 0)
                for i in off..<off + len { ref[i] = 0 }
            case 1:
                // Discard leaves contents unspecified; our backend zeroes, which the reference mirrors.
                try b.discard(offset: UInt64(off), length: UInt64(len))
                for i in off..<off + len { ref[i] = 0 }
            default:
                let d = rng.bytes(len)
                try d.withUnsafeBytes { try b.write(from: $0, at: UInt64(off)) }
                ref.replaceSubrange(off..<off + len, with: d)
            }
            if k % 25 == 0 {
                let roff = rng.below(size - 1)
                let rlen = 1 + rng.below(min(200_000, size - roff))
                var buf = [UInt8](repeating: 0, count: rlen)
                try buf.withUnsafeMutableBytes { try b.read(into: $0, at: UInt64(roff)) }
                XCTAssertTrue(buf[...] == ref[roff..<roff + rlen], "read-back at \(roff)+\(rlen) after op \(k)")
            }
        }
        try b.flush()
        let all = try readAll(b)
        XCTAssertTrue(all == ref, "before close: " + firstMismatch(all, ref))
        b.close()
    }

    func testRandomWritesPassQemuImgCheckAndCompare() throws {
        let dir = try tempDir()
        let configs: [(opts: String, size: Int, ops: Int, maxLen: Int)] = [
            ("cluster_size=65536", 64 << 20, 300, 300_000),
            ("cluster_size=512", 24 << 20, 400, 100_000),              // refcount table must grow
            ("cluster_size=512,refcount_bits=64", 8 << 20, 300, 60_000), // and grow again
            ("cluster_size=4096,refcount_bits=1", 16 << 20, 300, 100_000),
            ("cluster_size=1024,refcount_bits=4", 8 << 20, 200, 50_000),
            ("compat=0.10,cluster_size=8192", 16 << 20, 200, 100_000),
            ("preallocation=metadata,lazy_refcounts=on", 16 << 20, 200, 100_000),
            ("preallocation=falloc,cluster_size=4096", 8 << 20, 200, 50_000),
        ]
        for (n, c) in configs.enumerated() {
            let img = dir + "/w\(n).qcow2"
            try run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", c.opts, img, "\(c.size)"])
            var ref = [UInt8](repeating: 0, count: c.size)
            try writeWorkload(img: img, ref: &ref, seed: UInt64(100 + n), ops: c.ops, maxLen: c.maxLen)
            try checkImage(img, equals: ref, dir: dir)
            if c.opts.hasPrefix("cluster_size=512") {
                let h = [UInt8](try Data(contentsOf: URL(fileURLWithPath: img)).prefix(64))
                let clusters = UInt32(h[56]) << 24 | UInt32(h[57]) << 16 | UInt32(h[58]) << 8 | UInt32(h[59])
                XCTAssertGreaterThan(clusters, 1, "\(c.opts): the workload should have grown the refcount table")
            }
            // A second session on the same file continues correctly.
            try writeWorkload(img: img, ref: &ref, seed: UInt64(200 + n), ops: c.ops / 2, maxLen: c.maxLen)
            try checkImage(img, equals: ref, dir: dir)
            let again = try Qcow2Backend(path: img, readOnly: true)
            XCTAssertTrue(try readAll(again) == ref, "\(c.opts): reopened image differs")
        }
    }

    func testPartialWritesOverBackingFileCopyOnWrite() throws {
        let dir = try tempDir()
        let size = 8 << 20
        let baseData = pattern(size: size, seed: 3)
        let base = dir + "/base.raw"
        try Data(baseData).write(to: URL(fileURLWithPath: base))
        for (n, opts) in ["cluster_size=65536", "cluster_size=4096", "compat=0.10,cluster_size=65536"].enumerated() {
            let img = dir + "/ov\(n).qcow2"
            try run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", opts, "-b", "base.raw", "-F", "raw", img])
            var ref = baseData
            try writeWorkload(img: img, ref: &ref, seed: UInt64(300 + n), ops: 250, maxLen: 20_000)
            try checkImage(img, equals: ref, dir: dir)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: base)), Data(baseData), "the backing file changed")
        }
        // A qcow2 backing file (auto-probed: no backing format in the header).
        try run("qemu-img", ["convert", "-O", "qcow2", "-c", base, dir + "/base.qcow2"])
        try run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", dir + "/ovq.qcow2"])
        var ref = baseData
        try writeWorkload(img: dir + "/ovq.qcow2", ref: &ref, seed: 400, ops: 200, maxLen: 100_000)
        try checkImage(dir + "/ovq.qcow2", equals: ref, dir: dir)
    }

    func testWritesOverCompressedClusters() throws {
        let dir = try tempDir()
        let size = 8 << 20
        let data = pattern(size: size, seed: 4)
        try Data(data).write(to: URL(fileURLWithPath: dir + "/src.raw"))
        let img = dir + "/c.qcow2"
        try run("qemu-img", ["convert", "-O", "qcow2", "-c", "-o", "cluster_size=4096", dir + "/src.raw", img])
        var ref = data
        try writeWorkload(img: img, ref: &ref, seed: 5, ops: 300, maxLen: 30_000)
        try checkImage(img, equals: ref, dir: dir)
    }

    func testSequentialWritesAreFastEnough() throws {
        let dir = try tempDir()
        let img = dir + "/seq.qcow2"
        try run("qemu-img", ["create", "-q", "-f", "qcow2", img, "64M"])
        let b = try Qcow2Backend(path: img, readOnly: false)
        var rng = SplitMix(s: 9)
        let block = rng.bytes(4096)
        let start = Date()
        try block.withUnsafeBytes { p in
            for i in 0..<(32 << 20) / 4096 { try b.write(from: p, at: UInt64(i * 4096)) }
        }
        try b.flush()
        let t = Date().timeIntervalSince(start)
        XCTAssertLessThan(t, 20, "32 MiB of sequential 4 KiB writes took \(t) s")
        b.close()
        var ref = [UInt8](repeating: 0, count: 64 << 20)
        for i in 0..<(32 << 20) / 4096 { ref.replaceSubrange(i * 4096..<(i + 1) * 4096, with: block) }
        try checkImage(img, equals: ref, dir: dir)
    }

    func testFreedClustersAreReused() throws {
        let dir = try tempDir()
        let img = dir + "/reuse.qcow2"
        try run("qemu-img", ["create", "-q", "-f", "qcow2", img, "16M"])
        var ref = [UInt8](repeating: 0, count: 16 << 20)
        let b = try Qcow2Backend(path: img, readOnly: false)
        var rng = SplitMix(s: 11)
        let d = rng.bytes(8 << 20)
        try d.withUnsafeBytes { try b.write(from: $0, at: 0) }
        let grown = try FileManager.default.attributesOfItem(atPath: img)[.size] as! UInt64
        for round in 0..<3 {
            try b.discard(offset: 0, length: 8 << 20)
            let e = rng.bytes(8 << 20)
            try e.withUnsafeBytes { try b.write(from: $0, at: UInt64(4 << 20)) }
            ref = [UInt8](repeating: 0, count: 16 << 20)
            ref.replaceSubrange((4 << 20)..<(12 << 20), with: e)
            let now = try FileManager.default.attributesOfItem(atPath: img)[.size] as! UInt64
            XCTAssertLessThanOrEqual(now, grown + (4 << 20) + 65536, "round \(round): freed clusters were not reused")
        }
        b.close()
        try checkImage(img, equals: ref, dir: dir)
    }

    func testImagesWithSnapshotsAreReadOnly() throws {
        let dir = try tempDir()
        let img = dir + "/snap.qcow2"
        try run("qemu-img", ["create", "-q", "-f", "qcow2", img, "4M"])
        try run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x21 0 1M", img])
        try run("qemu-img", ["snapshot", "-c", "s1", img])
        try run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x42 64k 64k", img])
        XCTAssertThrowsError(try Qcow2Backend(path: img, readOnly: false)) { XCTAssertTrue("\($0)".contains("snapshot"), "\($0)") }
        let r = try Qcow2Backend(path: img, readOnly: true)
        var expected = [UInt8](repeating: 0, count: 4 << 20)
        for i in 0..<(1 << 20) { expected[i] = 0x21 }
        for i in (64 << 10)..<(128 << 10) { expected[i] = 0x42 }
        XCTAssertTrue(try readAll(r) == expected)
    }

    // MARK: Locking, read-only

    func testLockingAndReadOnly() throws {
        let dir = try tempDir()
        let img = dir + "/l.qcow2"
        try run("qemu-img", ["create", "-q", "-f", "qcow2", img, "1M"])
        do {
            let w = try Qcow2Backend(path: img, readOnly: false)
            XCTAssertThrowsError(try Qcow2Backend(path: img, readOnly: false)) { XCTAssertTrue("\($0)".contains("locked") && "\($0)".contains(img), "\($0)") }
            XCTAssertThrowsError(try Qcow2Backend(path: img, readOnly: true))
            withExtendedLifetime(w) {}
        }
        let r = try Qcow2Backend(path: img, readOnly: true)
        XCTAssertTrue(r.readOnly)
        let buf = [UInt8](repeating: 1, count: 512)
        XCTAssertThrowsError(try buf.withUnsafeBytes { try r.write(from: $0, at: 0) })
        XCTAssertThrowsError(try r.writeZeroes(offset: 0, length: 512, unmap: false))
        XCTAssertThrowsError(try buf.withUnsafeBytes { try r.write(from: $0, at: 1 << 20) }, "beyond the end")
    }

    // MARK: Corrupt images

    func testCorruptOrUnsupportedHeadersAreRejected() throws {
        let dir = try tempDir()
        let good = dir + "/good.qcow2"
        try run("qemu-img", ["create", "-q", "-f", "qcow2", good, "1M"])
        let orig = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        func put64(_ b: inout [UInt8], _ o: Int, _ v: UInt64) { for k in 0..<8 { b[o + k] = UInt8(truncatingIfNeeded: v >> (56 - 8 * k)) } }
        func put32(_ b: inout [UInt8], _ o: Int, _ v: UInt32) { for k in 0..<4 { b[o + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * k)) } }
        let cases: [(String, ([UInt8]) -> [UInt8])] = [
            ("empty", { _ in [] }),
            ("truncated header", { Array($0[0..<50]) }),
            ("truncated v3 header", { Array($0[0..<90]) }),
            ("truncated before L1", { Array($0[0..<0x30000]) }),
            ("bad magic", { var b = $0; b[3] = 0xfa; return b }),
            ("version 4", { var b = $0; put32(&b, 4, 4); return b }),
            ("cluster_bits 8", { var b = $0; put32(&b, 20, 8); return b }),
            ("cluster_bits 22", { var b = $0; put32(&b, 20, 22); return b }),
            ("cluster_bits 63", { var b = $0; put32(&b, 20, 63); return b }),
            ("huge size", { var b = $0; put64(&b, 24, 1 << 62); return b }),
            ("L1 too small", { var b = $0; put64(&b, 24, 1 << 40); return b }),
            ("encrypted", { var b = $0; put32(&b, 32, 2); return b }),
            ("L1 misaligned", { var b = $0; put64(&b, 40, 0x30008); return b }),
            ("L1 beyond end", { var b = $0; put64(&b, 40, 1 << 40); return b }),
            ("refcount table misaligned", { var b = $0; put64(&b, 48, 0x10010); return b }),
            ("refcount table beyond end", { var b = $0; put64(&b, 48, 1 << 40); return b }),
            ("refcount table too big", { var b = $0; put32(&b, 56, 0xffff_ffff); return b }),
            ("unknown incompatible feature", { var b = $0; put64(&b, 72, 1 << 20); return b }),
            ("external data file", { var b = $0; put64(&b, 72, 4); return b }),
            ("extended L2", { var b = $0; put64(&b, 72, 16); return b }),
            ("zstd compression", { var b = $0; put64(&b, 72, 8); b[104] = 1; return b }),
            ("dirty (writable open)", { var b = $0; put64(&b, 72, 1); return b }),
            ("refcount_order 7", { var b = $0; put32(&b, 96, 7); return b }),
            ("header_length 100", { var b = $0; put32(&b, 100, 100); return b }),
            ("header_length huge", { var b = $0; put32(&b, 100, 0x10_0000); return b }),
            ("backing name outside cluster", { var b = $0; put64(&b, 8, 0xfff0); put32(&b, 16, 100); return b }),
            ("refcount block beyond end", { var b = $0; put64(&b, 0x10000, 1 << 40); return b }),
        ]
        for (name, mutate) in cases {
            let path = dir + "/bad-\(name.replacingOccurrences(of: " ", with: "_")).qcow2"
            try Data(mutate(orig)).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try Qcow2Backend(path: path, readOnly: false), name) { error in
                XCTAssertTrue("\(error)".contains(path), "\(name): the error should name the file: \(error)")
            }
        }
        // Bad L1 / L2 entries are reported on access, as errors.
        let img = dir + "/entries.qcow2"
        try run("qemu-img", ["create", "-q", "-f", "qcow2", img, "1M"])
        try run("qemu-io", ["-f", "qcow2", "-c", "write -P 1 0 64k", img])
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: img)))
        let l1 = Int(UInt64(b[40]) << 56 | UInt64(b[41]) << 48 | UInt64(b[42]) << 40 | UInt64(b[43]) << 32 | UInt64(b[44]) << 24 | UInt64(b[45]) << 16 | UInt64(b[46]) << 8 | UInt64(b[47]))
        var l2 = 0
        for k in 0..<8 { l2 = l2 << 8 | Int(b[l1 + k]) }
        l2 &= 0x00ff_ffff_ffff_fe00
        var bad = b
        put64(&bad, l2, (1 << 63) | (1 << 45))   // data cluster beyond the end
        try Data(bad).write(to: URL(fileURLWithPath: img))
        var buf = [UInt8](repeating: 0, count: 512)
        let r1 = try Qcow2Backend(path: img, readOnly: true)
        XCTAssertThrowsError(try buf.withUnsafeMutableBytes { try r1.read(into: $0, at: 0) }) { XCTAssertTrue("\($0)".contains("corrupt"), "\($0)") }
        r1.close()
        put64(&b, l1, (1 << 63) | 0x1234_5000)     // misaligned L2 table
        try Data(b).write(to: URL(fileURLWithPath: img))
        let r2 = try Qcow2Backend(path: img, readOnly: true)
        XCTAssertThrowsError(try buf.withUnsafeMutableBytes { try r2.read(into: $0, at: 0) })
    }

    /// Random damage to the metadata must surface as errors (or odd data), never a crash.
    func testRandomlyCorruptedMetadataNeverCrashes() throws {
        let dir = try tempDir()
        let src = dir + "/src.raw"
        try Data(pattern(size: 2 << 20, seed: 6)).write(to: URL(fileURLWithPath: src))
        let good = dir + "/good.qcow2"
        try run("qemu-img", ["convert", "-O", "qcow2", "-o", "cluster_size=4096", src, good])
        let compressed = dir + "/goodc.qcow2"
        try run("qemu-img", ["convert", "-c", "-O", "qcow2", "-o", "cluster_size=4096", src, compressed])
        var rng = SplitMix(s: 77)
        var errors = 0
        for round in 0..<160 {
            var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: round % 2 == 0 ? good : compressed)))
            let metaEnd = min(b.count, 6 * 4096)   // header, refcount table/block, L1, first L2 tables
            for _ in 0..<(1 + rng.below(6)) { b[rng.below(metaEnd)] = UInt8(truncatingIfNeeded: rng.next()) }
            let path = dir + "/fuzz.qcow2"
            try Data(b).write(to: URL(fileURLWithPath: path))
            do {
                let q = try Qcow2Backend(path: path, readOnly: false)
                _ = try? readAll(q, chunk: 256 << 10)
                for _ in 0..<20 {
                    let off = UInt64(rng.below(Int(q.size) - 8192))
                    let d = rng.bytes(1 + rng.below(8192))
                    do { try d.withUnsafeBytes { try q.write(from: $0, at: off) } } catch { errors += 1 }
                    try? q.writeZeroes(offset: off & ~4095, length: 4096, unmap: true)
                }
                q.close()
            } catch {
                errors += 1
                XCTAssertTrue("\(error)".contains(path), "errors name the file: \(error)")
            }
        }
        XCTAssertGreaterThan(errors, 0, "some corruption should have been detected")
    }

    func testInflateHandlesAllBlockTypes() throws {
        // qemu-img's -c output covers dynamic Huffman blocks; also check stored and fixed blocks.
        // Stored block "hello" (BFINAL=1, BTYPE=00).
        let stored: [UInt8] = [0x01, 0x05, 0x00, 0xfa, 0xff] + Array("hello".utf8)
        XCTAssertEqual(Inflate.rawInflate(stored, outputSize: 5), Array("hello".utf8))
        // Fixed-Huffman "aaaaaaaaaa" (deflate -1 of 10 'a's): literal 'a' + match len 9 dist 1.
        let fixed: [UInt8] = [0x4b, 0x4c, 0x84, 0x01, 0x00]
        XCTAssertEqual(Inflate.rawInflate(fixed, outputSize: 10), [UInt8](repeating: 0x61, count: 10))
        XCTAssertNil(Inflate.rawInflate([0xff, 0xff, 0xff], outputSize: 100))
        XCTAssertNil(Inflate.rawInflate([], outputSize: 100))
    }
}
