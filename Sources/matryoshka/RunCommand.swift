import ArgumentParser
import Foundation
import Machine
import VMM
import GuestImages
import Platform
import RISCV
#if canImport(Glibc)
import Glibc
#endif

/// Parses QEMU-style sizes: "512M", "2G", "1048576K"; a bare number means MiB.
func parseSize(_ s: String) -> UInt64? {
    let t = s.trimmingCharacters(in: .whitespaces).uppercased()
    guard let last = t.last else { return nil }
    let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    let (digits, unit): (Substring, UInt64) = units[last].map { (t.dropLast(), $0) } ?? (Substring(t), 1 << 20)
    guard let n = UInt64(digits), n > 0, n <= (1 << 50) / unit else { return nil }
    return n * unit
}

struct UsageError: Error, CustomStringConvertible { let description: String }

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a guest. With no --kernel, boots the default Debian guest (see `matryoshka images fetch`).",
        discussion: """
            With --api-socket and nothing that describes a machine, the process serves the control API and waits \
            for PUT /snapshot/load. --config-file describes the machine in Firecracker's config-file shapes; \
            options given beside it must agree with it. --restore starts from a snapshot instead of booting.
            """)

    @Option(help: "Kernel: a RISC-V Linux Image (e.g. Debian's /boot/vmlinux-*) or an ELF file.")
    var kernel: String?
    @Option(help: "Initial ramdisk (cpio, optionally gzip-compressed).")
    var initrd: String?
    @Option(help: "Kernel command line.")
    var append: String?
    @Option(help: "Guest RAM, e.g. 512M or 2G (default 512M).")
    var memory: String?
    @Option(help: "Number of harts (1-32, default 1).")
    var cpus: Int?
    @Option(help: "'builtin' (SBI implemented by Matryoshka, the default), the path of an OpenSBI fw_dynamic.bin, or 'none' (bare metal: the kernel ELF starts in M-mode).")
    var firmware: String?
    @Option(help: ArgumentHelp("virtio-blk disk: PATH[,format=raw|qcow2][,readonly=on]; repeatable (the first is /dev/vda).", valueName: "spec"))
    var disk: [String] = []
    @Flag(help: "Attach a virtio-rng device fed by the host's getrandom (guest: /dev/hwrng).")
    var rng = false
    @Option(help: "Guest console: 'uart' (ttyS0, the default) or 'virtio' (a virtio-console, hvc0; host input goes to it).")
    var console: String?
    @Option(help: ArgumentHelp("virtio-net: 'user[,hostfwd=tcp:127.0.0.1:2222-:22][,mac=52:54:00:12:34:56]' (libslirp user-mode networking; hostfwd= repeatable, QEMU syntax [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport) or 'tap=NAME[,mac=...]' (needs root/CAP_NET_ADMIN); repeatable.", valueName: "spec"))
    var net: [String] = []
    @Flag(help: "Print execution statistics on exit.")
    var stats = false
    @Option(help: .hidden)
    var maxInstructions: UInt64?
    @Flag(help: "Exit when the guest resets instead of booting it again (QEMU's -no-reboot).")
    var noReboot = false
    @Flag(help: "Disable the JIT (interpret everything).")
    var noJit = false
    @Option(help: ArgumentHelp("Host threads for the harts: 'per-hart' (the default: each hart runs on its own host thread) or '1' (all harts interleave on one thread: deterministic, for debugging).", valueName: "per-hart|1"))
    var threads: String = "per-hart"
    @Flag(help: "Implement the RISC-V Hypervisor (H) extension (the default; kept for compatibility).")
    var hypervisor = false
    @Flag(help: "Do not implement the Hypervisor (H) extension (no misa.H, no 'h' in the device tree).")
    var noHypervisor = false
    @Option(help: ArgumentHelp("CPU model and extension switches, as QEMU's -cpu: 'rva23' (the default: the RVA23 profile's extensions), 'rva22', 'rv64gc' or 'max' (every extension implemented: Zba, Zbb, Zbc, Zbs, Zicond, Zcb, Zimop/Zcmop, Zicbom/Zicboz/Zicbop, Zawrs, Svinval, Svpbmt, Svnapot, Zfh/Zfhmin, Zfa, Svade/Svadu, Smstateen, Smnpm/Ssnpm, V with Zvfhmin, Zvbb and Zvkt, Sscofpmf), then ',EXT=on|off' (e.g. max,zbc=off; max,vlen=256).", valueName: "model"))
    var cpu: String?
    @Option(help: ArgumentHelp("Interrupt controllers, as QEMU virt's aia=: 'none' (the PLIC, the default) or 'aplic-imsic' (AIA: an APLIC in MSI mode and per-hart IMSICs with 3 guest interrupt files; the harts get Smaia/Ssaia).", valueName: "mode"))
    var aia: String?
    @Option(help: ArgumentHelp("The vector length VLEN in bits (128, 256, 512 or 1024) of a CPU with V: the same as ',vlen=N' in --cpu.", valueName: "bits"))
    var vlen: Int?
    @Option(help: ArgumentHelp("Serve the control API (HTTP/1.1, JSON; Firecracker's endpoints) on this Unix socket.", valueName: "path"))
    var apiSocket: String?
    @Option(help: ArgumentHelp("The machine as JSON in Firecracker's config-file shapes (boot-source, machine-config, drives, network-interfaces, entropy, console).", valueName: "file"))
    var configFile: String?
    @Option(help: ArgumentHelp("Start from this snapshot (state file) instead of booting.", valueName: "snapshot"))
    var restore: String?
    @Option(help: ArgumentHelp("With --restore: the snapshot's memory file, when it has moved.", valueName: "file"))
    var memFile: String?
    @Option(help: ArgumentHelp("Receive a live-migrating VM on unix:PATH or tcp:HOST:PORT instead of booting. Machine options or --config-file given beside it are what the incoming VM must match.", valueName: "url"))
    var incoming: String?
    @Option(help: ArgumentHelp("With --incoming tcp:...: require TLS, with ca-cert.pem, server-cert.pem and server-key.pem from this directory. With --standby tcp:...: connect over TLS, with ca-cert.pem, client-cert.pem and client-key.pem.", valueName: "dir"))
    var tlsDir: String?
    @Option(help: ArgumentHelp("Protect the VM with a hot standby (`matryoshka standby --listen URL`) at unix:PATH or tcp:HOST:PORT: continuous checkpoints, output held until the standby has them, failover.", valueName: "url"))
    var standby: String?
    @Option(help: ArgumentHelp("With --standby: milliseconds between checkpoints (default 25).", valueName: "ms"))
    var checkpointMs: Double?
    @Option(help: ArgumentHelp("With --standby: what the VM does when it loses its standby: 'stop' (pause, output held: the standby may have taken over; the default) or 'continue' (run on unprotected).", valueName: "policy"))
    var haOnLoss: String?
    @Option(help: ArgumentHelp("With --standby: how long an acknowledgement may take before the standby counts as lost (default 3 checkpoint intervals + 500 ms).", valueName: "ms"))
    var haTimeoutMs: Double?
    @Flag(help: "Start paused (resume through the API).")
    var paused = false
    @Flag(help: "With --restore: start a clone (its disks get qcow2 overlays of their own, its NICs new MACs, the guest a new VM generation ID).")
    var clone = false
    @Option(help: ArgumentHelp("With --clone: where the overlays go (default: the snapshot's directory).", valueName: "dir"))
    var cloneDir: String?

    func run() throws {
        let code = runMachine()
        throw ExitCode(code)
    }

    /// True when no option describes a machine (API-only mode with --api-socket).
    var describesNoMachine: Bool { describesNoMachineBesidesRestore && configFile == nil && restore == nil }

    /// --standby and its companions, or nil.
    func haOptions() throws -> HAOptions? {
        guard let standby else {
            if checkpointMs != nil || haOnLoss != nil || haTimeoutMs != nil { throw UsageError(description: "--checkpoint-ms, --ha-on-loss and --ha-timeout-ms go with --standby") }
            return nil
        }
        var o = HAOptions(standby: standby)
        if let c = checkpointMs { o.checkpointMs = c }
        if let p = haOnLoss {
            guard let v = HAOptions.OnLoss(rawValue: p) else { throw UsageError(description: "invalid --ha-on-loss '\(p)': use stop or continue") }
            o.onLoss = v
        }
        o.timeoutMs = haTimeoutMs
        o.tlsDir = tlsDir
        return o
    }

    func runMachine() -> Int32 {
        let ha: HAOptions?
        do { ha = try haOptions() } catch { return fail("\(error)", status: 2) }
        if ha != nil && (incoming != nil || (apiSocket != nil && describesNoMachine)) {
            return fail("--standby protects a VM this process starts; for an incoming or loaded VM use PUT /ha", status: 2)
        }
        if let incoming {
            guard restore == nil, memFile == nil, !clone else { return fail("--incoming receives the machine from the source: do not combine it with --restore", status: 2) }
            let expect: IncomingExpectation
            do { expect = try incomingExpectation() } catch { return fail("\(error)", status: 2) }
            return receiveIncoming(incoming, expect: expect, tlsDir: tlsDir, apiSocket: apiSocket, options: options)
        }
        if tlsDir != nil && ha == nil { return fail("--tls-dir goes with --incoming or --standby", status: 2) }
        if let restore {
            guard configFile == nil, describesNoMachineBesidesRestore else {
                return fail("--restore takes the machine from the snapshot: do not combine it with --config-file or machine options", status: 2)
            }
            return restoreAndRun(RestoreRequest(snapshot: restore, memFile: memFile, clone: clone, cloneDir: cloneDir,
                                                apiSocket: apiSocket, paused: paused, options: options), ha: ha)
        }
        if memFile != nil || clone || cloneDir != nil { return fail("--mem-file, --clone and --clone-dir only go with --restore", status: 2) }
        if apiSocket != nil && describesNoMachine {
            return serveUntilLoaded(apiSocket: apiSocket!, options: options)
        }
        let config: MachineConfig
        do { config = try machineConfig() } catch { return fail("\(error)", status: 2) }
        let vm: VirtualMachine
        do { vm = try VirtualMachine(config: config) } catch { return fail("\(error)", status: 2) }
        if let ha { do { try vm.startHA(ha) } catch { return fail("--standby: \(error)", status: 2) } }
        return runVM(vm, options: options, apiSocket: apiSocket, startPaused: paused)
    }

    /// With --incoming: what the options and config file say the machine must be.
    func incomingExpectation() throws -> IncomingExpectation {
        var e = IncomingExpectation()
        if let configFile {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw UsageError(description: "\(configFile): cannot read the config file; check the path")
            }
            let c = try VMConfigFile.parse(data, path: configFile)
            e = IncomingExpectation(memorySize: c.memorySize, harts: c.harts, hypervisor: c.hypervisor, diskPaths: c.disks.map(\.path), netCount: c.net.count)
        }
        if let memory {
            guard let m = parseSize(memory) else { throw UsageError(description: "invalid --memory '\(memory)': use a size such as 512M or 2G") }
            e.memorySize = m
        }
        if let cpus { e.harts = cpus }
        if hypervisor { e.hypervisor = true }
        if noHypervisor { e.hypervisor = false }
        if !disk.isEmpty { e.diskPaths = try disk.map { try DiskSpec.parse($0).path } }
        if !net.isEmpty { e.netCount = net.count }
        return e
    }

    var describesNoMachineBesidesRestore: Bool {
        kernel == nil && initrd == nil && append == nil && memory == nil && cpus == nil && firmware == nil && disk.isEmpty
            && !rng && console == nil && net.isEmpty && !hypervisor && !noHypervisor && cpu == nil && vlen == nil
            && aia == nil
    }

    var options: GuestRunOptions {
        GuestRunOptions(stats: stats, noJit: noJit, maxInstructions: maxInstructions, noReboot: noReboot,
                        threadPerHart: threads == "per-hart")
    }

    /// The machine the options (and the config file) describe.
    func machineConfig() throws -> MachineConfig {
        var config = MachineConfig()
        if let configFile {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw UsageError(description: "\(configFile): cannot read the config file; check the path")
            }
            config = try VMConfigFile.parse(data, path: configFile)
        }
        let fromFile = configFile != nil
        /// Sets a field from an option; with a config file, the option must say what the file says.
        func apply<T: Equatable>(_ option: String, _ value: T?, _ field: WritableKeyPath<MachineConfig, T>, shown: (T) -> String = { "\($0)" }) throws {
            guard let value else { return }
            if fromFile && config[keyPath: field] != value {
                throw UsageError(description: "\(option) \(shown(value)) contradicts \(configFile!) (\(shown(config[keyPath: field]))); change one of them")
            }
            config[keyPath: field] = value
        }
        if let memory {
            guard let mem = parseSize(memory) else { throw UsageError(description: "invalid --memory '\(memory)': use a size such as 512M or 2G") }
            try apply("--memory", mem, \.memorySize) { "\($0 >> 20) MiB" }
        }
        try apply("--cpus", cpus, \.harts)
        if !disk.isEmpty { try apply("--disk", try disk.map { try DiskSpec.parse($0) }, \.disks) { $0.map(\.path).joined(separator: ",") } }
        if rng { try apply("--rng", true, \.rng) }
        if hypervisor && noHypervisor { throw UsageError(description: "--hypervisor and --no-hypervisor contradict each other") }
        if hypervisor { try apply("--hypervisor", true, \.hypervisor) }
        if noHypervisor { try apply("--no-hypervisor", false, \.hypervisor) }
        var cpu = self.cpu
        if let vlen {
            let spec = cpu ?? config.cpu ?? CPUModel.defaultModel
            guard (try? CPUModel.extensions(spec))?.contains(.v) == true else {
                throw UsageError(description: "--vlen \(vlen): the CPU '\(spec)' has no V; use --cpu max (or a model with v=on)")
            }
            if spec.lowercased().contains("vlen=") { throw UsageError(description: "--vlen \(vlen) and --cpu \(spec) both set VLEN; give it once") }
            let withVLEN = spec + ",vlen=\(vlen)"
            do { _ = try CPUModel.vectorLength(withVLEN) } catch { throw UsageError(description: "--vlen \(vlen): VLEN must be 128, 256, 512 or 1024 bits") }
            if cpu != nil { cpu = withVLEN } else { config.cpu = withVLEN }
        }
        if let cpu {
            do { _ = try CPUModel.extensions(cpu) } catch { throw UsageError(description: "\(error)") }
            try apply("--cpu", Optional(cpu), \.cpu) { $0 ?? "rv64gc" }
        }
        if config.cpu == nil {
            // A new machine is an RVA23 one unless told otherwise (a snapshot or stream without a CPU
            // model describes RV64GC, and keeps doing so: those do not come through here).
            config.cpu = CPUModel.defaultModel
        }
        guard threads == "1" || threads == "per-hart" else {
            throw UsageError(description: "invalid --threads '\(threads)': use 1 or per-hart")
        }
        if let aia {
            guard let mode = AIAMode(rawValue: aia) else {
                throw UsageError(description: "invalid --aia '\(aia)': use \(AIAMode.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            try apply("--aia", mode, \.aia) { $0.rawValue }
        }
        if !net.isEmpty { try apply("--net", try net.map { try NetSpec.parse($0) }, \.net) { _ in "(as given)" } }
        if let console {
            switch console {
            case "uart": try apply("--console", false, \.virtioConsole) { $0 ? "virtio" : "uart" }
            case "virtio": try apply("--console", true, \.virtioConsole) { $0 ? "virtio" : "uart" }
            default: throw UsageError(description: "invalid --console '\(console)': use uart or virtio")
            }
        }
        if let firmware {
            try apply("--firmware", firmware == "builtin" ? .builtin : (firmware == "none" ? .none : .file(firmware)), \.firmware)
        }
        if fromFile {
            if let kernel { try apply("--kernel", Optional(kernel), \.kernelPath) { $0 ?? "(none)" } }
            if let initrd { try apply("--initrd", Optional(initrd), \.initrdPath) { $0 ?? "(none)" } }
            try apply("--append", append, \.bootargs)
            return config
        }
        if let kernel {
            config.kernelPath = kernel
            config.initrdPath = initrd
            config.bootargs = append ?? (config.virtioConsole ? "console=ttyS0 console=hvc0" : "console=ttyS0")
        } else {
            guard GuestImages.isFetched else {
                throw UsageError(description: "no --kernel given and the default guest is not in \(GuestImages.cacheDirectory); run `matryoshka images fetch` first")
            }
            config.kernelPath = GuestImages.kernelPath
            config.initrdPath = initrd ?? GuestImages.initramfsPath
            config.bootargs = append ?? (config.virtioConsole ? "console=ttyS0 console=hvc0 quiet" : "console=ttyS0 quiet")
        }
        return config
    }
}


/// How `runGuest` runs a configured machine (the flags `run` and `demo` share).
struct GuestRunOptions {
    var stats = false
    var noJit = false
    var maxInstructions: UInt64?
    var noReboot = false
    var threadPerHart = true
}

/// `run --restore` and the options that may go with it, however they were parsed.
struct RestoreRequest {
    var snapshot: String
    var memFile: String?
    var clone = false
    var cloneDir: String?
    var apiSocket: String?
    var paused = false
    var options = GuestRunOptions()
}

/// Restores the snapshot and runs the VM until it stops; 2 when the snapshot is refused.
func restoreAndRun(_ r: RestoreRequest, ha: HAOptions? = nil) -> Int32 {
    let vm: VirtualMachine
    do {
        vm = try VirtualMachine.restore(from: r.snapshot, memFile: r.memFile, clone: r.clone ? CloneOptions(directory: r.cloneDir) : nil)
    } catch { return fail("\(error)", status: 2) }
    for (i, overlay) in vm.cloneDisks.enumerated() {
        FileHandle.standardError.write(Data("matryoshka: clone disk \(i): \(overlay)\n".utf8))
    }
    if let ha { do { try vm.startHA(ha) } catch { return fail("--standby: \(error)", status: 2) } }
    return runVM(vm, options: r.options, apiSocket: r.apiSocket, startPaused: r.paused)
}

/// Reads `run --restore ...` when it uses only the options a restore takes, each once; nil for anything
/// else, which then goes through ArgumentParser. Why: building ArgumentParser's command tree reflects
/// over every command's properties and costs about 8 ms, most of a restore's start-up (issue 9's
/// restore-under-10-ms goal). What it accepts means exactly what `Run` says it means.
func fastRestoreRequest(_ args: [String]) -> RestoreRequest? {
    guard args.count >= 3, args[1] == "run" else { return nil }
    var snapshot: String?, r = RestoreRequest(snapshot: "")
    var seen: [String] = []   // not a Set: its generic metadata alone costs a measurable part of a millisecond here
    var i = 2
    while i < args.count {
        var name = args[i], value: String?
        if let eq = name.firstIndex(of: "="), name.hasPrefix("--") {
            value = String(name[name.index(after: eq)...])
            name = String(name[..<eq])
        }
        guard !seen.contains(name) else { return nil }
        seen.append(name)
        let takesValue = ["--restore", "--mem-file", "--clone-dir", "--api-socket", "--threads"].contains(name)
        if takesValue && value == nil {
            guard i + 1 < args.count, !args[i + 1].hasPrefix("-") else { return nil }
            value = args[i + 1]
            i += 1
        } else if !takesValue && value != nil {
            return nil
        }
        switch name {
        case "--restore": snapshot = value
        case "--mem-file": r.memFile = value
        case "--clone-dir": r.cloneDir = value
        case "--api-socket": r.apiSocket = value
        case "--clone": r.clone = true
        case "--paused": r.paused = true
        case "--stats": r.options.stats = true
        case "--no-jit": r.options.noJit = true
        case "--no-reboot": r.options.noReboot = true
        case "--threads":
            guard value == "1" || value == "per-hart" else { return nil }
            r.options.threadPerHart = value == "per-hart"
        default: return nil
        }
        i += 1
    }
    guard let snapshot, !snapshot.isEmpty, r.cloneDir == nil || r.clone else { return nil }
    r.snapshot = snapshot
    return r
}

/// Prints `matryoshka: message` on stderr and returns `status`.
func fail(_ message: String, status: Int32) -> Int32 {
    FileHandle.standardError.write(Data("matryoshka: \(message)\n".utf8))
    return status
}

/// Creates and boots the VM, then runs it as `runVM` does; 2 when the machine cannot be built from `config`.
func runGuest(_ config: MachineConfig, options: GuestRunOptions) -> Int32 {
    let vm: VirtualMachine
    do {
        vm = try VirtualMachine(config: config)
    } catch {
        return fail("\(error)", status: 2)
    }
    return runVM(vm, options: options, apiSocket: nil, startPaused: false)
}

/// `run --incoming`: serves the API (when asked) while waiting, receives the VM and runs it.
/// Exits 1 when the migration fails before the switch-over.
func receiveIncoming(_ url: String, expect: IncomingExpectation, tlsDir: String?, apiSocket: String?, options: GuestRunOptions) -> Int32 {
    let host = VMHost()
    var server: APIServer?
    if let apiSocket {
        let s = APIServer(socketPath: apiSocket, host: host)
        do { try s.start() } catch { return fail("\(error)", status: 2) }
        server = s
    }
    let received: (vm: VirtualMachine, paused: Bool)
    do {
        received = try VirtualMachine.receiveMigration(on: url, expect: expect, tlsDir: tlsDir) {
            FileHandle.standardError.write(Data("matryoshka: waiting for an incoming migration on \(url)\n".utf8))
        }
    } catch {
        server?.stop()
        return fail("incoming migration failed: \(error)", status: 1)
    }
    host.adopt(received.vm)
    return runVM(received.vm, options: options, apiSocket: nil, server: server, startPaused: received.paused)
}

/// Serves the API with no VM until PUT /snapshot/load brings one, then runs it.
func serveUntilLoaded(apiSocket: String, options: GuestRunOptions) -> Int32 {
    let host = VMHost()
    let server = APIServer(socketPath: apiSocket, host: host)
    do { try server.start() } catch { return fail("\(error)", status: 2) }
    FileHandle.standardError.write(Data("matryoshka: serving the API on \(apiSocket); waiting for PUT /snapshot/load\n".utf8))
    VirtualMachine.warmUpRestore()
    let (vm, resume) = host.waitForVM()
    return runVM(vm, options: options, apiSocket: nil, server: server, startPaused: !resume)
}

/// Connects the console to the terminal, serves the API when asked, runs the VM until it ends and
/// returns matryoshka's exit status: 0 on power-off, Ctrl-A X or a stop signal; 1 on power-off
/// reporting failure, a reset with --no-reboot or an emulation error; 2 when the API cannot start.
func runVM(_ vm: VirtualMachine, options: GuestRunOptions, apiSocket: String?, server existing: APIServer? = nil,
           startPaused: Bool) -> Int32 {
    var server = existing
    if let apiSocket {
        let s = APIServer(socketPath: apiSocket, host: VMHost(vm: vm))
        do { try s.start() } catch { return fail("\(error)", status: 2) }
        server = s
    }
    defer { server?.stop() }
    vm.rebootOnReset = !options.noReboot
    if startPaused { vm.pause(timeout: 0) }
    let machine = vm.machine
    let profilePath = ProcessInfo.processInfo.environment["MATRYOSHKA_PROFILE"]
    machine.profile = profilePath != nil
    let console = TerminalConsole(vm: vm)
    console.start()
    vm.releaseTakeoverOutput()
    machine.code.jitEnabled = !options.noJit
    machine.threadPerHart = options.threadPerHart
    for h in machine.harts { h.collectStats = options.stats }
    let reason = vm.run(maxInstructions: options.maxInstructions ?? .max)
    console.stop()
    if let profilePath {
        let lines = machine.pcSamples.sorted { $0.value > $1.value }.map { String(format: "%016llx %d", $0.key, $0.value) }
        try? lines.joined(separator: "\n").write(toFile: profilePath, atomically: true, encoding: .utf8)
    }
    if options.stats { FileHandle.standardError.write(Data(vm.statsReport().utf8)) }
    switch reason {
    case .powerOff(code: 0): return 0
    case .powerOff(let code): return fail("guest powered off reporting failure code \(code)", status: 1)
    case .reset: return fail("guest reset itself (--no-reboot: the machine stops)", status: 1)
    case .migrated(let summary):
        FileHandle.standardError.write(Data("matryoshka: \(summary)\n".utf8))
        return 0
    case .stopped, .interrupted, .consoleQuit, .signal:
        // As QEMU: quitting from the console or stopping on a signal is not an error.
        FileHandle.standardError.write(Data("matryoshka: \(reason)\n".utf8))
        return 0
    case .error(let m): return fail("emulation stopped: \(m)", status: 1)
    }
}
