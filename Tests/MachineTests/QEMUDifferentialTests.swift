import XCTest
import Foundation
import Machine

/// Random instruction sequences run bare-metal under QEMU 7.2 (the oracle) and under Matryoshka: every
/// block of random instructions starts from random register values and ends by printing x5..x31 on
/// the UART; the two transcripts must be identical. A trap prints its cause, pc and tval and ends the
/// run, so an instruction one side does not implement shows up as a difference too.
final class QEMUDifferentialTests: XCTestCase {
    typealias RNG = JITDifferentialTests.RNG

    /// Register values that reach the edge cases: zero, all ones, sign bits, single bits, small numbers.
    static func randomValue(_ g: inout RNG) -> UInt64 {
        switch g.below(8) {
        case 0: return [0, 1, UInt64.max, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff, 0x8000_0000, 0xffff_ffff, 0x7fff_ffff][g.below(8)]
        case 1: return 1 << UInt64(g.below(64))
        case 2: return ~(1 << UInt64(g.below(64)))
        case 3: return UInt64(g.below(128))
        case 4: return UInt64(bitPattern: -Int64(g.below(128)))
        case 5: return g.next() & 0xffff_ffff
        case 6: return g.next() & 0xff00_ff00_00ff_00ff
        default: return g.next()
        }
    }

    /// print_hex (a0 as 16 hex digits and a newline on the UART; returns to t2; clobbers a1-a4) and the
    /// trap handler's start, which prints "T", mcause, mepc and mtval (the program adds the rest).
    static let printHexAndTrap = """
        # Prints a0 as 16 hex digits and a newline; returns to t2. Clobbers a1-a4.
        print_hex:
            li a1, 0x10000000
            li a2, 60
        3:  srl a3, a0, a2
            andi a3, a3, 15
            li a4, 10
            blt a3, a4, 4f
            addi a3, a3, 39
        4:  addi a3, a3, 48
            sb a3, 0(a1)
            addi a2, a2, -4
            bgez a2, 3b
            li a3, 10
            sb a3, 0(a1)
            jr t2

            .align 2
        trap:
            li a1, 0x10000000
            li a3, 84
            sb a3, 0(a1)
            li a3, 10
            sb a3, 0(a1)
            csrr a0, mcause
            jal t2, print_hex
            csrr a0, mepc
            jal t2, print_hex
            csrr a0, mtval
            jal t2, print_hex
        """

    /// Registers the random code uses: t0-t6, s0-s11, a0-a7 (x5..x31); gp holds the dump buffer.
    static func reg(_ g: inout RNG) -> String { "x\(5 + g.below(27))" }

    static let binary = ["andn", "orn", "xnor", "min", "minu", "max", "maxu", "rol", "ror", "rolw", "rorw",
                         "sh1add", "sh2add", "sh3add", "sh1add.uw", "sh2add.uw", "sh3add.uw", "add.uw",
                         "clmul", "clmulh", "clmulr", "bclr", "bext", "binv", "bset",
                         "add", "sub", "xor", "sllw", "sraw", "mul", "mulhsu"]
    /// ctzw is left out: QEMU 7.2 counts all 64 bits when the low word is zero (ctzw of 1 << 40 gives 40, the
    /// spec 32); extensions.S checks it against the spec instead.
    static let unary = ["clz", "clzw", "ctz", "cpop", "cpopw", "sext.b", "sext.h", "zext.h", "orc.b", "rev8"]
    static let immediate: [(String, Int)] = [("rori", 64), ("roriw", 32), ("slli.uw", 64), ("bclri", 64), ("bexti", 64),
                                             ("binvi", 64), ("bseti", 64), ("addi", 2048), ("srai", 64)]

    /// The start of a program: the trap handler installed, gp at the dump buffer, the FPU on when asked.
    static func prologue(fp: Bool) -> String {
        """
        .section .text.init
        .globl _start
        _start:
            la t0, trap
            csrw mtvec, t0
        \(fp ? "    li t0, 0x6000\n    csrs mstatus, t0\n" : "")    la gp, dump

        """
    }

    /// The program: `blocks` blocks of `length` random Zba/Zbb/Zbc/Zbs (and a few base) instructions.
    /// tp (the repeat count), gp and ra are never written by the random code.
    static func program(seed: UInt64, blocks: Int, length: Int, repeats: Int = 12) -> String {
        var g = RNG(s: seed &* 0x9e37_79b9_7f4a_7c15 | 1)
        var s = prologue(fp: false)
        for _ in 0..<blocks {
            // Each block runs `repeats` times from the same values (tp counts), so the JIT compiles it.
            s += "    li tp, \(repeats)\n1:\n"
            for r in 5...31 { s += "    li x\(r), 0x\(String(randomValue(&g), radix: 16))\n" }
            for _ in 0..<length {
                switch g.below(10) {
                case 0...5:
                    let op = binary[g.below(binary.count)]
                    s += "    \(op) \(reg(&g)), \(reg(&g)), \(reg(&g))\n"
                case 6, 7:
                    s += "    \(unary[g.below(unary.count)]) \(reg(&g)), \(reg(&g))\n"
                default:
                    let (op, range) = immediate[g.below(immediate.count)]
                    let imm = op == "addi" ? g.below(range) - 1024 : g.below(range)
                    s += "    \(op) \(reg(&g)), \(reg(&g)), \(imm)\n"
                }
            }
            s += "    addi tp, tp, -1\n    bnez tp, 1b\n"
            s += "    jal ra, print_registers\n"
        }
        s += """
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            1:  j 1b

            # Stores x5..x31 at gp, then prints each as 16 hex digits and a newline.
            print_registers:

            """
        for r in 5...31 { s += "    sd x\(r), \((r - 5) * 8)(gp)\n" }
        s += """
                li t0, 0
            2:  add t1, gp, t0
                ld a0, 0(t1)
                jal t2, print_hex
                addi t0, t0, 8
                li t1, 216
                bltu t0, t1, 2b
                ret

            \(printHexAndTrap)
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            5:  j 5b

            .data
            dump: .space 256

            """
        return s
    }

    /// A 64-bit pattern for the FP registers: half, single and double values near the half-precision range
    /// (normal, subnormal, overflowing), exact ties, and the special values, besides random bits.
    static func randomFPValue(_ g: inout RNG) -> UInt64 {
        let scale = [1.0, 1.0 / 1024, 1.0 / 65536, 1.0 / 16_777_216, 64, 65504, 70000, 3.0e-5, 6.0e-8][g.below(9)]
        let v = (Double(Int64(bitPattern: g.next()) >> 11) / Double(1 << 52)) * scale
        switch g.below(6) {
        case 0: return v.bitPattern
        case 1: return 0xffff_ffff_0000_0000 | UInt64(Float(v).bitPattern)
        case 2: return 0xffff_ffff_ffff_0000 | UInt64(Float16(Float(v)).bitPattern)
        case 3: return 0xffff_ffff_ffff_0000 | UInt64(g.next() & 0xffff)   // any half, NaNs included
        case 4: return [0x7ff0_0000_0000_0000, 0xfff8_0000_0000_0001, 0x7ff4_0000_0000_0000, 0xffff_ffff_7f80_0001,
                        0xffff_ffff_ffff_7c01, 0xffff_ffff_ffff_fc00, 0x0000_0000_0000_3c00, 0x3f10_0400_0000_0000][g.below(8)]
        default: return g.next()
        }
    }

    /// A NaN-boxed half of any magnitude from overflow (infinity) down to the subnormals.
    static func randomHalf(_ g: inout RNG) -> UInt64 {
        let v = Double(Int64(bitPattern: g.next()) >> 40) / Double(UInt64(1) << UInt64(g.below(40)))
        return 0xffff_ffff_ffff_0000 | UInt64(Float16(Float(v)).bitPattern)
    }

    /// Zfhmin blocks: FP registers set from x registers, random half-precision conversions (every static
    /// rounding mode and the dynamic one), moves, and loads/stores; then f0..f15 and fflags go to x5..x21.
    /// With `zfh`, also Zfh's arithmetic, fused multiply-adds, sign injection, min/max, comparisons,
    /// classification and integer conversions (integer results go through t1 into an f register).
    static func halfProgram(seed: UInt64, blocks: Int, length: Int, zfh: Bool = false) -> String {
        var g = RNG(s: seed &* 0x9e37_79b9_7f4a_7c15 | 1)
        var s = prologue(fp: true)
        let modes = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"]
        func f(_ g: inout RNG) -> String { "f\(g.below(16))" }
        func rm(_ g: inout RNG) -> String { modes[g.below(6)] }
        for _ in 0..<blocks {
            s += "    csrw fcsr, zero\n"
            s += "    li t0, \(g.below(5))\n    fsrm t0\n"   // the mode "dyn" takes
            for r in 0..<16 {
                // Zfh's arithmetic needs NaN-boxed halves on both sides to show anything but the canonical NaN.
                let v = zfh && g.below(4) != 0 ? randomHalf(&g) : randomFPValue(&g)
                s += "    li t0, 0x\(String(v, radix: 16))\n    fmv.d.x f\(r), t0\n"
            }
            for _ in 0..<length {
                if zfh && g.below(3) != 0 {
                    switch g.below(12) {
                    case 0, 1:
                        let op = ["fadd.h", "fsub.h", "fmul.h", "fdiv.h"][g.below(4)]
                        s += "    \(op) \(f(&g)), \(f(&g)), \(f(&g)), \(rm(&g))\n"
                    case 2: s += "    fsqrt.h \(f(&g)), \(f(&g)), \(rm(&g))\n"
                    case 3, 4:
                        let op = ["fmadd.h", "fmsub.h", "fnmadd.h", "fnmsub.h"][g.below(4)]
                        s += "    \(op) \(f(&g)), \(f(&g)), \(f(&g)), \(f(&g)), \(rm(&g))\n"
                    case 5: s += "    \(["fsgnj.h", "fsgnjn.h", "fsgnjx.h", "fmin.h", "fmax.h"][g.below(5)]) \(f(&g)), \(f(&g)), \(f(&g))\n"
                    case 6, 7:
                        let op = ["fcvt.w.h", "fcvt.wu.h", "fcvt.l.h", "fcvt.lu.h"][g.below(4)]
                        s += "    \(op) t1, \(f(&g)), \(rm(&g))\n    fmv.d.x \(f(&g)), t1\n"
                    case 8, 9:
                        let op = ["fcvt.h.w", "fcvt.h.wu", "fcvt.h.l", "fcvt.h.lu"][g.below(4)]
                        let v = [g.next(), g.next() >> UInt64(g.below(64)), UInt64(bitPattern: -Int64(g.below(70000))), UInt64(g.below(70000))][g.below(4)]
                        s += "    li t1, 0x\(String(v, radix: 16))\n    \(op) \(f(&g)), t1, \(rm(&g))\n"
                    case 10: s += "    \(["feq.h", "flt.h", "fle.h"][g.below(3)]) t1, \(f(&g)), \(f(&g))\n    fmv.d.x \(f(&g)), t1\n"
                    default: s += "    fclass.h t1, \(f(&g))\n    fmv.d.x \(f(&g)), t1\n"
                    }
                    continue
                }
                switch g.below(9) {
                case 0: s += "    fcvt.s.h \(f(&g)), \(f(&g))\n"
                case 1: s += "    fcvt.d.h \(f(&g)), \(f(&g))\n"
                case 2, 3: s += "    fcvt.h.s \(f(&g)), \(f(&g)), \(modes[g.below(6)])\n"
                case 4, 5: s += "    fcvt.h.d \(f(&g)), \(f(&g)), \(modes[g.below(6)])\n"
                case 6: s += "    fmv.x.h t1, \(f(&g))\n    fmv.h.x \(f(&g)), t1\n"
                case 7: s += "    fsh \(f(&g)), 8(gp)\n    flh \(f(&g)), 8(gp)\n"
                default: s += "    fcvt.s.d \(f(&g)), \(f(&g)), \(modes[g.below(6)])\n"
                }
            }
            for r in 0..<16 { s += "    fmv.x.d x\(5 + r), f\(r)\n" }
            s += "    frflags x21\n"
            for r in 22...31 { s += "    li x\(r), 0\n" }
            s += "    jal ra, print_registers\n"
        }
        // The tail (exit, register printing, trap handler, dump buffer) is the bit-manipulation program's.
        let tail = program(seed: 0, blocks: 0, length: 0)
        return s + tail[tail.range(of: "    li t0, 0x100000")!.lowerBound...]
    }

    /// Double-precision fused multiply-adds with every rounding mode: random values, and operands whose
    /// exact result is representable, a tie (1+2^-26)(1+2^-27) = 1 + 3*2^-27 + 2^-53, or cancels.
    static func fmaProgram(seed: UInt64, blocks: Int, length: Int) -> String {
        var g = RNG(s: seed &* 0x9e37_79b9_7f4a_7c15 | 1)
        var s = prologue(fp: true)
        let modes = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"]
        let special: [Double] = [1 + 0x1p-26, 1 + 0x1p-27, -(1 + 0x1p-27), 1 - 0x1p-53, 3, -1, 0x1p-30, 1 + 0x1p-52, -(1 + 0x1p-26 + 0x1p-27), 0x1p-53, -0x1p-53, 0x1p-1000, 0x1p1000]
        for _ in 0..<blocks {
            s += "    csrw fcsr, zero\n    li t0, \(g.below(5))\n    fsrm t0\n"
            for r in 0..<16 {
                let v = g.below(2) == 0 ? special[g.below(special.count)].bitPattern : randomFPValue(&g)
                s += "    li t0, 0x\(String(v, radix: 16))\n    fmv.d.x f\(r), t0\n"
            }
            for _ in 0..<length {
                let op = ["fmadd.d", "fmsub.d", "fnmadd.d", "fnmsub.d"][g.below(4)]
                s += "    \(op) f\(g.below(16)), f\(g.below(16)), f\(g.below(16)), f\(g.below(16)), \(modes[g.below(6)])\n"
            }
            for r in 0..<16 { s += "    fmv.x.d x\(5 + r), f\(r)\n" }
            s += "    frflags x21\n"
            for r in 22...31 { s += "    li x\(r), 0\n" }
            s += "    jal ra, print_registers\n"
        }
        let tail = program(seed: 0, blocks: 0, length: 0)
        return s + tail[tail.range(of: "    li t0, 0x100000")!.lowerBound...]
    }

    func testDoubleFusedMultiplyAddMatchesQEMU() throws {
        for seed: UInt64 in 1...6 {
            try compareWithQEMU(QEMUDifferentialTests.fmaProgram(seed: seed, blocks: 60, length: 16), march: "rv64gc",
                                qemuCPU: "rv64", blocks: 60, jit: [false], what: "fmadd.d, seed \(seed)")
        }
    }

    /// Zfhmin conversions, moves, loads and stores, with every rounding mode and the flags they raise,
    /// against QEMU 7.2's (which implements Zfhmin with softfloat).
    func testHalfPrecisionMatchesQEMU() throws {
        for seed: UInt64 in 1...4 {
            try compareWithQEMU(QEMUDifferentialTests.halfProgram(seed: seed, blocks: 50, length: 24), march: "rv64gc_zfhmin",
                                qemuCPU: "rv64,Zfhmin=true", blocks: 50, jit: [true], what: "half precision, seed \(seed)")
        }
        // Zfh's arithmetic, comparisons and integer conversions.
        for seed: UInt64 in 11...14 {
            try compareWithQEMU(QEMUDifferentialTests.halfProgram(seed: seed, blocks: 50, length: 24, zfh: true), march: "rv64gc_zfh",
                                qemuCPU: "rv64,Zfh=true", blocks: 50, jit: [true], what: "Zfh, seed \(seed)")
        }
        try compareTrapWithQEMU(QEMUDifferentialTests.halfProgram(seed: 19, blocks: 1, length: 8, zfh: true), march: "rv64gc_zfh",
                                qemuCPU: "rv64,Zfhmin=true", cpu: "max,zfh=off", what: "zfh off")
        // Without Zfhmin both trap on the first half-precision instruction.
        try compareTrapWithQEMU(QEMUDifferentialTests.halfProgram(seed: 9, blocks: 1, length: 8), march: "rv64gc_zfhmin",
                                qemuCPU: "rv64", cpu: "max,zfh=off,zfhmin=off", what: "zfhmin off")
    }

    /// Assembles `source`, runs it under QEMU with `qemuCPU` (its transcript must hold `blocks` full register
    /// dumps) and under Matryoshka's `max` CPU once per JIT setting, and compares the transcripts.
    func compareWithQEMU(_ source: String, march: String, qemuCPU: String, blocks: Int, jit: [Bool], what: String) throws {
        let elf = try compile(source, march: march)
        let expected = try qemuTranscript(elf, cpu: qemuCPU)
        XCTAssertEqual(expected.split(separator: "\n").count, blocks * 27, "QEMU's transcript is incomplete:\n\(expected.suffix(500))")
        for j in jit {
            assertSameTranscripts(expected, try matryoshkaTranscript(elf, cpu: "max", jit: j), "\(what), \(j ? "JIT" : "interpreter")", source: source)
        }
    }

    /// With the extension off on both sides, QEMU traps with an illegal instruction and Matryoshka's
    /// transcript (`cpu`) is the same.
    func compareTrapWithQEMU(_ source: String, march: String, qemuCPU: String, cpu: String, what: String) throws {
        let elf = try compile(source, march: march)
        let expected = try qemuTranscript(elf, cpu: qemuCPU)
        XCTAssertTrue(expected.contains("T\n0000000000000002\n"), "QEMU did not trap with an illegal instruction:\n\(expected)")
        assertSameTranscripts(expected, try matryoshkaTranscript(elf, cpu: cpu, jit: false), what, source: source)
    }

    func assertSameTranscripts(_ expected: String, _ actual: String, _ what: String, source: String) {
        guard expected != actual else { return }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let i = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
        // The block's code: the text between the previous dump call and the next.
        let blocks = source.components(separatedBy: "    jal ra, print_registers\n")
        let block = i / 27 < blocks.count ? blocks[i / 27].split(separator: "\n").filter { !$0.contains("li x") }.joined(separator: "\n") : "?"
        XCTFail("\(what): transcripts differ at line \(i + 1) (block \(i / 27 + 1), x\(5 + i % 27)): QEMU \(i < e.count ? String(e[i]) : "<end>"), "
                + "Matryoshka \(i < a.count ? String(a[i]) : "<end>") (\(e.count) and \(a.count) lines); the block:\n\(block)")
    }

    /// Zba, Zbb, Zbc and Zbs against QEMU's implementation of the same extensions.
    func testBitManipulationMatchesQEMU() throws {
        for seed: UInt64 in 1...8 {
            try compareWithQEMU(QEMUDifferentialTests.program(seed: seed, blocks: 60, length: 24), march: "rv64gc_zba_zbb_zbc_zbs",
                                qemuCPU: "rv64,zba=true,zbb=true,zbc=true,zbs=true", blocks: 60, jit: [false, true],
                                what: "seed \(String(seed, radix: 16))")
        }
    }

    /// With the extensions switched off, both sides trap on the first bit-manipulation instruction alike.
    func testBitManipulationOffTrapsAsQEMU() throws {
        try compareTrapWithQEMU(QEMUDifferentialTests.program(seed: 0x0ff, blocks: 2, length: 24), march: "rv64gc_zba_zbb_zbc_zbs",
                                qemuCPU: "rv64,zba=false,zbb=false,zbc=false,zbs=false", cpu: "rv64gc", what: "extensions off")
    }
}

/// Bare-metal programs assembled, then run under QEMU 7.2 and under Matryoshka (the differential tests).
extension XCTestCase {
    func compile(_ source: String, march: String) throws -> String {
        guard let cc = ISATests.findCompiler() else {
            let msg = "riscv64-linux-gnu-gcc not found: apt-get install gcc-riscv64-linux-gnu"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(msg) }
            throw XCTSkip(msg)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("matryoshka-diff-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("prog.S"), out = dir.appendingPathComponent("prog.elf").path
        try source.write(to: src, atomically: true, encoding: .utf8)
        let (status, text) = try run(cc, ["-Wl,--build-id=none", "-march=\(march)", "-mabi=lp64d", "-mcmodel=medany", "-nostdlib", "-nostartfiles", "-static",
                                         "-T", ISATests.programsDir.appendingPathComponent("link.ld").path, "-o", out, src.path])
        guard status == 0 else { XCTFail("assembling failed:\n\(text)"); throw XCTSkip("assembly failed") }
        return out
    }

    func run(_ tool: String, _ args: [String], timeout: TimeInterval = 60) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let killer = DispatchWorkItem { p.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The UART transcript of `elf` under QEMU 7.2 with the given -cpu.
    func qemuTranscript(_ elf: String, cpu: String) throws -> String {
        guard let qemu = ISATests.findTool("qemu-system-riscv64") else {
            let msg = "qemu-system-riscv64 not found: apt-get install qemu-system-misc (the reference for the differential tests)"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(msg) }
            throw XCTSkip(msg)
        }
        let (status, text) = try run(qemu, ["-M", "virt", "-cpu", cpu, "-m", "64M", "-bios", "none", "-kernel", elf,
                                            "-display", "none", "-monitor", "none", "-serial", "stdio"])
        XCTAssertEqual(status, 0, "QEMU failed:\n\(text.suffix(2000))")
        return text.replacingOccurrences(of: "\r", with: "")
    }

    /// The UART transcript of `elf` under Matryoshka with `--cpu cpu` (interpreter or JIT).
    func matryoshkaTranscript(_ elf: String, cpu: String, jit: Bool) throws -> String {
        var config = MachineConfig()
        config.memorySize = 64 << 20
        config.firmware = .none
        config.kernelPath = elf
        config.cpu = cpu
        let m = try Machine(config: config)
        m.code.jitEnabled = jit
        var console: [UInt8] = []
        m.consoleSink = { console.append(contentsOf: $0) }
        try m.boot()
        let r = m.run(maxInstructions: 200_000_000)
        XCTAssertEqual(r, .powerOff(code: 0))
        return String(decoding: console, as: UTF8.self).replacingOccurrences(of: "\r", with: "")
    }
}
