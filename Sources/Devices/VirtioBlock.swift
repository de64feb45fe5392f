import Platform
import RISCV

/// virtio-blk (device ID 2, virtio 1.2 §5.2), one request queue.
/// With `asynchronous`, requests run in order on a worker thread, so a slow disk (or a long fsync)
/// never stalls the vCPU or the console; completions are published to the used ring and interrupt
/// the guest from `service`, on the emulation thread. Code-cache invalidation for data DMA'd into
/// guest memory is deferred to that point too. Otherwise requests run synchronously at notify time.
public final class VirtioBlock: VirtioDevice {
    public enum Feature {
        public static let sizeMax: UInt64 = 1 << 1
        public static let segMax: UInt64 = 1 << 2
        public static let ro: UInt64 = 1 << 5
        public static let blkSize: UInt64 = 1 << 6
        public static let flush: UInt64 = 1 << 9
        public static let discard: UInt64 = 1 << 13
        public static let writeZeroes: UInt64 = 1 << 14
    }
    public enum RequestType {
        public static let `in`: UInt32 = 0
        public static let out: UInt32 = 1
        public static let flush: UInt32 = 4
        public static let getID: UInt32 = 8
        public static let discard: UInt32 = 11
        public static let writeZeroes: UInt32 = 13
    }
    public enum Status {
        public static let ok: UInt8 = 0
        public static let ioErr: UInt8 = 1
        public static let unsupp: UInt8 = 2
    }

    public static let queueSize: UInt16 = 256
    /// How long a notify waits for its requests before letting the guest run on.
    public static let inlineWaitNanos: UInt64 = 500_000
    /// Largest data transfer per request (size_max × seg_max bounds what Linux sends).
    public static let sizeMax: UInt32 = 1 << 20
    public static let segMax: UInt32 = UInt32(queueSize) - 2
    public static let maxRequestBytes: UInt64 = 16 << 20
    public static let maxDiscardSectors: UInt32 = 1 << 22   // 2 GiB
    public static let maxDiscardSegments: UInt32 = 32

    public let backend: BlockBackend
    /// Writes since the last checkpoint (HA); off unless started.
    public let writeLog = DiskWriteLog()
    public var deviceID: UInt32 { 2 }
    public var queueSizes: [UInt16] { [VirtioBlock.queueSize] }
    public var features: UInt64 {
        var f = Feature.sizeMax | Feature.segMax | Feature.blkSize | Feature.flush
        if backend.readOnly { f |= Feature.ro } else { f |= Feature.discard | Feature.writeZeroes }
        return f
    }
    /// Completed requests (statistics, tests).
    public private(set) var requests: UInt64 = 0

    private var writeThrough = false

    struct Completion {
        var chain: VirtqChain
        var written: UInt32
        var dirty: [(UInt64, UInt64)]
    }
    private var worker: IOWorker<(VirtqChain, Bool), Completion>?
    private let ram: GuestRAM?

    /// `ram` and `wake` are needed for asynchronous operation; without them requests are synchronous.
    public init(backend: BlockBackend, asynchronous: Bool = false, ram: GuestRAM? = nil, wake: HostEvent? = nil) {
        self.backend = backend
        self.ram = ram
        if asynchronous, let ram {
            let w = IOWorker<(VirtqChain, Bool), Completion>(wake: wake) { [backend, writeLog] job in
                var dirty: [(UInt64, UInt64)] = []
                let written = VirtioBlock.execute(job.0, ram: ram, backend: backend, log: writeLog, writeThrough: job.1, dirty: &dirty)
                return Completion(chain: job.0, written: written, dirty: dirty)
            }
            if w.started { worker = w }
        }
    }
    deinit { worker?.stop() }

    public var isAsynchronous: Bool { worker != nil }

    public func configSpace() -> [UInt8] {
        var c = [UInt8](repeating: 0, count: 60)
        func put<T: FixedWidthInteger>(_ off: Int, _ v: T) {
            withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { c[off + i] = b } }
        }
        put(0, backend.size / 512)              // capacity
        put(8, VirtioBlock.sizeMax)             // size_max
        put(12, VirtioBlock.segMax)             // seg_max
        put(20, UInt32(512))                    // blk_size
        put(34, UInt16(1))                      // num_queues
        put(36, VirtioBlock.maxDiscardSectors)  // max_discard_sectors
        put(40, VirtioBlock.maxDiscardSegments) // max_discard_seg
        put(44, UInt32(8))                      // discard_sector_alignment (4 KiB)
        put(48, VirtioBlock.maxDiscardSectors)  // max_write_zeroes_sectors
        put(52, VirtioBlock.maxDiscardSegments) // max_write_zeroes_seg
        c[56] = 1                               // write_zeroes_may_unmap
        return c
    }

    public func process(queue index: Int, transport t: VirtioMMIOTransport) {
        guard index == 0 else { return }
        // Without VIRTIO_BLK_F_FLUSH the driver cannot ask for durability: write through.
        writeThrough = !t.negotiated(Feature.flush)
        if let worker {
            while let chain = t.pop(0) { worker.submit((chain, writeThrough)) }
            // A fast disk answers within microseconds: wait that long so the guest sees no extra
            // latency; a slow one (or an fsync) completes later from `service` without stalling us.
            worker.drain(timeout: VirtioBlock.inlineWaitNanos)
            service(transport: t)
            return
        }
        while let chain = t.pop(0) {
            let written = handle(chain, ram: t.ram)
            requests &+= 1
            t.complete(0, chain, written: written)
        }
        t.signal(0)
    }

    /// Publishes finished asynchronous requests (emulation thread).
    public func service(transport t: VirtioMMIOTransport) {
        guard let worker else { return }
        let done = worker.takeResults()
        guard !done.isEmpty else { return }
        for c in done {
            for (addr, len) in c.dirty { t.ram.invalidateCode(addr, len) }
            requests &+= 1
            t.complete(0, c.chain, written: c.written)
        }
        t.signal(0)
    }

    /// Waits for requests in flight (device reset, snapshots, tests).
    public func drain() { worker?.drain() }

    public func reset() {
        // Requests of the old driver instance finish but are not reported: the rings are gone.
        worker?.drain()
        _ = worker?.takeResults()
    }

    /// Executes one request; returns the number of bytes written into the chain.
    /// Malformed requests get IOERR/UNSUPP in the status byte, or complete with nothing written
    /// when there is no room even for the status byte.
    func handle(_ chain: VirtqChain, ram: GuestRAM) -> UInt32 {
        var dirty: [(UInt64, UInt64)] = []
        let written = VirtioBlock.execute(chain, ram: ram, backend: backend, log: writeLog, writeThrough: writeThrough, dirty: &dirty)
        for (addr, len) in dirty { ram.invalidateCode(addr, len) }
        return written
    }

    /// Executes one request. Guest memory written is recorded in `dirty` instead of invalidating
    /// decoded code here, because this may run on the I/O worker thread.
    static func execute(_ chain: VirtqChain, ram: GuestRAM, backend: BlockBackend, log: DiskWriteLog, writeThrough: Bool,
                        dirty: inout [(UInt64, UInt64)]) -> UInt32 {
        let writableBytes = chain.writableBytes
        guard writableBytes >= 1 else { return 0 }          // nowhere to put a status
        let statusOffset = writableBytes - 1
        func put(_ bytes: [UInt8], at offset: UInt64) {
            var done = 0
            bytes.withUnsafeBytes { src in
                ram.forEachRange(chain.writable, offset: offset, count: UInt64(src.count)) { p, addr, n in
                    p.copyMemory(from: src.baseAddress! + done, byteCount: n)
                    dirty.append((addr, UInt64(n)))
                    done += n
                    return true
                }
            }
        }
        func finish(_ status: UInt8, dataWritten: UInt64 = 0) -> UInt32 {
            put([status], at: statusOffset)
            return UInt32(dataWritten + 1)
        }
        func range(sector: UInt64, bytes: UInt64, limit: UInt64 = VirtioBlock.maxRequestBytes) -> UInt64? {
            guard bytes % 512 == 0, bytes <= limit else { return nil }
            let sectors = backend.size / 512
            guard sector <= sectors, bytes / 512 <= sectors - sector else { return nil }
            return sector * 512
        }
        let header = ram.gather(chain.readable, count: 16)
        guard header.count == 16 else { return finish(Status.ioErr) }
        let type = le32(header, 0)
        let sector = le64(header, 8)
        let readableData = chain.readableBytes - 16          // bytes after the header

        switch type {
        case RequestType.in:
            let len = statusOffset
            guard let offset = range(sector: sector, bytes: len) else { return finish(Status.ioErr) }
            var failed = false
            var pos = offset
            ram.forEachRange(chain.writable, offset: 0, count: len) { p, addr, n in
                do { try backend.read(into: UnsafeMutableRawBufferPointer(start: p, count: n), at: pos) } catch { failed = true; return false }
                dirty.append((addr, UInt64(n)))
                pos += UInt64(n)
                return true
            }
            return failed ? finish(Status.ioErr) : finish(Status.ok, dataWritten: len)
        case RequestType.out:
            guard !backend.readOnly else { return finish(Status.ioErr) }
            let len = readableData
            guard let offset = range(sector: sector, bytes: len) else { return finish(Status.ioErr) }
            var pieces: [UnsafeRawBufferPointer] = []
            var covered: UInt64 = 0
            ram.forEachRange(chain.readable, offset: 16, count: len) { p, _, n in
                pieces.append(UnsafeRawBufferPointer(start: p, count: n))
                covered += UInt64(n)
                return true
            }
            var failed = covered != len
            if !failed { failed = (try? backend.write(gathering: pieces, at: offset)) == nil }
            if !failed && log.isOn { log.recordWrite(pieces, at: offset) }
            if !failed && writeThrough { failed = (try? backend.flush()) == nil }
            return finish(failed ? Status.ioErr : Status.ok)
        case RequestType.flush:
            do { try backend.flush(); return finish(Status.ok) } catch { return finish(Status.ioErr) }
        case RequestType.getID:
            let id = Array(backend.serial.utf8.prefix(20)) + [UInt8](repeating: 0, count: max(0, 20 - backend.serial.utf8.count))
            let n = min(UInt64(20), statusOffset)
            put(Array(id.prefix(Int(n))), at: 0)
            return finish(Status.ok, dataWritten: n)
        case RequestType.discard, RequestType.writeZeroes:
            guard !backend.readOnly else { return finish(Status.ioErr) }
            guard readableData > 0, readableData % 16 == 0 else { return finish(Status.ioErr) }
            let count = readableData / 16
            guard count <= UInt64(VirtioBlock.maxDiscardSegments) else { return finish(Status.ioErr) }
            for i in 0..<count {
                let seg = ram.gather(chain.readable, offset: 16 + 16 * i, count: 16)
                guard seg.count == 16 else { return finish(Status.ioErr) }
                let start = le64(seg, 0), sectors = le32(seg, 8), flags = le32(seg, 12)
                let unmap = flags & 1 != 0
                // Reserved flag bits, or unmap on a discard, are errors (§5.2.6.2).
                guard flags & ~1 == 0, !(type == RequestType.discard && unmap) else { return finish(Status.unsupp) }
                guard sectors <= VirtioBlock.maxDiscardSectors,
                      let offset = range(sector: start, bytes: UInt64(sectors) * 512, limit: UInt64(VirtioBlock.maxDiscardSectors) * 512) else {
                    return finish(Status.ioErr)
                }
                do {
                    if type == RequestType.discard { try backend.discard(offset: offset, length: UInt64(sectors) * 512) }
                    else { try backend.writeZeroes(offset: offset, length: UInt64(sectors) * 512, unmap: unmap) }
                } catch { return finish(Status.ioErr) }
                if log.isOn { log.recordZero(offset, UInt64(sectors) * 512) }
            }
            return finish(Status.ok)
        default:
            return finish(Status.unsupp)
        }
    }

    public func saveState(_ w: inout StateWriter) { worker?.drain(); w.u64(requests) }
    public func loadState(_ r: inout StateReader) throws { requests = try r.u64() }
}

@inline(__always) func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
    UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
}
@inline(__always) func le64(_ b: [UInt8], _ o: Int) -> UInt64 {
    UInt64(le32(b, o)) | UInt64(le32(b, o + 4)) << 32
}
