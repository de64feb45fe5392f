import Foundation
import XCTest
import Platform
import RISCV
import Devices
import Backends

final class VirtioFuzzTests: XCTestCase {
    static let base: UInt64 = 0x8000_0000

    /// A random descriptor: mostly plausible values (inside RAM, small lengths, in-range next),
    /// sometimes arbitrary garbage.
    static func randomDescriptor(_ rng: inout SplitMix, ramSize: UInt64, queueSize: UInt16) -> (UInt64, UInt32, UInt16, UInt16) {
        let r = rng.next()
        let addr: UInt64 = r % 8 == 0 ? rng.next() : base + rng.next() % ramSize
        let len: UInt32 = r % 16 == 1 ? UInt32(truncatingIfNeeded: rng.next()) : UInt32(rng.next() % 4096)
        let flags: UInt16 = r % 32 == 2 ? UInt16(truncatingIfNeeded: rng.next()) : UInt16(rng.next() % 8)
        let next: UInt16 = r % 16 == 3 ? UInt16(truncatingIfNeeded: rng.next()) : UInt16(rng.next() % UInt64(max(queueSize, 1)))
        return (addr, len, flags, next)
    }

    static func writeDescriptor(_ ram: GuestRAM, _ at: UInt64, _ d: (UInt64, UInt32, UInt16, UInt16)) {
        ram.write(at, d.0); ram.write(at + 8, d.1); ram.write(at + 12, d.2); ram.write(at + 14, d.3)
    }

    /// Random descriptor tables, indirect tables and ring contents fed to the virtqueue parser:
    /// it must throw or return a chain whose every segment lies in RAM, never trap or hang.
    func testVirtqueueParserFuzz() {
        var rng = SplitMix(state: 0x7669_7274_696f)
        let ramSize: UInt64 = 64 << 10
        let ram = try! GuestRAM(base: Self.base, size: ramSize)
        for off in stride(from: 0, to: ramSize, by: 8) { ram.write(Self.base + off, rng.next()) }
        var parsed = 0, rejected = 0, invalidQueues = 0
        let started = Date()
        for _ in 0..<20_000 {
            let q = Virtqueue(maxSize: 256)
            let r = rng.next()
            q.size = r % 20 == 0 ? UInt16(truncatingIfNeeded: rng.next()) : UInt16(1) << UInt16(rng.next() % 9)
            let maxTable = ramSize - 16 * 256
            q.descAddr = r % 50 == 1 ? rng.next() : Self.base + (rng.next() % maxTable) & ~15
            q.availAddr = r % 50 == 2 ? rng.next() : Self.base + (rng.next() % (ramSize - 1024)) & ~1
            q.usedAddr = r % 50 == 3 ? rng.next() : Self.base + (rng.next() % (ramSize - 4096)) & ~3
            q.eventIdx = rng.next() & 1 == 0
            q.indirectAllowed = rng.next() & 1 == 0
            guard q.validate(ram) == nil else { invalidQueues += 1; continue }
            q.ready = true
            // Fresh descriptors in the table, plus a sprinkling of indirect tables elsewhere.
            for i in 0..<Int(q.size) where rng.next() % 2 == 0 {
                Self.writeDescriptor(ram, q.descAddr + 16 * UInt64(i), Self.randomDescriptor(&rng, ramSize: ramSize, queueSize: q.size))
            }
            if rng.next() % 4 == 0 {
                let n = Int(rng.next() % 16) + 1
                let table = Self.base + (rng.next() % (ramSize - 16 * 16)) & ~15
                for i in 0..<n { Self.writeDescriptor(ram, table + 16 * UInt64(i), Self.randomDescriptor(&rng, ramSize: ramSize, queueSize: UInt16(n))) }
                let slot = UInt16(rng.next() % UInt64(q.size))
                Self.writeDescriptor(ram, q.descAddr + 16 * UInt64(slot), (table, UInt32(16 * n), VirtqDescFlags.indirect, 0))
            }
            ram.write(q.availAddr + 2, UInt16(truncatingIfNeeded: rng.next() % 8))
            for i in 0..<Int(min(q.size, 8)) { ram.write(q.availAddr + 4 + 2 * UInt64(i), UInt16(truncatingIfNeeded: rng.next() % UInt64(q.size + 1))) }

            for _ in 0..<4 {
                do {
                    guard let chain = try q.pop(ram) else { break }
                    parsed += 1
                    XCTAssertLessThan(chain.head, q.size)
                    XCTAssertLessThanOrEqual(chain.readable.count + chain.writable.count, Int(q.size) + Virtqueue.maxIndirectEntries)
                    for s in chain.readable + chain.writable {
                        XCTAssertTrue(ram.contains(s.addr, UInt64(s.len)), "segment outside RAM")
                    }
                    // Write through the chain like a device would.
                    let n = ram.scatter(chain.writable, [UInt8](repeating: 0x5a, count: Int(min(chain.writableBytes, 256))))
                    try q.push(ram, head: chain.head, written: UInt32(n))
                } catch {
                    rejected += 1
                    break
                }
            }
            _ = q.needsInterrupt(ram)
        }
        let elapsed = Date().timeIntervalSince(started)
        print("virtqueue fuzz: \(parsed) chains parsed, \(rejected) rejected, \(invalidQueues) invalid queue setups in \(String(format: "%.2f", elapsed)) s")
        XCTAssertGreaterThan(parsed, 1000, "the fuzzer should produce some valid chains")
        XCTAssertGreaterThan(rejected, 1000, "the fuzzer should produce some invalid chains")
    }

    /// Random rings behind a live transport with a block device and an RNG: requests with random
    /// headers and chains must complete, fail with a status, or put the device in NEEDS_RESET.
    func testTransportAndBlockDeviceFuzz() {
        var rng = SplitMix(state: 0xb10c)
        let backend = MemoryBackend(size: 64 << 10)
        for (devIndex, device) in [VirtioBlock(backend: backend) as VirtioDevice, VirtioRNG()].enumerated() {
            let d = FakeVirtioDriver(device: device)
            var resets = 0
            var started = false
            for i in 0..<3000 {
                if !started || d.status & VirtioStatus.needsReset != 0 {
                    d.start(features: VirtioFeature.version1 | (rng.next() & 1 == 0 ? VirtioFeature.indirectDesc : 0)
                                | (rng.next() & 1 == 0 ? VirtioFeature.eventIdx : 0), queueSizes: [64])
                    d.heap = FakeVirtioDriver.ramBase + 0x4_0000
                    resets += 1
                    started = true
                }
                let q = d.queues[0]!
                // Plausible block headers in the heap region.
                let hdr = d.alloc(zeroed: 16)
                d.ram.write(hdr, UInt32(rng.next() % 16))
                d.ram.write(hdr + 8, rng.next() % 256)
                for j in 0..<Int(q.size) where rng.next() % 3 == 0 {
                    var desc = Self.randomDescriptor(&rng, ramSize: 1 << 20, queueSize: q.size)
                    if rng.next() % 3 == 0 { desc.0 = hdr; desc.1 = 16; desc.2 &= ~VirtqDescFlags.write }
                    Self.writeDescriptor(d.ram, q.desc + 16 * UInt64(j), desc)
                }
                if rng.next() % 2 == 0 {
                    d.add(0, [(hdr, 16, false), (d.alloc(zeroed: 512), 512, rng.next() & 1 == 0), (d.alloc(zeroed: 1), 1, true)],
                          indirect: rng.next() % 3 == 0)
                } else {
                    d.ram.write(q.avail + 2, UInt16(truncatingIfNeeded: rng.next() % 70) &+ q.availIdx)
                }
                // Occasional random register traffic.
                if rng.next() % 8 == 0 {
                    let off = (rng.next() % 0x110) & ~3
                    if off != VirtioMMIOReg.status { d.transport.write(off, size: 4, value: rng.next()) }
                }
                d.notify(0)
                d.transport.service()
                _ = d.takeUsed(0)
                d.ack()
                if d.heap > FakeVirtioDriver.ramBase + 0xf_0000 { d.heap = FakeVirtioDriver.ramBase + 0x4_0000 }
                _ = i
            }
            print("transport fuzz (device \(devIndex)): \(resets) resets")
        }
    }
}

final class BlockBackendTests: XCTestCase {
    func tempFile(size: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("matryoshka-disk-\(UUID().uuidString).img").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(count: size)))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testDiskSpecParsing() throws {
        XCTAssertEqual(try DiskSpec.parse("a.img"), DiskSpec(path: "a.img"))
        XCTAssertEqual(try DiskSpec.parse("/x/a.img,format=raw,readonly=on"), DiskSpec(path: "/x/a.img", format: "raw", readOnly: true))
        XCTAssertEqual(try DiskSpec.parse("file=b.img,readonly=off"), DiskSpec(path: "b.img"))
        XCTAssertEqual(try DiskSpec.parse("we,,ird.img"), DiskSpec(path: "we,ird.img"))
        XCTAssertThrowsError(try DiskSpec.parse(""))
        XCTAssertThrowsError(try DiskSpec.parse("a.img,format=vmdk"))
        XCTAssertThrowsError(try DiskSpec.parse("a.img,readonly=maybe"))
        XCTAssertThrowsError(try DiskSpec.parse("a.img,cache=none"))
    }

    func testRawFileReadWriteFlushDiscard() throws {
        let path = try tempFile(size: 1 << 20)
        let b = try RawFileBackend(path: path, readOnly: false)
        XCTAssertEqual(b.size, 1 << 20)
        let data = (0..<8192).map { UInt8(truncatingIfNeeded: $0 * 13) }
        try data.withUnsafeBytes { try b.write(from: $0, at: 4096) }
        try b.flush()
        var back = [UInt8](repeating: 0, count: 8192)
        try back.withUnsafeMutableBytes { try b.read(into: $0, at: 4096) }
        XCTAssertEqual(back, data)
        try b.writeZeroes(offset: 4096, length: 4096, unmap: false)
        try b.discard(offset: 8192, length: 4096)
        try back.withUnsafeMutableBytes { try b.read(into: $0, at: 4096) }
        XCTAssertEqual(Array(back[0..<4096]), [UInt8](repeating: 0, count: 4096))
    }

    /// A scattered request (empty pieces included, more pieces than one pwritev takes) lands in order,
    /// through the raw backend's pwritev and through the generic one-piece-at-a-time fallback alike.
    func testGatheringWriteLandsInOrder() throws {
        let path = try tempFile(size: 8 << 20)
        let raw = try RawFileBackend(path: path, readOnly: false)
        let memory = MemoryBackend(size: 8 << 20)
        var g: UInt64 = 0x1234_5678
        let sizes = (0..<1500).map { i -> Int in
            g ^= g << 13; g ^= g >> 7; g ^= g << 17
            return i % 7 == 0 ? 0 : 1 + Int(g % 3000)
        }
        let total = sizes.reduce(0, +)
        let data = (0..<total).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 9)) }
        try data.withUnsafeBytes { all in
            var pieces: [UnsafeRawBufferPointer] = []
            var at = 0
            for n in sizes { pieces.append(UnsafeRawBufferPointer(rebasing: all[at..<(at + n)])); at += n }
            try raw.write(gathering: pieces, at: 512)
            try memory.write(gathering: pieces, at: 512)
        }
        for backend in [raw as BlockBackend, memory] {
            var back = [UInt8](repeating: 0, count: total + 1024)
            try back.withUnsafeMutableBytes { try backend.read(into: $0, at: 0) }
            XCTAssertEqual(Array(back[512..<(512 + total)]), data, "\(type(of: backend))")
            XCTAssertEqual(Array(back[0..<512]), [UInt8](repeating: 0, count: 512))
            XCTAssertEqual(Array(back[(512 + total)...]), [UInt8](repeating: 0, count: 512))
        }
    }

    func testWritableImageIsLockedExclusively() throws {
        let path = try tempFile(size: 4096)
        do {
            let first = try RawFileBackend(path: path, readOnly: false)
            XCTAssertThrowsError(try RawFileBackend(path: path, readOnly: false)) { error in
                XCTAssertTrue("\(error)".contains(path), "error names the file: \(error)")
                XCTAssertTrue("\(error)".contains("locked"), "error says why: \(error)")
            }
            XCTAssertThrowsError(try RawFileBackend(path: path, readOnly: true), "read-only open of an image in use for writing")
            withExtendedLifetime(first) {}
        }
        // Once released, two read-only users may share it.
        let r1 = try RawFileBackend(path: path, readOnly: true)
        let r2 = try RawFileBackend(path: path, readOnly: true)
        XCTAssertThrowsError(try RawFileBackend(path: path, readOnly: false))
        XCTAssertTrue(r1.readOnly && r2.readOnly)
        var buf = [UInt8](repeating: 1, count: 512)
        XCTAssertThrowsError(try buf.withUnsafeBytes { try r1.write(from: $0, at: 0) })
        try buf.withUnsafeMutableBytes { try r2.read(into: $0, at: 0) }
        XCTAssertEqual(buf, [UInt8](repeating: 0, count: 512))
    }

    func testMissingImageNamesTheFile() {
        XCTAssertThrowsError(try DiskSpec(path: "/nonexistent/disk.img").open()) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/disk.img"))
        }
    }
}
