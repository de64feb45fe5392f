import XCTest
import Foundation
import Machine

/// The vector extension against QEMU 7.2 (`-cpu rv64,v=true,vlen=128`), the external oracle: blocks of
/// random vector instructions run bare-metal under both, each from the same random vector, integer and
/// FP registers and memory; after each block x5..x31, vl, vtype, vstart, vxsat, vxrm, fflags, f0..f31,
/// v0..v31 and a checksum of the scratch memory are printed, and the transcripts must be identical.
/// Each instruction family has its generator; `VectorProgram` does the rest.
final class VectorDifferentialTests: XCTestCase {
    typealias RNG = JITDifferentialTests.RNG

    /// Runs `blocks` blocks whose bodies `body` generates under both and compares the transcripts.
    func compareVectorBlocks(seed: UInt64, blocks: Int, what: String, qemuCPU: String = VectorProgram.qemuCPU,
                             cpu: String = "max", body: (inout VectorGenerator) -> String) throws {
        var v = VectorGenerator(g: RNG(s: seed &* 0x9e37_79b9_7f4a_7c15 | 1))
        let source = VectorProgram.program(blocks: blocks, generator: &v, body: body)
        let elf = try compile(source, march: "rv64gcv")
        let expected = try qemuTranscript(elf, cpu: qemuCPU)
        XCTAssertEqual(expected.split(separator: "\n").count, blocks * VectorProgram.linesPerBlock,
                       "\(what): QEMU's transcript is incomplete:\n\(expected.suffix(800))")
        let actual = try matryoshkaTranscript(elf, cpu: cpu, jit: true)
        VectorProgram.assertSame(expected, actual, what, source: source)
    }

    /// vsetvli/vsetivli/vsetvl with every SEW and LMUL (reserved ones included) and AVLs around VLMAX,
    /// with loads and stores so that a wrong vl shows in the registers.
    func testConfigurationMatchesQEMU() throws {
        for seed: UInt64 in 1...3 {
            try compareVectorBlocks(seed: seed, blocks: 30, what: "vset*, seed \(seed)") { v in
                var s = v.vset()
                for _ in 0..<12 {
                    switch v.below(4) {
                    case 0: s += "    li t2, \(VectorProgram.randomAVL(&v.g))\n    vsetvli x\(5 + v.below(3)), t2, \(VectorProgram.randomVtypeName(&v.g, legalOnly: false))\n"
                    case 1: s += "    vsetivli x\(5 + v.below(3)), \(v.below(32)), \(VectorProgram.randomVtypeName(&v.g, legalOnly: false))\n"
                    case 2:
                        let vtype = [v.below(0x100), v.below(0x800), Int(v.next() & 0xff) | 0x100][v.below(3)]
                        s += "    li t1, \(vtype)\n    li t2, \(VectorProgram.randomAVL(&v.g))\n    vsetvl x\(5 + v.below(3)), t2, t1\n"
                    default: s += "    " + v.vset() + "    " + v.unitStride()
                    }
                }
                return s
            }
        }
    }

    /// Unit-stride, strided, indexed and segment loads and stores, masked and not, and whole-register ones.
    func testLoadsAndStoresMatchQEMU() throws {
        for seed: UInt64 in 1...4 {
            try compareVectorBlocks(seed: seed, blocks: 40, what: "loads and stores, seed \(seed)") { v in
                var s = "    " + v.vset()
                for _ in 0..<10 {
                    var line: String
                    switch v.below(8) {
                    case 0: line = v.vset()
                    case 1, 2: line = v.unitStride()
                    case 3: line = v.strided()
                    case 4: line = v.indexed()
                    case 5: line = v.segment()
                    case 6: line = v.wholeRegister()
                    default: line = "\(["vlm.v", "vsm.v"][v.below(2)]) v\(v.below(32)), (s0)\n"
                    }
                    if !line.isEmpty { s += "    " + line }
                }
                return s
            }
        }
    }
}

/// Builds the bare-metal vector test programs (see `VectorDifferentialTests`).
enum VectorProgram {
    typealias RNG = JITDifferentialTests.RNG
    static let qemuCPU = "rv64,v=true,vlen=128,elen=64,vext_spec=v1.0"
    /// x5..x31, vl, vtype, vstart, vxsat, vxrm, fflags, f0..f31, v0..v31 (two lines each), memory checksum.
    static let linesPerBlock = 27 + 6 + 32 + 64 + 1
    /// Bytes of scratch memory at s0 (and s1 = s0 + 1024), which loads and stores use.
    static let scratchBytes = 4096

    static func lineName(_ i: Int) -> String {
        switch i {
        case 0..<27: return "x\(5 + i)"
        case 27..<33: return ["vl", "vtype", "vstart", "vxsat", "vxrm", "fflags"][i - 27]
        case 33..<65: return "f\(i - 33)"
        case 65..<129: return "v\((i - 65) / 2) \((i - 65) % 2 == 0 ? "low" : "high") 64 bits"
        default: return "scratch memory checksum"
        }
    }

    static let sews = ["e8", "e16", "e32", "e64"]
    static let lmuls = ["mf8", "mf4", "mf2", "m1", "m2", "m4", "m8"]
    static func randomAVL(_ g: inout RNG) -> Int {
        [0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, -1][g.below(20)]
    }

    /// A random vtype for vsetvli (any SEW and LMUL, reserved combinations too unless `legalOnly`).
    static func randomVtypeName(_ g: inout RNG, legalOnly: Bool = true) -> String {
        while true {
            let sew = g.below(4), lmul = g.below(7)
            // SEW > LMUL * ELEN sets vill: e16 at mf8, e32 at mf4 and below, e64 at mf2 and below.
            if legalOnly && lmul < 3 && (8 << sew) > (64 >> (3 - lmul)) { continue }
            return "\(sews[sew]), \(lmuls[lmul]), \(g.below(2) == 0 ? "ta" : "tu"), \(g.below(2) == 0 ? "ma" : "mu")"
        }
    }
}

/// Random vector code that stays legal: it tracks the vtype its last vsetvli chose, so register groups
/// are aligned to their EMUL and masked destinations avoid v0 (an illegal instruction would end the run).
struct VectorGenerator {
    typealias RNG = JITDifferentialTests.RNG
    var g: RNG
    /// SEW in bits and log2 of LMUL set by the last `vset()`.
    var sew = 8, lmulLog2 = 0

    mutating func below(_ n: Int) -> Int { g.below(n) }
    mutating func next() -> UInt64 { g.next() }

    /// A vsetvli to a random legal vtype and AVL (rd and AVL register from t0-t2); updates the state.
    /// `maxSEW`/`minSEW` limit the SEW; `maxLMULLog2` the LMUL (widening ops need room for 2*LMUL).
    mutating func vset(minSEW: Int = 8, maxSEW: Int = 64, maxLMULLog2: Int = 3) -> String {
        while true {
            let sewLog = g.below(4), lmul = g.below(7) - 3
            let sewBits = 8 << sewLog
            if sewBits < minSEW || sewBits > maxSEW || lmul > maxLMULLog2 { continue }
            if lmul < 0 && sewBits > (64 >> -lmul) { continue }
            sew = sewBits; lmulLog2 = lmul
            let name = "\(VectorProgram.sews[sewLog]), \(VectorProgram.lmuls[lmul + 3]), \(g.below(2) == 0 ? "ta" : "tu"), \(g.below(2) == 0 ? "ma" : "mu")"
            let rd = ["x0", "t0", "t1"][g.below(3)]
            if g.below(4) == 0 { return "vsetvli \(rd), x0, \(name)\n" }
            return "li t2, \(VectorProgram.randomAVL(&g))\n    vsetvli \(rd), t2, \(name)\n"
        }
    }
    /// ", v0.t" a third of the time.
    mutating func mask() -> String { g.below(3) == 0 ? ", v0.t" : "" }
    /// A register group of 2^emulLog2 registers (aligned), not v0 when `notV0`, and not overlapping
    /// any of `avoid` (start, count) groups.
    mutating func reg(emulLog2: Int? = nil, notV0: Bool = false, avoid: [(Int, Int)] = []) -> Int {
        let e = emulLog2 ?? lmulLog2
        let n = e > 0 ? 1 << e : 1
        for _ in 0..<100 {
            let r = n * g.below(32 / n)
            if notV0 && r == 0 { continue }
            if avoid.contains(where: { r < $0.0 + $0.1 && $0.0 < r + n }) { continue }
            return r
        }
        return 8 * n >= 32 ? 0 : 32 - n
    }
    /// Registers in a group of the current LMUL.
    var groupRegs: Int { lmulLog2 > 0 ? 1 << lmulLog2 : 1 }
    /// An integer register from the randomly set x5..x31 (never s0, s1: the scratch pointers).
    mutating func x() -> String { "x\([5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31][g.below(25)])" }
    /// An FP register.
    mutating func f() -> String { "f\(g.below(32))" }
    static let eews = [8, 16, 32, 64]

    // Loads and stores (the destination groups follow EMUL = EEW/SEW*LMUL).
    mutating func unitStride() -> String {
        let w = VectorGenerator.eews[g.below(4)]
        let emul = w.trailingZeroBitCount - sew.trailingZeroBitCount + lmulLog2
        guard emul >= -3, emul <= 3 else { return "" }
        let m = mask(), vd = reg(emulLog2: emul, notV0: !m.isEmpty)
        switch g.below(3) {
        case 0: return "vle\(w).v v\(vd), (s0)\(m)\n"
        case 1: return "vle\(w)ff.v v\(vd), (s1)\(m)\n"
        default: return "vse\(w).v v\(vd), (s1)\(m)\n"
        }
    }
    mutating func strided() -> String {
        let w = VectorGenerator.eews[g.below(4)]
        let emul = w.trailingZeroBitCount - sew.trailingZeroBitCount + lmulLog2
        guard emul >= -3, emul <= 3 else { return "" }
        let m = mask(), vd = reg(emulLog2: emul, notV0: !m.isEmpty)
        let stride = [0, 1, 8, -8, 24, 3, -16][g.below(7)]
        return "li t2, \(stride)\n    \(g.below(2) == 0 ? "vlse" : "vsse")\(w).v v\(vd), (s1), t2\(m)\n"
    }
    /// Indexed accesses: the index group is loaded from a table of in-range offsets first.
    mutating func indexed() -> String {
        let w = VectorGenerator.eews[g.below(4)]
        let indexEMUL = w.trailingZeroBitCount - sew.trailingZeroBitCount + lmulLog2
        guard indexEMUL >= -3, indexEMUL <= 3 else { return "" }
        let vi = reg(emulLog2: indexEMUL)
        let m = mask()
        let vd = reg(notV0: !m.isEmpty, avoid: [(vi, indexEMUL > 0 ? 1 << indexEMUL : 1)])
        let op = ["vluxei", "vloxei", "vsuxei", "vsoxei"][g.below(4)]
        return "la t3, index\(w)\n    vl\(indexEMUL > 0 ? 1 << indexEMUL : 1)re\(w).v v\(vi), (t3)\n    \(op)\(w).v v\(vd), (s0), v\(vi)\(m)\n"
    }
    mutating func segment() -> String {
        let w = VectorGenerator.eews[g.below(4)]
        let emul = w.trailingZeroBitCount - sew.trailingZeroBitCount + lmulLog2
        guard emul >= -3, emul <= 3 else { return "" }
        let regs = emul > 0 ? 1 << emul : 1
        let maxFields = 8 / regs
        guard maxFields >= 2 else { return "" }
        let nf = 2 + g.below(maxFields - 1)
        let m = mask()
        var vd = reg(emulLog2: emul, notV0: !m.isEmpty)
        while vd + nf * regs > 32 { vd -= regs }
        if vd == 0 && !m.isEmpty { return "" }
        return "\(g.below(2) == 0 ? "vlseg" : "vsseg")\(nf)e\(w).v v\(vd), (s1)\(m)\n"
    }
    mutating func wholeRegister() -> String {
        let n = [1, 2, 4, 8][g.below(4)]
        let vd = n * g.below(32 / n)
        if g.below(2) == 0 { return "vs\(n)r.v v\(vd), (s1)\n" }
        return "vl\(n)re\(VectorGenerator.eews[g.below(4)]).v v\(vd), (s0)\n"
    }
}

extension VectorProgram {
    /// A 64-bit FP pattern (see `QEMUDifferentialTests.randomFPValue`).
    static func randomFP(_ g: inout RNG) -> UInt64 { QEMUDifferentialTests.randomFPValue(&g) }

    /// The whole program: for each block, registers and memory from the random pool, the body, the dump.
    static func program(blocks: Int, generator v: inout VectorGenerator, body: (inout VectorGenerator) -> String) -> String {
        var s = """
            .section .text.init
            .globl _start
            _start:
                la t0, trap
                csrw mtvec, t0
                li t0, 0x6600
                csrs mstatus, t0
                la gp, dump

            """
        for _ in 0..<blocks {
            // Vector registers: 512 bytes of the pool from a random offset (whole-register loads need no vtype).
            s += "    la t0, pool + \(8 * v.below(192))\n"
            for r in stride(from: 0, to: 32, by: 8) { s += "    vl8re8.v v\(r), (t0)\n    addi t0, t0, 128\n" }
            // Scratch memory: 4 KiB of the pool from another offset.
            s += "    la s0, scratch\n    la t0, pool + \(8 * v.below(64))\n    li t1, \(scratchBytes / 8)\n"
            s += "9:  ld t2, 0(t0)\n    sd t2, 0(s0)\n    addi t0, t0, 8\n    addi s0, s0, 8\n    addi t1, t1, -1\n    bnez t1, 9b\n"
            s += "    la s0, scratch\n    addi s1, s0, 1024\n"
            for r in 0..<32 { s += "    li t0, 0x\(String(randomFP(&v.g), radix: 16))\n    fmv.d.x f\(r), t0\n" }
            s += "    li t0, \(v.below(5) << 5)\n    csrw fcsr, t0\n    csrwi vxrm, \(v.below(4))\n    csrwi vxsat, 0\n"
            for r in 5...31 where r != 8 && r != 9 {
                s += "    li x\(r), 0x\(String(QEMUDifferentialTests.randomValue(&v.g), radix: 16))\n"
            }
            // The body starts with a vsetvli (VectorGenerator.vset) so that it knows the vtype.
            s += body(&v)
            s += "    jal ra, dump_state\n"
        }
        s += """
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            1:  j 1b

            # Stores x5..x31, the vector CSRs, fflags, f0..f31, v0..v31 and a checksum of the scratch memory
            # at gp, then prints each doubleword as 16 hex digits and a newline.
            dump_state:

            """
        for r in 5...31 { s += "    sd x\(r), \((r - 5) * 8)(gp)\n" }
        for (i, csr) in ["vl", "vtype", "vstart", "vxsat", "vxrm", "fflags"].enumerated() {
            s += "    csrr t0, \(csr)\n    sd t0, \(216 + 8 * i)(gp)\n"
        }
        for r in 0..<32 { s += "    fsd f\(r), \(264 + 8 * r)(gp)\n" }
        s += "    addi t0, gp, 520\n"
        for r in stride(from: 0, to: 32, by: 8) { s += "    vs8r.v v\(r), (t0)\n    addi t0, t0, 128\n" }
        s += """
                la t0, scratch
                li t1, \(scratchBytes / 8)
                li t2, 0
            6:  ld a0, 0(t0)
                slli a1, t2, 7
                srli t2, t2, 57
                or t2, t2, a1
                xor t2, t2, a0
                addi t0, t0, 8
                addi t1, t1, -1
                bnez t1, 6b
                sd t2, 1032(gp)
                li t0, 0
            2:  add t1, gp, t0
                ld a0, 0(t1)
                jal t2, print_hex
                addi t0, t0, 8
                li t1, \(linesPerBlock * 8)
                bltu t0, t1, 2b
                ret

            \(QEMUDifferentialTests.printHexAndTrap)
                csrr a0, vstart
                jal t2, print_hex
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            5:  j 5b

            .data
            .align 4
            dump: .space \(linesPerBlock * 8)
            .align 6
            scratch: .space \(scratchBytes)
            pool:

            """
        // 6 KiB of random bytes, the same pool for every block (blocks start at random offsets).
        var p = RNG(s: 0x5eed_0f_7e57)
        for _ in 0..<(6144 / 8) { s += "    .quad 0x\(String(QEMUDifferentialTests.randomValue(&p), radix: 16))\n" }
        // Index tables for indexed accesses: offsets that keep every element (and segment) in the scratch memory.
        for w in VectorGenerator.eews {
            s += "index\(w):\n"
            for _ in 0..<(1024 / w) { s += "    .\(["", "byte", "half", "", "word", "", "", "", "dword"][w / 8]) \(w == 8 ? p.below(256) : p.below(3000))\n" }
        }
        return s
    }

    static func assertSame(_ expected: String, _ actual: String, _ what: String, source: String,
                           file: StaticString = #filePath, line: UInt = #line) {
        guard expected != actual else { return }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let i = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
        let blocks = source.components(separatedBy: "    jal ra, dump_state\n")
        let n = i / linesPerBlock
        let block = n < blocks.count
            ? blocks[n].split(separator: "\n").filter { !$0.hasPrefix("    li x") && !$0.contains("fmv.d.x") && !$0.contains("li t0, 0x") }.suffix(60).joined(separator: "\n")
            : "?"
        XCTFail("\(what): transcripts differ at line \(i + 1) (block \(n + 1), \(lineName(i % linesPerBlock))): QEMU \(i < e.count ? String(e[i]) : "<end>"), "
                + "Matryoshka \(i < a.count ? String(a[i]) : "<end>") (\(e.count) and \(a.count) lines); "
                + "a trap prints T, mcause, mepc, mtval, vstart; the block:\n\(block)", file: file, line: line)
    }
}
