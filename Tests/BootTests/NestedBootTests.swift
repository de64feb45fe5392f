import Foundation
import GuestImages
import XCTest

/// Nested virtualization end to end: `matryoshka demo nested` boots Linux (L1) with the H extension;
/// L1 loads kvm.ko and runs Linux (L2) in qemu-system-riscv64 -accel kvm.
///
/// Needs the release binary and the nested images (`matryoshka images fetch --nested`); without them
/// the tests are skipped, except under CI=true, where they fail.
final class NestedBootTests: XCTestCase {
    /// ~9 s on the 2-core CI machine kind; generous for a loaded host.
    static let timeout: TimeInterval = 300

    func testNestedDemoRunsL2UnderKVM() throws {
        try runNestedDemo(extraArguments: [], cpus: 1)
    }

    /// Two L1 harts with the built-in SBI, two L2 vCPUs: KVM's remote HFENCEs go through the SBI
    /// RFENCE extension that Matryoshka implements itself.
    func testNestedDemoTwoHarts() throws {
        try runNestedDemo(extraArguments: ["--cpus", "2"], cpus: 2)
    }

    /// L1 on the `max` CPU: KVM hands L2 (`-cpu host`) the extensions beyond RV64GC (V too), L2's kernel in VS-mode
    /// uses them (Zicboz, Svpbmt through henvcfg; senvcfg and sstateen0 through KVM's hstateen0 under
    /// Smstateen, which the built-in SBI opens in mstateen0), and L2 powers off as on rv64gc.
    func testNestedDemoOnTheMaxCPU() throws {
        let output = try runNestedDemo(extraArguments: ["--cpu", "max"], cpus: 1)
        let l2ISA = output.split(whereSeparator: \.isNewline).first { $0.contains("L2 isa : ") }.map(String.init) ?? ""
        XCTAssertTrue(l2ISA.contains("rv64imafdcv_"), "L2 must have V (KVM saves and restores its vector state): \(l2ISA)")
        for ext in ["zba", "zbb", "zicboz", "zicond", "zfh", "svpbmt", "smstateen", "zvbb", "zvfhmin"] {
            XCTAssertTrue(l2ISA.split(separator: "_").contains(Substring(ext)), "\(ext) missing from L2's isa: \(l2ISA)")
        }
    }

    /// `demo nested --aia aplic-imsic`: run-l2 sees IMSICs in L1's device tree and gives L2 QEMU's AIA
    /// board; L2's console interrupts arrive through its APLIC (KVM's, in L1's kernel) as MSIs into an
    /// IMSIC guest file that Matryoshka implements, taken in VS-mode without a VM exit. The PLIC demo's
    /// L2 has a PLIC, and its external interrupts are injected by KVM through hvip.
    func testNestedDemoWithAIA() throws {
        let aia = try runNestedDemo(extraArguments: ["--aia", "aplic-imsic"], cpus: 1)
        let lines = aia.split(whereSeparator: \.isNewline).map(String.init)
        let controllers = lines.first { $0.contains("L2 interrupt controllers:") } ?? ""
        XCTAssertTrue(controllers.contains("riscv,aplic@") && controllers.contains("riscv,imsics@"), "L2's board without AIA: \(controllers)")
        XCTAssertTrue(aia.contains("L1: starting L2: run-l2 (qemu-system-riscv64 -M virt,aia=aplic-imsic"), "run-l2 did not pick AIA")
        let console = lines.first { $0.contains("L2 console interrupts:") } ?? ""
        XCTAssertTrue(console.contains("APLIC-MSI") && console.hasSuffix("ttyS0"), "L2's UART not routed through its APLIC in MSI mode: \(console)")
        let vsei = lines.first { $0.contains("interrupt VSEI, VS -> VS:") || $0.contains("interrupt VSEI, VU -> VS:") }
        XCTAssertNotNil(vsei, "no VS external interrupt taken in VS-mode (from a guest file)")

        let plic = try runNestedDemo(extraArguments: [], cpus: 1)
        let plicControllers = plic.split(whereSeparator: \.isNewline).first { $0.contains("L2 interrupt controllers:") }.map(String.init) ?? ""
        XCTAssertFalse(plicControllers.contains("imsics@"), "the PLIC demo's L2 has IMSICs: \(plicControllers)")
        XCTAssertTrue(plicControllers.contains("plic"), "the PLIC demo's L2 without a PLIC: \(plicControllers)")
    }

    /// Debian's perf (linux-perf, on the L1 disk) counts instructions and cycles in L1, through the
    /// SBI PMU and Sscofpmf counters, and in L2, where KVM's virtual PMU backs L2's counters with perf
    /// events in L1 (L2 runs perf from L1's disk, which run-l2 attaches read-only).
    func testPerfStatCountsInL1AndL2() throws {
        let binary = try requireBinary()
        guard GuestImages.isNestedFetched else {
            try missing("nested images missing or out of date in \(GuestImages.nestedDirectory): run `swift run -c release matryoshka images fetch --nested`")
        }
        let vm = try NestedShellSession(binary: binary, extraArguments: [])
        // 20000 rounds of a shell loop: a few tens of millions of instructions.
        let workload = "busybox sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'"
        XCTAssertTrue(vm.waitFor("L1:~# "), "no L1 shell:\n\(vm.tail)")
        vm.type("perf stat -x, -e instructions,cycles \(workload) 2>&1 | sed 's/^/L1-PERF /'; echo PERF-$((1+1))")
        XCTAssertTrue(vm.waitFor("PERF-2"), "perf in L1 did not finish:\n\(vm.tail)")
        XCTAssertTrue(vm.waitFor("L1:~# ", count: 2))
        vm.type("run-l2 shell")
        XCTAssertTrue(vm.waitFor("L2:/# "), "no L2 shell:\n\(vm.tail)")
        XCTAssertTrue(vm.output.contains("L1's root disk is mounted read-only at /l1"), "L2 did not mount L1's disk:\n\(vm.tail)")
        vm.type("chroot /l1 perf stat -x, -e instructions,cycles \(workload) 2>&1 | sed 's/^/L2-PERF /'; echo PERF-$((1+2))")
        XCTAssertTrue(vm.waitFor("PERF-3"), "perf in L2 did not finish:\n\(vm.tail)")
        XCTAssertTrue(vm.waitFor("L2:/# ", count: 2))
        vm.type("exit")
        XCTAssertTrue(vm.waitFor("L1:~# ", count: 3), "L2 did not exit:\n\(vm.tail)")
        XCTAssertTrue(vm.exitL1(), "L1 did not power off:\n\(vm.tail)")

        // perf stat -x, prints "count,unit,event,...": the counts must be real, not "<not supported>".
        func counts(_ prefix: String) -> [String: UInt64] {
            var out: [String: UInt64] = [:]
            for line in vm.output.split(whereSeparator: \.isNewline) where line.hasPrefix(prefix) {
                let fields = line.dropFirst(prefix.count).split(separator: ",", omittingEmptySubsequences: false)
                guard fields.count > 2, let n = UInt64(fields[0]) else { continue }
                let event = fields[2].split(separator: ":").first.map(String.init) ?? ""
                out[event] = n
            }
            return out
        }
        for level in ["L1", "L2"] {
            let c = counts(level + "-PERF ")
            print("NestedBootTests: perf stat in \(level): \(c)")
            XCTAssertGreaterThan(c["instructions"] ?? 0, 5_000_000, "\(level): perf stat instructions: \(c)\n\(vm.tail)")
            XCTAssertGreaterThan(c["cycles"] ?? 0, 5_000_000, "\(level): perf stat cycles: \(c)\n\(vm.tail)")
        }
    }

    /// A plain `run` with no hypervisor flag: the H extension is on by default, so L1 loads kvm.ko,
    /// finds /dev/kvm and runs L2 (the L1 init fails loudly when insmod kvm.ko fails).
    func testKVMLoadsWithoutFlags() throws {
        let binary = try requireBinary()
        guard GuestImages.isNestedFetched else {
            try missing("nested images missing or out of date in \(GuestImages.nestedDirectory): run `swift run -c release matryoshka images fetch --nested`")
        }
        let result = try BootTests.launch(binary, ["run", "--no-reboot", "--memory", "1G",
                                                   "--initrd", GuestImages.nestedInitramfsPath,
                                                   "--disk", GuestImages.nestedDiskPath + ",readonly=on",
                                                   "--append", "console=ttyS0 quiet cryptomgr.notests nested=demo"],
                                          timeout: Self.timeout)
        let tail = result.output.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).suffix(40).joined(separator: "\n")
        XCTAssertFalse(result.timedOut, tail)
        XCTAssertEqual(result.status, 0, tail)
        XCTAssertTrue(result.output.contains("kvm: hypervisor extension available") || result.output.contains("/dev/kvm ready"), tail)
        XCTAssertTrue(result.output.contains("=== L2 guest (nested"), tail)
        // And --no-hypervisor really turns it off: insmod kvm.ko fails and L1 says so.
        let off = try BootTests.launch(binary, ["run", "--no-hypervisor", "--no-reboot", "--memory", "1G",
                                                "--initrd", GuestImages.nestedInitramfsPath,
                                                "--disk", GuestImages.nestedDiskPath + ",readonly=on",
                                                "--append", "console=ttyS0 quiet cryptomgr.notests nested=demo"],
                                       timeout: Self.timeout)
        XCTAssertFalse(off.timedOut)
        XCTAssertEqual(off.status, 1, "L1 should report the failed insmod")
        XCTAssertTrue(off.output.contains("kvm needs the H extension"), off.output)
    }

    @discardableResult
    private func runNestedDemo(extraArguments: [String], cpus: Int) throws -> String {
        let binary = try requireBinary()
        guard GuestImages.isNestedFetched else {
            try missing("nested images missing or out of date in \(GuestImages.nestedDirectory): run `swift run -c release matryoshka images fetch --nested`")
        }
        let started = Date()
        let result = try BootTests.launch(binary, ["demo", "nested", "--stats"] + extraArguments, timeout: Self.timeout)
        let elapsed = Date().timeIntervalSince(started)
        let output = result.output
        let tail = output.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).suffix(60).joined(separator: "\n")

        XCTAssertFalse(result.timedOut, "demo nested did not finish within \(Int(Self.timeout)) s; last output:\n\(tail)")
        XCTAssertEqual(result.status, 0, "exit status of demo nested; last output:\n\(tail)")

        // L1: kvm.ko loaded and /dev/kvm exists (the L1 init checks `[ -c /dev/kvm ]` before this banner).
        XCTAssertTrue(output.contains("kvm: hypervisor extension available") || output.contains("/dev/kvm ready"),
                      "L1 never reported KVM; last output:\n\(tail)")

        // L2's own init prints its banner (kernel version, CPUs, isa) and powers off; then qemu exits 0
        // in L1, and L1 powers off: two "reboot: Power down", L2's first.
        guard let l2Banner = output.range(of: "=== L2 guest (nested") else {
            XCTFail("the L2 banner never appeared; last output:\n\(tail)")
            return output
        }
        XCTAssertNotNil(output.range(of: "L2 isa : rv64", range: l2Banner.upperBound..<output.endIndex),
                        "L2 banner without its isa line; last output:\n\(tail)")
        XCTAssertNotNil(output.range(of: "\(cpus) CPU(s), up", range: l2Banner.lowerBound..<output.endIndex),
                        "L2 should see \(cpus) vCPU(s); last output:\n\(tail)")
        let powerDowns = ranges(of: "reboot: Power down", in: output)
        XCTAssertEqual(powerDowns.count, 2, "expected L2's and then L1's power-down messages; last output:\n\(tail)")
        if powerDowns.count == 2, let qemuExit = output.range(of: "L1: qemu-system-riscv64 exited with status 0") {
            XCTAssertTrue(l2Banner.upperBound <= powerDowns[0].lowerBound
                          && powerDowns[0].upperBound <= qemuExit.lowerBound
                          && qemuExit.upperBound <= powerDowns[1].lowerBound,
                          "order should be: L2 banner, L2 power-down, qemu exit 0 in L1, L1 power-down; last output:\n\(tail)")
        } else {
            XCTFail("L1 did not report qemu's exit status 0; last output:\n\(tail)")
        }

        // --stats: the L2 kernel ran in VS mode and its user space in VU; its traps reached L1's KVM.
        let levels = fields(afterPrefix: "matryoshka: instructions executed by level:", in: output)
        XCTAssertGreaterThan(levels["VS"] ?? 0, 0, "instructions in VS; levels: \(levels); last output:\n\(tail)")
        XCTAssertGreaterThan(levels["VU"] ?? 0, 0, "instructions in VU; levels: \(levels); last output:\n\(tail)")
        let exits = output.split(whereSeparator: \.isNewline)
            .first { $0.hasPrefix("matryoshka: VM exits") }
            .flatMap { $0.split(separator: " ").last.flatMap { UInt64($0) } } ?? 0
        XCTAssertGreaterThan(exits, 0, "VM exits; last output:\n\(tail)")
        print("NestedBootTests: L1 + L2 finished in \(String(format: "%.1f", elapsed)) s; VS \(levels["VS"] ?? 0), VU \(levels["VU"] ?? 0) instructions, \(exits) VM exits")
        return output
    }

    /// A damaged L1 disk is reported by name before any guest boots (exit status 2). Runs against a
    /// scratch cache that shares everything with the real one except the disk.
    func testNestedDemoRejectsCorruptDisk() throws {
        let binary = try requireBinary()
        guard GuestImages.isNestedFetched else {
            try missing("nested images missing or out of date in \(GuestImages.nestedDirectory): run `swift run -c release matryoshka images fetch --nested`")
        }
        let fm = FileManager.default
        let real = GuestImages.cacheDirectory
        let scratch = try BootTests.makeTemporaryDirectory()
        defer { try? fm.removeItem(atPath: scratch) }
        for name in try fm.contentsOfDirectory(atPath: real) where name != "nested" {
            // Symlinks are recreated as they are (relative targets resolve through the linked `root`),
            // so the scratch cache's kernel and hence the images' fingerprint match the real cache's.
            let target = (try? fm.destinationOfSymbolicLink(atPath: real + "/" + name)) ?? real + "/" + name
            try fm.createSymbolicLink(atPath: scratch + "/" + name, withDestinationPath: target)
        }
        let nested = scratch + "/nested"
        try fm.createDirectory(atPath: nested, withIntermediateDirectories: true)
        for name in [".complete", "l1-initramfs.cpio.gz"] {
            try fm.copyItem(atPath: GuestImages.nestedDirectory + "/" + name, toPath: nested + "/" + name)
        }
        let disk = nested + "/l1-disk.ext4"
        try Data(repeating: 0x5A, count: 1 << 20).write(to: URL(fileURLWithPath: disk))

        // An unreachable mirror: if the images were not recognised as built, a rebuild fails fast
        // instead of downloading.
        let result = try BootTests.launch(binary, ["demo", "nested"], timeout: 60,
                                          environment: ["MATRYOSHKA_CACHE": scratch,
                                                        "MATRYOSHKA_DEBIAN_MIRROR": "http://127.0.0.1:9/debian"])
        XCTAssertFalse(result.timedOut, "demo nested with a corrupt disk did not exit within 60 s:\n\(result.output)")
        XCTAssertEqual(result.status, 2, "exit status for a corrupt L1 disk; output:\n\(result.output)")
        XCTAssertTrue(result.output.contains(disk) && result.output.contains("not an ext4 image"),
                      "the error should name the disk and say what is wrong; output:\n\(result.output)")
        XCTAssertTrue(result.output.contains("images fetch --nested"), "the error should say how to fix it; output:\n\(result.output)")
    }

    // MARK: Helpers

    private func ranges(of needle: String, in text: String) -> [Range<String.Index>] {
        var found: [Range<String.Index>] = []
        var start = text.startIndex
        while let r = text.range(of: needle, range: start..<text.endIndex) {
            found.append(r)
            start = r.upperBound
        }
        return found
    }

    /// "prefix U 12 (0.1%) HS 34 (5.0%) ..." -> ["U": 12, "HS": 34, ...].
    private func fields(afterPrefix prefix: String, in text: String) -> [String: UInt64] {
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix(prefix) }) else { return [:] }
        let words = line.dropFirst(prefix.count).split(separator: " ")
        var result: [String: UInt64] = [:]
        for (name, value) in zip(words, words.dropFirst()) {
            if let n = UInt64(value), UInt64(name) == nil { result[String(name)] = n }
        }
        return result
    }
}
