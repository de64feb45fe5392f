import XCTest
import Foundation
import Machine

/// Reductions, mask instructions, slides, gathers, compress and whole-register moves against QEMU 7.2
/// (see `VectorDifferentialTests`).
extension VectorDifferentialTests {
    func testReductionsMatchQEMU() throws {
        for seed: UInt64 in 101...104 {
            try compareVectorBlocks(seed: seed, blocks: 35, what: "reductions, seed \(seed)") { v in
                var s = "    " + v.vset()
                for _ in 0..<10 {
                    let line = v.below(6) == 0 ? v.vset() : v.reduction()
                    if !line.isEmpty { s += "    " + line }
                }
                return s
            }
        }
    }

    func testMaskInstructionsMatchQEMU() throws {
        for seed: UInt64 in 201...204 {
            try compareVectorBlocks(seed: seed, blocks: 35, what: "mask instructions, seed \(seed)") { v in
                var s = "    " + v.vset()
                for _ in 0..<12 {
                    let line = v.below(6) == 0 ? v.vset() : v.maskInstruction()
                    if !line.isEmpty { s += "    " + line }
                }
                return s
            }
        }
    }

    func testPermutationsMatchQEMU() throws {
        for seed: UInt64 in 301...305 {
            try compareVectorBlocks(seed: seed, blocks: 35, what: "permutations, seed \(seed)") { v in
                var s = "    " + v.vset()
                for _ in 0..<10 {
                    let line = v.below(6) == 0 ? v.vset() : v.permutation()
                    if !line.isEmpty { s += "    " + line }
                }
                return s
            }
        }
    }

    /// Instructions that run from a nonzero vstart (set by `csrw vstart` right before) behave alike:
    /// mask logical ops, slides, gathers, vid.v and whole-register moves. (Not vmv.s.x: QEMU 7.2 leaves
    /// vstart as it is after it, where the spec resets it, as Matryoshka does.)
    func testNonzeroVstartMatchesQEMU() throws {
        for seed: UInt64 in 401...403 {
            try compareVectorBlocks(seed: seed, blocks: 30, what: "nonzero vstart, seed \(seed)", body: VectorGenerator.nonzeroVstartBody)
        }
    }

    /// Reductions, vcpop/vfirst, vmsbf/vmsif/vmsof, viota and vcompress with vstart != 0 take an
    /// illegal-instruction trap under both (QEMU 7.2 requires vstart == 0 for them).
    func testNonzeroVstartTrapsLikeQEMU() throws {
        let cases = ["vredsum.vs v1, v2, v3", "vwredsumu.vs v1, v2, v3", "vcpop.m a0, v2", "vfirst.m a0, v2",
                     "vmsbf.m v1, v2", "vmsif.m v1, v2", "vmsof.m v1, v2", "viota.m v4, v2", "vcompress.vm v4, v8, v1"]
        for (n, insn) in cases.enumerated() {
            try compareEndingInTrap(seed: 500 + UInt64(n), what: "\(insn) with vstart 1", expectTrap: true,
                                    last: "li t4, 13\n    vsetvli x0, t4, e8, m1, tu, mu\n    li t4, 1\n    csrw vstart, t4\n    \(insn)\n")
        }
    }

    /// Reserved or illegal encodings of this family trap alike, or, where QEMU 7.2 accepts them (vm=0 in the
    /// mask logical instructions and vcompress.vm: it ignores the bit), behave alike.
    func testReservedPermuteEncodingsMatchQEMU() throws {
        func op(_ f6: UInt32, _ vm: UInt32, _ vs2: UInt32, _ vs1: UInt32, _ f3: UInt32, _ vd: UInt32) -> String {
            ".word 0x" + String(f6 << 26 | vm << 25 | vs2 << 20 | vs1 << 15 | f3 << 12 | vd << 7 | 0x57, radix: 16)
        }
        let cases: [(String, String)] = [
            ("vmand.mm with vm=0", op(0x19, 0, 2, 3, 2, 1)),
            ("vcompress.vm with vm=0", op(0x17, 0, 8, 1, 2, 4)),
            ("vmv.x.s with vm=0", op(0x10, 0, 3, 0, 2, 10)),
            ("vmv.s.x with vm=0", op(0x10, 0, 0, 10, 6, 3)),
            ("vmv.s.x with vs2 != 0", op(0x10, 1, 5, 10, 6, 3)),
            ("vmv1r.v with vm=0", op(0x27, 0, 2, 0, 3, 4)),
            ("vmv3r.v", op(0x27, 1, 3, 2, 3, 6)),
            ("vmv2r.v misaligned", op(0x27, 1, 3, 1, 3, 4)),
            ("VWXUNARY0 vs1=1", op(0x10, 1, 3, 1, 2, 10)),
            ("VMUNARY0 vs1=0", op(0x14, 1, 3, 0, 2, 4)),
            ("vid.v with vs2 != 0", op(0x14, 1, 3, 0x11, 2, 4)),
            ("vmsbf.m vd = vs2", op(0x14, 1, 3, 1, 2, 3)),
            ("vmsif.m masked, vd = v0", op(0x14, 0, 3, 3, 2, 0)),
            ("viota.m vd overlaps vs2 (m2)", "vsetvli x0, t4, e8, m2, tu, mu\n    " + op(0x14, 1, 5, 0x10, 2, 4)),
            ("vslideup.vi vd = vs2", op(0x0e, 1, 4, 1, 3, 4)),
            ("vslideup.vx masked vd = v0", op(0x0e, 0, 4, 10, 4, 0)),
            ("vslide1down.vx misaligned (m2)", "vsetvli x0, t4, e8, m2, tu, mu\n    " + op(0x0f, 1, 3, 10, 6, 4)),
            ("vrgather.vv vd = vs1", op(0x0c, 1, 4, 2, 0, 2)),
            ("vrgatherei16.vv e8 m8", "vsetvli x0, t4, e8, m8, tu, mu\n    " + op(0x0e, 1, 8, 16, 0, 0)),
            ("vwredsum.vs at e64", "vsetvli x0, t4, e64, m1, tu, mu\n    " + op(0x31, 1, 2, 3, 0, 1)),
            ("vredsum.vs misaligned vs2 (m4)", "vsetvli x0, t4, e8, m4, tu, mu\n    " + op(0x00, 1, 2, 3, 2, 1)),
            ("vcompress.vm vd overlaps vs1 (m2)", "vsetvli x0, t4, e8, m2, tu, mu\n    " + op(0x17, 1, 2, 5, 2, 4)),
            ("vredsum.vs with vill", "li t4, -1\n    vsetvl x0, x0, t4\n    " + op(0x00, 1, 2, 3, 2, 1)),
        ]
        for (n, (what, insn)) in cases.enumerated() {
            try compareEndingInTrap(seed: 600 + UInt64(n), what: what, expectTrap: nil,
                                    last: "li t4, 13\n    vsetvli x0, t4, e8, m1, tu, mu\n    \(insn)\n")
        }
    }

    /// vmv<nr>r.v ignores vtype: it runs with vill set.
    func testWholeRegisterMoveWithVillMatchesQEMU() throws {
        try compareVectorBlocks(seed: 700, blocks: 6, what: "vmv<nr>r.v with vill") { v in
            "    li t4, -1\n    vsetvl x0, x0, t4\n    " + v.wholeMove() + "    " + v.wholeMove()
        }
    }

    /// One block (the random state, then `last`) under both; the transcripts, a trap's included, must match.
    /// `expectTrap`: whether QEMU must have trapped (nil: either).
    /// One block (the random state, then `last`) under both; the transcripts, a trap's included, must match.
    /// `expectTrap`: whether QEMU must have trapped (nil: either).
    func testDebugDumpSource() throws {
        for seed: UInt64 in 401...403 {
            var v = VectorGenerator(g: RNG(s: seed &* 0x9e37_79b9_7f4a_7c15 | 1))
            let source = VectorProgram.program(blocks: 30, generator: &v, body: VectorGenerator.nonzeroVstartBody)
            try source.write(toFile: "/tmp/prog-\(seed).S", atomically: true, encoding: .utf8)
        }
    }

    func compareEndingInTrap(seed: UInt64, what: String, expectTrap: Bool?, last: String) throws {
        var v = VectorGenerator(g: RNG(s: seed &* 0x9e37_79b9_7f4a_7c15 | 1))
        let source = VectorProgram.program(blocks: 1, generator: &v) { _ in "    " + last }
        let elf = try compile(source, march: "rv64gcv")
        let expected = try qemuTranscript(elf, cpu: VectorProgram.qemuCPU)
        if let expectTrap {
            XCTAssertEqual(expected.hasPrefix("T\n"), expectTrap, "\(what): QEMU \(expectTrap ? "did not trap" : "trapped"):\n\(expected.prefix(200))")
        }
        let actual = try matryoshkaTranscript(elf, cpu: "max", jit: true)
        VectorProgram.assertSame(expected, actual, what, source: source)
    }
}

extension VectorGenerator {
    /// The body of `testNonzeroVstartMatchesQEMU`.
    static func nonzeroVstartBody(_ v: inout VectorGenerator) -> String {
        var s = "    " + v.vset()
        for _ in 0..<8 {
            var line: String
            switch v.below(5) {
            case 0: line = v.maskLogical()
            case 1: line = v.slide()
            case 2: line = v.gather()
            case 3: let m = v.mask(); line = "vid.v v\(v.reg(notV0: !m.isEmpty))\(m)\n"
            default: line = v.wholeMove()
            }
            // The index/offset set-up lines come first; vstart goes right before the instruction.
            // Not vslideup: QEMU 7.2 leaves vstart unchanged after it when the offset is >= vl.
            if line.isEmpty || line.contains("vslideup") { continue }
            var lines = line.split(separator: "\n").map(String.init)
            // vmv<nr>r.v: QEMU 7.2 copies nr*VLENB - vstart*SEW/8 bytes, which must not go negative.
            let start = line.hasPrefix("vmv") ? 1 : 1 + v.below(4)
            // Only when vstart < vl: QEMU 7.2 skips most instructions entirely when vstart >= vl, leaving
            // vstart as it is, where the spec (and Matryoshka) resets it.
            lines.insert("li t4, \(start)\n    csrr t6, vl\n    bgeu t4, t6, 7f\n    csrw vstart, t4\n7:", at: lines.count - 1)
            s += lines.map { "    " + $0 + "\n" }.joined()
        }
        return s
    }

    /// VLMAX (VLEN = 128) for `sewBits` and the current LMUL.
    func vlmaxFor(sewBits: Int, lmulLog2 l: Int) -> Int { l >= 0 ? (128 << l) / sewBits : (128 >> -l) / sewBits }

    /// A single-width or widening integer reduction; vd and vs1 are scalars (any register).
    mutating func reduction() -> String {
        let m = mask(), vs2 = reg()
        if below(4) == 0 {
            guard sew < 64 else { return "" }
            return "\(["vwredsumu.vs", "vwredsum.vs"][below(2)]) v\(below(32)), v\(vs2), v\(below(32))\(m)\n"
        }
        let ops = ["vredsum", "vredand", "vredor", "vredxor", "vredminu", "vredmin", "vredmaxu", "vredmax"]
        return "\(ops[below(8)]).vs v\(below(32)), v\(vs2), v\(below(32))\(m)\n"
    }

    mutating func maskLogical() -> String {
        let ops = ["vmandn", "vmand", "vmor", "vmxor", "vmorn", "vmnand", "vmnor", "vmxnor"]
        return "\(ops[below(8)]).mm v\(below(32)), v\(below(32)), v\(below(32))\n"
    }

    mutating func maskInstruction() -> String {
        switch below(9) {
        case 0, 1: return maskLogical()
        case 2: return "vcpop.m \(x()), v\(below(32))\(mask())\n"
        case 3: return "vfirst.m \(x()), v\(below(32))\(mask())\n"
        case 4:
            let m = mask(), vd = reg(emulLog2: 0, notV0: !m.isEmpty), vs2 = reg(emulLog2: 0, avoid: [(vd, 1)])
            return "\(["vmsbf.m", "vmsif.m", "vmsof.m"][below(3)]) v\(vd), v\(vs2)\(m)\n"
        case 5:
            let m = mask(), vs2 = below(32), vd = reg(notV0: !m.isEmpty, avoid: [(vs2, 1)])
            return "viota.m v\(vd), v\(vs2)\(m)\n"
        case 6:
            let m = mask()
            return "vid.v v\(reg(notV0: !m.isEmpty))\(m)\n"
        case 7: return "vmv.x.s \(x()), v\(below(32))\n"
        default: return "vmv.s.x v\(below(32)), \(x())\n"
        }
    }

    /// An offset: small (mostly within VLMAX) or, rarely, huge.
    mutating func slideOffset() -> Int {
        [0, 1, 2, 3, 5, 7, 8, 15, 16, 31, 63, 64, 127, 200, -1][below(15)]
    }

    mutating func slide() -> String {
        let m = mask(), vd = reg(notV0: !m.isEmpty)
        switch below(4) {
        case 0, 1:
            let up = below(2) == 0
            let vs2 = up ? reg(avoid: [(vd, groupRegs)]) : reg()
            let name = up ? "vslideup" : "vslidedown"
            if below(2) == 0 { return "\(name).vi v\(vd), v\(vs2), \(below(32))\(m)\n" }
            return "li t3, \(slideOffset())\n    \(name).vx v\(vd), v\(vs2), t3\(m)\n"
        case 2: return "vslide1up.vx v\(vd), v\(reg(avoid: [(vd, groupRegs)])), \(x())\(m)\n"
        default: return "vslide1down.vx v\(vd), v\(reg()), \(x())\(m)\n"
        }
    }

    /// Stores random indices (EEW `eew`, mostly below VLMAX) at s1 and loads them into a register group.
    mutating func indices(eew: Int, emulLog2: Int, into vi: Int) -> String {
        let count = vlmaxFor(sewBits: eew, lmulLog2: emulLog2)
        let limit = vlmaxFor(sewBits: sew, lmulLog2: lmulLog2)
        var s = "", word: UInt64 = 0, bits = 0, offset = 0
        for _ in 0..<count {
            let index = UInt64(below(limit + limit / 4 + 1)) & (eew == 64 ? ~0 : (1 << UInt64(eew)) - 1)
            word |= index << UInt64(bits)
            bits += eew
            if bits == 64 {
                s += "li t3, 0x\(String(word, radix: 16))\n    sd t3, \(offset)(s1)\n    "
                offset += 8; word = 0; bits = 0
            }
        }
        if bits > 0 { s += "li t3, 0x\(String(word, radix: 16))\n    sd t3, \(offset)(s1)\n    " }
        return s + "vsetvli t4, x0, e\(eew), \(VectorProgram.lmuls[emulLog2 + 3]), tu, mu\n    vle\(eew).v v\(vi), (s1)\n    "
    }

    mutating func gather() -> String {
        let m = mask(), vd = reg(notV0: !m.isEmpty), vs2 = reg(avoid: [(vd, groupRegs)])
        switch below(4) {
        case 0: return "vrgather.vi v\(vd), v\(vs2), \(below(32))\(m)\n"
        case 1: return "li t3, \(slideOffset())\n    vrgather.vx v\(vd), v\(vs2), t3\(m)\n"
        default:
            // The index load changes vtype: restore it (same SEW/LMUL, AVL kept in t5).
            let ei16 = below(2) == 0
            let eew = ei16 ? 16 : sew
            let emul = eew.trailingZeroBitCount - sew.trailingZeroBitCount + lmulLog2
            guard emul >= -3, emul <= 3, emul >= 0 || eew <= 64 >> -emul else { return "" }
            let vs1 = reg(emulLog2: emul, avoid: [(vd, groupRegs)])
            let restore = "vsetvli x0, t5, e\(sew), \(VectorProgram.lmuls[lmulLog2 + 3]), tu, mu\n    "
            return "csrr t5, vl\n    " + indices(eew: eew, emulLog2: emul, into: vs1) + restore
                + "\(ei16 ? "vrgatherei16" : "vrgather").vv v\(vd), v\(vs2), v\(vs1)\(m)\n"
        }
    }

    mutating func wholeMove() -> String {
        let n = [1, 2, 4, 8][below(4)]
        return "vmv\(n)r.v v\(n * below(32 / n)), v\(n * below(32 / n))\n"
    }

    mutating func permutation() -> String {
        switch below(8) {
        case 0, 1, 2: return slide()
        case 3, 4, 5: return gather()
        case 6:
            let vd = reg(), vs2 = reg(avoid: [(vd, groupRegs)]), vs1 = reg(emulLog2: 0, avoid: [(vd, groupRegs)])
            return "vcompress.vm v\(vd), v\(vs2), v\(vs1)\n"
        default: return wholeMove()
        }
    }
}
