import XCTest
import Machine
import Platform
import RISCV

/// Random straight-line integer code run in a hot loop, once interpreted and once with the JIT:
/// every register and the data area must come out identical.
final class JITDifferentialTests: XCTestCase {
    struct RNG {
        var s: UInt64
        mutating func next() -> UInt64 {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return s
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static func r(_ f7: UInt32, _ rs2: UInt32, _ rs1: UInt32, _ f3: UInt32, _ rd: UInt32, _ op: UInt32) -> UInt32 {
        f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
    }
    static func i(_ imm: Int32, _ rs1: UInt32, _ f3: UInt32, _ rd: UInt32, _ op: UInt32) -> UInt32 {
        (UInt32(bitPattern: imm) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
    }
    static func s(_ imm: Int32, _ rs2: UInt32, _ rs1: UInt32, _ f3: UInt32) -> UInt32 {
        let u = UInt32(bitPattern: imm) & 0xfff
        return (u >> 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 31) << 7 | 0x23
    }
    static func b(_ imm: Int32, _ rs2: UInt32, _ rs1: UInt32, _ f3: UInt32) -> UInt32 {
        let u = UInt32(bitPattern: imm)
        return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63
    }

    static let codeBase: UInt64 = 0x8000_0000
    static let dataBase: UInt64 = 0x8010_0000
    static let dataReg: UInt32 = 20, counterReg: UInt32 = 31

    /// One random translatable instruction on registers x1..x15 (x0 as a destination too).
    static func randomInstruction(_ g: inout RNG) -> UInt32 {
        func reg() -> UInt32 { UInt32(g.below(16)) }
        let rd = reg(), rs1 = reg(), rs2 = reg()
        let imm = Int32(g.below(4096)) - 2048
        switch g.below(9) {
        case 0, 1:
            let ops: [(UInt32, UInt32)] = [(0, 0), (0, 0x20), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (5, 0x20), (6, 0), (7, 0),
                                           (0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1)]
            let (f3, f7) = ops[g.below(ops.count)]
            return r(f7, rs2, rs1, f3, rd, 0x33)
        case 2:
            let ops: [(UInt32, UInt32)] = [(0, 0), (0, 0x20), (1, 0), (5, 0), (5, 0x20), (0, 1), (4, 1), (5, 1), (6, 1), (7, 1)]
            let (f3, f7) = ops[g.below(ops.count)]
            return r(f7, rs2, rs1, f3, rd, 0x3b)
        case 3:
            let f3 = [0, 2, 3, 4, 6, 7][g.below(6)]
            return i(imm, rs1, UInt32(f3), rd, 0x13)
        case 4:
            let sh = Int32(g.below(64))
            switch g.below(3) {
            case 0: return i(sh, rs1, 1, rd, 0x13)
            case 1: return i(sh, rs1, 5, rd, 0x13)
            default: return i(sh | 0x400, rs1, 5, rd, 0x13)
            }
        case 5:
            let sh = Int32(g.below(32))
            switch g.below(4) {
            case 0: return i(imm, rs1, 0, rd, 0x1b)
            case 1: return i(sh, rs1, 1, rd, 0x1b)
            case 2: return i(sh, rs1, 5, rd, 0x1b)
            default: return i(sh | 0x400, rs1, 5, rd, 0x1b)
            }
        case 6:
            let f3 = UInt32(g.below(7)), size = [1, 2, 4, 8, 1, 2, 4][Int(f3)]
            let off = Int32(g.below(2040 / size) * size)
            return i(off, dataReg, f3, rd, 0x03)
        case 7:
            let f3 = UInt32(g.below(4)), size = 1 << Int(f3)
            let off = Int32(g.below(2040 / size) * size)
            return s(off, rs2, dataReg, f3)
        default:
            return g.below(2) == 0 ? UInt32(g.below(1 << 20)) << 12 | rd << 7 | 0x37 : UInt32(g.below(1 << 20)) << 12 | rd << 7 | 0x17
        }
    }

    func run(program: [UInt32], registers: [UInt64], jit: Bool, counter: UInt64 = 12) throws -> (regs: [UInt64], data: [UInt8], reason: ExitReason, compiled: Int) {
        var config = MachineConfig()
        config.memorySize = 16 << 20
        config.firmware = .none
        let m = try Machine(config: config)
        m.code.jitEnabled = jit
        let bytes = program.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        XCTAssertTrue(m.ram.copyIn(JITDifferentialTests.codeBase, bytes))
        let h = m.harts[0]
        h.reset(pc: JITDifferentialTests.codeBase)
        for (n, v) in registers.enumerated() { h.x[n + 1] = v }
        h.x[Int(JITDifferentialTests.dataReg)] = JITDifferentialTests.dataBase
        h.x[Int(JITDifferentialTests.counterReg)] = counter
        let reason = m.run(maxInstructions: 1_000_000)
        return ((0..<32).map { h.x[$0] }, m.ram.copyOut(JITDifferentialTests.dataBase, 2048)!, reason, m.code.jit?.compiledBlocks ?? 0)
    }

    func testRandomIntegerBlocksMatchTheInterpreter() throws {
        var g = RNG(s: 0x9e37_79b9_7f4a_7c15)
        let specials: [UInt64] = [0, 1, .max, 1 << 63, (1 << 63) - 1, 0x8000_0000, 0xffff_ffff_8000_0000, 0x7fff_ffff, 0xffff_ffff, 2, 3]
        for round in 0..<150 {
            var program: [UInt32] = []
            let length = 1 + g.below(40)
            for _ in 0..<length { program.append(JITDifferentialTests.randomInstruction(&g)) }
            // addi x31, x31, -1; bne x31, x0, start; then power off through sifive_test.
            program.append(JITDifferentialTests.i(-1, 31, 0, 31, 0x13))
            program.append(JITDifferentialTests.b(-Int32(4 * (program.count)), 0, 31, 1))
            program += [0x0010_0f37, 0x0000_5eb7, JITDifferentialTests.i(0x555, 29, 0, 29, 0x13), JITDifferentialTests.s(0, 29, 30, 2)]
            let regs = (0..<15).map { _ in g.below(3) == 0 ? specials[g.below(specials.count)] : g.next() }
            let slow = try run(program: program, registers: regs, jit: false)
            let fast = try run(program: program, registers: regs, jit: true)
            XCTAssertEqual(slow.reason, .powerOff(code: 0), "round \(round): interpreter did not finish")
            XCTAssertEqual(fast.reason, .powerOff(code: 0), "round \(round): JIT run did not finish")
            for n in 0..<32 where slow.regs[n] != fast.regs[n] {
                XCTFail(String(format: "round %d: x%d interpreter %016llx JIT %016llx; program %@", round, n, slow.regs[n], fast.regs[n],
                               program.map { String(format: "%08x", $0) }.joined(separator: " ")))
            }
            XCTAssertEqual(slow.data, fast.data, "round \(round): data area differs")
            XCTAssertGreaterThan(fast.compiled, 0, "round \(round): the JIT compiled nothing")
            XCTAssertEqual(slow.compiled, 0)
        }
    }

    /// Runs `program` on `harts` harts at once, each with its own data area (x20) and loop counter,
    /// then counts itself done with an AMO; the last hart done powers off. Threaded: every hart on its
    /// own host thread with its own JIT; otherwise interleaved on one thread and interpreted.
    func runOnHarts(_ harts: Int, program body: [UInt32], registers: [UInt64], threaded: Bool, counter: UInt64)
        throws -> (regs: [[UInt64]], data: [[UInt8]], reason: ExitReason, compiled: Int) {
        var config = MachineConfig()
        config.memorySize = 16 << 20
        config.firmware = .none
        config.harts = harts
        let m = try Machine(config: config)
        m.threadPerHart = threaded
        for c in m.codeCaches { c.jitEnabled = threaded }
        let doneCounter = JITDifferentialTests.dataBase - 64
        // amoadd.w x28, x27, (x26); addi x25, x0, harts-1; bne x28, x25, park; power off; park: wfi; j park
        var program = body
        program += [JITDifferentialTests.r(0, 27, 26, 2, 28, 0x2f), JITDifferentialTests.i(Int32(harts - 1), 0, 0, 25, 0x13),
                    JITDifferentialTests.b(20, 25, 28, 1),
                    0x0010_0f37, 0x0000_5eb7, JITDifferentialTests.i(0x555, 29, 0, 29, 0x13), JITDifferentialTests.s(0, 29, 30, 2),
                    0x1050_0073, JITDifferentialTests.jal(-4, 0)]
        let bytes = program.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        XCTAssertTrue(m.ram.copyIn(JITDifferentialTests.codeBase, bytes))
        for h in m.harts {
            h.reset(pc: JITDifferentialTests.codeBase)
            for (n, v) in registers.enumerated() { h.x[n + 1] = v }
            h.x[Int(JITDifferentialTests.dataReg)] = JITDifferentialTests.dataBase + UInt64(h.id) * 4096
            h.x[Int(JITDifferentialTests.counterReg)] = counter
            h.x[26] = doneCounter
            h.x[27] = 1
            h.running = true
        }
        let reason = m.run(maxInstructions: 50_000_000)
        return (m.harts.map { h in (0..<32).map { h.x[$0] } },
                m.harts.map { m.ram.copyOut(JITDifferentialTests.dataBase + UInt64($0.id) * 4096, 2048)! },
                reason, m.codeCaches.reduce(0) { $0 + ($1.jit?.compiledBlocks ?? 0) })
    }

    /// The random blocks translated and run by four harts on four host threads at once (each hart its
    /// own code cache and JIT) end exactly as the interpreter leaves them with the harts interleaved.
    func testRandomBlocksOnFourHostThreadsMatchTheInterpreter() throws {
        var g = RNG(s: 0x2545_f491_4f6c_dd1d)
        for round in 0..<40 {
            var program: [UInt32] = []
            for _ in 0..<(1 + g.below(40)) { program.append(JITDifferentialTests.randomInstruction(&g)) }
            program.append(JITDifferentialTests.i(-1, 31, 0, 31, 0x13))
            program.append(JITDifferentialTests.b(-Int32(4 * (program.count)), 0, 31, 1))
            let regs = (0..<15).map { _ in g.next() }
            let slow = try runOnHarts(4, program: program, registers: regs, threaded: false, counter: 5000)
            let fast = try runOnHarts(4, program: program, registers: regs, threaded: true, counter: 5000)
            XCTAssertEqual(slow.reason, .powerOff(code: 0), "round \(round): interleaved interpreter did not finish")
            XCTAssertEqual(fast.reason, .powerOff(code: 0), "round \(round): threaded JIT run did not finish")
            XCTAssertEqual(slow.compiled, 0)
            XCTAssertGreaterThanOrEqual(fast.compiled, 4, "round \(round): every hart's JIT compiles the loop")
            for hart in 0..<4 {
                // x28 (the AMO's old value), x29 and x30 (the power-off) depend on which hart finished last.
                for n in 0..<32 where ![28, 29, 30].contains(n) && slow.regs[hart][n] != fast.regs[hart][n] {
                    XCTFail(String(format: "round %d hart %d: x%d interpreter %016llx threaded JIT %016llx", round, hart, n,
                                   slow.regs[hart][n], fast.regs[hart][n]))
                }
                XCTAssertEqual(slow.data[hart], fast.data[hart], "round \(round) hart \(hart): data area differs")
                XCTAssertEqual(fast.regs[hart][1...15], fast.regs[0][1...15], "round \(round): harts with the same input differ")
            }
        }
    }

    static func jal(_ imm: Int32, _ rd: UInt32) -> UInt32 {
        let u = UInt32(bitPattern: imm)
        return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 | ((u >> 12) & 0xff) << 12 | rd << 7 | 0x6f
    }

    /// Calls to another page and returns (JAL across pages, JALR through ra) leave a block through the
    /// fetch-TLB lookup that jumps straight into the target's block: the result must match the
    /// interpreter's, for a loop long enough that every block is hot.
    func testCallsAndReturnsAcrossPagesMatchTheInterpreter() throws {
        var program = [UInt32](repeating: 0x0000_0013, count: 1024 + 6)   // nops
        program[0] = JITDifferentialTests.jal(4096, 1)                          // jal ra, func (next page)
        program[1] = JITDifferentialTests.i(-1, 31, 0, 31, 0x13)                // addi x31, x31, -1
        program[2] = JITDifferentialTests.b(-8, 0, 31, 1)                       // bne x31, x0, 0
        program[3] = 0x0010_0f37                                                // lui x30, 0x100 (sifive_test)
        program[4] = 0x0000_5eb7                                                // lui x29, 5
        program[5] = JITDifferentialTests.i(0x555, 29, 0, 29, 0x13)
        program[6] = JITDifferentialTests.s(0, 29, 30, 2)                       // pass
        program[1024] = JITDifferentialTests.r(0, 31, 5, 0, 5, 0x33)            // func: add x5, x5, x31
        program[1025] = JITDifferentialTests.i(0x55, 5, 4, 6, 0x13)             //   xori x6, x5, 0x55
        program[1026] = JITDifferentialTests.i(3, 6, 1, 7, 0x13)                //   slli x7, x6, 3
        program[1027] = JITDifferentialTests.r(0, 7, 5, 0, 5, 0x33)             //   add x5, x5, x7
        program[1028] = JITDifferentialTests.i(0, 1, 0, 0, 0x67)                //   jalr x0, 0(ra)
        var regs = [UInt64](repeating: 0, count: 15)
        regs[4] = 7   // x5
        let slow = try run(program: program, registers: regs, jit: false, counter: 5000)
        let fast = try run(program: program, registers: regs, jit: true, counter: 5000)
        XCTAssertEqual(slow.reason, .powerOff(code: 0))
        XCTAssertEqual(fast.reason, .powerOff(code: 0))
        XCTAssertEqual(slow.regs, fast.regs, "registers after 5000 calls across pages")
        XCTAssertNotEqual(slow.regs[5], 7, "the function never ran")
        XCTAssertGreaterThanOrEqual(fast.compiled, 3, "caller, loop and callee blocks")
    }

    func testJITActuallyCompilesTheLoop() throws {
        var config = MachineConfig()
        config.memorySize = 16 << 20
        config.firmware = .none
        let m = try Machine(config: config)
        let program: [UInt32] = [JITDifferentialTests.r(0, 2, 1, 0, 1, 0x33),   // add x1, x1, x2
                                 JITDifferentialTests.i(-1, 31, 0, 31, 0x13),
                                 JITDifferentialTests.b(-8, 0, 31, 1),
                                 0x0010_0f37, 0x0000_5eb7, JITDifferentialTests.i(0x555, 29, 0, 29, 0x13), JITDifferentialTests.s(0, 29, 30, 2)]
        let bytes = program.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        m.ram.copyIn(JITDifferentialTests.codeBase, bytes)
        let h = m.harts[0]
        h.reset(pc: JITDifferentialTests.codeBase)
        h.x[2] = 3
        h.x[31] = 1000
        XCTAssertEqual(m.run(maxInstructions: 1_000_000), .powerOff(code: 0))
        XCTAssertEqual(h.x[1], 3000)
        XCTAssertGreaterThan(m.code.jit?.compiledBlocks ?? 0, 0, "the JIT never compiled the hot loop")
    }
}
