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
    @Flag(help: "Exit when the guest resets instead of booting it again (QEMU's -no-reboot).")
    var noReboot = false
    @Flag(help: "Disable the JIT (interpret everything).")
    var noJit = false
    @Flag(help: "Implement the RISC-V Hypervisor (H) extension (the default; kept for compatibility).")
    var hypervisor = false
    @Flag(help: "Do not implement the Hypervisor (H) extension (no misa.H, no 'h' in the device tree).")
    var noHypervisor = false

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
        if hypervisor && noHypervisor { return fail("--hypervisor and --no-hypervisor contradict each other", status: 2) }
        config.hypervisor = !noHypervisor
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
        return runGuest(config, options: GuestRunOptions(stats: stats, noJit: noJit, maxInstructions: maxInstructions, noReboot: noReboot))
    }
}

/// How `runGuest` runs a configured machine (the flags `run` and `demo` share).
struct GuestRunOptions {
    var stats = false
    var noJit = false
    var maxInstructions: UInt64?
    var noReboot = false
}

/// Prints `matryoshka: message` on stderr and returns `status`.
func fail(_ message: String, status: Int32) -> Int32 {
    FileHandle.standardError.write(Data("matryoshka: \(message)\n".utf8))
    return status
}

/// Creates and boots the VM, connects the console to the terminal, runs it until it ends and
/// returns matryoshka's exit status: 0 on power-off, Ctrl-A X or a stop signal; 1 on power-off
/// reporting failure, a reset with --no-reboot or an emulation error; 2 when the machine cannot be
/// built from `config`.
func runGuest(_ config: MachineConfig, options: GuestRunOptions) -> Int32 {
    let vm: VirtualMachine
    do {
        vm = try VirtualMachine(config: config)
    } catch {
        return fail("\(error)", status: 2)
    }
    vm.rebootOnReset = !options.noReboot
    let machine = vm.machine
    let profilePath = ProcessInfo.processInfo.environment["MATRYOSHKA_PROFILE"]
    machine.profile = profilePath != nil
    let console = TerminalConsole(vm: vm)
    console.start()
    machine.code.jitEnabled = !options.noJit
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
    case .stopped, .interrupted, .consoleQuit, .signal:
        // As QEMU: quitting from the console or stopping on a signal is not an error.
        FileHandle.standardError.write(Data("matryoshka: \(reason)\n".utf8))
        return 0
    case .error(let m): return fail("emulation stopped: \(m)", status: 1)
    }
}
