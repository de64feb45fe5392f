import ArgumentParser
import Foundation
import Machine
import GuestImages

/// `matryoshka demo …`: ready-made guests that fetch what they need and boot.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ready-made demonstrations (fetch the images they need, then boot).",
        subcommands: [Nested.self])

    /// Nested virtualization: L1 Linux with KVM on Matryoshka's H extension runs L2 Linux in QEMU.
    struct Nested: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot Linux (L1) with --hypervisor; it loads kvm.ko and runs Linux (L2) in qemu-system-riscv64 -accel kvm.",
            discussion: """
                The first run downloads Debian's qemu-system-riscv (~30 MB of packages) and builds the L1 disk \
                (`matryoshka images fetch --nested`). L2 prints a banner from inside the nested guest and powers off, \
                then L1 powers off. Exit status 0 when L2 ran and qemu exited 0; 1 when L1 reports a failure.
                """)

        @Flag(help: "Print execution statistics on exit (instructions per level, VM exits).")
        var stats = false
        @Flag(help: "A shell in L1 instead of the automatic run (start L2 with `run-l2`).")
        var shell = false
        @Option(help: "L1 RAM, e.g. 1G (L2 gets 256M of it).")
        var memory: String = "1G"
        @Flag(help: "Disable the JIT (interpret everything).")
        var noJit = false
        @Option(help: "L1 harts (1-8); L2 gets one vCPU per L1 hart.")
        var cpus: Int = 1
        @Option(help: "L1 firmware: 'builtin' (SBI implemented by Matryoshka), 'opensbi' (the fetched fw_dynamic.bin) or a path.")
        var firmware: String = "builtin"
        @Option(help: "L1's CPU model, as run --cpu: 'rva23' (the default), 'rva22', 'rv64gc' or 'max', then ',EXT=on|off'.")
        var cpu: String = CPUModel.defaultModel
        @Option(help: ArgumentHelp("L1's interrupt controllers, as run --aia: 'none' (the PLIC, the default) or 'aplic-imsic' (AIA; run-l2 then gives L2 `-M virt,aia=aplic-imsic` and KVM delivers L2's interrupts through IMSIC guest files).", valueName: "mode"))
        var aia: String = AIAMode.none.rawValue

        func run() throws {
            guard let mem = parseSize(memory) else {
                throw ExitCode(fail("invalid --memory '\(memory)': use a size such as 1G", status: 2))
            }
            guard mem >= 512 << 20 else {
                throw ExitCode(fail("--memory \(memory) is too small: L1 needs at least 512M (L2 takes 256M)", status: 2))
            }
            guard let aiaMode = AIAMode(rawValue: aia) else {
                throw ExitCode(fail("invalid --aia '\(aia)': use \(AIAMode.allCases.map(\.rawValue).joined(separator: " or "))", status: 2))
            }
            guard (1...8).contains(cpus) else {
                throw ExitCode(fail("invalid --cpus \(cpus): use 1 to 8", status: 2))
            }
            do {
                if !GuestImages.isNestedFetched {
                    try GuestImages.fetchNested { line in
                        FileHandle.standardError.write(Data(("images: " + line + "\n").utf8))
                    }
                }
                try GuestImages.checkNestedDisk()
            } catch let error as GuestImageError {
                throw ExitCode(fail(error.message, status: 2))
            }
            var config = MachineConfig()
            config.memorySize = mem
            config.hypervisor = true
            config.harts = cpus
            config.cpu = cpu
            config.aia = aiaMode
            switch firmware {
            case "builtin": config.firmware = .builtin
            case "opensbi": config.firmware = .file(GuestImages.firmwarePath)
            default: config.firmware = .file(firmware)
            }
            config.kernelPath = GuestImages.kernelPath
            config.initrdPath = GuestImages.nestedInitramfsPath
            // Read-only: the cached image never changes, and several demos can run at once.
            config.disks = [DiskSpec(path: GuestImages.nestedDiskPath, format: "raw", readOnly: true)]
            // cryptomgr.notests: the kernel's boot-time crypto self-tests are a sixth of a nested run's
            // instructions and show nothing about virtualization (run-l2 passes it to L2 as well).
            config.bootargs = "console=ttyS0 quiet cryptomgr.notests nested=\(shell ? "shell" : "demo")"
            throw ExitCode(runGuest(config, options: GuestRunOptions(stats: stats, noJit: noJit, noReboot: true)))
        }
    }
}
