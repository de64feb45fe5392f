import Platform
import RISCV

// virtio-mmio transport, version 2 (virtio 1.2 §4.2.2).

public enum VirtioFeature {
    public static let indirectDesc: UInt64 = 1 << 28
    public static let eventIdx: UInt64 = 1 << 29
    public static let version1: UInt64 = 1 << 32
}

public enum VirtioStatus {
    public static let acknowledge: UInt32 = 1
    public static let driver: UInt32 = 2
    public static let driverOK: UInt32 = 4
    public static let featuresOK: UInt32 = 8
    public static let needsReset: UInt32 = 64
    public static let failed: UInt32 = 128
}

/// virtio-mmio register offsets.
public enum VirtioMMIOReg {
    public static let magic: UInt64 = 0x000
    public static let version: UInt64 = 0x004
    public static let deviceID: UInt64 = 0x008
    public static let vendorID: UInt64 = 0x00c
    public static let deviceFeatures: UInt64 = 0x010
    public static let deviceFeaturesSel: UInt64 = 0x014
    public static let driverFeatures: UInt64 = 0x020
    public static let driverFeaturesSel: UInt64 = 0x024
    public static let queueSel: UInt64 = 0x030
    public static let queueNumMax: UInt64 = 0x034
    public static let queueNum: UInt64 = 0x038
    public static let queueReady: UInt64 = 0x044
    public static let queueNotify: UInt64 = 0x050
    public static let interruptStatus: UInt64 = 0x060
    public static let interruptACK: UInt64 = 0x064
    public static let status: UInt64 = 0x070
    public static let queueDescLow: UInt64 = 0x080
    public static let queueDescHigh: UInt64 = 0x084
    public static let queueDriverLow: UInt64 = 0x090
    public static let queueDriverHigh: UInt64 = 0x094
    public static let queueDeviceLow: UInt64 = 0x0a0
    public static let queueDeviceHigh: UInt64 = 0x0a4
    public static let shmSel: UInt64 = 0x0ac
    public static let shmLenLow: UInt64 = 0x0b0
    public static let shmLenHigh: UInt64 = 0x0b4
    public static let shmBaseLow: UInt64 = 0x0b8
    public static let shmBaseHigh: UInt64 = 0x0bc
    public static let configGeneration: UInt64 = 0x0fc
    public static let config: UInt64 = 0x100
}

/// A virtio device model (block, entropy, console…) behind a transport.
public protocol VirtioDevice: AnyObject {
    /// Virtio device ID (2 block, 3 console, 4 entropy).
    var deviceID: UInt32 { get }
    /// Device-specific feature bits (the transport adds VERSION_1, INDIRECT_DESC and EVENT_IDX).
    var features: UInt64 { get }
    /// Maximum size of each virtqueue (powers of 2); the count is the number of queues.
    var queueSizes: [UInt16] { get }
    /// Current contents of the device configuration space.
    func configSpace() -> [UInt8]
    /// Driver write to the configuration space (most devices ignore it).
    func writeConfig(offset: Int, bytes: [UInt8])
    /// The driver notified queue `index` (only after DRIVER_OK).
    func process(queue index: Int, transport: VirtioMMIOTransport)
    /// Called on the emulation thread between instruction slices (host-side events).
    func service(transport: VirtioMMIOTransport)
    /// Device reset (driver wrote 0 to Status).
    func reset()
    func saveState(_ w: inout StateWriter)
    func loadState(_ r: inout StateReader) throws
}

public extension VirtioDevice {
    func writeConfig(offset: Int, bytes: [UInt8]) {}
    func service(transport: VirtioMMIOTransport) {}
    func reset() {}
    func saveState(_ w: inout StateWriter) {}
    func loadState(_ r: inout StateReader) throws {}
}

/// One virtio-mmio slot. Emulation thread only.
public final class VirtioMMIOTransport: MMIODevice, Stateful {
    public static let magicValue: UInt32 = 0x7472_6976   // "virt"
    public static let vendorID: UInt32 = 0x4d54_5953     // arbitrary ("SYTM")
    public static let transportFeatures = VirtioFeature.version1 | VirtioFeature.indirectDesc | VirtioFeature.eventIdx

    public let device: VirtioDevice
    public let ram: GuestRAM
    private let irq: (Bool) -> Void

    public private(set) var queues: [Virtqueue]
    public private(set) var status: UInt32 = 0
    public private(set) var driverFeatures: UInt64 = 0
    public private(set) var interruptStatus: UInt32 = 0
    public private(set) var configGeneration: UInt32 = 0
    /// Why the device last entered DEVICE_NEEDS_RESET (diagnostics and tests).
    public private(set) var lastError: String?
    /// How often the device entered DEVICE_NEEDS_RESET (the machine reports each one).
    public private(set) var needsResetCount: UInt64 = 0
    private var deviceFeaturesSel: UInt32 = 0
    private var driverFeaturesSel: UInt32 = 0
    private var queueSel: UInt32 = 0
    private var shmSel: UInt32 = 0
    private var irqLevel = false

    public init(device: VirtioDevice, ram: GuestRAM, irq: @escaping (Bool) -> Void) {
        self.device = device
        self.ram = ram
        self.irq = irq
        queues = device.queueSizes.map { Virtqueue(maxSize: $0) }
    }

    public var offeredFeatures: UInt64 { device.features | VirtioMMIOTransport.transportFeatures }
    public var driverOK: Bool {
        status & VirtioStatus.driverOK != 0 && status & (VirtioStatus.needsReset | VirtioStatus.failed) == 0
    }
    public func negotiated(_ bit: UInt64) -> Bool { driverFeatures & bit != 0 }

    /// Device reset: everything back to its initial state, interrupt lowered.
    public func reset() {
        status = 0
        driverFeatures = 0
        interruptStatus = 0
        deviceFeaturesSel = 0; driverFeaturesSel = 0; queueSel = 0; shmSel = 0
        lastError = nil
        for q in queues { q.reset() }
        device.reset()
        updateIRQ()
    }

    // MARK: Queue helpers for devices

    /// Next chain of queue `q`, or nil (none available, queue not live, or the driver broke the
    /// rules, in which case the device now needs a reset).
    public func pop(_ q: Int) -> VirtqChain? {
        guard driverOK, q < queues.count, queues[q].ready else { return nil }
        do { return try queues[q].pop(ram) } catch { fail("queue \(q): \(error)"); return nil }
    }

    /// Returns a chain to the driver (call `signal(q)` after a batch).
    public func complete(_ q: Int, _ chain: VirtqChain, written: UInt32) {
        guard driverOK, q < queues.count else { return }
        do { try queues[q].push(ram, head: chain.head, written: written) } catch { fail("queue \(q): \(error)") }
    }

    /// Raises the used-buffer interrupt if the driver wants one for the entries completed since the last call.
    public func signal(_ q: Int) {
        guard q < queues.count else { return }
        if queues[q].needsInterrupt(ram) {
            interruptStatus |= 1
            updateIRQ()
        }
    }

    /// Number of available chains on queue `q` (0 when not live or malformed).
    public func pending(_ q: Int) -> Int {
        guard driverOK, q < queues.count else { return 0 }
        do { return try queues[q].pending(ram) } catch { fail("queue \(q): \(error)"); return 0 }
    }

    /// The driver broke the protocol: DEVICE_NEEDS_RESET plus a configuration-change interrupt.
    public func fail(_ why: String) {
        lastError = why
        guard status & VirtioStatus.needsReset == 0 else { return }
        status |= VirtioStatus.needsReset
        needsResetCount &+= 1
        if status & VirtioStatus.driverOK != 0 {
            interruptStatus |= 2
            updateIRQ()
        }
    }

    /// The device's configuration changed.
    public func configChanged() {
        configGeneration &+= 1
        if status & VirtioStatus.driverOK != 0 { interruptStatus |= 2; updateIRQ() }
    }

    /// Emulation-thread hook between instruction slices.
    public func service() {
        guard driverOK else { return }
        device.service(transport: self)
    }

    private func updateIRQ() {
        let level = interruptStatus != 0
        if level != irqLevel { irqLevel = level; irq(level) }
    }

    // MARK: Registers

    private var selectedQueue: Virtqueue? { Int(queueSel) < queues.count ? queues[Int(queueSel)] : nil }

    private func reg(_ off: UInt64) -> UInt32 {
        switch off {
        case VirtioMMIOReg.magic: return VirtioMMIOTransport.magicValue
        case VirtioMMIOReg.version: return 2
        case VirtioMMIOReg.deviceID: return device.deviceID
        case VirtioMMIOReg.vendorID: return VirtioMMIOTransport.vendorID
        case VirtioMMIOReg.deviceFeatures:
            return deviceFeaturesSel < 2 ? UInt32(truncatingIfNeeded: offeredFeatures >> (32 * UInt64(deviceFeaturesSel))) : 0
        case VirtioMMIOReg.queueNumMax: return selectedQueue.map { UInt32($0.maxSize) } ?? 0
        case VirtioMMIOReg.queueNum: return selectedQueue.map { UInt32($0.size) } ?? 0
        case VirtioMMIOReg.queueReady: return (selectedQueue?.ready ?? false) ? 1 : 0
        case VirtioMMIOReg.interruptStatus: return interruptStatus
        case VirtioMMIOReg.status: return status
        case VirtioMMIOReg.queueDescLow: return UInt32(truncatingIfNeeded: selectedQueue?.descAddr ?? 0)
        case VirtioMMIOReg.queueDescHigh: return UInt32(truncatingIfNeeded: (selectedQueue?.descAddr ?? 0) >> 32)
        case VirtioMMIOReg.queueDriverLow: return UInt32(truncatingIfNeeded: selectedQueue?.availAddr ?? 0)
        case VirtioMMIOReg.queueDriverHigh: return UInt32(truncatingIfNeeded: (selectedQueue?.availAddr ?? 0) >> 32)
        case VirtioMMIOReg.queueDeviceLow: return UInt32(truncatingIfNeeded: selectedQueue?.usedAddr ?? 0)
        case VirtioMMIOReg.queueDeviceHigh: return UInt32(truncatingIfNeeded: (selectedQueue?.usedAddr ?? 0) >> 32)
        case VirtioMMIOReg.shmLenLow, VirtioMMIOReg.shmLenHigh: return 0xffff_ffff   // no shared memory regions
        case VirtioMMIOReg.configGeneration: return configGeneration
        default: return 0
        }
    }

    /// Queue registers may only be changed while the queue is not live.
    private func withIdleQueue(_ body: (Virtqueue) -> Void) {
        guard let q = selectedQueue, !q.ready else { return }
        body(q)
    }

    private func setReg(_ off: UInt64, _ v: UInt32) {
        switch off {
        case VirtioMMIOReg.deviceFeaturesSel: deviceFeaturesSel = v
        case VirtioMMIOReg.driverFeaturesSel: driverFeaturesSel = v
        case VirtioMMIOReg.driverFeatures:
            // Only while negotiating: after DRIVER, before FEATURES_OK.
            guard status & VirtioStatus.driver != 0, status & VirtioStatus.featuresOK == 0, driverFeaturesSel < 2 else { return }
            let shift = 32 * UInt64(driverFeaturesSel)
            driverFeatures = (driverFeatures & ~(0xffff_ffff << shift)) | (UInt64(v) << shift)
        case VirtioMMIOReg.queueSel: queueSel = v
        case VirtioMMIOReg.queueNum: withIdleQueue { $0.size = v > 0xffff ? 0 : UInt16(v) }
        case VirtioMMIOReg.queueReady: setQueueReady(v == 1)
        case VirtioMMIOReg.queueNotify:
            let q = Int(v & 0xffff)
            guard driverOK, q < queues.count, queues[q].ready else { return }
            device.process(queue: q, transport: self)
        case VirtioMMIOReg.interruptACK:
            interruptStatus &= ~v
            updateIRQ()
        case VirtioMMIOReg.status: setStatus(v)
        case VirtioMMIOReg.queueDescLow: withIdleQueue { $0.descAddr = ($0.descAddr & ~0xffff_ffff) | UInt64(v) }
        case VirtioMMIOReg.queueDescHigh: withIdleQueue { $0.descAddr = ($0.descAddr & 0xffff_ffff) | UInt64(v) << 32 }
        case VirtioMMIOReg.queueDriverLow: withIdleQueue { $0.availAddr = ($0.availAddr & ~0xffff_ffff) | UInt64(v) }
        case VirtioMMIOReg.queueDriverHigh: withIdleQueue { $0.availAddr = ($0.availAddr & 0xffff_ffff) | UInt64(v) << 32 }
        case VirtioMMIOReg.queueDeviceLow: withIdleQueue { $0.usedAddr = ($0.usedAddr & ~0xffff_ffff) | UInt64(v) }
        case VirtioMMIOReg.queueDeviceHigh: withIdleQueue { $0.usedAddr = ($0.usedAddr & 0xffff_ffff) | UInt64(v) << 32 }
        case VirtioMMIOReg.shmSel: shmSel = v
        default: break
        }
    }

    private func setQueueReady(_ on: Bool) {
        guard let q = selectedQueue else { return }
        if !on {
            // The driver takes the queue down: forget ring positions.
            let (s, d, a, u) = (q.size, q.descAddr, q.availAddr, q.usedAddr)
            q.reset()
            q.size = s; q.descAddr = d; q.availAddr = a; q.usedAddr = u
            return
        }
        guard !q.ready else { return }
        guard status & VirtioStatus.featuresOK != 0 else { fail("queue \(queueSel) enabled before FEATURES_OK"); return }
        if let err = q.validate(ram) { fail("queue \(queueSel): \(err)"); return }
        q.eventIdx = negotiated(VirtioFeature.eventIdx)
        q.indirectAllowed = negotiated(VirtioFeature.indirectDesc)
        q.lastAvail = 0; q.usedIdx = 0; q.signalledUsed = 0
        q.ready = true
    }

    private func setStatus(_ v: UInt32) {
        if v == 0 { reset(); return }
        var new = v & 0xff
        // FEATURES_OK is accepted only for a subset of the offered features that includes VERSION_1.
        if new & VirtioStatus.featuresOK != 0 && status & VirtioStatus.featuresOK == 0 {
            let ok = driverFeatures & ~offeredFeatures == 0 && negotiated(VirtioFeature.version1)
            if !ok { new &= ~VirtioStatus.featuresOK }
        }
        if new & VirtioStatus.driverOK != 0 && new & VirtioStatus.featuresOK == 0 { new &= ~VirtioStatus.driverOK }
        let becameReady = new & VirtioStatus.driverOK != 0 && status & VirtioStatus.driverOK == 0
        // The device owns NEEDS_RESET; the driver cannot clear it (other than by a reset).
        status = (new & ~VirtioStatus.needsReset) | (status & VirtioStatus.needsReset)
        if becameReady {
            // Buffers made available before DRIVER_OK are processed now.
            for i in queues.indices where queues[i].ready { device.process(queue: i, transport: self) }
        }
    }

    public func read(_ offset: UInt64, size: Int) -> UInt64 {
        if offset >= VirtioMMIOReg.config {
            guard isValidAccessSize(size) else { return 0 }
            let cfg = device.configSpace()
            let start = offset - VirtioMMIOReg.config
            guard start < UInt64(cfg.count), UInt64(cfg.count) - start >= UInt64(size) else { return 0 }
            var v: UInt64 = 0
            for i in 0..<size { v |= UInt64(cfg[Int(start) + i]) << UInt64(8 * i) }
            return v
        }
        // Registers are 32 bits wide and accessed as such; narrower or wider accesses read 0.
        guard size == 4, offset & 3 == 0 else { return 0 }
        return UInt64(reg(offset))
    }

    public func write(_ offset: UInt64, size: Int, value: UInt64) {
        if offset >= VirtioMMIOReg.config {
            guard isValidAccessSize(size) else { return }
            let start = offset - VirtioMMIOReg.config
            guard start < 0x1000 else { return }
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
            device.writeConfig(offset: Int(start), bytes: bytes)
            return
        }
        guard size == 4, offset & 3 == 0 else { return }
        setReg(offset, UInt32(truncatingIfNeeded: value))
    }

    // MARK: State

    public func saveState(_ w: inout StateWriter) {
        w.section("virtio-mmio", version: 1) { w in
            w.u32(device.deviceID)
            w.u32(status); w.u64(driverFeatures); w.u32(interruptStatus); w.u32(configGeneration)
            w.u32(deviceFeaturesSel); w.u32(driverFeaturesSel); w.u32(queueSel); w.u32(shmSel)
            w.u32(UInt32(queues.count))
            for q in queues { q.saveState(&w) }
            device.saveState(&w)
        }
    }

    public func loadState(_ r: inout StateReader) throws {
        try r.section("virtio-mmio", versions: 1...1) { r, _ in
            let id = try r.u32()
            guard id == device.deviceID else { throw StateError("virtio-mmio state is for device \(id), this slot holds device \(device.deviceID)") }
            let st = try r.u32(), df = try r.u64(), isr = try r.u32(), gen = try r.u32()
            let dfs = try r.u32(), drfs = try r.u32(), qs = try r.u32(), ss = try r.u32()
            let n = try r.u32()
            guard n == queues.count else { throw StateError("virtio-mmio state has \(n) queues, device has \(queues.count)") }
            guard isr <= 3, st <= 0xff else { throw StateError("virtio-mmio state: corrupt status/interrupt") }
            for q in queues { try q.loadState(&r) }
            try device.loadState(&r)
            status = st; driverFeatures = df; interruptStatus = isr; configGeneration = gen
            deviceFeaturesSel = dfs; driverFeaturesSel = drfs; queueSel = qs; shmSel = ss
            irqLevel = !(interruptStatus != 0)
            updateIRQ()
        }
    }
}
