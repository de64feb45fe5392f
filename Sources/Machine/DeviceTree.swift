// Flattened device tree (DTB) writer and the QEMU-virt-compatible board description.
// Format: Devicetree Specification v0.4, chapter 5 (version 17, last compatible version 16).

import Platform
import RISCV
import Devices

/// Physical memory map of the board (QEMU `virt` layout).
public enum VirtMap {
    public static let testBase: UInt64 = 0x0010_0000
    public static let testSize: UInt64 = 0x1000
    public static let rtcBase: UInt64 = 0x0010_1000
    public static let rtcSize: UInt64 = 0x1000
    /// The VM generation ID (16 bytes); free in QEMU's virt map.
    public static let vmgenidBase: UInt64 = 0x0010_2000
    public static let vmgenidSize: UInt64 = 0x1000
    public static let vmgenidIRQ = 12
    public static let clintBase: UInt64 = 0x0200_0000
    public static let clintSize: UInt64 = 0x1_0000
    public static let plicBase: UInt64 = 0x0c00_0000
    /// QEMU's size (room for 1024 contexts); 0x0600_0000 would overlap the UART.
    public static let plicSize: UInt64 = 0x0060_0000
    public static let uartBase: UInt64 = 0x1000_0000
    public static let uartSize: UInt64 = 0x100
    public static let virtioBase: UInt64 = 0x1000_1000
    public static let virtioStride: UInt64 = 0x1000
    public static let virtioSize: UInt64 = 0x1000
    public static let virtioMaxSlots = 8
    public static let ramBase: UInt64 = 0x8000_0000

    public static let uartIRQ = 10
    public static let rtcIRQ = 11
    /// PLIC source of virtio slot `i` (1...8).
    public static func virtioIRQ(_ slot: Int) -> Int { 1 + slot }
    public static func virtioAddress(_ slot: Int) -> UInt64 { virtioBase + virtioStride * UInt64(slot) }

    public static let uartClockFrequency: UInt32 = 3_686_400
    public static let plicNdev: UInt32 = 95
}

public struct FDTBuilder {
    static let magic: UInt32 = 0xd00d_feed
    static let tokenBeginNode: UInt32 = 1
    static let tokenEndNode: UInt32 = 2
    static let tokenProp: UInt32 = 3
    static let tokenEnd: UInt32 = 9
    static let headerSize = 40

    public var bootCPUID: UInt32 = 0
    private var structure: [UInt8] = []
    private var strings: [UInt8] = []
    private var stringOffsets: [String: UInt32] = [:]
    private var reservations: [(address: UInt64, size: UInt64)] = []
    private var depth = 0

    public init() {}

    /// Adds an entry to the memory reservation block.
    public mutating func reserveMemory(address: UInt64, size: UInt64) {
        reservations.append((address, size))
    }

    public mutating func beginNode(_ name: String) {
        FDTBuilder.appendBE(&structure, FDTBuilder.tokenBeginNode)
        structure.append(contentsOf: Array(name.utf8))
        structure.append(0)
        pad(&structure)
        depth += 1
    }

    public mutating func endNode() {
        precondition(depth > 0, "FDTBuilder.endNode without a matching beginNode")
        FDTBuilder.appendBE(&structure, FDTBuilder.tokenEndNode)
        depth -= 1
    }

    public mutating func property(_ name: String, _ bytes: [UInt8]) {
        precondition(depth > 0, "FDT property '\(name)' outside any node")
        FDTBuilder.appendBE(&structure, FDTBuilder.tokenProp)
        FDTBuilder.appendBE(&structure, UInt32(bytes.count))
        FDTBuilder.appendBE(&structure, stringOffset(name))
        structure.append(contentsOf: bytes)
        pad(&structure)
    }

    public mutating func property(_ name: String) { property(name, []) }

    public mutating func property(_ name: String, u32: UInt32) { property(name, u32s: [u32]) }

    public mutating func property(_ name: String, u32s: [UInt32]) {
        var b: [UInt8] = []
        b.reserveCapacity(u32s.count * 4)
        for v in u32s { FDTBuilder.appendBE(&b, v) }
        property(name, b)
    }

    /// A 64-bit value as two cells (high cell first).
    public mutating func property(_ name: String, u64: UInt64) {
        property(name, u32s: [UInt32(truncatingIfNeeded: u64 >> 32), UInt32(truncatingIfNeeded: u64)])
    }

    public mutating func property(_ name: String, string: String) { property(name, strings: [string]) }

    public mutating func property(_ name: String, strings: [String]) {
        var b: [UInt8] = []
        for s in strings { b.append(contentsOf: Array(s.utf8)); b.append(0) }
        property(name, b)
    }

    /// Closes any open nodes and returns the complete blob.
    public func finish() -> [UInt8] {
        var st = structure
        for _ in 0..<depth { FDTBuilder.appendBE(&st, FDTBuilder.tokenEndNode) }
        FDTBuilder.appendBE(&st, FDTBuilder.tokenEnd)

        let rsvOffset = FDTBuilder.headerSize  // 40 is already 8-byte aligned
        let rsvSize = (reservations.count + 1) * 16
        let structOffset = rsvOffset + rsvSize
        let stringsOffset = structOffset + st.count
        var total = stringsOffset + strings.count
        total = (total + 3) & ~3

        var out: [UInt8] = []
        out.reserveCapacity(total)
        for v in [FDTBuilder.magic, UInt32(total), UInt32(structOffset), UInt32(stringsOffset),
                  UInt32(rsvOffset), 17, 16, bootCPUID, UInt32(strings.count), UInt32(st.count)] {
            FDTBuilder.appendBE(&out, v)
        }
        for r in reservations {
            FDTBuilder.appendBE64(&out, r.address)
            FDTBuilder.appendBE64(&out, r.size)
        }
        FDTBuilder.appendBE64(&out, 0)
        FDTBuilder.appendBE64(&out, 0)
        out.append(contentsOf: st)
        out.append(contentsOf: strings)
        while out.count < total { out.append(0) }
        return out
    }

    private mutating func stringOffset(_ name: String) -> UInt32 {
        if let o = stringOffsets[name] { return o }
        let o = UInt32(strings.count)
        strings.append(contentsOf: Array(name.utf8))
        strings.append(0)
        stringOffsets[name] = o
        return o
    }

    private func pad(_ b: inout [UInt8]) {
        while b.count % 4 != 0 { b.append(0) }
    }

    static func appendBE(_ b: inout [UInt8], _ v: UInt32) {
        b.append(UInt8(truncatingIfNeeded: v >> 24))
        b.append(UInt8(truncatingIfNeeded: v >> 16))
        b.append(UInt8(truncatingIfNeeded: v >> 8))
        b.append(UInt8(truncatingIfNeeded: v))
    }

    static func appendBE64(_ b: inout [UInt8], _ v: UInt64) {
        appendBE(&b, UInt32(truncatingIfNeeded: v >> 32))
        appendBE(&b, UInt32(truncatingIfNeeded: v))
    }
}

public struct DeviceTreeConfig {
    public var harts: Int
    public var isaExtensions: [String]
    public var mmuType: String
    public var memoryBase: UInt64
    public var memorySize: UInt64
    public var bootargs: String
    public var initrd: (start: UInt64, end: UInt64)?
    public var timebaseFrequency: UInt32
    public var virtioSlots: Int
    /// Bytes for /chosen/rng-seed (as QEMU's virt board passes): Linux credits them to its CRNG at
    /// once instead of gathering boot entropy for seconds from timer jitter.
    public var rngSeed: [UInt8]?
    /// The AIA's IMSIC and APLIC instead of the PLIC (nil: the PLIC).
    public var aia: DeviceTreeAIA?

    public init(harts: Int = 1,
                isaExtensions: [String] = ["i", "m", "a", "f", "d", "c", "zicntr", "zicsr", "zifencei", "zihintpause", "sstc"],
                mmuType: String = "riscv,sv57",
                memoryBase: UInt64 = VirtMap.ramBase,
                memorySize: UInt64 = 512 << 20,
                bootargs: String = "",
                initrd: (start: UInt64, end: UInt64)? = nil,
                timebaseFrequency: UInt32 = 10_000_000,
                virtioSlots: Int = 0,
                rngSeed: [UInt8]? = nil,
                aia: DeviceTreeAIA? = nil) {
        self.harts = harts
        self.isaExtensions = isaExtensions
        self.mmuType = mmuType
        self.memoryBase = memoryBase
        self.memorySize = memorySize
        self.bootargs = bootargs
        self.initrd = initrd
        self.timebaseFrequency = timebaseFrequency
        self.virtioSlots = virtioSlots
        self.rngSeed = rngSeed
        self.aia = aia
    }
}

/// Canonical order of single-letter extensions in an ISA string.
private let singleLetterOrder = Array("iemafdqlcbkjtpvnh")

/// "rv64" + single letters in canonical order + "_"-joined multi-letter extensions
/// (Z* first, then S*, then X*, each group in the given order).
public func riscvISAString(_ extensions: [String]) -> String {
    let lower = extensions.map { $0.lowercased() }
    let singles = lower.filter { $0.count == 1 }.map { Character($0) }
    let sortedSingles = singles.sorted {
        (singleLetterOrder.firstIndex(of: $0) ?? 99) < (singleLetterOrder.firstIndex(of: $1) ?? 99)
    }
    let multi = lower.filter { $0.count > 1 }
    func rank(_ s: String) -> Int { s.hasPrefix("z") ? 0 : s.hasPrefix("s") ? 1 : s.hasPrefix("x") ? 3 : 2 }
    let sortedMulti = multi.enumerated().sorted {
        (rank($0.element), $0.offset) < (rank($1.element), $1.offset)
    }.map(\.element)
    var isa = "rv64" + String(sortedSingles)
    for m in sortedMulti { isa += "_" + m }
    return isa
}

private func regCells(_ base: UInt64, _ size: UInt64) -> [UInt32] {
    [UInt32(base >> 32), UInt32(truncatingIfNeeded: base), UInt32(size >> 32), UInt32(truncatingIfNeeded: size)]
}

private func hexName(_ v: UInt64) -> String { String(v, radix: 16) }

/// Builds a QEMU-`virt`-like device tree accepted by OpenSBI and Linux.
public func buildVirtDeviceTree(_ c: DeviceTreeConfig) -> [UInt8] {
    precondition(c.harts >= 1, "at least one hart")
    let slots = max(0, min(c.virtioSlots, VirtMap.virtioMaxSlots))

    // Phandles.
    var next: UInt32 = 1
    func alloc() -> UInt32 { defer { next += 1 }; return next }
    let cpuPhandles = (0..<c.harts).map { _ in alloc() }
    let intcPhandles = (0..<c.harts).map { _ in alloc() }
    let plicPhandle = alloc()   // the APLIC's with AIA
    let testPhandle = alloc()
    let imsicPhandle = alloc()
    // Wired interrupts: one cell to the PLIC, or <source, IRQ_TYPE_LEVEL_HIGH> to the APLIC.
    func irqCells(_ irq: Int) -> [UInt32] { c.aia == nil ? [UInt32(irq)] : [UInt32(irq), 4] }

    var f = FDTBuilder()
    f.beginNode("")
    f.property("#address-cells", u32: 2)
    f.property("#size-cells", u32: 2)
    f.property("compatible", string: "riscv-virtio")
    f.property("model", string: "riscv-virtio,qemu")

    let serialPath = "/soc/serial@\(hexName(VirtMap.uartBase))"

    f.beginNode("chosen")
    f.property("bootargs", string: c.bootargs)
    f.property("stdout-path", string: serialPath)
    if let seed = c.rngSeed { f.property("rng-seed", seed) }
    if let initrd = c.initrd {
        f.property("linux,initrd-start", u64: initrd.start)
        f.property("linux,initrd-end", u64: initrd.end)
    }
    f.endNode()

    f.beginNode("aliases")
    f.property("serial0", string: serialPath)
    f.endNode()

    let lowerExts = c.isaExtensions.map { $0.lowercased() }
    let isa = riscvISAString(lowerExts)
    f.beginNode("cpus")
    f.property("#address-cells", u32: 1)
    f.property("#size-cells", u32: 0)
    f.property("timebase-frequency", u32: c.timebaseFrequency)
    for h in 0..<c.harts {
        f.beginNode("cpu@\(h)")
        f.property("phandle", u32: cpuPhandles[h])
        f.property("device_type", string: "cpu")
        f.property("reg", u32: UInt32(h))
        f.property("status", string: "okay")
        f.property("compatible", string: "riscv")
        f.property("riscv,isa", string: isa)
        f.property("riscv,isa-base", string: "rv64i")
        f.property("riscv,isa-extensions", strings: lowerExts)
        f.property("mmu-type", string: c.mmuType)
        // Cache-block operations work on 64-byte blocks (Hart.cacheBlockSize).
        for (ext, prop) in [("zicbom", "riscv,cbom-block-size"), ("zicbop", "riscv,cbop-block-size"), ("zicboz", "riscv,cboz-block-size")]
            where lowerExts.contains(ext) {
            f.property(prop, u32: UInt32(Hart.cacheBlockSize))
        }
        f.beginNode("interrupt-controller")
        f.property("#address-cells", u32: 0)
        f.property("#interrupt-cells", u32: 1)
        f.property("interrupt-controller")
        f.property("compatible", string: "riscv,cpu-intc")
        f.property("phandle", u32: intcPhandles[h])
        f.endNode()
        f.endNode()
    }
    f.beginNode("cpu-map")
    f.beginNode("cluster0")
    for h in 0..<c.harts {
        f.beginNode("core\(h)")
        f.property("cpu", u32: cpuPhandles[h])
        f.endNode()
    }
    f.endNode()
    f.endNode()
    f.endNode()  // cpus

    f.beginNode("memory@\(hexName(c.memoryBase))")
    f.property("device_type", string: "memory")
    f.property("reg", u32s: regCells(c.memoryBase, c.memorySize))
    f.endNode()

    f.beginNode("poweroff")
    f.property("value", u32: SiFiveTest.finisherPass)
    f.property("offset", u32: 0)
    f.property("regmap", u32: testPhandle)
    f.property("compatible", string: "syscon-poweroff")
    f.endNode()

    f.beginNode("reboot")
    f.property("value", u32: SiFiveTest.finisherReset)
    f.property("offset", u32: 0)
    f.property("regmap", u32: testPhandle)
    f.property("compatible", string: "syscon-reboot")
    f.endNode()

    f.beginNode("soc")
    f.property("#address-cells", u32: 2)
    f.property("#size-cells", u32: 2)
    f.property("compatible", string: "simple-bus")
    f.property("ranges")

    f.beginNode("test@\(hexName(VirtMap.testBase))")
    f.property("phandle", u32: testPhandle)
    f.property("reg", u32s: regCells(VirtMap.testBase, VirtMap.testSize))
    f.property("compatible", strings: ["sifive,test1", "sifive,test0", "syscon"])
    f.endNode()

    f.beginNode("rtc@\(hexName(VirtMap.rtcBase))")
    f.property("interrupts", u32s: irqCells(VirtMap.rtcIRQ))
    f.property("interrupt-parent", u32: plicPhandle)
    f.property("reg", u32s: regCells(VirtMap.rtcBase, VirtMap.rtcSize))
    f.property("compatible", string: "google,goldfish-rtc")
    f.endNode()

    f.beginNode("vmgenid@\(hexName(VirtMap.vmgenidBase))")
    f.property("interrupts", u32s: irqCells(VirtMap.vmgenidIRQ))
    f.property("interrupt-parent", u32: plicPhandle)
    f.property("reg", u32s: regCells(VirtMap.vmgenidBase, VirtMap.vmgenidSize))
    f.property("compatible", string: "microsoft,vmgenid")
    f.endNode()

    f.beginNode("serial@\(hexName(VirtMap.uartBase))")
    f.property("interrupts", u32s: irqCells(VirtMap.uartIRQ))
    f.property("interrupt-parent", u32: plicPhandle)
    f.property("clock-frequency", u32: VirtMap.uartClockFrequency)
    f.property("reg", u32s: regCells(VirtMap.uartBase, VirtMap.uartSize))
    f.property("compatible", string: "ns16550a")
    f.endNode()

    for i in 0..<slots {
        let addr = VirtMap.virtioAddress(i)
        f.beginNode("virtio_mmio@\(hexName(addr))")
        f.property("interrupts", u32s: irqCells(VirtMap.virtioIRQ(i)))
        f.property("interrupt-parent", u32: plicPhandle)
        f.property("reg", u32s: regCells(addr, VirtMap.virtioSize))
        f.property("compatible", string: "virtio,mmio")
        f.endNode()
    }

    if let aia = c.aia {
        // AIA device tree bindings (riscv,imsics.yaml, riscv,aplic.yaml), shaped as QEMU virt's.
        f.beginNode("aplic@\(hexName(aia.aplicBase))")
        f.property("phandle", u32: plicPhandle)
        f.property("riscv,num-sources", u32: UInt32(aia.sources))
        f.property("reg", u32s: regCells(aia.aplicBase, aia.aplicSize))
        f.property("msi-parent", u32: imsicPhandle)
        f.property("interrupt-controller")
        f.property("#interrupt-cells", u32: 2)
        f.property("#address-cells", u32: 0)
        f.property("compatible", string: "riscv,aplic")
        f.endNode()

        f.beginNode("imsics@\(hexName(aia.imsicBase))")
        f.property("phandle", u32: imsicPhandle)
        if aia.guestIndexBits > 0 { f.property("riscv,guest-index-bits", u32: UInt32(aia.guestIndexBits)) }
        f.property("riscv,ipi-id", u32: 1)
        f.property("riscv,num-ids", u32: 255)
        f.property("reg", u32s: regCells(aia.imsicBase, aia.imsicSize))
        f.property("interrupts-extended", u32s: intcPhandles.flatMap { [$0, 9] })
        f.property("msi-controller")
        f.property("interrupt-controller")
        f.property("#interrupt-cells", u32: 0)
        f.property("#address-cells", u32: 0)
        f.property("compatible", string: "riscv,imsics")
        f.endNode()
    } else {
        f.beginNode("plic@\(hexName(VirtMap.plicBase))")
        f.property("phandle", u32: plicPhandle)
        f.property("riscv,ndev", u32: VirtMap.plicNdev)
        f.property("reg", u32s: regCells(VirtMap.plicBase, VirtMap.plicSize))
        f.property("interrupts-extended", u32s: intcPhandles.flatMap { [$0, 11, $0, 9] })
        f.property("interrupt-controller")
        f.property("compatible", strings: ["sifive,plic-1.0.0", "riscv,plic0"])
        f.property("#address-cells", u32: 0)
        f.property("#interrupt-cells", u32: 1)
        f.endNode()
    }

    f.beginNode("clint@\(hexName(VirtMap.clintBase))")
    f.property("interrupts-extended", u32s: intcPhandles.flatMap { [$0, 3, $0, 7] })
    f.property("reg", u32s: regCells(VirtMap.clintBase, VirtMap.clintSize))
    f.property("compatible", strings: ["sifive,clint0", "riscv,clint0"])
    f.endNode()

    f.endNode()  // soc
    f.endNode()  // root
    return f.finish()
}
