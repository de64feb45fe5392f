import Platform
import RISCV

// Split virtqueues (virtio 1.2 §2.7), device side.
//
// Everything in guest memory is untrusted: each ring and buffer address is checked against RAM,
// descriptor chains are bounded (no loops, no chain longer than the queue, indirect tables
// bounded), and device-writable descriptors must follow the device-readable ones. Any violation
// is reported as a `VirtqueueError`; the transport then marks the device DEVICE_NEEDS_RESET.

/// One guest buffer of a descriptor chain. `addr..<addr+len` lies inside guest RAM.
public struct VirtqSegment: Equatable, Sendable {
    public let addr: UInt64
    public let len: UInt32
    public init(addr: UInt64, len: UInt32) { self.addr = addr; self.len = len }
}

/// A descriptor chain taken from the available ring.
public struct VirtqChain: Sendable {
    /// Index of the head descriptor: what goes back in the used ring.
    public let head: UInt16
    /// Device-readable buffers, in order.
    public var readable: [VirtqSegment] = []
    /// Device-writable buffers, in order (all after the readable ones in the chain).
    public var writable: [VirtqSegment] = []
    public var readableBytes: UInt64 { readable.reduce(0) { $0 + UInt64($1.len) } }
    public var writableBytes: UInt64 { writable.reduce(0) { $0 + UInt64($1.len) } }
    public init(head: UInt16) { self.head = head }
}

public struct VirtqueueError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Descriptor flags (§2.7.5).
public enum VirtqDescFlags {
    public static let next: UInt16 = 1
    public static let write: UInt16 = 2
    public static let indirect: UInt16 = 4
}

public final class Virtqueue {
    /// Largest indirect table accepted (entries), whatever the queue size.
    public static let maxIndirectEntries = 1024
    /// Largest total number of bytes in one chain (guards length sums against overflow games).
    public static let maxChainBytes: UInt64 = 1 << 32

    public let maxSize: UInt16
    /// Queue size chosen by the driver (QueueNum). Valid when a power of 2 in 1...maxSize.
    public var size: UInt16
    public var ready = false
    public var descAddr: UInt64 = 0
    public var availAddr: UInt64 = 0
    public var usedAddr: UInt64 = 0
    /// VIRTIO_F_EVENT_IDX negotiated.
    public var eventIdx = false
    /// VIRTIO_F_INDIRECT_DESC negotiated.
    public var indirectAllowed = true
    /// Next available-ring slot to consume.
    public internal(set) var lastAvail: UInt16 = 0
    /// Device's copy of used->idx.
    public internal(set) var usedIdx: UInt16 = 0
    /// used->idx when the driver was last considered for an interrupt (event-idx suppression).
    public internal(set) var signalledUsed: UInt16 = 0

    public init(maxSize: UInt16) {
        precondition(maxSize > 0 && maxSize & (maxSize - 1) == 0, "virtqueue max size must be a power of 2")
        self.maxSize = maxSize
        self.size = maxSize
    }

    public func reset() {
        size = maxSize
        ready = false
        descAddr = 0; availAddr = 0; usedAddr = 0
        eventIdx = false; indirectAllowed = true
        lastAvail = 0; usedIdx = 0; signalledUsed = 0
    }

    public static func isValidSize(_ n: UInt64, max: UInt16) -> Bool {
        n >= 1 && n <= UInt64(max) && n & (n - 1) == 0
    }

    /// Checks size, alignment and that the three rings lie in RAM (called when the driver sets QueueReady).
    public func validate(_ ram: GuestRAM) -> VirtqueueError? {
        guard Virtqueue.isValidSize(UInt64(size), max: maxSize) else {
            return VirtqueueError("queue size \(size) is not a power of 2 in 1...\(maxSize)")
        }
        let n = UInt64(size)
        guard descAddr & 15 == 0, availAddr & 1 == 0, usedAddr & 3 == 0 else {
            return VirtqueueError("misaligned ring address (desc \(hexString(descAddr)), avail \(hexString(availAddr)), used \(hexString(usedAddr)))")
        }
        guard ram.contains(descAddr, 16 * n) else { return VirtqueueError("descriptor table \(hexString(descAddr)) outside RAM") }
        guard ram.contains(availAddr, 6 + 2 * n) else { return VirtqueueError("available ring \(hexString(availAddr)) outside RAM") }
        guard ram.contains(usedAddr, 6 + 8 * n) else { return VirtqueueError("used ring \(hexString(usedAddr)) outside RAM") }
        return nil
    }

    private func read16(_ ram: GuestRAM, _ addr: UInt64) throws -> UInt16 {
        guard let v = ram.read(addr, as: UInt16.self) else { throw VirtqueueError("ring read at \(hexString(addr)) outside RAM") }
        return v
    }

    /// Number of chains the driver has made available and the device has not taken yet.
    public func pending(_ ram: GuestRAM) throws -> Int {
        guard ready else { return 0 }
        guard Virtqueue.isValidSize(UInt64(size), max: maxSize) else { throw VirtqueueError("queue size \(size) invalid") }
        let idx = try read16(ram, availAddr + 2)
        let n = idx &- lastAvail
        guard n <= size else {
            throw VirtqueueError("available index jumped by \(n) (queue size \(size))")
        }
        return Int(n)
    }

    /// Takes the next available chain, or nil when there is none. Throws on any malformed input;
    /// nothing is consumed in that case.
    public func pop(_ ram: GuestRAM) throws -> VirtqChain? {
        guard try pending(ram) > 0 else { return nil }
        let slot = UInt64(lastAvail % size)
        let head = try read16(ram, availAddr + 4 + 2 * slot)
        let chain = try parseChain(ram, head: head)
        lastAvail &+= 1
        if eventIdx {
            // avail_event: ask for a notification as soon as anything new is made available.
            _ = ram.write(usedAddr + 4 + 8 * UInt64(size), lastAvail)
        }
        return chain
    }

    /// Walks the chain starting at `head` (public for the fuzz tests).
    public func parseChain(_ ram: GuestRAM, head: UInt16) throws -> VirtqChain {
        guard Virtqueue.isValidSize(UInt64(size), max: maxSize) else { throw VirtqueueError("queue size \(size) invalid") }
        guard head < size else { throw VirtqueueError("head descriptor \(head) beyond queue size \(size)") }
        var chain = VirtqChain(head: head)
        var total: UInt64 = 0
        var seenWritable = false

        func add(_ addr: UInt64, _ len: UInt32, _ flags: UInt16) throws {
            guard ram.contains(addr, UInt64(len)) else {
                throw VirtqueueError("buffer \(hexString(addr))+\(len) outside RAM")
            }
            total += UInt64(len)
            guard total <= Virtqueue.maxChainBytes else { throw VirtqueueError("descriptor chain longer than 4 GiB") }
            if flags & VirtqDescFlags.write != 0 {
                seenWritable = true
                chain.writable.append(VirtqSegment(addr: addr, len: len))
            } else {
                guard !seenWritable else { throw VirtqueueError("device-readable descriptor after a device-writable one") }
                chain.readable.append(VirtqSegment(addr: addr, len: len))
            }
        }

        var index = head
        var count = 0
        while true {
            count += 1
            guard count <= Int(size) else { throw VirtqueueError("descriptor chain longer than the queue (loop?)") }
            let d = descAddr + 16 * UInt64(index)
            guard let p = ram.hostPointer(d, 16) else { throw VirtqueueError("descriptor \(index) outside RAM") }
            let addr = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
            let len = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            let flags = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
            let next = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 14, as: UInt16.self))

            if flags & VirtqDescFlags.indirect != 0 {
                guard flags & VirtqDescFlags.next == 0 else { throw VirtqueueError("indirect descriptor with NEXT set") }
                try parseIndirect(ram, addr: addr, len: len, add: add)
                break
            }
            try add(addr, len, flags)
            guard flags & VirtqDescFlags.next != 0 else { break }
            guard next < size else { throw VirtqueueError("next descriptor \(next) beyond queue size \(size)") }
            index = next
        }
        return chain
    }

    private func parseIndirect(_ ram: GuestRAM, addr: UInt64, len: UInt32,
                               add: (UInt64, UInt32, UInt16) throws -> Void) throws {
        guard indirectAllowed else { throw VirtqueueError("indirect descriptor without VIRTIO_F_INDIRECT_DESC") }
        guard len > 0, len % 16 == 0 else { throw VirtqueueError("indirect table length \(len) is not a non-zero multiple of 16") }
        let entries = Int(len / 16)
        guard entries <= Virtqueue.maxIndirectEntries else { throw VirtqueueError("indirect table of \(entries) entries (limit \(Virtqueue.maxIndirectEntries))") }
        guard let table = ram.hostPointer(addr, UInt64(len)) else { throw VirtqueueError("indirect table \(hexString(addr))+\(len) outside RAM") }
        var i = 0
        var count = 0
        while true {
            count += 1
            guard count <= entries else { throw VirtqueueError("indirect chain loops") }
            let p = table + 16 * i
            let a = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
            let l = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            let flags = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
            let next = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 14, as: UInt16.self))
            guard flags & VirtqDescFlags.indirect == 0 else { throw VirtqueueError("nested indirect descriptor") }
            try add(a, l, flags)
            guard flags & VirtqDescFlags.next != 0 else { break }
            guard Int(next) < entries else { throw VirtqueueError("indirect next \(next) beyond table of \(entries)") }
            i = Int(next)
        }
    }


    /// Puts a finished chain in the used ring. `written` is the number of bytes the device wrote.
    public func push(_ ram: GuestRAM, head: UInt16, written: UInt32) throws {
        guard ready else { return }
        guard Virtqueue.isValidSize(UInt64(size), max: maxSize) else { throw VirtqueueError("queue size \(size) invalid") }
        let slot = UInt64(usedIdx % size)
        let e = usedAddr + 4 + 8 * slot
        guard ram.write(e, UInt32(head)), ram.write(e + 4, written) else {
            throw VirtqueueError("used ring \(hexString(usedAddr)) outside RAM")
        }
        usedIdx &+= 1
        guard ram.write(usedAddr + 2, usedIdx) else { throw VirtqueueError("used ring \(hexString(usedAddr)) outside RAM") }
    }

    /// Whether the driver wants an interrupt for the used entries added since the last call.
    public func needsInterrupt(_ ram: GuestRAM) -> Bool {
        let old = signalledUsed
        let new = usedIdx
        signalledUsed = new
        guard ready, old != new else { return false }
        if eventIdx {
            guard let usedEvent = ram.read(availAddr + 4 + 2 * UInt64(size), as: UInt16.self) else { return true }
            // vring_need_event (§2.7.10): did new pass used_event since old?
            return new &- usedEvent &- 1 < new &- old
        }
        guard let flags = ram.read(availAddr, as: UInt16.self) else { return true }
        return flags & 1 == 0   // VIRTQ_AVAIL_F_NO_INTERRUPT
    }

    // MARK: State

    public func saveState(_ w: inout StateWriter) {
        w.u32(UInt32(size)); w.bool(ready)
        w.u64(descAddr); w.u64(availAddr); w.u64(usedAddr)
        w.bool(eventIdx); w.bool(indirectAllowed)
        w.u32(UInt32(lastAvail)); w.u32(UInt32(usedIdx)); w.u32(UInt32(signalledUsed))
    }

    public func loadState(_ r: inout StateReader) throws {
        let s = try r.u32()
        guard Virtqueue.isValidSize(UInt64(s), max: maxSize) else { throw StateError("virtqueue size \(s) invalid (max \(maxSize))") }
        let rdy = try r.bool()
        let d = try r.u64(), a = try r.u64(), u = try r.u64()
        let ev = try r.bool(), ind = try r.bool()
        let la = try r.u32(), ui = try r.u32(), su = try r.u32()
        guard la <= 0xffff, ui <= 0xffff, su <= 0xffff else { throw StateError("virtqueue index out of range") }
        size = UInt16(s); ready = rdy; descAddr = d; availAddr = a; usedAddr = u
        eventIdx = ev; indirectAllowed = ind
        lastAvail = UInt16(la); usedIdx = UInt16(ui); signalledUsed = UInt16(su)
    }
}

func hexString(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

// MARK: - Scatter/gather helpers

extension GuestRAM {
    /// Copies up to `count` bytes starting `offset` bytes into `segments` out of guest memory.
    public func gather(_ segments: [VirtqSegment], offset: UInt64 = 0, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        forEachRange(segments, offset: offset, count: UInt64(count)) { p, _, n in
            out.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
            return true
        }
        return out
    }

    /// Copies `bytes` into `segments` starting `offset` bytes in; returns the number of bytes written.
    @discardableResult
    public func scatter(_ segments: [VirtqSegment], offset: UInt64 = 0, _ bytes: [UInt8]) -> Int {
        var done = 0
        bytes.withUnsafeBytes { src in
            forEachRange(segments, offset: offset, count: UInt64(src.count)) { p, addr, n in
                p.copyMemory(from: src.baseAddress! + done, byteCount: n)
                invalidateCode(addr, UInt64(n))
                done += n
                return true
            }
        }
        return done
    }

    /// Calls `body(hostPointer, guestAddress, length)` for each piece of the byte range
    /// [offset, offset+count) of the concatenated segments; stops early when `body` returns false.
    /// Returns the number of bytes visited.
    @discardableResult
    public func forEachRange(_ segments: [VirtqSegment], offset: UInt64, count: UInt64,
                             _ body: (UnsafeMutableRawPointer, UInt64, Int) -> Bool) -> UInt64 {
        var skip = offset
        var left = count
        var visited: UInt64 = 0
        for s in segments where left > 0 {
            let len = UInt64(s.len)
            if skip >= len { skip -= len; continue }
            let n = min(len - skip, left)
            let addr = s.addr + skip
            skip = 0
            guard let p = hostPointer(addr, n) else { return visited }
            guard body(p, addr, Int(n)) else { return visited + n }
            visited += n
            left -= n
        }
        return visited
    }
}
