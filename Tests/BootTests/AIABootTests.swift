import Foundation
import Machine
import GuestImages
import VMM
import XCTest

/// Debian's Linux on the AIA board (`--aia aplic-imsic`): the console's interrupts go UART -> APLIC
/// (MSI mode) -> IMSIC S file, virtio-blk and virtio-rng work through the APLIC, IPIs go through the
/// IMSIC, and the harts advertise Smaia/Ssaia. Prerequisites as VirtioBootTests'.
final class AIABootTests: XCTestCase {
    static let timeout: TimeInterval = 150

    func testLinuxUsesAPLICAndIMSIC() throws {
        try bootAndCheck(cpus: 1)
    }

    func testLinuxUsesAPLICAndIMSICOnTwoHarts() throws {
        let output = try bootAndCheck(cpus: 2)
        // With two harts Linux sends IPIs; the IMSIC driver provides them (identity 1).
        let ipis = output.split(whereSeparator: \.isNewline).first { $0.contains("Rescheduling interrupts") } ?? ""
        let counts = ipis.split(separator: " ").dropFirst().prefix(2).compactMap { Int($0) }
        XCTAssertEqual(counts.count, 2, String(ipis))
        XCTAssertGreaterThan(counts.reduce(0, +), 0, "IPIs through the IMSIC: \(ipis)")
        XCTAssertTrue(output.contains("providing IPIs using interrupt 1"), "the IMSIC provides IPIs")
    }

    /// A snapshot taken mid-computation on the AIA board restores in a new process: the interrupt files
    /// and the APLIC come back (the console keeps working through them) without a boot.
    func testSnapshotRestoresTheAIAState() throws {
        let binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let initrd = dir + "/snap.cpio.gz"
        try GuestImages.buildInitramfs(init: SnapshotTests.initScript, extraFiles: [], to: initrd)
        let socket = dir + "/api.sock"
        let vm = try GuestProcess(binary, ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--append", "console=ttyS0 panic=-1",
                                           "--memory", "256M", "--cpus", "2", "--aia", "aplic-imsic", "--api-socket", socket], dir: dir)
        XCTAssertTrue(vm.waitFor("PROGRESS 15000\r\n", timeout: 180), "guest never reached PROGRESS 15000:\n\(vm.tail)")
        let c = APIClient(socketPath: socket)
        XCTAssertEqual(try c.request("PATCH", "/vm", json: ["state": "Paused"]).status, 204)
        let r = try c.request("PUT", "/snapshot/create", json: ["snapshot_path": dir + "/aia.snap", "mem_file_path": dir + "/aia.mem", "snapshot_type": "Full"])
        XCTAssertEqual(r.status, 204, r.text)
        vm.kill9()
        try SnapshotTests.restoreAndFinishStatic(binary: binary, dir: dir, path: dir + "/aia.snap")
    }

    /// The nested stack on the AIA board: L1's KVM finds the guest interrupt files ("AIA available with 3
    /// guest external interrupts"), L1's QEMU runs L2 with `-M virt,aia=aplic-imsic -accel kvm`, and L2's
    /// console interrupts come through KVM's in-kernel APLIC into a guest file: VS-level external
    /// interrupts taken in VS-mode without a VM exit. The same L2 workload (300 console lines) on the PLIC
    /// board costs more VM exits per L2 external interrupt: there every claim and completion is an MMIO
    /// access that traps to L1 (and on to QEMU's PLIC in L1's user space).
    func testNestedKVMDeliversL2InterruptsThroughGuestFiles() throws {
        let aia = try nestedConsoleWindow(aia: true)
        XCTAssertTrue(aia.output.contains("AIA available with 3 guest external interrupts"), "L1's KVM without AIA")
        let lines = aia.output.split(whereSeparator: \.isNewline).map(String.init)
        let uart = lines.last { $0.contains("APLIC-MSI") && $0.contains("ttyS0") } ?? ""
        let count = uart.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        XCTAssertGreaterThan(count, 0, "L2's UART interrupts through its APLIC (KVM's) and IMSIC: \(lines.filter { $0.contains("ttyS0") })")
        let vsei = lines.first { $0.contains("interrupt VSEI, VS -> VS:") }?.split(separator: " ").last.flatMap { Int($0) } ?? 0
        XCTAssertGreaterThan(vsei, 0, "VS external interrupts taken in VS-mode (from the guest file VGEIN selects)")

        let plic = try nestedConsoleWindow(aia: false)
        XCTAssertFalse(plic.output.contains("APLIC-MSI"), "the PLIC board's L2 used an APLIC")
        let aiaRatio = Double(aia.exits) / Double(max(1, aia.external))
        let plicRatio = Double(plic.exits) / Double(max(1, plic.external))
        print(String(format: "AIABootTests: L2 printing 300 lines: PLIC %llu VM exits / %llu L2 external interrupts = %.1f; AIA %llu / %llu = %.1f",
                     plic.exits, plic.external, plicRatio, aia.exits, aia.external, aiaRatio))
        XCTAssertGreaterThan(aia.external, 10, "the window should hold L2 console interrupts")
        XCTAssertGreaterThan(plic.external, 10, "the window should hold L2 console interrupts")
        XCTAssertLessThan(aiaRatio, plicRatio, "AIA should need fewer VM exits per L2 external interrupt than the PLIC")
    }

    /// Boots the nested images with a shell in L1 (`--aia aplic-imsic` or the PLIC), starts L2 with a shell
    /// (run-l2 picks the board's interrupt controllers), and returns the VM exits and the L2 external
    /// interrupts (VSEI taken in VS/VU) counted, through `GET /vm/stats`, while L2 prints 300 lines.
    private func nestedConsoleWindow(aia: Bool) throws -> (exits: UInt64, external: UInt64, output: String) {
        let binary = try requireBinary()
        guard GuestImages.isNestedFetched else {
            try missing("nested images missing or out of date in \(GuestImages.nestedDirectory): run `swift run -c release matryoshka images fetch --nested`")
        }
        let vm = try NestedShellSession(binary: binary, extraArguments: ["--aia", aia ? "aplic-imsic" : "none"])
        let board = aia ? "AIA" : "PLIC"
        func sample() throws -> (UInt64, UInt64) {
            let o = try vm.stats()
            guard let exits = (o["vm_exits"] as? NSNumber)?.uint64Value,
                  let external = (o["guest_external_interrupts"] as? NSNumber)?.uint64Value else {
                XCTFail("\(board): /vm/stats without vm_exits and guest_external_interrupts: \(o)")
                return (0, 0)
            }
            return (exits, external)
        }
        guard vm.waitFor("L1:~# ") else { XCTFail("\(board): no L1 shell:\n\(vm.tail)"); return (0, 0, vm.output) }
        vm.type("run-l2 shell")
        guard vm.waitFor("L2:/# ") else { XCTFail("\(board): no L2 shell:\n\(vm.tail)"); return (0, 0, vm.output) }
        Thread.sleep(forTimeInterval: 1)  // let the shell's own output settle
        let before = try sample()
        vm.type("i=0; while [ $i -lt 300 ]; do echo \"L2 console line $i\"; i=$((i+1)); done; echo LINES-$((150*2))")
        XCTAssertTrue(vm.waitFor("LINES-300") && vm.waitFor("L2:/# ", count: 2), "\(board): L2 did not print its lines:\n\(vm.tail)")
        let after = try sample()
        vm.type("cat /proc/interrupts; exit")
        XCTAssertTrue(vm.waitFor("L1:~# ", count: 2), "\(board): L2 did not exit:\n\(vm.tail)")
        XCTAssertTrue(vm.exitL1(), "\(board): L1 did not power off:\n\(vm.tail)")
        return (after.0 &- before.0, after.1 &- before.1, vm.output)
    }

    func testBadAIAModeIsRefused() throws {
        let binary = BootTests.matryoshkaBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("no matryoshka binary") }
        let r = try BootTests.launch(binary, ["run", "--kernel", "/nonexistent", "--aia", "imsic"], timeout: 20)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("use none or aplic-imsic"), r.output)
    }

    @discardableResult
    func bootAndCheck(cpus: Int) throws -> String {
        let binary = BootTests.matryoshkaBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            try missing("matryoshka binary not found at \(binary): run `swift build -c release` or set MATRYOSHKA_BIN")
        }
        for path in [GuestImages.kernelPath, GuestImages.busyboxPath, GuestImages.modulesDirectory]
        where !FileManager.default.fileExists(atPath: path) {
            try missing("guest image \(path) is missing: run `swift run -c release matryoshka images fetch`")
        }
        guard VirtioBootTests.findTool("xz") != nil else { try missing("xz not found (install xz-utils)") }
        let dir = try BootTests.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let modules = ["virtio_mmio", "virtio-rng", "virtio_blk"]
        var extra: [(guestPath: String, hostPath: String, mode: UInt32)] = []
        for m in modules {
            extra.append((guestPath: "/lib/modules/\(m).ko", hostPath: try VirtioBootTests.module(m, into: dir), mode: 0o644))
        }
        let disk = dir + "/disk.img"
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ i >> 9) }
        try Data(bytes).write(to: URL(fileURLWithPath: disk))
        let initrd = dir + "/aia.cpio.gz"
        try GuestImages.buildInitramfs(init: """
            #!/bin/sh
            /bin/busybox --install -s /bin
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev
            for m in \(modules.joined(separator: " ")); do insmod /lib/modules/$m.ko || echo "MATRYOSHKA-INSMOD-FAILED $m"; done
            echo "MATRYOSHKA-ISA $(grep -m1 '^isa' /proc/cpuinfo)"
            echo "MATRYOSHKA-RNG $(head -c 32 /dev/hwrng | od -An -tx1 | tr -d ' \\n')"
            echo "MATRYOSHKA-DISK $(md5sum /dev/vda | cut -d' ' -f1)"
            cat /proc/interrupts
            dmesg | grep -i imsic
            poweroff -f

            """, extraFiles: extra, to: initrd)
        let args = ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--append", "console=ttyS0 panic=-1",
                    "--memory", "256M", "--cpus", "\(cpus)", "--aia", "aplic-imsic", "--rng", "--disk", disk + ",readonly=on"]
        let r = try BootTests.launch(binary, args, timeout: Self.timeout)
        let tail = r.output.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).suffix(50).joined(separator: "\n")
        XCTAssertFalse(r.timedOut, "no power-off within \(Int(Self.timeout)) s:\n\(tail)")
        XCTAssertEqual(r.status, 0, tail)
        XCTAssertFalse(r.output.contains("MATRYOSHKA-INSMOD-FAILED"), tail)
        let lines = r.output.split(whereSeparator: \.isNewline).map(String.init)

        let isa = lines.first { $0.hasPrefix("MATRYOSHKA-ISA") } ?? ""
        XCTAssertTrue(isa.contains("_smaia") && isa.contains("_ssaia"), isa)
        let rng = lines.first { $0.hasPrefix("MATRYOSHKA-RNG") }?.split(separator: " ").last.map(String.init) ?? ""
        XCTAssertEqual(rng.count, 64, "32 bytes from /dev/hwrng")
        let md5 = lines.first { $0.hasPrefix("MATRYOSHKA-DISK") }?.split(separator: " ").last.map(String.init) ?? ""
        let hostMD5 = try GuestProcess.capture(VirtioBootTests.findTool("md5sum") ?? "/usr/bin/md5sum", [disk]).output.prefix(32)
        XCTAssertEqual(md5, String(hostMD5), "virtio-blk reads the disk")
        // /proc/interrupts: the devices are APLIC-MSI interrupts that counted.
        func count(_ name: String) -> Int {
            guard let l = lines.first(where: { $0.contains("APLIC-MSI") && $0.hasSuffix(name) }) else { return -1 }
            return l.split(separator: " ").dropFirst().prefix(cpus).compactMap { Int($0) }.reduce(0, +)
        }
        XCTAssertGreaterThan(count("ttyS0"), 0, "UART interrupts through APLIC -> IMSIC:\n\(tail)")
        XCTAssertGreaterThan(count("virtio0"), 0, "virtio-blk (slot 0) interrupts:\n\(tail)")
        XCTAssertGreaterThan(count("virtio1"), 0, "virtio-rng (slot 1) interrupts:\n\(tail)")
        XCTAssertFalse(r.output.contains("SiFive PLIC"), "no PLIC on the AIA board")
        return r.output
    }
}
