#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import Platform
import RISCV
import Devices
import Backends

public enum Firmware: Equatable, Sendable, Codable {
    /// No firmware file: the kernel starts in S-mode and the machine answers SBI calls itself.
    case builtin
    /// An OpenSBI fw_dynamic.bin (or compatible) run in M-mode at the start of RAM.
    case file(String)
    /// Bare metal: the loaded program starts in M-mode at its entry point (tests).
    case none
}

/// `--disk` specification (re-exported for the CLI, which does not import Devices).
public typealias DiskSpec = Devices.DiskSpec
/// `--net` specification (re-exported for the CLI).
public typealias NetSpec = Devices.NetSpec
public typealias HostForward = Devices.HostForward

public struct MachineConfig: Sendable, Codable, Equatable {
    public var memorySize: UInt64 = 512 << 20
    public var harts: Int = 1
    public var firmware: Firmware = .builtin
    public var kernelPath: String? = nil
    public var initrdPath: String? = nil
    public var bootargs: String = "console=ttyS0"
    /// virtio-blk disks, in slot order (the first is /dev/vda).
    public var disks: [DiskSpec] = []
    /// Attach a virtio-rng device.
    public var rng = false
    /// Attach a virtio-console device (hvc0) and send host input to it instead of the UART.
    public var virtioConsole = false
    /// Implement the Hypervisor (H) extension: misa.H, H/VS CSRs, two-stage translation. On by
    /// default, as QEMU's rv64 CPU advertises it.
    public var hypervisor = true
    /// virtio-net devices (user-mode networking through libslirp, or tap), after the other virtio devices.
    public var net: [NetSpec] = []
    /// The CPU model and extension switches (`--cpu`, QEMU's `-cpu` syntax: "max,zbc=off"); nil is
    /// plain RV64GC, which is what snapshots and streams from before the option describe.
    public var cpu: String? = nil
    /// The interrupt controllers (`--aia`, as QEMU virt's `aia=`): the PLIC, or APLIC + IMSICs. Stored
    /// optional so configs encoded before the setting decode (nil is `.none`).
    var aiaSetting: AIAMode? = nil
    public var aia: AIAMode {
        get { aiaSetting ?? .none }
        set { aiaSetting = newValue == .none ? nil : newValue }
    }
    public init() {}
}

/// `--aia`: QEMU virt's `aia=` machine property.
public enum AIAMode: String, Sendable, Codable, CaseIterable {
    /// The SiFive PLIC (the default).
    case none
    /// The AIA: an APLIC in MSI mode and per-hart IMSICs (S-level file plus `Machine.guestFiles` guest
    /// files, M-level file), Smaia/Ssaia on the harts.
    case aplicIMSIC = "aplic-imsic"
}

/// `--cpu MODEL[,EXT=on|off]...`: which optional extensions the harts implement.
public enum CPUModel {
    /// The models: RV64GC only; the RVA22 or RVA23 profile's extensions (U64 + S64; H, Sstc and the
    /// rest of their options as the board gives them); or every extension Matryoshka implements.
    public static let models: [String: Extensions] = [
        "rv64gc": .none,
        "rva22": [.zba, .zbb, .zbs, .zicbom, .zicboz, .zfhmin, .svade, .svpbmt, .svinval],
        // RVA23U64 + RVA23S64 (the ratified profile's mandatory extensions; Zkt, the Zicc* and Za64rs/Zic64b
        // properties and Sha's are the board's), and the option Svadu, which spares kernels a page fault per
        // first access: hardware A/D updating stays off until menvcfg.ADUE turns it on (Svade's behaviour).
        "rva23": [.zba, .zbb, .zbs, .zicbom, .zicboz, .zfhmin, .zfa, .zicond, .zimop, .zcb, .zawrs, .v, .zvfhmin, .zvbb, .zvkt,
                  .svade, .svadu, .svpbmt, .svinval, .svnapot, .sscofpmf, .smstateen, .ssnpm, .smnpm],
        "max": .all,
    ]
    /// The model of a new machine whose config names none.
    public static let defaultModel = "rva23"
    /// Switchable extensions by their ISA-string names (Zcmop goes with Zimop).
    public static let switches: [(name: String, ext: Extensions)] = [
        ("zba", .zba), ("zbb", .zbb), ("zbc", .zbc), ("zbs", .zbs), ("zicond", .zicond), ("zcb", .zcb),
        ("zimop", .zimop), ("zicbom", .zicbom), ("zicboz", .zicboz), ("zawrs", .zawrs), ("svinval", .svinval),
        ("svpbmt", .svpbmt), ("svnapot", .svnapot), ("zfhmin", .zfhmin), ("zfa", .zfa), ("zfh", .zfh),
        ("svade", .svade), ("svadu", .svadu), ("smstateen", .smstateen), ("smnpm", .smnpm), ("ssnpm", .ssnpm),
        ("v", .v), ("zvfhmin", .zvfhmin), ("zvbb", .zvbb), ("zvkt", .zvkt), ("sscofpmf", .sscofpmf),
    ]
    /// The vector extensions that need V.
    static let vectorParts: Extensions = [.zvfhmin, .zvbb, .zvkt]

    /// VLEN in bits from `,vlen=N` in the spec (QEMU's property): a power of two from 128 to 1024; 128 by default.
    public static func vectorLength(_ spec: String?) throws -> Int {
        guard let spec else { return 128 }
        for p in spec.lowercased().split(separator: ",").dropFirst() where p.hasPrefix("vlen=") {
            guard let n = Int(p.dropFirst(5)), (128...Hart.maxVLEN).contains(n), n & (n - 1) == 0 else {
                throw LoadError("--cpu \(spec): vlen must be 128, 256, 512 or 1024 (bits)")
            }
            return n
        }
        return 128
    }

    public static func extensions(_ spec: String?) throws -> Extensions {
        guard let spec else { return .none }
        var parts = spec.lowercased().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let model = parts.removeFirst()
        guard var e = models[model] else {
            throw LoadError("unknown CPU model '\(model)' in --cpu \(spec): use \(models.keys.sorted().joined(separator: " or "))")
        }
        var turnedOff: Extensions = .none, turnedOn: Extensions = .none
        for p in parts {
            let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
            if kv[0] == "vlen" { _ = try vectorLength(spec); continue }
            guard let s = switches.first(where: { $0.name == kv[0] }) else {
                throw LoadError("unknown extension '\(kv[0])' in --cpu \(spec): switchable are \(switches.map(\.name).joined(separator: ", "))")
            }
            switch kv.count == 2 ? kv[1] : "" {
            case "on", "true": e.insert(s.ext); turnedOn.insert(s.ext)
            case "off", "false": e.remove(s.ext); turnedOff.insert(s.ext)
            default: throw LoadError("--cpu \(spec): write \(kv[0])=on or \(kv[0])=off")
            }
        }
        // Zcb's sign/zero extensions are defined with Zbb's and Zba's; that is checked where decoded.
        // Zfh includes Zfhmin: turning Zfhmin off alone would leave it on (QEMU refuses this too).
        if e.contains(.zfh) {
            if turnedOff.contains(.zfhmin) { throw LoadError("--cpu \(spec): Zfh includes Zfhmin; write zfh=off,zfhmin=off") }
            e.insert(.zfhmin)
        }
        if !e.contains(.v) {
            if !turnedOn.isDisjoint(with: vectorParts) { throw LoadError("--cpu \(spec): Zvfhmin, Zvbb and Zvkt need V; add v=on") }
            e.subtract(vectorParts)
        }
        return e
    }

    /// ISA-string names of what `e` implements, for the device tree (Zicbop's prefetch hints and
    /// Zihintntl's hints are plain ORI/ADD to x0 and come with any model beyond RV64GC).
    public static func names(_ e: Extensions, vlen: Int = 128) -> [String] {
        var n = switches.filter { e.contains($0.ext) }.map(\.name)
        // V implies the embedded subsets and guarantees VLEN (Zvl*b for every power of two up to it).
        if e.contains(.v) {
            n += ["zve32f", "zve32x", "zve64d", "zve64f", "zve64x"]
            n += [32, 64, 128, 256, 512, 1024].filter { $0 <= vlen }.map { "zvl\($0)b" }
        }
        if e.contains(.zimop) { n.append("zcmop") }
        if e.contains(.zicbom) { n.append("zicbop") }
        if e.contains(.smstateen) { n.append("ssstateen") }
        if e.contains(.ssnpm) { n.append("supm") }   // pointer masking for U-mode, which Ssnpm provides under S
        if !e.isEmpty { n += ["zihintntl"] + profileProperties }
        return n
    }

    /// What the hart is on every model (the profiles name these, so they are listed beyond RV64GC):
    /// UXL fixed at 64, hpm counters (zero unless Sscofpmf programs them), Zkt, main memory's guarantees (instruction fetch, LR/SC
    /// eventuality, AMOs, misaligned loads and stores, 64-byte reservation sets and cache blocks),
    /// hardware page-table reads, any aligned stvec base, stval written for every fault, writable
    /// scounteren bits.
    static let profileProperties = ["ssu64xl", "zihpm", "zkt", "ziccif", "ziccrse", "ziccamoa", "zicclsm", "za64rs", "zic64b",
                                    "ssccptr", "sstvecd", "sstvala", "sscounterenw"]
    /// The same for the H extension (the Sha profile's parts): writable hcounteren bits, vstval and
    /// htval written for every fault, any aligned vstvec base, vsatp and hgatp with every satp mode.
    static let hypervisorProperties = ["shcounterenw", "shvstvala", "shtvala", "shvstvecd", "shvsatpa", "shgatpa"]
}

public enum ExitReason: Equatable, Sendable, CustomStringConvertible {
    case powerOff(code: Int)
    case reset
    case stopped
    /// Ctrl-A X on the console.
    case consoleQuit
    /// Live migration completed: the guest runs on at the destination (summary line).
    case migrated(String)
    /// SIGTERM, SIGINT or SIGHUP.
    case signal(Int32)
    /// A host request (pause, stop, snapshot) asked the loop to return at a safe point: every hart
    /// is between instructions and no device is mid-request. `run` again continues.
    case interrupted
    case error(String)
    public var description: String {
        switch self {
        case .powerOff(let c): return c == 0 ? "guest powered off" : "guest powered off with failure code \(c)"
        case .reset: return "guest requested a reset"
        case .stopped: return "stopped by the host"
        case .consoleQuit: return "quit from the console (Ctrl-A X)"
        case .migrated(let summary): return summary
        case .signal(let s):
            let names: [Int32: String] = [SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGHUP: "SIGHUP"]
            return "terminated by signal \(s) (\(names[s] ?? "SIG\(s)"))"
        case .interrupted: return "interrupted at a safe point"
        case .error(let m): return m
        }
    }
}

public struct MachineStats {
    public var instructions: UInt64 = 0
    public var sbiCalls: UInt64 = 0
    /// SBI calls the built-in SBI does not implement (answered SBI_ERR_NOT_SUPPORTED).
    public var sbiUnsupported: UInt64 = 0
    /// Guest accesses to physical addresses where neither RAM nor a device is (access faults).
    public var unmappedAccesses: UInt64 = 0
    /// Times a virtio device entered DEVICE_NEEDS_RESET.
    public var virtioNeedsReset: UInt64 = 0
    /// Errors reported by network backends (libslirp).
    public var netErrors: UInt64 = 0
    /// Guest-requested resets that rebooted the machine.
    public var reboots: UInt64 = 0
    public var hostSeconds: Double = 0
    public var idleSeconds: Double = 0
}

/// The QEMU-`virt`-compatible board: harts, RAM, CLINT, PLIC, UART, RTC and sifive_test, a generated
/// device tree, and the boot protocol for Linux with OpenSBI or the built-in SBI.
public final class Machine {
    public let config: MachineConfig
    public let ram: GuestRAM
    public let time: TimeBase
    public let bus: SystemBus
    public let code: CodeCache
    public private(set) var harts: [Hart] = []
    public private(set) var clint: CLINT!
    public private(set) var plic: PLIC!
    /// With `--aia aplic-imsic`: the S-level APLIC (MSI mode) and the IMSIC regions (Machine+AIA.swift).
    public internal(set) var aplic: APLIC?
    public internal(set) var imsicS: IMSICRegion?, imsicM: IMSICRegion?
    public private(set) var uart: UART16550!
    public private(set) var rtc: GoldfishRTC!
    public private(set) var test: SiFiveTest!
    public private(set) var vmgenid: VMGenID!
    /// virtio-mmio slots in use (slot i is at VirtMap.virtioAddress(i)).
    public private(set) var virtio: [VirtioMMIOTransport] = []
    public private(set) var virtioConsole: VirtioConsole?
    public private(set) var netDevices: [VirtioNet] = []
    public internal(set) var dtb: [UInt8] = []
    public internal(set) var dtbAddress: UInt64 = 0
    public var stats = MachineStats()
    /// Wakes the idle loop early: console input, finished disk requests.
    public let hostEvent = HostEvent()
    var sbi: BuiltinSBI?
    let logger = Logger(label: "matryoshka.machine")
    /// Host time of the last warning per `Problem` (0: never warned).
    var lastWarning = [UInt64](repeating: 0, count: Problem.allCases.count)

    /// Guest console output goes here (bytes, possibly several at once).
    public var consoleSink: ([UInt8]) -> Void = { _ in }
    var consoleBuffer: [UInt8] = []
    var exitReason: ExitReason? = nil
    /// Instructions each hart runs before the next hart and the devices get a turn.
    public var sliceLength = 20_000
    /// Sample each hart's pc after every slice (MATRYOSHKA_PROFILE); a cheap guest profiler.
    public var profile = false
    public var pcSamples: [UInt64: Int] = [:]

    public static let isaExtensions = ["i", "m", "a", "f", "d", "c", "zicntr", "zicsr", "zifencei", "zihintpause", "sstc"]
    /// The ISA extensions advertised in the device tree for `config` ("h" after the single letters when enabled).
    public static func isaExtensions(for config: MachineConfig) -> [String] {
        var e = isaExtensions
        if config.hypervisor { e.insert("h", at: e.firstIndex(of: "zicntr") ?? e.count) }
        let beyond = (try? CPUModel.extensions(config.cpu)) ?? .none
        e += CPUModel.names(beyond, vlen: (try? CPUModel.vectorLength(config.cpu)) ?? 128)
        if config.aia == .aplicIMSIC { e += ["smaia", "ssaia"] }
        if config.hypervisor && !beyond.isEmpty { e += CPUModel.hypervisorProperties }
        return e
    }

    /// Builds the board; `ram` (live migration: pages already received) must be `config.memorySize`
    /// bytes at the RAM base, or nil for new RAM.
    public init(config: MachineConfig, ram existing: GuestRAM? = nil) throws {
        guard config.harts >= 1 && config.harts <= 32 else { throw LoadError("--cpus must be between 1 and 32 (got \(config.harts))") }
        guard config.memorySize >= 16 << 20, config.memorySize <= 64 << 30, config.memorySize % (1 << 20) == 0 else {
            throw LoadError("--memory must be a whole number of MiB between 16M and 64G")
        }
        self.config = config
        if let existing {
            guard existing.base == VirtMap.ramBase, existing.size == config.memorySize else { throw LoadError("RAM does not match the machine's config") }
            ram = existing
        } else {
            do { ram = try GuestRAM(base: VirtMap.ramBase, size: config.memorySize) } catch { throw LoadError("\(error)") }
        }
        time = TimeBase()
        bus = SystemBus()
        code = CodeCache(ram: ram)
        let extensions = try CPUModel.extensions(config.cpu)
        let vlen = try CPUModel.vectorLength(config.cpu)
        for i in 0..<config.harts {
            let h = Hart(id: i, ram: ram, bus: bus, time: time, code: code)
            h.hypervisorExtension = config.hypervisor
            h.extensions = extensions
            h.vlenb = vlen / 8
            if config.aia == .aplicIMSIC { h.aia = HartAIA(geilen: Machine.guestFiles) }
            harts.append(h)
        }
        clint = CLINT(harts: harts, time: time)
        plic = PLIC(harts: harts)
        if config.aia == .aplicIMSIC { attachAIA() }
        uart = UART16550(irq: { [unowned self] level in self.setIRQ(VirtMap.uartIRQ, level) },
                         output: { [unowned self] b in self.consoleBuffer.append(b) })
        rtc = GoldfishRTC(irq: { [unowned self] level in self.setIRQ(VirtMap.rtcIRQ, level) })
        test = SiFiveTest(onPowerOff: { [unowned self] code in self.powerOff(code: code, reason: "sifive_test") },
                          onReset: { [unowned self] in self.requestReset(reason: "sifive_test") })
        bus.map(base: VirtMap.testBase, size: VirtMap.testSize, name: "test", device: test)
        bus.map(base: VirtMap.rtcBase, size: VirtMap.rtcSize, name: "rtc", device: rtc)
        vmgenid = VMGenID(irq: { [unowned self] level in self.setIRQ(VirtMap.vmgenidIRQ, level) })
        bus.map(base: VirtMap.vmgenidBase, size: VirtMap.vmgenidSize, name: "vmgenid", device: vmgenid)
        bus.map(base: VirtMap.clintBase, size: VirtMap.clintSize, name: "clint", device: clint)
        if aplic == nil { bus.map(base: VirtMap.plicBase, size: VirtMap.plicSize, name: "plic", device: plic) }
        bus.map(base: VirtMap.uartBase, size: VirtMap.uartSize, name: "uart", device: uart)
        try attachVirtioDevices()
    }

    private func attachVirtioDevices() throws {
        var devices: [VirtioDevice] = []
        for disk in config.disks {
            do { devices.append(VirtioBlock(backend: try disk.open(), asynchronous: true, ram: ram, wake: hostEvent)) }
            catch { throw LoadError("\(error)") }
        }
        if config.rng { devices.append(VirtioRNG()) }
        if config.virtioConsole {
            let c = VirtioConsole(output: { [unowned self] bytes in self.consoleBuffer.append(contentsOf: bytes) })
            virtioConsole = c
            devices.append(c)
        }
        for (i, spec) in config.net.enumerated() {
            var mac = spec.mac
            if i > 0 && spec.mac == NetSpec.defaultMAC { mac[5] &+= UInt8(truncatingIfNeeded: i) }
            let backend: NetBackend
            do { backend = try spec.openBackend() } catch { throw LoadError("\(error)") }
            let n = VirtioNet(backend: backend, mac: mac)
            netDevices.append(n)
            devices.append(n)
        }
        guard devices.count <= VirtMap.virtioMaxSlots else {
            throw LoadError("too many virtio devices (\(devices.count)); the board has \(VirtMap.virtioMaxSlots) virtio-mmio slots")
        }
        for (slot, d) in devices.enumerated() {
            let irq = VirtMap.virtioIRQ(slot)
            let t = VirtioMMIOTransport(device: d, ram: ram, irq: { [unowned self] level in self.setIRQ(irq, level) })
            bus.map(base: VirtMap.virtioAddress(slot), size: VirtMap.virtioSize, name: "virtio\(slot)", device: t)
            virtio.append(t)
        }
    }

    // MARK: Boot

    static func readFile(_ path: String, what: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw LoadError("\(path): cannot open \(what): \(String(cString: strerror(errno))); check the path (run `matryoshka images fetch` for the default guest)")
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n > 0 { out.append(contentsOf: buf[0..<n]) }
            if n < buf.count {
                if ferror(f) != 0 { throw LoadError("\(path): read error while loading \(what)") }
                break
            }
        }
        return out
    }

    /// Loads firmware, kernel, initrd and device tree and sets every hart to its reset state.
    public func boot() throws {
        guard let kernelPath = config.kernelPath else { throw LoadError("no kernel given: pass --kernel PATH") }
        let kernelBytes = try Machine.readFile(kernelPath, what: "kernel")
        guard !kernelBytes.isEmpty else { throw LoadError("\(kernelPath): kernel file is empty") }
        let kernelBase = VirtMap.ramBase + 0x20_0000
        let kernel = try KernelLoader.load(kernelBytes, path: kernelPath, into: ram, imageBase: kernelBase)
        let ramEnd = ram.base + ram.size

        // Device tree at the top of RAM (64 KiB), fw_dynamic info below it, initrd below that.
        dtbAddress = (ramEnd - 0x10000) & ~0xfff
        let infoAddress = dtbAddress - 0x1000
        var initrd: (start: UInt64, end: UInt64)? = nil
        if let initrdPath = config.initrdPath {
            let bytes = try Machine.readFile(initrdPath, what: "initrd")
            let start = (infoAddress - UInt64(bytes.count)) & ~0xfff
            guard UInt64(bytes.count) < infoAddress - ram.base, start >= kernel.end + 0x10_0000 else {
                throw LoadError("\(initrdPath): initrd (\(bytes.count >> 20) MiB) does not fit in guest RAM next to the kernel; raise --memory")
            }
            ram.copyIn(start, bytes)
            initrd = (start, start + UInt64(bytes.count))
        }
        dtb = buildVirtDeviceTree(DeviceTreeConfig(harts: config.harts, isaExtensions: Machine.isaExtensions(for: config),
                                                   mmuType: "riscv,sv57", memoryBase: ram.base, memorySize: ram.size,
                                                   bootargs: config.bootargs, initrd: initrd,
                                                   virtioSlots: virtio.count,
                                                   rngSeed: (0..<32).map { _ in UInt8.random(in: 0...255) },
                                                   aia: aiaDeviceTree))
        guard dtb.count <= 0x10000 else { throw LoadError("device tree too large (\(dtb.count) bytes)") }
        ram.copyIn(dtbAddress, dtb)

        switch config.firmware {
        case .builtin:
            sbi = BuiltinSBI(machine: self)
            for h in harts {
                h.reset(pc: kernel.entry)
                h.sbi = sbi
                configureForBuiltinFirmware(h)
                h.running = false
            }
            startSupervisor(harts[0], entry: kernel.entry, a0: 0, a1: dtbAddress)
        case .file(let path):
            let fw = try Machine.readFile(path, what: "firmware")
            guard !fw.isEmpty, UInt64(fw.count) < 0x20_0000 else {
                throw LoadError("\(path): firmware must be a non-empty flat binary under 2 MiB (OpenSBI fw_dynamic.bin)")
            }
            if KernelLoader.isELF(fw) { throw LoadError("\(path): firmware is an ELF file; pass the flat fw_dynamic.bin") }
            ram.copyIn(ram.base, fw)
            // struct fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h): magic, version, next_addr, next_mode, options, boot_hart
            let info: [UInt64] = [0x4942_534f, 2, kernel.entry, 1, 0, UInt64.max]
            for (i, v) in info.enumerated() { ram.write(infoAddress + UInt64(8 * i), v) }
            for h in harts {
                h.reset(pc: ram.base)
                h.x[10] = UInt64(h.id); h.x[11] = dtbAddress; h.x[12] = infoAddress
                h.running = true
            }
        case .none:
            for h in harts {
                h.reset(pc: kernel.entry)
                h.x[10] = UInt64(h.id); h.x[11] = dtbAddress
                h.running = true
            }
        }
        logger.debug("loaded \(kernel.format) kernel 0x\(String(kernel.start, radix: 16))-0x\(String(kernel.end, radix: 16)), entry 0x\(String(kernel.entry, radix: 16)), dtb at 0x\(String(dtbAddress, radix: 16))")
    }

    /// M-mode state that firmware would leave behind before entering an S-mode kernel.
    func configureForBuiltinFirmware(_ h: Hart) {
        _ = h.csrWrite(CSR.pmpaddr0, (1 << 54) - 1)
        _ = h.csrWrite(CSR.pmpcfg0, 0x1f)                 // NAPOT, RWX: S/U may access everything
        // Every exception the kernel handles itself; with H also ecalls from VS-mode, guest-page faults and
        // virtual-instruction exceptions, which a hypervisor in HS-mode handles (as OpenSBI delegates them).
        _ = h.csrWrite(CSR.medeleg, 0xb1ff | (h.hypervisorExtension ? (1 << 10) | (0xf << 20) : 0))
        _ = h.csrWrite(CSR.mideleg, IRQ.ssip | IRQ.stip | IRQ.seip | Hart.lcofi)   // LCOFI only where Sscofpmf is
        // The programmable counters stand still until the SBI PMU extension starts them (as OpenSBI).
        _ = h.csrWrite(CSR.mcountinhibit, 0xffff_fff8)
        _ = h.csrWrite(CSR.mcounteren, 0xffff_ffff)
        // Linux only sets scounteren from its SBI PMU driver, and the built-in SBI has no PMU
        // extension: without this, rdtime in user mode (the vDSO clock_gettime) traps.
        _ = h.csrWrite(CSR.scounteren, 0x2)
        // Sstc (the kernel programs stimecmp directly), Svpbmt's PBMTE, and the cache-block operations
        // for S-mode (CBZE, CBCFE, CBIE = invalidate), as OpenSBI enables them; Svadu's hardware A/D
        // updating (ADUE), which spares the kernel a page fault per first access; bits of extensions
        // the hart lacks stay zero.
        _ = h.csrWrite(CSR.menvcfg, (1 << 63) | (1 << 62) | (1 << 61) | 0xf0)
        // Smstateen: S/HS-mode may use sstateen0/hstateen0 (SE0) and senvcfg/henvcfg (ENVCFG), as
        // OpenSBI allows them (a kernel that knows Smstateen, KVM's, writes them).
        // With AIA also CSRIND, AIA and IMSIC (OpenSBI opens them too).
        _ = h.csrWrite(CSR.mstateen0, (1 << 63) | (1 << 62) | Hart.aiaStateEnables)
        _ = h.csrWrite(CSR.mie, 0)
    }

    /// Starts `h` in S-mode at `entry` with a0/a1 as the SBI HSM and boot protocols specify.
    func startSupervisor(_ h: Hart, entry: UInt64, a0: UInt64, a1: UInt64) {
        h.prv = Priv.supervisor
        h.pc = entry
        h.satp = 0
        h.mstatus &= ~(MStatus.sie | MStatus.spie | MStatus.spp)
        h.x[10] = a0
        h.x[11] = a1
        h.flushTLB()
        h.waitingForInterrupt = false
        h.running = true
    }

    // MARK: Console and power

    public func consoleWrite(_ bytes: [UInt8]) { consoleBuffer.append(contentsOf: bytes) }
    var sbiInput: [UInt8] = []
    public func takeConsoleInput(max: Int) -> [UInt8] {
        // The SBI console shares host input with the UART: only used when the guest polls the SBI.
        let n = Swift.min(max, sbiInput.count)
        defer { sbiInput.removeFirst(n) }
        return Array(sbiInput.prefix(n))
    }
    func flushConsole() {
        guard !consoleBuffer.isEmpty else { return }
        if let g = outputGate { g.console(consoleBuffer) } else { consoleSink(consoleBuffer) }
        consoleBuffer.removeAll(keepingCapacity: true)
    }

    /// Output commit (HA): console bytes and transmitted frames pass through this gate once installed.
    public private(set) var outputGate: OutputGate?

    /// Installs the output gate (at a safe point); the console goes to `consoleSink` through it.
    public func installOutputGate() -> OutputGate {
        if let g = outputGate { return g }
        let sink = UncheckedSendable(self)
        let g = OutputGate(devices: netDevices.count) { bytes in sink.value.consoleSink(bytes) }
        for (i, n) in netDevices.enumerated() { n.outputGate = g; n.gateIndex = i }
        outputGate = g
        return g
    }

    /// Every disk's write log (in slot order), for HA.
    public var diskWriteLogs: [DiskWriteLog] { virtio.compactMap { ($0.device as? VirtioBlock)?.writeLog } }
    /// Every disk's backend (in slot order).
    public var diskBackends: [BlockBackend] { virtio.compactMap { ($0.device as? VirtioBlock)?.backend } }
    /// Waits for every disk's in-flight requests (at a safe point).
    public func drainDisks() { for v in virtio { if let b = v.device as? VirtioBlock { b.drain() } } }

    public func powerOff(code: Int, reason: String) {
        if exitReason == nil { exitReason = .powerOff(code: code) }
        logger.debug("power off (\(reason)), code \(code)")
        for h in harts { h.stopRequested = true }
    }
    public func requestReset(reason: String) {
        if exitReason == nil { exitReason = .reset }
        logger.debug("reset requested (\(reason))")
        for h in harts { h.stopRequested = true }
    }
    /// Asks `run` to return `.interrupted` at the next safe point (between slices); any thread.
    /// The idle sleep wakes at once.
    public func requestInterrupt() {
        interruptRequested.store(true, ordering: .releasing)
        hostEvent.signal()
    }
    let interruptRequested = Atomic<Bool>(false)
    /// Set while `runThreaded` runs.
    var threadControl: HartThreadControl?
    /// Run each hart on its own host thread (`--threads per-hart`); otherwise all harts interleave on
    /// the calling thread (`--threads 1`, deterministic).
    public var threadPerHart = false

    /// Puts the board back in its power-on state and boots again, as QEMU's virt board resets: RAM
    /// cleared, firmware, kernel, initrd and device tree reloaded, every device reset; disk images,
    /// network backends and the time base are kept.
    public func reset() throws {
        exitReason = nil
        ram.clear()
        for c in codeCaches { c.invalidateAll() }
        for h in harts { h.stopRequested = false; h.reservation = .max }
        clint.reset()
        plic.reset()
        aplic?.reset()
        uart.reset()
        rtc.reset()
        vmgenid.reset()
        for v in virtio { v.reset() }
        consoleBuffer.removeAll()
        stats.reboots &+= 1
        try boot()
    }

    // MARK: Run loop

    /// Runs until the guest powers off or resets, or `requestStop` is called.
    public func run(maxInstructions: UInt64 = .max) -> ExitReason {
        if threadPerHart && harts.count > 1 { return runThreaded(maxInstructions: maxInstructions) }
        let start = TimeBase.hostNanos()
        defer {
            reportProblems()
            flushConsole()
            stats.hostSeconds += Double(TimeBase.hostNanos() - start) / 1e9
        }
        var rounds: UInt64 = 0
        while exitReason == nil {
            var ran = 0
            for h in harts where h.running {
                ran += h.run(sliceLength)
                // Harts interleave on one thread: another hart may store between this hart's LR and SC,
                // so a reservation never survives a switch (the SC fails and the guest retries).
                if harts.count > 1 { h.reservation = .max }
                if profile { pcSamples[h.pc, default: 0] += 1 }
            }
            stats.instructions &+= UInt64(ran)
            serviceDevices()
            rounds &+= 1
            if rounds & 255 == 0 { reportProblems() }
            if interruptRequested.load(ordering: .relaxed), interruptRequested.exchange(false, ordering: .acquiring) {
                return .interrupted
            }
            if stats.instructions >= maxInstructions { return .error("instruction limit reached") }
            if !harts.contains(where: { $0.running }) {
                return .error("all harts stopped")
            }
            if ran == 0 { idle() }
        }
        return exitReason ?? .stopped
    }

    /// Between slices: timers, UART input, RTC alarms, virtio completions and the console.
    func serviceDevices() {
        clint.update()
        uart.service()
        rtc.update()
        for v in virtio { v.service() }
        flushConsole()
    }

    /// Every code cache in use: the shared one, and each hart's own after `runThreaded`.
    public var codeCaches: [CodeCache] {
        var out = [code]
        for h in harts where !out.contains(where: { $0 === h.code }) { out.append(h.code) }
        return out
    }

    /// Every running hart waits for an interrupt: sleep until the next timer deadline or host input.
    func idle() {
        var deadline = clint.nextDeadline
        for h in harts where h.running { deadline = Swift.min(deadline, supervisorTimerDeadline(h)) }
        let maxSleep: UInt64 = 2_000_000   // 2 ms: also the latency for host input and stop requests
        let ns = Swift.min(time.nanosUntil(deadline), maxSleep)
        if ns > 0 && !uart.hasPendingInput && !(virtioConsole?.hasPendingInput ?? false)
            && !interruptRequested.load(ordering: .relaxed) {
            let t0 = TimeBase.hostNanos()
            sleepForHostEvents(nanos: ns)
            stats.idleSeconds += Double(TimeBase.hostNanos() - t0) / 1e9
        }
    }

    /// When `h`'s Sstc timers (stimecmp, vstimecmp) fire, or .max.
    func supervisorTimerDeadline(_ h: Hart) -> UInt64 {
        h.menvcfg >> 63 != 0 ? Swift.min(h.stimecmp, h.vsTimerDeadline) : .max
    }

    /// Sleeps up to `ns`, waking early for a host request or, with a network, traffic (poll(2) on the
    /// network's host sockets and the wake-up pipe).
    func sleepForHostEvents(nanos ns: UInt64) {
        if let net = netDevices.first {
            net.waitForHostEvents(nanos: ns, wakeDescriptor: hostEvent.descriptor)
            hostEvent.clear()
        } else {
            hostEvent.wait(nanoseconds: ns)
        }
    }
}

// MARK: Problems the guest cannot see

extension Machine {
    /// Counts problems that would otherwise pass silently (a virtio device that needs a reset, a
    /// network backend error, an access to unmapped physical memory, an SBI call nobody answers)
    /// into `stats`, and logs each kind at warning level: the first occurrence at once, later ones
    /// as one summary line at most every 10 s.
    func reportProblems() {
        var needsReset: UInt64 = 0
        for v in virtio { needsReset &+= v.needsResetCount }
        if needsReset != stats.virtioNeedsReset {
            let why = virtio.enumerated().compactMap { i, v in v.lastError.map { "virtio\(i) (\(Machine.virtioKind(v.device.deviceID))): \($0)" } }.last ?? "?"
            warn(.virtioNeedsReset, count: needsReset - stats.virtioNeedsReset, total: needsReset,
                 "a virtio device needs a reset (the guest driver broke the protocol): \(why)")
            stats.virtioNeedsReset = needsReset
        }
        for n in netDevices {
            let errors = n.backendErrors()
            guard !errors.isEmpty else { continue }
            stats.netErrors &+= UInt64(errors.count)
            warn(.netError, count: UInt64(errors.count), total: stats.netErrors, "network backend: \(errors.last!)")
        }
        var unmapped: UInt64 = 0, lastAddress: UInt64 = 0
        for h in harts where h.unmappedAccesses > 0 { unmapped &+= h.unmappedAccesses; lastAddress = h.lastUnmappedAddress }
        if unmapped != stats.unmappedAccesses {
            warn(.unmappedAccess, count: unmapped - stats.unmappedAccesses, total: unmapped,
                 "guest access to unmapped physical address 0x\(String(lastAddress, radix: 16)) (access fault)")
            stats.unmappedAccesses = unmapped
        }
        if let sbi, sbi.unsupportedCalls != stats.sbiUnsupported {
            warn(.sbiUnsupported, count: sbi.unsupportedCalls - stats.sbiUnsupported, total: sbi.unsupportedCalls,
                 "unhandled SBI call: extension 0x\(String(sbi.lastUnsupported.eid, radix: 16)) function \(sbi.lastUnsupported.fid) (answered NOT_SUPPORTED)")
            stats.sbiUnsupported = sbi.unsupportedCalls
        }
    }

    static func virtioKind(_ id: UInt32) -> String {
        [1: "net", 2: "block", 3: "console", 4: "rng"][id] ?? "device \(id)"
    }

    enum Problem: Int, CaseIterable { case virtioNeedsReset, netError, unmappedAccess, sbiUnsupported }

    private func warn(_ kind: Problem, count: UInt64, total: UInt64, _ message: String) {
        let now = TimeBase.hostNanos()
        let last = lastWarning[kind.rawValue]
        if last == 0 {
            logger.warning("\(message)")
        } else if now &- last >= 10_000_000_000 {
            logger.warning("\(message) (\(total) in all)")
        } else {
            return
        }
        lastWarning[kind.rawValue] = now
    }
}

/// Carries a value across a `@Sendable` boundary where the caller guarantees safe use.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
