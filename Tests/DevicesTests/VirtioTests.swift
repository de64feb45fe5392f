import Foundation
import XCTest
import Platform
import RISCV
import Devices
import Backends

/// A minimal virtio driver that lays out split virtqueues in GuestRAM and talks to a
/// VirtioMMIOTransport through its registers, as a guest would.
final class FakeVirtioDriver {
    static let ramBase: UInt64 = 0x8000_0000
    final class IRQBox { var level = false; var edges = 0 }
    let ram: GuestRAM
    let transport: VirtioMMIOTransport
    private let irqBox = IRQBox()
    var irqLevel: Bool { irqBox.level }
    var irqEdges: Int { irqBox.edges }
    /// Per-queue layout and driver-side ring state.
    struct Q { var size: UInt16; var desc: UInt64; var avail: UInt64; var used: UInt64; var nextDesc: UInt16 = 0; var availIdx: UInt16 = 0; var usedSeen: UInt16 = 0 }
    var queues: [Int: Q] = [:]
    /// Data buffers are carved from here upwards.
    var heap: UInt64

    init(device: VirtioDevice, ramSize: UInt64 = 1 << 20, ram existing: GuestRAM? = nil) {
        ram = existing ?? (try! GuestRAM(base: FakeVirtioDriver.ramBase, size: ramSize))
        heap = FakeVirtioDriver.ramBase + 0x4_0000
        let box = irqBox
        transport = VirtioMMIOTransport(device: device, ram: ram, irq: { l in
            box.level = l
            if l { box.edges += 1 }
        })
    }

    func r(_ off: UInt64) -> UInt32 { UInt32(transport.read(off, size: 4)) }
    func w(_ off: UInt64, _ v: UInt32) { transport.write(off, size: 4, value: UInt64(v)) }

    func deviceFeatures() -> UInt64 {
        w(VirtioMMIOReg.deviceFeaturesSel, 0); let lo = UInt64(r(VirtioMMIOReg.deviceFeatures))
        w(VirtioMMIOReg.deviceFeaturesSel, 1); let hi = UInt64(r(VirtioMMIOReg.deviceFeatures))
        return lo | hi << 32
    }

    /// Reset, ACKNOWLEDGE, DRIVER, feature negotiation; returns whether FEATURES_OK stuck.
    @discardableResult
    func negotiate(_ features: UInt64) -> Bool {
        w(VirtioMMIOReg.status, 0)
        w(VirtioMMIOReg.status, VirtioStatus.acknowledge)
        w(VirtioMMIOReg.status, VirtioStatus.acknowledge | VirtioStatus.driver)
        w(VirtioMMIOReg.driverFeaturesSel, 0); w(VirtioMMIOReg.driverFeatures, UInt32(truncatingIfNeeded: features))
        w(VirtioMMIOReg.driverFeaturesSel, 1); w(VirtioMMIOReg.driverFeatures, UInt32(truncatingIfNeeded: features >> 32))
        w(VirtioMMIOReg.status, VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK)
        return r(VirtioMMIOReg.status) & VirtioStatus.featuresOK != 0
    }

    func setupQueue(_ q: Int, size: UInt16) {
        let area = FakeVirtioDriver.ramBase + UInt64(q) * 0x1_0000
        let desc = area, avail = area + 0x4000, used = area + 0x8000
        w(VirtioMMIOReg.queueSel, UInt32(q))
        w(VirtioMMIOReg.queueNum, UInt32(size))
        w(VirtioMMIOReg.queueDescLow, UInt32(truncatingIfNeeded: desc)); w(VirtioMMIOReg.queueDescHigh, UInt32(desc >> 32))
        w(VirtioMMIOReg.queueDriverLow, UInt32(truncatingIfNeeded: avail)); w(VirtioMMIOReg.queueDriverHigh, UInt32(avail >> 32))
        w(VirtioMMIOReg.queueDeviceLow, UInt32(truncatingIfNeeded: used)); w(VirtioMMIOReg.queueDeviceHigh, UInt32(used >> 32))
        w(VirtioMMIOReg.queueReady, 1)
        queues[q] = Q(size: size, desc: desc, avail: avail, used: used)
    }

    func driverOK() {
        w(VirtioMMIOReg.status, VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK | VirtioStatus.driverOK)
    }

    /// Full bring-up with the given features and every queue at `size`.
    func start(features: UInt64 = VirtioFeature.version1, queueSizes: [UInt16]) {
        XCTAssertTrue(negotiate(features))
        for (i, s) in queueSizes.enumerated() { setupQueue(i, size: s) }
        driverOK()
    }

    func alloc(_ bytes: [UInt8]) -> UInt64 {
        let a = heap
        ram.copyIn(a, bytes)
        heap += (UInt64(bytes.count) + 15) & ~15
        return a
    }
    func alloc(zeroed n: Int) -> UInt64 { alloc([UInt8](repeating: 0, count: n)) }

    func writeDesc(_ table: UInt64, _ i: UInt16, addr: UInt64, len: UInt32, flags: UInt16, next: UInt16) {
        let d = table + 16 * UInt64(i)
        ram.write(d, addr); ram.write(d + 8, len); ram.write(d + 12, flags); ram.write(d + 14, next)
    }

    /// Adds a chain of buffers (addr, len, deviceWritable) and makes it available. Returns the head.
    @discardableResult
    func add(_ q: Int, _ bufs: [(UInt64, UInt32, Bool)], indirect: Bool = false, publish: Bool = true) -> UInt16 {
        var s = queues[q]!
        let head = s.nextDesc % s.size
        if indirect {
            let table = alloc(zeroed: 16 * bufs.count)
            for (i, b) in bufs.enumerated() {
                let last = i == bufs.count - 1
                writeDesc(table, UInt16(i), addr: b.0, len: b.1,
                          flags: (b.2 ? VirtqDescFlags.write : 0) | (last ? 0 : VirtqDescFlags.next), next: UInt16(i + 1))
            }
            writeDesc(s.desc, head, addr: table, len: UInt32(16 * bufs.count), flags: VirtqDescFlags.indirect, next: 0)
            s.nextDesc &+= 1
        } else {
            for (i, b) in bufs.enumerated() {
                let idx = (s.nextDesc &+ UInt16(i)) % s.size
                let last = i == bufs.count - 1
                writeDesc(s.desc, idx, addr: b.0, len: b.1,
                          flags: (b.2 ? VirtqDescFlags.write : 0) | (last ? 0 : VirtqDescFlags.next), next: (idx + 1) % s.size)
            }
            s.nextDesc &+= UInt16(bufs.count)
        }
        ram.write(s.avail + 4 + 2 * UInt64(s.availIdx % s.size), head)
        s.availIdx &+= 1
        if publish { ram.write(s.avail + 2, s.availIdx) }
        queues[q] = s
        return head
    }

    func notify(_ q: Int) { w(VirtioMMIOReg.queueNotify, UInt32(q)) }

    /// New used entries (id, len) since the last call.
    func takeUsed(_ q: Int) -> [(UInt32, UInt32)] {
        var s = queues[q]!
        let idx = ram.read(s.used + 2, as: UInt16.self)!
        var out: [(UInt32, UInt32)] = []
        while s.usedSeen != idx {
            let e = s.used + 4 + 8 * UInt64(s.usedSeen % s.size)
            out.append((ram.read(e, as: UInt32.self)!, ram.read(e + 4, as: UInt32.self)!))
            s.usedSeen &+= 1
        }
        queues[q] = s
        return out
    }

    func ack() {
        let isr = r(VirtioMMIOReg.interruptStatus)
        w(VirtioMMIOReg.interruptACK, isr)
    }
    var status: UInt32 { r(VirtioMMIOReg.status) }
}

// MARK: - Block request helpers

extension FakeVirtioDriver {
    func blkHeader(_ type: UInt32, sector: UInt64) -> UInt64 {
        var h = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: type.littleEndian) { for i in 0..<4 { h[i] = $0[i] } }
        withUnsafeBytes(of: sector.littleEndian) { for i in 0..<8 { h[8 + i] = $0[i] } }
        return alloc(h)
    }
    /// Issues one request and returns (status byte, used length, data buffer address).
    func blk(_ type: UInt32, sector: UInt64, out: [UInt8] = [], inLen: Int = 0, indirect: Bool = false) -> (UInt8, UInt32, UInt64) {
        let hdr = blkHeader(type, sector: sector)
        var bufs: [(UInt64, UInt32, Bool)] = [(hdr, 16, false)]
        if !out.isEmpty { bufs.append((alloc(out), UInt32(out.count), false)) }
        var dataAddr: UInt64 = 0
        if inLen > 0 { dataAddr = alloc(zeroed: inLen); bufs.append((dataAddr, UInt32(inLen), true)) }
        let st = alloc([0xff])
        bufs.append((st, 1, true))
        add(0, bufs, indirect: indirect)
        notify(0)
        if let b = transport.device as? VirtioBlock, b.isAsynchronous {
            b.drain()
            transport.service()
        }
        let used = takeUsed(0)
        XCTAssertEqual(used.count, 1)
        return (ram.read(st, as: UInt8.self)!, used.first?.1 ?? 0, dataAddr)
    }
}

final class VirtioTransportTests: XCTestCase {
    func testIdentificationRegisters() {
        let d = FakeVirtioDriver(device: VirtioBlock(backend: MemoryBackend(size: 4096)))
        XCTAssertEqual(d.r(VirtioMMIOReg.magic), 0x7472_6976)
        XCTAssertEqual(d.r(VirtioMMIOReg.version), 2)
        XCTAssertEqual(d.r(VirtioMMIOReg.deviceID), 2)
        XCTAssertNotEqual(d.r(VirtioMMIOReg.vendorID), 0)
        let f = d.deviceFeatures()
        XCTAssertNotEqual(f & VirtioFeature.version1, 0)
        XCTAssertNotEqual(f & VirtioFeature.indirectDesc, 0)
        XCTAssertNotEqual(f & VirtioFeature.eventIdx, 0)
        XCTAssertNotEqual(f & VirtioBlock.Feature.flush, 0)
        d.w(VirtioMMIOReg.queueSel, 0)
        XCTAssertEqual(d.r(VirtioMMIOReg.queueNumMax), 256)
        d.w(VirtioMMIOReg.queueSel, 1)
        XCTAssertEqual(d.r(VirtioMMIOReg.queueNumMax), 0, "only one queue")
        // Capacity in config space, readable as 8 bytes or two words.
        XCTAssertEqual(d.transport.read(0x100, size: 8), 8)
        XCTAssertEqual(d.transport.read(0x100, size: 4), 8)
        XCTAssertEqual(d.transport.read(0x104, size: 4), 0)
        XCTAssertEqual(d.transport.read(0x114, size: 4), 512, "blk_size")
        XCTAssertEqual(d.transport.read(0x1000 - 4, size: 4), 0, "beyond config reads 0")
    }

    func testFeatureNegotiationRequiresVersion1AndOfferedBits() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        XCTAssertFalse(d.negotiate(0), "legacy (no VERSION_1) must be refused")
        XCTAssertFalse(d.negotiate(VirtioFeature.version1 | 1 << 50), "unoffered bit must be refused")
        XCTAssertTrue(d.negotiate(VirtioFeature.version1 | VirtioFeature.eventIdx))
        XCTAssertEqual(d.transport.driverFeatures, VirtioFeature.version1 | VirtioFeature.eventIdx)
        // DRIVER_OK without FEATURES_OK does not stick.
        d.w(VirtioMMIOReg.status, 0)
        d.w(VirtioMMIOReg.status, VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.driverOK)
        XCTAssertEqual(d.status & VirtioStatus.driverOK, 0)
    }

    func testResetClearsEverything() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        d.start(queueSizes: [16])
        let buf = d.alloc(zeroed: 32)
        d.add(0, [(buf, 32, true)]); d.notify(0)
        XCTAssertTrue(d.irqLevel)
        d.w(VirtioMMIOReg.status, 0)
        XCTAssertEqual(d.status, 0)
        XCTAssertFalse(d.irqLevel)
        XCTAssertEqual(d.r(VirtioMMIOReg.interruptStatus), 0)
        d.w(VirtioMMIOReg.queueSel, 0)
        XCTAssertEqual(d.r(VirtioMMIOReg.queueReady), 0)
    }

    func testInvalidQueueSizeNeedsReset() {
        for bad: UInt16 in [0, 3, 100, 512] {
            let d = FakeVirtioDriver(device: VirtioRNG())
            XCTAssertTrue(d.negotiate(VirtioFeature.version1))
            d.setupQueue(0, size: bad)
            XCTAssertEqual(d.r(VirtioMMIOReg.queueReady), 0, "size \(bad)")
            XCTAssertNotEqual(d.status & VirtioStatus.needsReset, 0, "size \(bad)")
        }
    }

    func testRingOutsideRAMNeedsReset() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        XCTAssertTrue(d.negotiate(VirtioFeature.version1))
        d.w(VirtioMMIOReg.queueSel, 0)
        d.w(VirtioMMIOReg.queueNum, 16)
        d.w(VirtioMMIOReg.queueDescLow, 0x1000)   // below RAM
        d.w(VirtioMMIOReg.queueReady, 1)
        XCTAssertEqual(d.r(VirtioMMIOReg.queueReady), 0)
        XCTAssertNotEqual(d.status & VirtioStatus.needsReset, 0)
        XCTAssertNotNil(d.transport.lastError)
    }

    func testDescriptorLoopNeedsResetWithConfigInterrupt() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        d.start(queueSizes: [8])
        let q = d.queues[0]!
        let buf = d.alloc(zeroed: 16)
        d.writeDesc(q.desc, 0, addr: buf, len: 16, flags: VirtqDescFlags.write | VirtqDescFlags.next, next: 1)
        d.writeDesc(q.desc, 1, addr: buf, len: 16, flags: VirtqDescFlags.write | VirtqDescFlags.next, next: 0)
        d.ram.write(q.avail + 4, UInt16(0)); d.ram.write(q.avail + 2, UInt16(1))
        d.notify(0)
        XCTAssertNotEqual(d.status & VirtioStatus.needsReset, 0)
        XCTAssertEqual(d.r(VirtioMMIOReg.interruptStatus) & 2, 2, "configuration-change interrupt")
        XCTAssertTrue(d.irqLevel)
        XCTAssertTrue(d.takeUsed(0).isEmpty)
        // Further notifications are ignored until reset; a reset recovers.
        d.notify(0)
        d.w(VirtioMMIOReg.status, 0)
        XCTAssertEqual(d.status, 0)
        d.ram.write(q.avail + 2, UInt16(0))   // a driver starts from fresh rings
        d.start(queueSizes: [8])
        XCTAssertEqual(d.status & VirtioStatus.needsReset, 0)
    }

    func testReadableAfterWritableIsRejected() {
        let d = FakeVirtioDriver(device: VirtioBlock(backend: MemoryBackend(size: 4096)))
        d.start(queueSizes: [16])
        let a = d.alloc(zeroed: 16)
        d.add(0, [(a, 1, true), (a, 16, false)])
        d.notify(0)
        XCTAssertNotEqual(d.status & VirtioStatus.needsReset, 0)
    }

    func testBufferOutsideRAMIsRejected() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        d.start(queueSizes: [16])
        d.add(0, [(FakeVirtioDriver.ramBase + (1 << 20) - 8, 16, true)])   // straddles the end of RAM
        d.notify(0)
        XCTAssertNotEqual(d.status & VirtioStatus.needsReset, 0)
        XCTAssertEqual(d.ram.read(FakeVirtioDriver.ramBase + (1 << 20) - 8, as: UInt64.self), 0, "nothing written")
    }

    func testAvailableIndexJumpIsRejected() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        d.start(queueSizes: [16])
        d.ram.write(d.queues[0]!.avail + 2, UInt16(17))
        d.notify(0)
        XCTAssertNotEqual(d.status & VirtioStatus.needsReset, 0)
    }

    func testIndirectWithoutNegotiationIsRejected() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        d.start(features: VirtioFeature.version1, queueSizes: [16])
        d.add(0, [(d.alloc(zeroed: 8), 8, true)], indirect: true)
        d.notify(0)
        XCTAssertNotEqual(d.status & VirtioStatus.needsReset, 0)
    }

    func testInterruptSuppressionWithoutEventIdx() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        d.start(queueSizes: [16])
        d.ram.write(d.queues[0]!.avail, UInt16(1))   // VIRTQ_AVAIL_F_NO_INTERRUPT
        d.add(0, [(d.alloc(zeroed: 8), 8, true)]); d.notify(0)
        XCTAssertEqual(d.takeUsed(0).count, 1)
        XCTAssertFalse(d.irqLevel)
        d.ram.write(d.queues[0]!.avail, UInt16(0))
        d.add(0, [(d.alloc(zeroed: 8), 8, true)]); d.notify(0)
        XCTAssertTrue(d.irqLevel)
        d.ack()
        XCTAssertFalse(d.irqLevel)
    }

    func testEventIdx() {
        let d = FakeVirtioDriver(device: VirtioRNG())
        d.start(features: VirtioFeature.version1 | VirtioFeature.eventIdx, queueSizes: [16])
        let q = d.queues[0]!
        // used_event = 2: interrupt only when the used index moves past 2.
        d.ram.write(q.avail + 4 + 2 * 16, UInt16(2))
        for i in 0..<4 {
            d.add(0, [(d.alloc(zeroed: 8), 8, true)]); d.notify(0)
            XCTAssertEqual(d.irqLevel, i == 2, "after \(i + 1) completions")
            d.ack()
        }
        // avail_event follows the device's position.
        XCTAssertEqual(d.ram.read(q.used + 4 + 8 * 16, as: UInt16.self), 4)
    }

    func testStateRoundTripAndTruncation() throws {
        let d = FakeVirtioDriver(device: VirtioBlock(backend: MemoryBackend(size: 4096)))
        d.start(features: VirtioFeature.version1 | VirtioFeature.eventIdx, queueSizes: [64])
        _ = d.blk(VirtioBlock.RequestType.in, sector: 0, inLen: 512)
        var w = StateWriter()
        d.transport.saveState(&w)
        let bytes = w.bytes

        let e = FakeVirtioDriver(device: VirtioBlock(backend: MemoryBackend(size: 4096)))
        var r = StateReader(bytes)
        try e.transport.loadState(&r)
        XCTAssertTrue(r.atEnd)
        XCTAssertEqual(e.status, d.status)
        XCTAssertEqual(e.transport.driverFeatures, d.transport.driverFeatures)
        XCTAssertEqual(e.transport.queues[0].usedIdx, 1)
        XCTAssertEqual(e.transport.queues[0].size, 64)
        for n in stride(from: 0, to: bytes.count, by: 7) {
            let f = FakeVirtioDriver(device: VirtioBlock(backend: MemoryBackend(size: 4096)))
            var rr = StateReader(Array(bytes.prefix(n)))
            XCTAssertThrowsError(try f.transport.loadState(&rr))
        }
        // A state for a different device type is refused.
        let g = FakeVirtioDriver(device: VirtioRNG())
        var rg = StateReader(bytes)
        XCTAssertThrowsError(try g.transport.loadState(&rg))
    }
}

final class VirtioBlockAsyncTests: XCTestCase {
    func makeDriver() -> (FakeVirtioDriver, MemoryBackend, VirtioBlock, HostEvent) {
        let ram = try! GuestRAM(base: FakeVirtioDriver.ramBase, size: 1 << 20)
        let backend = MemoryBackend(size: 64 << 10, readOnly: false, serial: "async-disk")
        let event = HostEvent()
        let dev = VirtioBlock(backend: backend, asynchronous: true, ram: ram, wake: event)
        let d = FakeVirtioDriver(device: dev, ram: ram)
        d.start(features: VirtioFeature.version1 | VirtioBlock.Feature.flush, queueSizes: [128])
        return (d, backend, dev, event)
    }

    /// A disk whose flush blocks until the test opens the gate: a slow fsync.
    final class SlowFlushBackend: BlockBackend {
        let inner = MemoryBackend(size: 64 << 10, readOnly: false, serial: "slow")
        let gate = HostEvent()
        var size: UInt64 { inner.size }
        var readOnly: Bool { false }
        var serial: String { "slow" }
        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws { try inner.read(into: buffer, at: offset) }
        func write(from buffer: UnsafeRawBufferPointer, at offset: UInt64) throws { try inner.write(from: buffer, at: offset) }
        func flush() throws { gate.wait(nanoseconds: 10_000_000_000); try inner.flush() }
        func discard(offset: UInt64, length: UInt64) throws { try inner.discard(offset: offset, length: length) }
        func writeZeroes(offset: UInt64, length: UInt64, unmap: Bool) throws { try inner.writeZeroes(offset: offset, length: length, unmap: unmap) }
    }

    func testSlowRequestDoesNotBlockNotifyAndCompletesFromService() {
        let ram = try! GuestRAM(base: FakeVirtioDriver.ramBase, size: 1 << 20)
        let backend = SlowFlushBackend()
        let dev = VirtioBlock(backend: backend, asynchronous: true, ram: ram, wake: HostEvent())
        let d = FakeVirtioDriver(device: dev, ram: ram)
        d.start(features: VirtioFeature.version1 | VirtioBlock.Feature.flush, queueSizes: [128])
        let hdr = d.blkHeader(VirtioBlock.RequestType.flush, sector: 0)
        let st = d.alloc([0xff])
        _ = d.add(0, [(hdr, 16, false), (st, 1, true)], indirect: false)
        let t0 = Date()
        d.notify(0)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1.0, "the notify returned while the flush was still running")
        d.transport.service()
        XCTAssertTrue(d.takeUsed(0).isEmpty, "not complete while the disk is busy")
        XCTAssertFalse(d.irqLevel)
        backend.gate.signal()
        dev.drain()
        d.transport.service()
        XCTAssertEqual(d.takeUsed(0).count, 1)
        XCTAssertEqual(d.ram.read(st, as: UInt8.self), VirtioBlock.Status.ok)
        XCTAssertTrue(d.irqLevel, "completion interrupts the guest")
    }

    func testFastRequestsCompleteAtNotify() {
        let (d, backend, dev, _) = makeDriver()
        XCTAssertTrue(dev.isAsynchronous)
        let data = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let (st, _, _) = d.blk(VirtioBlock.RequestType.out, sector: 8, out: data)
        XCTAssertEqual(st, VirtioBlock.Status.ok)
        XCTAssertEqual(Array(backend.bytes[4096..<8192]), data)
        let (st2, len2, addr) = d.blk(VirtioBlock.RequestType.in, sector: 8, inLen: 4096)
        XCTAssertEqual(st2, VirtioBlock.Status.ok)
        XCTAssertEqual(len2, 4097)
        XCTAssertEqual(d.ram.copyOut(addr, 4096), data)
        XCTAssertEqual(dev.requests, 2)
    }

    func testManyQueuedRequestsCompleteInOrder() {
        let (d, backend, dev, _) = makeDriver()
        var statuses: [UInt64] = []
        for i in 0..<32 {
            let hdr = d.blkHeader(VirtioBlock.RequestType.out, sector: UInt64(i))
            let st = d.alloc([0xff])
            statuses.append(st)
            _ = d.add(0, [(hdr, 16, false), (d.alloc([UInt8](repeating: UInt8(i), count: 512)), 512, false), (st, 1, true)], indirect: false)
        }
        let flushHdr = d.blkHeader(VirtioBlock.RequestType.flush, sector: 0)
        let flushSt = d.alloc([0xff])
        _ = d.add(0, [(flushHdr, 16, false), (flushSt, 1, true)], indirect: false)
        d.notify(0)
        dev.drain()
        d.transport.service()
        let used = d.takeUsed(0)
        XCTAssertEqual(used.count, 33)
        for (i, st) in statuses.enumerated() {
            XCTAssertEqual(d.ram.read(st, as: UInt8.self), VirtioBlock.Status.ok)
            XCTAssertEqual(backend.bytes[i * 512], UInt8(i))
        }
        XCTAssertEqual(d.ram.read(flushSt, as: UInt8.self), VirtioBlock.Status.ok)
        XCTAssertGreaterThanOrEqual(backend.flushes, 1)
    }
}

final class VirtioBlockTests: XCTestCase {
    func makeDriver(size: Int = 64 << 10, readOnly: Bool = false, features: UInt64 = VirtioFeature.version1) -> (FakeVirtioDriver, MemoryBackend) {
        let backend = MemoryBackend(size: size, readOnly: readOnly, serial: "test-disk")
        let d = FakeVirtioDriver(device: VirtioBlock(backend: backend))
        d.start(features: features, queueSizes: [128])
        return (d, backend)
    }

    func testWriteThenRead() {
        let (d, backend) = makeDriver()
        let data = (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let (st, len, _) = d.blk(VirtioBlock.RequestType.out, sector: 3, out: data)
        XCTAssertEqual(st, VirtioBlock.Status.ok)
        XCTAssertEqual(len, 1, "only the status byte is written")
        XCTAssertEqual(Array(backend.bytes[1536..<2560]), data)
        XCTAssertEqual(backend.flushes, 1, "FLUSH not negotiated: writes go through")
        XCTAssertTrue(d.irqLevel)
        XCTAssertEqual(d.r(VirtioMMIOReg.interruptStatus), 1)
        d.ack()
        XCTAssertFalse(d.irqLevel)

        let (st2, len2, addr) = d.blk(VirtioBlock.RequestType.in, sector: 3, inLen: 1024)
        XCTAssertEqual(st2, VirtioBlock.Status.ok)
        XCTAssertEqual(len2, 1025)
        XCTAssertEqual(d.ram.copyOut(addr, 1024), data)
    }

    func testIndirectRequestsAndScatteredBuffers() {
        let (d, backend) = makeDriver(features: VirtioFeature.version1 | VirtioFeature.indirectDesc)
        for i in 0..<backend.bytes.count / 512 {
            _ = d.blk(VirtioBlock.RequestType.out, sector: UInt64(i), out: [UInt8](repeating: UInt8(i), count: 512), indirect: true)
        }
        // Read two sectors into three buffers of odd sizes, plus the status in the same chain.
        let hdr = d.blkHeader(VirtioBlock.RequestType.in, sector: 5)
        let a = d.alloc(zeroed: 100), b = d.alloc(zeroed: 700), c = d.alloc(zeroed: 225)   // 1024 + status
        d.add(0, [(hdr, 16, false), (a, 100, true), (b, 700, true), (c, 225, true)], indirect: true)
        d.notify(0)
        XCTAssertEqual(d.takeUsed(0).first?.1, 1025)
        let got = d.ram.copyOut(a, 100)! + d.ram.copyOut(b, 700)! + d.ram.copyOut(c, 224)!
        XCTAssertEqual(got, [UInt8](repeating: 5, count: 512) + [UInt8](repeating: 6, count: 512))
        XCTAssertEqual(d.ram.read(c + 224, as: UInt8.self), VirtioBlock.Status.ok)
        XCTAssertEqual(d.status & VirtioStatus.needsReset, 0)
    }

    func testOutOfRangeAndMalformedRequests() {
        let (d, _) = makeDriver(size: 8192)
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.in, sector: 16, inLen: 512).0, VirtioBlock.Status.ioErr, "past the end")
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.in, sector: 15, inLen: 1024).0, VirtioBlock.Status.ioErr, "straddles the end")
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.in, sector: .max, inLen: 512).0, VirtioBlock.Status.ioErr, "overflowing sector")
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.out, sector: 0, out: [1, 2, 3]).0, VirtioBlock.Status.ioErr, "partial sector")
        XCTAssertEqual(d.blk(99, sector: 0).0, VirtioBlock.Status.unsupp)
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.in, sector: 15, inLen: 512).0, VirtioBlock.Status.ok)
        // A header shorter than 16 bytes.
        let st = d.alloc([0xff])
        d.add(0, [(d.alloc(zeroed: 8), 8, false), (st, 1, true)]); d.notify(0)
        XCTAssertEqual(d.takeUsed(0).first?.1, 1)
        XCTAssertEqual(d.ram.read(st, as: UInt8.self), VirtioBlock.Status.ioErr)
        // No writable byte at all: completed with nothing written.
        d.add(0, [(d.blkHeader(0, sector: 0), 16, false)]); d.notify(0)
        XCTAssertEqual(d.takeUsed(0).first?.1, 0)
        XCTAssertEqual(d.status & VirtioStatus.needsReset, 0)
    }

    func testReadOnlyRejectsWrites() {
        let (d, backend) = makeDriver(readOnly: true)
        XCTAssertNotEqual(d.transport.offeredFeatures & VirtioBlock.Feature.ro, 0)
        XCTAssertEqual(d.transport.offeredFeatures & VirtioBlock.Feature.discard, 0)
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.out, sector: 0, out: [UInt8](repeating: 9, count: 512)).0, VirtioBlock.Status.ioErr)
        XCTAssertEqual(backend.bytes[0], 0)
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.in, sector: 0, inLen: 512).0, VirtioBlock.Status.ok)
    }

    func testFlushGetIDDiscardWriteZeroes() {
        let (d, backend) = makeDriver(features: VirtioFeature.version1 | VirtioBlock.Feature.flush)
        _ = d.blk(VirtioBlock.RequestType.out, sector: 0, out: [UInt8](repeating: 1, count: 512))
        XCTAssertEqual(backend.flushes, 0, "FLUSH negotiated: no implicit flush")
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.flush, sector: 0).0, VirtioBlock.Status.ok)
        XCTAssertEqual(backend.flushes, 1)
        let (st, len, addr) = d.blk(VirtioBlock.RequestType.getID, sector: 0, inLen: 20)
        XCTAssertEqual(st, VirtioBlock.Status.ok)
        XCTAssertEqual(len, 21)
        XCTAssertEqual(d.ram.copyOut(addr, 9), Array("test-disk".utf8))

        _ = d.blk(VirtioBlock.RequestType.out, sector: 0, out: [UInt8](repeating: 0xaa, count: 4096))
        func seg(_ sector: UInt64, _ n: UInt32, _ flags: UInt32) -> [UInt8] {
            var b = [UInt8](repeating: 0, count: 16)
            withUnsafeBytes(of: sector.littleEndian) { for i in 0..<8 { b[i] = $0[i] } }
            withUnsafeBytes(of: n.littleEndian) { for i in 0..<4 { b[8 + i] = $0[i] } }
            withUnsafeBytes(of: flags.littleEndian) { for i in 0..<4 { b[12 + i] = $0[i] } }
            return b
        }
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.writeZeroes, sector: 0, out: seg(1, 2, 0)).0, VirtioBlock.Status.ok)
        XCTAssertEqual(Array(backend.bytes[512..<1536]), [UInt8](repeating: 0, count: 1024))
        XCTAssertEqual(backend.bytes[0], 0xaa)
        XCTAssertEqual(backend.bytes[1536], 0xaa)
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.discard, sector: 0, out: seg(4, 4, 0)).0, VirtioBlock.Status.ok)
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.discard, sector: 0, out: seg(4, 4, 1)).0, VirtioBlock.Status.unsupp, "unmap flag on discard")
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.discard, sector: 0, out: seg(1000, 4, 0)).0, VirtioBlock.Status.ioErr, "out of range")
        XCTAssertEqual(d.blk(VirtioBlock.RequestType.discard, sector: 0, out: [1, 2, 3]).0, VirtioBlock.Status.ioErr, "malformed")
    }
}

final class VirtioRNGConsoleTests: XCTestCase {
    func testRNGFillsWritableBuffers() {
        let rng = VirtioRNG()
        let d = FakeVirtioDriver(device: rng)
        d.start(queueSizes: [16])
        let a = d.alloc(zeroed: 64), b = d.alloc(zeroed: 64)
        d.add(0, [(a, 64, true), (b, 64, true)]); d.notify(0)
        XCTAssertEqual(d.takeUsed(0).first?.1, 128)
        let bytes = d.ram.copyOut(a, 64)! + d.ram.copyOut(b, 64)!
        XCTAssertGreaterThan(Set(bytes).count, 32, "looks random")
        XCTAssertEqual(rng.bytesDelivered, 128)
        XCTAssertTrue(d.irqLevel)
    }

    func testConsoleTransmitAndReceive() {
        var out: [UInt8] = []
        let con = VirtioConsole(output: { out += $0 })
        let d = FakeVirtioDriver(device: con)
        XCTAssertFalse(con.isActive)
        d.start(queueSizes: [16, 16])
        XCTAssertTrue(con.isActive, "DRIVER_OK with live queues")
        // Transmit.
        let msg = Array("hello hvc0\n".utf8)
        d.add(1, [(d.alloc(msg), UInt32(msg.count), false)]); d.notify(1)
        XCTAssertEqual(out, msg)
        XCTAssertEqual(d.takeUsed(1).count, 1)
        // Receive: input waits until the guest provides a buffer.
        con.enqueueInput(Array("typed".utf8))
        d.transport.service()
        XCTAssertTrue(con.hasPendingInput)
        let rx = d.alloc(zeroed: 3)
        d.add(0, [(rx, 3, true)]); d.notify(0)
        XCTAssertEqual(d.takeUsed(0).first?.1, 3)
        XCTAssertEqual(d.ram.copyOut(rx, 3), Array("typ".utf8))
        let rx2 = d.alloc(zeroed: 16)
        d.add(0, [(rx2, 16, true)]); d.notify(0)   // a new buffer is filled at once
        XCTAssertEqual(d.takeUsed(0).first?.1, 2)
        XCTAssertEqual(d.ram.copyOut(rx2, 2), Array("ed".utf8))
        XCTAssertFalse(con.hasPendingInput)
        d.w(VirtioMMIOReg.status, 0)
        XCTAssertFalse(con.isActive, "reset")
    }
}
