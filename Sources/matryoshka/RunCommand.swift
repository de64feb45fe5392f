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
        abstract: "Boot a guest. With no --kernel, boots the default Debian guest (see `matryoshka images fetch`).")

    @Option(help: "Kernel: a RISC-V Linux Image (e.g. Debian's /boot/vmlinux-*) or an ELF file.")
    var kernel: String?
    @Option(help: "Initial ramdisk (cpio, optionally gzip-compressed).")
    var initrd: String?
    @Option(help: "Kernel command line.")
    var append: String?
    @Option(help: "Guest RAM, e.g. 512M or 2G.")
    var memory: String = "512M"
    @Option(help: "Number of harts (1-32).")
    var cpus: Int = 1
    @Option(help: "'builtin' (SBI implemented by Matryoshka), the path of an OpenSBI fw_dynamic.bin, or 'none' (bare metal: the kernel ELF starts in M-mode).")
    var firmware: String = "builtin"
    @Option(help: ArgumentHelp("virtio-blk disk: PATH[,format=raw|qcow2][,readonly=on]; repeatable (the first is /dev/vda).", valueName: "spec"))
    var disk: [String] = []
    @Flag(help: "Attach a virtio-rng device fed by the host's getrandom (guest: /dev/hwrng).")
    var rng = false
    @Option(help: "Guest console: 'uart' (ttyS0, the default) or 'virtio' (a virtio-console, hvc0; host input goes to it).")
    var console: String = "uart"
    @Option(help: ArgumentHelp("virtio-net: 'user[,hostfwd=tcp:127.0.0.1:2222-:22][,mac=52:54:00:12:34:56]' (libslirp user-mode networking; hostfwd= repeatable, QEMU syntax [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport) or 'tap=NAME[,mac=...]' (needs root/CAP_NET_ADMIN); repeatable.", valueName: "spec"))
    var net: [String] = []
    @Flag(help: "Print execution statistics on exit.")
    var stats = false
    @Option(help: .hidden)
    var maxInstructions: UInt64?
    @Flag(help: "Disable the JIT (interpret everything).")
    var noJit = false
    @Flag(help: "Implement the RISC-V Hypervisor (H) extension (misa.H, H/VS CSRs, two-stage translation).")
    var hypervisor = false

    func run() throws {
        let code = runMachine()
        throw ExitCode(code)
    }

    func runMachine() -> Int32 {
        var config = MachineConfig()
        guard let mem = parseSize(memory) else { return fail("invalid --memory '\(memory)': use a size such as 512M or 2G", status: 2) }
        config.memorySize = mem
        config.harts = cpus
        for d in disk {
            do { config.disks.append(try DiskSpec.parse(d)) } catch { return fail("\(error)", status: 2) }
        }
        config.rng = rng
        config.hypervisor = hypervisor
        for n in net {
            do { config.net.append(try NetSpec.parse(n)) } catch { return fail("\(error)", status: 2) }
        }
        switch console {
        case "uart": break
        case "virtio": config.virtioConsole = true
        default: return fail("invalid --console '\(console)': use uart or virtio", status: 2)
        }
        config.firmware = firmware == "builtin" ? .builtin : (firmware == "none" ? .none : .file(firmware))
        if let kernel {
            config.kernelPath = kernel
            config.initrdPath = initrd
            config.bootargs = append ?? (config.virtioConsole ? "console=ttyS0 console=hvc0" : "console=ttyS0")
        } else {
            guard GuestImages.isFetched else {
                return fail("no --kernel given and the default guest is not in \(GuestImages.cacheDirectory); run `matryoshka images fetch` first", status: 2)
            }
            config.kernelPath = GuestImages.kernelPath
            config.initrdPath = initrd ?? GuestImages.initramfsPath
            config.bootargs = append ?? (config.virtioConsole ? "console=ttyS0 console=hvc0 quiet" : "console=ttyS0 quiet")
        }
        return runGuest(config, options: GuestRunOptions(stats: stats, noJit: noJit, maxInstructions: maxInstructions))
    }
}

/// How `runGuest` runs a configured machine (the flags `run` and `demo` share).
struct GuestRunOptions {
    var stats = false
    var noJit = false
    var maxInstructions: UInt64?
}

/// Prints `matryoshka: message` on stderr and returns `status`.
func fail(_ message: String, status: Int32) -> Int32 {
    FileHandle.standardError.write(Data("matryoshka: \(message)\n".utf8))
    return status
}

/// Creates and boots the machine, connects the console to the terminal, runs it until it stops and
/// returns matryoshka's exit status: 0 on power-off (or Ctrl-A X); 1 on power-off reporting failure,
/// reset or an emulation error; 2 when the machine cannot be built from `config`.
func runGuest(_ config: MachineConfig, options: GuestRunOptions) -> Int32 {
    let machine: Machine
    do {
        machine = try Machine(config: config)
        try machine.boot()
    } catch {
        return fail("\(error)", status: 2)
    }
    let profilePath = ProcessInfo.processInfo.environment["MATRYOSHKA_PROFILE"]
    machine.profile = profilePath != nil
    let console = Console(machine: machine)
    console.start()
    machine.code.jitEnabled = !options.noJit
    for h in machine.harts { h.collectStats = options.stats }
    let reason = machine.run(maxInstructions: options.maxInstructions ?? .max)
    console.stop()
    if let profilePath {
        let lines = machine.pcSamples.sorted { $0.value > $1.value }.map { String(format: "%016llx %d", $0.key, $0.value) }
        try? lines.joined(separator: "\n").write(toFile: profilePath, atomically: true, encoding: .utf8)
    }
    if options.stats {
        let s = machine.stats
        let busy = s.hostSeconds - s.idleSeconds
        let mips = busy > 0 ? Double(s.instructions) / busy / 1e6 : 0
        FileHandle.standardError.write(Data(String(format: "matryoshka: %llu instructions in %.2f s (%.2f s idle; %.0f MIPS while running), %llu SBI calls\n", s.instructions, s.hostSeconds, s.idleSeconds, mips, s.sbiCalls).utf8))
        FileHandle.standardError.write(Data(Run.levelReport(machine).utf8))
        if let jit = machine.code.jit {
            FileHandle.standardError.write(Data("matryoshka: JIT: \(jit.compiledBlocks) blocks compiled, \(jit.chainedExits) exits chained, \(jit.flushes) flushes\n".utf8))
        }
    }
    switch reason {
    case .powerOff(code: 0): return 0
    case .powerOff(let code): return fail("guest powered off reporting failure code \(code)", status: 1)
    case .reset: return fail("guest reset itself (reboot is not supported yet; the machine stops)", status: 1)
    case .stopped:
        FileHandle.standardError.write(Data("matryoshka: terminated by Ctrl-A X\n".utf8))
        return 0  // as QEMU: quitting from the console is not an error
    case .error(let m): return fail("emulation stopped: \(m)", status: 1)
    }
}

extension Run {
    static let causeNames: [UInt64: String] = [0: "fetch misaligned", 1: "fetch access", 2: "illegal instruction", 3: "breakpoint",
        4: "load misaligned", 5: "load access", 6: "store misaligned", 7: "store access", 8: "ecall from U", 9: "ecall from S",
        10: "ecall from VS", 11: "ecall from M", 12: "fetch page fault", 13: "load page fault", 15: "store page fault",
        20: "fetch guest-page fault", 21: "load guest-page fault", 22: "virtual instruction", 23: "store guest-page fault"]
    static let interruptNames: [UInt64: String] = [1: "SSI", 2: "VSSI", 3: "MSI", 5: "STI", 6: "VSTI", 7: "MTI", 9: "SEI", 10: "VSEI", 11: "MEI", 12: "SGEI"]

    /// Instructions per privilege/virtualization level and traps per cause and (from -> to), all harts.
    static func levelReport(_ machine: Machine) -> String {
        var perLevel = [UInt64](repeating: 0, count: PrivilegeLevel.allCases.count)
        var traps: [TrapKey: UInt64] = [:]
        var translations = [UInt64](repeating: 0, count: PrivilegeLevel.allCases.count)
        var gWalks: UInt64 = 0, hostFlushes: UInt64 = 0, guestFlushes: UInt64 = 0
        for h in machine.harts {
            for (i, n) in h.translationsByLevel.enumerated() { translations[i] &+= n }
            gWalks &+= h.gStageWalks
            hostFlushes &+= h.hostTLBFlushes
            guestFlushes &+= h.guestTLBFlushes
            for (i, n) in h.instructionsByLevel.enumerated() { perLevel[i] &+= n }
            for (k, n) in h.trapCounts { traps[k, default: 0] &+= n }
        }
        let total = max(1, perLevel.reduce(0, &+))
        var out = "matryoshka: instructions executed by level:"
        for l in PrivilegeLevel.allCases {
            out += String(format: " %@ %llu (%.1f%%)", l.description, perLevel[l.rawValue], 100 * Double(perLevel[l.rawValue]) / Double(total))
        }
        out += "\nmatryoshka: slow-path translations (TLB refills) by level:"
        for l in PrivilegeLevel.allCases { out += " \(l.description) \(translations[l.rawValue])" }
        out += "; G-stage walks: \(gWalks); TLB flushes: host \(hostFlushes), guest \(guestFlushes)"
        out += "\nmatryoshka: traps (cause, from -> to: count):\n"
        for (k, n) in traps.sorted(by: { $0.value > $1.value }) {
            let code = k.cause & ~Cause.interruptBit
            let name = k.cause & Cause.interruptBit != 0 ? "interrupt \(interruptNames[code] ?? String(code))" : (causeNames[code] ?? "exception \(code)")
            out += "  \(name), \(k.from) -> \(k.to): \(n)\n"
        }
        let exits = traps.filter { ($0.key.from == .vs || $0.key.from == .vu) && ($0.key.to == .hs || $0.key.to == .m) }.values.reduce(0, &+)
        out += "matryoshka: VM exits (traps from VS/VU into HS or M): \(exits)\n"
        return out
    }
}

/// Connects the guest console to the terminal: raw mode on a TTY with Ctrl-A X to quit, plain pipes otherwise.
final class Console: @unchecked Sendable {
    let machine: Machine
    let isTTY = isatty(0) != 0
    var saved = termios()
    var thread: Thread?

    init(machine: Machine) {
        self.machine = machine
        machine.consoleSink = { bytes in
            bytes.withUnsafeBufferPointer { p in
                var off = 0
                while off < p.count {
                    let n = write(1, p.baseAddress! + off, p.count - off)
                    if n <= 0 { if errno == EINTR { continue }; break }
                    off += n
                }
            }
        }
    }

    func start() {
        if isTTY {
            tcgetattr(0, &saved)
            var raw = saved
            cfmakeraw(&raw)
            raw.c_oflag |= tcflag_t(OPOST | ONLCR)
            tcsetattr(0, TCSANOW, &raw)
        }
        let uart = machine.uart!
        let virtioConsole = machine.virtioConsole
        let machine = self.machine
        let tty = isTTY
        let t = Thread {
            var buf = [UInt8](repeating: 0, count: 256)
            var escape = false
            while true {
                let n = read(0, &buf, buf.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }   // EOF: the guest keeps running without input
                var out: [UInt8] = []
                for b in buf[0..<n] {
                    if tty && escape {
                        escape = false
                        if b == UInt8(ascii: "x") || b == UInt8(ascii: "X") { machine.requestStop(); return }
                        if b == 0x01 { out.append(0x01) }
                        continue
                    }
                    if tty && b == 0x01 { escape = true; continue }
                    out.append(b)
                }
                if !out.isEmpty {
                    // Until the guest's virtio console driver is up, input still reaches the UART.
                    if let virtioConsole, virtioConsole.isActive { virtioConsole.enqueueInput(out) } else { uart.enqueueInput(out) }
                    machine.hostEvent.signal()
                }
            }
        }
        t.start()
        thread = t
    }

    func stop() {
        if isTTY { tcsetattr(0, TCSANOW, &saved) }
    }
}
