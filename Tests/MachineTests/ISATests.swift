import XCTest
import Foundation
import Machine

/// Runs the bare-metal programs in Tests/ISAPrograms on the emulator. Each program writes
/// 0x5555 to the sifive_test device on success or (check << 16) | 0x3333 on failure.
final class ISATests: XCTestCase {
    static let programsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ISAPrograms")
    static let compilerNames = ["riscv64-unknown-elf-gcc", "riscv64-linux-gnu-gcc"]

    /// A tool in PATH, or beside the Swift toolchain's swift (where its clang and lld live).
    static func findTool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin", "/usr/local/bin", "/opt/swift/usr/bin"] {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func findCompiler() -> String? { compilerNames.lazy.compactMap(findTool).first }

    /// Assembles and links Tests/ISAPrograms/NAME.S; with `clangMarch`, with the toolchain's clang for that
    /// -march (extensions binutils 2.40 does not know).
    func compile(_ name: String, clangMarch: String? = nil, defines: [String] = []) throws -> String {
        guard let cc = clangMarch != nil ? ISATests.findTool("clang") : ISATests.findCompiler() else {
            let msg = clangMarch != nil
                ? "clang not found in PATH or the Swift toolchain's bin: it assembles \(name).S (install the Swift toolchain's clang)"
                : "riscv64-unknown-elf-gcc not found: apt-get install gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf to run the ISA tests"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(msg) }
            throw XCTSkip(msg)
        }
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("matryoshka-isa-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("\(name).elf").path
        let src = ISATests.programsDir.appendingPathComponent("\(name).S").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cc)
        let target = clangMarch.map { ["--target=riscv64-unknown-elf", "-fuse-ld=lld", "-march=\($0)"] } ?? ["-march=rv64gc_zicsr_zifencei"]
        p.arguments = target + defines.map { "-D\($0)" } + ["-mabi=lp64d", "-mcmodel=medany", "-nostdlib", "-nostartfiles",
                                "-static", "-I", ISATests.programsDir.path,
                                "-T", ISATests.programsDir.appendingPathComponent("link.ld").path, "-o", out, src]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            XCTFail("compiling \(name).S failed:\n\(String(decoding: e, as: UTF8.self))")
            throw XCTSkip("compile failed")
        }
        return out
    }

    func runProgram(_ name: String, budget: UInt64 = 50_000_000, hypervisor: Bool = false, cpu: String? = nil,
                    clangMarch: String? = nil, defines: [String] = [], aia: AIAMode = .none, busyHarts: Int = 0,
                    file: StaticString = #filePath, line: UInt = #line) throws {
        let elf = try compile(name, clangMarch: clangMarch, defines: defines + (busyHarts > 0 ? ["BUSY_HARTS=\(busyHarts)"] : []))
        var config = MachineConfig()
        config.harts = 1 + busyHarts
        config.hypervisor = hypervisor
        config.aia = aia
        config.cpu = cpu
        config.memorySize = 64 << 20
        config.firmware = .none
        config.kernelPath = elf
        let m = try Machine(config: config)
        m.threadPerHart = busyHarts > 0
        var console: [UInt8] = []
        m.consoleSink = { console.append(contentsOf: $0) }
        try m.boot()
        if let n = ProcessInfo.processInfo.environment["ISA_TRACE"].flatMap({ Int($0) }) {
            // Debug aid: print the pc and privilege of the first n instructions.
            let h = m.harts[0]
            for _ in 0..<n {
                print("pc 0x\(String(h.pc, radix: 16)) prv \(h.prv) mcause \(h.mcause)")
                _ = h.run(1)
            }
        }
        // Busy harts use up the budget too, as fast as their host threads run.
        let r = m.run(maxInstructions: busyHarts > 0 ? budget * 40 : budget)
        let text = String(decoding: console, as: UTF8.self)
        for h in m.harts.dropFirst() where r == .powerOff(code: 0) {
            // t4 (x29) counts the busy loop's rounds.
            XCTAssertGreaterThan(h.x[29], 0, "\(name): busy hart \(h.id) never ran", file: file, line: line)
        }
        switch r {
        case .powerOff(code: 0):
            break
        case .powerOff(code: let c):
            XCTFail("\(name)\(busyHarts > 0 ? " beside \(busyHarts) busy harts" : ""): check \(c) failed. UART output:\n\(text)", file: file, line: line)
        default:
            let h = m.harts[0]
            func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
            XCTFail("\(name)\(busyHarts > 0 ? " beside \(busyHarts) busy harts" : ""): did not finish (\(r)); last check \(h.x[3]), pc \(hex(h.pc)), mcause \(hex(h.mcause)), "
                    + "mepc \(hex(h.mepc)), mtval \(hex(h.mtval)), priv \(h.prv). UART output:\n\(text)", file: file, line: line)
        }
    }

    func testRV64I() throws { try runProgram("rv64i") }
    func testRV64M() throws { try runProgram("rv64m") }
    func testRV64A() throws { try runProgram("rv64a") }
    func testRVC() throws { try runProgram("rvc") }
    func testCSRAndTraps() throws { try runProgram("csr_traps") }
    func testCounters() throws { try runProgram("counters") }
    func testInterrupts() throws { try runProgram("interrupts") }
    func testMMU() throws { try runProgram("mmu") }
    func testTLBContexts() throws { try runProgram("tlb_contexts") }
    func testPMP() throws { try runProgram("pmp") }
    func testFloatingPoint() throws { try runProgram("fpu") }
    func testHypervisorExtension() throws { try runProgram("hext", hypervisor: true) }
    func testAIAInterruptFiles() throws { try runProgram("aia", hypervisor: true, aia: .aplicIMSIC) }
    func testTLB() throws { try runProgram("tlb") }
    func testHypervisorTLB() throws { try runProgram("hext_tlb", hypervisor: true) }
    /// Zicond, Zcb, Zimop/Zcmop, Zicbom/Zicboz with their enables, Zawrs, Svinval, Svpbmt, Svnapot.
    func testExtensionsBeyondRV64GC() throws {
        try runProgram("extensions", cpu: "max",
                       clangMarch: "rv64gc_zicond_zcb_zba_zbb_zimop_zcmop_zicbom_zicboz_zawrs_svinval")
    }
    /// Zfa's FLI, FMINM/FMAXM, FROUND/FROUNDNX, FCVTMOD.W.D and FLEQ/FLTQ, with their flags.
    func testZfa() throws { try runProgram("zfa", cpu: "max", clangMarch: "rv64gc_zfa_zfh") }
    /// Svade (A/D faults) and Svadu (menvcfg/henvcfg.ADUE) for S-mode, G-stage and VS-stage translation;
    /// with svadu=off, ADUE is read-only zero and the faults stay.
    func testSvadeAndSvadu() throws {
        try runProgram("svade", hypervisor: true, cpu: "max", defines: ["SVADU=1"])
        try runProgram("svade", hypervisor: true, cpu: "max,svadu=off", defines: ["SVADU=0"])
    }
    /// Smstateen/Ssstateen: the gates on sstateen0/hstateen0/senvcfg/henvcfg from HS- and VS-mode, and the
    /// read-only bits (QEMU 7.2 has no Smstateen to compare with: checked against the spec).
    func testStateEnables() throws { try runProgram("stateen", hypervisor: true, cpu: "max") }
    /// Pointer masking (Smnpm, Ssnpm) for S, U, VS and HLV as VU, virtual and physical, with PMLEN 7 and 16
    /// (QEMU 7.2 has no pointer masking: checked against the spec).
    func testPointerMasking() throws { try runProgram("pointer_masking", hypervisor: true, cpu: "max") }
    /// V's privileged side and traps: mstatus/vsstatus.VS, faults part-way through loads and stores
    /// (vstart), fault-only-first, vill, vcsr.
    func testVectorTrapsAndState() throws { try runProgram("vector", hypervisor: true, cpu: "max") }
    /// Sscofpmf: mhpmevent counting and mode filters, mcountinhibit, overflow (OF, scountovf, LCOFI).
    func testCounterOverflowAndFilters() throws { try runProgram("sscofpmf", cpu: "max") }
    /// The base programs see no difference with every extension on.
    func testProgramsOnTheMaxCPU() throws {
        for name in ["rv64i", "rv64m", "rv64a", "rvc", "csr_traps", "mmu", "tlb", "fpu"] { try runProgram(name, cpu: "max") }
    }
    /// Every program passes on hart 0 while three more harts, each on its own host thread, run AMOs,
    /// LR/SC, device reads and FENCE.I beside it (`--threads per-hart`).
    func testProgramsBesideBusyHartsOnHostThreads() throws {
        for name in ["rv64i", "rv64m", "rv64a", "rvc", "csr_traps", "counters", "counter_writes", "interrupts", "mmu",
                     "tlb_contexts", "pmp", "fpu", "tlb"] {
            try runProgram(name, busyHarts: 3)
        }
        for name in ["hext", "hext_tlb"] { try runProgram(name, hypervisor: true, busyHarts: 3) }
        try runProgram("aia", hypervisor: true, aia: .aplicIMSIC, busyHarts: 3)
        try runProgram("extensions", cpu: "max", clangMarch: "rv64gc_zicond_zcb_zba_zbb_zimop_zcmop_zicbom_zicboz_zawrs_svinval",
                       busyHarts: 3)
        try runProgram("zfa", cpu: "max", clangMarch: "rv64gc_zfa_zfh", busyHarts: 3)
        try runProgram("svade", hypervisor: true, cpu: "max", defines: ["SVADU=1"], busyHarts: 3)
        for name in ["stateen", "pointer_masking", "vector"] { try runProgram(name, hypervisor: true, cpu: "max", busyHarts: 3) }
        try runProgram("sscofpmf", cpu: "max", busyHarts: 3)
    }

    /// The H extension must not change what the other programs observe.
    func testProgramsWithHypervisorEnabled() throws {
        for name in ["rv64i", "rv64m", "rv64a", "rvc", "csr_traps", "counters", "interrupts", "mmu", "pmp", "fpu", "tlb"] {
            try runProgram(name, hypervisor: true)
        }
    }
}
