import Foundation
import GuestImages
import XCTest

/// `--cpu`: Debian's Linux on the `max` CPU sees the extensions (device tree -> /proc/cpuinfo), patches
/// itself to use them (Zicboz's cbo.zero clears its pages, Svpbmt marks its I/O mappings), and runs a
/// user program built with Zba/Zbb/Zbs to the same result as its RV64GC build. Switched off, an
/// extension's instructions are illegal: the same program dies of SIGILL.
final class CPUModelBootTests: XCTestCase {
    var dir = ""
    var binary = ""
    var initrd = ""

    static let initScript = """
        #!/bin/sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        echo "CPU-ISA $(sed -n 's/^isa[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
        echo "CPU-GC $(/bin/bitmanip-gc)"
        /bin/bitmanip-b > /tmp/b.out 2>&1
        echo "CPU-B status=$? $(cat /tmp/b.out)"
        echo "CPU-VGC $(/bin/vector-gc)"
        /bin/vector-v > /tmp/v.out 2>&1
        echo "CPU-V status=$? $(cat /tmp/v.out)"
        echo "CPU-PERF $(/bin/perf-test 2>&1)"
        poweroff -f
        """

    override func setUpWithError() throws {
        binary = try requireBinary()
        guard GuestImages.isFetched else { try missing("guest images not fetched: run `matryoshka images fetch`") }
        dir = try BootTests.makeTemporaryDirectory()
        let source = BootTests.packageRoot + "/guest/tests/bitmanip.c"
        let gc = try BootTests.crossCompile(source, into: dir, output: "bitmanip-gc")
        let b = try BootTests.crossCompile(source, into: dir, output: "bitmanip-b", march: "rv64gc_zba_zbb_zbs")
        // The vector kernels: clang autovectorizes them for RVV (GCC 12 does not vectorize).
        let vectorSource = BootTests.packageRoot + "/guest/tests/vector.c"
        let vgc = try BootTests.clangCrossCompile(vectorSource, into: dir, output: "vector-gc", march: "rv64gc")
        let v = try BootTests.clangCrossCompile(vectorSource, into: dir, output: "vector-v", march: "rv64gcv_zba_zbb_zbs")
        XCTAssertGreaterThan(try BootTests.vectorInstructionCount(v), 40, "clang did not vectorize \(vectorSource)")
        let perf = try BootTests.crossCompile(BootTests.packageRoot + "/guest/tests/perf.c", into: dir, output: "perf-test")
        initrd = dir + "/cpu.cpio.gz"
        try GuestImages.buildInitramfs(init: Self.initScript, extraFiles: [("/bin/bitmanip-gc", gc, 0o755), ("/bin/bitmanip-b", b, 0o755),
                                                                          ("/bin/vector-gc", vgc, 0o755), ("/bin/vector-v", v, 0o755),
                                                                          ("/bin/perf-test", perf, 0o755)],
                                       to: initrd)
    }
    override func tearDownWithError() throws {
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    func boot(_ cpu: String) throws -> (isa: String, gc: String, b: String, vgc: String, v: String, perf: String) {
        let r = try BootTests.launch(binary, ["run", "--kernel", GuestImages.kernelPath, "--initrd", initrd, "--memory", "256M",
                                              "--append", "console=ttyS0 panic=-1", "--cpu", cpu], timeout: 240)
        XCTAssertEqual(r.status, 0, r.output)
        func line(_ tag: String) -> String {
            r.output.replacingOccurrences(of: "\r", with: "").split(separator: "\n").first { $0.hasPrefix(tag + " ") }
                .map { String($0.dropFirst(tag.count + 1)) } ?? "<missing: \(r.output.suffix(1500))>"
        }
        return (line("CPU-ISA"), line("CPU-GC"), line("CPU-B"), line("CPU-VGC"), line("CPU-V"), line("CPU-PERF"))
    }

    func testLinuxUsesTheMaxCPU() throws {
        let max = try boot("max")
        for ext in ["zba", "zbb", "zbc", "zbs", "zicond", "zicbom", "zicboz", "zcb", "zfhmin", "zfh", "zfa", "svpbmt", "svinval", "svnapot", "smstateen"] {
            XCTAssertTrue(max.isa.split(separator: "_").contains(Substring(ext)), "\(ext) missing from /proc/cpuinfo: \(max.isa)")
        }
        XCTAssertTrue(max.gc.hasPrefix("bitmanip checksum="), max.gc)
        XCTAssertEqual(max.b, "status=0 " + max.gc, "the Zba/Zbb/Zbs build must compute what the RV64GC build does")
        // Sscofpmf and the SBI PMU: perf_event_open counts a 10M-iteration loop's instructions and cycles,
        // filters by mode (user-only < user + kernel around syscalls), and overflow interrupts deliver
        // about one signal per million instructions of sampling period.
        let perf = Dictionary(uniqueKeysWithValues: max.perf.split(separator: " ").dropFirst().compactMap { kv -> (String, Int)? in
            let p = kv.split(separator: "="); return p.count == 2 ? (String(p[0]), Int(p[1]) ?? -1) : nil
        })
        XCTAssertTrue(max.isa.split(separator: "_").contains("sscofpmf"), max.isa)
        XCTAssertTrue((40_000_000...120_000_000).contains(perf["instructions"] ?? 0), "instructions of the loop: \(max.perf)")
        XCTAssertTrue((40_000_000...120_000_000).contains(perf["cycles"] ?? 0), "cycles of the loop: \(max.perf)")
        XCTAssertGreaterThan(perf["user"] ?? 0, 100_000, max.perf)
        XCTAssertGreaterThan(perf["all"] ?? 0, 2 * (perf["user"] ?? .max), "kernel instructions must count only without exclude_kernel: \(max.perf)")
        XCTAssertTrue((20...120).contains(perf["overflows"] ?? 0), "overflow signals at a 1M-instruction period: \(max.perf)")
        // V: in the ISA string, and the autovectorized build computes what the scalar build does.
        XCTAssertTrue(max.isa.hasPrefix("rv64imafdcvh_") || max.isa.hasPrefix("rv64imafdchv_") || max.isa.contains("v_"), "V missing from /proc/cpuinfo: \(max.isa)")
        XCTAssertTrue(max.vgc.hasPrefix("vector checksum="), max.vgc)
        XCTAssertEqual(max.v, "status=0 " + max.vgc, "the RVV build must compute what the RV64GC build does")

        // Zbb off: gone from the ISA string, and its instructions trap (SIGILL: the shell reports 132).
        let noZbb = try boot("max,zbb=off")
        XCTAssertFalse(noZbb.isa.split(separator: "_").contains("zbb"), noZbb.isa)
        XCTAssertTrue(noZbb.isa.split(separator: "_").contains("zba"), noZbb.isa)
        XCTAssertEqual(noZbb.gc, max.gc)
        XCTAssertTrue(noZbb.b.hasPrefix("status=132"), "a Zbb instruction must be illegal with zbb=off: \(noZbb.b)")
        // V off: the vector build dies of SIGILL.
        let noV = try boot("max,v=off")
        XCTAssertFalse(noV.isa.split(separator: "_").contains { $0.hasPrefix("zv") || $0 == "v" }, noV.isa)
        XCTAssertTrue(noV.v.hasPrefix("status=132"), "a vector instruction must be illegal with v=off: \(noV.v)")
        // A longer VLEN: the same results.
        let wide = try boot("max,vlen=512")
        XCTAssertEqual(wide.v, "status=0 " + max.vgc, "VLEN 512")
    }

    /// RVA22 (RVA22U64 + RVA22S64): its extensions and nothing more, and Svade without Svadu, so every
    /// first access or write to a page faults and Linux sets the A and D bits itself; the Zba/Zbb/Zbs
    /// program still computes what the RV64GC build does.
    func testLinuxRunsOnTheRVA22CPU() throws {
        let rva22 = try boot("rva22")
        let isa = rva22.isa.split(separator: "_").map(String.init)
        for ext in ["zba", "zbb", "zbs", "zicbom", "zicboz", "zfhmin", "svpbmt", "svinval"] {
            XCTAssertTrue(isa.contains(ext), "\(ext) missing from /proc/cpuinfo: \(rva22.isa)")
        }
        for ext in ["zbc", "zfh", "zfa", "zicond", "zcb", "svnapot"] {
            XCTAssertFalse(isa.contains(ext), "\(ext) is not part of RVA22: \(rva22.isa)")
        }
        XCTAssertTrue(rva22.gc.hasPrefix("bitmanip checksum="), rva22.gc)
        XCTAssertEqual(rva22.b, "status=0 " + rva22.gc)
    }

    /// RVA23 (RVA23U64 + RVA23S64): V, Zvfhmin, Zvbb, Sscofpmf and the rest; the autovectorized and
    /// bit-manipulation programs compute what their RV64GC builds do, and perf counts.
    func testLinuxRunsOnTheRVA23CPU() throws {
        let rva23 = try boot("rva23")
        let isa = rva23.isa.split(separator: "_").map(String.init)
        XCTAssertTrue(rva23.isa.hasPrefix("rv64imafdcvh"), rva23.isa)
        for ext in ["zba", "zbb", "zbs", "zicbom", "zicboz", "zicond", "zimop", "zcmop", "zcb", "zfa", "zfhmin", "zawrs", "zkt",
                    "zvbb", "zvfhmin", "zvkt", "svpbmt", "svinval", "svnapot", "sscofpmf", "smstateen"] {
            XCTAssertTrue(isa.contains(ext), "\(ext) missing from /proc/cpuinfo: \(rva23.isa)")
        }
        for ext in ["zbc", "zfh"] { XCTAssertFalse(isa.contains(ext), "\(ext) is not part of RVA23: \(rva23.isa)") }
        XCTAssertEqual(rva23.b, "status=0 " + rva23.gc)
        XCTAssertTrue(rva23.vgc.hasPrefix("vector checksum="), rva23.vgc)
        XCTAssertEqual(rva23.v, "status=0 " + rva23.vgc)
        XCTAssertTrue(rva23.perf.contains("overflows="), rva23.perf)
    }

    func testBadCPUSpecsAreRefused() throws {
        for (spec, words) in [("rv99", ["unknown CPU model", "rv64gc"]), ("max,zzz=on", ["unknown extension", "zba"]),
                              ("max,zbb=maybe", ["zbb=on"]), ("max,zfhmin=off", ["Zfh includes Zfhmin", "zfh=off,zfhmin=off"])] {
            let r = try BootTests.launch(binary, ["run", "--kernel", GuestImages.kernelPath, "--cpu", spec], timeout: 30)
            XCTAssertEqual(r.status, 2, "\(spec): \(r.output)")
            for w in words { XCTAssertTrue(r.output.contains(w), "\(spec): '\(w)' not in \(r.output)") }
        }
    }
}
